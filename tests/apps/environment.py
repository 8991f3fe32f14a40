"""Test app: prints the Python it runs on (`executable=...`) and, with `--import NAME`,
imports that module in application_setup and prints `imported NAME from FILE`; then
passes text frames from --in to --out unchanged.
"""
import importlib
import sys

import wallaroo


@wallaroo.decoder(header_length=4, length_fmt=">I")
def decode(bs):
    return bs.decode()


class Same:
    def name(self):
        return "same"

    def compute(self, data):
        return data


@wallaroo.encoder
def encode(data):
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
    ab.new_pipeline("environment", wallaroo.TCPSourceConfig(in_host, in_port, decode))
    ab.to(Same)
    ab.to_sink(wallaroo.TCPSinkConfig(out_host, out_port, encode))
    return ab.build()
