"""scapy's ISAKMP layer (scapy.layers.isakmp, GPL, test-only) as an oracle for wire/ikev1.

Messages we build are dissected by scapy with the same field values, and messages scapy builds
decode with our parser; where both encode the same message, the bytes are compared too (this
checks our automatic TV/TLV attribute choice against scapy's).
"""

from __future__ import annotations

import importlib
from types import ModuleType

import pytest

from pyipsec.wire.ikev1 import (
    KEY_IKE,
    VID_DPD,
    Attribute,
    DeletePayload,
    ExchangeType,
    HashPayload,
    IdentificationType,
    IdPayload,
    IkeAttributeType,
    KePayload,
    NoncePayload,
    NotifyMessageType,
    NotifyPayload,
    PayloadType,
    Proposal,
    ProtocolId,
    SaPayload,
    Transform,
    VendorIdPayload,
    build_message,
    parse_message,
)
from tests.conftest import require

pytestmark = pytest.mark.oracle

CKY_I = bytes.fromhex("a1a2a3a4a5a6a7a8")
CKY_R = bytes.fromhex("b1b2b3b4b5b6b7b8")


@pytest.fixture(scope="module")
def isakmp() -> ModuleType:
    try:
        return importlib.import_module("scapy.layers.isakmp")
    except ImportError as exc:
        require([f"scapy ({exc})"])
        raise


def ike_sa() -> SaPayload:
    attrs = (
        Attribute(type=IkeAttributeType.ENCRYPTION_ALGORITHM, value=7),
        Attribute(type=IkeAttributeType.KEY_LENGTH, value=256),
        Attribute(type=IkeAttributeType.HASH_ALGORITHM, value=2),
        Attribute(type=IkeAttributeType.GROUP_DESCRIPTION, value=14),
        Attribute(type=IkeAttributeType.AUTHENTICATION_METHOD, value=1),
        Attribute(type=IkeAttributeType.LIFE_TYPE, value=1),
        Attribute(type=IkeAttributeType.LIFE_DURATION, value=86400),
    )
    return SaPayload(
        proposals=(
            Proposal(
                number=1,
                protocol_id=ProtocolId.ISAKMP,
                transforms=(
                    Transform(number=1, transform_id=KEY_IKE, attributes=attrs),
                    Transform(number=2, transform_id=KEY_IKE, attributes=attrs[2:]),
                ),
            ),
        )
    )


def scapy_sa(isakmp: ModuleType) -> object:
    t2_attrs = [
        ("Hash", "SHA"),
        ("GroupDesc", "2048MODPgr"),
        ("Authentication", "PSK"),
        ("LifeType", "Seconds"),
        ("LifeDuration", 86400),
    ]
    t1_attrs = [("Encryption", "AES-CBC"), ("KeyLength", 256), *t2_attrs]
    transforms = isakmp.ISAKMP_payload_Transform(
        transform_count=1, transform_id=1, transforms=t1_attrs
    ) / isakmp.ISAKMP_payload_Transform(transform_count=2, transform_id=1, transforms=t2_attrs)
    return isakmp.ISAKMP_payload_SA(
        doi=1,
        situation=1,
        prop=isakmp.ISAKMP_payload_Proposal(proposal=1, proto=1, trans_nb=2, trans=transforms),
    )


def test_scapy_dissects_our_main_mode_message(isakmp: ModuleType) -> None:
    ke, nonce = bytes(range(128)), bytes(range(20))
    data = build_message(
        initiator_cookie=CKY_I,
        exchange_type=ExchangeType.IDENTITY_PROTECTION,
        payloads=[
            ike_sa(),
            KePayload(data=ke),
            NoncePayload(data=nonce),
            VendorIdPayload(data=VID_DPD),
        ],
    )
    pkt = isakmp.ISAKMP(data)
    assert pkt.init_cookie == CKY_I and pkt.exch_type == 2 and pkt.length == len(data)
    sa = pkt[isakmp.ISAKMP_payload_SA]
    assert (sa.doi, sa.situation, sa.next_payload) == (1, 1, PayloadType.KE)
    prop = sa.prop
    assert (prop.proposal, prop.proto, prop.trans_nb) == (1, 1, 2)
    t1 = prop.trans
    assert t1.transform_count == 1 and t1.transform_id == 1
    # scapy names the values from its own tables (its copy of the IANA registry).
    assert t1.transforms == [
        ("Encryption", "AES-CBC"),
        ("KeyLength", 256),
        ("Hash", "SHA"),
        ("GroupDesc", "2048MODPgr"),
        ("Authentication", "PSK"),
        ("LifeType", "Seconds"),
        ("LifeDuration", 86400),
    ]
    assert t1[isakmp.ISAKMP_payload_Transform : 2].transform_count == 2
    assert pkt[isakmp.ISAKMP_payload_KE].ke == ke
    assert pkt[isakmp.ISAKMP_payload_Nonce].nonce == nonce
    assert pkt[isakmp.ISAKMP_payload_VendorID].VendorID == VID_DPD
    # Same message built by scapy: identical bytes.
    theirs = (
        isakmp.ISAKMP(init_cookie=CKY_I, resp_cookie=bytes(8), exch_type=2)
        / scapy_sa(isakmp)
        / isakmp.ISAKMP_payload_KE(ke=ke)
        / isakmp.ISAKMP_payload_Nonce(nonce=nonce)
        / isakmp.ISAKMP_payload_VendorID(VendorID=VID_DPD)
    )
    assert bytes(theirs) == data


def test_we_decode_scapy_built_messages(isakmp: ModuleType) -> None:
    pkt = (
        isakmp.ISAKMP(init_cookie=CKY_I, resp_cookie=CKY_R, exch_type=5, id=0x01020304)
        / isakmp.ISAKMP_payload_Hash(hash=b"\x11" * 20)
        / isakmp.ISAKMP_payload_Notify(
            doi=1,
            proto=1,
            SPI=CKY_I + CKY_R,
            notify_msg_type=36136,
            notify_data=b"\x00\x00\x00\x07",
        )
        / isakmp.ISAKMP_payload_Delete(
            doi=1, proto=3, SPIs=[b"\x00\x00\x10\x01", b"\x00\x00\x10\x02"]
        )
        / isakmp.ISAKMP_payload_ID(IDtype=1, ProtoID=17, Port=500, IdentData="192.0.2.7")
    )
    m = parse_message(bytes(pkt))
    assert m.header.message_id == 0x01020304 and m.header.exchange_type == 5
    assert m.payloads == (
        HashPayload(data=b"\x11" * 20),
        NotifyPayload(
            doi=1,
            protocol_id=1,
            notify_type=NotifyMessageType.R_U_THERE,
            spi=CKY_I + CKY_R,
            data=b"\x00\x00\x00\x07",
        ),
        DeletePayload(doi=1, protocol_id=3, spis=(b"\x00\x00\x10\x01", b"\x00\x00\x10\x02")),
        IdPayload(
            id_type=IdentificationType.ID_IPV4_ADDR,
            protocol_id=17,
            port=500,
            data=bytes([192, 0, 2, 7]),
        ),
    )


def test_we_decode_scapy_sa(isakmp: ModuleType) -> None:
    pkt = isakmp.ISAKMP(init_cookie=CKY_I, exch_type=4) / scapy_sa(isakmp)
    m = parse_message(bytes(pkt))
    (sa,) = m.payloads
    assert isinstance(sa, SaPayload)
    ours = ike_sa()

    def values(p: SaPayload) -> list[list[tuple[int, int]]]:
        t = p.proposals[0].transforms
        return [[(a.type, a.as_int()) for a in x.attributes] for x in t]

    # 86400 arrives as a 3-byte TLV (bytes); the values agree.
    assert values(sa) == values(ours)
    assert sa.proposals[0].transforms[0].attributes[-1].value == (86400).to_bytes(3, "big")
