"""TUN offload helpers (dataplane/userspace/offload.py): TSO segmentation, partial checksums,
GRO-like coalescing; scapy checks every header and checksum. Then, end to end in namespaces,
TCP through the tunnel with offload off, on (coalescing), and on with TSO segmentation."""

from __future__ import annotations

import json
import os
import subprocess

import pytest
from scapy.layers.inet import IP, TCP, UDP, IPOption_RR
from scapy.layers.inet6 import IPv6

from pyipsec.dataplane.userspace.offload import (
    EMPTY_VNET_HDR,
    VIRTIO_NET_HDR_F_NEEDS_CSUM,
    VIRTIO_NET_HDR_GSO_TCPV4,
    VIRTIO_NET_HDR_GSO_TCPV6,
    VNET_HDR,
    VNET_HDR_LEN,
    Coalescer,
    OffloadError,
    _fold,
    _sum16,
    from_tun,
    segment_tcp,
)
from pyipsec.io.labnet import LAN_A, LAN_B, Lab, lab_prerequisites, two_sites
from tests.conftest import require
from tests.io.test_userspace_e2e import node_cfg, sas, start_node

A, B = "198.51.100.1", "203.0.113.1"
A6, B6 = "2001:db8:a::1", "2001:db8:b::1"
TS = [("NOP", None), ("NOP", None), ("Timestamp", (1234, 5678))]


def checksums_ok(raw: bytes) -> bool:
    """Whether scapy computes the same IP and TCP checksums as the packet carries."""
    pkt = IP(raw) if raw[0] >> 4 == 4 else IPv6(raw)
    fresh = pkt.copy()
    if raw[0] >> 4 == 4:
        del fresh.chksum
    del fresh[TCP].chksum
    again = IP(bytes(fresh)) if raw[0] >> 4 == 4 else IPv6(bytes(fresh))
    same_ip = raw[0] >> 4 == 6 or again.chksum == pkt.chksum
    return same_ip and again[TCP].chksum == pkt[TCP].chksum


def super_segment(payload: bytes, flags: str = "PA", v6: bool = False, seq: int = 1000) -> bytes:
    tcp = TCP(sport=40000, dport=5201, seq=seq, ack=77, flags=flags, window=500, options=TS)
    if v6:
        return bytes(IPv6(src=A6, dst=B6) / tcp / payload)
    return bytes(IP(src=A, dst=B, id=100, flags="DF") / tcp / payload)


@pytest.mark.parametrize("v6", [False, True])
@pytest.mark.parametrize("size", [1, 1348, 1349, 5000, 64000])
def test_segment_tcp_like_linux_tso(v6: bool, size: int) -> None:
    payload = os.urandom(size)
    segs = segment_tcp(super_segment(payload, "FPA", v6), 1348)
    assert len(segs) == -(-size // 1348)
    got = b""
    for i, raw in enumerate(segs):
        assert checksums_ok(raw)
        pkt = IP(raw) if not v6 else IPv6(raw)
        tcp = pkt[TCP]
        assert tcp.seq == 1000 + len(got)
        assert tcp.options == TS and tcp.ack == 77 and tcp.window == 500
        last = i == len(segs) - 1
        assert ("F" in tcp.flags) == last and ("P" in tcp.flags) == last and "A" in tcp.flags
        if not v6:
            assert pkt.id == 100 + i and pkt.len == len(raw)
        else:
            assert pkt.plen == len(raw) - 40
        got += bytes(tcp.payload)
        assert len(bytes(tcp.payload)) <= 1348
    assert got == payload


@pytest.mark.parametrize("gso", [2, 999, 1000, 1348])
@pytest.mark.parametrize("shape", ["v4", "v6", "v4-options"])
def test_segment_tcp_with_and_without_numpy(monkeypatch, gso: int, shape: str) -> None:
    """The vectorised payload sums (NumPy) and the chunk-by-chunk ones give the same bytes;
    odd segment sizes, IPv4 options and every kind of last chunk included."""
    from pyipsec.dataplane.userspace import offload

    payload = os.urandom(gso * 7 + 5)
    if shape == "v4-options":
        tcp = TCP(sport=1, dport=2, seq=2**32 - 3000, ack=9, flags="PA", options=TS)
        raw = bytes(IP(src=A, dst=B, id=0xFFFE, options=[IPOption_RR()]) / tcp / payload)
    else:
        raw = super_segment(payload, "PA", v6=shape == "v6")
    fast = segment_tcp(raw, gso)
    monkeypatch.setattr(offload, "_NUMPY", False)
    assert segment_tcp(raw, gso) == fast
    assert len(fast) == -(-len(payload) // gso) and all(checksums_ok(seg) for seg in fast)
    assert b"".join(bytes((IP(s) if shape != "v6" else IPv6(s))[TCP].payload) for s in fast) == (
        payload
    )


def test_segment_keeps_cwr_on_the_first_only() -> None:
    segs = segment_tcp(super_segment(bytes(3000), "CA"), 1000)
    assert ["C" in IP(s)[TCP].flags for s in segs] == [True, False, False]


def test_from_tun_completes_partial_checksums_and_strips_the_header() -> None:
    udp = bytearray(bytes(IP(src=A, dst=B) / UDP(sport=1, dport=2) / b"hello"))
    want = IP(bytes(udp))[UDP].chksum
    # as the kernel hands it over: the field holds the folded pseudo-header sum (8 + 5 bytes)
    ps = _fold(_sum16(bytes(udp[12:20])) + 17 + 13)
    udp[26:28] = ps.to_bytes(2, "big")
    hdr = VNET_HDR.pack(VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 0, 0, 20, 6)
    (out,) = from_tun(hdr + bytes(udp))
    assert IP(out)[UDP].chksum == want
    plain = bytes(IP(src=A, dst=B) / UDP(sport=1, dport=2) / b"x")
    assert from_tun(EMPTY_VNET_HDR + plain) == [plain]


def test_from_tun_gso() -> None:
    raw = super_segment(bytes(3000))
    hdr = VNET_HDR.pack(VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV4, 52, 1448, 20, 16)
    assert len(from_tun(hdr + raw)) == 3
    with pytest.raises(OffloadError):
        from_tun(VNET_HDR.pack(0, 3, 0, 1000, 0, 0) + raw)  # UDP fragmentation offload
    with pytest.raises(OffloadError):
        from_tun(b"\0" * 5)


def coalesce(packets: list[bytes]) -> list[bytes]:
    written: list[bytes] = []
    co = Coalescer(written.append)
    for p in packets:
        co.add(p)
    co.flush()
    return written


@pytest.mark.parametrize("v6", [False, True])
def test_coalescer_merges_in_order_segments_into_one_gso_write(v6: bool) -> None:
    payload = os.urandom(10 * 1348 + 100)
    segs = segment_tcp(super_segment(payload, "PA", v6), 1348)
    (one,) = coalesce(segs)
    flags, gso_type, hdr_len, gso_size, csum_start, csum_offset = VNET_HDR.unpack_from(one)
    iphl = 40 if v6 else 20
    assert flags == VIRTIO_NET_HDR_F_NEEDS_CSUM
    assert gso_type == (VIRTIO_NET_HDR_GSO_TCPV6 if v6 else VIRTIO_NET_HDR_GSO_TCPV4)
    assert (hdr_len, gso_size, csum_start, csum_offset) == (iphl + 32, 1348, iphl, 16)
    raw = one[VNET_HDR_LEN:]
    pkt = IP(raw) if not v6 else IPv6(raw)
    assert bytes(pkt[TCP].payload) == payload
    assert pkt[TCP].seq == 1000 and "P" in pkt[TCP].flags  # PSH of the last segment
    if not v6:
        assert pkt.len == len(raw)
        fresh = pkt.copy()
        del fresh.chksum
        assert IP(bytes(fresh)).chksum == pkt.chksum
    # Re-segmenting the super-packet (what the kernel does when forwarding) gives back the
    # original segments exactly: the partial checksum field was right.
    assert segment_tcp(raw, gso_size) == segs


def test_coalescer_leaves_alone_what_it_must() -> None:
    segs = segment_tcp(super_segment(bytes(4000), "A"), 1000)
    syn = bytes(IP(src=A, dst=B) / TCP(sport=40000, dport=5201, flags="S"))
    udp = bytes(IP(src=A, dst=B) / UDP(sport=1, dport=2) / b"u")
    # out of order: nothing merges across the gap
    written = coalesce([segs[0], segs[2], segs[1], segs[3]])
    assert all(w[:VNET_HDR_LEN] == EMPTY_VNET_HDR for w in written[:1])
    assert b"".join(bytes(IP(w[VNET_HDR_LEN:])[TCP].payload) for w in written) != b""
    assert sum(len(IP(w[VNET_HDR_LEN:])[TCP].payload) for w in written) == 4000
    # a packet that cannot merge flushes its flow first, keeping the flow's order
    written = coalesce([segs[0], segs[1], syn, udp, segs[2]])
    assert [IP(w[VNET_HDR_LEN:])[TCP].seq if TCP in IP(w[VNET_HDR_LEN:]) else None
            for w in written][:2] == [1000, 0]  # fmt: skip
    assert written[-1][VNET_HDR_LEN:] == segs[2]  # a run of one goes out unchanged
    assert written[-1][:VNET_HDR_LEN] == EMPTY_VNET_HDR
    # other flows never mix
    other = segment_tcp(
        bytes(IP(src=A, dst=B, flags="DF") / TCP(sport=40001, dport=5201, seq=1000, flags="A")
              / bytes(2000)), 1000)  # fmt: skip
    written = coalesce([segs[0], other[0], segs[1], other[1]])
    assert len(written) == 2
    assert {IP(w[VNET_HDR_LEN:])[TCP].sport for w in written} == {40000, 40001}


def stop_both(proc: subprocess.Popen[str]) -> tuple[dict, dict]:
    """Stop a dp_node; its data-plane counters and its engine statistics."""
    proc.terminate()
    out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err
    lines = out.strip().splitlines()
    return json.loads(lines[-2]), json.loads(lines[-1])


# -- end to end ------------------------------------------------------------------------------

SERVER = """
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], 5002)); s.listen(1); s.settimeout(20)
c, _ = s.accept(); c.settimeout(20); h = 0; n = 0
import hashlib; d = hashlib.sha256()
while True:
    b = c.recv(65536)
    if not b: break
    d.update(b); n += len(b)
c.sendall(d.hexdigest().encode()); c.close()
print(n, flush=True)
"""
CLIENT = """
import hashlib, socket, sys
c = socket.create_connection((sys.argv[2], 5002), timeout=20, source_address=(sys.argv[1], 0))
data = bytes(range(256)) * 16384
c.sendall(data); c.shutdown(socket.SHUT_WR)
print(c.recv(100).decode() == hashlib.sha256(data).hexdigest(), flush=True)
"""


@pytest.mark.netns
@pytest.mark.parametrize(
    "options", [{"offload": False}, {"offload": True}, {"offload": True, "tso": True}],
    ids=["off", "coalesce", "coalesce+tso"],
)  # fmt: skip
def test_tcp_crosses_the_tunnel_intact(options: dict) -> None:
    require(lab_prerequisites())
    with Lab(f"pyio{os.getpid()}") as lab:
        a, b = two_sites(lab)
        keys = sas(["ESP"], "aes-128-gcm", None, False)
        na = start_node(lab, a, dict(node_cfg("a", keys, ["esp"]), **options))
        nb = start_node(lab, b, dict(node_cfg("b", keys, ["esp"]), **options))
        server = subprocess.Popen(
            ["ip", "netns", "exec", b, "python3", "-c", SERVER, LAN_B],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            for _ in range(50):
                if ":5002" in lab.sh(b, "ss", "-ltn", check=False):
                    break
                subprocess.run(["sleep", "0.1"], check=False)
            ok = lab.sh(a, "python3", "-c", CLIENT, LAN_A, LAN_B, timeout=40)
            out, err = server.communicate(timeout=30)
        finally:
            if server.poll() is None:
                server.kill()
                server.wait()
            (extra_a, stats_a), (extra_b, stats_b) = stop_both(na), stop_both(nb)
        if options["offload"]:
            assert extra_a["merged"] + extra_b["merged"] > 0  # GRO-like coalescing happened
        else:
            assert extra_a["merged"] == extra_b["merged"] == 0
        assert ok.strip() == "True" and out.strip() == str(256 * 16384), err
        assert sum(stats_a.values()) == 0 and sum(stats_b.values()) == 0
