"""Static types of clients: what `mosaic_rpc.connect` returns, for type checkers.

At run time every client is a `mosaic_rpc.Client`; these protocols describe it with the
service's own signatures (from the generated ``Iface``) plus the ``timeout``,
``idempotent`` and ``key`` keywords. A test checks `ImageClient` against the generated
``Iface``, so it cannot drift from the IDL unnoticed.
"""

from __future__ import annotations

import os
from collections.abc import Generator, Iterable, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeVar, overload

from ._gen.mosaic.common.ttypes import ServerStatus
from ._gen.mosaic.image.ttypes import (
    BatchItem,
    EncodedImage,
    FeatureOptions,
    Features,
    Histogram,
    Image,
    ImageInfo,
    ImageStats,
    Op,
    Output,
    RawImage,
    Segmentation,
    SegmentOptions,
)
from ._instances import InstanceStats
from ._pool import PoolStats

if TYPE_CHECKING:
    import numpy.typing
    import PIL.Image

    from .images import ImageLike

    _Array = numpy.typing.NDArray[Any]
    _Picture = PIL.Image.Image
    #: Inputs sent as file bytes; their results come back as file bytes.
    _File = str | os.PathLike[str] | bytes | bytearray | memoryview

__all__ = ["HealthClient", "ImageClient", "ServiceClient"]

_Self = TypeVar("_Self", bound="ServiceClient")


class ServiceClient(Protocol):
    """What every client has besides its service's methods."""

    @property
    def closed(self) -> bool: ...

    def close(self) -> None: ...

    def pool_stats(self) -> PoolStats: ...

    def instances(self) -> tuple[InstanceStats, ...]: ...

    def call(
        self,
        method: str,
        *args: Any,
        timeout: float | None = None,
        idempotent: bool = False,
        key: str | bytes | None = None,
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

    def ping(
        self,
        *,
        timeout: float | None = None,
        idempotent: bool = False,
        key: str | bytes | None = None,
    ) -> None:
        """Answers at once; a client's cheapest round trip."""
        ...

    def status(
        self,
        *,
        timeout: float | None = None,
        idempotent: bool = False,
        key: str | bytes | None = None,
    ) -> ServerStatus:
        """The server's name, version, uptime and load."""
        ...


class ImageClient(HealthClient, Protocol):
    """A client of ``ImageService`` (see ``idl/image.thrift`` for each method's contract)."""

    def info(
        self,
        image: Image,
        *,
        timeout: float | None = None,
        idempotent: bool = False,
        key: str | bytes | None = None,
    ) -> ImageInfo:
        """Size, format and orientation; reads only the header where the format allows."""
        ...

    @overload
    def transform(
        self,
        image: _Array,
        ops: Op | Sequence[Op],
        output: Output | None = None,
        *,
        timeout: float | None = None,
        idempotent: bool = False,
        key: str | bytes | None = None,
    ) -> _Array: ...
    @overload
    def transform(
        self,
        image: _Picture,
        ops: Op | Sequence[Op],
        output: Output | None = None,
        *,
        timeout: float | None = None,
        idempotent: bool = False,
        key: str | bytes | None = None,
    ) -> _Picture: ...
    @overload
    def transform(
        self,
        image: _File,
        ops: Op | Sequence[Op],
        output: Output | None = None,
        *,
        timeout: float | None = None,
        idempotent: bool = False,
        key: str | bytes | None = None,
    ) -> bytes: ...
    @overload
    def transform(
        self,
        image: EncodedImage | RawImage,
        ops: Op | Sequence[Op],
        output: Output | None = None,
        *,
        timeout: float | None = None,
        idempotent: bool = False,
        key: str | bytes | None = None,
    ) -> Image: ...
    @overload
    def transform(
        self,
        image: Image,
        ops: list[Op],
        output: Output,
        *,
        timeout: float | None = None,
        idempotent: bool = False,
        key: str | bytes | None = None,
    ) -> Image: ...
    def transform(
        self,
        image: ImageLike,
        ops: Op | Sequence[Op],
        output: Output | None = None,
        *,
        timeout: float | None = None,
        idempotent: bool = False,
        key: str | bytes | None = None,
    ) -> Any:
        """Decode once, run ``ops`` in order, return the result as ``output`` says.

        The result is the same kind of thing as IMAGE:

        * a numpy array gives an array (a writable copy; raw pixels are asked for when
          OUTPUT is None, so nothing is encoded or compressed on the way back);
        * a ``PIL.Image.Image`` gives a ``PIL.Image.Image`` (already decoded);
        * a path or file bytes (``bytes``, ``bytearray``, ``memoryview``) give the bytes of
          an image file: in the input's format when OUTPUT is None, else as OUTPUT says
          (raw pixels are encoded as PNG locally);
        * a wire `Image` gives the wire `Image`, exactly as the IDL's call does.

        OPS is one `Op` or a sequence of them.
        """
        ...

    @overload
    def transform_many(
        self,
        items: Iterable[_Array],
        ops: Op | Sequence[Op],
        output: Output | None = None,
        *,
        concurrency: int | None = None,
        progress: bool = False,
        timeout: float | None = None,
        idempotent: bool = False,
        key: str | bytes | None = None,
        errors: Literal["raise"] = "raise",
    ) -> Generator[_Array, None, None]: ...
    @overload
    def transform_many(
        self,
        items: Iterable[_Array],
        ops: Op | Sequence[Op],
        output: Output | None = None,
        *,
        concurrency: int | None = None,
        progress: bool = False,
        timeout: float | None = None,
        idempotent: bool = False,
        key: str | bytes | None = None,
        errors: Literal["return"],
    ) -> Generator[_Array | Exception, None, None]: ...
    @overload
    def transform_many(
        self,
        items: Iterable[_Picture],
        ops: Op | Sequence[Op],
        output: Output | None = None,
        *,
        concurrency: int | None = None,
        progress: bool = False,
        timeout: float | None = None,
        idempotent: bool = False,
        key: str | bytes | None = None,
        errors: Literal["raise"] = "raise",
    ) -> Generator[_Picture, None, None]: ...
    @overload
    def transform_many(
        self,
        items: Iterable[_Picture],
        ops: Op | Sequence[Op],
        output: Output | None = None,
        *,
        concurrency: int | None = None,
        progress: bool = False,
        timeout: float | None = None,
        idempotent: bool = False,
        key: str | bytes | None = None,
        errors: Literal["return"],
    ) -> Generator[_Picture | Exception, None, None]: ...
    @overload
    def transform_many(
        self,
        items: Iterable[_File],
        ops: Op | Sequence[Op],
        output: Output | None = None,
        *,
        concurrency: int | None = None,
        progress: bool = False,
        timeout: float | None = None,
        idempotent: bool = False,
        key: str | bytes | None = None,
        errors: Literal["raise"] = "raise",
    ) -> Generator[bytes, None, None]: ...
    @overload
    def transform_many(
        self,
        items: Iterable[_File],
        ops: Op | Sequence[Op],
        output: Output | None = None,
        *,
        concurrency: int | None = None,
        progress: bool = False,
        timeout: float | None = None,
        idempotent: bool = False,
        key: str | bytes | None = None,
        errors: Literal["return"],
    ) -> Generator[bytes | Exception, None, None]: ...
    @overload
    def transform_many(
        self,
        items: Iterable[Image],
        ops: Op | Sequence[Op],
        output: Output | None = None,
        *,
        concurrency: int | None = None,
        progress: bool = False,
        timeout: float | None = None,
        idempotent: bool = False,
        key: str | bytes | None = None,
        errors: Literal["raise"] = "raise",
    ) -> Generator[Image, None, None]: ...
    @overload
    def transform_many(
        self,
        items: Iterable[Image],
        ops: Op | Sequence[Op],
        output: Output | None = None,
        *,
        concurrency: int | None = None,
        progress: bool = False,
        timeout: float | None = None,
        idempotent: bool = False,
        key: str | bytes | None = None,
        errors: Literal["return"],
    ) -> Generator[Image | Exception, None, None]: ...
    @overload
    def transform_many(
        self,
        items: Iterable[ImageLike],
        ops: Op | Sequence[Op],
        output: Output | None = None,
        *,
        concurrency: int | None = None,
        progress: bool = False,
        timeout: float | None = None,
        idempotent: bool = False,
        key: str | bytes | None = None,
        errors: Literal["raise"] = "raise",
    ) -> Generator[Any, None, None]: ...
    @overload
    def transform_many(
        self,
        items: Iterable[ImageLike],
        ops: Op | Sequence[Op],
        output: Output | None = None,
        *,
        concurrency: int | None = None,
        progress: bool = False,
        timeout: float | None = None,
        idempotent: bool = False,
        key: str | bytes | None = None,
        errors: Literal["return"],
    ) -> Generator[Any, None, None]: ...
    def transform_many(
        self,
        items: Iterable[ImageLike],
        ops: Op | Sequence[Op],
        output: Output | None = None,
        *,
        concurrency: int | None = None,
        progress: bool = False,
        timeout: float | None = None,
        idempotent: bool = False,
        key: str | bytes | None = None,
        errors: Literal["raise", "return"] = "raise",
    ) -> Generator[Any, None, None]:
        """`transform` of each of ITEMS, streamed: results are yielded in input order.

        Calls run on a thread pool across the client's pooled connections, at most
        CONCURRENCY at once (``pool_size`` when None); ITEMS is read as calls finish, never
        ahead of that window, so it may be an endless generator. Each result is the kind
        `transform` gives for its item. A failed item raises its exception from the loop
        (``errors="raise"``, the default: pending calls are cancelled) or is yielded as the
        exception object in its place (``errors="return"``), and the stream goes on.
        ``progress=True`` shows a tqdm bar when tqdm is installed (nothing otherwise).
        TIMEOUT and IDEMPOTENT apply to each call. Leaving the loop early cancels the
        calls not yet started and waits for those running.
        """
        ...

    def transform_batch(
        self,
        images: list[Image],
        ops: list[Op],
        output: Output,
        *,
        timeout: float | None = None,
        idempotent: bool = False,
        key: str | bytes | None = None,
    ) -> list[BatchItem]:
        """``transform`` for each image, in parallel on the server; one outcome per image."""
        ...

    def histogram(
        self,
        image: Image,
        bins: int,
        *,
        timeout: float | None = None,
        idempotent: bool = False,
        key: str | bytes | None = None,
    ) -> Histogram:
        """Per-channel histograms with ``bins`` bins (256 when 0)."""
        ...

    def stats(
        self,
        image: Image,
        *,
        timeout: float | None = None,
        idempotent: bool = False,
        key: str | bytes | None = None,
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
        key: str | bytes | None = None,
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
        key: str | bytes | None = None,
    ) -> Features:
        """Corners and descriptors."""
        ...
