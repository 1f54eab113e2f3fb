"""IKEv2 AUTH data (RFC 7296 §2.15): signed octets and the shared-key MIC.

The formulas are spelled out here with plain hmac; strongSwan's AUTH values for a real
exchange are reproduced in tests/core/ikev2/test_strongswan_vectors.py.
"""

from __future__ import annotations

import hmac

from pyipsec.core.ikev2.authdata import (
    initiator_signed_octets,
    psk_auth,
    responder_signed_octets,
    verify_psk_auth,
)
from pyipsec.crypto import registry

SHA256 = registry.prf("sha256")


def _h(key: bytes, data: bytes) -> bytes:
    return hmac.digest(key, data, "sha256")


def test_signed_octets() -> None:
    msg1, msg2, ni, nr = b"M1" * 50, b"M2" * 40, b"i" * 32, b"r" * 32
    sk_pi, sk_pr = b"P" * 32, b"Q" * 32
    id_i = b"\x01\x00\x00\x00" + bytes([198, 51, 100, 1])
    id_r = b"\x02\x00\x00\x00" + b"responder.example"
    assert initiator_signed_octets(SHA256, msg1, nr, sk_pi, id_i) == msg1 + nr + _h(sk_pi, id_i)
    assert responder_signed_octets(SHA256, msg2, ni, sk_pr, id_r) == msg2 + ni + _h(sk_pr, id_r)


def test_psk_auth() -> None:
    octets, secret = b"octets" * 30, b"test-secret"
    expected = _h(_h(secret, b"Key Pad for IKEv2"), octets)
    assert psk_auth(SHA256, secret, octets) == expected
    assert verify_psk_auth(SHA256, secret, octets, expected)
    assert not verify_psk_auth(SHA256, b"wrong", octets, expected)
    assert not verify_psk_auth(SHA256, secret, octets, expected[:-1])
    assert not verify_psk_auth(SHA256, secret, octets + b"x", expected)
