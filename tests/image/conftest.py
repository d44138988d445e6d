"""Fixtures: one ``mosaic serve image`` for the session, and a client of it.

The binary is ``$MOSAIC_BIN``, else ``$CARGO_TARGET_DIR/debug/mosaic``, else
``<repo>/target/debug/mosaic``. With ``CI`` set, a binary without ``serve`` fails the
suite instead of skipping it.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

import support
from support import Server, mosaic_rpc


@pytest.fixture(scope="session")
def mosaic_bin() -> Path:
    binary = support.mosaic_bin()
    problem = None
    if not binary.is_file():
        problem = f"{binary} does not exist: run `cargo build -p mosaic-cli` or set MOSAIC_BIN"
    else:
        helped = subprocess.run(
            [str(binary), "serve", "--help"], capture_output=True, text=True, timeout=60
        )
        if helped.returncode != 0:
            problem = f"{binary} has no `serve` subcommand: run `cargo build -p mosaic-cli`"
    if problem is not None:
        if os.environ.get("CI"):
            pytest.fail(problem, pytrace=False)
        pytest.skip(problem)
    return binary


@pytest.fixture(scope="session")
def server(mosaic_bin: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The image server shared by the suite (default limits)."""
    running = support.start_server(mosaic_bin, tmp_path_factory.mktemp("logs"))
    yield running
    running.stop()


@pytest.fixture(scope="session")
def client(server: Server) -> Iterator[mosaic_rpc.ImageClient]:
    with mosaic_rpc.connect("image", server.address, timeout=60, retries=0) as connected:
        yield connected
