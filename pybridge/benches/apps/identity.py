"""Bench app: one stateless compute step between decode and encode."""
import wallaroo


class Decoder:
    def header_length(self):
        return 4

    def payload_length(self, bs):
        return int.from_bytes(bs, "big")

    def decode(self, bs):
        return bs


class Identity:
    def compute(self, data):
        return data


class Encoder:
    def encode(self, data):
        return data


def application_setup(args):
    ab = wallaroo.ApplicationBuilder("identity")
    ab.new_pipeline("identity", wallaroo.TCPSourceConfig("127.0.0.1", 0, Decoder()))
    ab.to(Identity)
    ab.to_sink(wallaroo.TCPSinkConfig("127.0.0.1", 0, Encoder()))
    return ab.build()
