"""The image service's types: `Image`, `EncodedImage`, `RawImage`, `Op`, `Resize`, ...,
its exception `InvalidImage`, and `ImageService` (the generated stubs module).

The errors it shares with every service (`TooLarge`, `Unsupported`, ...) are in
`mosaic_rpc.common` and re-exported here, so one import serves an image client.
"""

from ._gen.mosaic.common.ttypes import (
    InvalidArgument,
    Overloaded,
    ServerStatus,
    TooLarge,
    Unsupported,
)
from ._gen.mosaic.image import ImageService
from ._gen.mosaic.image.ttypes import *  # noqa: F403  # the IDL's types, as generated
from ._gen.mosaic.image.ttypes import __all__ as _types
from ._typed import ImageClient

__all__ = [
    "ImageClient",
    "ImageService",
    "InvalidArgument",
    "Overloaded",
    "ServerStatus",
    "TooLarge",
    "Unsupported",
    *_types,
]
