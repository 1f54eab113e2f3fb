"""The schema: internal consistency, and agreement with the crypto registry."""

from __future__ import annotations

import importlib

import pytest

from pyipsec.config.menus import ALL_MENUS, MENUS, PATHS, children, ipsec, menus_under
from pyipsec.config.menus.runtime import STATISTICS_COUNTERS
from pyipsec.config.table import Config


@pytest.mark.parametrize("menu", ALL_MENUS, ids=lambda m: m.name)
def test_menu_is_consistent(menu) -> None:  # type: ignore[no-untyped-def]
    names = [p.name for p in menu.properties]
    assert len(names) == len(set(names))
    for name in menu.print_order + menu.brief_columns:
        assert menu.has(name), name
    for _, order in menu.print_variants:
        assert all(menu.has(n) for n in order)
    for prop in menu.properties:
        if prop.default is not None:
            assert prop.type.parse(prop.default) == prop.default, prop.name
        if prop.ref is not None:
            assert prop.ref in MENUS
    for values in menu.default_items:
        for name, value in values.items():
            assert menu.prop(name).type.parse(value) == value
    letters = [f.letter for g in menu.flags for f in g]
    assert len(letters) == len(set(letters))


def test_tree() -> None:
    assert children(("ip", "ipsec")) == (
        "installed-sa", "key", "manual-sa", "mode-config", "peer", "policy", "proposal",
        "remote-peers", "settings", "statistics", "user",
    )  # fmt: skip
    assert ("ip",) in PATHS and ("ip", "ipsec", "policy", "group") in PATHS
    order = [m.path[-1] for m in menus_under(("ip", "ipsec"))]
    assert order == [
        "mode-config", "group", "peer", "proposal", "manual-sa", "policy", "user", "settings",
        "settings",
    ]  # fmt: skip


def test_statistics_counters_in_xfrm_order() -> None:
    assert STATISTICS_COUNTERS[0] == "in-errors"
    assert STATISTICS_COUNTERS[-1] == "out-policy-errors"
    assert len(STATISTICS_COUNTERS) == 25


def test_defaults_of_a_fresh_router() -> None:
    config = Config.initial()
    policy = config.table(ipsec.POLICY).items[0]
    assert policy.default and policy.values["template"] == "yes"
    assert config.table(ipsec.PROPOSAL).names() == ["default"]
    assert config.table(ipsec.POLICY_GROUP).names() == ["default"]
    assert config.table(ipsec.MODE_CONFIG).names() == ["request-only"]
    assert config.table(ipsec.PEER).items == []


def test_algorithm_names_are_known_to_the_crypto_registry() -> None:
    try:
        registry = importlib.import_module("pyipsec.crypto.registry")
        groups = importlib.import_module("pyipsec.crypto.groups")
    except ImportError as exc:  # registry or groups not written yet
        pytest.skip(f"crypto registry incomplete: {exc}")
    known_groups = {g.name for g in groups.GROUPS}
    missing = [g for g in ipsec.DH_GROUPS if g not in known_groups]
    enc = [a for a in (*ipsec.PHASE1_ENC, *ipsec.PHASE2_ENC, *ipsec.MANUAL_ENC)]
    missing += [a for a in enc if a not in registry.ENCRYPTION]
    auth = [*ipsec.PHASE2_AUTH, *ipsec.MANUAL_AH]
    missing += [a for a in auth if a not in registry.INTEGRITY]
    missing += [
        h for h in ipsec.PHASE1_HASH if h not in registry.PRFS and h not in registry.INTEGRITY
    ]
    assert missing == []
