"""Keyed integrity transforms for ESP and AH: HMAC truncated to the ICV size, and NULL.

HMAC-MD5-96 (RFC 2403), HMAC-SHA-1-96 (RFC 2404), HMAC-SHA-256-128, HMAC-SHA-384-192 and
HMAC-SHA-512-256 (RFC 4868 §2). The ICV is the leftmost ``icv_size`` bytes of the HMAC output
(RFC 2104 §5, RFC 4868 §2.3).

Per-SA precomputation: the HMAC inner and outer pads are hashed once when the SA is keyed, and
every packet starts from a copy of that state (``hmac.HMAC.copy()``, backed by OpenSSL), which
saves two compression-function calls per packet over a one-shot ``hmac.digest()``.
"""

from __future__ import annotations

import hmac

from pyipsec.crypto.base import Mac

__all__ = ["HmacMac", "NullMac", "make_hmac_factory", "make_null_mac"]


class HmacMac:
    """HMAC-``digest`` with the output truncated to ``icv_size`` bytes."""

    __slots__ = ("_base", "_icv_size")

    def __init__(self, key: bytes, digest: str, icv_size: int) -> None:
        self._base = hmac.new(key, digestmod=digest)
        self._icv_size = icv_size

    @property
    def icv_size(self) -> int:
        return self._icv_size

    def compute(self, data: bytes) -> bytes:
        h = self._base.copy()
        h.update(data)
        return h.digest()[: self._icv_size]

    def verify(self, data: bytes, icv: bytes) -> bool:
        """Constant-time check of ``icv`` against ``compute(data)``."""
        return hmac.compare_digest(self.compute(data), icv)


class NullMac:
    """No integrity (ESP with an AEAD cipher, or NULL auth): an empty ICV."""

    __slots__ = ()

    @property
    def icv_size(self) -> int:
        return 0

    def compute(self, data: bytes) -> bytes:
        return b""

    def verify(self, data: bytes, icv: bytes) -> bool:
        return icv == b""


def make_hmac_factory(digest: str, icv_size: int) -> _HmacFactory:
    """A factory (key -> keyed Mac) for HMAC-``digest``-``icv_size*8``."""
    return _HmacFactory(digest, icv_size)


class _HmacFactory:
    __slots__ = ("digest", "icv_size")

    def __init__(self, digest: str, icv_size: int) -> None:
        self.digest = digest
        self.icv_size = icv_size

    def __call__(self, key: bytes) -> Mac:
        return HmacMac(key, self.digest, self.icv_size)


_NULL = NullMac()


def make_null_mac(key: bytes) -> Mac:
    return _NULL
