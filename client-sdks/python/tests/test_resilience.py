"""The pool, deadlines and retries against real processes and sockets: many threads, a
hung server, a server that restarts, a server that dies mid-call, a closed port."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

import mosaic_rpc

from conftest import StartServer
from proxy import Proxy
from servers import HOST, Server, free_port

THREADS = 16
CALLS_PER_THREAD = 200


def _established_to(port: int) -> int | None:
    """Client-side TCP connections of this machine to 127.0.0.1:PORT, from /proc/net/tcp."""
    try:
        lines = Path("/proc/net/tcp").read_text().splitlines()[1:]
    except OSError:
        return None
    count = 0
    for line in lines:
        fields = line.split()
        remote, state = fields[2], fields[3]
        if state == "01" and int(remote.split(":")[1], 16) == port:
            count += 1
    return count


@pytest.mark.timeout(120)
def test_many_threads_share_a_bounded_pool(
    thrift_test: SimpleNamespace, thrift_test_server_bin: Path, start: StartServer
) -> None:
    server = start([str(thrift_test_server_bin), "--port=0"])  # its own: sockets are counted
    pool_size = 4
    errors: list[BaseException] = []
    seen_sockets: list[int] = []
    done = threading.Event()

    def sample_sockets() -> None:
        while not done.wait(0.005):
            count = _established_to(server.port)
            if count is not None:
                seen_sockets.append(count)

    with mosaic_rpc.connect(
        thrift_test.ThriftTest, server.address, pool_size=pool_size, timeout=30
    ) as client:

        def work(thread: int) -> None:
            try:
                for i in range(CALLS_PER_THREAD):
                    text = f"{thread}-{i}"
                    assert client.testString(text) == text
                    assert client.testI64(thread * 1_000_000 + i) == thread * 1_000_000 + i
            except BaseException as err:
                errors.append(err)

        sampler = threading.Thread(target=sample_sockets)
        sampler.start()
        threads = [threading.Thread(target=work, args=(n,)) for n in range(THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(100)
        done.set()
        sampler.join(10)
        assert not any(thread.is_alive() for thread in threads)
        assert errors == []
        stats = client.pool_stats()
        assert stats.peak_open == pool_size  # 16 threads kept every connection busy
        assert stats.opened == pool_size  # and none was ever thrown away
        assert stats.open == stats.idle == pool_size
    if seen_sockets:  # Linux: what the kernel saw, not what the pool says
        assert max(seen_sockets) <= pool_size
        assert max(seen_sockets) > 0


def test_waiting_for_a_free_connection_times_out(thrift_server_proxy: Proxy) -> None:
    thrift_server_proxy.mode = "stall"
    with mosaic_rpc.connect("image", thrift_server_proxy.address, pool_size=1) as client:
        blocker = threading.Thread(target=_swallow, args=(client.ping, 1.0))
        blocker.start()
        time.sleep(0.2)  # the blocker holds the only connection
        started = time.monotonic()
        with pytest.raises(mosaic_rpc.Timeout, match="free connection"):
            client.ping(timeout=0.3)
        assert 0.25 < time.monotonic() - started < 0.9
        blocker.join(5)


def _swallow(call: Callable[..., object], timeout: float) -> None:
    try:
        call(timeout=timeout)
    except mosaic_rpc.Timeout:
        pass


@pytest.fixture
def thrift_server_proxy(thrift_server: Server) -> Iterator[Proxy]:
    """A `Proxy` in front of the session's thrift-test-server."""
    proxy = Proxy((HOST, thrift_server.port))
    yield proxy
    proxy.close()


def test_hung_server_times_out_and_the_pool_recovers(
    thrift_test: SimpleNamespace, thrift_server_proxy: Proxy
) -> None:
    proxy = thrift_server_proxy
    proxy.mode = "stall"  # accepts, never reads, never answers
    with mosaic_rpc.connect(thrift_test.ThriftTest, proxy.address, pool_size=2) as client:
        for _ in range(3):
            started = time.monotonic()
            with pytest.raises(mosaic_rpc.Timeout, match=r"no reply within 0\.3 s"):
                client.testString("hello?", timeout=0.3)
            assert time.monotonic() - started < 1.5
        # Each timed-out connection was closed, not pooled.
        assert client.pool_stats().open == 0
        assert client.pool_stats().opened == 3
        deadline = time.monotonic() + 5
        while proxy.held_open() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert proxy.held_open() == 0
        # Same client, server answering again: calls work.
        proxy.mode = "relay"
        assert client.testString("back") == "back"
        assert client.testString("again") == "again"
        assert client.pool_stats().open == 1


def test_restarted_server_is_invisible_to_callers(
    thrift_test: SimpleNamespace, thrift_test_server_bin: Path, start: StartServer
) -> None:
    server = start([str(thrift_test_server_bin), "--port=0"])
    with mosaic_rpc.connect(thrift_test.ThriftTest, server.address, pool_size=4) as client:
        _fill_pool(client, 4)
        assert client.pool_stats().idle >= 2
        opened = client.pool_stats().opened
        server.stop()
        start([str(thrift_test_server_bin), f"--port={server.port}"])
        # Every pooled connection is dead; callers must not notice.
        for i in range(20):
            assert client.testString(f"after restart {i}") == f"after restart {i}"
        assert client.pool_stats().opened > opened


def test_calls_ride_out_a_restart_with_retries(
    thrift_test: SimpleNamespace, thrift_test_server_bin: Path, start: StartServer
) -> None:
    server = start([str(thrift_test_server_bin), "--port=0"])
    with mosaic_rpc.connect(
        thrift_test.ThriftTest, server.address, retries=8, timeout=20
    ) as client:
        assert client.testString("before") == "before"
        server.stop()
        result: list[object] = []
        caller = threading.Thread(target=lambda: result.append(client.testString("during")))
        caller.start()  # connections are refused until the new server is up
        time.sleep(0.3)
        start([str(thrift_test_server_bin), f"--port={server.port}"])
        caller.join(20)
        assert result == ["during"]


def _fill_pool(client: mosaic_rpc.Client, count: int) -> None:
    """Opens up to COUNT connections by making COUNT concurrent calls."""
    barrier = threading.Barrier(count)
    threads = [
        threading.Thread(target=lambda: (barrier.wait(5), client.testString("fill")))
        for _ in range(count)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)


def test_closed_port_is_a_connect_error_after_retries(thrift_test: SimpleNamespace) -> None:
    port = free_port()
    client = mosaic_rpc.connect(thrift_test.ThriftTest, f"{HOST}:{port}", retries=2)
    with client, pytest.raises(mosaic_rpc.ConnectError) as caught:
        client.testVoid()
    error = caught.value
    assert f"{HOST}:{port}" in str(error)
    assert "after 3 attempts" in str(error)
    assert error.address == f"{HOST}:{port}"
    assert not error.may_have_run
    assert isinstance(error.__cause__, ConnectionRefusedError) or error.__cause__ is None

    client = mosaic_rpc.connect(thrift_test.ThriftTest, (HOST, port), retries=0)
    with (
        client,
        pytest.raises(mosaic_rpc.ConnectError, match=f"could not connect to {HOST}:{port}"),
    ):
        client.testVoid()


def test_second_address_is_used_when_the_first_refuses(
    thrift_test: SimpleNamespace, thrift_server: Server
) -> None:
    dead = f"{HOST}:{free_port()}"
    live = thrift_server.address
    with mosaic_rpc.connect(thrift_test.ThriftTest, [dead, live], retries=0) as client:
        assert client.testString("second") == "second"


def test_lost_reply_is_retried_only_when_idempotent(
    thrift_test: SimpleNamespace, thrift_server_proxy: Proxy
) -> None:
    proxy = thrift_server_proxy
    proxy.mode = "drop"  # reads the request's first bytes, then hangs up
    with mosaic_rpc.connect(thrift_test.ThriftTest, proxy.address, retries=2) as client:
        with pytest.raises(mosaic_rpc.TransportError, match="may have run") as caught:
            client.testString("once")
        assert not isinstance(caught.value, mosaic_rpc.ConnectError)
        assert caught.value.may_have_run
        assert proxy.accepted == 1  # not retried: the server might have run it

        with pytest.raises(mosaic_rpc.TransportError, match="after 3 attempts"):
            client.testString("thrice", idempotent=True)
        assert proxy.accepted == 4

        proxy.mode = "relay"
        assert client.testString("now", idempotent=True) == "now"


def test_timeouts_are_not_retried(thrift_server_proxy: Proxy) -> None:
    proxy = thrift_server_proxy
    proxy.mode = "stall"
    with mosaic_rpc.connect("image", proxy.address, retries=5) as client:
        started = time.monotonic()
        with pytest.raises(mosaic_rpc.Timeout):
            client.ping(timeout=0.2, idempotent=True)
        assert time.monotonic() - started < 1.0
        assert proxy.accepted == 1


def test_connect_timeout_to_an_unroutable_backlog() -> None:
    # A listener that never accepts, with a full backlog: connecting hangs in the kernel.
    listener = socket.socket()
    listener.bind((HOST, 0))
    listener.listen(0)
    fillers = []
    try:
        for _ in range(8):  # fill the accept queue so further SYNs are dropped
            filler = socket.socket()
            filler.setblocking(False)
            filler.connect_ex(listener.getsockname())
            fillers.append(filler)
        address = f"{HOST}:{listener.getsockname()[1]}"
        with mosaic_rpc.connect("image", address, connect_timeout=0.2, retries=1) as client:
            started = time.monotonic()
            with pytest.raises((mosaic_rpc.ConnectError, mosaic_rpc.Timeout)):
                client.ping(timeout=3)
            assert time.monotonic() - started < 2.5
    finally:
        for filler in fillers:
            filler.close()
        listener.close()
