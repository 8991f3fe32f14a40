"""Test app: Wallaroo names outside its two main APIs.

- Pipeline 'words': `BYOISourceConfig` / `BYOISinkConfig` with `byoi_parse_*_addrs`, a state
  class decorated with `@wallaroo.state`, and `wallaroo._ARGS` (the command line): each
  word goes out as "<word> <count so far> <initializer>", the last being whether
  --cluster-initializer was on the command line.
- Pipeline 'feed': `TCPSourceConfig(host, port, name, decoder)` (a 0.6 development order)
  with the connector codecs of `wallaroo.experimental`: messages in connector framing
  (little-endian length, 8-byte event time, message) come back upper-cased in the same
  framing, event time 0.
- The decorators' results are instances of Wallaroo's class names (checked at set-up).
"""
import struct

import wallaroo
import wallaroo.experimental


@wallaroo.state
class Counts(object):
    def __init__(self):
        self.seen = {}


@wallaroo.state_computation(name="count")
def count(word, counts):
    counts.seen[word] = counts.seen.get(word, 0) + 1
    initializer = "--cluster-initializer" in wallaroo._ARGS
    return ("%s %d %s" % (word, counts.seen[word], initializer), True)


@wallaroo.partition
def first_letter(word):
    return word[0]


@wallaroo.decoder(header_length=4, length_fmt=">I")
def decode_word(bs):
    return bs.decode()


@wallaroo.encoder
def encode_line(text):
    return text + "\n"


@wallaroo.experimental.stream_message_decoder
def decode_feed(bs):
    return bs.decode()


@wallaroo.experimental.stream_message_encoder
def encode_feed(text):
    return text.upper()


def application_setup(args):
    assert isinstance(count, wallaroo.StateComputation)
    assert isinstance(decode_word, wallaroo.Decoder) and isinstance(encode_line, wallaroo.Encoder)
    assert isinstance(decode_feed, wallaroo.Decoder)
    (in_host, in_port), (feed_host, feed_port) = wallaroo.byoi_parse_input_addrs(args)
    (out_host, out_port), (feed_out_host, feed_out_port) = wallaroo.byoi_parse_output_addrs(args)
    ab = wallaroo.ApplicationBuilder("extras")
    ab.new_pipeline("words", wallaroo.BYOISourceConfig(in_host, in_port, decode_word))
    ab.to_state_partition(count, Counts, "counts", first_letter)
    ab.to_sink(wallaroo.BYOISinkConfig(out_host, out_port, encode_line))
    ab.new_pipeline("feed", wallaroo.TCPSourceConfig(feed_host, int(feed_port), "feed", decode_feed))
    ab.to_sink(wallaroo.TCPSinkConfig(feed_out_host, feed_out_port, encode_feed))
    return ab.build()
