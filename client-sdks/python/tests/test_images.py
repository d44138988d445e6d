"""`mosaic_rpc.images` with real numpy and Pillow: every pixel format both ways, files,
encoded bytes, the wire layout, and the errors."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image as PILImage
from thrift.protocol.TBinaryProtocol import TBinaryProtocolAccelerated
from thrift.transport.TTransport import TMemoryBuffer

from mosaic_rpc import images
from mosaic_rpc.image import EncodedImage, Image, ImageFormat, PixelFormat, RawImage

RNG = np.random.default_rng(7)

ARRAYS = [
    ((5, 7), np.uint8, PixelFormat.GRAY8),
    ((5, 7, 1), np.uint8, PixelFormat.GRAY8),
    ((5, 7, 2), np.uint8, PixelFormat.GRAYA8),
    ((5, 7, 3), np.uint8, PixelFormat.RGB8),
    ((5, 7, 4), np.uint8, PixelFormat.RGBA8),
    ((5, 7), np.uint16, PixelFormat.GRAY16),
    ((5, 7, 2), np.uint16, PixelFormat.GRAYA16),
    ((5, 7, 3), np.uint16, PixelFormat.RGB16),
    ((5, 7, 4), np.uint16, PixelFormat.RGBA16),
    ((5, 7, 3), np.float32, PixelFormat.RGB32F),
    ((5, 7, 4), np.float32, PixelFormat.RGBA32F),
]


def _random(shape: tuple[int, ...], dtype: type) -> np.ndarray:
    if dtype is np.float32:
        return RNG.random(shape, dtype=np.float32)
    return RNG.integers(0, np.iinfo(dtype).max, size=shape, dtype=dtype)


@pytest.mark.parametrize(("shape", "dtype", "pixel_format"), ARRAYS)
def test_arrays_round_trip_without_copying_back(
    shape: tuple[int, ...], dtype: type, pixel_format: PixelFormat
) -> None:
    array = _random(shape, dtype)
    image = images.to_image(array)
    raw = image.raw
    assert raw is not None and image.encoded is None
    assert (raw.width, raw.height, raw.pixel_format) == (7, 5, pixel_format)
    assert raw.pixels is not None
    assert len(raw.pixels) == array.nbytes == 35 * images.bytes_per_pixel(pixel_format)

    back = images.to_numpy(image)
    expected = array.reshape(5, 7) if shape == (5, 7, 1) else array
    assert back.shape == expected.shape
    assert back.dtype == expected.dtype.newbyteorder("<")
    np.testing.assert_array_equal(back, expected)
    # A view of the received bytes, not a copy.
    assert np.shares_memory(back, np.frombuffer(raw.pixels, dtype=np.uint8))
    assert not back.flags.writeable


def test_wire_layout_is_little_endian_and_tightly_packed() -> None:
    array = np.array([[0x0102, 0x0304]], dtype=">u2")  # big-endian in memory
    raw = images.to_image(array).raw
    assert raw is not None
    assert raw.pixels == b"\x02\x01\x04\x03"
    floats = np.array([[[1.0, 0.5, 0.25]]], dtype=">f4")
    raw = images.to_image(floats).raw
    assert raw is not None
    assert raw.pixels == np.array([1.0, 0.5, 0.25], dtype="<f4").tobytes()
    # Rows of a strided view are packed with no padding.
    wide = np.arange(60, dtype=np.uint8).reshape(6, 10)
    view = wide[::2, 1:4]
    raw = images.to_image(view).raw
    assert raw is not None
    assert raw.pixels == view.copy().tobytes()
    assert (raw.width, raw.height) == (3, 3)


def test_raw_images_survive_the_wire_and_decode_as_views() -> None:
    array = _random((16, 9, 3), np.uint16)
    out = TMemoryBuffer()
    images.to_image(array).write(TBinaryProtocolAccelerated(out))
    received = Image()
    received.read(TBinaryProtocolAccelerated(TMemoryBuffer(out.getvalue())))
    np.testing.assert_array_equal(images.to_numpy(received), array)


@pytest.mark.parametrize(
    ("shape", "dtype"),
    [((4,), np.uint8), ((2, 2, 5), np.uint8), ((2, 2), np.float32), ((2, 2, 3), np.int32)],
)
def test_arrays_without_a_pixel_format_are_refused(shape: tuple[int, ...], dtype: type) -> None:
    with pytest.raises(ValueError):
        images.to_image(np.zeros(shape, dtype=dtype))


@pytest.mark.parametrize(
    ("mode", "pixel_format", "channels"),
    [
        ("L", PixelFormat.GRAY8, 1),
        ("LA", PixelFormat.GRAYA8, 2),
        ("RGB", PixelFormat.RGB8, 3),
        ("RGBA", PixelFormat.RGBA8, 4),
        ("I;16", PixelFormat.GRAY16, 1),
    ],
)
def test_pil_images_round_trip(mode: str, pixel_format: PixelFormat, channels: int) -> None:
    if mode == "I;16":
        picture = PILImage.fromarray(_random((6, 4), np.uint16))
        assert picture.mode in ("I;16", "I;16L")
    else:
        picture = PILImage.fromarray(_random((6, 4, 4), np.uint8)).convert(mode)
    image = images.to_image(picture)
    assert image.raw is not None
    assert (image.raw.width, image.raw.height, image.raw.pixel_format) == (4, 6, pixel_format)
    back = images.to_pil(image)
    assert back.size == (4, 6)
    assert back.tobytes() == picture.tobytes()
    array = images.to_numpy(image)
    assert array.shape == ((6, 4) if channels == 1 else (6, 4, channels))
    np.testing.assert_array_equal(array, np.asarray(picture))


@pytest.mark.parametrize(
    ("mode", "pixel_format"),
    [("1", PixelFormat.GRAY8), ("P", PixelFormat.RGB8), ("CMYK", PixelFormat.RGB8)],
)
def test_other_pil_modes_are_converted(mode: str, pixel_format: PixelFormat) -> None:
    picture = PILImage.new("RGB", (3, 2), (200, 10, 10)).convert(mode)
    raw = images.to_image(picture).raw
    assert raw is not None and raw.pixel_format == pixel_format


def test_pil_modes_without_a_format_are_refused() -> None:
    with pytest.raises(ValueError, match="PIL mode F"):
        images.to_image(PILImage.new("F", (2, 2)))


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_paths_and_bytes_are_sent_encoded(tmp_path: Path, fmt: str) -> None:
    picture = PILImage.fromarray(_random((12, 20, 3), np.uint8))
    path = tmp_path / f"picture.{fmt.lower()}"
    picture.save(path, format=fmt)
    data = path.read_bytes()
    for source in (path, str(path), data, bytearray(data), memoryview(data)):
        image = images.to_image(source)
        assert image.raw is None and image.encoded is not None
        assert image.encoded.data == data
    image = images.to_image(path)
    assert images.to_pil(image).size == (20, 12)
    decoded = images.to_numpy(image)
    assert decoded.shape == (12, 20, 3)
    if fmt == "PNG":  # lossless
        np.testing.assert_array_equal(decoded, np.asarray(picture))
    assert images.to_bytes(image) == data
    # Unlabelled bytes already in the asked format are returned as they are.
    assert images.to_bytes(image, ImageFormat[fmt]) == data


def test_to_bytes_encodes_raw_images() -> None:
    array = _random((8, 8, 3), np.uint8)
    png = images.to_bytes(images.to_image(array))
    assert png.startswith(b"\x89PNG")
    np.testing.assert_array_equal(np.asarray(PILImage.open(io.BytesIO(png))), array)
    jpeg = images.to_bytes(images.to_image(array), ImageFormat.JPEG, quality=95)
    assert jpeg.startswith(b"\xff\xd8")
    labelled = Image(encoded=EncodedImage(data=png, format=ImageFormat.PNG))
    assert images.to_bytes(labelled, ImageFormat.PNG) is png
    assert images.to_bytes(labelled, ImageFormat.BMP).startswith(b"BM")


def test_images_given_as_the_idl_types_pass_through() -> None:
    raw = RawImage(width=1, height=1, pixel_format=PixelFormat.GRAY8, pixels=b"\x07")
    encoded = EncodedImage(data=b"...")
    assert images.to_image(raw) == Image(raw=raw)
    assert images.to_image(encoded) == Image(encoded=encoded)
    image = Image(raw=raw)
    assert images.to_image(image) is image
    assert images.to_numpy(raw).tolist() == [[7]]


def test_bad_inputs_are_refused() -> None:
    with pytest.raises(TypeError, match="to_image takes"):
        images.to_image(42)  # type: ignore[arg-type]
    short = RawImage(width=2, height=2, pixel_format=PixelFormat.RGB8, pixels=b"\x00" * 11)
    with pytest.raises(ValueError, match="needs 12 bytes"):
        images.to_numpy(short)
    rgb16 = RawImage(width=1, height=1, pixel_format=PixelFormat.RGB16, pixels=b"\x00" * 6)
    with pytest.raises(ValueError, match="Pillow has no mode for RGB16"):
        images.to_pil(rgb16)
    with pytest.raises(ValueError, match="neither"):
        images.to_numpy(Image())


@pytest.mark.parametrize(("blocked", "extra"), [("numpy", "numpy"), ("PIL", "pillow")])
def test_missing_extras_name_what_to_install(blocked: str, extra: str) -> None:
    # A fresh interpreter in which the library cannot be imported.
    code = f"""
import sys
sys.modules[{blocked!r}] = None
from mosaic_rpc import images
from mosaic_rpc.image import EncodedImage, PixelFormat, RawImage
raw = RawImage(width=1, height=1, pixel_format=PixelFormat.GRAY8, pixels=b"x")
image = images.to_image(b"not decoded yet")  # needs neither
try:
    images.to_numpy(raw) if {blocked!r} == "numpy" else images.to_pil(raw)
except ImportError as err:
    print(err)
"""
    src = Path(__file__).resolve().parents[1] / "src"
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PYTHONPATH": str(src)},
        check=True,
    )
    assert f"pip install 'mosaic-rpc[{extra}]'" in done.stdout
