"""kill -9 of pyipsec at pseudo-random moments against strongSwan, and restart (issue 9 §3).

Used by ``tests/interop/test_crash_restart.py`` (in the suite) and ``bench/bench_crash.py``
(the same with more runs and a summary). pyipsec runs in ns a, strongSwan in ns b
(``two_sites``); pyipsec's tunnel policy covers the two LANs.

Each run picks a moment kind and a delay from a seeded ``random.Random`` (the seed is printed,
so a failing sequence can be replayed), creates that situation on the running daemon, sends it
SIGKILL after the delay, starts a new daemon on the same database (without the import script)
and requires, from the moment the new process is launched:

- a ping through the tunnel within 10 s (the first pings start phase 1 again);
- ``/export`` equal to the one taken before the first kill; for a kill during a console write,
  equal to the export before or after that write (one command is one transaction), and the
  write is then undone so the next run starts from the same configuration;
- the restart's log says it found a dead predecessor.

At the end strongSwan's log must show INITIAL-CONTACT in the phase 1s (IKEv2: the IKE_AUTH
requests) pyipsec started after each restart (the peer drops the dead instance's SAs on it).
``version=2`` runs the same cycle over IKEv2 (an ike2 peer entry, strongSwan's connection v2).

Moment kinds: ``phase1`` (connections killed, a ping starts phase 1, kill within 0.4 s),
``quick-mode`` (kill shortly after pyipsec logs IkeSaEstablished), ``rekey`` (strongSwan is told
to rekey the child SA, or the IKE SA every other time; kill within 0.4 s), ``console-write``
(a ``/ip ipsec peer add`` over the control socket; kill within 0.15 s), ``traffic`` (a ping
every 5 ms; kill within 1 s), ``start-up`` (after a kill, the next daemon is killed within
1.5 s of its launch, anywhere in its start-up: before its lock, between rule and socket...).
"""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from pyipsec.io.labnet import LAN_A, LAN_B, Lab
from tests.harness.strongswan import SWANCTL, Charon
from tests.interop.helpers import console, ping
from tests.io.daemon_proc import ROOT, DaemonProc, start_daemon

KINDS = ("phase1", "quick-mode", "rekey", "console-write", "traffic", "start-up")
RECOVERY_LIMIT = 10.0  # seconds from the new process to the first ping reply
PROBE = 'add address=203.0.113.99/32 secret=crash-probe-psk comment="crash probe"'


def export(db: Path) -> str:
    """``/export`` without its comment header (that carries the time)."""
    out = console(db, "/export")
    return "\n".join(line for line in out.splitlines() if not line.startswith("#"))


@dataclass
class RunResult:
    number: int
    kind: str
    delay: float
    recovered_in: float  # seconds from launching the new daemon to the first ping reply
    write_committed: bool | None = None


@dataclass
class CrashCycle:
    lab: Lab
    a: str
    b: str
    charon: Charon
    db: Path
    seed: int
    daemon: DaemonProc
    version: int = 1  # the IKE version of the peer entry and of strongSwan's connection v<N>
    results: list[RunResult] = field(default_factory=list)
    baseline: str = ""
    with_probe: str = ""
    rekeys: int = 0
    dead: list[int] = field(default_factory=list)  # PIDs killed in the current run

    def prepare(self) -> None:
        """Bring the tunnel up once and record the exports with and without the probe."""
        self.await_tunnel(30)
        self.baseline = export(self.db)
        console(self.db, "/ip ipsec peer\n" + PROBE)
        self.with_probe = export(self.db)
        console(self.db, '/ip ipsec peer remove [ find comment="crash probe" ]')
        assert export(self.db) == self.baseline

    def await_tunnel(self, timeout: float) -> float:
        start = time.monotonic()
        while time.monotonic() - start < timeout:
            if ping(self.lab, self.a, LAN_A, LAN_B, count=1, wait=1) == 1:
                return time.monotonic() - start
        raise AssertionError(f"no ping through the tunnel within {timeout} s")

    def kill(self) -> None:
        self.daemon.proc.send_signal(signal.SIGKILL)
        self.daemon.proc.wait(timeout=10)
        self.daemon.read_log()

    # -- the moments -----------------------------------------------------------------------

    def _ping_async(self, count: int, interval: float) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            ["ip", "netns", "exec", self.a, "ping", "-n", "-q", "-c", str(count),
             "-i", str(interval), "-W", "1", "-I", LAN_A, LAN_B],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip

    def _launch(self) -> DaemonProc:
        """A new daemon on the database, not waited for."""
        proc = subprocess.Popen(
            ["ip", "netns", "exec", self.a, sys.executable, "-m", "pyipsec", "daemon",
             "--db", str(self.db)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            env=dict(os.environ, PYTHONPATH=str(ROOT / "src")),
        )  # fmt: skip
        return DaemonProc(ns=self.a, db=self.db, proc=proc)

    def moment(self, kind: str, delay: float) -> bool | None:
        """Create the situation ``kind`` and SIGKILL the daemon ``delay`` s into it. For a
        console write, returns whether it was answered as done before the kill."""
        helper: subprocess.Popen[bytes] | None = None
        answered: list[bool] = []
        writer: threading.Thread | None = None
        try:
            if kind in ("phase1", "quick-mode"):
                console(self.db, "/ip ipsec remote-peers kill-connections")
                self.daemon.read_log()
                mark = len(self.daemon.log)
                helper = self._ping_async(3, 0.2)
                if kind == "quick-mode":
                    deadline = time.monotonic() + 10
                    while time.monotonic() < deadline:
                        self.daemon.read_log(0.01)
                        if any("IkeSaEstablished" in x for x in self.daemon.log[mark:]):
                            break
            elif kind == "rekey":
                # alternately the child SA (quick mode) and the IKE SA (a new phase 1)
                self.rekeys += 1
                target = ["--child", "net"] if self.rekeys % 2 else ["--ike", f"v{self.version}"]
                helper = subprocess.Popen(
                    [SWANCTL, "--rekey", *target,
                     "--uri", f"unix://{self.charon.state}/charon.vici"],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=self.charon.env,
                )  # fmt: skip
            elif kind == "console-write":

                def write() -> None:
                    try:
                        console(self.db, "/ip ipsec peer\n" + PROBE)
                        answered.append(True)
                    except (OSError, ConnectionError, AssertionError, ValueError):
                        answered.append(False)

                writer = threading.Thread(target=write, daemon=True)
                writer.start()
            elif kind == "traffic":
                helper = self._ping_async(400, 0.005)
            elif kind == "start-up":
                # a crash, then the supervisor's restart crashes too, somewhere in its start-up
                self.kill()
                self.dead.append(self.daemon.proc.pid)
                self.daemon = self._launch()
            time.sleep(delay)
            self.kill()
            if writer is not None:  # done (or failed) before a new daemon listens there
                writer.join(10)
                assert not writer.is_alive(), "the console write did not end with its daemon"
        finally:
            if helper is not None:
                if helper.poll() is None:
                    helper.kill()
                helper.wait()
        return answered[0] if answered else None

    # -- one run ---------------------------------------------------------------------------

    def run_once(self, number: int, kind: str, delay: float) -> RunResult:
        self.dead = []
        committed = self.moment(kind, delay)
        self.dead.append(self.daemon.proc.pid)
        launched = time.monotonic()
        self.daemon = start_daemon(self.a, self.db)
        text = "\n".join(self.daemon.log)
        # killed before it wrote its PID, a daemon in start-up leaves its predecessor's there
        assert any(
            f"previous daemon (pid {pid}) on this database did not stop cleanly" in text
            for pid in self.dead
        ), text
        recovered = time.monotonic() - launched
        recovered += self.await_tunnel(RECOVERY_LIMIT - recovered)
        now = export(self.db)
        if kind == "console-write" and now == self.with_probe:
            console(self.db, '/ip ipsec peer remove [ find comment="crash probe" ]')
            committed_now = True
            now = export(self.db)
        else:
            committed_now = False
            if committed:  # answered as done: it must have stayed done
                raise AssertionError("a console write answered as done was lost in the crash")
        assert now == self.baseline, f"configuration changed:\n{self.baseline}\n---\n{now}"
        result = RunResult(
            number=number,
            kind=kind,
            delay=delay,
            recovered_in=recovered,
            write_committed=committed_now if kind == "console-write" else None,
        )
        self.results.append(result)
        return result

    def run(self, runs: int) -> list[RunResult]:
        rng = random.Random(self.seed)
        kinds = [KINDS[i % len(KINDS)] for i in range(runs)]
        rng.shuffle(kinds)
        limits = {
            "phase1": 0.4,
            "quick-mode": 0.05,
            "rekey": 0.4,
            "console-write": 0.15,
            "traffic": 1.0,
            "start-up": 1.5,
        }
        for n, kind in enumerate(kinds, 1):
            delay = round(rng.uniform(0.0, limits[kind]), 3)
            r = self.run_once(n, kind, delay)
            print(
                f"run {n:2d}: kill -9 during {kind:13s} after {delay:.3f} s -> tunnel back "
                f"in {r.recovered_in:.2f} s"
                + ("" if r.write_committed is None else f" (write kept: {r.write_committed})"),
                flush=True,
            )
        return self.results

    def initial_contacts(self) -> int:
        """Phase-1 messages (IKEv2: IKE_AUTH requests) with INITIAL-CONTACT that strongSwan
        parsed (its short name for IKEv2's notify 16384 is INIT_CONTACT)."""
        path = self.charon.state / "charon.log"
        text = path.read_text(errors="replace") if path.exists() else ""
        if self.version == 2:
            return len(re.findall(r"parsed IKE_AUTH request \d+ \[[^\]]*N\(INIT_CONTACT\)", text))
        return len(re.findall(r"parsed ID_PROT \w+ \d+ \[[^\]]*N\(INITIAL_CONTACT\)", text))
