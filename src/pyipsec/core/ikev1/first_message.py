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
   work and retransmissions. Aggressive mode must send its KE in message 2 (RFC 2409 §5
   gives the responder no choice), so its first messages also draw on a key-pair budget per
   standing (``half-open-rate`` when it is spent);
6. a main-mode SA the table pushes out leaves a ``Tombstones`` entry (a few hundred bytes):
   a message 3 that still echoes its cookie rebuilds it (``revive``), so a flood that turns
   the share over faster than the real peer answers does not cost the peer its exchange.

A flood repeats one message with fresh cookies, so the outcome of a main-mode message 1 is
remembered (``ReplyCache``): the same bytes after the initiator cookie, for the same peer
entry, give the same choice and the same reply but for the cookies (RFC 2409 §5: message 2 is
the SA answer and vendor IDs only), or the same refusal (e.g. NO-PROPOSAL-CHOSEN). A hit
costs no parsing, no proposal selection and no encoding.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pyipsec.core.admission import Discarded, Standing, standing_of
from pyipsec.core.events import Endpoint, HalfOpenDiscarded
from pyipsec.core.profiles import PeerProfile
from pyipsec.dataplane.policy import IPAddress
from pyipsec.wire.ikev1.constants import ExchangeType
from pyipsec.wire.ikev1.header import Header
from pyipsec.wire.ikev1.message import parse_message

from . import phase1, phase1_driver
from .errors import ProtocolError, RemoteProtocolError
from .ike_sa import Dropped, ExchangeKind, IkeSa, Retransmit, Side, fingerprint

if TYPE_CHECKING:
    from .engine import Ikev1Engine

__all__ = [
    "ReplyCache",
    "Tombstones",
    "discarded",
    "promote",
    "receive",
    "revive",
    "standing",
    "timers",
]

_ZERO_COOKIE = bytes(8)
# What absorbing main-mode message 1 and building message 2 set on a responder SA.
MESSAGE_1_STATE = ("offer", "sai_b", "choice", "prf", "enc", "natt_rfc", "natt_draft", "peer_dpd")


@dataclass(frozen=True, slots=True)
class _Answer:
    peer: PeerProfile
    state: tuple[object, ...]
    reply: bytes  # our message 2; its cookies are replaced for each use


@dataclass(frozen=True, slots=True)
class _Refusal:
    peer: PeerProfile
    error: ProtocolError  # what absorbing the message raised (e.g. NO-PROPOSAL-CHOSEN)


class ReplyCache:
    """Outcomes of main-mode first messages, answers and refusals, by (peer entry, bytes
    after the initiator cookie); small, emptied when full (a flood repeats one message)."""

    def __init__(self, size: int = 64) -> None:
        self.size = size
        self._outcomes: dict[tuple[int, bytes], _Answer | _Refusal] = {}

    def get(self, peer: PeerProfile, data: bytes) -> _Answer | _Refusal | None:
        outcome = self._outcomes.get((peer.id, data[8:]))
        return outcome if outcome is not None and outcome.peer is peer else None

    def put(self, peer: PeerProfile, data: bytes, sa: IkeSa) -> None:
        if sa.dead or sa.retransmit is None:
            return
        state = tuple(getattr(sa, name) for name in MESSAGE_1_STATE)
        self._store(peer, data, _Answer(peer, state, sa.retransmit.data))

    def refused(self, peer: PeerProfile, data: bytes, error: ProtocolError) -> None:
        self._store(peer, data, _Refusal(peer, error))

    def _store(self, peer: PeerProfile, data: bytes, outcome: _Answer | _Refusal) -> None:
        if len(self._outcomes) >= self.size:
            self._outcomes.clear()
        self._outcomes[(peer.id, data[8:])] = outcome


def standing(eng: Ikev1Engine, peer: PeerProfile, address: IPAddress) -> Standing:
    """How far we trust ``address`` before it has answered (core/admission.py)."""
    return standing_of(address, peer.address, eng._contacted)


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
    if kind is ExchangeKind.AGGRESSIVE and not eng.key_pairs.take(rank, now):
        raise Dropped("half-open-rate")
    fp = fingerprint(data)
    cached = eng.first_replies.get(peer, data) if kind is ExchangeKind.MAIN else None
    if isinstance(cached, _Answer):
        _answer_from_cache(eng, cached, header, src, dst, rank, fp, now)
        return
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
    if isinstance(cached, _Refusal):
        phase1_driver.failed(
            eng, sa, cached.error, now, answer=isinstance(cached.error, RemoteProtocolError)
        )
        return
    msg = parse_message(data)
    ctx = phase1_driver.context(eng, sa, now, src, dst)
    try:
        phase1.absorb(sa, phase1.EXCHANGES[kind][0], msg, ctx)
    except ProtocolError as e:
        if kind is ExchangeKind.MAIN:
            eng.first_replies.refused(peer, data, e)
        phase1_driver.failed(eng, sa, e, now, answer=isinstance(e, RemoteProtocolError))
        return
    except phase1.AuthError as e:
        phase1_driver.auth_failed(eng, sa, str(e), e.notify, now)
        return
    discarded(eng, eng.half_open.add(sa.cky_i, src[0], rank, sa, now), now)
    sa.step = 1
    sa.last_received = fp
    eng.count("half-open-admitted")
    phase1_driver.send_step(eng, sa, now, reply_to=fp)
    if kind is ExchangeKind.MAIN:
        eng.first_replies.put(peer, data, sa)


def _responder_sa(
    answer: _Answer,
    cky_i: bytes,
    cky_r: bytes,
    local: Endpoint,
    remote: Endpoint,
    fp: bytes,
    created: float,
) -> IkeSa:
    """A main-mode responder SA that has absorbed message 1 and sent message 2."""
    sa = IkeSa(
        cky_i=cky_i,
        cky_r=cky_r,
        side=Side.RESPONDER,
        kind=ExchangeKind.MAIN,
        peer=answer.peer,
        local=local,
        remote=remote,
        created=created,
        last_heard=created,
        step=2,
        last_received=fp,
    )
    for name, value in zip(MESSAGE_1_STATE, answer.state, strict=True):
        setattr(sa, name, value)
    reply = cky_i + cky_r + answer.reply[16:]
    sa.retransmit = Retransmit(data=reply, src=local, dst=remote, reply_to=fp, awaiting=False)
    return sa


def _answer_from_cache(
    eng: Ikev1Engine,
    cached: _Answer,
    header: Header,
    src: Endpoint,
    dst: Endpoint,
    rank: Standing,
    fp: bytes,
    now: float,
) -> None:
    """The same as absorbing message 1 and sending message 2 (module docstring)."""
    sa = _responder_sa(cached, header.initiator_cookie, eng._cookie(), dst, src, fp, now)
    discarded(eng, eng.half_open.add(sa.cky_i, src[0], rank, sa, now), now)
    eng.count("half-open-admitted")
    assert sa.retransmit is not None
    eng.transmit(sa, sa.retransmit.data)


@dataclass(frozen=True, slots=True)
class _Tombstone:
    cky_r: bytes
    answer: _Answer
    local: Endpoint
    remote: Endpoint
    fp: bytes
    created: float


class Tombstones:
    """Main-mode exchanges the half-open table pushed out, kept compactly (a few hundred bytes
    instead of a whole SA) until they would have expired: if the initiator's message 3 still
    comes, with our cookie, the exchange is rebuilt and completed (``revive``). A flood that
    turns an address's share over faster than the real peer answers then costs the peer
    nothing either (docs/admission.md)."""

    def __init__(self, size: int = 32768, timeout: float = 10.0) -> None:
        self.size = size
        self.timeout = timeout
        self._stones: OrderedDict[bytes, _Tombstone] = OrderedDict()  # oldest first
        self._last: _Answer | None = None  # shared by the stones of one flood
        self._endpoints: dict[Endpoint, Endpoint] = {}  # one copy of each (address, port)

    def __len__(self) -> int:
        return len(self._stones)

    def add(self, sa: IkeSa, now: float) -> None:
        if sa.kind is not ExchangeKind.MAIN or sa.step != 2 or sa.retransmit is None:
            return
        state = tuple(getattr(sa, name) for name in MESSAGE_1_STATE)
        answer = self._last
        if (
            answer is None
            or answer.peer is not sa.peer
            or any(a is not b for a, b in zip(answer.state, state, strict=True))
        ):
            answer = self._last = _Answer(sa.peer, state, sa.retransmit.data)
        if len(self._endpoints) > 4096:
            self._endpoints.clear()
        local = self._endpoints.setdefault(sa.local, sa.local)
        remote = self._endpoints.setdefault(sa.remote, sa.remote)
        self._stones.pop(sa.cky_i, None)
        self._stones[sa.cky_i] = _Tombstone(
            sa.cky_r, answer, local, remote, sa.last_received, sa.created
        )
        if len(self._stones) > self.size:
            self._stones.popitem(last=False)

    def expire(self, now: float) -> None:
        while self._stones:
            stone = next(iter(self._stones.values()))
            if now < stone.created + self.timeout:
                break
            self._stones.popitem(last=False)

    def revive(self, cky_i: bytes, cky_r: bytes, src: Endpoint, now: float) -> IkeSa | None:
        stone = self._stones.get(cky_i)
        if stone is None or stone.cky_r != cky_r or stone.remote != src:
            return None
        del self._stones[cky_i]
        if now >= stone.created + self.timeout:
            return None
        return _responder_sa(
            stone.answer, cky_i, cky_r, stone.local, stone.remote, stone.fp, stone.created
        )


def revive(eng: Ikev1Engine, header: Header, src: Endpoint, now: float) -> IkeSa | None:
    """A main-mode message under cookies of an exchange the table pushed out: rebuild it,
    proven by the cookie it echoes, among the engine's IKE SAs (``Tombstones``)."""
    if header.exchange_type != ExchangeType.IDENTITY_PROTECTION:
        return None
    sa = eng.tombstones.revive(header.initiator_cookie, header.responder_cookie, src, now)
    if sa is not None:
        eng.ike[sa.cky_i] = sa
        eng.count("half-open-revived")
    return sa


def promote(eng: Ikev1Engine, sa: IkeSa) -> None:
    """The initiator echoed our cookie: it receives our replies (module docstring, 5)."""
    if eng.half_open.promote(sa.cky_i) is sa:
        eng.ike[sa.cky_i] = sa
        eng.count("half-open-promoted")


def discarded(eng: Ikev1Engine, gone: list[Discarded[IkeSa]], now: float) -> None:
    """Unproven SAs the table let go: counted (``half-open-<reason>``) and reported; those
    pushed out by newer ones are remembered as tombstones."""
    for d in gone:
        d.value.dead = True
        eng.count(f"half-open-{d.reason}")
        eng.emit(HalfOpenDiscarded(remote=d.value.remote, reason=d.reason))
        if d.reason != "expired":
            eng.tombstones.add(d.value, now)


def timers(eng: Ikev1Engine, now: float) -> None:
    """Expire unproven SAs and tombstones."""
    discarded(eng, eng.half_open.expire(now), now)
    eng.tombstones.expire(now)


def _exchange_kind(value: int) -> ExchangeKind | None:
    try:
        return phase1.EXCHANGE_KIND.get(ExchangeType(value))
    except ValueError:
        return None
