"""The one error class IKEv1 decoding raises."""

from __future__ import annotations

from .constants import NotifyMessageType

__all__ = ["MalformedMessage"]


class MalformedMessage(ValueError):
    """An ISAKMP message or payload that cannot be decoded.

    ``notify`` is the error notify type to answer with (RFC 2408 §5: PAYLOAD_MALFORMED,
    INVALID_PAYLOAD_TYPE, UNEQUAL_PAYLOAD_LENGTHS, ...). The text never contains key material.
    """

    def __init__(self, notify: NotifyMessageType, detail: str) -> None:
        super().__init__(f"{notify.name}: {detail}")
        self.notify = notify
        self.detail = detail
