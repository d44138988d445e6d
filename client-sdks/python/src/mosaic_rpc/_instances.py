"""The instances a client balances across: each with its own pool, health and counters.

The list is fixed (a static list of addresses) or replaced as the registry reports changes
(`Cluster.update`): an instance that stays keeps its pool, health and counters (instances
are known by ``host:port``), one that vanishes has its pool closed. A client given tags
keeps only the instances that carry all of them (each key with exactly that value); the
others are left out of every list as if unlisted.

Picking an instance for a call: those with weight above 0, less those this call already
tried (unless that leaves none), less those ejected (unless that leaves none: then the one
that failed longest ago), narrowed to the client's zone when any there qualify; then the
balancer chooses.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass

from ._balance import Balancer
from ._connection import Connection
from ._errors import ClosedError, ConnectError
from ._health import Health, Verdict
from ._pool import ConnectionPool, PoolStats
from ._resolve import Endpoint, InstanceInfo

__all__ = ["Cluster", "InstanceStats", "Member"]


@dataclass(frozen=True)
class InstanceStats:
    """A snapshot of one instance, as this client sees it."""

    address: str
    weight: int
    zone: str | None
    tags: Mapping[str, str]
    #: The registry's id of it, None for a static address.
    id: int | None
    #: Attempts of calls sent its way (a retry elsewhere counts there).
    calls: int
    #: Of those, the ones that failed: no connection, timed out, connection lost,
    #: overloaded, a server error (`RemoteError`). Exceptions the IDL declares do not count.
    errors: int
    #: Calls in flight on it now.
    outstanding: int
    #: True while passive health keeps new calls away from it.
    ejected: bool
    #: How many times it was ejected.
    ejections: int
    pool: PoolStats


class Member:
    """One instance: its listing, pool, health and counters."""

    def __init__(self, info: InstanceInfo, pool: ConnectionPool) -> None:
        self.info = info
        self.name = str(info.endpoint)
        self.pool = pool
        self.health = Health()
        self.outstanding = 0
        self.calls = 0
        self.errors = 0

    @property
    def weight(self) -> int:
        return self.info.weight

    @property
    def endpoint(self) -> Endpoint:
        return self.info.endpoint


class Cluster:
    """A service's instances and how calls are spread over them. Thread-safe."""

    def __init__(
        self,
        opener: Callable[[Endpoint, float], Connection],
        pool_size: int,
        balancer: Balancer,
        zone: str | None,
        describe: Callable[[], str],
        *,
        tags: Mapping[str, str] | None = None,
        service: str = "the service",
    ) -> None:
        if pool_size < 1:
            raise ValueError("pool_size must be at least 1")
        self._opener = opener
        self._pool_size = pool_size
        self._balancer = balancer
        self._zone = zone
        self._describe = describe
        #: The tags an instance must carry to be in the list at all (sorted by key).
        self._tags = dict(sorted((tags or {}).items()))
        #: The service's name, for messages.
        self._service = service
        self._lock = threading.Lock()
        self._members: dict[str, Member] = {}
        #: How many instances (addresses) the last list had, before the tags left any out.
        self._listed = 0
        self._closed = False
        # Counters of pools that were closed when their instance left, so totals stay true.
        self._gone_opened = 0

    # ---- the list -----------------------------------------------------------------------

    def admits(self, info: InstanceInfo) -> bool:
        """Whether INFO carries every tag the client asks for (each key with that value)."""
        return all(info.tags.get(key) == value for key, value in self._tags.items())

    def update(self, infos: Sequence[InstanceInfo]) -> None:
        """Replaces the list (less the instances without the client's tags): new instances
        get a pool, vanished ones have theirs closed."""
        gone: list[Member] = []
        with self._lock:
            if self._closed:
                return
            self._listed = len({str(info.endpoint) for info in infos})
            fresh: dict[str, Member] = {}
            for info in filter(self.admits, infos):
                name = str(info.endpoint)
                member = self._members.get(name)
                if member is None:
                    member = Member(info, self._new_pool(info.endpoint))
                else:
                    member.info = info
                fresh[name] = member
            gone = [m for n, m in self._members.items() if n not in fresh]
            self._members = fresh
            for member in gone:
                self._gone_opened += member.pool.stats().opened
            self._balancer.rebuild(list(fresh.values()))
        for member in gone:
            member.pool.close()

    def _new_pool(self, endpoint: Endpoint) -> ConnectionPool:
        return ConnectionPool(lambda deadline: self._opener(endpoint, deadline), self._pool_size)

    def describe(self) -> str:
        with self._lock:
            names = list(self._members)
        return ", ".join(names) if names else "no instances"

    # ---- one call's attempts ------------------------------------------------------------

    def pick(self, key: bytes | None, tried: Collection[str]) -> Member:
        """The instance for the next attempt of a call that already tried TRIED (names);
        counts the attempt as outstanding until `finish`. Raises `ConnectError` if no
        instance takes calls, `ClosedError` once closed."""
        now = time.monotonic()
        with self._lock:
            if self._closed:
                raise ClosedError("the client is closed")
            members = [m for m in self._members.values() if m.weight > 0]
            if not members:
                raise self._none_takes_calls()
            untried = [m for m in members if m.name not in tried] or members
            healthy = [m for m in untried if m.health.available(now)]
            if healthy:
                local = [m for m in healthy if m.info.zone == self._zone] if self._zone else []
                chosen = self._balancer.pick(local or healthy, key)
                assert isinstance(chosen, Member)
                chosen.health.picked()
            else:
                # Every one is ejected: rather than fail, try the one that failed longest ago.
                chosen = min(untried, key=lambda m: m.health.last_failure or 0.0)
            chosen.outstanding += 1
            chosen.calls += 1
            return chosen

    def _none_takes_calls(self) -> ConnectError:
        """The error of a call that finds no instance to go to (under the lock)."""
        where = self._describe()
        kept = len(self._members)
        if not self._tags:
            why = "lists none" if not kept else f"lists {kept}, all at weight 0"
            return ConnectError(f"no instance takes calls: {where} {why}", where)
        tagged = ", ".join(f"{key}={value}" for key, value in self._tags.items())
        if not self._listed:
            why = "lists none"
        elif not kept:
            why = f"lists {self._listed}, none with these tags"
        else:
            why = f"lists {self._listed}, {kept} with these tags, all at weight 0"
        return ConnectError(
            f"no instance of {self._service} tagged {tagged} takes calls: {where} {why}", where
        )

    def has_untried(self, tried: Collection[str], *, ejected_too: bool = False) -> bool:
        """True if an instance that takes calls and is not ejected (or is, with
        EJECTED_TOO) is not in TRIED."""
        now = time.monotonic()
        with self._lock:
            return any(
                m.weight > 0 and m.name not in tried and (ejected_too or m.health.available(now))
                for m in self._members.values()
            )

    def finish(self, member: Member, *, error: bool, verdict: Verdict) -> None:
        """The attempt on MEMBER ended, failed if ERROR; VERDICT is what it says of the
        instance's health (see `Verdict`)."""
        with self._lock:
            member.outstanding -= 1
            if error:
                member.errors += 1
        member.health.record(verdict, time.monotonic())

    # ---- the whole ----------------------------------------------------------------------

    def close(self) -> None:
        with self._lock:
            self._closed = True
            members = list(self._members.values())
        for member in members:
            member.pool.close()

    @property
    def closed(self) -> bool:
        return self._closed

    def stats(self) -> tuple[InstanceStats, ...]:
        now = time.monotonic()
        with self._lock:
            members = list(self._members.values())
        return tuple(
            InstanceStats(
                address=m.name,
                weight=m.info.weight,
                zone=m.info.zone,
                tags=dict(m.info.tags),
                id=m.info.id,
                calls=m.calls,
                errors=m.errors,
                outstanding=m.outstanding,
                ejected=m.health.ejected(now),
                ejections=m.health.ejections,
                pool=m.pool.stats(),
            )
            for m in members
        )

    def pool_stats(self) -> PoolStats:
        """Every instance's pool summed (``max_size``: pool_size per instance listed)."""
        with self._lock:
            members = list(self._members.values())
            gone_opened = self._gone_opened
        stats = [m.pool.stats() for m in members]
        return PoolStats(
            open=sum(s.open for s in stats),
            idle=sum(s.idle for s in stats),
            peak_open=sum(s.peak_open for s in stats),
            opened=sum(s.opened for s in stats) + gone_opened,
            max_size=self._pool_size * max(1, len(stats)),
        )
