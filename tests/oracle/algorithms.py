"""Algorithm combinations and how each oracle names them.

Our names are the RouterOS proposal names of ``pyipsec.crypto.registry``. The oracle names are
facts read from the oracles themselves: scapy 2.8's ``CRYPT_ALGOS``/``AUTH_ALGOS`` tables in
``scapy/layers/ipsec.py``, and the value strings of tshark 4.0's ESP SA table (``uat:esp_sa``),
found in ``libwireshark.so`` and confirmed by experiment (every name below decrypts and, with an
integrity algorithm, verifies a packet built by scapy: ``test_tshark_oracle.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

from pyipsec.crypto import registry
from pyipsec.crypto.base import EncryptionAlgorithm, IntegrityAlgorithm

ENCRYPTIONS = [
    "des",
    "3des",
    "aes-128-cbc",
    "aes-192-cbc",
    "aes-256-cbc",
    "aes-128-ctr",
    "aes-192-ctr",
    "aes-256-ctr",
    "aes-128-gcm",
    "aes-192-gcm",
    "aes-256-gcm",
    "blowfish",
    "twofish",
    "camellia-128",
    "camellia-192",
    "camellia-256",
    "chacha20poly1305",
    "null",
]
INTEGRITIES = ["md5", "sha1", "sha256", "sha384", "sha512", "null"]
AH_INTEGRITIES = ["md5", "sha1", "sha256", "sha384", "sha512"]

# scapy 2.8 scapy/layers/ipsec.py CRYPT_ALGOS keys (the key size follows the key given).
SCAPY_ENCRYPTION = {
    "des": "DES",
    "3des": "3DES",
    "aes-128-cbc": "AES-CBC",
    "aes-192-cbc": "AES-CBC",
    "aes-256-cbc": "AES-CBC",
    "aes-128-ctr": "AES-CTR",
    "aes-192-ctr": "AES-CTR",
    "aes-256-ctr": "AES-CTR",
    "aes-128-gcm": "AES-GCM",
    "aes-192-gcm": "AES-GCM",
    "aes-256-gcm": "AES-GCM",
    "blowfish": "Blowfish",
    "chacha20poly1305": "CHACHA20-POLY1305",
    "null": "NULL",
}
SCAPY_MISSING = {
    "twofish": "scapy has no Twofish",
    "camellia-128": "scapy has no Camellia",
    "camellia-192": "scapy has no Camellia",
    "camellia-256": "scapy has no Camellia",
}
# scapy 2.8 AUTH_ALGOS keys.
SCAPY_INTEGRITY = {
    "md5": "HMAC-MD5-96",
    "sha1": "HMAC-SHA1-96",
    "sha256": "SHA2-256-128",
    "sha384": "SHA2-384-192",
    "sha512": "SHA2-512-256",
    "null": "NULL",
}

# tshark 4.0 esp_sa UAT "Encryption" value strings. Key strings include the salt/nonce.
TSHARK_ENCRYPTION = {
    "des": "DES-CBC [RFC2405]",
    "3des": "TripleDES-CBC [RFC2451]",
    "aes-128-cbc": "AES-CBC [RFC3602]",
    "aes-192-cbc": "AES-CBC [RFC3602]",
    "aes-256-cbc": "AES-CBC [RFC3602]",
    "aes-128-ctr": "AES-CTR [RFC3686]",
    "aes-192-ctr": "AES-CTR [RFC3686]",
    "aes-256-ctr": "AES-CTR [RFC3686]",
    "aes-128-gcm": "AES-GCM with 16 octet ICV [RFC4106]",
    "aes-192-gcm": "AES-GCM with 16 octet ICV [RFC4106]",
    "aes-256-gcm": "AES-GCM with 16 octet ICV [RFC4106]",
    "blowfish": "BLOWFISH-CBC [RFC2451]",
    "twofish": "TWOFISH-CBC",
    "null": "NULL",
}
TSHARK_MISSING = {
    "camellia-128": "tshark 4.0 cannot decrypt Camellia ESP",
    "camellia-192": "tshark 4.0 cannot decrypt Camellia ESP",
    "camellia-256": "tshark 4.0 cannot decrypt Camellia ESP",
    "chacha20poly1305": "tshark 4.0 has no ChaCha20-Poly1305 ESP decryption (added in 4.2)",
}
# tshark 4.0 esp_sa UAT "Authentication" value strings.
TSHARK_INTEGRITY = {
    "md5": "HMAC-MD5-96 [RFC2403]",
    "sha1": "HMAC-SHA-1-96 [RFC2404]",
    "sha256": "HMAC-SHA-256-128 [RFC4868]",
    "sha384": "HMAC-SHA-384-192 [RFC4868]",
    "sha512": "HMAC-SHA-512-256 [RFC4868]",
    "null": "NULL",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class EspCombo:
    """One ESP transform pair: encryption and integrity (None with an AEAD cipher)."""

    enc: str
    integ: str | None

    @property
    def id(self) -> str:
        return self.enc if self.integ is None else f"{self.enc}+{self.integ}"

    @property
    def encryption(self) -> EncryptionAlgorithm:
        return registry.encryption(self.enc)

    @property
    def integrity(self) -> IntegrityAlgorithm | None:
        return None if self.integ is None else registry.integrity(self.integ)


def esp_combos() -> list[EspCombo]:
    """Every ESP combination we implement, except null+null (RFC 4303 §3.2 forbids it)."""
    out: list[EspCombo] = []
    for enc in ENCRYPTIONS:
        if registry.encryption(enc).aead:
            out.append(EspCombo(enc=enc, integ=None))
            continue
        out += [EspCombo(enc=enc, integ=i) for i in INTEGRITIES if not (enc == "null" == i)]
    return out


def scapy_combos() -> list[EspCombo]:
    return [c for c in esp_combos() if c.enc in SCAPY_ENCRYPTION]


def tshark_combos() -> list[EspCombo]:
    return [c for c in esp_combos() if c.enc in TSHARK_ENCRYPTION]
