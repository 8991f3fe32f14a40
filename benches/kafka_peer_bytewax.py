"""Roo's Kafka word count (examples/word_count_kafka.py) as a Bytewax dataflow with
Bytewax's own Kafka connectors, for benches/kafka_peers.sh.

    KafkaSource (every partition of the input topic from its beginning, batches of
    Bytewax's default 1000; tail=True, as a stream: it runs until stopped)
    -> flat_map: the record's value decoded, split into words (lowercased, punctuation
       stripped)
    -> key_on: the word (Bytewax exchanges keyed items between workers itself)
    -> stateful_map: the running count of the word
    -> map: KafkaSinkMessage(key = the word, value = "word count")
    -> KafkaSink (the output topic)

    python kafka_peer_bytewax.py BROKERS INPUT OUTPUT [WORKERS]

WORKERS worker threads in this process (Bytewax's -w; default 1). Runs until killed
(tail=True: Bytewax's end-of-partition detection would rely on the broker's
high-water marks).
"""

import sys

import bytewax.operators as op
from bytewax.connectors.kafka import KafkaSink, KafkaSinkMessage, KafkaSource
from bytewax.dataflow import Dataflow
from bytewax.run import cli_main

PUNCTUATION = " !\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"


def split(message):
    words = []
    for word in message.value.decode().lower().split(" "):
        word = word.strip(PUNCTUATION)
        if word:
            words.append(word)
    return words


def count(total, _word):
    total = 1 if total is None else total + 1
    return (total, total)


def to_message(word_count):
    word, n = word_count
    return KafkaSinkMessage(key=word.encode(), value=("%s %d" % (word, n)).encode())


def build(brokers, input_topic, output_topic):
    flow = Dataflow("kafka_word_count")
    records = op.input("lines", flow, KafkaSource([brokers], [input_topic]))
    words = op.flat_map("split", records, split)
    keyed = op.key_on("word", words, lambda word: word)
    counts = op.stateful_map("count", keyed, count)
    messages = op.map("encode", counts, to_message)
    op.output("counts", messages, KafkaSink([brokers], output_topic))
    return flow


def main():
    brokers, input_topic, output_topic = sys.argv[1:4]
    workers = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    cli_main(build(brokers, input_topic, output_topic), workers_per_process=workers)


if __name__ == "__main__":
    main()
