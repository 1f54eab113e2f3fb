"""IKEv2 AUTH payload data: the signed octets, shared-key MACs and signatures (RFC 7296 §2.15).

What each side authenticates (§2.15)::

    InitiatorSignedOctets = RealMessage1 | NonceRData | MACedIDForI
    MACedIDForI           = prf(SK_pi, RestOfInitIDPayload)
    ResponderSignedOctets = RealMessage2 | NonceIData | MACedIDForR
    MACedIDForR           = prf(SK_pr, RestOfRespIDPayload)

RealMessage1/2 are the IKE_SA_INIT request/response exactly as sent (whole UDP payload after
any non-ESP marker), NonceRData/NonceIData the peer's nonce data, RestOfXIDPayload the ID
payload from its ID Type field on (``IdPayload.body()``).

Shared key message integrity code (method 2)::

    AUTH = prf(prf(Shared Secret, "Key Pad for IKEv2"), <SignedOctets>)

The same formula with the EAP MSK instead of the shared secret authenticates EAP (§2.16).
"""

from __future__ import annotations

import hmac

from pyipsec.crypto.base import PrfAlgorithm

__all__ = [
    "KEY_PAD",
    "initiator_signed_octets",
    "psk_auth",
    "responder_signed_octets",
    "verify_psk_auth",
]

KEY_PAD = b"Key Pad for IKEv2"  # RFC 7296 §2.15, 17 ASCII characters, no NUL


def initiator_signed_octets(
    prf: PrfAlgorithm, real_message1: bytes, nonce_r: bytes, sk_pi: bytes, id_i_body: bytes
) -> bytes:
    """InitiatorSignedOctets = RealMessage1 | NonceRData | prf(SK_pi, RestOfInitIDPayload)."""
    return real_message1 + nonce_r + prf.prf(sk_pi, id_i_body)


def responder_signed_octets(
    prf: PrfAlgorithm, real_message2: bytes, nonce_i: bytes, sk_pr: bytes, id_r_body: bytes
) -> bytes:
    """ResponderSignedOctets = RealMessage2 | NonceIData | prf(SK_pr, RestOfRespIDPayload)."""
    return real_message2 + nonce_i + prf.prf(sk_pr, id_r_body)


def psk_auth(prf: PrfAlgorithm, secret: bytes, signed_octets: bytes) -> bytes:
    """AUTH data for Shared Key Message Integrity Code (method 2, RFC 7296 §2.15).

    prf(prf(secret, "Key Pad for IKEv2"), signed_octets); ``secret`` is the pre-shared key or,
    for EAP, the MSK (§2.16).
    """
    return prf.prf(prf.prf(secret, KEY_PAD), signed_octets)


def verify_psk_auth(
    prf: PrfAlgorithm, secret: bytes, signed_octets: bytes, received: bytes
) -> bool:
    """Whether ``received`` AUTH data is the shared-key MIC of ``signed_octets`` (constant time)."""
    return hmac.compare_digest(psk_auth(prf, secret, signed_octets), received)
