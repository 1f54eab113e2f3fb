"""UDP encapsulation of ESP (RFC 3948) and the UDP-4500 demultiplexing rules.

On port 4500 one socket carries three things (RFC 3948 §2):

- ESP: the datagram starts with a non-zero SPI (§2.1);
- IKE: the datagram starts with the 4-byte Non-ESP Marker (zero) and then the IKE header (§2.2);
- NAT-keepalive: a single 0xFF byte (§2.3).

Anything else is invalid. The UDP checksum of ESP-in-UDP over IPv4 is sent as zero (§2.1); over
IPv6 it is computed (RFC 8200 §8.1).
"""

from __future__ import annotations

import enum
import struct

from pyipsec.wire.ip import (
    IPAddress,
    IpProtocol,
    MalformedPacket,
    build_ip,
    internet_checksum,
    parse_ip,
    pseudo_header,
    rewrite_header,
)

NAT_T_PORT = 4500
NON_ESP_MARKER = b"\x00\x00\x00\x00"
NAT_KEEPALIVE = b"\xff"
UDP_HEADER = struct.Struct("!HHHH")
UDP_HEADER_LEN = 8
IKE_HEADER_LEN = 28  # RFC 7296 §3.1 / RFC 2408 §3.1
ESP_HEADER_LEN = 8


class UdpPayloadKind(enum.Enum):
    """What a datagram received on UDP 4500 carries."""

    ESP = "esp"
    IKE = "ike"
    KEEPALIVE = "keepalive"
    INVALID = "invalid"


def classify(payload: bytes | bytearray | memoryview) -> UdpPayloadKind:
    """Classify a UDP-4500 payload (RFC 3948 §2.1-§2.3)."""
    n = len(payload)
    if n == 1 and payload[0] == 0xFF:
        return UdpPayloadKind.KEEPALIVE
    if n >= 4 and payload[:4] == NON_ESP_MARKER:
        return UdpPayloadKind.IKE if n >= 4 + IKE_HEADER_LEN else UdpPayloadKind.INVALID
    if n >= ESP_HEADER_LEN:
        return UdpPayloadKind.ESP  # SPI is non-zero because the first 4 bytes are not the marker
    return UdpPayloadKind.INVALID


def frame_ike(message: bytes) -> bytes:
    """An IKE message as sent on port 4500: Non-ESP Marker + message (RFC 3948 §2.2)."""
    return NON_ESP_MARKER + message


def unframe_ike(payload: bytes) -> bytes:
    """The IKE message of a UDP-4500 payload classified as IKE."""
    return payload[4:]


def udp_header(
    src: IPAddress, dst: IPAddress, src_port: int, dst_port: int, payload: bytes
) -> bytes:
    """A UDP header for ``payload``: checksum zero over IPv4 (RFC 3948 §2.1), computed over IPv6."""
    length = UDP_HEADER_LEN + len(payload)
    if src.version == 4:
        return UDP_HEADER.pack(src_port, dst_port, length, 0)
    hdr = UDP_HEADER.pack(src_port, dst_port, length, 0)
    csum = internet_checksum(pseudo_header(src, dst, IpProtocol.UDP, length) + hdr + payload)
    return UDP_HEADER.pack(src_port, dst_port, length, csum or 0xFFFF)


def encapsulate(
    src: IPAddress, dst: IPAddress, src_port: int, dst_port: int, esp: bytes, *, ttl: int = 64
) -> bytes:
    """A whole IP/UDP packet carrying ``esp`` (RFC 3948 §2.1)."""
    return build_ip(
        src, dst, IpProtocol.UDP, udp_header(src, dst, src_port, dst_port, esp) + esp, ttl=ttl
    )


def decapsulate(packet: bytes) -> tuple[bytes, tuple[int, int], UdpPayloadKind]:
    """Split an IP/UDP packet into (IP header + payload with protocol ESP, ports, kind).

    The returned packet is the received one with the UDP header removed and the protocol set to
    ESP, which is the shape ``Processor.inbound(..., udp_encap=ports)`` takes. Raises
    ``MalformedPacket`` if the packet is not a sound UDP datagram.
    """
    info = parse_ip(packet)
    if info.protocol != IpProtocol.UDP or info.fragment:
        raise MalformedPacket("not an unfragmented UDP datagram")
    off = info.header_len
    if off + UDP_HEADER_LEN > info.total_len:
        raise MalformedPacket("UDP header truncated")
    sport, dport, length, _csum = UDP_HEADER.unpack_from(packet, off)
    if length < UDP_HEADER_LEN or off + length > info.total_len:
        raise MalformedPacket("UDP length inconsistent")
    payload = packet[off + UDP_HEADER_LEN : off + length]
    header = rewrite_header(
        packet[:off], info.version, info.proto_offset, IpProtocol.ESP, off + len(payload)
    )
    return header + payload, (sport, dport), classify(payload)
