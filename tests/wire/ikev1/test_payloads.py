"""ISAKMP payload codecs (wire/ikev1/payloads.py, RFC 2408 §3, RFC 2407 §4.6, RFC 3947)."""

from __future__ import annotations

import pytest

from pyipsec.wire.ikev1.attributes import Attribute
from pyipsec.wire.ikev1.constants import (
    IPSEC_DOI,
    KEY_IKE,
    AuthenticationMethod,
    CertificateEncoding,
    CfgType,
    IdentificationType,
    IkeAttributeType,
    NotifyMessageType,
    PayloadType,
    ProtocolId,
)
from pyipsec.wire.ikev1.errors import MalformedMessage
from pyipsec.wire.ikev1.payloads import (
    CODECS,
    AttributePayload,
    CertPayload,
    CertRequestPayload,
    DeletePayload,
    HashPayload,
    IdPayload,
    KePayload,
    NatDPayload,
    NatOaPayload,
    NoncePayload,
    NotifyPayload,
    Payload,
    Proposal,
    SaPayload,
    SignaturePayload,
    Transform,
    UnknownPayload,
    VendorIdPayload,
    payload_type,
    proposal_groups,
    pull_payload_chain,
    push_payload_body,
    push_payloads,
)
from tests.wire.ikev1 import aggressive_mode_sample as sample


def pull_body(ptype: int, body: bytes) -> Payload:
    return CODECS[ptype][0](body, ptype)  # type: ignore[no-any-return]


def test_real_sa_payload_from_ike_scan() -> None:
    sa = pull_body(PayloadType.SA, sample.SAI_B)
    assert isinstance(sa, SaPayload)
    assert sa.doi == IPSEC_DOI and sa.situation == 1
    (prop,) = sa.proposals
    assert (prop.number, prop.protocol_id, prop.spi) == (1, ProtocolId.ISAKMP, b"")
    assert [t.number for t in prop.transforms] == [1, 2, 3, 4]
    t1 = prop.transforms[0]
    assert t1.transform_id == KEY_IKE
    assert t1.attributes == (
        Attribute(type=IkeAttributeType.ENCRYPTION_ALGORITHM, value=5),  # 3DES-CBC
        Attribute(type=IkeAttributeType.HASH_ALGORITHM, value=2),  # SHA
        Attribute(type=IkeAttributeType.AUTHENTICATION_METHOD, value=1),  # pre-shared key
        Attribute(type=IkeAttributeType.GROUP_DESCRIPTION, value=2),  # modp1024
        Attribute(type=IkeAttributeType.LIFE_TYPE, value=1),  # seconds
        Attribute.variable(IkeAttributeType.LIFE_DURATION, 28800, size=4),
    )
    # Re-encoding gives the received bytes back, so HASH_I/HASH_R can use either.
    assert push_payload_body(sa) == sample.SAI_B


def test_real_id_payload() -> None:
    ident = pull_body(PayloadType.ID, sample.IDIR_B)
    assert ident == IdPayload(
        id_type=IdentificationType.ID_USER_FQDN, protocol_id=0, port=0, data=b"ike@expressway.htb"
    )
    assert push_payload_body(ident) == sample.IDIR_B


def sa_bundle() -> SaPayload:
    # Proposal 1 = AH and ESP together (same number, RFC 2408 §4.2); proposal 2 = ESP alone.
    esp = Transform(number=1, transform_id=12, attributes=(Attribute(type=6, value=128),))
    ah = Transform(number=1, transform_id=3, attributes=(Attribute(type=5, value=2),))
    return SaPayload(
        proposals=(
            Proposal(
                number=1, protocol_id=ProtocolId.IPSEC_AH, spi=b"\x00\x00\x01\x00", transforms=(ah,)
            ),
            Proposal(
                number=1,
                protocol_id=ProtocolId.IPSEC_ESP,
                spi=b"\x00\x00\x02\x00",
                transforms=(esp,),
            ),
            Proposal(
                number=2,
                protocol_id=ProtocolId.IPSEC_ESP,
                spi=b"\x00\x00\x03\x00",
                transforms=(esp,),
            ),
        )
    )


def test_sa_bytes_spelled_out() -> None:
    sa = SaPayload(
        proposals=(
            Proposal(
                number=1,
                protocol_id=ProtocolId.IPSEC_ESP,
                spi=bytes.fromhex("c0ffee01"),
                transforms=(Transform(number=1, transform_id=3, attributes=()),),
            ),
        )
    )
    expected = bytes.fromhex(
        "00000001"
        "00000001"  # DOI IPsec, SIT_IDENTITY_ONLY (RFC 2407 §4.6.1)
        "00000014"
        "0103"
        "0401"
        "c0ffee01"  # P: last, len 20, #1 ESP, SPI 4 bytes, 1 transform
        "00000008"
        "0103"
        "0000"  # T: last, len 8, #1 ESP_3DES, reserved
    )
    assert push_payload_body(sa) == expected
    assert pull_body(PayloadType.SA, expected) == sa


def test_proposal_groups_and_round_trip() -> None:
    sa = sa_bundle()
    groups = proposal_groups(sa)
    assert [[p.protocol_id for p in g] for g in groups] == [[2, 3], [3]]
    assert pull_body(PayloadType.SA, push_payload_body(sa)) == sa


@pytest.mark.parametrize(
    ("mutate", "notify"),
    [
        (lambda b: b[:4] + b"\x00\x00\x00\x02" + b[8:], NotifyMessageType.SITUATION_NOT_SUPPORTED),
        (lambda b: b"\x00\x00\x00\x02" + b[4:], NotifyMessageType.DOI_NOT_SUPPORTED),
        (lambda b: b[:11] + b"\x09" + b[12:], NotifyMessageType.PAYLOAD_MALFORMED),  # P length
        (lambda b: b[:15] + b"\x02" + b[16:], NotifyMessageType.BAD_PROPOSAL_SYNTAX),  # #transforms
        (lambda b: b[:8] + b"\x05" + b[9:], NotifyMessageType.BAD_PROPOSAL_SYNTAX),  # P next=5
        (lambda b: b[:8], NotifyMessageType.BAD_PROPOSAL_SYNTAX),  # no proposals
        (lambda b: b + b"\x00", NotifyMessageType.PAYLOAD_MALFORMED),  # trailing byte
    ],
)
def test_sa_errors(mutate: object, notify: NotifyMessageType) -> None:
    body = push_payload_body(
        SaPayload(
            proposals=(
                Proposal(
                    number=1,
                    protocol_id=3,
                    spi=b"",
                    transforms=(Transform(number=1, transform_id=3),),
                ),
            )
        )
    )
    with pytest.raises(MalformedMessage) as e:
        pull_body(PayloadType.SA, mutate(body))  # type: ignore[operator]
    assert e.value.notify == notify


SIMPLE: list[tuple[Payload, str]] = [
    (KePayload(data=b"\x01\x02"), "0102"),
    (
        IdPayload(id_type=4, protocol_id=17, port=500, data=bytes.fromhex("0a000000ffffff00")),
        "041101f40a000000ffffff00",
    ),
    (CertPayload(encoding=CertificateEncoding.X509_SIGNATURE, data=b"\x30\x00"), "043000"),
    (CertRequestPayload(encoding=4), "04"),
    (HashPayload(data=b"\xaa" * 3), "aaaaaa"),
    (SignaturePayload(data=b"\xbb"), "bb"),
    (NoncePayload(data=b"\xcc" * 2), "cccc"),
    (
        NotifyPayload(
            protocol_id=3,
            notify_type=NotifyMessageType.RESPONDER_LIFETIME,
            spi=b"\x11\x22\x33\x44",
            data=b"\x80\x01\x00\x01",
        ),
        "00000001030460001122334480010001",
    ),
    (
        DeletePayload(protocol_id=3, spis=(b"\x00\x00\x00\x01", b"\x00\x00\x00\x02")),
        "00000001030400020000000100000002",
    ),
    (VendorIdPayload(data=b"\x09\x00"), "0900"),
    (
        AttributePayload(
            cfg_type=CfgType.ISAKMP_CFG_REQUEST,
            identifier=7,
            attributes=(Attribute(type=1, value=b""),),
        ),
        "0100000700010000",
    ),
    (NatDPayload(data=b"\xdd"), "dd"),
    (NatDPayload(data=b"\xdd", draft=True), "dd"),
    (NatOaPayload(id_type=1, address=bytes([192, 0, 2, 1])), "01000000c0000201"),
]


@pytest.mark.parametrize(("payload", "hexbody"), SIMPLE)
def test_simple_payload_bytes(payload: Payload, hexbody: str) -> None:
    body = bytes.fromhex(hexbody)
    assert push_payload_body(payload) == body
    assert pull_body(payload_type(payload), body) == payload


def test_chain_builds_next_payload_and_lengths() -> None:
    first, raw = push_payloads([NoncePayload(data=b"\x01" * 4), VendorIdPayload(data=b"\x02")])
    assert first == PayloadType.NONCE
    assert raw == bytes.fromhex("0d000008010101010000000502")
    pairs = pull_payload_chain(first, raw)
    assert [p for p, _ in pairs] == [NoncePayload(data=b"\x01" * 4), VendorIdPayload(data=b"\x02")]
    assert [b for _, b in pairs] == [b"\x01" * 4, b"\x02"]


def test_draft_nat_types_chain() -> None:
    first, raw = push_payloads(
        [
            NatDPayload(data=b"\x01", draft=True),
            NatOaPayload(id_type=1, address=b"\x01\x02\x03\x04", draft=True),
        ]
    )
    assert first == 130 and raw[0] == 131


def test_private_use_type_is_skipped_with_a_marker() -> None:
    raw = bytes.fromhex("0d000006abcd0000000501")  # type 132, then a VID
    pairs = pull_payload_chain(132, raw)
    assert [p for p, _ in pairs] == [
        UnknownPayload(payload_type=132, data=b"\xab\xcd"),
        VendorIdPayload(data=b"\x01"),
    ]


@pytest.mark.parametrize("ptype", [2, 3, 15, 22, 127])
def test_unknown_reserved_type_is_invalid_payload_type(ptype: int) -> None:
    with pytest.raises(MalformedMessage) as e:
        pull_payload_chain(ptype, bytes.fromhex("00000004"))
    assert e.value.notify == NotifyMessageType.INVALID_PAYLOAD_TYPE


@pytest.mark.parametrize(
    ("raw", "notify"),
    [
        ("0000", NotifyMessageType.UNEQUAL_PAYLOAD_LENGTHS),  # header truncated
        ("00000003", NotifyMessageType.PAYLOAD_MALFORMED),  # length < 4
        ("00000009aa", NotifyMessageType.UNEQUAL_PAYLOAD_LENGTHS),  # runs past the end
        ("00000005aaff", NotifyMessageType.UNEQUAL_PAYLOAD_LENGTHS),  # trailing byte
        ("0d000004", NotifyMessageType.UNEQUAL_PAYLOAD_LENGTHS),  # announced payload missing
    ],
)
def test_chain_length_errors(raw: str, notify: NotifyMessageType) -> None:
    with pytest.raises(MalformedMessage) as e:
        pull_payload_chain(PayloadType.VID, bytes.fromhex(raw))
    assert e.value.notify == notify


def test_trailing_ok_for_padding() -> None:
    pairs = pull_payload_chain(PayloadType.VID, bytes.fromhex("00000005aa000000"), trailing_ok=True)
    assert [p for p, _ in pairs] == [VendorIdPayload(data=b"\xaa")]


@pytest.mark.parametrize(
    ("ptype", "raw"),
    [
        (PayloadType.N, "000000010304000b112233"),  # SPI size 4, 3 bytes present
        (PayloadType.D, "00000001030400020000000100"),  # 2 SPIs of 4 declared, 5 bytes present
        (PayloadType.ID, "010000"),
        (PayloadType.CERT, ""),
        (PayloadType.NAT_OA, "010000"),
        (PayloadType.ATTR, "010000000001"),
    ],
)
def test_payload_body_errors(ptype: int, raw: str) -> None:
    with pytest.raises(MalformedMessage) as e:
        pull_body(ptype, bytes.fromhex(raw))
    assert e.value.notify == NotifyMessageType.PAYLOAD_MALFORMED


def test_delete_of_isakmp_sa_uses_cookie_pair() -> None:
    spi = bytes(range(16))
    d = DeletePayload(protocol_id=ProtocolId.ISAKMP, spis=(spi,))
    body = push_payload_body(d)
    assert body[:8] == bytes.fromhex("0000000101100001")
    assert pull_body(PayloadType.D, body) == d
    with pytest.raises(ValueError):
        push_payload_body(DeletePayload(protocol_id=3, spis=(b"\x00" * 4, b"\x00" * 8)))


def test_auth_method_values() -> None:
    # RFC 2409 App. A.
    assert int(AuthenticationMethod.PRE_SHARED_KEY) == 1
    assert int(AuthenticationMethod.REVISED_ENCRYPTION_WITH_RSA) == 5
