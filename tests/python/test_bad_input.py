"""Malformed bytes on raw sockets: the server closes that connection and serves on.

DESIGN.md: limits on everything a peer controls (frame size, string length, container
sizes, nesting depth); bad bytes close that connection; the server goes on serving
everyone else. Each case sends its bytes on a fresh connection and then requires that

* the server closes the connection within `CLOSE_WITHIN` seconds, by itself where the
  bytes break a limit or a rule, or once the client has half-closed where the bytes are
  merely incomplete (a server cannot know more will never come before that);
* a normal call on a new connection (binary/buffered and compact/framed) still answers.

These are Mosaic-server tests (marker ``bad_input``). Against the reference server they
are skipped unless ``MOSAIC_THRIFT_TEST_REFERENCE_BAD_INPUT=1``; then each case goes to
the reference port speaking its protocol and transport, which checks the cases
themselves against Apache's runtime.
"""

from __future__ import annotations

import random
import socket
import struct
from dataclasses import dataclass

import pytest

from harness import HOST, Connection, Pair, ServerUnderTest
from raw import (
    binary_field,
    binary_message,
    binary_string,
    compact_field,
    compact_message,
    compact_string,
    expect_server_closes,
    framed,
    varint,
)
from thrift_stubs import Stubs

CLOSE_WITHIN = 10.0
DEPTH = 10_000
STOP = b"\x00"


@dataclass(frozen=True)
class BadInput:
    """Bytes to send, the protocol/transport they pretend to be, and whether to half-close."""

    id: str
    data: bytes
    wire: str
    transport: str
    half_close: bool


def _binary_call(name: str, args: bytes) -> bytes:
    return binary_message(name, args + STOP)


def _compact_call(name: str, args: bytes) -> bytes:
    return compact_message(name, args + STOP)


def _both_transports(id_: str, wire: str, message: bytes, half_close: bool) -> list[BadInput]:
    return [
        BadInput(f"{id_}-buffered", message, wire, "buffered", half_close),
        BadInput(f"{id_}-framed", framed(message), wire, "framed", half_close),
    ]


def _cases() -> list[BadInput]:
    good = _binary_call("testString", binary_field("string", 1) + binary_string(b"hello"))
    cases = [
        # ---- framing: incomplete or lying frame headers ----
        BadInput("frame-header-cut", b"\x00\x00", "binary", "framed", True),
        BadInput(
            "frame-truncated",
            framed(good)[: 4 + len(good) // 2],
            "binary",
            "framed",
            True,
        ),
        BadInput(
            "frame-claims-more-than-sent",
            framed(good, claimed_length=len(good) + 1000),
            "binary",
            "framed",
            True,
        ),
        BadInput(
            "frame-claims-2gib",
            framed(good, claimed_length=0x7FFFFFFF),
            "binary",
            "framed",
            False,
        ),
        BadInput(
            "frame-length-negative",
            framed(good, claimed_length=0x80000000),
            "binary",
            "framed",
            False,
        ),
        BadInput("message-cut-buffered", good[: len(good) // 2], "binary", "buffered", True),
    ]
    # ---- a string claiming 2^31-1 bytes, and a negative string length ----
    cases += _both_transports(
        "binary-string-2^31-1",
        "binary",
        binary_message(
            "testString", binary_field("string", 1) + binary_string(b"x" * 16, 2**31 - 1)
        ),
        False,
    )
    cases += _both_transports(
        "compact-string-2^31-1",
        "compact",
        compact_message(
            "testString", compact_field("binary", 1) + compact_string(b"x" * 16, 2**31 - 1)
        ),
        False,
    )
    cases += _both_transports(
        "binary-string-negative",
        "binary",
        binary_message("testString", binary_field("string", 1) + binary_string(b"x" * 16, -1)),
        False,
    )
    # ---- negative container sizes ----
    cases += _both_transports(
        "binary-list-negative",
        "binary",
        _binary_call("testList", binary_field("list", 1) + struct.pack(">bi", 8, -1)),
        False,
    )
    cases += _both_transports(
        "binary-set-negative",
        "binary",
        _binary_call("testSet", binary_field("set", 1) + struct.pack(">bi", 8, -7)),
        False,
    )
    cases += _both_transports(
        "binary-map-negative",
        "binary",
        _binary_call("testMap", binary_field("map", 1) + struct.pack(">bbi", 8, 8, -(2**31))),
        False,
    )
    # Compact sizes are unsigned varints: 0xFFFFFFFF is -1 as an i32, 2^32-1 as a u32.
    cases += _both_transports(
        "compact-list-negative",
        "compact",
        _compact_call("testList", compact_field("list", 1) + bytes([0xF5]) + varint(0xFFFFFFFF)),
        False,
    )
    cases += _both_transports(
        "compact-map-negative",
        "compact",
        _compact_call("testMap", compact_field("map", 1) + varint(0xFFFFFFFF) + bytes([0x55])),
        False,
    )
    # ---- nesting far deeper than any sane limit ----
    nested_lists = (
        binary_field("list", 1) + struct.pack(">bi", 15, 1) * DEPTH + struct.pack(">bi", 8, 0)
    )
    cases += _both_transports(
        "binary-lists-nested-10000", "binary", _binary_call("testVoid", nested_lists), False
    )
    nested_structs = binary_field("struct", 1) * DEPTH + STOP * DEPTH
    cases += _both_transports(
        "binary-structs-nested-10000", "binary", _binary_call("testVoid", nested_structs), False
    )
    compact_lists = compact_field("list", 1) + bytes([0x19]) * DEPTH + bytes([0x05])
    cases += _both_transports(
        "compact-lists-nested-10000", "compact", _compact_call("testVoid", compact_lists), False
    )
    # ---- wrong protocol version ----
    cases += _both_transports(
        "binary-bad-version",
        "binary",
        struct.pack(">Ii", 0x80020001, 4) + b"test" + struct.pack(">i", 0) + STOP,
        False,
    )
    # ---- noise: pure random bytes, and random bytes after a valid message header ----
    for seed in range(1, 6):
        noise = random.Random(seed).randbytes(4096)
        cases.append(BadInput(f"random-bytes-seed-{seed}", noise, "binary", "buffered", True))
    noise = random.Random(99).randbytes(2048)
    cases += _both_transports(
        "binary-header-then-random", "binary", binary_message("testStruct", noise), True
    )
    cases += _both_transports(
        "compact-header-then-random", "compact", compact_message("testStruct", noise), True
    )
    return cases


CASES = _cases()

FOLLOW_UP_PAIRS = [Pair("binary", "buffered", False), Pair("compact", "framed", False)]


@pytest.mark.bad_input
@pytest.mark.timeout(60)
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_closes_connection_and_server_serves_on(
    server: ServerUnderTest, stubs: Stubs, case: BadInput
) -> None:
    target = Pair(case.wire, case.transport, False)
    if not server.serves(target):
        pytest.skip(f"{server.spec} does not serve {target.id}")
    address = server.address_for(target)
    with socket.create_connection(address, timeout=CLOSE_WITHIN) as sock:
        try:
            sock.sendall(case.data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server closed before reading everything: that is a close
        else:
            how = "after the client half-closed" if case.half_close else "on its own"
            expect_server_closes(
                sock, case.half_close, CLOSE_WITHIN, f"{case.id} (server should close {how})"
            )

    follow_ups = [p for p in FOLLOW_UP_PAIRS if server.is_mosaic] or [target]
    for pair in follow_ups:
        with Connection(server.address_for(pair), pair, stubs) as conn:
            got = conn.thrift_test().testString("still serving")
            assert got == "still serving", (
                f"after {case.id}: testString on a new {pair.id} connection returned {got!r}"
            )


@pytest.mark.bad_input
@pytest.mark.timeout(60)
def test_connection_closed_without_a_byte(server: ServerUnderTest, stubs: Stubs) -> None:
    """A connection that closes at once, then one that is reset (SO_LINGER 0)."""
    pair = FOLLOW_UP_PAIRS[0]
    address = server.address_for(pair)
    with socket.create_connection(address, timeout=CLOSE_WITHIN):
        pass
    reset = socket.create_connection(address, timeout=CLOSE_WITHIN)
    reset.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    reset.close()
    with Connection((HOST, address[1]), pair, stubs) as conn:
        got = conn.thrift_test().testString("still serving")
        assert got == "still serving", f"after empty connections: testString returned {got!r}"
