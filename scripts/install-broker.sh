#!/usr/bin/env bash
# Installs the Kafka-compatible test broker (tansu, in-memory storage) under target/tools.
# The first run builds it from crates.io (several minutes); later runs find it and return.
set -euo pipefail
cd "$(dirname "$0")/.."

TANSU_VERSION=0.6.0
ROOT="$PWD/target/tools"
BIN="$ROOT/bin/tansu"

if [[ -x "$BIN" ]] && "$BIN" --version 2>/dev/null | grep -q "$TANSU_VERSION"; then
  echo "$BIN"
  exit 0
fi
echo "install-broker: building tansu $TANSU_VERSION into $ROOT (first run only)" >&2
cargo install --quiet --locked --root "$ROOT" tansu --version "$TANSU_VERSION" --features dynostore >&2
echo "$BIN"
