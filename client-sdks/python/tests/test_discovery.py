"""Clients that find their servers through a real `mosaic registry`: the first lookup, the
watch that follows servers as they come and go, weights and zones from the registry,
registries tried in turn, a registry that dies, and closing the client."""

from __future__ import annotations

import gc
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

import mosaic_rpc

from balance_support import ServedCounter, addresses, calls_by_address, picked, wait_until
from conftest import StartImage, StartServer
from servers import HOST, Server, free_port


def _watchers() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("mosaic-watch-")]


def test_the_list_follows_servers_that_come_and_go(
    registry: Server, start_image: StartImage
) -> None:
    first = start_image(registry=registry)
    with mosaic_rpc.connect("image", registry=registry.address, timeout=10) as client:
        assert addresses(client) == {first.address}
        (listed,) = client.instances()
        assert listed.id is not None and listed.weight == 100
        client.ping()

        second = start_image(registry=registry)
        took = wait_until(
            lambda: addresses(client) == {first.address, second.address}, 5, "second listed"
        )
        print(f"a new server reached the client's list in {took * 1000:.0f} ms")
        counter = ServedCounter([first, second])
        for _ in range(60):
            client.ping()
        assert min(counter.delta()) >= 10  # the newcomer takes calls

        first.stop()  # SIGTERM: it deregisters
        took = wait_until(lambda: addresses(client) == {second.address}, 5, "first gone")
        print(f"a deregistered server left the client's list in {took * 1000:.0f} ms")
        for _ in range(20):
            client.ping()  # nothing goes to the server that left
        assert client.pool_stats().open == 1  # its pool was closed with it
        assert calls_by_address(client)[second.address] >= 20


def test_weights_from_the_registry_share_the_calls(
    registry: Server, start_image: StartImage
) -> None:
    light = start_image("--weight", "100", registry=registry)
    heavy = start_image("--weight", "300", registry=registry)
    drained = start_image("--weight", "0", registry=registry)
    with mosaic_rpc.connect("image", registry=registry.address, balancer="round_robin") as client:
        assert {s.address: s.weight for s in client.instances()} == {
            light.address: 100,
            heavy.address: 300,
            drained.address: 0,
        }
        for _ in range(400):
            client.ping()
        calls = calls_by_address(client)
        # Smooth weighted round robin is exact over whole cycles.
        assert calls == {light.address: 100, heavy.address: 300, drained.address: 0}
    with mosaic_rpc.connect("image", registry=registry.address) as client:  # p2c
        for _ in range(400):
            client.ping()
        calls = calls_by_address(client)
        assert calls[drained.address] == 0
        share = calls[heavy.address] / 400
        print(f"p2c: weight 300 of 400 took {share:.0%} of the calls")
        assert 0.6 < share < 0.9


def test_the_client_prefers_its_zone_while_it_is_healthy(
    registry: Server, start_image: StartImage
) -> None:
    near = start_image("--zone", "a", registry=registry)
    far = start_image("--zone", "b", registry=registry)
    with mosaic_rpc.connect("image", registry=registry.address, zone="a") as client:
        assert {s.address: s.zone for s in client.instances()} == {
            near.address: "a",
            far.address: "b",
        }
        for _ in range(30):
            client.ping()
        assert calls_by_address(client) == {near.address: 30, far.address: 0}
        near.kill()  # still listed until its lease runs out: passive health moves calls
        for _ in range(30):
            client.ping()
        assert calls_by_address(client)[far.address] == 30


def test_hash_keys_move_only_to_a_new_instance(registry: Server, start_image: StartImage) -> None:
    for _ in range(3):
        start_image(registry=registry)
    keys = [f"model-{n}" for n in range(60)]
    with mosaic_rpc.connect("image", registry=registry.address, balancer="hash") as client:
        before = {k: picked(client, lambda k=k: client.ping(key=k)) for k in keys}  # type: ignore[misc]
        newcomer = start_image(registry=registry)
        wait_until(lambda: newcomer.address in addresses(client), 5, "newcomer listed")
        after = {k: picked(client, lambda k=k: client.ping(key=k)) for k in keys}  # type: ignore[misc]
    moved = {k: after[k] for k in keys if after[k] != before[k]}
    print(f"{len(moved)} of {len(keys)} keys moved to the fourth instance")
    assert set(moved.values()) <= {newcomer.address}
    assert 0 < len(moved) < len(keys) / 2
    assert Counter(after.values())[newcomer.address] == len(moved)


def test_a_dead_registry_leaves_the_cached_list_working(
    registry: Server, start_image: StartImage, start: StartServer, mosaic_bin: Path
) -> None:
    servers = [start_image(registry=registry) for _ in range(2)]
    with mosaic_rpc.connect("image", registry=registry.address, timeout=10) as client:
        registry.kill()
        for _ in range(40):
            client.ping()  # no registry, same list, no errors
        time.sleep(0.5)  # the watch has failed and retried by now
        assert addresses(client) == {s.address for s in servers}
        for _ in range(40):
            client.ping()
        assert all(stats.errors == 0 for stats in client.instances())
        # A registry back on the same port: the watch finds it and follows it again.
        start([str(mosaic_bin), "registry", "--port", str(registry.port)])
        third = start_image(registry=registry)
        took = wait_until(lambda: third.address in addresses(client), 15, "watch resumed")
        print(f"the watch followed the restarted registry after {took:.1f} s")


def test_registries_are_tried_in_turn(registry: Server, start_image: StartImage) -> None:
    server = start_image(registry=registry)
    dead = f"{HOST}:{free_port()}"
    with mosaic_rpc.connect("image", registry=[dead, registry.address]) as client:
        assert addresses(client) == {server.address}
        client.ping()


def test_no_registry_answering_is_a_connect_error() -> None:
    dead = [f"{HOST}:{free_port()}", f"{HOST}:{free_port()}"]
    started = time.monotonic()
    with pytest.raises(mosaic_rpc.ConnectError, match="no registry answered the lookup of image"):
        mosaic_rpc.connect("image", registry=dead)
    assert time.monotonic() - started < 2
    assert _watchers() == []


def test_an_unknown_service_has_no_instances(registry: Server) -> None:
    with mosaic_rpc.connect("image", registry=registry.address, service_name="nobody") as client:
        assert client.instances() == ()
        with pytest.raises(mosaic_rpc.ConnectError, match="lists none"):
            client.ping(timeout=1)
    with pytest.raises(mosaic_rpc.common.InvalidArgument):
        mosaic_rpc.connect("image", registry=registry.address, service_name="no spaces")


def test_close_stops_the_watch_at_once(registry: Server, start_image: StartImage) -> None:
    start_image(registry=registry)
    client = mosaic_rpc.connect("image", registry=registry.address, watch_timeout=60)
    client.ping()
    time.sleep(0.2)  # the watch is parked in its 60 s long poll
    assert len(_watchers()) == 1
    started = time.monotonic()
    client.close()
    assert time.monotonic() - started < 1.0
    assert _watchers() == []
    with pytest.raises(mosaic_rpc.ClosedError):
        client.ping()


def test_the_watch_moves_to_the_next_registry_when_one_dies(
    registry: Server, start_image: StartImage, start: StartServer, mosaic_bin: Path
) -> None:
    other = start([str(mosaic_bin), "registry", "--port", "0"])
    on_first = start_image(registry=registry)
    on_other = start_image(registry=other)
    with mosaic_rpc.connect("image", registry=[registry.address, other.address]) as client:
        assert addresses(client) == {on_first.address}  # the first registry answered
        registry.kill()
        took = wait_until(
            lambda: addresses(client) == {on_other.address}, 10, "the second registry's list"
        )
        print(f"the watch moved to the second registry in {took:.2f} s")
        client.ping()


def test_a_dropped_client_stops_its_watch(registry: Server, start_image: StartImage) -> None:
    start_image(registry=registry)
    client = mosaic_rpc.connect("image", registry=registry.address)
    client.ping()
    assert len(_watchers()) == 1
    del client
    gc.collect()
    wait_until(lambda: _watchers() == [], 2, "the watch thread ends")
