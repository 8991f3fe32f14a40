"""Test app: user hooks that return the wrong type (or raise) for some messages, chosen by
the message's text. The worker must drop just those messages, count each at its step, and
keep going.

Input: frames of UTF-8 text (4-byte big-endian length). Pipeline 'wrong types':

- step 'fan out' (compute_multi): "multi-str" -> returns a str, "multi-int" -> an int,
  "multi-tuple" -> a tuple, "multi-dict" -> a dict (none of them a list: errors);
  "multi-none" -> None (nothing, not an error); "a+b+c" -> ["a", "b", "c"]; else [text].
- partition function of step 'tally': a piece starting with "raise" raises ValueError;
  else the key is the piece's length modulo 2 (partitions 0 and 1).
- step 'tally' (state computation): "state-raise" raises TypeError (an error);
  "state-none" -> None (nothing, not an error); "state-plain" -> (text, count) with no
  persist flag (the output itself, as in Wallaroo 0.1); else ((text, count), True),
  counting per key.
- encoder: "enc-int" -> returns 42, "enc-none" -> None, "enc-list" -> a list (errors);
  else "<text> #<n>\n" where n is how many pieces its key had seen (the count so far).

    roo run tests/apps/wrong_types.py --in 127.0.0.1:7010 --out 127.0.0.1:7002
"""

import struct

import wallaroo


def application_setup(args):
    in_host, in_port = wallaroo.tcp_parse_input_addrs(args)[0]
    out_host, out_port = wallaroo.tcp_parse_output_addrs(args)[0]

    ab = wallaroo.ApplicationBuilder("wrong types")
    ab.new_pipeline("wrong types", wallaroo.TCPSourceConfig(in_host, in_port, Decoder()))
    ab.to_parallel(FanOut)
    ab.to_state_partition(Tally(), CountBuilder(), "counts", LengthParity(), [0, 1])
    ab.to_sink(wallaroo.TCPSinkConfig(out_host, out_port, Encoder()))
    return ab.build()


class Decoder(object):
    def header_length(self):
        return 4

    def payload_length(self, bs):
        return struct.unpack(">I", bs)[0]

    def decode(self, bs):
        return bs.decode("utf-8")


class FanOut(object):
    def name(self):
        return "fan out"

    def compute_multi(self, data):
        if data == "multi-str":
            return data
        if data == "multi-int":
            return 7
        if data == "multi-tuple":
            return (data, data)
        if data == "multi-dict":
            return {data: 1}
        if data == "multi-none":
            return None
        return data.split("+")


class LengthParity(object):
    def partition(self, data):
        if data.startswith("raise"):
            raise ValueError("no key for %r" % data)
        return len(data) % 2


class Count(object):
    def __init__(self):
        self.n = 0


class CountBuilder(object):
    def build(self):
        return Count()


class Tally(object):
    def name(self):
        return "tally"

    def compute(self, data, count):
        if data == "state-raise":
            raise TypeError("no state for %r" % data)
        if data == "state-none":
            return None
        count.n += 1
        if data == "state-plain":
            return (data, count.n)
        return ((data, count.n), True)


class Encoder(object):
    def encode(self, data):
        text, n = data
        if text == "enc-int":
            return 42
        if text == "enc-none":
            return None
        if text == "enc-list":
            return [text]
        return "%s #%d\n" % (text, n)
