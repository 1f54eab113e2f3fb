"""Protocol errors of both IKE versions: each carries the notify type it answers with or logs.

``RemoteProtocolError`` is the peer's fault (a proposal we cannot accept, a bad identity, an
authentication that does not verify): the state machine answers with ``.notify`` where the
protocol allows one and ends the exchange. ``LocalProtocolError`` is ours (nothing to offer, a
configuration the protocol cannot carry): nothing is sent for it. Neither ever leaves an
engine's ``receive_datagram``: they become notifies, counted drops and events.

Each IKE version subclasses these with its own notify registry (``NOTIFY`` as a class
attribute, ``notify`` on the instance): IKEv1 ``wire.ikev1.constants.NotifyMessageType``
(RFC 2408 §3.14.1, ``core/ikev1/errors.py``), IKEv2 ``wire.ikev2.constants.NotifyType``
(RFC 7296 §3.10.1). Code shared by both versions catches the classes here; a version's state
machine catches its own subclasses.
"""

from __future__ import annotations

import enum
from typing import ClassVar

__all__ = ["LocalProtocolError", "ProtocolError", "RemoteProtocolError"]


class ProtocolError(Exception):
    """An IKE protocol failure; ``notify`` is the notify type to send (or log).

    Subclasses name their version's default in ``NOTIFY``; ``notify=`` overrides it for one
    instance (a notify the peer sent that has no class of its own)."""

    NOTIFY: ClassVar[enum.IntEnum]
    notify: enum.IntEnum

    def __init__(self, detail: str = "", *, notify: enum.IntEnum | None = None) -> None:
        chosen = notify if notify is not None else type(self).NOTIFY
        self.notify = chosen
        self.detail = detail
        super().__init__(f"{chosen.name}: {detail}" if detail else chosen.name)


class RemoteProtocolError(ProtocolError):
    """The peer sent something we refuse; answer with ``notify``."""


class LocalProtocolError(ProtocolError):
    """We cannot go on (e.g. nothing in our configuration can be offered); send nothing."""
