"""The Security Policy Database (RFC 4301 §4.4.1) with RouterOS 6.x (before 6.40) semantics.

Theory of operation
-------------------
A ``Policy`` is written in the outbound direction: ``src`` is the local side. It matches an
outbound packet whose source address lies in ``policy.src``, destination in ``policy.dst``,
upper-layer protocol equals ``policy.protocol`` (``None`` = all) and ports equal the policy's
ports (``None`` = any). The same policy covers the inbound traffic with the selectors mirrored:
an inbound packet matches when it comes *from* ``policy.dst`` (and ``policy.dst_port``) *to*
``policy.src`` (and ``policy.src_port``), as an XFRM in/out policy pair does.

Ports and port-less protocols (RFC 4301 §4.4.1.1, §4.4.1.3): a policy port of ``None`` is the
RFC's ANY, which "matches any value in the corresponding field of the packet, or [...] packets
where that field is not present or is obscured". A policy with a concrete port is a literal
value, and a literal never matches a packet that has no such field (ICMP, GRE, ESP, non-initial
fragments: ``Selector.src_port is None``), i.e. the packet's OPAQUE value only matches ANY. Port
0 is a literal like any other number; the configuration layer maps RouterOS ``any`` to ``None``.

Families: an IPv4 selector only ever matches IPv4 policies and an IPv6 selector only IPv6
policies, so ``0.0.0.0/0`` covers all of IPv4 and nothing of IPv6, and ``::/0`` the reverse.

Ordering (RouterOS v5 / v6 before 6.40, reference §1.2): higher ``priority`` is evaluated
first; among equal priorities the policy added earlier wins. The first matching policy in that
order is the result of a lookup. (List-position ordering arrived in 6.40 and is not modelled.)

Index: policies are bucketed by (IP version, src prefix length, dst prefix length). Inside a
bucket a dict maps the (src network, dst network) pair, as integers, to the bucket's policies
for that pair in evaluation order. A lookup probes each bucket of the selector's family with the
selector's addresses masked to the bucket's prefix lengths: one dict probe per bucket, however
many policies the bucket holds. Buckets are visited in the order of the best policy they
contain, so the probe stops as soon as no remaining bucket can beat the match found so far.
Realistic configurations have a handful of buckets, so a lookup costs a few dict probes whether
the SPD has ten policies or ten thousand (see bench/bench_spd.py and docs/benchmarks.md); the
worst case (every pair of prefix lengths in use) is 33 x 33 IPv4 or 129 x 129 IPv6 buckets,
still independent of the number of policies.

A cache in front of the index remembers up to ``CACHE_SIZE`` results, keyed by the selector's
outbound view as plain integers (cheap to hash; the IN and OUT views of one flow share an
entry). A full cache is emptied, and so is the cache on every change to the SPD.

Not here: the IKE exemption (the gateway's own IKE packets, UDP source port 500 and with NAT-T
4500, bypass the SPD, reference §1.1) belongs to the caller, which must not look them up.

Disabled policies never reach this module: the configuration layer leaves them out.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from pyipsec.dataplane.policy import GENERATIONS, Direction, IPAddress, Policy, Selector
from pyipsec.fastinit import fast_init

__all__ = ["Spd", "policy_matches"]

# Lookup results kept in the cache at most; a full cache is emptied.
CACHE_SIZE = 4096

# Rank of an entry in evaluation order: smaller is evaluated first.
# (-priority, insertion sequence number): higher priority first, then earlier addition. A
# policy inserted between two others (``Spd.insert``) gets a fractional number between theirs.
_Rank = tuple[int, float]
# (IP version, src prefix length, dst prefix length)
_BucketKey = tuple[int, int, int]
# Outbound view of a selector: (version, local, version, remote, protocol, lport, rport)
_CacheKey = tuple[int, int, int, int, int, int | None, int | None]

_WIDTH = {4: 32, 6: 128}
_MASKS = {
    version: [((1 << width) - 1) ^ ((1 << (width - plen)) - 1) for plen in range(width + 1)]
    for version, width in _WIDTH.items()
}


@fast_init  # keyword construction ~50 ns less per field (pyipsec.fastinit)
@dataclass(frozen=True, slots=True, kw_only=True)
class _Entry:
    """A policy with its evaluation rank, as stored in the index."""

    policy: Policy
    rank: _Rank
    bucket: _BucketKey
    pair: tuple[int, int]  # (src network, dst network) as integers


@dataclass(slots=True, kw_only=True)
class _Bucket:
    """All policies of one family with the same (src, dst) prefix lengths."""

    key: _BucketKey
    src_mask: int
    dst_mask: int
    table: dict[tuple[int, int], list[_Entry]] = field(default_factory=dict)
    size: int = 0
    best: _Rank = (0, 0)  # rank of the best entry; valid while size > 0


def _ports_match(policy_port: int | None, packet_port: int | None) -> bool:
    # RFC 4301 §4.4.1.1: ANY (None in the policy) matches a value and an absent field;
    # a literal port matches only the same value, never an absent (OPAQUE) field.
    return policy_port is None or policy_port == packet_port


def _matches_upper_layer(
    policy: Policy, protocol: int, sport: int | None, dport: int | None
) -> bool:
    return (
        (policy.protocol is None or policy.protocol == protocol)
        and _ports_match(policy.src_port, sport)
        and _ports_match(policy.dst_port, dport)
    )


def _mirror(selector: Selector) -> Selector:
    """The outbound view of an inbound packet: addresses and ports swapped."""
    return Selector(
        src=selector.dst,
        dst=selector.src,
        protocol=selector.protocol,
        src_port=selector.dst_port,
        dst_port=selector.src_port,
    )


def policy_matches(policy: Policy, direction: Direction, selector: Selector) -> bool:
    """Whether ``policy`` alone matches ``selector`` (no ordering). The reference semantics."""
    sel = _mirror(selector) if direction is Direction.IN else selector
    if not (policy.src.version == sel.src.version == sel.dst.version == policy.dst.version):
        return False
    return (
        sel.src in policy.src
        and sel.dst in policy.dst
        and _matches_upper_layer(policy, sel.protocol, sel.src_port, sel.dst_port)
    )


class Spd:
    """An ordered, indexed set of policies. See the module docstring for the semantics."""

    def __init__(self, policies: Iterable[Policy] = ()) -> None:
        self._entries: dict[int, _Entry] = {}
        self._buckets: dict[_BucketKey, _Bucket] = {}
        self._seq = 0
        # Per IP version: buckets sorted by their best rank; None when stale.
        self._order: dict[int, list[_Bucket]] | None = None
        self._sorted: list[Policy] | None = None
        self._cache: dict[_CacheKey, Policy | None] = {}
        # Changes with every change: a cached lookup result stays right while it is unchanged.
        # Drawn from one process-wide sequence, so no two SPD objects ever share a value.
        self.generation = next(GENERATIONS)
        for policy in policies:
            self.add(policy)

    # -- changes -------------------------------------------------------------------------------

    def add(self, policy: Policy) -> None:
        """Append ``policy``; it comes after every present policy of the same priority.

        Raises ``ValueError`` if a policy with the same id is present or if ``src`` and ``dst``
        are of different IP versions.
        """
        self._insert(policy, self._seq + 1)
        self._seq += 1

    def insert(self, policy: Policy, *, after: int | None, before: int | None) -> bool:
        """Add ``policy`` between two present policies in order of addition: after the one
        with id ``after`` (None: before everything) and before the one with id ``before``
        (None: after everything). The caller names neighbours that are adjacent in that
        order. One change, whatever the SPD's size (a configuration edit in the middle of a
        long policy list is not a rebuild).

        Returns False, changing nothing, when no order value is left between the two (many
        insertions at one place); the caller then rebuilds with ``replace_all``.
        """
        lo = self._entries[after].rank[1] if after is not None else None
        hi = self._entries[before].rank[1] if before is not None else None
        if hi is None:  # at the end: as add()
            self._insert(policy, self._seq + 1)
            self._seq += 1
            return True
        seq = hi - 1 if lo is None else (lo + hi) / 2
        if lo is not None and not lo < seq < hi:
            return False  # float halving reached its precision
        self._insert(policy, seq)
        return True

    def _insert(self, policy: Policy, seq: float) -> None:
        if policy.id in self._entries:
            raise ValueError(f"policy id {policy.id} already in the SPD")
        if policy.src.version != policy.dst.version:
            raise ValueError(f"policy id {policy.id}: src and dst of different IP versions")
        version = policy.src.version
        key = (version, policy.src.prefixlen, policy.dst.prefixlen)
        bucket = self._buckets.get(key)
        if bucket is None:
            masks = _MASKS[version]
            bucket = _Bucket(
                key=key,
                src_mask=masks[policy.src.prefixlen],
                dst_mask=masks[policy.dst.prefixlen],
            )
            self._buckets[key] = bucket
        entry = _Entry(
            policy=policy,
            rank=(-policy.priority, seq),
            bucket=key,
            pair=(int(policy.src.network_address), int(policy.dst.network_address)),
        )
        chain = bucket.table.setdefault(entry.pair, [])
        chain.append(entry)
        chain.sort(key=lambda e: e.rank)
        if bucket.size == 0 or entry.rank < bucket.best:
            bucket.best = entry.rank
        bucket.size += 1
        self._entries[policy.id] = entry
        self._changed()

    def remove(self, policy_id: int) -> None:
        """Remove the policy with id ``policy_id``; ``KeyError`` if there is none."""
        entry = self._entries.pop(policy_id)
        bucket = self._buckets[entry.bucket]
        chain = bucket.table[entry.pair]
        chain.remove(entry)
        if not chain:
            del bucket.table[entry.pair]
        bucket.size -= 1
        if bucket.size == 0:
            del self._buckets[entry.bucket]
        elif entry.rank == bucket.best:
            bucket.best = min(chain[0].rank for chain in bucket.table.values())
        self._changed()

    def replace_all(self, policies: Iterable[Policy]) -> None:
        """Replace the whole SPD by ``policies`` in the given order (an atomic swap).

        On error (duplicate id, mixed families) the SPD is left unchanged.
        """
        fresh = Spd(policies)
        self._entries = fresh._entries
        self._buckets = fresh._buckets
        self._seq = fresh._seq
        self._changed()

    def _changed(self) -> None:
        self.generation = next(GENERATIONS)
        self._order = None
        self._sorted = None
        self._cache.clear()

    # -- queries -------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, policy_id: object) -> bool:
        return policy_id in self._entries

    def __iter__(self) -> Iterator[Policy]:
        """The policies in evaluation order (priority descending, then order of addition)."""
        if self._sorted is None:
            entries = sorted(self._entries.values(), key=lambda e: e.rank)
            self._sorted = [e.policy for e in entries]
        return iter(self._sorted)

    def first_added(self, policy_ids: Iterable[int]) -> int | None:
        """Of the present policies with these ids, the one added first (None if none is)."""
        present = [self._entries[i] for i in policy_ids if i in self._entries]
        return min(present, key=lambda e: e.rank[1]).policy.id if present else None

    def get(self, policy_id: int) -> Policy | None:
        """The policy with id ``policy_id``, or None."""
        entry = self._entries.get(policy_id)
        return None if entry is None else entry.policy

    def lookup(self, direction: Direction, selector: Selector) -> Policy | None:
        """The first policy in evaluation order that matches ``selector`` in ``direction``.

        For ``Direction.IN`` the selector is the inbound packet's own view (its src is the
        remote side); it is mirrored before matching against the outbound-written policies.
        """
        if direction is Direction.IN:
            local: IPAddress = selector.dst
            remote: IPAddress = selector.src
            key = (
                local.version,
                int(local),
                remote.version,
                int(remote),
                selector.protocol,
                selector.dst_port,
                selector.src_port,
            )
        else:
            local, remote = selector.src, selector.dst
            key = (
                local.version,
                int(local),
                remote.version,
                int(remote),
                selector.protocol,
                selector.src_port,
                selector.dst_port,
            )
        # The key is the outbound view as plain ints: hashing it costs a fraction of hashing
        # ip_address objects, and IN/OUT views of the same flow share one entry.
        cache = self._cache
        try:
            return cache[key]
        except KeyError:
            pass
        result = self._lookup_key(key)
        if len(cache) >= CACHE_SIZE:
            # Emptied when full: O(1) amortised, unlike evicting the oldest entry one by one
            # (next(iter(dict)) skips the deleted slots at the front: measured 4x slower).
            cache.clear()
        cache[key] = result
        return result

    def _lookup_uncached(self, direction: Direction, selector: Selector) -> Policy | None:
        """``lookup`` without the cache (benchmarks and tests)."""
        sel = _mirror(selector) if direction is Direction.IN else selector
        return self._lookup_key(
            (
                sel.src.version,
                int(sel.src),
                sel.dst.version,
                int(sel.dst),
                sel.protocol,
                sel.src_port,
                sel.dst_port,
            )
        )

    def _lookup_key(self, key: _CacheKey) -> Policy | None:
        version, src, remote_version, dst, protocol, sport, dport = key
        if remote_version != version:
            return None
        if self._order is None:
            self._order = self._bucket_order()
        best: _Entry | None = None
        for bucket in self._order.get(version, ()):
            if best is not None and bucket.best > best.rank:
                break  # buckets are sorted by best rank: nothing further can win
            chain = bucket.table.get((src & bucket.src_mask, dst & bucket.dst_mask))
            if chain is None:
                continue
            for entry in chain:
                if best is not None and entry.rank > best.rank:
                    break
                if _matches_upper_layer(entry.policy, protocol, sport, dport):
                    best = entry
                    break
        return None if best is None else best.policy

    def _bucket_order(self) -> dict[int, list[_Bucket]]:
        order: dict[int, list[_Bucket]] = {4: [], 6: []}
        for bucket in self._buckets.values():
            order[bucket.key[0]].append(bucket)
        for buckets in order.values():
            buckets.sort(key=lambda b: b.best)
        return order
