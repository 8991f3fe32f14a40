#!/usr/bin/env bash
# The whole test suite: every crate with Python 3.13 (own-GIL subinterpreters), the Python
# crates and the end-to-end tests again with Python 3.12 (own GIL) and 3.11 (shared GIL),
# the pytest suites (examples/tests, python/tests) through roo.testing on the release
# binary at 1 and 2 cores, mypy on the Python API's type hints, and clippy with warnings
# as errors. Ends with one line totalling the tests of every run, cargo's and pytest's.
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

# pytest, mypy and the roo package (editable) live in a venv of their own under target/,
# made again when python/pyproject.toml or this list changes.
PYENV=target/pyenv-tests
PYENV_PACKAGES="--editable python pytest mypy"
echo "== pytest: examples/tests and python/tests on target/release/roo, 1 and 2 cores ($PYENV)"
PYO3_PYTHON=$PY313 cargo build --release
if [ "$(cat "$PYENV/installed" 2>/dev/null)" != "$PYENV_PACKAGES" ] ||
  [ python/pyproject.toml -nt "$PYENV/installed" ]; then
  rm -rf "$PYENV"
  "$PY313" -m venv "$PYENV"
  # shellcheck disable=SC2086 # the list is words
  "$PYENV/bin/pip" install --quiet $PYENV_PACKAGES
  echo "$PYENV_PACKAGES" >"$PYENV/installed"
fi
ROO_BIN=target/release/roo "$PYENV/bin/pytest" --roo-cores 1,2 examples/tests python/tests 2>&1 | tee -a "$LOG"

echo "== mypy: the type hints of the roo package, and the examples and tests against them"
"$PYENV/bin/mypy" --cache-dir target/mypy-cache python/roo python/wallaroo examples python/tests

echo "== clippy"
PYO3_PYTHON=$PY313 cargo clippy --workspace --all-targets -- -D warnings

# cargo: `test result: ok. P passed; F failed; ...`; pytest: `==== F failed, P passed in 3.1s ====`.
awk '/^test result:/ { passed += $4; failed += $6 }
     /^=+ .* in [0-9.]+s/ { for (i = 2; i <= NF; i++) { if ($i ~ /^passed,?$/) passed += $(i - 1); if ($i ~ /^failed,?$/) failed += $(i - 1) } }
     END { printf "tests: %d passed, %d failed\n", passed, failed }' "$LOG"
