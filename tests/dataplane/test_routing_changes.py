"""TunRouting.change: the worker looks at the changed destinations only (counted)."""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Callable
from typing import Any

import pytest

from pyipsec.dataplane.userspace.routing import ROUTE_COALESCE, TunRouting
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


def test_the_preferred_source_is_the_first_local_address_inside_the_source_prefix(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With many local addresses (a responder with one per setup) the preferred source of a
    route is found without testing every address against the source prefix (before: each
    new source prefix tested all of them, in the netlink worker, holding the GIL), and it is
    still the first one in the kernel's dump order."""
    ipr = FakeIpr()
    many = [f"203.0.113.{x}" for x in range(250, 1, -1)]  # descending: dump order != sorted
    many += [f"198.51.100.{x}" for x in range(2, 200)]
    ipr.addrs = ["2001:db8::9", "198.51.100.200", *many, "2001:db8::1", "::1"]
    r = make(ipr)
    r.setup_device(1400)
    tested = [0]
    real = ipaddress._BaseNetwork.__contains__

    def counting(self: object, other: object) -> bool:
        tested[0] += 1
        return real(self, other)  # type: ignore[arg-type]

    monkeypatch.setattr(ipaddress._BaseNetwork, "__contains__", counting)
    cases = {
        "203.0.113.0/24": "203.0.113.250",  # the first dumped of 249 inside
        "203.0.113.7/32": "203.0.113.7",
        "198.51.100.0/24": "198.51.100.200",  # dumped before 198.51.100.1
        "198.51.100.128/25": "198.51.100.200",
        "198.51.100.64/26": "198.51.100.64",
        "10.99.0.0/16": None,
        "2001:db8::/32": "2001:db8::9",
        "0.0.0.0/0": "198.51.100.200",
    }
    for i, src in enumerate(cases):
        r.change(added=[(net(src), net(f"10.{i}.0.0/16"))], removed=[])
    r.wait()
    for i, (src, pref) in enumerate(cases.items()):
        assert ipr.routes[(f"10.{i}.0.0", 16, 2207)]["prefsrc"] == pref, src
    assert tested[0] < 50, tested[0]  # before: ~1,000 here (every address up to the first inside)
    r.clear()


def test_with_defer_the_changes_of_one_loop_iteration_wake_the_worker_once() -> None:
    """IKE adds one generated policy at a time; with ``defer`` (the daemon's loop.call_later)
    the worker is submitted one pass for all the changes made before the loop runs the
    deferred call, where it used to be woken for each change it had already finished."""
    ipr = FakeIpr()
    deferred: list[tuple[float, Callable[[], None]]] = []
    r = TunRouting("pyipsec0", 0x5049, netlink=lambda: ipr, batcher=lambda: ipr,
                   defer=lambda delay, fn: deferred.append((delay, fn)))  # fmt: skip
    r.setup_device(1400)
    submitted = []
    real_submit = r._pool.submit
    r._pool.submit = lambda fn, *a: submitted.append(fn) or real_submit(fn, *a)  # type: ignore[method-assign]
    src = net("198.51.100.0/25")
    for n in range(20):
        r.change(added=[(src, net(f"10.0.{n}.0/24"))], removed=[])
        time.sleep(0.001)  # the worker would have finished a pass by now
    assert submitted == [] and len(deferred) == 1  # nothing applied before the loop's turn
    assert deferred[0][0] == 0.0  # no coalescing interval: the loop's next iteration
    deferred.pop()[1]()
    r.wait()
    assert len(submitted) == 2  # the one pass, and wait()'s own marker
    assert ipr.batches[-1] == 20 and len(ipr.routes) == 20
    r.change(added=[], removed=[(src, net("10.0.0.0/24"))])
    r.wait()  # wait() applies a wake still waiting for the loop
    assert ("10.0.0.0", 24, 2207) not in ipr.routes and len(ipr.routes) == 19
    deferred.pop()[1]()  # the loop's call afterwards finds nothing to do
    assert len(submitted) == 4
    r.clear()


def test_a_burst_of_changes_costs_one_worker_pass_per_coalescing_interval() -> None:
    """With ``coalesce`` (the daemon's ROUTE_COALESCE, 5 ms) a change after a quiet spell
    wakes the worker on the loop's next iteration, and the changes of a burst that follow
    wait for the interval since the previous pass to end: a generated policy per IKE setup
    at ~1,000 setups a second costs one worker wake (a GIL hand-over for the loop's thread)
    per 5 ms instead of one per loop iteration."""
    ipr = FakeIpr()
    now = [100.0]
    deferred: list[tuple[float, Callable[[], None]]] = []
    r = TunRouting("pyipsec0", 0x5049, netlink=lambda: ipr, batcher=lambda: ipr,
                   clock=lambda: now[0], defer=lambda delay, fn: deferred.append((delay, fn)),
                   coalesce=ROUTE_COALESCE)  # fmt: skip
    assert ROUTE_COALESCE == 0.005
    r.setup_device(1400)
    submitted = []
    real_submit = r._pool.submit
    r._pool.submit = lambda fn, *a: submitted.append(fn) or real_submit(fn, *a)  # type: ignore[method-assign]
    src = net("198.51.100.0/25")

    def policy(n: int) -> None:
        r.change(added=[(src, net(f"10.0.{n}.0/24"))], removed=[])

    policy(0)  # quiet before: at once (the loop's next iteration)
    assert [d for d, _ in deferred] == [0.0]
    deferred.pop()[1]()
    r._pool.submit(lambda: None).result()  # the worker's pass is over
    assert len(submitted) == 2 and ipr.batches[-1] == 1
    now[0] += 0.001
    for n in range(1, 8):  # the burst goes on, loop iteration after loop iteration
        policy(n)
        now[0] += 0.0005
    assert len(deferred) == 1 and deferred[0][0] == pytest.approx(0.004)  # 5 ms after the pass
    now[0] += 0.004
    deferred.pop()[1]()
    r.wait()
    assert ipr.batches[-1] == 7 and len(ipr.routes) == 8  # the burst's 7 changes: one pass
    assert len(submitted) == 2 + 1 + 1  # + that pass + wait()'s marker
    now[0] += 0.010  # quiet again: the next change goes at once
    policy(8)
    assert deferred[-1][0] == 0.0
    r.wait()
    assert len(ipr.routes) == 9
    r.clear()


def test_without_defer_each_change_is_submitted_when_the_worker_is_idle() -> None:
    ipr = FakeIpr()
    r = make(ipr)
    r.setup_device(1400)
    src = net("198.51.100.0/25")
    for n in range(5):
        r.change(added=[(src, net(f"10.0.{n}.0/24"))], removed=[])
        r.wait()
    assert ipr.batches[-5:] == [1, 1, 1, 1, 1]
    r.clear()
