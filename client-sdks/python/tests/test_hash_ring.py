"""The hash ring places keys exactly as Mosaic's Rust runtime and Java SDK do, so one key
reaches the same instance from every language."""

from __future__ import annotations

from dataclasses import dataclass

from mosaic_rpc._balance import HashRing, _mix, _point, _vnodes


@dataclass(frozen=True)
class Member:
    name: str
    weight: int
    outstanding: int = 0


def test_hashes_match_the_rust_runtime_and_java() -> None:
    # The same values are asserted in runtime/src/client/balance.rs and HashRingTest.java.
    assert _point(b"resnet50") == 0x72ECCF8123A05068
    assert _point(b"") == 0xF52A15E9A9B5E89B
    base = _point(b"127.0.0.1:9090")
    assert _mix(base ^ _mix(1)) == 0x172E0BE8F3227E33
    assert _mix(base ^ _mix(160)) == 0xA9CC262E11DDC080
    assert len(_vnodes("127.0.0.1:9090", 100)) == 160
    assert len(_vnodes("127.0.0.1:9090", 1)) == 2
    assert len(_vnodes("127.0.0.1:9090", 10_000)) == 4000


def test_weight_zero_holds_no_keys_and_weights_set_shares() -> None:
    ring = HashRing()
    members = [
        Member("10.0.0.1:9090", 300),
        Member("10.0.0.2:9090", 100),
        Member("10.0.0.3:9090", 0),
    ]
    ring.rebuild(members)
    owners = [ring.owner(f"key-{i}".encode()) for i in range(4000)]
    assert "10.0.0.3:9090" not in owners
    heavy = owners.count("10.0.0.1:9090") / len(owners)
    assert 0.68 < heavy < 0.82, heavy
