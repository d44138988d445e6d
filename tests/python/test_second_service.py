"""SecondService through TMultiplexedProtocol, interleaved with ThriftTest on one connection.

README: secondtestString(thing) returns 'testString("' + thing + '")'; replies carry the
bare method name (checked for every call by harness.CheckedProtocol).
"""

from __future__ import annotations

import pytest

import harness
from conftest import ConnectFn
from harness import Connection, Pair, ServerUnderTest
from thrift_stubs import Stubs

MULTIPLEXED = list(harness.iter_pairs(multiplexed=True))


@pytest.mark.parametrize("pair", MULTIPLEXED, ids=[p.id for p in MULTIPLEXED])
def test_second_service_string(connect: ConnectFn) -> None:
    conn = connect()
    second = conn.second_service()
    for thing in ("foobar", "", "ünïcödé"):
        got = second.secondtestString(thing)
        expected = f'testString("{thing}")'
        assert got == expected, (
            f"secondtestString({thing!r}) returned {got!r}, expected {expected!r}"
        )


@pytest.mark.parametrize("pair", MULTIPLEXED, ids=[p.id for p in MULTIPLEXED])
def test_services_interleave_on_one_connection(connect: ConnectFn) -> None:
    conn = connect()
    first = conn.thrift_test()
    second = conn.second_service()
    for i in range(10):
        assert first.testString(f"s{i}") == f"s{i}", f"ThriftTest.testString round {i}"
        got = second.secondtestString(f"s{i}")
        assert got == f'testString("s{i}")', f"SecondService.secondtestString round {i}: {got!r}"


PLAIN = list(harness.iter_pairs(multiplexed=False))


@pytest.mark.parametrize("pair", PLAIN, ids=[p.id for p in PLAIN])
def test_unprefixed_names_reach_thrift_test_on_multiplexed_server(
    server: ServerUnderTest, stubs: Stubs, pair: Pair
) -> None:
    """README: the cross runner pairs plain clients with servers started in multi mode."""
    multiplexed = Pair(pair.protocol, pair.transport, True)
    if not server.serves(multiplexed):
        pytest.skip(f"{server.spec} does not serve {multiplexed.id}")
    with Connection(server.address_for(multiplexed), pair, stubs) as conn:
        got = conn.thrift_test().testString("plain")
        assert got == "plain", f"unprefixed testString on a multiplexed server returned {got!r}"
