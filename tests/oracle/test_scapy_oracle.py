"""scapy as an independent ESP/AH implementation: it decrypts and verifies what our engine sends,
and our engine accepts what it builds.

scapy (GPL) is a test-only dependency here; nothing under src/ imports it.

Coverage (scapy 2.8, ``scapy.layers.ipsec.SecurityAssociation``):

- ESP, every combination of our encryption and integrity transforms that scapy implements:
  des, 3des, aes-128/192/256-cbc, aes-128/192/256-ctr and blowfish, each with md5, sha1,
  sha256, sha384, sha512 (HMAC-SHA2 with RFC 4868 truncation) and null integrity; null
  encryption with each real integrity; the AEADs aes-128/192/256-gcm (16-byte ICV) and
  chacha20poly1305. Each in tunnel mode (IPv4 in IPv4) and transport mode (IPv6), with ESN,
  and UDP-encapsulated (RFC 3948, IPv4). A few combinations additionally in tunnel mode IPv6
  in IPv6, IPv4 in IPv6, IPv6 in IPv4, transport IPv4, and UDP-encapsulated transport mode.
- AH with every integrity transform (md5, sha1, sha256, sha384, sha512) in tunnel and
  transport mode over IPv4 and IPv6, mixed-family tunnels, and ESN.

Not covered, because scapy lacks them: twofish and camellia-128/192/256 (not in scapy's
``CRYPT_ALGOS``; tshark covers twofish, see test_tshark_oracle.py; camellia has only the
known-answer tests of the crypto suite). ESP null+null is not a valid SA (RFC 4303 §3.2).
ESN is checked with high-order bits 1 in the engine -> scapy direction; in the scapy -> engine
direction the engine's replay window starts at 0, so the high bits are 0 (they still enter the
ICV / AAD, which tells ESN and non-ESN SAs apart).
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import pytest

from pyipsec.dataplane.policy import Direction
from pyipsec.dataplane.processor import Verdict
from tests.oracle.algorithms import (
    AH_INTEGRITIES,
    SCAPY_ENCRYPTION,
    SCAPY_INTEGRITY,
    EspCombo,
    scapy_combos,
)
from tests.oracle.gateway import ESN_HIGH, IN_SPI, NAT_T_PORT, OUT_SPI, Case, Gateway

pytestmark = pytest.mark.oracle

OUT = Direction.OUT
IN = Direction.IN
PACKETS = 3  # per case and direction: two UDP packets of different lengths, one ICMP echo


def _esp_cases() -> list[Case]:
    cases: list[Case] = []
    for combo in scapy_combos():
        cases += [
            Case(esp=combo, tunnel=True, inner=4, outer=4),
            Case(esp=combo, tunnel=False, inner=6, outer=6),
            Case(esp=combo, tunnel=True, inner=4, outer=4, esn=True),
            Case(esp=combo, tunnel=True, inner=4, outer=4, encap=True),
        ]
    for combo in (
        EspCombo(enc="aes-128-cbc", integ="sha1"),
        EspCombo(enc="aes-256-gcm", integ=None),
        EspCombo(enc="3des", integ="md5"),
        EspCombo(enc="null", integ="sha256"),
    ):
        cases += [
            Case(esp=combo, tunnel=True, inner=6, outer=6),
            Case(esp=combo, tunnel=True, inner=4, outer=6),
            Case(esp=combo, tunnel=True, inner=6, outer=4),
            Case(esp=combo, tunnel=False, inner=4, outer=4),
            Case(esp=combo, tunnel=False, inner=4, outer=4, encap=True),
            Case(esp=combo, tunnel=False, inner=6, outer=6, esn=True),
        ]
    return cases


def _ah_cases() -> list[Case]:
    cases: list[Case] = []
    for integ in AH_INTEGRITIES:
        cases += [
            Case(ah=integ, tunnel=True, inner=4, outer=4),
            Case(ah=integ, tunnel=True, inner=6, outer=6),
            Case(ah=integ, tunnel=True, inner=4, outer=6),
            Case(ah=integ, tunnel=True, inner=6, outer=4),
            Case(ah=integ, tunnel=False, inner=4, outer=4),
            Case(ah=integ, tunnel=False, inner=6, outer=6),
            Case(ah=integ, tunnel=True, inner=4, outer=4, esn=True),
            Case(ah=integ, tunnel=False, inner=6, outer=6, esn=True),
        ]
    return cases


CASES = _esp_cases() + _ah_cases()


def scapy_sa(s: ModuleType, case: Case, direction: Direction) -> Any:
    """scapy's SA for the packets flowing in ``direction`` (OUT: the ones our engine sends)."""
    spi = OUT_SPI if direction is OUT else IN_SPI
    ek, ak = case.keys(direction)
    src, dst = case.endpoints(direction)
    outer_cls = s.IP if case.outer == 4 else s.IPv6
    tunnel_header = outer_cls(src=str(src), dst=str(dst)) if case.tunnel else None
    esn_high = ESN_HIGH if case.esn and direction is OUT else 0
    if case.esp is None:
        assert case.ah is not None
        return s.SecurityAssociation(
            s.AH,
            spi=spi,
            auth_algo=SCAPY_INTEGRITY[case.ah],
            auth_key=ak,
            tunnel_header=tunnel_header,
            esn_en=case.esn,
            esn=esn_high,
        )
    return s.SecurityAssociation(
        s.ESP,
        spi=spi,
        crypt_algo=SCAPY_ENCRYPTION[case.esp.enc],
        crypt_key=ek or None,
        auth_algo=SCAPY_INTEGRITY[case.esp.integ] if case.esp.integ else None,
        auth_key=ak or None,
        tunnel_header=tunnel_header,
        nat_t_header=s.UDP(sport=NAT_T_PORT, dport=NAT_T_PORT) if case.encap else None,
        esn_en=case.esn,
        esn=esn_high,
    )


def parse(s: ModuleType, packet: bytes) -> Any:
    return (s.IP if packet[0] >> 4 == 4 else s.IPv6)(packet)


def authenticated(case: Case) -> bool:
    """Whether a flipped ICV byte must be detected (not so for ESP with null integrity)."""
    return case.esp is None or case.esp.integ != "null"


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_engine_to_scapy(scapy_ipsec: ModuleType, case: Case) -> None:
    s = scapy_ipsec
    gw = Gateway(case)
    sa = scapy_sa(s, case, OUT)
    for n in range(PACKETS):
        clear = case.cleartext(OUT, n, icmp=n == PACKETS - 1)
        res = gw.protect(clear)
        assert res.verdict is Verdict.PROTECTED, res.reason
        wire = parse(s, res.packet)
        layer = wire[s.ESP] if case.esp is not None else wire[s.AH]
        assert layer.spi == OUT_SPI
        assert layer.seq == (42 if case.esn else 1) + n
        assert isinstance(wire.payload, s.UDP) == case.encap
        decrypted = sa.decrypt(wire)
        assert s.raw(decrypted) == clear, f"packet {n}: {res.packet.hex()}"
        if authenticated(case):
            tampered = res.packet[:-1] + bytes([res.packet[-1] ^ 0x01])
            with pytest.raises(s.IPSecIntegrityError):
                sa.decrypt(parse(s, tampered))


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_scapy_to_engine(scapy_ipsec: ModuleType, case: Case) -> None:
    s = scapy_ipsec
    gw = Gateway(case)
    sa = scapy_sa(s, case, IN)
    for n in range(PACKETS):
        clear = case.cleartext(IN, n, icmp=n == PACKETS - 1)
        wire = s.raw(sa.encrypt(parse(s, clear)))
        if authenticated(case):
            tampered = wire[:-1] + bytes([wire[-1] ^ 0x01])
            bad = gw.unprotect(tampered)
            assert bad.verdict is Verdict.DROPPED, f"tampered packet accepted: {tampered.hex()}"
        res = gw.unprotect(wire)
        assert res.verdict is Verdict.DELIVER, f"{res.reason}: {wire.hex()}"
        assert res.packet == clear
        assert res.spis == (IN_SPI,)
        assert res.policy_id == 1


@pytest.mark.parametrize(
    "combo",
    [EspCombo(enc="aes-128-cbc", integ="sha256"), EspCombo(enc="aes-128-gcm", integ=None)],
    ids=lambda c: c.id,
)
def test_scapy_talks_to_itself(scapy_ipsec: ModuleType, combo: EspCombo) -> None:
    """The harness, without our engine: two scapy SAs with our key layout interoperate."""
    s = scapy_ipsec
    case = Case(esp=combo)
    clear = case.cleartext(OUT)
    sender = scapy_sa(s, case, OUT)
    receiver = scapy_sa(s, case, OUT)
    wire = s.raw(sender.encrypt(parse(s, clear)))
    assert s.raw(receiver.decrypt(parse(s, wire))) == clear
