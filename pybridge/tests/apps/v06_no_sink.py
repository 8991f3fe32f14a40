"""Test app: a 0.6 building mistake (no_sink)."""
import wallaroo


@wallaroo.decoder(header_length=4, length_fmt=">I")
def decode(bs):
    return bs


@wallaroo.encoder
def encode(data):
    return data


def application_setup(args):
    src = wallaroo.source("lonely", wallaroo.TCPSourceConfig("lonely", "127.0.0.1", 0, decode))
    sink = wallaroo.TCPSinkConfig("127.0.0.1", 0, encode)
    return wallaroo.build_application("no sink", src)
