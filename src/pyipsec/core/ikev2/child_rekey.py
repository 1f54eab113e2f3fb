"""Child SA rekeying (RFC 7296 §1.3.3, §2.8) and its collisions (§2.8.1, §2.25.1).

Theory of operation
-------------------
Whoever's soft lifetime fires first starts the rekey (the data plane draws the soft lifetime
85-95 % of the hard one, ``children.SOFT_RANGE``; RouterOS and strongSwan jitter theirs too):
``CreateChildTask`` with N(REKEY_SA) naming our inbound SPI of the old child, the policy's
proposals, a KE payload with PFS. Make-before-break, so that no packet finds no SA:

1. The responder installs the new inbound SA at once but keeps the new outbound SA back
   (``ChildSa.deferred_out``): it goes on sending with the old one, which the initiator can
   still read.
2. The initiator, on the response, installs both new SAs, removes its old *outbound* SA (it
   now sends with the new one, which the responder can read) and sends Delete(old inbound
   SPI); it keeps the old *inbound* SA until that Delete is answered (``retire``).
3. The responder, on the Delete, installs the new outbound SA before it removes the old pair
   (``children.delete`` does it for any ``successor``), and answers; the initiator then
   removes the old inbound SA.

Collisions
    Both sides rekey the same child at once (§2.8.1): each answers the other's request as
    usual (step 1); when the task manager shows its own rekey of that child in flight
    (``TaskManager.in_flight``) it notes the crossing in that task (``collision``). When its own
    response arrives it compares the lower nonce of each exchange (the lowest of the four
    nonces marks the redundant SA, as in strongSwan): the loser deletes the child its own
    exchange made and keeps the peer's (whose outbound SA it installs when the winner deletes
    the old child); the winner deletes the old child as in step 2 and leaves the peer's
    redundant child to the peer. If our response comes before the peer's request, our old
    child is already being deleted and the peer's request gets TEMPORARY_FAILURE (§2.25.1);
    the peer, which answered ours, then keeps the child of our exchange.
    A rekey crossing a delete (§2.25.1): a request to rekey a child we are deleting is
    answered TEMPORARY_FAILURE, one for a child we do not have CHILD_SA_NOT_FOUND. Our own
    rekey answered so: if the peer rekeyed the child itself, its exchange stands; if the
    child is gone, nothing is left to do; a TEMPORARY_FAILURE for a child still there is
    retried after a short random delay (the peer may be rekeying the IKE SA), a
    CHILD_SA_NOT_FOUND replaces the child by a new one
    (the old one goes once the new one is in).
Hard expiry deletes the child (``children.sa_expired``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pyipsec.core.events import NegotiationFailed
from pyipsec.dataplane.sad import SaProtocol
from pyipsec.wire.ikev2 import message as wm
from pyipsec.wire.ikev2.constants import ExchangeType, NotifyType, ProtocolId
from pyipsec.wire.ikev2.payloads import DeletePayload, NoncePayload, NotifyPayload

from . import child_create, children
from .ike_sa import ChildSa, IkeSa
from .message_parts import first, notifies

if TYPE_CHECKING:
    from .child_create import CreateChildTask
    from .engine import Ikev2Engine

__all__ = ["Passive", "RetireTask", "completed", "handle_request", "lost", "refused", "start"]

POSTPONE = 10.0  # seconds before a child whose outbound SA waits is looked at again
_SA_PROTOCOL = {int(ProtocolId.ESP): SaProtocol.ESP, int(ProtocolId.AH): SaProtocol.AH}
_PROTOCOL_ID = {SaProtocol.ESP: ProtocolId.ESP, SaProtocol.AH: ProtocolId.AH}


@dataclass(slots=True, kw_only=True)
class Passive:
    """The peer's rekey of a child that crossed ours: the child we made answering it."""

    child: ChildSa
    nonce_i: bytes = field(repr=False)  # the peer's
    nonce_r: bytes = field(repr=False)  # ours


def lost(ours: tuple[bytes, bytes], theirs: tuple[bytes, bytes]) -> bool:
    """§2.8.1: whether the exchange with nonces ``ours`` made the redundant SA (it holds the
    lowest of the four nonces; nonces compare as octet strings)."""
    return min(ours) < min(theirs)


def owner_of(eng: Ikev2Engine, child: ChildSa) -> IkeSa | None:
    return next(
        (s for s in eng.ike.with_address(child.remote) if child in s.children and not s.dead),
        None,
    )


def _live(child: ChildSa) -> bool:
    return not child.deleted and not child.retiring and child.successor is None


# --- initiator ------------------------------------------------------------------------------


def start(eng: Ikev2Engine, child: ChildSa, now: float) -> None:
    """``child``'s soft lifetime passed (``children.sa_expired``): rekey it on its IKE SA, or
    negotiate a new IKE SA for its policy when the IKE SA is gone."""
    owner = owner_of(eng, child)
    if owner is None or not owner.established:
        peer = next((p for p in eng.peers if p.id == child.peer_id), None)
        if peer is not None and any(p.id == child.policy.id for p in eng.policies):
            eng.start_ike(peer, child.local, child.remote, now, child.policy)
        return
    if not _live(child) or child.rekey_task is not None:
        return
    if child.deferred_out is not None:
        # we answered the rekey that made it and the peer has not yet deleted the old child
        # (our answer may be lost): rekeying it now could race that exchange; wait
        child.rekeyed = False
        eng.later.at(now + POSTPONE, owner.remote, lambda at: _postponed(eng, child, at))
        return
    child_create.start(
        eng, owner, child.policy, now, rekey_of=child, on_done=completed, on_refused=refused
    )


def _postponed(eng: Ikev2Engine, child: ChildSa, now: float) -> None:
    if _live(child) and not child.rekeyed:
        child.rekeyed = True
        start(eng, child, now)


def completed(
    eng: Ikev2Engine, sa: IkeSa, task: CreateChildTask, new: ChildSa | None, now: float
) -> None:
    """Our rekey of ``task.rekey_of`` got its answer; ``new`` is the child it installed."""
    old = task.rekey_of
    assert old is not None  # only rekey tasks call this
    old.rekey_task = None
    passive: Passive | None = task.collision
    if new is not None and new.policy.id == old.dynamic_policy_id:
        new.dynamic_policy_id = old.dynamic_policy_id  # a policy we generated lives on in it
    if new is None:  # refused: the old child serves on until its hard expiry
        if passive is None and not old.deleted:
            old.rekeyed = False  # a later soft expiry (or an acquire) may try again
        return
    if passive is not None:
        alive = not passive.child.deleted  # (the peer may have rekeyed it already)
        if lost(task.nonces, (passive.nonce_i, passive.nonce_r)):
            # §2.8.1: ours is redundant; we close it, the peer closes the old child (it may
            # have done so already: then the peer's child has its outbound SA in)
            eng.count("rekey-collision-lost")
            if alive:
                passive.child.rekeyed = False
                if not old.deleted:
                    old.successor = passive.child
            children.delete(eng, new, now, reason="rekey collision lost", notify=True)
            return
        eng.count("rekey-collision-won")
        if alive:
            passive.child.rekeyed = True  # redundant: the peer deletes it
    if old.deleted:  # the peer deleted it meanwhile: the new child simply serves
        return
    retire(eng, sa, old, new, now)


def retire(eng: Ikev2Engine, sa: IkeSa, old: ChildSa, new: ChildSa, now: float) -> None:
    """Step 2 of the module docstring: send with ``new`` from now on, Delete ``old``."""
    old.retiring = True
    old.successor = new
    old.rekeyed = True
    old.deferred_out = None  # never in use (we answered its own rekey): ``new`` takes over
    eng.backend.delete_sa(old.spi_out, old.protocol, old.remote)
    eng.queue(sa, RetireTask(old), now)


class RetireTask:
    """INFORMATIONAL Delete of a rekeyed child whose inbound SA we keep until the answer."""

    exchange = ExchangeType.INFORMATIONAL

    def __init__(self, child: ChildSa) -> None:
        self.child = child

    def build(self, eng: Ikev2Engine, sa: IkeSa, now: float) -> list[Any] | None:
        old = self.child
        if old.deleted:  # the peer's Delete came first
            return None
        sa.deleting_spis = [*sa.deleting_spis[-31:], old.spi_out]
        spi = old.spi_in.to_bytes(4, "big")
        return [DeletePayload(protocol=_PROTOCOL_ID[old.protocol], spis=(spi,))]

    def on_response(self, eng: Ikev2Engine, sa: IkeSa, msg: wm.Message, now: float) -> None:
        children.delete(eng, self.child, now, reason="rekeyed", notify=False)


def refused(eng: Ikev2Engine, sa: IkeSa, task: CreateChildTask, what: str, now: float) -> None:
    """Our rekey was answered TEMPORARY_FAILURE or CHILD_SA_NOT_FOUND (§2.25.1)."""
    task.done = True
    old = task.rekey_of
    assert old is not None  # only rekey tasks call this
    old.rekey_task = None
    if task.collision is not None or old.successor is not None or old.deleted:
        eng.count("rekey-yielded")  # the peer's rekey or delete stands
        return
    if what == "CHILD_SA_NOT_FOUND":
        eng.emit(
            NegotiationFailed(
                remote=sa.remote,
                reason=f"policy {old.policy.id}: the peer has no child SA with SPI "
                f"{old.spi_out:#x} (CHILD_SA_NOT_FOUND); negotiating a new one",
            )
        )
        old.rekeyed = True

        def replaced(
            eng: Ikev2Engine, sa: IkeSa, task: CreateChildTask, new: ChildSa | None, now: float
        ) -> None:
            if new is not None:  # make-before-break here too
                if new.policy.id == old.dynamic_policy_id:
                    new.dynamic_policy_id = old.dynamic_policy_id
                children.delete(eng, old, now, reason="unknown to the peer", notify=False)

        child_create.start(eng, sa, old.policy, now, on_done=replaced)
        return
    _retry_later(eng, sa, task, now)


def _retry_later(eng: Ikev2Engine, sa: IkeSa, task: CreateChildTask, now: float) -> None:
    delay = child_create.temporary_failure(eng, sa, now)
    if delay is None:
        return
    old = task.rekey_of

    def again(at: float) -> None:
        if old is not None and _live(old) and old.rekey_task is None:
            start(eng, old, at)

    eng.later.at(now + delay, sa.remote, again)


# --- responder ------------------------------------------------------------------------------


def handle_request(eng: Ikev2Engine, sa: IkeSa, msg: wm.Message, now: float) -> list[Any]:
    """The peer's CREATE_CHILD_SA with N(REKEY_SA): its inbound SPI of the old child (ours
    outbound) names the child (§1.3.3)."""
    n = notifies(msg, NotifyType.REKEY_SA)[0]
    proto = _SA_PROTOCOL.get(int(n.protocol))
    spi = int.from_bytes(n.spi, "big") if len(n.spi) == 4 else None
    old = None
    if proto is not None and spi is not None:
        old = eng.children.by_spi(proto, spi, sa.remote[0])
    if old is None or old.deleted or old not in sa.children:
        if spi is not None and spi in sa.deleting_spis:
            eng.count("temporary-failure-sent")  # §2.25.1: we are closing it
            return [NotifyPayload(type=NotifyType.TEMPORARY_FAILURE)]
        eng.count("child-sa-not-found-sent")
        return [NotifyPayload(protocol=n.protocol, spi=n.spi, type=NotifyType.CHILD_SA_NOT_FOUND)]
    if old.retiring:  # our own rekey finished first: our Delete of it is on its way
        eng.count("temporary-failure-sent")
        return [NotifyPayload(type=NotifyType.TEMPORARY_FAILURE)]
    payloads, new = child_create.accept_child(eng, sa, msg, now, rekey_of=old)
    if new is None:
        return payloads
    old.rekeyed = True
    old.successor = new
    task = old.rekey_task
    if task is not None and task.sa is not None and task.sa.tasks.in_flight(task):
        nonce = first(msg, NoncePayload)
        ours = next(p for p in payloads if isinstance(p, NoncePayload))
        task.collision = Passive(child=new, nonce_i=nonce.data, nonce_r=ours.data)
        eng.count("rekey-collision")
    return payloads
