"""The IKEv2 engine (RFC 7296) with RouterOS 6.x `/ip ipsec` semantics (exchange-mode=ike2).

Theory of operation
-------------------
Sans-IO, the same shell API as ``core/ikev1/engine.Ikev1Engine``: the I/O shell feeds datagrams
(``receive_datagram``), acquires (``acquire``), SA expiry (``sa_expired``) and the clock
(``handle_timer`` at ``next_timer()``), and collects ``datagrams_to_send()`` and
``pop_events()``. Time only comes in as ``now``; randomness only from the injected ``rng``.
It serves only peers whose exchange mode is ``ike2``; the others are the IKEv1 engine's.

State: one ``IkeSa`` (``ike_sa.py``) per IKE SA, indexed by *our* SPI (SPIi where we
initiated, SPIr where we responded: both are ours to make unique), each with a
``TaskManager`` (``task_manager.py``: message IDs, window 1, retransmission, response cache)
and its ``ChildSa``s. A responder's IKE SA lives in the half-open table (core/admission.py)
from its IKE_SA_INIT response until the initiator's IKE_AUTH proves it receives our replies.

Exchanges are *tasks*: an object with ``exchange``, ``build(eng, sa, now)`` (the request's
payloads, or None when the task finds nothing left to do) and ``on_response(eng, sa, msg,
now)``. ``queue`` puts one on an IKE SA; it is sent when the SA's window is free (one
request outstanding at a time). IKE_SA_INIT and IKE_AUTH (``sa_init.py``, ``ike_auth.py``),
INFORMATIONAL (``informational.py``) and CREATE_CHILD_SA (``child_create.py``,
``child_rekey.py``, ``ike_rekey.py``; their timers in ``schedule.py``) all go through the
same path. The peer's requests are dispatched by exchange type to a handler that returns the
response's payloads; the engine seals, sends and caches the response (``respond``).

Dispatch of a datagram: IKEv2 header -> IKE_SA_INIT request (``sa_init.receive_request``:
admission, retransmission of a half-open exchange answered from its cache) or response (our
initiating SA by SPIi) -> otherwise our SA by our SPI -> the task manager judges the message
ID before anything is decrypted (new request, retransmitted request, response to our
outstanding request, or drop) -> decrypt and verify (``wire/ikev2/message``) -> handler.
Everything a peer sends that we cannot use ends as a counted drop (``stats()``) with a
``DatagramDropped`` event, an error notify where RFC 7296 asks for one, or a failure event
whose reason says in plain words what did not match; never as an exception.

Around that path: stateless cookies before any responder state (``cookies.py``, §2.6), RFC
7383 fragments reassembled after their ICVs and sent past the path size (``fragments.py``),
NAT detection and floating to 4500 (``natt.py``, §2.23), certificates and signatures
(``signatures.py``, core/certauth.py). Acquires find their peer entry and IKE SA in
``lookups.py``.

Children (``children.py``) are installed through the backend in both directions, bound to
their policy's selectors (SaSelector), with soft/hard lifetimes from the proposal.

Cost: the IKE SAs sit in ``tables.IkeTable`` (by our SPI, indexed by the peer's address and
by address pair) and their deadlines in ``tables.DeadlineHeap`` (touched on every request
sent; a sweep every 10 s catches the rest), so a datagram, an acquire or a tick costs what it
touches, not the number of peers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any, Protocol

from pyipsec.core.admission import AdmissionLimits, HalfOpenTable, SourceBudget
from pyipsec.core.credentials import Credentials
from pyipsec.core.engine_base import EngineBase
from pyipsec.core.events import (
    Endpoint,
    HalfOpenDiscarded,
    IkeSaDeleted,
    NatKeepaliveDue,
    NegotiationFailed,
    PeerUnreachable,
    RemotePeer,
)
from pyipsec.core.profiles import (
    ExchangeMode,
    IkeSettings,
    PeerProfile,
    ProposalProfile,
    TemplatePolicy,
)
from pyipsec.crypto.base import Rng
from pyipsec.dataplane.backend import DataplaneBackend
from pyipsec.dataplane.policy import IPAddress, Policy, Selector
from pyipsec.dataplane.sad import SaHardExpired, SaProtocol, SaSoftExpired
from pyipsec.wire.ikev2 import message as wm
from pyipsec.wire.ikev2.constants import ExchangeType, NotifyType
from pyipsec.wire.ikev2.errors import IntegrityCheckFailed, MalformedMessage
from pyipsec.wire.ikev2.header import Header, check_header, peek
from pyipsec.wire.ikev2.payloads import NotifyPayload

from . import (
    child_create,
    child_rekey,
    children,
    create_child_sa,
    dpd,
    fragments,
    ike_auth,
    ike_rekey,
    informational,
    lookups,
    natt,
    sa_init,
    unknown_spi,
)
from .cookies import Cookies
from .ike_sa import ChildSa, Dropped, IkeSa, IkeState
from .message_parts import notifies
from .schedule import Scheduler
from .tables import SWEEP_INTERVAL, DeadlineHeap, IkeTable
from .task_manager import PeerDead, RequestVerdict

__all__ = ["HALF_OPEN_TIMEOUT", "Ikev2Engine", "Task"]

HALF_OPEN_MIN = 30.0  # seconds a responder's half-open IKE SA waits for IKE_AUTH, at least
HALF_OPEN_TIMEOUT = 60.0  # an initiator's IKE SA that is not established by then is given up
_ESTABLISHED, _DELETING = IkeState.ESTABLISHED, IkeState.DELETING  # compared per deadline
# per message: plain ints, and ExchangeType's members by value (what ExchangeType(x) looks up
# after an enum call; an unknown value still goes through the call, which raises as before)
_IKE_SA_INIT, _IKE_AUTH = int(ExchangeType.IKE_SA_INIT), int(ExchangeType.IKE_AUTH)
_EXCHANGES: dict[int, ExchangeType] = {int(e): e for e in ExchangeType}


class AuthenticatedMalformed(Exception):
    """A message whose integrity checked out but whose inner payloads do not parse."""


def open_message(data: bytes, keys: wm.SkKeys, header: Header | None = None) -> wm.Message:
    """``wm.decode_protected``, with a malformed message told apart by whether it was authentic:
    MalformedMessage / IntegrityCheckFailed before the ICV verified (dropped silently,
    §2.21.2), AuthenticatedMalformed after (a request is answered INVALID_SYNTAX)."""
    try:
        return wm.decode_protected(data, keys, header)
    except MalformedMessage as e:
        if e.authenticated:
            raise AuthenticatedMalformed(e.detail or e.notify.name) from None
        raise


class Task(Protocol):
    """One exchange we initiate on an IKE SA (module docstring)."""

    exchange: ExchangeType

    def build(self, eng: Ikev2Engine, sa: IkeSa, now: float) -> list[Any] | None: ...

    def on_response(self, eng: Ikev2Engine, sa: IkeSa, msg: wm.Message, now: float) -> None: ...


# A request handler: the peer's request -> the payloads of our response.
Handler = Any


class Ikev2Engine(EngineBase):
    """One IKEv2 daemon's protocol state for all ``exchange-mode=ike2`` peers."""

    def __init__(
        self,
        *,
        backend: DataplaneBackend,
        rng: Rng,
        local_addresses: Sequence[IPAddress] = (),
        credentials: Credentials | None = None,
        wall_clock_offset: float = 0.0,
        admission: AdmissionLimits | None = None,
    ) -> None:
        super().__init__(
            backend=backend,
            rng=rng,
            local_addresses=local_addresses,
            credentials=credentials,
            wall_clock_offset=wall_clock_offset,
            admission=admission,
            first_policy_id=0x6000_0000,
        )
        self._peer_index = lookups.PeerIndex()
        self.ike = IkeTable()  # by our SPI, indexed by the peer's address (tables.py)
        self.deadlines = DeadlineHeap(self._deadline_of)
        self._sweep_at: float | None = None
        # Responder IKE SAs whose initiator has not yet sent IKE_AUTH: by (source, SPIi).
        # An IKEv2 initiator resends IKE_AUTH 2, 6, 14 and 30 s after its first try: the entry
        # waits at least HALF_OPEN_MIN (strongSwan's half_open_timeout) so that a lost request
        # or two do not cost the exchange.
        limits = admission or AdmissionLimits()
        limits = replace(limits, timeout=max(limits.timeout, HALF_OPEN_MIN))
        self.half_open: HalfOpenTable[tuple[IPAddress, bytes], IkeSa] = HalfOpenTable(limits)
        self.proven_key_pairs = SourceBudget(admission)  # cookie-proven, by source address
        self.proven: set[IPAddress] = set()  # peers an IKE SA completed with (Standing.PROVEN)
        # `/ip ipsec settings` (the daemon sets it from the configuration) and the stateless
        # cookies it turns on past ddos-cookie-threshold half-open IKE SAs (cookies.py, §2.6)
        self.settings = IkeSettings()
        self.cookies = Cookies(rng)
        self.fragment_limits = fragments.FragmentLimits()  # RFC 7383 path sizes, reassembly
        self.children = children.ChildIndex()
        # CREATE_CHILD_SA (the rekey helper) and other exchanges register request handlers here.
        self.handlers: dict[int, Handler] = {
            int(ExchangeType.INFORMATIONAL): informational.handle_request,
            int(ExchangeType.CREATE_CHILD_SA): create_child_sa.handle_request,
        }
        # Hooks the CREATE_CHILD_SA tasks fill in (children.start, children.sa_expired): a new
        # child on an established IKE SA ``(sa, policy, now, rekey_of)``, and the rekey of a
        # child whose soft lifetime ran out ``(child, now)``. Unset, a further child takes a
        # new IKE SA and a soft expiry negotiates the replacement the same way.
        self.create_child: Callable[[IkeSa, Policy, float, ChildSa | None], None] | None = (
            self._create_child
        )
        self.rekey_child: Callable[[ChildSa, float], None] | None = self._rekey_child
        # rekey helper: retries and IKE SA lifetimes (child_rekey.py, ike_rekey.py)
        self.later = Scheduler()

    # --- the shell's API --------------------------------------------------------------------

    def configure(
        self,
        *,
        peers: Sequence[PeerProfile],
        proposals: Sequence[ProposalProfile],
        policies: Sequence[Policy],
        templates: Sequence[TemplatePolicy],
        now: float,
        credentials: Credentials | None = None,
    ) -> None:
        """Take a new configuration; only the ``exchange-mode=ike2`` peers are ours. IKE SAs
        whose peer went away or changed are deleted with their children (Delete sent)."""
        self._now = max(self._now, now)
        self.peers = tuple(p for p in peers if p.exchange_mode is ExchangeMode.IKE2)
        self.proposals = {p.name: p for p in proposals}
        self.policies = tuple(policies)
        self.templates = tuple(templates)
        if credentials is not None:
            self.credentials = credentials
        current = {p.id: p for p in self.peers}
        for sa in list(self.ike.values()):
            if current.get(sa.peer.id) != sa.peer:
                self.delete_ike(sa, now, reason="peer removed or changed")
        for key, sa in list(self._half_open_items()):
            if current.get(sa.peer.id) != sa.peer:
                self.half_open.remove(key)

    def receive_datagram(self, data: bytes, src: Endpoint, dst: Endpoint, now: float) -> None:
        """Process one received IKEv2 datagram (without the non-ESP marker). Never raises."""
        self._stats["received"] += 1  # drops + the ones acted on add up to it
        self._now = max(self._now, now)
        try:
            self._receive(bytes(data), src, dst, now)
        except Dropped as d:
            self.drop(src, d.reason)
        except IntegrityCheckFailed:
            self.drop(src, "integrity: the message did not verify with the IKE SA's keys")
        except MalformedMessage as e:
            self.drop(src, f"malformed: {e.notify.name} {e.detail}")
        except Exception as e:  # a safety net: an engine bug must not take the daemon down
            if self.strict:
                raise
            self.drop(src, f"internal-error: {type(e).__name__}")

    def acquire(self, policy: Policy, now: float, packet: Selector | None = None) -> None:
        """Traffic hit ``policy`` (action encrypt) without an SA: negotiate a child SA, on an
        established IKE SA with the peer if there is one, else with a new IKE SA. ``packet``
        (the data plane's acquire names it) outside what the policy's narrowed children carry
        asks for a further child for it (RFC 7296 §2.9, ``narrowed_traffic.py``)."""
        self._now = max(self._now, now)
        self._guarded(
            lambda: lookups.acquire(self, policy, now, packet),
            src=(policy.dst.network_address, 0),
        )

    def sa_expired(self, event: SaSoftExpired | SaHardExpired, now: float) -> None:
        """Soft expiry: negotiate a replacement (the rekey helper's CREATE_CHILD_SA when it is
        there, else a new child the same way as an acquire); hard: delete both directions
        and tell the peer (INFORMATIONAL Delete)."""
        self._now = max(self._now, now)
        self._guarded(lambda: children.sa_expired(self, event, now), src=(event.dst, 0))

    def peer_port_changed(self, peer: IPAddress, old_port: int, new_port: int) -> int:
        """The data plane saw the peer's ESP-in-UDP move to ``new_port`` (its NAT rebound):
        the IKE SAs with that peer on ``old_port`` follow (RFC 7296 §2.23)."""
        moved = 0
        for sa in self.ike.with_address(peer):
            if sa.nat and sa.remote == (peer, old_port):
                sa.remote = (peer, new_port)
                moved += 1
        return moved

    def unknown_spi(
        self, spi: int, protocol: SaProtocol, src: IPAddress, dst: IPAddress, now: float
    ) -> None:
        """ESP/AH for an SPI we do not have (``unknown_spi.py``): a lost child of ours is
        deleted and made again; a peer with an IKE SA is told INVALID_SPI on it; a configured
        peer without one gets an IKE SA and its policies' children (after our restart)."""
        self._now = max(self._now, now)
        self._guarded(lambda: unknown_spi.unknown_spi(self, spi, protocol, src, dst, now),
                      src=(src, 0))  # fmt: skip

    def kill_connections(self, now: float) -> None:
        """`/ip ipsec remote-peers kill-connections`: delete every IKE SA and its children."""
        self._now = max(self._now, now)
        for sa in list(self.ike.values()):
            self._guarded(
                lambda sa=sa: self.delete_ike(sa, now, reason="killed"),
                src=sa.remote,
            )
        for key, _ in list(self._half_open_items()):
            self.half_open.remove(key)

    def remote_peers(self, now: float | None = None) -> list[RemotePeer]:
        """Rows of `/ip ipsec remote-peers`."""
        now = self._now if now is None else now
        rows: list[RemotePeer] = []
        for sa in [*self.ike.values(), *self.half_open.values()]:
            if sa.dead:
                continue
            rows.append(
                RemotePeer(
                    local_address=sa.local[0],
                    remote_address=sa.remote[0],
                    state=sa.state.value,
                    side=sa.side,
                    established=None if sa.established_at is None else now - sa.established_at,
                    nat=sa.nat,
                )
            )
        return rows

    def next_timer(self) -> float | None:
        times = [t for t in (self.deadlines.next_deadline(),) if t is not None]
        if self.ike:  # the safety sweep (handle_timer, tables.py) is a timer too
            if self._sweep_at is None:
                self._sweep_at = self._now + SWEEP_INTERVAL
            times.append(self._sweep_at)
        half_open = self.half_open.next_deadline()
        if half_open is not None:
            times.append(half_open)
        later = self.later.next_deadline()
        if later is not None:
            times.append(later)
        return min(times, default=None)

    def handle_timer(self, now: float) -> None:
        """Retransmit what is due, give up dead peers and stale exchanges."""
        self._now = max(self._now, now)
        for gone in self.half_open.expire(now):
            self.emit(HalfOpenDiscarded(remote=gone.value.remote, reason=gone.reason))
        if self._sweep_at is None or now >= self._sweep_at:  # tables.py: the safety net
            self._sweep_at = now + SWEEP_INTERVAL
            for sa in list(self.ike.values()):
                self.deadlines.touch(sa)
        for sa in list(self.deadlines.due(now)):
            self._guarded(lambda sa=sa: self._sa_timers(sa, now), src=sa.remote)
            self.deadlines.touch(sa)
        for remote, job in self.later.due(now):
            self._guarded(lambda job=job: job(now), src=remote)

    # --- shared services (emit, drop, count, send, new_policy_id: core/engine_base.py) -------

    def new_spi(self) -> bytes:
        """A fresh IKE SPI of ours: nonzero, not in use."""
        while True:
            spi = self.rng(8)
            if any(spi) and spi not in self.ike:
                return spi

    def sk_out(self, sa: IkeSa) -> wm.SkKeys:
        """Our sending direction's SK_e/SK_a (the original initiator sends with the i keys)."""
        return self._sk(sa, sa.initiator)

    def sk_in(self, sa: IkeSa) -> wm.SkKeys:
        return self._sk(sa, not sa.initiator)

    def _sk(self, sa: IkeSa, initiator_keys: bool) -> wm.SkKeys:
        """One direction's SkKeys, built (with its keyed cipher and MAC) once per key set."""
        k, c = sa.keys, sa.choice
        cached = sa.sk_cache.get(initiator_keys)
        if cached is not None and cached[0] is k:
            return cached[1]  # type: ignore[no-any-return]
        enc, auth = (k.sk_ei, k.sk_ai) if initiator_keys else (k.sk_er, k.sk_ar)
        keys = wm.SkKeys(encryption=c.encryption, integrity=c.integrity, enc_key=enc, auth_key=auth)
        sa.sk_cache[initiator_keys] = (k, keys)
        return keys

    def seal(self, sa: IkeSa, msg: wm.Message) -> tuple[bytes, ...]:
        """The datagram(s) of ``msg`` on ``sa``: plain for IKE_SA_INIT, else SK-protected,
        in RFC 7383 fragments when too large for the path (``fragments.py``)."""
        return fragments.seal(self, sa, msg)

    def queue(self, sa: IkeSa, task: Task, now: float) -> None:
        """Run ``task`` on ``sa`` as soon as its window is free."""
        sa.tasks.queue.append(task)
        self.kick(sa, now)

    def kick(self, sa: IkeSa, now: float) -> None:
        """Send the next queued request if nothing is outstanding (window size 1, §2.3)."""
        while sa.tasks.idle and sa.tasks.queue and not sa.dead:
            if sa.state not in (IkeState.ESTABLISHED, IkeState.DELETING) and sa.tasks.my_mid > 1:
                return
            task = sa.tasks.queue.popleft()
            self.send_request(sa, task, now)

    def send_request(self, sa: IkeSa, task: Task, now: float) -> None:
        """Build ``task``'s request with our next message ID, send it and wait for the answer."""
        payloads = task.build(self, sa, now)
        if sa.dead or payloads is None:  # None: the task found nothing left to do
            return
        msg = wm.Message(
            spi_i=sa.spi_i,
            spi_r=sa.spi_r,
            exchange=task.exchange,
            initiator=sa.initiator,
            response=False,
            message_id=sa.tasks.next_request_id(),
            payloads=tuple(payloads),
        )
        packets = self.seal(sa, msg)
        if task.exchange == _IKE_SA_INIT:
            sa.init_request = packets[0]
        sa.tasks.sent(task, packets, now)
        self.deadlines.touch(sa)
        for p in packets:
            self.send(sa.local, sa.remote, p)

    def respond(
        self, sa: IkeSa, header: Header, request: bytes, payloads: Sequence[Any]
    ) -> tuple[bytes, ...]:
        """Send our response to the peer's request ``header``/``request`` and cache it."""
        msg = wm.Message(
            spi_i=sa.spi_i,
            spi_r=sa.spi_r,
            exchange=_EXCHANGES.get(header.exchange) or ExchangeType(header.exchange),
            initiator=sa.initiator,
            response=True,
            message_id=header.message_id,
            payloads=tuple(payloads),
        )
        packets = self.seal(sa, msg)
        sa.tasks.responded(header.message_id, request, packets)
        for p in packets:
            self.send(sa.local, sa.remote, p)
        return packets

    # --- receive ----------------------------------------------------------------------------

    def _receive(self, data: bytes, src: Endpoint, dst: Endpoint, now: float) -> None:
        header = peek(data)
        if header.major_version != 2:
            raise Dropped(f"not-ikev2: major version {header.major_version}")
        header = check_header(header, data)  # pull_header's checks, without decoding again
        if header.exchange == _IKE_SA_INIT:
            if header.response:
                sa_init.receive_response(self, header, data, src, dst, now)
            else:
                sa_init.receive_request(self, header, data, src, dst, now)
            return
        sa = self._sa_for(header, src)
        if sa is None:
            raise Dropped("unknown-spi: no IKE SA with these SPIs")
        if header.response:
            self._receive_response(sa, header, data, src, dst, now)
        else:
            self._receive_request(sa, header, data, src, dst, now)

    def _sa_for(self, header: Header, src: Endpoint) -> IkeSa | None:
        """Our IKE SA for a non-IKE_SA_INIT message: by our SPI (SPIr when the original
        initiator sent it), the other SPI checked too."""
        ours = header.spi_r if header.initiator else header.spi_i
        sa = self.ike.get(ours)
        if sa is None and header.initiator:
            sa = self.half_open.get((src[0], header.spi_i))
        if sa is None or sa.dead or sa.spi_i != header.spi_i or sa.spi_r != header.spi_r:
            return None
        if sa.initiator == header.initiator:  # the I flag says who sent it (§3.1)
            return None
        return sa

    def _receive_request(
        self, sa: IkeSa, header: Header, data: bytes, src: Endpoint, dst: Endpoint, now: float
    ) -> None:
        verdict = sa.tasks.classify_request(header.message_id, data)
        if verdict is RequestVerdict.RETRANSMITTED:
            self.count("retransmission-answered")
            for p in sa.tasks.cached_response():
                self.send(sa.local, sa.remote, p)
            return
        if verdict is not RequestVerdict.NEW:
            raise Dropped(f"{verdict.value}: request message ID {header.message_id}")
        if sa.keys is None:
            raise Dropped("no-keys: request before IKE_SA_INIT completed")
        try:
            opened = self._open(sa, header, data)
        except AuthenticatedMalformed as e:
            # §2.21.2: authentic but malformed: answer INVALID_SYNTAX; in IKE_AUTH that ends it
            self.respond(sa, header, data, [NotifyPayload(type=NotifyType.INVALID_SYNTAX)])
            self.emit(NegotiationFailed(remote=sa.remote, reason=f"INVALID_SYNTAX: {e}"))
            if not sa.established:
                self.forget(sa)
            raise Dropped(f"malformed: INVALID_SYNTAX answered ({e})") from None
        if opened is None:
            return  # a fragment, held until the message is whole (fragments.py)
        msg, data = opened
        self._follow_peer(sa, src, dst)
        sa.last_heard = now
        self._note_window(sa, msg)
        if sa.predecessor is not None:  # the peer uses an IKE SA a rekey made (ike_rekey.py)
            ike_rekey.peer_uses(self, sa, msg, now)
        if header.exchange == _IKE_AUTH:
            ike_auth.receive_request(self, sa, header, data, msg, now)
            return
        if not sa.established:
            raise Dropped(f"not-established: {ExchangeType(header.exchange).name} request")
        handler = self.handlers.get(header.exchange)
        if handler is None:
            raise Dropped(f"unsupported-exchange: {header.exchange}")
        payloads = handler(self, sa, msg, now)
        if payloads is None:  # the handler answered (or chose not to) itself
            return
        self.respond(sa, header, data, payloads)
        informational.after_response(self, sa, now)

    def _note_window(self, sa: IkeSa, msg: wm.Message) -> None:
        """§2.3 SET_WINDOW_SIZE from the peer: noted; we still keep one request outstanding."""
        for n in notifies(msg, NotifyType.SET_WINDOW_SIZE):
            if not sa.tasks.note_window(n.data):
                self.count("malformed-window-size")

    def _receive_response(
        self, sa: IkeSa, header: Header, data: bytes, src: Endpoint, dst: Endpoint, now: float
    ) -> None:
        if not sa.tasks.is_response_to_outstanding(header.message_id):
            raise Dropped(f"unexpected-response: message ID {header.message_id}")
        if sa.keys is None:
            raise Dropped("no-keys: response before IKE_SA_INIT completed")
        try:
            opened = self._open(sa, header, data)
        except AuthenticatedMalformed as e:
            # §2.21.2: an authentic response we cannot parse: the exchange, and with it the
            # IKE SA (its state is no longer known to match the peer's), is over
            sa.tasks.response_received(header.message_id)
            self.emit(NegotiationFailed(remote=sa.remote, reason=f"malformed response: {e}"))
            if sa.established:
                self.delete_ike(sa, now, reason="malformed response")
            else:
                self.forget(sa)
            raise Dropped(f"malformed: authenticated response ({e})") from None
        if opened is None:
            return  # a fragment, held until the message is whole (fragments.py)
        msg, _ = opened
        self._follow_peer(sa, src, dst)
        sa.last_heard = now
        self._note_window(sa, msg)
        task = sa.tasks.response_received(header.message_id)
        if task is None:
            return
        task.on_response(self, sa, msg, now)
        if not sa.dead:
            self.kick(sa, now)

    def _open(self, sa: IkeSa, header: Header, data: bytes) -> tuple[wm.Message, bytes] | None:
        """The decrypted message and the datagram that stands for it (fragment 1 of a
        fragmented one, RFC 7383), or None while fragments are still missing."""
        if fragments.is_fragment(header):
            return fragments.receive(self, sa, header, data, self.sk_in(sa))
        return open_message(data, self.sk_in(sa), header), data

    def _follow_peer(self, sa: IkeSa, src: Endpoint, dst: Endpoint) -> None:
        """Where to send from now on, after an authenticated, new message from ``src`` to
        ``dst``: the peer's switch to 4500, or its NAT's new port (RFC 7296 §2.23,
        ``natt.follow``)."""
        moved = natt.follow(sa, src, dst)
        if moved is not None:
            sa.local, sa.remote = moved
            self.count("ike-endpoint-moved")

    # --- life of IKE SAs --------------------------------------------------------------------

    def start_ike(
        self, peer: PeerProfile, local: IPAddress, remote: IPAddress, now: float, policy: Policy
    ) -> IkeSa | None:
        """Initiate an IKE SA with ``peer`` whose IKE_AUTH carries a child for ``policy``."""
        return sa_init.start(self, peer, local, remote, now, policy)

    def established(self, sa: IkeSa, now: float) -> None:
        """``sa`` completed IKE_AUTH: index it, note the peer as proven."""
        sa.state = IkeState.ESTABLISHED
        sa.established_at = now
        self.proven.add(sa.remote[0])
        sa.keepalive_next = natt.first_keepalive(sa, now)
        self.deadlines.touch(sa)  # the keepalive is one of its deadlines
        ike_rekey.schedule_lifetime(self, sa, now)
        dpd.schedule(self, sa, now)  # liveness checks (dpd-interval)

    def delete_ike(self, sa: IkeSa, now: float, *, reason: str, notify: bool = True) -> None:
        """Delete ``sa`` and its children (``informational.py`` sends the Delete)."""
        informational.delete_ike(self, sa, now, reason=reason, notify=notify)

    def forget(self, sa: IkeSa, reason: str | None = None) -> None:
        """End ``sa`` silently: out of the tables. Children still on it go too (RFC 7296
        §1.4.1: they cannot outlive their IKE SA), without a Delete: callers that want the
        peer told delete them first; what is left here was installed after that (an exchange
        answered while our Delete of the IKE SA waited its turn)."""
        if sa.dead:
            return
        for child in list(sa.children):
            self.delete_child(child, self._now, reason="its IKE SA is gone", notify=False)
        sa.dead = True
        sa.state = IkeState.DEAD
        for job in sa.lifetime_jobs:  # ike_rekey.schedule_lifetime
            self.later.cancel(job)
        for pending in (sa.first_child, *sa.pending.values()):
            children.abandon(self, pending, sa)  # reserved inbound SPIs go back
        ours = sa.spi_i if sa.initiator else sa.spi_r
        if self.ike.get(ours) is sa:
            del self.ike[ours]
        self.half_open.remove((sa.remote[0], sa.spi_i))
        if reason is not None and sa.established_at is not None:
            self.emit(IkeSaDeleted(local=sa.local, remote=sa.remote, reason=reason))

    def delete_child(self, child: ChildSa, now: float, *, reason: str, notify: bool) -> None:
        children.delete(self, child, now, reason=reason, notify=notify)

    def _create_child(
        self, sa: IkeSa, policy: Policy, now: float, rekey_of: ChildSa | None = None
    ) -> None:
        """A further child for ``policy`` on the established ``sa`` (CREATE_CHILD_SA)."""
        if rekey_of is not None:
            child_rekey.start(self, rekey_of, now)
        else:
            child_create.start(self, sa, policy, now)

    def hand_over_children(self, sa: IkeSa, now: float) -> None:
        """The peer deletes ``sa``: a rekeyed IKE SA hands its children and queued requests
        to its successor first (``ike_rekey.peer_deletes``; informational.py calls this)."""
        ike_rekey.peer_deletes(self, sa, now)

    def _rekey_child(self, child: ChildSa, now: float) -> None:
        """``child``'s soft lifetime passed: rekey it (CREATE_CHILD_SA with REKEY_SA)."""
        child_rekey.start(self, child, now)

    # --- timers -----------------------------------------------------------------------------

    def _deadline_of(self, sa: IkeSa) -> float | None:
        """The earliest of: the outstanding request's next resend, the next NAT-keepalive, and
        for an IKE SA in setup its setup timeout (comparisons instead of a list and min():
        the heap asks three to four times per setup)."""
        if sa.dead:
            return None
        out = sa.tasks.outstanding
        t = None if out is None else out.next_at  # TaskManager.next_deadline
        keepalive = sa.keepalive_next
        if keepalive is not None and (t is None or keepalive < t):
            t = keepalive
        state = sa.state
        if state is not _ESTABLISHED and state is not _DELETING:
            give_up = sa.created + HALF_OPEN_TIMEOUT
            if t is None or give_up < t:
                t = give_up
        return t

    def _sa_timers(self, sa: IkeSa, now: float) -> None:
        try:
            packets = sa.tasks.due(now)
        except PeerDead as e:
            self._peer_dead(sa, now, str(e))
            return
        if packets:
            self.count("retransmitted")
            for p in packets:
                self.send(sa.local, sa.remote, p)
        if natt.keepalive_due(sa, now):  # RFC 3948 §2.3: the shell sends the 0xFF byte
            self.emit(NatKeepaliveDue(src=sa.local, dst=sa.remote))
        setting_up = not sa.established and sa.state is not IkeState.DELETING
        if setting_up and now >= sa.created + HALF_OPEN_TIMEOUT:
            self.emit(NegotiationFailed(remote=sa.remote, reason="IKE SA setup timed out"))
            self.forget(sa)

    def _peer_dead(self, sa: IkeSa, now: float, detail: str) -> None:
        if sa.state is IkeState.DELETING:  # our Delete went unanswered: it is gone anyway
            self.forget(sa)
            return
        if not sa.established:
            reason = f"IKE SA setup: {detail}"
            if sa.rejected:
                reason += f" (last answer: {sa.rejected})"
            self.emit(NegotiationFailed(remote=sa.remote, reason=reason))
        self.emit(PeerUnreachable(remote=sa.remote, reason=f"IKEv2 retransmissions: {detail}"))
        self.delete_ike(sa, now, reason="peer unreachable", notify=False)

    # --- lookups (lookups.py) ---------------------------------------------------------------

    def endpoints_for(self, policy: Policy) -> tuple[PeerProfile, IPAddress, IPAddress] | None:
        return lookups.endpoints_for(self, policy)

    def ike_for(self, peer: PeerProfile, remote: IPAddress) -> IkeSa | None:
        return lookups.ike_for(self, peer, remote)

    def peer_for(self, address: IPAddress) -> PeerProfile | None:
        return self._peer_index.best(self.peers, address)

    def _half_open_items(self) -> list[tuple[tuple[IPAddress, bytes], IkeSa]]:
        return [((sa.remote[0], sa.spi_i), sa) for sa in self.half_open.values()]

    def _guarded(self, fn: Any, *, src: Endpoint) -> Any:
        """``fn()``'s result; None (and a counted drop) if it raised."""
        try:
            return fn()
        except Exception as e:  # the safety net, as for datagrams
            if self.strict:
                raise
            self.drop(src, f"internal-error: {type(e).__name__}")
            return None
