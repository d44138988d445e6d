"""Mosaic's Python client SDK: pooled, typed Thrift clients with deadlines and retries.

    import mosaic_rpc
    from mosaic_rpc import images

    with mosaic_rpc.connect("image", "127.0.0.1:9090") as client:
        info = client.info(images.to_image("photo.jpg"), timeout=5.0)

``connect("image", registry="127.0.0.1:7070")`` finds the servers through Mosaic's
registry instead and follows them as they come and go; calls are balanced across instances
(``balancer="p2c"``, ``"round_robin"`` or ``"hash"`` with ``key=`` per call).

`connect` also drives the generated stubs of any Thrift service (``mosaic gen --lang
python`` or ``thrift --gen py`` output). Types of Mosaic's services are in
`mosaic_rpc.image` and `mosaic_rpc.common`; numpy/Pillow conversions in `mosaic_rpc.images`.
The image client's ``transform`` and ``transform_many`` also take numpy arrays, Pillow
images, paths and file bytes, and return the same kind.
"""

from . import common, image, registry
from ._balance import BalancerName
from ._client import Client
from ._connect import connect
from ._errors import (
    ClosedError,
    ConnectError,
    MosaicError,
    ProtocolError,
    RemoteError,
    Timeout,
    TransportError,
)
from ._instances import InstanceStats
from ._pool import PoolStats
from ._resolve import Endpoint
from ._typed import HealthClient, ImageClient, ServiceClient

__version__ = "0.1.0"

__all__ = [
    "BalancerName",
    "Client",
    "ClosedError",
    "ConnectError",
    "Endpoint",
    "HealthClient",
    "ImageClient",
    "InstanceStats",
    "MosaicError",
    "PoolStats",
    "ProtocolError",
    "RemoteError",
    "ServiceClient",
    "Timeout",
    "TransportError",
    "__version__",
    "common",
    "connect",
    "image",
    "registry",
]
