"""Large messages and many concurrent connections.

A 32 MiB binary must come back intact through both transports (a framed server needs
frames far above Apache's 16 MB default), and 64 connections making 50 calls each at
the same time must all get their own answers.
"""

from __future__ import annotations

import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

import harness
from conftest import ConnectFn
from harness import Pair

BIG = 32 * 1024 * 1024
THREADS = 64
CALLS_PER_THREAD = 50
PARALLEL_BUDGET = 90.0

BIG_PAIRS = [
    Pair(protocol, transport, False)
    for protocol in ("binary", "compact", "binary-accel")
    for transport in harness.TRANSPORTS
]
PARALLEL_PAIRS = [
    Pair("binary", "buffered", False),
    Pair("compact", "framed", False),
    Pair("binary-accel", "framed", True),
    Pair("compact-accel", "buffered", True),
]


def first_difference(a: bytes, b: bytes) -> int:
    for i, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            return i
    return min(len(a), len(b))


@pytest.mark.timeout(180)
@pytest.mark.parametrize("pair", BIG_PAIRS, ids=[p.id for p in BIG_PAIRS])
def test_binary_32_mib_echoes_intact(connect: ConnectFn) -> None:
    value = random.Random(32).randbytes(BIG)
    client = connect(timeout=120.0).thrift_test()
    got = client.testBinary(value)
    assert got == value, (
        f"testBinary of {BIG} bytes returned {len(got)} bytes, "
        f"first difference at offset {first_difference(got, value)}"
    )
    # The connection is still usable after the big message.
    assert client.testString("small") == "small", "testString after the 32 MiB call"


@pytest.mark.timeout(PARALLEL_BUDGET + 60)
@pytest.mark.parametrize("pair", PARALLEL_PAIRS, ids=[p.id for p in PARALLEL_PAIRS])
def test_parallel_connections_all_answer(connect: ConnectFn) -> None:
    deadline = time.monotonic() + PARALLEL_BUDGET
    start = threading.Barrier(THREADS, timeout=30)
    connections = [connect(timeout=30.0) for _ in range(THREADS)]

    def worker(index: int) -> list[str]:
        client = connections[index].thrift_test()
        problems: list[str] = []
        start.wait()
        for call in range(CALLS_PER_THREAD):
            if time.monotonic() > deadline:
                problems.append(f"thread {index}: out of time after {call} calls")
                break
            text = f"thread {index} call {call} ✓"
            number = index * 1_000_000_007 + call
            got_text = client.testString(text)
            got_number = client.testI64(number)
            if got_text != text:
                problems.append(f"thread {index} call {call}: testString {got_text!r} != {text!r}")
            if got_number != number:
                problems.append(f"thread {index} call {call}: testI64 {got_number} != {number}")
        return problems

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        results = list(pool.map(worker, range(THREADS)))
    problems = [p for result in results for p in result]
    total = THREADS * CALLS_PER_THREAD
    assert not problems, f"{len(problems)} of {total} call pairs went wrong, first: {problems[:10]}"
