"""Compiling after a change redoes the changed policies only (counted, not timed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pyipsec.config import compile as compile_module
from pyipsec.config.compile import compile_config
from pyipsec.config.store import Store
from pyipsec.config.table import Config

POLICY = ("ip", "ipsec", "policy")
MANUAL_SA = ("ip", "ipsec", "manual-sa")


def _policy(n: int) -> dict[str, str]:
    return {
        "src-address": f"10.{n // 250}.{n % 250}.0/24",
        "dst-address": f"10.200.{n // 250}.{n % 250}/32",
    }


def test_a_change_compiles_only_the_changed_policy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Store(tmp_path / "c.db")

    def fill(config: Config) -> None:
        for n in range(1000):
            config.table(POLICY).add(_policy(n))

    store.transaction(fill)
    calls: list[int] = []
    real = compile_module.policy_record
    monkeypatch.setattr(
        compile_module, "policy_record", lambda c, item: calls.append(item.id) or real(c, item)
    )
    first = compile_config(store.snapshot())
    assert len(calls) == 1001 and len(first.policies) == 1000  # and the default template
    calls.clear()
    new = store.transaction(lambda c: c.table(POLICY).add(_policy(5000)).id)
    third = store.snapshot().table(POLICY).items[3].id

    def prioritise(config: Config) -> None:
        item = config.table(POLICY).get(third)
        assert item is not None
        config.table(POLICY).put(item.with_values({**item.values, "priority": "5"}))

    store.transaction(prioritise)
    second = compile_config(store.snapshot())
    assert sorted(calls) == sorted([new, third])
    assert [p.id for p in second.policies][-1] == new
    assert second.policies[2].priority == 5
    # unchanged policies are the very same records, so comparing the results is cheap
    assert second.policies[10] is first.policies[10]
    store.close()


def test_manual_sas_are_made_again_only_when_their_policy_or_manual_sa_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Store(tmp_path / "c.db")
    manual = {
        "name": "m1", "esp-enc-algorithm": "aes-128", "esp-auth-algorithm": "sha1",
        "esp-spi": "100/101", "esp-enc-key": "00" * 16, "esp-auth-key": "11" * 20,
    }  # fmt: skip

    def fill(config: Config) -> None:
        config.table(MANUAL_SA).add(manual)
        for n in range(30):
            config.table(POLICY).add(
                {
                    **_policy(n),
                    "tunnel": "yes",
                    "manual-sa": "m1",
                    "sa-src-address": "198.51.100.1",
                    "sa-dst-address": f"203.0.113.{n + 1}",
                }
            )

    store.transaction(fill)
    calls: list[int] = []
    real = compile_module._manual_sas
    monkeypatch.setattr(
        compile_module, "_manual_sas", lambda c, p: calls.append(p.id) or real(c, p)
    )
    first = compile_config(store.snapshot())
    assert len(calls) == 30 and len(first.manual_sas) == 60 and not first.problems
    store.transaction(lambda c: c.table(POLICY).add(_policy(500)))
    again = compile_config(store.snapshot())
    assert len(calls) == 30 and again.manual_sas == first.manual_sas
    m1 = store.snapshot().table(MANUAL_SA).items[0]
    store.transaction(
        lambda c: c.table(MANUAL_SA).put(m1.with_values({**m1.values, "esp-spi": "200/201"}))
    )
    changed = compile_config(store.snapshot())
    assert len(calls) == 60
    assert {p.spi for p in changed.manual_sas} == {0x200, 0x201}
    store.close()
