"""A server at capacity did not start the call, so the client retries it (idempotent or
not) after the pause the server asks for, and past ``retries`` raises what the server sent."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

import mosaic_rpc
from mosaic_rpc.image import EncodedImage, Image, Overloaded

from conftest import StartServer

SERVER = Path(__file__).resolve().parent / "overloaded_server.py"
SRC = Path(__file__).resolve().parents[1] / "src"
IMAGE = Image(encoded=EncodedImage(data=b"unused"))


@pytest.fixture
def busy_server(start: StartServer, monkeypatch: pytest.MonkeyPatch) -> Callable[[], str]:
    """Starts a server that is at capacity for the first two calls of each method."""
    monkeypatch.setenv("PYTHONPATH", str(SRC))
    return lambda: start([sys.executable, str(SERVER), "--busy=2"]).address


@pytest.fixture
def busy_twice(busy_server: Callable[[], str]) -> str:
    return busy_server()


def test_declared_overloaded_is_retried_after_the_servers_pause(busy_twice: str) -> None:
    with mosaic_rpc.connect("image", busy_twice, retries=2) as client:
        started = time.monotonic()
        info = client.info(IMAGE)
        assert info.width == 3  # the third call went through
        assert time.monotonic() - started >= 0.2  # retry_after_ms=100, twice
        assert client.pool_stats().opened == 1  # the connection stayed good


def test_overloaded_past_the_retries_is_raised_as_sent(busy_twice: str) -> None:
    with mosaic_rpc.connect("image", busy_twice, retries=1) as client:
        with pytest.raises(Overloaded) as caught:
            client.info(IMAGE)
        assert caught.value.retry_after_ms == 100
        assert client.info(IMAGE).width == 3


def test_overloaded_application_exception_is_retried(busy_server: Callable[[], str]) -> None:
    with mosaic_rpc.connect("image", busy_server(), retries=2) as client:
        assert client.status().served == 3
    with mosaic_rpc.connect("image", busy_server(), retries=0) as client:
        with pytest.raises(mosaic_rpc.RemoteError) as caught:
            client.status()
        assert (caught.value.type, caught.value.type_name) == (100, "OVERLOADED")


def test_overloaded_is_not_retried_past_the_deadline(busy_twice: str) -> None:
    with mosaic_rpc.connect("image", busy_twice, retries=5) as client:
        with pytest.raises(Overloaded):
            client.info(IMAGE, timeout=0.15)  # one 100 ms pause fits, two do not
