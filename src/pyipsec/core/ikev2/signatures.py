"""IKEv2 signature authentication with certificates (RFC 7296 §3.8 method 1, RFC 7427 method
14). Placeholder until the signature AUTH data lands: every use is a plain-words failure."""

from __future__ import annotations

from typing import Any

from pyipsec.core.credentials import Credentials
from pyipsec.core.profiles import PeerProfile
from pyipsec.crypto.base import Rng

__all__ = ["SignatureProblem", "own_subject", "sign", "verify"]


class SignatureProblem(Exception):
    """What made signing or verifying impossible, in plain words."""


def own_subject(creds: Credentials, peer: PeerProfile) -> bytes | None:
    return None


def sign(creds: Credentials, sa: Any, octets: bytes, rng: Rng) -> list[Any]:
    raise SignatureProblem("rsa-signature with IKEv2 is not available yet")


def verify(
    creds: Credentials, sa: Any, msg: Any, ident: Any, auth: Any, octets: bytes, wall: float
) -> None:
    raise SignatureProblem("rsa-signature with IKEv2 is not available yet")
