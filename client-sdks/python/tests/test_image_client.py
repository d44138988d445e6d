"""The image client's "images in, images out" surface against a real `mosaic serve image`:
`transform` on numpy arrays, Pillow images, paths, file bytes and wire `Image` values;
`transform_many` (input order, bounded concurrency, lazy reading, per-item errors,
progress bars); `images.preview` for notebooks.
"""

from __future__ import annotations

import io
import itertools
import sys
import threading
import time
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image as PILImage

import mosaic_rpc
from mosaic_rpc import images
from mosaic_rpc.image import (
    Encode,
    Flip,
    FlipAxis,
    Image,
    ImageFormat,
    ImageService,
    InvalidImage,
    Invert,
    Op,
    Output,
    PixelFormat,
    Raw,
    Resize,
    ResizeMode,
)

from servers import Server

MIRROR = Op(flip=Flip(axis=FlipAxis.HORIZONTAL))
INVERT = Op(invert=Invert())


@pytest.fixture
def client(image_server: Server) -> Iterator[mosaic_rpc.ImageClient]:
    with mosaic_rpc.connect("image", image_server.address, timeout=30, pool_size=4) as connected:
        yield connected


def _rgb(height: int = 48, width: int = 64, seed: int = 1) -> np.ndarray[Any, Any]:
    return np.random.default_rng(seed).integers(0, 256, size=(height, width, 3), dtype=np.uint8)


def _png(array: np.ndarray[Any, Any], fmt: str = "PNG") -> bytes:
    out = io.BytesIO()
    PILImage.fromarray(array).save(out, format=fmt)
    return out.getvalue()


# ---- transform: the result is the kind of the input ------------------------------------------


@pytest.mark.parametrize(
    "array",
    [
        _rgb(),
        _rgb()[:, :, 0],  # GRAY8
        np.tile(np.arange(40, dtype=np.uint16) * 1000, (30, 1)),  # GRAY16
        np.dstack([_rgb(), np.full((48, 64), 200, np.uint8)]),  # RGBA8
        _rgb()[::2, ::-1],  # strided view
    ],
    ids=["rgb8", "gray8", "gray16", "rgba8", "strided"],
)
def test_numpy_in_numpy_out(client: mosaic_rpc.ImageClient, array: np.ndarray[Any, Any]) -> None:
    out = client.transform(array, MIRROR)
    assert isinstance(out, np.ndarray)
    assert out.shape == array.shape and out.dtype == array.dtype
    np.testing.assert_array_equal(out, array[:, ::-1])  # raw both ways: lossless
    assert out.flags.writeable
    out[0, 0] = 0  # the caller's own array


def test_numpy_with_an_encoded_output_is_decoded(client: mosaic_rpc.ImageClient) -> None:
    array = _rgb()
    out = client.transform(array, [MIRROR], Output(encode=Encode(format=ImageFormat.PNG)))
    assert isinstance(out, np.ndarray)
    np.testing.assert_array_equal(out, array[:, ::-1])


def test_numpy_with_a_raw_pixel_format(client: mosaic_rpc.ImageClient) -> None:
    out = client.transform(_rgb(), [], Output(raw=Raw(pixel_format=PixelFormat.GRAY8)))
    assert out.shape == (48, 64) and out.dtype == np.uint8


@pytest.mark.parametrize("mode", ["RGB", "L", "RGBA"])
def test_pil_in_pil_out(client: mosaic_rpc.ImageClient, mode: str) -> None:
    picture = PILImage.fromarray(_rgb()).convert(mode)
    out = client.transform(picture, [INVERT, MIRROR])
    assert isinstance(out, PILImage.Image)
    assert out.mode == mode and out.size == picture.size
    expected = np.asarray(picture)[:, ::-1].copy()
    if mode == "RGBA":
        expected[:, :, :3] = 255 - expected[:, :, :3]
    else:
        expected = 255 - expected
    np.testing.assert_array_equal(np.asarray(out), expected)


def test_bytes_in_file_bytes_out_in_the_same_format(client: mosaic_rpc.ImageClient) -> None:
    array = _rgb()
    png = client.transform(_png(array), MIRROR)
    assert isinstance(png, bytes) and png.startswith(b"\x89PNG")
    np.testing.assert_array_equal(np.asarray(PILImage.open(io.BytesIO(png))), array[:, ::-1])
    jpeg = client.transform(bytearray(_png(array, "JPEG")), MIRROR)
    assert jpeg.startswith(b"\xff\xd8")
    webp = client.transform(
        memoryview(_png(array)), [MIRROR], Output(encode=Encode(format=ImageFormat.WEBP))
    )
    assert webp[:4] == b"RIFF" and webp[8:12] == b"WEBP"


def test_path_in_file_bytes_out(client: mosaic_rpc.ImageClient, tmp_path: Path) -> None:
    path = tmp_path / "photo.png"
    path.write_bytes(_png(_rgb()))
    small = Op(resize=Resize(width=16, height=12, mode=ResizeMode.EXACT))
    for given in (path, str(path)):
        out = client.transform(given, small)
        assert isinstance(out, bytes)
        assert PILImage.open(io.BytesIO(out)).size == (16, 12)
    # Raw output asked for with a file input: still a file, encoded as PNG here.
    out = client.transform(path, small, Output(raw=Raw()))
    assert out.startswith(b"\x89PNG") and PILImage.open(io.BytesIO(out)).size == (16, 12)


def test_wire_image_keeps_the_idl_call(
    client: mosaic_rpc.ImageClient, image_server: Server
) -> None:
    wire = images.to_image(_rgb())
    out = client.transform(wire, [MIRROR], Output(raw=Raw()))
    assert isinstance(out, Image) and out.raw is not None
    with mosaic_rpc.connect(ImageService, image_server.address) as generic:
        assert type(generic) is mosaic_rpc.Client
        assert generic.transform(wire, [MIRROR], Output(raw=Raw())) == out


def test_ops_are_one_op_or_a_sequence(client: mosaic_rpc.ImageClient) -> None:
    array = _rgb()
    np.testing.assert_array_equal(client.transform(array, (MIRROR, MIRROR)), array)
    with pytest.raises(TypeError, match="ops"):
        client.transform(array, "flip")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="Op"):
        client.transform(array, [MIRROR, "flip"])  # type: ignore[list-item]


def test_declared_errors_pass_through(client: mosaic_rpc.ImageClient) -> None:
    with pytest.raises(InvalidImage):
        client.transform(b"not an image", MIRROR)
    with pytest.raises(TypeError, match="to_image"):
        client.transform(12, MIRROR)  # type: ignore[call-overload]


# ---- transform_many ---------------------------------------------------------------------------


def test_many_yields_in_input_order_whatever_the_kind(client: mosaic_rpc.ImageClient) -> None:
    # Sizes differ, so a result in the wrong place shows; big ones first finish last.
    arrays = [_rgb(8 + 7 * ((n * 5) % 13), 8 + n, seed=n) for n in range(30)]
    results = list(client.transform_many(arrays, MIRROR, concurrency=4))
    assert len(results) == len(arrays)
    for array, out in zip(arrays, results, strict=True):
        np.testing.assert_array_equal(out, array[:, ::-1])
    mixed: list[images.ImageLike] = [arrays[0], PILImage.fromarray(arrays[1]), _png(arrays[2])]
    kinds = [type(out) for out in client.transform_many(mixed, MIRROR)]
    assert kinds[0] is np.ndarray and isinstance(mixed[1], PILImage.Image) and kinds[2] is bytes
    assert issubclass(kinds[1], PILImage.Image)


class _InFlight:
    """Wraps a client's `transform` to count the calls running at once."""

    def __init__(self, client: mosaic_rpc.ImageClient, hold: float) -> None:
        self.lock = threading.Lock()
        self.now = 0
        self.peak = 0
        self.calls = 0
        self.hold = hold
        self.inner = client.transform

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        with self.lock:
            self.now += 1
            self.calls += 1
            self.peak = max(self.peak, self.now)
        try:
            time.sleep(self.hold)  # long enough for the others to overlap
            return self.inner(*args, **kwargs)
        finally:
            with self.lock:
                self.now -= 1


@pytest.mark.parametrize(("concurrency", "expected"), [(None, 4), (3, 3), (1, 1)])
def test_many_bounds_calls_in_flight(
    client: mosaic_rpc.ImageClient, concurrency: int | None, expected: int
) -> None:
    counter = _InFlight(client, hold=0.05)
    client.transform = counter  # type: ignore[method-assign]
    arrays = [_rgb(16, 16, seed=n) for n in range(24)]
    results = list(client.transform_many(arrays, MIRROR, concurrency=concurrency))
    assert len(results) == 24 and counter.calls == 24
    assert counter.peak == expected  # pool_size (4) when not given; reached, never passed
    assert client.pool_stats().peak_open <= 4
    assert counter.now == 0


def test_many_reads_the_input_lazily(client: mosaic_rpc.ImageClient) -> None:
    taken = 0

    def endless() -> Iterator[np.ndarray[Any, Any]]:
        nonlocal taken
        for n in itertools.count():
            taken += 1
            yield _rgb(8, 8, seed=n)

    stream = client.transform_many(endless(), MIRROR, concurrency=3)
    first = list(itertools.islice(stream, 5))
    assert len(first) == 5
    assert taken <= 5 + 3  # what was yielded plus one window, never the whole input
    stream.close()  # leaving early: pending calls cancelled, the running ones awaited
    assert client.status().name == "image"


def test_many_returns_errors_in_place(client: mosaic_rpc.ImageClient) -> None:
    good = _png(_rgb())
    items: list[images.ImageLike] = [good, b"junk", good, 3.5, good]  # type: ignore[list-item]
    results = list(client.transform_many(items, MIRROR, errors="return", concurrency=2))
    assert len(results) == 5
    assert isinstance(results[1], InvalidImage)
    assert isinstance(results[3], TypeError)  # not an image at all: also this item's error
    for n in (0, 2, 4):
        assert isinstance(results[n], bytes)


def test_many_raises_the_first_error_by_default(client: mosaic_rpc.ImageClient) -> None:
    good = _rgb(8, 8)
    items: list[images.ImageLike] = [good, good, b"junk", good, good]
    seen: list[object] = []
    with pytest.raises(InvalidImage):
        for out in client.transform_many(items, MIRROR, concurrency=2):
            seen.append(out)
    assert len(seen) == 2


def test_many_checks_its_arguments_at_once(client: mosaic_rpc.ImageClient) -> None:
    with pytest.raises(ValueError, match="concurrency"):
        client.transform_many([], MIRROR, concurrency=0)
    with pytest.raises(ValueError, match="errors"):
        client.transform_many([], MIRROR, errors="ignore")  # type: ignore[call-overload]
    with pytest.raises(TypeError, match="ops"):
        client.transform_many([], "flip")  # type: ignore[arg-type]
    assert list(client.transform_many([], MIRROR)) == []


def test_progress_without_tqdm_is_silent(
    client: mosaic_rpc.ImageClient,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setitem(sys.modules, "tqdm", None)  # import tqdm now raises ImportError
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    results = list(client.transform_many([_rgb(8, 8)] * 3, MIRROR, progress=True))
    assert len(results) == 3
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


class _FakeBar:
    made: list[_FakeBar] = []  # noqa: RUF012

    def __init__(self, total: int | None = None, **options: Any) -> None:
        self.total = total
        self.count = 0
        self.closed = False
        _FakeBar.made.append(self)

    def update(self, n: int = 1) -> None:
        self.count += n

    def close(self) -> None:
        self.closed = True


def test_progress_with_tqdm_counts_every_item(
    client: mosaic_rpc.ImageClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = types.ModuleType("tqdm.auto")
    fake.tqdm = _FakeBar  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "tqdm", types.ModuleType("tqdm"))
    monkeypatch.setitem(sys.modules, "tqdm.auto", fake)
    _FakeBar.made.clear()
    items: list[images.ImageLike] = [_rgb(8, 8), b"junk", _rgb(8, 8)]
    list(client.transform_many(items, MIRROR, progress=True, errors="return"))
    (bar,) = _FakeBar.made
    assert (bar.total, bar.count, bar.closed) == (3, 3, True)
    list(client.transform_many(iter(items[:1]), MIRROR, progress=True))
    assert _FakeBar.made[-1].total is None  # no length: a bar without a total
    list(client.transform_many(items[:1], MIRROR))  # progress=False: no bar
    assert len(_FakeBar.made) == 2


def test_progress_with_the_real_tqdm(
    client: mosaic_rpc.ImageClient, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("tqdm")
    results = list(client.transform_many([_rgb(8, 8)] * 4, MIRROR, progress=True))
    assert len(results) == 4
    assert "4/4" in capsys.readouterr().err


# ---- preview ----------------------------------------------------------------------------------


def test_preview_shows_every_kind_as_png(client: mosaic_rpc.ImageClient) -> None:
    array = client.transform(_rgb(), MIRROR)
    picture = client.transform(PILImage.fromarray(_rgb()), MIRROR)
    data = client.transform(_png(_rgb(300, 400)), MIRROR)
    wire = client.transform(images.to_image(_rgb()), [MIRROR], Output(raw=Raw()))
    deep = np.tile(np.arange(64, dtype=np.uint16) * 1000, (8, 1))
    floats = np.linspace(-0.5, 1.5, 8 * 8 * 3, dtype=np.float32).reshape(8, 8, 3)
    shown = images.preview(array, picture, data, wire, deep, floats, max_size=128)
    assert len(shown) == 6 and shown._repr_png_() is None  # several: HTML only
    page = shown._repr_html_()
    assert page.count("<img ") == 6 and "data:image/png;base64," in page
    thumb = PILImage.open(io.BytesIO(shown.pngs[2]))
    assert max(thumb.size) == 128  # scaled down to max_size, aspect kept
    levels = np.asarray(PILImage.open(io.BytesIO(shown.pngs[4])))
    assert levels.dtype == np.uint8 and levels.max() == round(63000 * 255 / 65535)
    palette = PILImage.fromarray(_rgb()).convert("P")  # indices would show as noise
    gray_alpha = np.dstack([_rgb()[:, :, 0], np.full((48, 64), 128, np.uint8)])
    more = images.preview(palette, gray_alpha, PILImage.fromarray(deep))
    decoded = [np.asarray(PILImage.open(io.BytesIO(png))) for png in more.pngs]
    assert decoded[0].shape == (48, 64, 3) and decoded[1].shape == (48, 64, 2)
    assert decoded[2].max() == levels.max()  # Pillow I;16 scaled as the uint16 array
    one = images.preview(array)
    png = one._repr_png_()
    assert png is not None and png.startswith(b"\x89PNG")
    assert "64x48 uint8" in repr(one)
    with pytest.raises(ValueError):
        images.preview()


# ---- static types -----------------------------------------------------------------------------

TYPED_USE = """
from typing import Any
import numpy as np
import numpy.typing as npt
import PIL.Image
import mosaic_rpc
from mosaic_rpc.image import Image, Op, Output, Raw

def use(client: mosaic_rpc.ImageClient, array: npt.NDArray[Any], picture: PIL.Image.Image,
        wire: Image, op: Op) -> None:
    a: npt.NDArray[Any] = client.transform(array, op, timeout=1.0)
    p: PIL.Image.Image = client.transform(picture, [op])
    b: bytes = client.transform("photo.jpg", op)
    w: Image = client.transform(wire, [op], Output(raw=Raw()))
    arrays: list[npt.NDArray[Any]] = list(client.transform_many([array], op, concurrency=2))
    maybe: list[bytes | Exception] = list(client.transform_many([b"x"], op, errors="return"))
    bad_a: bytes = client.transform(array, op)  # error
    bad_m: list[bytes] = list(client.transform_many([b"x"], op, errors="return"))  # error
    client.transform_many([array], op, concurrency="4")  # error
"""


@pytest.mark.timeout(180)
def test_results_are_typed_by_input_kind(tmp_path: Path) -> None:
    """mypy --strict gives each input kind its result type, and flags a mismatch."""
    import os
    import subprocess

    use = tmp_path / "use.py"
    use.write_text(TYPED_USE)
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(use)],
        capture_output=True,
        text=True,
        timeout=170,
        cwd=tmp_path,
        env={**os.environ, "MYPYPATH": str(Path(__file__).resolve().parents[1] / "src")},
        check=False,
    )
    flagged = sorted(
        {int(line.split(":")[1]) for line in done.stdout.splitlines() if ": error:" in line}
    )
    expected = [n for n, line in enumerate(TYPED_USE.splitlines(), 1) if line.endswith("# error")]
    assert flagged == expected, done.stdout
