#!/usr/bin/env bash
# Installs the Kafka-compatible test broker (nisshi, tansu's successor, with in-memory
# and SQLite storage and transactions) under target/tools and prints its path. The
# first run builds it from crates.io (about 15 minutes); later runs find it and return.
set -euo pipefail
cd "$(dirname "$0")/.."

# 0.7.0: 0.8 refuses transactional producers. Its locked dependencies ask for a newer
# rustc than some machines have; they build with this one (hence --ignore-rust-version).
NISSHI_VERSION=0.7.0
# dynostore: memory:// storage; libsql: sqlite:// files, which outlive a broker restart.
NISSHI_FEATURES=dynostore,libsql
ROOT="$PWD/target/tools/nisshi-$NISSHI_VERSION-${NISSHI_FEATURES//,/-}"
BIN="$ROOT/bin/nisshi"

if [[ -x "$BIN" ]] && "$BIN" --version 2>/dev/null | grep -q "$NISSHI_VERSION"; then
  echo "$BIN"
  exit 0
fi
echo "install-broker: building nisshi $NISSHI_VERSION into $ROOT (first run only)" >&2
cargo install --quiet --locked --ignore-rust-version --root "$ROOT" nisshi \
  --version "$NISSHI_VERSION" --no-default-features --features "$NISSHI_FEATURES" >&2
echo "$BIN"
