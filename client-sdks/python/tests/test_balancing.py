"""Balancing across a static list of real image servers: round robin order, p2c spread and
its preference for the less loaded, hash stickiness and the ring's minimal movement,
passive health (ejection, the trial call, re-admission), retries on another instance."""

from __future__ import annotations

import sys
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy
import pytest

import mosaic_rpc
from mosaic_rpc import images
from mosaic_rpc._balance import HashRing
from mosaic_rpc.image import EncodedImage, Flip, FlipAxis, Image, Op

from balance_support import ServedCounter, calls_by_address, picked
from conftest import StartImage, StartServer
from proxy import Proxy
from servers import HOST, Server, free_port

SRC = Path(__file__).resolve().parents[1] / "src"
OVERLOADED_SERVER = Path(__file__).resolve().parent / "overloaded_server.py"


def test_round_robin_rotates_through_the_instances_in_order(trio: Sequence[Server]) -> None:
    counter = ServedCounter(trio)
    with mosaic_rpc.connect(
        "image", [s.address for s in trio], balancer="round_robin", retries=0
    ) as client:
        order = [picked(client, client.ping) for _ in range(9)]
    assert len(set(order[:3])) == 3
    assert order == order[:3] * 3
    assert counter.delta() == [3, 3, 3]  # the servers saw it too


def test_p2c_spreads_calls_over_equal_instances(trio: Sequence[Server]) -> None:
    counter = ServedCounter(trio)
    with mosaic_rpc.connect("image", [s.address for s in trio], retries=0) as client:
        for _ in range(300):
            client.ping()
        by_client = sorted(calls_by_address(client).values())
    shares = counter.delta()
    assert sum(shares) == 300
    assert sorted(shares) == by_client
    assert min(shares) >= 60, shares  # a third is 100; 60 is far out in the tail


def _slow_share(client: mosaic_rpc.ImageClient, slow: Server) -> float:
    """Runs 8 threads x 30 pings and returns the share of calls the slow server got."""
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(30):
                client.ping(timeout=10)
        except BaseException as err:
            errors.append(err)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    calls = calls_by_address(client)
    return calls[slow.address] / sum(calls.values())


def test_p2c_sends_less_to_a_slow_instance_than_round_robin(start_image: StartImage) -> None:
    fast = start_image()
    slow = start_image("--delay-ms", "40")
    both = [fast.address, slow.address]
    with mosaic_rpc.connect("image", both, balancer="round_robin", retries=0) as client:
        rr_share = _slow_share(client, slow)
    with mosaic_rpc.connect("image", both, balancer="p2c", retries=0) as client:
        p2c_share = _slow_share(client, slow)
    print(f"slow server's share: round robin {rr_share:.0%}, p2c {p2c_share:.0%}")
    assert 0.45 <= rr_share <= 0.55  # round robin does not look at load
    assert p2c_share < 0.3
    assert p2c_share < rr_share - 0.2


def test_hash_sends_each_key_to_one_instance(trio: Sequence[Server]) -> None:
    counter = ServedCounter(trio)
    with mosaic_rpc.connect(
        "image", [s.address for s in trio], balancer="hash", retries=0
    ) as client:
        homes: dict[str, set[str]] = {}
        for _ in range(4):
            for n in range(30):
                model = f"model-{n}"
                where = picked(client, lambda m=model: client.ping(key=m))  # type: ignore[misc]
                homes.setdefault(model, set()).add(where)
        assert all(len(where) == 1 for where in homes.values()), homes
        used = Counter(next(iter(where)) for where in homes.values())
        assert len(used) == 3  # 30 keys land on every instance
        # Bytes keys hash like their text; calls without a key are still balanced.
        assert picked(client, lambda: client.ping(key=b"model-7")) in homes["model-7"]
        mirror = Op(flip=Flip(axis=FlipAxis.HORIZONTAL))
        pixels = numpy.arange(6, dtype=numpy.uint8).reshape(2, 3)
        where = picked(client, lambda: client.transform(pixels, mirror, key="model-7"))
        assert where in homes["model-7"]  # the image client's own methods take keys too
        keyless = {picked(client, client.ping) for _ in range(40)}
        assert len(keyless) >= 2
    assert sum(counter.delta()) == 4 * 30 + 2 + 40


@dataclass(frozen=True)
class _Listed:
    name: str
    weight: int = 100
    outstanding: int = 0


def _owners(ring: HashRing, keys: Sequence[bytes]) -> list[str | None]:
    return [ring.owner(key) for key in keys]


def test_the_hash_ring_moves_only_the_share_of_an_instance_that_comes_or_goes() -> None:
    keys = [f"key-{n}".encode() for n in range(4000)]
    three = [_Listed(f"10.0.0.{n}:9090") for n in range(3)]
    ring = HashRing()
    ring.rebuild(three)
    before = _owners(ring, keys)
    fourth = _Listed("10.0.0.9:9090")
    ring.rebuild([*three, fourth])
    after = _owners(ring, keys)
    moved = [(a, b) for a, b in zip(before, after, strict=True) if a != b]
    assert all(b == fourth.name for _, b in moved)  # only onto the newcomer
    assert 0.18 < len(moved) / len(keys) < 0.32  # about its quarter
    ring.rebuild(three)
    assert _owners(ring, keys) == before  # and back when it leaves
    # Weight is share: 300 against 100 + 100 takes about three fifths of the keys.
    ring.rebuild([_Listed("a:1", 300), _Listed("b:1"), _Listed("c:1")])
    share = Counter(_owners(ring, keys))["a:1"] / len(keys)
    assert 0.5 < share < 0.7, share


def test_a_refusing_instance_is_ejected_then_given_one_trial(trio: Sequence[Server]) -> None:
    live, dead = trio[0].address, f"{HOST}:{free_port()}"
    with mosaic_rpc.connect("image", [live, dead], retries=0) as client:
        for _ in range(40):
            client.ping()  # never fails: a refused connection moves on to the live one
        stats = {s.address: s for s in client.instances()}
        assert stats[dead].ejected and stats[dead].ejections == 1
        assert stats[dead].calls == stats[dead].errors == 1  # ejected at once, left alone
        assert not stats[live].ejected and stats[live].calls == 40
        time.sleep(1.1)  # the first backoff is 1 s
        for _ in range(40):
            client.ping()
        stats = {s.address: s for s in client.instances()}
        assert stats[dead].calls == 2  # exactly one trial, which failed
        assert stats[dead].ejections == 2 and stats[dead].ejected


def test_an_instance_that_comes_back_is_readmitted(
    start_image: StartImage, start: StartServer, mosaic_bin: Path
) -> None:
    steady = start_image()
    flaky = start_image()
    with mosaic_rpc.connect("image", [steady.address, flaky.address], retries=0) as client:
        flaky.stop()
        for _ in range(20):
            client.ping()
        assert {s.address: s.ejected for s in client.instances()}[flaky.address]
        start([str(mosaic_bin), "serve", "image", "--port", str(flaky.port)])
        time.sleep(1.1)
        for _ in range(60):
            client.ping()
        stats = {s.address: s for s in client.instances()}[flaky.address]
        assert not stats.ejected
        assert stats.errors == 1
        assert stats.calls >= 10  # back in the rotation, not only its trial


def test_when_every_instance_is_ejected_the_oldest_failure_is_tried(
    start_image: StartImage, start: StartServer, mosaic_bin: Path
) -> None:
    a, b = start_image(), start_image()
    with mosaic_rpc.connect("image", [a.address, b.address], retries=0) as client:
        a.stop()
        b.stop()
        with pytest.raises(mosaic_rpc.ConnectError):
            client.ping()
        assert all(s.ejected for s in client.instances())
        start([str(mosaic_bin), "serve", "image", "--port", str(a.port)])
        started = time.monotonic()
        # Both are still ejected (1 s), yet calls go out rather than failing outright.
        client.ping(timeout=5)
        client.call("ping", timeout=5, idempotent=True)
    assert time.monotonic() - started < 1.0


@pytest.fixture
def busy_server(start: StartServer, monkeypatch: pytest.MonkeyPatch) -> Server:
    """A server at capacity for its first 1000 calls of each method."""
    monkeypatch.setenv("PYTHONPATH", str(SRC))
    return start([sys.executable, str(OVERLOADED_SERVER), "--busy=1000"])


def test_overloaded_is_retried_on_another_instance_at_once(
    busy_server: Server, trio: Sequence[Server]
) -> None:
    raw = images.to_image(numpy.zeros((2, 3), numpy.uint8))
    addresses = [busy_server.address, trio[1].address]
    with mosaic_rpc.connect("image", addresses, balancer="round_robin", retries=1) as client:
        started = time.monotonic()
        info = client.info(raw)  # round robin starts with the busy one
        elapsed = time.monotonic() - started
        assert (info.width, info.height) == (3, 2)
        # It asks for 100 ms before a retry on itself; another instance need not wait.
        assert elapsed < 0.09
        stats = {s.address: s for s in client.instances()}
        assert (stats[busy_server.address].calls, stats[busy_server.address].errors) == (1, 1)
        assert not stats[busy_server.address].ejected  # busy is not unhealthy
        assert (stats[trio[1].address].calls, stats[trio[1].address].errors) == (1, 0)
    # Alone and without retries, the overload reaches the caller.
    with mosaic_rpc.connect("image", busy_server.address, retries=0) as client:
        with pytest.raises(mosaic_rpc.image.Overloaded):
            client.info(raw)


def test_declared_errors_are_not_instance_errors(trio: Sequence[Server]) -> None:
    with mosaic_rpc.connect("image", trio[2].address) as client:
        with pytest.raises(mosaic_rpc.image.InvalidImage):
            client.info(Image(encoded=EncodedImage(data=b"not an image")))
        (stats,) = client.instances()
        assert (stats.calls, stats.errors, stats.outstanding) == (1, 0, 0)
        assert stats.address == trio[2].address and stats.id is None and stats.weight == 100


def test_connect_takes_exactly_one_of_address_and_registry() -> None:
    with pytest.raises(ValueError, match="exactly one of address"):
        mosaic_rpc.connect("image")
    with pytest.raises(ValueError, match="exactly one of address"):
        mosaic_rpc.connect("image", "127.0.0.1:1", registry="127.0.0.1:2")
    with pytest.raises(ValueError, match="balancer must be one of p2c, round_robin, hash"):
        mosaic_rpc.connect("image", "127.0.0.1:1", balancer="random")  # type: ignore[call-overload]
    with mosaic_rpc.connect("image", "127.0.0.1:1") as client:
        with pytest.raises(TypeError, match="key must be str or bytes"):
            client.ping(key=7)  # type: ignore[arg-type]


def _by_address(client: mosaic_rpc.ServiceClient) -> dict[str, mosaic_rpc.InstanceStats]:
    return {stats.address: stats for stats in client.instances()}


def test_a_slow_call_does_not_eject_an_instance_that_is_alive(start_image: StartImage) -> None:
    slow = start_image("--delay-ms", "300")  # every call takes 0.3 s
    fast = start_image()
    with mosaic_rpc.connect(
        "image", [slow.address, fast.address], balancer="round_robin", retries=0
    ) as client:
        # Round robin: slow, fast, slow, fast, ... while neither is ejected. A call that
        # went elsewhere would not time out: the order itself is checked.
        for _ in range(2):
            for _ in range(2):  # two timeouts in a row: not enough to eject
                with pytest.raises(mosaic_rpc.Timeout, match="no reply within"):
                    client.ping(timeout=0.1)  # the slow one, past the deadline
                client.ping(timeout=10)  # the fast one
                assert not _by_address(client)[slow.address].ejected
            client.ping(timeout=10)  # the slow one answers in time: the count starts again
            client.ping(timeout=10)
        stats = _by_address(client)
        assert (stats[slow.address].calls, stats[slow.address].errors) == (6, 4)
        assert stats[slow.address].ejections == 0 and not stats[slow.address].ejected
        assert (stats[fast.address].calls, stats[fast.address].errors) == (6, 0)


def test_a_hung_instance_is_ejected_after_three_timeouts_in_a_row(trio: Sequence[Server]) -> None:
    hung = Proxy((HOST, trio[0].port), mode="swallow")  # reads requests, never answers
    try:
        live = trio[1].address
        with mosaic_rpc.connect(
            "image", [hung.address, live], balancer="round_robin", retries=0
        ) as client:
            for n in range(3):  # round robin: the hung one, then the live one
                assert not _by_address(client)[hung.address].ejected, f"after {n} timeouts"
                with pytest.raises(mosaic_rpc.Timeout, match="no reply within"):
                    client.ping(timeout=0.3)
                client.ping(timeout=5)
            assert hung.swallowed > 0  # the requests did arrive
            stats = _by_address(client)
            assert stats[hung.address].ejected and stats[hung.address].ejections == 1
            assert (stats[hung.address].calls, stats[hung.address].errors) == (3, 3)
            for _ in range(10):
                client.ping(timeout=5)  # all on the live one while the other is out
            assert calls_by_address(client) == {hung.address: 3, live: 13}

            # After the 1 s backoff one trial goes through; its timeout ejects it again at
            # once (a trial is not counted towards three), now for 2 s.
            time.sleep(1.1)
            timeouts = 0
            for _ in range(3):  # the trial comes within two calls; bounded anyway
                try:
                    client.ping(timeout=0.3)
                except mosaic_rpc.Timeout:
                    timeouts += 1
                    break
            assert timeouts == 1
            stats = _by_address(client)
            assert stats[hung.address].ejected and stats[hung.address].ejections == 2
            assert stats[hung.address].calls == 4
            for _ in range(5):
                client.ping(timeout=5)
            assert _by_address(client)[hung.address].calls == 4
    finally:
        hung.close()


def test_timeouts_sending_count_towards_ejection(thrift_server: Server) -> None:
    # Accepts, never reads: a request larger than the socket buffers cannot be sent.
    stalled = Proxy((HOST, thrift_server.port), mode="stall")
    big = images.to_image(numpy.zeros((4096, 8192), numpy.uint8))  # 32 MiB
    try:
        with mosaic_rpc.connect("image", stalled.address, retries=0) as client:
            for n in range(3):
                assert not client.instances()[0].ejected, f"after {n} timeouts"
                with pytest.raises(mosaic_rpc.Timeout, match="passed sending"):
                    client.info(big, timeout=0.3)
            (stats,) = client.instances()
            assert stats.ejected and stats.ejections == 1
            assert (stats.calls, stats.errors) == (3, 3)
    finally:
        stalled.close()
