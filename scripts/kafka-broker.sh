#!/usr/bin/env bash
# A Kafka-compatible broker for trying roo's Kafka sources and sinks and for the tests:
# nisshi on a loopback port (installed by scripts/install-broker.sh).
#
#   scripts/kafka-broker.sh start [PORT [FILE]]    start in the background (default 9092);
#                                                  prints the broker's pid
#   scripts/kafka-broker.sh topic NAME PARTITIONS [PORT]   create a topic
#   scripts/kafka-broker.sh stop [PORT]            stop the broker started on PORT
#
# It advertises 127.0.0.1 (librdkafka may resolve localhost to ::1, where it does not
# listen). Its data lives in memory (a stopped broker forgets its topics), or with FILE
# in that SQLite file (a broker started again on it has its topics, records and offsets).
set -euo pipefail
cd "$(dirname "$0")/.."
BROKER=$(scripts/install-broker.sh)
command=${1:-}
case "$command" in
start)
  port=${2:-9092}
  storage=memory://nisshi/
  [[ -n "${3:-}" ]] && storage="sqlite:///$(realpath "$3")"
  log="target/kafka-broker-$port.log"
  mkdir -p target
  "$BROKER" broker --listener-url "tcp://127.0.0.1:$port" \
    --advertised-listener-url "tcp://127.0.0.1:$port" \
    --storage-engine "$storage" >"$log" 2>&1 &
  pid=$!
  echo "$pid" >"target/kafka-broker-$port.pid"
  for _ in $(seq 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$pid"
      exit 0
    fi
    sleep 0.1
  done
  echo "kafka-broker: nisshi did not listen on 127.0.0.1:$port within 10 s; see $log" >&2
  kill "$pid" 2>/dev/null || true
  exit 1
  ;;
topic)
  name=${2:?topic name}
  partitions=${3:?number of partitions}
  port=${4:-9092}
  "$BROKER" topic create "$name" --partitions "$partitions" --broker "tcp://127.0.0.1:$port"
  ;;
stop)
  port=${2:-9092}
  pidfile="target/kafka-broker-$port.pid"
  [[ -f "$pidfile" ]] && kill "$(cat "$pidfile")" 2>/dev/null || true
  rm -f "$pidfile"
  ;;
*)
  sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
  ;;
esac
