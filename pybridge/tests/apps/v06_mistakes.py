"""Test app: 0.6 building mistakes, chosen by the first argument."""
import wallaroo


@wallaroo.decoder(header_length=4, length_fmt=">I")
def decode(bs):
    return bs


@wallaroo.encoder
def encode(data):
    return data


@wallaroo.key_extractor
def key(data):
    return data


class NoCombine(wallaroo.Aggregation):
    def initial_accumulator(self):
        return []

    def update(self, data, acc):
        acc.append(data)

    def output(self, key, acc):
        return acc


def application_setup(args):
    src = wallaroo.source("lonely", wallaroo.TCPSourceConfig("lonely", "127.0.0.1", 0, decode))
    sink = wallaroo.TCPSinkConfig("127.0.0.1", 0, encode)
    mistake = args[1]
    if mistake == "no sink":
        return wallaroo.build_application("no sink", src)
    if mistake == "slide twice":
        windows = wallaroo.range_windows(wallaroo.seconds(9)).with_slide(wallaroo.seconds(3))
        windows.with_slide(wallaroo.seconds(1))
    if mistake == "slide over range":
        wallaroo.range_windows(wallaroo.seconds(1)).with_slide(wallaroo.seconds(2))
    if mistake == "no combine":
        windows = wallaroo.count_windows(3).over(NoCombine)
        return wallaroo.build_application("no combine", src.key_by(key).to(windows).to_sink(sink))
    if mistake == "self param":
        # As a doc snippet had it: a decorated function with a `self` left in.
        @wallaroo.state_computation(name="count", state=list)
        def count(self, data, state):
            return data

    if mistake == "merge self":
        return wallaroo.build_application("merge self", src.merge(src).to_sink(sink))
    return wallaroo.build_application("bad step", src.to(42).to_sink(sink))
