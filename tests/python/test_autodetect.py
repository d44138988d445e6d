"""Mosaic's one port for every client, its command line, and probe connections.

Apache's cross-test runner starts a server as ``SERVER --port=N --protocol=P
--transport=T`` and probes the port with connections that close without a byte. Mosaic's
``thrift-test-server`` accepts those flags, ignores protocol and transport (it detects
them per connection) and stops on SIGTERM or SIGINT.
"""

from __future__ import annotations

import signal
import socket
import sys
import time
from pathlib import Path

import pytest

import harness
from harness import HOST, Connection, Pair, ServerUnderTest, start_server
from thrift_stubs import Stubs


@pytest.mark.mosaic_only
@pytest.mark.timeout(60)
def test_every_client_kind_on_one_port_at_once(server: ServerUnderTest, stubs: Stubs) -> None:
    """All 20 client configurations open at once on the one port, calls interleaved."""
    connections = [Connection(server.address_for(pair), pair, stubs) for pair in harness.PAIRS]
    try:
        clients = [conn.thrift_test() for conn in connections]
        for round_ in range(5):
            for pair, client in zip(harness.PAIRS, clients, strict=True):
                text = f"{pair.id} round {round_}"
                got = client.testString(text)
                assert got == text, f"{pair.id}: testString({text!r}) returned {got!r}"
    finally:
        for conn in connections:
            conn.close()


@pytest.mark.timeout(60)
def test_probe_connections_are_harmless(server: ServerUnderTest, stubs: Stubs) -> None:
    """Connections that close without sending a byte, as the cross-test runner's probes."""
    pair = Pair("binary", "buffered", False)
    if not server.serves(pair):
        pair = next(p for p in harness.PAIRS if server.serves(p))
    address = server.address_for(pair)
    for _ in range(20):
        with socket.create_connection(address, timeout=5):
            pass
    with Connection(address, pair, stubs) as conn:
        assert conn.thrift_test().testString("after probes") == "after probes", (
            "a call after 20 empty connections"
        )


CLI_CASES = [
    (["--protocol=compact", "--transport=framed"], signal.SIGTERM),
    (["--protocol=multi", "--transport=buffered"], signal.SIGINT),
    (["--protocol=multic", "--transport=framed"], signal.SIGTERM),
]


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    ("flags", "stop_signal"),
    CLI_CASES,
    ids=[f"{'-'.join(f.split('=')[1] for f in flags)}-{s.name}" for flags, s in CLI_CASES],
)
def test_cross_test_flags_and_signal_stop(
    server: ServerUnderTest,
    stubs: Stubs,
    stubs_dir: Path,
    tmp_path: Path,
    flags: list[str],
    stop_signal: signal.Signals,
) -> None:
    """Started the way Apache's runner starts servers; serves; exits on the signal."""
    with socket.socket() as probe:  # a free port, handed over as --port=N
        probe.bind((HOST, 0))
        port = probe.getsockname()[1]
    protocol_flag = flags[0].split("=")[1]
    transport = flags[1].split("=")[1]
    multiplexed = protocol_flag.startswith("multi")
    wire = "compact" if protocol_flag in ("compact", "multic") else "binary"
    if server.is_mosaic:
        try:
            binary = server.require_binary()
        except RuntimeError as err:
            pytest.fail(str(err), pytrace=False)
        argv = [str(binary), f"--port={port}", *flags]
        # Mosaic ignores --protocol/--transport: every client kind must work.
        pairs = [Pair("binary", "buffered", False), Pair("compact", "framed", multiplexed)]
    else:
        argv = [sys.executable, str(harness.REFERENCE_SERVER), f"--port={port}", *flags]
        argv.append(f"--stubs-dir={stubs_dir}")
        pairs = [Pair(wire, transport, multiplexed)]
    process = start_server("cli-" + "-".join(flags), argv, tmp_path)
    try:
        assert process.port == port, f"server announced port {process.port}, expected {port}"
        for pair in pairs:
            with Connection((HOST, port), pair, stubs) as conn:
                got = conn.thrift_test().testString(pair.id)
                assert got == pair.id, f"{pair.id}: testString returned {got!r}"
        process.process.send_signal(stop_signal)
        started = time.monotonic()
        try:
            code = process.process.wait(timeout=15)
        except Exception:
            raise AssertionError(
                f"server still running 15 s after {stop_signal.name}; stderr:\n"
                f"{process.stderr_tail()}"
            ) from None
        assert code in (0, -stop_signal, 128 + stop_signal), (
            f"server exited with code {code} after {stop_signal.name} "
            f"({time.monotonic() - started:.1f} s), expected 0 or death by that signal; "
            f"stderr:\n{process.stderr_tail()}"
        )
    finally:
        process.stop(timeout=5)
