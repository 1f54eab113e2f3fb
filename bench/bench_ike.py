"""IKE setup rate: completed IKE SA + child SA setups per second, pyipsec against strongSwan.

Both sides negotiate IKEv1 main mode with a pre-shared key, phase 1 aes-128/sha1/modp2048,
phase 2 ESP aes-128-cbc/hmac-sha1 in tunnel mode, no PFS unless ``--pfs modp2048``; one child
SA per phase 1, every setup a phase 1 of its own. Initiator in ns a, responder in ns b
(``pyipsec.io.labnet.two_sites``), the same machine in the same run, fresh daemons per run.

- strongSwan to strongSwan: two charons (userspace kernel-libipsec data plane, ``reuse_ikesa =
  no``, ``unique = never``), the same addresses and selectors as pyipsec: a has one connection
  per setup (``bench<i>``), b one connection answering on all its addresses. Driven over vici:
  ``initiate`` of ``bench<i>``/``net`` without waiting, at most WINDOW setups outstanding; a
  setup is complete when the initiator reports its CHILD_SA up (vici ``child-updown``).
- pyipsec to pyipsec: two daemons; a has one policy per setup (a distinct /32 pair and a
  distinct wan address of b as sa-dst), b one passive peer with generate-policy=port-override
  (``--responder static``: N configured policies mirroring a's instead). One UDP datagram per
  policy from ns a starts each setup (acquire), at most WINDOW outstanding ("all": every
  datagram at once); a setup is complete when a's daemon logs its ``ChildSaInstalled``.

Figures per run: seconds from the first initiation to the Nth completed setup, setups per
second, seconds to the first completed setup, and CPU milliseconds per setup of both peers
(total, then initiator+responder, from /proc/<pid>/stat). Medians per side and window, then the
ratio pyipsec/strongSwan. On stderr: incomplete runs with the daemons' error lines, UDP
receive-buffer drops in either namespace, phase 1 counts that differ from the setups.
``--profile PREFIX`` samples both pyipsec daemons with py-spy. Needs root, strongSwan (charon,
swanctl) and the PyPI package ``vici``.

``--ike2``: the same with IKEv2 on both sides (strongSwan ``version = 2``, pyipsec peers
``exchange-mode=ike2``): PSK, IKE aes128-sha256 with ``--dh modp2048`` (default) or ``ecp256``
(PRF HMAC-SHA-256), the first child in IKE_AUTH with ``--child aes128-sha256`` (default,
AES-CBC + HMAC-SHA-256-128) or ``aes128gcm16``, no PFS (IKE_AUTH's child has no KE anyway);
every setup its own IKE SA (IKE_SA_INIT + IKE_AUTH), complete when the initiator reports
the child SA up, exactly as for IKEv1.

    .venv/bin/python bench/bench_ike.py --runs 3 -n 200     # windows 16, 64 and all
    .venv/bin/python bench/bench_ike.py --runs 3 -n 200 --ike2 --dh ecp256 --child aes128gcm16
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from tests.harness.proc import cpu_seconds  # noqa: E402
from tests.harness.strongswan import Charon, strongswan_prerequisites  # noqa: E402
from tests.io.daemon_proc import DaemonProc, start_daemon  # noqa: E402

from _ikelab import (  # noqa: E402
    IKEV1,
    IKEV2_CHILDREN,
    IKEV2_GROUPS,
    LAB_KEY_PAIRS_PER_SECOND,
    STRONGSWAN_EXTRA,
    Sender,
    Suite,
    add_setup_addresses,
    ikev2_suite,
    inner,
    ros_initiator,
    ros_responder,
    swanctl_initiator,
    swanctl_responder,
)
from pyipsec.io.control import ControlClient, socket_path  # noqa: E402
from pyipsec.io.labnet import Lab, lab_prerequisites, two_sites  # noqa: E402

try:
    import vici
except ImportError:  # checked in main() with a clear message
    vici = None


@dataclass
class Result:
    side: str
    n: int
    window: int
    done: int
    seconds: float
    first: float  # seconds to the first completed setup
    cpu_ms: float  # CPU of both peers per completed setup
    cpu_split: tuple[float, ...] = (0.0, 0.0)  # the same, initiator and responder

    @property
    def rate(self) -> float:
        return self.done / self.seconds if self.seconds > 0 else 0.0


# -- strongSwan ----------------------------------------------------------------------------


def _vici(path: Path) -> vici.Session:
    sock = socket.socket(socket.AF_UNIX)
    sock.connect(str(path))
    return vici.Session(sock)


class ChildListener(threading.Thread):
    """Times of the initiator's CHILD_SA-up events (vici ``child-updown`` with ``up``)."""

    def __init__(self, path: Path, timeout: float) -> None:
        super().__init__(daemon=True)
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.connect(str(path))
        self.sock.settimeout(timeout)
        self.session = vici.Session(self.sock)
        self.up: list[float] = []
        self.down = 0
        self.ready = threading.Event()

    def run(self) -> None:
        try:
            events = self.session.listen(["child-updown"])
            self.ready.set()
            for _label, msg in events:
                if msg.get("up") in (b"yes", "yes"):
                    self.up.append(time.monotonic())
                else:
                    self.down += 1
        except Exception:  # socket closed or timed out: the run is over
            pass
        finally:
            self.ready.set()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()


def _ike_count(sess: vici.Session) -> int:
    return int(sess.stats()["ikesas"]["total"])


def run_strongswan(
    n: int, window: int, pfs: str | None, timeout: float, suite: Suite = IKEV1
) -> Result:
    with Lab(f"pyikeb{os.getpid()}") as lab, tempfile.TemporaryDirectory(prefix="pyikeb-") as tmp:
        a, b = two_sites(lab)
        add_setup_addresses(lab, a, b, n)
        ca = Charon(a, Path(tmp) / "a", swanctl_initiator(n, pfs, suite=suite), STRONGSWAN_EXTRA)
        cb = Charon(b, Path(tmp) / "b", swanctl_responder(pfs, suite=suite), STRONGSWAN_EXTRA)
        listener: ChildListener | None = None
        try:
            cb.start()
            ca.start()
            ini = _vici(ca.state / "charon.vici")
            rsp = _vici(cb.state / "charon.vici")
            if _ike_count(ini) or _ike_count(rsp):
                raise RuntimeError("fresh charons already hold IKE_SAs")
            listener = ChildListener(ca.state / "charon.vici", timeout + 30)
            listener.start()
            listener.ready.wait(5)
            time.sleep(0.2)  # the listen registration is on its way
            pids = ca.proc.pid, cb.proc.pid  # type: ignore[union-attr]
            cpu0 = cpu_seconds(pids[0]), cpu_seconds(pids[1])
            started = 0
            t0 = time.monotonic()
            deadline = t0 + timeout
            while len(listener.up) < n and time.monotonic() < deadline:
                while started < n and started - len(listener.up) < window:
                    request = {"ike": f"bench{started}", "child": "net", "timeout": "-1"}
                    for _ in ini.initiate(request):
                        pass
                    started += 1
                time.sleep(0.002)
            up = list(listener.up)
            done = min(len(up), n)
            t_end = up[done - 1] if done else time.monotonic()
            cpu = cpu_seconds(pids[0]) - cpu0[0], cpu_seconds(pids[1]) - cpu0[1]
            if done < n:
                print(f"  strongSwan: {done}/{n} CHILD_SAs within {timeout:.0f} s "
                      f"({listener.down} down events); initiator log:\n{ca.log_tail(15)}",
                      file=sys.stderr)  # fmt: skip
            result = Result(
                side="strongSwan", n=n, window=window, done=done, seconds=t_end - t0,
                first=(up[0] - t0) if up else float("nan"),
                cpu_ms=sum(cpu) / done * 1e3 if done else float("nan"),
                cpu_split=tuple(c / done * 1e3 for c in cpu) if done else (0.0, 0.0),
            )  # fmt: skip
            _report_drops(lab, "strongSwan", (a, b))
            ike_sas = _ike_count(rsp)
            if ike_sas != done:
                print(f"  strongSwan: {ike_sas} IKE_SAs at the responder for {done} CHILD_SAs",
                      file=sys.stderr)  # fmt: skip
            # clean up: delete every IKE_SA (and its child) and wait until both are empty
            for i in range(n):
                for _ in ini.terminate({"ike": f"bench{i}", "timeout": "-1", "force": "yes"}):
                    pass
            t1 = time.monotonic()
            while time.monotonic() - t1 < 30 and (_ike_count(ini) or _ike_count(rsp)):
                time.sleep(0.1)
            left = _ike_count(ini), _ike_count(rsp)
            if any(left):
                print(f"  strongSwan: IKE_SAs left after terminate: {left}", file=sys.stderr)
            return result
        finally:
            if listener is not None:
                listener.close()
            ca.stop()
            cb.stop()


# -- pyipsec -------------------------------------------------------------------------------


NO_LOG_LIMIT = ("--log-rate", "0")
# The lab raises pyipsec's admission key-pair budget (100 unproven IKE first messages a second
# per standing, then IKEv2 cookies: docs/admission.md) as tests/harness/strongswan.py raises
# strongSwan's cookie_threshold, cookie_threshold_ip and block_threshold: the benchmark measures
# key exchanges, not either daemon's DoS defence.
LAB_KEY_PAIRS = ("--ike-key-pairs", str(LAB_KEY_PAIRS_PER_SECOND))


def _installed(d: DaemonProc, seen: int, times: list[float], problems: list[str]) -> int:
    """Scan a's new log lines from index ``seen``; record completion times; return new index."""
    now = time.monotonic()
    for line in d.log[seen:]:
        if "ChildSaInstalled" in line and "rekey=False" in line:
            times.append(now)
        elif "ERROR" in line or "NegotiationFailed" in line or "AuthenticationFailed" in line:
            problems.append(line)
    return len(d.log)


def udp_rcvbuf_errors(lab: Lab, ns: str) -> int:
    """UDP datagrams the kernel dropped in ``ns`` for a full socket receive buffer."""
    lines = [line.split() for line in lab.sh(ns, "cat", "/proc/net/snmp").splitlines()]
    udp = [line for line in lines if line and line[0] == "Udp:"]
    return int(dict(zip(udp[0], udp[1], strict=True)).get("RcvbufErrors", 0)) if udp else 0


def _report_drops(lab: Lab, side: str, namespaces: tuple[str, str]) -> None:
    drops = [udp_rcvbuf_errors(lab, ns) for ns in namespaces]
    if any(drops):
        print(f"  {side}: UDP receive-buffer drops initiator/responder: "
              f"{drops[0]}/{drops[1]}", file=sys.stderr)  # fmt: skip


def _report_cookies(db: Path, done: int) -> None:
    """How many IKE_SA_INIT requests the pyipsec responder answered with a cookie (an extra
    round trip; the lab raises strongSwan's thresholds and pyipsec's key-pair budget alike,
    ``LAB_KEY_PAIRS``, so this should be none)."""
    try:
        client = ControlClient(socket_path(db), timeout=5)
        try:
            ike = client.stats().get("ike", {})
        finally:
            client.close()
    except (OSError, ValueError, KeyError) as exc:
        print(f"  pyipsec: no responder counters ({exc})", file=sys.stderr)
        return
    sent = int(ike.get("ike2-cookie-sent", 0))
    print(f"  pyipsec: responder asked for {sent} cookies in {done} setups "
          f"(key-pair budget {ike.get('ike2-cookie-budget', 0)}, "
          f"half-open share {ike.get('ike2-cookie-share', 0)})", file=sys.stderr)  # fmt: skip


def _stop_daemons(*daemons: DaemonProc, timeout: float = 30) -> list[int | None]:
    """SIGTERM each daemon and wait for it while draining every daemon's stderr.

    ``DaemonProc.stop`` waits without reading: a peer that logs hundreds of deletes meanwhile
    fills its pipe, blocks on the write and never sees its own SIGTERM."""
    for d in daemons:
        if d.proc.poll() is None:
            d.proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while d.proc.poll() is None and time.monotonic() < deadline:
            for other in daemons:
                other.read_log(0.02)
        if d.proc.poll() is None:
            print(f"  pyipsec daemon in {d.ns} ignored SIGTERM for {timeout:.0f} s; killed",
                  file=sys.stderr)  # fmt: skip
            d.proc.kill()
            d.proc.wait()
    for d in daemons:
        d.read_log()
    return [d.proc.returncode for d in daemons]


PY_SPY = ROOT / ".venv/bin/py-spy"
PROFILE_RATE = 200  # samples a second; --profile-rate


def _py_spy(pid: int, out: str) -> subprocess.Popen[bytes]:
    """Sample one daemon with py-spy (collapsed stacks) until SIGINT (measuring only).
    ``--nonblocking``: the daemon is not paused for each sample, so a higher rate distorts
    the run less (it still costs the machine CPU)."""
    return subprocess.Popen(
        [str(PY_SPY), "record", "-r", str(PROFILE_RATE), "--nonblocking", "-f", "raw",
         "-o", out, "--pid", str(pid)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


def run_pyipsec(
    n: int,
    window: int,
    pfs: str | None,
    timeout: float,
    profile: str | None = None,
    static: bool = False,
    suite: Suite = IKEV1,
    peer_prefix: bool = False,
) -> Result:
    with Lab(f"pyikeb{os.getpid()}") as lab, tempfile.TemporaryDirectory(prefix="pyikeb-") as tmp:
        a, b = two_sites(lab)
        add_setup_addresses(lab, a, b, n)
        responder = ros_responder(n, pfs, static=static, suite=suite, peer_prefix=peer_prefix)
        # every ChildSaInstalled line is a completion time: no per-kind log rate limit
        db = start_daemon(b, Path(tmp) / "b.db", responder, *NO_LOG_LIMIT, *LAB_KEY_PAIRS)
        try:
            initiator = ros_initiator(n, pfs, suite=suite)
            da = start_daemon(a, Path(tmp) / "a.db", initiator, *NO_LOG_LIMIT, *LAB_KEY_PAIRS)
        except BaseException:
            _stop_daemons(db)
            raise
        sender: Sender | None = None
        try:
            da.wait_for(f"configuration applied: {n} policies", 60)
            sender = Sender(a)
            times: list[float] = []
            problems: list[str] = []
            seen = len(da.log)
            spies = []
            if profile:
                tag = f"{profile}-{_window_label(window, n)}"
                spies = [_py_spy(d.proc.pid, f"{tag}-{d.ns[-1]}.txt") for d in (da, db)]
                time.sleep(1.0)
            cpu0 = cpu_seconds(da.proc.pid), cpu_seconds(db.proc.pid)
            sent = 0
            t0 = time.monotonic()
            deadline = t0 + timeout
            while len(times) < n and time.monotonic() < deadline:
                while sent < n and sent - len(times) < window:
                    sender.send(*inner(sent))
                    sent += 1
                da.read_log(0.002)
                db.read_log()  # keep b's stderr pipe drained
                seen = _installed(da, seen, times, problems)
            done = min(len(times), n)
            t_end = times[done - 1] if done else time.monotonic()
            cpu = cpu_seconds(da.proc.pid) - cpu0[0], cpu_seconds(db.proc.pid) - cpu0[1]
            for spy in spies:
                spy.send_signal(signal.SIGINT)
                spy.wait(timeout=30)
            _report_drops(lab, "pyipsec", (a, b))
            if suite.version == 2:
                _report_cookies(Path(tmp) / "b.db", done)
            phase1 = sum("IkeSaEstablished" in line for line in da.log)
            if phase1 != done:
                print(f"  pyipsec: {phase1} IKE SAs for {done} setups", file=sys.stderr)
            if done < n or problems:
                print(f"  pyipsec: {done}/{n} setups within {timeout:.0f} s; "
                      f"{len(problems)} problem lines, first ones:", file=sys.stderr)  # fmt: skip
                for line in problems[:10]:
                    print(f"    {line}", file=sys.stderr)
            return Result(
                side="pyipsec", n=n, window=window, done=done, seconds=t_end - t0,
                first=(times[0] - t0) if times else float("nan"),
                cpu_ms=sum(cpu) / done * 1e3 if done else float("nan"),
                cpu_split=tuple(c / done * 1e3 for c in cpu) if done else (0.0, 0.0),
            )  # fmt: skip
        finally:
            try:
                if sender is not None:
                    out = sender.close()
                    if out.strip():
                        print(f"  sender: {out.strip()[:500]}", file=sys.stderr)
            finally:  # the daemons outlive the namespaces unless stopped here
                rc_a, rc_b = _stop_daemons(da, db)
            if rc_a or rc_b:
                print(f"  pyipsec daemons exited {rc_a}/{rc_b}", file=sys.stderr)


# -- report --------------------------------------------------------------------------------


def _window_label(window: int, n: int) -> str:
    return "all" if window >= n else str(window)


HEADER = (
    f"{'side':<11}{'N':>5}{'window':>8}{'done':>6}{'seconds':>9}{'setups/s':>10}{'first s':>9}"
    f"{'cpu ms':>8}{'ini+rsp':>13}"
)


def _row(side: str, n: int, window: int, done: float, rs: list[Result]) -> str:
    """One table row: the values of one run, or the medians of several."""
    med = statistics.median
    split = "+".join(f"{med(r.cpu_split[k] for r in rs):.1f}" for k in (0, 1))
    return (
        f"{side:<11}{n:>5}{_window_label(window, n):>8}{done:>6.0f}"
        f"{med(r.seconds for r in rs):>9.2f}{med(r.rate for r in rs):>10.1f}"
        f"{med(r.first for r in rs):>9.3f}{med(r.cpu_ms for r in rs):>8.1f}{split:>13}"
    )


def main() -> int:
    global PROFILE_RATE
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("-n", type=int, default=200, help="setups per run (at most 250)")
    parser.add_argument(
        "--window", action="append", default=None,
        help="setups outstanding at a time, or 'all' (repeatable; default 16, 64, all)",
    )  # fmt: skip
    parser.add_argument("--pfs", choices=("none", "modp2048"), default="none")
    parser.add_argument("--ike2", action="store_true", help="IKEv2 on both sides instead of IKEv1")
    parser.add_argument(
        "--dh", choices=IKEV2_GROUPS, default="modp2048", help="IKEv2 key exchange group"
    )
    parser.add_argument(
        "--child", choices=IKEV2_CHILDREN, default="aes128-sha256", help="IKEv2 child SA ESP"
    )
    parser.add_argument("--timeout", type=float, default=120, help="seconds per run at most")
    parser.add_argument("--only", choices=("pyipsec", "strongSwan"), help="run one side only")
    parser.add_argument(
        "--responder", choices=("generate", "static"), default="generate",
        help="pyipsec responder: generate-policy=port-override (default) or N static policies",
    )  # fmt: skip
    parser.add_argument(
        "--responder-peer", choices=("host", "prefix"), default="host",
        help="pyipsec responder's peer address: the initiator's (default, as strongSwan's "
        "remote_addrs) or the /25 around it (the lab before 2026-12-04: an unknown road warrior "
        "to admission control, cookies past 32 half-open)",
    )  # fmt: skip
    parser.add_argument(
        "--profile", metavar="PREFIX",
        help="py-spy both pyipsec daemons into PREFIX-<window>-<a|b>.txt (collapsed stacks; "
        "the last run's)",
    )  # fmt: skip
    parser.add_argument(
        "--profile-rate", type=int, default=PROFILE_RATE, metavar="HZ",
        help="py-spy samples a second (default 200; a run of 200 setups lasts ~0.2 s)",
    )  # fmt: skip
    args = parser.parse_args()
    if args.profile and not PY_SPY.exists():
        print("--profile needs py-spy: .venv/bin/pip install py-spy", file=sys.stderr)
        return 2
    PROFILE_RATE = args.profile_rate
    if vici is None:
        print("bench_ike.py needs the PyPI package 'vici' (strongSwan's vici client): "
              ".venv/bin/pip install vici", file=sys.stderr)  # fmt: skip
        return 2
    missing = lab_prerequisites() + strongswan_prerequisites()
    if missing:
        print("bench_ike.py needs " + "; ".join(missing), file=sys.stderr)
        return 2
    pfs = None if args.pfs == "none" else args.pfs
    if not args.ike2 and (args.dh != "modp2048" or args.child != "aes128-sha256"):
        parser.error("--dh and --child choose IKEv2 suites: add --ike2")
    suite = ikev2_suite(args.dh, args.child) if args.ike2 else IKEV1
    windows = [args.n if w == "all" else int(w) for w in (args.window or ["16", "64", "all"])]
    sides = [
        (name, fn)
        for name, fn in (("strongSwan", run_strongswan), ("pyipsec", run_pyipsec))
        if args.only in (None, name)
    ]
    results: list[Result] = []
    print(
        f"{suite.describe(pfs)}; N={args.n} setups per run, one child per "
        f"{'phase 1' if suite.version == 1 else 'IKE SA'}; pyipsec "
        f"responder: {'N static policies' if args.responder == 'static' else 'generate-policy'}, "
        f"peer address {'a /25 prefix' if args.responder_peer == 'prefix' else 'the initiator /32'}"
    )

    print(HEADER)
    for _ in range(args.runs):
        for window in windows:
            for name, fn in sides:  # both sides in the same run, one after the other
                extra: dict[str, object] = {"suite": suite}
                if name == "pyipsec":
                    extra |= {
                        "profile": args.profile,
                        "static": args.responder == "static",
                        "peer_prefix": args.responder_peer == "prefix",
                    }
                r = fn(args.n, window, pfs, args.timeout, **extra)
                results.append(r)
                print(_row(r.side, r.n, r.window, r.done, [r]), flush=True)
    print(f"\nmedians of {args.runs} runs (setups/s counts completed setups only)")
    print(HEADER)
    medians: dict[tuple[str, int], float] = {}
    for window in windows:
        for name, _fn in sides:
            rs = [r for r in results if r.side == name and r.window == window]
            medians[name, window] = statistics.median(r.rate for r in rs)
            print(_row(name, args.n, window, statistics.median(r.done for r in rs), rs))
    if len(sides) == 2:
        print()
        for window in windows:
            sw, py = medians["strongSwan", window], medians["pyipsec", window]
            ratio = py / sw if sw else float("nan")
            print(f"ratio pyipsec/strongSwan, window {_window_label(window, args.n)}: {ratio:.2f}")
    incomplete = [r for r in results if r.done < r.n]
    return 1 if incomplete else 0


if __name__ == "__main__":
    sys.exit(main())
