"""Apache Thrift's own Python cross-test client against the server under test.

The client is ``test/py/TestClient.py`` (with ``test/py/util.py``) from Apache Thrift
0.17.0's source release, which ``scripts/setup`` fetches from Debian's package pool into
``.cache/apache-thrift-0.17/test`` (``MOSAIC_APACHE_THRIFT_TEST_DIR`` names another copy of
that ``test/`` folder). Nothing of it is committed here. It runs unchanged, as a
subprocess, exactly as Apache's cross test (``test/tests.json``, workdir ``test/py``) runs
it: ``TestClient.py --host=127.0.0.1 --port=N --protocol=P --transport=T --genpydir=DIR``.

* ``--genpydir`` points at stubs that Debian's ``thrift --gen py`` (0.17) generates from
  the same release's ``test/ThriftTest.thrift`` (no ``uuid``).
* The client puts ``util.local_libpath()`` first on ``sys.path``: a built
  ``lib/py/build/lib.*`` next to ``test/``, which is not fetched, so it finds nothing and
  the client imports the Apache runtime of this suite's virtualenv (``thrift`` pinned in
  requirements.txt, with the C extension that ``accel``/``accelc`` need).
* The protocol name decides everything on the client side: ``binary``, ``compact`` and
  their accelerated forms ``accel``, ``accelc`` are plain; ``multi`` and ``multic`` wrap
  the same in ``TMultiplexedProtocol`` and also call ``SecondService``. Each of its ~24
  test methods opens its own connection.
* It exits 0 when every check passed and 1 otherwise.

Mosaic's server answers all 12 protocol x transport pairs on its one port. The reference
server (``MOSAIC_THRIFT_TEST_SERVER=python``) runs one process per wire protocol x
transport x plain/multiplexed, and each client configuration is sent to the one that
speaks it; with ``python:PROTOCOL:TRANSPORT[:multi]`` the pairs that need another
configuration are skipped.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import harness
import thrift_stubs
from harness import Pair, ServerUnderTest

ENV_TEST_DIR = "MOSAIC_APACHE_THRIFT_TEST_DIR"
DEFAULT_TEST_DIR = thrift_stubs.REPO_ROOT / ".cache" / "apache-thrift-0.17" / "test"

#: Apache's client protocol name -> (this suite's protocol in `harness.PROTOCOLS`,
#: multiplexed): what the server sees on the wire.
CLIENT_PROTOCOLS: dict[str, tuple[str, bool]] = {
    "binary": ("binary", False),
    "compact": ("compact", False),
    "multi": ("binary", True),
    "multic": ("compact", True),
    "accel": ("binary-accel", False),
    "accelc": ("compact-accel", False),
}
CASES = [(p, t) for t in harness.TRANSPORTS for p in CLIENT_PROTOCOLS]

#: Bound on one client run (Apache's cross test allows the Python client 10 s; its
#: oneway tests make the server sleep 1 s each).
CLIENT_TIMEOUT = 60.0


@pytest.fixture(scope="session")
def apache_test_dir() -> Path:
    """Apache Thrift 0.17.0's ``test/`` folder; fails under CI when it is missing."""
    configured = os.environ.get(ENV_TEST_DIR)
    test_dir = Path(configured) if configured else DEFAULT_TEST_DIR
    if not (test_dir / "py" / "TestClient.py").is_file():
        message = (
            f"Apache's test client {test_dir / 'py' / 'TestClient.py'} is missing: run "
            f"scripts/setup (it fetches Apache Thrift 0.17.0's test/ into .cache/), or set "
            f"{ENV_TEST_DIR} to such a test/ folder"
        )
        if os.environ.get("CI"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return test_dir


@pytest.fixture(scope="session")
def apache_stubs_dir(apache_test_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`thrift --gen py` output for the release's own ``test/ThriftTest.thrift``."""
    out = tmp_path_factory.mktemp("apache-0.17-stubs")
    thrift_stubs.generate(out, idl=apache_test_dir / "ThriftTest.thrift")
    return out


def _text(output: str | bytes | None) -> str:
    if output is None:
        return ""
    if isinstance(output, bytes):
        return output.decode(errors="replace")
    return output


@pytest.mark.timeout(CLIENT_TIMEOUT + 30)
@pytest.mark.parametrize(("protocol", "transport"), CASES, ids=[f"{p}-{t}" for p, t in CASES])
def test_apache_test_client(
    protocol: str,
    transport: str,
    server: ServerUnderTest,
    apache_test_dir: Path,
    apache_stubs_dir: Path,
) -> None:
    suite_protocol, multiplexed = CLIENT_PROTOCOLS[protocol]
    pair = Pair(suite_protocol, transport, multiplexed)
    if not server.serves(pair):
        pytest.skip(
            f"{harness.ENV_SERVER}={server.spec} serves one configuration only, and "
            f"Apache's client with --protocol={protocol} --transport={transport} speaks "
            f"{pair.wire} {'multiplexed' if multiplexed else 'plain'} {transport}"
        )
    try:
        host, port = server.address_for(pair)
    except RuntimeError as err:
        pytest.fail(str(err), pytrace=False)

    client = apache_test_dir / "py" / "TestClient.py"
    argv = [
        sys.executable,
        str(client),
        "--verbose",
        f"--host={host}",
        f"--port={port}",
        f"--protocol={protocol}",
        f"--transport={transport}",
        f"--genpydir={apache_stubs_dir}",
    ]
    # No __pycache__ in the fetched copy or the stubs.
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    command = " ".join(argv)
    process = server.process_for(pair)
    try:
        done = subprocess.run(
            argv,
            cwd=client.parent,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=CLIENT_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired as err:
        pytest.fail(
            f"Apache's TestClient.py did not finish within {CLIENT_TIMEOUT:.0f} s (killed)\n"
            f"command: {command}\n"
            f"---- client output ----\n{_text(err.output)}\n"
            f"---- server {process.name} stderr (tail) ----\n{process.stderr_tail()}",
            pytrace=False,
        )
    output = done.stdout
    if done.returncode != 0:
        pytest.fail(
            f"Apache's TestClient.py exited with code {done.returncode}\n"
            f"command: {command}\n"
            f"---- client output ----\n{output}\n"
            f"---- server {process.name} stderr (tail) ----\n{process.stderr_tail()}",
            pytrace=False,
        )
    # Exit code 0 with nothing run would prove nothing.
    assert "\nOK" in output and "Ran 0 tests" not in output, (
        f"unexpected output of a passing TestClient.py:\n{output}"
    )
    if multiplexed:
        assert "testMultiplexed" in output, f"SecondService was not called:\n{output}"
