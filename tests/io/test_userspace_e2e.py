"""End to end through the userspace data plane: two namespaces, manual SAs, real packets.

Topology (RFC 5737 only, no default routes):

    ns a: lan0 198.51.100.1/25, wan0 198.51.100.129/25  <-veth->  ns b: wan0 198.51.100.130/25,
    lan0 203.0.113.1/25

Each side runs tests/io/dp_node.py (TUN + raw sockets + the packet engine). A ping from a's
LAN address to b's LAN address must cross the tunnel, and a capture on the wan link must show
only ESP/AH (or UDP 4500), never the inner ICMP.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pyipsec.crypto import registry
from pyipsec.io.labnet import LAN_A, LAN_B, WAN_A, WAN_B, Lab, lab_prerequisites, two_sites
from tests.conftest import require

pytestmark = pytest.mark.netns
NODE = Path(__file__).with_name("dp_node.py")


def sas(protos: list[str], enc: str | None, auth: str | None, udp: bool) -> list[dict]:
    out = []
    for proto in protos:
        for spi, src, dst in ((0x1001, WAN_A, WAN_B), (0x2001, WAN_B, WAN_A)):
            sa: dict = {"spi": spi + (proto == "AH"), "proto": proto, "src": src, "dst": dst}
            aead = bool(enc) and registry.encryption(enc).aead
            if proto == "ESP" and enc:
                sa["enc"] = enc
                sa["enc_key"] = os.urandom(registry.encryption(enc).keymat_size).hex()
            if auth and not (proto == "ESP" and aead):
                sa["auth"] = auth
                sa["auth_key"] = os.urandom(registry.integrity(auth).key_size).hex()
            if udp and proto == "ESP":
                sa["udp"] = [4500, 4500]
            out.append(sa)
    return out


def node_cfg(side: str, all_sas: list[dict], protocols: list[str]) -> dict:
    local, remote = (WAN_A, WAN_B) if side == "a" else (WAN_B, WAN_A)
    src, dst = ("198.51.100.0/25", "203.0.113.0/25")
    if side == "b":
        src, dst = dst, src
    sas_side = [dict(sa, dir="out" if sa["src"] == local else "in") for sa in all_sas]
    return {
        "policy": {"src": src, "dst": dst, "tunnel": True, "protocols": protocols,
                   "sa_src": local, "sa_dst": remote},
        "sas": sas_side,
    }  # fmt: skip


def start_node(lab: Lab, ns: str, cfg: dict) -> subprocess.Popen[str]:
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    proc = subprocess.Popen(
        ["ip", "netns", "exec", ns, sys.executable, str(NODE), json.dumps(cfg)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if line.strip() != "ready":
        proc.kill()
        raise AssertionError(
            f"node did not start: {line} {proc.stderr.read() if proc.stderr else ''}"
        )
    return proc


def stop_node(proc: subprocess.Popen[str]) -> dict:
    proc.terminate()
    out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err
    return json.loads(out.strip().splitlines()[-1])


@pytest.mark.parametrize(
    ("protocols", "enc", "auth", "udp"),
    [
        (["ESP"], "aes-128-gcm", None, False),
        (["ESP"], "aes-128-cbc", "sha256", True),
        (["AH"], None, "sha1", False),
        (["ESP", "AH"], "aes-128-cbc", "sha1", False),
    ],
)
def test_ping_crosses_a_manual_tunnel(protocols, enc, auth, udp) -> None:
    require(lab_prerequisites())
    with Lab(f"pyie{os.getpid()}") as lab:
        a, b = two_sites(lab)
        all_sas = sas(protocols, enc, auth, udp)
        names = [p.lower() for p in protocols]
        na = start_node(lab, a, node_cfg("a", all_sas, names))
        nb = start_node(lab, b, node_cfg("b", all_sas, names))
        try:
            out = lab.sh(a, "ping", "-c3", "-i0.2", "-W2", "-I", LAN_A, LAN_B, check=False)
            assert " 0% packet loss" in out, out
            assert "qlen 2000" in lab.sh(a, "ip", "link", "show", "pyipsec0")  # TXQUEUELEN
        finally:
            stats_a, stats_b = stop_node(na), stop_node(nb)
        assert sum(stats_a.values()) == 0 and sum(stats_b.values()) == 0
        # nothing of the data plane is left behind
        assert "pyipsec0" not in lab.sh(a, "ip", "link")
        assert "2207" not in lab.sh(a, "ip", "rule")
        time.sleep(0)
