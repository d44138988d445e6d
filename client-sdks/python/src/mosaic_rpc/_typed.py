"""Static types of clients: what `mosaic_rpc.connect` returns, for type checkers.

At run time every client is a `mosaic_rpc.Client`; these protocols describe it with the
service's own signatures (from the generated ``Iface``) plus the ``timeout`` and
``idempotent`` keywords. A test checks `ImageClient` against the generated ``Iface``, so it
cannot drift from the IDL unnoticed.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any, Protocol, TypeVar

from ._gen.mosaic.common.ttypes import ServerStatus
from ._gen.mosaic.image.ttypes import (
    BatchItem,
    FeatureOptions,
    Features,
    Histogram,
    Image,
    ImageInfo,
    ImageStats,
    Op,
    Output,
    Segmentation,
    SegmentOptions,
)
from ._pool import PoolStats

__all__ = ["HealthClient", "ImageClient", "ServiceClient"]

_Self = TypeVar("_Self", bound="ServiceClient")


class ServiceClient(Protocol):
    """What every client has besides its service's methods."""

    @property
    def closed(self) -> bool: ...

    def close(self) -> None: ...

    def pool_stats(self) -> PoolStats: ...

    def call(
        self,
        method: str,
        *args: Any,
        timeout: float | None = None,
        idempotent: bool = False,
        **kwargs: Any,
    ) -> Any: ...

    def __enter__(self: _Self) -> _Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


class HealthClient(ServiceClient, Protocol):
    """A client of ``common.Health``, which every Mosaic service extends."""

    def ping(self, *, timeout: float | None = None, idempotent: bool = False) -> None:
        """Answers at once; a client's cheapest round trip."""
        ...

    def status(self, *, timeout: float | None = None, idempotent: bool = False) -> ServerStatus:
        """The server's name, version, uptime and load."""
        ...


class ImageClient(HealthClient, Protocol):
    """A client of ``ImageService`` (see ``idl/image.thrift`` for each method's contract)."""

    def info(
        self, image: Image, *, timeout: float | None = None, idempotent: bool = False
    ) -> ImageInfo:
        """Size, format and orientation; reads only the header where the format allows."""
        ...

    def transform(
        self,
        image: Image,
        ops: list[Op],
        output: Output,
        *,
        timeout: float | None = None,
        idempotent: bool = False,
    ) -> Image:
        """Decode once, run ``ops`` in order, return the result as ``output`` says."""
        ...

    def transform_batch(
        self,
        images: list[Image],
        ops: list[Op],
        output: Output,
        *,
        timeout: float | None = None,
        idempotent: bool = False,
    ) -> list[BatchItem]:
        """``transform`` for each image, in parallel on the server; one outcome per image."""
        ...

    def histogram(
        self, image: Image, bins: int, *, timeout: float | None = None, idempotent: bool = False
    ) -> Histogram:
        """Per-channel histograms with ``bins`` bins (256 when 0)."""
        ...

    def stats(
        self, image: Image, *, timeout: float | None = None, idempotent: bool = False
    ) -> ImageStats:
        """Per-channel mean, standard deviation, minimum and maximum."""
        ...

    def segment(
        self,
        image: Image,
        options: SegmentOptions,
        *,
        timeout: float | None = None,
        idempotent: bool = False,
    ) -> Segmentation:
        """Threshold, then connected components."""
        ...

    def features(
        self,
        image: Image,
        options: FeatureOptions,
        *,
        timeout: float | None = None,
        idempotent: bool = False,
    ) -> Features:
        """Corners and descriptors."""
        ...
