"""Errors of the IKEv1 engine: each carries the notify type to answer with (RFC 2408 §3.14.1).

The classes of both IKE versions share ``core/errors.py``: IKEv1's ``RemoteProtocolError`` is
also a ``core.errors.RemoteProtocolError`` (and so on), with IKEv1's notify registry.

``RemoteProtocolError`` is the peer's fault (a proposal we cannot accept, a bad identity): the
state machine answers with ``.notify`` (an informational exchange) and drops the exchange.
``LocalProtocolError`` is ours (nothing to offer, a configuration the protocol cannot carry);
nothing is sent for it. Wire decoding errors (``wire.ikev1.errors.MalformedMessage``) become
the matching class here through ``from_malformed``.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import ClassVar

from pyipsec.core import errors
from pyipsec.wire.ikev1.constants import NotifyMessageType
from pyipsec.wire.ikev1.errors import MalformedMessage

__all__ = [
    "NOTIFY_ERRORS",
    "AttributesNotSupported",
    "BadProposalSyntax",
    "InvalidIdInformation",
    "InvalidProtocolId",
    "InvalidSpi",
    "InvalidTransformId",
    "LocalProtocolError",
    "NoProposalChosen",
    "PayloadMalformed",
    "ProtocolError",
    "RemoteProtocolError",
    "error_for_notify",
    "from_malformed",
]


class ProtocolError(errors.ProtocolError):
    """An IKEv1 protocol failure; ``notify`` is the NotifyMessageType to send (or log)."""

    NOTIFY: ClassVar[NotifyMessageType] = NotifyMessageType.PAYLOAD_MALFORMED
    notify: NotifyMessageType

    def __init__(self, detail: str = "", *, notify: NotifyMessageType | None = None) -> None:
        super().__init__(detail, notify=notify)


class RemoteProtocolError(ProtocolError, errors.RemoteProtocolError):
    """The peer sent something we refuse; answer with ``notify``."""


class LocalProtocolError(ProtocolError, errors.LocalProtocolError):
    """We cannot go on (e.g. nothing in our configuration can be offered); send nothing."""


class NoProposalChosen(RemoteProtocolError):
    """No offered proposal/transform is acceptable (RFC 2408 §3.14.1, §5.4)."""

    NOTIFY = NotifyMessageType.NO_PROPOSAL_CHOSEN


class BadProposalSyntax(RemoteProtocolError):
    """An SA payload whose proposals/transforms/attributes break the syntax (RFC 2408 §4.2)."""

    NOTIFY = NotifyMessageType.BAD_PROPOSAL_SYNTAX


class AttributesNotSupported(RemoteProtocolError):
    """Every offered transform carried an attribute class we do not know (RFC 2408 §5.4)."""

    NOTIFY = NotifyMessageType.ATTRIBUTES_NOT_SUPPORTED


class InvalidProtocolId(RemoteProtocolError):
    """A protocol the exchange cannot negotiate (RFC 2408 §5.4)."""

    NOTIFY = NotifyMessageType.INVALID_PROTOCOL_ID


class InvalidTransformId(RemoteProtocolError):
    """A transform id the protocol does not define (RFC 2408 §5.4)."""

    NOTIFY = NotifyMessageType.INVALID_TRANSFORM_ID


class InvalidSpi(RemoteProtocolError):
    """An SPI of the wrong size or value (RFC 2408 §5.4, RFC 2407 §4.6.1)."""

    NOTIFY = NotifyMessageType.INVALID_SPI


class InvalidIdInformation(RemoteProtocolError):
    """A phase-2 identity we cannot use or that no policy covers (RFC 2407 §4.6.2)."""

    NOTIFY = NotifyMessageType.INVALID_ID_INFORMATION


class PayloadMalformed(RemoteProtocolError):
    """A payload that cannot be decoded (RFC 2408 §5)."""

    NOTIFY = NotifyMessageType.PAYLOAD_MALFORMED


# Notify type -> the class raised for it; anything else is a plain RemoteProtocolError.
NOTIFY_ERRORS: MappingProxyType[NotifyMessageType, type[RemoteProtocolError]] = MappingProxyType(
    {
        cls.NOTIFY: cls
        for cls in (
            NoProposalChosen,
            BadProposalSyntax,
            AttributesNotSupported,
            InvalidProtocolId,
            InvalidTransformId,
            InvalidSpi,
            InvalidIdInformation,
            PayloadMalformed,
        )
    }
)


def error_for_notify(notify: NotifyMessageType, detail: str = "") -> RemoteProtocolError:
    """The exception instance for ``notify`` (the most specific class in ``NOTIFY_ERRORS``)."""
    cls = NOTIFY_ERRORS.get(notify, RemoteProtocolError)
    return cls(detail, notify=notify)


def from_malformed(exc: MalformedMessage) -> RemoteProtocolError:
    """The protocol error for a wire decoding error, keeping its notify type and detail."""
    return error_for_notify(exc.notify, exc.detail)
