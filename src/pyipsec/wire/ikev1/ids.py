"""IPsec DOI identities (RFC 2407 §4.6.2) <-> Python values, and DPD notifies (RFC 3706).

Phase-2 identities (quick mode IDci/IDcr) name traffic: one address, a subnet (address and
mask, §4.6.2.4/§4.6.2.6) or a range (first and last address, §4.6.2.7/§4.6.2.8), with an IP
protocol and port (0 = any). ``id_to_range`` turns any of them into (first, last) for selector
matching; a malformed identity is INVALID_ID_INFORMATION (RFC 2408 §3.14.1).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from .constants import (
    IPSEC_DOI,
    IdentificationType,
    NotifyMessageType,
    ProtocolId,
)
from .errors import MalformedMessage
from .payloads import IdPayload, NotifyPayload

__all__ = [
    "IdRange",
    "dpd_notify",
    "dpd_sequence",
    "id_from_address",
    "id_from_network",
    "id_from_range",
    "id_to_range",
]

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_ADDR = {4: IdentificationType.ID_IPV4_ADDR, 6: IdentificationType.ID_IPV6_ADDR}
_SUBNET = {4: IdentificationType.ID_IPV4_ADDR_SUBNET, 6: IdentificationType.ID_IPV6_ADDR_SUBNET}
_RANGE = {4: IdentificationType.ID_IPV4_ADDR_RANGE, 6: IdentificationType.ID_IPV6_ADDR_RANGE}
# ID type -> (address family, number of addresses in the data).
_LAYOUT: dict[int, tuple[int, int]] = {
    IdentificationType.ID_IPV4_ADDR: (4, 1),
    IdentificationType.ID_IPV6_ADDR: (6, 1),
    IdentificationType.ID_IPV4_ADDR_SUBNET: (4, 2),
    IdentificationType.ID_IPV6_ADDR_SUBNET: (6, 2),
    IdentificationType.ID_IPV4_ADDR_RANGE: (4, 2),
    IdentificationType.ID_IPV6_ADDR_RANGE: (6, 2),
}
_SIZE = {4: 4, 6: 16}


@dataclass(frozen=True, slots=True, kw_only=True)
class IdRange:
    """The traffic an address identity names: addresses ``first``..``last``, protocol, port."""

    first: IpAddress
    last: IpAddress
    protocol: int = 0
    port: int = 0


def id_from_address(address: IpAddress, *, protocol: int = 0, port: int = 0) -> IdPayload:
    """ID_IPV4_ADDR / ID_IPV6_ADDR (RFC 2407 §4.6.2.2, §4.6.2.6)."""
    return IdPayload(
        id_type=_ADDR[address.version], protocol_id=protocol, port=port, data=address.packed
    )


def id_from_network(network: IpNetwork, *, protocol: int = 0, port: int = 0) -> IdPayload:
    """ID_IPV4_ADDR_SUBNET / ID_IPV6_ADDR_SUBNET: address then mask (RFC 2407 §4.6.2.4)."""
    return IdPayload(
        id_type=_SUBNET[network.version],
        protocol_id=protocol,
        port=port,
        data=network.network_address.packed + network.netmask.packed,
    )


def id_from_range(
    first: IpAddress, last: IpAddress, *, protocol: int = 0, port: int = 0
) -> IdPayload:
    """ID_IPV4_ADDR_RANGE / ID_IPV6_ADDR_RANGE: first then last address (RFC 2407 §4.6.2.7)."""
    if first.version != last.version:
        raise ValueError("range ends of different address families")
    return IdPayload(
        id_type=_RANGE[first.version],
        protocol_id=protocol,
        port=port,
        data=first.packed + last.packed,
    )


def id_to_range(p: IdPayload) -> IdRange:
    """The addresses an address-type identity covers; INVALID_ID_INFORMATION otherwise.

    A subnet mask must be contiguous and a range must not run backwards.
    """
    layout = _LAYOUT.get(p.id_type)
    bad = NotifyMessageType.INVALID_ID_INFORMATION
    if layout is None:
        raise MalformedMessage(bad, f"ID type {p.id_type} names no addresses")
    family, count = layout
    size = _SIZE[family]
    if len(p.data) != size * count:
        raise MalformedMessage(bad, f"ID type {p.id_type} with {len(p.data)} bytes of data")
    a = ipaddress.ip_address(p.data[:size])
    if count == 1:
        return IdRange(first=a, last=a, protocol=p.protocol_id, port=p.port)
    b = ipaddress.ip_address(p.data[size:])
    if p.id_type in (
        IdentificationType.ID_IPV4_ADDR_SUBNET,
        IdentificationType.ID_IPV6_ADDR_SUBNET,
    ):
        mask = int(b)
        host_bits = (~mask) & ((1 << (8 * size)) - 1)
        if host_bits & (host_bits + 1):
            raise MalformedMessage(bad, "subnet mask is not contiguous")
        lo = int(a) & mask
        first = ipaddress.ip_address(lo.to_bytes(size, "big"))
        last = ipaddress.ip_address((lo | host_bits).to_bytes(size, "big"))
        return IdRange(first=first, last=last, protocol=p.protocol_id, port=p.port)
    if int(b) < int(a):
        raise MalformedMessage(bad, "address range ends before it starts")
    return IdRange(first=a, last=b, protocol=p.protocol_id, port=p.port)


def dpd_notify(*, cky_i: bytes, cky_r: bytes, sequence: int, ack: bool = False) -> NotifyPayload:
    """R-U-THERE or R-U-THERE-ACK (RFC 3706): the cookies as SPI, a 32-bit sequence number."""
    return NotifyPayload(
        doi=IPSEC_DOI,
        protocol_id=ProtocolId.ISAKMP,
        notify_type=NotifyMessageType.R_U_THERE_ACK if ack else NotifyMessageType.R_U_THERE,
        spi=cky_i + cky_r,
        data=sequence.to_bytes(4, "big"),
    )


def dpd_sequence(p: NotifyPayload) -> int:
    """The sequence number of a DPD notify; PAYLOAD_MALFORMED unless it is 4 bytes."""
    if len(p.data) != 4:
        raise MalformedMessage(NotifyMessageType.PAYLOAD_MALFORMED, "DPD sequence is not 4 bytes")
    return int.from_bytes(p.data, "big")
