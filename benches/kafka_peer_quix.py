"""Roo's Kafka word count (examples/word_count_kafka.py) as a Quix Streams app, for
benches/kafka_peers.sh.

    input topic (each value a line of text)
    -> apply(split, expand=True): one item per word (lowercased, punctuation stripped)
    -> group_by(the word): Quix's repartition topic, so each word's count lives in one
       partition's state
    -> apply(count, stateful=True): the running count in the word's state (RocksDB,
       with Quix's changelog topic, its defaults)
    -> to_topic(output): value "word count", key the word (str serializers)

    python kafka_peer_quix.py BROKERS INPUT OUTPUT GROUP STATE_DIR

Runs until SIGTERM/SIGINT (Quix stops the app gracefully on either).
"""

import sys

from quixstreams import Application

PUNCTUATION = " !\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"


def split(line):
    words = []
    for word in line.lower().split(" "):
        word = word.strip(PUNCTUATION)
        if word:
            words.append(word)
    return words


def count(word, state):
    n = state.get("count", 0) + 1
    state.set("count", n)
    return "%s %d" % (word, n)


def main():
    brokers, input_name, output_name, group, state_dir = sys.argv[1:6]
    app = Application(
        broker_address=brokers,
        consumer_group=group,
        auto_offset_reset="earliest",
        state_dir=state_dir,
        loglevel="WARNING",
    )
    lines = app.topic(input_name, value_deserializer="str", key_deserializer="bytes")
    counts = app.topic(output_name, value_serializer="str", key_serializer="str")
    sdf = app.dataframe(lines)
    sdf = sdf.apply(split, expand=True)
    sdf = sdf.group_by(
        lambda word: word,
        name="word",
        key_serializer="str",
        key_deserializer="str",
        value_serializer="str",
        value_deserializer="str",
    )
    sdf = sdf.apply(count, stateful=True)
    sdf.to_topic(counts)
    app.run()


if __name__ == "__main__":
    main()
