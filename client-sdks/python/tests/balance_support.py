"""Helpers of the balancing and discovery tests: who served the calls, and waiting."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import mosaic_rpc

from servers import Server


def served(server: Server) -> int:
    """Calls SERVER finished before this question (its own status call not included)."""
    with mosaic_rpc.connect("image", server.address, retries=0, timeout=10) as client:
        return client.status().served or 0


class ServedCounter:
    """Calls each of SERVERS finished between `__init__` and `delta`, by the servers' own
    count (our status calls left out)."""

    def __init__(self, servers: Sequence[Server]) -> None:
        self.servers = list(servers)
        self.before = [served(server) for server in self.servers]

    def delta(self) -> list[int]:
        # The status call that read `before` finished after it: it counts in `after`.
        return [served(s) - b - 1 for s, b in zip(self.servers, self.before, strict=True)]


def calls_by_address(client: mosaic_rpc.ServiceClient) -> dict[str, int]:
    return {stats.address: stats.calls for stats in client.instances()}


def picked(client: mosaic_rpc.ServiceClient, call: Callable[[], object]) -> str:
    """Makes CALL (one attempt) and returns the address of the instance it went to."""
    before = calls_by_address(client)
    call()
    after = calls_by_address(client)
    moved = [address for address, calls in after.items() if calls != before.get(address, 0)]
    assert len(moved) == 1, (before, after)
    return moved[0]


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> float:
    """Polls CONDITION every 20 ms until it holds; returns the seconds it took. Fails the
    test with WHAT after TIMEOUT seconds."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"not within {timeout:g} s: {what}")
        time.sleep(0.02)
    return time.monotonic() - started


def addresses(client: mosaic_rpc.ServiceClient) -> set[str]:
    return {stats.address for stats in client.instances()}
