"""Exact pixel moves (rotate by multiples of 90, flips, crop) and resizing against Pillow."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image as PILImage

from mosaic_rpc.image import (
    Crop,
    Filter,
    Flip,
    FlipAxis,
    Op,
    Output,
    Raw,
    Resize,
    ResizeMode,
    Rotate,
)
from support import ALL_PHOTOS, Array, images, mad, mosaic_rpc, photo, transform

Client = mosaic_rpc.ImageClient

# Clockwise degrees -> numpy's counter-clockwise quarter turns.
ROTATIONS = [(90, -1), (180, 2), (270, 1), (-90, 1), (450, -1), (-270, -1)]


@pytest.mark.parametrize("name", ALL_PHOTOS)
@pytest.mark.parametrize(("degrees", "turns"), ROTATIONS)
def test_rotate_multiples_of_90_are_exact(
    client: Client, name: str, degrees: int, turns: int
) -> None:
    pixels = photo(name)
    out = transform(client, pixels, [Op(rotate=Rotate(degrees=degrees))])
    np.testing.assert_array_equal(out, np.rot90(pixels, turns))


@pytest.mark.parametrize("name", ALL_PHOTOS)
def test_flips_are_exact(client: Client, name: str) -> None:
    pixels = photo(name)
    horizontal = transform(client, pixels, [Op(flip=Flip(axis=FlipAxis.HORIZONTAL))])
    vertical = transform(client, pixels, [Op(flip=Flip(axis=FlipAxis.VERTICAL))])
    np.testing.assert_array_equal(horizontal, pixels[:, ::-1])
    np.testing.assert_array_equal(vertical, pixels[::-1])


def test_rotate_16_bit_and_alpha_exact(client: Client) -> None:
    rng = np.random.default_rng(3)
    for pixels in (
        rng.integers(0, 65536, size=(31, 47), dtype=np.uint16),
        rng.integers(0, 256, size=(31, 47, 4), dtype=np.uint8),
        rng.integers(0, 65536, size=(31, 47, 3), dtype=np.uint16),
    ):
        out = transform(client, pixels, [Op(rotate=Rotate(degrees=270))])
        np.testing.assert_array_equal(out, np.rot90(pixels, 1))


@pytest.mark.parametrize("name", ALL_PHOTOS)
@pytest.mark.parametrize(
    "rect", [(0, 0, 1, 1), (13, 101, 200, 77), (0, 0, None, None), ("right", "bottom", 1, 1)]
)
def test_crop_is_exact(client: Client, name: str, rect: tuple[object, ...]) -> None:
    pixels = photo(name)
    h, w = pixels.shape[:2]
    x = w - 1 if rect[0] == "right" else int(str(rect[0]))
    y = h - 1 if rect[1] == "bottom" else int(str(rect[1]))
    cw = w if rect[2] is None else int(str(rect[2]))
    ch = h if rect[3] is None else int(str(rect[3]))
    out = transform(client, pixels, [Op(crop=Crop(x=x, y=y, width=cw, height=ch))])
    np.testing.assert_array_equal(out, pixels[y : y + ch, x : x + cw])


# ---- resize -----------------------------------------------------------------------------

PIL_FILTERS = {
    Filter.BILINEAR: PILImage.Resampling.BILINEAR,
    Filter.BICUBIC: PILImage.Resampling.BICUBIC,  # Catmull-Rom (a = -0.5) in both
    Filter.LANCZOS3: PILImage.Resampling.LANCZOS,
}
#: Convolution filters: both sides compute the same separable convolution with the same
#: support; they differ only in fixed-point precision and rounding, so on average by far
#: less than half a level, and almost never by more than 2 levels.
RESIZE_MAD = 0.3
RESIZE_P999 = 2.0
#: Nearest neighbour: a sample position exactly between two source pixels may go either
#: way, which moves a whole row or column every few dozen; everything else is identical.
NEAREST_IDENTICAL = 0.96
NEAREST_MAD = 0.5


def _pil_resize(pixels: Array, size: tuple[int, int], filt: PILImage.Resampling) -> Array:
    return np.asarray(PILImage.fromarray(pixels).resize(size, filt))


def _sizes(pixels: Array) -> list[tuple[int, int]]:
    h, w = pixels.shape[:2]
    return [(w // 3, h // 3), (int(w * 1.7), int(h * 1.3)), (w // 2, h * 2 // 3)]


@pytest.mark.parametrize("name", ALL_PHOTOS)
@pytest.mark.parametrize("filt", list(PIL_FILTERS), ids=lambda f: Filter._VALUES_TO_NAMES[f])
def test_resize_matches_pillow(client: Client, name: str, filt: Filter) -> None:
    pixels = photo(name)
    for width, height in _sizes(pixels):
        resize = Resize(width=width, height=height, mode=ResizeMode.EXACT, filter=filt)
        out = transform(client, pixels, [Op(resize=resize)])
        reference = _pil_resize(pixels, (width, height), PIL_FILTERS[filt])
        diff = np.abs(out.astype(np.int32) - reference)
        assert mad(out, reference) <= RESIZE_MAD, (width, height)
        assert np.percentile(diff, 99.9) <= RESIZE_P999, (width, height)


@pytest.mark.parametrize("name", ALL_PHOTOS)
def test_resize_nearest_matches_pillow(client: Client, name: str) -> None:
    pixels = photo(name)
    for width, height in _sizes(pixels):
        resize = Resize(width=width, height=height, mode=ResizeMode.EXACT, filter=Filter.NEAREST)
        out = transform(client, pixels, [Op(resize=resize)])
        reference = _pil_resize(pixels, (width, height), PILImage.Resampling.NEAREST)
        assert float(np.mean(out == reference)) >= NEAREST_IDENTICAL, (width, height)
        assert mad(out, reference) <= NEAREST_MAD, (width, height)


def test_resize_default_filter_is_lanczos3(client: Client) -> None:
    pixels = photo("astronaut.jpg")
    implicit = transform(
        client, pixels, [Op(resize=Resize(width=200, height=150, mode=ResizeMode.EXACT))]
    )
    explicit = transform(
        client,
        pixels,
        [Op(resize=Resize(width=200, height=150, mode=ResizeMode.EXACT, filter=Filter.LANCZOS3))],
    )
    np.testing.assert_array_equal(implicit, explicit)


@pytest.mark.parametrize(
    ("box", "expected"),
    [
        # 400 wide x 512 high source; FIT keeps the aspect ratio, rounding to nearest.
        ((100, 0), (100, 128)),
        ((0, 100), (78, 100)),
        ((300, 300), (234, 300)),
        ((333, 77), (60, 77)),
        ((800, 2000), (800, 1024)),
    ],
)
def test_resize_fit_sizes(client: Client, box: tuple[int, int], expected: tuple[int, int]) -> None:
    pixels = np.ascontiguousarray(photo("astronaut.jpg")[:, :400])
    out = client.transform(
        images.to_image(pixels),
        [Op(resize=Resize(width=box[0], height=box[1]))],
        Output(raw=Raw()),
    )
    assert out.raw is not None
    assert (out.raw.width, out.raw.height) == expected


def test_resize_fill_covers_and_crops_centre(client: Client) -> None:
    pixels = photo("coffee.jpg")  # 600x400
    out = transform(
        client, pixels, [Op(resize=Resize(width=200, height=200, mode=ResizeMode.FILL))]
    )
    assert out.shape == (200, 200, 3)
    # The centre 400x400 square of the source, scaled to 200x200.
    reference = _pil_resize(
        np.ascontiguousarray(pixels[:, 100:500]), (200, 200), PILImage.Resampling.LANCZOS
    )
    assert mad(out, reference) <= 1.0
