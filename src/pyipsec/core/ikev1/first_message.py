"""A phase-1 first message under an unknown cookie: admission, then an unproven responder SA.

Theory of operation
-------------------
Everything here runs for datagrams anybody can send from any address, so it is kept cheap and
bounded (the policy is in ``pyipsec.core.admission``):

1. cheap checks on the header (a phase-1 exchange, zero responder cookie, message ID 0, clear);
2. the peer entry for the source address (none: dropped as ``unknown-peer``);
3. admission: the source's standing (PROVEN / CONFIGURED / UNKNOWN) and the half-open table
   decide whether it gets a place, before the message is even parsed (``half-open-limit``);
4. message 1 is absorbed (proposal selection; no key pair is made: main and base mode carry
   the responder's KE only in their second reply, RFC 2409 §5 / RFC 2408 §4.8, and
   ``phase1._b_ke`` makes it then), our reply goes out once, and the SA waits in the
   half-open table, with no retransmission timer of its own (a repeated message 1 gets the
   stored reply again, ``Ikev1Engine.answer_retransmission``);
5. the first message that carries our responder cookie proves the initiator receives our
   replies: ``promote`` moves the SA to the engine's IKE SAs, and only then does it cost DH
   work and retransmissions. Aggressive mode must send its KE in message 2, so there the
   table's bounds are the only protection (RFC 2409 §5 gives the responder no choice).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pyipsec.core.admission import Discarded, Standing
from pyipsec.core.profiles import PeerProfile
from pyipsec.dataplane.policy import IPAddress
from pyipsec.wire.ikev1.constants import ExchangeType
from pyipsec.wire.ikev1.header import Header
from pyipsec.wire.ikev1.message import parse_message

from . import phase1
from .errors import ProtocolError, RemoteProtocolError
from .events import Endpoint, HalfOpenDiscarded
from .ike_sa import Dropped, ExchangeKind, IkeSa, Side, fingerprint

if TYPE_CHECKING:
    from .engine import Ikev1Engine

__all__ = ["discarded", "promote", "receive", "standing"]

_ZERO_COOKIE = bytes(8)


def standing(eng: Ikev1Engine, peer: PeerProfile, address: IPAddress) -> Standing:
    """How far we trust ``address`` before it has answered (core/admission.py)."""
    if address in eng._contacted:
        return Standing.PROVEN
    if peer.address.num_addresses == 1:
        return Standing.CONFIGURED
    return Standing.UNKNOWN


def receive(
    eng: Ikev1Engine, header: Header, data: bytes, src: Endpoint, dst: Endpoint, now: float
) -> None:
    """A datagram whose initiator cookie matches no SA: a new phase 1, or a drop."""
    kind = _exchange_kind(header.exchange_type)
    if kind is None or header.responder_cookie != _ZERO_COOKIE or header.message_id:
        raise Dropped("unknown-cookie")
    if header.encrypted:
        raise Dropped("unknown-cookie")
    peer = eng._peer_for_initiator(kind, src[0])
    if peer is None:
        raise Dropped("unknown-peer")
    rank = standing(eng, peer, src[0])
    if not eng.half_open.admits(src[0], rank):
        raise Dropped("half-open-limit")
    msg = parse_message(data)
    sa = IkeSa(
        cky_i=header.initiator_cookie,
        cky_r=eng._cookie(),
        side=Side.RESPONDER,
        kind=kind,
        peer=peer,
        local=dst,
        remote=src,
        created=now,
        last_heard=now,
    )
    fp = fingerprint(data)
    ctx = eng._context(sa, now, src, dst)
    try:
        phase1.absorb(sa, phase1.EXCHANGES[kind][0], msg, ctx)
    except ProtocolError as e:
        eng._phase1_failed(sa, e, now, answer=isinstance(e, RemoteProtocolError))
        return
    except phase1.AuthError as e:
        eng._auth_failed(sa, str(e), e.notify, now)
        return
    discarded(eng, eng.half_open.add(sa.cky_i, src[0], rank, sa, now))
    sa.step = 1
    sa.last_received = fp
    eng.count("half-open-admitted")
    eng._send_phase1_step(sa, now, reply_to=fp)


def promote(eng: Ikev1Engine, sa: IkeSa) -> None:
    """The initiator echoed our cookie: it receives our replies (module docstring, 5)."""
    if eng.half_open.promote(sa.cky_i) is sa:
        eng.ike[sa.cky_i] = sa
        eng.count("half-open-promoted")


def discarded(eng: Ikev1Engine, gone: list[Discarded[IkeSa]]) -> None:
    """Unproven SAs the table let go: counted (``half-open-<reason>``) and reported."""
    for d in gone:
        d.value.dead = True
        eng.count(f"half-open-{d.reason}")
        eng.emit(HalfOpenDiscarded(remote=d.value.remote, reason=d.reason))


def _exchange_kind(value: int) -> ExchangeKind | None:
    try:
        return phase1.EXCHANGE_KIND.get(ExchangeType(value))
    except ValueError:
        return None
