"""Shared helpers for the packet-engine tests: deterministic rng, packets, mirrored SA pairs.

Two ``Processor`` instances, A and B, each with its own SPD and SAD; A's outbound SAs are B's
inbound SAs (same SPI and keys) and vice versa, so a packet protected by one side is accepted by
the other. Addresses are from the documentation ranges (RFC 5737, RFC 3849).
"""

from __future__ import annotations

import hashlib
import ipaddress
import struct
from collections.abc import Callable
from dataclasses import dataclass, field

from pyipsec.crypto import registry
from pyipsec.dataplane.policy import Action, Direction, IPAddress, Level, Policy
from pyipsec.dataplane.processor import Processor
from pyipsec.dataplane.sad import Lifetime, Sad, SaParams, SaProtocol
from pyipsec.dataplane.spd import Spd
from pyipsec.dataplane.stats import Statistics
from pyipsec.wire.ip import IpProtocol, build_ip, internet_checksum, pseudo_header

ip = ipaddress.ip_address
NO_LIFETIME = Lifetime()
net = ipaddress.ip_network


def det_rng(seed: bytes = b"seed") -> Callable[[int], bytes]:
    """A deterministic byte stream: SHA-256(seed || counter) blocks."""
    state = {"i": 0}

    def rng(n: int) -> bytes:
        out = bytearray()
        while len(out) < n:
            out += hashlib.sha256(seed + state["i"].to_bytes(8, "big")).digest()
            state["i"] += 1
        return bytes(out[:n])

    return rng


def udp_packet(src: IPAddress, dst: IPAddress, sport: int, dport: int, data: bytes) -> bytes:
    """An IP/UDP packet with a correct UDP checksum."""
    length = 8 + len(data)
    hdr = struct.pack("!HHHH", sport, dport, length, 0)
    csum = internet_checksum(pseudo_header(src, dst, IpProtocol.UDP, length) + hdr + data) or 0xFFFF
    # a non-zero IPv4 ID, as real hosts send (a zero one is replaced under AH: test_fuzz_packets)
    return build_ip(
        src, dst, IpProtocol.UDP, struct.pack("!HHHH", sport, dport, length, csum) + data,
        ident=0x4242,
    )  # fmt: skip


def tcp_packet(src: IPAddress, dst: IPAddress, sport: int, dport: int, data: bytes) -> bytes:
    hdr = struct.pack("!HHIIBBHHH", sport, dport, 1, 0, 5 << 4, 0x18, 1024, 0, 0)
    seg = hdr + data
    csum = internet_checksum(pseudo_header(src, dst, IpProtocol.TCP, len(seg)) + seg)
    seg = seg[:16] + csum.to_bytes(2, "big") + seg[18:]
    return build_ip(src, dst, IpProtocol.TCP, seg, ident=0x4243)


# Site A and site B networks and gateways, per address family.
SITES = {
    4: {
        "net_a": net("198.51.100.0/25"),
        "net_b": net("198.51.100.128/25"),
        "host_a": ip("198.51.100.10"),
        "host_b": ip("198.51.100.200"),
        "gw_a": ip("203.0.113.1"),
        "gw_b": ip("203.0.113.2"),
    },
    6: {
        "net_a": net("2001:db8:a::/48"),
        "net_b": net("2001:db8:b::/48"),
        "host_a": ip("2001:db8:a::10"),
        "host_b": ip("2001:db8:b::20"),
        "gw_a": ip("2001:db8:ff::1"),
        "gw_b": ip("2001:db8:ff::2"),
    },
}


@dataclass
class Pair:
    a: Processor
    b: Processor
    policy_a: Policy
    policy_b: Policy
    src: IPAddress  # inner source on A's side
    dst: IPAddress  # inner destination on B's side
    params: dict[str, SaParams] = field(default_factory=dict)

    def packet(self, data: bytes = b"hello", *, reverse: bool = False) -> bytes:
        if reverse:
            return udp_packet(self.dst, self.src, 2000, 1000, data)
        return udp_packet(self.src, self.dst, 1000, 2000, data)


def keymat(name: str, n: int) -> bytes:
    return hashlib.sha512(name.encode()).digest()[:n] if n <= 64 else bytes(range(n))


def make_pair(
    enc: str | None = "aes-128-cbc",
    integ: str | None = "sha1",
    *,
    esp: bool = True,
    ah: bool = False,
    tunnel: bool = True,
    inner: int = 4,
    outer: int = 4,
    esn: bool = False,
    udp: bool = False,
    replay: int = 128,
    level: Level = Level.REQUIRE,
    lifetime: Lifetime = NO_LIFETIME,
    now: float = 0.0,
    install: bool = True,
) -> Pair:
    """Two processors with mirrored policies and SAs."""
    if not tunnel:
        inner = outer
    si, so = SITES[inner], SITES[outer]
    if tunnel:
        src_net, dst_net = si["net_a"], si["net_b"]
        src, dst = si["host_a"], si["host_b"]
    else:
        src, dst = so["gw_a"], so["gw_b"]
        src_net, dst_net = net(f"{src}/{src.max_prefixlen}"), net(f"{dst}/{dst.max_prefixlen}")
    gw_a, gw_b = so["gw_a"], so["gw_b"]
    pol_a = Policy(
        id=1,
        src=src_net,
        dst=dst_net,
        tunnel=tunnel,
        sa_src=gw_a,
        sa_dst=gw_b,
        esp=esp,
        ah=ah,
        level=level,
        action=Action.ENCRYPT,
    )
    pol_b = Policy(
        id=1,
        src=dst_net,
        dst=src_net,
        tunnel=tunnel,
        sa_src=gw_b,
        sa_dst=gw_a,
        esp=esp,
        ah=ah,
        level=level,
        action=Action.ENCRYPT,
    )
    sad_a, sad_b = Sad(), Sad()
    proc_a = Processor(Spd([pol_a]), sad_a, Statistics(), det_rng(b"a"))
    proc_b = Processor(Spd([pol_b]), sad_b, Statistics(), det_rng(b"b"))
    pair = Pair(a=proc_a, b=proc_b, policy_a=pol_a, policy_b=pol_b, src=src, dst=dst)
    mode = pol_a.mode
    protos = [(SaProtocol.ESP, 0x100)] if esp else []
    if ah:
        protos.append((SaProtocol.AH, 0x200))
    for proto, base in protos:
        for direction_tag, spi, s, d in (
            ("ab", base + 1, gw_a, gw_b),
            ("ba", base + 2, gw_b, gw_a),
        ):
            if proto is SaProtocol.ESP:
                e = registry.encryption(enc or "null")
                i = None if e.aead else registry.integrity(integ or "null")
            else:
                e = None
                i = registry.integrity(integ or "sha1")
            common = dict(
                spi=spi,
                protocol=proto,
                src=s,
                dst=d,
                mode=mode,
                encryption=e,
                enc_key=keymat(f"e{spi}", e.keymat_size) if e else b"",
                integrity=i,
                auth_key=keymat(f"i{spi}", i.key_size) if i else b"",
                esn=esn,
                replay_window=replay,
                lifetime=lifetime,
                udp_encap=((4500, 4500) if udp and proto is SaProtocol.ESP else None),
            )
            out = SaParams(direction=Direction.OUT, **common)  # type: ignore[arg-type]
            inn = SaParams(direction=Direction.IN, **common)  # type: ignore[arg-type]
            pair.params[f"{proto.name}-{direction_tag}"] = out
            if install:
                sender, receiver = (sad_a, sad_b) if direction_tag == "ab" else (sad_b, sad_a)
                sender.add(out, now)
                receiver.add(inn, now)
    return pair
