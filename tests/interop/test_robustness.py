"""Robustness of the IKEv1 daemon against a lossy path, bad peers and malformed input (issue 5).

- 30 % loss in each direction: a router namespace between pyipsec and strongSwan drops 30 % of
  the packets it forwards (nftables ``numgen random``; this kernel has no ``sch_netem``); the
  tunnel still comes up within a bounded time and traffic passes.
- Wrong PSK, unacceptable phase-1/phase-2 proposals, unknown peer (strongSwan in ns b): a clear
  log line, no SA, and the same daemon then serves a correctly configured pyipsec in ns c.
- Malformed ISAKMP at UDP 500 and 4500 (truncated headers, random bytes, mutated copies of the
  real messages of a negotiation captured on the wire): the daemon stays up, logs the drops,
  the established tunnel keeps working and a new negotiation succeeds.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from pyipsec.io.labnet import LAN_A, LAN_B, NET_A, NET_B, Lab, lab_prerequisites
from tests.conftest import require
from tests.harness.campaign import daemon_counters
from tests.harness.mutation import (
    SNIFFER,
    captured_ike,
    fuzz_datagrams,
    parse_capture,
    receiver_class,
)
from tests.harness.strongswan import SWANCTL, Charon, strongswan_prerequisites
from tests.interop.helpers import (
    PSK,
    console,
    installed_spis,
    log_text,
    ping,
    ping_until,
    ros_script,
    start_pyipsec,
    strongswan_pair,
    swanctl_conf,
    wait_log,
    with_logs,
)
from tests.io.daemon_proc import DaemonProc

pytestmark = pytest.mark.netns

# a (pyipsec) -- r (router, drops 30 %) -- b (strongSwan)
A_WAN, R_A, R_B, B_WAN = "198.51.100.129", "198.51.100.130", "198.51.100.193", "198.51.100.194"
LOSS_RULES = """table inet pyipsec_interop_loss {
    chain forward {
        type filter hook forward priority filter;
        numgen random mod 100 < 30 counter drop
    }
}
"""


# How long the tunnel may take to come up through the loss. A round trip gets through with
# 0.7 * 0.7 = 0.49. pyipsec sends each phase-1 message at 0, 3, 9, 21 and 45 s and gives the
# phase 1 up 93 s after the last new one (core/retransmit.py); the next ping's acquire starts
# the next attempt. strongSwan forgets a half-open IKE SA 30 s after it got message 1, so a
# message 3 or 5 that needs the 45 s send is lost anyway: about one attempt in five fails
# (11 of 53 attempts in 42 runs of this test; packet captures on both sides showed every
# datagram that arrived handled and answered). A failed attempt costs ~95 s, so the old
# budget of 200 s failed whenever two attempts in a row did (~4 % of runs). 440 s covers four
# failed attempts and a slow fifth (a successful attempt takes < 60 s at the 99th
# percentile): five failures in a row come about once in 2,500 runs (0.21 ** 5). The usual
# run still takes 5-30 s. One more dead end (seen once in those 42 runs, ~1 %): our
# quick-mode message 3 is lost and so are strongSwan's five repeats of message 2 or our
# answers to them (0.3 * 0.51 ** 5); strongSwan then drops its IKE SA without a word, while
# pyipsec, which installed the SAs on message 2 as RFC 2409 has it, cannot know (IKEv1 has
# no acknowledgement of message 3 without the commit bit, which strongSwan does not do) and
# would send into SAs nobody has until their lifetime ends. What finds such a half tunnel in
# a real deployment is DPD (RFC 3706; RouterOS: dpd-interval=2m, dpd-maximum-failures=5);
# the test's peer has it at 10 s x 3 (LOSS_DPD). strongSwan keeps its IKE SA, and ACKs our
# R-U-THEREs, while it repeats message 2 (4 s x 1.8 ** n, 5 repeats: it gives up ~165 s
# after sending it); then three probes go unanswered and pyipsec deletes the SAs and the
# phase 1, and the next ping starts a new attempt. Measured with every quick-mode message 3
# dropped by an nft rule (no other loss): DPD fired 200 s after the first ping, the tunnel
# was up 1 s later. So the dead end costs ~200 s plus one attempt (< 60 s), within the
# budget even after a failed phase 1; tests/core/ikev1/exchanges/test_dpd.py shows the
# detection and renegotiation in memory. While the tunnel carries the pings, inbound ESP is
# the sign of life (no probes).
LOSS_BUDGET = 440
LOSS_DPD = "dpd-interval=10s dpd-maximum-failures=3"


def nft_missing() -> list[str]:
    return [] if shutil.which("nft") else ["nft (Debian package nftables)"]


@pytest.fixture(scope="module")
def relayed() -> Iterator[tuple[Lab, str, str, str]]:
    require(lab_prerequisites() + strongswan_prerequisites() + nft_missing())
    with Lab(f"pyilo{os.getpid()}") as lab:
        a, r, b = lab.ns("a"), lab.ns("r"), lab.ns("b")
        lab.link(a, "wan0", r, "ra")
        lab.link(r, "rb", b, "wan0")
        lab.addr(a, "wan0", f"{A_WAN}/26")
        lab.addr(r, "ra", f"{R_A}/26")
        lab.addr(r, "rb", f"{R_B}/26")
        lab.addr(b, "wan0", f"{B_WAN}/26")
        lab.sysctl(r, "net.ipv4.ip_forward", "1")
        lab.sh(a, "ip", "route", "add", "198.51.100.192/26", "via", R_A)
        lab.sh(b, "ip", "route", "add", "198.51.100.128/26", "via", R_B)
        for ns, lan in ((a, LAN_A), (b, LAN_B)):
            lab.link(ns, "lan0", ns, "lan0p")
            lab.addr(ns, "lan0", f"{lan}/25")
        yield lab, a, r, b


def test_tunnel_comes_up_through_30_percent_loss_each_way(
    relayed: tuple[Lab, str, str, str], tmp_path: Path
) -> None:
    lab, a, r, b = relayed
    assert ping(lab, a, A_WAN, B_WAN, count=3) == 3  # the path itself works
    rules = tmp_path / "loss.nft"
    rules.write_text(LOSS_RULES)
    lab.sh(r, "nft", "-f", str(rules))
    try:
        script = ros_script(
            peer_address=f"{B_WAN}/32", sa_src=A_WAN, sa_dst=B_WAN, peer_extra=LOSS_DPD
        )
        conf = swanctl_conf(local_addrs=B_WAN, local_id=B_WAN, remote_addrs=A_WAN, remote_id=A_WAN)
        with strongswan_pair(a, b, tmp_path, script, conf) as (daemon, _charon):
            took = ping_until(lab, a, LAN_A, LAN_B, timeout=LOSS_BUDGET)
            print(f"tunnel up after {took:.1f}s through 30 % loss each way")
            received = ping(lab, a, LAN_A, LAN_B, count=30, interval=0.2, wait=1)
            received_b = ping(lab, b, LAN_B, LAN_A, count=30, interval=0.2, wait=1)
            print(f"pings through the tunnel: a->b {received}/30, b->a {received_b}/30")
            # 0.7 * 0.7 = 49 % of the round trips survive; 4 of 30 is far in the tail
            assert received >= 4 and received_b >= 4, (received, received_b)
            counters = lab.sh(r, "nft", "list", "table", "inet", "pyipsec_interop_loss")
            print(counters)
            assert len(installed_spis(daemon.db)) >= 2
            assert "IkeSaEstablished" in log_text(daemon)
    finally:
        lab.sh(r, "nft", "delete", "table", "inet", "pyipsec_interop_loss")


# -- bad peers ---------------------------------------------------------------------------------
# a (pyipsec): wan0 198.51.100.129/25 to b (strongSwan), wan1 203.0.113.129/25 to c (pyipsec)
B_WAN2, A_WAN2, C_WAN = "198.51.100.130", "203.0.113.129", "203.0.113.130"


@pytest.fixture(scope="module")
def star() -> Iterator[tuple[Lab, str, str, str]]:
    require(lab_prerequisites() + strongswan_prerequisites())
    with Lab(f"pyist{os.getpid()}") as lab:
        a, b, c = lab.ns("a"), lab.ns("b"), lab.ns("c")
        lab.link(a, "wan0", b, "wan0")
        lab.link(a, "wan1", c, "wan0")
        lab.addr(a, "wan0", f"{A_WAN}/25")
        lab.addr(b, "wan0", f"{B_WAN2}/25")
        lab.addr(a, "wan1", f"{A_WAN2}/25")
        lab.addr(c, "wan0", f"{C_WAN}/25")
        for ns, lan in ((a, LAN_A), (b, LAN_B)):
            lab.link(ns, "lan0", ns, "lan0p")
            lab.addr(ns, "lan0", f"{lan}/25")
        yield lab, a, b, c


def star_script_a(*, with_b: bool) -> str:
    """pyipsec in a: peer b (LAN to LAN) unless ``with_b`` is false, and peer c (host to
    host tunnel between the wan1/c addresses), both aes-256/sha256/modp2048."""
    peer = "enc-algorithm=aes-256 hash-algorithm=sha256 dh-group=modp2048"
    lines = ["/ip ipsec peer", f"add address={C_WAN}/32 secret=c-side-psk {peer}"]
    if with_b:
        lines.append(f"add address={B_WAN2}/32 secret={PSK} {peer}")
    lines += [
        "/ip ipsec proposal",
        "set [ find default=yes ] auth-algorithms=sha256 enc-algorithms=aes-256-cbc "
        "pfs-group=modp2048",
        "/ip ipsec policy",
        f"add src-address={A_WAN2}/32 dst-address={C_WAN}/32 sa-src-address={A_WAN2} "
        f"sa-dst-address={C_WAN} tunnel=yes",
    ]
    if with_b:
        lines.append(
            f"add src-address={NET_A} dst-address={NET_B} sa-src-address={A_WAN} "
            f"sa-dst-address={B_WAN2} tunnel=yes"
        )
    return "\n".join(lines) + "\n"


def script_c() -> str:
    return (
        "/ip ipsec peer\n"
        f"add address={A_WAN2}/32 secret=c-side-psk enc-algorithm=aes-256 "
        "hash-algorithm=sha256 dh-group=modp2048\n"
        "/ip ipsec proposal\n"
        "set [ find default=yes ] auth-algorithms=sha256 enc-algorithms=aes-256-cbc "
        "pfs-group=modp2048\n"
        "/ip ipsec policy\n"
        f"add src-address={C_WAN}/32 dst-address={A_WAN2}/32 sa-src-address={C_WAN} "
        f"sa-dst-address={A_WAN2} tunnel=yes\n"
    )


@dataclass(frozen=True)
class BadPeer:
    id: str
    initiator: str  # who starts the failing negotiation: "pyipsec" or "strongswan"
    expect: tuple[str, ...]  # all of these in one line of pyipsec's log
    conf: dict[str, object]
    with_b: bool = True


GOOD_IKE, GOOD_ESP = "aes256-sha256-modp2048", "aes256-sha256-modp2048"
BAD_PEERS = [
    BadPeer("wrong-psk-pyipsec-initiates", "pyipsec", ("ipsec,error", "AuthenticationFailed"),
            {"secret": "not-the-lab-psk"}),
    BadPeer("wrong-psk-strongswan-initiates", "strongswan",
            ("ipsec,error", "AuthenticationFailed"), {"secret": "not-the-lab-psk"}),
    BadPeer("phase1-proposal-pyipsec-initiates", "pyipsec",
            ("ipsec,error", "NegotiationFailed", "NO_PROPOSAL_CHOSEN"),
            {"ike": "aes128-sha1-modp1024"}),
    BadPeer("phase1-proposal-strongswan-initiates", "strongswan",
            ("ipsec,error", "NegotiationFailed", "NO_PROPOSAL_CHOSEN"),
            {"ike": "aes128-sha1-modp1024"}),
    BadPeer("phase2-proposal-pyipsec-initiates", "pyipsec",
            ("ipsec,error", "NegotiationFailed", "NO_PROPOSAL_CHOSEN"),
            {"esp": "3des-md5-modp1024"}),
    BadPeer("phase2-proposal-strongswan-initiates", "strongswan",
            ("ipsec,error", "NegotiationFailed", "NO_PROPOSAL_CHOSEN"),
            {"esp": "3des-md5-modp1024"}),
    BadPeer("unknown-peer", "strongswan", ("ipsec,warning", "unknown-peer", B_WAN2), {},
            with_b=False),
]  # fmt: skip


def start_initiate(charon: Charon, timeout: int = 15) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [SWANCTL, "--initiate", "--child", "net", "--timeout", str(timeout),
         "--uri", f"unix://{charon.state}/charon.vici"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=charon.env,
    )  # fmt: skip


def wait_line(daemon: DaemonProc, parts: tuple[str, ...], timeout: float = 25) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        daemon.read_log(0.2)
        for line in daemon.log:
            if all(p in line for p in parts):
                return line
    raise AssertionError(f"no log line with {parts}")


@pytest.mark.parametrize("case", BAD_PEERS, ids=lambda c: c.id)
def test_bad_peer_is_refused_and_daemon_serves_others(
    star: tuple[Lab, str, str, str], tmp_path: Path, case: BadPeer
) -> None:
    lab, a, b, c = star
    conf = swanctl_conf(**{"ike": GOOD_IKE, "esp": GOOD_ESP, **case.conf})  # type: ignore[arg-type]
    script = star_script_a(with_b=case.with_b)
    (tmp_path / "c").mkdir()
    with strongswan_pair(a, b, tmp_path, script, conf) as (daemon, charon):  # no --debug
        initiate = None
        try:
            if case.initiator == "strongswan":
                initiate = start_initiate(charon)
                line = wait_line(daemon, case.expect)
            else:
                deadline = time.monotonic() + 15
                while True:
                    assert ping(lab, a, LAN_A, LAN_B, count=1, wait=1) == 0
                    daemon.read_log()
                    found = [x for x in daemon.log if all(p in x for p in case.expect)]
                    if found:
                        line = found[0]
                        break
                    assert time.monotonic() < deadline, f"no log line with {case.expect}"
        finally:
            if initiate is not None:
                if initiate.poll() is None:
                    initiate.kill()
                initiate.communicate()
        print(f"{case.id}: {line}")
        assert installed_spis(daemon.db) == set()
        assert "INSTALLED" not in charon.swanctl("--list-sas")
        assert ping(lab, a, LAN_A, LAN_B, count=1, wait=1) == 0
        # the same daemon still serves a correctly configured peer (pyipsec in ns c)
        other = start_pyipsec(c, tmp_path / "c" / "c.db", script_c())
        try:
            with with_logs(other):
                ping_until(lab, c, C_WAN, A_WAN2, timeout=20, fail_on=other)
                assert ping(lab, a, A_WAN2, C_WAN) == 3
                assert len(installed_spis(daemon.db)) == 2
        finally:
            assert other.stop() == 0
        assert daemon.proc.poll() is None


# -- malformed input ---------------------------------------------------------------------------

SENDER = r"""
import socket, sys, time
dst = sys.argv[1]
n = 0
for line in sys.stdin:
    port, data = line.split()
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.sendto(bytes.fromhex(data) if data != "-" else b"", (dst, int(port)))
    s.close()
    n += 1
    if n % 50 == 0:
        time.sleep(0.01)
print(n, flush=True)
"""


def test_malformed_isakmp_does_not_hurt_the_daemon(
    star: tuple[Lab, str, str, str], tmp_path: Path
) -> None:
    lab, a, b, _c = star
    script = star_script_a(with_b=True)
    conf = swanctl_conf(remote_addrs=A_WAN)
    with strongswan_pair(a, b, tmp_path, script, conf, "--debug") as (daemon, charon):
        sniffer = subprocess.Popen(
            ["ip", "netns", "exec", a, sys.executable, "-c", SNIFFER, "6"],
            stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            assert sniffer.stdout is not None and sniffer.stdout.readline().strip() == "ready"
            charon.swanctl("--initiate", "--child", "net", "--timeout", "20")
            assert ping(lab, a, LAN_A, LAN_B) == 3
            out, _ = sniffer.communicate(timeout=20)
        finally:
            if sniffer.poll() is None:
                sniffer.kill()
                sniffer.communicate()
        real = captured_ike(parse_capture(out.splitlines(), (A_WAN,)))
        assert len(real) >= 5, out  # strongSwan's main mode 1, 3, 5 and quick mode 1, 3
        datagrams = fuzz_datagrams(real)
        daemon.read_log()
        before = len(daemon.log)
        counters = daemon_counters(daemon.db)
        sender = subprocess.run(
            ["ip", "netns", "exec", b, sys.executable, "-c", SENDER, A_WAN],
            input="".join(f"{p} {d.hex() or '-'}\n" for p, d in datagrams),
            capture_output=True, text=True, timeout=120, check=True,
        )  # fmt: skip
        assert int(sender.stdout) == len(datagrams)
        time.sleep(1)
        daemon.read_log()
        assert daemon.proc.poll() is None, "daemon died"
        # the log is rate-limited (a few lines per kind a second): the engine's counters tell
        # what became of each datagram the IKE engine was handed
        after = daemon_counters(daemon.db)
        to_ike = sum(1 for port, d in datagrams if receiver_class(17, port, d) == "ike")
        ike = Counter(after["ike"])
        ike.subtract(counters["ike"])
        reasons = {k: v for k, v in ike.items() if v and k != "received"}
        print(f"{len(datagrams)} malformed datagrams, {to_ike} for the IKE engine: {reasons}")
        assert to_ike <= ike["received"] <= to_ike + 5, ike  # + strongSwan's own, if any
        assert not [k for k in after["ike"] if k.removeprefix("ike2-") == "internal-error"]
        assert not [x for x in daemon.log[before:] if "Traceback" in x or "internal-error" in x]
        # the established tunnel still works, and so does a new negotiation
        assert ping(lab, a, LAN_A, LAN_B) == 3
        assert ping(lab, b, LAN_B, LAN_A) == 3
        charon.stop()
        wait_log(daemon, "IkeSaDeleted")
        charon.start()
        charon.swanctl("--initiate", "--child", "net", "--timeout", "20")
        assert ping(lab, a, LAN_A, LAN_B) == 3
        assert ping(lab, b, LAN_B, LAN_A) == 3
        peers = console(daemon.db, "/ip ipsec remote-peers print")
        assert peers.count("state=established") == 1, peers
