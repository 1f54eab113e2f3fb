"""Twofish in pure Python, from the specification, and Twofish-CBC for ESP.

Source: B. Schneier, J. Kelsey, D. Whiting, D. Wagner, C. Hall, N. Ferguson, "Twofish: A 128-Bit
Block Cipher", 15 June 1998 (the AES submission). Section numbers below refer to that paper.

Theory of operation: the key schedule (§4.3) computes the 40 round subkeys and the key-dependent
S-box words S. Following the "full keying" option of §7.3, the four key-dependent S-boxes are
composed with their MDS column at key setup into four 256-entry tables of 32-bit words, so
``g`` costs four table lookups and three XORs per call, and one block costs 32 calls of ``g``.

Twofish has no IANA ESP/IKE transform id; registry.py documents the private-use ids it is
registered under (racoon's ESP id 253 for IKEv1).
"""

from __future__ import annotations

import struct

from pyipsec.crypto.base import CryptoError

__all__ = ["BLOCK_SIZE", "Twofish", "TwofishCbc"]

BLOCK_SIZE = 16
_M32 = 0xFFFFFFFF
_ZERO_IV = bytes(BLOCK_SIZE)

# §4.3.5: the 4-bit permutations t0..t3 that build q0 and q1.
_Q_TABLES = (
    (  # q0
        (0x8, 0x1, 0x7, 0xD, 0x6, 0xF, 0x3, 0x2, 0x0, 0xB, 0x5, 0x9, 0xE, 0xC, 0xA, 0x4),
        (0xE, 0xC, 0xB, 0x8, 0x1, 0x2, 0x3, 0x5, 0xF, 0x4, 0xA, 0x6, 0x7, 0x0, 0x9, 0xD),
        (0xB, 0xA, 0x5, 0xE, 0x6, 0xD, 0x9, 0x0, 0xC, 0x8, 0xF, 0x3, 0x2, 0x4, 0x7, 0x1),
        (0xD, 0x7, 0xF, 0x4, 0x1, 0x2, 0x6, 0xE, 0x9, 0xB, 0x3, 0x0, 0x8, 0x5, 0xC, 0xA),
    ),
    (  # q1
        (0x2, 0x8, 0xB, 0xD, 0xF, 0x7, 0x6, 0xE, 0x3, 0x1, 0x9, 0x4, 0x0, 0xA, 0xC, 0x5),
        (0x1, 0xE, 0x2, 0xB, 0x4, 0xC, 0x3, 0x7, 0x6, 0xD, 0xA, 0x5, 0xF, 0x9, 0x0, 0x8),
        (0x4, 0xC, 0x7, 0x5, 0x1, 0x6, 0x9, 0xA, 0x0, 0xE, 0xD, 0x8, 0x2, 0xB, 0x3, 0xF),
        (0xB, 0x9, 0x5, 0x1, 0xC, 0x3, 0xD, 0xE, 0x6, 0x4, 0x7, 0xF, 0x2, 0x0, 0x8, 0xA),
    ),
)


def _ror4(x: int, n: int) -> int:
    return ((x >> n) | (x << (4 - n))) & 0xF


def _q(t: tuple[tuple[int, ...], ...], x: int) -> int:
    """§4.3.5: one of the fixed 8-bit permutations q0/q1."""
    a0, b0 = x >> 4, x & 0xF
    a1 = a0 ^ b0
    b1 = a0 ^ _ror4(b0, 1) ^ ((8 * a0) & 0xF)
    a2, b2 = t[0][a1], t[1][b1]
    a3 = a2 ^ b2
    b3 = a2 ^ _ror4(b2, 1) ^ ((8 * a2) & 0xF)
    a4, b4 = t[2][a3], t[3][b3]
    return (b4 << 4) | a4


Q0 = bytes(_q(_Q_TABLES[0], x) for x in range(256))
Q1 = bytes(_q(_Q_TABLES[1], x) for x in range(256))


def _gf_mul(a: int, b: int, poly: int) -> int:
    """Multiplication in GF(2^8) modulo ``poly``."""
    r = 0
    while b:
        if b & 1:
            r ^= a
        a <<= 1
        if a & 0x100:
            a ^= poly
        b >>= 1
    return r


_MDS_POLY = 0x169  # §4.2: v(x) = x^8 + x^6 + x^5 + x^3 + 1
_RS_POLY = 0x14D  # §4.3: w(x) = x^8 + x^6 + x^3 + x^2 + 1

# §4.2: the MDS matrix.
_MDS = (
    (0x01, 0xEF, 0x5B, 0x5B),
    (0x5B, 0xEF, 0xEF, 0x01),
    (0xEF, 0x5B, 0x01, 0xEF),
    (0xEF, 0x01, 0xEF, 0x5B),
)

# §4.3: the Reed-Solomon matrix.
_RS = (
    (0x01, 0xA4, 0x55, 0x87, 0x5A, 0x58, 0xDB, 0x9E),
    (0xA4, 0x56, 0x82, 0xF3, 0x1E, 0xC6, 0x68, 0xE5),
    (0x02, 0xA1, 0xFC, 0xC1, 0x47, 0xAE, 0x3D, 0x19),
    (0xA4, 0x55, 0x87, 0x5A, 0x58, 0xDB, 0x9E, 0x03),
)

# MDS column j times every byte value, as the 32-bit little-endian word it contributes to Z.
_MDS_COL = tuple(
    tuple(sum(_gf_mul(_MDS[i][j], x, _MDS_POLY) << (8 * i) for i in range(4)) for x in range(256))
    for j in range(4)
)

# §4.3.2 (Figure 2): for each byte position of h(), the q applied before each key-word xor,
# in order: before l3 (k = 4 only), before l2 (k >= 3), before l1, before l0; then _FINAL_Q.
_H_ORDER = (
    (Q1, Q1, Q0, Q0),
    (Q0, Q1, Q1, Q0),
    (Q0, Q0, Q0, Q1),
    (Q1, Q0, Q1, Q1),
)


def _h_byte(j: int, y: int, key_bytes: list[list[int]]) -> int:
    """§4.3.2 Figure 2: the q/xor chain of h() for byte position ``j``.

    ``key_bytes[i][j]`` is byte j of list word L_i; k = len(key_bytes).
    """
    k = len(key_bytes)
    order = _H_ORDER[j]
    if k == 4:
        y = order[0][y] ^ key_bytes[3][j]
    if k >= 3:
        y = order[1][y] ^ key_bytes[2][j]
    y = order[2][y] ^ key_bytes[1][j]
    y = order[3][y] ^ key_bytes[0][j]
    return _FINAL_Q[j][y]


# After the last key xor, each byte passes through one more q (the outermost in Figure 2).
_FINAL_Q = (Q1, Q0, Q1, Q0)


def _h(x: int, words: list[int]) -> int:
    """§4.3.2: the function h(X, L)."""
    key_bytes = [[(w >> (8 * j)) & 0xFF for j in range(4)] for w in words]
    z = 0
    for j in range(4):
        z ^= _MDS_COL[j][_h_byte(j, (x >> (8 * j)) & 0xFF, key_bytes)]
    return z


def _rol(x: int, n: int) -> int:
    return ((x << n) | (x >> (32 - n))) & _M32


def _ror(x: int, n: int) -> int:
    return ((x >> n) | (x << (32 - n))) & _M32


class Twofish:
    """The Twofish block cipher with a 128-, 192- or 256-bit key.

    Shorter keys of other lengths are zero-padded as §4.3 allows; this class accepts only
    16, 24 or 32 bytes because that is all ESP uses.
    """

    __slots__ = ("_k", "_s0", "_s1", "_s2", "_s3")

    def __init__(self, key: bytes) -> None:
        if len(key) not in (16, 24, 32):
            raise CryptoError(f"twofish: key must be 16, 24 or 32 bytes, not {len(key)}")
        k = len(key) // 8
        m = struct.unpack(f"<{2 * k}I", key)
        me, mo = list(m[0::2]), list(m[1::2])
        # §4.3: S_i = RS . (m_8i .. m_8i+7), and S is used in reverse order.
        s_words: list[int] = []
        for i in range(k):
            chunk = key[8 * i : 8 * i + 8]
            w = 0
            for r in range(4):
                acc = 0
                for c in range(8):
                    acc ^= _gf_mul(_RS[r][c], chunk[c], _RS_POLY)
                w |= acc << (8 * r)
            s_words.append(w)
        s_words.reverse()
        # §4.3.2: round subkeys K0..K39.
        rho = 0x01010101
        subkeys: list[int] = []
        for i in range(20):
            a = _h((2 * i * rho) & _M32, me)
            b = _rol(_h(((2 * i + 1) * rho) & _M32, mo), 8)
            subkeys.append((a + b) & _M32)
            subkeys.append(_rol((a + 2 * b) & _M32, 9))
        self._k = tuple(subkeys)
        # §7.3 full keying: g(X) = s0[x0] ^ s1[x1] ^ s2[x2] ^ s3[x3].
        key_bytes = [[(w >> (8 * j)) & 0xFF for j in range(4)] for w in s_words]
        tables = [
            tuple(_MDS_COL[j][_h_byte(j, x, key_bytes)] for x in range(256)) for j in range(4)
        ]
        self._s0, self._s1, self._s2, self._s3 = tables

    def encrypt_block(self, block: bytes) -> bytes:
        """§3, Figure 1: encrypt one 16-byte block."""
        return self.cbc_encrypt(_ZERO_IV, block)

    def decrypt_block(self, block: bytes) -> bytes:
        """Decrypt one 16-byte block (the rounds of §3 run backwards)."""
        return self.cbc_decrypt(_ZERO_IV, block)

    def cbc_encrypt(self, iv: bytes, data: bytes) -> bytes:
        """CBC-encrypt whole blocks; the rounds work on the 32-bit words directly (§3)."""
        s0, s1, s2, s3, k = self._s0, self._s1, self._s2, self._s3, self._k
        k0, k1, k2, k3, k4, k5, k6, k7 = k[:8]
        n = len(data) // 4
        words = struct.unpack(f"<{n}I", data)
        out = [0] * n
        c0, c1, c2, c3 = struct.unpack("<4I", iv)
        for i in range(0, n, 4):
            # CBC chaining, then input whitening (§3).
            r0 = words[i] ^ c0 ^ k0
            r1 = words[i + 1] ^ c1 ^ k1
            r2 = words[i + 2] ^ c2 ^ k2
            r3 = words[i + 3] ^ c3 ^ k3
            for rnd in range(8, 40, 4):
                # Two rounds per iteration; the halves swap roles instead of moving.
                t0 = s0[r0 & 0xFF] ^ s1[(r0 >> 8) & 0xFF] ^ s2[(r0 >> 16) & 0xFF] ^ s3[r0 >> 24]
                t1 = s0[r1 >> 24] ^ s1[r1 & 0xFF] ^ s2[(r1 >> 8) & 0xFF] ^ s3[(r1 >> 16) & 0xFF]
                x = r2 ^ ((t0 + t1 + k[rnd]) & _M32)
                r2 = ((x >> 1) | (x << 31)) & _M32
                r3 = (((r3 << 1) | (r3 >> 31)) & _M32) ^ ((t0 + 2 * t1 + k[rnd + 1]) & _M32)
                t0 = s0[r2 & 0xFF] ^ s1[(r2 >> 8) & 0xFF] ^ s2[(r2 >> 16) & 0xFF] ^ s3[r2 >> 24]
                t1 = s0[r3 >> 24] ^ s1[r3 & 0xFF] ^ s2[(r3 >> 8) & 0xFF] ^ s3[(r3 >> 16) & 0xFF]
                x = r0 ^ ((t0 + t1 + k[rnd + 2]) & _M32)
                r0 = ((x >> 1) | (x << 31)) & _M32
                r1 = (((r1 << 1) | (r1 >> 31)) & _M32) ^ ((t0 + 2 * t1 + k[rnd + 3]) & _M32)
            # Output whitening undoes the last swap: C = (R2, R3, R0, R1) ^ K4..K7.
            c0, c1, c2, c3 = r2 ^ k4, r3 ^ k5, r0 ^ k6, r1 ^ k7
            out[i], out[i + 1], out[i + 2], out[i + 3] = c0, c1, c2, c3
        return struct.pack(f"<{n}I", *out)

    def cbc_decrypt(self, iv: bytes, data: bytes) -> bytes:
        """CBC-decrypt whole blocks (the rounds of §3 run backwards)."""
        s0, s1, s2, s3, k = self._s0, self._s1, self._s2, self._s3, self._k
        k0, k1, k2, k3, k4, k5, k6, k7 = k[:8]
        n = len(data) // 4
        words = struct.unpack(f"<{n}I", data)
        out = [0] * n
        p0, p1, p2, p3 = struct.unpack("<4I", iv)
        for i in range(0, n, 4):
            w0, w1, w2, w3 = words[i], words[i + 1], words[i + 2], words[i + 3]
            r2, r3, r0, r1 = w0 ^ k4, w1 ^ k5, w2 ^ k6, w3 ^ k7
            for rnd in range(36, 4, -4):
                t0 = s0[r2 & 0xFF] ^ s1[(r2 >> 8) & 0xFF] ^ s2[(r2 >> 16) & 0xFF] ^ s3[r2 >> 24]
                t1 = s0[r3 >> 24] ^ s1[r3 & 0xFF] ^ s2[(r3 >> 8) & 0xFF] ^ s3[(r3 >> 16) & 0xFF]
                r0 = (((r0 << 1) | (r0 >> 31)) & _M32) ^ ((t0 + t1 + k[rnd + 2]) & _M32)
                x = r1 ^ ((t0 + 2 * t1 + k[rnd + 3]) & _M32)
                r1 = ((x >> 1) | (x << 31)) & _M32
                t0 = s0[r0 & 0xFF] ^ s1[(r0 >> 8) & 0xFF] ^ s2[(r0 >> 16) & 0xFF] ^ s3[r0 >> 24]
                t1 = s0[r1 >> 24] ^ s1[r1 & 0xFF] ^ s2[(r1 >> 8) & 0xFF] ^ s3[(r1 >> 16) & 0xFF]
                r2 = (((r2 << 1) | (r2 >> 31)) & _M32) ^ ((t0 + t1 + k[rnd]) & _M32)
                x = r3 ^ ((t0 + 2 * t1 + k[rnd + 1]) & _M32)
                r3 = ((x >> 1) | (x << 31)) & _M32
            out[i] = r0 ^ k0 ^ p0
            out[i + 1] = r1 ^ k1 ^ p1
            out[i + 2] = r2 ^ k2 ^ p2
            out[i + 3] = r3 ^ k3 ^ p3
            p0, p1, p2, p3 = w0, w1, w2, w3
        return struct.pack(f"<{n}I", *out)


class TwofishCbc:
    """Twofish-CBC, the ESP cipher (RFC 2451 framing: IV is one 16-byte block)."""

    __slots__ = ("_tf",)

    def __init__(self, key: bytes) -> None:
        self._tf = Twofish(key)

    @staticmethod
    def _check(iv: bytes, data: bytes) -> None:
        if len(iv) != BLOCK_SIZE:
            raise CryptoError(f"Twofish-CBC IV must be 16 bytes, not {len(iv)}")
        if len(data) % BLOCK_SIZE:
            raise CryptoError(f"Twofish-CBC data length {len(data)} is not a multiple of 16")

    def encrypt(self, iv: bytes, data: bytes, aad: bytes = b"") -> bytes:
        self._check(iv, data)
        return self._tf.cbc_encrypt(iv, data)

    def decrypt(self, iv: bytes, data: bytes, aad: bytes = b"") -> bytes:
        self._check(iv, data)
        return self._tf.cbc_decrypt(iv, data)


def make_twofish(key: bytes, icv_size: int) -> TwofishCbc:
    """Twofish-CBC factory for the registry."""
    return TwofishCbc(key)
