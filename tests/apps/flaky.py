"""Test app: user code that raises for some inputs; the worker must drop just those.

Input: frames of text, each an integer in decimal or something else. Output, per good
input n: "n -> q\n" with q = 1000 // n. Errors (each message dropped and counted):
- Parse raises ValueError for text that is not an integer;
- Invert raises ZeroDivisionError for 0;
- Check (state partitioned by parity, so on either core) raises RuntimeError for
  non-zero multiples of 7;
- the encoder raises KeyError for n == 13.

    roo run tests/apps/flaky.py --in 127.0.0.1:7010 --out 127.0.0.1:7002
"""

import struct

import wallaroo


def application_setup(args):
    in_host, in_port = wallaroo.tcp_parse_input_addrs(args)[0]
    out_host, out_port = wallaroo.tcp_parse_output_addrs(args)[0]

    ab = wallaroo.ApplicationBuilder("flaky")
    ab.new_pipeline("flaky", wallaroo.TCPSourceConfig(in_host, in_port, Decoder()))
    ab.to(Parse)
    ab.to(Invert)
    ab.to_state_partition(Check(), Seen, "seen by parity", Parity(), [0, 1])
    ab.to_sink(wallaroo.TCPSinkConfig(out_host, out_port, Encoder()))
    return ab.build()


class Decoder(object):
    def header_length(self):
        return 4

    def payload_length(self, bs):
        return struct.unpack(">I", bs)[0]

    def decode(self, bs):
        return bs.decode("utf-8")


class Parse(object):
    def name(self):
        return "parse"

    def compute(self, data):
        return int(data)


class Invert(object):
    def name(self):
        return "invert"

    def compute(self, n):
        return (n, 1000 // n)


class Seen(object):
    def __init__(self):
        self.count = 0


class Parity(object):
    def partition(self, data):
        return data[0] % 2


class Check(object):
    def name(self):
        return "check"

    def compute(self, data, seen):
        if data[0] % 7 == 0:
            raise RuntimeError("%d is a multiple of 7" % data[0])
        seen.count += 1
        return (data, True)


class Encoder(object):
    def encode(self, data):
        if data[0] == 13:
            raise KeyError("unlucky")
        return "%d -> %d\n" % data
