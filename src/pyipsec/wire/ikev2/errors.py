"""The errors IKEv2 decoding raises: ``MalformedMessage`` (with its notify) and
``IntegrityCheckFailed``. Nothing else escapes ``decode``, ``decode_protected`` or reassembly.
"""

from __future__ import annotations

from .constants import NotifyType

__all__ = [
    "IntegrityCheckFailed",
    "InvalidMajorVersion",
    "MalformedMessage",
    "UnsupportedCriticalPayload",
    "invalid_syntax",
    "need",
]


class MalformedMessage(ValueError):
    """An IKEv2 message that cannot be decoded.

    ``notify`` is the error type to answer with (RFC 7296 §2.21, §3.10.1): INVALID_SYNTAX for
    any structural problem, INVALID_MAJOR_VERSION, UNSUPPORTED_CRITICAL_PAYLOAD. ``notify_data``
    is the Notification Data that goes with it (the payload type for an unsupported critical
    payload, the highest version we speak for INVALID_MAJOR_VERSION). RFC 7296 §2.21.2: a
    malformed message that has not been authenticated gets no answer, an authenticated malformed
    request is answered: ``authenticated`` is True when the problem was found after the ICV (or
    AEAD tag) verified (bad padding, inner payloads that do not parse). The text never contains
    key material.
    """

    def __init__(
        self,
        notify: NotifyType = NotifyType.INVALID_SYNTAX,
        detail: str = "",
        *,
        notify_data: bytes = b"",
        authenticated: bool = False,
    ) -> None:
        super().__init__(f"{notify.name}: {detail}")
        self.notify = notify
        self.detail = detail
        self.notify_data = notify_data
        self.authenticated = authenticated


class InvalidMajorVersion(MalformedMessage):
    """The header's major version is greater than 2 (RFC 7296 §2.5, §3.1)."""

    def __init__(self, major: int) -> None:
        # RFC 7296 §1.5: the notification data carries the highest version we support.
        super().__init__(
            NotifyType.INVALID_MAJOR_VERSION, f"major version {major}", notify_data=b"\x20"
        )
        self.major = major


class UnsupportedCriticalPayload(MalformedMessage):
    """A payload of a type we do not know had the critical bit set (RFC 7296 §2.5, §3.2)."""

    def __init__(self, payload_type: int) -> None:
        # RFC 7296 §3.10.1: the notification data is the one-octet payload type.
        super().__init__(
            NotifyType.UNSUPPORTED_CRITICAL_PAYLOAD,
            f"payload type {payload_type}",
            notify_data=bytes((payload_type,)),
        )
        self.payload_type = payload_type


class IntegrityCheckFailed(ValueError):
    """The ICV (or AEAD tag) of an Encrypted or Encrypted Fragment payload did not verify.

    RFC 7296 §2.21.2: such a message is dropped without an answer and may be counted.
    """


def invalid_syntax(detail: str) -> MalformedMessage:
    """The payload decoders' error for any structural problem (RFC 7296 §3.10.1)."""
    return MalformedMessage(NotifyType.INVALID_SYNTAX, detail)


def need(body: bytes, n: int, what: str) -> None:
    """INVALID_SYNTAX unless ``body`` (a ``what`` payload's) has at least ``n`` octets."""
    if len(body) < n:
        raise invalid_syntax(f"{what} payload too short ({len(body)} < {n} bytes)")
