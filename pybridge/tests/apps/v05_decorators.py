"""Test app: Wallaroo 0.4-0.5 decorators on the ApplicationBuilder, as its examples wrote them."""
import struct

import wallaroo


class Votes(object):
    def __init__(self, letter, votes):
        self.letter = letter
        self.votes = votes


class TotalVotes(object):
    def __init__(self):
        self.votes = 0

    def add(self, votes):
        self.votes += votes.votes
        return Votes(votes.letter, self.votes)


@wallaroo.decoder(header_length=4, length_fmt=">I")
def decoder(bs):
    # "<letters> <votes>"; "skip" frames are discarded by returning None (Wallaroo 0.6).
    text = bs.decode()
    if text == "skip":
        return None
    letters, votes = text.split()
    return [Votes(letter, int(votes)) for letter in letters]


@wallaroo.computation_multi("split letters")
def split_letters(votes):
    return votes


@wallaroo.computation("double")
def double(votes):
    return Votes(votes.letter, votes.votes * 2)


@wallaroo.partition
def partition(votes):
    return votes.letter


@wallaroo.state_computation(name="add votes")
def add_votes(votes, state):
    return (state.add(votes), True)


@wallaroo.state_computation_multi(name="running total")
def running_total(votes, state):
    state.votes += votes.votes
    return ([votes, Votes(votes.letter.upper(), state.votes)], True)


@wallaroo.encoder
def encoder(votes):
    return "%s => %d\n" % (votes.letter, votes.votes)


def application_setup(args):
    in_host, in_port = wallaroo.tcp_parse_input_addrs(args)[0]
    # The second sink through wallaroo.byoi, Wallaroo's other name for TCP configs.
    (h0, p0), (h1, p1) = wallaroo.byoi.parse_output_addrs(args)
    sinks = [wallaroo.TCPSinkConfig(h0, p0, encoder), wallaroo.byoi.SinkConfig(h1, p1, encoder)]
    ab = wallaroo.ApplicationBuilder("alphabet")
    ab.new_pipeline("alphabet", wallaroo.TCPSourceConfig(in_host, in_port, decoder), coalescing=False)
    ab.to(split_letters)
    ab.to(double)
    ab.to_state_partition(add_votes, TotalVotes, "letter state", partition, ["a", "b", "c"])
    ab.to_stateful(running_total, TotalVotes, "grand total")
    ab.to_sinks(sinks)
    return ab.build()
