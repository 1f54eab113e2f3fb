"""ISAKMP header and whole messages (wire/ikev1/header.py, message.py; RFC 2408 §3.1, §5.1)."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pyipsec.wire.ikev1.constants import ExchangeType, IsakmpFlag, NotifyMessageType, PayloadType
from pyipsec.wire.ikev1.errors import MalformedMessage
from pyipsec.wire.ikev1.header import Header, pull_header, push_header
from pyipsec.wire.ikev1.message import build_message, parse_message, parse_payloads
from pyipsec.wire.ikev1.payloads import (
    KePayload,
    NoncePayload,
    Payload,
    SaPayload,
    VendorIdPayload,
)
from tests.wire.ikev1 import aggressive_mode_sample as sample
from tests.wire.ikev1.strategies import cleartext_flags, exchange_types, payloads

CKY_I = bytes.fromhex("0102030405060708")
CKY_R = bytes.fromhex("1112131415161718")


def test_header_bytes_spelled_out() -> None:
    h = Header(
        initiator_cookie=CKY_I,
        responder_cookie=CKY_R,
        next_payload=PayloadType.HASH,
        exchange_type=ExchangeType.QUICK_MODE,
        flags=IsakmpFlag.ENCRYPTION,
        message_id=0xDEADBEEF,
        length=76,
    )
    raw = push_header(h)
    assert raw == CKY_I + CKY_R + bytes.fromhex("08102001deadbeef0000004c")
    assert pull_header(raw + bytes(48)) == h


@pytest.mark.parametrize(
    ("offset", "value", "notify"),
    [
        (17, 0x20, NotifyMessageType.INVALID_MAJOR_VERSION),
        (17, 0x11, NotifyMessageType.INVALID_MINOR_VERSION),
        (19, 0x08, NotifyMessageType.INVALID_FLAGS),
        (27, 29, NotifyMessageType.UNEQUAL_PAYLOAD_LENGTHS),  # Length > datagram
        (27, 27, NotifyMessageType.UNEQUAL_PAYLOAD_LENGTHS),  # Length < 28
    ],
)
def test_header_errors(offset: int, value: int, notify: NotifyMessageType) -> None:
    raw = bytearray(push_header(Header(initiator_cookie=CKY_I, exchange_type=2, length=28)))
    raw[offset] = value
    with pytest.raises(MalformedMessage) as e:
        pull_header(bytes(raw))
    assert e.value.notify == notify


def test_build_and_parse_main_mode_first_message() -> None:
    from tests.wire.ikev1.test_payloads import pull_body

    sa = pull_body(PayloadType.SA, sample.SAI_B)
    assert isinstance(sa, SaPayload)
    data = build_message(
        initiator_cookie=sample.CKY_I,
        exchange_type=ExchangeType.AGGRESSIVE,
        payloads=[sa, KePayload(data=sample.G_XI), NoncePayload(data=sample.NI_B)],
    )
    assert len(data) == 28 + (4 + 160) + (4 + 128) + (4 + 20)
    assert data[16] == PayloadType.SA and data[24:28] == len(data).to_bytes(4, "big")
    m = parse_message(data)
    assert m.header.exchange_type == ExchangeType.AGGRESSIVE
    assert m.payloads == (sa, KePayload(data=sample.G_XI), NoncePayload(data=sample.NI_B))
    assert m.get(NoncePayload) == NoncePayload(data=sample.NI_B)
    assert m.all(VendorIdPayload) == []
    assert m.body_of(SaPayload) == sample.SAI_B


def test_bytes_beyond_length_are_ignored_but_short_payloads_are_not() -> None:
    data = build_message(
        initiator_cookie=CKY_I, exchange_type=2, payloads=[VendorIdPayload(data=b"x")]
    )
    assert parse_message(data + b"junk").payloads == (VendorIdPayload(data=b"x"),)
    inflated = data[:24] + (len(data) + 1).to_bytes(4, "big") + data[28:] + b"\x00"
    with pytest.raises(MalformedMessage) as e:
        parse_message(inflated)
    assert e.value.notify == NotifyMessageType.UNEQUAL_PAYLOAD_LENGTHS


def test_encrypted_message_is_returned_undecoded() -> None:
    h = Header(
        initiator_cookie=CKY_I,
        responder_cookie=CKY_R,
        next_payload=PayloadType.ID,
        exchange_type=2,
        flags=IsakmpFlag.ENCRYPTION,
        length=28 + 16,
    )
    m = parse_message(push_header(h) + bytes(range(16)))
    assert m.payloads == () and m.encrypted_body == bytes(range(16))


def test_parse_payloads_tolerates_padding() -> None:
    body = bytes.fromhex("00000005aa") + bytes(11)
    assert parse_payloads(PayloadType.VID, body) == [VendorIdPayload(data=b"\xaa")]
    with pytest.raises(MalformedMessage):
        parse_payloads(PayloadType.VID, body, trailing_ok=False)


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(
    pls=st.lists(payloads, max_size=6),
    xchg=exchange_types,
    flags=cleartext_flags,
    mid=st.integers(0, 2**32 - 1),
    cky_r=st.binary(min_size=8, max_size=8),
)
def test_round_trip_build_parse_build(
    pls: list[Payload], xchg: int, flags: int, mid: int, cky_r: bytes
) -> None:
    data = build_message(
        initiator_cookie=CKY_I,
        responder_cookie=cky_r,
        exchange_type=xchg,
        flags=flags,
        message_id=mid,
        payloads=pls,
    )
    m = parse_message(data)
    assert m.payloads == tuple(pls)
    assert (m.header.exchange_type, m.header.flags, m.header.message_id) == (xchg, flags, mid)
    again = build_message(
        initiator_cookie=m.header.initiator_cookie,
        responder_cookie=m.header.responder_cookie,
        exchange_type=m.header.exchange_type,
        flags=m.header.flags,
        message_id=m.header.message_id,
        payloads=m.payloads,
    )
    assert again == data


@given(st.binary(max_size=200))
def test_random_bytes_raise_only_malformed(data: bytes) -> None:
    with contextlib.suppress(MalformedMessage):
        parse_message(data)


@given(first=st.integers(0, 255), body=st.binary(max_size=300))
def test_random_bodies_behind_a_valid_header_raise_only_malformed(first: int, body: bytes) -> None:
    header = Header(
        initiator_cookie=CKY_I, next_payload=first, exchange_type=2, length=28 + len(body)
    )
    with contextlib.suppress(MalformedMessage):
        parse_message(push_header(header) + body)
    with contextlib.suppress(MalformedMessage):
        parse_payloads(first, body)


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(
    pls=st.lists(payloads, min_size=1, max_size=4),
    edits=st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), min_size=1, max_size=6),
    cut=st.integers(0, 10_000),
)
def test_mutated_messages_raise_only_malformed(
    pls: list[Payload], edits: list[tuple[int, int]], cut: int
) -> None:
    data = bytearray(build_message(initiator_cookie=CKY_I, exchange_type=2, payloads=pls))
    for pos, value in edits:
        data[pos % len(data)] = value
    for variant in (bytes(data), bytes(data[: cut % (len(data) + 1)])):
        try:
            m = parse_message(variant)
        except MalformedMessage:
            continue
        if m.encrypted_body is None:  # what parses must re-encode without error
            build_message(
                initiator_cookie=m.header.initiator_cookie,
                exchange_type=m.header.exchange_type,
                payloads=m.payloads,
            )
