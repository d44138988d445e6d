"""``connect("image", address)`` against Mosaic's image server (``mosaic serve image``).

Skipped only when the ``mosaic`` binary predates ``mosaic serve``; with ``CI`` set that
fails instead, so CI never passes without running these.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image as PILImage

import mosaic_rpc
from mosaic_rpc import images
from mosaic_rpc.image import (
    Encode,
    ErrorKind,
    ImageFormat,
    InvalidArgument,
    InvalidImage,
    Op,
    Output,
    PixelFormat,
    Raw,
    Resize,
    ResizeMode,
)

from servers import Server


@pytest.fixture
def client(image_server: Server) -> Iterator[mosaic_rpc.ImageClient]:
    with mosaic_rpc.connect("image", image_server.address, timeout=30) as connected:
        yield connected


def _encoded(fmt: str, size: tuple[int, int] = (64, 48)) -> bytes:
    rng = np.random.default_rng(1)
    pixels = rng.integers(0, 255, size=(size[1], size[0], 3), dtype=np.uint8)
    out = io.BytesIO()
    PILImage.fromarray(pixels).save(out, format=fmt)
    return out.getvalue()


def test_ping_and_status(client: mosaic_rpc.ImageClient) -> None:
    client.ping()
    status = client.status()
    assert status.name == "image"
    assert status.version
    assert status.uptime_ms is not None and status.uptime_ms >= 0


@pytest.mark.parametrize(
    ("fmt", "image_format"), [("PNG", ImageFormat.PNG), ("JPEG", ImageFormat.JPEG)]
)
def test_info_of_real_files(
    client: mosaic_rpc.ImageClient, tmp_path: Path, fmt: str, image_format: ImageFormat
) -> None:
    path = tmp_path / f"picture.{fmt.lower()}"
    data = _encoded(fmt)
    path.write_bytes(data)
    info = client.info(images.to_image(path))
    assert (info.width, info.height) == (64, 48)
    assert info.format == image_format
    assert info.pixel_format == PixelFormat.RGB8
    assert info.size_bytes == len(data)


def test_transform_resizes(client: mosaic_rpc.ImageClient) -> None:
    source = images.to_image(_encoded("PNG"))
    exact = Op(resize=Resize(width=20, height=10, mode=ResizeMode.EXACT))
    out = client.transform(source, [exact], Output(encode=Encode(format=ImageFormat.PNG)))
    assert out.encoded is not None and out.encoded.data is not None
    assert out.encoded.data.startswith(b"\x89PNG")
    assert images.to_pil(out).size == (20, 10)

    fit = Op(resize=Resize(width=32, height=0))  # FIT keeps the 4:3 aspect ratio
    out = client.transform(source, [fit], Output(raw=Raw()))
    array = images.to_numpy(out)
    assert array.shape == (24, 32, 3)


def test_transform_numpy_in_numpy_out(client: mosaic_rpc.ImageClient) -> None:
    gray = np.tile(np.arange(40, dtype=np.uint16) * 1000, (30, 1))
    op = Op(resize=Resize(width=20, height=15, mode=ResizeMode.EXACT))
    out = client.transform(images.to_image(gray), [op], Output(raw=Raw()))
    assert out.raw is not None and out.raw.pixel_format == PixelFormat.GRAY16
    result = images.to_numpy(out)
    assert result.shape == (15, 20) and result.dtype == np.dtype("<u2")


def test_batch_and_analysis(client: mosaic_rpc.ImageClient) -> None:
    good = images.to_image(_encoded("PNG"))
    bad = images.to_image(b"not an image")
    thumb = Op(resize=Resize(width=8, height=6, mode=ResizeMode.EXACT))
    items = client.transform_batch([good, bad], [thumb], Output(raw=Raw()))
    assert len(items) == 2
    assert items[0].image is not None and images.to_numpy(items[0].image).shape == (6, 8, 3)
    assert items[1].error is not None and items[1].error.kind == ErrorKind.INVALID_IMAGE
    channels = client.histogram(good, 16).channels or []
    assert [channel.channel for channel in channels] == ["r", "g", "b"]
    assert all(sum(channel.counts or []) == 64 * 48 for channel in channels)


def test_declared_errors_are_the_generated_classes(client: mosaic_rpc.ImageClient) -> None:
    with pytest.raises(InvalidImage):
        client.info(images.to_image(b"this is not an image"))
    bad = Op(resize=Resize(width=-1, height=10))
    with pytest.raises(InvalidArgument) as caught:
        client.transform(images.to_image(_encoded("PNG")), [bad], Output(raw=Raw()))
    assert caught.value.field is not None and "resize" in caught.value.field
    assert client.status().name == "image"  # the connection survived both


def test_concurrent_calls_share_the_pool(image_server: Server) -> None:
    data = _encoded("JPEG")
    errors: list[BaseException] = []
    with mosaic_rpc.connect("image", image_server.address, pool_size=3) as client:

        def work() -> None:
            try:
                for _ in range(10):
                    assert client.info(images.to_image(data)).width == 64
            except BaseException as err:
                errors.append(err)

        threads = [threading.Thread(target=work) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert errors == []
        assert client.pool_stats().peak_open <= 3
