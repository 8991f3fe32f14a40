"""Counts Kafka records per key in tumbling 10 s windows of their timestamps (Wallaroo
0.6 windows over a Kafka source): each record's value is `KEY`; each window writes
`KEY COUNT` to the Kafka sink."""

import wallaroo


def application_setup(args):
    topic, brokers, log_level = wallaroo.kafka_parse_source_options(args)
    source = wallaroo.KafkaSourceConfig("events", topic, brokers, log_level, decode)
    topic, brokers, log_level, buffer_ms, max_size = wallaroo.kafka_parse_sink_options(args)
    sink = wallaroo.KafkaSinkConfig(topic, brokers, log_level, buffer_ms, max_size, encode)
    pipeline = (
        wallaroo.source("events", source)
        .key_by(by_itself)
        .to(wallaroo.range_windows(wallaroo.seconds(10)).over(Count))
        .to_sink(sink)
    )
    return wallaroo.build_application("Kafka windows", pipeline)


@wallaroo.decoder(header_length=4, length_fmt=">I")
def decode(value):
    return value.decode("utf-8")


@wallaroo.key_extractor
def by_itself(key):
    return key


class Count(wallaroo.Aggregation):
    def initial_accumulator(self):
        return 0

    def update(self, key, count):
        return count + 1

    def combine(self, a, b):
        return a + b

    def output(self, key, count):
        return "%s %d" % (key, count)


@wallaroo.encoder
def encode(line):
    return line
