"""The peer's CREATE_CHILD_SA requests (RFC 7296 §1.3), dispatched on their content: an SA
payload whose proposals are for protocol IKE rekeys the IKE SA (§1.3.2, ``ike_rekey.py``),
N(REKEY_SA) rekeys a child (§1.3.3, ``child_rekey.py``), anything else is a new child
(§1.3.1, ``child_create.py``). While our own rekey of the IKE SA is in flight, requests for
children get TEMPORARY_FAILURE (§2.25.2): they belong on the new IKE SA, and the peer
retries there.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pyipsec.wire.ikev2 import message as wm
from pyipsec.wire.ikev2.constants import NotifyType, ProtocolId
from pyipsec.wire.ikev2.payloads import NotifyPayload, SaPayload

from . import child_create, child_rekey, ike_rekey
from .ike_sa import IkeSa
from .message_parts import first, notifies

if TYPE_CHECKING:
    from .engine import Ikev2Engine

__all__ = ["handle_request"]


def handle_request(eng: Ikev2Engine, sa: IkeSa, msg: wm.Message, now: float) -> list[Any]:
    """The peer's CREATE_CHILD_SA request -> our response's payloads."""
    sa_payload = first(msg, SaPayload)
    if sa_payload is not None and any(p.protocol == ProtocolId.IKE for p in sa_payload.proposals):
        return ike_rekey.handle_request(eng, sa, msg, now)
    if sa.rekey_task is not None and sa.tasks.in_flight(sa.rekey_task):
        eng.count("temporary-failure-sent")
        return [NotifyPayload(type=NotifyType.TEMPORARY_FAILURE)]
    if notifies(msg, NotifyType.REKEY_SA):
        return child_rekey.handle_request(eng, sa, msg, now)
    payloads, _ = child_create.accept_child(eng, sa, msg, now)
    return payloads
