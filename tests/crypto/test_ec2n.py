"""EC2N groups 3 and 4 (RFC 2409 §6.3/6.4): field, curve, ladder, exchange and validation.

No published vectors exist for these groups (anchors.md §4.2); the parameters are checked
numerically here (irreducible field polynomial, generator on the curve, group orders), the
x-only ladder against plain affine double-and-add, and the exchange for agreement.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pyipsec.crypto.base import CryptoError, InvalidPublicValue
from pyipsec.crypto.ec2n import (
    EC2N_155,
    EC2N_185,
    EC2N_GROUPS,
    BinaryField,
    Ec2nCurve,
    Ec2nKeyExchange,
    Point,
    clmul,
    random_scalar,
)

CURVES = [EC2N_155, EC2N_185]


def seeded_rng(seed: int) -> Callable[[int], bytes]:
    """A deterministic byte source: SHA-256 in counter mode over the seed."""
    counter = itertools.count()
    buf = bytearray()

    def rng(n: int) -> bytes:
        while len(buf) < n:
            buf.extend(hashlib.sha256(f"{seed}:{next(counter)}".encode()).digest())
        out = bytes(buf[:n])
        del buf[:n]
        return out

    return rng


def is_probable_prime(n: int) -> bool:
    if n < 2:
        return False
    for small in (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37):
        if n % small == 0:
            return n == small
    d, s = n - 1, 0
    while d % 2 == 0:
        d //= 2
        s += 1
    for a in (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41):  # 13 rounds for ~190-bit n
        x = pow(a, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(s - 1):
            x = x * x % n
            if x == n - 1:
                break
        else:
            return False
    return True


def naive_clmul(a: int, b: int) -> int:
    r = 0
    while b:
        if b & 1:
            r ^= a
        a <<= 1
        b >>= 1
    return r


def poly_mod(a: int, f: int) -> int:
    df = f.bit_length()
    while a.bit_length() >= df:
        a ^= f << (a.bit_length() - df)
    return a


def poly_gcd(a: int, b: int) -> int:
    while b:
        a, b = b, poly_mod(a, b)
    return a


def point_on(curve: Ec2nCurve, seed: int) -> tuple[int, int]:
    """A deterministic pseudo-random point of the curve (x from the seed, y by lift_x)."""
    rng = seeded_rng(seed)
    while True:
        x = int.from_bytes(rng(curve.size), "big") >> (8 * curve.size - curve.field.m)
        p = curve.lift_x(x)
        if p is not None and x:
            return p


# -- the field --

fields = st.sampled_from([EC2N_155.field, EC2N_185.field])


@st.composite
def field_and_elements(draw: st.DrawFn, n: int = 3) -> tuple[BinaryField, list[int]]:
    f = draw(fields)
    return f, [draw(st.integers(0, (1 << f.m) - 1)) for _ in range(n)]


@given(st.integers(0, (1 << 255) - 1), st.integers(0, (1 << 255) - 1))
def test_clmul_matches_schoolbook(a: int, b: int) -> None:
    assert clmul(a, b) == naive_clmul(a, b)


@given(field_and_elements())
def test_field_ring_laws(fe: tuple[BinaryField, list[int]]) -> None:
    f, (a, b, c) = fe
    assert f.mul(a, b) == f.mul(b, a)
    assert f.mul(a, b ^ c) == f.mul(a, b) ^ f.mul(a, c)  # distributivity
    assert f.mul(f.mul(a, b), c) == f.mul(a, f.mul(b, c))
    assert f.sqr(a) == f.mul(a, a)
    assert f.mul(a, 1) == a
    assert f.mul(a, b) == poly_mod(naive_clmul(a, b), f.modulus)


@given(field_and_elements(n=1))
def test_field_inverse(fe: tuple[BinaryField, list[int]]) -> None:
    f, (a,) = fe
    if a == 0:
        with pytest.raises(ZeroDivisionError):
            f.inv(a)
    else:
        assert f.mul(a, f.inv(a)) == 1


@settings(max_examples=30)
@given(field_and_elements(n=1))
def test_half_trace_solves_the_quadratic(fe: tuple[BinaryField, list[int]]) -> None:
    f, (a,) = fe
    z = f.half_trace(a)
    assert f.trace(a) in (0, 1)
    assert f.sqr(z) ^ z == a ^ f.trace(a)  # solves z^2 + z = a exactly when Tr(a) = 0


@pytest.mark.parametrize("f", [EC2N_155.field, EC2N_185.field], ids=lambda f: str(f.m))
def test_field_polynomial_is_irreducible(f: BinaryField) -> None:
    # Rabin's test: x^(2^m) = x mod f, and gcd(x^(2^(m/r)) - x, f) = 1 for each prime r | m.
    m = f.m
    primes = [r for r in range(2, m + 1) if m % r == 0 and all(r % d for d in range(2, r))]
    assert f.sqr_n(0b10, m) == 0b10
    for r in primes:
        assert poly_gcd(f.modulus, f.sqr_n(0b10, m // r) ^ 0b10) == 1
    assert f.modulus == {155: (1 << 155) | (1 << 62) | 1, 185: (1 << 185) | (1 << 69) | 1}[m]


# -- the curves --


@pytest.mark.parametrize("c", CURVES, ids=lambda c: c.name)
def test_generator_and_orders(c: Ec2nCurve) -> None:
    g = c.generator
    assert c.is_on_curve(g)
    assert c.lift_x(c.gx) in (g, c.neg(g))  # y recovery finds (x, y) or (x, x + y)
    assert is_probable_prime(c.prime)
    assert c.curve_order == c.cofactor * c.prime
    # Hasse: |#E - (2^m + 1)| <= 2 sqrt(2^m)
    assert (c.curve_order - (1 << c.field.m) - 1) ** 2 <= 4 * (1 << c.field.m)
    # (order) * G = O, and for each prime r | order, (order / r) * G != O: the exact order.
    assert c.mul(c.order, g) is None
    assert c.x_mul(c.order, c.gx) is None
    for r in (2, c.prime):
        assert c.order % r == 0
        assert c.mul(c.order // r, g) is not None
    # "Group Order" of the RFC is the whole curve: #E * R = O for arbitrary points R.
    for seed in range(3):
        assert c.mul(c.curve_order, point_on(c, seed)) is None


def test_cofactor_structure() -> None:
    # ec2n155: #E = 12p, G has order 4p; the other factor 3 shows up outside <G>.
    c = EC2N_155
    assert c.order == 4 * c.prime
    assert c.curve_order == 3 * c.order
    # ec2n185: #E = 4q, G has order 2q.
    assert EC2N_185.order == 2 * EC2N_185.prime
    assert EC2N_185.curve_order == 2 * EC2N_185.order
    # A point of order 3 exists on ec2n155: 4p * R for some R.
    r3 = next(q for q in (c.mul(4 * c.prime, point_on(c, s)) for s in range(20)) if q is not None)
    assert c.mul(3, r3) is None and c.double(r3) is not None


@settings(max_examples=25, deadline=None)
@given(st.sampled_from(CURVES), st.integers(0, 10**6), st.integers(0, 10**6), st.integers(0, 10**6))
def test_group_laws(c: Ec2nCurve, s1: int, s2: int, s3: int) -> None:
    p, q, r = point_on(c, s1), point_on(c, s2), point_on(c, s3)
    assert c.add(p, c.neg(p)) is None
    assert c.add(p, None) == p and c.add(None, p) == p
    assert c.double(p) == c.add(p, p)
    assert c.add(p, q) == c.add(q, p)
    assert c.add(c.add(p, q), r) == c.add(p, c.add(q, r))
    for pt in (c.add(p, q), c.double(p), c.neg(p)):
        assert c.is_on_curve(pt)


@settings(max_examples=10, deadline=None)
@given(st.sampled_from(CURVES), st.integers(1, 2**200), st.integers(0, 10**6))
def test_ladder_matches_affine_multiplication(c: Ec2nCurve, k: int, s: int) -> None:
    p = point_on(c, s)
    expected = c.mul(k, p)
    assert c.x_mul(k, p[0]) == (None if expected is None else expected[0])


@pytest.mark.parametrize("c", CURVES, ids=lambda c: c.name)
def test_ladder_small_scalars_and_edges(c: Ec2nCurve) -> None:
    g = c.generator
    acc: Point = None
    for k in range(1, 20):
        acc = c.add(acc, g)
        assert acc is not None
        assert c.x_mul(k, c.gx) == acc[0]
    assert c.x_mul(0, c.gx) is None
    assert c.x_mul(c.order - 1, c.gx) == c.gx  # -G has the x of G
    assert c.x_mul(c.order + 5, c.gx) == c.x_mul(5, c.gx)


# -- the exchange --


@pytest.mark.parametrize("group", EC2N_GROUPS, ids=lambda g: g.name)
def test_two_sides_agree(group) -> None:  # type: ignore[no-untyped-def]
    curve = {3: EC2N_155, 4: EC2N_185}[group.id]
    for seed in range(4):
        a = group.new(seeded_rng(2 * seed))
        b = group.new(seeded_rng(2 * seed + 1))
        assert a.group == group.id
        assert len(a.public_value) == group.public_size == curve.size
        s = a.shared_secret(b.public_value)
        assert s == b.shared_secret(a.public_value)
        assert len(s) == curve.size
    assert group.new(seeded_rng(5)).public_value == group.new(seeded_rng(5)).public_value
    assert {3: 20, 4: 24}[group.id] == group.public_size


@pytest.mark.parametrize("c", CURVES, ids=lambda c: c.name)
def test_exchange_matches_affine_arithmetic(c: Ec2nCurve) -> None:
    rng_a, rng_b = seeded_rng(21), seeded_rng(22)
    ka, kb = random_scalar(seeded_rng(21), c.order), random_scalar(seeded_rng(22), c.order)
    a, b = Ec2nKeyExchange(c, rng_a), Ec2nKeyExchange(c, rng_b)
    pa = c.mul(ka, c.generator)
    assert pa is not None
    assert a.public_value == pa[0].to_bytes(c.size, "big")
    shared = c.mul(ka * kb, c.generator)
    assert shared is not None
    assert a.shared_secret(b.public_value) == shared[0].to_bytes(c.size, "big")


def test_random_scalar_range_and_rejection() -> None:
    # An rng that first yields values out of range (0, then >= order) must be retried.
    values = iter([b"\x00\x00", b"\xff\xff", b"\x00\x05"])
    assert random_scalar(lambda n: next(values), 0xFFFF) == 5
    # Excess high bits are dropped: order 1000 has 10 bits, so 0xffff -> 0x3ff = 1023 >= 1000.
    values = iter([b"\xff\xff", b"\x01\x40"])
    assert random_scalar(lambda n: next(values), 1000) == 5
    with pytest.raises(CryptoError, match="no usable scalar"):
        random_scalar(lambda n: bytes(n), 1000)


def no_point_x(c: Ec2nCurve) -> int:
    for x in range(1, 1000):
        if c.lift_x(x) is None:
            return x
    raise AssertionError("no x without a point in range")


@pytest.mark.parametrize("c", CURVES, ids=lambda c: c.name)
def test_invalid_peer_values_rejected(c: Ec2nCurve) -> None:
    kx = Ec2nKeyExchange(c, seeded_rng(3))
    size = c.size
    half = c.mul(c.order // 2, c.generator)  # the point of order 2: x = 0
    assert half is not None and half[0] == 0
    bad = {
        "empty": b"",
        "short": c.gx.to_bytes(size - 1, "big"),
        "long": c.gx.to_bytes(size + 1, "big"),
        "x = 0 (order 2)": bytes(size),
        "x beyond the field": (1 << c.field.m | c.gx).to_bytes(size, "big"),
        "no point with this x": no_point_x(c).to_bytes(size, "big"),
    }
    # Small order inside <G>: order 4 on ec2n155 (p * G), order 2 on both.
    if c.order % 4 == 0:
        q4 = c.mul(c.prime, c.generator)
        assert q4 is not None
        bad["order 4"] = q4[0].to_bytes(size, "big")
    # Outside <G>: a point R with order(G) * R != O.
    for s in range(40):
        r = point_on(c, 1000 + s)
        if c.mul(c.order, r) is not None:
            bad["outside <G>"] = r[0].to_bytes(size, "big")
            break
    assert "outside <G>" in bad
    for name, value in bad.items():
        try:
            kx.shared_secret(value)
        except InvalidPublicValue:
            continue
        pytest.fail(f"accepted a bad public value: {name}")
    kx.shared_secret(c.gx.to_bytes(size, "big"))  # the generator itself is fine


def test_order_3_point_rejected_on_ec2n155() -> None:
    c = EC2N_155
    kx = Ec2nKeyExchange(c, seeded_rng(3))
    r3 = next(q for q in (c.mul(4 * c.prime, point_on(c, s)) for s in range(20)) if q is not None)
    with pytest.raises(InvalidPublicValue, match="small order"):
        kx.shared_secret(r3[0].to_bytes(c.size, "big"))


def test_no_key_material_in_repr() -> None:
    assert repr(Ec2nKeyExchange(EC2N_185, seeded_rng(1))) == "<Ec2nKeyExchange ec2n185>"
