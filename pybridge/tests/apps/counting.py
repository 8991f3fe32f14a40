"""Test app: every ApplicationBuilder element, two pipelines sharing one state."""
import struct
import wallaroo


class Decoder:
    def header_length(self):
        return 4

    def payload_length(self, bs):
        return struct.unpack(">I", bs)[0]

    def decode(self, bs):
        text = bs.decode("utf-8")
        if text == "boom-decode":
            raise ValueError("decoder exploded")
        return text


class OddDecoder(Decoder):
    """Little-endian u16 headers: Roo must call payload_length() for each frame."""

    def header_length(self):
        return 2

    def payload_length(self, bs):
        return struct.unpack("<H", bs)[0]


class Split:
    def name(self):
        return "split"

    def compute_multi(self, data):
        if data == "boom-split":
            raise RuntimeError("split exploded")
        if data == "not-a-list":
            return "oops"
        return [w for w in data.split(" ") if w]


class DropBlanks:
    def name(self):
        return "drop blanks"

    def compute(self, word):
        return None if word == "skip" else word


class Tally:
    def __init__(self):
        self.counts = {}


class TallyBuilder:
    def build(self):
        return Tally()


class CountWord:
    def name(self):
        return "count word"

    def compute(self, word, tally):
        if word == "boom-state":
            raise KeyError("state exploded")
        if word == "b-plain":
            return Counted(word, 0)  # no persist flag: the output alone (Wallaroo 0.1)
        tally.counts[word] = tally.counts.get(word, 0) + 1
        return (Counted(word, tally.counts[word]), True)


class Counted:
    def __init__(self, word, count):
        self.word = word
        self.count = count


class FirstLetter:
    def partition(self, word):
        if word == "boom-partition":
            raise IndexError("partition exploded")
        return word[0]


class Encoder:
    def encode(self, data):
        if data.word == "boom-encode":
            raise TypeError("encoder exploded")
        if data.word == "int-encode":
            return 42
        return "%s=%d\n" % (data.word, data.count)


def application_setup(args):
    (in_host, in_port), (in2_host, in2_port) = wallaroo.tcp_parse_input_addrs(args)
    out_host, out_port = wallaroo.tcp_parse_output_addrs(args)[0]
    ab = wallaroo.ApplicationBuilder("counting")
    ab.new_pipeline("words", wallaroo.TCPSourceConfig(in_host, in_port, Decoder()))
    ab.to_parallel(Split)
    ab.to(DropBlanks())
    ab.to_state_partition(CountWord(), TallyBuilder(), "tallies", FirstLetter(), ["a", "b"])
    ab.to_sink(wallaroo.TCPSinkConfig(out_host, out_port, Encoder()))
    ab.new_pipeline("more words", wallaroo.TCPSourceConfig(in2_host, in2_port, OddDecoder))
    ab.to_state_partition(CountWord, TallyBuilder, "tallies", FirstLetter, [])
    ab.to_sink(wallaroo.TCPSinkConfig(out_host, out_port, Encoder))
    return ab.build()
