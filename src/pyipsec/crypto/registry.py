"""The transform registry: every cipher, integrity transform and PRF by RouterOS name and IANA id.

Lookups by name use the RouterOS proposal names (``/ip ipsec proposal`` enc-algorithms and
auth-algorithms, ``/ip ipsec profile`` hash-algorithm). Lookups by id use the IANA registries:

- IKEv2 Transform Type 1 (encryption), 2 (PRF), 3 (integrity) (RFC 7296 §3.3.2, IANA "Internet
  Key Exchange Version 2 (IKEv2) Parameters");
- IKEv1 "IPSEC ESP Transform Identifiers" and "IPSEC AH Transform Identifiers" (RFC 2407 §4.4),
  phase-2 "Authentication Algorithm" attribute (RFC 2407 §4.5);
- IKEv1 phase-1 attributes "Encryption Algorithm" and "Hash Algorithm" (RFC 2409 App. A).

Variable-key-length ciphers (AES, Camellia, Blowfish, Twofish) are one entry per key size and
are found by (id, key bits); ``key_bits=None`` finds the default size where the RFC defines one
(Blowfish: 128 bits, RFC 2451 §2.2; Twofish, which no RFC covers: 128 bits likewise), and
nothing for AES/Camellia, whose Key Length attribute is mandatory (RFC 3602 §5.3, RFC 4312,
RFC 7296 §3.3.5).

Private-use ids: Twofish has no IANA number. IKEv1 ESP uses 253 (racoon/ipsec-tools
``IPSECDOI_ESP_TWOFISH``); IKEv1 phase 1 uses 65005 (the FreeS/WAN private value
``IKEV1_ENCR_TWOFISH_CBC``, kept by strongSwan); IKEv2 uses 1027 (strongSwan's private-use
``ENCR_TWOFISH_CBC``). They only interoperate with peers that assign the same private values.
"""

from __future__ import annotations

import importlib

from pyipsec.crypto import ciphers, twofish
from pyipsec.crypto import integrity as _integrity
from pyipsec.crypto import prf as _prf
from pyipsec.crypto.base import (
    EncryptionAlgorithm,
    IntegrityAlgorithm,
    IvKind,
    PrfAlgorithm,
    UnknownAlgorithm,
)

__all__ = [
    "ENCRYPTION",
    "INTEGRITY",
    "PRFS",
    "describe",
    "encryption",
    "encryption_by_esp_id",
    "encryption_by_ikev1_ike_id",
    "encryption_by_ikev2_id",
    "integrity",
    "integrity_by_ah_id",
    "integrity_by_ikev1_auth_id",
    "integrity_by_ikev2_id",
    "prf",
    "prf_by_ikev1_hash_id",
    "prf_by_ikev2_id",
]

# Private-use ids for Twofish (see module docstring).
TWOFISH_IKEV1_ESP_ID = 253
TWOFISH_IKEV1_IKE_ID = 65005
TWOFISH_IKEV2_ID = 1027


def _cbc(
    name: str,
    *,
    ikev2: int | None,
    esp: int | None,
    ike: int | None,
    key: int,
    block: int,
    factory: ciphers.Factory,
    variable: bool,
) -> EncryptionAlgorithm:
    return EncryptionAlgorithm(
        name=name,
        ikev2_id=ikev2,
        ikev1_esp_id=esp,
        ikev1_ike_id=ike,
        key_size=key,
        key_length_attr=key * 8 if variable else None,
        salt_size=0,
        block_size=block,
        iv_size=block,
        icv_size=0,
        iv_kind=IvKind.RANDOM,
        factory=factory,
    )


def _salted(
    name: str,
    *,
    ikev2: int | None,
    esp: int | None,
    key: int,
    icv: int,
    variable: bool,
    factory: ciphers.Factory,
) -> EncryptionAlgorithm:
    return EncryptionAlgorithm(
        name=name,
        ikev2_id=ikev2,
        ikev1_esp_id=esp,
        ikev1_ike_id=None,
        key_size=key,
        key_length_attr=key * 8 if variable else None,
        salt_size=4,
        block_size=1,  # no block alignment: ESP pads to 4 bytes only (RFC 4303 §2.4)
        iv_size=8,
        icv_size=icv,
        iv_kind=IvKind.COUNTER,
        factory=factory,
    )


_ENCRYPTION_LIST: tuple[EncryptionAlgorithm, ...] = (
    # RFC 2405 DES-CBC; IKEv2 ENCR_DES 2, ESP_DES 2, IKEv1 DES-CBC 1.
    _cbc("des", ikev2=2, esp=2, ike=1, key=8, block=8, factory=ciphers.make_des, variable=False),
    # RFC 2451 3DES-CBC; IKEv2 ENCR_3DES 3, ESP_3DES 3, IKEv1 3DES-CBC 5.
    _cbc("3des", ikev2=3, esp=3, ike=5, key=24, block=8, factory=ciphers.make_3des, variable=False),
    # RFC 3602 AES-CBC; IKEv2 ENCR_AES_CBC 12, ESP_AES-CBC 12, IKEv1 AES-CBC 7.
    *(
        _cbc(
            f"aes-{bits}-cbc",
            ikev2=12,
            esp=12,
            ike=7,
            key=bits // 8,
            block=16,
            factory=ciphers.make_aes_cbc,
            variable=True,
        )
        for bits in (128, 192, 256)
    ),
    # RFC 3686 AES-CTR; IKEv2 ENCR_AES_CTR 13, ESP_AES-CTR 13.
    *(
        _salted(
            f"aes-{bits}-ctr",
            ikev2=13,
            esp=13,
            key=bits // 8,
            icv=0,
            variable=True,
            factory=ciphers.make_aes_ctr,
        )
        for bits in (128, 192, 256)
    ),
    # RFC 4106 AES-GCM with a 16-byte ICV; IKEv2 ENCR_AES_GCM_16 20, ESP_AES-GCM_16 20.
    *(
        _salted(
            f"aes-{bits}-gcm",
            ikev2=20,
            esp=20,
            key=bits // 8,
            icv=16,
            variable=True,
            factory=ciphers.make_aes_gcm,
        )
        for bits in (128, 192, 256)
    ),
    # RFC 2451 Blowfish-CBC, 128-bit default key; IKEv2 ENCR_BLOWFISH 7, ESP_BLOWFISH 7,
    # IKEv1 Blowfish-CBC 3.
    _cbc(
        "blowfish",
        ikev2=7,
        esp=7,
        ike=3,
        key=16,
        block=8,
        factory=ciphers.make_blowfish,
        variable=True,
    ),
    # Twofish-CBC, 128-bit key, private-use ids (module docstring).
    _cbc(
        "twofish",
        ikev2=TWOFISH_IKEV2_ID,
        esp=TWOFISH_IKEV1_ESP_ID,
        ike=TWOFISH_IKEV1_IKE_ID,
        key=16,
        block=16,
        factory=twofish.make_twofish,
        variable=True,
    ),
    # RFC 4312 / RFC 5529 Camellia-CBC; IKEv2 ENCR_CAMELLIA_CBC 23, ESP_CAMELLIA 22,
    # IKEv1 CAMELLIA-CBC 8.
    *(
        _cbc(
            f"camellia-{bits}",
            ikev2=23,
            esp=22,
            ike=8,
            key=bits // 8,
            block=16,
            factory=ciphers.make_camellia,
            variable=True,
        )
        for bits in (128, 192, 256)
    ),
    # RFC 7634 ChaCha20-Poly1305; IKEv2 ENCR_CHACHA20_POLY1305 28; no IKEv1 id; no Key Length.
    _salted(
        "chacha20poly1305",
        ikev2=28,
        esp=None,
        key=32,
        icv=16,
        variable=False,
        factory=ciphers.make_chacha20poly1305,
    ),
    # RFC 2410 NULL; IKEv2 ENCR_NULL 11, ESP_NULL 11.
    EncryptionAlgorithm(
        name="null",
        ikev2_id=11,
        ikev1_esp_id=11,
        ikev1_ike_id=None,
        key_size=0,
        key_length_attr=None,
        salt_size=0,
        block_size=1,
        iv_size=0,
        icv_size=0,
        iv_kind=IvKind.NONE,
        factory=ciphers.make_null,
    ),
)

# RouterOS v5-era names for the AES-CBC proposals.
_ENCRYPTION_ALIASES = {
    "aes-128": "aes-128-cbc",
    "aes-192": "aes-192-cbc",
    "aes-256": "aes-256-cbc",
}

# Ciphers whose Key Length attribute may be absent, and the size it then means.
_DEFAULT_KEY_BITS = {"blowfish": 128, "twofish": 128}


def _hmac_integrity(
    name: str, digest: str, *, ikev2: int, ikev1: int, ah: int, key: int, icv: int
) -> IntegrityAlgorithm:
    return IntegrityAlgorithm(
        name=name,
        ikev2_id=ikev2,
        ikev1_auth_id=ikev1,
        ah_transform_id=ah,
        key_size=key,
        icv_size=icv,
        factory=_integrity.make_hmac_factory(digest, icv),
    )


_INTEGRITY_LIST: tuple[IntegrityAlgorithm, ...] = (
    # RFC 2403 HMAC-MD5-96: AUTH_HMAC_MD5_96 1, HMAC-MD5 1, AH_MD5 2.
    _hmac_integrity("md5", "md5", ikev2=1, ikev1=1, ah=2, key=16, icv=12),
    # RFC 2404 HMAC-SHA-1-96: AUTH_HMAC_SHA1_96 2, HMAC-SHA 2, AH_SHA 3.
    _hmac_integrity("sha1", "sha1", ikev2=2, ikev1=2, ah=3, key=20, icv=12),
    # RFC 4868 §2: AUTH_HMAC_SHA2_256_128 12 / 384_192 13 / 512_256 14; IKEv1 5/6/7; AH 5/6/7.
    _hmac_integrity("sha256", "sha256", ikev2=12, ikev1=5, ah=5, key=32, icv=16),
    _hmac_integrity("sha384", "sha384", ikev2=13, ikev1=6, ah=6, key=48, icv=24),
    _hmac_integrity("sha512", "sha512", ikev2=14, ikev1=7, ah=7, key=64, icv=32),
    # No integrity (AEAD ciphers): IKEv2 NONE 0 (RFC 7296 §3.3.2).
    IntegrityAlgorithm(
        name="null",
        ikev2_id=0,
        ikev1_auth_id=None,
        ah_transform_id=None,
        key_size=0,
        icv_size=0,
        factory=_integrity.make_null_mac,
    ),
)


def _hmac_prf(name: str, digest: str, *, ikev2: int, ikev1: int, size: int) -> PrfAlgorithm:
    return PrfAlgorithm(
        name=name,
        ikev2_id=ikev2,
        ikev1_hash_id=ikev1,
        key_size=size,  # RFC 7296 §2.13: HMAC's preferred key size is its output size
        output_size=size,
        prf=_prf.hmac_prf(digest),
        hash=_prf.hash_function(digest),
    )


_PRF_LIST: tuple[PrfAlgorithm, ...] = (
    # IKEv2 PRF_HMAC_MD5 1 / SHA1 2 / SHA2_256 5 / 384 6 / 512 7; IKEv1 hash MD5 1, SHA 2,
    # SHA2-256 4, SHA2-384 5, SHA2-512 6 (RFC 2409 App. A, RFC 4868 §4).
    _hmac_prf("md5", "md5", ikev2=1, ikev1=1, size=16),
    _hmac_prf("sha1", "sha1", ikev2=2, ikev1=2, size=20),
    _hmac_prf("sha256", "sha256", ikev2=5, ikev1=4, size=32),
    _hmac_prf("sha384", "sha384", ikev2=6, ikev1=5, size=48),
    _hmac_prf("sha512", "sha512", ikev2=7, ikev1=6, size=64),
    # RFC 4434 PRF_AES128_XCBC 4; no IKEv1 hash.
    PrfAlgorithm(
        name="aes-xcbc",
        ikev2_id=4,
        ikev1_hash_id=None,
        key_size=16,
        output_size=16,
        prf=_prf.aes_xcbc_prf_128,
        hash=None,
    ),
)


ENCRYPTION: dict[str, EncryptionAlgorithm] = {a.name: a for a in _ENCRYPTION_LIST}
ENCRYPTION.update({alias: ENCRYPTION[target] for alias, target in _ENCRYPTION_ALIASES.items()})
INTEGRITY: dict[str, IntegrityAlgorithm] = {a.name: a for a in _INTEGRITY_LIST}
PRFS: dict[str, PrfAlgorithm] = {a.name: a for a in _PRF_LIST}

if len(ENCRYPTION) != len(_ENCRYPTION_LIST) + len(_ENCRYPTION_ALIASES):
    raise ImportError("duplicate encryption algorithm name")  # pragma: no cover
if len(INTEGRITY) != len(_INTEGRITY_LIST) or len(PRFS) != len(_PRF_LIST):
    raise ImportError("duplicate integrity or PRF name")  # pragma: no cover

_EncKey = tuple[int, int | None]


def _encryption_index(attr: str) -> dict[_EncKey, EncryptionAlgorithm]:
    index: dict[_EncKey, EncryptionAlgorithm] = {}
    for alg in _ENCRYPTION_LIST:
        ident = getattr(alg, attr)
        if ident is None:
            continue
        keys: list[_EncKey] = [(ident, alg.key_length_attr)]
        if alg.key_length_attr is not None and _DEFAULT_KEY_BITS.get(alg.name) == (
            alg.key_length_attr
        ):
            keys.append((ident, None))
        for key in keys:
            if key in index:
                raise ImportError(f"encryption {attr} {key} registered twice")  # pragma: no cover
            index[key] = alg
    return index


_ENC_BY_IKEV2 = _encryption_index("ikev2_id")
_ENC_BY_ESP = _encryption_index("ikev1_esp_id")
_ENC_BY_IKE = _encryption_index("ikev1_ike_id")


_INT_BY_IKEV2 = {a.ikev2_id: a for a in _INTEGRITY_LIST if a.ikev2_id is not None}
_INT_BY_IKEV1 = {a.ikev1_auth_id: a for a in _INTEGRITY_LIST if a.ikev1_auth_id is not None}
_INT_BY_AH = {a.ah_transform_id: a for a in _INTEGRITY_LIST if a.ah_transform_id is not None}
_PRF_BY_IKEV2 = {a.ikev2_id: a for a in _PRF_LIST if a.ikev2_id is not None}
_PRF_BY_IKEV1 = {a.ikev1_hash_id: a for a in _PRF_LIST if a.ikev1_hash_id is not None}


def encryption(name: str) -> EncryptionAlgorithm:
    """The encryption transform with RouterOS proposal name ``name`` (aliases included)."""
    try:
        return ENCRYPTION[name]
    except KeyError:
        raise UnknownAlgorithm(f"unknown encryption algorithm {name!r}") from None


def integrity(name: str) -> IntegrityAlgorithm:
    """The integrity transform with RouterOS auth-algorithm name ``name``."""
    try:
        return INTEGRITY[name]
    except KeyError:
        raise UnknownAlgorithm(f"unknown integrity algorithm {name!r}") from None


def prf(name: str) -> PrfAlgorithm:
    """The PRF with RouterOS hash-algorithm name ``name``."""
    try:
        return PRFS[name]
    except KeyError:
        raise UnknownAlgorithm(f"unknown PRF {name!r}") from None


def _enc_lookup(
    index: dict[_EncKey, EncryptionAlgorithm], what: str, ident: int, key_bits: int | None
) -> EncryptionAlgorithm:
    try:
        return index[(ident, key_bits)]
    except KeyError:
        raise UnknownAlgorithm(
            f"unknown {what} encryption id {ident} with key length {key_bits}"
        ) from None


def encryption_by_ikev2_id(id: int, key_bits: int | None) -> EncryptionAlgorithm:
    """IKEv2 Transform Type 1 ``id`` with Key Length attribute ``key_bits`` (None if absent)."""
    return _enc_lookup(_ENC_BY_IKEV2, "IKEv2", id, key_bits)


def encryption_by_esp_id(id: int, key_bits: int | None) -> EncryptionAlgorithm:
    """IKEv1 ESP transform ``id`` (RFC 2407 §4.4.4) with its Key Length attribute, or None."""
    return _enc_lookup(_ENC_BY_ESP, "IKEv1 ESP", id, key_bits)


def encryption_by_ikev1_ike_id(id: int, key_bits: int | None) -> EncryptionAlgorithm:
    """IKEv1 phase-1 Encryption Algorithm attribute ``id`` (RFC 2409 App. A) and Key Length."""
    return _enc_lookup(_ENC_BY_IKE, "IKEv1 phase-1", id, key_bits)


def integrity_by_ikev2_id(id: int) -> IntegrityAlgorithm:
    """IKEv2 Transform Type 3 ``id`` (0 = NONE)."""
    try:
        return _INT_BY_IKEV2[id]
    except KeyError:
        raise UnknownAlgorithm(f"unknown IKEv2 integrity id {id}") from None


def integrity_by_ikev1_auth_id(id: int) -> IntegrityAlgorithm:
    """IKEv1 phase-2 Authentication Algorithm attribute ``id`` (RFC 2407 §4.5)."""
    try:
        return _INT_BY_IKEV1[id]
    except KeyError:
        raise UnknownAlgorithm(f"unknown IKEv1 authentication algorithm {id}") from None


def integrity_by_ah_id(id: int) -> IntegrityAlgorithm:
    """IKEv1 AH transform ``id`` (RFC 2407 §4.4.3)."""
    try:
        return _INT_BY_AH[id]
    except KeyError:
        raise UnknownAlgorithm(f"unknown AH transform id {id}") from None


def prf_by_ikev2_id(id: int) -> PrfAlgorithm:
    """IKEv2 Transform Type 2 ``id``."""
    try:
        return _PRF_BY_IKEV2[id]
    except KeyError:
        raise UnknownAlgorithm(f"unknown IKEv2 PRF id {id}") from None


def prf_by_ikev1_hash_id(id: int) -> PrfAlgorithm:
    """IKEv1 phase-1 Hash Algorithm attribute ``id`` (RFC 2409 App. A)."""
    try:
        return _PRF_BY_IKEV1[id]
    except KeyError:
        raise UnknownAlgorithm(f"unknown IKEv1 hash algorithm {id}") from None


def _fmt(value: int | None) -> str:
    return "-" if value is None else str(value)


def _table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(r[i]) for r in (header, *rows)) for i in range(len(header))]
    return [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in (header, *rows)
    ]


def describe() -> str:
    """A human-readable table of every registered transform (``pyipsec algorithms``)."""
    aliases_of: dict[str, list[str]] = {}
    for alias, target in _ENCRYPTION_ALIASES.items():
        aliases_of.setdefault(target, []).append(alias)
    lines = ["Encryption (key/salt/block/iv/icv in bytes)"]
    lines += _table(
        ("name", "ikev2", "esp", "ike", "key", "salt", "block", "iv", "icv", "iv-kind", "aliases"),
        [
            (
                a.name,
                _fmt(a.ikev2_id),
                _fmt(a.ikev1_esp_id),
                _fmt(a.ikev1_ike_id),
                str(a.key_size),
                str(a.salt_size),
                str(a.block_size),
                str(a.iv_size),
                str(a.icv_size),
                a.iv_kind.value,
                ",".join(aliases_of.get(a.name, [])),
            )
            for a in _ENCRYPTION_LIST
        ],
    )
    lines += ["", "Integrity (key/icv in bytes)"]
    lines += _table(
        ("name", "ikev2", "ikev1-auth", "ah", "key", "icv"),
        [
            (
                a.name,
                _fmt(a.ikev2_id),
                _fmt(a.ikev1_auth_id),
                _fmt(a.ah_transform_id),
                str(a.key_size),
                str(a.icv_size),
            )
            for a in _INTEGRITY_LIST
        ],
    )
    lines += ["", "PRF / hash (key/output in bytes)"]
    lines += _table(
        ("name", "ikev2", "ikev1-hash", "key", "output"),
        [
            (a.name, _fmt(a.ikev2_id), _fmt(a.ikev1_hash_id), str(a.key_size), str(a.output_size))
            for a in _PRF_LIST
        ],
    )
    try:
        # The key-exchange groups live in a sibling module that may not exist yet.
        groups = importlib.import_module("pyipsec.crypto.groups")
    except ImportError:
        groups = None
    if groups is not None:
        lines += ["", "Key exchange groups (public value in bytes)"]
        lines += _table(
            ("name", "id", "public"),
            [(g.name, str(g.id), str(g.public_size)) for g in groups.GROUPS],
        )
    return "\n".join(lines)
