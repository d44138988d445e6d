"""Starting servers under test and talking to them with Apache Thrift's Python runtime.

The pieces:

* `Pair`: one client configuration (protocol x transport x plain/multiplexed) of the
  parametrized tests, with `PAIRS` listing every one.
* `ServerProcess` / `start_server`: a server as a real child process on 127.0.0.1 that
  announces ``listening on 127.0.0.1:PORT`` on stdout; its stderr goes to a file that
  failure messages quote.
* `ServerUnderTest`: what the tests talk to, selected by ``MOSAIC_THRIFT_TEST_SERVER``:
  Mosaic's ``thrift-test-server`` binary (one process, every pair on one port) or the
  Apache-runtime reference server (one process per protocol/transport, started lazily).
* `Connection`: an Apache client connection for a pair, whose protocol checks that every
  reply carries the call's method name and seqid.
"""

from __future__ import annotations

import itertools
import os
import select
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from thrift.protocol import TBinaryProtocol, TCompactProtocol
from thrift.protocol.TMultiplexedProtocol import TMultiplexedProtocol
from thrift.Thrift import TMessageType
from thrift.transport import TSocket, TTransport

from thrift_stubs import REPO_ROOT, Stubs

__all__ = [
    "DEFAULT_SERVER",
    "HOST",
    "MAX_MESSAGE",
    "PAIRS",
    "PROTOCOLS",
    "TRANSPORTS",
    "Connection",
    "Pair",
    "ServerProcess",
    "ServerUnderTest",
    "start_server",
]

HOST = "127.0.0.1"
#: Largest message the test clients accept (the suite echoes a 32 MiB binary).
MAX_MESSAGE = 64 * 1024 * 1024
ENV_SERVER = "MOSAIC_THRIFT_TEST_SERVER"
DEFAULT_SERVER = REPO_ROOT / "target" / "debug" / "thrift-test-server"
REFERENCE_SERVER = Path(__file__).resolve().parent / "reference_server.py"
LISTENING_PREFIX = "listening on "

#: Client protocols: name -> (wire protocol the server sees, Apache protocol class, kwargs).
#: Binary clients read strictly: README says replies carry the versioned header, even to a
#: client that wrote non-strict calls.
PROTOCOLS: dict[str, tuple[str, type, dict[str, Any]]] = {
    "binary": (
        "binary",
        TBinaryProtocol.TBinaryProtocol,
        {"strictRead": True, "strictWrite": True},
    ),
    "binary-nonstrict": (
        "binary",
        TBinaryProtocol.TBinaryProtocol,
        {"strictRead": True, "strictWrite": False},
    ),
    "compact": ("compact", TCompactProtocol.TCompactProtocol, {}),
    "binary-accel": (
        "binary",
        TBinaryProtocol.TBinaryProtocolAccelerated,
        {"strictRead": True, "strictWrite": True, "fallback": False},
    ),
    "compact-accel": (
        "compact",
        TCompactProtocol.TCompactProtocolAccelerated,
        {"fallback": False},
    ),
}
TRANSPORTS = ("buffered", "framed")


@dataclass(frozen=True)
class Pair:
    """One client configuration: protocol x transport x plain or multiplexed."""

    protocol: str
    transport: str
    multiplexed: bool

    @property
    def wire(self) -> str:
        """The protocol on the wire, ``binary`` or ``compact``."""
        return PROTOCOLS[self.protocol][0]

    @property
    def id(self) -> str:
        return f"{self.protocol}-{self.transport}-{'multiplexed' if self.multiplexed else 'plain'}"


PAIRS: list[Pair] = [
    Pair(protocol, transport, multiplexed)
    for multiplexed in (False, True)
    for transport in TRANSPORTS
    for protocol in PROTOCOLS
]


@dataclass
class ServerProcess:
    """A running server child process and where it listens."""

    name: str
    process: subprocess.Popen[str]
    port: int
    stderr_path: Path

    def alive(self) -> bool:
        return self.process.poll() is None

    def stderr_tail(self, limit: int = 8000) -> str:
        try:
            text = self.stderr_path.read_text(errors="replace")
        except OSError as err:
            return f"<stderr unreadable: {err}>"
        return text[-limit:] if len(text) > limit else text

    def describe_death(self) -> str:
        """A failure message for a server that is no longer running."""
        return (
            f"server {self.name} exited with code {self.process.returncode}; its stderr:\n"
            f"{self.stderr_tail()}"
        )

    def stop(self, timeout: float = 10.0) -> int | None:
        """SIGTERM, then SIGKILL after TIMEOUT seconds; returns the exit code."""
        if self.alive():
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout)
        if self.process.stdout is not None:
            self.process.stdout.close()
        return self.process.returncode


def start_server(
    name: str, argv: list[str], stderr_dir: Path, startup_timeout: float = 30.0
) -> ServerProcess:
    """Starts ARGV and waits for its ``listening on 127.0.0.1:PORT`` line.

    Raises RuntimeError, quoting the server's stderr, if it exits or stays silent for
    STARTUP_TIMEOUT seconds.
    """
    stderr_dir.mkdir(parents=True, exist_ok=True)
    fd, stderr_name = tempfile.mkstemp(
        prefix=f"{name.replace('/', '_')}-", suffix=".stderr", dir=stderr_dir
    )
    stderr_path = Path(stderr_name)
    with os.fdopen(fd, "w") as stderr_file:
        process = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=stderr_file,
            text=True,
            cwd=REPO_ROOT,
        )
    server = ServerProcess(name, process, 0, stderr_path)
    assert process.stdout is not None
    line = _read_line(process.stdout, startup_timeout)
    if line is None or not line.startswith(LISTENING_PREFIX):
        server.stop(timeout=2.0)
        raise RuntimeError(
            f"server {name} ({' '.join(argv)}) did not print `listening on {HOST}:PORT` within "
            f"{startup_timeout:.0f} s; first stdout line: {line!r}; exit code: "
            f"{process.returncode}; stderr:\n{server.stderr_tail()}"
        )
    address = line[len(LISTENING_PREFIX) :].strip()
    host, _, port = address.rpartition(":")
    if host != HOST or not port.isdigit():
        server.stop(timeout=2.0)
        raise RuntimeError(f"server {name} announced {address!r}, expected {HOST}:PORT")
    server.port = int(port)
    return server


def _read_line(stream: IO[str], timeout: float) -> str | None:
    """One line from a child's stdout pipe, or None on EOF or after TIMEOUT seconds."""
    deadline = time.monotonic() + timeout
    fd = stream.fileno()
    buf = b""
    while b"\n" not in buf:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None
        ready, _, _ = select.select([fd], [], [], remaining)
        if not ready:
            continue
        chunk = os.read(fd, 4096)
        if not chunk:
            break
        buf += chunk
    if not buf:
        return None
    return buf.split(b"\n", 1)[0].decode(errors="replace")


@dataclass
class ServerUnderTest:
    """The server the suite drives, chosen by ``MOSAIC_THRIFT_TEST_SERVER``.

    * unset: Mosaic's binary at ``target/debug/thrift-test-server``;
    * a path: that binary (same contract: ``--port=0``, auto-detection, multiplexing);
    * ``python``: the reference server, one process per wire protocol x transport x
      plain/multiplexed, for every pair;
    * ``python:PROTOCOL:TRANSPORT[:multi]``: the reference server for that one
      configuration; pairs that need another are skipped.
    """

    spec: str
    stubs_dir: Path
    work_dir: Path
    binary: Path | None = None
    only: tuple[str, str, bool] | None = None
    _processes: dict[tuple[str, str, bool] | None, ServerProcess] = field(default_factory=dict)

    @classmethod
    def from_env(cls, stubs_dir: Path, work_dir: Path) -> ServerUnderTest:
        spec = os.environ.get(ENV_SERVER, "").strip()
        if spec == "python" or spec.startswith("python:"):
            only = None
            if spec != "python":
                parts = spec.split(":")[1:]
                if (
                    len(parts) not in (2, 3)
                    or parts[0] not in ("binary", "compact")
                    or parts[1] not in TRANSPORTS
                    or (len(parts) == 3 and parts[2] != "multi")
                ):
                    raise ValueError(
                        f"{ENV_SERVER}={spec!r}: expected "
                        "python:binary|compact:buffered|framed[:multi]"
                    )
                only = (parts[0], parts[1], len(parts) == 3)
            return cls(spec, stubs_dir, work_dir, only=only)
        binary = Path(spec) if spec else DEFAULT_SERVER
        if not binary.is_absolute():
            binary = REPO_ROOT / binary
        return cls(str(binary), stubs_dir, work_dir, binary=binary)

    @property
    def is_mosaic(self) -> bool:
        """True for Mosaic's auto-detecting server, False for the reference server."""
        return self.binary is not None

    def serves(self, pair: Pair) -> bool:
        return self.only is None or self.only == (pair.wire, pair.transport, pair.multiplexed)

    def process_for(self, pair: Pair) -> ServerProcess:
        """The process serving PAIR, started on first use."""
        key = None if self.is_mosaic else (pair.wire, pair.transport, pair.multiplexed)
        server = self._processes.get(key)
        if server is None:
            server = self._start(key)
            self._processes[key] = server
        return server

    def address_for(self, pair: Pair) -> tuple[str, int]:
        return HOST, self.process_for(pair).port

    def processes(self) -> list[ServerProcess]:
        return list(self._processes.values())

    def stop_all(self) -> None:
        for server in self._processes.values():
            server.stop()

    def require_binary(self) -> Path:
        """Mosaic's server binary; raises RuntimeError saying how to get it if it is missing."""
        assert self.binary is not None, "require_binary() is for Mosaic's server"
        if not self.binary.exists():
            raise RuntimeError(
                f"server under test {self.binary} does not exist: build it with "
                f"`cargo build -p mosaic-conformance --bins`, or set {ENV_SERVER} to a "
                "binary or to `python` for the reference server"
            )
        return self.binary

    def _start(self, key: tuple[str, str, bool] | None) -> ServerProcess:
        if key is None:
            self.require_binary()
            assert self.binary is not None
            return start_server("thrift-test-server", [str(self.binary), "--port=0"], self.work_dir)
        wire, transport, multiplexed = key
        argv = [
            sys.executable,
            str(REFERENCE_SERVER),
            "--port=0",
            f"--protocol={wire}",
            f"--transport={transport}",
            f"--stubs-dir={self.stubs_dir}",
        ]
        if multiplexed:
            argv.append("--multiplexed")
        name = f"reference-{wire}-{transport}-{'multiplexed' if multiplexed else 'plain'}"
        return start_server(name, argv, self.work_dir)


class CheckedProtocol:
    """Delegates to an Apache protocol and checks each reply against its call.

    Each call gets the next seqid of this connection (0, 1, 2, ...: the Python and C++
    clients always send 0, Java and Rust count up), and the reply must carry the same
    seqid and the bare method name (README: never with a multiplex prefix).
    """

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self._seqids = itertools.count()
        self._sent: tuple[str, int] | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def writeMessageBegin(self, name: str, mtype: int, seqid: int) -> None:
        seqid = next(self._seqids)
        self._sent = (name, seqid) if mtype == TMessageType.CALL else None
        self._inner.writeMessageBegin(name, mtype, seqid)

    def readMessageBegin(self) -> tuple[str, int, int]:
        name, mtype, seqid = self._inner.readMessageBegin()
        assert self._sent is not None, f"reply {name!r} (seqid {seqid}) arrived for no call"
        sent_name, sent_seqid = self._sent
        assert (name, seqid) == (sent_name, sent_seqid), (
            f"reply header: expected method {sent_name!r} with seqid {sent_seqid}, "
            f"got {name!r} with seqid {seqid} (message type {mtype})"
        )
        return name, mtype, seqid


class Connection:
    """One TCP connection speaking PAIR with Apache's runtime; use as a context manager."""

    def __init__(
        self,
        address: tuple[str, int],
        pair: Pair,
        stubs: Stubs,
        timeout: float = 10.0,
    ) -> None:
        self.pair = pair
        self._stubs = stubs
        self.socket = TSocket.TSocket(address[0], address[1])
        self.socket.setTimeout(timeout * 1000)
        self.transport: TTransport.TTransportBase = (
            TTransport.TFramedTransport(self.socket, max_frame_size=MAX_MESSAGE)
            if pair.transport == "framed"
            else TTransport.TBufferedTransport(self.socket)
        )
        _, cls, kwargs = PROTOCOLS[pair.protocol]
        self.protocol: Any = cls(self.transport, string_length_limit=MAX_MESSAGE, **kwargs)
        self.transport.open()
        self._checked: dict[str, CheckedProtocol] = {}

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.transport.close()

    def service_protocol(self, service: str = "ThriftTest") -> CheckedProtocol:
        """The protocol a client of SERVICE uses (multiplexed when the pair is)."""
        checked = self._checked.get(service)
        if checked is None:
            if self.pair.multiplexed:
                checked = CheckedProtocol(TMultiplexedProtocol(self.protocol, service))
            elif service == "ThriftTest":
                checked = CheckedProtocol(self.protocol)
            else:
                raise ValueError(f"{service} is only reachable through a multiplexed pair")
            self._checked[service] = checked
        return checked

    def thrift_test(self) -> Any:
        """A generated ``ThriftTest.Client`` on this connection."""
        return self._stubs.ThriftTest.Client(self.service_protocol("ThriftTest"))

    def second_service(self) -> Any:
        """A generated ``SecondService.Client`` on this connection (multiplexed pairs only)."""
        return self._stubs.SecondService.Client(self.service_protocol("SecondService"))


def iter_pairs(multiplexed: bool | None = None) -> Iterator[Pair]:
    """PAIRS, optionally only the plain or only the multiplexed ones."""
    for pair in PAIRS:
        if multiplexed is None or pair.multiplexed == multiplexed:
            yield pair
