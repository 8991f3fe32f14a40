#!/usr/bin/env bash
# Kafka peers (issue #21): Kafka -> word count -> Kafka, Roo against Quix Streams, Faust
# (faust-streaming) and Bytewax's Kafka connectors, on one broker (nisshi, in memory, on
# this machine), the same text, the same input topic; then Roo's end-to-end latency
# through Kafka at a tenth of its 1-core rate.
#
# The word count is examples/word_count_kafka.py's: split at spaces, lowercased,
# punctuation stripped, a running count per word, one output record per word occurrence
# (value "word count", key the word). The peers are benches/kafka_peer_{quix,faust,
# bytewax}.py; each counts by the word the way its framework does (Quix: group_by through
# a repartition topic and RocksDB state; Faust: a second agent on a repartition topic and
# a Table; Bytewax: key_on + stateful_map, exchanged between workers by Bytewax itself).
#
# Each round produces the text once (one line per record, KAFKA_PARTITIONS partitions)
# and every engine reads it from the beginning (a fresh consumer group each) into a
# fresh output topic. A watcher reads the output topic as it fills (tansu's high-water
# marks are not usable, see kafka_tools.py watch), notes when the first record appears
# and when all WORDS are there, and keeps every record's timestamp (set by the engine's
# Kafka client as the engine hands the record over).
#
#   words/s = (WORDS - records stamped in the first millisecond) / (last record's
#             timestamp - first record's timestamp)
#
# i.e. processing throughput once output flows, at the engine's pace: the watcher shares
# CPU 1 with the broker and can fall seconds behind a fast engine (its own rate is
# printed per run too). The engine's start-up (imports, group join, topic creation) is
# left out, and shown apart as "start-up" (launch -> first output record read), with
# "from launch" = WORDS / (launch -> last record read). The whole output
# topic is then read back and checked against the text (every word's counts 1..n in
# order, final counts exact); a run whose output is wrong is not counted.
#
# "1 core" runs pin the engine process (every thread of it) to CPU 0 with taskset; the
# broker, the watcher, the producers and the checker are pinned to CPU 1. Roo at 2 cores
# runs on both CPUs (its core threads pinned one to each, by roo), and the broker and
# the watcher are then unpinned: they share both CPUs with roo.
#
# Producers linger 5 ms everywhere (librdkafka's default, which Quix Streams and Bytewax
# keep; Faust gets producer_linger=0.005, roo --kafka_sink_max_produce_buffer_ms 5);
# "roo 1 core, defaults" is roo with its own sink default (0 ms, Wallaroo's).
#
#   benches/kafka_peers.sh
#
# Environment: KAFKA_LINES (50000 lines of 10 words), PEER_RUNS (3), KAFKA_PARTITIONS
# (2), KAFKA_ENGINES ("roo-1 roo-2 roo-1-default bytewax quix faust"), PEER_TIMEOUT (s per
# run, 400), LATENCY_SECONDS (20), LATENCY_LOAD (0.10 of roo's 1-core rate), ROO_BIN
# (target/release/roo, built if missing), PEER_VENV (target/kafka-peers-venv),
# ROO_BASELINE (another roo binary, run as engine "roo-1-baseline" like roo-1: a build
# from before a change, measured in the same rounds).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
LINES="${KAFKA_LINES:-50000}"
RUNS="${PEER_RUNS:-3}"
PARTITIONS="${KAFKA_PARTITIONS:-2}"
ENGINES="${KAFKA_ENGINES:-roo-1 roo-2 roo-1-default bytewax quix faust}"
TIMEOUT="${PEER_TIMEOUT:-400}"
LAT_SECONDS="${LATENCY_SECONDS:-20}"
LAT_LOAD="${LATENCY_LOAD:-0.10}"
VENV="${PEER_VENV:-$ROOT/target/kafka-peers-venv}"
ROO="${ROO_BIN:-$ROOT/target/release/roo}"
ROO_BASELINE="${ROO_BASELINE:-}"
if [[ " $ENGINES " == *" roo-1-baseline "* && ! -x "$ROO_BASELINE" ]]; then
    echo "engine roo-1-baseline needs ROO_BASELINE, a roo binary" >&2
    exit 2
fi
WORK="$ROOT/target/kafka-peers"
TOOLS="$ROOT/benches/kafka_tools.py"
APP="$ROOT/examples/word_count_kafka.py"
STAMPED="$ROOT/benches/kafka_stamped.py"
mkdir -p "$WORK"

# Pinned versions (what pip resolved together on Python 3.12 on 2026-12-06).
PEER_PACKAGES=(bytewax==0.21.1 quixstreams==3.28.1 faust-streaming==0.15.3 confluent-kafka==2.12.2)

PIDS=()
PORT=""
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${PIDS[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    if [[ -n "$PORT" ]]; then
        scripts/kafka-broker.sh stop "$PORT" || true
    fi
}
trap cleanup EXIT

if (($(nproc) >= 2)); then
    ENGINE_CPU=(taskset -c 0)
    AUX=(taskset -c 1)
else
    ENGINE_CPU=()
    AUX=()
fi

# --- roo ---------------------------------------------------------------------------
if [[ ! -x "$ROO" ]]; then
    echo "building roo (cargo build --release)" >&2
    PYO3_PYTHON="${PYO3_PYTHON:-/root/.pyenv/versions/3.13.0/bin/python3.13}" \
        cargo build --release --bin roo >&2
fi

# --- the peers' venv ----------------------------------------------------------------
# One interpreter for every peer: the newest Python for which pip finds binary wheels of
# all of them (bytewax 0.21.1 has none for 3.13).
if ! "$VENV/bin/python" -c "import bytewax, quixstreams, faust, confluent_kafka" 2>/dev/null; then
    chosen=""
    for py in /root/.pyenv/versions/3.13.*/bin/python3.13 \
        /root/.pyenv/versions/3.12.*/bin/python3.12 \
        /root/.pyenv/versions/3.11.*/bin/python3.11; do
        [[ -x "$py" ]] || continue
        probe="$(mktemp -d)"
        if "$py" -m pip download --quiet --no-deps --only-binary=:all: -d "$probe" \
            "${PEER_PACKAGES[@]}" >/dev/null 2>&1; then
            chosen="$py"
            rm -rf "$probe"
            break
        fi
        rm -rf "$probe"
        echo "no wheels of every peer for $("$py" -V 2>&1); trying an older Python" >&2
    done
    [[ -n "$chosen" ]] || { echo "no Python with wheels of every peer" >&2; exit 1; }
    rm -rf "$VENV"
    "$chosen" -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --only-binary=:all: "${PEER_PACKAGES[@]}" >&2
fi
PY="$VENV/bin/python"
version() { "$PY" -c "import importlib.metadata as m; print(m.version('$1'))"; }

# --- helpers ------------------------------------------------------------------------
field() { # field NAME "a=1 b=2"
    tr ' ' '\n' <<<"$2" | sed -n "s/^$1=//p"
}
stats() { # "median min max" of the numbers given
    printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { printf "%.0f %.0f %.0f\n", v[int((NR + 1) / 2)], v[1], v[NR] }'
}
stats2() { # the same with two decimals
    printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { printf "%.2f %.2f %.2f\n", v[int((NR + 1) / 2)], v[1], v[NR] }'
}
free_port() {
    "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
cpu_seconds() { # user+system CPU time of a live process (every thread), in seconds
    awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f\n", ($14 + $15) / hz }' "/proc/$1/stat" 2>/dev/null || echo 0
}
forget_pid() { # drops $1 from PIDS
    local kept=() pid
    for pid in "${PIDS[@]}"; do
        [[ "$pid" == "$1" ]] || kept+=("$pid")
    done
    PIDS=("${kept[@]}")
}
stop_process() { # SIGTERM, up to 15 s to exit, then SIGKILL
    local pid="$1"
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 150); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    forget_pid "$pid"
}

# --- broker, text -------------------------------------------------------------------
PORT="$(free_port)"
BROKER_PID="$(scripts/kafka-broker.sh start "$PORT")"
BROKERS="127.0.0.1:$PORT"
spread_broker() { # spread_broker CPUS: the broker's threads may run on CPUS
    if ((${#AUX[@]})); then
        taskset -a -p -c "$1" "$BROKER_PID" >/dev/null
    fi
}
spread_broker 1
BROKER_VERSION="$("$(scripts/install-broker.sh)" --version 2>/dev/null || echo nisshi)"

TEXT="$WORK/text-$LINES.txt"
[[ -s "$TEXT" ]] || "$PY" "$TOOLS" text "$TEXT" "$LINES"
expect="$("$PY" "$TOOLS" expect "$TEXT")"
WORDS="$(field words "$expect")"
DISTINCT="$(field distinct "$expect")"
echo "text: $LINES lines, $WORDS words, $DISTINCT distinct; broker $BROKER_VERSION on $BROKERS" >&2

# --- one run ------------------------------------------------------------------------
declare -A RATE START LAUNCH CPU FAILED
ENGINE_PID=""

launch() { # launch ENGINE ROUND IN OUT LOG: starts the engine, sets ENGINE_PID
    local engine="$1" round="$2" in="$3" out="$4" log="$5" group="bench-$1-$2-$RANDOM"
    local roo_common=(--kafka-option session.timeout.ms=6000 --kafka-option "group.id=$group")
    local app_args=(--kafka_source_topic "$in" --kafka_source_brokers "$BROKERS"
        --kafka_sink_topic "$out" --kafka_sink_brokers "$BROKERS")
    case "$engine" in
    roo-1 | roo-1-baseline)
        local roo="$ROO"
        [[ "$engine" == roo-1-baseline ]] && roo="$ROO_BASELINE"
        "${ENGINE_CPU[@]}" "$roo" run --cores 1 "${roo_common[@]}" "$APP" "${app_args[@]}" \
            --kafka_sink_max_produce_buffer_ms 5 >"$log" 2>&1 &
        ;;
    roo-1-default)
        "${ENGINE_CPU[@]}" "$ROO" run --cores 1 "${roo_common[@]}" "$APP" "${app_args[@]}" >"$log" 2>&1 &
        ;;
    roo-2)
        "$ROO" run --cores 2 "${roo_common[@]}" "$APP" "${app_args[@]}" \
            --kafka_sink_max_produce_buffer_ms 5 >"$log" 2>&1 &
        ;;
    quix)
        rm -rf "$WORK/quix-state"
        "${ENGINE_CPU[@]}" "$PY" "$ROOT/benches/kafka_peer_quix.py" "$BROKERS" "$in" "$out" \
            "$group" "$WORK/quix-state" >"$log" 2>&1 &
        ;;
    faust)
        rm -rf "$WORK/faust-data"
        "${ENGINE_CPU[@]}" "$PY" "$ROOT/benches/kafka_peer_faust.py" "$BROKERS" "$in" "$out" \
            "$group" "$PARTITIONS" "$WORK/faust-data" >"$log" 2>&1 &
        ;;
    bytewax)
        "${ENGINE_CPU[@]}" "$PY" "$ROOT/benches/kafka_peer_bytewax.py" "$BROKERS" "$in" "$out" 1 \
            >"$log" 2>&1 &
        ;;
    *)
        echo "unknown engine $engine" >&2
        exit 2
        ;;
    esac
    ENGINE_PID=$!
    PIDS+=("$ENGINE_PID")
}

run_once() { # run_once ENGINE ROUND INPUT_TOPIC: appends to RATE/START/LAUNCH/CPU or FAILED
    local engine="$1" round="$2" in="$3"
    local out="counts-$round-$engine" log="$WORK/$engine-$round.log" wlog="$WORK/watch.out"
    local t0 watch_pid rc=0 cpu out_line first end checked watch_cpu=("${AUX[@]}")
    "${AUX[@]}" "$PY" "$TOOLS" topics "$BROKERS" "$PARTITIONS" "$out"
    if [[ "$engine" == roo-2 ]]; then
        # Every CPU is roo's: the broker and the watcher go where the scheduler puts them.
        spread_broker 0-1
        watch_cpu=()
    fi
    "${watch_cpu[@]}" "$PY" "$TOOLS" watch "$BROKERS" "$out" "$WORDS" "$TIMEOUT" >"$wlog" 2>&1 &
    watch_pid=$!
    PIDS+=("$watch_pid")
    t0="$(date +%s.%N)"
    launch "$engine" "$round" "$in" "$out" "$log"
    while kill -0 "$watch_pid" 2>/dev/null; do
        if ! kill -0 "$ENGINE_PID" 2>/dev/null; then
            break
        fi
        sleep 0.1
    done
    if kill -0 "$watch_pid" 2>/dev/null; then
        # The engine exited before its output was complete.
        stop_process "$watch_pid"
        wait "$ENGINE_PID" 2>/dev/null || true
        forget_pid "$ENGINE_PID"
        spread_broker 1
        FAILED[$engine]+="round $round: exited before writing $WORDS records: $(tail -3 "$log" | tr '\n' ' ') | "
        echo "  $engine: FAILED (exited early; $log)" >&2
        return
    fi
    wait "$watch_pid" || rc=$?
    forget_pid "$watch_pid"
    cpu="$(cpu_seconds "$ENGINE_PID")"
    stop_process "$ENGINE_PID"
    spread_broker 1
    out_line="$(cat "$wlog")"
    if ((rc != 0)); then
        FAILED[$engine]+="round $round: $out_line | "
        echo "  $engine: FAILED ($out_line)" >&2
        return
    fi
    if ! checked="$("${AUX[@]}" "$PY" "$TOOLS" check "$BROKERS" "$out" "$TEXT" 2>&1)"; then
        FAILED[$engine]+="round $round: wrong output: $checked | "
        echo "  $engine: WRONG OUTPUT ($checked)" >&2
        return
    fi
    first="$(field first "$out_line")"
    end="$(field end "$out_line")"
    local rate read_rate
    rate="$(awk -v w="$WORDS" -v c="$(field stamped_first_count "$out_line")" \
        -v a="$(field stamped_first "$out_line")" -v b="$(field stamped_end "$out_line")" \
        'BEGIN { printf "%.1f", (b > a) ? (w - c) / (b - a) : 0 }')"
    read_rate="$(awk -v w="$WORDS" -v c="$(field first_count "$out_line")" -v a="$first" -v b="$end" \
        'BEGIN { printf "%.0f", (b > a) ? (w - c) / (b - a) : 0 }')"
    RATE[$engine]+="$rate "
    START[$engine]+="$(awk -v a="$t0" -v b="$first" 'BEGIN { printf "%.2f", b - a }') "
    LAUNCH[$engine]+="$(awk -v w="$WORDS" -v a="$t0" -v b="$end" 'BEGIN { printf "%.1f", w / (b - a) }') "
    CPU[$engine]+="$cpu "
    echo "  $engine: ${rate%.*} words/s (as the watcher read them: $read_rate), start-up $(awk -v a="$t0" -v b="$first" \
        'BEGIN { printf "%.2f", b - a }') s, CPU $cpu s; $checked" >&2
    # The topics of this run are no longer needed; the broker keeps them in memory.
    rm -rf "$WORK/quix-state" "$WORK/faust-data"
}

# --- throughput rounds --------------------------------------------------------------
for round in $(seq "$RUNS"); do
    in="lines-$round"
    "${AUX[@]}" "$PY" "$TOOLS" topics "$BROKERS" "$PARTITIONS" "$in"
    produced="$("${AUX[@]}" "$PY" "$TOOLS" produce "$BROKERS" "$in" "$TEXT")"
    echo "round $round: $(field records "$produced") records in $in ($(field seconds "$produced") s)" >&2
    for engine in $ENGINES; do
        run_once "$engine" "$round" "$in"
    done
done

# --- latency ------------------------------------------------------------------------
# Paced producer -> topic -> roo (1 core, pinned) -> topic -> receiver; the producer and
# the receiver on CPU 1 with the broker. The same producer -> topic -> receiver without
# roo first: one pass through the broker, the floor (roo's path has two).
declare -A LAT
lat_rate=""
if [[ -n "${RATE[roo-1]:-}" ]]; then
    read -r roo1 _ _ <<<"$(stats ${RATE[roo-1]})"
    lat_rate="$(awk -v r="$roo1" -v w="$WORDS" -v l="$LINES" -v f="$LAT_LOAD" \
        'BEGIN { printf "%.0f", r / (w / l) * f }')"
fi

latency_run() { # latency_run KEY [roo options...]: "" for the broker alone
    local key="$1" in="stamped-$1" out="stamped-$1-out" log="$WORK/latency-$1.log" rpid="" lpid
    shift
    "${AUX[@]}" "$PY" "$TOOLS" topics "$BROKERS" "$PARTITIONS" "$in" "$out"
    if [[ "$key" != floor ]]; then
        "${ENGINE_CPU[@]}" "$ROO" run --cores 1 --kafka-option session.timeout.ms=6000 \
            --kafka-option "group.id=latency-$key-$RANDOM" "$@" "$STAMPED" \
            --kafka_source_topic "$in" --kafka_source_brokers "$BROKERS" \
            --kafka_sink_topic "$out" --kafka_sink_brokers "$BROKERS" >"$log" 2>&1 &
        rpid=$!
        PIDS+=("$rpid")
        for _ in $(seq 300); do
            grep -q "assigned partitions" "$log" && break
            kill -0 "$rpid" 2>/dev/null || break
            sleep 0.1
        done
        grep -q "assigned partitions" "$log" || { echo "latency: roo did not join its group: $(tail -3 "$log")" >&2; LAT[$key]="failed"; stop_process "$rpid"; return; }
    else
        out="$in"
    fi
    "${AUX[@]}" "$PY" "$TOOLS" latency "$BROKERS" "$out" "$((LAT_SECONDS + 30))" 3 >"$WORK/latency-$key.out" 2>&1 &
    lpid=$!
    PIDS+=("$lpid")
    sleep 1
    "${AUX[@]}" "$PY" "$TOOLS" paced "$BROKERS" "$in" "$TEXT" "$lat_rate" "$LAT_SECONDS" >"$WORK/paced-$key.out"
    wait "$lpid" || true
    forget_pid "$lpid"
    if [[ -n "$rpid" ]]; then stop_process "$rpid"; fi
    LAT[$key]="$(cat "$WORK/latency-$key.out")"
    echo "  latency $key: ${LAT[$key]} ($(cat "$WORK/paced-$key.out"))" >&2
}

if [[ -n "$lat_rate" ]]; then
    echo "latency: $lat_rate records/s (${LAT_LOAD} of roo's 1-core $roo1 words/s, $((WORDS / LINES)) words a record), $LAT_SECONDS s" >&2
    latency_run floor
    latency_run roo-default
    latency_run roo-fetch10 --kafka-option fetch.wait.max.ms=10
fi

# --- report -------------------------------------------------------------------------
echo
echo "Kafka word count, $LINES records of 10 words ($WORDS words, $DISTINCT distinct), $PARTITIONS partitions,"
echo "median of $RUNS runs (min-max); broker $BROKER_VERSION on the same machine ($(nproc) CPUs)"
echo "roo $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?') on $(/root/.pyenv/versions/3.13.0/bin/python3.13 -V 2>&1); peers on $("$PY" -V 2>&1):" \
    "quixstreams $(version quixstreams), faust-streaming $(version faust-streaming)" \
    "(aiokafka $(version aiokafka)), bytewax $(version bytewax), confluent-kafka $(version confluent-kafka)"
printf '%-36s %10s %19s %9s %12s %9s\n' "engine" "words/s" "(min-max)" "start-up" "from launch" "CPU us/w"
declare -A MEDIAN
label() {
    case "$1" in
    roo-1) echo "roo, 1 core" ;;
    roo-2) echo "roo, 2 cores" ;;
    roo-1-default) echo "roo, 1 core, sink linger 0 (default)" ;;
    roo-1-baseline) echo "roo, 1 core, ROO_BASELINE" ;;
    quix) echo "Quix Streams (1 CPU)" ;;
    faust) echo "Faust (1 CPU)" ;;
    bytewax) echo "Bytewax, 1 worker (1 CPU)" ;;
    *) echo "$1" ;;
    esac
}
for engine in $ENGINES; do
    if [[ -z "${RATE[$engine]:-}" ]]; then
        printf '%-36s %10s\n' "$(label "$engine")" "failed"
        continue
    fi
    read -r m lo hi <<<"$(stats ${RATE[$engine]})"
    read -r s _ _ <<<"$(stats2 ${START[$engine]})"
    read -r l _ _ <<<"$(stats ${LAUNCH[$engine]})"
    read -r c _ _ <<<"$(stats2 ${CPU[$engine]})"
    MEDIAN[$engine]="$m"
    printf '%-36s %10s %19s %8ss %12s %9s\n' "$(label "$engine")" "$m" "($lo-$hi)" "$s" "$l" \
        "$(awk -v c="$c" -v w="$WORDS" 'BEGIN { printf "%.1f", c * 1e6 / w }')"
done
echo "(words/s from the first output record's timestamp to the last's; start-up: launch -> first"
echo " output record read; from launch: all words / (launch -> last record read); CPU: the engine process's CPU time,"
echo " start-up included, per word)"
echo
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
fastest=""
fastest_rate=0
for engine in quix faust bytewax; do
    m="${MEDIAN[$engine]:-}"
    [[ -n "$m" ]] || continue
    if awk -v a="$m" -v b="$fastest_rate" 'BEGIN { exit !(a > b) }'; then
        fastest="$engine"
        fastest_rate="$m"
    fi
done
if [[ -n "$fastest" && -n "${MEDIAN[roo-1]:-}" ]]; then
    r="$(ratio "${MEDIAN[roo-1]}" "$fastest_rate")"
    echo "roo 1 core / fastest peer ($(label "$fastest")): ${r}x, target >= 5x: $(awk -v r="$r" 'BEGIN { print (r >= 5) ? "met" : "MISSED" }')"
    if [[ -n "${MEDIAN[roo-1-baseline]:-}" ]]; then
        echo "roo 1 core / ROO_BASELINE 1 core: $(ratio "${MEDIAN[roo-1]}" "${MEDIAN[roo-1-baseline]}")x"
    fi
    if [[ -n "${MEDIAN[roo-1-default]:-}" ]]; then
        echo "roo 1 core, sink linger 0 / fastest peer: $(ratio "${MEDIAN[roo-1-default]}" "$fastest_rate")x"
    fi
fi
if [[ -n "${MEDIAN[roo-2]:-}" && -n "${MEDIAN[roo-1]:-}" ]]; then
    r="$(ratio "${MEDIAN[roo-2]}" "${MEDIAN[roo-1]}")"
    echo "roo 2 cores / roo 1 core: ${r}x, target >= 1.8x: $(awk -v r="$r" 'BEGIN { print (r >= 1.8) ? "met" : "MISSED" }')"
fi
if [[ -n "$lat_rate" ]]; then
    echo
    echo "latency through Kafka at $lat_rate records/s (${LAT_LOAD} of roo's 1-core rate), $LAT_SECONDS s, first 3 s left out:"
    for key in floor roo-default roo-fetch10; do
        v="${LAT[$key]:-}"
        case "$key" in
        floor) name="producer -> broker -> receiver (no roo)" ;;
        roo-default) name="roo 1 core, librdkafka defaults" ;;
        roo-fetch10) name="roo 1 core, fetch.wait.max.ms=10" ;;
        esac
        if [[ -z "$v" || "$v" == failed ]]; then
            printf '  %-44s failed\n' "$name"
        else
            printf '  %-44s p50 %8.1f ms  p99 %8.1f ms  p99.9 %8.1f ms  (%s records)\n' "$name" \
                "$(awk -v u="$(field p50_us "$v")" 'BEGIN { print u / 1000 }')" \
                "$(awk -v u="$(field p99_us "$v")" 'BEGIN { print u / 1000 }')" \
                "$(awk -v u="$(field p999_us "$v")" 'BEGIN { print u / 1000 }')" \
                "$(field measured "$v")"
        fi
    done
    echo "  (sender and receiver: linger 1 ms, fetch.wait.max.ms 10; roo's sink linger 0, its default)"
fi
status=0
for engine in "${!FAILED[@]}"; do
    echo "FAILED $(label "$engine"): ${FAILED[$engine]}"
    status=1
done
exit "$status"
