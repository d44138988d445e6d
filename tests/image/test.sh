#!/usr/bin/env bash
# Checks and runs the image service's correctness and bad-input suite: ruff (lint and
# format), mypy --strict, pytest against a real `mosaic serve image`.
#
# Uses the repository's .venv (scripts/setup, then
# `.venv/bin/pip install -r tests/image/requirements.txt` for the reference libraries).
# The server binary is $MOSAIC_BIN, else $CARGO_TARGET_DIR/debug/mosaic, else
# target/debug/mosaic (`cargo build -p mosaic-cli`). Arguments go to pytest (e.g. -k blur).
set -euo pipefail

suite="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$suite/../.." && pwd)"
bin="$root/.venv/bin"
if [[ ! -x "$bin/python" ]]; then
    echo "test.sh: $root/.venv is missing: run scripts/setup" >&2
    exit 1
fi
if ! "$bin/python" -c "import numpy, PIL, cv2, skimage, scipy" 2>/dev/null; then
    echo "test.sh: reference packages are missing from .venv:" \
        "$bin/pip install -r tests/image/requirements.txt" >&2
    exit 1
fi

cd "$suite"
"$bin/ruff" check --no-cache .
"$bin/ruff" format --no-cache --check .
"$bin/mypy" --cache-dir "${TMPDIR:-/tmp}/mosaic-image-tests-mypy-cache"
# pytest prints its summary line last.
exec "$bin/pytest" "$@"
