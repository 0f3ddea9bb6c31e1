#!/usr/bin/env bash
# Set everything up, then lint (ruff), type-check (mypy) and run the whole test suite.
# Extra arguments go to pytest, e.g. `bash scripts/test.sh -k config -x`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
echo "[test] ruff"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
echo "[test] mypy"
.venv/bin/mypy
echo "[test] pytest"
exec .venv/bin/pytest "$@"
