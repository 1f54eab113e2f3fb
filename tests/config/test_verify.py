"""Cross-item checks."""

from __future__ import annotations

from pyipsec.config.menus.ipsec import PEER, POLICY, PROPOSAL
from pyipsec.config.table import Config
from pyipsec.config.verify import ConfigError, check, invalid_items, verify


def test_fresh_configuration_is_clean() -> None:
    assert verify(Config.initial()) == []
    check(Config.initial())


def test_duplicate_policy_flags_the_later_one() -> None:
    config = Config.initial()
    t = config.table(POLICY)
    a = t.add({"src-address": "10.0.0.0/24", "dst-address": "10.1.0.0/24"})
    b = t.add({"src-address": "10.0.0.0/24", "dst-address": "10.1.0.0/24", "tunnel": "yes"})
    t.add({"src-address": "10.0.0.0/24", "dst-address": "10.1.0.0/24", "disabled": "yes"})
    t.add({"src-address": "10.0.0.0/24", "dst-address": "10.2.0.0/24"})
    assert invalid_items(config) == {POLICY: {b.id}}
    assert a.id not in invalid_items(config)[POLICY]


def test_templates_in_different_groups_are_not_duplicates() -> None:
    config = Config.initial()
    config.table(("ip", "ipsec", "policy", "group")).add({"name": "g2"})
    config.table(POLICY).add(
        {"src-address": "::/0", "dst-address": "::/0", "template": "yes", "group": "g2"}
    )
    assert verify(config) == []


def test_every_problem_is_collected() -> None:
    config = Config.initial()
    config.table(POLICY).add({"proposal": "gone"})
    config.table(PEER).add({"auth-method": "rsa-signature"})
    config.table(PEER).add({"mode-config": "nope"})
    problems = verify(config)
    assert {(p.menu, p.prop) for p in problems} == {
        (POLICY, "proposal"),
        (PEER, "certificate"),
        (PEER, "mode-config"),
    }
    try:
        check(config)
    except ConfigError as exc:
        assert len(exc.problems) == 3
        assert "/ip ipsec policy *2 proposal: no such item gone" in str(exc)
    else:
        raise AssertionError("check() passed")
    assert config.table(PROPOSAL).names() == ["default"]
