"""SQLite persistence: atomic commands, stable never-reused ids, 0600, crash safety."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pyipsec.config.store import Store, default_db_path
from pyipsec.config.table import Config, format_id
from pyipsec.config.verify import verify

POLICY = ("ip", "ipsec", "policy")
PROPOSAL = ("ip", "ipsec", "proposal")


def test_database_file_is_private(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "config.db"
    Store(path).close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_existing_file_mode_is_tightened(tmp_path: Path) -> None:
    path = tmp_path / "config.db"
    path.touch(mode=0o644)
    Store(path).close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_fresh_database_has_default_items(tmp_path: Path) -> None:
    with Store(tmp_path / "c.db") as store:
        config = store.load()
    assert [it.values for it in config.table(PROPOSAL)] == [{"name": "default"}]
    assert config.table(POLICY).items[0].default


def test_ids_are_stable_and_never_reused(tmp_path: Path) -> None:
    path = tmp_path / "c.db"
    with Store(path) as store:

        def add(config: Config) -> int:
            return config.table(PROPOSAL).add({"name": f"p{config.table(PROPOSAL).next_id}"}).id

        a = store.transaction(add)
        b = store.transaction(add)
        store.transaction(lambda c: c.table(PROPOSAL).remove(b))
        c = store.transaction(add)
        assert (a, c) == (2, 4)
    with Store(path) as store:
        config = store.load()
        assert [format_id(it.id) for it in config.table(PROPOSAL)] == ["*1", "*2", "*4"]
        store.transaction(lambda cfg: cfg.table(PROPOSAL).remove(4))
        assert store.transaction(add) == 5


def test_failing_transaction_changes_nothing(tmp_path: Path) -> None:
    with Store(tmp_path / "c.db") as store:
        before = store.load()

        def broken(config: Config) -> None:
            config.table(PROPOSAL).add({"name": "x"})
            raise RuntimeError("boom")

        with pytest.raises(RuntimeError):
            store.transaction(broken)
        after = store.load()
    assert after.table(PROPOSAL).items == before.table(PROPOSAL).items
    assert after.table(PROPOSAL).next_id == before.table(PROPOSAL).next_id


def test_two_stores_see_each_others_writes(tmp_path: Path) -> None:
    path = tmp_path / "c.db"
    with Store(path) as one, Store(path) as two:
        two.load()
        one.transaction(lambda c: c.table(PROPOSAL).add({"name": "from-one"}))
        assert two.load().table(PROPOSAL).by_name("from-one") is not None


def test_default_path_honours_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PYIPSEC_DB", str(tmp_path / "x.db"))
    assert default_db_path() == tmp_path / "x.db"
    monkeypatch.delenv("PYIPSEC_DB")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    assert default_db_path() == tmp_path / "pyipsec" / "config.db"


WRITER = """
import sys
from pyipsec.config.store import Store
store = Store(sys.argv[1])
n = 0
def step(config):
    # one command = one proposal plus a policy that refers to it, padded to make writes slow
    t = config.table(("ip", "ipsec", "proposal"))
    name = f"p{t.next_id}"
    t.add({"name": name, "comment": "x" * 20000})
    config.table(("ip", "ipsec", "policy")).add(
        {"proposal": name, "src-address": f"10.{t.next_id % 250}.0.0/16", "comment": "y" * 20000}
    )
while True:
    store.transaction(step)
    n += 1
    if n == 3:
        print("ready", flush=True)
"""


def test_killed_writer_leaves_a_consistent_configuration(tmp_path: Path) -> None:
    path = tmp_path / "c.db"
    Store(path).close()
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src")}
    for delay in (0.05, 0.13, 0.21):
        proc = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE, env=env
        )
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == b"ready"
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
        with Store(path) as store:
            config = store.load()
            proposals = config.table(PROPOSAL)
            policies = config.table(POLICY)
            # every committed command wrote both items, never just one of them
            assert len(proposals.items) == len(policies.items)
            assert [p for p in verify(config) if p.prop == "proposal"] == []
            assert proposals.next_id > 3


ADDER = """
import sys
from pyipsec.config.store import Store
store = Store(sys.argv[1])
for n in range(40):
    store.transaction(
        lambda c: c.table(("ip", "ipsec", "proposal")).add({"name": f"{sys.argv[2]}{n}"})
    )
"""


def test_concurrent_writers_serialise(tmp_path: Path) -> None:
    path = tmp_path / "c.db"
    Store(path).close()
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src")}
    procs = [
        subprocess.Popen([sys.executable, "-c", ADDER, str(path), tag], env=env) for tag in "ab"
    ]
    assert [p.wait(timeout=60) for p in procs] == [0, 0]
    with Store(path) as store:
        table = store.load().table(PROPOSAL)
    assert len(table.items) == 81
    assert len({it.id for it in table}) == 81
    assert table.next_id == 82
