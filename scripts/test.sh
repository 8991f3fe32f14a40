#!/usr/bin/env bash
# The whole test suite: every crate with Python 3.13 (own-GIL subinterpreters), the Python
# crates and the end-to-end tests again with Python 3.12 (own GIL) and 3.11 (shared GIL),
# and clippy with warnings as errors. Ends with one line totalling the tests of every run.
set -euo pipefail
cd "$(dirname "$0")/.."

PY313=${PY313:-/root/.pyenv/versions/3.13.0/bin/python3.13}
PY312=${PY312:-/root/.pyenv/versions/3.12.1/bin/python3.12}
PY311=${PY311:-/root/.pyenv/versions/3.11.7/bin/python3.11}
LOG=$(mktemp)
trap 'rm -f "$LOG"' EXIT

echo "== cargo test --workspace (Python 3.13: $PY313)"
PYO3_PYTHON=$PY313 cargo test --workspace 2>&1 | tee -a "$LOG"

echo "== pybridge, engine and end-to-end tests (Python 3.12: $PY312)"
PYO3_PYTHON=$PY312 CARGO_TARGET_DIR=target/py312 cargo test -p pybridge -p engine -p roo 2>&1 | tee -a "$LOG"

echo "== pybridge, engine and end-to-end tests (Python 3.11: $PY311)"
PYO3_PYTHON=$PY311 CARGO_TARGET_DIR=target/py311 cargo test -p pybridge -p engine -p roo 2>&1 | tee -a "$LOG"

echo "== clippy"
PYO3_PYTHON=$PY313 cargo clippy --workspace --all-targets -- -D warnings

awk '/^test result:/ { passed += $4; failed += $6 } END { printf "tests: %d passed, %d failed\n", passed, failed }' "$LOG"
