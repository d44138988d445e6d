"""Checks of Mosaic's generated Python stubs that must import them as ``ThriftTest``.

Apache's stubs use the same package name and the rest of the suite imports them, so
`test_mosaic_stubs.py` runs these checks in a subprocess with Mosaic's stubs first on
``sys.path``::

    python mosaic_stubs_check.py --stubs DIR golden
    python mosaic_stubs_check.py --stubs DIR enums
    python mosaic_stubs_check.py --stubs DIR call --host H --port P
    python mosaic_stubs_check.py --stubs DIR spec      # prints every thrift_spec as JSON

Each prints what it checked and exits 1 with every problem listed when one fails.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import uuid
from pathlib import Path
from types import ModuleType
from typing import Any

from thrift.protocol import TBinaryProtocol, TCompactProtocol
from thrift.transport import TSocket, TTransport

import golden

__all__ = ["check_call", "check_enums", "check_golden", "main", "spec_tables"]

#: (name, compact, accelerated): every protocol class the checks use.
PROTOCOLS = [
    ("binary", False, False),
    ("binary-accel", False, True),
    ("compact", True, False),
    ("compact-accel", True, True),
]


def _protocol(buffer: Any, compact: bool, accelerated: bool) -> Any:
    if compact:
        if accelerated:
            return TCompactProtocol.TCompactProtocolAccelerated(buffer, fallback=False)
        return TCompactProtocol.TCompactProtocol(buffer)
    if accelerated:
        return TBinaryProtocol.TBinaryProtocolAccelerated(
            buffer, strictRead=True, strictWrite=True, fallback=False
        )
    return TBinaryProtocol.TBinaryProtocol(buffer, strictRead=True, strictWrite=True)


def encode(value: Any, compact: bool, accelerated: bool) -> bytes:
    buffer = TTransport.TMemoryBuffer()
    value.write(_protocol(buffer, compact, accelerated))
    data: bytes = buffer.getvalue()
    return data


def decode(cls: Any, data: bytes, compact: bool, accelerated: bool) -> Any:
    protocol = _protocol(TTransport.TMemoryBuffer(data), compact, accelerated)
    if isinstance(cls.__dict__.get("read"), classmethod):
        return cls.read(protocol)
    value = cls()
    value.read(protocol)
    return value


def check_golden(ttypes: ModuleType) -> list[str]:
    """Every corpus entry decoded into Mosaic's class and encoded again gives Apache's bytes,
    in both protocols, pure Python and accelerated (and across the two); the corpus values
    built with Mosaic's constructors encode to the same bytes."""
    problems: list[str] = []
    entries: list[dict[str, Any]] = json.loads(golden.CORPUS_PATH.read_text())
    checked = 0
    for entry in entries:
        cls = getattr(ttypes, entry["type"])
        for wire in ("binary", "compact"):
            compact = wire == "compact"
            expected = entry[wire]
            for reader in (False, True):
                if entry["name"] in golden.ABSENT_OPTIONAL_DEFAULTS:
                    # Read back as set to their defaults, as Apache's classes do.
                    continue
                value = decode(cls, bytes.fromhex(expected), compact, reader)
                for writer in (False, True):
                    again = encode(value, compact, writer).hex()
                    checked += 1
                    if again != expected:
                        problems.append(
                            f"{entry['name']} ({wire}, read {'accel' if reader else 'pure'}, "
                            f"written {'accel' if writer else 'pure'}): {again}, "
                            f"Apache wrote {expected}"
                        )
    by_name = {entry["name"]: entry for entry in entries}
    for name, value in golden.build_values(ttypes):
        for _, compact, accelerated in PROTOCOLS:
            wire = "compact" if compact else "binary"
            data = encode(value, compact, accelerated).hex()
            checked += 1
            if data != by_name[name][wire]:
                problems.append(
                    f"{name} built with Mosaic's constructors ({wire}, "
                    f"{'accel' if accelerated else 'pure'}): {data}, "
                    f"Apache wrote {by_name[name][wire]}"
                )
    print(f"golden: {len(entries)} entries, {checked} encodings compared")
    return problems


def check_enums(ttypes: ModuleType) -> list[str]:
    """An enum value the IDL does not declare is read, kept and written again."""
    problems: list[str] = []
    numberz = ttypes.Numberz
    unknown = numberz(7)
    if not isinstance(unknown, numberz) or unknown != 7 or int(unknown) != 7:
        problems.append(f"Numberz(7) is {unknown!r}, not a Numberz equal to 7")
    if numberz(5) is not numberz.FIVE:
        problems.append("Numberz(5) is not Numberz.FIVE")
    value = ttypes.Insanity(
        userMap={numberz(7): 70, numberz.FIVE: 5, numberz(-1): -1},
        xtructs=[],
    )
    for name, compact, accelerated in PROTOCOLS:
        data = encode(value, compact, accelerated)
        back = decode(ttypes.Insanity, data, compact, accelerated)
        if back.userMap != {7: 70, 5: 5, -1: -1}:
            problems.append(f"{name}: Insanity.userMap read back as {back.userMap!r}")
        if not accelerated and not all(isinstance(k, numberz) for k in back.userMap):
            problems.append(f"{name}: keys read as {list(back.userMap)!r}, not Numberz")
        again = encode(back, compact, accelerated)
        if again != data:
            problems.append(f"{name}: re-encoded as {again.hex()}, first {data.hex()}")
    print(f"enums: unknown values round-trip in {len(PROTOCOLS)} protocols")
    return problems


def check_call(thrift_test: ModuleType, ttypes: ModuleType, host: str, port: int) -> list[str]:
    """A server echoes an enum value that neither side's IDL declares, and a ``uuid``."""
    problems: list[str] = []
    socket = TSocket.TSocket(host, port)
    socket.setTimeout(10_000)
    transport = TTransport.TBufferedTransport(socket)
    transport.open()
    try:
        client = thrift_test.Client(TBinaryProtocol.TBinaryProtocol(transport))
        for value in (ttypes.Numberz.EIGHT, ttypes.Numberz(7), ttypes.Numberz(-3)):
            got = client.testEnum(value)
            if got != value or not isinstance(got, ttypes.Numberz):
                problems.append(f"testEnum({int(value)}) returned {got!r}")
        sent = uuid.UUID("00112233-4455-6677-8899-aabbccddeeff")
        echoed = client.testUuid(sent)
        if echoed != sent:
            problems.append(f"testUuid({sent}) returned {echoed!r}")
    finally:
        transport.close()
    print("call: testEnum echoes unknown values, testUuid a uuid.UUID")
    return problems


def _plain(value: Any) -> Any:
    """A ``thrift_spec`` entry as JSON: classes by name (``fix_spec`` made struct entries
    ``[cls, cls.thrift_spec]``, which may recurse), sets and maps sorted, bytes in hex."""
    if isinstance(value, type):
        return {"class": value.__name__}
    if isinstance(value, list) and len(value) == 2 and isinstance(value[0], type):
        return {"class": value[0].__name__}
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, set | frozenset):
        return sorted((_plain(v) for v in value), key=repr)
    if isinstance(value, dict):
        return sorted(([_plain(k), _plain(v)] for k, v in value.items()), key=repr)
    if isinstance(value, bytes):
        return {"bytes": value.hex()}
    if isinstance(value, bool | str | float) or value is None:
        return value
    if isinstance(value, int):
        return int(value)
    return {"object": repr(value)}


def spec_tables() -> dict[str, Any]:
    """Every class with a ``thrift_spec`` in the ThriftTest package, by module and name."""
    tables: dict[str, Any] = {}
    for short in ("ttypes", "ThriftTest", "SecondService"):
        module = importlib.import_module(f"ThriftTest.{short}")
        for name, cls in sorted(vars(module).items()):
            if isinstance(cls, type) and cls.__module__ == module.__name__:
                spec = getattr(cls, "thrift_spec", None)
                if spec is not None:
                    tables[f"{short}.{name}"] = _plain(spec)
    return tables


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stubs", type=Path, required=True, help="Mosaic's generated stubs")
    parser.add_argument("check", choices=["golden", "enums", "call", "spec"])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(args.stubs))
    ttypes = importlib.import_module("ThriftTest.ttypes")
    if args.check == "spec":
        print(json.dumps(spec_tables(), indent=1, sort_keys=True))
        return 0
    header = Path(str(ttypes.__file__)).read_text().splitlines()[0]
    if "@generated by mosaic-codegen" not in header:
        print(f"{ttypes.__file__} is not Mosaic's: {header}")
        return 1
    if args.check == "golden":
        problems = check_golden(ttypes)
    elif args.check == "enums":
        problems = check_enums(ttypes)
    else:
        thrift_test = importlib.import_module("ThriftTest.ThriftTest")
        problems = check_call(thrift_test, ttypes, args.host, args.port)
    for problem in problems:
        print(problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
