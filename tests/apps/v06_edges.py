"""Test app (0.6 pipeline API) for edge cases of step results:
- `split` returns a list holding None items (skipped, and counted in the summary);
- the state computation `count` returns a real 2-tuple ending in a bool, `(word, True)`,
  which in the 0.6 API is the output itself (not 0.2-0.5's `(output, persist_flag)`);
- the encoder raises for the word "boom" (the error names the key and the encoder's line).

Input: text frames (4-byte big-endian length), words separated by spaces.
Output: `<word> <count> <flag>\n`, e.g. `a 2 True`.
"""
import wallaroo


def application_setup(args):
    in_name, in_host, in_port = wallaroo.tcp_parse_input_addrs(args)[0]
    out_host, out_port = wallaroo.tcp_parse_output_addrs(args)[0]
    words = wallaroo.source("words", wallaroo.TCPSourceConfig(in_name, in_host, in_port, decode))
    pipeline = (
        words.to(split)
        .key_by(first_letter)
        .to(count)
        .to_sink(wallaroo.TCPSinkConfig(out_host, out_port, encode))
    )
    return wallaroo.build_application("edges", pipeline)


@wallaroo.decoder(header_length=4, length_fmt=">I")
def decode(bs):
    return bs.decode()


@wallaroo.computation_multi(name="split")
def split(text):
    return [word or None for word in text.split(" ")]


@wallaroo.key_extractor
def first_letter(word):
    return word[0]


class Seen:
    def __init__(self):
        self.count = 0


@wallaroo.state_computation(name="count", state=Seen)
def count(word, seen):
    seen.count += 1
    return ("%s %d" % (word, seen.count), True)


@wallaroo.encoder
def encode(pair):
    if pair[0].startswith("boom"):
        raise ValueError("cannot encode boom")
    return "%s %s\n" % pair
