#!/usr/bin/env bash
# Peer comparison: Roo's word count against the same word count as a Bytewax dataflow.
#
# Same text (a deterministic Zipf text generated here), same user logic (the classes of
# examples/word_count.py; Bytewax runs them through benches/bytewax_word_count.py).
# Bytewax runs at 1 worker, at N workers as threads of one process (`-w N`) and as N
# processes (`-i/-a`, via cli_main); Roo at 1 core and N cores (N: every CPU). Throughput
# in words/s, median of PEER_RUNS runs (min and max shown), then Roo/Bytewax ratios of
# this run.
#
# Timing: Bytewax from the first source read to the last sink write (measured inside the
# dataflow: no interpreter start-up, imports or venv); Roo from the start of `roo send`
# to `roo receive` having every output line (roo run already started and ready), as
# benches/word_count.rs does.
#
#   benches/peer_bytewax.sh            (or: cargo bench --bench peer)
#
# Environment: PEER_LINES (100000 lines of 10 words), PEER_RUNS (3), PEER_CORES ("1 N"),
# ROO_BIN (default target/release/roo, built if missing), PEER_VENV (target/bytewax-venv).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
LINES="${PEER_LINES:-100000}"
RUNS="${PEER_RUNS:-3}"
CPUS="$(nproc)"
CORES="${PEER_CORES:-1 $CPUS}"
VENV="${PEER_VENV:-$ROOT/target/bytewax-venv}"
ROO_PYTHON=/root/.pyenv/versions/3.13.0/bin/python3.13
WORK="$ROOT/target/peer-bench"
APP="$ROOT/examples/word_count.py"
mkdir -p "$WORK"

PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
}
trap cleanup EXIT

# --- roo ---------------------------------------------------------------------------
ROO="${ROO_BIN:-$ROOT/target/release/roo}"
if [[ ! -x "$ROO" ]]; then
    echo "building roo (cargo build --release)" >&2
    cargo build --release --bin roo >&2
fi

# --- bytewax venv -------------------------------------------------------------------
# Python 3.13 first; bytewax publishes no 3.13 wheel (its newest is 0.21.1, up to 3.12),
# so the first Python for which pip finds a binary wheel is used.
if ! "$VENV/bin/python" -c "import bytewax" 2>/dev/null; then
    chosen=""
    for py in /root/.pyenv/versions/3.13.0/bin/python3.13 \
        /root/.pyenv/versions/3.12.*/bin/python3.12 \
        /root/.pyenv/versions/3.11.*/bin/python3.11; do
        [[ -x "$py" ]] || continue
        probe="$(mktemp -d)"
        if "$py" -m pip download --quiet --no-deps --only-binary=:all: -d "$probe" bytewax \
            >/dev/null 2>&1; then
            chosen="$py"
            rm -rf "$probe"
            break
        fi
        rm -rf "$probe"
        echo "no bytewax wheel for $("$py" -V 2>&1); trying an older Python" >&2
    done
    [[ -n "$chosen" ]] || { echo "no Python with a bytewax wheel" >&2; exit 1; }
    rm -rf "$VENV"
    "$chosen" -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --only-binary=:all: bytewax >&2
fi
BW_PY="$VENV/bin/python"
BW_VERSION="$("$BW_PY" -c 'import importlib.metadata as m; print(m.version("bytewax"))')"

# --- the text -----------------------------------------------------------------------
# LINES lines of 10 words drawn with Zipf's law (s = 1) from 5000 made-up words of 2-9
# letters, 10% of them followed by a comma; fixed seed, so the same text every time.
TEXT="$WORK/text-$LINES.txt"
if [[ ! -s "$TEXT" ]]; then
    "$ROO_PYTHON" - "$TEXT" "$LINES" <<'EOF'
import random
import sys

path, lines = sys.argv[1], int(sys.argv[2])
rng = random.Random(20240501)
letters = "abcdefghijklmnopqrstuvwxyz"
vocabulary = ["".join(rng.choice(letters) for _ in range(rng.randint(2, 9))) for _ in range(5000)]
cumulative = []
total = 0.0
for rank in range(1, len(vocabulary) + 1):
    total += 1.0 / rank
    cumulative.append(total)
with open(path + ".tmp", "w") as f:
    for _ in range(lines):
        words = rng.choices(vocabulary, cum_weights=cumulative, k=10)
        f.write(" ".join(w + "," if rng.random() < 0.1 else w for w in words) + "\n")
import os

os.replace(path + ".tmp", path)
EOF
fi

# --- helpers ------------------------------------------------------------------------
free_port() {
    "$ROO_PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

field() { # field NAME "words=1 seconds=2"
    tr ' ' '\n' <<<"$2" | sed -n "s/^$1=//p"
}

# Prints "median min max" of the numbers given.
stats() {
    printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { printf "%.0f %.0f %.0f\n", v[int((NR + 1) / 2)], v[1], v[NR] }'
}

# bytewax_once PROCESSES WORKERS -> words/s
bytewax_once() {
    local out words seconds
    out="$("$BW_PY" "$ROOT/benches/bytewax_word_count.py" "$APP" "$TEXT" \
        --processes "$1" --workers "$2" 2>"$WORK/bytewax.log")" || {
        cat "$WORK/bytewax.log" >&2
        exit 1
    }
    words="$(field words "$out")"
    seconds="$(field seconds "$out")"
    if [[ "$words" != "$WORDS" ]]; then
        echo "bytewax counted $words words, expected $WORDS" >&2
        exit 1
    fi
    awk -v w="$words" -v s="$seconds" 'BEGIN { printf "%.1f\n", w / s }'
}

# bare_once PYTHON -> words/s of the bare Python loop (benches/bare_word_count.py)
bare_once() {
    local out
    out="$("$1" "$ROOT/benches/bare_word_count.py" "$APP" "$TEXT")"
    awk -v w="$(field words "$out")" -v s="$(field seconds "$out")" 'BEGIN { printf "%.1f\n", w / s }'
}

# roo_once CORES -> words/s
roo_once() {
    local cores="$1" in_port out_port rpid wpid t0 t1 connections log="$WORK/roo-run.log"
    trap cleanup EXIT # (this runs in a subshell: stop its own processes on failure)
    in_port="$(free_port)"
    out_port="$(free_port)"
    "$ROO" receive --listen "127.0.0.1:$out_port" --expect "$WORDS" --timeout 600 --quiet \
        2>"$WORK/roo-receive.log" &
    rpid=$!
    PIDS+=("$rpid")
    "$ROO" run --cores "$cores" --exit-when-idle "$APP" \
        --in "127.0.0.1:$in_port" --out "127.0.0.1:$out_port" 2>"$log" &
    wpid=$!
    PIDS+=("$wpid")
    for _ in $(seq 1200); do
        grep -q "roo: ready" "$log" && break
        kill -0 "$wpid" 2>/dev/null || { cat "$log" >&2; exit 1; }
        sleep 0.05
    done
    grep -q "roo: ready" "$log" || { echo "roo run not ready in 60 s" >&2; exit 1; }
    connections=$((cores > 2 ? cores : 2))
    t0="$(date +%s.%N)"
    "$ROO" send --to "127.0.0.1:$in_port" --connections "$connections" --quiet \
        --file "$TEXT" 2>/dev/null
    if ! wait "$rpid"; then
        echo "roo receive did not get all $WORDS lines:" >&2
        cat "$WORK/roo-receive.log" "$log" >&2
        exit 1
    fi
    t1="$(date +%s.%N)"
    wait "$wpid" || { echo "roo run failed:" >&2; cat "$log" >&2; exit 1; }
    awk -v w="$WORDS" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f\n", w / (b - a) }'
}

# --- runs (interleaved, so drift hits every system alike) ----------------------------
# The number of words (= output lines) the bare loop of the app's own functions counts:
# what the roo receiver waits for and what the bytewax sink must count.
WORDS="$(field words "$("$ROO_PYTHON" "$ROOT/benches/bare_word_count.py" "$APP" "$TEXT")")"
declare -A RESULTS
for run in $(seq "$RUNS"); do
    for n in $CORES; do
        RESULTS["bytewax-p1-w$n"]+="$(bytewax_once 1 "$n") "
        if ((n > 1)); then
            RESULTS["bytewax-p$n-w1"]+="$(bytewax_once "$n" 1) "
        fi
        RESULTS["roo-$n"]+="$(roo_once "$n") "
    done
    RESULTS[bare-roo-python]+="$(bare_once "$ROO_PYTHON") "
    RESULTS[bare-bytewax-python]+="$(bare_once "$BW_PY") "
done

# --- report -------------------------------------------------------------------------
read -r -a one <<<"$CORES"
echo
echo "word count, $LINES lines, $WORDS words, $CPUS CPUs, median of $RUNS runs (min-max)"
echo "bytewax $BW_VERSION on $("$BW_PY" -V 2>&1); roo on $("$ROO_PYTHON" -V 2>&1) (subinterpreters)"
printf '%-44s %12s %25s\n' "system" "words/s" "(min-max)"
declare -A MEDIAN
row() { # row KEY LABEL
    local m lo hi
    read -r m lo hi <<<"$(stats ${RESULTS[$1]})"
    MEDIAN[$1]="$m"
    printf '%-44s %12s %25s\n' "$2" "$m" "($lo-$hi)"
}
row bare-roo-python "bare Python loop, $("$ROO_PYTHON" -V 2>&1) (no engine)"
row bare-bytewax-python "bare Python loop, $("$BW_PY" -V 2>&1) (no engine)"
for n in $CORES; do
    if ((n == 1)); then
        row "bytewax-p1-w1" "bytewax, 1 worker"
    else
        row "bytewax-p1-w$n" "bytewax, $n workers (threads, 1 process, -w)"
        row "bytewax-p$n-w1" "bytewax, $n processes x 1 worker (-i/-a)"
    fi
done
for n in $CORES; do
    row "roo-$n" "roo, $n core(s)"
done
echo
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
ratio_line() { printf '%-44s %7sx\n' "$1" "$(ratio "$2" "$3")"; }
bw1="${MEDIAN[bytewax-p1-w1]}"
for n in $CORES; do
    if ((n == 1)); then
        ratio_line "roo 1 core / bytewax 1 worker" "${MEDIAN[roo-1]}" "$bw1"
    else
        ratio_line "roo $n cores / bytewax $n worker threads" "${MEDIAN[roo-$n]}" "${MEDIAN[bytewax-p1-w$n]}"
        ratio_line "roo $n cores / bytewax $n processes" "${MEDIAN[roo-$n]}" "${MEDIAN[bytewax-p$n-w1]}"
        ratio_line "roo $n cores / bytewax 1 worker" "${MEDIAN[roo-$n]}" "$bw1"
    fi
done
if [[ -n "${MEDIAN[roo-1]:-}" ]]; then
    r="$(ratio "${MEDIAN[roo-1]}" "$bw1")"
    verdict="$(awk -v r="$r" 'BEGIN { print (r >= 1.5) ? "met" : "MISSED" }')"
    echo "target: roo (1 core) >= 1.5x bytewax single-worker throughput: ${r}x, $verdict"
fi
