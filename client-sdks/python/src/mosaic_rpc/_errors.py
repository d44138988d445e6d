"""The exceptions a Mosaic client raises for everything that is not the service's own.

Exceptions the IDL declares (``throws``) are not wrapped: they reach the caller as the
generated classes, so ``except InvalidImage`` works as it does with plain Thrift stubs.
"""

from __future__ import annotations

__all__ = [
    "ClosedError",
    "ConnectError",
    "MosaicError",
    "ProtocolError",
    "RemoteError",
    "Timeout",
    "TransportError",
]


class MosaicError(Exception):
    """Base of every error the client raises on its own account."""


class TransportError(MosaicError):
    """The connection to ``address`` failed during a call.

    ``may_have_run`` is True when the connection was lost after the request was sent (the
    server may have run the call): such a call is retried only with ``idempotent=True``.
    False means the request never got out whole, so the server cannot have run it.
    """

    def __init__(self, message: str, address: str, *, may_have_run: bool = True) -> None:
        super().__init__(message)
        self.address = address
        self.may_have_run = may_have_run


class ConnectError(TransportError):
    """No connection could be opened to ``address``: the request was never sent."""

    def __init__(self, message: str, address: str) -> None:
        super().__init__(message, address, may_have_run=False)


class Timeout(MosaicError, TimeoutError):
    """The call's deadline passed: while waiting for a free connection, connecting,
    sending or waiting for the reply. The server may or may not have run the call."""


class ProtocolError(MosaicError):
    """The server's reply could not be decoded, or broke the protocol."""


class RemoteError(MosaicError):
    """The server answered with a ``TApplicationException`` (unknown method, internal error,
    bad arguments, ...).

    ``type`` is the exception's type code (``thrift.Thrift.TApplicationException.UNKNOWN_METHOD``
    and friends), ``type_name`` its name, and ``message`` the server's message.
    """

    def __init__(self, type: int, type_name: str, message: str, method: str) -> None:
        super().__init__(f"{method}: server error {type_name} ({type}): {message}")
        self.type = type
        self.type_name = type_name
        self.message = message
        self.method = method


class ClosedError(MosaicError):
    """The client was closed; it makes no more calls."""
