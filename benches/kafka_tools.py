"""The Kafka side of benches/kafka_peers.sh, on confluent-kafka (run with the peers' venv).

    kafka_tools.py text PATH LINES
        writes LINES lines of 10 Zipf words (the text of benches/peer_bytewax.sh)
    kafka_tools.py expect PATH
        prints the words roo's word count finds in PATH: `words=N distinct=D`
    kafka_tools.py topics BROKERS PARTITIONS NAME...
        creates the topics, each with retention.ms=-1 set explicitly (tansu 0.6 describes
        only the configs a topic was created with, and Quix Streams' group_by reads the
        input topic's retention.ms)
    kafka_tools.py produce BROKERS TOPIC PATH
        produces each line of PATH as one record (no key: partitions round robin by
        batch), then flushes; prints `records=N seconds=S`
    kafka_tools.py watch BROKERS TOPIC EXPECTED TIMEOUT_S
        reads the topic from the start as records come until it has seen EXPECTED;
        prints `start=T0 first=T1 first_count=C end=T2 count=N` (wall clock seconds:
        when watching began, when the first record was seen and how many there were
        then, when EXPECTED were there). Exits 1 on timeout.
    kafka_tools.py check BROKERS TOPIC PATH
        reads the whole topic and checks it against PATH's word count: one record per word
        occurrence, key = the word, value "word count", the highest count of every word =
        its number of occurrences, and each word's counts 1..n in order within its
        partition. Prints `checked records=N words=D` or what is wrong (exit 1).
    kafka_tools.py paced BROKERS TOPIC PATH RATE SECONDS
        produces lines of PATH (cycled) at RATE records/s for SECONDS, each value
        "<time_ns at send> <line>"; prints `sent=N seconds=S`
    kafka_tools.py latency BROKERS TOPIC SECONDS SKIP_S
        consumes the topic for at most SECONDS (stopping after 3 s without records once
        some came; fetch.wait.max.ms LATENCY_FETCH_WAIT_MS, default 10), takes the leading number of each value as its send time (ns) and
        prints `records=N measured=M p50_us= p99_us= p999_us= max_us=`, over the M
        records sent after the first SKIP_S seconds.
"""

import os
import random
import sys
import time

from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition

PUNCTUATION = " !\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"


def split_words(line):
    """The split of examples/word_count_kafka.py."""
    words = []
    for word in line.lower().split(" "):
        word = word.strip(PUNCTUATION)
        if word:
            words.append(word)
    return words


def write_text(path, lines):
    rng = random.Random(20240501)
    letters = "abcdefghijklmnopqrstuvwxyz"
    vocabulary = [
        "".join(rng.choice(letters) for _ in range(rng.randint(2, 9))) for _ in range(5000)
    ]
    cumulative = []
    total = 0.0
    for rank in range(1, len(vocabulary) + 1):
        total += 1.0 / rank
        cumulative.append(total)
    with open(path + ".tmp", "w") as f:
        for _ in range(lines):
            words = rng.choices(vocabulary, cum_weights=cumulative, k=10)
            f.write(" ".join(w + "," if rng.random() < 0.1 else w for w in words) + "\n")
    os.replace(path + ".tmp", path)


def read_lines(path):
    with open(path) as f:
        return [line.rstrip("\n") for line in f]


def expected_counts(path):
    counts = {}
    for line in read_lines(path):
        for word in split_words(line):
            counts[word] = counts.get(word, 0) + 1
    return counts


def producer(brokers, **extra):
    config = {
        "bootstrap.servers": brokers,
        "linger.ms": 20,
        "batch.num.messages": 10000,
        "queue.buffering.max.messages": 1000000,
        "compression.type": "none",
    }
    config.update(extra)
    return Producer(config)


def produce(brokers, topic, path):
    lines = read_lines(path)
    p = producer(brokers)
    errors = []

    def delivered(err, _msg):
        if err is not None:
            errors.append(err)

    t0 = time.time()
    for line in lines:
        value = line.encode()
        while True:
            try:
                p.produce(topic, value, on_delivery=delivered)
                break
            except BufferError:
                p.poll(0.01)
        p.poll(0)
    left = p.flush(60)
    if left or errors:
        sys.exit("produce: %d records not delivered, errors %s" % (left, errors[:3]))
    print("records=%d seconds=%.3f" % (len(lines), time.time() - t0))


def create_topics(brokers, partitions, names):
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient({"bootstrap.servers": brokers})
    futures = admin.create_topics(
        [NewTopic(n, partitions, 1, config={"retention.ms": "-1"}) for n in names],
        operation_timeout=10,
    )
    for name, future in futures.items():
        future.result(15)


def partitions_of(consumer, topic):
    metadata = consumer.list_topics(topic, timeout=10)
    info = metadata.topics.get(topic)
    if info is None or info.error is not None or not info.partitions:
        sys.exit("no topic %s: %s" % (topic, None if info is None else info.error))
    return sorted(info.partitions)


def watch(brokers, topic, expected, timeout_s):
    # Counts by reading: tansu 0.6's ListOffsets answers the base offset of a
    # partition's last batch + 1 for its high-water mark, not the offset after its last
    # record, so get_watermark_offsets undercounts there.
    c = Consumer(
        {
            "bootstrap.servers": brokers,
            "group.id": "kafka-tools-watch-%d" % os.getpid(),
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
            "fetch.wait.max.ms": 20,
        }
    )
    start = time.time()
    deadline = start + timeout_s
    parts = None
    while parts is None:
        md = c.list_topics(topic, timeout=10).topics.get(topic)
        if md is not None and md.error is None and md.partitions:
            parts = sorted(md.partitions)
        elif time.time() > deadline:
            sys.exit("watch: no topic %s" % topic)
        else:
            time.sleep(0.05)
    c.assign([TopicPartition(topic, p, 0) for p in parts])
    count = 0
    first = first_count = None
    # The records' own timestamps (set by the engine's producer as it hands them over):
    # the engine's pace, however far this reader, sharing a CPU with the broker, lags.
    stamped_first = stamped_end = None
    stamped_first_count = 0
    while count < expected:
        msgs = c.consume(100000, 0.005)
        now = time.time()
        if msgs:
            count += len(msgs)
            stamps = [m.timestamp()[1] for m in msgs]
            low, high = min(stamps), max(stamps)
            if stamped_first is None or low < stamped_first:
                stamped_first, stamped_first_count = low, stamps.count(low)
            elif low == stamped_first:
                stamped_first_count += stamps.count(low)
            stamped_end = high if stamped_end is None else max(stamped_end, high)
            if first is None:
                first, first_count = now, count
        if now > deadline:
            sys.exit("watch: %s has %d of %d records after %d s" % (topic, count, expected, timeout_s))
    print(
        "start=%.6f first=%.6f first_count=%d end=%.6f count=%d "
        "stamped_first=%.3f stamped_first_count=%d stamped_end=%.3f"
        % (start, first, first_count, now, count, stamped_first / 1000.0, stamped_first_count,
           stamped_end / 1000.0)
    )
    c.close()


def consume_all(brokers, topic, handle, idle_s=3.0, max_s=None):
    """Reads topic from the beginning, calling handle(msg) per record, until idle_s
    without records (after the end of every partition) or max_s."""
    c = Consumer(
        {
            "bootstrap.servers": brokers,
            "group.id": "kafka-tools-%d-%d" % (os.getpid(), time.time_ns()),
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
            "fetch.wait.max.ms": 10,
        }
    )
    parts = partitions_of(c, topic)
    c.assign([TopicPartition(topic, p, 0) for p in parts])
    start = time.time()
    last = time.time()
    n = 0
    while True:
        msgs = c.consume(10000, 0.1)
        now = time.time()
        if msgs:
            for m in msgs:
                if m.error() is not None:
                    if m.error().code() == KafkaError._PARTITION_EOF:
                        continue
                    sys.exit("consume: %s" % m.error())
                handle(m)
                n += 1
            last = now
        elif now - last > idle_s:
            break
        if max_s is not None and now - start > max_s:
            break
    c.close()
    return n


def check(brokers, topic, path):
    expected = expected_counts(path)
    total = sum(expected.values())
    seen = {}  # word -> last count seen
    problems = []

    def handle(m):
        key = m.key().decode() if m.key() is not None else None
        value = m.value().decode()
        word, _, count = value.rpartition(" ")
        if key != word and len(problems) < 5:
            problems.append("record %r has key %r" % (value, key))
        count = int(count)
        previous = seen.get((word, m.partition()), 0)
        if count != previous + 1 and len(problems) < 5:
            problems.append("%r: count %d after %d in partition %d" % (word, count, previous, m.partition()))
        seen[(word, m.partition())] = count

    n = consume_all(brokers, topic, handle)
    finals = {}
    for (word, _partition), count in seen.items():
        finals[word] = max(finals.get(word, 0), count)
    if n != total:
        problems.append("%d records, expected %d" % (n, total))
    wrong = [w for w in expected if finals.get(w) != expected[w]]
    extra = [w for w in finals if w not in expected]
    if wrong:
        problems.append(
            "%d words with a wrong final count, e.g. %s"
            % (len(wrong), ", ".join("%s %s!=%d" % (w, finals.get(w), expected[w]) for w in wrong[:3]))
        )
    if extra:
        problems.append("%d words not in the text, e.g. %s" % (len(extra), extra[:3]))
    if problems:
        sys.exit("check %s: %s" % (topic, "; ".join(problems)))
    print("checked records=%d words=%d" % (n, len(finals)))


def paced(brokers, topic, path, rate, seconds):
    lines = [line.encode() for line in read_lines(path)]
    p = producer(brokers, **{"linger.ms": 1})
    interval = 1.0 / rate
    start = time.perf_counter()
    total = int(rate * seconds)
    sent = 0
    while sent < total:
        due = start + sent * interval
        now = time.perf_counter()
        if due > now + 0.0005:
            time.sleep(due - now - 0.0003)
            continue
        # Everything due by now goes out (a late loop catches up instead of drifting).
        while sent < total and start + sent * interval <= now:
            value = b"%d %s" % (time.time_ns(), lines[sent % len(lines)])
            try:
                p.produce(topic, value)
            except BufferError:
                p.poll(0.001)
                continue
            sent += 1
        p.poll(0)
    p.flush(30)
    print("sent=%d seconds=%.3f" % (sent, time.perf_counter() - start))


def latency(brokers, topic, seconds, skip_s):
    # One record per poll(), stamped when poll returns it (consume(n, timeout) would hold
    # records until n or the timeout). The consumer's fetch wait is 10 ms, so an idle
    # fetch that tansu holds for its whole wait costs at most that.
    c = Consumer(
        {
            "bootstrap.servers": brokers,
            "group.id": "kafka-tools-latency-%d" % os.getpid(),
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
            "fetch.wait.max.ms": int(os.environ.get("LATENCY_FETCH_WAIT_MS", "10")),
        }
    )
    parts = partitions_of(c, topic)
    c.assign([TopicPartition(topic, p, 0) for p in parts])
    stamps = []
    start = time.time()
    last = None
    while True:
        m = c.poll(0.1)
        now = time.time()
        if m is None:
            if (last is not None and now - last > 3.0) or now - start > seconds:
                break
            continue
        received = time.time_ns()
        if m.error() is not None:
            if m.error().code() == KafkaError._PARTITION_EOF:
                continue
            sys.exit("latency: %s" % m.error())
        value = m.value()
        sent = int(value[: value.index(b" ")])
        stamps.append((sent, received - sent))
        last = now
        if now - start > seconds:
            break
    c.close()
    if not stamps:
        sys.exit("latency: no records in %s" % topic)
    first = min(s for s, _ in stamps)
    lat = sorted(d for s, d in stamps if s >= first + skip_s * 1e9)

    def q(f):
        return lat[min(len(lat) - 1, int(f * len(lat)))] / 1000.0

    print(
        "records=%d measured=%d p50_us=%.0f p99_us=%.0f p999_us=%.0f max_us=%.0f"
        % (len(stamps), len(lat), q(0.5), q(0.99), q(0.999), lat[-1] / 1000.0)
    )


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "text":
        write_text(args[0], int(args[1]))
    elif cmd == "expect":
        counts = expected_counts(args[0])
        print("words=%d distinct=%d" % (sum(counts.values()), len(counts)))
    elif cmd == "topics":
        create_topics(args[0], int(args[1]), args[2:])
    elif cmd == "produce":
        produce(*args)
    elif cmd == "watch":
        watch(args[0], args[1], int(args[2]), float(args[3]))
    elif cmd == "check":
        check(*args)
    elif cmd == "paced":
        paced(args[0], args[1], args[2], float(args[3]), float(args[4]))
    elif cmd == "latency":
        latency(args[0], args[1], float(args[2]), float(args[3]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
