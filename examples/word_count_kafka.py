"""Word count over Kafka, with Wallaroo 0.6's pipeline API.

Input: records of the topic given by --kafka_source_topic, each value UTF-8 text (one
or more lines). Words are split at spaces, lowercased and stripped of punctuation.
Output: a record per word seen, to the topic given by --kafka_sink_topic: the value
"word count" (the running count of that word, e.g. "roo 3", no newline), the key the
word, so that Kafka puts every count of a word in one partition, in order.

    roo run examples/word_count_kafka.py \\
        --kafka_source_topic lines --kafka_source_brokers 127.0.0.1:9092 \\
        --kafka_sink_topic counts --kafka_sink_brokers 127.0.0.1:9092

Brokers are host[:port] (port 9092 when left out), comma separated; the log levels
(--kafka_source_log_level, --kafka_sink_log_level), --kafka_sink_max_produce_buffer_ms
and --kafka_sink_max_message_size are optional, as in Wallaroo.
"""

import wallaroo


def application_setup(args):
    in_topic, in_brokers, in_log_level = wallaroo.kafka_parse_source_options(args)
    (out_topic, out_brokers, out_log_level, out_max_produce_buffer_ms,
     out_max_message_size) = wallaroo.kafka_parse_sink_options(args)

    lines = wallaroo.source(
        "Split and Count",
        wallaroo.KafkaSourceConfig(
            "Split and Count", in_topic, in_brokers, in_log_level, decode_lines
        ),
    )
    pipeline = (
        lines.to(split)
        .key_by(extract_word)
        .to(count_word)
        .to_sink(
            wallaroo.KafkaSinkConfig(
                out_topic, out_brokers, out_log_level, out_max_produce_buffer_ms,
                out_max_message_size, encode_word_count,
            )
        )
    )
    return wallaroo.build_application("Word Count with Kafka", pipeline)


PUNCTUATION = " !\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"


@wallaroo.decoder(header_length=4, length_fmt=">I")
def decode_lines(value):
    return value.decode("utf-8")


@wallaroo.computation_multi(name="split into words")
def split(text):
    words = []
    for line in text.splitlines():
        for word in line.lower().split(" "):
            word = word.strip(PUNCTUATION)
            if word:
                words.append(word)
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
def count_word(word, total):
    total.count += 1
    return WordCount(word, total.count)


@wallaroo.encoder
def encode_word_count(word_count):
    # (value, key): Wallaroo 0.5-0.6 also took (value, key, partition).
    return ("%s %d" % (word_count.word, word_count.count), word_count.word)
