"""Crash recovery of the daemon (issue 9 §3): ``kill -9`` and start again on the same database.

A killed daemon leaves its policy-routing rule (the TUN device and the routes through it go
with the process, unless the device was made persistent), its control socket file and its lock
file. The next daemon adopts or removes all of it, says so in the log, and comes up; the
configuration is the same as before. Also: the host-wide ``rp_filter`` is never changed, and
a console or daemon killed in the middle of an import leaves a consistent database.

The manual-keyed two-site lab of ``test_daemon_e2e`` is used (no IKE, so it is quick); the
same against strongSwan, with kills at random moments, is ``tests/interop/test_crash_restart``.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pyipsec.config.store import Store
from pyipsec.io.control import socket_path
from pyipsec.io.labnet import LAN_A, LAN_B, Lab, lab_prerequisites, two_sites
from tests.conftest import require
from tests.io.daemon_proc import ROOT, DaemonProc, start_daemon
from tests.io.test_daemon_e2e import console, script

pytestmark = pytest.mark.netns


def export(db: Path) -> str:
    """``/export`` without its comment header (it carries the time)."""
    out = console(db, "/export")
    return "\n".join(line for line in out.splitlines() if not line.startswith("#"))


def ping_ok(lab: Lab, ns: str, src: str, dst: str) -> bool:
    out = lab.sh(ns, "ping", "-c2", "-i0.2", "-W2", "-I", src, dst, check=False)
    return " 0% packet loss" in out


def kill9(d: DaemonProc) -> None:
    d.proc.send_signal(signal.SIGKILL)
    d.proc.wait(timeout=10)
    d.read_log()


def sysctl(lab: Lab, ns: str, key: str) -> str:
    return lab.sh(ns, "sysctl", "-n", key).strip()


def test_restart_after_kill9_adopts_what_the_dead_daemon_left(tmp_path: Path) -> None:
    """Before the fix the second start died with ``RoutingError: ip -4 rule add ...: File
    exists``. Now it logs what it found, comes up, carries traffic and exports the same
    configuration; a live daemon on the database still refuses a second one."""
    require(lab_prerequisites())
    with Lab(f"pyik{os.getpid()}") as lab:
        a, b = two_sites(lab)
        da = start_daemon(a, tmp_path / "a.db", script("a", tunnel=True, protocols="esp"))
        db_ = start_daemon(b, tmp_path / "b.db", script("b", tunnel=True, protocols="esp"))
        try:
            assert ping_ok(lab, a, LAN_A, LAN_B), da.log
            before = export(da.db)
            kill9(da)
            # what the dead daemon left behind
            assert "lookup 2207" in lab.sh(a, "ip", "rule")
            assert socket_path(da.db).exists()
            assert (tmp_path / "a.db.lock").read_text().strip() == str(da.proc.pid)
            for _ in range(2):  # and a second crash right after a restart
                dead = da.proc.pid
                da = start_daemon(a, tmp_path / "a.db")
                text = "\n".join(da.log)
                assert f"previous daemon (pid {dead}) on this database did not stop" in text, text
                assert "adopted IPv4 policy rule 2207" in text, text
                assert "removed stale control socket" in text, text
                assert ping_ok(lab, a, LAN_A, LAN_B), da.log
                assert export(da.db) == before
                rules = lab.sh(a, "ip", "rule")
                assert rules.count("lookup 2207") == 1, rules
                kill9(da)
            da = start_daemon(a, tmp_path / "a.db")
            second = subprocess.run(
                ["ip", "netns", "exec", a, sys.executable, "-m", "pyipsec", "daemon",
                 "--db", str(tmp_path / "a.db"), "--tun", "pyipsec1"],
                capture_output=True, text=True, timeout=30,
                env=dict(os.environ, PYTHONPATH=str(ROOT / "src")),
            )  # fmt: skip
            assert second.returncode == 1, second.stderr
            assert f"(pid {da.proc.pid}) is already running on this" in second.stderr
            assert ping_ok(lab, a, LAN_A, LAN_B), da.log
        finally:
            assert da.stop() == 0, da.log
            assert db_.stop() == 0, db_.log
        # a clean stop after the restarts leaves nothing behind
        assert "2207" not in lab.sh(a, "ip", "rule")
        assert "pyipsec0" not in lab.sh(a, "ip", "link")
        assert not socket_path(tmp_path / "a.db").exists()
        assert not (tmp_path / "a.db.lock").exists()


def test_persistent_tun_stale_routes_and_a_foreign_rule_at_our_priority(tmp_path: Path) -> None:
    """A persistent TUN device with a stale route through it in table 2207, and a rule at
    priority 2207 that is not ours exactly: the daemon attaches to the device, removes the
    stale route, replaces the rule, and at its stop leaves the device (it was not its own)."""
    require(lab_prerequisites())
    with Lab(f"pyip{os.getpid()}") as lab:
        a, b = two_sites(lab)
        lab.sh(a, "ip", "tuntap", "add", "dev", "pyipsec0", "mode", "tun")
        lab.sh(a, "ip", "link", "set", "pyipsec0", "up")
        lab.sh(a, "ip", "route", "add", "203.0.113.128/25", "dev", "pyipsec0", "table", "2207")
        lab.sh(a, "ip", "rule", "add", "priority", "2207", "lookup", "2207")
        da = start_daemon(a, tmp_path / "a.db", script("a", tunnel=True, protocols="esp"))
        db_ = start_daemon(b, tmp_path / "b.db", script("b", tunnel=True, protocols="esp"))
        try:
            text = "\n".join(da.log)
            assert "adopted the existing TUN device pyipsec0" in text, text
            assert "removed a stale IPv4 rule at priority 2207" in text, text
            assert "adopted 1 routes in table 2207 through pyipsec0" in text, text
            assert ping_ok(lab, a, LAN_A, LAN_B), da.log
            routes = lab.sh(a, "ip", "route", "show", "table", "2207")
            assert "203.0.113.128/25" not in routes and "203.0.113.0/25" in routes, routes
            rules = [line for line in lab.sh(a, "ip", "rule").splitlines() if "2207" in line]
            assert len(rules) == 1 and "not from all fwmark 0x5049" in rules[0], rules
        finally:
            assert da.stop() == 0, da.log
            assert db_.stop() == 0, db_.log
        assert "2207" not in lab.sh(a, "ip", "rule")
        assert "pyipsec0" in lab.sh(a, "ip", "link")  # persistent: not ours to delete


def test_rp_filter_is_changed_only_on_the_tun_device(tmp_path: Path) -> None:
    """With a strict host-wide reverse-path filter (``all.rp_filter=1``) the tunnel carries
    traffic, ``all`` keeps its value while the daemon runs, after its stop and after a kill,
    and only the TUN device's own setting is 0. (Before: ``all`` was set to 0 for good.)"""
    require(lab_prerequisites())
    with Lab(f"pyir{os.getpid()}") as lab:
        a, b = two_sites(lab)
        for ns in (a, b):
            lab.sysctl(ns, "net.ipv4.conf.all.rp_filter", "1")
        da = start_daemon(a, tmp_path / "a.db", script("a", tunnel=True, protocols="esp"))
        db_ = start_daemon(b, tmp_path / "b.db", script("b", tunnel=True, protocols="esp"))
        try:
            assert ping_ok(lab, a, LAN_A, LAN_B), da.log
            assert ping_ok(lab, b, LAN_B, LAN_A), db_.log
            for ns in (a, b):
                assert sysctl(lab, ns, "net.ipv4.conf.all.rp_filter") == "1"
                assert sysctl(lab, ns, "net.ipv4.conf.pyipsec0.rp_filter") == "0"
            kill9(da)
            assert sysctl(lab, a, "net.ipv4.conf.all.rp_filter") == "1"
        finally:
            da.stop()
            assert db_.stop() == 0, db_.log
        assert sysctl(lab, b, "net.ipv4.conf.all.rp_filter") == "1"


# -- the configuration database under kill -9 ------------------------------------------------


def policy_script(n: int) -> str:
    lines = ["/ip ipsec policy"]
    for i in range(n):
        lines.append(
            f"add src-address=198.51.100.0/25 dst-address=10.{i // 250}.{i % 250}.0/24 comment=p{i}"
        )
    return "\n".join(lines) + "\n"


def check_prefix_of_import(db: Path, n: int) -> int:
    """The database is intact and holds the first k policies of the import, in order (each
    command is one transaction): returns k."""
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    finally:
        conn.close()
    with Store(db) as store:
        items = store.load().tables[("ip", "ipsec", "policy")].items
    comments = [str(it.values.get("comment")) for it in items if not it.default]
    k = len(comments)
    assert comments == [f"p{i}" for i in range(k)], comments[:5]
    assert k <= n
    return k


def policies_written(db: Path) -> int:
    """How many policies another process has committed so far (0 while it holds the lock)."""
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=0.05)
        try:
            row = conn.execute(
                "SELECT count(*) FROM items WHERE menu='ip/ipsec/policy' AND is_default=0"
            ).fetchone()
        finally:
            conn.close()
    except sqlite3.OperationalError:
        return 0
    return int(row[0])


def kill_when_written(proc: subprocess.Popen[bytes], db: Path, target: int) -> None:
    """SIGKILL ``proc`` as soon as ``target`` policies are committed: the kill lands in the
    middle of the import however fast the import is on this machine."""
    deadline = time.monotonic() + 120
    while proc.poll() is None and time.monotonic() < deadline:
        if policies_written(db) >= target:
            break
        time.sleep(0.002)
    proc.kill()
    proc.wait()


def test_a_console_killed_in_the_middle_of_an_import_leaves_a_consistent_database(
    tmp_path: Path,
) -> None:
    """SIGKILL of ``pyipsec console --db X script.rsc`` (one transaction per command) once
    10, 100, 300 and 600 of its 800 policies are committed: each time the database passes
    SQLite's integrity check and holds exactly the first k policies of the script (k at least
    the target; the kill may land inside a later write), and the import can be completed."""
    n = 800
    rsc = tmp_path / "policies.rsc"
    rsc.write_text(policy_script(n))
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    seen: list[int] = []
    for attempt, target in enumerate((10, 100, 300, 600)):
        db = tmp_path / f"c{attempt}.db"
        Store(db).close()
        proc = subprocess.Popen(
            [sys.executable, "-m", "pyipsec", "console", "--db", str(db), str(rsc)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
        )  # fmt: skip
        kill_when_written(proc, db, target)
        k = check_prefix_of_import(db, n)
        assert k >= target
        seen.append(k)
    print("policies present after each kill:", seen)
    assert any(k < n for k in seen), seen  # at least one kill landed mid-import
    # the rest of the script can be applied on top
    db = tmp_path / "c0.db"
    k = seen[0]
    rest = tmp_path / "rest.rsc"
    rest.write_text("/ip ipsec policy\n" + "".join(policy_script(n).splitlines(True)[1 + k :]))
    subprocess.run(
        [sys.executable, "-m", "pyipsec", "console", "--db", str(db), str(rest)],
        check=True, env=env, capture_output=True, timeout=300,
    )  # fmt: skip
    assert check_prefix_of_import(db, n) == n


def test_a_daemon_killed_during_its_import_restarts_on_a_consistent_database(
    tmp_path: Path,
) -> None:
    require(lab_prerequisites())
    with Lab(f"pyiq{os.getpid()}") as lab:
        a, _ = two_sites(lab)
        db = tmp_path / "a.db"
        rsc = tmp_path / "a.rsc"
        rsc.write_text(policy_script(800))
        Store(db).close()
        proc = subprocess.Popen(
            ["ip", "netns", "exec", a, sys.executable, "-m", "pyipsec", "daemon", "--db",
             str(db), "--import", str(rsc)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            env=dict(os.environ, PYTHONPATH=str(ROOT / "src")),
        )  # fmt: skip
        kill_when_written(proc, db, 200)
        k = check_prefix_of_import(db, 800)
        assert k >= 200
        d = start_daemon(a, db)
        try:
            out = console(db, "/ip ipsec policy print count-only")
            assert out.strip() == str(k + 1), out  # plus the default template policy
        finally:
            assert d.stop() == 0, d.log


HOLD_TUN = """
import sys, time
from pyipsec.dataplane.userspace.tun import open_tun
fd, name = open_tun("pyipsec0")
print(name, flush=True)
time.sleep(60)
"""


def test_a_tun_device_held_by_a_live_process_is_not_taken(tmp_path: Path) -> None:
    """The device name is in use by a live process (TUNSETIFF answers EBUSY): the daemon says
    so in one line and exits 1, leaving no rule and no lock behind."""
    require(lab_prerequisites())
    with Lab(f"pyit{os.getpid()}") as lab:
        a, _ = two_sites(lab)
        env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
        holder = subprocess.Popen(
            ["ip", "netns", "exec", a, sys.executable, "-c", HOLD_TUN],
            stdout=subprocess.PIPE, text=True, env=env,
        )  # fmt: skip
        try:
            assert holder.stdout is not None and holder.stdout.readline().strip() == "pyipsec0"
            proc = subprocess.run(
                ["ip", "netns", "exec", a, sys.executable, "-m", "pyipsec", "daemon", "--db",
                 str(tmp_path / "a.db")],
                capture_output=True, text=True, timeout=60, env=env,
            )  # fmt: skip
        finally:
            holder.kill()
            holder.wait()
        assert proc.returncode == 1, proc.stderr
        assert "Traceback" not in proc.stderr, proc.stderr
        assert "cannot start the data plane: cannot create TUN device pyipsec0" in proc.stderr
        assert "2207" not in lab.sh(a, "ip", "rule")
        assert not (tmp_path / "a.db.lock").exists()
