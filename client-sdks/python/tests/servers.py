"""Real server processes for the tests, and where their binaries are.

A server is a child process on 127.0.0.1 that prints ``listening on 127.0.0.1:PORT`` as its
first line of stdout; its stderr goes to a file quoted when it fails to start.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "HOST",
    "REPO_ROOT",
    "Server",
    "binary_path",
    "free_port",
    "start_server",
]

HOST = "127.0.0.1"
#: The repository root: tests/ -> python/ -> client-sdks/ -> root.
REPO_ROOT = Path(__file__).resolve().parents[3]
_LISTENING = "listening on "


def binary_path(env: str, name: str) -> Path:
    """$ENV, else $CARGO_TARGET_DIR/debug/NAME, else target/debug/NAME under the repo root."""
    configured = os.environ.get(env)
    if configured:
        return Path(configured)
    target = os.environ.get("CARGO_TARGET_DIR")
    return (Path(target) if target else REPO_ROOT / "target") / "debug" / name


def free_port() -> int:
    """A port nothing listens on right now (bound, then released)."""
    import socket

    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    """A running server process and the port it listens on."""

    argv: list[str]
    process: subprocess.Popen[bytes]
    port: int
    stderr_path: Path
    #: Stdout read past the lines handed out so far.
    pending: bytes = b""

    @property
    def address(self) -> str:
        return f"{HOST}:{self.port}"

    def wait_for_line(self, prefix: str, timeout: float = 30.0) -> str:
        """Reads stdout until a line starting with PREFIX (at most TIMEOUT s); returns it."""
        assert self.process.stdout is not None
        deadline = time.monotonic() + timeout
        seen: list[str] = []
        while time.monotonic() < deadline:
            line, self.pending = _read_line(
                self.process.stdout.fileno(), self.pending, deadline - time.monotonic()
            )
            if line is None:
                break
            if line.startswith(prefix):
                return line
            seen.append(line)
        raise RuntimeError(
            f"{' '.join(self.argv)} printed no line starting {prefix!r} within {timeout:g} s "
            f"(lines: {seen!r}); stderr:\n{self.stderr_path.read_text(errors='replace')[-4000:]}"
        )

    def kill(self) -> None:
        """SIGKILL: no shutdown, no deregistration."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM, then SIGKILL after TIMEOUT seconds."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout)
        if self.process.stdout is not None:
            self.process.stdout.close()


def start_server(argv: list[str], log_dir: Path, startup_timeout: float = 30.0) -> Server:
    """Starts ARGV and waits (at most STARTUP_TIMEOUT s) for its ``listening on`` line."""
    log_dir.mkdir(parents=True, exist_ok=True)
    stderr_path = log_dir / f"{Path(argv[0]).name}-{time.monotonic_ns()}.stderr"
    with stderr_path.open("wb") as stderr:
        process = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=stderr, cwd=REPO_ROOT
        )
    assert process.stdout is not None
    first, rest = _read_line(process.stdout.fileno(), b"", startup_timeout)
    line = first or ""
    if not line.startswith(_LISTENING):
        process.kill()
        process.wait(10)
        process.stdout.close()
        raise RuntimeError(
            f"{' '.join(argv)} did not print `listening on {HOST}:PORT` within "
            f"{startup_timeout:g} s (first line {line!r}); stderr:\n"
            f"{stderr_path.read_text(errors='replace')[-4000:]}"
        )
    host, _, port = line[len(_LISTENING) :].strip().rpartition(":")
    assert host == HOST and port.isdigit(), f"unexpected address in {line!r}"
    return Server(argv, process, int(port), stderr_path, rest)


def _read_line(fd: int, buf: bytes, timeout: float) -> tuple[str | None, bytes]:
    """The next line of FD (after what BUF holds) and what was read past it; the line is
    None if none ended within TIMEOUT seconds or the stream ended."""
    deadline = time.monotonic() + timeout
    while b"\n" not in buf:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None, buf
        ready, _, _ = select.select([fd], [], [], remaining)
        if not ready:
            continue
        chunk = os.read(fd, 4096)
        if not chunk:
            return None, buf
        buf += chunk
    line, rest = buf.split(b"\n", 1)
    return line.decode(errors="replace"), rest
