"""Our side of an oracle test: one engine (SPD + SAD + Processor) with a policy and an SA pair.

The gateway ("local") talks to a peer ("remote") played by the oracle. Addresses come from the
documentation ranges only (RFC 5737, RFC 3849). Keys are fixed, derived from labels, so a
failing case can be replayed exactly.
"""

from __future__ import annotations

import hashlib
import ipaddress
import random
from dataclasses import dataclass

from pyipsec.crypto import registry
from pyipsec.crypto.base import EncryptionAlgorithm, IntegrityAlgorithm
from pyipsec.dataplane.policy import Direction, Mode, Policy
from pyipsec.dataplane.processor import InboundResult, OutboundResult, Processor
from pyipsec.dataplane.sad import Sad, SaParams, SaProtocol
from pyipsec.dataplane.spd import Spd
from pyipsec.dataplane.stats import Statistics
from tests.oracle.algorithms import EspCombo
from tests.oracle.packets import IPAddress, echo_request, udp_packet

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

OUT_SPI = 0x0C0FFEE1  # local -> remote (our outbound SA, the oracle's inbound SA)
IN_SPI = 0x0BADF00D  # remote -> local
NAT_T_PORT = 4500  # RFC 3948 §2
ESN_HIGH = 1  # high 32 bits of the outbound ESN sequence numbers in ESN cases
AH_SPI_OFFSET = 0x100  # in an ESP+AH bundle the AH SA has the ESP SPI + this
UDP_PORTS = (40000, 40001)  # no tshark dissector claims these (see tshark.py)


@dataclass(frozen=True, slots=True, kw_only=True)
class Site:
    """One side's public address, LAN and a host on it, for one IP version."""

    outer: IPAddress
    lan: IPNetwork
    host: IPAddress


def _site(outer: str, lan: str, host: str) -> Site:
    return Site(
        outer=ipaddress.ip_address(outer),
        lan=ipaddress.ip_network(lan),
        host=ipaddress.ip_address(host),
    )


LOCAL = {
    4: _site("198.51.100.1", "198.51.100.128/25", "198.51.100.130"),
    6: _site("2001:db8:a::1", "2001:db8:a:1::/64", "2001:db8:a:1::130"),
}
REMOTE = {
    4: _site("203.0.113.1", "203.0.113.128/25", "203.0.113.140"),
    6: _site("2001:db8:b::1", "2001:db8:b:1::/64", "2001:db8:b:1::140"),
}


def key_bytes(label: str, n: int) -> bytes:
    """``n`` fixed bytes for ``label`` (SHA-256 in counter mode)."""
    out = b""
    i = 0
    while len(out) < n:
        out += hashlib.sha256(f"{label}/{i}".encode()).digest()
        i += 1
    return out[:n]


@dataclass(frozen=True, slots=True, kw_only=True)
class Case:
    """One oracle scenario: protocol, transforms, mode, address families, options."""

    esp: EspCombo | None = None  # ESP transforms, or None for AH
    ah: str | None = None  # AH integrity name, or None for ESP
    tunnel: bool = True
    inner: int = 4  # IP version of the protected packet
    outer: int = 4  # IP version of the SA endpoints (== inner in transport mode)
    esn: bool = False
    encap: bool = False  # ESP in UDP (RFC 3948)
    ext: bool = False  # IPv4 options / IPv6 extension headers in the cleartext (packets.py)

    @property
    def id(self) -> str:
        what = self.esp.id if self.esp is not None else ""
        if self.ah is not None:
            what += f"{'+' if what else ''}ah-{self.ah}"
        mode = f"tun{self.inner}in{self.outer}" if self.tunnel else f"tra{self.inner}"
        extra = "-esn" if self.esn else ""
        extra += "-natt" if self.encap else ""
        extra += "-ext" if self.ext else ""
        return f"{what}-{mode}{extra}"

    @property
    def encryption(self) -> EncryptionAlgorithm | None:
        return None if self.esp is None else self.esp.encryption

    @property
    def integrity(self) -> IntegrityAlgorithm | None:
        if self.esp is not None:
            return self.esp.integrity
        assert self.ah is not None
        return registry.integrity(self.ah)

    @property
    def bundle(self) -> bool:
        """ESP and AH together (RFC 4301 §4.5): AH outermost, over the ESP packet."""
        return self.esp is not None and self.ah is not None

    def ah_key(self, direction: Direction) -> bytes:
        """The AH integrity key of a bundle (the ESP SA has its own, from ``keys``)."""
        assert self.ah is not None
        size = registry.integrity(self.ah).key_size
        return key_bytes(f"{self.id}/{direction.value}/ah", size)

    def keys(self, direction: Direction) -> tuple[bytes, bytes]:
        """(encryption key incl. salt, integrity key) of the SA in ``direction``."""
        enc = self.encryption
        integ = self.integrity
        label = f"{self.id}/{direction.value}"
        ek = key_bytes(label + "/enc", enc.keymat_size) if enc is not None else b""
        ak = key_bytes(label + "/auth", integ.key_size) if integ is not None else b""
        return ek, ak

    @property
    def local(self) -> Site:
        return LOCAL[self.outer]

    @property
    def remote(self) -> Site:
        return REMOTE[self.outer]

    def endpoints(self, direction: Direction) -> tuple[IPAddress, IPAddress]:
        """Outer (src, dst) of packets in ``direction`` (OUT: local -> remote)."""
        a, b = self.local.outer, self.remote.outer
        return (a, b) if direction is Direction.OUT else (b, a)

    def inner_hosts(self, direction: Direction) -> tuple[IPAddress, IPAddress]:
        """(src, dst) of the protected packet in ``direction``."""
        if self.tunnel:
            a, b = LOCAL[self.inner].host, REMOTE[self.inner].host
        else:
            a, b = self.local.outer, self.remote.outer
        return (a, b) if direction is Direction.OUT else (b, a)

    def cleartext(self, direction: Direction, n: int = 0, icmp: bool = False) -> bytes:
        """A cleartext packet in ``direction``; ``n`` varies the payload (and its length)."""
        src, dst = self.inner_hosts(direction)
        data = f"oracle {self.id} {direction.value} #{n} ".encode() + bytes(range(n % 23))
        if icmp:
            return echo_request(src, dst, 0x4242, n, data, ext=self.ext)
        return udp_packet(src, dst, UDP_PORTS[0], UDP_PORTS[1], data, ext=self.ext)


class Gateway:
    """Our engine configured for ``case``: policy id 1 and the two SAs."""

    def __init__(
        self, case: Case, now: float = 1000.0, out_spi: int = OUT_SPI, in_spi: int = IN_SPI
    ) -> None:
        self.case = case
        self.now = now
        if case.tunnel:
            src_net: IPNetwork = LOCAL[case.inner].lan
            dst_net: IPNetwork = REMOTE[case.inner].lan
        else:
            src_net = ipaddress.ip_network(case.local.outer)
            dst_net = ipaddress.ip_network(case.remote.outer)
        self.policy = Policy(
            id=1,
            src=src_net,
            dst=dst_net,
            tunnel=case.tunnel,
            sa_src=case.local.outer,
            sa_dst=case.remote.outer,
            esp=case.esp is not None,
            ah=case.ah is not None,
        )
        self.spd = Spd([self.policy])
        self.sad = Sad()
        rnd = random.Random(case.id)
        self.processor = Processor(self.spd, self.sad, Statistics(), rnd.randbytes)
        for direction, spi in ((Direction.OUT, out_spi), (Direction.IN, in_spi)):
            src, dst = case.endpoints(direction)
            ek, ak = case.keys(direction)
            initial_seq = (ESN_HIGH << 32) + 41 if case.esn and direction is Direction.OUT else 0
            if case.bundle:
                assert case.ah is not None
                self.sad.add(
                    SaParams(
                        spi=spi + AH_SPI_OFFSET,
                        protocol=SaProtocol.AH,
                        direction=direction,
                        src=src,
                        dst=dst,
                        mode=Mode.TUNNEL if case.tunnel else Mode.TRANSPORT,
                        integrity=registry.integrity(case.ah),
                        auth_key=case.ah_key(direction),
                        esn=case.esn,
                        initial_seq=initial_seq,
                    ),
                    now,
                )
            self.sad.add(
                SaParams(
                    spi=spi,
                    protocol=SaProtocol.ESP if case.esp is not None else SaProtocol.AH,
                    direction=direction,
                    src=src,
                    dst=dst,
                    mode=Mode.TUNNEL if case.tunnel else Mode.TRANSPORT,
                    encryption=case.encryption,
                    enc_key=ek,
                    integrity=case.integrity,
                    auth_key=ak,
                    esn=case.esn,
                    udp_encap=(NAT_T_PORT, NAT_T_PORT) if case.encap else None,
                    initial_seq=initial_seq,
                ),
                now,
            )

    def protect(self, packet: bytes) -> OutboundResult:
        self.now += 0.001
        return self.processor.outbound(packet, self.now)

    def unprotect(self, packet: bytes) -> InboundResult:
        self.now += 0.001
        return self.processor.inbound(packet, self.now)
