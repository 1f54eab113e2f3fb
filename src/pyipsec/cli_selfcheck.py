"""``pyipsec selfcheck``: prove the crypto suite and the packet engine work on this machine.

It prints the algorithm registry, runs the power-on known-answer checks, times one key
exchange per group, sends packets both ways between two in-memory gateways for ESP, AH and
AH+ESP (tunnel and transport, IPv4 and IPv6, every ESP cipher), shows that a forged and a
replayed packet are dropped and counted, and prints both sides' `/ip ipsec statistics`.
Exit status 0 when every check passed.
"""

from __future__ import annotations

import argparse
import hashlib
import ipaddress
import os
import time
from dataclasses import dataclass

from pyipsec.crypto import registry
from pyipsec.crypto.groups import GROUPS
from pyipsec.crypto.selftest import run_selftests
from pyipsec.dataplane.policy import Direction, IPAddress, Policy
from pyipsec.dataplane.processor import Processor, Verdict
from pyipsec.dataplane.sad import Sad, SaParams, SaProtocol
from pyipsec.dataplane.spd import Spd
from pyipsec.dataplane.stats import Statistics
from pyipsec.wire.ip import build_ip

ip = ipaddress.ip_address
net = ipaddress.ip_network

# Two sites per family (RFC 5737 and RFC 3849 documentation addresses).
SITES = {
    4: ("198.51.100.0/25", "203.0.113.0/25", "198.51.100.10", "203.0.113.10",
        "198.51.100.129", "198.51.100.130"),
    6: ("2001:db8:a::/64", "2001:db8:b::/64", "2001:db8:a::10", "2001:db8:b::10",
        "2001:db8:f::1", "2001:db8:f::2"),
}  # fmt: skip


@dataclass
class Gateway:
    processor: Processor
    stats: Statistics


@dataclass(frozen=True)
class Case:
    label: str
    enc: str | None
    integ: str | None
    esp: bool = True
    ah: bool = False
    tunnel: bool = True
    inner: int = 4
    outer: int = 4


def _key(label: str, n: int) -> bytes:
    out = b""
    while len(out) < n:
        out += hashlib.sha256(f"{label}/{len(out)}".encode()).digest()
    return out[:n]


def build_pair(case: Case) -> tuple[Gateway, Gateway, IPAddress, IPAddress]:
    """Two gateways with mirrored policies and manually keyed SAs for ``case``."""
    fam = case.inner if case.tunnel else case.outer
    net_a, net_b, host_a, host_b, *_ = SITES[fam]
    *_, gw_a, gw_b = SITES[case.outer]
    if not case.tunnel:
        host_a, host_b = gw_a, gw_b
        net_a, net_b = f"{gw_a}/{ip(gw_a).max_prefixlen}", f"{gw_b}/{ip(gw_b).max_prefixlen}"
    gateways = []
    for src, dst, sa_src, sa_dst in ((net_a, net_b, gw_a, gw_b), (net_b, net_a, gw_b, gw_a)):
        policy = Policy(id=1, src=net(src), dst=net(dst), tunnel=case.tunnel, esp=case.esp,
                        ah=case.ah, sa_src=ip(sa_src), sa_dst=ip(sa_dst))  # fmt: skip
        stats = Statistics()
        proc = Processor(Spd([policy]), Sad(), stats, os.urandom)
        gateways.append(Gateway(proc, stats))
    protos = ([SaProtocol.ESP] if case.esp else []) + ([SaProtocol.AH] if case.ah else [])
    for proto in protos:
        for spi, (sender, receiver), s, d in (
            (0x1000 + proto, (gateways[0], gateways[1]), gw_a, gw_b),
            (0x2000 + proto, (gateways[1], gateways[0]), gw_b, gw_a),
        ):
            enc = registry.encryption(case.enc) if proto is SaProtocol.ESP and case.enc else None
            integ = None
            if case.integ and not (enc and enc.aead):
                integ = registry.integrity(case.integ)
            common = {
                "spi": spi,
                "protocol": proto,
                "src": ip(s),
                "dst": ip(d),
                "mode": Policy(id=0, src=net(net_a), dst=net(net_b), tunnel=case.tunnel).mode,
                "encryption": enc,
                "enc_key": _key(f"e{spi}", enc.keymat_size) if enc else b"",
                "integrity": integ,
                "auth_key": _key(f"a{spi}", integ.key_size) if integ else b"",
            }
            sender.processor.sad.add(SaParams(direction=Direction.OUT, **common), 0.0)  # type: ignore[arg-type]
            receiver.processor.sad.add(SaParams(direction=Direction.IN, **common), 0.0)  # type: ignore[arg-type]
    return gateways[0], gateways[1], ip(host_a), ip(host_b)


def run_case(case: Case, count: int = 3) -> bool:
    a, b, host_a, host_b = build_pair(case)
    ok = True
    for sender, receiver, s, d in ((a, b, host_a, host_b), (b, a, host_b, host_a)):
        for n in range(count):
            payload = b"\x08\x00\x00\x00" + f"pyipsec selfcheck {n}".encode()
            packet = build_ip(s, d, 1 if s.version == 4 else 58, payload, ident=0x100 + n)
            out = sender.processor.outbound(packet, 1.0)
            if out.verdict is not Verdict.PROTECTED or out.packet == packet:
                return False
            back = receiver.processor.inbound(out.packet, 1.0)
            ok = ok and back.verdict is Verdict.DELIVER and back.packet == packet
    return ok


def attack_demo() -> tuple[bool, Statistics]:
    """A forged and a replayed packet on an aes-128-gcm SA: both dropped and counted."""
    a, b, host_a, host_b = build_pair(Case("gcm", "aes-128-gcm", None))
    out = a.processor.outbound(build_ip(host_a, host_b, 17, b"\0" * 20), 1.0)
    forged = bytearray(out.packet)
    forged[-1] ^= 1
    r1 = b.processor.inbound(bytes(forged), 1.0)
    r2 = b.processor.inbound(out.packet, 1.0)
    r3 = b.processor.inbound(out.packet, 1.0)
    ok = (
        r1.verdict is Verdict.DROPPED
        and r2.verdict is Verdict.DELIVER
        and r3.verdict is Verdict.DROPPED
        and b.stats.as_dict()["in-state-protocol-errors"] == 1
        and b.stats.as_dict()["in-state-sequence-errors"] == 1
    )
    return ok, b.stats


def cases() -> list[Case]:
    found = [Case(f"esp {name} tunnel v4", name, "sha1") for name in registry.ENCRYPTION
             if not name.startswith("aes-") or name.count("-") == 2]  # fmt: skip
    found += [
        Case("esp aes-256-cbc+sha256 transport v6", "aes-256-cbc", "sha256", tunnel=False, outer=6),
        Case("esp aes-128-gcm tunnel v6-in-v4", "aes-128-gcm", None, inner=6, outer=4),
        Case("ah sha1 transport v4", None, "sha1", esp=False, ah=True, tunnel=False),
        Case("ah sha512 tunnel v6", None, "sha512", esp=False, ah=True, inner=6, outer=6),
        Case("ah+esp aes-128-cbc+sha256 tunnel v4", "aes-128-cbc", "sha256", ah=True),
        Case("ah+esp chacha20poly1305 transport v6", "chacha20poly1305", "sha1", ah=True,
             tunnel=False, outer=6),
    ]  # fmt: skip
    return found


def settings_style(values: dict[str, int]) -> str:
    width = max(len(k) for k in values)
    return "\n".join(f"{k.rjust(width)}: {v}" for k, v in values.items())


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--quiet", action="store_true", help="print only the verdicts")


def run(args: argparse.Namespace) -> int:
    failures = 0
    if not args.quiet:
        print(registry.describe())
        print()
    print("== known-answer checks")
    for r in run_selftests():
        failures += not r.passed
        print(f"  {'ok  ' if r.passed else 'FAIL'} {r.name:<18} {r.source}")
    print("== key exchange (key generation + shared secret, both sides agree)")
    for g in GROUPS:
        t0 = time.perf_counter()
        x, y = g.new(os.urandom), g.new(os.urandom)
        agree = x.shared_secret(y.public_value) == y.shared_secret(x.public_value)
        ms = (time.perf_counter() - t0) * 1000 / 2
        failures += not agree
        print(f"  {'ok  ' if agree else 'FAIL'} {g.name:<10} group {g.id:<3} {ms:8.1f} ms")
    print("== packets both ways between two gateways (3 each way)")
    for case in cases():
        ok = run_case(case)
        failures += not ok
        print(f"  {'ok  ' if ok else 'FAIL'} {case.label}")
    ok, stats = attack_demo()
    failures += not ok
    print(f"== a forged and a replayed packet are dropped and counted: {'ok' if ok else 'FAIL'}")
    if not args.quiet:
        print("[admin@pyipsec] /ip ipsec statistics> print")
        print(settings_style(stats.as_dict()))
    print(f"== {'all checks passed' if not failures else f'{failures} checks FAILED'}")
    return 0 if not failures else 1
