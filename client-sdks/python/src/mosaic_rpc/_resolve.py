"""Where a client's calls go: endpoints, and the sources that list a service's instances.

A source (`Membership`) fills the client's list of instances when the client is made and
may keep it current afterwards: `StaticMembership` holds a fixed list of addresses, the
registry's (`mosaic_rpc._discovery`) follows what the registry reports.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol, TypeAlias

__all__ = [
    "Address",
    "Endpoint",
    "InstanceInfo",
    "Membership",
    "StaticMembership",
    "parse_addresses",
    "parse_endpoint",
]


@dataclass(frozen=True)
class Endpoint:
    """One server address."""

    host: str
    port: int

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


#: What callers may pass as an address: ``"host:port"``, ``"[::1]:port"``, ``(host, port)``,
#: an `Endpoint`, or a list of those (a client balances calls across them).
Address: TypeAlias = "str | tuple[str, int] | Endpoint | Sequence[str | tuple[str, int] | Endpoint]"


@dataclass(frozen=True)
class InstanceInfo:
    """One instance of a service as listed (by the registry, or as a static address)."""

    endpoint: Endpoint
    weight: int = 100
    zone: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    #: The registry's id of it (its lease), None for a static address.
    id: int | None = None


#: Receives the whole list of instances each time it changes.
Update: TypeAlias = Callable[[Sequence[InstanceInfo]], None]


class Membership(Protocol):
    """Where a client's list of instances comes from."""

    def start(self, update: Update) -> None:
        """Calls UPDATE with the list before returning, and again whenever it changes."""
        ...

    def describe(self) -> str:
        """Where the list comes from, for messages."""
        ...

    def close(self) -> None:
        """Stops updating (promptly; idempotent)."""
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


def parse_addresses(address: Address, what: str = "address") -> list[Endpoint]:
    """ADDRESS (one address or a list of them) as endpoints; never empty."""
    items: Sequence[str | tuple[str, int] | Endpoint]
    if isinstance(address, (str, tuple, Endpoint)):
        items = [address]  # a (host, port) tuple is one address
    else:
        items = list(address)
    if not items:
        raise ValueError(f"{what}: no endpoints given")
    return [parse_endpoint(item) for item in items]


class StaticMembership:
    """A fixed list of addresses, each an instance of weight 100."""

    def __init__(self, address: Address) -> None:
        endpoints = parse_addresses(address)
        # The same address twice is one instance.
        self._endpoints = list(dict.fromkeys(endpoints))

    def start(self, update: Update) -> None:
        update([InstanceInfo(endpoint) for endpoint in self._endpoints])

    def describe(self) -> str:
        return ", ".join(str(endpoint) for endpoint in self._endpoints)

    def close(self) -> None:
        pass
