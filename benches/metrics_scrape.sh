#!/usr/bin/env bash
# What scraping /metrics every second costs the word count: rounds of two runs of the
# release binary at 2 cores with --metrics-listen, one scraped every second by curl and
# one not, their order swapped every round (this VM's speed drifts within minutes), and
# the median over rounds of the scraped/unscraped throughput ratio. Then the CPU time a
# scrape itself takes: the metrics thread's CPU time over 1000 scrapes of an idle roo.
#
#   benches/metrics_scrape.sh [ROUNDS] [LINES]     (default 10 rounds of 200 000 lines)
#
# Needs `cargo build --release` first and curl.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-10}
lines=${2:-200000}
roo=target/release/roo
cores=2
work=$(mktemp -d)
children=()
cleanup() {
  for pid in "${children[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# Three distinct free loopback addresses (bound at once, so no two are the same).
addresses() {
  python3 -c '
import socket
socks = [socket.socket() for _ in range(3)]
for s in socks: s.bind(("127.0.0.1", 0))
print(" ".join(f"127.0.0.1:{s.getsockname()[1]}" for s in socks))'
}
runs=0

# One run; prints "words seconds". $1: scrape (1) or not (0); $2: outputs to expect (0:
# none, count them from roo's summary instead).
run() {
  local scrape=$1 expect=$2 in out metrics receiver worker scraper="" err
  read -r in out metrics < <(addresses)
  runs=$((runs + 1)); err=$work/roo-$runs.err
  : >"$err"
  if [ "$expect" -gt 0 ]; then
    "$roo" receive --listen "$out" --expect "$expect" --timeout 600 --quiet 2>>"$err" &
  else
    "$roo" receive --listen "$out" --quiet 2>>"$err" &
  fi
  receiver=$!; children+=("$receiver")
  "$roo" run --cores "$cores" --exit-when-idle --metrics-listen "$metrics" \
    examples/word_count.py --in "$in" --out "$out" 2>>"$err" &
  worker=$!; children+=("$worker")
  until grep -q "roo: ready" "$err" && kill -0 "$receiver" 2>/dev/null; do
    if ! kill -0 "$worker" 2>/dev/null || ! kill -0 "$receiver" 2>/dev/null; then
      # Another program took one of the ports since they were free (the machine runs
      # other tests): again, on other ports.
      grep -qi "address already in use" "$err" || { cat "$err" >&2; exit 1; }
      kill "$receiver" "$worker" 2>/dev/null || true
      wait "$receiver" "$worker" 2>/dev/null || true
      run "$scrape" "$expect"
      return
    fi
    sleep 0.1
  done
  if [ "$scrape" = 1 ]; then
    (while kill -0 "$worker" 2>/dev/null; do curl -s "http://$metrics/metrics" >/dev/null || true; sleep 1; done) &
    scraper=$!; children+=("$scraper")
  fi
  local start end
  start=$(date +%s.%N)
  "$roo" send --to "$in" --generate words -m "$lines" --connections "$cores" --quiet 2>/dev/null
  if [ "$expect" -gt 0 ]; then
    wait "$receiver"
    end=$(date +%s.%N)
    wait "$worker" || true
  else
    wait "$worker" || true
    end=$(date +%s.%N)
    kill "$receiver" 2>/dev/null || true
    expect=$(sed -n 's/^total: frames in [0-9]*, messages out \([0-9]*\),.*/\1/p' "$err")
  fi
  if [ -n "$scraper" ]; then kill "$scraper" 2>/dev/null || true; wait "$scraper" 2>/dev/null || true; fi
  wait "$receiver" 2>/dev/null || true
  echo "$expect $(echo "$end - $start" | bc -l)"
}

run 0 0 >"$work/result"
words=$(cut -d' ' -f1 "$work/result")
echo "word count, $cores cores, $lines generated lines ($words words), $rounds rounds, scraped every 1 s vs not"
ratios=()
for round in $(seq "$rounds"); do
  if [ $((round % 2)) = 1 ]; then order="0 1"; else order="1 0"; fi
  declare -A rate=()
  for scrape in $order; do
    run "$scrape" "$words" >"$work/result"
    seconds=$(cut -d' ' -f2 "$work/result")
    rate[$scrape]=$(echo "$words / $seconds" | bc -l)
  done
  ratio=$(echo "${rate[1]} / ${rate[0]}" | bc -l)
  ratios+=("$ratio")
  printf 'round %2d: not scraped %8.0f words/s, scraped %8.0f words/s, ratio %.4f\n' \
    "$round" "${rate[0]}" "${rate[1]}" "$ratio"
  unset rate
done
printf '%s\n' "${ratios[@]}" | python3 -c '
import statistics, sys
r = [float(x) for x in sys.stdin]
print(f"scraped/unscraped throughput: median {statistics.median(r):.4f} (min {min(r):.4f}, max {max(r):.4f}) over {len(r)} rounds")'

# The CPU time of the metrics thread (utime + stime of its /proc task) per scrape.
read -r in out metrics < <(addresses)
"$roo" run --cores "$cores" --metrics-listen "$metrics" examples/word_count.py \
  --in "$in" --out "$out" 2>"$work/idle.err" &
worker=$!; children+=("$worker")
for _ in $(seq 200); do grep -q "roo: ready" "$work/idle.err" && break; sleep 0.1; done
thread_ticks() {
  for task in /proc/"$worker"/task/*; do
    if [ "$(cat "$task/comm")" = roo-metrics ]; then
      awk '{ print $14 + $15 }' "$task/stat"
    fi
  done
}
scrapes=1000
before=$(thread_ticks)
for _ in $(seq $((scrapes / 100))); do
  curl -s $(for _ in $(seq 100); do printf 'http://%s/metrics ' "$metrics"; done) >/dev/null
done
after=$(thread_ticks)
hz=$(getconf CLK_TCK)
echo "one scrape: $(echo "($after - $before) * 1000000 / $hz / $scrapes" | bc -l | xargs printf '%.0f') us of CPU on the metrics thread (over $scrapes scrapes)"
