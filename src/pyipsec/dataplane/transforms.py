"""Per-SA ESP and AH processing: protect and unprotect one packet, nothing else.

These functions know nothing of the SPD, lifetimes or counters: given an installed SA (its keyed
cipher/MAC), a sequence number and, for ESP, an IV, they produce or check the bytes of RFC 4303
and RFC 4302. The processor does sequence numbering, replay checks and accounting around them.
Each failure raises ``PacketDropped`` carrying the statistics counter it belongs to and a short
reason (never packet or key bytes).

ESP (RFC 4303 §2, §3.3, §3.4)::

    esp_protect(sa, payload, next_header, seq, iv) -> SPI | seq | IV | ciphertext | ICV
    esp_unprotect(sa, esp_bytes, seq) -> (payload, next_header)

AH (RFC 4302 §3.3, §3.4), over a whole IP packet whose header is split off by the caller::

    ah_protect(sa, header, version, nh_offset, payload, seq) -> IP packet with AH inserted
    ah_unprotect(sa, packet, version, ah_offset, proto_offset, seq) -> packet without AH
"""

from __future__ import annotations

import struct

from pyipsec.crypto.base import CryptoError
from pyipsec.dataplane.sad import SecurityAssociation
from pyipsec.dataplane.stats import XfrmStat
from pyipsec.wire.ah import (
    AH_FIXED,
    AH_FIXED_LEN,
    MalformedAh,
    ah_length,
    zero_ipv4_mutable,
    zero_ipv6_mutable,
)
from pyipsec.wire.esp import ESP_HEADER, ESP_HEADER_LEN, MalformedEsp, build_trailer, split_trailer
from pyipsec.wire.ip import IpProtocol, rewrite_header

_U32 = struct.Struct("!I")
_U32X3 = struct.Struct("!III")


class PacketDropped(Exception):
    """A packet is dropped; ``stat`` is the counter it is accounted in."""

    __slots__ = ("reason", "stat")

    def __init__(self, stat: XfrmStat, reason: str) -> None:
        super().__init__(reason)
        self.stat = stat
        self.reason = reason


_PROTO_ERR = XfrmStat.IN_STATE_PROTOCOL_ERRORS


def counter_iv(seq: int) -> bytes:
    """The IV of counter-mode and AEAD ciphers: the 64-bit sequence number (RFC 4106 §3.1)."""
    return seq.to_bytes(8, "big")


# -- ESP ------------------------------------------------------------------------------------


def esp_protect(
    sa: SecurityAssociation, payload: bytes, next_header: int, seq: int, iv: bytes
) -> bytes:
    """The ESP packet (header to ICV) carrying ``payload`` with sequence number ``seq``.

    ``seq`` is the full (64-bit with ESN) number; only its low 32 bits go on the wire
    (RFC 4303 §2.2). ``iv`` must be ``encryption.iv_size`` bytes.
    """
    p = sa.params
    enc = p.encryption
    cipher = sa.cipher
    if enc is None or cipher is None:
        raise PacketDropped(XfrmStat.OUT_STATE_PROTOCOL_ERRORS, "SA has no cipher")
    plaintext = payload + build_trailer(len(payload), next_header, enc.block_size)
    try:
        if enc.icv_size:
            # AEAD: RFC 4106 §5 / RFC 7634 §2.1: AAD is SPI || seq (32) or SPI || seq-hi || seq-lo.
            if p.esn:
                aad = _U32X3.pack(p.spi, seq >> 32, seq & 0xFFFFFFFF)
                header = aad[:4] + aad[8:]
            else:
                aad = header = ESP_HEADER.pack(p.spi, seq)
            return header + iv + cipher.encrypt(iv, plaintext, aad)
        body = ESP_HEADER.pack(p.spi, seq & 0xFFFFFFFF) + iv + cipher.encrypt(iv, plaintext)
    except CryptoError:
        raise PacketDropped(XfrmStat.OUT_STATE_PROTOCOL_ERRORS, "encryption failed") from None
    mac = sa.mac
    if mac is None:
        return body
    # RFC 4303 §2.2.1, §3.3.4: with ESN the high-order 32 bits are appended after the payload
    # for the ICV computation only.
    icv = mac.compute(body + _U32.pack(seq >> 32)) if p.esn else mac.compute(body)
    return body + icv


def esp_icv_size(sa: SecurityAssociation) -> int:
    enc = sa.params.encryption
    if enc is not None and enc.icv_size:
        return enc.icv_size
    return sa.mac.icv_size if sa.mac is not None else 0


def esp_unprotect(sa: SecurityAssociation, data: bytes, seq: int) -> tuple[bytes, int]:
    """Verify and decrypt the ESP packet ``data``; return (payload, next header).

    ``seq`` is the full sequence number inferred by the replay window. Raises ``PacketDropped``
    (in-state-protocol-errors) on a short packet, bad ICV or AEAD tag, bad length or padding.
    """
    p = sa.params
    enc = p.encryption
    cipher = sa.cipher
    if enc is None or cipher is None:
        raise PacketDropped(_PROTO_ERR, "SA has no cipher")
    iv_end = ESP_HEADER_LEN + enc.iv_size
    icv_size = esp_icv_size(sa)
    n = len(data)
    if n < iv_end + icv_size + 2:
        raise PacketDropped(_PROTO_ERR, "ESP packet too short")
    iv = data[ESP_HEADER_LEN:iv_end]
    try:
        if enc.icv_size:
            if p.esn:
                aad = _U32X3.pack(p.spi, seq >> 32, seq & 0xFFFFFFFF)
            else:
                aad = data[:ESP_HEADER_LEN]
            plaintext = cipher.decrypt(iv, data[iv_end:], aad)
        else:
            mac = sa.mac
            if mac is not None:
                end = n - icv_size
                authed = data[:end] + _U32.pack(seq >> 32) if p.esn else data[:end]
                if not mac.verify(authed, data[end:]):
                    raise PacketDropped(_PROTO_ERR, "ICV mismatch")
            else:
                end = n
            ct = data[iv_end:end]
            if len(ct) % max(enc.block_size, 4):
                raise PacketDropped(_PROTO_ERR, "ciphertext not a multiple of the block size")
            plaintext = cipher.decrypt(iv, ct)
    except CryptoError:
        raise PacketDropped(_PROTO_ERR, "authentication failed") from None
    try:
        end, nh, pad_ok = split_trailer(plaintext)
    except MalformedEsp:
        raise PacketDropped(_PROTO_ERR, "pad length exceeds payload") from None
    if not pad_ok:
        raise PacketDropped(_PROTO_ERR, "bad padding")
    return plaintext[:end], nh


# -- AH -------------------------------------------------------------------------------------


def _zeroed(header: bytes, version: int) -> bytes:
    z = bytearray(header)
    if version == 4:
        zero_ipv4_mutable(z)
    else:
        zero_ipv6_mutable(z, len(z))
    return bytes(z)


def ah_protect(
    sa: SecurityAssociation, header: bytes, version: int, nh_offset: int, payload: bytes, seq: int
) -> bytes:
    """Insert AH between ``header`` and ``payload`` (RFC 4302 §3.1, §3.3).

    ``header`` is the IP header (IPv6: with the extension headers that precede AH) whose byte at
    ``nh_offset`` names the protocol of ``payload``. Returns the whole packet with lengths,
    protocol fields, IPv4 checksum and the ICV filled in.
    """
    p = sa.params
    mac = sa.mac
    if mac is None:
        raise PacketDropped(XfrmStat.OUT_STATE_PROTOCOL_ERRORS, "AH SA has no MAC")
    icv_size = mac.icv_size
    length = ah_length(icv_size, version)
    fixed = AH_FIXED.pack(header[nh_offset], length // 4 - 2, 0, p.spi, seq & 0xFFFFFFFF)
    pad = bytes(length - AH_FIXED_LEN - icv_size)
    hdr = rewrite_header(
        header, version, nh_offset, IpProtocol.AH, len(header) + length + len(payload)
    )
    try:
        zeroed = _zeroed(hdr, version)
    except MalformedAh:
        raise PacketDropped(XfrmStat.OUT_STATE_PROTOCOL_ERRORS, "unsupported header") from None
    icv_input = [zeroed, fixed, bytes(icv_size), pad, payload]
    if p.esn:
        # RFC 4302 §2.5.1, §3.3.3.1: the high-order 32 bits follow the packet in the ICV input.
        icv_input.append(_U32.pack(seq >> 32))
    icv = mac.compute(b"".join(icv_input))
    return b"".join((hdr, fixed, icv, pad, payload))


def ah_unprotect(
    sa: SecurityAssociation,
    packet: bytes,
    version: int,
    ah_offset: int,
    proto_offset: int,
    seq: int,
) -> tuple[bytes, int]:
    """Verify the AH at ``ah_offset`` and return (packet without AH, AH next header).

    ``packet`` must end at the IP total length. Raises ``PacketDropped`` on an AH length that
    does not fit the SA's ICV, on unsupported mutable headers, or on a bad ICV.
    """
    mac = sa.mac
    if mac is None:
        raise PacketDropped(_PROTO_ERR, "AH SA has no MAC")
    icv_size = mac.icv_size
    length = ah_length(icv_size, version)
    if len(packet) < ah_offset + length:
        raise PacketDropped(_PROTO_ERR, "AH packet too short")
    plen = packet[ah_offset + 1]
    if (plen + 2) * 4 != length:
        raise PacketDropped(_PROTO_ERR, "AH length does not match the SA's ICV")
    try:
        zeroed = _zeroed(packet[:ah_offset], version)
    except MalformedAh:
        raise PacketDropped(_PROTO_ERR, "unsupported mutable header") from None
    icv_at = ah_offset + AH_FIXED_LEN
    icv = packet[icv_at : icv_at + icv_size]
    parts = [
        zeroed,
        packet[ah_offset:icv_at],
        bytes(icv_size),
        packet[icv_at + icv_size :],
    ]
    if sa.params.esn:
        parts.append(_U32.pack(seq >> 32))
    if not mac.verify(b"".join(parts), icv):
        raise PacketDropped(_PROTO_ERR, "ICV mismatch")
    nh = packet[ah_offset]
    rest = packet[ah_offset + length :]
    hdr = rewrite_header(packet[:ah_offset], version, proto_offset, nh, ah_offset + len(rest))
    return hdr + rest, nh
