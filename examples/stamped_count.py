"""Stamped count: the latency benchmark's application (benches/latency.rs).

Input: frames (4-byte big-endian length header) of `<ns> <text>`, as `roo send --stamp`
writes them: the send stamp, one space, then a line of text. The decoder splits the stamp
off; the partition key is the first letter of the text's first word ("!" when it is not a
letter a-z, or when the text is empty); a partitioned state counts messages per key.
Output: `<ns> <key> <count>\n`, the stamp first, so `roo receive --latency` measures the
time from the scheduled send to the receipt of the result. Run it with:

    roo run examples/stamped_count.py --in 127.0.0.1:7010 --out 127.0.0.1:7002

and drive it with
`roo send --to 127.0.0.1:7010 --generate words --stamp --rate 10000 --duration 10`
while `roo receive --listen 127.0.0.1:7002 --latency --idle-exit 3` reports latency.
"""

import string
import struct

import wallaroo


def application_setup(args):
    in_host, in_port = wallaroo.tcp_parse_input_addrs(args)[0]
    out_host, out_port = wallaroo.tcp_parse_output_addrs(args)[0]

    keys = list(string.ascii_lowercase)
    keys.append("!")

    ab = wallaroo.ApplicationBuilder("Stamped Count")
    ab.new_pipeline("stamped count", wallaroo.TCPSourceConfig(in_host, in_port, Decoder()))
    ab.to_state_partition(CountMessage(), CountsBuilder(), "counts", FirstLetter(), keys)
    ab.to_sink(wallaroo.TCPSinkConfig(out_host, out_port, Encoder()))
    return ab.build()


def first_letter(text):
    """The first letter of the text's first word, lower-cased; "!" if it is not a-z."""
    first = text.lstrip()[:1].lower()
    if "a" <= first <= "z":
        return first
    return "!"


class Decoder(object):
    def header_length(self):
        return 4

    def payload_length(self, bs):
        return struct.unpack(">I", bs)[0]

    def decode(self, bs):
        # (stamp, text): a tuple crosses cores natively (no pickling).
        stamp, _, text = bs.decode("utf-8").partition(" ")
        return (stamp, text)


class FirstLetter(object):
    def partition(self, data):
        return first_letter(data[1])


class Counts(object):
    def __init__(self):
        self.counts = {}

    def add(self, key):
        count = self.counts.get(key, 0) + 1
        self.counts[key] = count
        return count


class CountsBuilder(object):
    def build(self):
        return Counts()


class CountMessage(object):
    def name(self):
        return "count messages per key"

    def compute(self, data, counts):
        key = first_letter(data[1])
        return ((data[0], key, counts.add(key)), True)


class Encoder(object):
    def encode(self, data):
        return "%s %s %d\n" % data
