"""Thumbnails per second from one Python process: through Mosaic versus Pillow locally.

Input is JPEG bytes of 12 MP photos, output 256-pixel JPEG bytes (quality 85). Mosaic: one
`mosaic serve image` (release build) started here on 127.0.0.1 with a port chosen at run time,
called with the Python SDK's `transform_many` (a thumbnail op, JPEG output). Pillow: the same
process decodes in draft mode (`img.draft('RGB', (256, 256))`, libjpeg's DCT scaling), calls
`thumbnail` and saves the JPEG, one image after another.

The repository has no 12 MP photo, so the inputs are the test photos under tests/image/data
(real photographs, 451x300 to 600x400) upscaled with Lanczos to 4000x3000 in several crops and
flips, saved by Pillow at quality 90: real photo content, though smoother than a camera's.

Rounds alternate Mosaic and Pillow; the figures are medians over rounds. The run stops
starting rounds after --seconds.

Usage (from the repository root, after `cargo build --release -p mosaic-cli`):

    .venv/bin/python bench/images/thumbnails.py [--images 32] [--rounds 5] [--seconds 60]
"""

from __future__ import annotations

import argparse
import io
import os
import select
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "client-sdks" / "python" / "src"))

import mosaic_rpc  # noqa: E402
from mosaic_rpc.image import Encode, ImageFormat, Op, Output, Thumbnail  # noqa: E402

DATA = ROOT / "tests" / "image" / "data"
SIDE = 256
HOST = "127.0.0.1"


def default_mosaic() -> Path:
    target = os.environ.get("CARGO_TARGET_DIR")
    return (Path(target) if target else ROOT / "target") / "release" / "mosaic"


def photos(count: int) -> list[bytes]:
    """COUNT distinct 4000x3000 JPEGs made from the test photos (see the module doc)."""
    sources = [Image.open(path).convert("RGB") for path in sorted(DATA.glob("*.jpg"))]
    out = []
    for i in range(count):
        source = sources[i % len(sources)]
        w, h = source.size
        # A 4:3 crop that moves with i, so every input differs.
        cw = min(w, h * 4 // 3)
        ch = cw * 3 // 4
        x = (i * 17) % (w - cw + 1)
        y = (i * 11) % (h - ch + 1)
        picture = source.crop((x, y, x + cw, y + ch))
        if (i // len(sources)) % 2:
            picture = ImageOps.mirror(picture)
        picture = picture.resize((4000, 3000), Image.Resampling.LANCZOS)
        buffer = io.BytesIO()
        picture.save(buffer, "JPEG", quality=90)
        out.append(buffer.getvalue())
    return out


def start_server(binary: Path) -> tuple[subprocess.Popen[bytes], str]:
    process = subprocess.Popen(
        [str(binary), "serve", "image", "--host", HOST, "--port", "0"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], 30)
    line = process.stdout.readline().decode() if ready else ""
    prefix = "listening on "
    if not line.startswith(prefix):
        process.kill()
        raise SystemExit(f"{binary} did not start: first line {line!r}")
    return process, line[len(prefix) :].strip()


def pillow_thumbnail(data: bytes) -> bytes:
    with Image.open(io.BytesIO(data)) as im:
        im.draft("RGB", (SIDE, SIDE))
        im.thumbnail((SIDE, SIDE))
        out = io.BytesIO()
        im.save(out, "JPEG", quality=85)
        return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--images", type=int, default=32, help="distinct 12 MP inputs per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=60.0, help="start no round after this")
    parser.add_argument("--mosaic", type=Path, default=default_mosaic(), help="the mosaic binary")
    args = parser.parse_args()

    started = time.monotonic()
    inputs = photos(args.images)
    mb = sum(map(len, inputs)) / len(inputs) / 1e6
    print(
        f"{len(inputs)} JPEGs of 4000x3000 ({mb:.2f} MB each on average) made in "
        f"{time.monotonic() - started:.1f} s; {os.cpu_count()} CPUs"
    )
    ops = [Op(thumbnail=Thumbnail(max_width=SIDE, max_height=SIDE))]
    output = Output(encode=Encode(format=ImageFormat.JPEG, quality=85))

    server, address = start_server(args.mosaic)
    try:
        with mosaic_rpc.connect("image", address, timeout=120) as client:
            # Warm up (connections, pool threads) and check the results once.
            ours = list(client.transform_many(inputs[:4], ops, output))
            for data, thumb in zip(inputs[:4], ours, strict=True):
                with (
                    Image.open(io.BytesIO(thumb)) as a,
                    Image.open(io.BytesIO(pillow_thumbnail(data))) as b,
                ):
                    assert a.format == "JPEG" and max(a.size) == SIDE, a.size
                    if a.size == b.size:
                        diff = np.abs(np.asarray(a, float) - np.asarray(b, float)).mean()
                        size = f"{a.size[0]}x{a.size[1]}"
                        print(f"  check: {size}, mean abs diff to Pillow's {diff:.2f}")
            mosaic_rates, pillow_rates = [], []
            deadline = started + args.seconds
            for _ in range(args.rounds):
                if time.monotonic() > deadline and mosaic_rates:
                    break
                t = time.perf_counter()
                done = sum(1 for _ in client.transform_many(inputs, ops, output))
                mosaic_rates.append(done / (time.perf_counter() - t))
                t = time.perf_counter()
                for data in inputs:
                    pillow_thumbnail(data)
                pillow_rates.append(len(inputs) / (time.perf_counter() - t))
    finally:
        server.terminate()
        server.wait(10)

    mosaic = statistics.median(mosaic_rates)
    pillow = statistics.median(pillow_rates)
    print(f"rounds: {len(mosaic_rates)} x {len(inputs)} images; medians:")
    print(f"  Mosaic (transform_many, one server): {mosaic:7.1f} thumbnails/s")
    print(f"  Pillow draft mode, this process:     {pillow:7.1f} thumbnails/s")
    print(f"  Mosaic / Pillow: {mosaic / pillow:.2f}x")


if __name__ == "__main__":
    main()
