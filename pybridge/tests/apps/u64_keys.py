"""Test app: to_state_partition_u64 with no listed keys, and a to_stateful total."""
import struct
import wallaroo


class Decoder:
    def header_length(self):
        return 4

    def payload_length(self, bs):
        return struct.unpack(">I", bs)[0]

    def decode(self, bs):
        return int(bs)


class Sum:
    def __init__(self):
        self.total = 0


class AddToKey:
    def name(self):
        return "add"

    def compute(self, n, acc):
        acc.total += n
        return ((n % 1000, acc.total), True)


class GrandTotal:
    def name(self):
        return "grand total"

    def compute(self, pair, acc):
        acc.total += pair[1]
        return (None if pair[0] == 0 else ("%d:%d" % pair), False)


def by_modulo(n):
    return (n % 1000) + (1 << 63)


class Encoder:
    def encode(self, data):
        return (data + "\n").encode()


def application_setup(args):
    ab = wallaroo.ApplicationBuilder("u64")
    ab.new_pipeline("numbers", wallaroo.TCPSourceConfig("127.0.0.1", 0, Decoder()))
    ab.to_state_partition_u64(AddToKey(), Sum, "sums", by_modulo, [])
    ab.to_stateful(GrandTotal(), Sum, "grand")
    ab.to_sink(wallaroo.TCPSinkConfig("127.0.0.1", 0, Encoder()))
    return ab.build()
