#!/usr/bin/env bash
# Soak test of the word count under overload (not run in CI).
#
# Usage: benches/soak.sh [MINUTES] [RATE]
#   MINUTES  how long to overload roo (default 10)
#   RATE     the sustainable rate in msg/s; default: measured here with an unpaced
#            `roo send --generate words` for MEASURE_SECS seconds
# Environment: ROO (binary, default target/release/roo, built if missing), CORES (roo run
# --cores, default every CPU), IN_PORT / OUT_PORT (default 17010 / 17002), MEASURE_SECS (5).
#
# It starts `roo receive`, then `roo run examples/word_count.py`, measures (or takes) the
# sustainable rate R, then runs `roo send --generate words --rate 2R --duration MINUTES*60`
# over 4 connections, printing roo's RSS (VmRSS) every 10 s. At the end it prints the
# sender's final line, stops roo with SIGINT and prints roo's summary and the receiver's
# final lines. Memory should level off: roo pushes back instead of queueing without bound.
set -euo pipefail

cd "$(dirname "$0")/.."
MINUTES=${1:-10}
RATE=${2:-}
ROO=${ROO:-target/release/roo}
IN=127.0.0.1:${IN_PORT:-17010}
OUT=127.0.0.1:${OUT_PORT:-17002}
MEASURE_SECS=${MEASURE_SECS:-5}
CORES_ARGS=()
[[ -n "${CORES:-}" ]] && CORES_ARGS=(--cores "$CORES")

[[ -x "$ROO" ]] || cargo build --release
LOGS=$(mktemp -d /tmp/roo-soak.XXXXXX)
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
}
trap cleanup EXIT

rss() { awk '/^VmRSS/ {print $2 " " $3}' "/proc/$1/status" 2>/dev/null || echo "gone"; }

"$ROO" receive --listen "$OUT" --idle-exit 5 --quiet 2>"$LOGS/receive.log" &
RECEIVER=$!
PIDS+=("$RECEIVER")
"$ROO" run "${CORES_ARGS[@]}" examples/word_count.py --in "$IN" --out "$OUT" 2>"$LOGS/run.log" &
WORKER=$!
PIDS+=("$WORKER")
for _ in $(seq 200); do
    grep -q "roo: ready" "$LOGS/run.log" && break
    kill -0 "$WORKER" 2>/dev/null || { cat "$LOGS/run.log"; exit 1; }
    sleep 0.1
done
grep -q "roo: ready" "$LOGS/run.log" || { echo "roo did not start"; cat "$LOGS/run.log"; exit 1; }
echo "roo pid $WORKER, RSS at start: $(rss "$WORKER"); logs in $LOGS"

if [[ -z "$RATE" ]]; then
    "$ROO" send --to "$IN" --connections 4 --generate words --seed 7 \
        --duration "$MEASURE_SECS" --quiet 2>"$LOGS/measure.log"
    echo "measure: $(tail -n 1 "$LOGS/measure.log")"
    RATE=$(tail -n 1 "$LOGS/measure.log" | sed -E 's/.*: ([0-9]+) msg\/s.*/\1/')
    sleep 2 # let roo drain what the unpaced sender pushed
fi
TARGET=$((RATE * 2))
echo "sustainable rate $RATE msg/s; overloading at $TARGET msg/s for $MINUTES min"

"$ROO" send --to "$IN" --connections 4 --generate words --rate "$TARGET" \
    --duration $((MINUTES * 60)) --quiet 2>"$LOGS/send.log" &
SENDER=$!
PIDS+=("$SENDER")
START=$(date +%s)
while kill -0 "$SENDER" 2>/dev/null; do
    sleep 10
    kill -0 "$SENDER" 2>/dev/null || break
    echo "t=$(($(date +%s) - START))s roo RSS $(rss "$WORKER")"
done
wait "$SENDER" && status=0 || status=$?
echo "sender (exit $status): $(tail -n 1 "$LOGS/send.log")"
echo "roo RSS after the sender: $(rss "$WORKER")"

kill -INT "$WORKER"
for _ in $(seq 600); do kill -0 "$WORKER" 2>/dev/null || break; sleep 0.1; done
wait "$WORKER" && status=0 || status=$?
echo "roo (exit $status):"
grep -E "^(total|core [0-9]+: frames|core [0-9]+: +pipeline)" "$LOGS/run.log" || tail -n 5 "$LOGS/run.log"
# The receiver stops 5 s after the last data.
for _ in $(seq 150); do kill -0 "$RECEIVER" 2>/dev/null || break; sleep 0.1; done
wait "$RECEIVER" 2>/dev/null || true
echo "receiver: $(tail -n 2 "$LOGS/receive.log" | tr '\n' ' ')"
