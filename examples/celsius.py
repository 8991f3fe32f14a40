"""Celsius to Fahrenheit, as two stateless steps: multiply by 1.8, then add 32.

Input: frames holding a temperature in degrees Celsius as decimal text, e.g. "36.6"
(4-byte big-endian length header, then the text).
Output: the temperature in degrees Fahrenheit formatted "%.2f", one per line
("97.88\n"). Run it with:

    roo run examples/celsius.py --in 127.0.0.1:7010 --out 127.0.0.1:7002

and feed it with `roo send --to 127.0.0.1:7010 --file temperatures.txt` (one value per line).
"""

import struct

import wallaroo


def application_setup(args):
    in_host, in_port = wallaroo.tcp_parse_input_addrs(args)[0]
    out_host, out_port = wallaroo.tcp_parse_output_addrs(args)[0]

    ab = wallaroo.ApplicationBuilder("Celsius to Fahrenheit")
    ab.new_pipeline("convert", wallaroo.TCPSourceConfig(in_host, in_port, Decoder()))
    ab.to(Multiply)
    ab.to(Add)
    ab.to_sink(wallaroo.TCPSinkConfig(out_host, out_port, Encoder()))
    return ab.build()


class Decoder(object):
    def header_length(self):
        return 4

    def payload_length(self, bs):
        return struct.unpack(">I", bs)[0]

    def decode(self, bs):
        return float(bs.decode("ascii"))


class Multiply(object):
    def name(self):
        return "multiply by 1.8"

    def compute(self, data):
        return data * 1.8


class Add(object):
    def name(self):
        return "add 32"

    def compute(self, data):
        return data + 32


class Encoder(object):
    def encode(self, data):
        return "%.2f\n" % data
