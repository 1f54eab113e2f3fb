"""IKEv2 payload codecs (wire/ikev2/payloads.py): layouts, round trips, every malformed class.

Expected byte strings are written out by hand from the RFC 7296 §3.2-§3.15 figures.
"""

from __future__ import annotations

import ipaddress
import struct

import pytest

from pyipsec.wire.ikev2 import (
    EncrId,
    IdPayload,
    IdType,
    KePayload,
    MalformedMessage,
    NotifyPayload,
    NotifyType,
    PayloadType,
    Proposal,
    ProtocolId,
    SaPayload,
    TrafficSelector,
    Transform,
    TransformType,
    TsPayload,
    TsType,
    UnknownPayload,
    UnsupportedCriticalPayload,
    decode,
)
from pyipsec.wire.ikev2.payloads import (
    payload_type,
    pull_payload_chain,
    push_payload_body,
    push_payloads,
)

from .samples import SPI_I


def message_with(chain: bytes, first: int) -> bytes:
    """A plain IKE_SA_INIT request around a raw payload chain."""
    length = 28 + len(chain)
    return SPI_I + bytes(8) + bytes((first, 0x20, 34, 0x08)) + struct.pack("!II", 0, length) + chain


def one(ptype: int, body: bytes, flags: int = 0, next_payload: int = 0) -> bytes:
    return message_with(struct.pack("!BBH", next_payload, flags, 4 + len(body)) + body, ptype)


def expect_syntax(data: bytes) -> MalformedMessage:
    with pytest.raises(MalformedMessage) as err:
        decode(data)
    assert err.value.notify == NotifyType.INVALID_SYNTAX, err.value
    return err.value


# --- layouts (RFC 7296 figures) -------------------------------------------------------------


def test_sa_payload_layout_with_key_length_tv() -> None:
    sa = SaPayload(
        proposals=(
            Proposal(
                number=1,
                protocol=ProtocolId.ESP,
                spi=bytes.fromhex("11223344"),
                transforms=(
                    Transform(type=TransformType.ENCR, id=EncrId.ENCR_AES_CBC, key_length=128),
                    Transform(type=TransformType.ESN, id=0),
                ),
            ),
        )
    )
    expected = bytes.fromhex(
        # Proposal: last (0), reserved, length 32, number 1, ESP, SPI size 4, 2 transforms, SPI
        "00000020"
        "01030402"
        "11223344"
        # Transform: more (3), reserved, length 12, ENCR, reserved, id 12, Key Length TV 128
        "0300000c"
        "0100000c"
        "800e0080"
        # Transform: last (0), reserved, length 8, ESN, reserved, id 0
        "00000008"
        "05000000"
    )
    assert push_payload_body(sa) == expected
    assert pull_payload_chain(PayloadType.SA, struct.pack("!BBH", 0, 0, 36) + expected)[0][0] == sa


def test_ts_payload_layout() -> None:
    ts = TsPayload(
        initiator=True,
        selectors=(
            TrafficSelector(
                ts_type=TsType.TS_IPV4_ADDR_RANGE,
                protocol=17,
                start_port=500,
                end_port=4500,
                start=ipaddress.ip_address("198.51.100.1"),
                end=ipaddress.ip_address("198.51.100.9"),
            ),
        ),
    )
    assert push_payload_body(ts) == bytes.fromhex("010000000711001001f41194c6336401c6336409")


def test_id_body_is_what_auth_covers() -> None:
    # RFC 7296 §2.15: RestOfInitIDPayload = ID Type, 3 reserved octets, data.
    idp = IdPayload(id_type=IdType.ID_FQDN, data=b"a.example")
    assert idp.body() == b"\x02\x00\x00\x00a.example" == push_payload_body(idp)
    assert payload_type(idp) == PayloadType.IDi
    assert payload_type(IdPayload(id_type=1, data=bytes(4), initiator=False)) == PayloadType.IDr


def test_chain_links_and_lengths() -> None:
    first, chain = push_payloads(
        [KePayload(group=31, data=bytes(32)), NotifyPayload(type=NotifyType.COOKIE, data=b"c")]
    )
    assert first == PayloadType.KE
    assert chain[:4] == bytes.fromhex("29000028")  # next N (41), length 40
    assert chain[4:8] == bytes.fromhex("001f0000")  # group 31, reserved
    assert chain[40:] == bytes.fromhex("000000090000400663")


# --- critical bit (RFC 7296 §2.5) -----------------------------------------------------------


def test_unknown_critical_payload_is_refused_with_its_type() -> None:
    with pytest.raises(UnsupportedCriticalPayload) as err:
        decode(one(200, b"xyz", flags=0x80))
    assert err.value.notify == NotifyType.UNSUPPORTED_CRITICAL_PAYLOAD
    assert err.value.notify_data == b"\xc8"


def test_unknown_noncritical_payload_is_kept_and_reencoded() -> None:
    data = one(200, b"xyz", flags=0x00)
    msg = decode(data)
    assert msg.payloads == (UnknownPayload(payload_type=200, data=b"xyz"),)
    from pyipsec.wire.ikev2 import encode

    assert encode(msg) == data


def test_critical_bit_of_a_known_payload_is_ignored() -> None:
    msg = decode(one(PayloadType.V, b"vendor", flags=0x80))
    assert payload_type(msg.payloads[0]) == PayloadType.V


# --- malformed classes: every one INVALID_SYNTAX ---------------------------------------------


def xform(t: int, tid: int, attrs: bytes = b"", last: bool = True) -> bytes:
    return struct.pack("!BBHBBH", 0 if last else 3, 0, 8 + len(attrs), t, 0, tid) + attrs


def prop(
    transforms: bytes, count: int, *, proto: int = 1, spi: bytes = b"", last: bool = True
) -> bytes:
    body = struct.pack("!BBBB", 1, proto, len(spi), count) + spi + transforms
    return struct.pack("!BBH", 0 if last else 2, 0, 4 + len(body)) + body


GOOD_XFORM = xform(1, 12, b"\x80\x0e\x00\x80")


@pytest.mark.parametrize(
    ("name", "body"),
    [
        ("empty SA", b""),
        ("proposal header truncated", b"\x00\x00"),
        ("proposal length below 8", b"\x00\x00\x00\x04\x01\x01\x00\x00"),
        ("proposal length past the payload", prop(GOOD_XFORM, 1)[:-1]),
        ("proposal Last Substruc 3", b"\x03" + prop(GOOD_XFORM, 1)[1:]),
        ("more proposals announced, none follows", prop(GOOD_XFORM, 1, last=False)),
        ("bytes after the last proposal", prop(GOOD_XFORM, 1) + b"\x00"),
        ("transform count too high", prop(GOOD_XFORM, 2)),
        ("transform count too low", prop(xform(1, 12, last=False) + GOOD_XFORM, 1)),
        ("bytes after the last transform", prop(GOOD_XFORM + GOOD_XFORM, 2)),
        ("IKE SPI of 4 bytes", prop(GOOD_XFORM, 1, spi=b"abcd")),
        ("ESP SPI of 8 bytes", prop(GOOD_XFORM, 1, proto=3, spi=bytes(8))),
        ("ESP without SPI", prop(GOOD_XFORM, 1, proto=3)),
        ("SPI runs past the proposal", struct.pack("!BBHBBBB", 0, 0, 8, 1, 1, 8, 0)),
        ("transform attribute truncated", prop(xform(1, 12, b"\x80\x0e"), 1)),
        ("TLV attribute runs past", prop(xform(1, 12, b"\x00\x10\x00\x09abc"), 1)),
        ("Key Length in TLV form", prop(xform(1, 12, b"\x00\x0e\x00\x02\x00\x80"), 1)),
        ("Key Length twice", prop(xform(1, 12, b"\x80\x0e\x00\x80\x80\x0e\x00\x80"), 1)),
        ("transform length below 8", prop(b"\x00\x00\x00\x04", 1)),
        ("transform Last Substruc 2", prop(b"\x02" + GOOD_XFORM[1:] + GOOD_XFORM, 2)),
    ],
)
def test_malformed_sa(name: str, body: bytes) -> None:
    expect_syntax(one(PayloadType.SA, body))


@pytest.mark.parametrize(
    ("ptype", "body"),
    [
        (PayloadType.KE, b"\x00\x0e\x00"),
        (PayloadType.IDi, b"\x02\x00\x00"),
        (PayloadType.IDr, b""),
        (PayloadType.CERT, b""),
        (PayloadType.CERTREQ, b""),
        (PayloadType.AUTH, b"\x02\x00"),
        (PayloadType.NONCE, bytes(15)),  # RFC 7296 §3.9: 16..256 bytes
        (PayloadType.NONCE, bytes(257)),
        (PayloadType.N, b"\x00\x00\x40"),
        (PayloadType.N, b"\x03\x04\x40\x00\x01\x02"),  # SPI runs past
        (PayloadType.D, b"\x01\x00\x00"),
        (PayloadType.D, b"\x01\x08\x00\x01" + bytes(8)),  # IKE delete carries no SPI
        (PayloadType.D, b"\x03\x08\x00\x01" + bytes(8)),  # ESP SPIs are 4 bytes
        (PayloadType.D, b"\x03\x04\x00\x02" + bytes(4)),  # count says 2
        (PayloadType.D, b"\x03\x04\x00\x01" + bytes(5)),
        (PayloadType.TSi, b"\x01\x00\x00"),
        (PayloadType.TSi, b"\x01\x00\x00\x00"),  # one selector announced, none present
        (PayloadType.TSi, b"\x01\x00\x00\x00\x07\x00\x00\x14" + bytes(16)),  # IPv4 length 20
        (PayloadType.TSr, b"\x01\x00\x00\x00\x08\x00\x00\x10" + bytes(12)),  # IPv6 length 16
        (PayloadType.TSr, b"\x01\x00\x00\x00\x07\x00\x00\x10" + bytes(8)),  # past the payload
        (PayloadType.TSr, b"\x01\x00\x00\x00\x09\x00\x00\x02"),  # unknown type, length < 4
        (PayloadType.TSr, b"\x00\x00\x00\x00\x07\x00\x00\x10" + bytes(12)),  # count 0, 1 there
        (PayloadType.CP, b"\x01\x00"),
        (PayloadType.CP, b"\x01\x00\x00\x00\x00\x01\x00"),
        (PayloadType.CP, b"\x01\x00\x00\x00\x00\x01\x00\x04\x0a"),
        (PayloadType.SKF, b"\x00\x01\x00"),
        (PayloadType.SKF, b"\x00\x00\x00\x01" + bytes(16)),  # fragment 0
        (PayloadType.SKF, b"\x00\x03\x00\x02" + bytes(16)),  # fragment 3 of 2
    ],
)
def test_malformed_simple_payloads(ptype: int, body: bytes) -> None:
    expect_syntax(one(ptype, body))


@pytest.mark.parametrize(
    "chain",
    [
        b"\x00\x00\x00",  # generic header truncated
        b"\x00\x00\x00\x03",  # length below 4
        b"\x00\x00\x00\x09" + bytes(4),  # length past the message
        b"\x00\x00\x00\x08" + bytes(4) + b"\x00",  # a byte after the last payload
        b"\x2b\x00\x00\x08" + bytes(4),  # next payload announced, none there
    ],
)
def test_malformed_chain(chain: bytes) -> None:
    expect_syntax(message_with(chain, PayloadType.V))


def test_encrypted_payload_must_be_last() -> None:
    sk = struct.pack("!BBH", PayloadType.V, 0, 8) + bytes(4)
    vendor = struct.pack("!BBH", 0, 0, 6) + b"xy"
    expect_syntax(message_with(sk + vendor, PayloadType.SK))


def test_unknown_ts_type_is_kept_whole() -> None:
    raw = b"\x0a\x00\x00\x08abcd"  # TS_SECLABEL with 4 bytes of label
    v4 = b"\x07\x00\x00\x10" + b"\x00\x00\xff\xff" + bytes([10, 0, 0, 0, 10, 0, 0, 255])
    msg = decode(one(PayloadType.TSi, b"\x02\x00\x00\x00" + raw + v4))
    ts = msg.payloads[0]
    assert isinstance(ts, TsPayload) and ts.other == (raw,) and len(ts.selectors) == 1
    assert ts.selectors[0].end == ipaddress.ip_address("10.0.0.255")


def test_transform_other_attributes_round_trip() -> None:
    t = Transform(type=1, id=12, key_length=256, other_attributes=((0x8011, b"\x00\x01"),))
    p = SaPayload(proposals=(Proposal(number=1, protocol=1, transforms=(t,)),))
    data = one(PayloadType.SA, push_payload_body(p))
    assert decode(data).payloads == (p,)
