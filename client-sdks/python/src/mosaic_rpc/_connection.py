# mypy: disable-error-code="import-untyped"
"""One TCP connection to a server, with the generated client stub that speaks over it.

The socket is wrapped in a small transport of our own (not Apache's ``TSocket``) so every
read and write is bounded by the current call's deadline, and so failures arrive as
``TTransportException``s whose type says what happened (timed out, closed, reset).
"""

from __future__ import annotations

import inspect
import select
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from thrift.protocol import TBinaryProtocol, TCompactProtocol
from thrift.protocol.TMultiplexedProtocol import TMultiplexedProtocol
from thrift.transport import TTransport
from thrift.transport.TTransport import TTransportException

from ._errors import ConnectError, Timeout
from ._resolve import Endpoint

__all__ = ["ConnectTimeout", "Connection", "ConnectionOptions", "open_connection"]

PROTOCOLS = ("binary", "compact")
TRANSPORTS = ("framed", "buffered")
_READ_BUFFER = 64 * 1024


class ConnectTimeout(Timeout):
    """The call's deadline passed while connecting (a `Timeout` to the caller; to passive
    health, a server that does not accept)."""


@dataclass(frozen=True)
class ConnectionOptions:
    """How connections are opened and what they speak."""

    protocol: str = "binary"
    transport: str = "framed"
    multiplexed_name: str | None = None
    connect_timeout: float = 5.0
    #: The largest reply accepted (frame and string/binary length limit).
    max_message_size: int = 96 * 1024 * 1024

    def __post_init__(self) -> None:
        if self.protocol not in PROTOCOLS:
            raise ValueError(f"protocol must be one of {PROTOCOLS}, not {self.protocol!r}")
        if self.transport not in TRANSPORTS:
            raise ValueError(f"transport must be one of {TRANSPORTS}, not {self.transport!r}")
        if self.connect_timeout <= 0:
            raise ValueError("connect_timeout must be positive")
        if self.max_message_size <= 0:
            raise ValueError("max_message_size must be positive")


class _DeadlineSocket(TTransport.TTransportBase):  # type: ignore[misc]
    """Apache's transport interface over a connected socket, bounded by ``deadline``."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        #: ``time.monotonic()`` by which the current call must be done; None: no bound.
        self.deadline: float | None = None

    def _arm(self, doing: str) -> None:
        if self.deadline is None:
            self._sock.settimeout(None)
            return
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise TTransportException(TTransportException.TIMED_OUT, f"deadline passed {doing}")
        self._sock.settimeout(remaining)

    def isOpen(self) -> bool:
        return self._sock.fileno() != -1

    def read(self, sz: int) -> bytes:
        self._arm("waiting for the reply")
        try:
            data = self._sock.recv(sz)
        except TimeoutError as err:
            raise TTransportException(
                TTransportException.TIMED_OUT, "timed out waiting for the reply", inner=err
            ) from err
        except OSError as err:
            raise TTransportException(
                TTransportException.UNKNOWN, f"reading the reply failed: {err}", inner=err
            ) from err
        if not data:
            raise TTransportException(
                TTransportException.END_OF_FILE, "the server closed the connection"
            )
        return data

    def write(self, buf: bytes) -> None:
        self._arm("sending the request")
        try:
            self._sock.sendall(buf)
        except TimeoutError as err:
            raise TTransportException(
                TTransportException.TIMED_OUT, "timed out sending the request", inner=err
            ) from err
        except OSError as err:
            raise TTransportException(
                TTransportException.NOT_OPEN, f"sending the request failed: {err}", inner=err
            ) from err

    def flush(self) -> None:
        pass

    def close(self) -> None:
        self._sock.close()


def _accepts(cls: type, parameter: str) -> bool:
    """True if CLS's constructor takes PARAMETER (older thrift releases lack some)."""
    try:
        return parameter in inspect.signature(cls).parameters
    except (TypeError, ValueError):
        return False


_FRAMED_HAS_LIMIT = _accepts(TTransport.TFramedTransport, "max_frame_size")


def _wrap_transport(raw: _DeadlineSocket, options: ConnectionOptions) -> Any:
    if options.transport == "framed":
        if _FRAMED_HAS_LIMIT:
            return TTransport.TFramedTransport(raw, max_frame_size=options.max_message_size)
        return TTransport.TFramedTransport(raw)
    return TTransport.TBufferedTransport(raw, _READ_BUFFER)


def _make_protocol(trans: Any, options: ConnectionOptions) -> Any:
    # The accelerated classes fall back to pure Python when thrift's C extension is absent.
    limits = {"string_length_limit": options.max_message_size}
    if options.protocol == "compact":
        return TCompactProtocol.TCompactProtocolAccelerated(trans, fallback=True, **limits)
    return TBinaryProtocol.TBinaryProtocolAccelerated(
        trans, strictRead=False, strictWrite=True, fallback=True, **limits
    )


def _readable(sock: socket.socket) -> bool:
    """True if a read on SOCK would not block (data or end of stream waiting)."""
    if hasattr(select, "poll"):  # select() fails for descriptors past FD_SETSIZE
        poller = select.poll()
        poller.register(sock, select.POLLIN)
        return bool(poller.poll(0))
    readable, _, _ = select.select([sock], [], [], 0)
    return bool(readable)


class Connection:
    """A connected socket, its Thrift transport and protocol, and a generated client on it.

    Used by one call at a time (the pool sees to that).
    """

    def __init__(
        self,
        sock: socket.socket,
        endpoint: Endpoint,
        client_class: Callable[[Any, Any], Any],
        options: ConnectionOptions,
    ) -> None:
        self.endpoint = endpoint
        self._sock = sock
        self._raw = _DeadlineSocket(sock)
        self._transport = _wrap_transport(self._raw, options)
        protocol = _make_protocol(self._transport, options)
        output = protocol
        if options.multiplexed_name is not None:
            output = TMultiplexedProtocol(protocol, options.multiplexed_name)
        #: The generated ``Client`` (``send_x``/``recv_x`` per method) on this connection.
        self.stub: Any = client_class(protocol, output)

    def set_deadline(self, deadline: float | None) -> None:
        """Bounds every read and write of the next call by DEADLINE (``time.monotonic()``)."""
        self._raw.deadline = deadline

    def is_idle_and_alive(self) -> bool:
        """False if the server closed the connection (or sent bytes nobody asked for) while
        it sat idle in the pool: such a connection must not carry a request."""
        if self._sock.fileno() == -1:
            return False
        try:
            return not _readable(self._sock)
        except (OSError, ValueError):
            return False

    def abort(self) -> None:
        """Shuts the socket down from another thread: a call blocked on it fails at once."""
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def close(self) -> None:
        try:
            self._transport.close()
        except OSError:
            pass


def open_connection(
    endpoints: Sequence[Endpoint],
    client_class: Callable[[Any, Any], Any],
    options: ConnectionOptions,
    deadline: float,
    describe: str,
) -> Connection:
    """Connects to the first of ENDPOINTS that accepts, within ``connect_timeout`` each and
    DEADLINE overall.

    Raises `ConnectError` (naming the addresses) if none accepts, `Timeout` if DEADLINE passes.
    """
    failures: list[str] = []
    several = len(endpoints) > 1
    for endpoint in endpoints:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise ConnectTimeout(f"deadline passed while connecting to {describe}")
        limit = min(options.connect_timeout, remaining)
        try:
            sock = socket.create_connection((endpoint.host, endpoint.port), timeout=limit)
        except TimeoutError:
            if limit < options.connect_timeout:
                raise ConnectTimeout(f"deadline passed while connecting to {endpoint}") from None
            failures.append(f"{endpoint}: " * several + f"timed out after {limit:g} s")
            continue
        except OSError as err:
            failures.append(f"{endpoint}: " * several + f"{err.strerror or err}")
            continue
        try:
            # Requests and replies are single writes; Nagle would only delay them.
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
            return Connection(sock, endpoint, client_class, options)
        except BaseException:
            sock.close()
            raise
    raise ConnectError(f"could not connect to {describe}: {'; '.join(failures)}", describe)
