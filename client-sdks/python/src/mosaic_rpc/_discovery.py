# mypy: disable-error-code="import-untyped"
"""A service's instances from Mosaic's registry: one lookup, then a watch that follows it.

`RegistryMembership.start` looks the service up (trying each registry address in turn) and
starts a daemon thread that long-polls ``Registry.watch`` with the version it holds. While
the registry is unreachable or answers errors, the client keeps the last list it had; the
thread retries with a growing pause, moving on to the next registry address each time.
`close` wakes the thread out of its poll (its socket is shut down) and waits for it.
"""

from __future__ import annotations

import functools
import random
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from ._connection import Connection, ConnectionOptions, open_connection
from ._errors import ConnectError
from ._gen.mosaic.common.ttypes import InvalidArgument
from ._gen.mosaic.registry import Registry
from ._gen.mosaic.registry.ttypes import Instances
from ._resolve import Endpoint, InstanceInfo, Update

__all__ = ["RegistryMembership"]

_T = TypeVar("_T")
_BACKOFF_FIRST = 0.1
_BACKOFF_MAX = 5.0
# How much longer than the poll a watch call may take before it counts as lost.
_WATCH_MARGIN = 5.0


def instance_infos(listed: Instances) -> list[InstanceInfo]:
    """The registry's answer as the client's list."""
    return [
        InstanceInfo(
            endpoint=Endpoint(item.host or "", item.port or 0),
            weight=item.weight if item.weight is not None else 100,
            zone=item.zone,
            tags=dict(item.tags or {}),
            id=item.id,
        )
        for item in listed.instances or []
    ]


class RegistryMembership:
    """Follows SERVICE_NAME's instances in the registry at REGISTRIES (tried in turn)."""

    def __init__(
        self,
        service_name: str,
        registries: Sequence[Endpoint],
        options: ConnectionOptions,
        *,
        call_timeout: float,
        watch_timeout: float = 30.0,
    ) -> None:
        if not registries:
            raise ValueError("registry: no addresses given")
        if not 0 < watch_timeout <= 300:
            raise ValueError("watch_timeout must be more than 0 and at most 300 seconds")
        self.service_name = service_name
        self._registries = list(registries)
        # Registries speak framed binary; only the connect limit is the caller's.
        self._options = ConnectionOptions(connect_timeout=options.connect_timeout)
        self._call_timeout = call_timeout
        self._watch_ms = int(watch_timeout * 1000)
        self._current = 0
        self._conn: Connection | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        #: The version of the list the client holds.
        self.version: int | None = None
        #: Why the last call to the registry failed (None after one succeeds).
        self.last_error: Exception | None = None

    def describe(self) -> str:
        registries = ", ".join(str(endpoint) for endpoint in self._registries)
        return f"{self.service_name} in the registry at {registries}"

    # ---- the Membership protocol --------------------------------------------------------

    def start(self, update: Update) -> None:
        """Looks the service up (each registry once, in turn), hands UPDATE the list and
        starts following it. Raises `ConnectError` if no registry answers."""
        problems: list[str] = []
        for _ in self._registries:
            try:
                listed = self._ask(lambda stub: stub.lookup(self.service_name), self._call_timeout)
                break
            except Exception as err:
                if isinstance(err, InvalidArgument):
                    raise  # the registry's own answer (a bad service name): final
                problems.append(f"{self._registries[self._current]}: {err}")
                self._next_registry()
        else:
            addresses = ", ".join(str(endpoint) for endpoint in self._registries)
            raise ConnectError(
                f"no registry answered the lookup of {self.service_name}: {'; '.join(problems)}",
                addresses,
            )
        self.version = listed.version
        update(instance_infos(listed))
        self._thread = threading.Thread(
            target=self._follow, args=(update,), name=f"mosaic-watch-{self.service_name}"
        )
        self._thread.daemon = True
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        with self._lock:
            conn = self._conn
        if conn is not None:
            conn.abort()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(5.0)

    # ---- the watch ----------------------------------------------------------------------

    def _follow(self, update: Update) -> None:
        failures = 0
        while not self._stop.is_set():
            known = self.version if self.version is not None else 0
            try:
                listed = self._ask(
                    functools.partial(self._watch, known=known),
                    self._watch_ms / 1000 + _WATCH_MARGIN,
                )
            except Exception as err:
                if self._stop.is_set():
                    break
                self.last_error = err
                self._next_registry()
                failures += 1
                pause = min(_BACKOFF_MAX, _BACKOFF_FIRST * 2 ** (failures - 1))
                self._stop.wait(pause * random.uniform(0.5, 1.0))
                continue
            failures = 0
            self.last_error = None
            if listed.version != self.version and not self._stop.is_set():
                self.version = listed.version
                update(instance_infos(listed))
        self._drop()

    def _watch(self, stub: Any, known: int) -> Instances:
        listed: Instances = stub.watch(self.service_name, known, self._watch_ms)
        return listed

    def _ask(self, call: Callable[[Any], _T], timeout: float) -> _T:
        """CALL on the registry client stub of the current address, within TIMEOUT seconds.
        Any failure drops the connection (the next call opens a fresh one)."""
        deadline = time.monotonic() + timeout
        with self._lock:
            conn = self._conn
        if conn is None:
            endpoint = self._registries[self._current]
            conn = open_connection(
                [endpoint], Registry.Client, self._options, deadline, str(endpoint)
            )
            with self._lock:
                if self._stop.is_set():
                    conn.close()
                    raise ConnectError("the client is closed", str(endpoint))
                self._conn = conn
        conn.set_deadline(deadline)
        try:
            result = call(conn.stub)
        except BaseException:
            self._drop()
            raise
        conn.set_deadline(None)
        return result

    def _drop(self) -> None:
        with self._lock:
            conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()

    def _next_registry(self) -> None:
        self._drop()
        self._current = (self._current + 1) % len(self._registries)
