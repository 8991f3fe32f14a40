"""Reverse: the smallest Roo application, one stateless step.

Input: frames of UTF-8 text (4-byte big-endian length header, then the text).
Output: each text reversed (by code point), followed by "\n". Run it with:

    roo run examples/reverse.py --in 127.0.0.1:7010 --out 127.0.0.1:7002

and feed it, for example, with
`roo send --to 127.0.0.1:7010 --file some.txt` (each line becomes one message) while
`roo receive --listen 127.0.0.1:7002 --out reversed.txt` collects the output.
"""

import struct

import wallaroo


def application_setup(args):
    in_host, in_port = wallaroo.tcp_parse_input_addrs(args)[0]
    out_host, out_port = wallaroo.tcp_parse_output_addrs(args)[0]

    ab = wallaroo.ApplicationBuilder("Reverse Word")
    ab.new_pipeline("reverse", wallaroo.TCPSourceConfig(in_host, in_port, Decoder()))
    ab.to(Reverse)
    ab.to_sink(wallaroo.TCPSinkConfig(out_host, out_port, Encoder()))
    return ab.build()


class Decoder(object):
    def header_length(self):
        return 4

    def payload_length(self, bs):
        return struct.unpack(">I", bs)[0]

    def decode(self, bs):
        return bs.decode("utf-8")


class Reverse(object):
    def name(self):
        return "reverse"

    def compute(self, data):
        return data[::-1]


class Encoder(object):
    def encode(self, data):
        return data + "\n"
