"""`connect(module, address)` on Mosaic-generated ThriftTest stubs against a real
thrift-test-server: results, errors, protocols and transports, closing."""

from __future__ import annotations

import time
from types import SimpleNamespace
from typing import Literal

import pytest
from thrift.Thrift import TApplicationException

import mosaic_rpc

from servers import Server


@pytest.mark.parametrize("protocol", ["binary", "compact"])
@pytest.mark.parametrize("transport", ["framed", "buffered"])
def test_protocol_and_transport_pairs(
    thrift_test: SimpleNamespace,
    thrift_server: Server,
    protocol: Literal["binary", "compact"],
    transport: Literal["framed", "buffered"],
) -> None:
    ttypes = thrift_test.ttypes
    with mosaic_rpc.connect(
        thrift_test.ThriftTest,
        thrift_server.address,
        protocol=protocol,
        transport=transport,
    ) as client:
        assert client.testString("héllo") == "héllo"
        assert client.testI32(-7) == -7
        assert client.testDouble(0.25) == 0.25
        assert client.testVoid() is None
        xtruct = ttypes.Xtruct(string_thing="s", byte_thing=1, i32_thing=2, i64_thing=3)
        assert client.testStruct(xtruct) == xtruct
        assert client.testMap({1: 2, 3: 4}) == {1: 2, 3: 4}
        assert client.testList([1, 2, 3]) == [1, 2, 3]
        payload = bytes(range(256)) * 4096  # 1 MiB
        assert client.testBinary(payload) == payload
        assert client.pool_stats().opened == 1


def test_the_generated_client_class_works_as_the_service(
    thrift_test: SimpleNamespace, thrift_server: Server
) -> None:
    with mosaic_rpc.connect(thrift_test.ThriftTest.Client, thrift_server.address) as client:
        assert client.testString("by class") == "by class"
        assert client.call("testI64", 1 << 40) == 1 << 40
    with mosaic_rpc.connect(thrift_test.ThriftTest.Iface, thrift_server.address) as client:
        assert client.testString("by Iface") == "by Iface"


def test_multiplexed_service(thrift_test: SimpleNamespace, thrift_server: Server) -> None:
    with mosaic_rpc.connect(
        thrift_test.SecondService, thrift_server.address, multiplexed_name="SecondService"
    ) as second:
        assert second.secondtestString("x") == 'testString("x")'


def test_declared_exceptions_propagate_as_generated_classes(
    thrift_test: SimpleNamespace, thrift_server: Server
) -> None:
    ttypes = thrift_test.ttypes
    with mosaic_rpc.connect(thrift_test.ThriftTest, thrift_server.address) as client:
        with pytest.raises(ttypes.Xception) as caught:
            client.testException("Xception")
        assert (caught.value.errorCode, caught.value.message) == (1001, "Xception")
        with pytest.raises(ttypes.Xception2) as caught2:
            client.testMultiException("Xception2", "x")
        assert caught2.value.errorCode == 2002
        assert client.testMultiException("other", "fine").string_thing == "fine"
        # Declared exceptions leave the connection in the pool.
        assert client.pool_stats().opened == 1


def test_undeclared_server_failure_is_a_remote_error(
    thrift_test: SimpleNamespace, thrift_server: Server
) -> None:
    with mosaic_rpc.connect(thrift_test.ThriftTest, thrift_server.address) as client:
        with pytest.raises(mosaic_rpc.RemoteError) as caught:
            client.testException("TException")
        assert caught.value.type == TApplicationException.INTERNAL_ERROR
        assert caught.value.type_name == "INTERNAL_ERROR"
        assert client.testString("after") == "after"


def test_unknown_method_is_a_remote_error(thrift_server: Server) -> None:
    # ImageService's methods are unknown to the ThriftTest server.
    with mosaic_rpc.connect("image", thrift_server.address) as client:
        for _ in range(2):
            with pytest.raises(mosaic_rpc.RemoteError) as caught:
                client.ping()
            error = caught.value
            assert error.type == TApplicationException.UNKNOWN_METHOD
            assert error.type_name == "UNKNOWN_METHOD"
            assert "ping" in error.message
            assert error.method == "ping"
        # The server keeps the connection after UNKNOWN_METHOD, and so does the pool.
        assert client.pool_stats().opened == 1


def test_oneway_returns_without_waiting(
    thrift_test: SimpleNamespace, thrift_server: Server
) -> None:
    with mosaic_rpc.connect(thrift_test.ThriftTest, thrift_server.address) as client:
        started = time.monotonic()
        assert client.testOneway(1) is None
        assert client.testString("next") == "next"
        assert time.monotonic() - started < 0.9


def test_calls_after_close_raise_closed_error(
    thrift_test: SimpleNamespace, thrift_server: Server
) -> None:
    client = mosaic_rpc.connect(thrift_test.ThriftTest, thrift_server.address)
    with client:
        assert client.testString("open") == "open"
    assert client.closed
    assert client.pool_stats().open == 0
    with pytest.raises(mosaic_rpc.ClosedError):
        client.testString("closed")
    client.close()  # closing twice is fine


def test_bad_arguments_raise_at_once_and_discard_the_connection(
    thrift_test: SimpleNamespace, thrift_server: Server
) -> None:
    with mosaic_rpc.connect(thrift_test.ThriftTest, thrift_server.address) as client:
        with pytest.raises(Exception) as caught:
            client.testI32("not a number")
        assert not isinstance(caught.value, mosaic_rpc.MosaicError)
        # The half-written request went with its connection; the next call gets a clean one.
        assert client.testI32(5) == 5
        assert client.pool_stats().opened == 2


def test_unknown_attribute_names_the_methods(
    thrift_test: SimpleNamespace, thrift_server: Server
) -> None:
    with mosaic_rpc.connect(thrift_test.ThriftTest, thrift_server.address) as client:
        with pytest.raises(AttributeError, match="testString"):
            client.noSuchMethod  # noqa: B018
        assert "testString" in dir(client)


def test_service_arguments_are_checked() -> None:
    with pytest.raises(ValueError, match="unknown service 'nope'"):
        mosaic_rpc.connect("nope", "127.0.0.1:1")
    with pytest.raises(ValueError, match="protocol"):
        mosaic_rpc.connect("image", "127.0.0.1:1", protocol="json")  # type: ignore[call-overload]
    with pytest.raises(ValueError, match="host:port"):
        mosaic_rpc.connect("image", "localhost")
    with pytest.raises(TypeError, match="Client"):
        mosaic_rpc.connect(mosaic_rpc.image, "127.0.0.1:1")  # not a service module
