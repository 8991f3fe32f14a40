"""Test app: a stateless step that never returns for the message "block" (it sleeps an
hour), to show that a drain waiting on it says so and can still be stopped.

Input: text frames (4-byte big-endian length). Output: each other text, then "\n".
"""
import time

import wallaroo


@wallaroo.decoder(header_length=4, length_fmt=">I")
def decode(bs):
    return bs.decode()


class Block:
    def name(self):
        return "block"

    def compute(self, data):
        if data == "block":
            time.sleep(3600)
        return data


@wallaroo.encoder
def encode(data):
    return data + "\n"


def application_setup(args):
    (in_host, in_port), = wallaroo.tcp_parse_input_addrs(args)
    (out_host, out_port), = wallaroo.tcp_parse_output_addrs(args)
    ab = wallaroo.ApplicationBuilder("blocking")
    ab.new_pipeline("blocking", wallaroo.TCPSourceConfig(in_host, in_port, decode))
    ab.to(Block)
    ab.to_sink(wallaroo.TCPSinkConfig(out_host, out_port, encode))
    return ab.build()
