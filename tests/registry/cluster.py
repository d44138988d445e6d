"""A registry and image servers as real processes, and load from a Python client.

Reusable outside pytest (e.g. by a benchmark): nothing here imports pytest.

* `Processes`: starts ``mosaic registry`` and ``mosaic serve image --registry ...``
  processes on 127.0.0.1 with ports chosen at run time, and stops them all (newest first).
* `lookup`: what the registry lists for a service now.
* `Load`: threads making calls through one client, bounded in count and time, with every
  failure sorted by whether the server could have run the call.

The SDK is imported from ``client-sdks/python/src`` (put on ``sys.path`` here).
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

#: tests/registry -> tests -> the repository root.
REPO_ROOT = Path(__file__).resolve().parents[2]
SDK_SRC = REPO_ROOT / "client-sdks" / "python" / "src"
if str(SDK_SRC) not in sys.path:
    sys.path.insert(0, str(SDK_SRC))

import mosaic_rpc  # noqa: E402
from mosaic_rpc.image import Overloaded  # noqa: E402
from mosaic_rpc.registry import Instances  # noqa: E402

HOST = "127.0.0.1"
_LISTENING = "listening on "


def mosaic_bin() -> Path:
    """$MOSAIC_BIN, else $CARGO_TARGET_DIR/debug/mosaic, else <repo>/target/debug/mosaic."""
    configured = os.environ.get("MOSAIC_BIN")
    if configured:
        return Path(configured)
    target = os.environ.get("CARGO_TARGET_DIR")
    return (Path(target) if target else REPO_ROOT / "target") / "debug" / "mosaic"


@dataclass
class Process:
    """A running ``mosaic`` process that printed ``listening on 127.0.0.1:PORT``."""

    argv: list[str]
    popen: subprocess.Popen[bytes]
    port: int
    stderr_path: Path
    _pending: bytes = b""

    @property
    def address(self) -> str:
        return f"{HOST}:{self.port}"

    def alive(self) -> bool:
        return self.popen.poll() is None

    def wait_for_line(self, prefix: str, timeout: float = 30.0) -> str:
        """Reads stdout until a line starting with PREFIX; returns it."""
        assert self.popen.stdout is not None
        deadline = time.monotonic() + timeout
        while True:
            line, self._pending = _read_line(
                self.popen.stdout.fileno(), self._pending, deadline - time.monotonic()
            )
            if line is None:
                raise RuntimeError(
                    f"{' '.join(self.argv)}: no line starting {prefix!r} within {timeout:g} s; "
                    f"stderr:\n{self.stderr_path.read_text(errors='replace')[-4000:]}"
                )
            if line.startswith(prefix):
                return line

    def kill(self) -> None:
        """SIGKILL: no shutdown, no deregistration."""
        if self.alive():
            self.popen.kill()
        self.popen.wait(10)

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM (a server deregisters), then SIGKILL after TIMEOUT seconds."""
        if self.alive():
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout)
        if self.popen.stdout is not None:
            self.popen.stdout.close()


def _read_line(fd: int, buf: bytes, timeout: float) -> tuple[str | None, bytes]:
    deadline = time.monotonic() + timeout
    while b"\n" not in buf:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None, buf
        ready, _, _ = select.select([fd], [], [], remaining)
        if ready:
            chunk = os.read(fd, 4096)
            if not chunk:
                return None, buf
            buf += chunk
    line, rest = buf.split(b"\n", 1)
    return line.decode(errors="replace"), rest


class Processes:
    """Starts registry and image server processes; `stop_all` ends them, newest first."""

    def __init__(self, binary: Path, log_dir: Path) -> None:
        self.binary = binary
        self.log_dir = log_dir
        self.started: list[Process] = []

    def start(self, args: list[str], startup_timeout: float = 30.0) -> Process:
        argv = [str(self.binary), *args]
        self.log_dir.mkdir(parents=True, exist_ok=True)
        stderr_path = self.log_dir / f"{args[0]}-{time.monotonic_ns()}.stderr"
        with stderr_path.open("wb") as stderr:
            popen = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=stderr
            )
        assert popen.stdout is not None
        line, rest = _read_line(popen.stdout.fileno(), b"", startup_timeout)
        if line is None or not line.startswith(_LISTENING):
            popen.kill()
            popen.wait(10)
            raise RuntimeError(
                f"{' '.join(argv)} did not print `listening on {HOST}:PORT` (got {line!r}); "
                f"stderr:\n{stderr_path.read_text(errors='replace')[-4000:]}"
            )
        port = int(line.rsplit(":", 1)[1])
        process = Process(argv, popen, port, stderr_path, rest)
        self.started.append(process)
        return process

    def registry(self, port: int = 0) -> Process:
        """``mosaic registry`` with the memory store."""
        return self.start(["registry", "--port", str(port)])

    def image_server(
        self,
        registry: Process,
        *,
        ttl_ms: int = 2000,
        weight: int = 100,
        delay_ms: int = 0,
        zone: str | None = None,
    ) -> Process:
        """``mosaic serve image`` registered with REGISTRY (returns once it registered)."""
        args = ["serve", "image", "--port", "0", "--registry", registry.address]
        args += ["--ttl-ms", str(ttl_ms), "--weight", str(weight), "--delay-ms", str(delay_ms)]
        if zone is not None:
            args += ["--zone", zone]
        server = self.start(args)
        server.wait_for_line("registered")
        return server

    def stop_all(self) -> None:
        for process in reversed(self.started):
            process.stop()
        self.started.clear()


def lookup(registry: Process | str, service: str = "image") -> Instances:
    """What REGISTRY lists for SERVICE now."""
    address = registry if isinstance(registry, str) else registry.address
    with mosaic_rpc.connect("registry", address, timeout=5, retries=0) as client:
        listed: Instances = client.lookup(service)
        return listed


def listed_ports(registry: Process | str, service: str = "image") -> set[int]:
    return {instance.port or 0 for instance in lookup(registry, service).instances or []}


@dataclass
class LoadResult:
    """What a `Load` saw. Failures are sorted by whether the server could have run them."""

    ok: int = 0
    #: Failed before the request was sent, or refused unstarted (overloaded): the client
    #: could have retried these elsewhere, so with a live instance left none should remain.
    unsent: int = 0
    #: The connection broke after the request was sent: not retried unless idempotent.
    maybe_ran: int = 0
    timeouts: int = 0
    other: int = 0
    seconds: float = 0.0
    #: The first few failures, for messages.
    samples: list[str] = field(default_factory=list)

    @property
    def failed(self) -> int:
        return self.unsent + self.maybe_ran + self.timeouts + self.other

    def summary(self) -> str:
        return (
            f"{self.ok} ok, {self.failed} failed (unsent {self.unsent}, may have run "
            f"{self.maybe_ran}, timeouts {self.timeouts}, other {self.other}) in "
            f"{self.seconds:.1f} s"
        )


class Load:
    """THREADS threads making CALL in a loop until `stop`, MAX_CALLS calls in all, or
    MAX_SECONDS, whichever comes first."""

    def __init__(
        self,
        call: Callable[[], object],
        *,
        threads: int = 8,
        max_calls: int = 100_000,
        max_seconds: float = 60.0,
    ) -> None:
        self._call = call
        self._threads = [
            threading.Thread(target=self._run, name=f"load-{n}", daemon=True)
            for n in range(threads)
        ]
        self._max_calls = max_calls
        self._max_seconds = max_seconds
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._issued = 0
        self._result = LoadResult()
        self._started = 0.0

    def start(self) -> Load:
        self._started = time.monotonic()
        for thread in self._threads:
            thread.start()
        return self

    def run(self) -> LoadResult:
        """Starts, and waits until MAX_CALLS or MAX_SECONDS ends the load."""
        self.start()
        for thread in self._threads:
            thread.join(self._max_seconds + 30)
        return self.stop()

    def snapshot(self) -> LoadResult:
        with self._lock:
            return LoadResult(**{**self._result.__dict__, "samples": list(self._result.samples)})

    def stop(self) -> LoadResult:
        self._stop.set()
        for thread in self._threads:
            thread.join(self._max_seconds + 30)
        result = self.snapshot()
        result.seconds = time.monotonic() - self._started
        return result

    def __enter__(self) -> Load:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self) -> None:
        deadline = self._started + self._max_seconds
        while not self._stop.is_set() and time.monotonic() < deadline:
            with self._lock:
                if self._issued >= self._max_calls:
                    return
                self._issued += 1
            try:
                self._call()
            except Exception as err:
                self._count_failure(err)
            else:
                with self._lock:
                    self._result.ok += 1

    def _count_failure(self, err: Exception) -> None:
        with self._lock:
            result = self._result
            if isinstance(err, mosaic_rpc.Timeout):
                result.timeouts += 1
            elif isinstance(err, mosaic_rpc.TransportError):
                if err.may_have_run:
                    result.maybe_ran += 1
                else:
                    result.unsent += 1
            elif isinstance(err, Overloaded) or (
                isinstance(err, mosaic_rpc.RemoteError) and err.type_name == "OVERLOADED"
            ):
                result.unsent += 1
            else:
                result.other += 1
            if len(result.samples) < 5:
                result.samples.append(f"{type(err).__name__}: {err}")
