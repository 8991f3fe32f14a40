"""Test app: the word count with every word in one partition.

As examples/word_count.py (a to_parallel split into words, then a count per word), but
the partition function puts every word in partition "a", so one core does all the
counting while the others only split. Each count also sleeps 50 µs, so that core is
sure to fall behind whatever else the machine runs (a test asserts it hands its splits
over). Output: `word => count\n`.
"""
import struct
import time

# Seconds each count sleeps: far longer than a split, so the counting core falls behind.
COUNT_DELAY = 0.00005

import wallaroo


def application_setup(args):
    in_host, in_port = wallaroo.tcp_parse_input_addrs(args)[0]
    out_host, out_port = wallaroo.tcp_parse_output_addrs(args)[0]
    ab = wallaroo.ApplicationBuilder("Lopsided Count")
    ab.new_pipeline("split and count", wallaroo.TCPSourceConfig(in_host, in_port, Decoder()))
    ab.to_parallel(Split)
    ab.to_state_partition(CountWord(), Totals, "totals", AllInOne(), ["a", "b"])
    ab.to_sink(wallaroo.TCPSinkConfig(out_host, out_port, Encoder()))
    return ab.build()


PUNCTUATION = " !\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"


class Split(object):
    def name(self):
        return "split into words"

    def compute_multi(self, data):
        words = []
        for line in data.split("\n"):
            for word in line.lower().strip(PUNCTUATION).split(" "):
                word = word.strip(PUNCTUATION)
                if word:
                    words.append(word)
        return words


class Totals(object):
    def __init__(self):
        self.counts = {}


class CountWord(object):
    def name(self):
        return "count word"

    def compute(self, word, totals):
        time.sleep(COUNT_DELAY)
        totals.counts[word] = totals.counts.get(word, 0) + 1
        return ("%s => %d" % (word, totals.counts[word]), True)


class AllInOne(object):
    def partition(self, word):
        return "a"


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
