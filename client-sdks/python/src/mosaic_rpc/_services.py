"""Which generated stubs a client drives, and what methods they have.

A service is given by name (Mosaic's own services, whose stubs ship in this package) or as
the stubs themselves: a service module that ``mosaic gen --lang python`` or ``thrift --gen
py`` wrote (it holds ``Client``), or a class of it. Methods are found on the generated
``Client`` by Apache's naming: ``send_x`` (and ``recv_x`` unless ``x`` is oneway), which
include the methods a service inherits through ``extends``.
"""

from __future__ import annotations

import importlib
import sys
from dataclasses import dataclass
from types import ModuleType
from typing import Any

__all__ = ["KNOWN_SERVICES", "Method", "ServiceSpec", "service_spec"]

#: Mosaic's services by name: the module of their generated stubs.
KNOWN_SERVICES = {
    "image": "mosaic_rpc._gen.mosaic.image.ImageService",
    "registry": "mosaic_rpc._gen.mosaic.registry.Registry",
}


@dataclass(frozen=True)
class Method:
    """One method of a service."""

    name: str
    oneway: bool
    doc: str | None


@dataclass(frozen=True)
class ServiceSpec:
    """A service's generated client class and its methods."""

    name: str
    client_class: Any
    methods: dict[str, Method]


def _module_of(service: object) -> ModuleType:
    if isinstance(service, str):
        module_name = KNOWN_SERVICES.get(service)
        if module_name is None:
            known = ", ".join(sorted(KNOWN_SERVICES))
            raise ValueError(
                f"unknown service {service!r}: known names are {known}; for your own IDL pass "
                "the generated service module (e.g. `from calc import Calculator`)"
            )
        return importlib.import_module(module_name)
    if isinstance(service, ModuleType):
        return service
    if isinstance(service, type):
        module = sys.modules.get(service.__module__)
        if module is not None:
            return module
    raise TypeError(
        "service must be a known service name, or a generated service module or class, "
        f"not {type(service).__name__}"
    )


def service_spec(service: object) -> ServiceSpec:
    """The spec of SERVICE (a name, a generated service module, or a class in one)."""
    if isinstance(service, type) and any(name.startswith("send_") for name in dir(service)):
        client_class: Any = service
        name = service.__module__.rpartition(".")[2]
    else:
        module = _module_of(service)
        client_class = getattr(module, "Client", None)
        if not isinstance(client_class, type):
            raise TypeError(
                f"{module.__name__} has no generated `Client` class: pass the module of a "
                "service (the one holding Iface, Client and Processor), not `ttypes`"
            )
        name = module.__name__.rpartition(".")[2]
    methods: dict[str, Method] = {}
    for attr in dir(client_class):
        if not attr.startswith("send_"):
            continue
        method_name = attr[len("send_") :]
        method = getattr(client_class, method_name, None)
        if not callable(method):
            continue
        oneway = not hasattr(client_class, f"recv_{method_name}")
        methods[method_name] = Method(method_name, oneway, getattr(method, "__doc__", None))
    if not methods:
        raise TypeError(f"{client_class.__qualname__} has no generated methods (send_x/recv_x)")
    return ServiceSpec(name, client_class, methods)
