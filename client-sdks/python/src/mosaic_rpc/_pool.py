"""A thread-safe pool of connections to one service.

At most ``max_size`` connections are open at a time, counting those being opened. A caller
takes one connection for a whole call and gives it back afterwards: idle connections are
reused newest first (the one most likely still open), and one that failed in any way is
closed instead of returned, so no connection ever carries a call after a broken one.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from ._connection import Connection
from ._errors import ClosedError, Timeout

__all__ = ["ConnectionPool", "PoolStats"]


@dataclass(frozen=True)
class PoolStats:
    """A snapshot of a pool."""

    #: Connections open now (idle, in use, or being opened).
    open: int
    #: Of those, idle in the pool.
    idle: int
    #: The most connections open at once since the pool was made.
    peak_open: int
    #: Connections opened since the pool was made.
    opened: int
    max_size: int


class ConnectionPool:
    """Hands out connections made by ``opener(deadline)``, at most ``max_size`` at once."""

    def __init__(self, opener: Callable[[float], Connection], max_size: int) -> None:
        if max_size < 1:
            raise ValueError("pool_size must be at least 1")
        self._opener = opener
        self._max_size = max_size
        self._idle: list[Connection] = []
        self._open = 0
        self._peak = 0
        self._opened = 0
        self._closed = False
        self._cond = threading.Condition(threading.Lock())

    def acquire(self, deadline: float) -> Connection:
        """An idle connection, or a new one if fewer than ``max_size`` are open; otherwise
        waits for one to come back until DEADLINE (``time.monotonic()``), then raises
        `Timeout`. Raises what the opener raises if a new connection fails to open."""
        stale: list[Connection] = []
        try:
            with self._cond:
                while True:
                    if self._closed:
                        raise ClosedError("the client is closed")
                    while self._idle:
                        conn = self._idle.pop()
                        if conn.is_idle_and_alive():
                            return conn
                        # Closed by the server while idle (e.g. it restarted): never used.
                        stale.append(conn)
                        self._open -= 1
                    if self._open < self._max_size:
                        self._open += 1
                        self._opened += 1
                        self._peak = max(self._peak, self._open)
                        break
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        raise Timeout(
                            f"deadline passed waiting for a free connection "
                            f"(all {self._max_size} of pool_size in use)"
                        )
                    self._cond.wait(remaining)
        finally:
            for conn in stale:
                conn.close()
        try:
            return self._opener(deadline)
        except BaseException:
            with self._cond:
                self._open -= 1
                self._cond.notify()
            raise

    def release(self, conn: Connection, reusable: bool) -> None:
        """Gives CONN back: kept for reuse if REUSABLE and the pool is open, else closed."""
        with self._cond:
            if reusable and not self._closed:
                self._idle.append(conn)
                self._cond.notify()
                return
            self._open -= 1
            self._cond.notify()
        conn.close()

    def close(self) -> None:
        """Closes idle connections now and the others as they come back; wakes waiters."""
        with self._cond:
            self._closed = True
            idle, self._idle = self._idle, []
            self._open -= len(idle)
            self._cond.notify_all()
        for conn in idle:
            conn.close()

    @property
    def closed(self) -> bool:
        return self._closed

    def stats(self) -> PoolStats:
        with self._cond:
            return PoolStats(
                open=self._open,
                idle=len(self._idle),
                peak_open=self._peak,
                opened=self._opened,
                max_size=self._max_size,
            )
