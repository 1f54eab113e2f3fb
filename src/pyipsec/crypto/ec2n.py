"""EC2N key exchange: Oakley groups 3 and 4, elliptic curves over GF(2^m) (RFC 2409 §6.3, §6.4).

Theory of operation. Field elements of GF(2^m) are Python ints read as bit vectors in the
polynomial basis (bit i is the coefficient of u^i), reduced modulo the group's trinomial
u^m + u^k + 1. Addition is XOR. Multiplication is a carry-less product followed by reduction;
the product is computed with one big-integer multiply on "spread" operands (each bit placed in
its own byte, so no column sum of at most m <= 255 terms can carry into the next byte) and the
parity of every byte read back. Inversion is Itoh-Tsujii (a^(2^m - 2)), a fixed chain of
squarings and multiplications.

The curve is y^2 + xy = x^3 + a x^2 + b. RFC 2409 sends only the x coordinate of a point in the
KE payload and takes the x coordinate of the product as the shared secret, so the scalar
multiplication is the x-only Montgomery ladder of Lopez and Dahab (CHES 1999) in projective
(X, Z) coordinates: a fixed number of steps, each one addition and one doubling (a constant
structure; Python's big integers do not make it constant-time, which is acceptable for these
legacy groups with fresh exponents per exchange). A received x
is validated by solving for y (z^2 + z = beta via the half-trace, m being odd), which proves a
point exists, then rejecting points of small order (cofactor times P is infinity, RFC 6989 in
spirit) and points outside the generator's subgroup.

Affine point arithmetic (``add``, ``double``, ``mul``) is kept for validation and tests.
Parameters: /work/shared/reference/anchors.md §4.2 (triangulated from RFC 2409 §6.3/6.4
copies; the tests re-verify them numerically).
"""

from __future__ import annotations

from dataclasses import dataclass

from .base import CryptoError, InvalidPublicValue, KeyExchangeGroup, Rng

Point = tuple[int, int] | None  # affine (x, y); None is the point at infinity

_SPREAD = bytes.maketrans(b"01", b"\x00\x01")  # '0'/'1' digit -> byte 0/1
_PARITY = bytes(0x30 | (i & 1) for i in range(256))  # byte -> ASCII digit of its low bit


def clmul(a: int, b: int) -> int:
    """Carry-less product of two bit vectors of at most 255 bits each."""
    if not a or not b:
        return 0
    sa = int.from_bytes(bin(a)[2:].encode().translate(_SPREAD), "big")
    sb = int.from_bytes(bin(b)[2:].encode().translate(_SPREAD), "big")
    prod = sa * sb
    return int(prod.to_bytes((prod.bit_length() + 7) // 8, "big").translate(_PARITY), 2)


@dataclass(frozen=True, slots=True, kw_only=True)
class BinaryField:
    """GF(2^m) in polynomial basis modulo the trinomial u^m + u^k + 1 (m odd, m <= 255)."""

    m: int
    k: int

    @property
    def modulus(self) -> int:
        return (1 << self.m) | (1 << self.k) | 1

    @property
    def byte_length(self) -> int:
        return (self.m + 7) // 8

    def reduce(self, c: int) -> int:
        """Reduce a polynomial of any degree modulo the trinomial."""
        m, k = self.m, self.k
        mask = (1 << m) - 1
        while h := c >> m:
            c = (c & mask) ^ h ^ (h << k)
        return c

    def mul(self, a: int, b: int) -> int:
        return self.reduce(clmul(a, b))

    def sqr(self, a: int) -> int:
        # Squaring is linear in GF(2^m): interleave a zero between the bits, then reduce.
        return self.reduce(int("0".join(bin(a)[2:]), 2))

    def sqr_n(self, a: int, n: int) -> int:
        for _ in range(n):
            a = self.sqr(a)
        return a

    def inv(self, a: int) -> int:
        """Multiplicative inverse by Itoh-Tsujii: a^-1 = (a^(2^(m-1) - 1))^2."""
        if a == 0:
            raise ZeroDivisionError("inverse of zero in GF(2^m)")
        t, e = a, 1  # invariant: t = a^(2^e - 1)
        for bit in bin(self.m - 1)[3:]:
            t = self.mul(self.sqr_n(t, e), t)
            e *= 2
            if bit == "1":
                t = self.mul(self.sqr(t), a)
                e += 1
        return self.sqr(t)

    def trace(self, a: int) -> int:
        """Absolute trace Tr(a) = a + a^2 + ... + a^(2^(m-1)), which is 0 or 1."""
        t = a
        for _ in range(self.m - 1):
            a = self.sqr(a)
            t ^= a
        return t

    def half_trace(self, a: int) -> int:
        """H(a) = sum of a^(4^i), i = 0..(m-1)/2; for odd m and Tr(a) = 0, H(a)^2 + H(a) = a."""
        h = a
        for _ in range((self.m - 1) // 2):
            a = self.sqr(self.sqr(a))
            h ^= a
        return h


@dataclass(frozen=True, slots=True, kw_only=True)
class Ec2nCurve:
    """y^2 + xy = x^3 + a x^2 + b over GF(2^m), with a generator of known order."""

    name: str
    group_id: int
    field: BinaryField
    a: int
    b: int
    gx: int
    gy: int
    curve_order: int  # #E, RFC 2409's "Group Order"
    order: int  # order of the generator (gx, gy)
    prime: int  # the large prime factor of #E
    cofactor: int  # #E / prime

    @property
    def size(self) -> int:
        """Bytes of an x coordinate on the wire (RFC 2409 §6.3/6.4)."""
        return self.field.byte_length

    @property
    def generator(self) -> Point:
        return (self.gx, self.gy)

    # -- affine arithmetic (Hankerson, Menezes, Vanstone, Guide to ECC, §3.1.2) --

    def is_on_curve(self, p: Point) -> bool:
        if p is None:
            return True
        f = self.field
        x, y = p
        if x >> f.m or y >> f.m:
            return False
        x2 = f.sqr(x)
        lhs = f.sqr(y) ^ f.mul(x, y)
        rhs = f.mul(x2, x) ^ f.mul(self.a, x2) ^ self.b
        return lhs == rhs

    def neg(self, p: Point) -> Point:
        return None if p is None else (p[0], p[0] ^ p[1])

    def double(self, p: Point) -> Point:
        if p is None or p[0] == 0:  # x = 0 is the unique point of order 2
            return None
        f = self.field
        x, y = p
        lam = x ^ f.mul(y, f.inv(x))
        x3 = f.sqr(lam) ^ lam ^ self.a
        y3 = f.sqr(x) ^ f.mul(lam, x3) ^ x3
        return (x3, y3)

    def add(self, p: Point, q: Point) -> Point:
        if p is None:
            return q
        if q is None:
            return p
        f = self.field
        x1, y1 = p
        x2, y2 = q
        if x1 == x2:
            return self.double(p) if y1 == y2 else None  # q == p, or q == -p
        lam = f.mul(y1 ^ y2, f.inv(x1 ^ x2))
        x3 = f.sqr(lam) ^ lam ^ x1 ^ x2 ^ self.a
        y3 = f.mul(lam, x1 ^ x3) ^ x3 ^ y1
        return (x3, y3)

    def mul(self, k: int, p: Point) -> Point:
        """k * p by affine double-and-add (slow; for validation and tests)."""
        if k < 0:
            k, p = -k, self.neg(p)
        r: Point = None
        for bit in bin(k)[2:]:
            r = self.double(r)
            if bit == "1":
                r = self.add(r, p)
        return r

    def lift_x(self, x: int) -> Point:
        """A point with this x coordinate, or None if there is none (x = 0 gives (0, sqrt b)).

        For x != 0, substitute y = x z: z^2 + z = x + a + b / x^2 = beta, solvable iff
        Tr(beta) = 0; the half-trace gives a root since m is odd.
        """
        f = self.field
        if x >> f.m:
            return None
        if x == 0:
            return (0, f.sqr_n(self.b, f.m - 1))  # sqrt(b) = b^(2^(m-1))
        beta = x ^ self.a ^ f.mul(self.b, f.inv(f.sqr(x)))
        z = f.half_trace(beta)
        if f.sqr(z) ^ z != beta:
            return None
        return (x, f.mul(x, z))

    # -- x-only Montgomery ladder (Lopez-Dahab projective coordinates) --

    def x_mul(self, k: int, x: int, bits: int | None = None) -> int | None:
        """x(k * P) for a point P = (x, .) on the curve, None if k * P is infinity.

        Runs a fixed ``bits`` steps (default: the bit length of the generator's order), each
        one projective addition and one doubling, starting from (O, P):
        add  (X1,Z1)+(X2,Z2): Z = (X1 Z2 + X2 Z1)^2, X = x Z + (X1 Z2)(X2 Z1)
        double (X,Z):          X = X^4 + b Z^4,     Z = X^2 Z^2
        """
        f = self.field
        mul, sqr, b = f.mul, f.sqr, self.b
        n = self.order.bit_length() if bits is None else bits
        if k >> n:
            n = k.bit_length()
        x1, z1, x2, z2 = 1, 0, x, 1  # (O, P)
        for i in range(n - 1, -1, -1):
            swap = (k >> i) & 1
            if swap:
                x1, z1, x2, z2 = x2, z2, x1, z1
            t1 = mul(x1, z2)
            t2 = mul(x2, z1)
            z2 = sqr(t1 ^ t2)
            x2 = mul(x, z2) ^ mul(t1, t2)
            xx, zz = sqr(x1), sqr(z1)
            z1 = mul(xx, zz)
            x1 = sqr(xx) ^ mul(b, sqr(zz))
            if swap:
                x1, z1, x2, z2 = x2, z2, x1, z1
        if z1 == 0:
            return None
        return mul(x1, f.inv(z1))

    def validate_x(self, x: int) -> None:
        """Check a peer's x coordinate names a usable point; raise InvalidPublicValue if not."""
        if x == 0 or self.lift_x(x) is None:
            raise InvalidPublicValue(f"{self.name}: x coordinate is not on the curve")
        # RFC 6989 §2 in spirit: refuse small-order points and points outside <G>.
        if self.x_mul(self.cofactor, x, bits=self.cofactor.bit_length()) is None:
            raise InvalidPublicValue(f"{self.name}: point of small order")
        if self.x_mul(self.order, x) is not None:
            raise InvalidPublicValue(f"{self.name}: point outside the generator's subgroup")


def random_scalar(rng: Rng, order: int, *, tries: int = 64) -> int:
    """A uniform integer in [1, order - 1] from the injected rng, by rejection sampling."""
    nbits = order.bit_length()
    nbytes = (nbits + 7) // 8
    for _ in range(tries):
        k = int.from_bytes(rng(nbytes), "big") >> (8 * nbytes - nbits)
        if 1 <= k < order:
            return k
    raise CryptoError("random source gave no usable scalar")


class Ec2nKeyExchange:
    """One side of an EC2N exchange (RFC 2409 §6.3/6.4): KE data and secret are x only."""

    __slots__ = ("_curve", "_k", "_public")

    def __init__(self, curve: Ec2nCurve, rng: Rng) -> None:
        self._curve = curve
        while True:
            k = random_scalar(rng, curve.order)
            if k % curve.prime:  # k * G of small order would be refused by the peer
                break
        self._k = k
        x = curve.x_mul(k, curve.gx)
        if x is None:  # unreachable: 1 <= k < order of the generator
            raise CryptoError(f"{curve.name}: public point is infinity")
        self._public = x.to_bytes(curve.size, "big")

    def __repr__(self) -> str:
        return f"<Ec2nKeyExchange {self._curve.name}>"

    @property
    def group(self) -> int:
        return self._curve.group_id

    @property
    def public_value(self) -> bytes:
        return self._public

    def shared_secret(self, peer_public: bytes) -> bytes:
        curve = self._curve
        if len(peer_public) != curve.size:
            raise InvalidPublicValue(
                f"{curve.name}: public value is {len(peer_public)} bytes, not {curve.size}"
            )
        x = int.from_bytes(peer_public, "big")
        curve.validate_x(x)
        secret = curve.x_mul(self._k, x)
        if secret is None:
            raise InvalidPublicValue(f"{curve.name}: shared point is infinity")
        return secret.to_bytes(curve.size, "big")


# RFC 2409 §6.3 "EC2N group on GP[2^155]"; values from anchors.md §4.2, #E = 12 * prime,
# the generator (0x7b, 0x1c8) has order #E / 3 = 4 * prime.
EC2N_155 = Ec2nCurve(
    name="ec2n155",
    group_id=3,
    field=BinaryField(m=155, k=62),
    a=0x0,
    b=0x07338F,
    gx=0x7B,
    gy=0x1C8,
    curve_order=0x0800000000000000000057DB5698537193AEF944,
    order=0x2AAAAAAAAAAAAAAAAAAC7F3C7881BD0868FA86C,
    prime=0xAAAAAAAAAAAAAAAAAAB1FCF1E206F421A3EA1B,
    cofactor=12,
)

# RFC 2409 §6.4 "EC2N group on GP[2^185]"; #E = 4 * prime, the generator (0x18, 0xd) has
# order #E / 2 = 2 * prime.
EC2N_185 = Ec2nCurve(
    name="ec2n185",
    group_id=4,
    field=BinaryField(m=185, k=69),
    a=0x0,
    b=0x1EE9,
    gx=0x18,
    gy=0xD,
    curve_order=0x01FFFFFFFFFFFFFFFFFFFFFFDBF2F889B73E484175F94EBC,
    order=0xFFFFFFFFFFFFFFFFFFFFFFEDF97C44DB9F2420BAFCA75E,
    prime=0x7FFFFFFFFFFFFFFFFFFFFFF6FCBE226DCF92105D7E53AF,
    cofactor=4,
)


def _group(curve: Ec2nCurve) -> KeyExchangeGroup:
    return KeyExchangeGroup(
        name=curve.name,
        id=curve.group_id,
        public_size=curve.size,
        factory=lambda rng: Ec2nKeyExchange(curve, rng),
    )


EC2N_GROUPS: tuple[KeyExchangeGroup, ...] = (_group(EC2N_155), _group(EC2N_185))
