"""MODP groups 1, 2, 5, 14-18: the primes themselves, the exchange, and RFC 6989 validation."""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable

import pytest
from cryptography.hazmat.primitives.asymmetric import dh

from pyipsec.crypto.base import InvalidPublicValue
from pyipsec.crypto.modp import (
    MODP,
    MODP_GROUPS,
    ModpGroup,
    ModpKeyExchange,
    backend_for,
    powmod_openssl,
    powmod_python,
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


def pi_floor(bits: int) -> int:
    """floor(pi * 2^bits), from Machin's formula in integer arithmetic (64 guard bits)."""
    guard = 64
    one = 1 << (bits + guard)

    def arctan_inv(x: int) -> int:
        total = term = one // x
        x2, n, sign = x * x, 1, -1
        while term:
            term //= x2
            n += 2
            total += sign * (term // n)
            sign = -sign
        return total

    return (4 * (4 * arctan_inv(5) - arctan_inv(239))) >> guard


def miller_rabin(n: int, bases: tuple[int, ...], powmod=pow) -> bool:  # type: ignore[no-untyped-def]
    d, s = n - 1, 0
    while d % 2 == 0:
        d //= 2
        s += 1
    for a in bases:
        x = powmod(a, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(s - 1):
            x = x * x % n
            if x == n - 1:
                break
        else:
            return False
    return True


# RFC 2409 §6.1/§6.2 and RFC 3526 §2-§7: (name, id, bits, k) with
# p = 2^n - 2^(n-64) - 1 + 2^64 * ([2^(n-130) pi] + k).
RFC_PRIMES = (
    ("modp768", 1, 768, 149686),
    ("modp1024", 2, 1024, 129093),
    ("modp1536", 5, 1536, 741804),
    ("modp2048", 14, 2048, 124476),
    ("modp3072", 15, 3072, 1690314),
    ("modp4096", 16, 4096, 240904),
    ("modp6144", 17, 6144, 929484),
    ("modp8192", 18, 8192, 4743158),
)

# RFC 3526 §8, "Strength Estimate 2" column (bits); exponent = max(256, 2 * strength).
RFC3526_EXPONENT_BITS = {1: 256, 2: 256, 5: 256, 14: 320, 15: 420, 16: 480, 17: 540, 18: 620}

BY_ID = {g.group_id: g for g in MODP}


def test_table_matches_the_rfcs() -> None:
    assert [(g.name, g.group_id, g.prime.bit_length(), g.k) for g in MODP] == list(RFC_PRIMES)
    assert {g.group_id: g.exponent_bits for g in MODP} == RFC3526_EXPONENT_BITS
    assert all(g.generator == 2 for g in MODP)


@pytest.mark.parametrize("g", MODP, ids=lambda g: g.name)
def test_prime_matches_the_pi_formula(g: ModpGroup) -> None:
    n = g.prime.bit_length()
    expected = (1 << n) - (1 << (n - 64)) - 1 + (1 << 64) * (pi_floor(n - 130) + g.k)
    assert g.prime == expected
    mask = (1 << 64) - 1
    assert g.prime & mask == mask  # bottom 64 bits all ones
    assert g.prime >> (n - 64) == mask  # top 64 bits all ones


@pytest.mark.parametrize("g", MODP, ids=lambda g: g.name)
def test_prime_is_safe_and_2_generates_the_prime_order_subgroup(g: ModpGroup) -> None:
    p, q = g.prime, (g.prime - 1) // 2
    # q by Miller-Rabin (fixed public numbers, not adversarial: a few bases suffice).
    assert miller_rabin(q, (2, 3, 5))
    # p by Pocklington: q prime, q > sqrt(p), 2^(p-1) = 1 mod p, gcd(2^2 - 1, p) = 1.
    # (2^(p-2) * 2 rather than 2^(p-1): OpenSSL refuses a DH result of 1.)
    assert powmod_openssl(2, p - 2, p) * 2 % p == 1 and p % 3 != 0
    # p = 7 mod 8, so 2 is a quadratic residue: it generates the subgroup of order q.
    assert p % 8 == 7
    assert powmod_openssl(2, q - 1, p) * 2 % p == 1


@pytest.mark.parametrize("g", MODP, ids=lambda g: g.name)
def test_two_sides_agree(g: ModpGroup) -> None:
    group = next(x for x in MODP_GROUPS if x.id == g.group_id)
    for seed in range(2):
        a = group.new(seeded_rng(2 * seed))
        b = group.new(seeded_rng(2 * seed + 1))
        assert a.group == b.group == g.group_id
        assert len(a.public_value) == len(b.public_value) == g.size == group.public_size
        s1 = a.shared_secret(b.public_value)
        assert s1 == b.shared_secret(a.public_value)
        assert len(s1) == g.size
        assert a.public_value != b.public_value


def test_deterministic_for_a_given_rng() -> None:
    g = BY_ID[14]
    assert ModpKeyExchange(g, seeded_rng(7)).public_value == (
        ModpKeyExchange(g, seeded_rng(7)).public_value
    )


def test_public_value_is_g_to_the_x_left_padded() -> None:
    g = BY_ID[1]  # 256-bit exponent: the rng bytes are the exponent exactly
    x_bytes = bytes(31) + b"\x05"
    kx = ModpKeyExchange(g, lambda n: x_bytes[:n])
    assert kx.public_value == (2**5).to_bytes(g.size, "big")  # 95 leading zero bytes
    # and the secret with peer value 3 is 3^5, padded as well
    assert kx.shared_secret((3).to_bytes(g.size, "big")) == (3**5).to_bytes(g.size, "big")


def test_private_exponent_is_short() -> None:
    g = BY_ID[18]
    seen: list[int] = []

    def rng(n: int) -> bytes:
        data = seeded_rng(3)(n)
        seen.append(n)
        return data

    ModpKeyExchange(g, rng)
    assert seen == [(620 + 7) // 8]


@pytest.mark.parametrize("gid", [2, 14, 18])
def test_openssl_and_python_backends_agree(gid: int) -> None:
    p = BY_ID[gid].prime
    rng = seeded_rng(gid)
    for _ in range(3):
        base = int.from_bytes(rng(len(p.to_bytes(BY_ID[gid].size, "big"))), "big") % (p - 3) + 2
        exp = int.from_bytes(rng(80), "big")
        assert powmod_openssl(base, exp, p) == powmod_python(base, exp, p)


def test_openssl_backend_falls_back_on_a_result_of_one() -> None:
    # OpenSSL's DH refuses a shared value of 1 ("invalid secret"); the backend must still
    # return the right number rather than raise or abort.
    p = BY_ID[5].prime
    assert powmod_openssl(2, (p - 1) // 2, p) == 1


def test_backend_selection_falls_back_to_pow(monkeypatch: pytest.MonkeyPatch) -> None:
    from pyipsec.crypto import modp

    assert modp._select_backend() is powmod_openssl
    monkeypatch.setattr(modp, "dh", None)  # pyca/cryptography without FFDH
    assert modp._select_backend() is powmod_python

    def wrong(base: int, exponent: int, prime: int) -> int:
        return 0

    monkeypatch.undo()
    monkeypatch.setattr(modp, "powmod_openssl", wrong)  # an accelerator that disagrees
    assert modp._select_backend() is powmod_python


def test_backend_choice() -> None:
    assert backend_for(BY_ID[1]) is powmod_python
    assert backend_for(BY_ID[2]) is powmod_python
    assert backend_for(BY_ID[18]) is powmod_openssl


@pytest.mark.filterwarnings("ignore:Diffie-Hellman over finite fields")
def test_interop_with_openssl_generated_keys() -> None:
    # Independent implementation: OpenSSL (via pyca/cryptography) generates its own key pair in
    # group 14; our pure-Python side and it must derive the same secret.
    g = BY_ID[14]
    params = dh.DHParameterNumbers(g.prime, 2).parameters()
    theirs = params.generate_private_key()
    their_y = theirs.public_key().public_numbers().y.to_bytes(g.size, "big")
    ours = ModpKeyExchange(g, seeded_rng(11), backend=powmod_python)
    ours_pub = dh.DHPublicNumbers(
        int.from_bytes(ours.public_value, "big"), dh.DHParameterNumbers(g.prime, 2)
    ).public_key()
    assert ours.shared_secret(their_y) == theirs.exchange(ours_pub)


@pytest.mark.parametrize("gid", [1, 14])
def test_peer_value_validation(gid: int) -> None:
    # RFC 6989 §2.1: 1 < y < p - 1, and the prime's length exactly.
    g = BY_ID[gid]
    kx = ModpKeyExchange(g, seeded_rng(1))
    p, size = g.prime, g.size
    for y in (0, 1, p - 1, p, p + 1, (1 << (8 * size)) - 1):
        with pytest.raises(InvalidPublicValue):
            kx.shared_secret(y.to_bytes(size, "big"))
    for bad_len in (b"", (2).to_bytes(size - 1, "big"), (2).to_bytes(size + 1, "big")):
        with pytest.raises(InvalidPublicValue):
            kx.shared_secret(bad_len)
    kx.shared_secret((2).to_bytes(size, "big"))  # the smallest valid value is accepted
    kx.shared_secret((p - 2).to_bytes(size, "big"))


def test_no_key_material_in_repr() -> None:
    kx = ModpKeyExchange(BY_ID[14], seeded_rng(5))
    assert repr(kx) == "<ModpKeyExchange modp2048>"
