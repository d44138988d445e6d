"""Fixtures: Apache stubs, the server under test, and a connection factory per pair.

``MOSAIC_THRIFT_TEST_SERVER`` picks the server (see `harness.ServerUnderTest`); the
session starts it once and stops it at the end. Tests that take a ``pair`` run for every
protocol x transport x plain/multiplexed combination in `harness.PAIRS`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from thrift.transport.TTransport import TTransportException

import harness
import thrift_stubs
from harness import Connection, Pair, ServerUnderTest

ConnectFn = Callable[..., Connection]
REFERENCE_BAD_INPUT = "MOSAIC_THRIFT_TEST_REFERENCE_BAD_INPUT"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "mosaic_only: needs Mosaic's server (protocol auto-detection, input limits); "
        "skipped against the reference server",
    )
    config.addinivalue_line(
        "markers",
        "bad_input: malformed bytes against Mosaic's input limits; skipped against the "
        f"reference server unless {REFERENCE_BAD_INPUT}=1",
    )


def _reference_mode() -> bool:
    spec = os.environ.get(harness.ENV_SERVER, "").strip()
    return spec == "python" or spec.startswith("python:")


def pytest_report_header(config: pytest.Config) -> str:
    spec = os.environ.get(harness.ENV_SERVER, "") or str(harness.DEFAULT_SERVER)
    return f"server under test ({harness.ENV_SERVER}): {spec}"


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("mosaic_only") is not None and _reference_mode():
        pytest.skip("needs Mosaic's auto-detecting server, not the reference server")
    if (
        item.get_closest_marker("bad_input") is not None
        and _reference_mode()
        and os.environ.get(REFERENCE_BAD_INPUT) != "1"
    ):
        pytest.skip(f"Mosaic's input limits (set {REFERENCE_BAD_INPUT}=1 to run on the reference)")


@pytest.fixture(scope="session")
def stubs_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`thrift --gen py` output for the v0.16 IDL, made once per session."""
    out = tmp_path_factory.mktemp("apache-stubs")
    thrift_stubs.generate(out)
    return out


@pytest.fixture(scope="session")
def stubs(stubs_dir: Path) -> thrift_stubs.Stubs:
    return thrift_stubs.load(stubs_dir)


@pytest.fixture(scope="session")
def server(stubs_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerUnderTest]:
    """The server under test; its processes start on first use and stop at session end."""
    under_test = ServerUnderTest.from_env(stubs_dir, tmp_path_factory.mktemp("servers"))
    try:
        yield under_test
    finally:
        under_test.stop_all()


@pytest.fixture(autouse=True)
def _server_survives(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fails the test if a server it used died, quoting the server's stderr."""
    yield
    if "server" not in request.fixturenames:
        return
    under_test: ServerUnderTest = request.getfixturevalue("server")
    for process in under_test.processes():
        if not process.alive():
            pytest.fail(process.describe_death(), pytrace=False)


@pytest.fixture(params=harness.PAIRS, ids=[p.id for p in harness.PAIRS])
def pair(request: pytest.FixtureRequest) -> Pair:
    """Every client configuration: protocol x transport x plain/multiplexed."""
    param: Pair = request.param
    return param


@pytest.fixture
def address(server: ServerUnderTest, pair: Pair) -> tuple[str, int]:
    """Where the server under test serves PAIR (skips pairs the server cannot speak)."""
    if not server.serves(pair):
        pytest.skip(f"{harness.ENV_SERVER}={server.spec} does not serve {pair.id}")
    try:
        return server.address_for(pair)
    except RuntimeError as err:
        pytest.fail(str(err), pytrace=False)


@pytest.fixture
def connect(
    server: ServerUnderTest, pair: Pair, address: tuple[str, int], stubs: thrift_stubs.Stubs
) -> Iterator[ConnectFn]:
    """Opens Apache client connections for PAIR; closes them after the test."""
    opened: list[Connection] = []

    def open_connection(timeout: float = 10.0) -> Connection:
        try:
            conn = Connection(address, pair, stubs, timeout=timeout)
        except TTransportException as err:
            process = server.process_for(pair)
            if not process.alive():
                pytest.fail(process.describe_death(), pytrace=False)
            raise AssertionError(f"cannot connect to {address} for {pair.id}: {err}") from err
        opened.append(conn)
        return conn

    yield open_connection
    for conn in opened:
        conn.close()
