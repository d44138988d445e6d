"""Balancers: which of a service's instances takes the next call.

A balancer sees candidates (the instances a call may go to now: weight above 0, not ejected,
not already tried by this call) and picks one. Weights are honoured by all three:

* ``p2c``: power of two choices. Two candidates drawn at random in proportion to their
  weights; the one with fewer outstanding calls per unit of weight wins, the first drawn
  on a tie (so idle instances share calls by weight).
* ``round_robin``: smooth weighted round robin (equal weights: strict rotation).
* ``hash``: consistent hashing of the call's ``key`` on a ring of virtual nodes, 160 per 100 of
  weight (at most `MAX_VNODES`), so an instance that comes or goes moves only the keys of its
  own share. A call without a key is balanced by ``p2c``. The ring is the one Mosaic's Rust
  runtime and Java SDK build (FNV-1a and SplitMix64's finaliser over ``host:port``), so a
  key goes to the same instance from every language.
"""

from __future__ import annotations

import bisect
import random
import threading
from collections.abc import Sequence
from typing import Literal, Protocol, TypeAlias

__all__ = [
    "BALANCERS",
    "Balancer",
    "BalancerName",
    "Candidate",
    "HashRing",
    "PowerOfTwo",
    "RoundRobin",
    "make_balancer",
]

BalancerName: TypeAlias = Literal["p2c", "round_robin", "hash"]
BALANCERS: tuple[BalancerName, ...] = ("p2c", "round_robin", "hash")
#: Virtual nodes per 100 of weight on the hash ring, and the most one instance gets.
VNODES_PER_100 = 160
MAX_VNODES = 4000
_MASK = (1 << 64) - 1


class Candidate(Protocol):
    """What a balancer reads of an instance."""

    @property
    def name(self) -> str:
        """Stable across registry updates: ``host:port``."""
        ...

    @property
    def weight(self) -> int: ...

    @property
    def outstanding(self) -> int:
        """Calls this client has in flight on it."""
        ...


class Balancer(Protocol):
    def rebuild(self, members: Sequence[Candidate]) -> None:
        """Hears the full list of instances after it changed."""
        ...

    def pick(self, candidates: Sequence[Candidate], key: bytes | None) -> Candidate:
        """One of CANDIDATES (never empty; every weight above 0)."""
        ...


def _weighted_choice(candidates: Sequence[Candidate], rng: random.Random) -> int:
    total = sum(c.weight for c in candidates)
    point = rng.uniform(0, total)
    for index, candidate in enumerate(candidates):
        point -= candidate.weight
        if point < 0:
            return index
    return len(candidates) - 1


class PowerOfTwo:
    """Two weighted random candidates; the less loaded (outstanding / weight) wins."""

    def __init__(self, rng: random.Random | None = None) -> None:
        self._rng = rng or random.Random()

    def rebuild(self, members: Sequence[Candidate]) -> None:
        pass

    def pick(self, candidates: Sequence[Candidate], key: bytes | None) -> Candidate:
        if len(candidates) == 1:
            return candidates[0]
        first = _weighted_choice(candidates, self._rng)
        rest = [c for i, c in enumerate(candidates) if i != first]
        a, b = candidates[first], rest[_weighted_choice(rest, self._rng)]
        # Fewer outstanding calls per unit of weight wins (compared without division);
        # a tie (e.g. both idle) goes to the first draw, which was weighted.
        load_a = a.outstanding * b.weight
        load_b = b.outstanding * a.weight
        return b if load_b < load_a else a


class RoundRobin:
    """Smooth weighted round robin (nginx's): spreads each cycle's picks evenly."""

    def __init__(self) -> None:
        self._current: dict[str, int] = {}
        self._lock = threading.Lock()

    def rebuild(self, members: Sequence[Candidate]) -> None:
        with self._lock:
            names = {m.name for m in members}
            self._current = {n: w for n, w in self._current.items() if n in names}

    def pick(self, candidates: Sequence[Candidate], key: bytes | None) -> Candidate:
        with self._lock:
            total = 0
            best: Candidate | None = None
            best_value = 0
            for candidate in candidates:
                value = self._current.get(candidate.name, 0) + candidate.weight
                self._current[candidate.name] = value
                total += candidate.weight
                if best is None or value > best_value:
                    best, best_value = candidate, value
            assert best is not None
            self._current[best.name] -= total
            return best


def _mix(z: int) -> int:
    """SplitMix64's finaliser."""
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
    return z ^ (z >> 31)


def _point(data: bytes) -> int:
    """FNV-1a, then `_mix`: the hash Mosaic's Rust runtime and Java SDK use for ring keys."""
    h = 0xCBF29CE484222325
    for byte in data:
        h = ((h ^ byte) * 0x100000001B3) & _MASK
    return _mix(h)


def _vnodes(name: str, weight: int) -> list[int]:
    """The ring points of instance NAME (``host:port``) with WEIGHT."""
    count = min(max(-(-weight * VNODES_PER_100 // 100), 1), MAX_VNODES)
    base = _point(name.encode())
    return [_mix(base ^ _mix(vnode + 1)) for vnode in range(count)]


class HashRing:
    """Consistent hashing on ``key``; calls without one go to `PowerOfTwo`."""

    def __init__(self, rng: random.Random | None = None) -> None:
        self._fallback = PowerOfTwo(rng)
        self._points: list[int] = []
        self._owners: list[str] = []
        self._lock = threading.Lock()

    def rebuild(self, members: Sequence[Candidate]) -> None:
        ring: list[tuple[int, str]] = []
        for member in members:
            if member.weight > 0:
                ring.extend((point, member.name) for point in _vnodes(member.name, member.weight))
        ring.sort()
        with self._lock:
            self._points = [point for point, _ in ring]
            self._owners = [owner for _, owner in ring]

    def owner(self, key: bytes, among: Sequence[str] | None = None) -> str | None:
        """The instance KEY maps to: the first virtual node clockwise of its hash whose
        instance is in AMONG (any instance when None); None on an empty ring."""
        with self._lock:
            points, owners = self._points, self._owners
        if not points:
            return None
        allowed = None if among is None else set(among)
        start = bisect.bisect_left(points, _point(key))
        for step in range(len(points)):
            name = owners[(start + step) % len(points)]
            if allowed is None or name in allowed:
                return name
        return None

    def pick(self, candidates: Sequence[Candidate], key: bytes | None) -> Candidate:
        if key is None:
            return self._fallback.pick(candidates, None)
        by_name = {c.name: c for c in candidates}
        name = self.owner(key, list(by_name))
        # Not on the ring (it was listed since the last rebuild): balance as without a key.
        return by_name[name] if name is not None else self._fallback.pick(candidates, None)


def make_balancer(name: str) -> Balancer:
    """The balancer called NAME (one of `BALANCERS`)."""
    if name == "p2c":
        return PowerOfTwo()
    if name == "round_robin":
        return RoundRobin()
    if name == "hash":
        return HashRing()
    raise ValueError(f"balancer must be one of {', '.join(BALANCERS)}, not {name!r}")
