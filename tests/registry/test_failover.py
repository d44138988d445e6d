"""Discovery and balancing under load, with processes killed for real (SIGKILL).

A Python client calls a registry-listed image service from 8 threads while a server or the
registry dies. The tests print what they measured (pytest shows it with -rP).
"""

from __future__ import annotations

import time

import numpy
import pytest

import mosaic_rpc
from cluster import Load, Processes, listed_ports
from conftest import TTL_MS, Setup
from mosaic_rpc import images

#: What a dead instance may take beyond its TTL to leave lookups (the registry's expiry
#: sweep, the last heartbeat's timing, the polling here).
EXPIRY_MARGIN = 1.0
THREADS = 8
IMAGE = images.to_image(numpy.zeros((16, 16), numpy.uint8))


def _wait(condition: object, limit: float, what: str) -> float:
    started = time.monotonic()
    while not condition():  # type: ignore[operator]
        if time.monotonic() - started > limit:
            raise AssertionError(f"not within {limit:g} s: {what}")
        time.sleep(0.02)
    return time.monotonic() - started


@pytest.mark.parametrize("idempotent", [False, True], ids=["not-idempotent", "idempotent"])
def test_kill_9_of_a_server_under_load_loses_no_call_that_could_be_retried(
    setup: Setup, idempotent: bool
) -> None:
    registry, servers = setup.registry, setup.servers
    victim = servers[0]
    with mosaic_rpc.connect("image", registry=registry.address, timeout=10, retries=2) as client:
        # Not idempotent: only calls that certainly never ran are retried. Idempotent: the
        # calls lost on the killed server are retried too.
        load = Load(
            lambda: client.info(IMAGE, idempotent=idempotent),
            threads=THREADS,
            max_calls=200_000,
            max_seconds=40,
        )
        with load:
            _wait(lambda: load.snapshot().ok >= 200, 20, "200 calls before the kill")
            before = load.snapshot()
            victim.kill()
            killed_at = time.monotonic()
            ejected_after = _wait(
                lambda: victim.address in {s.address for s in client.instances() if s.ejected},
                1.0,
                "passive health ejects the killed server",
            )
            victim_stats = {s.address: s for s in client.instances()}[victim.address]
            left_lookup = _wait(
                lambda: victim.port not in listed_ports(registry),
                TTL_MS / 1000 + 5,
                "the killed server leaves lookup",
            )
            left_client = time.monotonic() - killed_at
            _wait(
                lambda: victim.address not in {s.address for s in client.instances()},
                2,
                "the killed server leaves the client's list",
            )
            time.sleep(1.0)  # more load on the survivors
        result = load.stop()
        stats = client.instances()

    print(f"load: {result.summary()}; {before.ok} ok before the kill")
    print(
        f"the killed server left lookup {left_lookup:.2f} s after SIGKILL "
        f"(TTL {TTL_MS / 1000:g} s) and the client's list {left_client:.2f} s after"
    )
    print(
        f"passive health ejected the killed server {ejected_after * 1000:.0f} ms after "
        f"SIGKILL; the client counted {victim_stats.errors} errors on it by then"
    )
    print(
        "client's errors per surviving instance (errors/calls): "
        + ", ".join(f"{s.address} {s.errors}/{s.calls}" for s in stats)
        + f"; failed calls seen by the load: {result.failed}"
    )
    if result.samples:
        print("failures:", *result.samples, sep="\n  ")
    assert result.unsent == 0, result.samples  # every refused or unsent call went elsewhere
    assert result.timeouts == 0 and result.other == 0, result.samples
    # Only calls already sent to the victim can be lost: at most one per thread, and none
    # when the caller lets them be retried.
    assert result.maybe_ran <= (0 if idempotent else THREADS)
    assert result.ok - before.ok >= 200  # the survivors carried on
    assert left_lookup <= TTL_MS / 1000 + EXPIRY_MARGIN
    assert victim_stats.errors >= 1 and victim_stats.ejections >= 1
    assert {s.address for s in stats} == {servers[1].address, servers[2].address}
    assert all(s.errors == 0 and not s.ejected for s in stats)


def _slow_share(
    registry_address: str, balancer: mosaic_rpc.BalancerName, slow_address: str
) -> float:
    with mosaic_rpc.connect(
        "image",
        registry=registry_address,
        balancer=balancer,
        timeout=10,
        retries=0,
    ) as client:
        result = Load(client.ping, threads=THREADS, max_calls=600, max_seconds=30).run()
        assert result.failed == 0, result.samples
        calls = {s.address: s.calls for s in client.instances()}
    assert sum(calls.values()) == 600
    return calls[slow_address] / 600


def test_a_slow_server_gets_less_traffic_under_p2c_than_round_robin(
    setup: Setup, processes: Processes
) -> None:
    slow = processes.image_server(setup.registry, ttl_ms=TTL_MS, delay_ms=20)
    rr = _slow_share(setup.registry.address, "round_robin", slow.address)
    p2c = _slow_share(setup.registry.address, "p2c", slow.address)
    print(f"share of the server with --delay-ms 20 among 4: round robin {rr:.1%}, p2c {p2c:.1%}")
    assert 0.2 <= rr <= 0.3  # a quarter: round robin does not look at load
    assert p2c < rr / 2


def test_a_killed_registry_leaves_clients_serving_from_their_list(setup: Setup) -> None:
    registry, servers = setup.registry, setup.servers
    with mosaic_rpc.connect("image", registry=registry.address, timeout=10, retries=2) as client:
        load = Load(lambda: client.info(IMAGE), threads=THREADS, max_calls=200_000, max_seconds=30)
        with load:
            _wait(lambda: load.snapshot().ok >= 100, 20, "100 calls before the kill")
            before = load.snapshot()
            registry.kill()
            time.sleep(2.0)  # the watch fails and retries; calls go on
            during = load.snapshot()
        result = load.stop()
        listed = {s.address for s in client.instances()}
    print(
        f"load: {result.summary()}; {during.ok - before.ok} ok in the 2 s after the "
        "registry's SIGKILL"
    )
    assert result.failed == 0, result.samples
    assert during.ok - before.ok >= 100
    assert listed == {s.address for s in servers}
