"""TunRouting.change: the worker looks at the changed destinations only (counted)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.dataplane.test_routing import FakeIpr, make, net


def _counting(r: Any, monkeypatch: pytest.MonkeyPatch) -> list[object]:
    seen: list[object] = []
    real = r._preferred_source
    monkeypatch.setattr(r, "_preferred_source", lambda src: seen.append(src) or real(src))
    return seen


@pytest.mark.parametrize("size", [10, 1000])
def test_a_change_costs_the_same_with_10_or_1000_routes(
    monkeypatch: pytest.MonkeyPatch, size: int
) -> None:
    ipr = FakeIpr()
    r = make(ipr)
    r.setup_device(1400)
    src = net("198.51.100.0/25")
    r.sync([(src, net(f"10.{n // 250}.{n % 250}.0/24")) for n in range(size)])
    r.wait()
    assert len(ipr.routes) == size
    seen = _counting(r, monkeypatch)
    batches = len(ipr.batches)
    r.change(added=[(src, net("10.250.0.0/24"))], removed=[(src, net("10.0.3.0/24"))])
    r.wait()
    assert len(seen) == 1  # the one wanted destination; the removed one needs no source
    assert ipr.batches[batches:] == [2]  # one replace, one delete
    assert ("10.250.0.0", 24, 2207) in ipr.routes and ("10.0.3.0", 24, 2207) not in ipr.routes
    assert len(ipr.routes) == size
    r.clear()


def test_pairs_are_counted_and_a_later_sync_applies_in_full() -> None:
    ipr = FakeIpr()
    r = make(ipr)
    r.setup_device(1400)
    a, b, dst = net("198.51.100.0/25"), net("172.16.0.0/16"), net("203.0.113.0/25")
    r.change(added=[(b, dst), (a, dst), (a, dst)], removed=[])
    r.wait()
    assert ipr.routes[("203.0.113.0", 25, 2207)]["prefsrc"] == "198.51.100.1"
    r.change(added=[], removed=[(a, dst)])  # still wanted once
    r.wait()
    assert ipr.routes[("203.0.113.0", 25, 2207)]["prefsrc"] == "198.51.100.1"
    r.change(added=[], removed=[(a, dst)])  # only b's now: no local address inside b
    r.wait()
    assert ipr.routes[("203.0.113.0", 25, 2207)]["prefsrc"] is None
    r.change(added=[], removed=[(b, dst), (b, dst)])  # removing what is not there is a no-op
    r.wait()
    assert ipr.routes == {}
    r.change(added=[(a, net("10.1.0.0/16"))], removed=[])
    r.sync([(a, net("10.2.0.0/16"))])  # the whole set again: 10.1.0.0/16 goes
    r.wait()
    assert list(ipr.routes) == [("10.2.0.0", 16, 2207)]
    r.clear()


def test_a_pair_two_policies_share_stays_until_both_are_removed() -> None:
    """Two policies with the same (src, dst) prefixes (say one for TCP, one for UDP) reach
    the routes through sync(); removing one of them by change() keeps the route."""
    ipr = FakeIpr()
    r = make(ipr)
    r.setup_device(1400)
    src, dst = net("198.51.100.0/25"), net("203.0.113.0/25")
    r.sync([(src, dst), (src, dst)])
    r.wait()
    r.change(added=[], removed=[(src, dst)])
    r.wait()
    assert ("203.0.113.0", 25, 2207) in ipr.routes
    r.change(added=[], removed=[(src, dst)])
    r.wait()
    assert ipr.routes == {}
    r.clear()
