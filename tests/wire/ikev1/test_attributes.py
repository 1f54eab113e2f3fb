"""ISAKMP data attributes (wire/ikev1/attributes.py, RFC 2408 §3.3)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pyipsec.wire.ikev1.attributes import (
    Attribute,
    attribute_value,
    find_attribute,
    pull_attributes,
    push_attributes,
)
from pyipsec.wire.ikev1.constants import IkeAttributeType, NotifyMessageType
from pyipsec.wire.ikev1.errors import MalformedMessage


def test_tv_form_has_af_bit_and_inline_value() -> None:
    # Encryption Algorithm (1) = 3DES-CBC (5): AF=1 -> 0x8001, value 0x0005.
    raw = push_attributes([Attribute(type=IkeAttributeType.ENCRYPTION_ALGORITHM, value=5)])
    assert raw == bytes.fromhex("80010005")
    assert pull_attributes(raw) == (Attribute(type=1, value=5),)


def test_large_int_goes_tlv_in_fewest_bytes() -> None:
    # Life Duration 86400 (0x015180) does not fit 16 bits: AF=0, type 12, length 3.
    raw = push_attributes([Attribute(type=IkeAttributeType.LIFE_DURATION, value=86400)])
    assert raw == bytes.fromhex("000c0003015180")
    (a,) = pull_attributes(raw)
    assert a.value == bytes.fromhex("015180") and a.as_int() == 86400


def test_fixed_width_tlv_round_trips_exactly() -> None:
    # ike-scan sends Life Duration 28800 as a 4-byte TLV (see aggressive_mode_sample.py).
    a = Attribute.variable(IkeAttributeType.LIFE_DURATION, 28800, size=4)
    raw = push_attributes([a])
    assert raw == bytes.fromhex("000c000400007080")
    assert pull_attributes(raw) == (a,)
    assert push_attributes(pull_attributes(raw)) == raw


def test_lookup_helpers() -> None:
    attrs = (Attribute(type=1, value=7), Attribute(type=14, value=256))
    assert find_attribute(attrs, 14) == attrs[1]
    assert attribute_value(attrs, 1) == 7
    assert attribute_value(attrs, 2) is None


@pytest.mark.parametrize("raw", ["8001", "000c0004000070", "000c"])
def test_truncation_is_malformed(raw: str) -> None:
    with pytest.raises(MalformedMessage) as e:
        pull_attributes(bytes.fromhex(raw))
    assert e.value.notify == NotifyMessageType.PAYLOAD_MALFORMED


def test_refuses_unencodable_values() -> None:
    with pytest.raises(ValueError):
        push_attributes([Attribute(type=0x8000, value=1)])
    with pytest.raises(ValueError):
        push_attributes([Attribute(type=1, value=-1)])


attribute = st.builds(
    Attribute,
    type=st.integers(0, 0x7FFF),
    value=st.one_of(st.integers(0, 0xFFFF), st.binary(max_size=40)),
)


@given(st.lists(attribute, max_size=8))
def test_round_trip(attrs: list[Attribute]) -> None:
    raw = push_attributes(attrs)
    assert pull_attributes(raw) == tuple(attrs)


@given(st.binary(max_size=64))
def test_random_bytes_never_raise_anything_else(data: bytes) -> None:
    try:
        attrs = pull_attributes(data)
    except MalformedMessage:
        return
    assert push_attributes(attrs) == data
