"""The shapes every transform in the crypto suite has.

Algorithms are immutable descriptions (name, IANA ids, sizes) with a ``keyed()`` factory that
returns an object holding the expanded key. Callers build the keyed object once per SA.
Randomness never comes from here: callers pass an ``Rng`` (``rng(n) -> n bytes``), which the
I/O shell wires to the OS CSPRNG and tests wire to a deterministic source.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

Rng = Callable[[int], bytes]


class CryptoError(Exception):
    """Base class for errors raised by the crypto suite."""


class AuthenticationFailed(CryptoError):
    """An AEAD tag or an ICV did not verify."""


class InvalidPublicValue(CryptoError):
    """A peer's key-exchange public value failed validation (RFC 6989)."""


class UnknownAlgorithm(CryptoError, KeyError):
    """No transform of that name or id in the registry."""


class IvKind(enum.Enum):
    """How the packet engine must produce a per-packet IV."""

    NONE = "none"  # null encryption: no IV on the wire
    RANDOM = "random"  # CBC modes: unpredictable, from the Rng
    COUNTER = "counter"  # CTR, GCM, ChaCha20-Poly1305: unique; the 64-bit sequence number


class EspCipher(Protocol):
    """A keyed cipher. ``encrypt``/``decrypt`` work on whole, already padded buffers.

    For AEAD ciphers the output of ``encrypt`` is ciphertext || tag (``icv_size`` bytes) and
    ``decrypt`` takes the same and raises ``AuthenticationFailed`` on a bad tag. For non-AEAD
    ciphers ``aad`` is ignored and lengths must be a multiple of the block size.
    """

    def encrypt(self, iv: bytes, data: bytes, aad: bytes = b"") -> bytes: ...

    def decrypt(self, iv: bytes, data: bytes, aad: bytes = b"") -> bytes: ...


class Mac(Protocol):
    """A keyed integrity transform producing a truncated ICV."""

    @property
    def icv_size(self) -> int: ...

    def compute(self, data: bytes) -> bytes: ...

    def verify(self, data: bytes, icv: bytes) -> bool:
        """Constant-time comparison of ``compute(data)`` with ``icv``."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class EncryptionAlgorithm:
    """An encryption transform (ESP, and IKE where ``ikev1_ike_id``/``ikev2_id`` allow)."""

    name: str  # RouterOS proposal name, e.g. "aes-128-cbc"
    ikev2_id: int | None  # IANA IKEv2 Transform Type 1 id
    ikev1_esp_id: int | None  # IANA "IPSEC ESP Transform Identifiers" (RFC 2407 §4.4.4)
    ikev1_ike_id: int | None  # IKEv1 phase-1 Encryption Algorithm attribute (RFC 2409 App. A)
    key_size: int  # cipher key bytes, salt excluded
    key_length_attr: int | None  # Key Length attribute in bits to send, None for fixed-size
    salt_size: int  # bytes of salt taken from the end of the key material
    block_size: int  # ESP padding alignment (at least 4 is applied by the engine)
    iv_size: int  # IV bytes on the wire
    icv_size: int  # AEAD tag bytes (0 for non-AEAD)
    iv_kind: IvKind
    factory: Callable[[bytes, int], EspCipher]  # (key incl. salt, icv_size) -> keyed cipher
    # Derived, stored rather than properties: read ~20 times per IKE setup on each side, a
    # slot read is half the 0.04 us of a property call.
    aead: bool = field(init=False)  # icv_size > 0
    keymat_size: int = field(init=False)  # bytes of key material an SA needs: key plus salt

    def __post_init__(self) -> None:
        object.__setattr__(self, "aead", self.icv_size > 0)
        object.__setattr__(self, "keymat_size", self.key_size + self.salt_size)

    def keyed(self, key: bytes) -> EspCipher:
        if len(key) != self.keymat_size:
            raise CryptoError(f"{self.name}: key must be {self.keymat_size} bytes, not {len(key)}")
        return self.factory(key, self.icv_size)


@dataclass(frozen=True, slots=True, kw_only=True)
class IntegrityAlgorithm:
    """An integrity transform for ESP and AH (HMAC-x truncated, or null)."""

    name: str  # RouterOS name: "md5", "sha1", "sha256", "sha384", "sha512", "null"
    ikev2_id: int | None  # IANA IKEv2 Transform Type 3 id
    ikev1_auth_id: int | None  # IKEv1 phase-2 "Authentication Algorithm" attribute (RFC 2407)
    ah_transform_id: int | None  # IANA "IPSEC AH Transform Identifiers"
    key_size: int
    icv_size: int
    factory: Callable[[bytes], Mac]

    def keyed(self, key: bytes) -> Mac:
        if len(key) != self.key_size:
            raise CryptoError(f"{self.name}: key must be {self.key_size} bytes, not {len(key)}")
        return self.factory(key)


@dataclass(frozen=True, slots=True, kw_only=True)
class PrfAlgorithm:
    """A pseudo-random function for IKE (IKEv2 Transform Type 2; IKEv1 phase-1 hash)."""

    name: str  # "md5", "sha1", "sha256", "sha384", "sha512", "aes-xcbc"
    ikev2_id: int | None
    ikev1_hash_id: int | None  # IKEv1 phase-1 Hash Algorithm attribute (RFC 2409 App. A)
    key_size: int  # preferred key size (IKEv2 §2.13)
    output_size: int
    prf: Callable[[bytes, bytes], bytes]  # (key, data) -> output_size bytes
    hash: Callable[[bytes], bytes] | None  # the bare hash (IKEv1 HASH, NAT-D), None for XCBC


class KeyExchange(Protocol):
    """One side of one key exchange: a fresh private value and its public value."""

    @property
    def group(self) -> int: ...

    @property
    def public_value(self) -> bytes:
        """The KE payload data as sent on the wire."""
        ...

    def shared_secret(self, peer_public: bytes) -> bytes:
        """Validate the peer's public value and return the shared secret g^ir.

        Raises ``InvalidPublicValue`` when the peer value is malformed or unsafe.
        """
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class KeyExchangeGroup:
    """A Diffie-Hellman group (MODP, EC2N, ECP, Curve25519)."""

    name: str  # RouterOS name: "modp1024", "ec2n155", "ecp256", "x25519"
    id: int  # IANA Transform Type 4 / IKEv1 Group Description
    public_size: int  # bytes of the KE payload data
    factory: Callable[[Rng], KeyExchange]

    def new(self, rng: Rng) -> KeyExchange:
        return self.factory(rng)
