"""The package itself: its generated stubs are current, its public names, and its types."""

from __future__ import annotations

import inspect
import os
import subprocess
import sys
import typing
from pathlib import Path

import pytest

import mosaic_rpc
from mosaic_rpc import common, image
from mosaic_rpc._gen.mosaic.image import ImageService

from servers import REPO_ROOT

SDK = Path(__file__).resolve().parents[1]


def test_generated_stubs_are_current(mosaic_bin: Path) -> None:
    """``regen --check``: fails when idl/ or the generator changed and nobody regenerated."""
    done = subprocess.run(
        [str(SDK / "regen"), "--check"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "MOSAIC_BIN": str(mosaic_bin)},
        check=False,
    )
    assert done.returncode == 0, (
        f"the stubs in src/mosaic_rpc/_gen are stale: run client-sdks/python/regen\n"
        f"{done.stdout}{done.stderr}"
    )
    assert (SDK / "src" / "mosaic_rpc" / "_gen" / "__init__.py").is_file()
    assert (REPO_ROOT / "idl" / "image.thrift").is_file()


def test_public_names() -> None:
    for name in ("Image", "EncodedImage", "RawImage", "Op", "Resize", "InvalidImage"):
        assert getattr(image, name) is getattr(ImageService, name)
    assert image.TooLarge is common.TooLarge
    assert image.ImageService.Client is ImageService.Client
    assert common.Health.Iface in ImageService.Iface.__mro__
    for name in mosaic_rpc.__all__:
        assert hasattr(mosaic_rpc, name), name
    for module in (image, common):
        for name in module.__all__:
            assert hasattr(module, name), f"{module.__name__}.{name}"
    errors = [
        mosaic_rpc.ConnectError,
        mosaic_rpc.Timeout,
        mosaic_rpc.ProtocolError,
        mosaic_rpc.RemoteError,
        mosaic_rpc.ClosedError,
        mosaic_rpc.TransportError,
    ]
    assert all(issubclass(error, mosaic_rpc.MosaicError) for error in errors)
    assert issubclass(mosaic_rpc.Timeout, TimeoutError)


def _signature_without_call_options(function: object) -> list[tuple[str, object]]:
    parameters = inspect.signature(function).parameters.values()  # type: ignore[arg-type]
    return [
        (p.name, p.annotation)
        for p in parameters
        if p.name not in ("self", "timeout", "idempotent", "key")
    ]


def test_image_client_protocol_matches_the_generated_iface() -> None:
    """`ImageClient` is written by hand; it must list the IDL's methods, arguments and types."""
    generated = {
        name: member
        for name, member in inspect.getmembers(ImageService.Iface, inspect.isfunction)
        if not name.startswith("_")
    }
    typed = {
        name: member
        for name, member in inspect.getmembers(mosaic_rpc.ImageClient, inspect.isfunction)
        if not name.startswith("_") and name not in ("close", "call", "pool_stats", "instances")
    }
    # The SDK's own additions; `transform` also takes numpy, Pillow and files, and its last
    # overload is the IDL's call on the wire `Image`.
    del typed["transform_many"]
    if sys.version_info < (3, 11):
        pytest.skip("typing.get_overloads is new in Python 3.11")
    typed["transform"] = typing.get_overloads(typed["transform"])[-1]
    assert sorted(typed) == sorted(generated)
    for name, function in generated.items():
        assert _signature_without_call_options(typed[name]) == _signature_without_call_options(
            function
        ), name
        options = inspect.signature(typed[name]).parameters
        assert options["timeout"].kind is inspect.Parameter.KEYWORD_ONLY
        assert options["idempotent"].kind is inspect.Parameter.KEYWORD_ONLY
        assert options["key"].kind is inspect.Parameter.KEYWORD_ONLY


TYPED_USE = """
import mosaic_rpc
from mosaic_rpc.image import Image, ImageInfo, Op, Output, Resize

def use(address: str, picture: Image) -> int:
    with mosaic_rpc.connect("image", address) as client:
        client.ping(timeout=1.0)
        info: ImageInfo = client.info(picture, timeout=2.0, idempotent=True)
        out: Image = client.transform(picture, [Op(resize=Resize(width=1, height=1))], Output())
        assert out is not None
        name: str | None = client.status().name
        return info.width or 0
"""


@pytest.mark.timeout(180)
def test_connect_image_is_typed(tmp_path: Path) -> None:
    """mypy --strict accepts correct use of ``connect("image")`` and catches misuse."""
    good = tmp_path / "good.py"
    good.write_text(TYPED_USE)
    bad = tmp_path / "bad.py"
    bad.write_text(
        TYPED_USE
        + "\ndef misuse(client: mosaic_rpc.ImageClient, picture: Image) -> None:\n"
        + "    client.info(picture, timeout='soon')\n"
        + "    client.no_such_method()\n"
        + "    size: str = client.info(picture).width\n"
    )

    # Its own empty config and cache: no configuration file found above a temporary directory,
    # and no cache left by another run, can change what mypy reports.
    config = tmp_path / "mypy.ini"
    config.write_text("[mypy]\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MYPY")}

    def mypy(path: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [
                sys.executable,
                "-m",
                "mypy",
                "--strict",
                "--config-file",
                str(config),
                "--cache-dir",
                str(tmp_path / "mypy-cache"),
                str(path),
            ],
            capture_output=True,
            text=True,
            timeout=170,
            cwd=tmp_path,
            env={**env, "MYPYPATH": str(SDK / "src")},
            check=False,
        )

    done = mypy(good)
    assert done.returncode == 0, done.stdout + done.stderr
    done = mypy(bad)
    assert done.returncode == 1, done.stdout + done.stderr
    assert '"timeout" to "info"' in done.stdout, done.stdout + done.stderr
    assert '"no_such_method"' in done.stdout, done.stdout + done.stderr
    assert "Incompatible types in assignment" in done.stdout, done.stdout + done.stderr
