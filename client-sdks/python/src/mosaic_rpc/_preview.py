"""`preview`: images shown inline in Jupyter, whatever kind they are.

A ``PIL.Image.Image`` already displays itself in a notebook; numpy arrays, file bytes and
wire `Image` values do not, and wrapping them would change the types `transform` returns.
So they stay plain, and ``images.preview(x, ...)`` is the explicit way to look at them.
"""

from __future__ import annotations

import base64
import html
import io
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .images import ImageLike

__all__ = ["Preview", "preview"]


class Preview:
    """Thumbnails that Jupyter shows as PNG images (``_repr_png_``, ``_repr_html_``)."""

    def __init__(self, pngs: list[bytes], captions: list[str]) -> None:
        self.pngs = pngs
        self.captions = captions

    def _repr_png_(self) -> bytes | None:
        return self.pngs[0] if len(self.pngs) == 1 else None

    def _repr_html_(self) -> str:
        cells = []
        for png, caption in zip(self.pngs, self.captions, strict=True):
            data = base64.b64encode(png).decode("ascii")
            cells.append(
                '<figure style="margin:4px;text-align:center">'
                f'<img src="data:image/png;base64,{data}"/>'
                f'<figcaption style="font-size:small">{html.escape(caption)}</figcaption>'
                "</figure>"
            )
        return f'<div style="display:flex;flex-wrap:wrap">{"".join(cells)}</div>'

    def __len__(self) -> int:
        return len(self.pngs)

    def __repr__(self) -> str:
        return f"<Preview of {len(self.pngs)} image(s): {', '.join(self.captions)}>"


def _as_array(obj: Any) -> Any:
    """OBJ's pixels as a numpy array (8-bit samples for anything else)."""
    from . import images

    np = images._numpy()
    pil_module = sys.modules.get("PIL.Image")
    if isinstance(obj, np.ndarray):
        array = obj
    elif pil_module is not None and isinstance(obj, pil_module.Image):
        picture = obj
        if picture.mode in ("P", "PA", "CMYK", "YCbCr", "LAB", "HSV", "1"):
            has_alpha = picture.mode == "PA" or "transparency" in picture.info
            picture = picture.convert(
                "L" if picture.mode == "1" else "RGBA" if has_alpha else "RGB"
            )
        array = np.asarray(picture)
    else:
        array = images.to_numpy(images.to_image(obj))
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if array.dtype == np.uint8:
        return array
    if array.dtype == bool:
        return array.astype(np.uint8) * 255
    if array.dtype.kind in "ui":  # 16-bit and wider: keep the top 8 bits of the range
        top = max(int(np.iinfo(array.dtype).max), 1)
        return (array.astype(np.float64) * (255 / top)).round().astype(np.uint8)
    return (
        (np.clip(np.nan_to_num(array.astype(np.float64)), 0.0, 1.0) * 255).round().astype(np.uint8)
    )


def _caption(obj: Any, array: Any) -> str:
    shape = "x".join(str(n) for n in array.shape[:2][::-1])
    pil_module = sys.modules.get("PIL.Image")
    if pil_module is not None and isinstance(obj, pil_module.Image):
        kind = f"PIL {obj.mode}"
    else:
        dtype = getattr(obj, "dtype", None)
        kind = str(dtype) if dtype is not None else type(obj).__name__
    return f"{shape} {kind}"


def preview(*items: ImageLike, max_size: int = 256) -> Preview:
    """ITEMS (arrays, Pillow images, paths, file bytes or wire `Image` values) as thumbnails
    of at most MAX_SIZE pixels a side, shown inline when a notebook cell evaluates to it.

    16-bit samples are scaled to 8 bits, floats are clipped to 0..1; nothing is changed in
    the items themselves. Needs numpy and Pillow.
    """
    from . import images

    if not items:
        raise ValueError("preview needs at least one image")
    if max_size < 1:
        raise ValueError("max_size must be at least 1")
    pil = images._pil()
    pngs, captions = [], []
    for obj in items:
        array = _as_array(obj)
        picture = pil.fromarray(array)
        picture.thumbnail((max_size, max_size))
        out = io.BytesIO()
        picture.save(out, format="PNG")
        pngs.append(out.getvalue())
        captions.append(_caption(obj, array))
    return Preview(pngs, captions)
