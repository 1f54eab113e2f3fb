"""Child SAs of the IKEv2 engine: offer, accept, install, delete, expire (RFC 7296 §1.3, §2.9,
§2.17; RFC 4301 §4.4.2 for the SA's selectors).

The first child rides IKE_AUTH (``ike_auth.py``); later ones CREATE_CHILD_SA (the rekey
helper's tasks call ``offer``/``accept``/``complete`` with their own nonces and KE). Each child
is one ESP or AH SA pair, installed through the backend in both directions with the keys of
§2.17 (the i keys protect what the exchange's initiator sends), bound to its policy's selectors
(``SaSelector``: the TSi/TSr agreed, which may be narrower than the policy,
``traffic_selectors.sa_selectors``), with the proposal's lifetime as hard
limit and a soft limit 85-95 % of it drawn from the rng (the exchange's initiator lower, so it
rekeys first; a draw so that children made together do not all rekey at once).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pyipsec.core import child_sa
from pyipsec.core.events import ChildSaDeleted, ChildSaInstalled, NegotiationFailed
from pyipsec.dataplane.policy import Direction, IPAddress, Level, Mode, Policy
from pyipsec.dataplane.sad import (
    Lifetime,
    SaHardExpired,
    SaParams,
    SaProtocol,
    SaSoftExpired,
)
from pyipsec.wire.ikev2 import message as wm
from pyipsec.wire.ikev2.constants import NotifyType, ProtocolId
from pyipsec.wire.ikev2.payloads import KePayload, NotifyPayload, SaPayload, TsPayload

from . import child_proposals, keymat, proposals, traffic_selectors
from .errors import InvalidKePayload, NoProposalChosen, ProtocolError
from .ike_sa import ChildSa, IkeSa, PendingChild
from .message_parts import first, notify_name

if TYPE_CHECKING:
    from .engine import Ikev2Engine

__all__ = [
    "ChildIndex",
    "accept",
    "complete",
    "delete",
    "install",
    "lost",
    "offer",
    "sa_expired",
    "start",
]

SOFT_RANGE = {True: (0.85, 0.90), False: (0.90, 0.95)}  # by "we initiated the exchange"


class ChildIndex:
    """The live children by (protocol, SPI, destination) of each of their two SAs and by
    policy id: the lookups of a setup or a delete cost the same with ten children or ten
    thousand (a child of a generated policy has that policy's id: ``install``)."""

    def __init__(self) -> None:
        self._by_spi: dict[tuple[SaProtocol, int, IPAddress], ChildSa] = {}
        self._all: dict[int, ChildSa] = {}  # by id(child), in insertion order
        self._by_policy: dict[int, dict[int, ChildSa]] = {}

    def __iter__(self) -> Any:
        return iter(list(self._all.values()))

    def __len__(self) -> int:
        return len(self._all)

    def add(self, child: ChildSa) -> None:
        self._all[id(child)] = child
        self._by_policy.setdefault(child.policy.id, {})[id(child)] = child
        self._by_spi[(child.protocol, child.spi_in, child.local)] = child
        self._by_spi[(child.protocol, child.spi_out, child.remote)] = child

    def remove(self, child: ChildSa) -> None:
        if self._all.get(id(child)) is not child:
            return
        del self._all[id(child)]
        group = self._by_policy.get(child.policy.id)
        if group is not None:
            group.pop(id(child), None)
            if not group:
                del self._by_policy[child.policy.id]
        for spi_key in ((child.protocol, child.spi_in, child.local),
                        (child.protocol, child.spi_out, child.remote)):  # fmt: skip
            if self._by_spi.get(spi_key) is child:
                del self._by_spi[spi_key]

    def by_spi(self, protocol: SaProtocol, spi: int, dst: IPAddress) -> ChildSa | None:
        return self._by_spi.get((protocol, spi, dst))

    def of_policy(self, policy_id: int) -> list[ChildSa]:
        group = self._by_policy.get(policy_id)  # None for a new (generated) policy: no scan
        return [] if group is None else [c for c in group.values() if not c.deleted]

    def of_dynamic_policy(self, policy_id: int) -> list[ChildSa]:
        """The indexed children (deleted or not) that the generated policy ``policy_id``
        serves: they have that policy (``install``; a rekey hands the generated policy on
        only to a child of the same policy, child_rekey.py)."""
        group = self._by_policy.get(policy_id, {})
        return [c for c in group.values() if c.dynamic_policy_id == policy_id]


def _protocol(policy: Policy) -> SaProtocol:
    return SaProtocol.AH if policy.ah and not policy.esp else SaProtocol.ESP


def _fail(eng: Ikev2Engine, sa: IkeSa, reason: str) -> None:
    eng.emit(NegotiationFailed(remote=sa.remote, reason=reason))


# --- initiator ------------------------------------------------------------------------------


def offer(eng: Ikev2Engine, sa: IkeSa, pending: PendingChild, now: float) -> list[Any]:
    """SA, TSi, TSr [, N(USE_TRANSPORT_MODE)] for ``pending``'s policy (an inbound SPI is
    reserved). Nothing (and a NegotiationFailed) when our configuration cannot offer it."""
    policy = pending.policy
    assert policy is not None  # an initiator's pending child always has its policy
    profile = eng.proposals.get(policy.proposal)
    if profile is None:
        _fail(eng, sa, f"policy {policy.id}: proposal {policy.proposal!r} does not exist")
        return []
    pending.protocol = _protocol(policy)
    pending.spi_in = eng.backend.allocate_spi(pending.protocol, sa.remote[0], sa.local[0])
    try:
        sa_payload = child_proposals.child_offer(
            profile, policy, pending.spi_in, pfs=pending.ke is not None
        )
    except ProtocolError as e:
        eng.backend.delete_sa(pending.spi_in, pending.protocol, sa.local[0])
        _fail(eng, sa, f"policy {policy.id}: {e.detail or e}")
        return []
    old = pending.rekey_of
    if old is not None and old.agreed[0] and old.agreed[1]:
        sel_i, sel_r = old.agreed  # a rekey asks for the traffic the child carries (§2.9.2)
    else:  # with the acquire's packet first when the child is for it (narrowed_traffic.py)
        sel_i, sel_r = traffic_selectors.policy_selectors(policy, packet=pending.packet)
    tsi = TsPayload(initiator=True, selectors=sel_i)
    tsr = TsPayload(initiator=False, selectors=sel_r)
    pending.proposals = (sa_payload,)
    pending.ts_i, pending.ts_r = (tsi,), (tsr,)
    out: list[Any] = [sa_payload, tsi, tsr]
    return out + mode_notifies(policy.mode)


def mode_notifies(mode: Mode) -> list[NotifyPayload]:
    """The child's mode notifies, the same in a request and its answer (§1.3.1, §3.10.1):
    transport mode asks for (or grants) USE_TRANSPORT_MODE and says
    ESP_TFC_PADDING_NOT_SUPPORTED, as our receive path strips TFC padding (RFC 4303 §2.7)
    only in tunnel mode, by the inner IP header's length; a transport payload (TCP) has no
    length to strip it by. Tunnel mode sends neither."""
    if mode is not Mode.TRANSPORT:
        return []
    return [
        NotifyPayload(type=NotifyType.USE_TRANSPORT_MODE),
        NotifyPayload(type=NotifyType.ESP_TFC_PADDING_NOT_SUPPORTED),
    ]


def complete(
    eng: Ikev2Engine, sa: IkeSa, pending: PendingChild, msg: wm.Message, now: float
) -> ChildSa | None:
    """The responder's answer to our child: install it, or report what it refused."""
    policy = pending.policy
    assert policy is not None
    if not pending.proposals:  # we could not offer it (reported by ``offer``)
        return None
    error, sa_payload, tsi, tsr, transport = _child_payloads(msg)
    if error is not None or sa_payload is None:
        abandon(eng, pending, sa)
        what = notify_name(error.type) if error is not None else "no SA payload"
        kind = error.type if error is not None else 0
        if kind == NotifyType.NO_PROPOSAL_CHOSEN:
            offered = proposals.describe_sa(pending.proposals[0])
            why = f"the peer accepted none of our child SA proposals ({offered})"
        elif kind == NotifyType.TS_UNACCEPTABLE:
            ts_i = traffic_selectors.describe([t for p in pending.ts_i for t in p.selectors])
            ts_r = traffic_selectors.describe([t for p in pending.ts_r for t in p.selectors])
            why = f"the peer has no policy for our traffic selectors {ts_i} to {ts_r}"
        else:
            why = "the peer refused the child SA"
        _fail(eng, sa, f"policy {policy.id}: {why} ({what})")
        return None
    try:
        choice = child_proposals.accept_child_reply(
            pending.proposals[0], sa_payload, ke_group=pending.ke.group if pending.ke else None
        )
        if tsi is None or tsr is None:
            raise ProtocolError("the reply has no TSi/TSr")
        got_i, got_r = traffic_selectors.accept_narrowed(
            [t for p in pending.ts_i for t in p.selectors],
            [t for p in pending.ts_r for t in p.selectors],
            tsi.selectors,
            tsr.selectors,
        )
        narrowed = traffic_selectors.Narrowed(policy=policy, generated=False, tsi=got_i, tsr=got_r)
    except ProtocolError as e:
        abandon(eng, pending, sa)
        _fail(eng, sa, f"policy {policy.id}: child SA reply: {e.detail or e}")
        return None
    if transport != (policy.mode is Mode.TRANSPORT):
        # §1.3.1: a responder that declines transport mode makes the child a tunnel; "if this
        # is unacceptable to the initiator, the initiator MUST delete the SA". The peer has
        # installed it: a Delete of our inbound SPI (its outbound) removes it there.
        asked = "transport" if policy.mode is Mode.TRANSPORT else "tunnel"
        got = "transport" if transport else "tunnel"
        _delete_refused(eng, sa, pending, now)
        _fail(
            eng,
            sa,
            f"policy {policy.id}: we asked for {asked} mode, the peer answered {got} mode;"
            " the child is deleted",
        )
        return None
    shared = _pfs_secret(pending, msg)
    return install(eng, sa, narrowed, choice, pending, now, we_initiated=True, shared_secret=shared)


def _child_payloads(
    msg: wm.Message,
) -> tuple[NotifyPayload | None, SaPayload | None, TsPayload | None, TsPayload | None, bool]:
    """(the first error notify, the first SA, TSi and TSr payloads, whether a
    USE_TRANSPORT_MODE notify is there) of ``msg``, in one walk of its payloads: what
    ``error_notify``, ``notifies`` and three generator scans found in five (~2 us more)."""
    error = sa_payload = tsi = tsr = None
    transport = False
    for p in msg.payloads:
        if isinstance(p, TsPayload):
            if p.initiator:
                tsi = p if tsi is None else tsi
            else:
                tsr = p if tsr is None else tsr
        elif isinstance(p, NotifyPayload):
            if p.type == NotifyType.USE_TRANSPORT_MODE:
                transport = True
            elif error is None and 0 < p.type < 16384:  # RFC 7296 §3.10.1: an error
                error = p
        elif sa_payload is None and isinstance(p, SaPayload):
            sa_payload = p
    return error, sa_payload, tsi, tsr, transport


def _pfs_secret(pending: PendingChild, msg: wm.Message) -> bytes | None:
    if pending.ke is None:
        return None
    ke = first(msg, KePayload)
    if ke is None:
        raise ProtocolError("the reply has no KE payload for our PFS group")
    return pending.ke.shared_secret(ke.data)


def _delete_refused(eng: Ikev2Engine, sa: IkeSa, pending: PendingChild, now: float) -> None:
    """Tell the peer to delete the child it installed for ``pending`` (which we do not install),
    then release our reserved SPI."""
    from pyipsec.wire.ikev2.payloads import DeletePayload

    from . import informational

    spi = pending.spi_in.to_bytes(4, "big")
    protocol = ProtocolId.AH if pending.protocol is SaProtocol.AH else ProtocolId.ESP
    eng.queue(sa, informational.InfoTask([DeletePayload(protocol=protocol, spis=(spi,))]), now)
    abandon(eng, pending, sa)


def abandon(eng: Ikev2Engine, pending: PendingChild | None, sa: IkeSa | None = None) -> None:
    """Release the SPI a pending child reserved."""
    if pending is None or not pending.spi_in or sa is None:
        return
    eng.backend.delete_sa(pending.spi_in, pending.protocol, sa.local[0])
    pending.spi_in = 0


def start(
    eng: Ikev2Engine, sa: IkeSa, policy: Policy, now: float, rekey_of: ChildSa | None = None
) -> None:
    """A further child for ``policy`` with the peer of ``sa``: CREATE_CHILD_SA when the rekey
    helper has installed it (``eng.create_child``), else a new IKE SA carrying it."""
    if eng.create_child is not None:
        eng.create_child(sa, policy, now, rekey_of)
        return
    eng.start_ike(sa.peer, sa.local[0], sa.remote[0], now, policy)


def negotiating(eng: Ikev2Engine, policy: Policy, remote: IPAddress) -> bool:
    for sa in eng.ike.with_address(remote):
        if sa.dead or sa.remote[0] != remote:
            continue
        pend = [sa.first_child, *sa.pending.values()]
        if any(p is not None and p.policy is not None and p.policy.id == policy.id for p in pend):
            return True
        if any(p.id == policy.id for p in sa.waiting):
            return True
    return False


def installed(eng: Ikev2Engine, policy: Policy) -> bool:
    """Whether a live child of ``policy`` still has its outbound SA in the data plane."""
    return any(
        eng.backend.sa_usage(c.spi_out, c.protocol, c.remote) is not None
        for c in eng.children.of_policy(policy.id)
    )


# --- responder ------------------------------------------------------------------------------


def accept(
    eng: Ikev2Engine,
    sa: IkeSa,
    msg: wm.Message,
    nonce_i: bytes,
    nonce_r: bytes,
    now: float,
    *,
    first: bool = False,
    rekey_of: ChildSa | None = None,
    ke_group: int | None = None,
    shared_secret: bytes | None = None,
    defer_outbound: bool = False,
) -> list[Any]:
    """The responder's side of a child: narrow the TS to a policy, choose a proposal, install;
    returns SAr, TSi, TSr [, N(USE_TRANSPORT_MODE)] or the error notify to answer with."""
    _, sa_payload, tsi, tsr, transport = _child_payloads(msg)
    if sa_payload is None or tsi is None or tsr is None:
        if first and sa_payload is None and tsi is None and tsr is None:
            return []  # RFC 6023 childless IKE_AUTH: nothing to do
        _fail(eng, sa, "child SA request without SA, TSi or TSr: INVALID_SYNTAX")
        return [NotifyPayload(type=NotifyType.INVALID_SYNTAX)]
    spi_in = 0
    protocol = SaProtocol.ESP
    try:
        narrowed = traffic_selectors.narrow(
            tsi.selectors,
            tsr.selectors,
            policies=eng.policies,
            peer=sa.peer,
            templates=eng.templates,
            local=sa.local[0],
            remote=sa.remote[0],
            new_id=eng.new_policy_id,
            nat_transport=transport and sa.nat,
        )
        policy = narrowed.policy
        if policy.mode is Mode.TRANSPORT and not transport:
            # §1.3.1 lets a responder decline transport (tunnel then), not impose it: a
            # tunnel=no policy is transport only, and a tunnel request for it is refused
            raise NoProposalChosen(
                f"policy {policy.id} is transport mode (tunnel=no), the peer asked for"
                " tunnel mode (no USE_TRANSPORT_MODE)"
            )
        profile = eng.proposals.get(policy.proposal)
        if profile is None:
            raise ProtocolError(f"policy {policy.id}: proposal {policy.proposal!r} does not exist")
        protocol = _protocol(policy)
        spi_in = eng.backend.allocate_spi(protocol, sa.remote[0], sa.local[0])
        choice, reply = child_proposals.select_child(
            profile, policy, sa_payload, spi=spi_in, ke_group=ke_group, first_child=first
        )
    except ProtocolError as e:
        if spi_in:
            eng.backend.delete_sa(spi_in, protocol, sa.local[0])
        if not isinstance(e, InvalidKePayload):  # that one is a step: the peer retries (§1.3)
            _fail(eng, sa, f"child SA: {e}")
        eng.count(e.notify.name.lower().replace("_", "-"))
        return [NotifyPayload(type=e.notify, data=e.notify_data)]
    pending = PendingChild(
        policy=policy, protocol=protocol, spi_in=spi_in, nonce_i=nonce_i, nonce_r=nonce_r,
        rekey_of=rekey_of, started=now,
    )  # fmt: skip
    child = install(
        eng,
        sa,
        narrowed,
        choice,
        pending,
        now,
        we_initiated=False,
        shared_secret=shared_secret,
        defer_outbound=defer_outbound,
    )
    out: list[Any] = [
        reply,
        TsPayload(initiator=True, selectors=narrowed.tsi),
        TsPayload(initiator=False, selectors=narrowed.tsr),
    ]
    if child is not None:
        # transport only when asked and our policy is transport; a transport request for a
        # tunnel policy is answered without the notify: a tunnel child (§1.3.1)
        out += mode_notifies(policy.mode)
    return out


# --- install / delete -----------------------------------------------------------------------


def install(
    eng: Ikev2Engine,
    sa: IkeSa,
    narrowed: traffic_selectors.Narrowed,  # the policy the SAs serve
    choice: child_proposals.ChildChoice,
    pending: PendingChild,
    now: float,
    *,
    we_initiated: bool,
    shared_secret: bytes | None = None,
    defer_outbound: bool = False,
) -> ChildSa | None:
    """Both SAs of a child through the backend (§2.17 keys), then the ChildSaInstalled event.
    With ``defer_outbound`` (the responder of a child rekey) the outbound SA is kept in the
    record until ``install_outbound`` (child_rekey.py: make-before-break)."""
    policy: Policy = narrowed.policy
    if narrowed.generated:
        eng.backend.add_policy(policy)
    local, remote = sa.local[0], sa.remote[0]
    keys = keymat.derive_child_keys(
        sa.choice.prf,
        sa.keys.sk_d,
        choice.encryption,
        choice.integrity,
        pending.nonce_i,
        pending.nonce_r,
        shared_secret,
    )
    # the exchange's initiator sends with the i keys
    out_keys = (keys.encr_i, keys.integ_i) if we_initiated else (keys.encr_r, keys.integ_r)
    in_keys = (keys.encr_r, keys.integ_r) if we_initiated else (keys.encr_i, keys.integ_i)
    hard = (
        float(eng.proposals[policy.proposal].lifetime) if policy.proposal in eng.proposals else 0.0
    )
    lo, hi = SOFT_RANGE[we_initiated]
    draw = int.from_bytes(eng.rng(2), "big") / 65536.0
    lifetime = Lifetime(soft_add=hard * (lo + (hi - lo) * draw), hard_add=hard)
    # RFC 3948 ESP in UDP on the IKE SA's ports behind a NAT
    encap_in, encap_out = child_sa.udp_encap_ports(sa.local, sa.remote, sa.nat)
    # ESP without integrity (§3.3.3 NONE): "null", no anti-replay
    integrity, replay = child_sa.integrity_and_replay(choice.encryption, choice.integrity)
    spi_out = choice.peer_spi
    deferred: SaParams | None = None
    # RFC 4301 §4.4.2, §5.2: the SAs carry what TSi/TSr agreed, not the whole policy
    sel_in, sel_out = traffic_selectors.child_sa_selectors(
        policy, narrowed.tsi, narrowed.tsr, we_initiated=we_initiated
    )
    for direction, spi, (enc_key, auth_key), (selector, selectors) in (
        (Direction.IN, pending.spi_in, in_keys, sel_in),
        (Direction.OUT, spi_out, out_keys, sel_out),
    ):
        inbound = direction is Direction.IN
        params = SaParams(
            spi=spi,
            protocol=choice.protocol,
            direction=direction,
            src=remote if inbound else local,
            dst=local if inbound else remote,
            mode=policy.mode,
            encryption=choice.encryption,
            enc_key=enc_key,
            integrity=integrity,
            auth_key=auth_key,
            replay_window=replay,
            esn=choice.esn,
            udp_encap=encap_in if inbound else encap_out,
            lifetime=lifetime,
            policy_id=policy.id if policy.level is Level.UNIQUE else None,
            selector=selector,
            selectors=selectors,
        )
        if defer_outbound and not inbound:
            deferred = params
        else:
            eng.backend.add_sa(params, now)
    child = ChildSa(
        ike_spi_i=sa.spi_i,
        peer_id=sa.peer.id,
        local=local,
        remote=remote,
        policy=policy,
        protocol=choice.protocol,
        spi_in=pending.spi_in,
        spi_out=spi_out,
        installed=now,
        initiator=we_initiated,
        choice=choice,
        dynamic_policy_id=policy.id if narrowed.generated else None,
        deferred_out=deferred,
        agreed=(narrowed.tsi, narrowed.tsr) if we_initiated else (narrowed.tsr, narrowed.tsi),
    )
    for old in eng.children.of_policy(policy.id):
        # superseded (it must not rekey again): the child this one rekeys, or one carrying
        # the same traffic; a policy's children for other traffic (a narrowed policy's further
        # children, narrowed_traffic.py) stay, and so does the old one when ours is such a
        # further child (which the caller deletes if it duplicates it)
        same = old is pending.rekey_of or (pending.packet is None and old.agreed == child.agreed)
        if old.remote == remote and old is not child and same:
            old.rekeyed = True
    eng.children.add(child)
    sa.children.append(child)
    eng.emit(
        ChildSaInstalled(
            remote=remote,
            protocol=choice.protocol,
            spi_in=pending.spi_in,
            spi_out=spi_out,
            policy_id=policy.id,
            rekey=pending.rekey_of is not None,
        )
    )
    pending.spi_in = 0  # the SA took the reservation: nothing left to release
    return child


def install_outbound(eng: Ikev2Engine, child: ChildSa, now: float) -> None:
    """Install the outbound SA ``install(defer_outbound=True)`` kept back."""
    params, child.deferred_out = child.deferred_out, None
    if params is not None and not child.deleted:
        eng.backend.add_sa(params, now)


def delete(eng: Ikev2Engine, child: ChildSa, now: float, *, reason: str, notify: bool) -> None:
    """Remove both SAs of ``child``; with ``notify``, tell the peer (INFORMATIONAL Delete of
    our inbound SPI, §1.4.1) on its IKE SA. A successor waiting for ``child`` to go (the
    responder's side of a rekey) gets its outbound SA first: traffic never lacks an SA."""
    if child.deleted:
        return
    successor = child.successor
    while successor is not None and successor.retiring and successor.successor is not None:
        successor = successor.successor  # rekeyed in turn: the newest one takes over
    if successor is not None:
        install_outbound(eng, successor, now)
    child.deleted = True
    eng.backend.delete_sa(child.spi_in, child.protocol, child.local)
    eng.backend.delete_sa(child.spi_out, child.protocol, child.remote)
    if child.dynamic_policy_id is not None and not any(
        c is not child for c in eng.children.of_dynamic_policy(child.dynamic_policy_id)
    ):
        eng.backend.remove_policy(child.dynamic_policy_id)
    eng.children.remove(child)
    owner = next((s for s in eng.ike.with_address(child.remote) if child in s.children), None)
    if owner is not None:
        owner.children.remove(child)
    eng.emit(
        ChildSaDeleted(
            remote=child.remote,
            protocol=child.protocol,
            spi_in=child.spi_in,
            spi_out=child.spi_out,
            reason=reason,
        )
    )
    if notify and owner is not None and owner.established:
        from . import informational

        owner.deleting_spis = [*owner.deleting_spis[-31:], child.spi_out]
        informational.send_delete_child(eng, owner, child, now)


def lost(
    eng: Ikev2Engine, spi: int, protocol: SaProtocol, src: IPAddress, dst: IPAddress, now: float
) -> bool:
    """ESP/AH from ``src`` for ``spi``, the inbound SPI of a child we still have whose SAs the
    data plane lost (``installed-sa flush`` removes them without telling IKE): delete the child
    with a Delete to the peer (§1.4.1: it removes its side, instead of sending into SAs we no
    longer have) and, when a configured policy still wants it, negotiate it again at once
    (CREATE_CHILD_SA on the IKE SA, ``lookups.acquire``), as IKEv1 does
    (core/ikev1/invalid_spi.py). False when ``spi`` is no such child's: INVALID_SPI then."""
    child = eng.children.by_spi(protocol, spi, dst)  # our inbound SPI at our address
    if child is None or child.deleted or child.remote != src or child.spi_in != spi:
        return False
    if eng.backend.sa_usage(spi, protocol, dst) is not None:
        return False  # the SA is there: not ours to act on (the data plane will deliver)
    if not eng.invalid_spi_by_spi.allow((src, spi), now):
        eng.count("unknown-spi-rate-limited")
        return True
    eng.count("lost-sa-deleted")
    delete(eng, child, now, reason="SAs lost from the data plane", notify=True)
    if child.dynamic_policy_id is None:
        policy = next((p for p in eng.policies if p.id == child.policy.id), None)
        if policy is not None:
            eng.acquire(policy, now)
    return True


def sa_expired(eng: Ikev2Engine, event: SaSoftExpired | SaHardExpired, now: float) -> None:
    child = eng.children.by_spi(event.protocol, event.spi, event.dst)
    if child is None or child.deleted:
        return
    if isinstance(event, SaHardExpired):
        delete(eng, child, now, reason="lifetime expired", notify=True)
        return
    if child.rekeyed:
        return
    child.rekeyed = True  # one replacement per child
    if eng.rekey_child is not None:
        eng.rekey_child(child, now)
        return
    peer = next((p for p in eng.peers if p.id == child.peer_id), None)
    if peer is None or (peer.passive and not child.initiator):
        return  # RouterOS passive: it answers, it does not start (as core/ikev1/deletion.py)
    owner = next(
        (s for s in eng.ike.with_address(child.remote) if child in s.children and s.established),
        None,
    )
    if owner is not None:
        start(eng, owner, child.policy, now, rekey_of=child)
    elif any(p.id == child.policy.id for p in eng.policies):
        eng.start_ike(peer, child.local, child.remote, now, child.policy)
