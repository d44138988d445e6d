"""The image service's client: images in, images out, one at a time or as a stream.

`transform` takes what a data scientist has at hand (a path, file bytes, a Pillow image, a
numpy array, or the wire `Image`) and gives back the same kind of thing; `transform_many`
streams a batch of them across the pooled connections with bounded concurrency, in input
order. Everything else is the generic `Client`.
"""

from __future__ import annotations

import os
import sys
from collections import deque
from collections.abc import Generator, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Literal

from . import images
from ._client import Client
from ._gen.mosaic.image.ttypes import Image, Op, Output, Raw

__all__ = ["ImageInput", "ImageResult", "OpsLike", "convert_result"]

#: One op, or the ops to run in order.
OpsLike = Op | Sequence[Op]
#: What `transform` accepts (see `mosaic_rpc.images.to_image`).
ImageInput = images.ImageLike
#: What `transform` returns: numpy array, Pillow image, file bytes, or the wire `Image`.
ImageResult = Any


def _ops_list(ops: OpsLike) -> list[Op]:
    if isinstance(ops, Op):
        return [ops]
    if isinstance(ops, (str, bytes)) or not isinstance(ops, Sequence):
        raise TypeError(f"ops must be an Op or a sequence of Op, not {type(ops).__name__}")
    listed = list(ops)
    for op in listed:
        if not isinstance(op, Op):
            raise TypeError(f"ops must hold Op values, not {type(op).__name__}")
    return listed


def _kind(obj: object) -> Literal["numpy", "pil", "file", "wire"]:
    """Which kind of result OBJ asks for."""
    if isinstance(obj, (str, os.PathLike, bytes, bytearray, memoryview)):
        return "file"
    numpy_module = sys.modules.get("numpy")
    if numpy_module is not None and isinstance(obj, numpy_module.ndarray):
        return "numpy"
    pil_module = sys.modules.get("PIL.Image")
    if pil_module is not None and isinstance(obj, pil_module.Image):
        return "pil"
    return "wire"  # Image, EncodedImage, RawImage; to_image rejects anything else


def convert_result(kind: Literal["numpy", "pil", "file", "wire"], out: Image) -> ImageResult:
    """The wire result OUT as KIND (see `ImageClient.transform`)."""
    if kind == "numpy":
        return images.to_numpy(out).copy()  # writable, owns its memory
    if kind == "pil":
        picture = images.to_pil(out)
        picture.load()  # decoded now: no lazy file handle left behind
        return picture
    if kind == "file":
        return images.to_bytes(out)
    return out


class ImageServiceClient(Client):
    """The run-time class of ``connect("image", ...)``; typed as `mosaic_rpc.ImageClient`."""

    def transform(
        self,
        image: ImageInput,
        ops: OpsLike,
        output: Output | None = None,
        *,
        timeout: float | None = None,
        idempotent: bool = False,
        key: str | bytes | None = None,
    ) -> ImageResult:
        """Runs OPS on IMAGE; see `mosaic_rpc.ImageClient.transform`."""
        kind = _kind(image)
        if kind == "wire":
            # The IDL's call: a list of ops goes out as given (a single Op is wrapped).
            method = self._spec.methods["transform"]
            wire_ops = ops if isinstance(ops, list) else _ops_list(ops)
            args = (images.to_image(image), wire_ops, output)
            return self._call(method, args, {}, timeout, idempotent, key)
        if output is None and kind == "numpy":
            output = Output(raw=Raw())
        method = self._spec.methods["transform"]
        args = (images.to_image(image), _ops_list(ops), output)
        out = self._call(method, args, {}, timeout, idempotent, key)
        return convert_result(kind, out)

    def transform_many(
        self,
        items: Iterable[ImageInput],
        ops: OpsLike,
        output: Output | None = None,
        *,
        concurrency: int | None = None,
        progress: bool = False,
        timeout: float | None = None,
        idempotent: bool = False,
        key: str | bytes | None = None,
        errors: Literal["raise", "return"] = "raise",
    ) -> Generator[Any, None, None]:
        """`transform` over ITEMS, streamed; see `mosaic_rpc.ImageClient.transform_many`."""
        if errors not in ("raise", "return"):
            raise ValueError(f'errors must be "raise" or "return", not {errors!r}')
        workers = self.pool_stats().max_size if concurrency is None else concurrency
        if workers < 1:
            raise ValueError("concurrency must be at least 1")
        op_list = _ops_list(ops)  # checked once, before any call
        return self._stream(
            items, op_list, output, workers, progress, timeout, idempotent, key, errors == "raise"
        )

    def _stream(
        self,
        items: Iterable[ImageInput],
        ops: list[Op],
        output: Output | None,
        workers: int,
        progress: bool,
        timeout: float | None,
        idempotent: bool,
        key: str | bytes | None,
        raise_errors: bool,
    ) -> Generator[Any, None, None]:
        bar = _progress_bar(items) if progress else None
        source = iter(items)
        window: deque[Future[Any]] = deque()
        executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="mosaic-image")

        def one(item: ImageInput) -> Any:
            return self.transform(
                item, ops, output, timeout=timeout, idempotent=idempotent, key=key
            )

        def refill() -> None:
            while len(window) < workers:
                try:
                    item = next(source)
                except StopIteration:
                    return
                window.append(executor.submit(one, item))

        try:
            refill()
            while window:
                future = window.popleft()
                error = future.exception()
                result = error if error is not None else future.result()
                refill()  # keep the window full while the caller works on this result
                if bar is not None:
                    bar.update(1)
                if error is not None and raise_errors:
                    raise error
                yield result
        finally:
            for pending in window:
                pending.cancel()
            executor.shutdown(wait=True, cancel_futures=True)
            if bar is not None:
                bar.close()


def _progress_bar(items: Iterable[Any]) -> Any:
    """A tqdm bar sized to ITEMS when they have a length; None when tqdm is not installed."""
    try:
        # tqdm is optional and untyped: no error whether or not it (or its stubs) is there.
        from tqdm.auto import tqdm  # type: ignore[import-untyped, import-not-found, unused-ignore]
    except ImportError:
        return None
    length = getattr(items, "__len__", None)
    total = length() if callable(length) else None
    return tqdm(total=total, unit="img")
