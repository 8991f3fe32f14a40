"""Test app: prints one long line per message, in several pieces (print's arguments are
written one by one), and passes the message on.

Input: text frames (4-byte big-endian length). Printed: `said <text> <200 x 'x'>`.
Output: each text, then "\n".
"""
import struct

import wallaroo

PADDING = "x" * 200


class Decoder:
    def header_length(self):
        return 4

    def payload_length(self, bs):
        return struct.unpack(">I", bs)[0]

    def decode(self, bs):
        return bs.decode()


class Say:
    def name(self):
        return "say"

    def compute(self, data):
        print("said", data, PADDING)
        return data


class Encoder:
    def encode(self, data):
        return data + "\n"


def application_setup(args):
    (in_host, in_port), = wallaroo.tcp_parse_input_addrs(args)
    (out_host, out_port), = wallaroo.tcp_parse_output_addrs(args)
    ab = wallaroo.ApplicationBuilder("chatty")
    ab.new_pipeline("chatty", wallaroo.TCPSourceConfig(in_host, in_port, Decoder()))
    ab.to(Say)
    ab.to_sink(wallaroo.TCPSinkConfig(out_host, out_port, Encoder()))
    return ab.build()
