"""IPsec DOI identity helpers and DPD notifies (wire/ikev1/ids.py; RFC 2407 §4.6.2, RFC 3706)."""

from __future__ import annotations

import contextlib
import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pyipsec.wire.ikev1.constants import IdentificationType, NotifyMessageType
from pyipsec.wire.ikev1.errors import MalformedMessage
from pyipsec.wire.ikev1.ids import (
    IdRange,
    dpd_notify,
    dpd_sequence,
    id_from_address,
    id_from_network,
    id_from_range,
    id_to_range,
)
from pyipsec.wire.ikev1.payloads import IdPayload, NotifyPayload, push_payload_body

V4 = ipaddress.IPv4Address
V6 = ipaddress.IPv6Address


def test_subnet_bytes_and_range() -> None:
    p = id_from_network(ipaddress.ip_network("10.1.0.0/16"), protocol=6, port=80)
    # RFC 2407 §4.6.2.4: type 4, protocol, port, address, mask.
    assert push_payload_body(p) == bytes.fromhex("040600500a010000ffff0000")
    assert id_to_range(p) == IdRange(
        first=V4("10.1.0.0"), last=V4("10.1.255.255"), protocol=6, port=80
    )


def test_address_and_range_and_v6() -> None:
    a = id_from_address(V6("2001:db8::1"))
    assert a.id_type == IdentificationType.ID_IPV6_ADDR and len(a.data) == 16
    assert id_to_range(a) == IdRange(first=V6("2001:db8::1"), last=V6("2001:db8::1"))
    r = id_from_range(V4("192.0.2.10"), V4("192.0.2.20"))
    assert r.id_type == IdentificationType.ID_IPV4_ADDR_RANGE
    assert id_to_range(r) == IdRange(first=V4("192.0.2.10"), last=V4("192.0.2.20"))
    n6 = id_from_network(ipaddress.ip_network("2001:db8::/32"))
    assert id_to_range(n6).last == V6("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff")


@pytest.mark.parametrize(
    ("id_type", "data"),
    [
        (IdentificationType.ID_FQDN, b"example.org"),
        (IdentificationType.ID_IPV4_ADDR, b"\x01\x02\x03"),
        (IdentificationType.ID_IPV4_ADDR_SUBNET, bytes.fromhex("0a000000ff00ff00")),
        (IdentificationType.ID_IPV4_ADDR_RANGE, bytes.fromhex("0a0000020a000001")),
    ],
)
def test_bad_identities(id_type: int, data: bytes) -> None:
    with pytest.raises(MalformedMessage) as e:
        id_to_range(IdPayload(id_type=id_type, data=data))
    assert e.value.notify == NotifyMessageType.INVALID_ID_INFORMATION


@given(st.integers(0, 2**32 - 1), st.integers(0, 32))
def test_subnet_round_trip(addr: int, prefix: int) -> None:
    net = ipaddress.ip_network((addr, prefix), strict=False)
    r = id_to_range(id_from_network(net))
    assert (r.first, r.last) == (net.network_address, net.broadcast_address)


@given(st.integers(0, 255), st.binary(max_size=40), st.integers(0, 255))
def test_random_identities_raise_only_malformed(id_type: int, data: bytes, proto: int) -> None:
    with contextlib.suppress(MalformedMessage):
        id_to_range(IdPayload(id_type=id_type, protocol_id=proto, data=data))


def test_dpd_notify() -> None:
    cky_i, cky_r = b"I" * 8, b"R" * 8
    n = dpd_notify(cky_i=cky_i, cky_r=cky_r, sequence=0x01020304)
    # RFC 3706: protocol ISAKMP, SPI = CKY-I | CKY-R, data = 32-bit sequence number.
    assert push_payload_body(n) == (
        bytes.fromhex("0000000101108d28") + cky_i + cky_r + bytes.fromhex("01020304")
    )
    ack = dpd_notify(cky_i=cky_i, cky_r=cky_r, sequence=7, ack=True)
    assert ack.notify_type == NotifyMessageType.R_U_THERE_ACK and dpd_sequence(ack) == 7
    with pytest.raises(MalformedMessage):
        dpd_sequence(NotifyPayload(protocol_id=1, notify_type=36136, data=b"\x00"))
