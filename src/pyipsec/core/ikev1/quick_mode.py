"""Quick mode (RFC 2409 §5.5): phase-2 SAs under an established ISAKMP SA.

Theory of operation
-------------------
::

    Initiator                                   Responder
    HDR*, HASH(1), SA, Ni [, KE] [, IDci, IDcr]  -->
                          <--  HDR*, HASH(2), SA, Nr [, KE] [, IDci, IDcr] [, N(RESP-LIFETIME)]
    HDR*, HASH(3)                                -->

HASH(1) = prf(SKEYID_a, M-ID | SA | Ni [| KE] [| IDs]), HASH(2) = prf(SKEYID_a, M-ID | Ni_b |
SA | Nr ...), HASH(3) = prf(SKEYID_a, 0 | M-ID | Ni_b | Nr_b). Each exchange has its own
message ID and CBC chain (``QuickMode.iv``).

The initiator starts on an acquire (or a soft expiry: a rekey) with the policy's IDs and the
proposal's transforms, allocating its inbound SPIs first; it installs both directions when the
responder's answer verifies and then sends HASH(3). The responder matches the IDs to a
configured policy, or (generate-policy) creates a dynamic one from the peer's templates,
chooses a transform under the peer's proposal-check, and installs when HASH(3) arrives.
A repeated message 1 gets message 2 again; a repeated message 2 gets message 3 again.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import TYPE_CHECKING

from pyipsec.core import child_sa
from pyipsec.core.events import ChildSaInstalled, Endpoint, NegotiationFailed
from pyipsec.crypto.base import CryptoError
from pyipsec.dataplane.policy import Direction, Level, Policy
from pyipsec.dataplane.sad import (
    Lifetime,
    SaParams,
    SaProtocol,
    SaSelector,
)
from pyipsec.wire.ikev1.constants import ExchangeType, NotifyMessageType, ProtocolId
from pyipsec.wire.ikev1.errors import MalformedMessage
from pyipsec.wire.ikev1.header import Header
from pyipsec.wire.ikev1.payloads import (
    IdPayload,
    KePayload,
    NoncePayload,
    NotifyPayload,
    Payload,
    SaPayload,
)

from . import keymat as km
from . import proposals
from .errors import LocalProtocolError, PayloadMalformed, ProtocolError, RemoteProtocolError
from .ike_sa import (
    HALF_OPEN_TIMEOUT,
    PROTOCOL_ID,
    SA_PROTOCOL,
    ChildSa,
    Dropped,
    IkeSa,
    QuickMode,
    Retransmit,
    Side,
    fingerprint,
    identity_key,
)
from .protected import BadHash, exchange_iv, open_protected, seal

if TYPE_CHECKING:
    from .engine import Ikev1Engine

__all__ = ["QuickMode", "abandon", "failed", "receive", "soft_bytes", "start", "timers"]

NONCE_SIZE = 20
NONCE_RANGE = (8, 256)  # RFC 2409 §5: "The length of nonce payload MUST be between 8 and 256"
SOFT_FRACTION = {Side.INITIATOR: 0.9, Side.RESPONDER: 0.95}  # the initiator rekeys first
# Soft lifebytes as a fraction of the hard limit, drawn per bundle from the injected rng so
# that SAs installed together do not all rekey on the same packet; the initiator's range lies
# below the responder's (the two count the same bytes), so it still rekeys first.
SOFT_BYTES_RANGE = {Side.INITIATOR: (0.80, 0.875), Side.RESPONDER: (0.875, 0.95)}
_PROTOCOLS = ((SaProtocol.ESP, "esp"), (SaProtocol.AH, "ah"))


HashFn = Callable[[bytes], bytes]


def _hash1(sa: IkeSa, mid: int) -> HashFn:
    assert sa.prf is not None and sa.keys is not None
    prf, key = sa.prf, sa.keys.skeyid_a
    return lambda rest: km.quick_mode_hash1(prf, key, mid, rest)


def _hash2(sa: IkeSa, mid: int, ni: bytes) -> HashFn:
    assert sa.prf is not None and sa.keys is not None
    prf, key = sa.prf, sa.keys.skeyid_a
    return lambda rest: km.quick_mode_hash2(prf, key, mid, ni, rest)


def _send(
    eng: Ikev1Engine,
    sa: IkeSa,
    q: QuickMode,
    payloads: list[Payload],
    hash_rest: HashFn,
    now: float,
    *,
    awaiting: bool,
    reply_to: bytes | None,
) -> None:
    data, q.iv = seal(
        sa,
        exchange_type=ExchangeType.QUICK_MODE,
        mid=q.mid,
        iv=q.iv,
        payloads=payloads,
        hash_rest=hash_rest,
    )
    q.retransmit = Retransmit(
        data=data, src=sa.local, dst=sa.remote, reply_to=reply_to, awaiting=awaiting
    )
    q.retransmit.arm(now)
    eng.transmit(sa, data)


def _spis_for(eng: Ikev1Engine, sa: IkeSa, protocols: list[SaProtocol]) -> dict[SaProtocol, int]:
    return {p: eng.backend.allocate_spi(p, sa.remote[0], sa.local[0]) for p in protocols}


def start(
    eng: Ikev1Engine, sa: IkeSa, policy: Policy, now: float, rekey_of: ChildSa | None = None
) -> None:
    """Initiate quick mode for ``policy`` on the established ``sa``."""
    proposal = eng.proposals.get(policy.proposal)
    if proposal is None:
        eng.emit(NegotiationFailed(remote=sa.remote, reason=f"no proposal {policy.proposal}"))
        return
    from . import selectors as sel

    protocols = [p for p, attr in _PROTOCOLS if getattr(policy, attr)]
    spis = _spis_for(eng, sa, protocols)
    try:
        offer = proposals.phase2_offer(
            proposal, policy, spis, udp_encap=sa.nat, natt_draft=sa.nat and not sa.natt_rfc
        )
    except ProtocolError as e:
        eng.emit(NegotiationFailed(remote=sa.remote, reason=str(e)))
        for p, spi in spis.items():
            eng.backend.delete_sa(spi, p, sa.local[0])  # release the reservations
        return
    mid = eng._new_mid(sa)
    q = QuickMode(
        mid=mid,
        side=Side.INITIATOR,
        started=now,
        policy=policy,
        proposal=proposal,
        offer=offer,
        spis={int(PROTOCOL_ID[p]): s.to_bytes(4, "big") for p, s in spis.items()},
        rekey_of=rekey_of,
    )
    q.reserved = dict(q.spis)
    q.iv = exchange_iv(sa, mid)
    q.ni = eng.rng(NONCE_SIZE)
    payloads: list[Payload] = [offer, NoncePayload(data=q.ni)]
    pfs = proposals.proposal_pfs_group(proposal)
    if pfs is not None:
        q.ke = eng.kex_pool.take(pfs)
        payloads.append(KePayload(data=q.ke.public_value))
    if sel.needs_ids(policy):
        q.ids = sel.policy_ids(policy)
        payloads += list(q.ids)
    sa.quick[mid] = q
    q.step = 1
    _send(eng, sa, q, payloads, _hash1(sa, mid), now, awaiting=True, reply_to=None)


def receive(
    eng: Ikev1Engine,
    sa: IkeSa,
    header: Header,
    data: bytes,
    src: Endpoint,
    dst: Endpoint,
    now: float,
) -> None:
    fp = fingerprint(data)
    q = sa.quick.get(header.message_id)
    if q is not None:
        if eng.answer_retransmission(q.retransmit, fp, now):
            return
        if fp == q.last_received or q.done:
            raise Dropped("duplicate")
    if not header.encrypted:
        raise Dropped("unencrypted-quick-mode")
    if q is None:
        _respond(eng, sa, header, data, fp, src, now)
    elif q.side is Side.INITIATOR and q.step == 1:
        _initiator_reply(eng, sa, q, data, fp, now)
    elif q.side is Side.RESPONDER and q.step == 2:
        _responder_finish(eng, sa, q, data, fp, now)
    else:
        raise Dropped("unexpected-quick-mode")
    sa.last_heard = now  # its HASH verified: the peer is alive (RFC 3706 §5.3)


def _open(sa: IkeSa, iv: bytes, data: bytes, expected):  # type: ignore[no-untyped-def]
    try:
        return open_protected(sa, iv, data, expected)
    except BadHash:
        raise Dropped("bad-hash") from None


def _fail(eng: Ikev1Engine, sa: IkeSa, q: QuickMode | None, e: ProtocolError) -> None:
    eng.emit(NegotiationFailed(remote=sa.remote, reason=f"quick mode: {e}"))
    if isinstance(e, RemoteProtocolError):
        eng.send_informational(
            sa, [NotifyPayload(protocol_id=ProtocolId.ISAKMP, notify_type=e.notify)]
        )
    if q is not None:
        q.done = True
        q.retransmit = None
        _release(eng, sa, q)


def _release(eng: Ikev1Engine, sa: IkeSa, q: QuickMode) -> None:
    """A quick mode that installed nothing gives back what it took from the data plane: its
    generated policy, and the inbound SPIs ``allocate_spi`` reserved for it (``delete_sa``
    releases a reservation no SA took, as XFRM deletes the larval SA of an ALLOCSPI)."""
    if q.dynamic_policy is not None and not eng.children.uses_dynamic_policy(q.dynamic_policy.id):
        eng.backend.remove_policy(q.dynamic_policy.id)
    for proto_id, spi in q.reserved.items():
        proto = SA_PROTOCOL.get(proto_id)
        if proto is not None:
            eng.backend.delete_sa(int.from_bytes(spi, "big"), proto, sa.local[0])
    q.reserved = {}


def abandon(eng: Ikev1Engine, sa: IkeSa) -> None:
    """The ISAKMP SA is going away: its unfinished quick modes release what they hold."""
    for q in sa.quick.values():
        if not q.done:
            q.done = True
            q.retransmit = None
            _release(eng, sa, q)


def failed(eng: Ikev1Engine, sa: IkeSa, q: QuickMode) -> None:
    """Our quick mode ``q`` ended without SAs (the peer refused it): see ``_release``."""
    q.done = True
    q.retransmit = None
    if q.rekey_of is not None:
        q.rekey_of.rekeyed = False
    _release(eng, sa, q)


def _respond(
    eng: Ikev1Engine, sa: IkeSa, header: Header, data: bytes, fp: bytes, src: Endpoint, now: float
) -> None:
    from . import selectors as sel

    mid = header.message_id
    if mid == 0:
        raise Dropped("quick-mode-mid-zero")
    iv = exchange_iv(sa, mid)
    msg, _rest, next_iv = _open(sa, iv, data, _hash1(sa, mid))
    offer = msg.get(SaPayload)
    nonce = msg.get(NoncePayload)
    if offer is None or nonce is None:
        raise Dropped("quick-mode-missing-payload")
    q = QuickMode(mid=mid, side=Side.RESPONDER, started=now, iv=next_iv)
    q.ni = nonce.data
    q.last_received = fp
    sa.quick[mid] = q
    ids = msg.all(IdPayload)
    try:
        _check_nonce(eng, nonce)
        if len(ids) not in (0, 2):
            raise MalformedMessage(NotifyMessageType.INVALID_ID_INFORMATION, "one ID payload")
        idci, idcr = (ids[0], ids[1]) if ids else (None, None)
        selector = sel.ids_to_selector(
            idci, idcr, sa.remote[0], sa.local[0], nat_transport=sa.nat and _offers_transport(offer)
        )
        policy = sel.match_policy(eng.policies, selector, sa.local[0], sa.remote[0])
        if policy is None and sa.peer.generate_policy.value != "no":
            policy = sel.generate_policy(
                sa.peer, eng.templates, selector, sa.local[0], sa.remote[0], eng.new_policy_id()
            )
            if policy is not None:
                q.dynamic_policy = policy
        if policy is None:
            from .errors import InvalidIdInformation

            raise InvalidIdInformation("no policy matches the proposed IDs")
        proposal = eng.proposals.get(policy.proposal)
        if proposal is None:
            raise LocalProtocolError(f"no proposal {policy.proposal}")
        choice, answer = proposals.select_phase2(
            proposal, policy, offer, sa.peer.proposal_check, udp_encap=sa.nat
        )
        ke = msg.get(KePayload)
        if (choice.pfs_group is None) != (ke is None):
            from .errors import NoProposalChosen

            raise NoProposalChosen("KE payload and PFS group disagree")
        spis = _spis_for(eng, sa, [i.protocol for i in choice.items])
        q.reserved = {int(PROTOCOL_ID[p]): s.to_bytes(4, "big") for p, s in spis.items()}
        answer = proposals.answer_with_spis(answer, spis)
    except MalformedMessage as e:
        from .errors import from_malformed

        _fail(eng, sa, q, from_malformed(e))
        return
    except ProtocolError as e:
        _fail(eng, sa, q, e)
        return
    if q.dynamic_policy is not None:
        eng.backend.add_policy(q.dynamic_policy)
    q.policy, q.proposal, q.choice, q.answer = policy, proposal, choice, answer
    q.spis = {int(PROTOCOL_ID[p]): s.to_bytes(4, "big") for p, s in spis.items()}
    q.nr = eng.rng(NONCE_SIZE)
    payloads: list[Payload] = [answer, NoncePayload(data=q.nr)]
    if choice.pfs_group is not None and ke is not None:
        q.ke = eng.kex_pool.take(choice.pfs_group)
        try:
            q.g_qm_xy = q.ke.shared_secret(ke.data)
        except (CryptoError, ValueError):
            from .errors import RemoteProtocolError as _R

            _fail(eng, sa, q, _R("bad KE", notify=NotifyMessageType.INVALID_KEY_INFORMATION))
            return
        payloads.append(KePayload(data=q.ke.public_value))
    if ids:
        payloads += ids
    if choice.responder_lifetime is not None:
        first = choice.items[0]
        payloads.append(
            proposals.responder_lifetime_notify(
                choice, protocol=first.protocol, spi=spis[first.protocol]
            )
        )
    q.step = 2
    _send(eng, sa, q, payloads, _hash2(sa, mid, q.ni), now, awaiting=True, reply_to=fp)


def _check_nonce(eng: Ikev1Engine, nonce: NoncePayload) -> None:
    """RFC 2409 §5: a nonce of 8 to 256 bytes; otherwise PAYLOAD-MALFORMED (counted)."""
    lo, hi = NONCE_RANGE
    if not lo <= len(nonce.data) <= hi:
        eng.count("bad-nonce")
        raise PayloadMalformed(f"nonce of {len(nonce.data)} bytes (8 to 256)")


def _offers_transport(offer: SaPayload) -> bool:
    """Whether the first transform asks for (UDP-encapsulated) transport mode."""
    from pyipsec.wire.ikev1.constants import EncapsulationMode, IpsecAttributeType

    transport = {
        EncapsulationMode.TRANSPORT,
        EncapsulationMode.UDP_ENCAPSULATED_TRANSPORT,
        EncapsulationMode.UDP_ENCAPSULATED_TRANSPORT_DRAFT,
    }
    for prop in offer.proposals:
        for t in prop.transforms:
            for a in t.attributes:
                if a.type == IpsecAttributeType.ENCAPSULATION_MODE:
                    return a.as_int() in transport
    return False


def _initiator_reply(
    eng: Ikev1Engine, sa: IkeSa, q: QuickMode, data: bytes, fp: bytes, now: float
) -> None:
    msg, _rest, next_iv = _open(sa, q.iv, data, _hash2(sa, q.mid, q.ni))
    reply = msg.get(SaPayload)
    nonce = msg.get(NoncePayload)
    if reply is None or nonce is None:
        raise Dropped("quick-mode-missing-payload")
    assert q.offer is not None
    try:
        _check_nonce(eng, nonce)
        choice = proposals.accept_phase2_reply(q.offer, reply, udp_encap=sa.nat)
        from . import selectors as sel

        ids = msg.all(IdPayload)
        sel.check_reply_ids(q.ids, (ids[0], ids[1]) if len(ids) == 2 else None)
        for n in msg.all(NotifyPayload):
            if n.notify_type == NotifyMessageType.RESPONDER_LIFETIME:
                choice = proposals.apply_responder_lifetime(choice, n.data)
        ke = msg.get(KePayload)
        if q.ke is not None:
            if ke is None:
                from .errors import NoProposalChosen

                raise NoProposalChosen("PFS requested but no KE in the reply")
            try:
                q.g_qm_xy = q.ke.shared_secret(ke.data)
            except (CryptoError, ValueError):
                raise RemoteProtocolError(
                    "bad KE", notify=NotifyMessageType.INVALID_KEY_INFORMATION
                ) from None
    except ProtocolError as e:
        _fail(eng, sa, q, e)
        return
    q.iv = next_iv
    q.nr = nonce.data
    q.choice = choice
    q.last_received = fp
    q.step = 3
    assert sa.prf is not None and sa.keys is not None
    prf, key, mid, ni, nr = sa.prf, sa.keys.skeyid_a, q.mid, q.ni, q.nr
    _install(eng, sa, q, now)
    # HASH(3) has no payloads after it: the hash is over 0 | M-ID | Ni_b | Nr_b.
    _send(
        eng,
        sa,
        q,
        [],
        lambda _rest: km.quick_mode_hash3(prf, key, mid, ni, nr),
        now,
        awaiting=False,
        reply_to=fp,
    )
    q.done = True


def _responder_finish(
    eng: Ikev1Engine, sa: IkeSa, q: QuickMode, data: bytes, fp: bytes, now: float
) -> None:
    assert sa.prf is not None and sa.keys is not None
    prf, key = sa.prf, sa.keys.skeyid_a
    expected = km.quick_mode_hash3(prf, key, q.mid, q.ni, q.nr)
    msg, _rest, next_iv = _open(sa, q.iv, data, None)
    from .protected import split_hash_of

    got = split_hash_of(msg)
    if got is None or not hmac.compare_digest(got, expected):
        raise Dropped("bad-hash")
    q.iv = next_iv
    q.last_received = fp
    q.retransmit = None
    q.done = True
    _install(eng, sa, q, now)


def _install(eng: Ikev1Engine, sa: IkeSa, q: QuickMode, now: float) -> None:
    """Both directions of every SA of the bundle (RFC 2409 §5.5 KEYMAT), via the backend."""
    choice, policy = q.choice, q.policy
    assert choice is not None and policy is not None
    assert sa.prf is not None and sa.keys is not None
    local, remote = sa.local[0], sa.remote[0]
    hard = float(choice.lifetime)
    soft = hard * SOFT_FRACTION[q.side]
    hard_bytes = choice.lifebytes * 1024
    lifetime = Lifetime(
        soft_add=soft,
        hard_add=hard,
        soft_bytes=soft_bytes(eng.rng, q.side, hard_bytes),
        hard_bytes=hard_bytes,
    )
    q.reserved = {}  # add_sa takes the reserved SPIs
    encap_in, encap_out = child_sa.udp_encap_ports(sa.local, sa.remote, choice.udp_encap)
    policy_id = policy.id if policy.level is Level.UNIQUE else None
    ni, nr = q.ni, q.nr
    sas: list[tuple[SaProtocol, int, int]] = []
    for item in choice.items:
        spi_in_b = q.spis[int(PROTOCOL_ID[item.protocol])]
        spi_in = int.from_bytes(spi_in_b, "big")
        spi_out = item.peer_spi
        size = km.keymat_size(item.encryption, item.integrity)
        for direction, spi, spi_b in (
            (Direction.IN, spi_in, spi_in_b),
            (Direction.OUT, spi_out, spi_out.to_bytes(4, "big")),
        ):
            keymat = km.ipsec_keymat(
                sa.prf,
                sa.keys.skeyid_d,
                protocol=int(PROTOCOL_ID[item.protocol]),
                spi=spi_b,
                ni_b=ni,
                nr_b=nr,
                size=size,
                g_qm_xy=q.g_qm_xy,
            )
            enc_key, auth_key = km.split_keymat(keymat, item.encryption, item.integrity)
            # ESP without an Authentication Algorithm (RFC 2407 §4.5): "null", no anti-replay
            integrity, replay = child_sa.integrity_and_replay(item.encryption, item.integrity)
            inbound = direction is Direction.IN
            eng.backend.add_sa(
                SaParams(
                    spi=spi,
                    protocol=item.protocol,
                    direction=direction,
                    src=remote if inbound else local,
                    dst=local if inbound else remote,
                    mode=choice.mode,
                    encryption=item.encryption,
                    enc_key=enc_key,
                    integrity=integrity,
                    auth_key=auth_key,
                    replay_window=replay,
                    esn=choice.esn,
                    udp_encap=encap_in if inbound else encap_out,
                    lifetime=lifetime,
                    policy_id=policy_id,
                    # RFC 4301 §5.2: the SA carries only the traffic it was negotiated for.
                    selector=SaSelector.of_policy(policy, direction),
                ),
                now,
            )
        sas.append((item.protocol, spi_in, spi_out))
    child = ChildSa(
        peer_id=sa.peer.id,
        local=local,
        remote=remote,
        policy=policy,
        sas=tuple(sas),
        installed=now,
        initiator=q.side is Side.INITIATOR,
        dynamic_policy_id=q.dynamic_policy.id if q.dynamic_policy else None,
        peer_identity=identity_key(sa.peer_id),
        made_by=sa.cky_i,
    )
    # An older bundle for the same policy is now superseded: it must not rekey again.
    for old in eng.children.of_policy(policy.id):
        if old.remote == remote:
            old.rekeyed = True
    eng.children.append(child)
    for proto, spi_in, spi_out in sas:
        eng.emit(
            ChildSaInstalled(
                remote=remote,
                protocol=proto,
                spi_in=spi_in,
                spi_out=spi_out,
                policy_id=policy.id,
                rekey=q.rekey_of is not None,
            )
        )


def soft_bytes(rng: Callable[[int], bytes], side: Side, hard_bytes: int) -> int:
    """The soft lifebytes for a bundle: a fraction of ``hard_bytes`` drawn from
    ``SOFT_BYTES_RANGE[side]`` (0 when there is no byte limit; the rng is not used then)."""
    if hard_bytes <= 0:
        return 0
    lo, hi = SOFT_BYTES_RANGE[side]
    draw = int.from_bytes(rng(2), "big") / 65536.0
    return max(1, int(hard_bytes * (lo + (hi - lo) * draw)))


def _abandon(eng: Ikev1Engine, sa: IkeSa, q: QuickMode) -> None:
    """HASH(3) never came, but the initiator has installed its SAs after our message 2:
    tell it to delete them (RFC 2408 §3.15, our inbound SPIs = its outbound ones)."""
    from pyipsec.wire.ikev1.payloads import DeletePayload

    for proto_id, spi in q.spis.items():
        eng.send_informational(sa, [DeletePayload(protocol_id=proto_id, spis=(spi,))])


def timers(eng: Ikev1Engine, sa: IkeSa, now: float) -> None:
    """Retransmit quick-mode messages; give up after the last send (core/retransmit.py);
    forget finished exchanges."""
    for mid, q in list(sa.quick.items()):
        rt = q.retransmit
        if rt is not None and rt.awaiting and now >= rt.next_at:
            if rt.exhausted:
                eng.emit(NegotiationFailed(remote=sa.remote, reason="quick mode: no answer"))
                q.done = True
                rt.awaiting = False
                _release(eng, sa, q)
                if q.side is Side.RESPONDER:
                    _abandon(eng, sa, q)
                if q.rekey_of is not None:
                    q.rekey_of.rekeyed = False
            else:
                rt.backoff()
                eng.count("retransmitted")
                eng.send(rt.src, rt.dst, rt.data)
        if not q.done and now >= q.started + HALF_OPEN_TIMEOUT:
            eng.emit(NegotiationFailed(remote=sa.remote, reason="quick mode timed out"))
            q.done = True
            _release(eng, sa, q)
        if q.done and now >= q.started + HALF_OPEN_TIMEOUT:
            del sa.quick[mid]
