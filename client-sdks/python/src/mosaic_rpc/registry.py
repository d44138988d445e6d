"""The registry's types (``idl/registry.thrift``): `Registration`, `Lease`, `Instance`,
`Instances`, `LeaseExpired`, `StoreUnavailable`, and `Registry` (the generated stubs module).

Clients rarely need these: ``connect(service, registry=...)`` looks the service up and
follows it. They serve tools and servers that talk to the registry directly, e.g.
``connect("registry", "127.0.0.1:7070").lookup("image")``.
"""

from ._gen.mosaic.common.ttypes import InvalidArgument, TooLarge
from ._gen.mosaic.registry import Registry
from ._gen.mosaic.registry.ttypes import *  # noqa: F403  # the IDL's types, as generated
from ._gen.mosaic.registry.ttypes import __all__ as _types

__all__ = ["InvalidArgument", "Registry", "TooLarge", *_types]
