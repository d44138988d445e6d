"""Where a client's connections go: endpoints, and the resolvers that list them.

The pool asks its resolver for endpoints each time it opens a connection, never caching
them itself, so a resolver backed by a service registry can change the answer between
connections without the call path knowing.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, TypeAlias

__all__ = ["Address", "Endpoint", "Resolver", "StaticResolver", "parse_endpoint"]


@dataclass(frozen=True)
class Endpoint:
    """One server address."""

    host: str
    port: int

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


#: What callers may pass as an address: ``"host:port"``, ``"[::1]:port"``, ``(host, port)``,
#: an `Endpoint`, or a list of those (tried in turn, starting after the last one that worked).
Address: TypeAlias = "str | tuple[str, int] | Endpoint | Sequence[str | tuple[str, int] | Endpoint]"


class Resolver(Protocol):
    """Lists the endpoints to try, in order, for the next connection."""

    def endpoints(self) -> Sequence[Endpoint]: ...

    def describe(self) -> str:
        """The addresses, for error messages."""
        ...

    def connected(self, endpoint: Endpoint) -> None:
        """Hears that a connection to ENDPOINT opened (a resolver may ignore it)."""
        ...


def parse_endpoint(value: str | tuple[str, int] | Endpoint) -> Endpoint:
    """``"host:port"``, ``"[v6]:port"``, ``(host, port)`` or an `Endpoint` as an `Endpoint`."""
    if isinstance(value, Endpoint):
        return value
    if isinstance(value, tuple):
        if len(value) != 2 or not isinstance(value[0], str) or not isinstance(value[1], int):
            raise TypeError(f"address {value!r}: expected (host, port)")
        return _checked(value[0], value[1], repr(value))
    if not isinstance(value, str):
        raise TypeError(f"address must be 'host:port' or (host, port), not {type(value).__name__}")
    host, sep, port_text = value.rpartition(":")
    if not sep or not port_text.isdigit():
        raise ValueError(f"address {value!r}: expected 'host:port'")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return _checked(host, int(port_text), repr(value))


def _checked(host: str, port: int, shown: str) -> Endpoint:
    if not host:
        raise ValueError(f"address {shown}: the host is empty")
    if not 0 < port < 65536:
        raise ValueError(f"address {shown}: port {port} is out of range")
    return Endpoint(host, port)


class StaticResolver:
    """A fixed list of endpoints, rotated so the one that last connected is tried first."""

    def __init__(self, address: Address) -> None:
        items: Sequence[str | tuple[str, int] | Endpoint]
        if isinstance(address, (str, tuple, Endpoint)):
            items = [address]  # a (host, port) tuple is one address
        else:
            items = list(address)
        if not items:
            raise ValueError("address: no endpoints given")
        self._endpoints = [parse_endpoint(item) for item in items]
        self._first = 0
        self._lock = threading.Lock()

    def endpoints(self) -> Sequence[Endpoint]:
        with self._lock:
            first = self._first
        return self._endpoints[first:] + self._endpoints[:first]

    def connected(self, endpoint: Endpoint) -> None:
        """Remembers that ENDPOINT worked, so the next connection tries it first."""
        with self._lock:
            self._first = self._endpoints.index(endpoint)

    def describe(self) -> str:
        return ", ".join(str(endpoint) for endpoint in self._endpoints)
