"""IKEv2 messages (wire/ikev2/message.py): plain and SK-protected encode/decode.

The Encrypted payload is checked against an independent implementation: the tests open what
``encode_protected`` produced with ``cryptography``'s AES-CBC/HMAC/AES-GCM/ChaCha20-Poly1305
primitives directly (RFC 7296 §3.14, RFC 5282 §5.1, RFC 7634 §3), and seal messages by hand
that ``decode_protected`` must open.
"""

from __future__ import annotations

import hashlib
import hmac
import struct

import pytest
from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, CipherAlgorithm, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305

from pyipsec.crypto import registry
from pyipsec.wire.ikev2 import (
    ExchangeType,
    IntegrityCheckFailed,
    MalformedMessage,
    Message,
    NotifyPayload,
    NotifyType,
    PayloadType,
    SkKeys,
    SkPayload,
    VendorPayload,
    decode,
    decode_protected,
    encode,
    encode_protected,
    peek,
)
from pyipsec.wire.ikev2.payloads import push_payloads

from .samples import (
    SPI_I,
    SPI_R,
    SUITES,
    counter_rng,
    ike_auth_request,
    keys,
    sa_init_request,
    truncated_gcm_keys,
)


def test_plain_round_trip() -> None:
    msg = sa_init_request()
    data = encode(msg)
    assert decode(data) == msg
    h = peek(data)
    assert h.next_payload == PayloadType.SA and h.length == len(data) and h.initiator
    assert msg.notify(NotifyType.IKEV2_FRAGMENTATION_SUPPORTED) is not None
    assert msg.notify(NotifyType.COOKIE) is None


def test_plain_round_trip_of_every_payload_kind() -> None:
    msg = ike_auth_request()
    assert decode(encode(msg)) == msg


def test_response_flag() -> None:
    msg = Message(
        spi_i=SPI_I,
        spi_r=SPI_R,
        exchange=ExchangeType.INFORMATIONAL,
        initiator=False,
        response=True,
        message_id=7,
    )
    data = encode(msg)
    assert data[19] == 0x20 and data[16] == 0 and len(data) == 28
    assert decode(data) == msg


@pytest.mark.parametrize(("enc", "integ"), SUITES)
def test_protected_round_trip(enc: str, integ: str | None) -> None:
    msg = ike_auth_request()
    k = keys(enc, integ)
    data = encode_protected(msg, k, counter_rng())
    assert peek(data).next_payload == PayloadType.SK
    assert decode_protected(data, k) == msg
    # Opened plainly, it is one opaque SK payload announcing IDi first.
    plain = decode(data)
    assert len(plain.payloads) == 1 and isinstance(plain.payloads[0], SkPayload)
    assert plain.payloads[0].first_inner == PayloadType.IDi


def _independent_open(data: bytes, enc: str, integ: str | None, k: SkKeys) -> bytes:
    """Open an SK payload with `cryptography` alone; returns the decrypted plaintext."""
    e = registry.encryption(enc)
    sk_start = 28 + 4
    if integ is None:
        iv = data[sk_start : sk_start + 8]
        salt, key = k.enc_key[-4:], k.enc_key[:-4]
        aead = ChaCha20Poly1305(key) if enc == "chacha20poly1305" else AESGCM(key)
        return aead.decrypt(salt + iv, data[sk_start + 8 :], data[:sk_start])
    i = registry.integrity(integ)
    digest = {"sha1": hashlib.sha1, "sha256": hashlib.sha256, "sha384": hashlib.sha384}
    digest_fn = digest.get(integ, hashlib.sha512)
    icv = hmac.new(k.auth_key, data[: -i.icv_size], digest_fn).digest()[: i.icv_size]
    assert icv == data[-i.icv_size :]
    iv = data[sk_start : sk_start + e.iv_size]
    algo: CipherAlgorithm = (
        algorithms.AES(k.enc_key) if enc.startswith("aes") else TripleDES(k.enc_key)
    )
    dec = Cipher(algo, modes.CBC(iv)).decryptor()
    return dec.update(data[sk_start + e.iv_size : -i.icv_size]) + dec.finalize()


@pytest.mark.parametrize(("enc", "integ"), SUITES)
def test_protected_opens_with_an_independent_implementation(enc: str, integ: str | None) -> None:
    msg = ike_auth_request()
    k = keys(enc, integ)
    data = encode_protected(msg, k, counter_rng())
    plaintext = _independent_open(data, enc, integ, k)
    pad = plaintext[-1]
    _first, inner = push_payloads(msg.payloads)
    assert plaintext[: len(plaintext) - pad - 1] == inner
    e = registry.encryption(enc)
    assert len(plaintext) % max(1, e.block_size) == 0
    if e.aead:
        assert pad == 0  # no alignment needed for AEAD in IKEv2 (RFC 5282 §3)


def _hand_sealed_cbc(inner: bytes, first: int, padding: bytes, k: SkKeys) -> bytes:
    """An AES-CBC/HMAC-SHA-256 IKE_AUTH sealed with `cryptography` and `hmac` directly."""
    iv = bytes(range(16))
    plaintext = inner + padding + bytes((len(padding),))
    enc = Cipher(algorithms.AES(k.enc_key), modes.CBC(iv)).encryptor()
    ct = enc.update(plaintext) + enc.finalize()
    sk_len = 4 + 16 + len(ct) + 16
    header = (
        SPI_I + SPI_R + bytes((PayloadType.SK, 0x20, 35, 0x08)) + struct.pack("!II", 1, 28 + sk_len)
    )
    out = header + struct.pack("!BBH", first, 0, sk_len) + iv + ct
    return out + hmac.new(k.auth_key, out, hashlib.sha256).digest()[:16]


def test_any_padding_is_accepted() -> None:
    # RFC 7296 §3.14: the padding may be any value and any length that keeps the alignment.
    k = keys("aes-128-cbc", "sha256")
    first, inner = push_payloads([VendorPayload(data=b"abc")])  # 7 bytes
    data = _hand_sealed_cbc(inner, first, bytes(range(0xA0, 0xA0 + 24)), k)  # 7 + 24 + 1 = 32
    msg = decode_protected(data, k)
    assert msg.payloads == (VendorPayload(data=b"abc"),) and msg.message_id == 1


def test_pad_length_past_the_plaintext_is_malformed() -> None:
    k = keys("aes-128-cbc", "sha256")
    first, inner = push_payloads([VendorPayload(data=b"abc")])
    data = bytearray(_hand_sealed_cbc(inner, first, bytes(8), k))
    # Re-seal with a Pad Length byte of 200 in a 16-byte plaintext.
    iv = bytes(range(16))
    enc = Cipher(algorithms.AES(k.enc_key), modes.CBC(iv)).encryptor()
    ct = enc.update(inner + bytes(8) + b"\xc8") + enc.finalize()
    data[48:64] = ct
    data[64:] = hmac.new(k.auth_key, bytes(data[:64]), hashlib.sha256).digest()[:16]
    with pytest.raises(MalformedMessage) as err:
        decode_protected(bytes(data), k)
    assert err.value.notify == NotifyType.INVALID_SYNTAX
    assert err.value.authenticated  # found after the ICV verified: answerable (RFC 7296 §2.21.2)


@pytest.mark.parametrize(("enc", "integ"), SUITES)
def test_every_flipped_bit_fails_the_icv(enc: str, integ: str | None) -> None:
    k = keys(enc, integ)
    data = encode_protected(
        Message(
            spi_i=SPI_I,
            spi_r=SPI_R,
            exchange=ExchangeType.INFORMATIONAL,
            initiator=True,
            response=False,
            message_id=3,
            payloads=(NotifyPayload(type=NotifyType.INITIAL_CONTACT),),
        ),
        k,
        counter_rng(),
    )
    # The SPIs, the flags (an unknown flag bit too), the Message ID, the SK generic header's
    # reserved bits, the IV, the ciphertext and the ICV are all covered (RFC 7296 §3.14).
    for pos in (0, 8, 19, 20, 29, 32, 40, len(data) - 1):
        bad = bytearray(data)
        bad[pos] ^= 0x01
        with pytest.raises(IntegrityCheckFailed):
            decode_protected(bytes(bad), k)


def test_wrong_keys_fail_the_icv() -> None:
    data = encode_protected(ike_auth_request(), keys("aes-256-gcm", None, 1), counter_rng())
    with pytest.raises(IntegrityCheckFailed):
        decode_protected(data, keys("aes-256-gcm", None, 2))
    data = encode_protected(ike_auth_request(), keys("aes-128-cbc", "sha1", 1), counter_rng())
    with pytest.raises(IntegrityCheckFailed):
        decode_protected(data, keys("aes-128-cbc", "sha1", 2))


def test_truncated_icv_sizes_follow_the_integrity_transform() -> None:
    # RFC 7296 §3.14 + RFC 2404 / RFC 4868: ICV 12 (SHA-1-96), 16, 24, 32 bytes.
    msg = ike_auth_request()
    _first, inner = push_payloads(msg.payloads)
    for integ, icv in (("sha1", 12), ("sha256", 16), ("sha384", 24), ("sha512", 32)):
        data = encode_protected(msg, keys("aes-128-cbc", integ), counter_rng())
        padded = len(inner) + 1 + (-(len(inner) + 1) % 16)
        assert len(data) == 28 + 4 + 16 + padded + icv


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: d[:-1],  # length mismatch
        lambda d: d[:28] + d[28:32] + d[32:40],  # far too short (header length stale)
    ],
)
def test_structural_damage_is_malformed(mutate: object) -> None:
    k = keys("aes-128-cbc", "sha256")
    data = encode_protected(ike_auth_request(), k, counter_rng())
    with pytest.raises(MalformedMessage) as err:
        decode_protected(mutate(data), k)  # type: ignore[operator]
    assert not err.value.authenticated


def _resized(data: bytes, new_sk_body: bytes) -> bytes:
    total = 28 + 4 + len(new_sk_body)
    return (
        data[:24]
        + struct.pack("!I", total)
        + data[28:30]
        + struct.pack("!H", 4 + len(new_sk_body))
        + new_sk_body
    )


@pytest.mark.parametrize(("enc", "integ"), SUITES)
def test_short_or_misaligned_encrypted_data_is_malformed(enc: str, integ: str | None) -> None:
    k = keys(enc, integ)
    data = encode_protected(ike_auth_request(), k, counter_rng())
    e = registry.encryption(enc)
    fixed = e.iv_size + k.icv_size
    for body_len in (0, fixed - 1, fixed):
        with pytest.raises(MalformedMessage):
            decode_protected(_resized(data, bytes(body_len)), k)
    if e.block_size > 1:
        with pytest.raises(MalformedMessage):
            decode_protected(_resized(data, bytes(fixed + e.block_size + 1)), k)


def test_decode_protected_needs_an_sk_payload() -> None:
    with pytest.raises(MalformedMessage):
        decode_protected(encode(sa_init_request()), keys("aes-128-gcm", None))


def test_nested_encrypted_payload_is_malformed() -> None:
    k = keys("aes-128-gcm", None)
    inner = Message(
        spi_i=SPI_I,
        spi_r=SPI_R,
        exchange=35,
        initiator=True,
        response=False,
        message_id=1,
        payloads=(SkPayload(first_inner=0, data=bytes(30)),),
    )
    with pytest.raises(MalformedMessage) as err:
        decode_protected(encode_protected(inner, k, counter_rng()), k)
    assert err.value.authenticated


def test_authentic_but_unparsable_inner_payloads_are_marked_authenticated() -> None:
    from pyipsec.wire.ikev2 import UnsupportedCriticalPayload
    from pyipsec.wire.ikev2.message import seal

    k = keys("aes-256-cbc", "sha256")
    msg = Message(
        spi_i=SPI_I, spi_r=SPI_R, exchange=37, initiator=True, response=False, message_id=4
    )
    garbage = seal(
        k, counter_rng(), msg, sk_type=PayloadType.SK, first_inner=41, sk_fields=b"", inner=b"\x00"
    )
    with pytest.raises(MalformedMessage) as err:
        decode_protected(garbage, k)
    assert err.value.authenticated and err.value.notify == NotifyType.INVALID_SYNTAX
    critical = seal(
        k,
        counter_rng(),
        msg,
        sk_type=PayloadType.SK,
        first_inner=200,
        sk_fields=b"",
        inner=b"\x00\x80\x00\x04",
    )
    with pytest.raises(UnsupportedCriticalPayload) as crit:
        decode_protected(critical, k)
    assert crit.value.authenticated and crit.value.notify_data == bytes((200,))


def test_cleartext_payloads_before_sk_are_authenticated_and_returned() -> None:
    k = keys("aes-128-gcm", None)
    protected = encode_protected(ike_auth_request(), k, counter_rng())
    # Splice a Vendor ID in front of the SK payload and re-seal by hand with AESGCM.
    vendor = struct.pack("!BBH", PayloadType.SK, 0, 6) + b"vv"
    sk = protected[28:]
    total = 28 + len(vendor) + len(sk)
    header = protected[:16] + bytes((PayloadType.V,)) + protected[17:24] + struct.pack("!I", total)
    prefix = header + vendor + sk[:4]
    iv = sk[4:12]
    plaintext = AESGCM(k.enc_key[:-4]).decrypt(k.enc_key[-4:] + iv, sk[12:], protected[:32])
    resealed = prefix + iv + AESGCM(k.enc_key[:-4]).encrypt(k.enc_key[-4:] + iv, plaintext, prefix)
    msg = decode_protected(resealed, k)
    assert msg.payloads[0] == VendorPayload(data=b"vv")
    assert msg.payloads[1:] == ike_auth_request().payloads


def test_sk_keys_pairing_rules_and_secret_free_repr() -> None:
    gcm = registry.encryption("aes-128-gcm")
    cbc = registry.encryption("aes-128-cbc")
    with pytest.raises(ValueError):
        SkKeys(gcm, registry.integrity("sha1"), bytes(20), bytes(20))
    with pytest.raises(ValueError):
        SkKeys(cbc, None, bytes(16))
    k = SkKeys(gcm, registry.integrity("null"), b"\xaa" * 20)  # NONE integrity = AEAD only
    assert k.icv_size == 16
    assert "\\xaa" not in repr(k) and "enc_key" not in repr(k)


@pytest.mark.parametrize(("bits", "icv"), [(128, 8), (192, 12), (256, 8), (256, 12)])
def test_aes_gcm_with_8_and_12_byte_icvs(bits: int, icv: int) -> None:
    # RFC 5282: ENCR_AES_GCM_8 / _12; the ICV is the algorithm's, the AAD the same as for _16.
    k = truncated_gcm_keys(bits, icv)
    msg = ike_auth_request()
    data = encode_protected(msg, k, counter_rng())
    _first, inner = push_payloads(msg.payloads)
    assert len(data) == 28 + 4 + 8 + len(inner) + 1 + icv
    assert decode_protected(data, k) == msg
    # The tag is GCM's own tag over header + SK generic header, truncated (checked with AESGCM).
    full = AESGCM(k.enc_key[:-4]).encrypt(k.enc_key[-4:] + data[32:40], inner + b"\x00", data[:32])
    assert data[40:] == full[:-16] + full[-16:][:icv]
    bad = bytearray(data)
    bad[-1] ^= 0x80
    with pytest.raises(IntegrityCheckFailed):
        decode_protected(bytes(bad), k)
