"""IKEv2 NAT detection (RFC 7296 §2.23).

Each IKE_SA_INIT message carries NAT_DETECTION_SOURCE_IP (the sender's address and port as it
sent them) and NAT_DETECTION_DESTINATION_IP (the address and port it sent to)::

    data = SHA1(SPIi | SPIr | IP | Port)

SPIs as in the IKE header (SPIr zero in the request), IP packed (4 or 16 bytes), Port 2 bytes
in network order. The receiver recomputes them from the packet's real addresses: no source hash
matching the packet's source means the peer is behind a NAT; a destination hash that does not
match the packet's destination means this end is.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv6Address

__all__ = ["NatDetection", "detect", "matches", "natd_hash"]

# hashlib's SHA-1 constructor, called directly: the registry's hash function (crypto/prf.py
# hash_function) wraps this same one in a Python call, four hashes per setup on each side
_SHA1 = hashlib.sha1


def natd_hash(
    spi_i: bytes, spi_r: bytes, ip: IPv4Address | IPv6Address | bytes, port: int
) -> bytes:
    """SHA1(SPIi | SPIr | IP | Port), the data of a NAT_DETECTION_*_IP notify (§2.23)."""
    packed = ip if isinstance(ip, bytes) else ip.packed
    return _SHA1(spi_i + spi_r + packed + port.to_bytes(2, "big")).digest()


def matches(
    received: Iterable[bytes],
    spi_i: bytes,
    spi_r: bytes,
    ip: IPv4Address | IPv6Address | bytes,
    port: int,
) -> bool:
    """Whether any received notify data equals the hash of ``ip``/``port`` (constant time each)."""
    expected = natd_hash(spi_i, spi_r, ip, port)
    found = False
    for data in received:
        found |= hmac.compare_digest(data, expected)
    return found


@dataclass(frozen=True, slots=True, kw_only=True)
class NatDetection:
    """What the NAT_DETECTION notifies of one IKE_SA_INIT message showed (§2.23).

    ``supported`` is False when the message had neither notify (the peer does no NAT-T; then
    both flags are False).
    """

    supported: bool
    local_behind_nat: bool
    remote_behind_nat: bool


def detect(
    *,
    source_hashes: Iterable[bytes],
    destination_hashes: Iterable[bytes],
    spi_i: bytes,
    spi_r: bytes,
    src: IPv4Address | IPv6Address,
    src_port: int,
    dst: IPv4Address | IPv6Address,
    dst_port: int,
) -> NatDetection:
    """Compare a received message's NAT_DETECTION notifies with its real addresses (§2.23).

    ``src``/``src_port`` are the packet's source as received (the peer as seen here),
    ``dst``/``dst_port`` its destination (this end's address as received). A peer may send
    several source notifies (one per address it may send from); any match counts.
    """
    sources = list(source_hashes)
    destinations = list(destination_hashes)
    if not sources and not destinations:
        return NatDetection(supported=False, local_behind_nat=False, remote_behind_nat=False)
    return NatDetection(
        supported=True,
        remote_behind_nat=bool(sources) and not matches(sources, spi_i, spi_r, src, src_port),
        local_behind_nat=bool(destinations)
        and not matches(destinations, spi_i, spi_r, dst, dst_port),
    )
