"""``pip install ./client-sdks/python`` into a fresh virtual environment (thrift comes from
PyPI), then calls to a real thrift-test-server from that environment's interpreter."""

from __future__ import annotations

import shutil
import subprocess
import venv
from pathlib import Path

import pytest

from servers import Server

SDK = Path(__file__).resolve().parents[1]

CALLS = """
import sys
import mosaic_rpc
sys.path.insert(0, sys.argv[2])
from ThriftTest import ThriftTest

assert "site-packages" in mosaic_rpc.__file__, mosaic_rpc.__file__
with mosaic_rpc.connect(ThriftTest, sys.argv[1], protocol="compact") as client:
    print(client.testString("from a fresh venv"))
with mosaic_rpc.connect("image", sys.argv[1]) as image:
    try:
        image.ping()
    except mosaic_rpc.RemoteError as err:  # ThriftTest's server has no ping
        print(err.type_name)
"""


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_pip_install_in_a_fresh_venv(
    tmp_path: Path, thrift_server: Server, thrift_test: object
) -> None:
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    # A copy of the SDK, so the build leaves nothing behind in the checkout.
    source = tmp_path / "sdk"
    shutil.copytree(
        SDK,
        source,
        ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__", ".*_cache"),
    )
    installed = subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            str(source),
        ],
        capture_output=True,
        text=True,
        timeout=540,
        check=False,
    )
    assert installed.returncode == 0, installed.stdout + installed.stderr
    stubs_dir = Path(thrift_test.ThriftTest.__file__).parents[1]  # type: ignore[attr-defined]
    done = subprocess.run(
        [str(python), "-c", CALLS, thrift_server.address, str(stubs_dir)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.split() == ["from", "a", "fresh", "venv", "UNKNOWN_METHOD"]
