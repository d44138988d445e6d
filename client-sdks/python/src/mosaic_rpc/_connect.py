"""`connect`: the one entry point that makes a client."""

from __future__ import annotations

from types import ModuleType
from typing import Any, Literal, overload

from ._client import Client
from ._connection import ConnectionOptions
from ._image_client import ImageServiceClient
from ._resolve import Address, StaticResolver
from ._services import service_spec
from ._typed import ImageClient

__all__ = ["connect"]


@overload
def connect(  # type: ignore[overload-overlap]  # "image" is also a str: the first match wins
    service: Literal["image"],
    address: Address,
    *,
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
    address: Address,
    *,
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
    address: Address,
    *,
    timeout: float = 30.0,
    connect_timeout: float = 5.0,
    retries: int = 2,
    pool_size: int = 8,
    protocol: Literal["binary", "compact"] = "binary",
    transport: Literal["framed", "buffered"] = "framed",
    multiplexed_name: str | None = None,
    max_message_size: int = 96 * 1024 * 1024,
) -> Any:
    """A pooled client of SERVICE at ADDRESS. No connection is opened until the first call.

    SERVICE is a Mosaic service's name (``"image"``), or the stubs of any Thrift service: the
    service module that ``mosaic gen --lang python`` or ``thrift --gen py`` generated (it
    holds ``Client``), or its ``Client`` class.

    ADDRESS is ``"host:port"``, ``(host, port)``, or a list of them tried in turn.

    * ``timeout``: the default deadline of a call, in seconds, from its start to its reply
      (waiting for a pooled connection and connecting included); override per call with
      ``client.method(..., timeout=s)``.
    * ``connect_timeout``: the limit on opening one connection.
    * ``retries``: how many more times a call is tried after a failure that left the
      request unsent (connection refused, a pooled connection found closed) or unstarted
      (the server is overloaded); failures after the request went out are retried only for
      ``client.method(..., idempotent=True)``. Retries stay within the call's deadline.
    * ``pool_size``: the most connections open at once; more concurrent calls wait for one.
    * ``protocol``, ``transport``: what the server speaks (Mosaic's servers speak all four).
    * ``multiplexed_name``: the service name for a ``TMultiplexedProtocol`` server.
    * ``max_message_size``: the largest reply accepted, in bytes.
    """
    options = ConnectionOptions(
        protocol=protocol,
        transport=transport,
        multiplexed_name=multiplexed_name,
        connect_timeout=connect_timeout,
        max_message_size=max_message_size,
    )
    # Mosaic's image service gets the client whose `transform` speaks numpy and Pillow.
    client_class = ImageServiceClient if service == "image" else Client
    return client_class(
        service_spec(service),
        StaticResolver(address),
        options,
        timeout=timeout,
        retries=retries,
        pool_size=pool_size,
    )
