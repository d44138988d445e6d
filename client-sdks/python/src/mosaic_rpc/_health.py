"""Passive health: an instance that fails is set aside for a while, then tried once.

A failure (a connection that would not open, a call that timed out or lost its connection)
ejects the instance for a backoff that starts at `EJECT_FIRST` seconds and doubles with each
ejection in a row, up to `EJECT_MAX`. When it runs out, one call is let through as a trial:
its success re-admits the instance (and resets the backoff), its failure ejects it again.
"""

from __future__ import annotations

import threading

__all__ = ["EJECT_FIRST", "EJECT_MAX", "Health"]

EJECT_FIRST = 1.0
EJECT_MAX = 30.0


class Health:
    """One instance's health, as seen by this client. Thread-safe; times are monotonic."""

    def __init__(self, first: float = EJECT_FIRST, most: float = EJECT_MAX) -> None:
        self._first = first
        self._most = most
        self._lock = threading.Lock()
        self._ejected_until: float | None = None
        self._streak = 0  # ejections in a row without a success between them
        self._trial = False  # a trial call is in flight
        #: When it last failed (``time.monotonic()``), or None.
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

    def picked(self) -> None:
        """A call goes to it: if it is ejected, that call is its trial."""
        with self._lock:
            if self._ejected_until is not None:
                self._trial = True

    def succeeded(self) -> None:
        with self._lock:
            self._ejected_until = None
            self._streak = 0
            self._trial = False

    def failed(self, now: float) -> None:
        with self._lock:
            self.last_failure = now
            if self._ejected_until is not None and not self._trial and now < self._ejected_until:
                return  # already out: calls that were in flight fail together, once
            self._streak += 1
            self.ejections += 1
            backoff = min(self._most, self._first * 2 ** (self._streak - 1))
            self._ejected_until = now + backoff
            self._trial = False

    def settled(self) -> None:
        """The trial call ended without telling (e.g. the caller's own error): let another."""
        with self._lock:
            self._trial = False
