"""CREATE_CHILD_SA (RFC 7296 §1.3): a further child SA on an established IKE SA, both roles,
and the dispatcher of the peer's CREATE_CHILD_SA requests.

    Initiator                                  Responder
    HDR, SK {[N(REKEY_SA)], SA, Ni, [KEi], TSi, TSr [, N(USE_TRANSPORT_MODE)]}  -->
                                          <--  HDR, SK {SA, Nr, [KEr], TSi, TSr}

A new child (§1.3.1) and a child rekey (§1.3.3, ``child_rekey.py``: the same exchange with
N(REKEY_SA) naming the old child's inbound SPI of the sender) share ``CreateChildTask``. The
proposals are the policy's `/ip ipsec proposal` (``child_proposals.py``); with a pfs-group
the request carries a KE payload of that group and the child's KEYMAT takes the new g^ir
(§2.17). A rekey sends its KE in the group the old child used, offering it beside the
configured one (as strongSwan does), so that a changed pfs-group is met by the responder's
INVALID_KE_PAYLOAD naming the group it wants; we retry with it (§1.3: "the initiator SHOULD
retry with the correct group") as long as it is one we offer. The traffic selectors are the
policy's; the responder narrows them to one of its policies or templates (``children.accept``).

The responder (``create_child_sa.py`` dispatches the peer's requests: an SA payload for
protocol IKE is an IKE SA rekey, N(REKEY_SA) a child rekey, anything else a new child here):
a KE payload of a group we know is answered
with ours when the chosen proposal has that group; the choice (or the error notify:
NO_PROPOSAL_CHOSEN, INVALID_KE_PAYLOAD with our group, TS_UNACCEPTABLE) comes from
``children.accept``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from pyipsec.core.events import NegotiationFailed
from pyipsec.crypto import groups
from pyipsec.crypto.base import CryptoError, KeyExchangeGroup
from pyipsec.dataplane.policy import Policy, Selector
from pyipsec.wire.ikev2 import message as wm
from pyipsec.wire.ikev2.constants import ExchangeType, NotifyType, ProtocolId, TransformType
from pyipsec.wire.ikev2.payloads import (
    KePayload,
    NoncePayload,
    NotifyPayload,
    SaPayload,
    Transform,
)

from . import child_proposals, children
from .errors import ProtocolError
from .ike_sa import ChildSa, IkeSa, PendingChild
from .message_parts import error_notify, first, notify_name

if TYPE_CHECKING:
    from .engine import Ikev2Engine

__all__ = [
    "NONCE_SIZE",
    "CreateChildTask",
    "kex_reply",
    "start",
]

NONCE_SIZE = 32  # §2.10: at least half the PRF key size, at least 16 bytes
MAX_INVALID_KE_RETRIES = 2
RETRY_DELAY = (1.0, 3.0)  # seconds before a request the peer answered TEMPORARY_FAILURE again
RETRY_MAX = 60.0  # the wait grows with the time the peer has been answering so
OUT_OF_SYNC = 300.0  # §2.25: after "several minutes" of TEMPORARY_FAILURE the IKE SA goes

# child_rekey.py's continuations of a rekey task
Done = Callable[["Ikev2Engine", IkeSa, "CreateChildTask", "ChildSa | None", float], None]
Refused = Callable[["Ikev2Engine", IkeSa, "CreateChildTask", str, float], None]


def _fail(eng: Ikev2Engine, sa: IkeSa, reason: str) -> None:
    eng.emit(NegotiationFailed(remote=sa.remote, reason=reason))


def pfs_group(eng: Ikev2Engine, policy: Policy) -> KeyExchangeGroup | None:
    """The pfs-group of ``policy``'s proposal (None: no KE payload)."""
    profile = eng.proposals.get(policy.proposal)
    if profile is None:
        return None
    try:
        return child_proposals.child_pfs_group(profile)
    except ProtocolError:
        return None


def _offerable(eng: Ikev2Engine, sa: IkeSa, policy: Policy) -> str | None:
    """Why our configuration cannot offer a child for ``policy`` (None: it can)."""
    profile = eng.proposals.get(policy.proposal)
    if profile is None:
        return f"policy {policy.id}: proposal {policy.proposal!r} does not exist"
    try:
        pfs = child_proposals.child_pfs_group(profile) is not None
        child_proposals.child_offer(profile, policy, 0x1000, pfs=pfs)
    except ProtocolError as e:
        return f"policy {policy.id}: {e.detail or e}"
    return None


def start(
    eng: Ikev2Engine,
    sa: IkeSa,
    policy: Policy,
    now: float,
    *,
    rekey_of: ChildSa | None = None,
    on_done: Done | None = None,
    on_refused: Refused | None = None,
    packet: Selector | None = None,
) -> CreateChildTask | None:
    """Queue a CREATE_CHILD_SA for ``policy`` on the established ``sa`` (a rekey of
    ``rekey_of`` with N(REKEY_SA) when given: ``child_rekey.py`` passes ``on_done``, called
    with the installed child or None, and ``on_refused``, called for TEMPORARY_FAILURE and
    CHILD_SA_NOT_FOUND). ``packet``: a further child for traffic outside the policy's
    narrowed children (``narrowed_traffic.py``), offered first in TSi/TSr."""
    problem = _offerable(eng, sa, policy)
    if problem is not None:
        _fail(eng, sa, problem)
        return None
    group = pfs_group(eng, policy)
    if group is not None and rekey_of is not None:
        old = getattr(rekey_of.choice, "group", None)  # the old child's group, as strongSwan
        if old is not None:
            group = old
    task = CreateChildTask(policy, rekey_of=rekey_of, group=group)
    task.on_done, task.on_refused = on_done, on_refused
    task.packet = packet
    if rekey_of is not None:
        rekey_of.rekey_task = task
    eng.queue(sa, task, now)
    return task


class CreateChildTask:
    """Our CREATE_CHILD_SA request for a new child or a child rekey, and its response."""

    exchange = ExchangeType.CREATE_CHILD_SA

    def __init__(
        self,
        policy: Policy,
        *,
        rekey_of: ChildSa | None = None,
        group: KeyExchangeGroup | None = None,
    ) -> None:
        self.policy = policy
        self.rekey_of = rekey_of
        self.group = group  # the KE payload's group; None: no PFS
        self.retries = 0
        self.pending: PendingChild | None = None
        self.message_id = -1
        self.sa: IkeSa | None = None  # the IKE SA the request went out on
        # child_rekey.py: the peer's rekey of the same child that crossed ours (§2.8.1)
        self.collision: Any = None
        self.done = False
        self.on_done: Done | None = None
        self.on_refused: Refused | None = None
        self.packet: Selector | None = None  # narrowed_traffic.py: a further child's packet

    @property
    def nonces(self) -> tuple[bytes, bytes]:
        p = self.pending
        return (b"", b"") if p is None else (p.nonce_i, p.nonce_r)

    def build(self, eng: Ikev2Engine, sa: IkeSa, now: float) -> list[Any] | None:
        old = self.rekey_of
        if old is not None and (old.deleted or old.retiring or old.successor is not None):
            self.done = True  # deleted, or the peer's rekey replaced it while we queued
            old.rekey_task = None
            return None
        pending = PendingChild(policy=self.policy, rekey_of=old, started=now, packet=self.packet)
        pending.nonce_i = eng.rng(NONCE_SIZE)
        if self.group is not None:
            pending.ke = eng.kex_pool.take(self.group)
        offered = children.offer(eng, sa, pending, now)
        if not offered:  # reported by ``offer``
            self.done = True
            return None
        sa_payload = offered[0]
        if self.group is not None:
            sa_payload = _with_group(sa_payload, self.group, pfs_group(eng, self.policy))
            pending.proposals = (sa_payload,)
        self.pending = pending
        self.sa = sa
        self.message_id = sa.tasks.next_request_id()
        sa.pending[self.message_id] = pending
        out: list[Any] = []
        if old is not None:
            out.append(
                NotifyPayload(
                    protocol=ProtocolId.AH if old.protocol.name == "AH" else ProtocolId.ESP,
                    spi=old.spi_in.to_bytes(4, "big"),
                    type=NotifyType.REKEY_SA,
                )
            )
        out += [sa_payload, NoncePayload(data=pending.nonce_i)]
        if pending.ke is not None:
            out.append(KePayload(group=pending.ke.group, data=pending.ke.public_value))
        out += offered[1:]
        return out

    def on_response(self, eng: Ikev2Engine, sa: IkeSa, msg: wm.Message, now: float) -> None:
        pending = sa.pending.pop(self.message_id, None)
        if pending is None or self.pending is None:
            return
        if not sa.established:  # we are deleting the IKE SA (kill-connections, lifetime):
            children.abandon(eng, pending, sa)  # a child made now would outlive it
            self._finished(eng, sa, None, now)
            return
        error = error_notify(msg)
        kind = error.type if error is not None else 0
        if kind == NotifyType.INVALID_KE_PAYLOAD and error is not None:
            children.abandon(eng, pending, sa)
            self._invalid_ke(eng, sa, error, now)
            return
        if kind in (NotifyType.TEMPORARY_FAILURE, NotifyType.CHILD_SA_NOT_FOUND):
            children.abandon(eng, pending, sa)
            self.done = True
            if self.on_refused is not None:
                self.on_refused(eng, sa, self, notify_name(kind), now)
            elif kind == NotifyType.TEMPORARY_FAILURE:
                _retry_later(eng, sa, self.policy, now)
            else:
                _fail(eng, sa, f"policy {self.policy.id}: the peer answered {notify_name(kind)}")
            return
        sa.temporary_failure_since = None  # an answer that is not TEMPORARY_FAILURE
        nonce = first(msg, NoncePayload)
        if error is None and (nonce is None or not 16 <= len(nonce.data) <= 256):
            children.abandon(eng, pending, sa)
            _fail(eng, sa, f"policy {self.policy.id}: CREATE_CHILD_SA reply without a valid Nr")
            self._finished(eng, sa, None, now)
            return
        if nonce is not None:
            pending.nonce_r = nonce.data
        try:
            child = children.complete(eng, sa, pending, msg, now)
        except (ProtocolError, CryptoError) as e:
            children.abandon(eng, pending, sa)
            _fail(eng, sa, f"policy {self.policy.id}: CREATE_CHILD_SA reply: {e}")
            child = None
        self._finished(eng, sa, child, now)

    def _invalid_ke(self, eng: Ikev2Engine, sa: IkeSa, error: NotifyPayload, now: float) -> None:
        """§1.3: the responder wants another group; retry if it is one we offer."""
        wanted = int.from_bytes(error.data[:2], "big") if len(error.data) >= 2 else -1
        ours = pfs_group(eng, self.policy)
        sent = self.group.id if self.group is not None else None
        if ours is None or ours.id != wanted or wanted == sent:
            what = notify_name(NotifyType.INVALID_KE_PAYLOAD)
            _fail(
                eng,
                sa,
                f"policy {self.policy.id}: the peer wants PFS group {wanted}, we offer "
                f"{ours.name if ours else 'none'} ({what})",
            )
            self._finished(eng, sa, None, now)
            return
        if self.retries >= MAX_INVALID_KE_RETRIES:
            _fail(eng, sa, f"policy {self.policy.id}: the peer keeps asking for another group")
            self._finished(eng, sa, None, now)
            return
        self.retries += 1
        self.group = ours
        eng.count("invalid-ke-retry")
        eng.queue(sa, self, now)

    def _finished(self, eng: Ikev2Engine, sa: IkeSa, child: ChildSa | None, now: float) -> None:
        self.done = True
        if self.on_done is not None:
            self.on_done(eng, sa, self, child, now)


def temporary_failure(eng: Ikev2Engine, sa: IkeSa, now: float) -> float | None:
    """The peer answered one of our CREATE_CHILD_SA requests on ``sa`` TEMPORARY_FAILURE
    (§2.25: wait, retry over several minutes, then conclude the state is out of sync and close
    the IKE SA). Returns the delay before a retry, or None when the IKE SA was closed."""
    eng.count("temporary-failure-received")
    since = sa.temporary_failure_since
    if since is None:
        since = sa.temporary_failure_since = now
    if now - since >= OUT_OF_SYNC:
        eng.emit(
            NegotiationFailed(
                remote=sa.remote,
                reason=f"the peer has answered TEMPORARY_FAILURE for {now - since:.0f} s: "
                "state out of sync, closing the IKE SA",
            )
        )
        eng.delete_ike(sa, now, reason="out of sync (TEMPORARY_FAILURE for minutes)")
        return None
    lo, hi = RETRY_DELAY
    draw = lo + (hi - lo) * int.from_bytes(eng.rng(2), "big") / 65536.0
    return min(RETRY_MAX, max(draw, (now - since) / 2))


def _retry_later(eng: Ikev2Engine, sa: IkeSa, policy: Policy, now: float) -> None:
    """§2.25: TEMPORARY_FAILURE (e.g. the peer is rekeying the IKE SA): try again after a
    short random delay, on whatever IKE SA then serves the peer."""
    delay = temporary_failure(eng, sa, now)
    if delay is None:
        return

    def again(at: float) -> None:
        target = eng.ike_for(sa.peer, sa.remote[0])
        if target is None or not target.established:
            return
        if children.installed(eng, policy) or children.negotiating(eng, policy, sa.remote[0]):
            return
        start(eng, target, policy, at)

    eng.later.at(now + delay, sa.remote, again)


def _with_group(
    offer: SaPayload, group: KeyExchangeGroup, configured: KeyExchangeGroup | None
) -> SaPayload:
    """The offer's KE transforms: ``group`` (our KE payload's, §3.4: it must be offered)
    first, then the configured pfs-group if that differs."""
    ids = [group.id] + ([configured.id] if configured and configured.id != group.id else [])
    kes = tuple(Transform(type=TransformType.KE, id=i, key_length=None) for i in ids)
    out = []
    for p in offer.proposals:
        rest = [t for t in p.transforms if t.type != TransformType.KE]
        esn = [t for t in rest if t.type == TransformType.ESN]
        body = [t for t in rest if t.type != TransformType.ESN]
        out.append(replace(p, transforms=(*body, *kes, *esn)))
    return SaPayload(proposals=tuple(out))


# --- responder ------------------------------------------------------------------------------


def kex_reply(
    eng: Ikev2Engine, msg: wm.Message
) -> tuple[int | None, bytes | None, KePayload | None, str | None]:
    """The peer's KE payload -> (its group, g^ir, our KE payload, problem). An unknown group
    gives (group, None, None, None): the proposal choice then refuses it."""
    ke = first(msg, KePayload)
    if ke is None:
        return None, None, None, None
    try:
        group = groups.group_by_id(ke.group)
    except Exception:
        return ke.group, None, None, None
    mine = eng.kex_pool.take(group)
    try:
        secret = mine.shared_secret(ke.data)
    except CryptoError as e:
        return ke.group, None, None, f"the peer's KE value was refused ({e})"
    return ke.group, secret, KePayload(group=group.id, data=mine.public_value), None


def _chosen_group(reply: Any) -> int | None:
    if not isinstance(reply, SaPayload) or not reply.proposals:
        return None
    kes = [t for t in reply.proposals[0].transforms if t.type == TransformType.KE]
    return kes[0].id if kes and kes[0].id != 0 else None


def accept_child(
    eng: Ikev2Engine,
    sa: IkeSa,
    msg: wm.Message,
    now: float,
    *,
    rekey_of: ChildSa | None = None,
) -> tuple[list[Any], ChildSa | None]:
    """The responder's new child (or rekeyed child): our response's payloads and the child."""
    nonce = first(msg, NoncePayload)
    if nonce is None or not 16 <= len(nonce.data) <= 256:
        _fail(eng, sa, "CREATE_CHILD_SA request without a valid Ni: INVALID_SYNTAX")
        return [NotifyPayload(type=NotifyType.INVALID_SYNTAX)], None
    ke_group, secret, our_ke, problem = kex_reply(eng, msg)
    if problem is not None:
        _fail(eng, sa, f"CREATE_CHILD_SA: {problem}: INVALID_SYNTAX")
        return [NotifyPayload(type=NotifyType.INVALID_SYNTAX)], None
    nonce_r = eng.rng(NONCE_SIZE)
    before = list(sa.children)
    payloads = children.accept(
        eng,
        sa,
        msg,
        nonce.data,
        nonce_r,
        now,
        rekey_of=rekey_of,
        ke_group=ke_group,
        shared_secret=secret,
        defer_outbound=rekey_of is not None,
    )
    child = next((c for c in sa.children if c not in before), None)
    if child is None:
        return payloads, None
    out: list[Any] = [payloads[0], NoncePayload(data=nonce_r)]
    if _chosen_group(payloads[0]) is not None and our_ke is not None:
        out.append(our_ke)
    out += payloads[1:]
    return out, child
