"""Test app: partition keys that are the same Python object again and again (a shared
str, shared bytes, a list the app changes in place) and fresh ones. Input `kind:word`;
output `kind:word:count`, the count per (kind, word) partition."""
import struct
import wallaroo

SHARED_STR = {}
SHARED_BYTES = {}
# One list object for every message of kind "l", its content set per message: its key
# must follow the content, not the object.
CURRENT = [None]


class Decoder:
    def header_length(self):
        return 4

    def payload_length(self, bs):
        return struct.unpack(">I", bs)[0]

    def decode(self, bs):
        return bs.decode()


def partition(data):
    kind, word = data.split(":")
    if kind == "s":
        return SHARED_STR.setdefault(word, "s-" + word)
    if kind == "b":
        return SHARED_BYTES.setdefault(word, ("b-" + word).encode())
    if kind == "l":
        CURRENT[0] = word
        return CURRENT
    return "f-" + word


class Count:
    def __init__(self):
        self.n = 0


class CountIt:
    def name(self):
        return "count"

    def compute(self, data, count):
        count.n += 1
        return "%s:%d" % (data, count.n)


class Encoder:
    def encode(self, data):
        return data + "\n"


def application_setup(args):
    ab = wallaroo.ApplicationBuilder("shared keys")
    ab.new_pipeline("words", wallaroo.TCPSourceConfig("127.0.0.1", 0, Decoder()))
    ab.to_state_partition(CountIt(), Count, "counts", partition, [])
    ab.to_sink(wallaroo.TCPSinkConfig("127.0.0.1", 0, Encoder()))
    return ab.build()
