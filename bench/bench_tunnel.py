"""iperf3 TCP through a pyipsec tunnel and a strongSwan tunnel, same machine, same run.

Three paths between the two sites of ``pyipsec.io.labnet.two_sites``:

- bare veth (wan to wan, no IPsec): the ceiling of this machine;
- strongSwan to strongSwan, IKEv2 PSK, its userspace kernel-libipsec data plane (ESP always in
  UDP 4500, as strongSwan 5.9 with libipsec forces it);
- pyipsec to pyipsec, manually keyed SAs on the userspace data plane (TUN + raw sockets).

Each path and cipher runs ``--runs`` times for ``--seconds``; the medians and the ratio
pyipsec / strongSwan are printed. Needs root, iperf3 and strongSwan.

    .venv/bin/python bench/bench_tunnel.py --runs 3 --seconds 10
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.harness.strongswan import Charon  # noqa: E402
from tests.io.test_userspace_e2e import node_cfg, sas, start_node, stop_node  # noqa: E402

from pyipsec.io.labnet import LAN_A, LAN_B, NET_A, NET_B, WAN_A, WAN_B, Lab, two_sites  # noqa: E402

CIPHERS = {  # our RouterOS names -> (ESP integrity, strongSwan ESP proposal)
    "aes-128-gcm": (None, "aes128gcm16"),
    "aes-256-cbc": ("sha256", "aes256-sha256"),
}
PSK = "bench-only-psk-not-secret"


def swanctl_conf(local: str, remote: str, lnet: str, rnet: str, esp: str) -> str:
    return f"""connections {{
    bench {{
        version = 2
        local_addrs = {local}
        remote_addrs = {remote}
        proposals = aes128-sha256-modp2048
        local {{
            auth = psk
            id = {local}
        }}
        remote {{
            auth = psk
            id = {remote}
        }}
        children {{
            net {{
                local_ts = {lnet}
                remote_ts = {rnet}
                mode = tunnel
                esp_proposals = {esp}
                start_action = none
            }}
        }}
    }}
}}
secrets {{
    ike-bench {{
        id-a = {WAN_A}
        id-b = {WAN_B}
        secret = "{PSK}"
    }}
}}
"""


def iperf(lab: Lab, client_ns: str, server_ns: str, src: str, dst: str, seconds: int) -> float:
    server = subprocess.Popen(
        ["ip", "netns", "exec", server_ns, "timeout", str(seconds + 30),
         "iperf3", "-s", "-1", "-B", dst],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    time.sleep(0.5)
    try:
        out = lab.sh(client_ns, "iperf3", "-c", dst, "-B", src, "-t", str(seconds), "-f", "m",
                     check=False, timeout=seconds + 30)  # fmt: skip
    finally:
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    m = re.search(r"([\d.]+) Mbits/sec\s+receiver", out)
    return float(m.group(1)) if m else 0.0


def run_bare(seconds: int) -> float:
    with Lab("pyibench") as lab:
        a, b = two_sites(lab)
        return iperf(lab, a, b, WAN_A, WAN_B, seconds)


def run_strongswan(cipher: str, seconds: int) -> float:
    esp = CIPHERS[cipher][1]
    with Lab("pyibench") as lab, tempfile.TemporaryDirectory(prefix="pyibench-") as tmp:
        a, b = two_sites(lab)
        ca = Charon(a, Path(tmp) / "a", swanctl_conf(WAN_A, WAN_B, NET_A, NET_B, esp))
        cb = Charon(b, Path(tmp) / "b", swanctl_conf(WAN_B, WAN_A, NET_B, NET_A, esp))
        try:
            cb.start()
            ca.start()
            ca.swanctl("--initiate", "--child", "net", "--timeout", "20")
            lab.sh(a, "ping", "-c1", "-W2", "-I", LAN_A, LAN_B)
            assert ca.proc is not None and cb.proc is not None
            pids = (ca.proc.pid, cb.proc.pid)
            before, busy = sum(map(_cpu, pids)), _busy()
            mbits = iperf(lab, a, b, LAN_A, LAN_B, seconds)
            cpu, busy = sum(map(_cpu, pids)) - before, _busy() - busy
            if mbits:
                megabytes = mbits * seconds / 8
                CPU_PER_MB.setdefault(f"strongSwan {cipher}", []).append(cpu / megabytes * 1e3)
                MACHINE_PER_MB.setdefault(f"strongSwan {cipher}", []).append(busy / megabytes * 1e3)
            return mbits
        finally:
            ca.stop()
            cb.stop()


def run_pyipsec(
    cipher: str, seconds: int, extra: dict, profile: str | None = None, udp: bool = False
) -> float:
    auth = CIPHERS[cipher][0]
    with Lab("pyibench") as lab:
        a, b = two_sites(lab)
        keys = sas(["ESP"], cipher, auth, udp)
        na = start_node(lab, a, dict(node_cfg("a", keys, ["esp"]), **extra))
        nb = start_node(lab, b, dict(node_cfg("b", keys, ["esp"]), **extra))
        spies = []
        try:
            lab.sh(a, "ping", "-c1", "-W2", "-I", LAN_A, LAN_B)
            if profile:  # sample both gateways for the whole run (py-spy, measuring only)
                spy = str(ROOT / ".venv/bin/py-spy")
                for side, node in (("a", na), ("b", nb)):
                    spies.append(subprocess.Popen(
                        [spy, "record", "-r", "200", "-d", str(seconds), "-f", "raw",
                         "-o", f"{profile}-{side}.txt", "--pid", str(node.pid)],
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                    ))  # fmt: skip
            ca, cb, busy = _cpu(na.pid), _cpu(nb.pid), _busy()
            mbits = iperf(lab, a, b, LAN_A, LAN_B, seconds)
            ca, cb, busy = _cpu(na.pid) - ca, _cpu(nb.pid) - cb, _busy() - busy
            cpu = ca + cb
            label = f"pyipsec {cipher}{' in UDP' if udp else ''}"
            LOAD.setdefault(label, []).append((ca / seconds, cb / seconds))
            if mbits:  # CPU of both gateways per megabyte carried: robust to a busy machine
                megabytes = mbits * seconds / 8
                CPU_PER_MB.setdefault(label, []).append(cpu / megabytes * 1e3)
                MACHINE_PER_MB.setdefault(label, []).append(busy / megabytes * 1e3)
            return mbits
        finally:
            for spy in spies:
                spy.wait(timeout=seconds + 30)
            stop_node(na)
            stop_node(nb)


CPU_PER_MB: dict[str, list[float]] = {}


MACHINE_PER_MB: dict[str, list[float]] = {}
LOAD: dict[str, list[tuple[float, float]]] = {}  # share of one core: (sending, receiving) gateway


def _busy() -> float:
    """CPU seconds the whole machine has spent busy so far (/proc/stat: all but idle/iowait):
    gateways, iperf3 and the kernel's network stack together."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    return (sum(fields[:8]) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


def _cpu(pid: int) -> float:
    """User + system CPU seconds of a process so far (/proc/<pid>/stat fields 14, 15)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--cipher", action="append", choices=sorted(CIPHERS), default=None)
    parser.add_argument("--only-pyipsec", action="store_true", help="skip bare and strongSwan")
    parser.add_argument("--no-offload", action="store_true", help="pyipsec without TUN offloads")
    parser.add_argument("--no-udp", action="store_true", help="skip pyipsec with ESP in UDP")
    parser.add_argument("--udp-only", action="store_true", help="pyipsec with ESP in UDP only")
    parser.add_argument("--tso", action="store_true", help="pyipsec with TUN TSO (segmenting)")
    parser.add_argument("--profile", metavar="PREFIX", help="py-spy both nodes into PREFIX-a/b")
    args = parser.parse_args()
    ciphers = args.cipher or list(CIPHERS)
    extra = {"offload": not args.no_offload, "tso": args.tso}
    rows: list[tuple[str, list[float]]] = []
    if not args.only_pyipsec:
        rows.append(("bare veth", [run_bare(args.seconds) for _ in range(args.runs)]))
    for cipher in ciphers:
        if not args.only_pyipsec:
            sw = [run_strongswan(cipher, args.seconds) for _ in range(args.runs)]
            rows.append((f"strongSwan {cipher}", sw))
        if not args.udp_only:
            py = [run_pyipsec(cipher, args.seconds, extra, args.profile) for _ in range(args.runs)]
            rows.append((f"pyipsec {cipher}", py))
        if not args.no_udp:
            py = [
                run_pyipsec(cipher, args.seconds, extra, args.profile, udp=True)
                for _ in range(args.runs)
            ]
            rows.append((f"pyipsec {cipher} in UDP", py))
    print(f"iperf3 TCP, {args.seconds} s per run, median of {args.runs} runs (Mbit/s)")
    print(f"{'path':<28}{'median':>10}  runs")
    medians = {}
    for label, values in rows:
        medians[label] = statistics.median(values)
        runs = ", ".join(f"{v:.0f}" for v in values)
        print(f"{label:<28}{medians[label]:>10.0f}  {runs}")
    for cipher, per_mb in CPU_PER_MB.items():
        runs = ", ".join(f"{v:.1f}" for v in per_mb)
        print(f"{cipher}: CPU ms per MB, both gateways: "
              f"{statistics.median(per_mb):.1f}  ({runs})")  # fmt: skip
    for label, per_mb in MACHINE_PER_MB.items():
        runs = ", ".join(f"{v:.1f}" for v in per_mb)
        print(f"{label}: CPU ms per MB, whole machine: "
              f"{statistics.median(per_mb):.1f}  ({runs})")  # fmt: skip
    for label, loads in LOAD.items():
        runs = ", ".join(f"{a:.0%}/{b:.0%}" for a, b in loads)
        print(f"{label}: CPU of the sending/receiving gateway (one core = 100%): {runs}")
    for cipher in ciphers:
        sw = medians.get(f"strongSwan {cipher}")
        for variant in (f"pyipsec {cipher}", f"pyipsec {cipher} in UDP"):
            if sw is None or variant not in medians:
                continue
            ratio = medians[variant] / sw if sw else float("nan")
            print(f"ratio {variant} / strongSwan: {ratio:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
