"""Conversions between the image service's `Image` and files, bytes, numpy arrays and Pillow.

The wire contract (``idl/image.thrift``): an `Image` is either encoded (the bytes of a
JPEG, PNG, ... file) or raw pixels: ``height`` rows of ``width`` pixels, tightly packed,
samples interleaved, 16-bit samples little-endian unsigned (``<u2``), floats little-endian
IEEE 754 (``<f4``). A C-contiguous numpy array's buffer is exactly that layout, so raw
images convert to arrays without copying.

numpy and Pillow are optional: they are imported when a conversion needs them, and a
missing one raises `ImportError` naming the extra to install (``mosaic-rpc[numpy]``,
``mosaic-rpc[pillow]``). `preview` shows any of these kinds inline in Jupyter.
"""

from __future__ import annotations

import io
import os
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeAlias

from ._gen.mosaic.image.ttypes import EncodedImage, Image, ImageFormat, PixelFormat, RawImage
from ._preview import Preview, preview

if TYPE_CHECKING:
    import numpy
    import numpy.typing
    import PIL.Image

__all__ = [
    "ImageLike",
    "Preview",
    "bytes_per_pixel",
    "preview",
    "to_bytes",
    "to_image",
    "to_numpy",
    "to_pil",
]

#: What `to_image` accepts.
ImageLike: TypeAlias = (
    "str | os.PathLike[str] | bytes | bytearray | memoryview | PIL.Image.Image"
    " | numpy.typing.NDArray[Any] | Image | EncodedImage | RawImage"
)

# PixelFormat -> (channels, numpy dtype of a sample).
_LAYOUT: dict[PixelFormat, tuple[int, str]] = {
    PixelFormat.GRAY8: (1, "u1"),
    PixelFormat.GRAYA8: (2, "u1"),
    PixelFormat.GRAY16: (1, "<u2"),
    PixelFormat.GRAYA16: (2, "<u2"),
    PixelFormat.RGB8: (3, "u1"),
    PixelFormat.RGBA8: (4, "u1"),
    PixelFormat.RGB16: (3, "<u2"),
    PixelFormat.RGBA16: (4, "<u2"),
    PixelFormat.RGB32F: (3, "<f4"),
    PixelFormat.RGBA32F: (4, "<f4"),
}
# (channels, sample kind) -> PixelFormat, for arrays.
_FROM_ARRAY: dict[tuple[int, str], PixelFormat] = {
    (channels, dtype[-2:]): pixel_format for pixel_format, (channels, dtype) in _LAYOUT.items()
}
# Pillow modes that are raw pixel formats as they are.
_PIL_MODES: dict[str, PixelFormat] = {
    "L": PixelFormat.GRAY8,
    "LA": PixelFormat.GRAYA8,
    "RGB": PixelFormat.RGB8,
    "RGBA": PixelFormat.RGBA8,
    "I;16": PixelFormat.GRAY16,
}
_PIL_MODE_OF = {pixel_format: mode for mode, pixel_format in _PIL_MODES.items()}
_SAVE_FORMATS = {
    ImageFormat.JPEG: "JPEG",
    ImageFormat.PNG: "PNG",
    ImageFormat.WEBP: "WEBP",
    ImageFormat.GIF: "GIF",
    ImageFormat.BMP: "BMP",
    ImageFormat.TIFF: "TIFF",
}


def _numpy() -> Any:
    try:
        import numpy
    except ImportError as err:
        raise ImportError("this conversion needs numpy: pip install 'mosaic-rpc[numpy]'") from err
    return numpy


def _pil() -> Any:
    try:
        import PIL.Image
    except ImportError as err:
        raise ImportError("this conversion needs Pillow: pip install 'mosaic-rpc[pillow]'") from err
    return PIL.Image


def bytes_per_pixel(pixel_format: PixelFormat) -> int:
    """The size of one pixel of PIXEL_FORMAT in bytes."""
    channels, dtype = _LAYOUT[PixelFormat(pixel_format)]
    return channels * int(dtype[-1])


def to_image(obj: ImageLike) -> Image:
    """The `Image` to send for OBJ.

    * a path (``str`` or ``os.PathLike``): the file's bytes, encoded (the server detects
      the format);
    * ``bytes``, ``bytearray``, ``memoryview``: the bytes of an image file, encoded;
    * a numpy array, raw: ``HxW`` ``uint8``/``uint16`` is GRAY8/GRAY16, ``HxWx2`` GRAYA8/16,
      ``HxWx3`` RGB8/RGB16/RGB32F and ``HxWx4`` RGBA8/RGBA16/RGBA32F for ``uint8``, ``uint16``
      and ``float32`` samples (any byte order or strides; the pixels are copied into the request);
    * a ``PIL.Image.Image``, raw: modes L, LA, RGB, RGBA and I;16 as they are; 1 as L,
      P and PA as RGB or RGBA, CMYK, YCbCr, LAB and HSV as RGB;
    * an `Image` (returned as is), `EncodedImage` or `RawImage` (wrapped).
    """
    if isinstance(obj, Image):
        return obj
    if isinstance(obj, EncodedImage):
        return Image(encoded=obj)
    if isinstance(obj, RawImage):
        return Image(raw=obj)
    if isinstance(obj, (bytes, bytearray, memoryview)):
        return Image(encoded=EncodedImage(data=bytes(obj)))
    if isinstance(obj, (str, os.PathLike)):
        with open(obj, "rb") as file:
            return Image(encoded=EncodedImage(data=file.read()))
    # An array or a PIL image implies its library is imported: never import it to check.
    numpy_module = sys.modules.get("numpy")
    if numpy_module is not None and isinstance(obj, numpy_module.ndarray):
        return Image(raw=_array_to_raw(obj))
    pil_module = sys.modules.get("PIL.Image")
    if pil_module is not None and isinstance(obj, pil_module.Image):
        return Image(raw=_pil_to_raw(obj))
    raise TypeError(
        "to_image takes a path, encoded bytes, a numpy array, a PIL image or an Image, "
        f"not {type(obj).__name__}"
    )


def _array_to_raw(array: Any) -> RawImage:
    if array.ndim == 2:
        channels = 1
    elif array.ndim == 3 and array.shape[2] in (1, 2, 3, 4):
        channels = array.shape[2]
    else:
        raise ValueError(
            f"an image array is HxW or HxWxC with C in 1..4, not shape {tuple(array.shape)}"
        )
    kind = {"u1": "u1", "u2": "u2", "f4": "f4"}.get(f"{array.dtype.kind}{array.dtype.itemsize}")
    pixel_format = _FROM_ARRAY.get((channels, kind)) if kind else None
    if pixel_format is None:
        raise ValueError(
            f"no pixel format holds {channels}-channel {array.dtype} pixels: use uint8 or "
            "uint16 (1 to 4 channels) or float32 (3 or 4 channels)"
        )
    wire = array.astype(_LAYOUT[pixel_format][1], copy=False)  # little-endian samples
    pixels = wire.tobytes(order="C")  # packed rows, whatever the strides
    return RawImage(
        width=int(array.shape[1]),
        height=int(array.shape[0]),
        pixel_format=pixel_format,
        pixels=pixels,
    )


def _pil_to_raw(picture: Any) -> RawImage:
    mode = picture.mode
    if mode == "I;16L":
        mode = "I;16"
    if mode not in _PIL_MODES:
        if mode == "1":
            picture, mode = picture.convert("L"), "L"
        elif mode in ("P", "PA"):
            has_alpha = mode == "PA" or "transparency" in picture.info
            mode = "RGBA" if has_alpha else "RGB"
            picture = picture.convert(mode)
        elif mode in ("CMYK", "YCbCr", "LAB", "HSV"):
            picture, mode = picture.convert("RGB"), "RGB"
        else:
            raise ValueError(
                f"PIL mode {picture.mode} has no raw pixel format: convert the image to L, LA, "
                "RGB, RGBA or I;16, or pass a numpy array"
            )
    return RawImage(
        width=picture.width,
        height=picture.height,
        pixel_format=_PIL_MODES[mode],
        pixels=picture.tobytes("raw", mode),
    )


def _raw_of(image: Image | RawImage | EncodedImage) -> RawImage | None:
    if isinstance(image, RawImage):
        return image
    if isinstance(image, EncodedImage):
        return None
    if image.raw is not None:
        return image.raw
    if image.encoded is None:
        raise ValueError("the Image holds neither encoded nor raw pixels")
    return None


def _encoded_of(image: Image | RawImage | EncodedImage) -> EncodedImage | None:
    if isinstance(image, EncodedImage):
        return image
    if isinstance(image, Image):
        return image.encoded
    return None


@dataclass(frozen=True)
class _Pixels:
    """A raw image's fields, checked against each other."""

    width: int
    height: int
    pixel_format: PixelFormat
    channels: int
    dtype: str
    data: bytes


def _pixels(raw: RawImage) -> _Pixels:
    if raw.width is None or raw.height is None or raw.pixel_format is None or raw.pixels is None:
        raise ValueError(f"incomplete raw image: {raw!r}")
    pixel_format = PixelFormat(raw.pixel_format)
    if pixel_format not in _LAYOUT:
        raise ValueError(f"unknown pixel format {int(pixel_format)}")
    channels, dtype = _LAYOUT[pixel_format]
    expected = raw.width * raw.height * bytes_per_pixel(pixel_format)
    if raw.width < 0 or raw.height < 0 or len(raw.pixels) != expected:
        raise ValueError(
            f"raw {pixel_format.name} image of {raw.width}x{raw.height} needs {expected} "
            f"bytes of pixels, has {len(raw.pixels)}"
        )
    return _Pixels(raw.width, raw.height, pixel_format, channels, dtype, raw.pixels)


def _data(encoded: EncodedImage) -> bytes:
    if encoded.data is None:
        raise ValueError("the encoded image has no data")
    return encoded.data


def to_numpy(image: Image | RawImage | EncodedImage) -> numpy.typing.NDArray[Any]:
    """IMAGE's pixels as an array: ``HxW`` for one channel, else ``HxWxC``.

    Raw pixels are not copied: the array is a read-only view of the received bytes, with
    the little-endian dtype of the format (``uint8``, ``<u2``, ``<f4``). Encoded images are
    decoded with Pillow (as `to_pil` does).
    """
    np = _numpy()
    raw = _raw_of(image)
    if raw is None:
        raw = _pil_to_raw(to_pil(image))
    pixels = _pixels(raw)
    array = np.frombuffer(pixels.data, dtype=pixels.dtype)
    shape: tuple[int, ...] = (pixels.height, pixels.width)
    if pixels.channels > 1:
        shape += (pixels.channels,)
    return array.reshape(shape)  # type: ignore[no-any-return]


def to_pil(image: Image | RawImage | EncodedImage) -> PIL.Image.Image:
    """IMAGE as a Pillow image.

    Encoded images are opened with Pillow (decoded when their pixels are first used). Raw
    GRAY8, GRAYA8, RGB8, RGBA8 and GRAY16 become modes L, LA, RGB, RGBA and I;16; Pillow has
    no mode for the other raw formats, so they raise `ValueError` (use `to_numpy`, or ask
    the server for ``Raw(pixel_format=PixelFormat.RGB8)``).
    """
    pil = _pil()
    raw = _raw_of(image)
    if raw is None:
        encoded = _encoded_of(image)
        assert encoded is not None
        return pil.open(io.BytesIO(_data(encoded)))  # type: ignore[no-any-return]
    pixels = _pixels(raw)
    mode = _PIL_MODE_OF.get(pixels.pixel_format)
    if mode is None:
        raise ValueError(
            f"Pillow has no mode for {pixels.pixel_format.name} pixels: use to_numpy, "
            "or ask for Raw(pixel_format=...) in a Pillow format (GRAY8, GRAYA8, RGB8, RGBA8, "
            "GRAY16)"
        )
    size = (pixels.width, pixels.height)
    return pil.frombytes(mode, size, pixels.data, "raw", mode)  # type: ignore[no-any-return]


def to_bytes(
    image: Image | RawImage | EncodedImage,
    format: ImageFormat | None = None,
    **save_options: Any,
) -> bytes:
    """IMAGE as the bytes of an image file.

    An encoded image in FORMAT (or any format when FORMAT is None) is returned as it came.
    Anything else is encoded with Pillow in FORMAT (PNG when None), passing SAVE_OPTIONS
    (e.g. ``quality=90``) to ``PIL.Image.Image.save``.
    """
    encoded = _encoded_of(image)
    if encoded is not None and (format is None or encoded.format == format):
        return _data(encoded)
    target = ImageFormat.PNG if format is None else ImageFormat(format)
    picture = to_pil(image)
    if encoded is not None and encoded.format is None and picture.format == _SAVE_FORMATS[target]:
        return _data(encoded)  # already in that format, only not labelled
    out = io.BytesIO()
    picture.save(out, format=_SAVE_FORMATS[target], **save_options)
    return out.getvalue()
