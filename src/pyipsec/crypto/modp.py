"""MODP key exchange: Oakley groups 1, 2 (RFC 2409 §6.1, §6.2) and 5, 14-18 (RFC 3526).

Theory of operation. Each group is a safe prime p with generator 2. A side draws a private
exponent x from the injected rng, sends g^x mod p left-padded to the prime's length (RFC 7296
§3.4; RFC 2409 §5), and computes (g^y)^x mod p, padded the same way, as the shared secret.
The peer's value is checked first (RFC 6989 §2.1): exactly the prime's length, 1 < y < p - 1.

Private exponents are short (RFC 3526 §8): twice the group's strength estimate, taking the
larger of the RFC's two estimates, and never fewer than 256 bits. For group 18 that is 620
bits instead of 8192, which keeps the exponentiation cost small without weakening the group.

Modular exponentiation uses OpenSSL through pyca/cryptography's finite-field DH when it is
there (constant-time, about 10 ms for an 8192-bit prime and a 620-bit exponent on the
development machine, against about 90 ms for Python's ``pow``), and Python's ``pow``
otherwise and for the small legacy groups 1 and 2 (see ``backend_for``); both give the same
numbers (the tests compare them).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from .base import CryptoError, InvalidPublicValue, KeyExchangeGroup, Rng


def _hex(text: str) -> int:
    return int(text.replace(" ", ""), 16)


# The primes, as printed in RFC 2409 §6.1/§6.2 (also RFC 7296 Appendix B) and RFC 3526 §2-§7.
# Each is 2^n - 2^(n-64) - 1 + 2^64 * ([2^(n-130) pi] + k); tests/crypto/test_modp.py
# recomputes that formula from pi and checks primality of p and (p - 1) / 2.

_P768 = _hex(
    "FFFFFFFF FFFFFFFF C90FDAA2 2168C234 C4C6628B 80DC1CD1 29024E08 8A67CC74 020BBEA6 3B139B22"
    "514A0879 8E3404DD EF9519B3 CD3A431B 302B0A6D F25F1437 4FE1356D 6D51C245 E485B576 625E7EC6"
    "F44C42E9 A63A3620 FFFFFFFF FFFFFFFF"
)

_P1024 = _hex(
    "FFFFFFFF FFFFFFFF C90FDAA2 2168C234 C4C6628B 80DC1CD1 29024E08 8A67CC74 020BBEA6 3B139B22"
    "514A0879 8E3404DD EF9519B3 CD3A431B 302B0A6D F25F1437 4FE1356D 6D51C245 E485B576 625E7EC6"
    "F44C42E9 A637ED6B 0BFF5CB6 F406B7ED EE386BFB 5A899FA5 AE9F2411 7C4B1FE6 49286651 ECE65381"
    "FFFFFFFF FFFFFFFF"
)

_P1536 = _hex(
    "FFFFFFFF FFFFFFFF C90FDAA2 2168C234 C4C6628B 80DC1CD1 29024E08 8A67CC74 020BBEA6 3B139B22"
    "514A0879 8E3404DD EF9519B3 CD3A431B 302B0A6D F25F1437 4FE1356D 6D51C245 E485B576 625E7EC6"
    "F44C42E9 A637ED6B 0BFF5CB6 F406B7ED EE386BFB 5A899FA5 AE9F2411 7C4B1FE6 49286651 ECE45B3D"
    "C2007CB8 A163BF05 98DA4836 1C55D39A 69163FA8 FD24CF5F 83655D23 DCA3AD96 1C62F356 208552BB"
    "9ED52907 7096966D 670C354E 4ABC9804 F1746C08 CA237327 FFFFFFFF FFFFFFFF"
)

_P2048 = _hex(
    "FFFFFFFF FFFFFFFF C90FDAA2 2168C234 C4C6628B 80DC1CD1 29024E08 8A67CC74 020BBEA6 3B139B22"
    "514A0879 8E3404DD EF9519B3 CD3A431B 302B0A6D F25F1437 4FE1356D 6D51C245 E485B576 625E7EC6"
    "F44C42E9 A637ED6B 0BFF5CB6 F406B7ED EE386BFB 5A899FA5 AE9F2411 7C4B1FE6 49286651 ECE45B3D"
    "C2007CB8 A163BF05 98DA4836 1C55D39A 69163FA8 FD24CF5F 83655D23 DCA3AD96 1C62F356 208552BB"
    "9ED52907 7096966D 670C354E 4ABC9804 F1746C08 CA18217C 32905E46 2E36CE3B E39E772C 180E8603"
    "9B2783A2 EC07A28F B5C55DF0 6F4C52C9 DE2BCBF6 95581718 3995497C EA956AE5 15D22618 98FA0510"
    "15728E5A 8AACAA68 FFFFFFFF FFFFFFFF"
)

_P3072 = _hex(
    "FFFFFFFF FFFFFFFF C90FDAA2 2168C234 C4C6628B 80DC1CD1 29024E08 8A67CC74 020BBEA6 3B139B22"
    "514A0879 8E3404DD EF9519B3 CD3A431B 302B0A6D F25F1437 4FE1356D 6D51C245 E485B576 625E7EC6"
    "F44C42E9 A637ED6B 0BFF5CB6 F406B7ED EE386BFB 5A899FA5 AE9F2411 7C4B1FE6 49286651 ECE45B3D"
    "C2007CB8 A163BF05 98DA4836 1C55D39A 69163FA8 FD24CF5F 83655D23 DCA3AD96 1C62F356 208552BB"
    "9ED52907 7096966D 670C354E 4ABC9804 F1746C08 CA18217C 32905E46 2E36CE3B E39E772C 180E8603"
    "9B2783A2 EC07A28F B5C55DF0 6F4C52C9 DE2BCBF6 95581718 3995497C EA956AE5 15D22618 98FA0510"
    "15728E5A 8AAAC42D AD33170D 04507A33 A85521AB DF1CBA64 ECFB8504 58DBEF0A 8AEA7157 5D060C7D"
    "B3970F85 A6E1E4C7 ABF5AE8C DB0933D7 1E8C94E0 4A25619D CEE3D226 1AD2EE6B F12FFA06 D98A0864"
    "D8760273 3EC86A64 521F2B18 177B200C BBE11757 7A615D6C 770988C0 BAD946E2 08E24FA0 74E5AB31"
    "43DB5BFC E0FD108E 4B82D120 A93AD2CA FFFFFFFF FFFFFFFF"
)

_P4096 = _hex(
    "FFFFFFFF FFFFFFFF C90FDAA2 2168C234 C4C6628B 80DC1CD1 29024E08 8A67CC74 020BBEA6 3B139B22"
    "514A0879 8E3404DD EF9519B3 CD3A431B 302B0A6D F25F1437 4FE1356D 6D51C245 E485B576 625E7EC6"
    "F44C42E9 A637ED6B 0BFF5CB6 F406B7ED EE386BFB 5A899FA5 AE9F2411 7C4B1FE6 49286651 ECE45B3D"
    "C2007CB8 A163BF05 98DA4836 1C55D39A 69163FA8 FD24CF5F 83655D23 DCA3AD96 1C62F356 208552BB"
    "9ED52907 7096966D 670C354E 4ABC9804 F1746C08 CA18217C 32905E46 2E36CE3B E39E772C 180E8603"
    "9B2783A2 EC07A28F B5C55DF0 6F4C52C9 DE2BCBF6 95581718 3995497C EA956AE5 15D22618 98FA0510"
    "15728E5A 8AAAC42D AD33170D 04507A33 A85521AB DF1CBA64 ECFB8504 58DBEF0A 8AEA7157 5D060C7D"
    "B3970F85 A6E1E4C7 ABF5AE8C DB0933D7 1E8C94E0 4A25619D CEE3D226 1AD2EE6B F12FFA06 D98A0864"
    "D8760273 3EC86A64 521F2B18 177B200C BBE11757 7A615D6C 770988C0 BAD946E2 08E24FA0 74E5AB31"
    "43DB5BFC E0FD108E 4B82D120 A9210801 1A723C12 A787E6D7 88719A10 BDBA5B26 99C32718 6AF4E23C"
    "1A946834 B6150BDA 2583E9CA 2AD44CE8 DBBBC2DB 04DE8EF9 2E8EFC14 1FBECAA6 287C5947 4E6BC05D"
    "99B2964F A090C3A2 233BA186 515BE7ED 1F612970 CEE2D7AF B81BDD76 2170481C D0069127 D5B05AA9"
    "93B4EA98 8D8FDDC1 86FFB7DC 90A6C08F 4DF435C9 34063199 FFFFFFFF FFFFFFFF"
)

_P6144 = _hex(
    "FFFFFFFF FFFFFFFF C90FDAA2 2168C234 C4C6628B 80DC1CD1 29024E08 8A67CC74 020BBEA6 3B139B22"
    "514A0879 8E3404DD EF9519B3 CD3A431B 302B0A6D F25F1437 4FE1356D 6D51C245 E485B576 625E7EC6"
    "F44C42E9 A637ED6B 0BFF5CB6 F406B7ED EE386BFB 5A899FA5 AE9F2411 7C4B1FE6 49286651 ECE45B3D"
    "C2007CB8 A163BF05 98DA4836 1C55D39A 69163FA8 FD24CF5F 83655D23 DCA3AD96 1C62F356 208552BB"
    "9ED52907 7096966D 670C354E 4ABC9804 F1746C08 CA18217C 32905E46 2E36CE3B E39E772C 180E8603"
    "9B2783A2 EC07A28F B5C55DF0 6F4C52C9 DE2BCBF6 95581718 3995497C EA956AE5 15D22618 98FA0510"
    "15728E5A 8AAAC42D AD33170D 04507A33 A85521AB DF1CBA64 ECFB8504 58DBEF0A 8AEA7157 5D060C7D"
    "B3970F85 A6E1E4C7 ABF5AE8C DB0933D7 1E8C94E0 4A25619D CEE3D226 1AD2EE6B F12FFA06 D98A0864"
    "D8760273 3EC86A64 521F2B18 177B200C BBE11757 7A615D6C 770988C0 BAD946E2 08E24FA0 74E5AB31"
    "43DB5BFC E0FD108E 4B82D120 A9210801 1A723C12 A787E6D7 88719A10 BDBA5B26 99C32718 6AF4E23C"
    "1A946834 B6150BDA 2583E9CA 2AD44CE8 DBBBC2DB 04DE8EF9 2E8EFC14 1FBECAA6 287C5947 4E6BC05D"
    "99B2964F A090C3A2 233BA186 515BE7ED 1F612970 CEE2D7AF B81BDD76 2170481C D0069127 D5B05AA9"
    "93B4EA98 8D8FDDC1 86FFB7DC 90A6C08F 4DF435C9 34028492 36C3FAB4 D27C7026 C1D4DCB2 602646DE"
    "C9751E76 3DBA37BD F8FF9406 AD9E530E E5DB382F 413001AE B06A53ED 9027D831 179727B0 865A8918"
    "DA3EDBEB CF9B14ED 44CE6CBA CED4BB1B DB7F1447 E6CC254B 33205151 2BD7AF42 6FB8F401 378CD2BF"
    "5983CA01 C64B92EC F032EA15 D1721D03 F482D7CE 6E74FEF6 D55E702F 46980C82 B5A84031 900B1C9E"
    "59E7C97F BEC7E8F3 23A97A7E 36CC88BE 0F1D45B7 FF585AC5 4BD407B2 2B4154AA CC8F6D7E BF48E1D8"
    "14CC5ED2 0F8037E0 A79715EE F29BE328 06A1D58B B7C5DA76 F550AA3D 8A1FBFF0 EB19CCB1 A313D55C"
    "DA56C9EC 2EF29632 387FE8D7 6E3C0468 043E8F66 3F4860EE 12BF2D5B 0B7474D6 E694F91E 6DCC4024"
    "FFFFFFFF FFFFFFFF"
)

_P8192 = _hex(
    "FFFFFFFF FFFFFFFF C90FDAA2 2168C234 C4C6628B 80DC1CD1 29024E08 8A67CC74 020BBEA6 3B139B22"
    "514A0879 8E3404DD EF9519B3 CD3A431B 302B0A6D F25F1437 4FE1356D 6D51C245 E485B576 625E7EC6"
    "F44C42E9 A637ED6B 0BFF5CB6 F406B7ED EE386BFB 5A899FA5 AE9F2411 7C4B1FE6 49286651 ECE45B3D"
    "C2007CB8 A163BF05 98DA4836 1C55D39A 69163FA8 FD24CF5F 83655D23 DCA3AD96 1C62F356 208552BB"
    "9ED52907 7096966D 670C354E 4ABC9804 F1746C08 CA18217C 32905E46 2E36CE3B E39E772C 180E8603"
    "9B2783A2 EC07A28F B5C55DF0 6F4C52C9 DE2BCBF6 95581718 3995497C EA956AE5 15D22618 98FA0510"
    "15728E5A 8AAAC42D AD33170D 04507A33 A85521AB DF1CBA64 ECFB8504 58DBEF0A 8AEA7157 5D060C7D"
    "B3970F85 A6E1E4C7 ABF5AE8C DB0933D7 1E8C94E0 4A25619D CEE3D226 1AD2EE6B F12FFA06 D98A0864"
    "D8760273 3EC86A64 521F2B18 177B200C BBE11757 7A615D6C 770988C0 BAD946E2 08E24FA0 74E5AB31"
    "43DB5BFC E0FD108E 4B82D120 A9210801 1A723C12 A787E6D7 88719A10 BDBA5B26 99C32718 6AF4E23C"
    "1A946834 B6150BDA 2583E9CA 2AD44CE8 DBBBC2DB 04DE8EF9 2E8EFC14 1FBECAA6 287C5947 4E6BC05D"
    "99B2964F A090C3A2 233BA186 515BE7ED 1F612970 CEE2D7AF B81BDD76 2170481C D0069127 D5B05AA9"
    "93B4EA98 8D8FDDC1 86FFB7DC 90A6C08F 4DF435C9 34028492 36C3FAB4 D27C7026 C1D4DCB2 602646DE"
    "C9751E76 3DBA37BD F8FF9406 AD9E530E E5DB382F 413001AE B06A53ED 9027D831 179727B0 865A8918"
    "DA3EDBEB CF9B14ED 44CE6CBA CED4BB1B DB7F1447 E6CC254B 33205151 2BD7AF42 6FB8F401 378CD2BF"
    "5983CA01 C64B92EC F032EA15 D1721D03 F482D7CE 6E74FEF6 D55E702F 46980C82 B5A84031 900B1C9E"
    "59E7C97F BEC7E8F3 23A97A7E 36CC88BE 0F1D45B7 FF585AC5 4BD407B2 2B4154AA CC8F6D7E BF48E1D8"
    "14CC5ED2 0F8037E0 A79715EE F29BE328 06A1D58B B7C5DA76 F550AA3D 8A1FBFF0 EB19CCB1 A313D55C"
    "DA56C9EC 2EF29632 387FE8D7 6E3C0468 043E8F66 3F4860EE 12BF2D5B 0B7474D6 E694F91E 6DBE1159"
    "74A3926F 12FEE5E4 38777CB6 A932DF8C D8BEC4D0 73B931BA 3BC832B6 8D9DD300 741FA7BF 8AFC47ED"
    "2576F693 6BA42466 3AAB639C 5AE4F568 3423B474 2BF1C978 238F16CB E39D652D E3FDB8BE FC848AD9"
    "22222E04 A4037C07 13EB57A8 1A23F0C7 3473FC64 6CEA306B 4BCBC886 2F8385DD FA9D4B7F A2C087E8"
    "79683303 ED5BDD3A 062B3CF5 B3A278A6 6D2A13F8 3F44F82D DF310EE0 74AB6A36 4597E899 A0255DC1"
    "64F31CC5 0846851D F9AB4819 5DED7EA1 B1D510BD 7EE74D73 FAF36BC3 1ECFA268 359046F4 EB879F92"
    "4009438B 481C6CD7 889A002E D5EE382B C9190DA6 FC026E47 9558E447 5677E9AA 9E3050E2 765694DF"
    "C81F56E8 80B96E71 60C980DD 98EDD3DF FFFFFFFF FFFFFFFF"
)


@dataclass(frozen=True, slots=True, kw_only=True)
class ModpGroup:
    """A MODP Diffie-Hellman group: safe prime, generator, private exponent length."""

    name: str  # RouterOS name
    group_id: int  # IANA Transform Type 4 id / IKEv1 Group Description
    prime: int
    generator: int
    k: int  # the offset k of the RFC's formula for the prime
    exponent_bits: int  # private exponent length (RFC 3526 §8)

    @property
    def size(self) -> int:
        """Bytes of a public value and of the shared secret: the prime's length."""
        return (self.prime.bit_length() + 7) // 8


def _exponent_bits(strength: int) -> int:
    # RFC 3526 §8: the exponent should have at least twice the bits of the wanted strength.
    return max(256, 2 * strength)


# Group table: (name, id, prime, k, strength in bits). Strength for groups 5 and 14-18 is
# "Strength Estimate 2" of RFC 3526 §8; groups 1 and 2 are below any estimate there and get
# the 256-bit floor.
_TABLE: tuple[tuple[str, int, int, int, int], ...] = (
    ("modp768", 1, _P768, 149686, 0),
    ("modp1024", 2, _P1024, 129093, 0),
    ("modp1536", 5, _P1536, 741804, 120),
    ("modp2048", 14, _P2048, 124476, 160),
    ("modp3072", 15, _P3072, 1690314, 210),
    ("modp4096", 16, _P4096, 240904, 240),
    ("modp6144", 17, _P6144, 929484, 270),
    ("modp8192", 18, _P8192, 4743158, 310),
)

MODP: tuple[ModpGroup, ...] = tuple(
    ModpGroup(
        name=name,
        group_id=gid,
        prime=prime,
        generator=2,
        k=k,
        exponent_bits=_exponent_bits(strength),
    )
    for name, gid, prime, k, strength in _TABLE
)


# -- modular exponentiation backends --


def powmod_python(base: int, exponent: int, prime: int) -> int:
    """base^exponent mod prime with Python's built-in ``pow``."""
    return pow(base, exponent, prime)


try:
    from cryptography.hazmat.primitives.asymmetric import dh
    from cryptography.utils import CryptographyDeprecationWarning
except ImportError:  # pragma: no cover - cryptography is a hard dependency today
    dh = None  # type: ignore[assignment]


@lru_cache(maxsize=16)
def _parameter_numbers(prime: int) -> dh.DHParameterNumbers:
    return dh.DHParameterNumbers(prime, 2)


def powmod_openssl(base: int, exponent: int, prime: int) -> int:
    """base^exponent mod prime through OpenSSL's DH (prime must be a group prime, g = 2).

    The exponent is loaded as a DH private value and ``base`` as the peer's public value; the
    DH "shared key" is then exactly base^exponent mod p. OpenSSL refuses a base outside
    1 < base < p - 1 and a result of 1; those cases are computed with ``pow`` instead.
    """
    try:
        with warnings.catch_warnings():
            # FFDH is deprecated in pyca/cryptography; the pure-Python path takes over if removed.
            warnings.simplefilter("ignore", CryptographyDeprecationWarning)
            numbers = _parameter_numbers(prime)
            private = dh.DHPrivateNumbers(exponent, dh.DHPublicNumbers(2, numbers)).private_key()
            peer = dh.DHPublicNumbers(base, numbers).public_key()
            return int.from_bytes(private.exchange(peer), "big")
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException:  # pyca/cryptography 50 *panics* (a BaseException)
        # when OpenSSL refuses a result of 1; such inputs never come from a validated exchange,
        # but the number is still well defined, so compute it the slow way.
        return pow(base, exponent, prime)


def _select_backend() -> Callable[[int, int, int], int]:
    if dh is None:
        return powmod_python
    try:  # a cheap self-test: the backend must agree with ``pow``
        if powmod_openssl(3, 65537, _P1536) == pow(3, 65537, _P1536):
            return powmod_openssl
    except Exception:  # any failure of the optional accelerator means: do not use it
        pass
    return powmod_python


powmod: Callable[[int, int, int], int] = _select_backend()

# pyca/cryptography runs parameter checks when it loads a DH key with a prime of 1024 bits or
# less (measured: 20-40 ms per key load for groups 1 and 2, against well under 1 ms with a
# 256-bit exponent in Python's ``pow``), so those two legacy groups stay on ``pow``.
_OPENSSL_MIN_BITS = 1536


def backend_for(group: ModpGroup) -> Callable[[int, int, int], int]:
    """The exponentiation backend used for ``group`` by default."""
    if group.prime.bit_length() < _OPENSSL_MIN_BITS:
        return powmod_python
    return powmod


class ModpKeyExchange:
    """One side of a MODP exchange."""

    __slots__ = ("_group", "_powmod", "_public", "_x")

    def __init__(
        self, group: ModpGroup, rng: Rng, *, backend: Callable[[int, int, int], int] | None = None
    ) -> None:
        self._group = group
        self._powmod = backend or backend_for(group)
        self._x = _private_exponent(rng, group.exponent_bits)
        y = self._powmod(group.generator, self._x, group.prime)
        self._public = y.to_bytes(group.size, "big")

    def __repr__(self) -> str:
        return f"<ModpKeyExchange {self._group.name}>"

    @property
    def group(self) -> int:
        return self._group.group_id

    @property
    def public_value(self) -> bytes:
        return self._public

    def shared_secret(self, peer_public: bytes) -> bytes:
        g = self._group
        p = g.prime
        # RFC 6989 §2.1: the value must be of the prime's length and 1 < y < p - 1.
        if len(peer_public) != g.size:
            raise InvalidPublicValue(
                f"{g.name}: public value is {len(peer_public)} bytes, not {g.size}"
            )
        y = int.from_bytes(peer_public, "big")
        if not 1 < y < p - 1:
            raise InvalidPublicValue(f"{g.name}: public value out of range 1 < y < p-1")
        z = self._powmod(y, self._x, p)
        if z in (1, p - 1):  # cannot happen for a valid y and x; refuse rather than use it
            raise InvalidPublicValue(f"{g.name}: degenerate shared secret")
        return z.to_bytes(g.size, "big")


def _private_exponent(rng: Rng, bits: int, *, tries: int = 64) -> int:
    """A uniform exponent in [2, 2^bits) from the injected rng."""
    nbytes = (bits + 7) // 8
    for _ in range(tries):
        x = int.from_bytes(rng(nbytes), "big") >> (8 * nbytes - bits)
        if x >= 2:
            return x
    raise CryptoError("random source gave no usable exponent")


def _group(g: ModpGroup) -> KeyExchangeGroup:
    return KeyExchangeGroup(
        name=g.name, id=g.group_id, public_size=g.size, factory=lambda rng: ModpKeyExchange(g, rng)
    )


MODP_GROUPS: tuple[KeyExchangeGroup, ...] = tuple(_group(g) for g in MODP)
