"""Console commands cost what they change: counted rows, checks and item visits, never time."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from pyipsec.config import verify as verify_module
from pyipsec.config.store import Store
from pyipsec.mgmt.commands import NullRuntime
from tests.mgmt.helpers import Console


def _console(path: Path, policies: int) -> Console:
    console = Console(Store(path))
    lines = [
        f"add src-address=10.{n // 250}.{n % 250}.0/24 dst-address=10.200.0.{n % 250}"
        for n in range(policies)
    ]
    console.ok("/ip ipsec policy\n" + "\n".join(lines))
    return console


class CountingRuntime(NullRuntime):
    def __init__(self) -> None:
        self.visits = 0

    def item_state(self, path: tuple[str, ...], item_id: int) -> Mapping[str, str]:
        self.visits += 1
        return {}

    def dynamic_items(self, path: tuple[str, ...]) -> Sequence[object]:  # type: ignore[override]
        return ()


def test_console_commands_write_the_same_rows_for_10_or_1000_policies(tmp_path: Path) -> None:
    changed = {}
    for size in (10, 1000):
        console = _console(tmp_path / f"{size}.db", size)
        db = console.store._db
        rows = []
        for command in (
            "/ip ipsec policy add src-address=10.99.0.0/24 dst-address=10.98.0.0/24",
            "/ip ipsec policy add src-address=10.97.0.0/24 dst-address=10.98.0.0/24 place-before=3",
            "/ip ipsec policy set 5 comment=hub",
            "/ip ipsec policy disable 6",
            "/ip ipsec policy move 7 2",
            "/ip ipsec policy remove 4",
            "/ip ipsec policy remove [ find comment=hub ]",
        ):
            before = db.total_changes
            console.ok(command)
            rows.append(db.total_changes - before)
        changed[size] = rows
        console.store.close()
    assert changed[10] == changed[1000] == [3, 3, 2, 2, 2, 2, 2]


def test_count_only_visits_no_item(tmp_path: Path) -> None:
    console = _console(tmp_path / "c.db", 300)
    runtime = CountingRuntime()
    console.session.runtime = runtime
    assert console.ok("/ip ipsec policy print count-only").strip() == "301"
    assert runtime.visits == 0
    # an equality on configured properties compares values only (no flags, no live state)
    assert console.ok("/ip ipsec policy print count-only where dst-address=10.200.0.7/32") == (
        "2\n"
    )
    assert runtime.visits == 0
    # any other condition sees each item as print shows it, live state included
    assert console.ok('/ip ipsec policy print count-only where comment~"hub"') == "0\n"
    assert runtime.visits >= 301


def test_verification_runs_once_per_version_of_the_configuration(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    console = _console(tmp_path / "c.db", 200)
    calls = []
    real = verify_module.verify
    monkeypatch.setattr(verify_module, "verify", lambda c: calls.append(1) or real(c))
    console.ok("/ip ipsec policy print count-only where !invalid")
    console.ok("/ip ipsec policy print brief where invalid")
    console.ok("/ip ipsec policy find")
    assert len(calls) == 1
    console.ok("/ip ipsec policy add src-address=10.99.0.0/24 dst-address=10.98.0.0/24")
    console.ok("/ip ipsec policy print count-only where invalid")
    assert len(calls) == 2
