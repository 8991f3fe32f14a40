"""Word count with Wallaroo 0.6's pipeline API and decorators.

Input: frames of UTF-8 text (4-byte big-endian length). Output: `word => count\n`.

    roo run examples/word_count_v06.py --in "Split and Count"@127.0.0.1:7010 --out 127.0.0.1:7002
"""

import string

import wallaroo


def application_setup(args):
    in_name, in_host, in_port = wallaroo.tcp_parse_input_addrs(args)[0]
    out_host, out_port = wallaroo.tcp_parse_output_addrs(args)[0]

    lines = wallaroo.source(
        "Split and Count", wallaroo.TCPSourceConfig(in_name, in_host, in_port, decode_lines)
    )
    pipeline = (
        lines.to(split)
        .key_by(extract_word)
        .to(count_word)
        .to_sink(wallaroo.TCPSinkConfig(out_host, out_port, encode_word_count))
    )
    return wallaroo.build_application("Word Count Application", pipeline)


PUNCTUATION = " !\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"


@wallaroo.computation_multi(name="split into words")
def split(data):
    words = []
    for line in data.split("\n"):
        clean_line = line.lower().strip(PUNCTUATION)
        for word in clean_line.split(" "):
            clean_word = word.strip(PUNCTUATION)
            if clean_word:
                words.append(clean_word)
    return words


@wallaroo.key_extractor
def extract_word(word):
    return word


class WordTotal(object):
    count = 0


class WordCount(object):
    def __init__(self, word, count):
        self.word = word
        self.count = count


@wallaroo.state_computation(name="count word", state=WordTotal)
def count_word(word, word_total):
    word_total.count = word_total.count + 1
    return WordCount(word, word_total.count)


@wallaroo.decoder(header_length=4, length_fmt=">I")
def decode_lines(bs):
    return bs.decode("utf-8")


@wallaroo.encoder
def encode_word_count(word_count):
    output = word_count.word + " => " + str(word_count.count) + "\n"
    return output.encode("utf-8")
