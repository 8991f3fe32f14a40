"""Roo's word count as a Bytewax dataflow, for benches/peer_bytewax.sh.

The user logic is examples/word_count.py's own classes (imported from it, with `wallaroo`
aliased to Roo's python/roo package as benches/bare_word_count.py does):

    input (one line of the text file per item, as bytes, like a frame's payload)
    -> flat_map: Decoder.decode, then Split.compute_multi
    -> key_on: WordPartitionFunction.partition (the word's first letter, or "!")
    -> stateful_map: per key a WordTotalsBuilder().build() state, CountWord.compute
    -> map: Encoder.encode, then str.encode (the bytes Roo would write to its sink)
    -> a sink that counts and discards.

The source splits the file into one byte range per worker (each partition starts at the
first line beginning in its range), 1000 lines per batch, so every worker reads, decodes
and splits, as every Roo core does for its connection.

Timing is taken inside the dataflow: from the first `next_batch` of any source partition
to the last `write_batch` of any sink partition (wall clock, over every worker and
process), so interpreter start-up, imports and cluster connection are excluded.

    python bytewax_word_count.py APP.py TEXT [--processes P] [--workers W]

runs P processes (`cli_main` with process_id/addresses, as `python -m bytewax.run -i -a`)
of W worker threads each (`workers_per_process`, as `-w`). Prints `words=N seconds=S`.
"""

import argparse
import importlib.util
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time

from bytewax import operators as op
from bytewax.dataflow import Dataflow
from bytewax.inputs import FixedPartitionedSource, StatefulSourcePartition
from bytewax.outputs import DynamicSink, StatelessSinkPartition
from bytewax.run import cli_main

BATCH_LINES = 1000

# Timings and counts of this process, over its worker threads.
_lock = threading.Lock()
_stats = {"first_read": None, "last_write": None, "items": 0}


def load_app(app_path):
    """Imports the Roo app with `wallaroo` = Roo's python/roo package."""
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, os.path.join(here, "..", "python"))
    import roo

    sys.modules["wallaroo"] = roo
    spec = importlib.util.spec_from_file_location("word_count", app_path)
    app = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(app)
    return app


class _RangePartition(StatefulSourcePartition):
    """Lines starting in [start, end) of the file, as bytes without the newline."""

    def __init__(self, path, start, end, resume):
        self._file = open(path, "rb")
        self._end = end
        if resume is not None:
            self._file.seek(resume)
        elif start > 0:
            # The line that contains byte start-1 belongs to the previous partition.
            self._file.seek(start - 1)
            self._file.readline()
        self._started = False

    def next_batch(self):
        if not self._started:
            self._started = True
            now = time.time()
            with _lock:
                if _stats["first_read"] is None or now < _stats["first_read"]:
                    _stats["first_read"] = now
        batch = []
        f = self._file
        end = self._end
        while len(batch) < BATCH_LINES and f.tell() < end:
            line = f.readline()
            if not line:
                break
            batch.append(line.rstrip(b"\n"))
        if not batch:
            raise StopIteration()
        return batch

    def snapshot(self):
        return self._file.tell()

    def close(self):
        self._file.close()


class FileRangesSource(FixedPartitionedSource):
    def __init__(self, path, parts):
        self._path = path
        self._size = os.path.getsize(path)
        self._parts = parts

    def list_parts(self):
        return [str(i) for i in range(self._parts)]

    def build_part(self, step_id, for_part, resume_state):
        i = int(for_part)
        start = self._size * i // self._parts
        end = self._size * (i + 1) // self._parts
        return _RangePartition(self._path, start, end, resume_state)


class _CountingPartition(StatelessSinkPartition):
    def __init__(self):
        self._items = 0

    def write_batch(self, items):
        self._items += len(items)
        now = time.time()
        with _lock:
            if _stats["last_write"] is None or now > _stats["last_write"]:
                _stats["last_write"] = now

    def close(self):
        with _lock:
            _stats["items"] += self._items


class CountingSink(DynamicSink):
    def build(self, step_id, worker_index, worker_count):
        return _CountingPartition()


def build_flow(app, text_path, parts):
    decode = app.Decoder().decode
    split = app.Split().compute_multi
    partition = app.WordPartitionFunction().partition
    count = app.CountWord().compute
    builder = app.WordTotalsBuilder()
    encode = app.Encoder().encode

    def split_line(payload):
        return split(decode(payload))

    def count_word(state, word):
        if state is None:
            state = builder.build()
        result, _ = count(word, state)
        return (state, result)

    def encode_result(key_result):
        return encode(key_result[1]).encode()

    flow = Dataflow("word_count")
    lines = op.input("lines", flow, FileRangesSource(text_path, parts))
    words = op.flat_map("split", lines, split_line)
    keyed = op.key_on("partition", words, partition)
    counted = op.stateful_map("count", keyed, count_word)
    encoded = op.map("encode", counted, encode_result)
    op.output("sink", encoded, CountingSink())
    return flow


def run_process(app_path, text_path, processes, workers, process_id, addresses):
    app = load_app(app_path)
    flow = build_flow(app, text_path, processes * workers)
    if processes == 1:
        cli_main(flow, workers_per_process=workers)
    else:
        cli_main(
            flow, workers_per_process=workers, process_id=process_id, addresses=addresses
        )
    return dict(_stats)


def free_ports(n):
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("app")
    parser.add_argument("text")
    parser.add_argument("--processes", type=int, default=1)
    parser.add_argument("--workers", type=int, default=1, help="worker threads per process")
    parser.add_argument("--process-id", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--addresses", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.process_id is not None:
        # One process of a cluster: report to the parent through a file.
        stats = run_process(
            args.app,
            args.text,
            args.processes,
            args.workers,
            args.process_id,
            args.addresses.split(";"),
        )
        with open(args.result, "w") as f:
            json.dump(stats, f)
        return

    if args.processes == 1:
        results = [run_process(args.app, args.text, 1, args.workers, None, None)]
    else:
        addresses = ";".join("127.0.0.1:%d" % p for p in free_ports(args.processes))
        with tempfile.TemporaryDirectory() as tmp:
            files = [os.path.join(tmp, "%d.json" % i) for i in range(args.processes)]
            children = [
                subprocess.Popen(
                    [
                        sys.executable,
                        os.path.abspath(__file__),
                        args.app,
                        args.text,
                        "--processes",
                        str(args.processes),
                        "--workers",
                        str(args.workers),
                        "--process-id",
                        str(i),
                        "--addresses",
                        addresses,
                        "--result",
                        files[i],
                    ]
                )
                for i in range(args.processes)
            ]
            codes = [c.wait() for c in children]
            if any(codes):
                sys.exit("a bytewax process failed: exit codes %s" % codes)
            results = []
            for path in files:
                with open(path) as f:
                    results.append(json.load(f))

    first = min(r["first_read"] for r in results if r["first_read"] is not None)
    last = max(r["last_write"] for r in results if r["last_write"] is not None)
    words = sum(r["items"] for r in results)
    print("words=%d seconds=%.6f" % (words, last - first))


if __name__ == "__main__":
    main()
