"""Bad input: every malformed image or absurd parameter gets its declared exception (class,
message, field) quickly, and the server keeps serving with bounded memory.

These tests run against servers of their own (not the suite's shared one), so the peak RSS
they check reflects only what bad input made the server allocate.
"""

from __future__ import annotations

import struct
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from thrift.protocol import TBinaryProtocol
from thrift.protocol.TProtocol import TProtocolBase
from thrift.Thrift import TType
from thrift.transport import TSocket, TTransport

import support
from mosaic_rpc.image import (
    Blur,
    Crop,
    Encode,
    EncodedImage,
    ErrorKind,
    FastOptions,
    FeatureOptions,
    Filter,
    HogOptions,
    Image,
    ImageFormat,
    ImageService,
    InvalidArgument,
    InvalidImage,
    Morphology,
    MorphologyOp,
    Op,
    Output,
    PixelFormat,
    Raw,
    RawImage,
    Resize,
    ResizeMode,
    Rotate,
    SegmentOptions,
    Threshold,
    ThresholdMethod,
    Thumbnail,
    TooLarge,
    Unsupported,
    WindowLevel,
)
from support import Server, images, mosaic_rpc, photo, photo_bytes

Client = mosaic_rpc.ImageClient

#: Every bad request is answered within this many seconds (debug build, loaded CI box):
#: validation happens before any pixel work, so answers take milliseconds.
ANSWER_SECONDS = 2.0
#: Peak RSS (VmHWM) of a server that only ever saw these tests' requests. A 10^10-pixel
#: image decoded for real would need 30 GB; the photos here need a few MB.
PEAK_RSS_KB = 300 * 1024
#: A decompression bomb must be refused before its pixels are allocated: the peak RSS grows
#: by less than this while it is answered.
BOMB_GROWTH_KB = 32 * 1024


@pytest.fixture(scope="module")
def bad_server(mosaic_bin: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = support.start_server(mosaic_bin, tmp_path_factory.mktemp("bad-logs"))
    yield running
    running.stop()


@pytest.fixture(scope="module")
def bad_client(bad_server: Server) -> Iterator[Client]:
    with mosaic_rpc.connect("image", bad_server.address, timeout=30, retries=0) as connected:
        yield connected


@pytest.fixture(scope="module")
def limited_server(mosaic_bin: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server with small budgets: 1 MP per image, 4 images per batch."""
    running = support.start_server(
        mosaic_bin,
        tmp_path_factory.mktemp("limited-logs"),
        "--max-pixels",
        "1000000",
        "--max-batch",
        "4",
    )
    yield running
    running.stop()


@pytest.fixture(scope="module")
def limited_client(limited_server: Server) -> Iterator[Client]:
    with mosaic_rpc.connect("image", limited_server.address, timeout=30, retries=0) as connected:
        yield connected


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def png_bomb(width: int, height: int) -> bytes:
    """A valid PNG signature and IHDR (8-bit RGB) claiming WIDTH x HEIGHT, with a tiny IDAT."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\0" * 64)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", idat)
        + _png_chunk(b"IEND", b"")
    )


def expect(
    server: Server,
    client: Client,
    call: Callable[[], Any],
    error: type[Exception],
    *,
    field: str | None = None,
    message: str = "",
    seconds: float = ANSWER_SECONDS,
) -> Any:
    """Runs CALL, which must raise ERROR within SECONDS (with FIELD and a message containing
    MESSAGE), then checks the server is alive, still serves, and its peak RSS is bounded."""
    start = time.monotonic()
    with pytest.raises(error) as raised:
        call()
    elapsed = time.monotonic() - start
    err = raised.value
    assert elapsed <= seconds, f"{error.__name__} took {elapsed:.2f} s"
    text = str(getattr(err, "message", ""))
    assert text, f"{error.__name__} without a message"
    assert message.lower() in text.lower(), text
    if field is not None:
        assert getattr(err, "field", None) == field, text
    assert_still_serving(server, client)
    return err


def assert_still_serving(server: Server, client: Client) -> None:
    assert server.alive(), f"the server died; stderr:\n{server.stderr_tail()}"
    client.ping()
    pixels = np.arange(48, dtype=np.uint8).reshape(6, 8)
    out = client.transform(
        images.to_image(pixels), [Op(rotate=Rotate(degrees=90))], Output(raw=Raw())
    )
    np.testing.assert_array_equal(support.to_array(out), np.rot90(pixels, -1))
    assert server.memory_kb("VmHWM") <= PEAK_RSS_KB


# ---- malformed images ---------------------------------------------------------------------


def test_truncated_jpeg(bad_server: Server, bad_client: Client) -> None:
    data = photo_bytes("astronaut.jpg")
    for cut in (len(data) // 2, len(data) - 2, 700):
        image = images.to_image(data[:cut])
        expect(bad_server, bad_client, partial(bad_client.transform, image, [], None), InvalidImage)
        expect(bad_server, bad_client, partial(bad_client.stats, image), InvalidImage)


def test_truncated_jpeg_header(bad_server: Server, bad_client: Client) -> None:
    image = images.to_image(photo_bytes("coffee.jpg")[:300])
    expect(bad_server, bad_client, lambda: bad_client.info(image), InvalidImage, message="jpeg")
    expect(bad_server, bad_client, lambda: bad_client.transform(image, [], None), InvalidImage)


def test_truncated_png(bad_server: Server, bad_client: Client) -> None:
    data = photo_bytes("camera.png")
    image = images.to_image(data[: len(data) // 2])
    expect(
        bad_server,
        bad_client,
        lambda: bad_client.transform(image, [], None),
        InvalidImage,
        message="png",
    )


@pytest.mark.parametrize("size", [1, 16, 5000, 200_000])
def test_random_bytes(bad_server: Server, bad_client: Client, size: int) -> None:
    data = np.random.default_rng(size).bytes(size)
    image = images.to_image(data)
    expect(
        bad_server,
        bad_client,
        lambda: bad_client.transform(image, [], None),
        InvalidImage,
        message="not an image",
    )
    expect(bad_server, bad_client, lambda: bad_client.info(image), InvalidImage)


def test_empty_image(bad_server: Server, bad_client: Client) -> None:
    image = images.to_image(b"")
    expect(
        bad_server,
        bad_client,
        lambda: bad_client.transform(image, [], None),
        InvalidImage,
        message="empty",
    )


def test_random_bytes_declared_as_jpeg(bad_server: Server, bad_client: Client) -> None:
    data = np.random.default_rng(1).bytes(4000)
    image = Image(encoded=EncodedImage(data=data, format=ImageFormat.JPEG))
    expect(bad_server, bad_client, lambda: bad_client.transform(image, [], None), InvalidImage)


def test_jpeg_declared_as_png(bad_server: Server, bad_client: Client) -> None:
    image = Image(encoded=EncodedImage(data=photo_bytes("chelsea.jpg"), format=ImageFormat.PNG))
    expect(
        bad_server,
        bad_client,
        lambda: bad_client.transform(image, [], None),
        InvalidImage,
        message="png",
    )


# ---- decompression bombs ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("width", "height"),
    [
        (100_000, 100_000),
        (9000, 9000),
        (2**31 - 1, 1),
        (1, 2**31 - 1),
    ],
)
def test_png_bomb_is_too_large_without_allocating(
    bad_server: Server, bad_client: Client, width: int, height: int
) -> None:
    image = images.to_image(png_bomb(width, height))
    before = bad_server.memory_kb("VmHWM")
    for call in (
        lambda: bad_client.transform(image, [], None),
        lambda: bad_client.stats(image),
        lambda: bad_client.histogram(image, 0),
        lambda: bad_client.segment(image, SegmentOptions()),
        lambda: bad_client.features(image, FeatureOptions(fast=FastOptions())),
    ):
        err = expect(bad_server, bad_client, call, TooLarge, message="pixels", seconds=1.0)
        assert err.what == "pixels"
        assert err.limit == 64 * 1024 * 1024
        assert err.requested == width * height
    assert bad_server.memory_kb("VmHWM") - before <= BOMB_GROWTH_KB


@pytest.mark.parametrize(
    ("width", "height"),
    [
        (100_000, 100_000),
        (9000, 9000),
        (2**31 - 1, 1),
        (1, 2**31 - 1),
    ],
)
def test_info_of_png_bomb_reads_the_header(
    bad_server: Server, bad_client: Client, width: int, height: int
) -> None:
    """info() reads the header only: it reports the claimed size without decoding."""
    image = images.to_image(png_bomb(width, height))
    before = bad_server.memory_kb("VmHWM")
    start = time.monotonic()
    info = bad_client.info(image)
    assert time.monotonic() - start <= 1.0
    assert (info.width, info.height, info.format) == (width, height, ImageFormat.PNG)
    assert bad_server.memory_kb("VmHWM") - before <= BOMB_GROWTH_KB
    assert_still_serving(bad_server, bad_client)


def test_png_bomb_in_a_batch_is_an_item_error(bad_server: Server, bad_client: Client) -> None:
    good = images.to_image(photo_bytes("camera.png"))
    bomb = images.to_image(png_bomb(100_000, 100_000))
    items = bad_client.transform_batch([good, bomb, good], [], Output(raw=Raw()))
    assert [item.image is not None for item in items] == [True, False, True]
    error = items[1].error
    assert error is not None and error.kind == ErrorKind.TOO_LARGE
    assert "pixels" in error.message
    assert_still_serving(bad_server, bad_client)


# ---- raw images ---------------------------------------------------------------------------


@pytest.mark.parametrize(("width", "height"), [(0, 0), (0, 10), (10, 0), (-5, 10), (10, -1)])
def test_zero_or_negative_sized_raw_image(
    bad_server: Server, bad_client: Client, width: int, height: int
) -> None:
    raw = RawImage(width=width, height=height, pixel_format=PixelFormat.GRAY8, pixels=b"")
    image = Image(raw=raw)
    for call in (
        lambda: bad_client.transform(image, [], None),
        lambda: bad_client.info(image),
        lambda: bad_client.stats(image),
    ):
        expect(bad_server, bad_client, call, InvalidImage, message="at least 1x1")


@pytest.mark.parametrize(
    ("pixel_format", "size"),
    [
        (PixelFormat.RGB8, 299),
        (PixelFormat.RGB8, 301),
        (PixelFormat.GRAY16, 100),
        (PixelFormat.RGBA32F, 1599),
        (PixelFormat.GRAY8, 0),
    ],
)
def test_wrong_raw_buffer_length(
    bad_server: Server, bad_client: Client, pixel_format: PixelFormat, size: int
) -> None:
    raw = RawImage(width=10, height=10, pixel_format=pixel_format, pixels=b"\0" * size)
    image = Image(raw=raw)
    err = expect(
        bad_server, bad_client, lambda: bad_client.transform(image, [], None), InvalidImage
    )
    assert f"but {size} were sent" in err.message


@pytest.mark.parametrize(
    "pixel_format",
    [
        PixelFormat.GRAY8,
        PixelFormat.RGBA8,
        PixelFormat.RGB16,
        PixelFormat.RGBA32F,
    ],
    ids=lambda f: PixelFormat._VALUES_TO_NAMES[f],
)
def test_huge_raw_header_with_small_buffer(
    bad_server: Server, bad_client: Client, pixel_format: PixelFormat
) -> None:
    side = 2**31 - 1
    image = Image(raw=RawImage(width=side, height=side, pixel_format=pixel_format, pixels=b"\0"))
    for call in (
        lambda: bad_client.info(image),
        lambda: bad_client.transform(image, [], None),
        lambda: bad_client.stats(image),
    ):
        expect(bad_server, bad_client, call, InvalidImage, message="but 1 were sent")


def test_non_finite_float_samples(bad_server: Server, bad_client: Client) -> None:
    for bad in (np.nan, np.inf, -np.inf):
        pixels = np.zeros((4, 4, 3), np.float32)
        pixels[2, 1, 0] = bad
        image = images.to_image(pixels)
        expect(
            bad_server, bad_client, partial(bad_client.stats, image), InvalidImage, message="finite"
        )


# ---- unknown enum values ------------------------------------------------------------------


def test_unknown_image_format(bad_server: Server, bad_client: Client) -> None:
    image = Image(encoded=EncodedImage(data=photo_bytes("chelsea.jpg"), format=ImageFormat(42)))
    err = expect(bad_server, bad_client, lambda: bad_client.transform(image, [], None), Unsupported)
    assert err.what == "format 42"


def test_unknown_output_format(bad_server: Server, bad_client: Client) -> None:
    image = images.to_image(photo("chelsea.jpg"))
    output = Output(encode=Encode(format=ImageFormat(42)))
    err = expect(
        bad_server, bad_client, lambda: bad_client.transform(image, [], output), Unsupported
    )
    assert err.what == "format 42"


def test_unknown_pixel_format(bad_server: Server, bad_client: Client) -> None:
    image = Image(raw=RawImage(width=1, height=1, pixel_format=PixelFormat(99), pixels=b"\0"))
    err = expect(bad_server, bad_client, lambda: bad_client.info(image), Unsupported)
    assert err.what == "pixel format 99"
    output = Output(raw=Raw(pixel_format=PixelFormat(99)))
    gray = images.to_image(photo("camera.png"))
    expect(
        bad_server,
        bad_client,
        lambda: bad_client.transform(gray, [], output),
        InvalidArgument,
        field="output.raw.pixel_format",
    )


# ---- union members from a newer contract --------------------------------------------------


class NewerMember:
    """A union value as a client with a newer IDL writes it: one member (an empty struct) under
    a field id this server's contract does not have."""

    def __init__(self, field_id: int) -> None:
        self.field_id = field_id

    def write(self, oprot: TProtocolBase) -> None:
        oprot.writeStructBegin("Newer")
        oprot.writeFieldBegin("newer", TType.STRUCT, self.field_id)
        oprot.writeStructBegin("Payload")
        oprot.writeFieldStop()
        oprot.writeStructEnd()
        oprot.writeFieldEnd()
        oprot.writeFieldStop()
        oprot.writeStructEnd()


@contextmanager
def plain_client(server: Server) -> Iterator[ImageService.Client]:
    """An Apache-runtime client on the pure-Python binary protocol, which writes each value
    through its own `write` (so a `NewerMember` can stand in for a union)."""
    host, port = server.address.rsplit(":", 1)
    transport = TTransport.TFramedTransport(TSocket.TSocket(host, int(port)))
    transport.open()
    try:
        yield ImageService.Client(TBinaryProtocol.TBinaryProtocol(transport))
    finally:
        transport.close()


def test_an_op_from_a_newer_contract_is_unsupported(bad_server: Server, bad_client: Client) -> None:
    image = images.to_image(photo("camera.png"))
    with plain_client(bad_server) as plain:
        ops: list[Any] = [Op(blur=Blur(sigma=1.0)), NewerMember(99)]
        err = expect(bad_server, bad_client, lambda: plain.transform(image, ops, None), Unsupported)
        assert err.what == "op 99"
        assert "field id 99 of union Op" in err.message
        # The connection is still good: the next call on it succeeds.
        out = plain.transform(image, [Op(blur=Blur(sigma=1.0))], Output(raw=Raw()))
        assert out.raw is not None and out.raw.width == 512


def test_an_image_or_output_from_a_newer_contract_is_unsupported(
    bad_server: Server, bad_client: Client
) -> None:
    image = images.to_image(photo("camera.png"))
    with plain_client(bad_server) as plain:
        newer_image: Any = NewerMember(7)
        err = expect(bad_server, bad_client, lambda: plain.info(newer_image), Unsupported)
        assert err.what == "image 7"
        newer_output: Any = NewerMember(5)
        err = expect(
            bad_server, bad_client, lambda: plain.transform(image, [], newer_output), Unsupported
        )
        assert err.what == "output 5"


# ---- absurd operation parameters ----------------------------------------------------------

NAN = float("nan")
INF = float("inf")

BAD_OPS: list[tuple[str, list[Op], str]] = [
    ("negative width", [Op(resize=Resize(width=-5, height=10))], "ops[0].resize.width"),
    ("negative height", [Op(resize=Resize(width=5, height=-10))], "ops[0].resize.height"),
    ("fit 0x0", [Op(resize=Resize(width=0, height=0))], "ops[0].resize.width"),
    (
        "exact 0 high",
        [Op(resize=Resize(width=5, height=0, mode=ResizeMode.EXACT))],
        "ops[0].resize.height",
    ),
    (
        "unknown filter",
        [Op(resize=Resize(width=5, height=5, filter=Filter(77)))],
        "ops[0].resize.filter",
    ),
    (
        "unknown mode",
        [Op(resize=Resize(width=5, height=5, mode=ResizeMode(9)))],
        "ops[0].resize.mode",
    ),
    (
        "thumbnail 0",
        [Op(thumbnail=Thumbnail(max_width=0, max_height=5))],
        "ops[0].thumbnail.max_width",
    ),
    ("NaN sigma", [Op(blur=Blur(sigma=NAN))], "ops[0].blur.sigma"),
    ("infinite sigma", [Op(blur=Blur(sigma=INF))], "ops[0].blur.sigma"),
    ("zero sigma", [Op(blur=Blur(sigma=0.0))], "ops[0].blur.sigma"),
    ("negative sigma", [Op(blur=Blur(sigma=-1.0))], "ops[0].blur.sigma"),
    ("huge sigma", [Op(blur=Blur(sigma=1e6))], "ops[0].blur.sigma"),
    (
        "huge radius",
        [Op(morphology=Morphology(op=MorphologyOp.DILATE, radius=10**9))],
        "ops[0].morphology.radius",
    ),
    (
        "zero radius",
        [Op(morphology=Morphology(op=MorphologyOp.ERODE, radius=0))],
        "ops[0].morphology.radius",
    ),
    (
        "unknown morphology",
        [Op(morphology=Morphology(op=MorphologyOp(9)))],
        "ops[0].morphology.op",
    ),
    (
        "huge adaptive block",
        [Op(threshold=Threshold(method=ThresholdMethod.ADAPTIVE, block_radius=10**9))],
        "ops[0].threshold.block_radius",
    ),
    (
        "threshold 300",
        [Op(threshold=Threshold(method=ThresholdMethod.FIXED, value=300))],
        "ops[0].threshold.value",
    ),
    ("NaN rotation", [Op(rotate=Rotate(degrees=NAN))], "ops[0].rotate.degrees"),
    ("negative crop", [Op(crop=Crop(x=-1, y=0, width=10, height=10))], "ops[0].crop.x"),
    ("empty crop", [Op(crop=Crop(x=0, y=0, width=0, height=10))], "ops[0].crop.width"),
    (
        "window width 0",
        [Op(window_level=WindowLevel(center=5.0, width=0.0))],
        "ops[0].window_level.width",
    ),
    (
        "second op named",
        [Op(rotate=Rotate(degrees=90)), Op(blur=Blur(sigma=NAN))],
        "ops[1].blur.sigma",
    ),
]


@pytest.mark.parametrize(
    ("ops", "field"), [(o, f) for _, o, f in BAD_OPS], ids=[n for n, _, _ in BAD_OPS]
)
def test_absurd_op_parameters(
    bad_server: Server, bad_client: Client, ops: list[Op], field: str
) -> None:
    image = images.to_image(photo("camera.png"))
    err = expect(
        bad_server,
        bad_client,
        lambda: bad_client.transform(image, ops, None),
        InvalidArgument,
        field=field,
    )
    assert err.message.startswith(field + ":"), err.message
    # A bad pipeline fails a whole batch, before any item is decoded.
    expect(
        bad_server,
        bad_client,
        lambda: bad_client.transform_batch([image, image], ops, None),
        InvalidArgument,
        field=field,
    )


def test_crop_outside_the_image(bad_server: Server, bad_client: Client) -> None:
    image = images.to_image(photo("camera.png"))  # 512x512
    for crop in (
        Crop(x=500, y=0, width=100, height=10),
        Crop(x=2**31 - 1, y=2**31 - 1, width=2**31 - 1, height=2**31 - 1),
    ):
        expect(
            bad_server,
            bad_client,
            partial(bad_client.transform, image, [Op(crop=crop)], None),
            InvalidArgument,
            field="ops[0].crop",
            message="does not fit",
        )


@pytest.mark.parametrize(
    "ops",
    [
        [Op(resize=Resize(width=2**31 - 1, height=2**31 - 1, mode=ResizeMode.EXACT))],
        [Op(resize=Resize(width=60000, height=60000, mode=ResizeMode.FILL))],
        [Op(resize=Resize(width=2**31 - 1, height=0))],
        [
            Op(rotate=Rotate(degrees=90)),
            Op(resize=Resize(width=9000, height=9000, mode=ResizeMode.EXACT)),
        ],
    ],
    ids=["i32 max", "60000 fill", "fit i32 max", "after rotate"],
)
def test_huge_resize_is_too_large(bad_server: Server, bad_client: Client, ops: list[Op]) -> None:
    image = images.to_image(photo("camera.png"))
    err = expect(
        bad_server,
        bad_client,
        lambda: bad_client.transform(image, ops, None),
        TooLarge,
        message="pixels",
    )
    assert err.what == "pixels" and err.requested is not None and err.limit is not None
    assert err.requested > err.limit


def test_bad_analysis_options(bad_server: Server, bad_client: Client) -> None:
    image = images.to_image(photo("camera.png"))
    cases: list[tuple[Callable[[], Any], str]] = [
        (lambda: bad_client.histogram(image, -1), "bins"),
        (lambda: bad_client.histogram(image, 10**9), "bins"),
        (
            lambda: bad_client.features(image, FeatureOptions(hog=HogOptions(cell_size=7))),
            "options.hog.cell_size",
        ),
        (
            lambda: bad_client.features(image, FeatureOptions(hog=HogOptions(width=10**6))),
            "options.hog.width",
        ),
        (
            lambda: bad_client.features(image, FeatureOptions(fast=FastOptions(threshold=0))),
            "options.fast.threshold",
        ),
        (
            lambda: bad_client.features(image, FeatureOptions(fast=FastOptions(max_corners=-1))),
            "options.fast.max_corners",
        ),
        (
            lambda: bad_client.segment(image, SegmentOptions(connectivity=5)),  # type: ignore[arg-type]
            "options.connectivity",
        ),
        (
            lambda: bad_client.segment(
                image, SegmentOptions(threshold=Threshold(method=ThresholdMethod(7)))
            ),
            "options.threshold.method",
        ),
    ]
    for call, field in cases:
        expect(bad_server, bad_client, call, InvalidArgument, field=field)


def test_bad_encode_quality(bad_server: Server, bad_client: Client) -> None:
    image = images.to_image(photo("camera.png"))
    for quality in (0, 101, -5):
        output = Output(encode=Encode(format=ImageFormat.JPEG, quality=quality))
        expect(
            bad_server,
            bad_client,
            partial(bad_client.transform, image, [], output),
            InvalidArgument,
            field="output.encode.quality",
        )


# ---- budgets of a server with small limits ------------------------------------------------


def test_limits_of_a_small_server(limited_server: Server, limited_client: Client) -> None:
    photo_image = images.to_image(photo_bytes("camera.png"))  # 0.26 MP: within 1 MP
    err = expect(
        limited_server,
        limited_client,
        lambda: limited_client.transform(
            photo_image, [Op(resize=Resize(width=2000, height=2000, mode=ResizeMode.EXACT))], None
        ),
        TooLarge,
    )
    assert (err.limit, err.requested) == (1_000_000, 4_000_000)
    expect(
        limited_server,
        limited_client,
        lambda: limited_client.stats(images.to_image(png_bomb(1001, 1000))),
        TooLarge,
    )
    err = expect(
        limited_server,
        limited_client,
        lambda: limited_client.transform_batch([photo_image] * 5, [], None),
        TooLarge,
        message="batch",
    )
    assert (err.limit, err.requested) == (4, 5)
    items = limited_client.transform_batch([photo_image] * 4, [], Output(raw=Raw()))
    assert all(item.image is not None for item in items)


def test_many_bad_requests_leave_memory_bounded(bad_server: Server, bad_client: Client) -> None:
    """A burst of bad requests of every kind (bounded: 30 rounds) and the server's RSS."""
    data = photo_bytes("astronaut.jpg")
    bomb = images.to_image(png_bomb(100_000, 100_000))
    truncated = images.to_image(data[: len(data) // 3])
    junk = images.to_image(np.random.default_rng(2).bytes(10_000))
    deadline = time.monotonic() + 60
    for _ in range(30):
        for image in (bomb, truncated, junk):
            with pytest.raises((TooLarge, InvalidImage)):
                bad_client.transform(image, [], None)
        assert time.monotonic() < deadline
    assert_still_serving(bad_server, bad_client)
    assert bad_server.memory_kb("VmRSS") <= PEAK_RSS_KB


def test_bad_and_good_requests_concurrently(bad_server: Server, bad_client: Client) -> None:
    """4 threads x 10 rounds (bounded), each round a bomb, a truncated JPEG, junk and a good
    resize: every bad one gets its exception, every good one the right pixels."""
    from concurrent.futures import ThreadPoolExecutor

    data = photo_bytes("astronaut.jpg")
    bad = [
        (images.to_image(png_bomb(100_000, 100_000)), TooLarge),
        (images.to_image(data[: len(data) // 2]), InvalidImage),
        (images.to_image(np.random.default_rng(3).bytes(3000)), InvalidImage),
    ]
    gray = photo("camera.png")
    expected = np.rot90(gray, 1)

    def worker(_: int) -> int:
        good = 0
        for _round in range(10):
            for image, error in bad:
                with pytest.raises(error):
                    bad_client.transform(image, [], None)
            out = bad_client.transform(
                images.to_image(gray), [Op(rotate=Rotate(degrees=270))], Output(raw=Raw())
            )
            np.testing.assert_array_equal(support.to_array(out), expected)
            good += 1
        return good

    start = time.monotonic()
    with ThreadPoolExecutor(max_workers=4) as pool:
        assert sum(pool.map(worker, range(4))) == 40
    assert time.monotonic() - start <= 60
    assert_still_serving(bad_server, bad_client)
