"""Roo's Kafka word count (examples/word_count_kafka.py) as a Faust app (faust-streaming,
on aiokafka), for benches/kafka_peers.sh.

Faust's own way to count by a new key: two agents and a repartition topic.

    agent split_lines: the input topic (raw bytes values) -> each line split into words
        (lowercased, punctuation stripped) -> each word sent to the internal topic
        "<app id>-words", keyed by the word (so a word's count has one partition)
    agent count_words: "<app id>-words" -> counts[word] += 1 in a Faust Table (memory
        store, with Faust's changelog topic, its defaults) -> "word count" sent to the
        output topic, keyed by the word

    python kafka_peer_faust.py BROKERS INPUT OUTPUT APP_ID PARTITIONS DATADIR

APP_ID names the consumer group and the internal topics (fresh per run); DATADIR is
Faust's data directory. Runs until SIGTERM/SIGINT. No web server (web_enabled=False);
the producer lingers 5 ms, as librdkafka's does by default (aiokafka's default is 0:
about 4x slower here).
"""

import sys

import faust

PUNCTUATION = " !\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"


def split(line):
    words = []
    for word in line.lower().split(" "):
        word = word.strip(PUNCTUATION)
        if word:
            words.append(word)
    return words


def build(brokers, input_topic, output_topic, app_id, partitions, datadir):
    app = faust.App(
        app_id,
        broker="kafka://" + brokers,
        store="memory://",
        web_enabled=False,
        topic_partitions=partitions,
        topic_replication_factor=1,
        consumer_auto_offset_reset="earliest",
        # aiokafka's linger is 0; librdkafka's (Quix Streams', Bytewax's and, with
        # --kafka_sink_max_produce_buffer_ms 5, roo's) is 5 ms.
        producer_linger=0.005,
        datadir=datadir,
    )
    lines = app.topic(input_topic, value_type=bytes, value_serializer="raw")
    words = app.topic(
        app_id + "-words",
        key_type=bytes,
        value_type=bytes,
        key_serializer="raw",
        value_serializer="raw",
        partitions=partitions,
        internal=True,
    )
    out = app.topic(
        output_topic,
        key_type=bytes,
        value_type=bytes,
        key_serializer="raw",
        value_serializer="raw",
    )
    counts = app.Table("word_counts", default=int, partitions=partitions)

    @app.agent(lines)
    async def split_lines(stream):
        async for line in stream:
            for word in split(line.decode()):
                key = word.encode()
                await words.send(key=key, value=key)

    @app.agent(words)
    async def count_words(stream):
        async for word in stream:
            counts[word] += 1
            await out.send(key=word, value=b"%s %d" % (word, counts[word]))

    return app


def main():
    brokers, input_topic, output_topic, app_id, partitions, datadir = sys.argv[1:7]
    app = build(brokers, input_topic, output_topic, app_id, int(partitions), datadir)
    worker = faust.Worker(app, loglevel="warning", quiet=True)
    # Faust's terminal spinner sets the root logger to DEBUG (so that it turns on every
    # record), which makes every debug call of faust and aiokafka build a log record:
    # about 2.5 per word here. Off, the root logger stays at WARNING.
    worker.spinner = None
    worker.execute_from_commandline()


if __name__ == "__main__":
    main()
