"""Test app: the earliest ApplicationBuilder form, a decoder and an encoder with the
addresses taken from --in and --out."""
import struct

import wallaroo


class Decoder:
    def header_length(self):
        return 4

    def payload_length(self, bs):
        return struct.unpack(">I", bs)[0]

    def decode(self, bs):
        return bs.decode()


class Shout:
    def name(self):
        return "shout"

    def compute(self, data):
        return data.upper()


class Encoder:
    def encode(self, data):
        return data + "!\n"


def application_setup(args):
    ab = wallaroo.ApplicationBuilder("early")
    ab.new_pipeline("first", Decoder())
    ab.to(Shout)
    ab.to_sink(Encoder())
    ab.new_pipeline("second", Decoder())
    ab.to_sink(Encoder())
    return ab.build()
