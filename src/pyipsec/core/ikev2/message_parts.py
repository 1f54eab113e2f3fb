"""Reading the payloads of a decoded IKEv2 message (RFC 7296 §3.10: notify types below 16384
are errors), shared by the exchanges of core/ikev2 (IKE_SA_INIT, IKE_AUTH, CREATE_CHILD_SA,
the child and IKE SA rekeys). A module of its own so that those exchanges import it, not each
other."""

from __future__ import annotations

from typing import Any

from pyipsec.wire.ikev2 import message as wm
from pyipsec.wire.ikev2.constants import NotifyType
from pyipsec.wire.ikev2.payloads import NotifyPayload

__all__ = ["error_notify", "first", "notifies", "notify_name"]


def notifies(msg: wm.Message, kind: NotifyType) -> list[NotifyPayload]:
    """The notify payloads of type ``kind`` in ``msg``."""
    return [p for p in msg.payloads if isinstance(p, NotifyPayload) and p.type == kind]


# first and error_notify are plain loops: a generator under next() costs ~0.5 us more a call
# (eleven calls per IKE setup and side)


def first(msg: wm.Message, cls: type[Any]) -> Any:
    """The first payload of class ``cls`` in ``msg``, or None."""
    for p in msg.payloads:
        if isinstance(p, cls):
            return p
    return None


def error_notify(msg: wm.Message) -> NotifyPayload | None:
    """The first error notify (type < 16384) in ``msg``."""
    for p in msg.payloads:
        if isinstance(p, NotifyPayload) and 0 < p.type < 16384:
            return p
    return None


def notify_name(kind: int) -> str:
    """A notify type's IANA name, or ``notify N`` for one we do not know."""
    try:
        return NotifyType(kind).name
    except ValueError:
        return f"notify {kind}"
