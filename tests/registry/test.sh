#!/usr/bin/env bash
# Checks and runs the discovery system tests: ruff (lint and format), mypy --strict, pytest
# against a real `mosaic registry` and `mosaic serve image --registry` processes.
#
# Uses the repository's .venv (scripts/setup). The binary is $MOSAIC_BIN, else
# $CARGO_TARGET_DIR/debug/mosaic, else target/debug/mosaic (`cargo build -p mosaic-cli`).
# Arguments go to pytest (e.g. -k kill).
set -euo pipefail

suite="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$suite/../.." && pwd)"
bin="$root/.venv/bin"
if [[ ! -x "$bin/python" ]]; then
    echo "test.sh: $root/.venv is missing: run scripts/setup" >&2
    exit 1
fi

cd "$suite"
"$bin/ruff" check --no-cache .
"$bin/ruff" format --no-cache --check .
"$bin/mypy" --cache-dir "${TMPDIR:-/tmp}/mosaic-registry-tests-mypy-cache"
# pytest prints its summary line last.
exec "$bin/pytest" "$@"
