"""Errors of the IKEv2 engine, each with the Notify Message Type to answer (RFC 7296 §3.10.1).

``RemoteProtocolError`` is the peer's fault (no acceptable proposal, traffic selectors we do
not serve, a KE payload of the wrong group): the exchange answers a request with ``.notify``
(and ``.notify_data``) and fails. ``LocalProtocolError`` is ours (nothing in our configuration
can be offered); nothing is sent for it. ``detail`` says in plain words what did not match, for
the RouterOS-style ``ipsec,error`` log line; it never holds key material. The classes are
also those of ``core/errors.py`` (shared by both IKE versions), with IKEv2's notify registry.
"""

from __future__ import annotations

from typing import ClassVar

from pyipsec.core import errors
from pyipsec.wire.ikev2.constants import NotifyType

__all__ = [
    "InvalidKePayload",
    "InvalidSpi",
    "InvalidSyntax",
    "LocalProtocolError",
    "NoProposalChosen",
    "ProtocolError",
    "RemoteProtocolError",
    "TsUnacceptable",
]


class ProtocolError(errors.ProtocolError):
    """An IKEv2 protocol failure; ``notify`` is the error type to send (or log)."""

    NOTIFY: ClassVar[NotifyType] = NotifyType.INVALID_SYNTAX
    notify: NotifyType

    def __init__(self, detail: str = "", *, notify: NotifyType | None = None) -> None:
        super().__init__(detail, notify=notify)

    @property
    def notify_data(self) -> bytes:
        """The Notification Data that goes with ``notify`` (empty for most types)."""
        return b""


class RemoteProtocolError(ProtocolError, errors.RemoteProtocolError):
    """The peer sent something we refuse; answer a request with ``notify``."""


class LocalProtocolError(ProtocolError, errors.LocalProtocolError):
    """We cannot go on (e.g. our configuration offers nothing); send nothing."""


class InvalidSyntax(RemoteProtocolError):
    """A message that breaks the protocol's rules (RFC 7296 §3.10.1, type 7)."""

    NOTIFY = NotifyType.INVALID_SYNTAX


class InvalidSpi(RemoteProtocolError):
    """An SPI of the wrong size or a reserved value (RFC 7296 §3.3.1, RFC 4303 §2.1)."""

    NOTIFY = NotifyType.INVALID_SPI


class NoProposalChosen(RemoteProtocolError):
    """None of the offered proposals is acceptable (RFC 7296 §2.7, §3.10.1 type 14)."""

    NOTIFY = NotifyType.NO_PROPOSAL_CHOSEN


class InvalidKePayload(RemoteProtocolError):
    """The KE payload's group is not the one chosen (RFC 7296 §1.2, §3.10.1 type 17).

    ``group`` is the group we want; it goes out as the 2-byte Notification Data.
    """

    NOTIFY = NotifyType.INVALID_KE_PAYLOAD

    def __init__(self, detail: str = "", *, group: int) -> None:
        super().__init__(detail)
        self.group = group

    @property
    def notify_data(self) -> bytes:
        return self.group.to_bytes(2, "big")


class TsUnacceptable(RemoteProtocolError):
    """No policy of ours serves the proposed traffic selectors (RFC 7296 §2.9, type 38)."""

    NOTIFY = NotifyType.TS_UNACCEPTABLE
