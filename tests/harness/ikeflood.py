"""An IKEv1 main-mode first-message flood from a namespace, for the flood test and benchmark.

Topology, added to ``pyipsec.io.labnet.two_sites`` (pyipsec in ns a, the peer in ns b):

    ns f (flooder): fl0 203.0.113.130/25, 50 more addresses 203.0.113.131-180/25, and the
    peer's own address 198.51.100.130/32 (to spoof it); route to a's wan address via fl0
    ns a: fl0 203.0.113.129/25 (reverse-path filter off: the spoofed source arrives there)

The sender (``python -m tests.harness.ikeflood`` inside ns f) sends copies of one real
main-mode message 1 (made by pyipsec's own initiator, offering what the daemon accepts) with a
fresh random initiator cookie each, from UDP port 500 of its source addresses in turn, paced
to a rate and bounded in count and time. The daemon's replies to the spoofed address go to the
real peer (as they would in a real attack); those to the flooder's own addresses are never
read. Only RFC 5737 addresses, no default route.
"""

from __future__ import annotations

import argparse
import ipaddress
import math
import os
import random
import re
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tests.harness.proc import cpu_seconds, rss_kib
from tests.harness.strongswan import SWANCTL, Charon
from tests.io.daemon_proc import DaemonProc

ROOT = Path(__file__).resolve().parents[2]
A_FLOOD, F_FLOOD = "203.0.113.129", "203.0.113.130"
FLOOD_SOURCES = [f"203.0.113.{i}" for i in range(131, 181)]  # 50 source addresses
FLOOD_NET = "203.0.113.128/25"


def flood_site(lab: object, a: str, spoof: str) -> str:
    """Add the flooder namespace ``f`` (see the module docstring); returns its name."""
    from pyipsec.io.labnet import WAN_A, Lab

    assert isinstance(lab, Lab)
    f = lab.ns("f")
    lab.link(a, "fl0", f, "fl0")
    lab.addr(a, "fl0", f"{A_FLOOD}/25")
    lab.addr(f, "fl0", f"{F_FLOOD}/25")
    for src in FLOOD_SOURCES:
        lab.addr(f, "fl0", f"{src}/25")
    lab.addr(f, "fl0", f"{spoof}/32")
    lab.sh(f, "ip", "route", "add", f"{WAN_A}/32", "via", A_FLOOD, "dev", "fl0")
    lab.sysctl(a, "net.ipv4.conf.fl0.rp_filter", "0")
    lab.sysctl(a, "net.ipv4.conf.all.rp_filter", "0")
    return f


def main_mode_message_1(local: str, remote: str) -> bytes:
    """A real main-mode message 1 from pyipsec's initiator: aes-256/sha256/modp2048, PSK."""
    from pyipsec.core.ikev1.engine import Ikev1Engine
    from pyipsec.core.profiles import PeerProfile, ProposalProfile
    from pyipsec.dataplane.fake import FakeBackend

    eng = Ikev1Engine(backend=FakeBackend(rng=os.urandom), rng=os.urandom)
    peer = PeerProfile(
        id=1,
        address=ipaddress.ip_network(f"{remote}/32"),
        secret=b"flood-only",
        enc_algorithms=("aes-256",),
        hash_algorithm="sha256",
        dh_groups=("modp2048",),
    )
    eng.configure(
        peers=[peer], proposals=[ProposalProfile(name="default")], policies=[], templates=[], now=0
    )
    eng.start_phase1(peer, ipaddress.ip_address(local), ipaddress.ip_address(remote), 0.0)
    (d,) = eng.datagrams_to_send()
    return d.data


def start_flood(
    ns: str,
    dst: str,
    sources: list[str],
    *,
    count: int,
    rate: float,
    max_seconds: float,
) -> subprocess.Popen[str]:
    """Start the sender in ``ns``; it prints ``sent=N errors=E seconds=S`` when done."""
    template = main_mode_message_1(sources[0], dst)
    env = dict(os.environ, PYTHONPATH=f"{ROOT}{os.pathsep}{ROOT / 'src'}")
    return subprocess.Popen(
        ["ip", "netns", "exec", ns, sys.executable, "-m", "tests.harness.ikeflood",
         "--dst", dst, "--sources", ",".join(sources), "--count", str(count),
         "--rate", str(rate), "--max-seconds", str(max_seconds), "--template", template.hex()],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
    )  # fmt: skip


def finish_flood(proc: subprocess.Popen[str], timeout: float) -> dict[str, float]:
    out, _ = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, out
    fields = dict(part.split("=", 1) for part in out.split() if "=" in part)
    return {k: float(v) for k, v in fields.items()}


# -- one flood scenario against a running daemon and charon -----------------------------------


@dataclass
class FloodFigures:
    """What one scenario measured (times in seconds, memory in KiB)."""

    sent: int
    flood_seconds: float
    establish: float  # strongSwan's initiation during the flood, until its CHILD_SA is up
    rss_before: int
    rss_peak: int  # the daemon's largest RSS during the flood and its aftermath
    cpu: float  # daemon CPU seconds from the flood's start to its end
    log_lines: int  # daemon log lines written during the flood
    recovered: float  # after the flood: until no half-open exchange is left
    reconnect: float  # then: a new negotiation from scratch, until the CHILD_SA is up
    kernel_drops: int = 0  # UDP datagrams the daemon's namespace dropped (receive buffers full)

    @property
    def rss_growth_mb(self) -> float:
        return (self.rss_peak - self.rss_before) / 1024


def udp_receive_drops(ns: str) -> int:
    """``RcvbufErrors`` of the UDP counters in ``ns`` (datagrams a full socket lost)."""
    out = subprocess.run(
        ["ip", "netns", "exec", ns, "cat", "/proc/net/snmp"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    names, values = [line.split() for line in out.splitlines() if line.startswith("Udp:")][:2]
    return int(dict(zip(names, values, strict=True)).get("RcvbufErrors", 0))


def half_open_count(daemon: DaemonProc) -> int:
    """Phase 1s in `remote-peers` that are not established."""
    from pyipsec.io.control import ControlClient, socket_path

    client = ControlClient(socket_path(daemon.db))
    try:
        ok, out = client.run("/ip ipsec remote-peers print")
    finally:
        client.close()
    assert ok, out
    return sum(1 for state in re.findall(r"state=(\S+)", out) if state != "established")


def initiate(charon: Charon, timeout: float, poll: Callable[[], None]) -> float:
    """``swanctl --initiate --child net``: seconds until it returns with the CHILD_SA up
    (``inf`` if it failed); ``poll`` runs while waiting."""
    start = time.monotonic()
    proc = subprocess.Popen(
        [SWANCTL, "--initiate", "--child", "net", "--timeout", str(int(timeout)),
         "--uri", f"unix://{charon.state}/charon.vici"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=charon.env,
    )  # fmt: skip
    while proc.poll() is None and time.monotonic() - start < timeout + 5:
        poll()
        time.sleep(0.05)
    if proc.poll() is None:
        proc.kill()
    rc = proc.wait()
    return time.monotonic() - start if rc == 0 else math.inf


def flood_scenario(
    f: str,
    daemon: DaemonProc,
    charon: Charon,
    *,
    sources: list[str],
    count: int,
    rate: float,
    lead: float = 1.0,
    recover_timeout: float = 40.0,
) -> FloodFigures:
    """Flood the daemon from ``sources`` in ns ``f`` and, ``lead`` seconds in, let strongSwan
    initiate; then wait for the flood to end, for the half-open table to drain, and
    negotiate once more from scratch."""
    from pyipsec.io.labnet import WAN_A

    pid = daemon.proc.pid
    drops_before = udp_receive_drops(daemon.ns)
    daemon.read_log()
    rss_before, peak = rss_kib(pid), 0
    log_start = len(daemon.log)
    cpu_start = cpu_seconds(pid)

    def sample() -> None:
        nonlocal peak
        daemon.read_log()
        peak = max(peak, rss_kib(pid))

    sender = start_flood(f, WAN_A, sources, count=count, rate=rate, max_seconds=count / rate + 5)
    try:
        deadline = time.monotonic() + lead
        while time.monotonic() < deadline:
            sample()
            time.sleep(0.05)
        establish = initiate(charon, 20, sample)
        while sender.poll() is None:
            sample()
            time.sleep(0.05)
        cpu = cpu_seconds(pid) - cpu_start
        sample()
        log_lines = len(daemon.log) - log_start
        kernel_drops = udp_receive_drops(daemon.ns) - drops_before
        sent = finish_flood(sender, 10)
    finally:
        if sender.poll() is None:
            sender.kill()
            sender.wait()
    start = time.monotonic()
    recovered = math.inf
    while time.monotonic() - start < recover_timeout:
        sample()
        if half_open_count(daemon) == 0:
            recovered = time.monotonic() - start
            break
        time.sleep(0.5)
    charon.swanctl("--terminate", "--ike", "v1", check=False)
    time.sleep(0.5)
    reconnect = initiate(charon, 20, sample)
    return FloodFigures(
        sent=int(sent["sent"]),
        flood_seconds=sent["seconds"],
        establish=establish,
        rss_before=rss_before,
        rss_peak=peak,
        cpu=cpu,
        log_lines=log_lines,
        recovered=recovered,
        reconnect=reconnect,
        kernel_drops=kernel_drops,
    )


def _send(args: argparse.Namespace) -> None:
    template = bytes.fromhex(args.template)
    body = template[8:]
    socks = []
    for src in args.sources.split(","):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((src, 500))
        s.setblocking(False)
        socks.append(s)
    dst = (args.dst, 500)
    rand = random.Random(os.urandom(16))
    sent = errors = 0
    start = time.monotonic()
    while sent < args.count:
        elapsed = time.monotonic() - start
        if elapsed > args.max_seconds:
            break
        due = min(args.count, int(elapsed * args.rate) + 1)
        while sent < due:
            try:
                socks[sent % len(socks)].sendto(rand.randbytes(8) + body, dst)
            except OSError:
                errors += 1
            sent += 1
        time.sleep(0.001)
    print(f"sent={sent} errors={errors} seconds={time.monotonic() - start:.3f}", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dst", required=True)
    parser.add_argument("--sources", required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--rate", type=float, required=True)
    parser.add_argument("--max-seconds", type=float, required=True)
    parser.add_argument("--template", required=True)
    _send(parser.parse_args())
