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
    for path in sorted(DATA.iterdir()):
        print(f"{path.name}: {path.stat().st_size} bytes")


if __name__ == "__main__":
    main()
