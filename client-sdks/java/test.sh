#!/usr/bin/env bash
# Builds the Java client and runs its tests against real servers: Mosaic's thrift-test-server
# and `mosaic serve image`. Build them first:
#
#   cargo build -p mosaic-cli -p mosaic-conformance --bins
#
# MOSAIC_BIN and MOSAIC_THRIFT_TEST_SERVER name the binaries; they default to
# $CARGO_TARGET_DIR/debug (else target/debug under the repository root). Maven's repository is
# .cache/m2 under the root. Extra arguments go to Maven (e.g. -Dtest=AsyncCallsTest).
set -euo pipefail

sdk="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$sdk/../.." && pwd)"
bin_dir="${CARGO_TARGET_DIR:-$root/target}/debug"
export MOSAIC_BIN="${MOSAIC_BIN:-$bin_dir/mosaic}"
export MOSAIC_THRIFT_TEST_SERVER="${MOSAIC_THRIFT_TEST_SERVER:-$bin_dir/thrift-test-server}"
for binary in "$MOSAIC_BIN" "$MOSAIC_THRIFT_TEST_SERVER"; do
    if [[ ! -x "$binary" ]]; then
        echo "test.sh: $binary not found: run \`cargo build -p mosaic-cli -p mosaic-conformance --bins\`" >&2
        exit 1
    fi
done

exec mvn -B -ntp -Dmaven.repo.local="$root/.cache/m2" -f "$sdk/pom.xml" clean verify "$@"
