"""INFORMATIONAL exchanges (RFC 7296 §1.4, §1.5, §2.4, §3.11): deleting child SAs and IKE
SAs in both roles, liveness checks, error notifies, INITIAL_CONTACT.

Deleting a child: we remove both SAs, then send Delete with our inbound SPI; the peer answers
with the Delete of its inbound SPI for the same pair (§1.4.1). When the peer deletes one we
answer likewise (or with an empty message if we had deleted it already: the two deletes
crossed). Deleting an IKE SA deletes its children implicitly (§1.4.1): we send Delete(IKE),
wait for the empty answer (retransmitting as any request) and then forget the SA; the peer's
Delete(IKE) is answered with an empty message and the SA is gone. An empty request is a
liveness check and is answered with an empty response (§1.4).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pyipsec.core.events import AuthenticationFailed, IkeSaDeleted, NotifyReceived
from pyipsec.dataplane.sad import SaProtocol
from pyipsec.wire.ikev2 import message as wm
from pyipsec.wire.ikev2.constants import ExchangeType, NotifyType, ProtocolId
from pyipsec.wire.ikev2.payloads import DeletePayload, NotifyPayload

from . import signatures
from .ike_sa import ChildSa, IkeSa, IkeState

if TYPE_CHECKING:
    from .engine import Ikev2Engine

__all__ = [
    "InfoTask",
    "after_response",
    "delete_ike",
    "handle_request",
    "initial_contact",
    "send_delete_child",
]

_PROTOCOL = {SaProtocol.ESP: ProtocolId.ESP, SaProtocol.AH: ProtocolId.AH}
_SA_PROTOCOL = {int(v): k for k, v in _PROTOCOL.items()}


class InfoTask:
    """An INFORMATIONAL request of ours: Deletes, notifies, or nothing (a liveness check)."""

    exchange = ExchangeType.INFORMATIONAL

    def __init__(self, payloads: list[Any], *, deletes_ike: bool = False) -> None:
        self.payloads = payloads
        self.deletes_ike = deletes_ike

    def build(self, eng: Ikev2Engine, sa: IkeSa, now: float) -> list[Any]:
        return list(self.payloads)

    def on_response(self, eng: Ikev2Engine, sa: IkeSa, msg: wm.Message, now: float) -> None:
        if self.deletes_ike:
            eng.forget(sa)


def send_delete_child(eng: Ikev2Engine, sa: IkeSa, child: ChildSa, now: float) -> None:
    spi = child.spi_in.to_bytes(4, "big")
    eng.queue(sa, InfoTask([DeletePayload(protocol=_PROTOCOL[child.protocol], spis=(spi,))]), now)


def delete_ike(eng: Ikev2Engine, sa: IkeSa, now: float, *, reason: str, notify: bool) -> None:
    """Delete ``sa`` and its children; with ``notify`` (and keys) tell the peer first."""
    if sa.dead or sa.state is IkeState.DELETING:
        return
    for child in list(sa.children):
        eng.delete_child(child, now, reason=reason, notify=False)
    was_established = sa.established
    if was_established:
        eng.emit(IkeSaDeleted(local=sa.local, remote=sa.remote, reason=reason))
    if notify and sa.keys is not None and was_established:
        sa.state = IkeState.DELETING
        sa.tasks.queue.clear()
        sa.tasks.queue.appendleft(
            InfoTask([DeletePayload(protocol=ProtocolId.IKE)], deletes_ike=True)
        )
        eng.kick(sa, now)
        return
    eng.forget(sa)


def handle_request(eng: Ikev2Engine, sa: IkeSa, msg: wm.Message, now: float) -> list[Any]:
    """The peer's INFORMATIONAL request -> our response's payloads."""
    out: list[Any] = []
    for p in msg.payloads:
        if isinstance(p, DeletePayload):
            if p.protocol == ProtocolId.IKE:
                _peer_deleted_ike(eng, sa, now)
                return []  # §1.4.1: the response to Delete(IKE) is empty
            out += _peer_deleted_children(eng, sa, p, now)
        elif isinstance(p, NotifyPayload):
            try:
                name = NotifyType(p.type).name
            except ValueError:
                name = str(p.type)
            eng.emit(NotifyReceived(remote=sa.remote, notify=name, authenticated=True))
            if p.type == NotifyType.AUTHENTICATION_FAILED:
                # §2.21.2: the initiator did not accept our AUTH; the IKE SA is no more
                reason = "the peer refused our authentication (AUTHENTICATION_FAILED)"
                reason += signatures.refusal_hint(eng.credentials, sa)
                eng.emit(AuthenticationFailed(remote=sa.remote, reason=reason))
                _peer_deleted_ike(eng, sa, now, reason="peer refused our authentication")
                return []
    if not out:
        eng.count("liveness-answered" if not msg.payloads else "informational-answered")
    return out


def _peer_deleted_ike(
    eng: Ikev2Engine, sa: IkeSa, now: float, reason: str = "deleted by the peer"
) -> None:
    eng.hand_over_children(sa, now)  # a rekeyed IKE SA: its children live on
    for child in list(sa.children):
        eng.delete_child(child, now, reason=reason, notify=False)
    eng.emit(IkeSaDeleted(local=sa.local, remote=sa.remote, reason=reason))
    sa.state = IkeState.DELETING
    sa.tasks.queue.clear()
    sa.peer_deleted = True  # forgotten once the response is out (after_response)


def _peer_deleted_children(
    eng: Ikev2Engine, sa: IkeSa, d: DeletePayload, now: float
) -> list[DeletePayload]:
    proto = _SA_PROTOCOL.get(int(d.protocol))
    if proto is None:
        return []
    ours: list[bytes] = []
    for spi_b in d.spis:
        if len(spi_b) != 4:
            continue
        child = eng.children.by_spi(proto, int.from_bytes(spi_b, "big"), sa.remote[0])
        if child is None or child.deleted or child not in sa.children:
            continue  # unknown, or our own Delete crossed theirs: nothing to answer (§1.4.1)
        ours.append(child.spi_in.to_bytes(4, "big"))
        eng.delete_child(child, now, reason="deleted by the peer", notify=False)
    return [DeletePayload(protocol=d.protocol, spis=tuple(ours))] if ours else []


def after_response(eng: Ikev2Engine, sa: IkeSa, now: float) -> None:
    """What waits until our response is out: a peer-deleted IKE SA goes away."""
    if sa.peer_deleted:
        eng.forget(sa)


def initial_contact(eng: Ikev2Engine, sa: IkeSa, now: float) -> None:
    """§2.4 INITIAL_CONTACT: "this IKE SA is the only one currently active between the
    authenticated identities": ours between the same two (the peer entry, the peer's address
    and ID, our address) other than ``sa`` are stale; delete them and their children without
    a word. IKE SAs of the same peer to another address of ours are other identities (a
    gateway with several addresses) and stay."""
    for other in eng.ike.between(sa.remote[0], sa.local[0]):
        if other is sa or other.dead or other.peer.id != sa.peer.id:
            continue
        if other.remote[0] != sa.remote[0] or other.local[0] != sa.local[0]:
            continue
        mine, theirs = other.peer_identity, sa.peer_identity
        if mine is not None and theirs is not None and mine.body() != theirs.body():
            continue
        eng.count("initial-contact-deleted")
        eng.delete_ike(other, now, reason="peer sent INITIAL_CONTACT", notify=False)
