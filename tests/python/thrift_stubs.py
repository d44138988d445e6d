"""Apache-generated Python stubs for ThriftTest, made at run time and never committed.

`thrift --gen py` (Debian's thrift-compiler, 0.17) is run on the v0.16 copy of Apache's
cross-language test IDL, which lacks the `uuid` items that compiler rejects. The output
is a package named ``ThriftTest`` (its ``namespace py``) with the modules ``ThriftTest``
(the service), ``SecondService`` and ``ttypes``.
"""

from __future__ import annotations

import importlib
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

__all__ = ["IDL_CURRENT", "IDL_V016", "REPO_ROOT", "Stubs", "generate", "load"]

REPO_ROOT = Path(__file__).resolve().parents[2]
IDL_CURRENT = REPO_ROOT / "tests" / "conformance" / "idl" / "ThriftTest.thrift"
IDL_V016 = REPO_ROOT / "tests" / "conformance" / "idl" / "v0.16" / "ThriftTest.thrift"


@dataclass(frozen=True)
class Stubs:
    """The generated modules: the service ``ThriftTest``, ``SecondService`` and ``ttypes``."""

    ThriftTest: ModuleType
    SecondService: ModuleType
    ttypes: ModuleType


def generate(out_dir: Path, idl: Path = IDL_V016) -> None:
    """Runs ``thrift --gen py -out OUT_DIR IDL``; raises with the compiler's output on error."""
    thrift = shutil.which("thrift")
    if thrift is None:
        raise RuntimeError("the Apache Thrift compiler `thrift` is not on PATH: run scripts/setup")
    out_dir.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [thrift, "--gen", "py", "-out", str(out_dir), str(idl)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"thrift --gen py {idl} failed with exit code {done.returncode}:\n"
            f"{done.stdout}{done.stderr}"
        )


def load(out_dir: Path) -> Stubs:
    """Imports the stubs that `generate` wrote to OUT_DIR (puts OUT_DIR first on sys.path)."""
    path = str(out_dir)
    if path not in sys.path:
        sys.path.insert(0, path)
    return Stubs(
        ThriftTest=importlib.import_module("ThriftTest.ThriftTest"),
        SecondService=importlib.import_module("ThriftTest.SecondService"),
        ttypes=importlib.import_module("ThriftTest.ttypes"),
    )
