"""Test app: prints from application_setup and from a step, to show that what an app prints
reaches roo's stdout line by line while it runs, and a last unfinished line at shutdown.

Input: newline-free text frames (4-byte big-endian length). The step 'echo' prints
"got <text>" and passes the text on; for "bye" it prints "last words" with no newline.
"""
import struct

import wallaroo


class Decoder:
    def header_length(self):
        return 4

    def payload_length(self, bs):
        return struct.unpack(">I", bs)[0]

    def decode(self, bs):
        return bs.decode()


class Echo:
    def name(self):
        return "echo"

    def compute(self, data):
        if data == "bye":
            print("last words", end="")
        else:
            print("got", data)
        return data


class Encoder:
    def encode(self, data):
        return data + "\n"


def application_setup(args):
    (in_host, in_port), = wallaroo.tcp_parse_input_addrs(args)
    (out_host, out_port), = wallaroo.tcp_parse_output_addrs(args)
    print("setting up")
    ab = wallaroo.ApplicationBuilder("printing")
    ab.new_pipeline("printing", wallaroo.TCPSourceConfig(in_host, in_port, Decoder()))
    ab.to(Echo)
    ab.to_sink(wallaroo.TCPSinkConfig(out_host, out_port, Encoder()))
    return ab.build()
