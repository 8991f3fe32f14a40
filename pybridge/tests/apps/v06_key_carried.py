"""Test app: a key_by key stays with the message (Wallaroo 0.6's api.md: "partition the
inputs into one partition per key. This scheme will apply to both f and g").

Input: decimal numbers. key_by(parity of the number) -> 'times ten' (every output even)
-> state 'seen' (a list per key) -> 'label' -> state 'tally' (a count per key; its
input no longer holds a number at all) -> collect() -> state 'everything' (one state)
-> sink "<key> <seen> <tally> <everything>".
"""
import wallaroo


@wallaroo.decoder(header_length=4, length_fmt=">I")
def decode(bs):
    return int(bs)


@wallaroo.key_extractor
def parity(number):
    return "even" if number % 2 == 0 else "odd"


@wallaroo.computation(name="times ten")
def times_ten(number):
    return number * 10


class Seen:
    def __init__(self):
        self.numbers = []


@wallaroo.state_computation(name="seen", state=Seen)
def seen(number, state):
    state.numbers.append(number)
    return list(state.numbers)


@wallaroo.computation(name="label")
def label(numbers):
    return "seen:" + ",".join(str(n) for n in numbers)


class Tally:
    def __init__(self):
        self.n = 0


@wallaroo.state_computation(name="tally", state=Tally)
def tally(text, state):
    state.n += 1
    return (text, state.n)


@wallaroo.state_computation(name="everything", state=Tally)
def everything(pair, state):
    state.n += 1
    return "%s %d %d" % (pair[0], pair[1], state.n)


@wallaroo.encoder
def encode(text):
    return text + "\n"


def application_setup(args):
    in_host, in_port = wallaroo.tcp_parse_input_addrs(args)[0]
    out_host, out_port = wallaroo.tcp_parse_output_addrs(args)[0]
    pipeline = (
        wallaroo.source("numbers", wallaroo.TCPSourceConfig(in_host, in_port, decode))
        .key_by(parity)
        .to(times_ten)
        .to(seen)
        .to(label)
        .to(tally)
        .collect()
        .to(everything)
        .to_sink(wallaroo.TCPSinkConfig(out_host, out_port, encode))
    )
    return wallaroo.build_application("key carried", pipeline)
