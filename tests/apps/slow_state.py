"""Test app: a state step that takes 4 ms a message, on the core that does not read, and
that rarely outputs anything.

Every message is keyed "b", which the listed keys ["a", "b"] deal to core 1 of 2, while
core 0 reads the first source connection: core 0 reads and routes the whole input at
once, and core 1 runs the slow steps long after the sender has closed. Output:
`payload => n\n` (n counting the messages so far) only for every 2600th message and for
the message `last`, so a drain can go on for more than 10 s without any output.
"""
import struct
import time

import wallaroo

# Seconds each message's state step takes.
STEP_DELAY = 0.004
# Messages between outputs.
EMIT_EVERY = 2600


def application_setup(args):
    in_host, in_port = wallaroo.tcp_parse_input_addrs(args)[0]
    out_host, out_port = wallaroo.tcp_parse_output_addrs(args)[0]
    ab = wallaroo.ApplicationBuilder("Slow State")
    ab.new_pipeline("slow", wallaroo.TCPSourceConfig(in_host, in_port, Decoder()))
    ab.to_state_partition(CountSlowly(), Count, "count", AllOnB(), ["a", "b"])
    ab.to_sink(wallaroo.TCPSinkConfig(out_host, out_port, Encoder()))
    return ab.build()


class Count(object):
    def __init__(self):
        self.seen = 0


class CountSlowly(object):
    def name(self):
        return "count slowly"

    def compute(self, data, count):
        time.sleep(STEP_DELAY)
        count.seen += 1
        if count.seen % EMIT_EVERY and data != "last":
            return (None, True)
        return ("%s => %d" % (data, count.seen), True)


class AllOnB(object):
    def partition(self, data):
        return "b"


class Decoder(object):
    def header_length(self):
        return 4

    def payload_length(self, bs):
        return struct.unpack(">I", bs)[0]

    def decode(self, bs):
        return bs.decode("utf-8")


class Encoder(object):
    def encode(self, line):
        return line + "\n"
