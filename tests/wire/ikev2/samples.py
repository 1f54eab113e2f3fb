"""Messages and keys the IKEv2 wire tests share."""

from __future__ import annotations

import dataclasses
import ipaddress
import itertools
from collections.abc import Callable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from pyipsec.crypto import registry
from pyipsec.crypto.base import AuthenticationFailed, EncryptionAlgorithm
from pyipsec.wire.ikev2 import (
    AuthMethod,
    AuthPayload,
    CertEncoding,
    CertPayload,
    CertReqPayload,
    CfgType,
    ConfigAttribute,
    ConfigAttributeType,
    CpPayload,
    DeletePayload,
    EncrId,
    ExchangeType,
    IdPayload,
    IdType,
    IntegId,
    KeMethod,
    KePayload,
    Message,
    NoncePayload,
    NotifyPayload,
    NotifyType,
    PrfId,
    Proposal,
    ProtocolId,
    SaPayload,
    SkKeys,
    TrafficSelector,
    Transform,
    TransformType,
    TsPayload,
    TsType,
    VendorPayload,
)

SPI_I = bytes.fromhex("0123456789abcdef")
SPI_R = bytes.fromhex("fedcba9876543210")


def counter_rng() -> Callable[[int], bytes]:
    """A deterministic random source: 0x00, 0x01, ... repeating."""
    counter = itertools.count()

    def rng(n: int) -> bytes:
        return bytes(next(counter) & 0xFF for _ in range(n))

    return rng


IKE_PROPOSAL = Proposal(
    number=1,
    protocol=ProtocolId.IKE,
    transforms=(
        Transform(type=TransformType.ENCR, id=EncrId.ENCR_AES_CBC, key_length=256),
        Transform(type=TransformType.ENCR, id=EncrId.ENCR_AES_CBC, key_length=128),
        Transform(type=TransformType.PRF, id=PrfId.PRF_HMAC_SHA2_256),
        Transform(type=TransformType.INTEG, id=IntegId.AUTH_HMAC_SHA2_256_128),
        Transform(type=TransformType.KE, id=KeMethod.MODP_2048),
    ),
)
GCM_PROPOSAL = Proposal(
    number=2,
    protocol=ProtocolId.IKE,
    transforms=(
        Transform(type=TransformType.ENCR, id=EncrId.ENCR_AES_GCM_16, key_length=128),
        Transform(type=TransformType.PRF, id=PrfId.PRF_HMAC_SHA2_256),
        Transform(type=TransformType.KE, id=KeMethod.CURVE25519),
    ),
)

NAT_SRC = bytes(range(20))
NAT_DST = bytes(range(20, 40))


def sa_init_request() -> Message:
    """An IKE_SA_INIT request: SA, KE, Ni, NAT-D, fragmentation and hash algorithm notifies."""
    return Message(
        spi_i=SPI_I,
        spi_r=bytes(8),
        exchange=ExchangeType.IKE_SA_INIT,
        initiator=True,
        response=False,
        message_id=0,
        payloads=(
            SaPayload(proposals=(IKE_PROPOSAL, GCM_PROPOSAL)),
            KePayload(group=KeMethod.MODP_2048, data=bytes(range(256))),
            NoncePayload(data=bytes(range(100, 132))),
            NotifyPayload(type=NotifyType.NAT_DETECTION_SOURCE_IP, data=NAT_SRC),
            NotifyPayload(type=NotifyType.NAT_DETECTION_DESTINATION_IP, data=NAT_DST),
            NotifyPayload(type=NotifyType.IKEV2_FRAGMENTATION_SUPPORTED),
            NotifyPayload(
                type=NotifyType.SIGNATURE_HASH_ALGORITHMS, data=bytes.fromhex("00020003")
            ),
        ),
    )


def ike_auth_request() -> Message:
    """An IKE_AUTH request with every payload kind an IKE_AUTH can carry."""
    return Message(
        spi_i=SPI_I,
        spi_r=SPI_R,
        exchange=ExchangeType.IKE_AUTH,
        initiator=True,
        response=False,
        message_id=1,
        payloads=(
            IdPayload(id_type=IdType.ID_FQDN, data=b"left.example"),
            CertPayload(encoding=CertEncoding.X509_CERTIFICATE_SIGNATURE, data=b"\x30\x82cert"),
            CertReqPayload(encoding=CertEncoding.X509_CERTIFICATE_SIGNATURE, data=bytes(20)),
            NotifyPayload(type=NotifyType.INITIAL_CONTACT),
            IdPayload(id_type=IdType.ID_IPV4_ADDR, data=bytes([198, 51, 100, 2]), initiator=False),
            AuthPayload(method=AuthMethod.SHARED_KEY_MESSAGE_INTEGRITY_CODE, data=bytes(32)),
            CpPayload(
                cfg_type=CfgType.CFG_REQUEST,
                attributes=(ConfigAttribute(type=ConfigAttributeType.INTERNAL_IP4_ADDRESS),),
            ),
            NotifyPayload(type=NotifyType.USE_TRANSPORT_MODE),
            SaPayload(
                proposals=(
                    Proposal(
                        number=1,
                        protocol=ProtocolId.ESP,
                        spi=bytes.fromhex("c0ffee01"),
                        transforms=(
                            Transform(
                                type=TransformType.ENCR, id=EncrId.ENCR_AES_GCM_16, key_length=256
                            ),
                            Transform(type=TransformType.ESN, id=0),
                        ),
                    ),
                )
            ),
            TsPayload(
                initiator=True,
                selectors=(
                    TrafficSelector(
                        ts_type=TsType.TS_IPV4_ADDR_RANGE,
                        start=ipaddress.ip_address("198.51.100.0"),
                        end=ipaddress.ip_address("198.51.100.255"),
                    ),
                ),
            ),
            TsPayload(
                initiator=False,
                selectors=(
                    TrafficSelector(
                        ts_type=TsType.TS_IPV6_ADDR_RANGE,
                        protocol=6,
                        start_port=443,
                        end_port=443,
                        start=ipaddress.ip_address("2001:db8::"),
                        end=ipaddress.ip_address("2001:db8::ffff"),
                    ),
                ),
            ),
            DeletePayload(protocol=ProtocolId.ESP, spis=(b"\x00\x00\x10\x01", b"\x00\x00\x10\x02")),
            VendorPayload(data=b"pyipsec"),
        ),
    )


def keys(enc: str, integ: str | None, seed: int = 1) -> SkKeys:
    """SK keys with key material seed, seed+1, ... (deterministic)."""
    e = registry.encryption(enc)
    i = registry.integrity(integ) if integ else None
    ek = bytes((seed + n) & 0xFF for n in range(e.keymat_size))
    ak = bytes((seed * 7 + n) & 0xFF for n in range(i.key_size)) if i else b""
    return SkKeys(e, i, ek, ak)


# The suites the Encrypted payload tests run with (RouterOS names).
SUITES: list[tuple[str, str | None]] = [
    ("aes-128-cbc", "sha1"),
    ("aes-256-cbc", "sha256"),
    ("aes-192-cbc", "sha384"),
    ("3des", "sha512"),
    ("aes-128-gcm", None),
    ("aes-256-gcm", None),
    ("chacha20poly1305", None),
]


class _TruncatedGcm:
    """AES-GCM with an 8- or 12-byte ICV (RFC 5282 ENCR_AES_GCM_8/12), test-only.

    The crypto registry offers only the 16-byte ICV (RouterOS has no other); these tests use
    this to show the SK codec follows the algorithm's ICV size. The tag is GCM's, truncated
    (NIST SP 800-38D §5.2.1.2), checked by `cryptography`'s GCM mode with min_tag_length.
    """

    def __init__(self, key: bytes, icv_size: int) -> None:
        self._key, self._salt, self._icv = key[:-4], key[-4:], icv_size

    def encrypt(self, iv: bytes, data: bytes, aad: bytes = b"") -> bytes:
        full = AESGCM(self._key).encrypt(self._salt + iv, data, aad)
        return full[:-16] + full[-16:][: self._icv]

    def decrypt(self, iv: bytes, data: bytes, aad: bytes = b"") -> bytes:
        ct, tag = data[: -self._icv], data[-self._icv :]
        dec = Cipher(
            algorithms.AES(self._key), modes.GCM(self._salt + iv, tag, min_tag_length=self._icv)
        ).decryptor()
        dec.authenticate_additional_data(aad)
        try:
            return dec.update(ct) + dec.finalize()
        except InvalidTag:
            raise AuthenticationFailed("truncated GCM tag mismatch") from None


def truncated_gcm(bits: int, icv: int) -> EncryptionAlgorithm:
    """ENCR_AES_GCM_8 (18) or ENCR_AES_GCM_12 (19) with a ``bits`` key (test-only, see above)."""
    base = registry.encryption(f"aes-{bits}-gcm")
    return dataclasses.replace(
        base,
        name=f"aes-{bits}-gcm-{icv}",
        ikev2_id={8: 18, 12: 19}[icv],
        icv_size=icv,
        factory=_TruncatedGcm,
    )


def truncated_gcm_keys(bits: int, icv: int, seed: int = 3) -> SkKeys:
    alg = truncated_gcm(bits, icv)
    return SkKeys(alg, None, bytes((seed + n) & 0xFF for n in range(alg.keymat_size)))
