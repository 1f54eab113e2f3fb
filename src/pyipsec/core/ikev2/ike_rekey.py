"""IKE SA rekeying (RFC 7296 §1.3.2, §2.18), its lifetime, and its collisions (§2.8.2,
§2.25.2).

    Initiator                              Responder
    HDR, SK {SA(IKE, new SPIi), Ni, KEi}  -->
                                      <--  HDR, SK {SA(IKE, new SPIr), Nr, KEr}

Lifetime
    The peer's `lifetime` (RouterOS: of phase 1) bounds each IKE SA. At a soft time drawn
    85-90 % of it (the IKE SA's original initiator) or 90-95 % (its responder) we rekey, so
    that one side normally goes first; at the full lifetime an IKE SA that could not be
    rekeyed is deleted with its children (Delete sent). 0 is unlimited.

Rekey
    The new IKE SA takes SPIi from the rekey's initiator, SPIr from its responder, and the
    rekey's initiator is its original initiator (§2.18); its keys come from the old SK_d, the
    new g^ir and the exchange's nonces (``keymat.derive_rekeyed_ike_keys``); its message IDs
    start at 0. Our KE uses the old IKE SA's group (INVALID_KE_PAYLOAD asks for another of
    the peer's groups: we retry with it). The children move to the new IKE SA (they keep
    their SPIs and keys), so do our queued requests; the rekey's initiator then deletes the
    old IKE SA (Delete(IKE) on it). The responder moves the children as soon as it answers.

Collisions
    Both sides rekey at once (§2.8.2, found by ``TaskManager.in_flight``: our rekey is the
    request outstanding): each answers the other's request, noting the IKE SA it
    made (``IkeSa.passive_rekey``) but leaving the children where they are; when its own
    response arrives it compares the lower nonces of the two exchanges: the exchange with the
    lowest nonce made the redundant IKE SA, which its initiator deletes; the winner moves the
    children to its new IKE SA and deletes the old one. A peer that deletes the old IKE SA
    before our response arrives has won: the children go to the IKE SA we made answering it.
    While our rekey is in flight, the peer's other CREATE_CHILD_SA requests get
    TEMPORARY_FAILURE (``child_create.handle_request``); so does its rekey while we have
    another request outstanding (it retries later, §2.25.2).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pyipsec.core.events import IkeSaEstablished, NegotiationFailed
from pyipsec.crypto.base import CryptoError, KeyExchangeGroup
from pyipsec.wire.ikev2 import message as wm
from pyipsec.wire.ikev2.constants import ExchangeType, NotifyType, ProtocolId
from pyipsec.wire.ikev2.payloads import (
    DeletePayload,
    KePayload,
    NoncePayload,
    NotifyPayload,
    SaPayload,
)

from . import keymat, proposals
from .child_create import NONCE_SIZE, temporary_failure
from .child_rekey import lost
from .errors import InvalidKePayload, ProtocolError
from .ike_sa import IkeSa, IkeState
from .message_parts import error_notify, first, notify_name

if TYPE_CHECKING:
    from .engine import Ikev2Engine

__all__ = [
    "IkeRekeyTask",
    "handle_request",
    "peer_deletes",
    "peer_uses",
    "schedule_lifetime",
    "start",
]

SOFT_RANGE = {True: (0.85, 0.90), False: (0.90, 0.95)}  # by "original initiator"
MAX_INVALID_KE_RETRIES = 2
# A collision's loser deletes its redundant IKE SA once its own rekey is answered; if that
# answer never comes (its old IKE SA went first), it never learns of that SA: the winner
# forgets it silently after the loser's retransmissions are over (task_manager: 62 s).
REDUNDANT_TIMEOUT = 70.0


def schedule_lifetime(eng: Ikev2Engine, sa: IkeSa, now: float) -> None:
    """Rekey ``sa`` at its soft lifetime, delete it at the hard one (module docstring)."""
    lifetime = float(sa.peer.lifetime)
    if lifetime <= 0:
        return
    lo, hi = SOFT_RANGE[sa.initiator]
    soft = lifetime * (lo + (hi - lo) * int.from_bytes(eng.rng(2), "big") / 65536.0)
    sa.lifetime_jobs += [
        eng.later.at(now + soft, sa.remote, lambda at: _soft_expired(eng, sa, at)),
        eng.later.at(now + lifetime, sa.remote, lambda at: _hard_expired(eng, sa, at)),
    ]


def _soft_expired(eng: Ikev2Engine, sa: IkeSa, now: float) -> None:
    start(eng, sa, now)


def _hard_expired(eng: Ikev2Engine, sa: IkeSa, now: float) -> None:
    if sa.dead or sa.replaced_by is not None or not sa.established:
        return
    eng.delete_ike(sa, now, reason="IKE SA lifetime expired")


def _current_group(sa: IkeSa) -> KeyExchangeGroup:
    group: KeyExchangeGroup | None = getattr(sa.choice, "group", None)
    if group is not None and any(g.id == group.id for g in _peer_groups(sa)):
        return group
    return proposals.initial_group(sa.peer)


def _peer_groups(sa: IkeSa) -> list[KeyExchangeGroup]:
    out = []
    for p in proposals.ike_offer(sa.peer).proposals:
        for t in p.transforms:
            g = proposals.decode_group(t)
            if g is not None and g not in out:
                out.append(g)
    return out


def start(eng: Ikev2Engine, sa: IkeSa, now: float) -> IkeRekeyTask | None:
    """Rekey ``sa`` (its soft lifetime passed)."""
    if sa.dead or not sa.established or sa.replaced_by is not None or sa.rekey_task is not None:
        return None
    if sa.passive_rekey is not None and not sa.passive_rekey.dead:
        return None  # the peer rekeyed it already
    try:
        group = _current_group(sa)
    except ProtocolError as e:
        eng.emit(NegotiationFailed(remote=sa.remote, reason=f"IKE SA rekey: {e}"))
        return None
    task = IkeRekeyTask(group)
    sa.rekey_task = task
    eng.count("ike-rekey-started")
    eng.queue(sa, task, now)
    return task


class IkeRekeyTask:
    """Our CREATE_CHILD_SA rekeying the IKE SA it is sent on."""

    exchange = ExchangeType.CREATE_CHILD_SA

    def __init__(self, group: KeyExchangeGroup) -> None:
        self.group = group
        self.retries = 0
        self.spi = b""
        self.offer: SaPayload | None = None
        self.ke: Any = None
        self.nonce_i = b""

    def build(self, eng: Ikev2Engine, sa: IkeSa, now: float) -> list[Any] | None:
        passive = sa.passive_rekey
        if sa.replaced_by is not None or (passive is not None and not passive.dead):
            sa.rekey_task = None  # the peer rekeyed it while we waited
            return None
        self.spi = eng.new_spi()
        self.offer = proposals.ike_offer(sa.peer, spi=self.spi)
        self.ke = eng.kex_pool.take(self.group)
        self.nonce_i = eng.rng(NONCE_SIZE)
        return [
            self.offer,
            NoncePayload(data=self.nonce_i),
            KePayload(group=self.group.id, data=self.ke.public_value),
        ]

    def on_response(self, eng: Ikev2Engine, sa: IkeSa, msg: wm.Message, now: float) -> None:
        if not sa.established:  # we are deleting it meanwhile: no successor
            sa.rekey_task = None
            return
        error = error_notify(msg)
        kind = error.type if error is not None else 0
        passive = sa.passive_rekey if sa.passive_rekey and not sa.passive_rekey.dead else None
        if error is not None and kind == NotifyType.INVALID_KE_PAYLOAD:
            self._invalid_ke(eng, sa, error, now)
            return
        sa.rekey_task = None
        if error is not None and passive is not None:
            eng.count("ike-rekey-yielded")  # §2.8.2: the peer's rekey stands
            adopt(eng, sa, passive, now, delete_old=False)
            return
        if error is not None and kind == NotifyType.TEMPORARY_FAILURE:
            delay = temporary_failure(eng, sa, now)
            if delay is not None:
                eng.later.at(now + delay, sa.remote, lambda at: _soft_expired(eng, sa, at))
            return
        sa.temporary_failure_since = None
        try:
            new = self._complete(eng, sa, msg, now)
        except (ProtocolError, CryptoError, keymat.KeymatError) as e:
            what = notify_name(kind) if error is not None else str(e)
            eng.emit(NegotiationFailed(remote=sa.remote, reason=f"IKE SA rekey: {what}"))
            return
        if passive is not None:
            if lost((self.nonce_i, new.nonce_r), (passive.nonce_i, passive.nonce_r)):
                eng.count("ike-rekey-collision-lost")
                adopt(eng, sa, passive, now, delete_old=False)
                eng.delete_ike(new, now, reason="IKE SA rekey collision lost")
                return
            eng.count("ike-rekey-collision-won")
            eng.later.at(
                now + REDUNDANT_TIMEOUT, sa.remote, lambda at: _drop_redundant(eng, passive, at)
            )
        adopt(eng, sa, new, now, delete_old=True)

    def _complete(self, eng: Ikev2Engine, sa: IkeSa, msg: wm.Message, now: float) -> IkeSa:
        sa_payload, nonce, ke = (
            first(msg, SaPayload),
            first(msg, NoncePayload),
            first(msg, KePayload),
        )
        if sa_payload is None or nonce is None or ke is None or self.offer is None:
            raise ProtocolError("the reply has no SA, Nr or KE payload")
        if not 16 <= len(nonce.data) <= 256:
            raise ProtocolError("the reply's Nr has a wrong size")
        choice = proposals.accept_ike_reply(sa.peer, self.offer, sa_payload, ke_group=self.group.id)
        if len(choice.peer_spi) != 8 or not any(choice.peer_spi):
            raise ProtocolError("the reply's IKE SPI is not 8 nonzero bytes")
        if ke.group != self.group.id:
            raise ProtocolError(f"the reply's KE is group {ke.group}, ours {self.group.id}")
        secret = self.ke.shared_secret(ke.data)
        new = successor(
            eng,
            sa,
            initiator=True,
            spi_i=self.spi,
            spi_r=choice.peer_spi,
            choice=choice,
            secret=secret,
            nonce_i=self.nonce_i,
            nonce_r=nonce.data,
            now=now,
        )
        eng.ike[self.spi] = new
        eng.established(new, now)
        _announce(eng, new)
        return new

    def _invalid_ke(self, eng: Ikev2Engine, sa: IkeSa, error: NotifyPayload, now: float) -> None:
        wanted = int.from_bytes(error.data[:2], "big") if len(error.data) >= 2 else -1
        try:
            group = proposals.requested_group(sa.peer, wanted)
            if group.id == self.group.id or self.retries >= MAX_INVALID_KE_RETRIES:
                raise ProtocolError(f"the peer asks for group {wanted} again")
        except ProtocolError as e:
            sa.rekey_task = None
            eng.emit(NegotiationFailed(remote=sa.remote, reason=f"IKE SA rekey: {e.detail or e}"))
            return
        self.retries += 1
        self.group = group
        eng.count("invalid-ke-retry")
        eng.queue(sa, self, now)


def successor(
    eng: Ikev2Engine,
    sa: IkeSa,
    *,
    initiator: bool,
    spi_i: bytes,
    spi_r: bytes,
    choice: proposals.IkeChoice,
    secret: bytes,
    nonce_i: bytes,
    nonce_r: bytes,
    now: float,
) -> IkeSa:
    """The IKE SA a rekey of ``sa`` made (§2.18 keys), not yet indexed."""
    keys = keymat.derive_rekeyed_ike_keys(
        sa.choice.prf,
        sa.keys.sk_d,
        choice.prf,
        choice.encryption,
        choice.integrity,
        secret,
        nonce_i,
        nonce_r,
        spi_i,
        spi_r,
    )
    return IkeSa(
        spi_i=spi_i,
        spi_r=spi_r,
        initiator=initiator,
        peer=sa.peer,
        local=sa.local,
        remote=sa.remote,
        created=now,
        state=IkeState.AUTH_SENT,  # eng.established() makes it ESTABLISHED
        choice=choice,
        group=choice.group,
        nonce_i=nonce_i,
        nonce_r=nonce_r,
        keys=keys,
        peer_fragmentation=sa.peer_fragmentation,
        peer_hash_algorithms=sa.peer_hash_algorithms,
        nat_local=sa.nat_local,
        nat_remote=sa.nat_remote,
        floated=sa.floated,  # natt.follow: the successor is on 4500 already
        peer_identity=sa.peer_identity,
        last_heard=now,
        predecessor=sa,
    )


def _announce(eng: Ikev2Engine, new: IkeSa) -> None:
    eng.emit(
        IkeSaEstablished(
            local=new.local,
            remote=new.remote,
            peer_id=new.peer.id,
            side=new.side,
            exchange="ike2",
            nat=new.nat,
        )
    )


def _drop_redundant(eng: Ikev2Engine, sa: IkeSa, now: float) -> None:
    if not sa.dead and not sa.children and sa.state is IkeState.ESTABLISHED:
        eng.count("ike-rekey-redundant-forgotten")
        eng.delete_ike(sa, now, reason="redundant after an IKE SA rekey collision", notify=False)


def adopt(eng: Ikev2Engine, old: IkeSa, new: IkeSa, now: float, *, delete_old: bool) -> None:
    """The children and queued requests of ``old`` (and of an IKE SA that lost a collision)
    move to ``new``; with ``delete_old`` we delete ``old`` (we initiated the winning rekey)."""
    old.replaced_by = new.spi_i
    for src in (old, old.passive_rekey):
        if src is None or src is new:
            continue
        for child in src.children:
            child.ike_spi_i = new.spi_i
            new.children.append(child)
        src.children.clear()
    while old.tasks.queue:
        task = old.tasks.queue.popleft()
        if task is not old.rekey_task:
            new.tasks.queue.append(task)
    eng.kick(new, now)
    if delete_old:
        eng.delete_ike(old, now, reason="rekeyed")


# --- responder ------------------------------------------------------------------------------


def handle_request(eng: Ikev2Engine, sa: IkeSa, msg: wm.Message, now: float) -> list[Any]:
    """The peer rekeys ``sa`` (module docstring)."""
    ours_task = sa.rekey_task
    colliding = ours_task is not None and sa.tasks.in_flight(ours_task)
    busy = sa.tasks.outstanding is not None and not colliding
    if sa.replaced_by is not None or busy:
        eng.count("temporary-failure-sent")  # §2.25.2: retry when we are done
        return [NotifyPayload(type=NotifyType.TEMPORARY_FAILURE)]
    sa_payload, nonce, ke = first(msg, SaPayload), first(msg, NoncePayload), first(msg, KePayload)
    if sa_payload is None or nonce is None or ke is None or not 16 <= len(nonce.data) <= 256:
        eng.emit(NegotiationFailed(remote=sa.remote, reason="IKE SA rekey without SA, Ni or KE"))
        return [NotifyPayload(type=NotifyType.INVALID_SYNTAX)]
    our_spi = eng.new_spi()
    try:
        choice, reply = proposals.select_ike(sa.peer, sa_payload, ke_group=ke.group, spi=our_spi)
    except InvalidKePayload as e:
        eng.count("invalid-ke-sent")
        return [NotifyPayload(type=e.notify, data=e.notify_data)]
    except ProtocolError as e:
        eng.emit(NegotiationFailed(remote=sa.remote, reason=f"IKE SA rekey: {e}"))
        eng.count(e.notify.name.lower().replace("_", "-"))
        return [NotifyPayload(type=e.notify, data=e.notify_data)]
    if len(choice.peer_spi) != 8 or not any(choice.peer_spi):
        return [NotifyPayload(type=NotifyType.INVALID_SYNTAX)]
    mine = eng.kex_pool.take(choice.group)
    try:
        secret = mine.shared_secret(ke.data)
    except CryptoError as e:
        eng.emit(NegotiationFailed(remote=sa.remote, reason=f"IKE SA rekey: bad KE ({e})"))
        return [NotifyPayload(type=NotifyType.INVALID_SYNTAX)]
    nonce_r = eng.rng(NONCE_SIZE)
    new = successor(
        eng,
        sa,
        initiator=False,
        spi_i=choice.peer_spi,
        spi_r=our_spi,
        choice=choice,
        secret=secret,
        nonce_i=nonce.data,
        nonce_r=nonce_r,
        now=now,
    )
    eng.ike[our_spi] = new
    eng.established(new, now)
    _announce(eng, new)
    sa.passive_rekey = new
    if colliding:
        eng.count("ike-rekey-collision")  # resolved when our response arrives
    else:
        adopt(eng, sa, new, now, delete_old=False)
    return [
        reply,
        NoncePayload(data=nonce_r),
        KePayload(group=choice.group.id, data=mine.public_value),
    ]


def peer_uses(eng: Ikev2Engine, sa: IkeSa, msg: wm.Message, now: float) -> None:
    """An authenticated request came on ``sa``, which we made answering the peer's rekey of
    its predecessor: unless it deletes ``sa`` (the peer lost a collision and closes its
    redundant IKE SA), the peer has finished that rekey and uses ``sa``, so the children
    still kept on the predecessor (a collision we have not resolved yet) move to it now."""
    old = sa.predecessor
    if old is None or old.dead or old.passive_rekey is not sa:
        return
    if any(isinstance(p, DeletePayload) and p.protocol == ProtocolId.IKE for p in msg.payloads):
        return
    if old.children or old.tasks.queue:
        eng.count("ike-rekey-peer-moved-on")
        adopt(eng, old, sa, now, delete_old=False)


def peer_deletes(eng: Ikev2Engine, sa: IkeSa, now: float) -> None:
    """The peer deletes ``sa``: if it was rekeyed (by the peer, or in a collision the peer
    won before our answer came), the children and our queued requests go to the successor
    instead of dying with it (``informational._peer_deleted_ike`` calls this first)."""
    passive = sa.passive_rekey
    if passive is not None and not passive.dead and sa.replaced_by in (None, passive.spi_i):
        sa.rekey_task = None
        adopt(eng, sa, passive, now, delete_old=False)
        return
    nxt = next(
        (s for s in eng.ike.values() if s.spi_i == sa.replaced_by and not s.dead),
        None,
    )
    if nxt is not None:
        adopt(eng, sa, nxt, now, delete_old=False)
