"""Types and errors every Mosaic service shares (``idl/common.thrift``): `ServerStatus`,
`InvalidArgument`, `Unsupported`, `TooLarge`, `Overloaded`, and `Health` (the generated
stubs module of the service every Mosaic service extends)."""

from ._gen.mosaic.common import Health
from ._gen.mosaic.common.ttypes import *  # noqa: F403  # the IDL's types, as generated
from ._gen.mosaic.common.ttypes import __all__ as _types
from ._typed import HealthClient

__all__ = ["Health", "HealthClient", *_types]
