#!/usr/bin/env bash
# Checks and tests the Python client SDK: ruff (lint and format), mypy --strict, pytest.
#
# Uses the repository's .venv (scripts/setup makes it, with numpy and Pillow for the image
# conversions). The tests run real servers: thrift-test-server and `mosaic` from
# $CARGO_TARGET_DIR/debug (default target/debug), or $MOSAIC_THRIFT_TEST_SERVER and
# $MOSAIC_BIN. Arguments go to pytest (e.g. -k pool, -m "not slow").
set -euo pipefail

sdk="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$sdk/../.." && pwd)"
bin="$root/.venv/bin"
if [[ ! -x "$bin/python" ]]; then
    echo "test.sh: $root/.venv is missing: run scripts/setup" >&2
    exit 1
fi

if ! "$bin/python" -c "import numpy, PIL" 2>/dev/null; then
    echo "test.sh: numpy and Pillow are missing from .venv: run scripts/setup" \
        "(tests/python/requirements.txt pins them)" >&2
    exit 1
fi

cd "$sdk"
"$bin/ruff" check --no-cache .
"$bin/ruff" format --no-cache --check .
"$bin/mypy" --cache-dir "${TMPDIR:-/tmp}/mosaic-rpc-mypy-cache"
# pytest prints its summary line last.
exec "$bin/pytest" "$@"
