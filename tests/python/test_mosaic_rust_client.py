"""Mosaic's Rust client against ThriftTest servers, as Apache's cross test runs clients.

The client is ``thrift-test-client`` (``tests/conformance/src/bin/thrift-test-client.rs``,
built by ``cargo build -p mosaic-conformance --bins``): Mosaic's generated
``ThriftTestClient`` and ``SecondServiceClient`` on ``mosaic_runtime::Client``, calling
every ThriftTest method on one connection and exiting with Apache's bit mask (0 = every
check passed; 1 base types, 2 structs, 4 containers, 8 exceptions, 64 set-up, 128
timeout). ``MOSAIC_THRIFT_TEST_CLIENT`` names the binary (default
``target/debug/thrift-test-client``); when it is not set, a missing default binary skips
these tests, or fails them when ``CI`` is set.

It runs against:

* the server under test (``MOSAIC_THRIFT_TEST_SERVER``, see `harness.ServerUnderTest`):
  Mosaic's ``thrift-test-server`` on its one port, or the Apache-runtime reference server,
  one process per configuration, each client configuration sent to the process that
  speaks it (``python:...`` single configurations skip the rest). Client protocols
  ``binary``, ``compact``, ``multi``, ``multic`` x ``buffered``, ``framed``, plus plain
  clients against multiplexed servers (Apache's runner pairs those too);
* Apache Thrift 0.17.0's own Python ``test/py/TestServer.py`` (fetched into ``.cache/`` by
  ``scripts/setup``, as for ``test_apache_client.py``) in the same configurations, when
  the server under test is the reference server. Its stubs come from that release's IDL,
  which has no ``uuid``, so the client runs with ``--no-uuid`` there (and only there);
* servers in this process on Apache's runtime: the reference handler, counting
  connections (every call, including those after exceptions, goes over one), and a
  deliberately wrong handler, which shows that the client's checks catch wrong answers.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import harness
import reference_server
import thrift_stubs
from harness import HOST, Pair, ServerProcess, ServerUnderTest

ENV_CLIENT = "MOSAIC_THRIFT_TEST_CLIENT"
DEFAULT_CLIENT = thrift_stubs.REPO_ROOT / "target" / "debug" / "thrift-test-client"
ENV_APACHE_TEST_DIR = "MOSAIC_APACHE_THRIFT_TEST_DIR"
DEFAULT_APACHE_TEST_DIR = thrift_stubs.REPO_ROOT / ".cache" / "apache-thrift-0.17" / "test"

#: Bound on one client run; a passing run takes well under a second.
CLIENT_TIMEOUT = 60.0
#: Bound on Apache's TestServer.py accepting connections.
SERVER_STARTUP_TIMEOUT = 30.0
#: A passing run makes at least this many checks (a run that checked nothing proves nothing).
MIN_CHECKS = 100
SUMMARY = re.compile(r"^(\d+) checks in .*, (\d+) failed; exit code (\d+)$", re.MULTILINE)


@dataclass(frozen=True)
class Case:
    """A client configuration and the kind of server it talks to."""

    client_protocol: str
    transport: str
    server_multiplexed: bool

    @property
    def wire(self) -> str:
        return "compact" if self.client_protocol in ("compact", "multic") else "binary"

    @property
    def pair(self) -> Pair:
        """The suite's name for what the server must speak."""
        return Pair(self.wire, self.transport, self.server_multiplexed)

    @property
    def server_protocol(self) -> str:
        """Apache's ``--protocol`` for the server."""
        if not self.server_multiplexed:
            return self.wire
        return "multi" if self.wire == "binary" else "multic"

    @property
    def id(self) -> str:
        server = "multiplexed" if self.server_multiplexed else "plain"
        return f"{self.client_protocol}-{self.transport}-{server}-server"


CASES = [
    Case(protocol, transport, multiplexed)
    for transport in harness.TRANSPORTS
    for protocol, multiplexed in (
        ("binary", False),
        ("compact", False),
        ("multi", True),
        ("multic", True),
        ("binary", True),
        ("compact", True),
    )
]


@pytest.fixture(scope="session")
def client_binary() -> Path:
    """The ``thrift-test-client`` binary."""
    configured = os.environ.get(ENV_CLIENT)
    binary = Path(configured) if configured else DEFAULT_CLIENT
    if not binary.is_absolute():
        binary = thrift_stubs.REPO_ROOT / binary
    if not binary.is_file():
        message = (
            f"Mosaic's Rust test client {binary} does not exist: build it with "
            f"`cargo build -p mosaic-conformance --bins`, or set {ENV_CLIENT}"
        )
        if configured or os.environ.get("CI"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return binary


def _text(output: str | bytes | None) -> str:
    if output is None:
        return ""
    if isinstance(output, bytes):
        return output.decode(errors="replace")
    return output


def run_client(
    binary: Path, port: int, case: Case, extra: list[str], server: ServerProcess | None
) -> tuple[int, str]:
    """Runs the client for CASE against 127.0.0.1:PORT; returns its exit code and output.

    Fails the test, with the client's output, if it does not finish within CLIENT_TIMEOUT.
    """
    argv = [
        str(binary),
        f"--host={HOST}",
        f"--port={port}",
        f"--protocol={case.client_protocol}",
        f"--transport={case.transport}",
        *extra,
    ]
    try:
        done = subprocess.run(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=CLIENT_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired as err:
        pytest.fail(
            f"thrift-test-client did not finish within {CLIENT_TIMEOUT:.0f} s (killed)\n"
            f"command: {' '.join(argv)}\n"
            f"---- client output ----\n{_text(err.output)}\n{_server_log(server)}",
            pytrace=False,
        )
    return done.returncode, f"command: {' '.join(argv)}\n---- client output ----\n{done.stdout}"


def assert_passed(code: int, output: str, server: ServerProcess) -> None:
    """Exit code 0 and a summary that counts enough checks, none failed."""
    if code != 0:
        pytest.fail(
            f"thrift-test-client exited with code {code}\n{output}\n{_server_log(server)}",
            pytrace=False,
        )
    summary = SUMMARY.search(output)
    assert summary is not None, f"no summary line in the client's output:\n{output}"
    checks, failed = int(summary.group(1)), int(summary.group(2))
    assert failed == 0 and checks >= MIN_CHECKS, f"unexpected summary:\n{output}"


def _server_log(process: ServerProcess | None) -> str:
    if process is None:
        return ""
    return f"---- server {process.name} stderr (tail) ----\n{process.stderr_tail()}"


# ---- the server under test ------------------------------------------------------------


@pytest.mark.timeout(CLIENT_TIMEOUT + 30)
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_rust_client(case: Case, server: ServerUnderTest, client_binary: Path) -> None:
    """Every check passes against Mosaic's server or the Apache-runtime reference server."""
    if not server.serves(case.pair):
        pytest.skip(f"{harness.ENV_SERVER}={server.spec} does not serve {case.pair.id}")
    try:
        _, port = server.address_for(case.pair)
    except RuntimeError as err:
        pytest.fail(str(err), pytrace=False)
    process = server.process_for(case.pair)
    code, output = run_client(client_binary, port, case, [], process)
    assert_passed(code, output, process)


# ---- Apache Thrift 0.17.0's TestServer.py -----------------------------------------------


@pytest.fixture(scope="session")
def apache_test_dir() -> Path:
    """Apache Thrift 0.17.0's ``test/`` folder; fails under CI when it is missing."""
    configured = os.environ.get(ENV_APACHE_TEST_DIR)
    test_dir = Path(configured) if configured else DEFAULT_APACHE_TEST_DIR
    if not (test_dir / "py" / "TestServer.py").is_file():
        message = (
            f"Apache's test server {test_dir / 'py' / 'TestServer.py'} is missing: run "
            f"scripts/setup (it fetches Apache Thrift 0.17.0's test/ into .cache/), or set "
            f"{ENV_APACHE_TEST_DIR} to such a test/ folder"
        )
        if os.environ.get("CI"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return test_dir


@pytest.fixture(scope="session")
def apache_stubs_dir(apache_test_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`thrift --gen py` output for the release's own ``test/ThriftTest.thrift``."""
    out = tmp_path_factory.mktemp("apache-0.17-server-stubs")
    thrift_stubs.generate(out, idl=apache_test_dir / "ThriftTest.thrift")
    return out


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def _wait_until_accepting(process: ServerProcess, timeout: float) -> None:
    """Connects and closes, as Apache's runner does, until the port answers."""
    deadline = time.monotonic() + timeout
    while True:
        if not process.alive():
            raise RuntimeError(process.describe_death())
        try:
            with socket.create_connection((HOST, process.port), timeout=1.0):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"{process.name} did not accept connections on port {process.port} within "
                    f"{timeout:.0f} s; its stderr:\n{process.stderr_tail()}"
                ) from None
            time.sleep(0.1)


@pytest.fixture
def apache_test_server(
    case: Case, server: ServerUnderTest, request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[ServerProcess]:
    """Apache's ``TestServer.py`` (TSimpleServer, as Apache's runner starts it) for the case."""
    if server.is_mosaic:
        pytest.skip(
            f"Apache's TestServer.py runs with the reference servers ({harness.ENV_SERVER}=python)"
        )
    if not server.serves(case.pair):
        pytest.skip(f"{harness.ENV_SERVER}={server.spec} does not serve {case.pair.id}")
    apache_test_dir: Path = request.getfixturevalue("apache_test_dir")
    apache_stubs_dir: Path = request.getfixturevalue("apache_stubs_dir")
    port = _free_port()
    script = apache_test_dir / "py" / "TestServer.py"
    argv = [
        sys.executable,
        str(script),
        "--verbose",
        f"--genpydir={apache_stubs_dir}",
        f"--port={port}",
        f"--protocol={case.server_protocol}",
        f"--transport={case.transport}",
        "TSimpleServer",
    ]
    stderr_path = tmp_path / "apache-test-server.stderr"
    with stderr_path.open("w") as stderr_file:
        popen = subprocess.Popen(
            argv,
            cwd=script.parent,
            env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1"),
            stdin=subprocess.DEVNULL,
            stdout=stderr_file,
            stderr=subprocess.STDOUT,
            text=True,
        )
    name = f"TestServer.py-{case.server_protocol}-{case.transport}"
    process = ServerProcess(name, popen, port, stderr_path)
    try:
        _wait_until_accepting(process, SERVER_STARTUP_TIMEOUT)
    except RuntimeError as err:
        process.stop(timeout=2.0)
        pytest.fail(str(err), pytrace=False)
    yield process
    process.stop(timeout=5.0)


@pytest.mark.timeout(CLIENT_TIMEOUT + SERVER_STARTUP_TIMEOUT + 30)
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_rust_client_against_apache_test_server(
    case: Case, apache_test_server: ServerProcess, client_binary: Path
) -> None:
    """Every check passes against Apache's own Python server (no ``testUuid`` there)."""
    code, output = run_client(
        client_binary, apache_test_server.port, case, ["--no-uuid"], apache_test_server
    )
    assert_passed(code, output, apache_test_server)
    assert "does not know testUuid" in output, f"testUuid unexpectedly answered:\n{output}"


# ---- servers in this process: one connection, wrong answers ------------------------------


class CountingServer(reference_server._Server):
    """The reference server's loop, counting the connections it accepts."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.connections = 0

    def _serve_connection(self, conn: socket.socket) -> None:
        self.connections += 1
        super()._serve_connection(conn)


class WrongHandler(reference_server.Handler):
    """One wrong answer per area of Apache's exit code."""

    def testI64(self, thing: int) -> int:
        return thing ^ 1  # base types

    def testInsanity(self, argument: Any) -> dict[int, dict[int, Any]]:
        result = super().testInsanity(argument)
        result[3] = {}  # structs: a third outer key
        return result

    def testList(self, thing: list[int]) -> list[int]:
        return thing[::-1]  # containers: order lost

    def testException(self, arg: str) -> None:
        if arg != "TException":  # exceptions: "TException" returns normally
            super().testException(arg)


@contextlib.contextmanager
def in_process_server(
    stubs: thrift_stubs.Stubs, handler: reference_server.Handler
) -> Iterator[CountingServer]:
    """A plain binary buffered ThriftTest server for HANDLER on a thread of this process."""
    processor = stubs.ThriftTest.Processor(handler)
    processor._processMap["testUuid"] = reference_server._process_test_uuid
    factory = reference_server._protocol_factory(
        "binary", accelerated=False, max_message=harness.MAX_MESSAGE
    )
    server = CountingServer(
        processor, factory, framed=False, max_message=harness.MAX_MESSAGE, port=0
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.stop()
        thread.join(timeout=5.0)


PLAIN_BINARY = Case("binary", "buffered", False)


def test_rust_client_makes_every_call_on_one_connection(
    stubs: thrift_stubs.Stubs, client_binary: Path
) -> None:
    """Like Apache's C++, Java and Rust clients: the connection survives the exceptions."""
    with in_process_server(stubs, reference_server.Handler(stubs)) as server:
        code, output = run_client(client_binary, server.port, PLAIN_BINARY, [], None)
        connections = server.connections
    assert code == 0, f"thrift-test-client exited with code {code}\n{output}"
    assert connections == 1, f"the client opened {connections} connections:\n{output}"


def test_rust_client_reports_wrong_answers(stubs: thrift_stubs.Stubs, client_binary: Path) -> None:
    """Each wrong answer gives a FAIL line and its exit-code bit, and nothing else fails."""
    with in_process_server(stubs, WrongHandler(stubs)) as server:
        code, output = run_client(client_binary, server.port, PLAIN_BINARY, [], None)
    assert code == 1 | 2 | 4 | 8, f"expected exit code 15:\n{output}"
    failures = [line for line in output.splitlines() if line.startswith("FAIL ")]
    expected = ("FAIL testI64(", "FAIL testInsanity(", "FAIL testList(", 'FAIL testException("T')
    for prefix in expected:
        assert any(line.startswith(prefix) for line in failures), f"no {prefix!r}:\n{output}"
    unexpected = [line for line in failures if not line.startswith(expected)]
    assert not unexpected, f"checks failed that should pass:\n{output}"
    # Every FAIL line says what was expected and what came back.
    assert all(", got " in line and ": expected " in line for line in failures), output
