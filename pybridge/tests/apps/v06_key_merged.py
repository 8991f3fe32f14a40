"""Test app: keys taken before a merge go on into the merged pipeline.

Source 0 "numbers": decimal numbers, key_by(parity) as its last operation. Source 1
"tagged": "even:x" or "odd:y", key_by(tag) and then a step that drops the tag. Merged:
state 'count' (a count per key) -> sink "<data> <count>". With the keys carried, odd and
even count apart; without them every message would share one count.
"""
import wallaroo


@wallaroo.decoder(header_length=4, length_fmt=">I")
def decode_number(bs):
    return int(bs)


@wallaroo.decoder(header_length=4, length_fmt=">I")
def decode_text(bs):
    return bs.decode()


@wallaroo.key_extractor
def parity(number):
    return "even" if number % 2 == 0 else "odd"


@wallaroo.key_extractor
def tag(text):
    return text.split(":")[0]


@wallaroo.computation(name="untag")
def untag(text):
    return text.split(":")[1]


class Count:
    def __init__(self):
        self.n = 0


@wallaroo.state_computation(name="count", state=Count)
def count(data, state):
    state.n += 1
    return "%s %d" % (data, state.n)


@wallaroo.encoder
def encode(text):
    return text + "\n"


def application_setup(args):
    addresses = wallaroo.tcp_parse_input_addrs(args)
    out_host, out_port = wallaroo.tcp_parse_output_addrs(args)[0]
    numbers = wallaroo.source(
        "numbers", wallaroo.TCPSourceConfig(*addresses[0], decode_number)
    ).key_by(parity)
    tagged = (
        wallaroo.source("tagged", wallaroo.TCPSourceConfig(*addresses[1], decode_text))
        .key_by(tag)
        .to(untag)
    )
    pipeline = (
        numbers.merge(tagged)
        .to(count)
        .to_sink(wallaroo.TCPSinkConfig(out_host, out_port, encode))
    )
    return wallaroo.build_application("keys merged", pipeline)
