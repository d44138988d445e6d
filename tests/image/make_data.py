"""Writes the photographs under data/ from scikit-image's sample images (run once, by hand).

The suite itself never imports scikit-image for its inputs: it reads these files. Colour
photos are JPEG (quality 90), grayscale ones PNG (lossless). Run with the repo's .venv:
``.venv/bin/python tests/image/make_data.py``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image
from skimage import data

DATA = Path(__file__).resolve().parent / "data"


def main() -> None:
    DATA.mkdir(exist_ok=True)
    photos: dict[str, np.ndarray] = {
        "astronaut.jpg": data.astronaut(),  # 512x512 RGB
        "coffee.jpg": data.coffee(),  # 600x400 RGB
        "chelsea.jpg": data.chelsea(),  # 451x300 RGB
        "camera.png": data.camera(),  # 512x512 gray
        "coins.png": data.coins(),  # 384x303 gray, separate objects for segmentation
    }
    for name, pixels in photos.items():
        picture = Image.fromarray(pixels)
        if name.endswith(".jpg"):
            picture.save(DATA / name, quality=90)
        else:
            picture.save(DATA / name, optimize=True)
    layouts()
    for path in sorted(DATA.iterdir()):
        print(f"{path.name}: {path.stat().st_size} bytes")


def layouts() -> None:
    """Small JPEGs of the layouts the server's reduced-scale decoder handles besides
    Pillow's default 4:2:0, for its Rust unit tests: odd sizes (partial MCUs at the edges),
    restart intervals, 4:2:2, 4:4:4 and gray; and progressive ones (libjpeg's simple
    progression: DC first at half precision, AC scans, then the DC terms' last bit)."""
    crop = Image.fromarray(data.coffee()[41:244, 57:358])  # 301x203
    crop.save(DATA / "coffee-restarts.jpg", quality=90, restart_marker_blocks=5)
    crop.save(DATA / "coffee-422.jpg", quality=90, subsampling=1)
    crop.save(DATA / "coffee-444.jpg", quality=95, subsampling=0, restart_marker_rows=2)
    gray = Image.fromarray(data.camera()[:203, :301])
    gray.save(DATA / "camera-restarts.jpg", quality=90, restart_marker_blocks=3)
    crop.save(
        DATA / "coffee-progressive.jpg", quality=90, progressive=True, restart_marker_blocks=7
    )
    gray.save(DATA / "camera-progressive.jpg", quality=90, progressive=True)
    # Large enough for the DC walk to split its DC scan in two halves.
    astronaut = Image.fromarray(data.astronaut())
    astronaut.save(DATA / "astronaut-progressive.jpg", quality=90, progressive=True)


if __name__ == "__main__":
    main()
