"""Alphabet: votes for letters, totalled in state partitioned by letter.

Input: binary frames of 9 bytes: a 4-byte big-endian length header (= 5), then the
payload: 1 byte, a lowercase ASCII letter, and a big-endian u32 vote count
(struct format ">I" for the header, ">cI" for the payload).
Output: binary frames in the same format: a 4-byte big-endian length (= 5), the letter
byte, and the letter's running total of votes as a big-endian u32 (after this message).

Generate input with examples/alphabet_data.py and run it with:

    python3 examples/alphabet_data.py votes.bin --count 100000
    roo run examples/alphabet.py --in 127.0.0.1:7010 --out 127.0.0.1:7002
    roo receive --listen 127.0.0.1:7002 --framed
    roo send --to 127.0.0.1:7010 --binary --msg-size 9 --file votes.bin
"""

import string
import struct

import wallaroo


def application_setup(args):
    in_host, in_port = wallaroo.tcp_parse_input_addrs(args)[0]
    out_host, out_port = wallaroo.tcp_parse_output_addrs(args)[0]

    letter_partitions = list(string.ascii_lowercase)

    ab = wallaroo.ApplicationBuilder("alphabet")
    ab.new_pipeline("alphabet", wallaroo.TCPSourceConfig(in_host, in_port, Decoder()))
    ab.to_state_partition(
        AddVotes(), LetterStateBuilder(), "letter state", LetterPartitionFunction(),
        letter_partitions,
    )
    ab.to_sink(wallaroo.TCPSinkConfig(out_host, out_port, Encoder()))
    return ab.build()


class Votes(object):
    def __init__(self, letter, votes):
        self.letter = letter
        self.votes = votes


class TotalVotes(object):
    def __init__(self):
        self.letter = None
        self.votes = 0

    def update(self, votes):
        self.letter = votes.letter
        self.votes += votes.votes

    def get_votes(self):
        return Votes(self.letter, self.votes)


class LetterStateBuilder(object):
    def build(self):
        return TotalVotes()


class LetterPartitionFunction(object):
    def partition(self, data):
        return data.letter


class AddVotes(object):
    def name(self):
        return "add votes"

    def compute(self, data, state):
        state.update(data)
        return (state.get_votes(), True)


class Decoder(object):
    def header_length(self):
        return 4

    def payload_length(self, bs):
        return struct.unpack(">I", bs)[0]

    def decode(self, bs):
        letter, votes = struct.unpack(">cI", bs)
        return Votes(letter.decode("ascii"), votes)


class Encoder(object):
    def encode(self, data):
        return struct.pack(">IcI", 5, data.letter.encode("ascii"), data.votes & 0xFFFFFFFF)
