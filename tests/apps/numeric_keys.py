"""Test app: state partitioned by the message itself, which is an int, a float or a bool:
Python treats 1, 1.0 and True as one dict key, and so must the partitions.

Input: text frames (4-byte big-endian length) holding a Python literal (`1`, `1.0`,
`True`, `2.5`). Output: `<literal> <count of equal keys so far>\n`.
"""
import ast

import wallaroo


@wallaroo.decoder(header_length=4, length_fmt=">I")
def decode(bs):
    return ast.literal_eval(bs.decode())


class Seen:
    def __init__(self):
        self.count = 0


class Count:
    def name(self):
        return "count"

    def compute(self, data, seen):
        seen.count += 1
        return ("%r %d" % (data, seen.count), True)


def partition(data):
    return data


@wallaroo.encoder
def encode(text):
    return text + "\n"


def application_setup(args):
    (in_host, in_port), = wallaroo.tcp_parse_input_addrs(args)
    (out_host, out_port), = wallaroo.tcp_parse_output_addrs(args)
    ab = wallaroo.ApplicationBuilder("numeric keys")
    ab.new_pipeline("numbers", wallaroo.TCPSourceConfig(in_host, in_port, decode))
    ab.to_state_partition(Count(), Seen, "seen", partition)
    ab.to_sink(wallaroo.TCPSinkConfig(out_host, out_port, encode))
    return ab.build()
