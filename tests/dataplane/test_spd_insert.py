"""Spd.insert: a policy placed between two others is evaluated between them."""

from __future__ import annotations

from ipaddress import ip_address, ip_network

from pyipsec.dataplane.policy import Direction, Policy, Selector
from pyipsec.dataplane.spd import Spd


def _policy(pid: int, dst: str = "10.2.0.0/16", priority: int = 0) -> Policy:
    return Policy(id=pid, src=ip_network("10.1.0.0/16"), dst=ip_network(dst), priority=priority)


SEL = Selector(src=ip_address("10.1.0.1"), dst=ip_address("10.2.0.1"), protocol=6)


def test_inserted_policy_is_evaluated_between_its_neighbours() -> None:
    spd = Spd([_policy(1, "10.9.0.0/16"), _policy(2), _policy(3)])
    assert spd.lookup(Direction.OUT, SEL).id == 2  # type: ignore[union-attr]
    assert spd.insert(_policy(4), after=1, before=2)
    assert [p.id for p in spd] == [1, 4, 2, 3]
    assert spd.lookup(Direction.OUT, SEL).id == 4  # type: ignore[union-attr]
    assert spd.insert(_policy(5), after=None, before=1)
    assert spd.insert(_policy(6), after=3, before=None)
    spd.add(_policy(7))
    assert [p.id for p in spd] == [5, 1, 4, 2, 3, 6, 7]
    assert spd.first_added([7, 3, 99]) == 3


def test_priority_still_comes_first() -> None:
    spd = Spd([_policy(1), _policy(2)])
    assert spd.insert(_policy(3, priority=5), after=1, before=2)
    assert [p.id for p in spd] == [3, 1, 2]


def test_insert_reports_when_no_order_value_is_left() -> None:
    spd = Spd([_policy(1, "10.8.0.0/16"), _policy(2, "10.9.0.0/16")])
    inserted, after = 0, 1
    while spd.insert(_policy(100 + inserted, "10.7.0.0/16"), after=after, before=2):
        after = 100 + inserted
        inserted += 1
        assert inserted < 100
    assert inserted > 30  # about 50 halvings of the gap
    assert 100 + inserted not in spd  # the refused one changed nothing
    assert [p.id for p in spd] == [1, *range(100, 100 + inserted), 2]
