#!/usr/bin/env bash
# Word count CPU instructions per word, counted by valgrind's callgrind: the bare Python
# loop (benches/bare_word_count.py) against roo at 1 core and at 2 cores. Instruction
# counts do not move with a shared VM's phase the way wall-clock rates do, so these ratios
# are repeatable to about 1% where `cargo bench --bench word_count` moves by 20-40%.
#
#   benches/instructions.sh [LINES]      (default 10 000 lines, 100 000 words; ~2 min)
#   ROO=path/to/roo benches/instructions.sh   (another build, e.g. to compare two commits)
#
# Roo is counted only inside its worker's batches (decode, steps, routing, state, encode:
# `Worker::run_frames` and `Worker::run_routed`), so idle polling, which callgrind's
# serialised threads inflate, is left out; so are socket reads and writes (kernel time is
# never counted). The bare loop is counted whole, minus a run over one line (start-up).
# Needs valgrind and a release build (`cargo build --release`).
set -euo pipefail
cd "$(dirname "$0")/.."
LINES=${1:-10000}
PY=${PYO3_PYTHON:-/root/.pyenv/versions/3.13.0/bin/python3.13}
ROO=${ROO:-target/release/roo}
APP=examples/word_count.py
command -v valgrind >/dev/null || { echo "needs valgrind (apt-get install valgrind)" >&2; exit 1; }
[ -x "$ROO" ] || { echo "needs $ROO: run cargo build --release" >&2; exit 1; }

WORK=$(mktemp -d)
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT

# A Zipf text of LINES lines of 10 words from 5 000 of 2-9 letters, like the word count
# bench's.
"$PY" - "$LINES" "$WORK/text.txt" <<'EOF'
import random, sys
lines, path = int(sys.argv[1]), sys.argv[2]
rng = random.Random(7)
vocabulary = ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(2, 9)))
              for _ in range(5000)]
weights = [1 / rank for rank in range(1, 5001)]
with open(path, "w") as out:
    for _ in range(lines):
        out.write(" ".join(rng.choices(vocabulary, weights, k=10)) + "\n")
EOF
head -n 1 "$WORK/text.txt" > "$WORK/one.txt"
WORDS=$(wc -w < "$WORK/text.txt")

# Total instructions callgrind counted, from its log.
counted() { grep -o 'Collected : [0-9]*' "$1" | tail -n 1 | awk '{print $3}'; }

free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# Instructions of the bare loop over text $1, into COUNT.
bare() {
    valgrind --tool=callgrind --callgrind-out-file=/dev/null --log-file="$WORK/bare.log" \
        "$PY" benches/bare_word_count.py "$APP" "$1" > /dev/null
    COUNT=$(counted "$WORK/bare.log")
}

# Instructions roo ran inside the worker's batches over one word count at $1 cores, into
# COUNT (not a subshell: the processes started stay known to `cleanup`).
roo_batches() {
    local cores=$1 in out log=$WORK/roo$1.log
    in=127.0.0.1:$(free_port)
    out=127.0.0.1:$(free_port)
    "$ROO" receive --listen "$out" --expect "$WORDS" --timeout 900 --quiet 2>/dev/null &
    local receiver=$!
    PIDS+=("$receiver")
    valgrind --tool=callgrind --fair-sched=yes --callgrind-out-file=/dev/null --log-file="$log" \
        --toggle-collect='*Worker::run_frames*' --toggle-collect='*Worker::run_routed*' \
        "$ROO" run --cores "$cores" --exit-when-idle "$APP" --in "$in" --out "$out" 2> "$WORK/roo$cores.err" &
    local worker=$!
    PIDS+=("$worker")
    for _ in $(seq 600); do grep -q "roo: ready" "$WORK/roo$cores.err" && break; sleep 0.2; done
    "$ROO" send --to "$in" --connections 2 --quiet --file "$WORK/text.txt" 2> "$WORK/send.err" ||
        { cat "$WORK/send.err" >&2; exit 1; }
    wait "$receiver" || { echo "roo receive did not get all $WORDS lines" >&2; exit 1; }
    wait "$worker" || { cat "$WORK/roo$cores.err" >&2; exit 1; }
    COUNT=$(counted "$log")
}

echo "word count under callgrind, $LINES lines, $WORDS words ($PY)"
bare "$WORK/text.txt"
full=$COUNT
bare "$WORK/one.txt"
bare_per_word=$(( (full - COUNT) / WORDS ))
echo "bare Python loop:   $bare_per_word instructions per word"
for cores in 1 2; do
    roo_batches "$cores"
    per_word=$(( COUNT / WORDS ))
    echo "roo, $cores core(s):     $per_word instructions per word, $(awk -v a="$per_word" -v b="$bare_per_word" 'BEGIN { printf "%.3f", a / b }')x the bare loop"
done
