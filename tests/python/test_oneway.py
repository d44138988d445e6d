"""testOneway: no reply, and the sleep it asks for delays nobody.

README: the Python client needs the call back within 3 s and then testString("Python")
answered on the same connection; C++ needs testOneway(1) within 200 ms; Java closes the
connection right after testOneway(3), in the middle of the server's sleep.
"""

from __future__ import annotations

import time

import pytest

from conftest import ConnectFn

SLEEP = 3


@pytest.mark.timeout(30)
def test_oneway_returns_fast_and_connection_answers_next(connect: ConnectFn) -> None:
    client = connect().thrift_test()
    started = time.monotonic()
    client.testOneway(SLEEP)
    sent = time.monotonic() - started
    assert sent < 0.5, f"testOneway({SLEEP}) took {sent:.2f} s to return, expected < 0.5 s"

    got = client.testString("Python")
    answered = time.monotonic() - started
    assert got == "Python", f"testString after testOneway returned {got!r}"
    assert answered < SLEEP - 0.5, (
        f"testString on the same connection answered {answered:.2f} s after testOneway({SLEEP}):"
        f" the oneway sleep delayed the client (expected < {SLEEP - 0.5} s)"
    )


@pytest.mark.timeout(30)
def test_oneway_sleep_does_not_delay_other_connections(connect: ConnectFn) -> None:
    sleeper = connect().thrift_test()
    other = connect().thrift_test()
    sleeper.testOneway(SLEEP)
    started = time.monotonic()
    for i in range(10):
        assert other.testI32(i) == i, f"testI32({i}) on another connection"
    elapsed = time.monotonic() - started
    assert elapsed < 1.0, (
        f"10 calls on another connection took {elapsed:.2f} s during testOneway({SLEEP}), "
        "expected < 1 s"
    )


@pytest.mark.timeout(30)
def test_oneway_then_close_mid_sleep(connect: ConnectFn) -> None:
    conn = connect()
    conn.thrift_test().testOneway(SLEEP)
    conn.close()  # as the Java client does, while the server is still sleeping
    client = connect().thrift_test()
    assert client.testString("next") == "next", "a new connection after a closed oneway one"
