"""tshark (Wireshark's dissectors, libgcrypt) as an independent ESP decoder of our packets.

Our engine protects cleartext packets; they go into one pcap (written by ``packets.write_pcap``)
and one tshark run, with every SA in tshark's ESP SA table. For each packet tshark must show the
SPI and sequence number, decrypt it to the exact inner addresses and payload, and report the ICV
good; for a copy with one ICV bit flipped it must report the ICV bad (so we know it checks).

Coverage (tshark 4.0):

- ESP, every combination of our transforms tshark decrypts: des, 3des, aes-128/192/256-cbc,
  aes-128/192/256-ctr, blowfish and twofish, each with md5, sha1, sha256, sha384, sha512 and
  null integrity; null encryption with each real integrity; aes-128/192/256-gcm (16-byte ICV,
  tag verified). Each in tunnel mode IPv4 in IPv4, transport mode IPv6 and UDP-encapsulated
  (RFC 3948) tunnel mode; tunnel IPv6 in IPv6 and mixed families for a few.
- AH: tshark dissects AH but cannot verify it (its SA table is ESP-only), so AH packets are
  checked for structure only: SPI, sequence number, and the inner packet found after the AH
  header (which validates our AH length field and next header).
- ESP+AH bundles (AH outermost): the AH structure as above and the ESP inside decrypted and
  verified, tunnel IPv4 and transport IPv6.
- IPv6 packets with Hop-by-Hop and Destination Options headers, transport (AH, ESP) and tunnel.

Not covered: camellia-128/192/256 (tshark 4.0 cannot decrypt Camellia ESP) and
chacha20poly1305 (ESP ChaCha20-Poly1305 arrived in Wireshark 4.2); both are covered by scapy
(chacha20poly1305) or by known-answer tests only (camellia). ESN: tshark 4.0's SA table has no
ESN setting, so ICVs over the high-order bits cannot be checked here (scapy covers ESN).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from pyipsec.dataplane.policy import Direction
from pyipsec.dataplane.processor import Verdict
from tests.oracle.algorithms import (
    AH_INTEGRITIES,
    TSHARK_ENCRYPTION,
    TSHARK_INTEGRITY,
    EspCombo,
    tshark_combos,
)
from tests.oracle.gateway import AH_SPI_OFFSET, UDP_PORTS, Case, Gateway
from tests.oracle.packets import write_pcap
from tests.oracle.tshark import TsharkSa, run_tshark

pytestmark = pytest.mark.oracle

OUT = Direction.OUT
FIELDS = [
    "esp.spi",
    "esp.sequence",
    "esp.icv_good",
    "esp.icv_bad",
    "ah.spi",
    "ah.sequence",
    "ip.src",
    "ip.dst",
    "ipv6.src",
    "ipv6.dst",
    "udp.srcport",
    "udp.dstport",
    "udp.payload",
    "icmp.type",
    "icmpv6.type",
    "data.data",
]


def _cases() -> list[Case]:
    cases: list[Case] = []
    for combo in tshark_combos():
        cases += [
            Case(esp=combo, tunnel=True, inner=4, outer=4),
            Case(esp=combo, tunnel=False, inner=6, outer=6),
            Case(esp=combo, tunnel=True, inner=4, outer=4, encap=True),
        ]
    for combo in (
        EspCombo(enc="aes-256-cbc", integ="sha512"),
        EspCombo(enc="aes-128-gcm", integ=None),
        EspCombo(enc="twofish", integ="sha1"),
    ):
        cases += [
            Case(esp=combo, tunnel=True, inner=6, outer=6),
            Case(esp=combo, tunnel=True, inner=4, outer=6),
            Case(esp=combo, tunnel=True, inner=6, outer=4),
            Case(esp=combo, tunnel=False, inner=4, outer=4),
            Case(esp=combo, tunnel=False, inner=4, outer=4, encap=True),
        ]
    for integ in AH_INTEGRITIES:
        cases += [
            Case(ah=integ, tunnel=True, inner=4, outer=4),
            Case(ah=integ, tunnel=False, inner=6, outer=6),
            Case(ah=integ, tunnel=True, inner=6, outer=4),
        ]
    for combo, integ in (
        (EspCombo(enc="aes-192-cbc", integ="sha384"), "sha1"),
        (EspCombo(enc="aes-256-gcm", integ=None), "sha256"),
    ):
        cases += [
            Case(esp=combo, ah=integ, tunnel=True, inner=4, outer=4),
            Case(esp=combo, ah=integ, tunnel=False, inner=6, outer=6),
        ]
    # IPv4 options, IPv6 Hop-by-Hop and Destination Options headers (packets.py).
    cases += [
        Case(ah="sha1", tunnel=False, inner=4, outer=4, ext=True),
        Case(
            esp=EspCombo(enc="aes-256-ctr", integ="sha512"),
            tunnel=False,
            inner=4,
            outer=4,
            ext=True,
        ),
        Case(ah="sha256", tunnel=False, inner=6, outer=6, ext=True),
        Case(
            esp=EspCombo(enc="aes-128-cbc", integ="sha1"), tunnel=False, inner=6, outer=6, ext=True
        ),
        Case(esp=EspCombo(enc="twofish", integ="md5"), tunnel=True, inner=6, outer=6, ext=True),
    ]
    return cases


CASES = _cases()
SPI_BASE = 0x5000  # case i sends with SPI SPI_BASE + i: one tshark SA per case


@dataclass(frozen=True, slots=True, kw_only=True)
class Sent:
    """One frame of the capture and what tshark must make of it."""

    case: Case
    spi: int
    seq: int
    clear: bytes
    icmp: bool
    tampered: bool
    wire: bytes


def _build(case: Case, spi: int) -> tuple[list[Sent], TsharkSa | None]:
    gw = Gateway(case, out_spi=spi, in_spi=spi + 0x10000)
    sent: list[Sent] = []
    for n, icmp in enumerate((False, True)):
        clear = case.cleartext(OUT, n, icmp=icmp)
        res = gw.protect(clear)
        assert res.verdict is Verdict.PROTECTED, f"{case.id}: {res.reason}"
        sent.append(
            Sent(
                case=case,
                spi=spi,
                seq=n + 1,
                clear=clear,
                icmp=icmp,
                tampered=False,
                wire=res.packet,
            )
        )
    if case.esp is None:
        return sent, None
    if case.esp.integ != "null":  # null integrity: nothing to flag a flipped bit
        good = sent[0].wire
        bad = good[:-1] + bytes([good[-1] ^ 0x01])
        sent.append(
            Sent(
                case=case, spi=spi, seq=1, clear=sent[0].clear, icmp=False, tampered=True, wire=bad
            )
        )
    src, dst = case.endpoints(OUT)
    ek, ak = case.keys(OUT)
    sa = TsharkSa(
        src=src,
        dst=dst,
        spi=spi,
        encryption=TSHARK_ENCRYPTION[case.esp.enc],
        enc_key=ek,
        authentication=TSHARK_INTEGRITY[case.esp.integ or "null"],
        auth_key=ak,
    )
    return sent, sa


@pytest.fixture(scope="module")
def dissected(
    tshark: str, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, list[tuple[Sent, dict[str, list[str]]]]]:
    """All cases through one tshark run: case id -> [(what we sent, what tshark saw)]."""
    frames: list[Sent] = []
    sas: list[TsharkSa] = []
    for i, case in enumerate(CASES):
        sent, sa = _build(case, SPI_BASE + i)
        frames += sent
        if sa is not None:
            sas.append(sa)
    pcap = tmp_path_factory.mktemp("tshark") / "engine.pcap"
    write_pcap(pcap, (f.wire for f in frames))
    seen = run_tshark(pcap, sas, FIELDS)
    assert len(seen) == len(frames)
    out: dict[str, list[tuple[Sent, dict[str, list[str]]]]] = {}
    for f, s in zip(frames, seen, strict=True):
        out.setdefault(f.case.id, []).append((f, s))
    return out


def _payload(clear: bytes, ext: bool) -> bytes:
    header = 20 if clear[0] >> 4 == 4 else 40
    if ext:
        header += 12 if clear[0] >> 4 == 4 else 16  # options; Hop-by-Hop + Dest. Options
    return clear[header + 8 :]  # after the UDP header or the ICMP echo header (both 8 bytes)


def _check(sent: Sent, seen: dict[str, list[str]]) -> None:
    case = sent.case
    integrity = case.esp is not None and case.esp.integ != "null"
    if case.ah is not None:
        ah_spi = sent.spi + (AH_SPI_OFFSET if case.bundle else 0)
        assert seen["ah.spi"] == [f"0x{ah_spi:08x}"]
        assert seen["ah.sequence"] == [str(sent.seq)]
    if case.esp is not None:
        assert seen["esp.spi"] == [f"0x{sent.spi:08x}"]
        assert seen["esp.sequence"] == [str(sent.seq)]
        if sent.tampered:
            assert seen["esp.icv_bad"] == ["1"], "tshark did not see the ICV as bad"
            return
        if integrity:
            assert seen["esp.icv_good"] == ["1"], "ICV not verified good"
            assert seen["esp.icv_bad"] == ["0"]
        else:
            assert seen["esp.icv_good"] in ([], ["0"])
    inner_src, inner_dst = case.inner_hosts(OUT)
    fam = "ip" if case.inner == 4 else "ipv6"
    assert seen[f"{fam}.src"][-1] == str(inner_src), "inner source not decoded"
    assert seen[f"{fam}.dst"][-1] == str(inner_dst)
    data = _payload(sent.clear, case.ext).hex()
    if sent.icmp:
        assert seen["icmp.type" if case.inner == 4 else "icmpv6.type"] == [
            "8" if case.inner == 4 else "128"
        ]
        assert seen["data.data"][-1:] == [data]
    else:
        assert seen["udp.srcport"][-1] == str(UDP_PORTS[0])
        assert seen["udp.dstport"][-1] == str(UDP_PORTS[1])
        assert seen["udp.payload"][-1] == data
    if case.encap:
        assert seen["udp.dstport"][0] == "4500"


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_tshark_decodes_engine_packets(
    dissected: dict[str, list[tuple[Sent, dict[str, list[str]]]]], case: Case
) -> None:
    rows = dissected[case.id]
    tampered = case.esp is not None and case.esp.integ != "null"
    assert len(rows) == (3 if tampered else 2)
    for sent, seen in rows:
        try:
            _check(sent, seen)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\nframe {sent.wire.hex()}\ntshark {seen}") from None
