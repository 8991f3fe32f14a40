"""Test app: an app-defined class crosses cores (pickled), keyed by a tuple."""
import struct
import wallaroo


class Point:
    def __init__(self, x, y):
        self.x = x
        self.y = y


class Decoder:
    def header_length(self):
        return 4

    def payload_length(self, bs):
        return struct.unpack(">I", bs)[0]

    def decode(self, bs):
        x, y = bs.decode().split(",")
        return Point(int(x), int(y))


class Path:
    def __init__(self):
        self.points = []


class Extend:
    def name(self):
        return "extend"

    def compute(self, point, path):
        path.points.append((point.x, point.y))
        return ((point.x, len(path.points), point.y), True)


class Encoder:
    def encode(self, data):
        return "%d:%d:%d\n" % data


def application_setup(args):
    ab = wallaroo.ApplicationBuilder("points")
    ab.new_pipeline("points", wallaroo.TCPSourceConfig("127.0.0.1", 0, Decoder()))
    ab.to_state_partition(Extend(), Path, "paths", lambda p: ("x", p.x))
    ab.to_sink(wallaroo.TCPSinkConfig("127.0.0.1", 0, Encoder()))
    return ab.build()


# Wallaroo apps may replace pickle for values that cross workers.
SERIALIZED = []


def serialize(obj):
    SERIALIZED.append(type(obj).__name__)
    return ("%d,%d" % (obj.x, obj.y)).encode()


def deserialize(bs):
    x, y = bs.decode().split(",")
    return Point(int(x), int(y))
