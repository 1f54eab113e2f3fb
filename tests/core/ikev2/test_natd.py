"""IKEv2 NAT detection hashes (RFC 7296 §2.23), checked against plain hashlib SHA-1."""

from __future__ import annotations

import hashlib
from ipaddress import IPv4Address, IPv6Address

from pyipsec.core.ikev2.natd import NatDetection, detect, matches, natd_hash

SPI_I = bytes.fromhex("0102030405060708")
SPI_R = bytes(8)
A = IPv4Address("198.51.100.1")
B = IPv4Address("203.0.113.2")


def test_natd_hash_formula() -> None:
    expected = hashlib.sha1(SPI_I + SPI_R + A.packed + (500).to_bytes(2, "big")).digest()
    assert natd_hash(SPI_I, SPI_R, A, 500) == expected
    assert natd_hash(SPI_I, SPI_R, A.packed, 500) == expected
    v6 = IPv6Address("2001:db8::1")
    assert (
        natd_hash(SPI_I, SPI_R, v6, 4500)
        == hashlib.sha1(SPI_I + SPI_R + v6.packed + b"\x11\x94").digest()
    )
    assert natd_hash(SPI_I, SPI_R, A, 4500) != expected


def test_matches_any() -> None:
    good = natd_hash(SPI_I, SPI_R, A, 500)
    assert matches([b"x" * 20, good], SPI_I, SPI_R, A, 500)
    assert not matches([b"x" * 20, b"short"], SPI_I, SPI_R, A, 500)
    assert not matches([], SPI_I, SPI_R, A, 500)


def _detect(
    src_h: list[bytes],
    dst_h: list[bytes],
    *,
    src: IPv4Address = A,
    src_port: int = 500,
    dst: IPv4Address = B,
) -> NatDetection:
    return detect(
        source_hashes=src_h,
        destination_hashes=dst_h,
        spi_i=SPI_I,
        spi_r=SPI_R,
        src=src,
        src_port=src_port,
        dst=dst,
        dst_port=500,
    )


def test_detect() -> None:
    # The peer A sent to B, port 500 to 500, and hashed what it sent.
    src_h = [natd_hash(SPI_I, SPI_R, A, 500)]
    dst_h = [natd_hash(SPI_I, SPI_R, B, 500)]
    assert _detect(src_h, dst_h) == NatDetection(
        supported=True, local_behind_nat=False, remote_behind_nat=False
    )
    # A NAT rewrote the peer's source port: the peer is behind a NAT.
    assert _detect(src_h, dst_h, src_port=1024) == NatDetection(
        supported=True, local_behind_nat=False, remote_behind_nat=True
    )
    # The peer addressed a public address that reached us rewritten: we are behind a NAT.
    assert _detect(src_h, dst_h, dst=IPv4Address("198.51.100.9")) == NatDetection(
        supported=True, local_behind_nat=True, remote_behind_nat=False
    )
    # Neither notify: no NAT-T support, no conclusion.
    assert _detect([], []) == NatDetection(
        supported=False, local_behind_nat=False, remote_behind_nat=False
    )
