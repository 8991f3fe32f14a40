"""Test app: a state computation before any key_by is one state for every message."""
import wallaroo


@wallaroo.decoder(header_length=4, length_fmt=">I")
def decode(bs):
    return bs.decode()


class Seen:
    def __init__(self):
        self.n = 0


@wallaroo.state_computation(name="number", state=Seen)
def number(text, seen):
    seen.n += 1
    return "%d %s" % (seen.n, text)


@wallaroo.encoder
def encode(line):
    return (line + "\n").encode()


def application_setup(args):
    pipeline = (
        wallaroo.source("numbered", wallaroo.TCPSourceConfig("numbered", "127.0.0.1", 0, decode))
        .to(number)
        .to_sink(wallaroo.TCPSinkConfig("127.0.0.1", 0, encode))
    )
    return wallaroo.build_application("single state", pipeline)
