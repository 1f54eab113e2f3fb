"""The store at scale: a command writes the rows it changes, whatever the table's size, and the
order it keeps on disk stays the list order through inserts, moves and renumbering."""

from __future__ import annotations

import contextlib
import random
import sqlite3
import stat
from pathlib import Path

from pyipsec.config.store import Store
from pyipsec.config.table import Config

POLICY = ("ip", "ipsec", "policy")
PROPOSAL = ("ip", "ipsec", "proposal")


def _policy(n: int) -> dict[str, str]:
    return {"src-address": f"10.{n // 250}.{n % 250}.0/24", "dst-address": f"10.200.0.{n % 250}"}


def _store_with(path: Path, count: int) -> Store:
    store = Store(path)

    def fill(config: Config) -> None:
        for n in range(count):
            config.table(POLICY).add(_policy(n))

    store.transaction(fill)
    return store


def _rows_changed(store: Store, change: object) -> int:
    before = store._db.total_changes
    store.transaction(change)  # type: ignore[arg-type]
    return store._db.total_changes - before


def _ids(config: Config) -> list[int]:
    return [it.id for it in config.table(POLICY)]


def test_each_command_writes_the_same_rows_with_10_or_1000_policies(tmp_path: Path) -> None:
    counts = {}
    for size in (10, 1000):
        store = _store_with(tmp_path / f"{size}.db", size)
        middle = _ids(store.snapshot())[size // 2]
        counts[size] = [
            _rows_changed(store, lambda c: c.table(POLICY).add(_policy(9999))),
            _rows_changed(store, lambda c, m=middle: c.table(POLICY).add(_policy(1), before=m)),
            _rows_changed(
                store,
                lambda c, m=middle: c.table(POLICY).put(
                    c.table(POLICY).get(m).with_values({"comment": "x"})  # type: ignore[union-attr]
                ),
            ),
            _rows_changed(store, lambda c, m=middle: c.table(POLICY).move([m], None)),
            _rows_changed(store, lambda c, m=middle: c.table(POLICY).remove(m)),
        ]
        store.close()
    # a new row + the id counter + the generation; otherwise the one row and the generation
    assert counts[10] == counts[1000] == [3, 3, 2, 2, 2]


def test_order_on_disk_follows_every_kind_of_change(tmp_path: Path) -> None:
    path = tmp_path / "c.db"
    store = _store_with(path, 30)
    rng = random.Random(9)
    for step in range(300):
        ids = _ids(store.snapshot())
        op = rng.choice(("add", "before", "move", "remove", "set"))
        pick = rng.choice(ids[1:])  # the default template policy stays first
        if op == "add":
            store.transaction(lambda c, s=step: c.table(POLICY).add(_policy(s)))
        elif op == "before":
            store.transaction(lambda c, p=pick, s=step: c.table(POLICY).add(_policy(s), before=p))
        elif op == "move":
            dest = rng.choice([None, *ids])
            store.transaction(lambda c, p=pick, d=dest: c.table(POLICY).move([p], d))
        elif op == "remove" and len(ids) > 5:
            store.transaction(lambda c, p=pick: c.table(POLICY).remove(p))
        else:
            store.transaction(
                lambda c, p=pick, s=step: c.table(POLICY).put(
                    c.table(POLICY).get(p).with_values({"comment": str(s)})  # type: ignore[union-attr]
                )
            )
        if step % 50 == 0:
            with Store(path) as fresh:
                assert fresh.load() == store.snapshot()
    with Store(path) as fresh:
        assert fresh.load() == store.snapshot()
    store.close()


def test_inserting_at_one_place_until_the_gap_is_used_up_renumbers(tmp_path: Path) -> None:
    path = tmp_path / "c.db"
    store = _store_with(path, 3)
    first, second = _ids(store.snapshot())[1:3]
    for n in range(60):  # halves the gap before `second` each time: renumbers about every 20
        store.transaction(lambda c, n=n: c.table(POLICY).add(_policy(n), before=second))
    expected = _ids(store.snapshot())
    assert expected.index(first) == 1 and expected.index(second) == 62
    with Store(path) as fresh:
        assert _ids(fresh.load()) == expected
    store.close()


def test_a_store_continues_correctly_after_another_process_wrote(tmp_path: Path) -> None:
    path = tmp_path / "c.db"
    one = _store_with(path, 5)
    two = Store(path)
    two.load()
    ids = _ids(one.snapshot())
    one.transaction(lambda c: c.table(POLICY).move([ids[5]], ids[1]))
    two.transaction(lambda c: c.table(POLICY).add(_policy(77), before=ids[2]))
    with Store(path) as fresh:
        assert _ids(fresh.load()) == _ids(two.snapshot())
        assert _ids(fresh.load())[:4] == [ids[0], ids[5], ids[1], 7]
    one.close()
    two.close()


def test_a_failing_command_does_not_make_the_store_read_everything_again(
    tmp_path: Path,
) -> None:
    store = _store_with(tmp_path / "c.db", 50)
    statements: list[str] = []
    store._db.set_trace_callback(statements.append)

    def broken(config: Config) -> None:
        config.table(POLICY).add(_policy(1))
        raise ValueError("refused")

    with contextlib.suppress(ValueError):
        store.transaction(broken)
    store.transaction(lambda c: c.table(PROPOSAL).add({"name": "p"}))
    assert not [s for s in statements if "FROM items" in s]
    assert [it.values.get("name") for it in store.snapshot().table(PROPOSAL)] == ["default", "p"]
    store.close()


def test_the_write_ahead_log_files_are_private_too(tmp_path: Path) -> None:
    store = _store_with(tmp_path / "c.db", 3)
    logs = [tmp_path / "c.db-wal", tmp_path / "c.db-shm"]
    assert all(p.exists() for p in logs)  # the journal is a write-ahead log
    assert [stat.S_IMODE(p.stat().st_mode) for p in logs] == [0o600, 0o600]
    store.close()


def test_a_menu_new_to_an_old_database_gets_its_defaults_written_with_the_first_change(
    tmp_path: Path,
) -> None:
    path = tmp_path / "c.db"
    Store(path).close()
    old = sqlite3.connect(path)  # a database from a version without the proposal menu
    old.execute("DELETE FROM items WHERE menu='ip/ipsec/proposal'")
    old.execute("DELETE FROM counters WHERE menu='ip/ipsec/proposal'")
    old.commit()
    old.close()
    with Store(path) as store:
        assert [it.values for it in store.snapshot().table(PROPOSAL)] == [{"name": "default"}]
        store.transaction(lambda c: c.table(POLICY).add(_policy(1)))  # another menu changes
        store.transaction(lambda c: c.table(PROPOSAL).add({"name": "p2"}))
    with Store(path) as fresh:
        table = fresh.load().table(PROPOSAL)
        assert [it.values.get("name") for it in table] == ["default", "p2"]
        assert table.items[0].default and table.next_id == 3
