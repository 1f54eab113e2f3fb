"""Oracle: scapy (an independent ESP/AH implementation) decrypts and verifies our packets.

scapy is a test-only dependency (GPL): it is imported here, never by the package.
"""

from __future__ import annotations

import pytest

from pyipsec.dataplane.processor import Verdict

from .engine_helpers import make_pair

scapy_ipsec = pytest.importorskip("scapy.layers.ipsec")
from scapy.layers.inet import IP  # noqa: E402
from scapy.layers.inet6 import IPv6  # noqa: E402

pytestmark = pytest.mark.oracle

# (pair kwargs, scapy crypt_algo, scapy auth_algo)
CASES = [
    (dict(enc="aes-128-cbc", integ="sha1"), "AES-CBC", "HMAC-SHA1-96"),
    (dict(enc="aes-256-cbc", integ="sha256", esn=True), "AES-CBC", "SHA2-256-128"),
    (dict(enc="aes-256-cbc", integ="sha512", outer=6, inner=4), "AES-CBC", "SHA2-512-256"),
    (dict(enc="3des", integ="md5", tunnel=False), "3DES", "HMAC-MD5-96"),
    (dict(enc="aes-128-gcm"), "AES-GCM", None),
    (dict(enc="aes-256-gcm", esn=True, inner=6, outer=6), "AES-GCM", None),
    (dict(enc="aes-128-ctr", integ="sha1", tunnel=False), "AES-CTR", "HMAC-SHA1-96"),
    (dict(enc="null", integ="sha384"), "NULL", "SHA2-384-192"),
    (dict(esp=False, ah=True, integ="sha1"), None, "HMAC-SHA1-96"),
    (dict(esp=False, ah=True, integ="sha256", tunnel=False, outer=6), None, "SHA2-256-128"),
    (dict(esp=False, ah=True, integ="sha1", tunnel=False, outer=4), None, "HMAC-SHA1-96"),
    (dict(esp=False, ah=True, integ="sha512", esn=True, outer=6, inner=6), None, "SHA2-512-256"),
]


@pytest.mark.parametrize("kw,crypt,auth", CASES)
def test_scapy_decrypts_what_we_send(kw: dict[str, object], crypt: str | None, auth: str) -> None:
    pair = make_pair(**kw)  # type: ignore[arg-type]
    pkt = pair.packet(b"oracle" * 9)
    out = pair.a.outbound(pkt, 1.0)
    assert out.verdict is Verdict.PROTECTED
    ah = kw.get("esp") is False
    prm = pair.params[("AH" if ah else "ESP") + "-ab"]
    cls = IP if prm.src.version == 4 else IPv6
    tunnel = cls(src=str(prm.src), dst=str(prm.dst)) if kw.get("tunnel", True) else None
    if ah:
        sa = scapy_ipsec.SecurityAssociation(
            scapy_ipsec.AH,
            spi=prm.spi,
            auth_algo=auth,
            auth_key=prm.auth_key,
            esn_en=prm.esn,
            tunnel_header=tunnel,
        )
    else:
        sa = scapy_ipsec.SecurityAssociation(
            scapy_ipsec.ESP,
            spi=prm.spi,
            crypt_algo=crypt,
            crypt_key=prm.enc_key,
            auth_algo=auth,
            auth_key=prm.auth_key or None,
            esn_en=prm.esn,
            tunnel_header=tunnel,
        )
    # decrypt() verifies the ICV and raises IPSecIntegrityError on mismatch.
    clear = sa.decrypt(cls(out.packet))
    assert bytes(clear) == pkt


@pytest.mark.parametrize(
    "kw,crypt,auth",
    [
        (dict(enc="aes-128-cbc", integ="sha256", esn=True), "AES-CBC", "SHA2-256-128"),
        (dict(enc="aes-128-gcm", esn=True), "AES-GCM", None),
        (dict(esp=False, ah=True, integ="sha1", esn=True), None, "HMAC-SHA1-96"),
    ],
)
def test_scapy_agrees_on_esn_high_bits(kw: dict[str, object], crypt: str | None, auth: str) -> None:
    """With ESN, the high 32 bits enter the ICV (RFC 4303 §2.2.1, RFC 4302 §2.5.1, RFC 4106 §5)."""
    pair = make_pair(**kw)  # type: ignore[arg-type]
    high = 7
    for sa in pair.a.sad:
        sa.seq_out = (high << 32) | 41
    pkt = pair.packet(b"esn")
    out = pair.a.outbound(pkt, 1.0)
    ah = kw.get("esp") is False
    prm = pair.params[("AH" if ah else "ESP") + "-ab"]
    tunnel = IP(src=str(prm.src), dst=str(prm.dst))
    if ah:
        sa = scapy_ipsec.SecurityAssociation(
            scapy_ipsec.AH,
            spi=prm.spi,
            auth_algo=auth,
            auth_key=prm.auth_key,
            esn_en=True,
            tunnel_header=tunnel,
        )
    else:
        sa = scapy_ipsec.SecurityAssociation(
            scapy_ipsec.ESP,
            spi=prm.spi,
            crypt_algo=crypt,
            crypt_key=prm.enc_key,
            auth_algo=auth,
            auth_key=prm.auth_key or None,
            esn_en=True,
            tunnel_header=tunnel,
        )
    assert bytes(sa.decrypt(IP(out.packet), esn_en=True, esn=high)) == pkt
    with pytest.raises(scapy_ipsec.IPSecIntegrityError):
        sa.decrypt(IP(out.packet), esn_en=True, esn=high + 1)


@pytest.mark.parametrize("kw,crypt,auth", [c for c in CASES if not c[0].get("esn")])
def test_we_accept_what_scapy_sends(kw: dict[str, object], crypt: str | None, auth: str) -> None:
    pair = make_pair(**kw)  # type: ignore[arg-type]
    pkt = pair.packet(b"from scapy")
    ah = kw.get("esp") is False
    prm = pair.params[("AH" if ah else "ESP") + "-ab"]
    cls = IP if prm.src.version == 4 else IPv6
    tunnel = cls(src=str(prm.src), dst=str(prm.dst)) if kw.get("tunnel", True) else None
    if ah:
        sa = scapy_ipsec.SecurityAssociation(
            scapy_ipsec.AH,
            spi=prm.spi,
            auth_algo=auth,
            auth_key=prm.auth_key,
            tunnel_header=tunnel,
        )
    else:
        sa = scapy_ipsec.SecurityAssociation(
            scapy_ipsec.ESP,
            spi=prm.spi,
            crypt_algo=crypt,
            crypt_key=prm.enc_key,
            auth_algo=auth,
            auth_key=prm.auth_key or None,
            tunnel_header=tunnel,
        )
    wire = bytes(sa.encrypt((IP if pkt[0] >> 4 == 4 else IPv6)(pkt)))
    got = pair.b.inbound(wire, 1.0)
    assert got.verdict is Verdict.DELIVER, got.reason
    assert got.packet == pkt


def test_scapy_verifies_ah_over_ipv6_hop_by_hop_options() -> None:
    from .test_ah_mutable import v6_packet_with_hbh

    pair = make_pair(None, "sha256", esp=False, ah=True, tunnel=False, outer=6)
    pkt = v6_packet_with_hbh(0x11, 0x22)
    out = pair.a.outbound(pkt, 1.0)
    prm = pair.params["AH-ab"]
    sa = scapy_ipsec.SecurityAssociation(
        scapy_ipsec.AH, spi=prm.spi, auth_algo="SHA2-256-128", auth_key=prm.auth_key
    )
    assert bytes(sa.decrypt(IPv6(out.packet))) == pkt
