"""Test app: every element of the 0.6 pipeline API."""
import wallaroo


@wallaroo.decoder(header_length=4, length_fmt=">I")
def decode_text(bs):
    return bs.decode()


@wallaroo.decoder(header_length=2, length_fmt="<H")
def decode_little_endian(bs):
    return bs.decode()


@wallaroo.computation_multi(name="words")
def words(text):
    return text.split()


@wallaroo.computation(name="upper")
def upper(word):
    return None if word == "drop" else word.upper()


@wallaroo.key_extractor
def first_letter(word):
    return word[0]


class Count:
    n = 0


@wallaroo.state_computation(name="running count", state=Count)
def running_count(word, count):
    count.n += 1
    return "%s:%d" % (word, count.n)


@wallaroo.state_computation(name="as tuple", state=Count)
def as_tuple(line, count):
    count.n += 1
    return (line, True)


@wallaroo.state_computation_multi(name="twice", state=Count)
def twice(pair, count):
    # In the 0.6 API a 2-tuple ending in a bool is the output itself, not
    # (output, persist_flag).
    line, flag = pair
    return [line, line] if flag is True else []


@wallaroo.encoder
def encode(line):
    return line + "\n"


def application_setup(args):
    (a_name, a_host, a_port), (b_host, b_port) = wallaroo.tcp_parse_input_addrs(args)
    sinks = [wallaroo.TCPSinkConfig(host, port, encode) for host, port in wallaroo.tcp_parse_output_addrs(args)]
    a = wallaroo.source("A", wallaroo.TCPSourceConfig(a_name, a_host, a_port, decode_text, parallelism=4)).to(words)
    b = wallaroo.source("B", wallaroo.TCPSourceConfig(b_host, b_port, decode_little_endian))
    pipeline = (
        a.merge(b)
        .to(upper)
        .key_by(first_letter)
        .to(running_count)
        .collect()
        .to(as_tuple)
        .to(twice)
        .to_sinks(sinks)
    )
    return wallaroo.build_application("everything", pipeline)
