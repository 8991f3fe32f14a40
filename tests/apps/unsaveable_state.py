"""Test app: a state that cannot be saved in a checkpoint (it holds a lock, which neither
roo's value conversion nor pickle can encode), keyed by the message (0.6 API).

Input: text frames (4-byte big-endian length). Output: `<text> <count so far>\\n`.
"""
import threading

import wallaroo


class Guarded:
    def __init__(self):
        self.count = 0
        self.lock = threading.Lock()


@wallaroo.state_computation(name="count", state=Guarded)
def count(text, guarded):
    with guarded.lock:
        guarded.count += 1
    return "%s %d" % (text, guarded.count)


@wallaroo.decoder(header_length=4, length_fmt=">I")
def decode(bs):
    return bs.decode()


@wallaroo.key_extractor
def itself(text):
    return text


@wallaroo.encoder
def encode(text):
    return text + "\n"


def application_setup(args):
    in_host, in_port = wallaroo.tcp_parse_input_addrs(args)[0]
    out_host, out_port = wallaroo.tcp_parse_output_addrs(args)[0]
    texts = wallaroo.source("texts", wallaroo.TCPSourceConfig("texts", in_host, in_port, decode))
    sink = wallaroo.TCPSinkConfig(out_host, out_port, encode)
    return wallaroo.build_application("unsaveable state", texts.key_by(itself).to(count).to_sink(sink))
