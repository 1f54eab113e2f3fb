"""Driving one phase-1 exchange (RFC 2409 §5, RFC 3947): start, receive, send, establish, fail.

Theory of operation
-------------------
``phase1.py`` describes main, aggressive and base mode as tables of messages and builds or
absorbs one message; this module walks an ``IkeSa`` through its table. ``start`` creates an
initiator SA and sends message 1. ``receive`` takes the peer's next message: a repeat of one we
answered gets our answer again; an encrypted one is decrypted with the exchange's IV chain (a
wrong pre-shared key shows as garbage: ``auth_failed``); the responder's first reply is
absorbed into a copy first (``_absorb_reply``: it is unauthenticated); then ``send_step``
sends our next message, or the exchange is over and ``established`` starts the phase 1's life
(timers, renewal point: ``renewal.py``, queued quick modes). RFC 3947 §4: the initiator floats
to port 4500 once a NAT is detected (``float_to_natt``), a responder follows the peer there.
Failures end the SA with a notify where one is due: ``failed`` (in the clear) or
``auth_failed`` (protected once SKEYID_e exists). A responder's first message is handled in
``first_message.py``, which calls in here for the rest.
"""

from __future__ import annotations

import copy
import dataclasses
from typing import TYPE_CHECKING

from pyipsec.core.events import (
    AuthenticationFailed,
    Endpoint,
    IkeSaEstablished,
    NatDetected,
    NegotiationFailed,
)
from pyipsec.core.profiles import PeerProfile
from pyipsec.crypto import groups
from pyipsec.dataplane.policy import IPAddress, Policy
from pyipsec.wire.ikev1.constants import IPSEC_DOI, NotifyMessageType, ProtocolId
from pyipsec.wire.ikev1.errors import MalformedMessage
from pyipsec.wire.ikev1.header import Header
from pyipsec.wire.ikev1.message import Message, build_message, parse_message
from pyipsec.wire.ikev1.payloads import NotifyPayload, SaPayload

from . import invalid_spi, phase1, proposals, renewal
from .crypto_message import build_encrypted_message, last_cipher_block, parse_encrypted_message
from .errors import LocalProtocolError, ProtocolError, RemoteProtocolError
from .ike_sa import Dropped, ExchangeKind, IkeSa, Retransmit, Side, fingerprint
from .protected import cleartext_notify

if TYPE_CHECKING:
    from .engine import Ikev1Engine

__all__ = [
    "KEEPALIVE_INTERVAL",
    "NATT_PORT",
    "auth_failed",
    "context",
    "established",
    "failed",
    "float_to_natt",
    "receive",
    "reply_where_it_came",
    "send_step",
    "start",
]

NATT_PORT = 4500  # RFC 3947 §4
KEEPALIVE_INTERVAL = 20.0  # RFC 3948 §4: 20 s is the suggested default


def start(
    eng: Ikev1Engine,
    peer: PeerProfile,
    local: IPAddress,
    remote: IPAddress,
    now: float,
    queued: list[Policy] | None = None,
) -> IkeSa | None:
    """Initiate a phase 1 with ``peer`` from ``local`` to ``remote``; ``queued`` policies get
    their quick modes once it is established. None if it could not start (or failed at once)."""
    kind = phase1.kind_for_mode(peer.exchange_mode)
    if kind is None:
        eng.emit(
            NegotiationFailed(
                remote=(remote, peer.port), reason=f"exchange-mode {peer.exchange_mode.value}"
            )
        )
        return None
    sa = IkeSa(
        cky_i=eng._cookie(),
        side=Side.INITIATOR,
        kind=kind,
        peer=peer,
        local=(local, 500),
        remote=(remote, peer.port),
        created=now,
        last_heard=now,
        queued=list(queued or []),
    )
    if kind is ExchangeKind.AGGRESSIVE:
        # RFC 2409 §5: aggressive mode cannot negotiate the group: offer the first one.
        try:
            sa.ke = eng.kex_pool.take(groups.group(peer.dh_groups[0]))
        except (KeyError, IndexError):
            eng.emit(NegotiationFailed(remote=sa.remote, reason="no dh-group"))
            return None
    eng.ike[sa.cky_i] = sa
    send_step(eng, sa, now, reply_to=None)
    return sa if not sa.dead else None


def context(
    eng: Ikev1Engine, sa: IkeSa, now: float, src: Endpoint | None, dst: Endpoint | None
) -> phase1.Context:
    """What ``phase1.build``/``absorb`` need of the engine for one message of ``sa``."""

    def offer(peer: PeerProfile) -> SaPayload:
        if sa.kind is ExchangeKind.AGGRESSIVE:
            peer = dataclasses.replace(peer, dh_groups=peer.dh_groups[:1])
        return proposals.phase1_offer(peer)

    return phase1.Context(
        rng=eng.rng,
        now=now,
        src=src,
        dst=dst,
        select=proposals.select_phase1,
        accept=proposals.accept_phase1_reply,
        offer=offer,
        apply_choice=_apply_choice,
        first_contact=sa.remote[0] not in eng._contacted,
        credentials=eng.credentials,
        wall_time=now + eng.wall_clock_offset,
        new_key_pair=eng.kex_pool.take,
    )


def _apply_choice(sa: IkeSa, choice: proposals.Phase1Choice) -> None:
    sa.choice = choice
    sa.prf = choice.prf
    sa.enc = choice.encryption
    if sa.ke is not None and sa.ke.group != choice.group.id:
        sa.ke = None  # made again, in the chosen group, when our KE payload is due


def established(eng: Ikev1Engine, sa: IkeSa, now: float) -> None:
    """The exchange's last message went out or came in: start the phase 1's life (timers,
    renewal point, INITIAL-CONTACT, pending notifies) and the quick modes queued on it."""
    float_to_natt(sa)
    eng.touch(sa)
    sa.established_at = now
    eng._contacted.add(sa.remote[0])
    sa.last_heard = now
    choice = sa.choice
    if choice is not None and choice.lifetime:
        sa.expires_at = now + choice.lifetime
    if sa.peer.dpd_interval:
        sa.dpd_next = now + sa.peer.dpd_interval
    if sa.nat_local:
        sa.keepalive_next = now + KEEPALIVE_INTERVAL
    eng.emit(
        IkeSaEstablished(
            local=sa.local,
            remote=sa.remote,
            peer_id=sa.peer.id,
            side=sa.side.value,
            exchange=sa.kind.value,
            nat=sa.nat,
        )
    )
    if sa.initial_contact:
        eng.initial_contact(sa, now)
    # Renewal point; older phase 1s with this peer hand their children over (renewal.py).
    renewal.established(eng, sa, now)
    invalid_spi.send_pending(eng, sa)
    queued, sa.queued = sa.queued, []
    for policy in queued:
        eng._start_quick_mode(sa, policy, now)
    invalid_spi.bring_up(eng, sa, now)


def failed(eng: Ikev1Engine, sa: IkeSa, e: ProtocolError, now: float, *, answer: bool) -> None:
    """The exchange cannot go on: answer with the error's notify (in the clear) if asked."""
    if answer:
        eng.transmit(sa, cleartext_notify(sa.cky_i, sa.cky_r, e.notify))
    eng.emit(NegotiationFailed(remote=sa.remote, reason=str(e)))
    eng.forget(sa)


def reply_where_it_came(sa: IkeSa, src: Endpoint, dst: Endpoint) -> None:
    """A refused phase-1 message that came to port 4500 (the peer floated, RFC 3947 §4)
    is answered from there."""
    if dst[1] == NATT_PORT:
        sa.local, sa.remote = dst, src


def auth_failed(
    eng: Ikev1Engine,
    sa: IkeSa,
    reason: str,
    notify: NotifyMessageType,
    now: float,
    *,
    last_block: bytes | None = None,
) -> None:
    """Phase-1 authentication failed: tell the peer, end the exchange.

    Once SKEYID_e exists the notify goes protected (RFC 2409 §5.7, RFC 2408 §4.8: an
    informational exchange under the ISAKMP SA, HASH(1) first): a peer holding keys
    ignores an unprotected one and would retransmit until it gives up. Its IV chain
    starts from the last phase-1 block the peer knows, the last ciphertext block of the
    message we refuse (``last_block``; without one, the last block of our own last
    message). A peer with other keys (a different pre-shared key) cannot open it either
    way; one with the same keys (a refused certificate or identity) ends at once. Before
    the keys exist it goes in the clear (RFC 2408 §5)."""
    if sa.keys is not None and sa.cipher is not None and sa.enc is not None:
        if last_block is not None:
            sa.iv = last_block  # the exchange ends here: nothing else chains from it
        payload = NotifyPayload(
            doi=IPSEC_DOI,
            protocol_id=ProtocolId.ISAKMP,
            notify_type=notify,
            spi=sa.cky_i + sa.cky_r,
        )
        eng.send_informational(sa, [payload])
    else:
        eng.transmit(sa, cleartext_notify(sa.cky_i, sa.cky_r, notify))
    eng.emit(AuthenticationFailed(remote=sa.remote, reason=reason))
    eng.forget(sa)


def receive(
    eng: Ikev1Engine,
    sa: IkeSa,
    header: Header,
    data: bytes,
    src: Endpoint,
    dst: Endpoint,
    now: float,
    *,
    first_reply: bool = False,
) -> None:
    """The next message of the phase-1 exchange. ``first_reply``: the initiator's first
    message from the responder (it names the responder cookie); see ``_absorb_reply``."""
    fp = fingerprint(data)
    if eng.answer_retransmission(sa.retransmit, fp, now):
        return
    if fp == sa.last_received:
        raise Dropped("duplicate")
    steps = phase1.EXCHANGES[sa.kind]
    if sa.step >= len(steps) or steps[sa.step].sender is sa.side:
        raise Dropped("unexpected-phase1-message")
    step = steps[sa.step]
    next_iv = sa.iv
    if header.encrypted:
        if sa.cipher is None or sa.enc is None:
            raise Dropped("unexpected-encryption")
        try:
            msg, _plain, next_iv = parse_encrypted_message(
                sa.cipher, sa.enc.block_size, sa.iv, data
            )
        except MalformedMessage as e:
            # With a wrong pre-shared key the decryption yields garbage (RFC 2409 §5).
            reply_where_it_came(sa, src, dst)
            auth_failed(
                eng,
                sa,
                f"undecryptable {e.notify.name} (wrong secret?)",
                NotifyMessageType.PAYLOAD_MALFORMED,
                now,
                last_block=last_cipher_block(data, sa.enc.block_size),
            )
            return
    elif step.encrypted and sa.kind is not ExchangeKind.AGGRESSIVE:
        raise Dropped("expected-encryption")
    else:
        # Aggressive mode message 3 may come in the clear (RFC 2409 §5; libreswan #230).
        msg = parse_message(data)
    if "sa" not in step.carries and msg.get(SaPayload) is not None:
        raise Dropped("unexpected-phase1-message")  # another message 1/2: taken once
    contact = sa.initial_contact
    if first_reply:
        _absorb_reply(eng, sa, header, step, msg, src, dst, now)
    else:
        try:
            phase1.absorb(sa, step, msg, context(eng, sa, now, src, dst))
        except ProtocolError as e:
            failed(eng, sa, e, now, answer=isinstance(e, RemoteProtocolError))
            return
        except phase1.AuthError as e:
            reply_where_it_came(sa, src, dst)
            block = next_iv if header.encrypted else None
            auth_failed(eng, sa, str(e), e.notify, now, last_block=block)
            return
    if not header.encrypted:
        sa.initial_contact = contact  # not protected: not acted on (informational.py)
    if header.encrypted:
        sa.iv = next_iv
    sa.step += 1
    sa.last_received = fp
    sa.last_heard = now
    if sa.retransmit is not None:
        sa.retransmit.awaiting = False
    if dst[1] == NATT_PORT:
        sa.local, sa.remote, sa.floated = dst, src, True
    if "natd" in step.carries and sa.nat:
        eng.emit(
            NatDetected(
                remote=sa.remote, local_behind_nat=sa.nat_local, peer_behind_nat=sa.nat_peer
            )
        )
    if sa.step == len(steps):
        sa.retransmit = None if sa.side is Side.INITIATOR else sa.retransmit
        established(eng, sa, now)
        return
    send_step(eng, sa, now, reply_to=fp)


def _absorb_reply(
    eng: Ikev1Engine,
    sa: IkeSa,
    header: Header,
    step: phase1.Step,
    msg: Message,
    src: Endpoint,
    dst: Endpoint,
    now: float,
) -> None:
    """The responder's first message, which gives us its cookie (RFC 2408 §2.5.3). It is
    unauthenticated (anyone who saw our message 1 can answer it), so it is absorbed into
    a copy of the exchange: only a reply that parses and accepts what we offered is taken,
    cookie included. Anything else is dropped and leaves the exchange as it was, so a
    spoofed or garbled reply can neither end it nor make the real one "unknown-cookie".
    The reason is kept for the give-up report (a wrong PSK shows in aggressive mode here).
    """
    trial = copy.copy(sa)  # every field, shallow: absorb only rebinds them
    trial.cky_r = header.responder_cookie
    try:
        phase1.absorb(trial, step, msg, context(eng, trial, now, src, dst))
    except (ProtocolError, phase1.AuthError) as e:
        sa.rejected = str(e)
        raise Dropped(f"rejected-reply: {e}") from None
    for f in dataclasses.fields(IkeSa):
        setattr(sa, f.name, getattr(trial, f.name))


def send_step(eng: Ikev1Engine, sa: IkeSa, now: float, reply_to: bytes | None) -> None:
    """Build and send our next message of the exchange (``reply_to``: the fingerprint of
    the peer's message it answers, for retransmissions)."""
    steps = phase1.EXCHANGES[sa.kind]
    step = steps[sa.step]
    float_to_natt(sa)
    ctx = context(eng, sa, now, None, None)
    try:
        payloads = phase1.build(sa, step, ctx)
    except (ProtocolError, phase1.AuthError) as e:
        failed(eng, sa, LocalProtocolError(str(e)), now, answer=False)
        return
    xchg = phase1.EXCHANGE_TYPE[sa.kind]
    if step.encrypted:
        assert sa.cipher is not None and sa.enc is not None
        data, sa.iv = build_encrypted_message(
            sa.cipher,
            sa.enc.block_size,
            sa.iv,
            initiator_cookie=sa.cky_i,
            responder_cookie=sa.cky_r,
            exchange_type=xchg,
            payloads=payloads,
        )
    else:
        data = build_message(
            initiator_cookie=sa.cky_i,
            responder_cookie=sa.cky_r,
            exchange_type=xchg,
            payloads=payloads,
        )
    # A responder never resends its first reply on its own timer: until the initiator
    # echoes our cookie it has not shown it receives anything (core/admission.py); a
    # repeated message 1 gets the reply again (answer_retransmission).
    first_reply = sa.side is Side.RESPONDER and sa.step == 1
    sa.step += 1
    final = sa.step == len(steps)
    sa.retransmit = Retransmit(
        data=data,
        src=sa.local,
        dst=sa.remote,
        reply_to=reply_to,
        awaiting=not (final or first_reply),
    )
    sa.retransmit.arm(now)
    eng.transmit(sa, data)
    if final:
        established(eng, sa, now)


def float_to_natt(sa: IkeSa) -> None:
    """RFC 3947 §4: the initiator moves to port 4500 once a NAT is detected (for the
    next phase-1 message, or for quick mode when phase 1 has ended, as in base mode)."""
    if sa.side is Side.INITIATOR and sa.nat and not sa.floated:
        sa.local = (sa.local[0], NATT_PORT)
        sa.remote = (sa.remote[0], NATT_PORT)
        sa.floated = True
