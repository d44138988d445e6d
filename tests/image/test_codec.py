"""Decoding and encoding: 16-bit round trips, window/level arithmetic, JPEG and PNG decoding
against Pillow, EXIF orientation."""

from __future__ import annotations

import io
import math
from typing import Any

import numpy as np
import pytest
from PIL import Image as PILImage
from PIL import ImageOps, JpegImagePlugin

from mosaic_rpc.image import (
    AutoOrient,
    Encode,
    ImageFormat,
    Op,
    Output,
    PixelFormat,
    Raw,
    Resize,
    ResizeMode,
    Thumbnail,
    WindowLevel,
)
from support import (
    ALL_PHOTOS,
    COLOUR_PHOTOS,
    GRAY_PHOTOS,
    Array,
    images,
    mad,
    max_abs,
    mosaic_rpc,
    photo,
    photo_bytes,
    png,
    to_array,
    transform,
)

Client = mosaic_rpc.ImageClient


def _gray16() -> Array:
    """A 16-bit image using the whole range: a photo spread over 0..65535 plus noise."""
    rng = np.random.default_rng(5)
    base = photo("camera.png").astype(np.uint32) * 257
    noise = rng.integers(0, 257, size=base.shape, dtype=np.uint32)
    wide: Array = np.minimum(base + noise, 65535).astype(np.uint16)
    return wide


# ---- 16-bit -------------------------------------------------------------------------------


def test_gray16_raw_round_trip_is_exact(client: Client) -> None:
    pixels = _gray16()
    out = client.transform(images.to_image(pixels), [], Output(raw=Raw()))
    assert out.raw is not None and out.raw.pixel_format == PixelFormat.GRAY16
    np.testing.assert_array_equal(to_array(out), pixels)


def test_gray16_png_round_trip_is_exact(client: Client) -> None:
    pixels = _gray16()
    info = client.info(images.to_image(png(pixels)))
    assert info.pixel_format == PixelFormat.GRAY16
    assert (info.width, info.height) == (pixels.shape[1], pixels.shape[0])
    # PNG in, PNG out (the default for encoded input): still 16 bits, same samples.
    out = client.transform(images.to_image(png(pixels)), [], None)
    assert out.encoded is not None and out.encoded.format == ImageFormat.PNG
    with PILImage.open(io.BytesIO(out.encoded.data)) as decoded:
        assert decoded.mode.startswith("I;16")
        np.testing.assert_array_equal(np.asarray(decoded), pixels)
    # PNG in, raw out.
    np.testing.assert_array_equal(transform(client, images.to_image(png(pixels)), []), pixels)
    # Raw in, PNG out.
    encoded = client.transform(
        images.to_image(pixels), [], Output(encode=Encode(format=ImageFormat.PNG))
    )
    assert encoded.encoded is not None
    with PILImage.open(io.BytesIO(encoded.encoded.data)) as decoded:
        np.testing.assert_array_equal(np.asarray(decoded), pixels)


def test_16_bit_rgb_and_alpha_raw_round_trips_are_exact(client: Client) -> None:
    rng = np.random.default_rng(9)
    for pixels in (
        rng.integers(0, 65536, size=(17, 23, 3), dtype=np.uint16),
        rng.integers(0, 65536, size=(17, 23, 4), dtype=np.uint16),
        rng.integers(0, 65536, size=(17, 23, 2), dtype=np.uint16),
    ):
        np.testing.assert_array_equal(transform(client, pixels, []), pixels)


# ---- window / level -----------------------------------------------------------------------


def _window_level(values: Array, center: float, width: float, top: int) -> Array:
    """The contract: (v - (center - width/2)) / width clamped to 0..1, scaled to the output
    range and rounded to nearest."""
    unit = np.clip((values.astype(np.float64) - (center - width / 2)) / width, 0, 1)
    return np.floor(unit * top + 0.5)


WINDOWS = [
    (30000.0, 20000.0, PixelFormat.GRAY8),
    (1000.0, 500.0, PixelFormat.GRAY8),
    (32768.0, 1.0, PixelFormat.GRAY8),
    (40000.0, 65535.0, PixelFormat.GRAY8),
    (1000.0, 500.0, PixelFormat.GRAY16),
    (32768.0, 1.0, PixelFormat.GRAY16),
    (40000.0, 65535.0, PixelFormat.GRAY16),
    (30000.0, 20000.0, PixelFormat.GRAY16),
    (30000.0, 7000.0, PixelFormat.GRAY16),
]


@pytest.mark.parametrize(("center", "width", "output"), WINDOWS)
def test_window_level_16_bit_exact(
    client: Client, center: float, width: float, output: PixelFormat
) -> None:
    pixels = _gray16()
    wl = WindowLevel(center=center, width=width, output=output)
    out = transform(client, pixels, [Op(window_level=wl)])
    top = 255 if output == PixelFormat.GRAY8 else 65535
    assert out.dtype == (np.uint8 if output == PixelFormat.GRAY8 else np.uint16)
    np.testing.assert_array_equal(out, _window_level(pixels, center, width, top))


def test_window_level_8_bit_in_its_own_units(client: Client) -> None:
    pixels = photo("camera.png")
    out = transform(client, pixels, [Op(window_level=WindowLevel(center=100.0, width=50.0))])
    np.testing.assert_array_equal(out, _window_level(pixels, 100.0, 50.0, 255))


def test_window_level_default_output_is_gray8(client: Client) -> None:
    out = transform(client, _gray16(), [Op(window_level=WindowLevel(center=2e4, width=1e4))])
    assert out.dtype == np.uint8


# ---- decoding against Pillow --------------------------------------------------------------

#: Two JPEG decoders may differ in IDCT and chroma upsampling (both are allowed by the
#: standard), by a level or two on average at most and a few levels at sharp colour edges.
#: Mosaic's own decoder does not differ from Pillow's (the exact tests below); this bound is
#: for what it leaves to the `image` crate's decoder, and for JPEGs the tests do not make.
JPEG_DECODE_MAD = 1.0
JPEG_DECODE_MAX = 12


def _jpeg(pixels: Array, **options: Any) -> bytes:
    buffer = io.BytesIO()
    PILImage.fromarray(pixels).save(buffer, format="JPEG", **options)
    return buffer.getvalue()


@pytest.mark.parametrize("name", COLOUR_PHOTOS)
def test_jpeg_decodes_like_pillow(client: Client, name: str) -> None:
    out = transform(client, images.to_image(photo_bytes(name)), [])
    reference = photo(name)
    assert mad(out, reference) <= JPEG_DECODE_MAD
    assert max_abs(out, reference) <= JPEG_DECODE_MAX


@pytest.mark.parametrize(
    "options",
    [
        {"quality": 85},
        {"quality": 95, "subsampling": 0},  # 4:4:4
        {"quality": 90, "subsampling": 1},  # 4:2:2
        {"quality": 50, "restart_marker_blocks": 7},
        {"quality": 100},
    ],
    ids=["420", "444", "422", "restarts", "q100"],
)
@pytest.mark.parametrize(
    "size", [(595, 397), (598, 398), (592, 400)], ids=["odd", "even", "whole MCUs"]
)
def test_baseline_jpeg_decodes_to_pillows_exact_pixels(
    client: Client, options: dict[str, Any], size: tuple[int, int]
) -> None:
    """Mosaic decodes a baseline JPEG as libjpeg does by default (integer IDCT, triangle
    chroma upsampling with its rounding and edges, its colour conversion), so to the very
    pixels Pillow and OpenCV give: every chroma layout, partial MCUs at either edge."""
    width, height = size
    data = _jpeg(photo("coffee.jpg")[:height, :width], **options)
    with PILImage.open(io.BytesIO(data)) as im:
        reference = np.asarray(im)
    out = transform(client, images.to_image(data), [])
    assert out.shape == reference.shape
    assert np.array_equal(out, reference), f"{np.count_nonzero(out != reference)} samples differ"


@pytest.mark.parametrize("name", ["camera.png", "coins.png"])
def test_gray_jpeg_decodes_to_pillows_exact_pixels(client: Client, name: str) -> None:
    data = _jpeg(photo(name), quality=90)
    with PILImage.open(io.BytesIO(data)) as im:
        reference = np.asarray(im)
    assert np.array_equal(transform(client, images.to_image(data), []), reference)


@pytest.mark.parametrize(
    "options",
    [
        {"quality": 90},
        {"quality": 75, "subsampling": 0, "restart_marker_blocks": 5},
    ],
    ids=["420", "444 restarts"],
)
def test_progressive_jpeg_decodes_to_pillows_exact_pixels(
    client: Client, options: dict[str, Any]
) -> None:
    """Progressive too: every scan (spectral bands, successive approximation, end-of-band
    runs) into the coefficients, then libjpeg's transform."""
    data = _jpeg(photo("coffee.jpg")[:397, :595], progressive=True, **options)
    with PILImage.open(io.BytesIO(data)) as im:
        reference = np.asarray(im)
    assert np.array_equal(transform(client, images.to_image(data), []), reference)


@pytest.mark.parametrize("name", GRAY_PHOTOS)
def test_png_decodes_exactly(client: Client, name: str) -> None:
    out = transform(client, images.to_image(photo_bytes(name)), [])
    np.testing.assert_array_equal(out, photo(name))


@pytest.mark.parametrize("name", ALL_PHOTOS)
def test_info_of_photos(client: Client, name: str) -> None:
    data = photo_bytes(name)
    info = client.info(images.to_image(data))
    pixels = photo(name)
    assert (info.width, info.height) == (pixels.shape[1], pixels.shape[0])
    assert info.size_bytes == len(data)
    assert info.format == (ImageFormat.JPEG if name.endswith(".jpg") else ImageFormat.PNG)
    assert info.pixel_format == (PixelFormat.RGB8 if pixels.ndim == 3 else PixelFormat.GRAY8)
    assert info.orientation is None


@pytest.mark.parametrize("fmt", ["PNG", "BMP", "TIFF", "GIF"])
def test_lossless_formats_decode_exactly(client: Client, fmt: str) -> None:
    pixels = photo("camera.png")[:200, :300]
    buffer = io.BytesIO()
    PILImage.fromarray(pixels).save(buffer, format=fmt)
    out = transform(client, images.to_image(buffer.getvalue()), [])
    if out.ndim == 3:  # GIF decodes to RGBA; its palette holds the 256 grays exactly
        out = out[..., 0]
    np.testing.assert_array_equal(out, pixels)


def test_png_encoding_is_lossless(client: Client) -> None:
    pixels = photo("astronaut.jpg")
    out = client.transform(
        images.to_image(pixels), [], Output(encode=Encode(format=ImageFormat.PNG))
    )
    np.testing.assert_array_equal(to_array(out), pixels)


def test_jpeg_encoding_quality(client: Client) -> None:
    pixels = photo("astronaut.jpg")
    sizes = []
    for quality in (30, 95):
        out = client.transform(
            images.to_image(pixels),
            [],
            Output(encode=Encode(format=ImageFormat.JPEG, quality=quality)),
        )
        assert out.encoded is not None
        sizes.append(len(out.encoded.data))
        assert mad(to_array(out), pixels) <= (6.0 if quality == 30 else 2.0)
    assert sizes[0] < sizes[1]


@pytest.mark.parametrize("quality", [40, 85])
def test_webp_is_lossy_at_its_quality_as_pillow_encodes_it(client: Client, quality: int) -> None:
    """WebP output is libwebp's lossy encoding at the requested quality, as Pillow writes it
    (the same library and defaults): about Pillow's size and PSNR, far smaller than PNG."""
    pixels = photo("astronaut.jpg")
    out = client.transform(
        images.to_image(pixels), [], Output(encode=Encode(format=ImageFormat.WEBP, quality=quality))
    )
    assert out.encoded is not None and out.encoded.format == ImageFormat.WEBP
    data = out.encoded.data
    assert data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    assert data[12:16] == b"VP8 ", "lossy (VP8), not lossless (VP8L)"
    buffer = io.BytesIO()
    PILImage.fromarray(pixels).save(buffer, format="WEBP", quality=quality)
    with PILImage.open(io.BytesIO(data)) as ours:
        ours_psnr = _psnr(np.asarray(ours.convert("RGB")), pixels)
    pillow_psnr = _psnr(np.asarray(PILImage.open(buffer).convert("RGB")), pixels)
    assert ours_psnr >= pillow_psnr - 0.3
    assert 0.9 <= len(data) / len(buffer.getvalue()) <= 1.1
    assert len(data) < len(png(pixels)) / 4


def test_webp_keeps_alpha(client: Client) -> None:
    pixels = photo("astronaut.jpg")
    alpha = np.tile(np.linspace(0, 255, pixels.shape[1]).astype(np.uint8), (pixels.shape[0], 1))
    rgba = np.dstack([pixels, alpha])
    out = client.transform(
        images.to_image(rgba), [], Output(encode=Encode(format=ImageFormat.WEBP, quality=90))
    )
    decoded = to_array(out)
    assert decoded.shape == rgba.shape
    assert mad(decoded[..., 3], alpha) <= 2.0
    assert mad(decoded[..., :3], pixels) <= 4.0


# ---- EXIF orientation ---------------------------------------------------------------------


def _jpeg_with_orientation(pixels: Array, orientation: int) -> bytes:
    exif = PILImage.Exif()
    exif[0x0112] = orientation
    buffer = io.BytesIO()
    PILImage.fromarray(pixels).save(buffer, format="JPEG", quality=95, exif=exif.tobytes())
    return buffer.getvalue()


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_and_auto_orient(client: Client, orientation: int) -> None:
    """info() reports the tag; auto_orient gives the size and pixels Pillow's exif_transpose
    gives (within JPEG decoder differences)."""
    pixels = np.ascontiguousarray(photo("astronaut.jpg")[:, :300])  # 300 wide, 512 high
    data = _jpeg_with_orientation(pixels, orientation)
    info = client.info(images.to_image(data))
    assert info.orientation == orientation
    assert (info.width, info.height) == (300, 512)  # stored size, before orienting
    out = transform(client, images.to_image(data), [Op(auto_orient=AutoOrient())])
    with PILImage.open(io.BytesIO(data)) as opened:
        reference = np.asarray(ImageOps.exif_transpose(opened))
    expected_shape = (300, 512, 3) if orientation >= 5 else (512, 300, 3)
    assert out.shape == reference.shape == expected_shape
    assert mad(out, reference) <= JPEG_DECODE_MAD


def test_without_auto_orient_pixels_stay_as_stored(client: Client) -> None:
    pixels = np.ascontiguousarray(photo("astronaut.jpg")[:, :300])
    out = transform(client, images.to_image(_jpeg_with_orientation(pixels, 6)), [])
    assert out.shape == (512, 300, 3)


# ---- JPEG encoding against Pillow -----------------------------------------------------------


def _psnr(a: Array, b: Array) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return 10 * math.log10(255.0**2 / mse)


@pytest.mark.parametrize("name", COLOUR_PHOTOS)
def test_jpeg_q85_matches_pillow(client: Client, name: str) -> None:
    """Quality 85 as Pillow (libjpeg) encodes it: 4:2:0 chroma, about the same size, and at
    most 0.3 dB less PSNR against the source."""
    pixels = photo(name)
    out = client.transform(
        images.to_image(pixels), [], Output(encode=Encode(format=ImageFormat.JPEG, quality=85))
    )
    assert out.encoded is not None
    buffer = io.BytesIO()
    PILImage.fromarray(pixels).save(buffer, format="JPEG", quality=85)
    with PILImage.open(io.BytesIO(out.encoded.data)) as ours:
        assert JpegImagePlugin.get_sampling(ours) == 2  # 4:2:0
        ours_psnr = _psnr(np.asarray(ours.convert("RGB")), pixels)
    pillow_psnr = _psnr(np.asarray(PILImage.open(buffer).convert("RGB")), pixels)
    assert ours_psnr >= pillow_psnr - 0.3
    assert 0.85 <= len(out.encoded.data) / len(buffer.getvalue()) <= 1.15


# ---- reduced (DCT-scaled) JPEG decoding -----------------------------------------------------

#: A thumbnail from a JPEG decoded at 1/2, 1/4 or 1/8 scale against the same thumbnail of
#: the fully decoded pixels. The reduced decode is the exact box average of the full one
#: (within 0.02 of libjpeg's scaled decode, Pillow's draft mode), and the server keeps it at
#: least 1.5x the target so that the resize's own filter still does the last step; what
#: differs is a box prefilter, up to ~2.6 grey levels on average on these small photos
#: (Pillow's draft mode differs from its own full path by up to ~2.2).
REDUCED_MAD = 3.0
#: The same for a thumbnail about half the 1/8-scale image (each output pixel covers ~15x15
#: input pixels): Pillow's draft mode differs from its own full path by 3.7-3.9 here.
SMALL_REDUCED_MAD = 4.0
#: Against Pillow's draft mode plus a bilinear resize to the same size.
REDUCED_PILLOW_MAD = 3.0


def _thumbnail(side: int) -> list[Op]:
    return [Op(thumbnail=Thumbnail(max_width=side, max_height=side))]


def _pillow_draft_resize(data: bytes, shape: tuple[int, ...]) -> Array:
    """What Pillow's `thumbnail` does: draft mode at twice the size, then a resize."""
    height, width = shape[:2]
    with PILImage.open(io.BytesIO(data)) as im:
        im.draft(im.mode, (2 * width, 2 * height))
        return np.asarray(im.resize((width, height), PILImage.Resampling.BILINEAR))


@pytest.mark.parametrize("name", COLOUR_PHOTOS)
@pytest.mark.parametrize("side", [200, 128, 64, 40])
def test_reduced_jpeg_thumbnail_close_to_full_decode(client: Client, name: str, side: int) -> None:
    data = photo_bytes(name)
    reduced = transform(client, images.to_image(data), _thumbnail(side))
    full = transform(client, photo(name), _thumbnail(side))
    assert reduced.shape == full.shape
    assert mad(reduced, full) <= REDUCED_MAD
    assert mad(reduced, _pillow_draft_resize(data, reduced.shape)) <= REDUCED_PILLOW_MAD


@pytest.mark.parametrize(
    "options",
    [
        {"quality": 90},
        {"quality": 90, "subsampling": 0},  # 4:4:4
        {"quality": 90, "subsampling": 1},  # 4:2:2
        {"quality": 90, "restart_marker_blocks": 7},
        # Progressive: its DC scans alone at 1/8, every scan at the other scales.
        {"quality": 90, "progressive": True},
        {"quality": 90, "progressive": True, "restart_marker_blocks": 5},
    ],
    ids=["420", "444", "422", "restarts", "progressive", "progressive restarts"],
)
@pytest.mark.parametrize("op", ["thumbnail", "small thumbnail", "fit", "exact"])
def test_reduced_jpeg_layouts_and_sizes(client: Client, options: dict[str, Any], op: str) -> None:
    """Odd sizes (partial MCUs at the edges), every chroma layout, restart intervals, and a
    resize whose size must be the one computed from the full image."""
    pixels = photo("coffee.jpg")[3:400, 5:600]  # 595 x 397
    data = _jpeg(pixels, **options)
    ops = {
        "thumbnail": _thumbnail(70),  # decoded at 1/4
        "small thumbnail": _thumbnail(40),  # decoded at 1/8: DC terms only
        "fit": [Op(resize=Resize(width=141, height=141, mode=ResizeMode.FIT))],
        "exact": [Op(resize=Resize(width=133, height=61, mode=ResizeMode.EXACT))],
    }[op]
    with PILImage.open(io.BytesIO(data)) as im:
        decoded = np.asarray(im)
    reduced = transform(client, images.to_image(data), ops)
    full = transform(client, decoded, ops)
    assert reduced.shape == full.shape
    assert mad(reduced, full) <= (SMALL_REDUCED_MAD if op == "small thumbnail" else REDUCED_MAD)
    if options.get("progressive"):
        # Progressive coding only reorders the quantised coefficients' bits: the result is
        # the baseline twin's, exactly, at every scale.
        baseline = {k: v for k, v in options.items() if k != "progressive"}
        twin = transform(client, images.to_image(_jpeg(pixels, **baseline)), ops)
        np.testing.assert_array_equal(reduced, twin)


def test_reduced_gray_jpeg(client: Client) -> None:
    pixels = photo("camera.png")
    data = _jpeg(pixels, quality=90)
    reduced = transform(client, images.to_image(data), _thumbnail(60))
    with PILImage.open(io.BytesIO(data)) as im:
        full = transform(client, np.asarray(im), _thumbnail(60))
    assert reduced.ndim == 2 and reduced.shape == full.shape
    assert mad(reduced, full) <= REDUCED_MAD
