"""Test app: the Wallaroo 0.1-0.2 ApplicationBuilder forms. The decoder and encoder are
passed apart from their addresses (new_pipeline(name, decoder, TCPSourceConfig(host,
port)) and to_sink(encoder, TCPSinkConfig(host, port))), and the state computations
return their output alone, with no persist flag.

Input: "<letter> <votes>" text frames. Pipeline 'partitioned' keeps a total per letter
and outputs "<letter> => <total>"; pipeline 'single' keeps one grand total and outputs
"total <n>" (a 2-tuple output, its second item not a bool, is still the output).
"""
import struct

import wallaroo


def application_setup(args):
    (in_host, in_port), (in_host2, in_port2) = wallaroo.tcp_parse_input_addrs(args)[:2]
    out_host, out_port = wallaroo.tcp_parse_output_addrs(args)[0]

    ab = wallaroo.ApplicationBuilder("early forms")
    ab.new_pipeline("partitioned", Decoder(), wallaroo.TCPSourceConfig(in_host, in_port))
    ab.to_state_partition(AddVotes(), TotalBuilder(), "letters", ByLetter(), ["a", "b"])
    ab.to_sink(Encoder(), wallaroo.TCPSinkConfig(out_host, out_port))
    ab.new_pipeline("single", Decoder(), wallaroo.TCPSourceConfig(in_host2, in_port2))
    ab.to_stateful(GrandTotal(), TotalBuilder(), "grand total")
    ab.to_sink(Encoder(), wallaroo.TCPSinkConfig(out_host, out_port))
    return ab.build()


class Decoder(object):
    def header_length(self):
        return 4

    def payload_length(self, bs):
        return struct.unpack(">I", bs)[0]

    def decode(self, bs):
        letter, votes = bs.decode().split()
        return letter, int(votes)


class ByLetter(object):
    def partition(self, data):
        return data[0]


class Total(object):
    def __init__(self):
        self.votes = 0


class TotalBuilder(object):
    def build(self):
        return Total()


class AddVotes(object):
    def name(self):
        return "add votes"

    def compute(self, data, total):
        total.votes += data[1]
        return "%s => %d" % (data[0], total.votes)


class GrandTotal(object):
    def name(self):
        return "grand total"

    def compute(self, data, total):
        total.votes += data[1]
        return ("total", total.votes)


class Encoder(object):
    def encode(self, data):
        if isinstance(data, tuple):
            data = "%s %d" % data
        return data + "\n"
