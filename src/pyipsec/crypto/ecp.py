"""ECP groups 19-21 (RFC 5903) and Curve25519, group 31 (RFC 8031), through pyca/cryptography.

RFC 5903 §7: the KE data of an ECP group is x || y, each coordinate left-padded to the field
size, with no point-format octet; the shared secret is the x coordinate of the product alone,
padded the same way. A received point must lie on the curve (RFC 6989 §2 asks for that check on
ECP groups, whose cofactor is 1, so on-curve is enough); OpenSSL performs it when the point
is decoded and we map its refusal to ``InvalidPublicValue``. The point at infinity has no x || y
encoding, so it cannot be received.

RFC 8031 §2: X25519 public values and shared secrets are the 32-byte strings of RFC 7748 §5;
the private value is 32 random bytes, and a shared secret of all zeros (a low-order peer value)
must be refused (RFC 8031 §2, RFC 7748 §6.1).

Private values come from the injected rng so that exchanges are reproducible in tests.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, x25519

from .base import InvalidPublicValue, KeyExchangeGroup, Rng
from .ec2n import random_scalar


@dataclass(frozen=True, slots=True, kw_only=True)
class EcpCurve:
    """A NIST prime curve as used by IKE (RFC 5903 §3)."""

    name: str  # RouterOS name
    group_id: int
    curve: ec.EllipticCurve
    field_bytes: int  # bytes of one coordinate
    order: int  # order n of the base point
    oid: bytes  # the curve's OBJECT IDENTIFIER, DER-encoded (RFC 5480 §2.1.1.1)

    @property
    def size(self) -> int:
        """Bytes of the KE data: x || y."""
        return 2 * self.field_bytes


# Base-point orders from SEC 2 v2 §2.4.2, §2.5.1, §2.6.1 (= FIPS 186-4 D.1.2.3-5).
P256 = EcpCurve(
    name="ecp256",
    group_id=19,
    curve=ec.SECP256R1(),
    field_bytes=32,
    order=0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551,
    oid=bytes.fromhex("06082A8648CE3D030107"),  # secp256r1, 1.2.840.10045.3.1.7
)
P384 = EcpCurve(
    name="ecp384",
    group_id=20,
    curve=ec.SECP384R1(),
    field_bytes=48,
    order=int(
        "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF"
        "581A0DB248B0A77AECEC196ACCC52973",
        16,
    ),
    oid=bytes.fromhex("06052B81040022"),  # secp384r1, 1.3.132.0.34
)
P521 = EcpCurve(
    name="ecp521",
    group_id=21,
    curve=ec.SECP521R1(),
    field_bytes=66,
    order=int(
        "01FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFA"
        "51868783BF2F966B7FCC0148F709A5D03BB5C9B8899C47AEBB6FB71E91386409",
        16,
    ),
    oid=bytes.fromhex("06052B81040023"),  # secp521r1, 1.3.132.0.35
)


def _private_key(curve: EcpCurve, d: int) -> ec.EllipticCurvePrivateKey:
    """The private key of scalar ``d`` (1 <= d < n), its public point d*G made by OpenSSL.

    Loaded as an RFC 5915 ECPrivateKey without the optional public key: OpenSSL computes the
    point on load. With older ``cryptography`` releases this was half the cost of
    ``ec.derive_private_key``, which then ran EC_KEY_check_key. Since cryptography parses keys
    in Rust (50.0 measured) the load runs that check as well (its pairwise check is a second
    fixed-base multiplication, about 30 % of the call under perf), so both take about 21.5 us
    for ecp256; no way of loading a given scalar through cryptography's API skips it."""
    if not 1 <= d < curve.order:
        raise ValueError("private scalar out of range")
    key = d.to_bytes(curve.field_bytes, "big")
    body = b"\x02\x01\x01\x04" + bytes((len(key),)) + key + b"\xa0" + bytes((len(curve.oid),))
    body += curve.oid
    der = b"\x30" + bytes((len(body),)) + body  # every body here is < 128 bytes (short form)
    private = serialization.load_der_private_key(der, None)
    assert isinstance(private, ec.EllipticCurvePrivateKey)  # our own encoding, not input
    return private


class EcpKeyExchange:
    """One side of an ECP exchange (RFC 5903)."""

    __slots__ = ("_curve", "_private", "_public")

    def __init__(self, curve: EcpCurve, rng: Rng, *, private_value: int | None = None) -> None:
        """Draw a private scalar in [1, n-1] from ``rng`` (or take ``private_value``: tests)."""
        self._curve = curve
        d = random_scalar(rng, curve.order) if private_value is None else private_value
        self._private = _private_key(curve, d)
        point = self._private.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        self._public = point[1:]  # 0x04 || x || y without the point-format octet (RFC 5903 §7)

    def __repr__(self) -> str:
        return f"<EcpKeyExchange {self._curve.name}>"

    @property
    def group(self) -> int:
        return self._curve.group_id

    @property
    def public_value(self) -> bytes:
        return self._public

    def shared_secret(self, peer_public: bytes) -> bytes:
        c = self._curve
        if len(peer_public) != c.size:
            raise InvalidPublicValue(
                f"{c.name}: public value is {len(peer_public)} bytes, not {c.size}"
            )
        try:
            # SEC 1 uncompressed form is 0x04 || x || y; OpenSSL checks the point is on the
            # curve and that each coordinate is below the field prime.
            peer = ec.EllipticCurvePublicKey.from_encoded_point(c.curve, b"\x04" + peer_public)
            secret = self._private.exchange(ec.ECDH(), peer)
        except ValueError as exc:
            raise InvalidPublicValue(f"{c.name}: public value is not a point on the curve") from exc
        return secret.rjust(c.field_bytes, b"\x00")


_X25519_SIZE = 32


class X25519KeyExchange:
    """One side of a Curve25519 exchange (RFC 8031, RFC 7748)."""

    __slots__ = ("_private", "_public")

    def __init__(self, rng: Rng, *, private_bytes: bytes | None = None) -> None:
        """Take 32 random bytes from ``rng`` as the private key (or ``private_bytes``: tests)."""
        raw = rng(_X25519_SIZE) if private_bytes is None else private_bytes
        self._private = x25519.X25519PrivateKey.from_private_bytes(raw)
        self._public = self._private.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )

    def __repr__(self) -> str:
        return "<X25519KeyExchange>"

    @property
    def group(self) -> int:
        return 31

    @property
    def public_value(self) -> bytes:
        return self._public

    def shared_secret(self, peer_public: bytes) -> bytes:
        if len(peer_public) != _X25519_SIZE:
            raise InvalidPublicValue(
                f"x25519: public value is {len(peer_public)} bytes, not {_X25519_SIZE}"
            )
        try:
            peer = x25519.X25519PublicKey.from_public_bytes(peer_public)
            secret = self._private.exchange(peer)
        except ValueError as exc:  # OpenSSL refuses an all-zero result itself
            raise InvalidPublicValue("x25519: low-order public value") from exc
        # RFC 8031 §2 / RFC 7748 §6.1: refuse the all-zero shared secret (checked here as
        # well so the rule does not rest on the backend).
        if hmac.compare_digest(secret, bytes(_X25519_SIZE)):
            raise InvalidPublicValue("x25519: low-order public value")
        return secret


def _ecp_group(curve: EcpCurve) -> KeyExchangeGroup:
    return KeyExchangeGroup(
        name=curve.name,
        id=curve.group_id,
        public_size=curve.size,
        factory=lambda rng: EcpKeyExchange(curve, rng),
    )


ECP_GROUPS: tuple[KeyExchangeGroup, ...] = tuple(_ecp_group(c) for c in (P256, P384, P521))

X25519_GROUP = KeyExchangeGroup(
    name="x25519", id=31, public_size=_X25519_SIZE, factory=X25519KeyExchange
)
