"""Test app: prints the Python it runs on (`executable=...`) and, with `--import NAME`,
imports that module in application_setup and prints `imported NAME from FILE`; then
passes text frames from --in to --out unchanged.
"""
import importlib
import struct
import sys

import wallaroo


class Decoder:
    def header_length(self):
        return 4

    def payload_length(self, bs):
        return struct.unpack(">I", bs)[0]

    def decode(self, bs):
        return bs.decode()


class Same:
    def name(self):
        return "same"

    def compute(self, data):
        return data


class Encoder:
    def encode(self, data):
        return data + "\n"


def application_setup(args):
    print("executable=%s" % sys.executable)
    if "--import" in args:
        name = args[args.index("--import") + 1]
        module = importlib.import_module(name)
        print("imported %s from %s" % (name, module.__file__))
    (in_host, in_port), = wallaroo.tcp_parse_input_addrs(args)
    (out_host, out_port), = wallaroo.tcp_parse_output_addrs(args)
    ab = wallaroo.ApplicationBuilder("environment")
    ab.new_pipeline("environment", wallaroo.TCPSourceConfig(in_host, in_port, Decoder()))
    ab.to(Same)
    ab.to_sink(wallaroo.TCPSinkConfig(out_host, out_port, Encoder()))
    return ab.build()
