"""Passive health: an instance that fails is set aside for a while, then tried once.

What an attempt says of its instance (`Verdict`):

* no connection (refused, or connecting timed out) or a connection lost mid-call: a
  failure, which ejects the instance at once;
* a call that timed out after its connection was made (sending, or waiting for the reply):
  one timeout in a row. `TIMEOUTS_TO_EJECT` in a row eject it, so a hung server (accepts,
  never answers) is set aside while one slow call (a large image) is not held against an
  instance that is alive;
* any answer (a reply, a declared exception, a server error, "overloaded"): the instance
  is alive, its count of timeouts goes back to 0.

An ejection lasts a backoff that starts at `EJECT_FIRST` seconds and doubles with each
ejection in a row, up to `EJECT_MAX`. When it runs out, one call is let through as a trial:
an answer re-admits the instance (and resets the backoff), a failure or a timeout ejects it
again at once (a trial is a test: its timeout is not counted towards `TIMEOUTS_TO_EJECT`).
Calls that were in flight when it was ejected, and fail while it is out, do not lengthen
the backoff.
"""

from __future__ import annotations

import enum
import threading

__all__ = ["EJECT_FIRST", "EJECT_MAX", "TIMEOUTS_TO_EJECT", "Health", "Verdict"]

EJECT_FIRST = 1.0
EJECT_MAX = 30.0
#: Calls timed out in a row (each after its connection was made) that eject an instance.
TIMEOUTS_TO_EJECT = 3


class Verdict(enum.Enum):
    """What one attempt says of its instance's health."""

    #: The server answered (a reply, a declared exception, a server error, overloaded).
    ANSWERED = enum.auto()
    #: No connection could be opened, or it was lost mid-call: ejects it at once.
    FAILED = enum.auto()
    #: Connected, then the deadline passed sending or waiting for the reply.
    TIMED_OUT = enum.auto()
    #: Nothing either way (e.g. waiting for a pooled connection, the caller's own error).
    UNKNOWN = enum.auto()


class Health:
    """One instance's health, as seen by this client. Thread-safe; times are monotonic."""

    def __init__(
        self,
        first: float = EJECT_FIRST,
        most: float = EJECT_MAX,
        timeouts_to_eject: int = TIMEOUTS_TO_EJECT,
    ) -> None:
        if timeouts_to_eject < 1:
            raise ValueError("timeouts_to_eject must be at least 1")
        self._first = first
        self._most = most
        self._timeouts_to_eject = timeouts_to_eject
        self._lock = threading.Lock()
        self._ejected_until: float | None = None
        self._streak = 0  # ejections in a row without an answer between them
        self._timeouts = 0  # calls timed out in a row while it was in service
        self._trial = False  # a trial call is in flight
        #: When it last failed or timed out (``time.monotonic()``), or None.
        self.last_failure: float | None = None
        #: How many times it was ejected.
        self.ejections = 0

    def ejected(self, now: float) -> bool:
        """True while it is ejected, or its trial call is still out."""
        with self._lock:
            if self._ejected_until is None:
                return False
            return self._trial or now < self._ejected_until

    def available(self, now: float) -> bool:
        """True if a call may go to it now (healthy, or its backoff ran out)."""
        return not self.ejected(now)

    @property
    def timeouts(self) -> int:
        """Calls timed out in a row since its last answer (0 once that ejected it)."""
        with self._lock:
            return self._timeouts

    def picked(self) -> None:
        """A call goes to it: if it is ejected, that call is its trial."""
        with self._lock:
            if self._ejected_until is not None:
                self._trial = True

    def record(self, verdict: Verdict, now: float) -> None:
        """What an attempt that ended at NOW said of it."""
        if verdict is Verdict.ANSWERED:
            self.succeeded()
        elif verdict is Verdict.FAILED:
            self.failed(now)
        elif verdict is Verdict.TIMED_OUT:
            self.timed_out(now)
        else:
            self.settled()

    def succeeded(self) -> None:
        """It answered: re-admitted if it was out, its timeouts forgotten."""
        with self._lock:
            self._ejected_until = None
            self._streak = 0
            self._timeouts = 0
            self._trial = False

    def failed(self, now: float) -> None:
        """No connection, or one lost mid-call: ejected at once."""
        with self._lock:
            self.last_failure = now
            self._eject(now)

    def timed_out(self, now: float) -> None:
        """A call timed out after its connection was made: ejected at the
        `TIMEOUTS_TO_EJECT`-th in a row, or at once if it was out (its trial)."""
        with self._lock:
            self.last_failure = now
            if self._ejected_until is None:
                self._timeouts += 1
                if self._timeouts < self._timeouts_to_eject:
                    return
            self._eject(now)

    def settled(self) -> None:
        """The trial call ended without telling (e.g. the caller's own error): let another."""
        with self._lock:
            self._trial = False

    def _eject(self, now: float) -> None:
        # Holding the lock.
        if self._ejected_until is not None and not self._trial and now < self._ejected_until:
            return  # already out: calls that were in flight fail together, once
        self._streak += 1
        self.ejections += 1
        backoff = min(self._most, self._first * 2 ** (self._streak - 1))
        self._ejected_until = now + backoff
        self._timeouts = 0
        self._trial = False
