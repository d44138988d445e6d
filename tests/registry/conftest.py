"""Fixtures: the ``mosaic`` binary, and a registry with three image servers registered.

The binary is ``$MOSAIC_BIN``, else ``$CARGO_TARGET_DIR/debug/mosaic``, else
``<repo>/target/debug/mosaic``. With ``CI`` set, a binary without ``registry`` fails the
suite instead of skipping it.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import cluster
from cluster import Process, Processes

#: The servers' lease TTL: a dead server leaves lookups within it.
TTL_MS = 2000


@pytest.fixture(scope="session")
def mosaic_bin() -> Path:
    binary = cluster.mosaic_bin()
    problem = None
    if not binary.is_file():
        problem = f"{binary} does not exist: run `cargo build -p mosaic-cli` or set MOSAIC_BIN"
    else:
        helped = subprocess.run(
            [str(binary), "registry", "--help"], capture_output=True, text=True, timeout=60
        )
        if helped.returncode != 0:
            problem = f"{binary} has no `registry` subcommand: run `cargo build -p mosaic-cli`"
    if problem is not None:
        if os.environ.get("CI"):
            pytest.fail(problem, pytrace=False)
        pytest.skip(problem)
    return binary


@pytest.fixture
def processes(mosaic_bin: Path, tmp_path: Path) -> Iterator[Processes]:
    """Starts processes for one test and stops them (newest first) when it ends."""
    started = Processes(mosaic_bin, tmp_path / "logs")
    yield started
    started.stop_all()


@dataclass
class Setup:
    registry: Process
    servers: list[Process]


@pytest.fixture
def setup(processes: Processes) -> Setup:
    """A registry and three image servers registered with it (TTL `TTL_MS`)."""
    registry = processes.registry()
    servers = [processes.image_server(registry, ttl_ms=TTL_MS) for _ in range(3)]
    return Setup(registry, servers)
