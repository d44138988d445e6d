"""Shared helpers of the image suite: the server process, the SDK, photos and metrics.

The SDK is imported from ``client-sdks/python/src`` (put on ``sys.path`` here), so the
suite needs no install of it. Photos are the files under ``data/`` (see ``make_data.py``),
decoded by Pillow on the client so that reference and server see the same pixels.
"""

from __future__ import annotations

import io
import os
import select
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from PIL import Image as PILImage

#: tests/image -> tests -> the repository root.
REPO_ROOT = Path(__file__).resolve().parents[2]
SDK_SRC = REPO_ROOT / "client-sdks" / "python" / "src"
if str(SDK_SRC) not in sys.path:
    sys.path.insert(0, str(SDK_SRC))

import mosaic_rpc as mosaic_rpc  # noqa: E402  # re-exported for the tests
from mosaic_rpc import images as images  # noqa: E402
from mosaic_rpc.image import Image, Op, Output, PixelFormat, Raw  # noqa: E402

DATA = Path(__file__).resolve().parent / "data"
HOST = "127.0.0.1"
LISTENING = "listening on "

Array = npt.NDArray[Any]

#: Colour photographs (JPEG) and grayscale ones (PNG) under data/.
COLOUR_PHOTOS = ("astronaut.jpg", "coffee.jpg", "chelsea.jpg")
GRAY_PHOTOS = ("camera.png", "coins.png")
ALL_PHOTOS = COLOUR_PHOTOS + GRAY_PHOTOS


def mosaic_bin() -> Path:
    """$MOSAIC_BIN, else $CARGO_TARGET_DIR/debug/mosaic, else <repo>/target/debug/mosaic."""
    configured = os.environ.get("MOSAIC_BIN")
    if configured:
        return Path(configured)
    target = os.environ.get("CARGO_TARGET_DIR")
    return (Path(target) if target else REPO_ROOT / "target") / "debug" / "mosaic"


@dataclass
class Server:
    """A running ``mosaic serve image`` process."""

    process: subprocess.Popen[bytes]
    port: int
    stderr_path: Path

    @property
    def address(self) -> str:
        return f"{HOST}:{self.port}"

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def stderr_tail(self) -> str:
        return self.stderr_path.read_text(errors="replace")[-4000:]

    def memory_kb(self, key: str = "VmHWM") -> int:
        """A ``/proc/PID/status`` figure in kB: VmHWM (peak RSS) or VmRSS."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
        raise KeyError(key)

    def stop(self, timeout: float = 10.0) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout)
        if self.process.stdout is not None:
            self.process.stdout.close()


def start_server(binary: Path, log_dir: Path, *extra: str, timeout: float = 30.0) -> Server:
    """``BINARY serve image --port 0 EXTRA...``, once it printed ``listening on HOST:PORT``."""
    log_dir.mkdir(parents=True, exist_ok=True)
    stderr_path = log_dir / f"mosaic-image-{time.monotonic_ns()}.stderr"
    argv = [str(binary), "serve", "image", "--host", HOST, "--port", "0", *extra]
    with stderr_path.open("wb") as stderr:
        process = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=stderr, cwd=REPO_ROOT
        )
    assert process.stdout is not None
    line = _first_line(process.stdout.fileno(), timeout)
    if not line.startswith(LISTENING):
        process.kill()
        process.wait(10)
        process.stdout.close()
        raise RuntimeError(
            f"{' '.join(argv)} did not print `listening on {HOST}:PORT` within {timeout:g} s "
            f"(first line {line!r}); stderr:\n{stderr_path.read_text(errors='replace')[-4000:]}"
        )
    host, _, port = line[len(LISTENING) :].strip().rpartition(":")
    assert host == HOST and port.isdigit(), f"unexpected address in {line!r}"
    return Server(process, int(port), stderr_path)


def _first_line(fd: int, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    buf = b""
    while b"\n" not in buf:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        ready, _, _ = select.select([fd], [], [], remaining)
        if not ready:
            continue
        chunk = os.read(fd, 4096)
        if not chunk:
            break
        buf += chunk
    return buf.split(b"\n", 1)[0].decode(errors="replace")


# ---- photos and conversions -------------------------------------------------------------


def photo(name: str) -> Array:
    """A photo under data/ decoded by Pillow: HxWx3 uint8 (colour) or HxW uint8 (gray)."""
    with PILImage.open(DATA / name) as picture:
        return np.asarray(picture.convert("L" if picture.mode == "L" else "RGB")).copy()


def photo_bytes(name: str) -> bytes:
    return (DATA / name).read_bytes()


def gray_of(pixels: Array) -> Array:
    """Pillow's Rec. 601 luma of an RGB photo (the photo itself if already gray)."""
    if pixels.ndim == 2:
        return pixels
    return np.asarray(PILImage.fromarray(pixels).convert("L"))


def png(pixels: Array) -> bytes:
    out = io.BytesIO()
    if pixels.dtype == np.uint16:
        height, width = pixels.shape
        wide = pixels.astype("<u2").tobytes()
        PILImage.frombytes("I;16", (width, height), wide).save(out, format="PNG")
    else:
        PILImage.fromarray(pixels).save(out, format="PNG")
    return out.getvalue()


def to_array(image: Image) -> Array:
    """The server's result as a writable numpy array (raw pixels, or decoded by Pillow)."""
    return np.array(images.to_numpy(image))


def transform(
    client: mosaic_rpc.ImageClient,
    pixels: Array | Image,
    ops: list[Op],
    pixel_format: PixelFormat | None = None,
) -> Array:
    """Runs OPS on PIXELS (sent raw) and returns the raw result as an array."""
    image = pixels if isinstance(pixels, Image) else images.to_image(pixels)
    out = client.transform(image, ops, Output(raw=Raw(pixel_format=pixel_format)))
    assert out.raw is not None, "asked for raw output, got encoded"
    return to_array(out)


# ---- metrics ------------------------------------------------------------------------------


def mad(a: Array, b: Array) -> float:
    """Mean absolute difference of two same-shaped arrays."""
    assert a.shape == b.shape, f"shapes differ: {a.shape} vs {b.shape}"
    return float(np.mean(np.abs(a.astype(np.float64) - b.astype(np.float64))))


def max_abs(a: Array, b: Array) -> float:
    assert a.shape == b.shape, f"shapes differ: {a.shape} vs {b.shape}"
    return float(np.max(np.abs(a.astype(np.float64) - b.astype(np.float64))))


def inner(a: Array, margin: int) -> Array:
    """A without a MARGIN-pixel border (where border rules differ between libraries)."""
    return a[margin : a.shape[0] - margin, margin : a.shape[1] - margin]


def edge_f1(found: Array, reference: Array, tolerance: int = 1) -> float:
    """F1 of edge pixels, a found (reference) pixel counting as matched when a reference
    (found) edge pixel lies within TOLERANCE pixels (Chebyshev distance), as is usual when
    scoring edge maps: one-pixel shifts of a thin edge are not disagreements.
    """
    found_b = found > 0
    ref_b = reference > 0
    if not found_b.any() and not ref_b.any():
        return 1.0
    precision = float(np.mean(_dilate(ref_b, tolerance)[found_b])) if found_b.any() else 0.0
    recall = float(np.mean(_dilate(found_b, tolerance)[ref_b])) if ref_b.any() else 0.0
    if precision + recall == 0:
        return 0.0
    return 2 * precision * recall / (precision + recall)


def _dilate(mask: Array, radius: int) -> Array:
    out = mask.copy()
    h, w = mask.shape
    for dy in range(-radius, radius + 1):
        for dx in range(-radius, radius + 1):
            shifted = np.zeros_like(mask)
            ys, yd = (slice(max(dy, 0), h), slice(0, h - max(dy, 0)))
            if dy < 0:
                ys, yd = slice(0, h + dy), slice(-dy, h)
            xs, xd = (slice(max(dx, 0), w), slice(0, w - max(dx, 0)))
            if dx < 0:
                xs, xd = slice(0, w + dx), slice(-dx, w)
            shifted[yd, xd] = mask[ys, xs]
            out |= shifted
    return out
