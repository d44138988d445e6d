"""Times the image service's kernels against Pillow and OpenCV on the same pixels, one thread.

Prepares a 1920x1080 photo (PNG and JPEG) and a 4000x3000 JPEG from scikit-image's bundled
astronaut photograph (upscaled with Lanczos, so the content is a real photo), times Pillow's and
OpenCV's way of doing each operation in this process (OpenCV limited to one thread), runs
Mosaic's `image-ops` binary on the same files, and prints the medians and the ratios.

Usage (from the repository root, with the test venv, after
`cargo build --release --manifest-path bench/Cargo.toml --bin image-ops`):

    .venv/bin/python bench/images/compare.py [--iters 15] [--out FILE]
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image, ImageFilter
from skimage import data

ROOT = Path(__file__).resolve().parents[2]



def default_image_ops() -> Path:
    """Where cargo puts `image-ops`: under $CARGO_TARGET_DIR when set, else bench/target."""
    target = os.environ.get("CARGO_TARGET_DIR")
    return (Path(target) if target else ROOT / "bench" / "target") / "release" / "image-ops"


def median_ms(iters: int, setup: Callable[[], Any], work: Callable[[Any], object]) -> float:
    times = []
    for _ in range(iters):
        value = setup()
        start = time.perf_counter()
        work(value)
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def prepare(directory: Path) -> dict[str, Path]:
    astronaut = Image.fromarray(data.astronaut())
    photo = astronaut.resize((1920, 1080), Image.Resampling.LANCZOS)
    large = astronaut.resize((4000, 3000), Image.Resampling.LANCZOS)
    paths = {
        "photo": directory / "photo-1080p.png",
        "photo_jpeg": directory / "photo-1080p.jpg",
        "photo_progressive": directory / "photo-1080p-progressive.jpg",
        "large_jpeg": directory / "photo-12mp.jpg",
        "large_progressive": directory / "photo-12mp-progressive.jpg",
    }
    photo.save(paths["photo"])
    photo.save(paths["photo_jpeg"], quality=90)
    photo.save(paths["photo_progressive"], quality=90, progressive=True)
    large.save(paths["large_jpeg"], quality=90)
    large.save(paths["large_progressive"], quality=90, progressive=True)
    return paths


def sobel_magnitude(gray: np.ndarray) -> np.ndarray:
    dx = cv2.Sobel(gray, cv2.CV_16S, 1, 0)
    dy = cv2.Sobel(gray, cv2.CV_16S, 0, 1)
    return cv2.convertScaleAbs(cv2.magnitude(dx.astype(np.float32), dy.astype(np.float32)))


def reference_times(paths: dict[str, Path], iters: int) -> dict[str, tuple[float | None, float | None]]:
    """Per operation: (OpenCV ms, Pillow ms); None where a library has no such operation."""
    cv2.setNumThreads(1)
    pil = Image.open(paths["photo"]).convert("RGB")
    pil.load()
    rgb = np.asarray(pil)
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    large_pil = Image.open(paths["large_jpeg"]).convert("RGB")
    large_pil.load()
    large = np.asarray(large_pil)
    png_bytes = paths["photo"].read_bytes()
    jpeg_bytes = paths["photo_jpeg"].read_bytes()
    progressive_bytes = paths["photo_progressive"].read_bytes()
    large_jpeg = paths["large_jpeg"].read_bytes()
    large_progressive = paths["large_progressive"].read_bytes()
    h, w = rgb.shape[:2]
    rotation = cv2.getRotationMatrix2D((w / 2, h / 2), -17, 1.0)

    def pil_thumbnail(jpeg: bytes, side: int) -> None:
        im = Image.open(io.BytesIO(jpeg))
        im.draft("RGB", (side, side))
        im.thumbnail((side, side))

    def cv2_thumbnail(jpeg: bytes, side: int) -> None:
        # OpenCV's reduced decode at the scale Pillow's draft picks, then its own resize.
        flag = {256: cv2.IMREAD_REDUCED_COLOR_8, 1024: cv2.IMREAD_REDUCED_COLOR_2}[side]
        im = cv2.imdecode(np.frombuffer(jpeg, np.uint8), flag)
        if side != 256:
            scale = side / max(im.shape[:2])
            cv2.resize(im, (round(im.shape[1] * scale), round(im.shape[0] * scale)), interpolation=cv2.INTER_AREA)

    def thumbnail_times(jpeg: bytes, side: int = 256) -> tuple[float, float]:
        return (
            median_ms(iters, nothing, lambda _: cv2_thumbnail(jpeg, side)),
            median_ms(iters, nothing, lambda _: pil_thumbnail(jpeg, side)),
        )

    def pil_encode(_: object) -> None:
        pil.save(io.BytesIO(), "JPEG", quality=85)

    def nothing() -> None:
        return None

    return {
        "grayscale": (
            median_ms(iters, nothing, lambda _: cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)),
            median_ms(iters, nothing, lambda _: pil.convert("L")),
        ),
        "gaussian blur sigma 3": (
            median_ms(iters, nothing, lambda _: cv2.GaussianBlur(rgb, (0, 0), 3)),
            median_ms(iters, nothing, lambda _: pil.filter(ImageFilter.GaussianBlur(3))),
        ),
        "sobel magnitude": (median_ms(iters, nothing, lambda _: sobel_magnitude(gray)), None),
        "canny 50/100": (median_ms(iters, nothing, lambda _: cv2.Canny(gray, 50, 100)), None),
        "rotate 17 degrees": (
            median_ms(
                iters, nothing, lambda _: cv2.warpAffine(rgb, rotation, (w, h), flags=cv2.INTER_LINEAR)
            ),
            median_ms(iters, nothing, lambda _: pil.rotate(-17, resample=Image.Resampling.BILINEAR)),
        ),
        "resize 4000x3000 to 400x300 lanczos3": (
            median_ms(iters, nothing, lambda _: cv2.resize(large, (400, 300), interpolation=cv2.INTER_AREA)),
            median_ms(
                iters,
                nothing,
                lambda _: large_pil.resize((400, 300), Image.Resampling.LANCZOS, reducing_gap=3.0),
            ),
        ),
        "jpeg encode q85": (
            median_ms(iters, nothing, lambda _: cv2.imencode(".jpg", rgb, [cv2.IMWRITE_JPEG_QUALITY, 85])),
            median_ms(iters, nothing, pil_encode),
        ),
        "png decode": (
            median_ms(
                iters, nothing, lambda _: cv2.imdecode(np.frombuffer(png_bytes, np.uint8), cv2.IMREAD_COLOR)
            ),
            median_ms(iters, nothing, lambda _: Image.open(io.BytesIO(png_bytes)).load()),
        ),
        "jpeg decode": (
            median_ms(
                iters, nothing, lambda _: cv2.imdecode(np.frombuffer(jpeg_bytes, np.uint8), cv2.IMREAD_COLOR)
            ),
            median_ms(iters, nothing, lambda _: Image.open(io.BytesIO(jpeg_bytes)).load()),
        ),
        "progressive jpeg decode": (
            median_ms(
                iters,
                nothing,
                lambda _: cv2.imdecode(np.frombuffer(progressive_bytes, np.uint8), cv2.IMREAD_COLOR),
            ),
            median_ms(iters, nothing, lambda _: Image.open(io.BytesIO(progressive_bytes)).load()),
        ),
        "decode + thumbnail of the large jpeg": thumbnail_times(large_jpeg),
        "decode + thumbnail of the large progressive jpeg": thumbnail_times(large_progressive),
        "decode + 1024 px preview of the large progressive jpeg": thumbnail_times(large_progressive, 1024),
    }


def mosaic_times(image_ops: Path, paths: dict[str, Path], iters: int) -> dict[str, float]:
    out = subprocess.run(
        [
            str(image_ops),
            "--photo",
            str(paths["photo"]),
            "--photo-jpeg",
            str(paths["photo_jpeg"]),
            "--photo-progressive",
            str(paths["photo_progressive"]),
            "--large-jpeg",
            str(paths["large_jpeg"]),
            "--large-progressive",
            str(paths["large_progressive"]),
            "--iters",
            str(iters),
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    times = {}
    for line in out.splitlines():
        name, ms = line.rsplit("\t", 1)
        times[name] = float(ms)
    return times


def ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a / b


def median(values: list[float]) -> float:
    return statistics.median(values)


def spread(values: list[float | None]) -> str:
    """The median of per-round ratios, and their range when there are several rounds."""
    known = [v for v in values if v is not None]
    if not known:
        return "—"
    text = f"{median(known):.2f}x"
    if len(known) > 1:
        text += f" ({min(known):.2f}–{max(known):.2f})"
    return text


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--iters", type=int, default=15)
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="Mosaic, OpenCV and Pillow take turns this many times; ratios are paired per round",
    )
    parser.add_argument("--out", type=Path)
    parser.add_argument(
        "--image-ops",
        type=Path,
        default=default_image_ops(),
        help="the image-ops binary (default: $CARGO_TARGET_DIR or bench/target, release)",
    )
    args = parser.parse_args()
    # On a shared machine the speed drifts over minutes, so each round times all three close
    # together, and a ratio is taken within a round before the median across rounds.
    rounds: list[tuple[dict[str, float], dict[str, tuple[float | None, float | None]]]] = []
    with tempfile.TemporaryDirectory() as tmp:
        paths = prepare(Path(tmp))
        for _ in range(args.rounds):
            mosaic = mosaic_times(args.image_ops, paths, args.iters)
            rounds.append((mosaic, reference_times(paths, args.iters)))
    lines = [
        (
            f"Single thread, medians of {args.iters} runs in each of {args.rounds} rounds; "
            f"OpenCV {cv2.__version__}, Pillow {Image.__version__}. Times are medians over "
            "rounds; ratios are medians of each round's ratio (range in brackets)."
        ),
        "",
        (
            "| operation | Mosaic ms | OpenCV ms | Pillow ms | Mosaic / OpenCV (≤ 1 is the target) "
            "| Pillow / Mosaic (≥ 3 is the target) |"
        ),
        "|---|--:|--:|--:|--:|--:|",
    ]

    def fmt(values: list[float | None]) -> str:
        known = [v for v in values if v is not None]
        return f"{median(known):.2f}" if known else "—"

    for name in rounds[0][1]:
        ours = [m.get(name) for m, _ in rounds]
        opencv = [r[name][0] for _, r in rounds]
        pillow = [r[name][1] for _, r in rounds]
        lines.append(
            f"| {name} | {fmt(ours)} | {fmt(opencv)} | {fmt(pillow)} "
            f"| {spread([ratio(m, o) for m, o in zip(ours, opencv)])} "
            f"| {spread([ratio(p, m) for m, p in zip(ours, pillow)])} |"
        )
    report = "\n".join(lines) + "\n"
    print(report)
    if args.out:
        args.out.write_text(report)


if __name__ == "__main__":
    main()
