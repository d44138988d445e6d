"""Declared exceptions, undeclared errors and unknown methods; the connection survives each.

README: testException("TException") and a call to an unknown method are answered with an
EXCEPTION message carrying a TApplicationException, and the next call on the same
connection must work (the Python client calls "Safe", "Xception", "TException",
"success" on one connection; Rust fails on a dropped connection).
"""

from __future__ import annotations

from typing import Any

import pytest
from thrift.Thrift import TApplicationException, TType
from thrift.transport.TTransport import TTransportException

from conftest import ConnectFn
from raw import call_with_runtime
from thrift_stubs import Stubs


def test_exception_all_branches_on_one_connection(connect: ConnectFn, stubs: Stubs) -> None:
    t = stubs.ttypes
    client = connect().thrift_test()

    assert client.testException("Safe") is None, 'testException("Safe") must return normally'

    with pytest.raises(t.Xception) as declared:
        client.testException("Xception")
    got = (declared.value.errorCode, declared.value.message)
    assert got == (1001, "Xception"), (
        f'testException("Xception") threw Xception{got}, expected (1001, "Xception")'
    )

    with pytest.raises(TApplicationException) as undeclared:
        try:
            client.testException("TException")
        except TTransportException as err:
            raise AssertionError(
                'testException("TException"): the connection failed instead of an EXCEPTION '
                f"message carrying a TApplicationException ({err})"
            ) from err
    assert isinstance(undeclared.value.type, int), (
        f'testException("TException"): TApplicationException without a type: {undeclared.value!r}'
    )

    # The connection survived the EXCEPTION message.
    assert client.testException("success") is None, 'testException("success") after TException'
    assert client.testString("after") == "after", "testString after testException"


def test_multi_exception_all_branches(connect: ConnectFn, stubs: Stubs) -> None:
    t = stubs.ttypes
    client = connect().thrift_test()

    with pytest.raises(t.Xception) as first:
        client.testMultiException("Xception", "test 1")
    got1 = (first.value.errorCode, first.value.message)
    assert got1 == (1001, "This is an Xception"), (
        f'testMultiException("Xception") threw Xception{got1}, '
        'expected (1001, "This is an Xception")'
    )

    with pytest.raises(t.Xception2) as second:
        client.testMultiException("Xception2", "test 2")
    error: Any = second.value
    assert error.errorCode == 2002, f"Xception2.errorCode is {error.errorCode!r}, expected 2002"
    thing = error.struct_thing
    assert thing is not None and thing.string_thing == "This is an Xception2", (
        f'Xception2.struct_thing is {thing!r}, expected string_thing="This is an Xception2"'
    )

    result = client.testMultiException("success", "foobar")
    assert result.string_thing == "foobar", (
        f'testMultiException("success", "foobar") returned {result!r}, '
        'expected string_thing="foobar"'
    )
    for name in ("byte_thing", "i32_thing", "i64_thing"):
        assert getattr(result, name) in (None, 0), (
            f"testMultiException result field {name} is {getattr(result, name)!r}, "
            "expected absent or 0"
        )


def test_unknown_method_gets_unknown_method_and_connection_survives(connect: ConnectFn) -> None:
    conn = connect()
    protocol = conn.service_protocol("ThriftTest")

    def no_args(_: Any) -> None:
        return None

    with pytest.raises(TApplicationException) as raised:
        call_with_runtime(protocol, "testNoSuchMethod", no_args, TType.VOID, lambda p: None)
    assert raised.value.type == TApplicationException.UNKNOWN_METHOD, (
        f"unknown method: TApplicationException type {raised.value.type} "
        f"({raised.value.message!r}), expected UNKNOWN_METHOD (1)"
    )

    client = conn.thrift_test()
    assert client.testString("still here") == "still here", (
        "testString on the same connection after an unknown method"
    )
