"""Hand-made Thrift bytes and raw-socket helpers for the tests that go around the stubs.

Two kinds of helpers:

* `call_with_runtime`: one call whose arguments and result are written and read with the
  Apache runtime's protocol methods directly (``writeUuid``, an unknown method name), for
  what the generated v0.16 stubs cannot express.
* Byte builders (`binary_message`, `compact_message`, `framed`, ...) following Apache's
  doc/specs/thrift-binary-protocol.md and thrift-compact-protocol.md, for malformed input
  the runtime would refuse to write; and `expect_server_closes` to watch what the server
  does with it.
"""

from __future__ import annotations

import socket
import struct
import time
from collections.abc import Callable
from typing import Any, TypeVar

from thrift.Thrift import TApplicationException, TMessageType

__all__ = [
    "BINARY_TYPE",
    "COMPACT_TYPE",
    "binary_field",
    "binary_message",
    "binary_string",
    "call_with_runtime",
    "compact_field",
    "compact_message",
    "compact_string",
    "expect_server_closes",
    "framed",
    "varint",
]

T = TypeVar("T")

# Binary protocol type ids (thrift-binary-protocol.md).
BINARY_TYPE = {
    "bool": 2,
    "byte": 3,
    "double": 4,
    "i16": 6,
    "i32": 8,
    "i64": 10,
    "string": 11,
    "struct": 12,
    "map": 13,
    "set": 14,
    "list": 15,
    "uuid": 16,
}
# Compact protocol type ids (thrift-compact-protocol.md).
COMPACT_TYPE = {
    "bool_true": 1,
    "bool_false": 2,
    "byte": 3,
    "i16": 4,
    "i32": 5,
    "i64": 6,
    "double": 7,
    "binary": 8,
    "list": 9,
    "set": 10,
    "map": 11,
    "struct": 12,
    "uuid": 13,
}
CALL = TMessageType.CALL


def call_with_runtime(
    protocol: Any,
    method: str,
    write_args: Callable[[Any], None],
    success_type: int,
    read_success: Callable[[Any], T],
) -> T | None:
    """Sends METHOD with arguments written by WRITE_ARGS(protocol) and reads the reply.

    PROTOCOL is a `harness.Connection.service_protocol` (it numbers and checks seqids and
    adds the multiplex prefix). READ_SUCCESS reads field 0 of the result struct, which
    must have type SUCCESS_TYPE; other fields are skipped. Returns None when field 0 is
    absent; raises the TApplicationException of an EXCEPTION reply.
    """
    protocol.writeMessageBegin(method, CALL, 0)
    protocol.writeStructBegin(f"{method}_args")
    write_args(protocol)
    protocol.writeFieldStop()
    protocol.writeStructEnd()
    protocol.writeMessageEnd()
    protocol.trans.flush()

    _, mtype, _ = protocol.readMessageBegin()
    if mtype == TMessageType.EXCEPTION:
        error = TApplicationException()
        error.read(protocol)
        protocol.readMessageEnd()
        raise error
    assert mtype == TMessageType.REPLY, f"{method}: message type {mtype}, expected REPLY (2)"
    result: T | None = None
    protocol.readStructBegin()
    while True:
        _, ftype, fid = protocol.readFieldBegin()
        if ftype == 0:
            break
        if fid == 0:
            assert ftype == success_type, (
                f"{method}: result field 0 has type {ftype}, expected {success_type}"
            )
            result = read_success(protocol)
        else:
            protocol.skip(ftype)
        protocol.readFieldEnd()
    protocol.readStructEnd()
    protocol.readMessageEnd()
    return result


# ---- binary protocol bytes ----------------------------------------------------------


def binary_message(name: str, body: bytes, seqid: int = 0, strict: bool = True) -> bytes:
    """A binary-protocol CALL: header, then BODY (the argument struct, with its stop)."""
    encoded = name.encode()
    if strict:
        head = struct.pack(">Ii", 0x80010000 | CALL, len(encoded)) + encoded
        return head + struct.pack(">i", seqid) + body
    return struct.pack(">i", len(encoded)) + encoded + struct.pack(">bi", CALL, seqid) + body


def binary_field(type_name: str, field_id: int) -> bytes:
    return struct.pack(">bh", BINARY_TYPE[type_name], field_id)


def binary_string(data: bytes, claimed_length: int | None = None) -> bytes:
    length = len(data) if claimed_length is None else claimed_length
    return struct.pack(">i", length) + data


# ---- compact protocol bytes ---------------------------------------------------------


def varint(value: int) -> bytes:
    """Unsigned LEB128 of VALUE (taken modulo 2**64)."""
    value &= (1 << 64) - 1
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def zigzag(value: int) -> int:
    return (value << 1) ^ (value >> 63)


def compact_message(name: str, body: bytes, seqid: int = 0) -> bytes:
    """A compact-protocol CALL: header, then BODY (the argument struct, with its stop)."""
    encoded = name.encode()
    head = bytes([0x82, (CALL << 5) | 1]) + varint(seqid) + varint(len(encoded)) + encoded
    return head + body


def compact_field(type_name: str, delta: int) -> bytes:
    """A short-form field header: field id DELTA (1..15) above the previous one."""
    assert 1 <= delta <= 15
    return bytes([(delta << 4) | COMPACT_TYPE[type_name]])


def compact_string(data: bytes, claimed_length: int | None = None) -> bytes:
    length = len(data) if claimed_length is None else claimed_length
    return varint(length) + data


# ---- transports and sockets ---------------------------------------------------------


def framed(message: bytes, claimed_length: int | None = None) -> bytes:
    """MESSAGE behind a 4-byte big-endian frame length (CLAIMED_LENGTH if given)."""
    length = len(message) if claimed_length is None else claimed_length
    return struct.pack(">I", length & 0xFFFFFFFF) + message


def expect_server_closes(sock: socket.socket, half_close: bool, within: float, what: str) -> bytes:
    """Waits until the server closes SOCK; returns whatever it sent before closing.

    With HALF_CLOSE the client first shuts down its sending side, telling the server that
    no more bytes will come. Fails if the connection is still open after WITHIN seconds.
    """
    if half_close:
        try:
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            return b""  # already reset by the server: closed
    received = bytearray()
    deadline = time.monotonic() + within
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(
                f"{what}: the server kept the connection open for more than {within:.0f} s "
                f"(expected it to close it); it sent {len(received)} bytes: "
                f"{bytes(received[:64]).hex()}"
            )
        sock.settimeout(remaining)
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            continue
        except (ConnectionResetError, BrokenPipeError):
            return bytes(received)
        if not chunk:
            return bytes(received)
        received += chunk
        if len(received) > 1 << 20:
            raise AssertionError(f"{what}: the server sent more than 1 MiB in answer to it")
