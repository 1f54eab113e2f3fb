"""Rekey soak: ping loss across phase-1 renewals and phase-2 rekeys, pyipsec against strongSwan.

pyipsec in ns a (RouterOS script: one peer, main mode PSK aes-256/sha256/modp2048, phase-1
``lifetime`` = ``--p1``; the default proposal aes-256-cbc/sha256 with PFS modp2048 and
``lifetime`` = ``--p2``; one tunnel policy LAN_A <-> LAN_B), strongSwan 5.9 (charon with the
userspace kernel-libipsec data plane, its default IKE and CHILD lifetimes) in ns b, on
``pyipsec.io.labnet.two_sites``. pyipsec initiates (first ping), so it drives every phase-1
renewal and phase-2 rekey. A ping every ``--interval`` seconds from LAN_A to LAN_B runs for
``--duration`` seconds.

Printed every ``--sample`` seconds: elapsed minutes, the daemon's RSS (VmRSS from
/proc/<pid>/status) and CPU seconds, pings sent/lost so far, phase 1s established, phase-1
renewals ("IkeSaDeleted ... renewed"), phase-1 hard expiries ("lifetime expired", should stay
0), child rekeys ("ChildSaInstalled ... rekey=True") and the machine's load average. At the
end: loss (total and per 1,000), the loss windows (runs of unanswered pings with their start
time), RSS first/last/max and the growth from the first sample after warm-up, the IKE and
CHILD SAs strongSwan lists. One run (a soak is long); the machine is shared, the load average
column says how busy it was. Needs root and strongSwan (charon, swanctl).

    .venv/bin/python bench/soak_rekey.py                          # 30 min, p1 3m, p2 1m
    .venv/bin/python bench/soak_rekey.py --duration 420 --sample 30   # two renewals
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.harness.proc import cpu_seconds, rss_kib  # noqa: E402
from tests.harness.strongswan import Charon, strongswan_prerequisites  # noqa: E402
from tests.interop.helpers import Phase2, ping_until, ros_script, swanctl_conf  # noqa: E402
from tests.io.daemon_proc import DaemonProc, start_daemon  # noqa: E402

from pyipsec.io.labnet import LAN_A, LAN_B, Lab, two_sites  # noqa: E402

WARMUP = 120.0  # seconds before the reference RSS sample (imports, first SAs, caches)


@dataclass
class Pinger:
    """``ping -D -O`` in ns a, its replies collected by a thread."""

    ns: str
    count: int
    interval: float
    replied: set[int] = field(default_factory=set)
    lines: list[str] = field(default_factory=list)
    last_seq: int = 0
    started: float = 0.0

    def start(self) -> None:
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", self.ns, "ping", "-n", "-D", "-O", "-W", "1",
             "-i", str(self.interval), "-c", str(self.count), "-I", LAN_A, LAN_B],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line)
            m = re.search(r"icmp_seq=(\d+)", line)
            if not m:
                continue
            seq = int(m.group(1))
            self.last_seq = max(self.last_seq, seq)
            if "bytes from" in line:
                self.replied.add(seq)

    def lost_so_far(self) -> tuple[int, int]:
        """(sent, lost) among the pings old enough to have been answered (2 s)."""
        sent = min(self.last_seq, int((time.monotonic() - self.started) / self.interval))
        settled = max(0, sent - int(2 / self.interval))
        return settled, sum(1 for s in range(1, settled + 1) if s not in self.replied)

    def wait(self, timeout: float) -> None:
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.terminate()  # our own child, by its handle
            self.proc.wait(timeout=10)
        self.thread.join(timeout=10)

    def windows(self) -> list[tuple[float, int]]:
        """Runs of lost pings: (seconds after the start, length)."""
        out: list[tuple[float, int]] = []
        run_start, run = 0, 0
        for seq in range(1, self.count + 1):
            if seq in self.replied:
                if run:
                    out.append(((run_start - 1) * self.interval, run))
                run = 0
            else:
                if not run:
                    run_start = seq
                run += 1
        if run:
            out.append(((run_start - 1) * self.interval, run))
        return out


def counts(log: list[str]) -> dict[str, int]:
    return {
        "phase1": sum("IkeSaEstablished" in line for line in log),
        "renewed": sum("IkeSaDeleted" in line and "renewed" in line for line in log),
        "expired": sum("lifetime expired" in line for line in log),
        "rekeys": sum("ChildSaInstalled" in line and "rekey=True" in line for line in log),
        "errors": sum("ipsec,error" in line for line in log),
    }


def soak(args: argparse.Namespace) -> int:
    script = ros_script(peer_extra=f"lifetime={args.p1}", p2=Phase2(lifetime=args.p2, pfs=args.pfs))
    esp = f"aes256-sha256-{args.pfs}" if args.pfs != "none" else "aes256-sha256"
    with Lab("pysoak") as lab, tempfile.TemporaryDirectory(prefix="pysoak-") as tmp:
        a, b = two_sites(lab)
        charon = Charon(b, Path(tmp) / "charon", swanctl_conf(esp=esp))
        charon.start()
        daemon: DaemonProc | None = None
        try:
            daemon = start_daemon(a, Path(tmp) / "a.db", script)
            took = ping_until(lab, a, LAN_A, LAN_B, timeout=60, fail_on=daemon)
            print(f"tunnel up in {took:.1f} s; p1 {args.p1}, p2 {args.p2} PFS {args.pfs}, "
                  f"ping every {args.interval} s for {args.duration:.0f} s")  # fmt: skip
            count = int(args.duration / args.interval)
            pinger = Pinger(a, count, args.interval)
            pinger.start()
            pid = daemon.proc.pid
            samples: list[tuple[float, int]] = []
            print(" min   RSS MB  CPU s     sent  lost  phase1 renewed expired rekeys  load")
            t0 = time.monotonic()
            next_sample = t0
            while pinger.proc.poll() is None:
                daemon.read_log(1.0)
                now = time.monotonic()
                if now < next_sample:
                    continue
                next_sample += args.sample
                rss = rss_kib(pid)
                samples.append((now - t0, rss))
                sent, lost = pinger.lost_so_far()
                c = counts(daemon.log)
                print(f"{(now - t0) / 60:4.1f} {rss / 1024:8.1f} {cpu_seconds(pid):6.1f} "
                      f"{sent:8d} {lost:5d} {c['phase1']:7d} {c['renewed']:7d} "
                      f"{c['expired']:7d} {c['rekeys']:6d}  {os.getloadavg()[0]:4.1f}",
                      flush=True)  # fmt: skip
            pinger.wait(30)
            daemon.read_log()
            rss = rss_kib(pid)
            samples.append((time.monotonic() - t0, rss))
            received = len(pinger.replied)
            lost = count - received
            c = counts(daemon.log)
            print(f"\nlost {lost} of {count} pings ({1000 * lost / count:.2f} per 1,000)")
            windows = pinger.windows()
            print("loss windows (s after start, pings): "
                  + (", ".join(f"{t:.1f}:{n}" for t, n in windows) or "none"))  # fmt: skip
            print(
                f"phase 1 established {c['phase1']}, renewed {c['renewed']}, hard-expired "
                f"{c['expired']}; child rekeys {c['rekeys']}; error lines {c['errors']}"
            )
            ref = next((r for t, r in samples if t >= WARMUP), samples[0][1])
            peak = max(r for _, r in samples)
            print(f"RSS first {samples[0][1] / 1024:.1f} MB, after warm-up {ref / 1024:.1f} MB, "
                  f"last {rss / 1024:.1f} MB, max {peak / 1024:.1f} MB, "
                  f"growth after warm-up {(rss - ref) / 1024:+.1f} MB; "
                  f"daemon CPU {cpu_seconds(pid):.1f} s")  # fmt: skip
            listed = charon.swanctl("--list-sas")
            print(f"strongSwan at the end: {listed.count('ESTABLISHED')} IKE SA(s), "
                  f"{listed.count('INSTALLED')} CHILD SA(s)")  # fmt: skip
            print(f"load average at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
            if args.logs is not None:
                args.logs.mkdir(parents=True, exist_ok=True)
                (args.logs / "pyipsec.log").write_text("\n".join(daemon.log) + "\n")
                (args.logs / "ping.log").write_text("".join(pinger.lines))
                (args.logs / "charon.log").write_text(charon.log_tail(1_000_000) + "\n")
            return 0 if lost * 1000 <= count else 1
        finally:
            if daemon is not None:
                rc = daemon.stop()
                if rc:
                    print(f"daemon exited {rc}", file=sys.stderr)
            charon.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=1800.0, help="seconds of ping")
    parser.add_argument("--p1", default="3m", help="phase-1 lifetime (peer lifetime=)")
    parser.add_argument("--p2", default="1m", help="phase-2 lifetime (proposal lifetime=)")
    parser.add_argument("--pfs", default="modp2048", help="pfs-group of the proposal, or none")
    parser.add_argument("--interval", type=float, default=0.2, help="seconds between pings")
    parser.add_argument("--sample", type=float, default=60.0, help="seconds between samples")
    parser.add_argument("--logs", type=Path, help="directory for the daemon, charon and ping logs")
    args = parser.parse_args()
    missing = strongswan_prerequisites()
    if os.geteuid() != 0:
        missing.append("root")
    if missing:
        print("missing: " + "; ".join(missing), file=sys.stderr)
        return 2
    return soak(args)


if __name__ == "__main__":
    sys.exit(main())
