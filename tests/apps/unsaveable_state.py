"""Test app: a state that cannot be saved in a checkpoint (it holds a lock, which neither
roo's value conversion nor pickle can encode), partitioned by the message.

Input: text frames (4-byte big-endian length). Output: `<text> <count so far>\\n`.
"""
import threading

import wallaroo


@wallaroo.decoder(header_length=4, length_fmt=">I")
def decode(bs):
    return bs.decode()


class Guarded:
    def __init__(self):
        self.count = 0
        self.lock = threading.Lock()


class Count:
    def name(self):
        return "count"

    def compute(self, data, guarded):
        with guarded.lock:
            guarded.count += 1
        return ("%s %d" % (data, guarded.count), True)


def partition(data):
    return data


@wallaroo.encoder
def encode(text):
    return text + "\n"


def application_setup(args):
    (in_host, in_port), = wallaroo.tcp_parse_input_addrs(args)
    (out_host, out_port), = wallaroo.tcp_parse_output_addrs(args)
    ab = wallaroo.ApplicationBuilder("unsaveable state")
    ab.new_pipeline("texts", wallaroo.TCPSourceConfig(in_host, in_port, decode))
    ab.to_state_partition(Count(), Guarded, "guarded", partition)
    ab.to_sink(wallaroo.TCPSinkConfig(out_host, out_port, encode))
    return ab.build()
