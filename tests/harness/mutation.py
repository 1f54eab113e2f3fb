"""Malformed-datagram generation for the robustness tests and the mutation campaign (issue 9).

Three pieces, shared by ``tests/interop/test_robustness.py``, ``tests/interop/test_mutation.py``
and ``bench/mutate_campaign.py``:

- capture: ``SNIFFER`` runs inside a namespace (``python -c SNIFFER SECONDS``) and prints every
  IPv4 packet it sees that carries ESP, AH or UDP to/from port 500 or 4500, as
  ``<ifname> <hex of the whole IP packet>``; ``parse_capture`` turns that output into
  ``Template``s, each aimed at the daemon under test (a packet the daemon sent is turned round,
  so it arrives from the peer's address, as an attacker who recorded it would replay it).
- mutation: ``Mutator`` draws, from a seed, datagrams built from the templates: bit flips,
  truncation, extension, random bytes, splices of two real packets, exact replays, and
  field-aware changes (ISAKMP cookies, next-payload, flags, message ID, lengths, a payload
  header deep in the chain; ESP/AH SPI, sequence number, payload length; the RFC 3948
  non-ESP marker of port 4500); ESP and AH sometimes get an outer header with options
  and a TOS byte (AH must zero the mutable ones before its ICV check), UDP ones another
  source port (a NAT rebinding must not be believed before authentication). ``fuzz_datagrams``
  is the short fixed list of malformed ISAKMP messages that the issue-5 robustness test
  sends.
- sending: ``python -m tests.harness.mutation send`` (in the attacking namespace) builds the
  IPv4/UDP headers itself and sends through a raw socket with ``sendmmsg``, at a bounded rate;
  it prints one JSON line counting what it sent by the class the receiver will see it as.
"""

from __future__ import annotations

import argparse
import json
import random
import socket
import struct
import sys
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from pyipsec.dataplane.userspace import mmsg
from pyipsec.wire.udpencap import NON_ESP_MARKER, UdpPayloadKind, classify

IPPROTO_ESP, IPPROTO_AH, IPPROTO_UDP = 50, 51, 17
IKE_PORTS = (500, 4500)

# -- capture -----------------------------------------------------------------------------------

SNIFFER = r"""
import select, socket, sys, time
s = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(3))  # ETH_P_ALL
print("ready", flush=True)
end = time.monotonic() + float(sys.argv[1])
while time.monotonic() < end:
    if not select.select([s], [], [], 0.1)[0]:
        continue
    ip, addr = s.recvfrom(65535)
    if len(ip) < 40 or addr[0] == "lo" or addr[2] not in (0, 4):  # PACKET_HOST, _OUTGOING
        continue
    if ip[0] >> 4 == 4:
        proto, off = ip[9], (ip[0] & 15) * 4
    elif ip[0] >> 4 == 6:
        proto, off = ip[6], 40
    else:
        continue
    if proto == 17:
        ports = {int.from_bytes(ip[off:off + 2], "big"), int.from_bytes(ip[off + 2:off + 4], "big")}
        if not ports & {500, 4500}:
            continue
    elif proto not in (50, 51):
        continue
    print(addr[0], ip.hex(), flush=True)
"""


@dataclass(frozen=True)
class Template:
    """One captured packet, aimed at the daemon: IP protocol, the peer's and the daemon's
    addresses, UDP ports (peer's, daemon's; 0 for ESP/AH), the IP identification (AH covers
    it) and the IP payload (UDP: the UDP payload)."""

    kind: str  # "ike500", "ike4500", "esp", "espudp", "ah", "keepalive"
    proto: int
    src: str
    dst: str
    sport: int
    dport: int
    ip_id: int
    payload: bytes


def parse_capture(lines: Iterable[str], local: Iterable[str]) -> list[Template]:
    """Templates from ``SNIFFER`` output; ``local`` are the daemon's addresses (packets from
    them are turned round). Duplicates (the same packet seen twice) are kept once."""
    mine = set(local)
    out: list[Template] = []
    seen: set[bytes] = set()
    for line in lines:
        parts = line.split()
        if len(parts) != 2:
            continue
        try:
            ip = bytes.fromhex(parts[1])
        except ValueError:
            continue
        if len(ip) < 20 or ip[0] >> 4 not in (4, 6) or ip in seen:
            continue
        seen.add(ip)
        if ip[0] >> 4 == 4:
            ihl = (ip[0] & 15) * 4
            body = ip[ihl : int.from_bytes(ip[2:4], "big")]
            src, dst = socket.inet_ntoa(ip[12:16]), socket.inet_ntoa(ip[16:20])
            ip_id, proto = int.from_bytes(ip[4:6], "big"), ip[9]
        else:  # IPv6 without extension headers (what the lab's tunnels send)
            body = ip[40 : 40 + int.from_bytes(ip[4:6], "big")]
            src = socket.inet_ntop(socket.AF_INET6, ip[8:24])
            dst = socket.inet_ntop(socket.AF_INET6, ip[24:40])
            ip_id, proto = 0, ip[6]
        sport, dport = 0, 0
        if proto == IPPROTO_UDP:
            if len(body) < 8:
                continue
            sport, dport = struct.unpack("!HH", body[:4])
            body = body[8:]
        if src in mine:
            src, dst, sport, dport = dst, src, dport, sport
        elif dst not in mine:
            continue
        out.append(
            Template(
                kind=template_kind(proto, dport, body),
                proto=proto,
                src=src,
                dst=dst,
                sport=sport,
                dport=dport,
                ip_id=ip_id,
                payload=body,
            )
        )
    return out


def template_kind(proto: int, dport: int, payload: bytes) -> str:
    if proto == IPPROTO_ESP:
        return "esp"
    if proto == IPPROTO_AH:
        return "ah"
    if dport == 500:
        return "ike500"
    kind = classify(payload)
    if kind is UdpPayloadKind.ESP:
        return "espudp"
    return "keepalive" if kind is UdpPayloadKind.KEEPALIVE else "ike4500"


def receiver_class(proto: int, dport: int, payload: bytes) -> str:
    """Where the daemon's sockets hand a datagram: "ike" (the IKE engine), "esp"/"ah" (the
    packet engine, raw), "espudp" (the packet engine, from UDP 4500), "keepalive" (ignored)."""
    if proto == IPPROTO_ESP:
        return "esp"
    if proto == IPPROTO_AH:
        return "ah"
    if dport == 500:
        return "ike"
    kind = classify(payload)
    if kind is UdpPayloadKind.ESP:
        return "espudp"
    return "keepalive" if kind is UdpPayloadKind.KEEPALIVE else "ike"


def captured_ike(templates: Iterable[Template]) -> list[bytes]:
    """The ISAKMP messages among ``templates`` (marker removed), at least a header long."""
    out = []
    for t in templates:
        data = t.payload[4:] if t.kind == "ike4500" else t.payload
        if t.kind in ("ike500", "ike4500") and len(data) >= 28:
            out.append(data)
    return out


# -- the issue-5 list of malformed ISAKMP -----------------------------------------------------


def fuzz_datagrams(real: list[bytes], seed: int = 5) -> list[tuple[int, bytes]]:
    """(port, payload) pairs: truncated headers, random bytes, mutated real messages; every
    ISAKMP one goes to 500 as is and to 4500 behind the non-ESP marker."""
    rng = random.Random(seed)
    ike: list[bytes] = []
    first = real[0]
    ike += [first[:k] for k in range(28)]  # truncated headers
    ike += [first[:28][:24] + (10_000).to_bytes(4, "big")]  # header claiming 10 kB
    for k in range(0, len(first), 7):  # truncated messages, header length left as it was
        ike.append(first[:k])
    ike += [rng.randbytes(rng.randrange(1, 600)) for _ in range(60)]
    for _ in range(60):  # random bodies behind plausible headers
        body = rng.randbytes(rng.randrange(0, 300))
        hdr = (rng.randbytes(16) + bytes([rng.randrange(0, 14), 0x10, rng.choice([2, 4, 5, 6, 32])])
               + bytes([rng.randrange(0, 4)]) + rng.randbytes(4))  # fmt: skip
        ike.append(hdr + (28 + len(body)).to_bytes(4, "big") + body)
    for msg in real:
        for _ in range(12):
            ike.append(_mutate_isakmp_simple(rng, bytearray(msg)))
    out = [(500, d) for d in ike] + [(4500, NON_ESP_MARKER + d) for d in ike]
    out += [(4500, rng.randbytes(rng.randrange(8, 200))) for _ in range(30)]  # bogus ESP
    out += [(4500, b"\xff"), (4500, NON_ESP_MARKER), (500, b"")]
    return out


def _mutate_isakmp_simple(rng: random.Random, m: bytearray) -> bytes:
    kind = rng.randrange(5)
    if kind == 0:  # flip a few bits anywhere
        for _ in range(rng.randrange(1, 5)):
            m[rng.randrange(len(m))] ^= 1 << rng.randrange(8)
    elif kind == 1:  # wrong total length
        m[24:28] = rng.randrange(0, 2**32).to_bytes(4, "big")
    elif kind == 2:  # cut short
        del m[rng.randrange(28, len(m)) :]
    elif kind == 3:  # trailing garbage
        m += rng.randbytes(rng.randrange(1, 64))
    elif len(m) > 32:  # a payload header mangled (next payload / length of the first payload)
        m[28 + rng.randrange(4)] = rng.randrange(256)
    return bytes(m)


# -- the campaign's mutator -------------------------------------------------------------------


def _isakmp_payload_offsets(msg: bytes) -> list[int]:
    """Offsets of the generic payload headers of a cleartext ISAKMP message (as far as the
    chain can be followed); an encrypted body yields only the first."""
    offsets: list[int] = []
    off, nxt = 28, msg[16] if len(msg) > 16 else 0
    while nxt and off + 4 <= len(msg) and len(offsets) < 32:
        offsets.append(off)
        length = int.from_bytes(msg[off + 2 : off + 4], "big")
        if length < 4 or msg[19] & 1:
            break
        nxt, off = msg[off], off + length
    return offsets


class Mutator:
    """Malformed datagrams drawn from ``templates`` with ``random.Random(seed)``.

    ``next()`` returns ``(template, payload, mutation name)``; the template gives protocol,
    addresses and ports. Every mutation changes the bytes except ``replay`` (an exact copy:
    replay protection and retransmission detection must drop or answer it).
    """

    GENERIC = ("bitflip", "bytes", "truncate", "extend", "random", "splice")
    GROUPS = ("generic", "field", "replay")
    WEIGHTS = (6, 5, 1)

    def __init__(self, templates: list[Template], seed: int) -> None:
        usable = [t for t in templates if t.kind != "keepalive"]
        if not usable:
            raise ValueError("no captured packets to mutate")
        self.rng = random.Random(seed)
        self.by_kind: dict[str, list[Template]] = {}
        for t in usable:
            self.by_kind.setdefault(t.kind, []).append(t)
        self.kinds = sorted(self.by_kind)
        spis = {t.payload[:4] for t in usable if t.kind in ("esp", "espudp") and len(t.payload) > 4}
        spis |= {t.payload[4:8] for t in usable if t.kind == "ah" and len(t.payload) > 8}
        self.spis = sorted(spis)

    def next(self) -> tuple[Template, bytes, str]:
        rng = self.rng
        kind = rng.choice(self.kinds)  # every kind equally often, however many were captured
        t = rng.choice(self.by_kind[kind])
        group = rng.choices(self.GROUPS, weights=self.WEIGHTS)[0]
        if group == "replay":
            return t, t.payload, "replay"
        if group == "field":
            payload, name = self._field(t)
        else:
            name = rng.choice(self.GENERIC)
            payload = self._generic(t, name)
        if payload == t.payload:  # a mutation that changed nothing: flip one bit
            payload = self._bitflip(t.payload, 1)
        return t, payload, name

    # generic mutations keep the 4500 marker of IKE most of the time, so they reach the engine
    def _body(self, t: Template) -> tuple[bytes, bytes]:
        if t.kind == "ike4500" and self.rng.random() < 0.9:
            return t.payload[:4], t.payload[4:]
        return b"", t.payload

    def _bitflip(self, data: bytes, n: int) -> bytes:
        if not data:
            return b"\0"
        m = bytearray(data)
        for _ in range(n):
            m[self.rng.randrange(len(m))] ^= 1 << self.rng.randrange(8)
        return bytes(m)

    def _generic(self, t: Template, name: str) -> bytes:
        rng = self.rng
        head, body = self._body(t)
        if name == "bitflip":
            body = self._bitflip(body, rng.choice((1, 1, 1, 2, 3, 8)))
        elif name == "bytes":
            m = bytearray(body or b"\0")
            for _ in range(rng.randrange(1, 6)):
                m[rng.randrange(len(m))] = rng.randrange(256)
            body = bytes(m)
        elif name == "truncate":
            body = body[: rng.randrange(len(body))] if body else b""
        elif name == "extend":
            body += rng.randbytes(rng.choice((1, 4, 16, rng.randrange(1, 400))))
        elif name == "random":
            body = rng.randbytes(rng.choice((rng.randrange(0, 40), rng.randrange(0, 1400))))
        else:  # splice: the head of this packet and the tail of another of the same kind
            other = rng.choice(self.by_kind[t.kind]).payload[len(head) :]
            body = body[: rng.randrange(len(body) + 1)] + other[rng.randrange(len(other) + 1) :]
        return head + body

    def _field(self, t: Template) -> tuple[bytes, str]:
        if t.kind in ("ike500", "ike4500"):
            return self._isakmp_field(t)
        if t.kind == "ah":
            return self._ah_field(t)
        return self._esp_field(t)

    def _isakmp_field(self, t: Template) -> tuple[bytes, str]:
        rng = self.rng
        head, body = (t.payload[:4], t.payload[4:]) if t.kind == "ike4500" else (b"", t.payload)
        m = bytearray(body)
        if len(m) < 28:
            return head + self._bitflip(body, 1), "isakmp-short"
        choice = rng.randrange(11)
        if choice == 0:  # initiator cookie: a new phase 1 (or a stranger)
            m[0:8] = rng.randbytes(8)
            name = "isakmp-icookie"
        elif choice == 10:
            # any captured message presented as the first of a new phase 1 (fresh initiator
            # cookie, no responder cookie, message ID 0, in the clear, as main, aggressive or
            # base mode): its payloads reach the responder's parser instead of being dropped
            # by cookie (a later message of an established SA never gets that far)
            m[0:8] = rng.randbytes(8)
            m[8:16] = bytes(8)
            m[18] = rng.choice((2, 2, 4, 1))
            m[19] &= 0xFE
            m[20:24] = bytes(4)
            name = "isakmp-fresh"
        elif choice == 1:  # responder cookie: zero, random, or the initiator's
            m[8:16] = rng.choice((bytes(8), rng.randbytes(8), bytes(m[0:8])))
            name = "isakmp-rcookie"
        elif choice == 2:
            m[16] = rng.randrange(256)
            name = "isakmp-next-payload"
        elif choice == 3:  # version / exchange type
            m[rng.choice((17, 18))] = rng.randrange(256)
            name = "isakmp-version-exchange"
        elif choice == 4:  # flags: encryption, commit, authentication-only
            m[19] ^= 1 << rng.randrange(3) if rng.random() < 0.8 else rng.randrange(256)
            name = "isakmp-flags"
        elif choice == 5:
            m[20:24] = rng.choice((bytes(4), rng.randbytes(4), b"\xff" * 4))
            name = "isakmp-message-id"
        elif choice == 6:  # the header's length: off by a little, far off, or zero
            length = int.from_bytes(m[24:28], "big")
            new = rng.choice((0, 27, 28, length - 1, length + 1, length + 8, 2**32 - 1,
                              rng.randrange(2**32)))  # fmt: skip
            m[24:28] = (new % 2**32).to_bytes(4, "big")
            name = "isakmp-length"
        elif choice == 7:  # cut at a block boundary: an encrypted body whose length is odd
            cut = 28 + rng.randrange(max(1, (len(m) - 28) // 8)) * 8
            del m[cut:]
            m[24:28] = len(m).to_bytes(4, "big")
            name = "isakmp-cut-consistent"
        else:  # a generic payload header deep in the chain: next payload, reserved, length
            offsets = _isakmp_payload_offsets(bytes(m))
            off = rng.choice(offsets) if offsets else 28
            if off + 4 > len(m):
                m += bytes(off + 4 - len(m))
            field = rng.randrange(3)
            if field == 0:
                m[off] = rng.randrange(256)
            elif field == 1:
                m[off + 1] = rng.randrange(1, 256)
            else:
                length = int.from_bytes(m[off + 2 : off + 4], "big")
                new = rng.choice((0, 1, 3, 4, length - 1, length + 1, 0xFFFF, rng.randrange(65536)))
                m[off + 2 : off + 4] = (new % 65536).to_bytes(2, "big")
            name = "isakmp-payload-header"
        if t.kind == "ike4500" and rng.random() < 0.05:
            head = rng.choice((b"", b"\0\0\0", b"\0\0\0\1"))
        return head + bytes(m), name

    def _esp_field(self, t: Template) -> tuple[bytes, str]:
        rng = self.rng
        m = bytearray(t.payload)
        if len(m) < 8:
            return self._bitflip(t.payload, 1), "esp-short"
        choice = rng.randrange(6)
        if choice == 0:  # SPI: another SA's, random, zero (on 4500: becomes the marker)
            spi = rng.choice([*self.spis, rng.randbytes(4), bytes(4), b"\0\0\0\1", b"\xff" * 4])
            m[0:4] = spi
            name = "esp-spi"
        elif choice == 1:  # sequence number: zero, far ahead, just behind, random
            seq = int.from_bytes(m[4:8], "big")
            new = rng.choice((0, 1, seq - 1, seq + 1, seq + 64, 2**31, 2**32 - 1,
                              rng.randrange(2**32)))  # fmt: skip
            m[4:8] = (new % 2**32).to_bytes(4, "big")
            name = "esp-seq"
        elif choice == 2:  # only the header and a little: shorter than IV + ICV
            del m[rng.randrange(8, min(len(m), 8 + 48) + 1) :]
            name = "esp-cut-header"
        elif choice == 3:  # the ICV (the last 12-16 bytes) damaged
            k = rng.randrange(1, min(16, len(m) - 8) + 1)
            m[-k] ^= 1 << rng.randrange(8)
            name = "esp-icv"
        elif choice == 4:  # whole blocks removed or added: lengths stay block-aligned
            if rng.random() < 0.5 and len(m) > 40:
                del m[8 + 16 : 8 + 32]
            else:
                m[8 + 16 : 8 + 16] = rng.randbytes(16)
            name = "esp-blocks"
        else:  # a stray keepalive-like or tiny datagram
            m = bytearray(rng.choice((b"\xff", b"\xff\xff", rng.randbytes(rng.randrange(1, 8)))))
            name = "esp-tiny"
        return bytes(m), name

    def _ah_field(self, t: Template) -> tuple[bytes, str]:
        rng = self.rng
        m = bytearray(t.payload)
        if len(m) < 12:
            return self._bitflip(t.payload, 1), "ah-short"
        choice = rng.randrange(6)
        if choice == 0:  # next header
            m[0] = rng.choice((0, 4, 6, 17, 41, 50, 51, 59, rng.randrange(256)))
            name = "ah-next-header"
        elif choice == 1:  # payload length (in 32-bit words minus 2): 0, 1, huge, off by one
            m[1] = rng.choice((0, 1, 2, m[1] - 1, m[1] + 1, 255)) % 256
            name = "ah-payload-length"
        elif choice == 2:
            m[2:4] = rng.randbytes(2)
            name = "ah-reserved"
        elif choice == 3:
            m[4:8] = rng.choice([*self.spis, rng.randbytes(4), bytes(4)])
            name = "ah-spi"
        elif choice == 4:
            seq = int.from_bytes(m[8:12], "big")
            new = rng.choice((0, seq - 1, seq + 1, 2**32 - 1, rng.randrange(2**32)))
            m[8:12] = (new % 2**32).to_bytes(4, "big")
            name = "ah-seq"
        else:
            del m[rng.randrange(0, 24) :]
            name = "ah-cut"
        return bytes(m), name


# -- packets on the wire -----------------------------------------------------------------------

_IPV4 = struct.Struct("!BBHHHBBH4s4s")
_UDP = struct.Struct("!HHHH")


# IPv4 options a router may add (RFC 791; the kernel accepts them), padded to 32 bits: NOPs,
# router alert (immutable for AH), record route and timestamp (mutable: AH zeroes them)
IP_OPTIONS = (
    b"\x01\x01\x01\x01",
    b"\x94\x04\x00\x00",
    b"\x07\x07\x04" + bytes(4) + b"\x00",
    b"\x44\x0c\x05\x00" + bytes(8),
    b"\x01\x94\x04\x00\x00\x00\x00\x00",
)


def ip_packet(t: Template, payload: bytes, tos: int = 0, options: bytes = b"") -> bytes:
    """The IP packet of ``payload`` from the template's peer to the daemon (for IPv4 the kernel
    of a raw ``IPPROTO_RAW`` socket fills in the checksum; over IPv6 the UDP checksum is
    mandatory and computed here)."""
    if ":" in t.src:
        return ipv6_packet(t, payload, tos)
    if t.proto == IPPROTO_UDP:
        payload = _UDP.pack(t.sport, t.dport, 8 + len(payload), 0) + payload
    hlen = 20 + len(options)
    header = _IPV4.pack(
        0x40 | hlen // 4, tos, hlen + len(payload), t.ip_id or 1, 0, 64, t.proto, 0,
        socket.inet_aton(t.src), socket.inet_aton(t.dst),
    )  # fmt: skip
    return header + options + payload


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF or 0xFFFF


def ipv6_packet(t: Template, payload: bytes, tclass: int = 0) -> bytes:
    src = socket.inet_pton(socket.AF_INET6, t.src)
    dst = socket.inet_pton(socket.AF_INET6, t.dst)
    if t.proto == IPPROTO_UDP:
        length = 8 + len(payload)
        pseudo = src + dst + struct.pack("!IxxxB", length, IPPROTO_UDP)
        header = _UDP.pack(t.sport, t.dport, length, 0)
        checksum = _checksum(pseudo + header + payload)
        payload = _UDP.pack(t.sport, t.dport, length, checksum) + payload
    first = (6 << 28) | (tclass << 20)
    return struct.pack("!IHBB", first, len(payload), t.proto, 64) + src + dst + payload


def save_templates(templates: list[Template], path: Path) -> None:
    rows = [{**t.__dict__, "payload": t.payload.hex()} for t in templates]
    path.write_text(json.dumps(rows))


def load_templates(path: Path) -> list[Template]:
    return [
        Template(**{**row, "payload": bytes.fromhex(row["payload"])})
        for row in json.loads(path.read_text())
    ]


def datagrams(templates: list[Template], count: int, seed: int) -> Iterator[tuple[str, str, bytes]]:
    """``count`` mutated packets: (receiver class, mutation name, IPv4 packet)."""
    mutator = Mutator(templates, seed)
    rng = random.Random(seed ^ 0x5A5A)
    for _ in range(count):
        t, payload, name = mutator.next()
        if len(payload) > 1400:
            payload = payload[:1400]  # one frame on the lab's links: the kernel must not fragment
        tos, options = 0, b""
        if t.proto != IPPROTO_UDP and rng.random() < 0.05:  # the outer header, for ESP/AH
            tos, options = rng.randrange(256), rng.choice((b"", *IP_OPTIONS))
            name += "+outer-header"
        elif t.proto == IPPROTO_UDP and rng.random() < 0.05:
            # another source port (a NAT that rebinds, or an attacker): an unauthenticated
            # datagram must not move an SA's encapsulation or an IKE SA's peer port
            port = rng.choice((500, 4500, 4501, 1024, 65535, rng.randrange(1, 65536)))
            t = replace(t, sport=port if port != t.sport else port ^ 1)
            name += "+source-port"
        yield receiver_class(t.proto, t.dport, payload), name, ip_packet(t, payload, tos, options)


def send(templates: list[Template], count: int, seed: int, rate: float) -> dict[str, object]:
    """Send ``count`` mutated packets through a raw socket at most ``rate`` a second; what was
    sent, by receiver class and by mutation."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
    sock6 = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_RAW)
    batcher = mmsg.MmsgSender(sock.fileno()) if mmsg.available() else None
    classes: Counter[str] = Counter()
    mutations: Counter[str] = Counter()
    errors: Counter[str] = Counter()
    batch = 32
    packets: list[bytes] = []
    dsts: list[bytes] = []
    start = time.monotonic()
    sent = 0

    def flush() -> None:
        nonlocal sent
        i = 0
        while i < len(packets):
            try:
                if batcher is not None:
                    i += batcher.send(packets, dsts, i)
                else:
                    sock.sendto(packets[i], (socket.inet_ntoa(dsts[i]), 0))
                    i += 1
            except BlockingIOError:
                time.sleep(0.001)
            except OSError as exc:  # e.g. EMSGSIZE: counted, never retried
                errors[exc.strerror or str(exc.errno)] += 1
                i += 1
        sent += len(packets)
        packets.clear()
        dsts.clear()

    for cls, name, packet in datagrams(templates, count, seed):
        classes[cls] += 1
        mutations[name] += 1
        if packet[0] >> 4 == 6:  # one by one (the batched sender speaks IPv4)
            try:
                sock6.sendto(packet, (socket.inet_ntop(socket.AF_INET6, packet[24:40]), 0))
            except OSError as exc:
                errors[exc.strerror or str(exc.errno)] += 1
            sent += 1
            continue
        packets.append(packet)
        dsts.append(packet[16:20])
        if len(packets) == batch:
            flush()
            ahead = sent / rate - (time.monotonic() - start)
            if ahead > 0:
                time.sleep(ahead)
    flush()
    elapsed = time.monotonic() - start
    return {
        "sent": sent,
        "seconds": round(elapsed, 3),
        "rate": round(sent / elapsed) if elapsed else 0,
        "classes": dict(classes),
        "mutations": dict(mutations),
        "errors": dict(errors),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.harness.mutation")
    sub = parser.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("send", help="send mutated datagrams built from a saved capture")
    s.add_argument("corpus", type=Path)
    s.add_argument("--count", type=int, default=10_000)
    s.add_argument("--seed", type=int, default=1)
    s.add_argument("--rate", type=float, default=4000.0, help="datagrams a second at most")
    args = parser.parse_args(argv)
    result = send(load_templates(args.corpus), args.count, args.seed, args.rate)
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
