#!/usr/bin/env bash
# Runs the Wallaroo announcement's word count on every core: a receiver, `roo run`, and
# `roo send` with a sample text, all on loopback; prints the final count of each word.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
ROO=target/release/roo
INPUT=${1:-examples/data/sample.txt}
IN_PORT=${IN_PORT:-7010}
OUT_PORT=${OUT_PORT:-7002}
OUT=$(mktemp)
trap 'kill $RECEIVER $WORKER 2>/dev/null || true; rm -f "$OUT"' EXIT

$ROO receive --listen 127.0.0.1:$OUT_PORT --out "$OUT" --idle-exit 2 --quiet &
RECEIVER=$!
$ROO run --exit-when-idle examples/word_count.py --in 127.0.0.1:$IN_PORT --out 127.0.0.1:$OUT_PORT &
WORKER=$!
$ROO send --to 127.0.0.1:$IN_PORT --file "$INPUT" --quiet
wait $WORKER
wait $RECEIVER || true
echo "final counts (word => count):"
# Each word's last line carries its total.
awk -F' => ' '{ if ($2 > total[$1]) total[$1] = $2 } END { for (w in total) print w " => " total[w] }' "$OUT" | sort
