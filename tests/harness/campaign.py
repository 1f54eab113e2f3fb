"""The mutation campaign's lab (issue 9): a pyipsec daemon with three live tunnels, attacked
with malformed datagrams built from what its tunnels really sent.

Used by ``bench/mutate_campaign.py`` (a million datagrams) and ``tests/interop/test_mutation.py``
(a short run). Topology (RFC 5737 addresses only, no default route anywhere)::

    b (pyipsec)  wan0 .130/.132 ---- a wan0 198.51.100.129/.131   ESP tunnel LAN_A <-> LAN_B,
                                                                  AH transport .131 <-> .132
    c (strongSwan) wan0 203.0.113.130 -- a wan1 203.0.113.129    ESP-in-UDP (libipsec always
                                                                  encapsulates), IKE on 4500
    m (attacker) wan0 203.0.113.194 ---- a wan2 203.0.113.193    spoofs b's and c's addresses

The daemon under test is in a. While the tunnels come up (a initiates towards b, c initiates
towards a), are used, torn down with Delete notifies and built again, a sniffer in a records
every IKE, ESP, ESP-in-UDP and AH packet; those are the templates of the mutations. The sender
runs in m (``python -m tests.harness.mutation send``), through a raw socket with ``sendmmsg``
and spoofed sources, at a bounded rate.

Accounting: every datagram the sender hands the kernel reaches one of the daemon's sockets (the
packets are well-formed IPv4/UDP around malformed payloads) or is dropped by a's kernel in a
counted place (UDP receive buffer, raw socket drops). The daemon counts what it receives: the
IKE engine every datagram (``received``, then a drop reason or an action), the packet engine
every ESP/AH packet it drops (`/ip ipsec statistics`). So ``sent = IKE received + packet-engine
drops + kernel drops`` unless a mutated packet was accepted, which is itself a finding.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pyipsec.io.control import ControlClient, socket_path
from pyipsec.io.labnet import LAN_A, LAN_B, NET_A, NET_B, WAN6_A, WAN6_B, Lab
from tests.harness.mutation import SNIFFER, Template, parse_capture, save_templates
from tests.harness.proc import cpu_seconds, rss_kib
from tests.harness.strongswan import Charon
from tests.interop.helpers import PSK, console, ping, ping_until, swanctl_conf
from tests.io.daemon_proc import ROOT, DaemonProc, start_daemon

A_WAN, B_WAN = "198.51.100.129", "198.51.100.130"  # ESP tunnel endpoints
A_AH, B_AH = "198.51.100.131", "198.51.100.132"  # AH transport
# ESP without integrity (proposal auth-algorithms=null): mutated packets are decrypted and their
# garbage reaches the trailer and inner-packet checks, which an ICV failure never lets them
# reach; its phase 1 is aggressive mode (identities and hashes in clear messages)
A_NUL, B_NUL = "198.51.100.133", "198.51.100.134"
A_UDP, C_WAN = "203.0.113.129", "203.0.113.130"  # ESP-in-UDP with strongSwan
A_M, M_WAN = "203.0.113.193", "203.0.113.194"  # the attacker's link
# IPv6 (the RFC 3849 prefix of pyipsec.io.labnet): AH transport, the v6 receive paths
A6, B6 = WAN6_A, WAN6_B
A6_M, M6 = "2001:db8:ee::1", "2001:db8:ee::2"
A_ADDRESSES = (A_WAN, A_AH, A_NUL, A_UDP, A_M, LAN_A, A6)

PEER = "enc-algorithm=aes-256 hash-algorithm=sha256 dh-group=modp2048"
PROPOSAL = (
    "/ip ipsec proposal\n"
    "set [ find default=yes ] auth-algorithms=sha256 enc-algorithms=aes-256-cbc "
    "pfs-group=modp2048\n"
    "add name=no-integrity auth-algorithms=null enc-algorithms=aes-128-cbc pfs-group=none\n"
)


def script_a() -> str:
    return (
        "/ip ipsec peer\n"
        f"add address={B_WAN}/32 secret={PSK} {PEER}\n"
        f"add address={B_AH}/32 secret={PSK} {PEER}\n"
        f"add address={B_NUL}/32 secret={PSK} {PEER} exchange-mode=aggressive\n"
        f"add address={B6}/128 secret={PSK} {PEER}\n"
        f"add address={C_WAN}/32 secret={PSK} {PEER}\n" + PROPOSAL + "/ip ipsec policy\n"
        f"add src-address={NET_A} dst-address={NET_B} sa-src-address={A_WAN} "
        f"sa-dst-address={B_WAN} tunnel=yes\n"
        f"add src-address={A_AH}/32 dst-address={B_AH}/32 sa-src-address={A_AH} "
        f"sa-dst-address={B_AH} tunnel=no ipsec-protocols=ah\n"
        f"add src-address={A_NUL}/32 dst-address={B_NUL}/32 sa-src-address={A_NUL} "
        f"sa-dst-address={B_NUL} tunnel=yes proposal=no-integrity\n"
        f"add src-address={A6}/128 dst-address={B6}/128 sa-src-address={A6} "
        f"sa-dst-address={B6} tunnel=no ipsec-protocols=ah\n"
        f"add src-address={A_UDP}/32 dst-address={C_WAN}/32 sa-src-address={A_UDP} "
        f"sa-dst-address={C_WAN} tunnel=yes\n"
    )


def script_b() -> str:
    return (
        "/ip ipsec peer\n"
        f"add address={A_WAN}/32 secret={PSK} {PEER}\n"
        f"add address={A_AH}/32 secret={PSK} {PEER}\n"
        f"add address={A_NUL}/32 secret={PSK} {PEER} exchange-mode=aggressive\n"
        f"add address={A6}/128 secret={PSK} {PEER}\n" + PROPOSAL + "/ip ipsec policy\n"
        f"add src-address={NET_B} dst-address={NET_A} sa-src-address={B_WAN} "
        f"sa-dst-address={A_WAN} tunnel=yes\n"
        f"add src-address={B_AH}/32 dst-address={A_AH}/32 sa-src-address={B_AH} "
        f"sa-dst-address={A_AH} tunnel=no ipsec-protocols=ah\n"
        f"add src-address={B_NUL}/32 dst-address={A_NUL}/32 sa-src-address={B_NUL} "
        f"sa-dst-address={A_NUL} tunnel=yes proposal=no-integrity\n"
        f"add src-address={B6}/128 dst-address={A6}/128 sa-src-address={B6} "
        f"sa-dst-address={A6} tunnel=no ipsec-protocols=ah\n"
    )


def conf_c() -> str:
    return swanctl_conf(
        local_addrs=C_WAN, local_id=C_WAN, remote_addrs=A_UDP, remote_id=A_UDP,
        local_ts=f"{C_WAN}/32", remote_ts=f"{A_UDP}/32",
    )  # fmt: skip


def build_lab(lab: Lab) -> tuple[str, str, str, str]:
    a, b, c, m = lab.ns("a"), lab.ns("b"), lab.ns("c"), lab.ns("m")
    lab.link(a, "wan0", b, "wan0")
    lab.link(a, "wan1", c, "wan0")
    lab.link(a, "wan2", m, "wan0")
    for ns, ifname, addrs in (
        (a, "wan0", (A_WAN, A_AH, A_NUL)), (b, "wan0", (B_WAN, B_AH, B_NUL)),
        (a, "wan1", (A_UDP,)), (c, "wan0", (C_WAN,)),
    ):  # fmt: skip
        for addr in addrs:
            lab.addr(ns, ifname, f"{addr}/26")
    lab.addr(a, "wan2", f"{A_M}/26")
    lab.addr(m, "wan0", f"{M_WAN}/26")
    lab.addr(a, "wan0", f"{A6}/64")
    lab.addr(b, "wan0", f"{B6}/64")
    lab.addr(a, "wan2", f"{A6_M}/64")
    lab.addr(m, "wan0", f"{M6}/64")
    lab.sh(m, "ip", "-6", "route", "add", f"{A6}/128", "via", A6_M)
    for ns, lan in ((a, LAN_A), (b, LAN_B)):
        lab.link(ns, "lan0", ns, "lan0p")
        lab.addr(ns, "lan0", f"{lan}/25")
    # m reaches a's tunnel addresses through a; a takes the spoofed sources on wan2
    for net in ("198.51.100.128/26", "203.0.113.128/26"):
        lab.sh(m, "ip", "route", "add", net, "via", A_M)
    for conf in ("all", "default", "wan2"):
        lab.sysctl(a, f"net.ipv4.conf.{conf}.rp_filter", "0")
    return a, b, c, m


# -- counters --------------------------------------------------------------------------------


def kernel_drops(lab: Lab, ns: str) -> dict[str, int]:
    """Datagrams a's kernel dropped before the daemon saw them: IP header errors and discards
    (e.g. options it refuses), UDP receive errors and the raw sockets' drop counters (the last
    column of /proc/net/raw)."""
    snmp = lab.sh(ns, "cat", "/proc/net/snmp").splitlines()

    def table(name: str) -> dict[str, int]:
        rows = [line.split()[1:] for line in snmp if line.startswith(name)]
        return dict(zip(rows[0], (int(x) for x in rows[1]), strict=True))

    fields, ip = table("Udp:"), table("Ip:")
    snmp6 = dict(line.split() for line in lab.sh(ns, "cat", "/proc/net/snmp6").splitlines() if line)
    raw = lab.sh(ns, "cat", "/proc/net/raw").splitlines()[1:]
    raw += lab.sh(ns, "cat", "/proc/net/raw6").splitlines()[1:]
    return {
        "ip-in-header-errors": ip.get("InHdrErrors", 0),
        "ip-in-discards": ip.get("InDiscards", 0),
        "udp-rcvbuf-errors": fields.get("RcvbufErrors", 0),
        "udp-in-errors": fields.get("InErrors", 0),
        **{
            name: int(snmp6.get(key, 0))
            for name, key in (
                ("ip6-in-header-errors", "Ip6InHdrErrors"),
                ("ip6-in-discards", "Ip6InDiscards"),
                ("udp6-rcvbuf-errors", "Udp6RcvbufErrors"),
                ("udp6-in-errors", "Udp6InErrors"),
            )
        },
        "raw-drops": sum(int(line.split()[-1]) for line in raw if line.strip()),
    }


def daemon_counters(db: Path) -> dict[str, Any]:
    """The daemon's internal counters and `/ip ipsec statistics print`, as it prints them."""
    client = ControlClient(socket_path(db))
    try:
        stats = client.stats()
        ok, out = client.run("/ip ipsec statistics print")
    finally:
        client.close()
    assert ok, out
    printed = {k: int(v) for k, v in re.findall(r"([a-z-]+): (\d+)", out)}
    return {**stats, "statistics": printed}


def process_usage(pid: int) -> dict[str, float]:
    """CPU seconds (user + system) and resident memory (MB) of process ``pid``."""
    return {"cpu-s": cpu_seconds(pid), "rss-mb": rss_kib(pid) / 1024}


def peers_sent(ml: MutationLab) -> dict[str, int]:
    """SPI -> packets the peers sent through their outbound SAs (pyipsec b's counters,
    strongSwan's ``swanctl --list-sas``): what a's SAs may rightly accept."""
    assert ml.peer is not None and ml.charon is not None
    out: dict[str, int] = {}  # by SPI as "0x..."
    for key, packets in daemon_counters(ml.peer.db)["outbound-sa-packets"].items():
        out[key.rsplit("/", 1)[1]] = packets
    listing = ml.charon.swanctl("--list-sas", check=False)
    for spi, packets in re.findall(r"out\s+([0-9a-f]{8})\b[^\n]*?(\d+) packets", listing):
        out[f"{int(spi, 16):#x}"] = int(packets)
    return out


def snapshot(lab: Lab, ns: str, daemon: DaemonProc) -> dict[str, Any]:
    return {
        **daemon_counters(daemon.db),
        "kernel": kernel_drops(lab, ns),
        "process": process_usage(daemon.proc.pid),  # `ip netns exec` execs the daemon
    }


def delta(after: dict[str, int], before: dict[str, int]) -> dict[str, int]:
    keys = set(after) | set(before)
    return {
        k: after.get(k, 0) - before.get(k, 0)
        for k in sorted(keys)
        if after.get(k, 0) != before.get(k, 0)
    }


# -- the daemon's log while it is attacked ----------------------------------------------------

BAD_LOG = ("Traceback", "Exception in callback", "exception was never retrieved",
           "Logging error", "internal-error", "failed on a datagram", "timer failed",
           "handling data-plane events failed")  # fmt: skip


class LogWatch:
    """Drains a daemon's stderr in a thread (a full pipe would block the daemon), counting
    lines by topic and keeping the suspicious ones and the last few."""

    def __init__(self, daemon: DaemonProc) -> None:
        self.daemon = daemon
        self.topics: Counter[str] = Counter()
        self.bad: list[str] = []
        self.errors: list[str] = []  # error lines a malformed datagram may rightly cause
        self.info: list[str] = []  # SA lifecycle lines: why a tunnel stopped, when one does
        self.tail: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> LogWatch:
        self.daemon.read_log()
        self._seen = len(self.daemon.log)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._take()

    def _take(self) -> None:
        log = self.daemon.log
        new, self._seen = log[self._seen :], len(log)
        for line in new:
            parts = line.split(" ", 2)
            self.topics[parts[1] if len(parts) > 2 else "?"] += 1
            if any(b in line for b in BAD_LOG) and len(self.bad) < 200:
                self.bad.append(line)
            elif ",error" in line and len(self.errors) < 20:
                self.errors.append(line)
            elif parts[1:2] == ["ipsec"] and len(self.info) < 200:
                self.info.append(line)
        self.tail = (self.tail + new)[-40:]
        del log[:]  # keep the process's memory flat over a million datagrams
        self._seen = 0

    def _run(self) -> None:
        while not self._stop.is_set():
            self.daemon.read_log(0.2)
            self._take()


# -- the lab ---------------------------------------------------------------------------------


@dataclass
class MutationLab:
    lab: Lab
    a: str
    b: str
    c: str
    m: str
    tmp: Path
    daemon: DaemonProc | None = None
    peer: DaemonProc | None = None
    charon: Charon | None = None
    templates: list[Template] = field(default_factory=list)

    @property
    def corpus(self) -> Path:
        return self.tmp / "corpus.json"

    def tunnels_work(self, count: int = 3) -> dict[str, int]:
        """Ping replies through each tunnel (``count`` pings each)."""
        lab = self.lab
        return {
            "esp": ping(lab, self.a, LAN_A, LAN_B, count=count),
            "ah": ping(lab, self.a, A_AH, B_AH, count=count),
            "esp-no-integrity": ping(lab, self.a, A_NUL, B_NUL, count=count),
            "ah-ipv6": ping(lab, self.a, A6, B6, count=count),
            "esp-in-udp": ping(lab, self.a, A_UDP, C_WAN, count=count),
        }

    def establish(self) -> None:
        assert self.charon is not None
        ping_until(self.lab, self.a, LAN_A, LAN_B, timeout=40, fail_on=self.daemon)
        ping_until(self.lab, self.a, A_AH, B_AH, timeout=40, fail_on=self.daemon)
        ping_until(self.lab, self.a, A_NUL, B_NUL, timeout=40, fail_on=self.daemon)
        ping_until(self.lab, self.a, A6, B6, timeout=40, fail_on=self.daemon)
        self.charon.swanctl("--initiate", "--child", "net", "--timeout", "30", timeout=40)
        ping_until(self.lab, self.a, A_UDP, C_WAN, timeout=20)

    def capture_and_settle(self) -> None:
        """Tunnels up with the sniffer running, traffic, Delete notifies (b kills its
        connections, c terminates its IKE SA) and the tunnels up again; then the templates."""
        assert self.peer is not None and self.charon is not None
        out = self.tmp / "capture.txt"
        with open(out, "w") as sink:
            sniffer = subprocess.Popen(
                ["ip", "netns", "exec", self.a, sys.executable, "-c", SNIFFER, "600"],
                stdout=sink, text=True,
            )  # fmt: skip
        try:
            deadline = time.monotonic() + 10
            while "ready" not in out.read_text() and time.monotonic() < deadline:
                time.sleep(0.05)
            self.establish()
            self.tunnels_work(count=5)
            console(self.peer.db, "/ip ipsec remote-peers kill-connections")
            self.charon.swanctl("--terminate", "--ike", "v1", "--timeout", "10", check=False)
            time.sleep(1)
            self.establish()
            self.tunnels_work(count=5)
        finally:
            sniffer.terminate()
            sniffer.wait(timeout=10)
        self.templates = parse_capture(out.read_text().splitlines(), A_ADDRESSES)
        save_templates(self.templates, self.corpus)

    def kinds(self) -> Counter[str]:
        return Counter(t.kind for t in self.templates)


@contextlib.contextmanager
def mutation_lab(lab: Lab, tmp: Path, *daemon_args: str) -> Iterator[MutationLab]:
    """The lab with both daemons and charon running and the templates captured; everything
    started here is stopped again (the daemons must exit with status 0). ``daemon_args`` go
    to the daemon under test (e.g. ``--debug``: every drop is formatted for the log)."""
    a, b, c, m = build_lab(lab)
    (tmp / "a").mkdir(exist_ok=True)
    (tmp / "b").mkdir(exist_ok=True)
    ml = MutationLab(lab, a, b, c, m, tmp)
    ml.charon = Charon(c, tmp / "charon", conf_c())
    ml.charon.start()
    try:
        ml.daemon = start_daemon(a, tmp / "a" / "a.db", script_a(), *daemon_args)
        try:
            ml.peer = start_daemon(b, tmp / "b" / "b.db", script_b())
            try:
                ml.capture_and_settle()
                yield ml
            finally:
                ml.peer.stop()
        finally:
            rc = ml.daemon.stop()
        assert rc == 0, "\n".join(ml.daemon.log[-40:])
    finally:
        ml.charon.stop()


# -- one campaign ----------------------------------------------------------------------------


def send_mutations(ml: MutationLab, count: int, seed: int, rate: float) -> dict[str, Any]:
    env = dict(os.environ, PYTHONPATH=f"{ROOT}:{ROOT / 'src'}")
    proc = subprocess.run(
        ["ip", "netns", "exec", ml.m, sys.executable, "-m", "tests.harness.mutation", "send",
         str(ml.corpus), "--count", str(count), "--seed", str(seed), "--rate", str(rate)],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=count / rate * 3 + 120,
    )  # fmt: skip
    if proc.returncode != 0:
        raise RuntimeError(f"sender failed: {proc.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


@dataclass
class CampaignResult:
    sent: dict[str, Any]
    before: dict[str, Any]
    after: dict[str, Any]
    tunnels: dict[str, int]
    pings_during: tuple[int, int]
    log_topics: dict[str, int]
    bad_log: list[str]
    error_log: list[str]
    alive: bool
    info_log: list[str] = field(default_factory=list)  # the daemon's SA lifecycle lines
    peer_log: list[str] = field(default_factory=list)  # the last lines of b's daemon
    renegotiations: list[float] = field(default_factory=list)  # seconds to a working tunnel
    verdicts: dict[str, bool] = field(default_factory=dict)
    accounting: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return all(self.verdicts.values())


def settle(ml: MutationLab, timeout: float = 30) -> None:
    """Wait until the daemon has worked through what is queued (its counters stop moving)."""
    assert ml.daemon is not None
    last = None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        now = json.dumps(daemon_counters(ml.daemon.db), sort_keys=True)
        if now == last:
            return
        last = now
        time.sleep(1.0)


def renegotiate(ml: MutationLab, every: float, stop: threading.Event, took: list[float]) -> None:
    """Every ``every`` seconds b kills its connections (Delete notifies to a) and a negotiates
    the LAN tunnel again, under the attack; ``took`` gets the seconds to the first reply."""
    assert ml.peer is not None
    while not stop.wait(every):
        start = time.monotonic()
        console(ml.peer.db, "/ip ipsec remote-peers kill-connections")
        try:
            ping_until(ml.lab, ml.a, LAN_A, LAN_B, timeout=30)
            took.append(time.monotonic() - start)
        except AssertionError:
            took.append(float("inf"))


def peer_tail(ml: MutationLab, n: int = 40) -> list[str]:
    """The last lines b's daemon logged (b is not attacked; its view of a dead tunnel)."""
    if ml.peer is None:
        return []
    with contextlib.suppress(OSError, ValueError):
        ml.peer.read_log(0.2)
    return list(ml.peer.log[-n:])


def run_campaign(
    ml: MutationLab, count: int, seed: int, rate: float, renegotiate_every: float = 0.0
) -> CampaignResult:
    """Send ``count`` mutated datagrams; with ``renegotiate_every``, b also tears its tunnels
    down that often and a negotiates them again while the attack goes on."""
    assert ml.daemon is not None
    daemon = ml.daemon
    sent_before = peers_sent(ml)  # before a's counters: a cannot have accepted more since
    before = snapshot(ml.lab, ml.a, daemon)
    before["peers-sent"] = sent_before
    pinger = subprocess.Popen(
        ["ip", "netns", "exec", ml.a, "ping", "-n", "-q", "-i", "0.5", "-W", "2", "-I", LAN_A,
         LAN_B],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    stop, took = threading.Event(), list[float]()
    churn = threading.Thread(
        target=renegotiate, args=(ml, renegotiate_every, stop, took), daemon=True
    )
    with LogWatch(daemon) as watch:
        if renegotiate_every:
            churn.start()
        try:
            sent = send_mutations(ml, count, seed, rate)
        finally:
            stop.set()
            if renegotiate_every:
                churn.join()
            pinger.send_signal(2)
            out, _ = pinger.communicate(timeout=10)
        settle(ml)
        if renegotiate_every:  # b's other tunnels went down too: traffic brings them back
            for src, dst in ((A_AH, B_AH), (A_NUL, B_NUL), (A6, B6)):
                with contextlib.suppress(AssertionError):
                    ping_until(ml.lab, ml.a, src, dst, timeout=30)
    m = re.search(r"(\d+) packets transmitted, (\d+) received", out)
    pings = (int(m.group(1)), int(m.group(2))) if m else (0, 0)
    try:
        after = snapshot(ml.lab, ml.a, daemon)
        after["peers-sent"] = peers_sent(ml)  # after a's: all a accepted was sent by then
    except (OSError, ValueError, KeyError, StopIteration):  # the daemon is gone: a verdict fails
        after = before
    alive = daemon.proc.poll() is None
    tunnels = ml.tunnels_work(count=5)
    result = CampaignResult(
        sent=sent, before=before, after=after, tunnels=tunnels, pings_during=pings,
        log_topics=dict(watch.topics), bad_log=watch.bad, error_log=watch.errors, alive=alive,
        renegotiations=took, info_log=watch.info, peer_log=peer_tail(ml),
    )  # fmt: skip
    judge(result)
    return result


# IKE engine counters that are not a received datagram's drop reason (half-open-*: the
# admission table's events; unknown-spi*, invalid-spi-*: ESP for unknown SPIs, reported by the
# packet engine and answered with INVALID-SPI)
IKE_NOT_DROPS = frozenset({"received", "retransmitted", "retransmission-answered"})


def ike_drop(key: str) -> bool:
    key = key.removeprefix("ike2-")  # IKEv2's counters (core/engine.py), named as IKEv1's
    return key not in IKE_NOT_DROPS and not key.startswith(
        ("half-open-", "unknown-spi", "invalid-spi")
    )


def internal_errors(ike: dict[str, int]) -> int:
    """The IKE engines' safety nets: IKEv1's ``internal-error``, IKEv2's ``ike2-...``."""
    return sum(v for k, v in ike.items() if k.removeprefix("ike2-") == "internal-error")


def judge(r: CampaignResult) -> None:
    ike = delta(r.after["ike"], r.before["ike"])
    ipsec = delta(r.after["statistics"], r.before["statistics"])
    kernel = delta(r.after["kernel"], r.before["kernel"])
    classes = r.sent["classes"]
    sent_ike = classes.get("ike", 0)
    sent_dp = sum(classes.get(k, 0) for k in ("esp", "ah", "espudp"))
    in_drops = sum(v for k, v in ipsec.items() if k.startswith("in-"))
    kdrops = sum(kernel.values())
    received = ike.get("received", 0)
    # Packets the inbound SAs accepted meanwhile: with integrity, only the pings' replies; ESP
    # without integrity decrypts any input to something, so mutated packets pass its (absent)
    # ICV, and are counted there and then delivered or dropped by a later check.
    sa_packets = delta(r.after["inbound-sa-packets"], r.before["inbound-sa-packets"])
    no_integrity = sum(max(0, v) for k, v in sa_packets.items() if k.startswith("null/"))
    # an SA with integrity accepts no more than its peer sent through it meanwhile (the pings'
    # replies, the peer's own ICMP errors about the attack's spoofed datagrams, IPv6 ND)
    peer_sent = delta(r.after["peers-sent"], r.before["peers-sent"])
    forged = sum(
        max(0, v - peer_sent.get(k.rsplit("/", 1)[1], 0))
        for k, v in sa_packets.items()
        if not k.startswith("null/")
    )
    # what no drop counter and not the IKE engine saw: delivered through the SA without integrity
    unaccounted = sent_ike + sent_dp - received - in_drops - kdrops
    r.accounting = {
        "sent-to-ike": sent_ike,
        "sent-to-packet-engine": sent_dp,
        "sent-keepalive-like": classes.get("keepalive", 0),
        "ike-received": received,
        "ike-dropped": sum(v for k, v in ike.items() if ike_drop(k)),
        "packet-engine-dropped": in_drops,
        "kernel-dropped": kdrops,
        "accepted-by-sa-without-integrity": no_integrity,
        "accepted-by-sa-with-integrity-not-ours": forged,
        "not-dropped": unaccounted,
    }
    # the tunnels' own IKE traffic meanwhile (a renegotiation of b's four: ~50 datagrams)
    slack = max(20, (sent_ike + sent_dp) // 1000) + 60 * len(r.renegotiations)
    r.verdicts = {
        "daemon alive": r.alive,
        "no internal-error in the IKE engine": internal_errors(ike) == 0,
        "no exception at the IKE endpoint": r.after.get("ike-endpoint-errors", 0) == 0,
        "no in-errors/out-errors (packet engine safety net)": not (
            ipsec.get("in-errors") or ipsec.get("out-errors")
        ),
        "no traceback or internal error in the log": not r.bad_log,
        "every tunnel still carries traffic": all(n >= 3 for n in r.tunnels.values()),
        "no mutated packet passes an integrity check": forged == 0,
        "counters account for every datagram": -slack <= unaccounted <= no_integrity + slack,
    }
    if r.renegotiations:
        r.verdicts["every renegotiation under attack done within 10 s"] = max(r.renegotiations) < 10


def report(r: CampaignResult) -> str:
    cpu = r.after["process"]["cpu-s"] - r.before["process"]["cpu-s"]
    ike = delta(r.after["ike"], r.before["ike"])
    ipsec = delta(r.after["statistics"], r.before["statistics"])
    kernel = delta(r.after["kernel"], r.before["kernel"])
    lines = [
        f"datagrams sent: {r.sent['sent']} in {r.sent['seconds']} s ({r.sent['rate']}/s)",
        f"  by receiver: {r.sent['classes']}",
        f"  by mutation: {dict(sorted(r.sent['mutations'].items()))}",
        f"  send errors: {r.sent['errors'] or 'none'}",
        "IKE engine counters (before -> after):",
        *(
            f"  {k}: {r.before['ike'].get(k, 0)} -> {r.after['ike'].get(k, 0)}"
            for k in sorted(set(r.before["ike"]) | set(r.after["ike"]))
        ),
        "/ip ipsec statistics (changed, before -> after):",
        *(
            f"  {k}: {r.before['statistics'].get(k, 0)} -> {r.after['statistics'][k]}"
            for k in ipsec
        ),
        f"kernel drops in a (delta): {kernel or 'none'}",
        "daemon CPU {:.1f} s ({:.0f} us a datagram), RSS {:.1f} -> {:.1f} MB".format(
            cpu,
            cpu / max(1, r.sent["sent"]) * 1e6,
            *(x["process"]["rss-mb"] for x in (r.before, r.after)),
        ),
        f"IKE delta: {ike}",
        "packets accepted by inbound SAs (delta): "
        f"{delta(r.after['inbound-sa-packets'], r.before['inbound-sa-packets'])}",
        f"accounting: {r.accounting}",
        "renegotiations under attack (s to the first reply): "
        + (", ".join(f"{t:.1f}" for t in r.renegotiations) or "none"),
        "pings through the ESP tunnel during the campaign: "
        f"{r.pings_during[1]}/{r.pings_during[0]}",
        f"pings after (of 5): {r.tunnels}",
        f"daemon log lines by topic: {r.log_topics}",
    ]
    if r.error_log:
        lines += ["error lines (first 20):", *(f"  {x}" for x in r.error_log)]
    if r.bad_log:
        lines += ["suspicious log lines:", *(f"  {x}" for x in r.bad_log[:20])]
    if not all(n >= 3 for n in r.tunnels.values()):  # why a tunnel stopped: both daemons' view
        lines += ["a's SA lifecycle lines:", *(f"  {x}" for x in r.info_log[-60:])]
        lines += ["b's last log lines:", *(f"  {x}" for x in r.peer_log)]
    lines += [f"verdict {'PASS' if ok else 'FAIL'}: {name}" for name, ok in r.verdicts.items()]
    return "\n".join(lines)
