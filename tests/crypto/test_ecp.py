"""ECP groups 19-21 (RFC 5903) and X25519, group 31 (RFC 8031 / RFC 7748)."""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from pyipsec.crypto.base import InvalidPublicValue
from pyipsec.crypto.ecp import (
    ECP_GROUPS,
    P256,
    P384,
    P521,
    X25519_GROUP,
    EcpCurve,
    EcpKeyExchange,
    X25519KeyExchange,
)


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


def h(text: str) -> bytes:
    return bytes.fromhex(text.replace(" ", ""))


def no_rng(n: int) -> bytes:
    raise AssertionError("the rng must not be used when a private value is given")


# RFC 5903 §8.1 "256-Bit Random ECP Group": i, g^i (x, y), r, g^r (x, y), g^ir x.
RFC5903_8_1 = dict(
    i="C88F01F5 10D9AC3F 70A292DA A2316DE5 44E9AAB8 AFE84049 C62A9C57 862D1433",
    gix="DAD0B653 94221CF9 B051E1FE CA5787D0 98DFE637 FC90B9EF 945D0C37 72581180",
    giy="5271A046 1CDB8252 D61F1C45 6FA3E59A B1F45B33 ACCF5F58 389E0577 B8990BB3",
    r="C6EF9C5D 78AE012A 011164AC B397CE20 88685D8F 06BF9BE0 B283AB46 476BEE53",
    grx="D12DFB52 89C8D4F8 1208B702 70398C34 2296970A 0BCCB74C 736FC755 4494BF63",
    gry="56FBF3CA 366CC23E 8157854C 13C58D6A AC23F046 ADA30F83 53E74F33 039872AB",
    girx="D6840F6B 42F6EDAF D13116E0 E1256520 2FEF8E9E CE7DCE03 812464D0 4B9442DE",
)

# RFC 5903 §8.2 "384-Bit Random ECP Group".
RFC5903_8_2 = dict(
    i="099F3C70 34D4A2C6 99884D73 A375A67F 7624EF7C 6B3C0F16 0647B674 14DCE655"
    " E35B5380 41E649EE 3FAEF896 783AB194",
    gix="667842D7 D180AC2C DE6F74F3 7551F557 55C7645C 20EF73E3 1634FE72 B4C55EE6"
    " DE3AC808 ACB4BDB4 C88732AE E95F41AA",
    giy="9482ED1F C0EEB9CA FC498462 5CCFC23F 65032149 E0E144AD A0241815 35A0F38E"
    " EB9FCFF3 C2C947DA E69B4C63 4573A81C",
    r="41CB0779 B4BDB85D 47846725 FBEC3C94 30FAB46C C8DC5060 855CC9BD A0AA2942"
    " E0308312 916B8ED2 960E4BD5 5A7448FC",
    grx="E558DBEF 53EECDE3 D3FCCFC1 AEA08A89 A987475D 12FD950D 83CFA417 32BC509D"
    " 0D1AC43A 0336DEF9 6FDA41D0 774A3571",
    gry="DCFBEC7A ACF31964 72169E83 8430367F 66EEBE3C 6E70C416 DD5F0C68 759DD1FF"
    " F83FA401 42209DFF 5EAAD96D B9E6386C",
    girx="11187331 C279962D 93D60424 3FD592CB 9D0A926F 422E4718 7521287E 7156C5C4"
    " D6031355 69B9E9D0 9CF5D4A2 70F59746",
)

# RFC 5903 §8.3 "521-Bit Random ECP Group".
RFC5903_8_3 = dict(
    i="0037ADE9 319A89F4 DABDB3EF 411AACCC A5123C61 ACAB57B5 393DCE47 608172A0"
    " 95AA85A3 0FE1C295 2C6771D9 37BA9777 F5957B26 39BAB072 462F68C2 7A57382D 4A52",
    gix="0015417E 84DBF28C 0AD3C278 713349DC 7DF153C8 97A1891B D98BAB43 57C9ECBE"
    " E1E3BF42 E00B8E38 0AEAE57C 2D107564 94188594 2AF5A7F4 601723C4 195D176C ED3E",
    giy="017CAE20 B6641D2E EB695786 D8C94614 6239D099 E18E1D5A 514C739D 7CB4A10A"
    " D8A78801 5AC405D7 799DC75E 7B7D5B6C F2261A6A 7F150743 8BF01BEB 6CA3926F 9582",
    r="0145BA99 A847AF43 793FDD0E 872E7CDF A16BE30F DC780F97 BCCC3F07 8380201E"
    " 9C677D60 0B343757 A3BDBF2A 3163E4C2 F869CCA7 458AA4A4 EFFC311F 5CB15168 5EB9",
    grx="00D0B397 5AC4B799 F5BEA16D 5E13E9AF 971D5E9B 984C9F39 728B5E57 39735A21"
    " 9B97C356 436ADC6E 95BB0352 F6BE64A6 C2912D4E F2D0433C ED2B6171 640012D9 460F",
    gry="015C6822 6383956E 3BD066E7 97B623C2 7CE0EAC2 F551A10C 2C724D98 52077B87"
    " 220B6536 C5C408A1 D2AEBB8E 86D678AE 49CB5709 1F473229 6579AB44 FCD17F0F C56A",
    girx="01144C7D 79AE6956 BC8EDB8E 7C787C45 21CB086F A64407F9 7894E5E6 B2D79B04"
    " D1427E73 CA4BAA24 0A347868 59810C06 B3C715A3 A8CC3151 F2BEE417 996D19F3 DDEA",
)

RFC5903 = [(P256, RFC5903_8_1), (P384, RFC5903_8_2), (P521, RFC5903_8_3)]

# RFC 7748 §6.1, Curve25519 Diffie-Hellman.
X25519_ALICE = "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"
X25519_ALICE_PUB = "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"
X25519_BOB = "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb"
X25519_BOB_PUB = "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f"
X25519_SHARED = "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742"


@pytest.mark.parametrize(("curve", "v"), RFC5903, ids=lambda x: getattr(x, "name", ""))
def test_rfc5903_section_8_vectors(curve: EcpCurve, v: dict[str, str]) -> None:
    i = EcpKeyExchange(curve, no_rng, private_value=int.from_bytes(h(v["i"]), "big"))
    r = EcpKeyExchange(curve, no_rng, private_value=int.from_bytes(h(v["r"]), "big"))
    # KE data is x || y with no point-format octet (RFC 5903 §7).
    assert i.public_value == h(v["gix"]) + h(v["giy"])
    assert r.public_value == h(v["grx"]) + h(v["gry"])
    assert len(i.public_value) == curve.size
    # The shared secret is the x coordinate alone (RFC 5903 §7, §9).
    assert i.shared_secret(r.public_value) == h(v["girx"])
    assert r.shared_secret(i.public_value) == h(v["girx"])


@pytest.mark.parametrize("curve", [P256, P384, P521], ids=lambda c: c.name)
def test_base_point_order(curve: EcpCurve) -> None:
    # (n - 1) * G = -G: same x as G, y = p - y(G). Pins the order constant.
    g = ec.derive_private_key(1, curve.curve).public_key().public_numbers()
    m = ec.derive_private_key(curve.order - 1, curve.curve).public_key().public_numbers()
    assert m.x == g.x and m.y != g.y


@pytest.mark.parametrize("curve", [P256, P384, P521], ids=lambda c: c.name)
def test_key_pair_as_openssl_derives_it(curve: EcpCurve) -> None:
    # The private key is loaded from an RFC 5915 encoding of the scalar alone (OpenSSL makes
    # the public point); the result must be what cryptography's derive_private_key gives for
    # the same scalar, at both ends of [1, n-1] and for random ones. The oid must name the
    # curve (a wrong one would load a key on another curve).
    rng = seeded_rng(7)
    scalars = [1, 2, curve.order - 1] + [
        int.from_bytes(rng(curve.field_bytes), "big") % (curve.order - 1) + 1 for _ in range(8)
    ]
    for d in scalars:
        ours = EcpKeyExchange(curve, no_rng, private_value=d)
        numbers = ec.derive_private_key(d, curve.curve).public_key().public_numbers()
        n = curve.field_bytes
        assert ours.public_value == numbers.x.to_bytes(n, "big") + numbers.y.to_bytes(n, "big")
    for bad in (0, curve.order):
        with pytest.raises(ValueError):
            EcpKeyExchange(curve, no_rng, private_value=bad)


@pytest.mark.parametrize("group", ECP_GROUPS, ids=lambda g: g.name)
def test_two_sides_agree(group) -> None:  # type: ignore[no-untyped-def]
    for seed in range(3):
        a = group.new(seeded_rng(2 * seed))
        b = group.new(seeded_rng(2 * seed + 1))
        assert a.group == group.id
        assert len(a.public_value) == group.public_size
        assert a.shared_secret(b.public_value) == b.shared_secret(a.public_value)
    assert group.new(seeded_rng(9)).public_value == group.new(seeded_rng(9)).public_value


@pytest.mark.parametrize("curve", [P256, P384, P521], ids=lambda c: c.name)
def test_invalid_points_rejected(curve: EcpCurve) -> None:
    kx = EcpKeyExchange(curve, seeded_rng(1))
    good = EcpKeyExchange(curve, seeded_rng(2)).public_value
    n = curve.field_bytes
    off_curve = good[:-1] + bytes([good[-1] ^ 1])
    bad = [
        b"",
        good[:-1],
        good + b"\x00",
        b"\x04" + good,  # the SEC 1 form is not the IKE encoding
        off_curve,
        bytes(2 * n),  # (0, 0): not on the curve; the point at infinity has no encoding
        b"\xff" * (2 * n),  # coordinates above the field prime
    ]
    for value in bad:
        with pytest.raises(InvalidPublicValue):
            kx.shared_secret(value)
    kx.shared_secret(good)


def test_rfc7748_section_6_1() -> None:
    alice = X25519KeyExchange(no_rng, private_bytes=h(X25519_ALICE))
    bob = X25519KeyExchange(no_rng, private_bytes=h(X25519_BOB))
    assert alice.public_value == h(X25519_ALICE_PUB)
    assert bob.public_value == h(X25519_BOB_PUB)
    assert alice.shared_secret(bob.public_value) == h(X25519_SHARED)
    assert bob.shared_secret(alice.public_value) == h(X25519_SHARED)


def test_x25519_private_comes_from_the_rng() -> None:
    kx = X25519_GROUP.new(lambda n: h(X25519_ALICE)[:n])
    assert kx.public_value == h(X25519_ALICE_PUB)
    assert kx.group == 31 == X25519_GROUP.id
    assert X25519_GROUP.public_size == 32


def test_x25519_two_sides_agree() -> None:
    for seed in range(3):
        a = X25519_GROUP.new(seeded_rng(seed))
        b = X25519_GROUP.new(seeded_rng(seed + 100))
        assert a.shared_secret(b.public_value) == b.shared_secret(a.public_value)


@pytest.mark.parametrize(
    "u",
    [
        bytes(32),  # u = 0
        (1).to_bytes(32, "little"),  # u = 1, order 1 on the twist / curve
        # u = p - 1 and u = p (= 0 mod p): low-order points (RFC 7748 §5 takes u mod p).
        (2**255 - 19 - 1).to_bytes(32, "little"),
        (2**255 - 19).to_bytes(32, "little"),
    ],
)
def test_x25519_low_order_values_rejected(u: bytes) -> None:
    kx = X25519_GROUP.new(seeded_rng(4))
    with pytest.raises(InvalidPublicValue):
        kx.shared_secret(u)


def test_x25519_wrong_length_rejected() -> None:
    kx = X25519_GROUP.new(seeded_rng(4))
    for value in (b"", b"\x09" + bytes(30), b"\x09" + bytes(32)):
        with pytest.raises(InvalidPublicValue):
            kx.shared_secret(value)


def test_no_key_material_in_repr() -> None:
    assert repr(EcpKeyExchange(P256, seeded_rng(1))) == "<EcpKeyExchange ecp256>"
    assert repr(X25519_GROUP.new(seeded_rng(1))) == "<X25519KeyExchange>"
