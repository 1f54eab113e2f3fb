"""Reference integrity (mgmt/references.py): an item another item names is not removed, a rename
reaches every item that names it, and our own export always imports again."""

from __future__ import annotations

import pytest

from pyipsec.config.store import Store
from tests.mgmt.helpers import Console

BASE = """\
/ip pool add name=p1 ranges=10.1.0.2-10.1.0.9
/ip pool add name=p2 ranges=10.2.0.2-10.2.0.9 next-pool=p1
/ip ipsec mode-config add name=rw address-pool=p2
/ip ipsec policy group add name=g1
/ip ipsec proposal add name=prop1
/ip ipsec manual-sa add name=sa1
/ip ipsec peer add address=203.0.113.9/32 mode-config=rw policy-template-group=g1 \\
    generate-policy=port-strict secret=x
/ip ipsec policy add template=yes group=g1 dst-address=10.2.0.0/24 proposal=prop1
/ip ipsec policy add src-address=198.51.100.1 dst-address=198.51.100.2 manual-sa=sa1
"""

# (remove command, RouterOS-style refusal)
IN_USE = [
    ("/ip pool remove p1", "failure: pool p1 is used by /ip pool *2"),
    ("/ip pool remove p2", "failure: pool p2 is used by /ip ipsec mode-config *2"),
    ("/ip ipsec mode-config remove rw", "failure: mode-config rw is used by /ip ipsec peer *1"),
    ("/ip ipsec policy group remove g1", "failure: group g1 is used by /ip ipsec policy *2"),
    ("/ip ipsec proposal remove prop1", "failure: proposal prop1 is used by /ip ipsec policy *2"),
    ("/ip ipsec manual-sa remove sa1", "failure: manual-sa sa1 is used by /ip ipsec policy *3"),
]


@pytest.mark.parametrize(("command", "message"), IN_USE, ids=[c for c, _ in IN_USE])
def test_removing_an_item_in_use_is_refused(command: str, message: str) -> None:
    c = Console()
    c.ok(BASE)
    before = c.export("verbose")
    assert c.run(command) == message + "\n"
    assert c.export("verbose") == before  # nothing changed
    again = Console()
    assert again.interp.run(before), "".join(again.output)


def test_group_used_only_by_a_peer() -> None:
    c = Console()
    c.ok("/ip ipsec policy group add name=g2\n/ip ipsec peer add policy-template-group=g2")
    assert c.run("/ip ipsec policy group remove g2") == (
        "failure: group g2 is used by /ip ipsec peer *1\n"
    )
    c.ok("/ip ipsec peer set 0 policy-template-group=none")
    c.ok("/ip ipsec policy group remove g2")


def test_users_removed_first_or_together() -> None:
    c = Console()
    c.ok(BASE)
    c.ok("/ip ipsec peer remove 0")
    c.ok("/ip ipsec mode-config remove rw")
    c.ok("/ip pool remove p1,p2")  # p2's next-pool=p1 goes with it
    assert c.ok("/ip pool print count-only") == "0\n"


def test_renames_propagate_and_export_reimports() -> None:
    c = Console()
    c.ok(BASE)
    c.ok(
        "/ip pool set p1 name=first\n/ip pool set p2 name=second\n"
        "/ip ipsec mode-config set rw name=roadwarrior\n"
        "/ip ipsec policy group set g1 name=branches\n"
        "/ip ipsec proposal set prop1 name=strong\n/ip ipsec manual-sa set sa1 name=static1"
    )
    assert c.ok(":put [/ip pool get second next-pool]") == "first\n"
    assert c.ok(":put [/ip ipsec mode-config get roadwarrior address-pool]") == "second\n"
    assert c.ok(":put [/ip ipsec peer get 0 mode-config]") == "roadwarrior\n"
    assert c.ok(":put [/ip ipsec peer get 0 policy-template-group]") == "branches\n"
    assert c.ok(":put [/ip ipsec policy get 1 group]") == "branches\n"
    assert c.ok(":put [/ip ipsec policy get 1 proposal]") == "strong\n"
    assert c.ok(":put [/ip ipsec policy get 2 manual-sa]") == "static1\n"
    text = c.export()
    again = Console()
    again.ok(text)
    assert again.export() == text


def test_v7_profile_in_use() -> None:
    c = Console(Store(":memory:", dialect="v7"))
    c.ok("/ip ipsec profile add name=ph1")
    c.ok("/ip ipsec peer add name=hq address=203.0.113.1 profile=ph1")
    assert c.run("/ip ipsec profile remove ph1") == (
        "failure: profile ph1 is used by /ip ipsec peer *1\n"
    )
    c.ok("/ip ipsec profile set ph1 name=phase1")
    assert c.ok(":put [/ip ipsec peer get hq profile]") == "phase1\n"
