"""The half-open table (core/admission.py): shares per source, eviction by standing, expiry."""

from __future__ import annotations

import ipaddress

import pytest

from pyipsec.core.admission import (
    AdmissionLimits,
    HalfOpenTable,
    KeyPairBudget,
    SourceBudget,
    Standing,
)

PEER = ipaddress.ip_address("198.51.100.7")
OTHER = [ipaddress.ip_address(f"203.0.113.{i}") for i in range(1, 60)]
LIMITS = AdmissionLimits(half_open_max=8, per_source=(2, 6, 6), timeout=30.0)


def test_a_source_at_its_share_replaces_its_own_oldest_entry() -> None:
    t: HalfOpenTable[int, str] = HalfOpenTable(LIMITS)
    for i in range(6):
        assert t.admits(PEER, Standing.CONFIGURED)
        assert t.add(i, PEER, Standing.CONFIGURED, f"v{i}", float(i)) == []
    assert t.admits(PEER, Standing.CONFIGURED)
    (gone,) = t.add(6, PEER, Standing.CONFIGURED, "v6", 6.0)
    assert (gone.value, gone.reason, gone.source) == ("v0", "replaced", PEER)
    assert len(t) == 6 and t.count(PEER) == 6 and 0 not in t and t.get(6) == "v6"


def test_unknown_sources_get_a_small_share_and_give_way_to_configured_ones() -> None:
    t: HalfOpenTable[int, str] = HalfOpenTable(LIMITS)
    for i in range(3):  # the third from the same unknown address replaces the first
        t.add(i, OTHER[0], Standing.UNKNOWN, f"u{i}", float(i))
    assert t.count(OTHER[0]) == 2 and len(t) == 2
    for n, src in enumerate(OTHER[1:4]):
        t.add(10 + n, src, Standing.UNKNOWN, f"w{n}", 10.0 + n)
    t.add(20, PEER, Standing.CONFIGURED, "p0", 20.0)
    t.add(21, PEER, Standing.CONFIGURED, "p1", 21.0)
    assert len(t) == 7
    t.add(22, PEER, Standing.CONFIGURED, "p2", 22.0)
    assert len(t) == 8
    # Full: the peer's next one evicts the oldest unknown entry, never its own.
    (gone,) = t.add(23, PEER, Standing.CONFIGURED, "p3", 23.0)
    assert (gone.value, gone.reason) == ("u1", "evicted")
    for i in range(24, 40):
        t.add(i, PEER, Standing.CONFIGURED, f"p{i}", float(i))
    assert t.count(PEER) == 6 and len(t) == 8  # its share, then it replaces its own
    assert [t.count(s) for s in OTHER[:4]] == [0, 0, 1, 1]
    assert t.admits(OTHER[9], Standing.UNKNOWN)  # an unknown entry is left to push out


def test_a_full_table_of_better_standing_refuses_a_newcomer() -> None:
    t: HalfOpenTable[int, str] = HalfOpenTable(AdmissionLimits(half_open_max=4))
    for i, src in enumerate(OTHER[:4]):
        t.add(i, src, Standing.PROVEN, "x", 0.0)
    assert not t.admits(PEER, Standing.CONFIGURED)
    with pytest.raises(ValueError):
        t.add(9, PEER, Standing.CONFIGURED, "y", 1.0)
    assert t.admits(PEER, Standing.PROVEN)
    (gone,) = t.add(9, PEER, Standing.PROVEN, "y", 1.0)
    assert gone.reason == "evicted" and t.count(OTHER[0]) == 0


def test_promote_remove_and_expiry_in_creation_order() -> None:
    t: HalfOpenTable[int, str] = HalfOpenTable(LIMITS)
    assert t.next_deadline() is None and t.expire(1e9) == []
    t.add(1, PEER, Standing.CONFIGURED, "a", 100.0)
    t.add(2, OTHER[0], Standing.UNKNOWN, "b", 105.0)
    t.add(3, OTHER[1], Standing.UNKNOWN, "c", 110.0)
    assert t.next_deadline() == 130.0
    assert t.promote(1) == "a" and t.promote(1) is None and t.count(PEER) == 0
    assert t.next_deadline() == 135.0
    assert t.remove(3) == "c"
    assert t.expire(134.9) == []
    (gone,) = t.expire(135.0)
    assert (gone.value, gone.reason) == ("b", "expired")
    assert len(t) == 0 and t.next_deadline() is None
    t.add(4, PEER, Standing.PROVEN, "d", 200.0)
    with pytest.raises(ValueError):
        t.add(4, PEER, Standing.PROVEN, "d", 200.0)


def test_churn_stays_bounded() -> None:
    """A long flood from many addresses never grows the table past its bound, and every
    source keeps to its share."""
    t: HalfOpenTable[int, int] = HalfOpenTable(AdmissionLimits(half_open_max=64))
    gone = 0
    for i in range(20_000):
        src = OTHER[i % 50]
        if t.admits(src, Standing.UNKNOWN):
            gone += len(t.add(i, src, Standing.UNKNOWN, i, i / 2000))
        gone += len(t.expire(i / 2000))
        assert len(t) <= 64
    assert gone + len(t) == 20_000
    assert max(t.count(s) for s in OTHER[:50]) <= 32


def test_key_pair_budget_is_per_standing_and_refills() -> None:
    budget = KeyPairBudget(AdmissionLimits(key_pairs_per_second=10))
    assert sum(budget.take(Standing.UNKNOWN, 0.0) for _ in range(50)) == 10
    assert budget.take(Standing.CONFIGURED, 0.0)  # another standing has its own bucket
    assert not budget.take(Standing.UNKNOWN, 0.05)  # half a token so far
    assert budget.take(Standing.UNKNOWN, 0.1)
    assert sum(budget.take(Standing.UNKNOWN, 100.0) for _ in range(50)) == 10  # one second's


def test_source_budget_is_per_address_refills_and_stays_bounded() -> None:
    limits = AdmissionLimits(proven_key_pairs_per_second=20, proven_sources_max=3)
    budget = SourceBudget(limits)
    a, b = OTHER[0], OTHER[1]
    assert sum(budget.take(a, 0.0) for _ in range(50)) == 20
    assert budget.take(b, 0.0)  # another address has its own bucket
    assert not budget.take(a, 0.025)  # half a token so far
    assert budget.take(a, 0.05)
    assert sum(budget.take(a, 100.0) for _ in range(50)) == 20  # one second's worth at most
    for n in range(3, 10):
        budget.take(OTHER[n], 100.0)
    assert len(budget) == 3  # the least recently used buckets went


# The tables key sources by ``address_key``: an IPv4 source and the IPv6 address of the same
# integer (``::198.51.100.7``), or its v4-mapped form, are different sources, as they are for
# ``ipaddress`` (``==``); an equal address parsed afresh is the same source.
PEER_COMPAT = ipaddress.ip_address("::198.51.100.7")
PEER_MAPPED = ipaddress.ip_address("::ffff:198.51.100.7")


def test_half_open_shares_are_per_address_not_per_integer() -> None:
    t: HalfOpenTable[tuple[object, int], str] = HalfOpenTable(LIMITS)
    for i, source in enumerate((PEER, PEER, PEER_COMPAT, PEER_MAPPED)):
        assert t.add((source, i), source, Standing.UNKNOWN, f"v{i}", float(i)) == []
    assert (t.count(PEER), t.count(PEER_COMPAT), t.count(PEER_MAPPED)) == (2, 1, 1)
    assert t.count(ipaddress.ip_address("198.51.100.7")) == 2
    # PEER at its share (2): its newest replaces its own oldest, not the IPv6 twins'
    (gone,) = t.add((PEER, 4), ipaddress.ip_address("198.51.100.7"), Standing.UNKNOWN, "v4", 4.0)
    assert (gone.value, gone.reason) == ("v0", "replaced")
    assert t.remove((PEER_COMPAT, 2)) == "v2" and t.count(PEER_COMPAT) == 0
    assert t.count(PEER) == 2 and t.count(PEER_MAPPED) == 1
    assert [d.value for d in t.expire(100.0)] == ["v1", "v3", "v4"]
    assert t.count(PEER) == t.count(PEER_MAPPED) == len(t) == 0


def test_eviction_by_standing_picks_the_oldest_entry_with_mixed_families() -> None:
    t: HalfOpenTable[int, str] = HalfOpenTable(LIMITS)
    sources = [PEER, PEER_COMPAT, PEER_MAPPED, *OTHER[:5]]
    for i, source in enumerate(sources):
        t.add(i, source, Standing.CONFIGURED if i else Standing.UNKNOWN, f"v{i}", float(i))
    (gone,) = t.add(8, OTHER[9], Standing.CONFIGURED, "v8", 8.0)  # full: the UNKNOWN one goes
    assert (gone.value, gone.source, gone.reason) == ("v0", PEER, "evicted")
    (gone,) = t.add(9, OTHER[10], Standing.CONFIGURED, "v9", 9.0)  # then the oldest CONFIGURED
    assert (gone.value, gone.source) == ("v1", PEER_COMPAT)
    assert t.count(PEER) == t.count(PEER_COMPAT) == 0 and t.count(PEER_MAPPED) == 1


def test_source_budgets_are_per_address_not_per_integer() -> None:
    budget = SourceBudget(AdmissionLimits(proven_key_pairs_per_second=2, proven_sources_max=8))
    assert budget.take(PEER, 0.0) and budget.take(ipaddress.ip_address("198.51.100.7"), 0.0)
    assert not budget.take(PEER, 0.0)  # its two tokens are spent
    assert budget.take(PEER_COMPAT, 0.0) and budget.take(PEER_MAPPED, 0.0)  # buckets of their own
    assert len(budget) == 3
