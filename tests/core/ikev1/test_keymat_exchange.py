"""IKEv1 key material end to end, and encrypted messages (core/ikev1/crypto_message.py).

An initiator and a responder, each working only from the bytes it received, run main mode with a
pre-shared key (RFC 2409 §5), then quick mode (§5.5): both must derive the same SKEYIDs, the
same chained IVs (App. B) and cross-matching KEYMAT, and verify each other's HASH payloads.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
from collections.abc import Callable
from dataclasses import replace

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from pyipsec.core.ikev1 import keymat as km
from pyipsec.core.ikev1.crypto_message import (
    build_encrypted_message,
    decrypt_message,
    encrypt_message,
    parse_encrypted_message,
    split_hash,
)
from pyipsec.crypto import groups, registry
from pyipsec.crypto.base import EncryptionAlgorithm
from pyipsec.wire.ikev1 import (
    KEY_IKE,
    VID_DPD,
    VID_NATT_RFC3947,
    Attribute,
    ExchangeType,
    HashPayload,
    Header,
    IdentificationType,
    IdPayload,
    IkeAttributeType,
    IpsecAttributeType,
    IsakmpFlag,
    KePayload,
    MalformedMessage,
    NatDPayload,
    NoncePayload,
    NotifyMessageType,
    NotifyPayload,
    PayloadType,
    Proposal,
    ProtocolId,
    SaPayload,
    Transform,
    VendorIdPayload,
    build_message,
    dpd_notify,
    dpd_sequence,
    parse_message,
    push_header,
    push_payload_body,
)


def seeded_rng(seed: bytes) -> Callable[[int], bytes]:
    counter = itertools.count()

    def rng(n: int) -> bytes:
        return hashlib.shake_256(seed + next(counter).to_bytes(4, "big")).digest(n)

    return rng


PSK = b"test pre-shared key"
IP_I, IP_R = bytes([192, 0, 2, 1]), bytes([198, 51, 100, 2])


def phase1_sa() -> SaPayload:
    attrs = (
        Attribute(type=IkeAttributeType.ENCRYPTION_ALGORITHM, value=7),  # AES-CBC
        Attribute(type=IkeAttributeType.KEY_LENGTH, value=128),
        Attribute(type=IkeAttributeType.HASH_ALGORITHM, value=2),  # SHA
        Attribute(type=IkeAttributeType.AUTHENTICATION_METHOD, value=1),  # PSK
        Attribute(type=IkeAttributeType.GROUP_DESCRIPTION, value=14),  # modp2048
        Attribute(type=IkeAttributeType.LIFE_TYPE, value=1),
        Attribute(type=IkeAttributeType.LIFE_DURATION, value=86400),  # TLV: > 16 bits
    )
    t = Transform(number=1, transform_id=KEY_IKE, attributes=attrs)
    return SaPayload(
        proposals=(Proposal(number=1, protocol_id=ProtocolId.ISAKMP, transforms=(t,)),)
    )


def esp_sa(spi: bytes) -> SaPayload:
    attrs = (
        Attribute(type=IpsecAttributeType.SA_LIFE_TYPE, value=1),
        Attribute(type=IpsecAttributeType.SA_LIFE_DURATION, value=3600),
        Attribute(type=IpsecAttributeType.ENCAPSULATION_MODE, value=1),
        Attribute(type=IpsecAttributeType.AUTHENTICATION_ALGORITHM, value=5),  # HMAC-SHA2-256
        Attribute(type=IpsecAttributeType.KEY_LENGTH, value=256),
    )
    t = Transform(number=1, transform_id=12, attributes=attrs)  # ESP_AES-CBC
    return SaPayload(
        proposals=(Proposal(number=1, protocol_id=ProtocolId.IPSEC_ESP, spi=spi, transforms=(t,)),)
    )


def test_main_mode_psk_then_quick_mode() -> None:
    rng_i, rng_r = seeded_rng(b"initiator"), seeded_rng(b"responder")
    prf = km.ikev1_prf(2)
    enc = registry.encryption_by_ikev1_ike_id(7, 128)
    bs = enc.block_size
    group = groups.group_by_id(14)
    cky_i = rng_i(8)

    # MM1 / MM2: SA offer and choice (cleartext).
    mm1 = build_message(
        initiator_cookie=cky_i,
        exchange_type=ExchangeType.IDENTITY_PROTECTION,
        payloads=[
            phase1_sa(),
            VendorIdPayload(data=VID_DPD),
            VendorIdPayload(data=VID_NATT_RFC3947),
        ],
    )
    r_mm1 = parse_message(mm1)
    sai_b_r = r_mm1.body_of(SaPayload)
    assert sai_b_r is not None
    cky_r = rng_r(8)
    mm2 = build_message(
        initiator_cookie=cky_i, responder_cookie=cky_r, exchange_type=2, payloads=[phase1_sa()]
    )
    i_mm2 = parse_message(mm2)
    assert i_mm2.header.responder_cookie == cky_r
    sai_b_i = push_payload_body(phase1_sa())  # the initiator's own SA body as it sent it

    # MM3 / MM4: KE, nonce, NAT-D (RFC 3947 §3.2: the peer's address first, then ours).
    ke_i, ni = group.new(rng_i), rng_i(20)
    mm3 = build_message(
        initiator_cookie=cky_i,
        responder_cookie=cky_r,
        exchange_type=2,
        payloads=[
            KePayload(data=ke_i.public_value),
            NoncePayload(data=ni),
            NatDPayload(data=km.natd_hash(prf, cky_i, cky_r, IP_R, 500)),
            NatDPayload(data=km.natd_hash(prf, cky_i, cky_r, IP_I, 500)),
        ],
    )
    r_mm3 = parse_message(mm3)
    r_gxi = r_mm3.get(KePayload).data  # type: ignore[union-attr]
    r_ni = r_mm3.get(NoncePayload).data  # type: ignore[union-attr]
    natd = r_mm3.all(NatDPayload)
    # The responder finds its own address in the first NAT-D: no NAT in front of it.
    assert hmac.compare_digest(natd[0].data, km.natd_hash(prf, cky_i, cky_r, IP_R, 500))
    ke_r, nr = group.new(rng_r), rng_r(20)
    mm4 = build_message(
        initiator_cookie=cky_i,
        responder_cookie=cky_r,
        exchange_type=2,
        payloads=[KePayload(data=ke_r.public_value), NoncePayload(data=nr)],
    )
    i_mm4 = parse_message(mm4)
    i_gxr = i_mm4.get(KePayload).data  # type: ignore[union-attr]
    i_nr = i_mm4.get(NoncePayload).data  # type: ignore[union-attr]

    # Both sides derive phase-1 keys from their own views.
    def phase1(g_xy: bytes, n_i: bytes, n_r: bytes) -> km.Phase1Keys:
        skeyid = km.skeyid_psk(prf, PSK, n_i, n_r)
        return km.derive_phase1(prf, skeyid, g_xy, cky_i, cky_r, enc.key_size)

    keys_i = phase1(ke_i.shared_secret(i_gxr), ni, i_nr)
    keys_r = phase1(ke_r.shared_secret(r_gxi), r_ni, nr)
    assert keys_i == keys_r
    iv_i = km.phase1_iv(prf, ke_i.public_value, i_gxr, bs)
    iv_r = km.phase1_iv(prf, r_gxi, ke_r.public_value, bs)
    assert iv_i == iv_r
    cipher_i, cipher_r = enc.keyed(keys_i.enc_key), enc.keyed(keys_r.enc_key)

    # MM5: IDii and HASH_I, encrypted.
    idii = IdPayload(id_type=IdentificationType.ID_IPV4_ADDR, protocol_id=17, port=500, data=IP_I)
    hi = km.hash_i(
        prf,
        keys_i.skeyid,
        g_xi=ke_i.public_value,
        g_xr=i_gxr,
        cky_i=cky_i,
        cky_r=cky_r,
        sai_b=sai_b_i,
        idii_b=push_payload_body(idii),
    )
    mm5, iv_i = build_encrypted_message(
        cipher_i,
        bs,
        iv_i,
        initiator_cookie=cky_i,
        responder_cookie=cky_r,
        exchange_type=2,
        payloads=[idii, HashPayload(data=hi)],
    )
    assert parse_message(mm5).header.flags == IsakmpFlag.ENCRYPTION
    r_mm5, _, iv_r = parse_encrypted_message(cipher_r, bs, iv_r, mm5)
    expect_hi = km.hash_i(
        prf,
        keys_r.skeyid,
        g_xi=r_gxi,
        g_xr=ke_r.public_value,
        cky_i=cky_i,
        cky_r=cky_r,
        sai_b=sai_b_r,
        idii_b=r_mm5.body_of(IdPayload) or b"",
    )
    assert hmac.compare_digest(r_mm5.get(HashPayload).data, expect_hi)  # type: ignore[union-attr]

    # MM6: IDir and HASH_R.
    idir = IdPayload(id_type=IdentificationType.ID_IPV4_ADDR, protocol_id=17, port=500, data=IP_R)
    hr = km.hash_r(
        prf,
        keys_r.skeyid,
        g_xi=r_gxi,
        g_xr=ke_r.public_value,
        cky_i=cky_i,
        cky_r=cky_r,
        sai_b=sai_b_r,
        idir_b=push_payload_body(idir),
    )
    mm6, iv_r = build_encrypted_message(
        cipher_r,
        bs,
        iv_r,
        initiator_cookie=cky_i,
        responder_cookie=cky_r,
        exchange_type=2,
        payloads=[idir, HashPayload(data=hr)],
    )
    i_mm6, _, iv_i = parse_encrypted_message(cipher_i, bs, iv_i, mm6)
    expect_hr = km.hash_r(
        prf,
        keys_i.skeyid,
        g_xi=ke_i.public_value,
        g_xr=i_gxr,
        cky_i=cky_i,
        cky_r=cky_r,
        sai_b=sai_b_i,
        idir_b=i_mm6.body_of(IdPayload) or b"",
    )
    assert hmac.compare_digest(i_mm6.get(HashPayload).data, expect_hr)  # type: ignore[union-attr]
    # App. B: the chained IV is the last ciphertext block of the last message.
    assert iv_i == iv_r == mm6[-bs:]

    # Quick mode (RFC 2409 §5.5), M-ID chosen by the initiator; fresh IV from the phase-1 IV.
    mid = int.from_bytes(rng_i(4), "big")
    last_p1 = iv_i
    qiv_i = km.phase2_iv(prf, last_p1, mid, bs)
    qiv_r = km.phase2_iv(prf, last_p1, mid, bs)
    spi_i, spi_r = rng_i(4), rng_r(4)
    ni2, nr2 = rng_i(16), rng_r(16)
    a = keys_i.skeyid_a
    ids = [
        IdPayload(
            id_type=IdentificationType.ID_IPV4_ADDR_SUBNET,
            data=bytes([10, 1, 0, 0, 255, 255, 0, 0]),
        ),
        IdPayload(
            id_type=IdentificationType.ID_IPV4_ADDR_SUBNET,
            data=bytes([10, 2, 0, 0, 255, 255, 0, 0]),
        ),
    ]
    qm1, qiv_i = build_encrypted_message(
        cipher_i,
        bs,
        qiv_i,
        initiator_cookie=cky_i,
        responder_cookie=cky_r,
        exchange_type=ExchangeType.QUICK_MODE,
        message_id=mid,
        payloads=[esp_sa(spi_i), NoncePayload(data=ni2), *ids],
        hash_rest=lambda rest: km.quick_mode_hash1(prf, a, mid, rest),
    )
    r_qm1, plain, qiv_r = parse_encrypted_message(cipher_r, bs, qiv_r, qm1)
    got, rest = split_hash(r_qm1.header.next_payload, plain)
    assert hmac.compare_digest(got, km.quick_mode_hash1(prf, keys_r.skeyid_a, mid, rest))
    r_ni2 = r_qm1.get(NoncePayload).data  # type: ignore[union-attr]
    assert r_qm1.all(IdPayload) == ids

    qm2, qiv_r = build_encrypted_message(
        cipher_r,
        bs,
        qiv_r,
        initiator_cookie=cky_i,
        responder_cookie=cky_r,
        exchange_type=32,
        message_id=mid,
        payloads=[esp_sa(spi_r), NoncePayload(data=nr2), *ids],
        hash_rest=lambda rest: km.quick_mode_hash2(prf, keys_r.skeyid_a, mid, r_ni2, rest),
    )
    i_qm2, plain, qiv_i = parse_encrypted_message(cipher_i, bs, qiv_i, qm2)
    got, rest = split_hash(i_qm2.header.next_payload, plain)
    assert hmac.compare_digest(got, km.quick_mode_hash2(prf, a, mid, ni2, rest))
    i_nr2 = i_qm2.get(NoncePayload).data  # type: ignore[union-attr]
    i_spi_r = i_qm2.get(SaPayload).proposals[0].spi  # type: ignore[union-attr]

    qm3, qiv_i = build_encrypted_message(
        cipher_i,
        bs,
        qiv_i,
        initiator_cookie=cky_i,
        responder_cookie=cky_r,
        exchange_type=32,
        message_id=mid,
        payloads=[],
        hash_rest=lambda _rest: km.quick_mode_hash3(prf, a, mid, ni2, i_nr2),
    )
    r_qm3, plain, qiv_r = parse_encrypted_message(cipher_r, bs, qiv_r, qm3)
    got, rest = split_hash(r_qm3.header.next_payload, plain)
    assert rest == b""
    assert hmac.compare_digest(got, km.quick_mode_hash3(prf, keys_r.skeyid_a, mid, r_ni2, nr2))
    assert qiv_i == qiv_r

    # KEYMAT: the SA into the initiator is keyed with the initiator's SPI on both sides.
    esp = registry.encryption("aes-256-cbc")
    integ = registry.integrity("sha256")
    size = km.keymat_size(esp, integ)

    def keymat(d: bytes, spi: bytes, n_i: bytes, n_r: bytes) -> bytes:
        return km.ipsec_keymat(
            prf, d, protocol=ProtocolId.IPSEC_ESP, spi=spi, ni_b=n_i, nr_b=n_r, size=size
        )

    into_i_at_i = keymat(keys_i.skeyid_d, spi_i, ni2, i_nr2)
    into_i_at_r = keymat(keys_r.skeyid_d, spi_i, r_ni2, nr2)
    into_r_at_i = keymat(keys_i.skeyid_d, i_spi_r, ni2, i_nr2)
    into_r_at_r = keymat(keys_r.skeyid_d, spi_r, r_ni2, nr2)
    assert into_i_at_i == into_i_at_r and into_r_at_i == into_r_at_r
    assert into_i_at_i != into_r_at_i
    ek, ik = km.split_keymat(into_i_at_i, esp, integ)
    esp.keyed(ek)
    integ.keyed(ik)


# --- crypto_message in isolation -----------------------------------------------------------

KEY = bytes(range(16))
IV = bytes(range(16, 32))
HDR = Header(
    initiator_cookie=b"I" * 8,
    responder_cookie=b"R" * 8,
    next_payload=PayloadType.VID,
    exchange_type=ExchangeType.INFORMATIONAL,
    message_id=7,
)


def aes_cbc(data: bytes, iv: bytes = IV) -> bytes:
    # An independent CBC (the cryptography package directly, not the registry's BlockCbc).
    e = Cipher(algorithms.AES(KEY), modes.CBC(iv)).encryptor()
    return e.update(data) + e.finalize()


def test_encrypt_pads_with_zeros_and_counts_padding_in_length() -> None:
    body = bytes.fromhex("00000009") + b"hello"  # one VID payload, 9 bytes
    cipher = registry.encryption("aes-128-cbc").keyed(KEY)
    data, next_iv = encrypt_message(cipher, 16, IV, HDR, body)
    expected_ct = aes_cbc(body + bytes(7))
    assert data[28:] == expected_ct
    header = parse_message(data).header
    assert header.flags == IsakmpFlag.ENCRYPTION and header.length == 28 + 16 == len(data)
    assert next_iv == expected_ct[-16:]
    h2, plain, iv2 = decrypt_message(registry.encryption("aes-128-cbc").keyed(KEY), 16, IV, data)
    assert (h2, plain, iv2) == (header, body + bytes(7), next_iv)


@pytest.mark.parametrize(
    "padding",
    [
        b"",  # the body is already whole blocks
        bytes(15) + b"\x0f",  # RFC 2409 §5.3-style count byte
        bytes(16),  # a whole extra block of zeros
        b"\xff" * 16,  # garbage padding
    ],
)
def test_decrypt_tolerates_padding_variants(padding: bytes) -> None:
    body = bytes.fromhex("00000010") + b"123456789abc"  # one 16-byte VID payload
    ct = aes_cbc(body + padding)
    header = replace(HDR, flags=IsakmpFlag.ENCRYPTION, length=28 + len(ct))
    cipher = registry.encryption("aes-128-cbc").keyed(KEY)
    msg, _, next_iv = parse_encrypted_message(cipher, 16, IV, push_header(header) + ct)
    assert msg.payloads == (VendorIdPayload(data=b"123456789abc"),)
    assert next_iv == ct[-16:]


def test_decrypt_errors() -> None:
    cipher = registry.encryption("aes-128-cbc").keyed(KEY)
    clear = build_message(
        initiator_cookie=b"I" * 8, exchange_type=5, payloads=[VendorIdPayload(data=b"x")]
    )
    with pytest.raises(MalformedMessage) as e:
        decrypt_message(cipher, 16, IV, clear)
    assert e.value.notify == NotifyMessageType.INVALID_FLAGS
    enc_hdr = bytearray(clear)
    enc_hdr[19] = 1  # E flag on a 5-byte body: not whole blocks
    with pytest.raises(MalformedMessage) as e:
        decrypt_message(cipher, 16, IV, bytes(enc_hdr))
    assert e.value.notify == NotifyMessageType.PAYLOAD_MALFORMED
    with pytest.raises(MalformedMessage) as e:
        split_hash(PayloadType.VID, b"\x00\x00\x00\x05x")
    assert e.value.notify == NotifyMessageType.INVALID_HASH_INFORMATION


def test_split_hash_excludes_padding() -> None:
    plain = bytes.fromhex("0d000008aabbccdd00000005ee") + bytes(3)
    assert split_hash(PayloadType.HASH, plain) == (
        bytes.fromhex("aabbccdd"),
        bytes.fromhex("00000005ee"),
    )


def test_informational_dpd_round_trip() -> None:
    # RFC 2409 §5.7 + RFC 3706: HASH(1) = prf(SKEYID_a, M-ID | N), fresh IV from phase 1.
    prf = km.ikev1_prf(2)
    enc = registry.encryption("aes-128-cbc")
    a, last_p1, mid = b"A" * 20, bytes(range(16)), 0x0BADF00D
    cky_i, cky_r = b"I" * 8, b"R" * 8
    iv = km.phase2_iv(prf, last_p1, mid, 16)
    data, _ = build_encrypted_message(
        enc.keyed(KEY),
        16,
        iv,
        initiator_cookie=cky_i,
        responder_cookie=cky_r,
        exchange_type=ExchangeType.INFORMATIONAL,
        message_id=mid,
        payloads=[dpd_notify(cky_i=cky_i, cky_r=cky_r, sequence=42)],
        hash_rest=lambda rest: km.informational_hash(prf, a, mid, rest),
    )
    msg, plain, _ = parse_encrypted_message(enc.keyed(KEY), 16, iv, data)
    got, rest = split_hash(msg.header.next_payload, plain)
    assert hmac.compare_digest(got, km.informational_hash(prf, a, mid, rest))
    assert rest == bytes.fromhex("00000020") + push_payload_body(msg.payloads[1])
    n = msg.payloads[1]
    assert isinstance(n, NotifyPayload) and dpd_sequence(n) == 42
    assert n.notify_type == NotifyMessageType.R_U_THERE


IKE_CIPHERS = sorted(
    {a.name: a for a in registry.ENCRYPTION.values() if a.ikev1_ike_id is not None}.values(),
    key=lambda a: a.name,
)


@pytest.mark.parametrize("alg", IKE_CIPHERS, ids=lambda a: a.name)
@pytest.mark.parametrize("n_vids", [0, 1, 3])
def test_every_phase1_cipher_round_trips_with_chaining(
    alg: EncryptionAlgorithm, n_vids: int
) -> None:
    prf = km.ikev1_prf(2)
    # App. B key derivation for this cipher (3DES needs 24 bytes: expansion from SHA1's 20).
    key = km.encryption_key(prf, hashlib.sha1(b"e").digest(), alg.key_size)
    bs = alg.block_size
    iv = km.phase1_iv(prf, b"gxi", b"gxr", bs)
    sender, receiver = alg.keyed(key), alg.keyed(key)
    iv_s = iv_r = iv
    for i in range(3):  # three messages of one exchange, IVs chained
        pls = [HashPayload(data=bytes([i]) * 20)] + [VendorIdPayload(data=b"v" * (i + 3))] * n_vids
        data, iv_s = build_encrypted_message(
            sender,
            bs,
            iv_s,
            initiator_cookie=b"I" * 8,
            responder_cookie=b"R" * 8,
            exchange_type=2,
            payloads=pls,
        )
        assert (len(data) - 28) % bs == 0
        msg, _, iv_r = parse_encrypted_message(receiver, bs, iv_r, data)
        assert list(msg.payloads) == pls and iv_s == iv_r == data[-bs:]
