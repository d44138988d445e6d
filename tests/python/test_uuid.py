"""testUuid, hand-encoded with the runtime's writeUuid/readUuid (the v0.16 stubs lack it).

README: 16 bytes in RFC 4122 order, binary type id 16, compact type 0x0D; the Python
client sends 00112233-4455-6677-8899-aabbccddeeff and a random v4, C++ also the nil uuid.
"""

from __future__ import annotations

import random
import uuid
from typing import Any

from thrift.Thrift import TType

from conftest import ConnectFn
from raw import call_with_runtime

VALUES = [
    uuid.UUID("00112233-4455-6677-8899-aabbccddeeff"),
    uuid.UUID(int=random.Random(20240917).getrandbits(128), version=4),
    uuid.UUID(int=0),
    uuid.UUID(int=(1 << 128) - 1),
]


def test_uuid(connect: ConnectFn) -> None:
    protocol = connect().service_protocol("ThriftTest")
    for value in VALUES:

        def write_args(p: Any, value: uuid.UUID = value) -> None:
            p.writeFieldBegin("thing", TType.UUID, 1)
            p.writeUuid(value)
            p.writeFieldEnd()

        def read_success(p: Any) -> uuid.UUID:
            got: uuid.UUID = p.readUuid()
            return got

        got = call_with_runtime(protocol, "testUuid", write_args, TType.UUID, read_success)
        assert got == value, f"testUuid({value}) returned {got}"
