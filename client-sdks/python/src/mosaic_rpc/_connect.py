"""`connect`: the one entry point that makes a client."""

from __future__ import annotations

from collections.abc import Mapping
from types import ModuleType
from typing import Any, Literal, overload

from ._balance import BALANCERS, BalancerName, make_balancer
from ._client import Client
from ._connection import ConnectionOptions
from ._discovery import RegistryMembership
from ._image_client import ImageServiceClient
from ._resolve import Address, Membership, StaticMembership, parse_addresses
from ._services import service_spec
from ._typed import ImageClient

__all__ = ["connect"]


@overload
def connect(  # type: ignore[overload-overlap]  # "image" is also a str: the first match wins
    service: Literal["image"],
    address: Address | None = None,
    *,
    registry: Address | None = None,
    balancer: BalancerName = "p2c",
    zone: str | None = None,
    tags: Mapping[str, str] | None = None,
    service_name: str | None = None,
    watch_timeout: float = 30.0,
    timeout: float = 30.0,
    connect_timeout: float = 5.0,
    retries: int = 2,
    pool_size: int = 8,
    protocol: Literal["binary", "compact"] = "binary",
    transport: Literal["framed", "buffered"] = "framed",
    multiplexed_name: str | None = None,
    max_message_size: int = 96 * 1024 * 1024,
) -> ImageClient: ...


@overload
def connect(
    service: str | ModuleType | type,
    address: Address | None = None,
    *,
    registry: Address | None = None,
    balancer: BalancerName = "p2c",
    zone: str | None = None,
    tags: Mapping[str, str] | None = None,
    service_name: str | None = None,
    watch_timeout: float = 30.0,
    timeout: float = 30.0,
    connect_timeout: float = 5.0,
    retries: int = 2,
    pool_size: int = 8,
    protocol: Literal["binary", "compact"] = "binary",
    transport: Literal["framed", "buffered"] = "framed",
    multiplexed_name: str | None = None,
    max_message_size: int = 96 * 1024 * 1024,
) -> Client: ...


def connect(
    service: str | ModuleType | type,
    address: Address | None = None,
    *,
    registry: Address | None = None,
    balancer: BalancerName = "p2c",
    zone: str | None = None,
    tags: Mapping[str, str] | None = None,
    service_name: str | None = None,
    watch_timeout: float = 30.0,
    timeout: float = 30.0,
    connect_timeout: float = 5.0,
    retries: int = 2,
    pool_size: int = 8,
    protocol: Literal["binary", "compact"] = "binary",
    transport: Literal["framed", "buffered"] = "framed",
    multiplexed_name: str | None = None,
    max_message_size: int = 96 * 1024 * 1024,
) -> Any:
    """A pooled client of SERVICE, balanced across its instances. Give exactly one of
    ADDRESS (fixed servers) and REGISTRY (where to look the service up).

    SERVICE is a Mosaic service's name (``"image"``), or the stubs of any Thrift service: the
    service module that ``mosaic gen --lang python`` or ``thrift --gen py`` generated (it
    holds ``Client``), or its ``Client`` class.

    ADDRESS is ``"host:port"``, ``(host, port)``, or a list of them: each is an instance of
    weight 100. No connection is opened until the first call.

    * ``registry``: the address of Mosaic's registry, or a list of registry addresses tried
      in turn. The service is looked up at once (`ConnectError` if no registry answers),
      then a background thread follows its changes; while no registry answers the client
      keeps its last list.
    * ``balancer``: ``"p2c"`` (two random instances, the one with fewer calls in flight
      wins), ``"round_robin"``, or ``"hash"`` (``client.method(..., key=...)``: one key, one
      instance; calls without a key are balanced as ``"p2c"``). All follow the weights.
    * ``zone``: prefer the instances registered in this zone while any of them is healthy.
    * ``tags``: call only the instances registered with all of these tags, each key with
      exactly this value (``tags={"gpu": "a100"}`` for servers started with ``mosaic serve
      --tag gpu=a100``). The others are left out as if the registry did not list them (no
      fallback to them; ``client.instances()`` does not show them), in every list the
      registry sends: an instance that registers later with the tags joins. While none
      matches, calls raise `ConnectError` naming the tags. Needs ``registry``: the
      instances of a static address list have no tags (`ValueError`).
    * ``service_name``: the name to look up (default: SERVICE's name, e.g. ``"image"``).
    * ``watch_timeout``: seconds one watch of the registry waits for a change.
    * ``timeout``: the default deadline of a call, in seconds, from its start to its reply
      (waiting for a pooled connection and connecting included); override per call with
      ``client.method(..., timeout=s)``.
    * ``connect_timeout``: the limit on opening one connection.
    * ``retries``: how many more times a call is tried, on another instance when there is
      one, after a failure that left the request unsent (connection failed or lost before
      the request went out) or unstarted (the server is overloaded); failures after the
      request went out are retried only for ``client.method(..., idempotent=True)``. An
      instance that refuses the connection is passed over for the next at once, without
      using a retry. Retries stay within the call's deadline.
    * ``pool_size``: the most connections open at once to each instance; more concurrent
      calls wait for one.
    * ``protocol``, ``transport``: what the server speaks (Mosaic's servers speak all four).
    * ``multiplexed_name``: the service name for a ``TMultiplexedProtocol`` server.
    * ``max_message_size``: the largest reply accepted, in bytes.
    """
    if (address is None) == (registry is None):
        raise ValueError(
            "connect: give exactly one of address (the servers, e.g. '127.0.0.1:9090') "
            "and registry (where to look the service up, e.g. registry='127.0.0.1:7070')"
        )
    if balancer not in BALANCERS:
        raise ValueError(f"balancer must be one of {', '.join(BALANCERS)}, not {balancer!r}")
    wanted = _checked_tags(tags)
    if wanted and registry is None:
        raise ValueError(
            "connect: tags select among registered instances and need a registry "
            "(registry='host:port' instead of address): the instances of a static address "
            "list have no tags"
        )
    options = ConnectionOptions(
        protocol=protocol,
        transport=transport,
        multiplexed_name=multiplexed_name,
        connect_timeout=connect_timeout,
        max_message_size=max_message_size,
    )
    spec = service_spec(service)
    name = service_name or (service if isinstance(service, str) else spec.name)
    membership: Membership
    if registry is not None:
        membership = RegistryMembership(
            name,
            parse_addresses(registry, "registry"),
            options,
            call_timeout=timeout,
            watch_timeout=watch_timeout,
        )
    else:
        assert address is not None
        membership = StaticMembership(address)
    # Mosaic's image service gets the client whose `transform` speaks numpy and Pillow.
    client_class = ImageServiceClient if service == "image" else Client
    return client_class(
        spec,
        membership,
        options,
        timeout=timeout,
        retries=retries,
        pool_size=pool_size,
        balancer=make_balancer(balancer),
        zone=zone,
        tags=wanted,
        service_name=name,
    )


def _checked_tags(tags: Mapping[str, str] | None) -> dict[str, str]:
    """TAGS as a dict, after checking it maps non-empty str keys to str values."""
    if tags is None:
        return {}
    if not isinstance(tags, Mapping):
        raise TypeError(
            f"tags must be a mapping of str to str, e.g. {{'gpu': 'a100'}}, "
            f"not {type(tags).__name__}"
        )
    checked: dict[str, str] = {}
    for key, value in tags.items():
        if not isinstance(key, str):
            raise TypeError(f"tags: keys must be str, not {type(key).__name__} ({key!r})")
        if not isinstance(value, str):
            raise TypeError(
                f"tags: the value of {key!r} must be str, not {type(value).__name__} ({value!r})"
            )
        if not key:
            raise ValueError("tags: a key is empty")
        checked[key] = value
    return checked
