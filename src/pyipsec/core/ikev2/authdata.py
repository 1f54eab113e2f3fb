"""IKEv2 AUTH payload data: the signed octets, shared-key MACs and signatures (RFC 7296 §2.15).

What each side authenticates (§2.15)::

    InitiatorSignedOctets = RealMessage1 | NonceRData | MACedIDForI
    MACedIDForI           = prf(SK_pi, RestOfInitIDPayload)
    ResponderSignedOctets = RealMessage2 | NonceIData | MACedIDForR
    MACedIDForR           = prf(SK_pr, RestOfRespIDPayload)

RealMessage1/2 are the IKE_SA_INIT request/response exactly as sent (whole UDP payload after
any non-ESP marker), NonceRData/NonceIData the peer's nonce data, RestOfXIDPayload the ID
payload from its ID Type field on (``IdPayload.body()``).

Shared key message integrity code (method 2)::

    AUTH = prf(prf(Shared Secret, "Key Pad for IKEv2"), <SignedOctets>)

The same formula with the EAP MSK instead of the shared secret authenticates EAP (§2.16).

Signatures over the signed octets:

- method 1, RSA Digital Signature (§3.8): RSASSA-PKCS1-v1_5 with SHA-1, the hash every
  implementation (strongSwan's AUTH_RSA included) uses for it;
- method 14, Digital Signature (RFC 7427 §3): AUTH data = one octet with the length of the
  DER AlgorithmIdentifier, the AlgorithmIdentifier, then the signature (for ECDSA the DER
  Ecdsa-Sig-Value). The AlgorithmIdentifiers are the DER of RFC 7427 Appendix A, matched here
  byte for byte (a table, not an ASN.1 parser); RSASSA-PSS carries explicit parameters with
  MGF1 over the same hash and a salt as long as the hash (RFC 7427 A.4.3).

- the ECDSA methods of RFC 4754 (9: P-256/SHA-256, 10: P-384/SHA-384, 11: P-521/SHA-512;
  the signature is r | s), which peers without RFC 7427 use for EC keys;
- Ed25519 (RFC 8420): method 14 with the id-Ed25519 AlgorithmIdentifier, the signature over
  the octets themselves, allowed only when the peer announced the Identity hash (5).

``sign_auth`` and ``verify_auth`` pick and check the method for the engine.

Which hash method 14 may use is negotiated with SIGNATURE_HASH_ALGORITHMS notifies in
IKE_SA_INIT (RFC 7427 §4): each side lists the hashes it can verify; a signer picks one the
peer listed, else falls back to the method of the key type (RSA: method 1; ECDSA on P-256,
P-384, P-521: RFC 4754's method for the curve). An ECDSA signer prefers the hash of its
curve's strength (P-384: SHA-384, as RFC 4754 pairs them) when the peer listed it. Ed25519
has no fallback: without Identity in the peer's list we cannot sign (``AuthDataError``).
"""

from __future__ import annotations

import enum
import hmac
import struct
from collections.abc import Iterable
from dataclasses import dataclass

from pyipsec.crypto import signatures
from pyipsec.crypto.base import PrfAlgorithm
from pyipsec.crypto.signatures import Signer
from pyipsec.memo import Memo

__all__ = [
    "ANNOUNCED_HASHES",
    "DEFAULT_HASH_PREFERENCE",
    "KEY_PAD",
    "SIGNATURE_ALGORITHMS",
    "AuthDataError",
    "HashAlgorithm",
    "SignatureAlgorithm",
    "choose_hash",
    "decode_signature_hash_algorithms",
    "digital_signature_auth",
    "encode_signature_hash_algorithms",
    "initiator_signed_octets",
    "parse_digital_signature",
    "psk_auth",
    "responder_signed_octets",
    "rsa_signature_auth",
    "sign_auth",
    "signature_algorithm",
    "verify_auth",
    "verify_digital_signature_auth",
    "verify_psk_auth",
    "verify_rsa_signature_auth",
]


class AuthDataError(ValueError):
    """Malformed authentication data from a peer, or a request this module cannot serve."""


KEY_PAD = b"Key Pad for IKEv2"  # RFC 7296 §2.15, 17 ASCII characters, no NUL


def initiator_signed_octets(
    prf: PrfAlgorithm, real_message1: bytes, nonce_r: bytes, sk_pi: bytes, id_i_body: bytes
) -> bytes:
    """InitiatorSignedOctets = RealMessage1 | NonceRData | prf(SK_pi, RestOfInitIDPayload)."""
    return real_message1 + nonce_r + prf.prf(sk_pi, id_i_body)


def responder_signed_octets(
    prf: PrfAlgorithm, real_message2: bytes, nonce_i: bytes, sk_pr: bytes, id_r_body: bytes
) -> bytes:
    """ResponderSignedOctets = RealMessage2 | NonceIData | prf(SK_pr, RestOfRespIDPayload)."""
    return real_message2 + nonce_i + prf.prf(sk_pr, id_r_body)


def psk_auth(prf: PrfAlgorithm, secret: bytes, signed_octets: bytes) -> bytes:
    """AUTH data for Shared Key Message Integrity Code (method 2, RFC 7296 §2.15).

    prf(prf(secret, "Key Pad for IKEv2"), signed_octets); ``secret`` is the pre-shared key or,
    for EAP, the MSK (§2.16).
    """
    return prf.prf(_pad_key(prf, secret), signed_octets)


# prf(secret, "Key Pad for IKEv2") by (PRF, secret): the same for every IKE SA of a peer
# entry, so one HMAC less (1.3 us) per AUTH made or checked, two per IKE_AUTH on each side.
# The secrets are our configured pre-shared keys (the callers: ike_auth.py); bounded: full
# means emptied.
_PAD_KEYS_MAX = 256
_pad_keys: Memo[tuple[str, bytes], bytes] = Memo(_PAD_KEYS_MAX)


def _pad_key(prf: PrfAlgorithm, secret: bytes) -> bytes:
    return _pad_keys.get((prf.name, secret), lambda: prf.prf(secret, KEY_PAD))


def verify_psk_auth(
    prf: PrfAlgorithm, secret: bytes, signed_octets: bytes, received: bytes
) -> bool:
    """Whether ``received`` AUTH data is the shared-key MIC of ``signed_octets`` (constant time)."""
    return hmac.compare_digest(psk_auth(prf, secret, signed_octets), received)


# --- RFC 7296 §3.8 method 1 --------------------------------------------------------------------


def rsa_signature_auth(signer: Signer, signed_octets: bytes) -> bytes:
    """AUTH data for RSA Digital Signature (method 1): PKCS#1 v1.5 with SHA-1 (§3.8)."""
    return signatures.sign_pkcs1_v15(signer, "sha1", signed_octets)


def verify_rsa_signature_auth(public_der: bytes, signed_octets: bytes, auth_data: bytes) -> bool:
    """Whether method-1 ``auth_data`` is the SHA-1 PKCS#1 v1.5 signature of the octets."""
    return signatures.verify_pkcs1_v15(public_der, "sha1", signed_octets, auth_data)


# --- RFC 7427 ------------------------------------------------------------------------------------


class HashAlgorithm(enum.IntEnum):
    """IANA "IKEv2 Hash Algorithms" (RFC 7427 §7, RFC 8420 for Identity)."""

    SHA1 = 1
    SHA2_256 = 2
    SHA2_384 = 3
    SHA2_512 = 4
    IDENTITY = 5


_HASH_NAMES = {
    HashAlgorithm.SHA1: "sha1",
    HashAlgorithm.SHA2_256: "sha256",
    HashAlgorithm.SHA2_384: "sha384",
    HashAlgorithm.SHA2_512: "sha512",
}

# What a signer prefers among the hashes the peer announced (SHA-1 only when nothing else is
# common: RFC 7427 §4 leaves it to local policy; strongSwan's default also skips it).
DEFAULT_HASH_PREFERENCE: tuple[HashAlgorithm, ...] = (
    HashAlgorithm.SHA2_256,
    HashAlgorithm.SHA2_384,
    HashAlgorithm.SHA2_512,
)

# What we list in our SIGNATURE_HASH_ALGORITHMS notify: the hashes we verify method-14
# signatures with (SHA-1 left out, as strongSwan does; Identity for Ed25519, RFC 8420).
ANNOUNCED_HASHES: tuple[HashAlgorithm, ...] = (
    HashAlgorithm.SHA2_256,
    HashAlgorithm.SHA2_384,
    HashAlgorithm.SHA2_512,
    HashAlgorithm.IDENTITY,
)


def encode_signature_hash_algorithms(hashes: Iterable[int]) -> bytes:
    """SIGNATURE_HASH_ALGORITHMS notify data: 2-octet hash ids (RFC 7427 §4)."""
    return b"".join(int(h).to_bytes(2, "big") for h in hashes)


def decode_signature_hash_algorithms(data: bytes) -> tuple[int, ...]:
    """The hash ids of a SIGNATURE_HASH_ALGORITHMS notify (RFC 7427 §4).

    Known ids come back as ``HashAlgorithm``, unknown ones as plain ints (a peer may list
    hashes we do not know). Data of odd length raises ``AuthDataError``.
    """
    if len(data) % 2:
        raise AuthDataError("SIGNATURE_HASH_ALGORITHMS data of odd length")
    known = HashAlgorithm._value2member_map_  # a dict lookup, not an enum call per id
    ids = struct.unpack(f">{len(data) // 2}H", data)  # one call: 0.3 us, not 1.5 us for four
    return tuple(map(known.get, ids, ids))  # type: ignore[arg-type]


def choose_hash(
    announced: Iterable[int], preference: Iterable[HashAlgorithm] = DEFAULT_HASH_PREFERENCE
) -> HashAlgorithm | None:
    """The first hash of ``preference`` the peer announced, None if none (use method 1)."""
    peer = set(announced)
    for h in preference:
        if h in peer:
            return h
    return None


def _der(tag: int, content: bytes) -> bytes:
    if len(content) >= 128:  # pragma: no cover - every identifier here is short
        raise ValueError("long DER form not needed here")
    return bytes((tag, len(content))) + content


_NULL = b"\x05\x00"
_OID_HASH = {  # id-sha1 (1.3.14.3.2.26), id-sha256/384/512 (2.16.840.1.101.3.4.2.1/2/3)
    "sha1": bytes.fromhex("2b0e03021a"),
    "sha256": bytes.fromhex("608648016503040201"),
    "sha384": bytes.fromhex("608648016503040202"),
    "sha512": bytes.fromhex("608648016503040203"),
}
_OID_RSA_PKCS1 = {  # sha{1,256,384,512}WithRSAEncryption, 1.2.840.113549.1.1.{5,11,12,13}
    "sha1": bytes.fromhex("2a864886f70d010105"),
    "sha256": bytes.fromhex("2a864886f70d01010b"),
    "sha384": bytes.fromhex("2a864886f70d01010c"),
    "sha512": bytes.fromhex("2a864886f70d01010d"),
}
_OID_ECDSA = {  # ecdsa-with-SHA1 1.2.840.10045.4.1, ecdsa-with-SHA256/384/512 1.2.840.10045.4.3.x
    "sha1": bytes.fromhex("2a8648ce3d0401"),
    "sha256": bytes.fromhex("2a8648ce3d040302"),
    "sha384": bytes.fromhex("2a8648ce3d040303"),
    "sha512": bytes.fromhex("2a8648ce3d040304"),
}
_OID_RSASSA_PSS = bytes.fromhex("2a864886f70d01010a")  # 1.2.840.113549.1.1.10
_OID_MGF1 = bytes.fromhex("2a864886f70d010108")  # 1.2.840.113549.1.1.8
_OID_ED25519 = bytes.fromhex("2b6570")  # 1.3.101.112 (RFC 8410)
_HASH_SIZE = {"sha1": 20, "sha256": 32, "sha384": 48, "sha512": 64}


def _pss_identifier(hash_name: str) -> bytes:
    # RFC 4055 §3.1 RSASSA-PSS-params: [0] hashAlgorithm, [1] maskGenAlgorithm MGF1(hash),
    # [2] saltLength = hash length; trailerField left at its default.
    hash_alg = _der(0x30, _der(0x06, _OID_HASH[hash_name]) + _NULL)
    params = (
        _der(0xA0, hash_alg)
        + _der(0xA1, _der(0x30, _der(0x06, _OID_MGF1) + hash_alg))
        + _der(0xA2, _der(0x02, bytes((_HASH_SIZE[hash_name],))))
    )
    return _der(0x30, _der(0x06, _OID_RSASSA_PSS) + _der(0x30, params))


@dataclass(frozen=True, slots=True, kw_only=True)
class SignatureAlgorithm:
    """One signature algorithm of RFC 7427 method 14 and its DER AlgorithmIdentifier."""

    name: str  # e.g. "sha256WithRSAEncryption", "rsassa-pss-sha256", "ecdsa-with-sha384"
    key_kind: str  # "rsa", "ecdsa", "ed25519" (signatures.public_key_kind)
    hash: HashAlgorithm
    pss: bool
    identifier: bytes  # DER AlgorithmIdentifier


def _table() -> tuple[SignatureAlgorithm, ...]:
    algs: list[SignatureAlgorithm] = []
    for h, name in _HASH_NAMES.items():
        algs.append(
            SignatureAlgorithm(
                name=f"{name}WithRSAEncryption",
                key_kind="rsa",
                hash=h,
                pss=False,
                identifier=_der(0x30, _der(0x06, _OID_RSA_PKCS1[name]) + _NULL),
            )
        )
        algs.append(
            SignatureAlgorithm(
                name=f"ecdsa-with-{name}",
                key_kind="ecdsa",
                hash=h,
                pss=False,
                identifier=_der(0x30, _der(0x06, _OID_ECDSA[name])),
            )
        )
        if h is not HashAlgorithm.SHA1:
            algs.append(
                SignatureAlgorithm(
                    name=f"rsassa-pss-{name}",
                    key_kind="rsa",
                    hash=h,
                    pss=True,
                    identifier=_pss_identifier(name),
                )
            )
    algs.append(
        SignatureAlgorithm(
            name="ed25519",
            key_kind="ed25519",
            hash=HashAlgorithm.IDENTITY,
            pss=False,
            identifier=_der(0x30, _der(0x06, _OID_ED25519)),
        )
    )
    return tuple(algs)


SIGNATURE_ALGORITHMS: tuple[SignatureAlgorithm, ...] = _table()
_BY_IDENTIFIER = {a.identifier: a for a in SIGNATURE_ALGORITHMS}
# RSA PKCS#1 v1.5 identifiers without the NULL parameters (RFC 4055 §5 lets verifiers accept
# the absent form, and some implementations send it).
_BY_IDENTIFIER.update(
    {
        _der(0x30, _der(0x06, _OID_RSA_PKCS1[_HASH_NAMES[a.hash]])): a
        for a in SIGNATURE_ALGORITHMS
        if a.key_kind == "rsa" and not a.pss
    }
)


def signature_algorithm(
    key_kind: str, hash: HashAlgorithm, *, pss: bool = False
) -> SignatureAlgorithm:
    """The method-14 algorithm for a key kind and hash (RSA: PKCS#1 v1.5 unless ``pss``)."""
    for a in SIGNATURE_ALGORITHMS:
        if a.key_kind == key_kind and a.hash is hash and a.pss == pss:
            return a
    raise AuthDataError(f"no {key_kind} signature with {hash.name}{' PSS' if pss else ''}")


def digital_signature_auth(
    signer: Signer, algorithm: SignatureAlgorithm, signed_octets: bytes
) -> bytes:
    """AUTH data for Digital Signature (method 14, RFC 7427 §3; RFC 8420 for Ed25519)."""
    if algorithm.key_kind != signer.kind:
        raise AuthDataError(f"cannot sign {algorithm.name} with an {signer.kind} key")
    try:
        if algorithm.key_kind == "ed25519":
            sig = signatures.sign_ed25519(signer, signed_octets)
        elif algorithm.key_kind == "ecdsa":
            sig = signatures.sign_ecdsa(signer, _HASH_NAMES[algorithm.hash], signed_octets)
        elif algorithm.pss:
            sig = signatures.sign_pss(signer, _HASH_NAMES[algorithm.hash], signed_octets)
        else:
            sig = signatures.sign_pkcs1_v15(signer, _HASH_NAMES[algorithm.hash], signed_octets)
    except signatures.SignatureError as e:
        raise AuthDataError(str(e)) from e
    return bytes((len(algorithm.identifier),)) + algorithm.identifier + sig


def parse_digital_signature(auth_data: bytes) -> tuple[SignatureAlgorithm, bytes]:
    """(algorithm, signature) of method-14 AUTH data; ``AuthDataError`` if malformed/unknown."""
    if not auth_data:
        raise AuthDataError("empty Digital Signature AUTH data")
    n = auth_data[0]
    if len(auth_data) < 1 + n:
        raise AuthDataError("AlgorithmIdentifier longer than the AUTH data")
    algorithm = _BY_IDENTIFIER.get(auth_data[1 : 1 + n])
    if algorithm is None:
        raise AuthDataError("unsupported signature AlgorithmIdentifier")
    return algorithm, auth_data[1 + n :]


def verify_digital_signature_auth(
    public_der: bytes,
    signed_octets: bytes,
    auth_data: bytes,
    *,
    allowed_hashes: Iterable[int] | None = None,
) -> bool:
    """Whether method-14 ``auth_data`` is a valid signature of the octets by that key.

    False for malformed data, an unknown AlgorithmIdentifier, an algorithm not fitting the
    key, or (with ``allowed_hashes``, what we announced) a hash outside that list.
    """
    try:
        algorithm, sig = parse_digital_signature(auth_data)
    except AuthDataError:
        return False
    if allowed_hashes is not None and algorithm.hash not in set(allowed_hashes):
        return False
    if signatures.public_key_kind(public_der) != algorithm.key_kind:
        return False
    if algorithm.key_kind == "ed25519":
        return signatures.verify_ed25519(public_der, signed_octets, sig)
    hash_name = _HASH_NAMES[algorithm.hash]
    if algorithm.key_kind == "ecdsa":
        return signatures.verify_ecdsa(public_der, hash_name, signed_octets, sig)
    if algorithm.pss:
        return signatures.verify_pss(
            public_der, hash_name, signed_octets, sig, _HASH_SIZE[hash_name]
        )
    return signatures.verify_pkcs1_v15(public_der, hash_name, signed_octets, sig)


# --- choosing and checking the method ----------------------------------------------------------

AUTH_RSA_DIGITAL_SIGNATURE = 1  # RFC 7296 §3.8
AUTH_ECDSA_SHA256_P256 = 9  # RFC 4754
AUTH_ECDSA_SHA384_P384 = 10
AUTH_ECDSA_SHA512_P521 = 11
AUTH_DIGITAL_SIGNATURE = 14  # RFC 7427

_RFC4754 = {
    AUTH_ECDSA_SHA256_P256: ("sha256", "secp256r1"),
    AUTH_ECDSA_SHA384_P384: ("sha384", "secp384r1"),
    AUTH_ECDSA_SHA512_P521: ("sha512", "secp521r1"),
}


# RFC 4754 §3 pairs each curve with a hash of its strength; an ECDSA signer prefers that one
_CURVE_HASH = {
    "secp256r1": HashAlgorithm.SHA2_256,
    "secp384r1": HashAlgorithm.SHA2_384,
    "secp521r1": HashAlgorithm.SHA2_512,
}
_CURVE_METHOD = {curve: method for method, (_h, curve) in _RFC4754.items()}


def sign_auth(
    signer: Signer,
    signed_octets: bytes,
    *,
    peer_hashes: Iterable[int] | None,
    pss: bool = False,
    preference: Iterable[HashAlgorithm] = DEFAULT_HASH_PREFERENCE,
) -> tuple[int, bytes]:
    """(AUTH method, AUTH data) for our key (RFC 7427 §4, module docstring).

    Method 14 with the preferred hash among ``peer_hashes`` (the peer's
    SIGNATURE_HASH_ALGORITHMS, None if it sent none), else the key's own method: 1 for RSA,
    9-11 for ECDSA on the NIST curves. Ed25519 needs Identity among ``peer_hashes``.
    ``AuthDataError`` when no method fits the key and the peer.
    """
    announced = () if peer_hashes is None else tuple(peer_hashes)
    if signer.kind == "ed25519":
        if HashAlgorithm.IDENTITY not in announced:
            raise AuthDataError(
                "an Ed25519 key signs only with RFC 8420, and the peer did not announce the "
                "Identity hash in SIGNATURE_HASH_ALGORITHMS"
            )
        algorithm = signature_algorithm("ed25519", HashAlgorithm.IDENTITY)
        return AUTH_DIGITAL_SIGNATURE, digital_signature_auth(signer, algorithm, signed_octets)
    curve = signer.curve
    if curve in _CURVE_HASH:
        preference = (_CURVE_HASH[curve], *preference)
    chosen = choose_hash(announced, preference)
    if chosen is not None:
        algorithm = signature_algorithm(signer.kind, chosen, pss=pss and signer.kind == "rsa")
        return AUTH_DIGITAL_SIGNATURE, digital_signature_auth(signer, algorithm, signed_octets)
    if signer.kind == "rsa":
        return AUTH_RSA_DIGITAL_SIGNATURE, rsa_signature_auth(signer, signed_octets)
    if curve in _CURVE_METHOD:
        hash_name, _curve = _RFC4754[_CURVE_METHOD[curve]]
        return _CURVE_METHOD[curve], signatures.sign_ecdsa_raw(signer, hash_name, signed_octets)
    raise AuthDataError(
        f"an ECDSA key on {curve} has no RFC 4754 method, and the peer announced no hash "
        "for RFC 7427 signatures"
    )


def verify_auth(
    method: int,
    public_der: bytes,
    signed_octets: bytes,
    auth_data: bytes,
    *,
    allowed_hashes: Iterable[int] | None = ANNOUNCED_HASHES,
) -> bool:
    """Whether a peer's signature AUTH payload (method 1, 9-11 or 14) verifies with its key.

    ``allowed_hashes`` restricts method 14 to the hashes we announced (None: any we know).
    Any other method (shared key, DSS, unknown) is False here.
    """
    if method == AUTH_RSA_DIGITAL_SIGNATURE:
        return verify_rsa_signature_auth(public_der, signed_octets, auth_data)
    if method in _RFC4754:
        hash_name, curve = _RFC4754[method]
        return signatures.verify_ecdsa_raw(public_der, hash_name, curve, signed_octets, auth_data)
    if method == AUTH_DIGITAL_SIGNATURE:
        return verify_digital_signature_auth(
            public_der, signed_octets, auth_data, allowed_hashes=allowed_hashes
        )
    return False
