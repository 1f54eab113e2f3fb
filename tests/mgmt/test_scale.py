"""Console commands cost what they change: counted rows, checks and item visits, never time."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
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


def test_a_script_syncs_the_database_once_a_single_command_every_time(tmp_path: Path) -> None:
    console = _console(tmp_path / "c.db", 3)
    db = console.store._db
    statements: list[str] = []
    db.set_trace_callback(statements.append)

    def synchronous() -> int:
        return int(db.execute("PRAGMA synchronous").fetchone()[0])

    assert synchronous() == 2  # FULL: a lone command is on disk when it returns
    console.ok("/ip ipsec policy add src-address=10.99.0.0/24 dst-address=10.98.0.0/24")
    assert not any("synchronous=NORMAL" in s for s in statements)
    seen: list[int] = []
    console.session.runtime = SpyRuntime(lambda: seen.append(synchronous()))
    console.ok(
        "/ip ipsec policy add src-address=10.97.0.0/24 dst-address=10.98.0.0/24\n"
        '/ip ipsec policy print count-only where comment~"x"\n'
        "/ip ipsec policy add src-address=10.96.0.0/24 dst-address=10.98.0.0/24"
    )
    assert seen and set(seen) == {1}  # NORMAL inside the script: commits are not synced
    assert synchronous() == 2
    assert any("wal_checkpoint(FULL)" in s for s in statements)  # synced once at the end
    # every command of the script committed on its own
    assert console.ok("/ip ipsec policy print count-only") == "7\n"


class SpyRuntime(NullRuntime):
    def __init__(self, probe: Callable[[], None]) -> None:
        self.probe = probe

    def item_state(self, path: tuple[str, ...], item_id: int) -> Mapping[str, str]:
        self.probe()
        return {}


def test_a_script_keeps_full_sync_without_the_write_ahead_log(tmp_path: Path) -> None:
    """A database that stayed in rollback-journal mode (WAL could not be enabled) is synced
    after every command of a script too: NORMAL is only safe with the log."""
    console = _console(tmp_path / "c.db", 3)
    db = console.store._db
    db.execute("PRAGMA journal_mode=DELETE")
    console.store._wal = False  # as when journal_mode=WAL did not take
    seen: list[int] = []
    console.session.runtime = SpyRuntime(
        lambda: seen.append(int(db.execute("PRAGMA synchronous").fetchone()[0]))
    )
    console.ok(
        "/ip ipsec policy add src-address=10.97.0.0/24 dst-address=10.98.0.0/24\n"
        '/ip ipsec policy print count-only where comment~"x"'
    )
    assert seen and set(seen) == {2}
