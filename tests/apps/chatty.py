"""Test app: prints one long line per message, in several pieces (print's arguments are
written one by one), and passes the message on.

Input: text frames (4-byte big-endian length). Printed: `said <text> <200 x 'x'>`.
Output: each text, then "\n".
"""

import wallaroo

PADDING = "x" * 200


@wallaroo.decoder(header_length=4, length_fmt=">I")
def decode(bs):
    return bs.decode()


class Say:
    def name(self):
        return "say"

    def compute(self, data):
        print("said", data, PADDING)
        return data


@wallaroo.encoder
def encode(data):
    return data + "\n"


def application_setup(args):
    (in_host, in_port), = wallaroo.tcp_parse_input_addrs(args)
    (out_host, out_port), = wallaroo.tcp_parse_output_addrs(args)
    ab = wallaroo.ApplicationBuilder("chatty")
    ab.new_pipeline("chatty", wallaroo.TCPSourceConfig(in_host, in_port, decode))
    ab.to(Say)
    ab.to_sink(wallaroo.TCPSinkConfig(out_host, out_port, encode))
    return ab.build()
