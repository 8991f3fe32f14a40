"""Test app: mistakes with Wallaroo 0.4-0.5 decorators and configs, chosen by the first
argument."""
import wallaroo
import wallaroo.experimental


@wallaroo.decoder(header_length=4, length_fmt=">I")
def decode(bs):
    return bs


@wallaroo.encoder
def encode(data):
    return data


@wallaroo.computation(name="stateless")
def stateless(data):
    return data


@wallaroo.state_computation(name="count")
def count(data, state):
    return (data, True)


def application_setup(args):
    mistake = args[1]
    sink = wallaroo.TCPSinkConfig("127.0.0.1", 0, encode)
    source = wallaroo.TCPSourceConfig("127.0.0.1", 0, decode)
    if mistake == "kafka":
        source = wallaroo.DefaultKafkaSourceCLIParser(decode)
    if mistake == "connector":
        source = wallaroo.experimental.SourceConnectorConfig("in", decode, encode, 7100, "cookie", 10, 5)
    if mistake == "no decoder":
        source = wallaroo.TCPSourceConfig("127.0.0.1", 0)
    if mistake == "no encoder":
        sink = wallaroo.TCPSinkConfig("127.0.0.1", 0)
    if mistake == "no state":
        return wallaroo.build_application("no state", wallaroo.source("s", source).to(count).to_sink(sink))
    ab = wallaroo.ApplicationBuilder("mistakes").new_pipeline("p", source)
    if mistake == "state as stateless":
        return ab.to(count).to_sink(sink).build()
    return ab.to_sink(sink).to(stateless).build()
