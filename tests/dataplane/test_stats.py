"""The `/ip ipsec statistics` counters (dataplane/stats.py)."""

from __future__ import annotations

from pyipsec.dataplane.stats import LINUX_NAMES, ROUTEROS_NAMES, Statistics, XfrmStat

# routeros-ipsec.md §1.9, in print order.
ROUTEROS_ORDER = [
    "in-errors",
    "in-buffer-errors",
    "in-header-errors",
    "in-no-states",
    "in-state-protocol-errors",
    "in-state-mode-errors",
    "in-state-sequence-errors",
    "in-state-expired",
    "in-state-mismatches",
    "in-state-invalid",
    "in-template-mismatches",
    "in-no-policies",
    "in-policy-blocked",
    "in-policy-errors",
    "out-errors",
    "out-bundle-errors",
    "out-bundle-check-errors",
    "out-no-states",
    "out-state-protocol-errors",
    "out-state-mode-errors",
    "out-state-sequence-errors",
    "out-state-expired",
    "out-policy-blocked",
    "out-policy-dead",
    "out-policy-errors",
]


def test_names_and_order() -> None:
    assert list(ROUTEROS_NAMES) == ROUTEROS_ORDER
    assert len(LINUX_NAMES) == 25 == len(set(LINUX_NAMES))
    assert list(Statistics().as_dict()) == ROUTEROS_ORDER


def test_counting() -> None:
    s = Statistics()
    s.incr(XfrmStat.IN_NO_STATES)
    s.counts[XfrmStat.IN_NO_STATES] += 1
    s.incr(XfrmStat.OUT_POLICY_DEAD, 5)
    d = s.as_dict()
    assert d["in-no-states"] == 2 and d["out-policy-dead"] == 5 and s.total() == 7
    assert s.as_linux()["XfrmInNoStates"] == 2 and s[XfrmStat.OUT_POLICY_DEAD] == 5
    s.reset()
    assert s.total() == 0
