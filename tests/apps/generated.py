"""Test app: a GenSourceConfig source (numbers 1..N, N the last argument) into a keyed state.

Each number n goes to the partition n % 7, which keeps a running sum; the output is
`n key sum-so-far`. With `raise-at K` before N, the generator raises after K numbers.
"""
import wallaroo


class Numbers(object):
    def __init__(self, limit, raise_at):
        self.limit = limit
        self.raise_at = raise_at

    def initial_value(self):
        return 1

    def apply(self, previous):
        if previous == self.raise_at:
            raise RuntimeError("generator broke after %d" % previous)
        return None if previous >= self.limit else previous + 1


class Sum(object):
    def __init__(self):
        self.total = 0


@wallaroo.key_extractor
def residue(n):
    return n % 7


@wallaroo.state_computation(name="running sum", state=Sum)
def running_sum(n, state):
    state.total += n
    return "%d %d %d" % (n, n % 7, state.total)


@wallaroo.encoder
def encode(line):
    return line + "\n"


def application_setup(args):
    out_host, out_port = wallaroo.tcp_parse_output_addrs(args)[0]
    raise_at = int(args[args.index("raise-at") + 1]) if "raise-at" in args else None
    numbers = wallaroo.GenSourceConfig("numbers", Numbers(int(args[-1]), raise_at))
    pipeline = (
        wallaroo.source("numbers", numbers)
        .key_by(residue)
        .to(running_sum)
        .to_sink(wallaroo.TCPSinkConfig(out_host, out_port, encode))
    )
    return wallaroo.build_application("generated", pipeline)
