# mypy: disable-error-code="import-untyped"
"""The client: a service's methods as blocking calls, balanced over a service's instances.

One call = pick an instance (`Cluster`), take a connection from its pool, run the generated
``send_x`` then ``recv_x`` on it under one deadline, give the connection back (or close it
if anything went wrong). An instance that refuses the connection is passed over for the
next one at once; a retry goes to an instance the call has not tried yet, when there is
one. Splitting send from
receive is what tells a safe retry from an unsafe one: a call that failed before its request
was fully written cannot have run on the server; one that failed later may have. A server
that answers "overloaded" also says it did not start the call, so that is retried as well.
"""

from __future__ import annotations

import functools
import random
import struct
import threading
import time
import weakref
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Any, NoReturn

from thrift.protocol.TProtocol import TProtocolException
from thrift.Thrift import TApplicationException, TException
from thrift.transport.TTransport import TTransportException

from ._balance import Balancer
from ._connection import Connection, ConnectionOptions, ConnectTimeout, open_connection
from ._errors import ClosedError, ConnectError, ProtocolError, RemoteError, Timeout, TransportError
from ._gen.mosaic.common.ttypes import Overloaded
from ._health import Verdict
from ._instances import Cluster, InstanceStats, Member
from ._pool import PoolStats
from ._resolve import Endpoint, Membership
from ._services import Method, ServiceSpec

__all__ = ["Client"]

_BACKOFF_FIRST = 0.05
_BACKOFF_MAX = 1.0
# After these, the server closes the connection; do not wait to find that out.
_FATAL_APPLICATION_ERRORS = frozenset(
    {TApplicationException.PROTOCOL_ERROR, TApplicationException.INVALID_PROTOCOL}
)
# Mosaic's TApplicationException type for "at capacity, the call was not started".
_OVERLOADED = 100
_APPLICATION_ERROR_NAMES = {
    value: name
    for name, value in vars(TApplicationException).items()
    if name.isupper() and isinstance(value, int)
}


class _Failed(Exception):
    """An attempt failed with ERROR (raised as is if it is not tried again).

    ``sent``: the request may have reached a handler, so only an idempotent call may be
    retried. ``wait``: the least pause before retrying that the server asked for.
    """

    def __init__(self, error: Exception, sent: bool, wait: float = 0.0) -> None:
        super().__init__(str(error))
        self.error = error
        self.sent = sent
        self.wait = wait


def _overloaded_wait(error: Exception) -> float | None:
    """For Mosaic's ``common.Overloaded`` (the server did not start the work, so a retry is
    safe), the pause it asks for in seconds; None for any other exception. Matched by name
    and field as well as by class, so stubs of ``common.thrift`` generated elsewhere count."""
    if not isinstance(error, Overloaded) and not (
        type(error).__name__ == "Overloaded" and hasattr(error, "retry_after_ms")
    ):
        return None
    retry_after_ms = getattr(error, "retry_after_ms", None)
    return max(0, retry_after_ms) / 1000 if isinstance(retry_after_ms, int) else 0.0


def _backoff(retry: int) -> float:
    """The pause before retry number RETRY (0, 1, ...): doubling, capped, jittered."""
    base: float = min(_BACKOFF_MAX, _BACKOFF_FIRST * (2**retry))
    return base * random.uniform(0.5, 1.0)


class _BoundMethod:
    """``client.method(*args, timeout=None, idempotent=False, key=None, **kwargs)``."""

    def __init__(self, client: Client, method: Method) -> None:
        self._client = client
        self._method = method
        self.__name__ = method.name
        self.__doc__ = method.doc

    def __call__(
        self,
        *args: Any,
        timeout: float | None = None,
        idempotent: bool = False,
        key: str | bytes | None = None,
        **kwargs: Any,
    ) -> Any:
        return self._client._call(self._method, args, kwargs, timeout, idempotent, key)

    def __repr__(self) -> str:
        return f"<method {self._method.name} of {self._client!r}>"


class Client:
    """A pooled, thread-safe client of one service; make it with `mosaic_rpc.connect`.

    Each method of the service is an attribute taking the method's arguments plus three
    keywords (pass any IDL argument that has one of these names positionally):

    * ``timeout``: seconds for this call (waiting for a connection, connecting, sending and
      receiving); the client's ``timeout`` when None;
    * ``idempotent``: True if running the call twice is harmless, which lets the client
      retry it after a failure that may have happened once the server had the request;
    * ``key``: for ``balancer="hash"``, what the call is about (e.g. a model's name): calls
      with the same key go to the same instance while it is listed and healthy.

    A method whose name collides with the client's own attributes (``close``, ``call``,
    ``pool_stats``, ``instances``, ``closed``) is reached with ``client.call("close", ...)``.
    """

    def __init__(
        self,
        spec: ServiceSpec,
        membership: Membership,
        options: ConnectionOptions,
        *,
        timeout: float,
        retries: int,
        pool_size: int,
        balancer: Balancer,
        zone: str | None = None,
        tags: Mapping[str, str] | None = None,
        service_name: str | None = None,
    ) -> None:
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        if retries < 0:
            raise ValueError("retries must be 0 or more")
        self._spec = spec
        self._membership = membership
        self._options = options
        self._timeout = timeout
        self._retries = retries
        # The opener holds no reference to the client, so a dropped client can be collected.
        opener = functools.partial(_open, spec.client_class, options)
        self._cluster = Cluster(
            opener,
            pool_size,
            balancer,
            zone,
            membership.describe,
            tags=tags,
            service=service_name or spec.name,
        )
        self._close_lock = threading.Lock()
        for method in spec.methods.values():
            if not hasattr(type(self), method.name):
                self.__dict__[method.name] = _BoundMethod(self, method)
        membership.start(self._cluster.update)
        # A client dropped without close() still stops its watch thread and its pools.
        weakref.finalize(self, _close_all, membership, self._cluster)

    # ---- the public surface -------------------------------------------------------------

    def call(
        self,
        method: str,
        *args: Any,
        timeout: float | None = None,
        idempotent: bool = False,
        key: str | bytes | None = None,
        **kwargs: Any,
    ) -> Any:
        """Calls METHOD by name, as ``client.METHOD(*args, **kwargs)`` would."""
        found = self._spec.methods.get(method)
        if found is None:
            raise AttributeError(f"service {self._spec.name} has no method {method!r}")
        return self._call(found, args, kwargs, timeout, idempotent, key)

    def close(self) -> None:
        """Stops following the registry and closes every connection (those in use as their
        calls end); calls made afterwards raise `ClosedError`. Idempotent."""
        with self._close_lock:
            self._membership.close()
            self._cluster.close()

    @property
    def closed(self) -> bool:
        return self._cluster.closed

    def pool_stats(self) -> PoolStats:
        """The connection pools' counters, summed over the instances."""
        return self._cluster.pool_stats()

    def instances(self) -> tuple[InstanceStats, ...]:
        """Each instance listed now, with this client's counters for it."""
        return self._cluster.stats()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __getattr__(self, name: str) -> Any:
        # Only reached for names that are not service methods (those are instance attributes).
        if name.startswith("_"):  # e.g. `_spec` before __init__ set it: no recursion
            raise AttributeError(name)
        raise AttributeError(
            f"service {self._spec.name} has no method {name!r} "
            f"(it has: {', '.join(sorted(self._spec.methods))})"
        )

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | set(self._spec.methods))

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        return f"<mosaic_rpc.Client {self._spec.name} at {self._membership.describe()} ({state})>"

    # ---- the call path --------------------------------------------------------------------

    def _call(
        self,
        method: Method,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        timeout: float | None,
        idempotent: bool,
        key: str | bytes | None,
    ) -> Any:
        if self._cluster.closed:
            raise ClosedError(f"{method.name}: the client is closed")
        budget = self._timeout if timeout is None else timeout
        if budget <= 0:
            raise ValueError("timeout must be positive")
        if isinstance(key, str):
            key = key.encode()
        elif key is not None and not isinstance(key, bytes):
            raise TypeError(f"key must be str or bytes, not {type(key).__name__}")
        deadline = time.monotonic() + budget
        tried: set[str] = set()
        retry = 0
        while True:
            try:
                return self._attempt(method, args, kwargs, deadline, budget, key, tried)
            except _Failed as caught:
                failed = caught
            # Out of the except block, so what is raised is not chained to _Failed.
            may_retry = retry < self._retries and (idempotent or not failed.sent)
            # Another instance goes at once; the same one again after a pause (and after at
            # least what it asked for, if it was overloaded).
            elsewhere = self._cluster.has_untried(tried)
            pause = 0.0 if elsewhere else max(_backoff(retry), failed.wait)
            if not may_retry or time.monotonic() + pause >= deadline:
                self._raise_final(failed.error, retry + 1)
            if pause:
                time.sleep(pause)
            if not elsewhere:
                tried.clear()
            retry += 1

    @staticmethod
    def _raise_final(error: Exception, attempts: int) -> NoReturn:
        if attempts == 1 or not isinstance(error, TransportError):
            raise error
        # Same class and address, with the count of attempts; the first cause kept.
        message = f"{error} (after {attempts} attempts)"
        final = (
            ConnectError(message, error.address)
            if isinstance(error, ConnectError)
            else TransportError(message, error.address, may_have_run=error.may_have_run)
        )
        raise final from error.__cause__

    def _connect(
        self, key: bytes | None, tried: set[str], deadline: float
    ) -> tuple[Member, Connection]:
        """A connection for one attempt: an instance that refuses is passed over for the
        next untried one at once, healthy ones first, then the ejected ones."""
        refused: list[ConnectError] = []
        while True:
            member = self._cluster.pick(key, tried)
            tried.add(member.name)
            try:
                return member, member.pool.acquire(deadline)
            except ConnectError as err:
                self._cluster.finish(member, error=True, verdict=Verdict.FAILED)
                refused.append(err)
                if not self._cluster.has_untried(tried, ejected_too=True):
                    raise _Failed(_joined(refused), sent=False) from err
            except ClosedError:
                # Its pool closed under us: the instance left the list. Not the client's
                # closing (pick raises that): pick again.
                self._cluster.finish(member, error=False, verdict=Verdict.UNKNOWN)
            except Timeout as err:
                # A server that does not accept is unwell; a full pool tells nothing of it.
                connecting = isinstance(err, ConnectTimeout)
                self._cluster.finish(
                    member, error=True, verdict=Verdict.FAILED if connecting else Verdict.UNKNOWN
                )
                raise
            except BaseException:
                self._cluster.finish(member, error=True, verdict=Verdict.UNKNOWN)
                raise

    def _attempt(
        self,
        method: Method,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        deadline: float,
        budget: float,
        key: bytes | None,
        tried: set[str],
    ) -> Any:
        member, conn = self._connect(key, tried, deadline)
        reusable = False
        # What the attempt says of the instance (see Verdict); changed as it goes.
        error = True
        verdict = Verdict.UNKNOWN
        try:
            conn.set_deadline(deadline)
            where = f"{self._spec.name}.{method.name} to {conn.endpoint}"
            try:
                getattr(conn.stub, f"send_{method.name}")(*args, **kwargs)
            except TTransportException as err:
                if err.type == TTransportException.TIMED_OUT:
                    verdict = Verdict.TIMED_OUT
                    raise Timeout(f"{where}: deadline of {budget:g} s passed sending") from err
                verdict = Verdict.FAILED
                # The request did not get out whole, so the server cannot have run it.
                lost = TransportError(f"{where}: {err}", str(conn.endpoint), may_have_run=False)
                raise _Failed(lost, sent=False) from err
            if method.oneway:
                reusable = True
                error = False
                return None
            try:
                result = getattr(conn.stub, f"recv_{method.name}")()
            except TTransportException as err:
                if err.type == TTransportException.TIMED_OUT:
                    verdict = Verdict.TIMED_OUT
                    raise Timeout(f"{where}: no reply within {budget:g} s") from err
                if err.type in (TTransportException.SIZE_LIMIT, TTransportException.NEGATIVE_SIZE):
                    raise ProtocolError(f"{where}: {err}") from err
                verdict = Verdict.FAILED
                lost = TransportError(
                    f"{where}: connection lost waiting for the reply "
                    f"(the server may have run the call): {err}",
                    str(conn.endpoint),
                )
                raise _Failed(lost, sent=True) from err
            except EOFError as err:
                verdict = Verdict.FAILED
                lost = TransportError(f"{where}: connection closed mid-reply", str(conn.endpoint))
                raise _Failed(lost, sent=True) from err
            except TApplicationException as err:
                verdict = Verdict.ANSWERED
                reusable = err.type not in _FATAL_APPLICATION_ERRORS
                type_name = _APPLICATION_ERROR_NAMES.get(err.type, "UNKNOWN")
                if err.type == _OVERLOADED:
                    type_name = "OVERLOADED"
                remote = RemoteError(err.type, type_name, err.message or "", method.name)
                remote.__cause__ = err
                if err.type == _OVERLOADED:  # refused before any handler ran: safe to retry
                    raise _Failed(remote, sent=False) from err
                raise remote from err
            except TProtocolException as err:
                raise ProtocolError(f"{where}: bad reply: {err}") from err
            except TException as err:
                # Declared by the IDL: the reply was read whole, the connection is fine.
                reusable = True
                verdict = Verdict.ANSWERED
                wait = _overloaded_wait(err)
                if wait is not None:
                    raise _Failed(err, sent=False, wait=wait) from None
                error = False
                raise
            except (ValueError, TypeError, OverflowError, struct.error) as err:
                raise ProtocolError(f"{where}: bad reply: {err!r}") from err
            reusable = True
            error, verdict = False, Verdict.ANSWERED
            return result
        finally:
            conn.set_deadline(None)
            member.pool.release(conn, reusable)
            self._cluster.finish(member, error=error, verdict=verdict)


def _open(
    client_class: Any, options: ConnectionOptions, endpoint: Endpoint, deadline: float
) -> Connection:
    return open_connection([endpoint], client_class, options, deadline, str(endpoint))


def _close_all(membership: Membership, cluster: Cluster) -> None:
    membership.close()
    cluster.close()


def _joined(refused: Sequence[ConnectError]) -> ConnectError:
    """One `ConnectError` for the instances that refused one attempt."""
    if len(refused) == 1:
        return refused[0]
    error = ConnectError(
        "; ".join(str(err) for err in refused), ", ".join(err.address for err in refused)
    )
    error.__cause__ = refused[-1].__cause__
    return error
