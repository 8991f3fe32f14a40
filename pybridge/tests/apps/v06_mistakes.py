"""Test app: 0.6 building mistakes, chosen by the first argument."""
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
    mistake = args[1]
    if mistake == "no sink":
        return wallaroo.build_application("no sink", src)
    if mistake == "merge self":
        return wallaroo.build_application("merge self", src.merge(src).to_sink(sink))
    return wallaroo.build_application("bad step", src.to(42).to_sink(sink))
