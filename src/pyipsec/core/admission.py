"""Admission control for new IKE exchanges: the half-open table (shared by IKEv1 and IKEv2).

Theory of operation
-------------------
A responder learns nothing about an initiator from its first message: the source address may
be spoofed (a flood "from" a configured peer's own address costs the attacker nothing). Until
the initiator sends a message that echoes our responder cookie/SPI it has not proved that it
receives our replies (return routability, the idea of RFC 2522 §2.5 and RFC 7296 §2.6). Such an
exchange is *unproven*; it lives here, not among the engine's IKE SAs, and it costs us as little
as we can make it:

- no Diffie-Hellman work (the engine defers its key pair to the message that carries it; IKEv1
  main mode: message 4, generated when message 3 arrives, as strongSwan does);
- no retransmission on our timer: a lost reply is answered when the initiator repeats its
  message (the stored reply is the cache);
- a bounded place: at most ``AdmissionLimits.half_open_max`` entries in total and a share per
  source address that depends on the source's *standing*.

Standing, highest first (``Standing``): PROVEN (an IKE SA with this address completed since we
started: the address has shown it answers), CONFIGURED (a peer entry names exactly this host),
UNKNOWN (the address only falls in a wildcard peer prefix, e.g. road warriors). A source may
hold ``per_source[standing]`` entries; when it is at its share, its newest message replaces its
own oldest entry, so a flood from one address only competes with itself. When the whole table
is full, the oldest entry of the lowest standing present (not above the newcomer's) makes room;
a newcomer of lower standing than everything in the table is refused.

Surviving a spoofed flood from the peer's own address: the attacker and the real peer share the
address, so they share its share. An entry lives about ``share / flood rate`` seconds before
the flood pushes it out (1,024 / 2,000 per second = 0.5 s), longer than the real peer needs to
answer (one round trip and its own key pair); once it answers (echoes our cookie), its
exchange leaves this table (``promote``) and the flood can no longer touch it. An entry costs
memory only (about 1.6 KB, no DH; 6.5 MB for a full table); an IKEv1 main-mode entry that is
pushed out leaves a much smaller tombstone behind (``ikev1/first_message.py``), which extends
that time cheaply.

Entries also expire ``timeout`` seconds after they were made. Sans-IO: time comes in as
``now``; the engine asks ``next_deadline()`` and calls ``expire(now)``.

Some first messages cannot be answered without a key pair (IKEv1 aggressive mode carries KE in
message 2; IKEv2 IKE_SA_INIT likewise). Bounding their number does not bound their cost, so
they also draw from a ``KeyPairBudget``: a token bucket per standing (``key_pairs_per_second``,
as much again in reserve), so that a flood of them costs a few per cent of a core and a flood
from unknown addresses cannot spend the budget of configured or proven ones.

A protocol with stateless cookies (IKEv2, RFC 7296 §2.6) need not drop a first message when its
standing's bucket is empty: it answers with a cookie instead, which costs a hash and no key
pair. A request that comes back with a valid cookie has shown that its source receives our
replies; it draws from a ``SourceBudget``, a much larger bucket per source address
(``proven_key_pairs_per_second``), so that one legitimate source may set up IKE SAs as fast as
the daemon can, while one source (even a real one) cannot take more than its own bucket and the
spoofed flood, which never sees the cookie, none of it.
"""

from __future__ import annotations

import enum
from collections import OrderedDict
from collections.abc import Container, Hashable, Iterator
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from pyipsec.dataplane.policy import AddressKey, IPAddress, IPNetwork, address_key

__all__ = [
    "AdmissionLimits",
    "Discarded",
    "HalfOpenTable",
    "KeyPairBudget",
    "SourceBudget",
    "Standing",
]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Standing(enum.IntEnum):
    """How much a source address is trusted before it has answered (higher is better)."""

    UNKNOWN = 0  # covered only by a wildcard peer prefix
    CONFIGURED = 1  # a peer entry names exactly this host
    PROVEN = 2  # completed an IKE SA with us since we started


def standing_of(
    address: IPAddress, peer_address: IPNetwork, contacted: Container[IPAddress]
) -> Standing:
    """The standing of ``address``, served by the peer entry for ``peer_address``, given the
    addresses that completed an IKE SA with us (``contacted``)."""
    if address in contacted:
        return Standing.PROVEN
    if peer_address.num_addresses == 1:
        return Standing.CONFIGURED
    return Standing.UNKNOWN


@dataclass(frozen=True, slots=True, kw_only=True)
class AdmissionLimits:
    """Bounds of the half-open table (see the module docstring for the policy)."""

    half_open_max: int = 4096
    per_source: tuple[int, int, int] = (32, 1024, 1024)  # by Standing
    timeout: float = 10.0  # seconds an unproven exchange waits for the initiator's answer
    key_pairs_per_second: float = 100.0  # per standing, for first messages that need one
    # per source address that proved it receives our replies (a valid IKEv2 cookie)
    proven_key_pairs_per_second: float = 1000.0
    proven_sources_max: int = 4096  # buckets kept, the least recently used go first

    def share(self, standing: Standing) -> int:
        return max(1, min(self.per_source[standing], self.half_open_max))


@dataclass(frozen=True, slots=True, kw_only=True)
class Discarded(Generic[V]):
    """An entry that left the table without being promoted, and why."""

    value: V
    source: IPAddress
    reason: str  # "replaced" (same source at its share), "evicted" (table full), "expired"


@dataclass(slots=True, eq=False)  # hashed by identity: the indexes below hold entries
class _Entry(Generic[K, V]):
    key: K
    source: IPAddress
    standing: Standing
    created: float
    value: V = field(repr=False)


class HalfOpenTable(Generic[K, V]):
    """Unproven exchanges by key (IKEv1: the initiator cookie; IKEv2: the initiator SPI)."""

    def __init__(self, limits: AdmissionLimits | None = None) -> None:
        self.limits = limits or AdmissionLimits()
        # limits.share by standing, computed once (asked twice per first message)
        self._shares = tuple(self.limits.share(s) for s in Standing)
        self._entries: OrderedDict[K, _Entry[K, V]] = OrderedDict()  # oldest first
        # The entries (oldest first) by source and by standing, keyed by the entry itself
        # (an identity hash, in C) and the source by ``address_key``: an IKEv2 key holds the
        # source address, whose hash runs Python; five hashes of it less per exchange.
        self._by_source: dict[AddressKey, OrderedDict[_Entry[K, V], None]] = {}
        self._by_standing: tuple[OrderedDict[_Entry[K, V], None], ...] = tuple(
            OrderedDict() for _ in Standing
        )

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def values(self) -> Iterator[V]:
        return (e.value for e in self._entries.values())

    def get(self, key: K) -> V | None:
        entry = self._entries.get(key)
        return None if entry is None else entry.value

    def count(self, source: IPAddress) -> int:
        entries = self._by_source.get(address_key(source))
        return 0 if entries is None else len(entries)

    def admits(self, source: IPAddress, standing: Standing) -> bool:
        """Whether a new exchange from ``source`` can get a place (asked before any work is
        done for it; ``add`` then makes the room)."""
        if self.count(source) >= self._shares[standing]:
            return True  # it replaces its own oldest entry
        if len(self._entries) < self.limits.half_open_max:
            return True
        return any(self._by_standing[s] for s in Standing if s <= standing)

    def has_room(self, source: IPAddress, standing: Standing) -> bool:
        """Whether a new exchange from ``source`` fits without pushing out another one (its
        source is below its share and the table is not full)."""
        return (
            self.count(source) < self._shares[standing]
            and len(self._entries) < self.limits.half_open_max
        )

    def add(
        self, key: K, source: IPAddress, standing: Standing, value: V, now: float
    ) -> list[Discarded[V]]:
        """Insert an unproven exchange (``admits`` said yes); returns the entries it pushed
        out. Raises ``ValueError`` if there is no room (``admits`` was not asked)."""
        if key in self._entries:
            raise ValueError("key already half-open")
        out: list[Discarded[V]] = []
        source_key = address_key(source)
        own = self._by_source.get(source_key)
        if own is not None and len(own) >= self._shares[standing]:
            oldest = next(iter(own))
            out.append(self._discard(oldest.key, "replaced"))
        elif len(self._entries) >= self.limits.half_open_max:
            victim = next(
                (next(iter(self._by_standing[s])) for s in Standing if self._by_standing[s]),
                None,
            )
            if victim is None or victim.standing > standing:
                raise ValueError("half-open table full")
            out.append(self._discard(victim.key, "evicted"))
        entry = self._entries[key] = _Entry(key, source, standing, now, value)
        self._by_source.setdefault(source_key, OrderedDict())[entry] = None
        self._by_standing[standing][entry] = None
        return out

    def promote(self, key: K) -> V | None:
        """The initiator proved it receives our replies: the exchange leaves the table."""
        entry = self._remove(key)
        return None if entry is None else entry.value

    def remove(self, key: K) -> V | None:
        """Forget an exchange (it failed)."""
        entry = self._remove(key)
        return None if entry is None else entry.value

    def next_deadline(self) -> float | None:
        """When the oldest entry expires (entries are kept in creation order)."""
        for entry in self._entries.values():
            return entry.created + self.limits.timeout
        return None

    def expire(self, now: float) -> list[Discarded[V]]:
        out: list[Discarded[V]] = []
        while self._entries:
            entry = next(iter(self._entries.values()))
            if now < entry.created + self.limits.timeout:
                break
            out.append(self._discard(entry.key, "expired"))
        return out

    def _discard(self, key: K, reason: str) -> Discarded[V]:
        entry = self._remove(key)
        assert entry is not None  # only called with keys of the table
        return Discarded(value=entry.value, source=entry.source, reason=reason)

    def _remove(self, key: K) -> _Entry[K, V] | None:
        entry = self._entries.pop(key, None)
        if entry is None:
            return None
        source_key = address_key(entry.source)
        entries = self._by_source[source_key]
        del entries[entry]
        if not entries:
            del self._by_source[source_key]
        del self._by_standing[entry.standing][entry]
        return entry


class KeyPairBudget:
    """Token buckets, one per standing, for first messages that need a key pair at once
    (module docstring). A bucket holds at most one second's worth of tokens."""

    def __init__(self, limits: AdmissionLimits | None = None) -> None:
        self.rate = (limits or AdmissionLimits()).key_pairs_per_second
        self._tokens = [self.rate for _ in Standing]
        self._at: list[float | None] = [None for _ in Standing]

    def take(self, standing: Standing, now: float) -> bool:
        """Spend one key pair for a source of ``standing``; False when the bucket is empty."""
        last = self._at[standing]
        if last is not None and now > last:
            self._tokens[standing] = min(
                self.rate, self._tokens[standing] + (now - last) * self.rate
            )
        self._at[standing] = now if last is None else max(now, last)
        if self._tokens[standing] < 1.0:
            return False
        self._tokens[standing] -= 1.0
        return True


class SourceBudget:
    """Token buckets per source address, for first messages whose source proved that it
    receives our replies (a valid cookie): ``proven_key_pairs_per_second`` each, at most one
    second's worth held. At most ``proven_sources_max`` buckets are kept; the least recently
    used one goes first (its source starts again with a full bucket: it had to prove its
    address for it, so a flood of spoofed sources never gets here)."""

    def __init__(self, limits: AdmissionLimits | None = None) -> None:
        limits = limits or AdmissionLimits()
        self.rate = limits.proven_key_pairs_per_second
        self.max_sources = max(1, limits.proven_sources_max)
        # [tokens, at] by ``address_key`` of the source (its hash in C, not in Python)
        self._buckets: OrderedDict[AddressKey, list[float]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._buckets)

    def take(self, source: IPAddress, now: float) -> bool:
        """Spend one key pair for ``source``; False when its bucket is empty."""
        key = address_key(source)
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = [self.rate, now]
            while len(self._buckets) > self.max_sources:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(key)
            if now > bucket[1]:
                bucket[0] = min(self.rate, bucket[0] + (now - bucket[1]) * self.rate)
                bucket[1] = now
        if bucket[0] < 1.0:
            return False
        bucket[0] -= 1.0
        return True
