"""A Kafka app whose records carry their send time through roo, for the latency part of
benches/kafka_peers.sh.

Input: records whose value is "<send time ns> <line of text>". Each is parsed, keyed by
the line's first word (so it crosses to the core that owns that key, as word count's
words do), counted in that word's state, and written out as one record: value
"<send time ns> <word> <lines so far that began with it>", key the word. The receiver
subtracts the stamp from its own clock.

    roo run benches/kafka_stamped.py \\
        --kafka_source_topic stamped --kafka_source_brokers 127.0.0.1:9092 \\
        --kafka_sink_topic stamped-out --kafka_sink_brokers 127.0.0.1:9092
"""

import wallaroo


def application_setup(args):
    in_topic, in_brokers, in_log_level = wallaroo.kafka_parse_source_options(args)
    (out_topic, out_brokers, out_log_level, out_max_produce_buffer_ms,
     out_max_message_size) = wallaroo.kafka_parse_sink_options(args)
    records = wallaroo.source(
        "Stamped",
        wallaroo.KafkaSourceConfig(
            "Stamped", in_topic, in_brokers, in_log_level, decode_stamped
        ),
    )
    pipeline = (
        records.to(parse)
        .key_by(first_word)
        .to(count_line)
        .to_sink(
            wallaroo.KafkaSinkConfig(
                out_topic, out_brokers, out_log_level, out_max_produce_buffer_ms,
                out_max_message_size, encode_stamped,
            )
        )
    )
    return wallaroo.build_application("Kafka stamped", pipeline)


@wallaroo.decoder(header_length=4, length_fmt=">I")
def decode_stamped(value):
    return value.decode("utf-8")


class Stamped(object):
    def __init__(self, stamp, word):
        self.stamp = stamp
        self.word = word
        self.count = 0


@wallaroo.computation(name="parse")
def parse(text):
    stamp, _, line = text.partition(" ")
    word = line.split(" ", 1)[0].strip(",").lower() or "-"
    return Stamped(stamp, word)


@wallaroo.key_extractor
def first_word(stamped):
    return stamped.word


class LineTotal(object):
    count = 0


@wallaroo.state_computation(name="count line", state=LineTotal)
def count_line(stamped, total):
    total.count += 1
    stamped.count = total.count
    return stamped


@wallaroo.encoder
def encode_stamped(stamped):
    return ("%s %s %d" % (stamped.stamp, stamped.word, stamped.count), stamped.word)
