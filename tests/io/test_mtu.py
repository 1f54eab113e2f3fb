"""MTU rules of the userspace data plane, end to end in namespaces.

The wan link between the gateways gets a reduced MTU (1300) while the TUN devices keep 1400,
so a full-size packet fits into the tunnel but not, once encapsulated, onto the wire:

- DF set (``ping -M do``): the sender gets ICMP "fragmentation needed" with what fits before
  encapsulation, and its kernel's path-MTU discovery adapts;
- DF clear (``ping -M dont``): the ESP packet crosses as outer fragments, the peer's kernel
  reassembles it, and the ping is answered;
- a TCP transfer with large writes completes (its segments shrink after the first ICMP).
"""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from pyipsec.io.labnet import LAN_A, LAN_B, Lab, lab_prerequisites, two_sites
from tests.conftest import require
from tests.io.test_userspace_e2e import node_cfg, sas, start_node

pytestmark = pytest.mark.netns
WAN_MTU = 1300


def stop(proc: subprocess.Popen[str]) -> dict:
    proc.terminate()
    out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err
    lines = out.strip().splitlines()
    return json.loads(lines[-2])


@pytest.fixture(params=[True, False], ids=["offload", "no-offload"])
def tunnel(request):
    require(lab_prerequisites())
    with Lab(f"pyim{os.getpid()}") as lab:
        a, b = two_sites(lab)
        for ns in (a, b):
            lab.sh(ns, "ip", "link", "set", "wan0", "mtu", str(WAN_MTU))
        keys = sas(["ESP"], "aes-256-cbc", "sha256", False)
        extra = {"offload": request.param}
        na = start_node(lab, a, dict(node_cfg("a", keys, ["esp"]), **extra))
        nb = start_node(lab, b, dict(node_cfg("b", keys, ["esp"]), **extra))
        nodes = {"a": na, "b": nb}
        try:
            yield lab, a, b, nodes
        finally:
            for name, proc in list(nodes.items()):
                if proc.poll() is None:
                    stop(proc)
                nodes.pop(name)


def test_df_set_gets_fragmentation_needed(tunnel) -> None:
    lab, a, _b, nodes = tunnel
    lab.sh(a, "ping", "-c1", "-W2", "-I", LAN_A, LAN_B)  # the tunnel works for small packets
    out = lab.sh(a, "sh", "-c", f"ping -M do -s 1300 -c 3 -i 0.3 -W 1 -I {LAN_A} {LAN_B} 2>&1",
                 check=False)  # fmt: skip
    assert "Frag needed" in out or "message too long" in out, out
    mtus = [int(w.strip("=)")) for w in out.replace("mtu = ", "mtu=").split() if "mtu=" in w
            for w in [w.split("mtu=")[1]]]  # fmt: skip
    assert mtus and all(1200 < m < WAN_MTU - 40 for m in mtus), out
    counters = stop(nodes.pop("a"))
    assert counters["too_big"] >= 1 and counters["fragmented"] == 0


def test_df_clear_crosses_fragmented(tunnel) -> None:
    lab, a, _b, nodes = tunnel
    out = lab.sh(a, "ping", "-M", "dont", "-s", "1300", "-c", "3", "-i", "0.3", "-W", "2",
                 "-I", LAN_A, LAN_B, check=False)  # fmt: skip
    assert " 0% packet loss" in out, out
    assert "1308 bytes from" in out
    counters = stop(nodes.pop("a"))
    assert counters["fragmented"] >= 3


SERVER = """
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], 5001)); s.listen(1); s.settimeout(20)
c, _ = s.accept(); c.settimeout(20); n = 0
while True:
    d = c.recv(65536)
    if not d: break
    n += len(d)
print(n, flush=True)
"""
CLIENT = """
import socket, sys
c = socket.create_connection((sys.argv[2], 5001), timeout=20, source_address=(sys.argv[1], 0))
for _ in range(32): c.sendall(bytes(65536))
c.close()
"""


def test_tcp_with_large_writes_completes(tunnel) -> None:
    lab, a, b, nodes = tunnel
    server = subprocess.Popen(
        ["ip", "netns", "exec", b, "python3", "-c", SERVER, LAN_B],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        for _ in range(50):  # wait for the listener
            if ":5001" in lab.sh(b, "ss", "-ltn", check=False):
                break
            subprocess.run(["sleep", "0.1"], check=False)
        lab.sh(a, "python3", "-c", CLIENT, LAN_A, LAN_B, timeout=40)
        out, err = server.communicate(timeout=30)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    assert out.strip() == str(32 * 65536), err
    # path-MTU discovery did the work: the sender learnt a smaller MTU from our ICMP
    assert "mtu" in lab.sh(a, "ip", "route", "get", LAN_B, "from", LAN_A)
    counters = stop(nodes.pop("a"))
    assert counters["too_big"] >= 1 and counters["fragmented"] == 0


# -- the router's decision, without namespaces -----------------------------------------------


class _Sender:
    def __init__(self) -> None:
        self.sent: list[bytes] = []

    def send(self, packet: bytes) -> None:
        self.sent.append(packet)


def _router(outer_mtu: int = 1300, **kw: object):
    from pyipsec.dataplane.userspace.router import UserspaceDataplane
    from tests.dataplane.engine_helpers import make_pair

    pair = make_pair("aes-256-cbc", "sha256", **kw)  # type: ignore[arg-type]
    dp = UserspaceDataplane(pair.a, offload=False, outer_mtu=outer_mtu)
    written: list[bytes] = []
    dp.write_tun = written.append  # type: ignore[method-assign]
    dp.sender = _Sender()  # type: ignore[assignment]
    return pair, dp, written


@pytest.mark.parametrize("outer", [4, 6])
def test_ipv6_too_big_gets_packet_too_big_with_what_fits(outer: int) -> None:
    from scapy.layers.inet6 import ICMPv6PacketTooBig, IPv6

    pair, dp, written = _router(1400, inner=6, outer=outer)
    big = pair.packet(bytes(1400))
    dp.send_outbound(big, 1.0)
    (error,) = written
    ptb = IPv6(error)
    limit = pair.a.inner_mtu(big, 1400)
    assert limit is not None and limit >= 1280
    assert ptb.dst == str(pair.src) and ptb[ICMPv6PacketTooBig].mtu == limit
    assert dp.sender.sent == [] and dp.too_big == 1  # type: ignore[union-attr]
    dp.send_outbound(pair.packet(bytes(limit - 48)), 1.0)  # 40 + 8 UDP: fits exactly
    assert len(dp.sender.sent) == 1 and len(dp.sender.sent[0]) <= 1400  # type: ignore[union-attr]


def test_ipv6_below_the_minimum_mtu_is_fragmented_instead() -> None:
    pair, dp, written = _router(1300, inner=6, outer=6)  # what fits: 1214 < 1280
    dp.send_outbound(pair.packet(bytes(1300)), 1.0)
    assert not written and dp.fragmented == 1 and len(dp.sender.sent) == 2  # type: ignore[union-attr]


def test_ipv6_outer_packets_are_fragmented_when_the_inner_cannot_be_told() -> None:
    """IPv4 inner without DF, IPv6 outer: outer fragments with a fragment header."""
    from scapy.layers.inet6 import IPv6, IPv6ExtHdrFragment, defragment6

    pair, dp, written = _router(inner=4, outer=6)
    big = pair.packet(bytes(1300))  # engine_helpers packets have DF clear
    dp.send_outbound(big, 1.0)
    frags = dp.sender.sent  # type: ignore[union-attr]
    assert not written and len(frags) == 2 and dp.fragmented == 1
    assert all(len(f) <= 1300 and IPv6ExtHdrFragment in IPv6(f) for f in frags)
    whole = defragment6([IPv6(f) for f in frags]).build()
    assert pair.b.inbound(whole, 1.0).packet == big
