"""The limit for Roo's word count: the same user functions in a bare Python loop.

Reads the input file's lines as the frames Roo would receive, and for each one runs
decode -> Split.compute_multi -> partition -> CountWord.compute (per-partition state)
-> encode, exactly as the app defines them, in one interpreter, no engine.
Prints `words=N seconds=S`.
"""

import importlib.util
import os
import sys
import time


def main(app_path, input_path):
    # The app imports wallaroo: give it Roo's API package, as `roo run` does.
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
    import roo

    sys.modules["wallaroo"] = roo
    spec = importlib.util.spec_from_file_location("word_count", app_path)
    app = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(app)
    payloads = [line.rstrip("\n").encode() for line in open(input_path, encoding="utf-8")]
    decode = app.Decoder().decode
    split = app.Split().compute_multi
    partition = app.WordPartitionFunction().partition
    count = app.CountWord().compute
    build = app.WordTotalsBuilder().build
    encode = app.Encoder().encode
    states = {}
    out = []
    words = 0
    start = time.perf_counter()
    for payload in payloads:
        for word in split(decode(payload)):
            key = partition(word)
            state = states.get(key)
            if state is None:
                state = states[key] = build()
            result, _ = count(word, state)
            out.append(encode(result).encode())
            words += 1
            if len(out) >= 1000:
                out.clear()
    seconds = time.perf_counter() - start
    print("words=%d seconds=%.6f" % (words, seconds))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
