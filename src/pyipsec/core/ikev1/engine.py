"""The IKEv1 engine (RFC 2407, 2408, 2409, 3947, 3706) with RouterOS 6.x `/ip ipsec` semantics.

Theory of operation
-------------------
Sans-IO: the I/O shell feeds datagrams (``receive_datagram``), acquires from the data plane
(``acquire``), SA expiry events (``sa_expired``) and the clock (``handle_timer`` at
``next_timer()``), and collects ``datagrams_to_send()`` and ``pop_events()``. Time only comes
in as ``now``; randomness only from the injected ``rng``.

State: one ``IkeSa`` per phase 1 (keyed by the initiator cookie, checked against the responder
cookie and the peer's address), holding the phase-1 exchange (``phase1.py``, walked as a table
of messages), the quick modes in flight (``quick_mode.py``, keyed by message ID) and DPD/NAT-T
state; and the ``ChildSa``s, one per SA bundle quick mode installed through the backend. Child
SAs outlive the phase 1 that made them (RouterOS: without DPD a phase 1 just expires and its
SAs stay until their own expiry).

Dispatch of a datagram: header -> known IKE SA by cookie, or an unproven one in the half-open
table (core/admission.py), or a new responder SA for a phase-1 first message
(``first_message.py``) -> by exchange type: the phase-1 exchange of the SA
(``phase1_driver.py``), QUICK_MODE (established SA only), INFORMATIONAL (notifies, deletes,
DPD); ending SAs is in ``deletion.py``. A datagram equal to one we
already answered gets our answer again (the peer lost it); any other repeat is dropped.
Everything a peer sends that we cannot use ends as a counted drop (``stats()``) with a
``DatagramDropped`` event, a notify where RFC 2408 §5 asks for one, or a failure event; never as
an exception.

Timers: retransmission of the last message of each exchange (3 s doubling, 5 tries, then
``NegotiationFailed``; never a responder's first reply: ``first_message.py``), half-open phase-1
timeout, phase-1 renewal before the lifetime ends (make-before-break, ``renewal.py``), DPD (RFC
3706) and NAT keepalives (RFC 3948 §2.3, sent by the shell). ESP/AH for an unknown SPI
(``unknown_spi``) is answered with INVALID-SPI (``invalid_spi.py``). The IKE SAs' deadlines
sit in a heap (``timer_queue.py``) and the SAs in indexed tables (``sa_tables.py``): a tick or
an event costs what it touches, not the number of peers.
"""

from __future__ import annotations

from collections.abc import Sequence

from pyipsec.core.admission import AdmissionLimits, HalfOpenTable
from pyipsec.core.credentials import Credentials
from pyipsec.core.engine_base import EngineBase
from pyipsec.core.events import (
    Endpoint,
    NatKeepaliveDue,
    NegotiationFailed,
    PeerUnreachable,
    RemotePeer,
)
from pyipsec.core.profiles import (
    PeerProfile,
    ProposalProfile,
    TemplatePolicy,
)
from pyipsec.crypto.base import Rng
from pyipsec.dataplane.backend import DataplaneBackend
from pyipsec.dataplane.policy import IPAddress, Policy, Selector
from pyipsec.dataplane.sad import SaHardExpired, SaProtocol, SaSoftExpired
from pyipsec.wire.ikev1.constants import (
    ExchangeType,
)
from pyipsec.wire.ikev1.errors import MalformedMessage
from pyipsec.wire.ikev1.header import HEADER_LEN, Header, pull_header
from pyipsec.wire.ikev1.payloads import DeletePayload, NotifyPayload

from . import (
    deletion,
    dpd,
    first_message,
    informational,
    invalid_spi,
    peers,
    phase1,
    phase1_driver,
    renewal,
)
from . import quick_mode as qm
from .ike_sa import (
    HALF_OPEN_TIMEOUT,
    ChildSa,
    Dropped,
    ExchangeKind,
    IkeSa,
    Retransmit,
    Side,
    fingerprint,
)
from .phase1_driver import KEEPALIVE_INTERVAL, NATT_PORT
from .protected import seal_informational
from .sa_tables import ChildTable, IkeTable
from .timer_queue import SWEEP_INTERVAL, TimerQueue

__all__ = ["HALF_OPEN_TIMEOUT", "KEEPALIVE_INTERVAL", "NATT_PORT", "Ikev1Engine"]

_ZERO_COOKIE = bytes(8)


class Ikev1Engine(EngineBase):
    """One IKEv1 daemon's protocol state for all peers."""

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
            first_policy_id=0x4000_0000,
        )
        self.ike = IkeTable()  # by initiator cookie, indexed by remote address
        # Responder exchanges whose initiator has not yet echoed our cookie (core/admission.py).
        self.half_open: HalfOpenTable[bytes, IkeSa] = HalfOpenTable(admission)
        self.first_replies = first_message.ReplyCache()
        self.tombstones = first_message.Tombstones(timeout=self.half_open.limits.timeout)
        self._peer_index: peers.PeerIndex | None = None  # built for self.peers when needed
        self._peers_by_id: tuple[object, dict[int, PeerProfile]] = (None, {})
        self.children = ChildTable()  # indexed by peer, maker, policy and SPI
        self._contacted: set[IPAddress] = set()  # peers we completed a phase 1 with
        # Deadlines of the IKE SAs in a heap: a tick visits the due ones (timer_queue.py).
        self.timers = TimerQueue(self._deadline_of)
        self._sweep_at: float | None = None

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
        """Take a new configuration. IKE SAs whose peer went away or changed are deleted
        (with their child SAs, Delete notifies sent). A change that leaves the peers as they
        were (a policy edited on a hub with thousands of spokes) does not walk the SAs."""
        self._now = max(self._now, now)
        unchanged = tuple(peers) == self.peers
        if not unchanged:  # the same tuple otherwise: the responder's PeerIndex stays valid
            self.peers = tuple(peers)
        self.proposals = {p.name: p for p in proposals}
        self.policies = tuple(policies)
        self.templates = tuple(templates)
        if credentials is not None:
            self.credentials = credentials
        if unchanged:
            return
        current = {p.id: p for p in self.peers}
        for sa in list(self.ike.values()):
            if current.get(sa.peer.id) != sa.peer:
                self.delete_ike(sa, now, reason="peer removed or changed", children=True)
        for sa in list(self.half_open.values()):
            if current.get(sa.peer.id) != sa.peer:
                self.forget(sa)
        for child in list(self.children):
            if current.get(child.peer_id) is None:
                self.delete_child(child, now, reason="peer removed", notify=False)

    def receive_datagram(self, data: bytes, src: Endpoint, dst: Endpoint, now: float) -> None:
        """Process one received IKE datagram (without the non-ESP marker)."""
        self._stats["received"] += 1  # every datagram: drops + the ones acted on add up to it
        try:
            self._receive(bytes(data), src, dst, now)
        except Dropped as d:
            self.drop(src, d.reason)
        except MalformedMessage as e:
            self.drop(src, f"malformed: {e.notify.name}")
        except Exception as e:  # a safety net: an engine bug must not take the daemon down
            if self.strict:
                raise
            self.drop(src, f"internal-error: {type(e).__name__}")

    def acquire(self, policy: Policy, now: float, packet: Selector | None = None) -> None:
        """Traffic hit ``policy`` (action encrypt) without an SA: negotiate one (RFC 2409;
        ``packet`` is not used: Quick Mode proposes the policy as configured)."""
        self._now = max(self._now, now)
        ends = self._endpoints_for(policy, quiet=True)
        if ends is not None and self._negotiating(policy, ends[2]):
            return  # already negotiating for this policy
        if self._has_installed_child(policy):
            return  # a stale acquire, raised just before the SAs went in
        if ends is None:
            self._endpoints_for(policy)  # says why
            return
        peer, local, remote = ends
        sa = self._ike_for(peer, remote, established_only=False)
        if sa is not None and sa.established:
            self._start_quick_mode(sa, policy, now)
            return
        if sa is not None:
            if all(p.id != policy.id for p in sa.queued):
                sa.queued.append(policy)
            return
        self.start_phase1(peer, local, remote, now, queued=[policy])

    def _has_installed_child(self, policy: Policy) -> bool:
        """Whether a live child of ``policy`` still has its outbound SAs in the data plane."""
        for child in self.children.of_policy(policy.id):
            if child.deleted:
                continue
            if all(self.backend.sa_usage(out, proto, child.remote) for proto, _, out in child.sas):
                return True
        return False

    def sa_expired(self, event: SaSoftExpired | SaHardExpired, now: float) -> None:
        """Soft expiry: negotiate a replacement (old SAs stay until hard expiry); hard: delete
        (``deletion.py``)."""
        self._now = max(self._now, now)
        deletion.sa_expired(self, event, now)

    def peer_port_changed(self, peer: IPAddress, old_port: int, new_port: int) -> int:
        """The data plane authenticated ESP-in-UDP from ``peer`` on a new source port (its NAT
        rebound, RFC 3948 §5 / RFC 7296 §2.23) and moved the SAs there: the floated IKE SAs
        with that peer on ``old_port`` follow, so IKE messages, keepalives and the SAs of
        later quick modes go to the new port. Returns how many IKE SAs moved."""
        moved = 0
        for sa in self.ike.with_address(peer):
            if sa.nat and sa.remote == (peer, old_port):
                sa.remote = (peer, new_port)
                moved += 1
        return moved

    def unknown_spi(
        self, spi: int, protocol: SaProtocol, src: IPAddress, dst: IPAddress, now: float
    ) -> None:
        """The data plane got ESP/AH from ``src`` for an SPI it has no SA for: tell the peer
        (INVALID-SPI, rate-limited; ``invalid_spi.py``)."""
        self._now = max(self._now, now)
        try:
            invalid_spi.unknown_spi(self, spi, protocol, src, dst, now)
        except Exception as e:  # the safety net, as for datagrams
            if self.strict:
                raise
            self.drop((src, 0), f"internal-error: {type(e).__name__}")

    def kill_connections(self, now: float) -> None:
        """`/ip ipsec remote-peers kill-connections`: delete every phase 1 and its SAs."""
        deletion.kill_connections(self, now)

    def remote_peers(self, now: float | None = None) -> list[RemotePeer]:
        """Rows of `/ip ipsec remote-peers` (``established`` counted up to ``now``, by
        default the latest time the engine has seen)."""
        now = self._now if now is None else now
        rows: list[RemotePeer] = []
        for sa in [*self.ike.values(), *self.half_open.values()]:
            if sa.dead:
                continue
            rows.append(
                RemotePeer(
                    local_address=sa.local[0],
                    remote_address=sa.remote[0],
                    state=sa.state,
                    side=sa.side.value,
                    established=None if sa.established_at is None else now - sa.established_at,
                    nat=sa.nat,
                    exchange_mode=sa.peer.exchange_mode.value,
                )
            )
        return rows

    def next_timer(self) -> float | None:
        self.timers.flush(self._live)
        times = [t for t in (self.timers.next_deadline(self._live),) if t is not None]
        if self.ike:  # the safety sweep (handle_timer, timer_queue.py) is a timer too
            if self._sweep_at is None:
                self._sweep_at = self._now + SWEEP_INTERVAL
            times.append(self._sweep_at)
        half_open = self.half_open.next_deadline()
        if half_open is not None:
            times.append(half_open)
        return min(times, default=None)

    def handle_timer(self, now: float) -> None:
        """Run what is due at ``now``: the half-open exchanges, then the IKE SAs whose
        deadline has come (timer_queue.py), not a walk over every SA."""
        self._now = max(self._now, now)
        first_message.timers(self, now)
        self.timers.flush(self._live)
        if self._sweep_at is None or now >= self._sweep_at:
            self._sweep_at = now + SWEEP_INTERVAL
            for sa in self.timers.missing(self._live_sas()):
                self.count("timer-missed")
                self.timers.schedule(sa)
        for sa in self.timers.pop_due(now, self._live):
            if not sa.dead:
                self._sa_timers(sa, now)
                self.touch(sa)
        self.timers.flush(self._live)
        if self.strict:
            missing = self.timers.missing(self._live_sas())
            if missing:  # a code path changed an SA's timers without touch(): find it
                raise AssertionError(f"timers not scheduled: {[m.state for m in missing]}")

    def touch(self, sa: IkeSa) -> None:
        """Something happened to ``sa`` that may move its timers (timer_queue.py)."""
        self.timers.touch(sa)

    def _live(self, cky: bytes) -> IkeSa | None:
        sa = self.ike.get(cky)
        return None if sa is None or sa.dead else sa

    def _live_sas(self) -> list[IkeSa]:
        return [sa for sa in self.ike.values() if not sa.dead]

    # --- shared services (used by quick_mode.py; the rest in core/engine_base.py) ----------

    def transmit(self, sa: IkeSa, data: bytes) -> None:
        self.touch(sa)
        self.send(sa.local, sa.remote, data)

    def send_informational(self, sa: IkeSa, payloads: list[NotifyPayload | DeletePayload]) -> None:
        """A protected informational exchange (RFC 2409 §5.7) on an established SA."""
        if sa.keys is None or sa.cipher is None:
            return
        mid = self._new_mid(sa)
        self.transmit(sa, seal_informational(sa, mid, payloads))

    # --- receive ----------------------------------------------------------------------------

    def _receive(self, data: bytes, src: Endpoint, dst: Endpoint, now: float) -> None:
        self._now = max(self._now, now)
        if len(data) < HEADER_LEN:
            raise Dropped("short")
        header = pull_header(data)
        sa = self.ike.get(header.initiator_cookie)
        if sa is not None and sa.dead:
            sa = None
        unproven = sa is None and header.initiator_cookie in self.half_open
        if unproven:
            sa = self.half_open.get(header.initiator_cookie)
        elif sa is None and header.responder_cookie != _ZERO_COOKIE:
            sa = first_message.revive(self, header, src, now)
        if sa is None:
            first_message.receive(self, header, data, src, dst, now)
            return
        self.touch(sa)
        if src[0] != sa.remote[0]:
            raise Dropped("address-mismatch")
        if header.responder_cookie != sa.cky_r:
            if sa.side is Side.RESPONDER and header.responder_cookie == _ZERO_COOKIE:
                # The initiator repeats message 1: our message 2 was lost.
                if self.answer_retransmission(sa.retransmit, fingerprint(data), now):
                    return
                raise Dropped("duplicate")
            if not (sa.side is Side.INITIATOR and sa.cky_r == _ZERO_COOKIE):
                raise Dropped("unknown-cookie")
            if header.responder_cookie == _ZERO_COOKIE:
                raise Dropped("unknown-cookie")
            first_reply = True  # adopted only if the reply is accepted (phase1_driver.py)
        else:
            first_reply = False
        xchg = header.exchange_type
        if xchg == phase1.EXCHANGE_TYPE[sa.kind]:
            if unproven:  # the initiator's next phase-1 message: it has our reply
                first_message.promote(self, sa)
            phase1_driver.receive(self, sa, header, data, src, dst, now, first_reply=first_reply)
        elif xchg in (ExchangeType.QUICK_MODE, ExchangeType.INFORMATIONAL):
            if xchg == ExchangeType.QUICK_MODE and not sa.established:
                raise Dropped("quick-mode-before-phase1")
            self._receive_protected(sa, header, data, src, dst, now)
        else:
            raise Dropped("unsupported-exchange")

    def _receive_protected(
        self, sa: IkeSa, header: Header, data: bytes, src: Endpoint, dst: Endpoint, now: float
    ) -> None:
        """Quick mode or informational. RFC 3947 §4: after a NAT the peer's port may change
        (or the initiator floats only now, as after base mode); follow it to where an
        authenticated message came from, and back off if the message does not verify."""
        ends = (sa.local, sa.remote, sa.floated)
        if dst[1] == NATT_PORT and sa.nat and (sa.local, sa.remote) != (dst, src):
            sa.local, sa.remote, sa.floated = dst, src, True
        try:
            if header.exchange_type == ExchangeType.QUICK_MODE:
                qm.receive(self, sa, header, data, src, dst, now)
                if sa.replaces:
                    renewal.progress(self, sa, now)
            else:
                informational.receive(self, sa, header, data, src, now)
        except (Dropped, MalformedMessage):
            sa.local, sa.remote, sa.floated = ends
            raise

    def answer_retransmission(self, rt: Retransmit | None, fp: bytes, now: float) -> bool:
        """The peer repeated the message ``rt`` answers: send ``rt`` again (rate-limited)."""
        if rt is None or rt.reply_to != fp:
            return False
        if not rt.may_answer(now):
            raise Dropped("duplicate")
        self.count("retransmission-answered")
        self.send(rt.src, rt.dst, rt.data)
        return True

    # --- phase 1 life -----------------------------------------------------------------------

    def start_phase1(
        self,
        peer: PeerProfile,
        local: IPAddress,
        remote: IPAddress,
        now: float,
        queued: list[Policy] | None = None,
    ) -> IkeSa | None:
        """Initiate a phase 1 with ``peer`` (``phase1_driver.py``)."""
        return phase1_driver.start(self, peer, local, remote, now, queued)

    def initial_contact(self, sa: IkeSa, now: float) -> None:
        """RFC 2407 §4.6.3.3: the peer rebooted (``informational.initial_contact``)."""
        informational.initial_contact(self, sa, now)

    def forget(self, sa: IkeSa) -> None:
        """End ``sa`` silently (``deletion.py``)."""
        deletion.forget(self, sa)

    def delete_ike(
        self, sa: IkeSa, now: float, *, reason: str, children: bool, notify: bool = True
    ) -> None:
        """Delete a phase 1, optionally its peer's child SAs first (``deletion.py``)."""
        deletion.delete_ike(self, sa, now, reason=reason, children=children, notify=notify)

    def delete_child(
        self, child: ChildSa, now: float, *, reason: str, notify: bool, via: IkeSa | None = None
    ) -> None:
        """Remove a child's SAs from the data plane; tell the peer (``deletion.py``)."""
        deletion.delete_child(self, child, now, reason=reason, notify=notify, via=via)

    # --- timers -----------------------------------------------------------------------------

    def _deadline_of(self, sa: IkeSa) -> float | None:
        return min(self._timers_of(sa), default=None)

    def _timers_of(self, sa: IkeSa) -> list[float]:
        if sa.dead:
            return []
        out: list[float] = []
        if sa.retransmit is not None and sa.retransmit.awaiting:
            out.append(sa.retransmit.next_at)
        if not sa.established:
            out.append(sa.created + HALF_OPEN_TIMEOUT)
        for t in (sa.expires_at, sa.renew_at, sa.retire_at, sa.dpd_next, sa.keepalive_next):
            if t is not None:
                out.append(t)
        for q in sa.quick.values():
            if q.retransmit is not None and q.retransmit.awaiting:
                out.append(q.retransmit.next_at)
            if not q.done:
                out.append(q.started + HALF_OPEN_TIMEOUT)
        return out

    def _sa_timers(self, sa: IkeSa, now: float) -> None:
        rt = sa.retransmit
        if rt is not None and rt.awaiting and now >= rt.next_at:
            if rt.exhausted:
                if sa.rejected:  # the peer answered, but never acceptably
                    reason = f"phase 1: no acceptable answer (last: {sa.rejected})"
                    self.emit(NegotiationFailed(remote=sa.remote, reason=reason))
                else:
                    self.emit(NegotiationFailed(remote=sa.remote, reason="phase 1: no answer"))
                    self.emit(PeerUnreachable(remote=sa.remote, reason="phase 1 retransmissions"))
                self.forget(sa)
                return
            rt.backoff()
            self.count("retransmitted")
            self.send(rt.src, rt.dst, rt.data)
        if not sa.established and now >= sa.created + HALF_OPEN_TIMEOUT:
            self.emit(NegotiationFailed(remote=sa.remote, reason="phase 1 timed out"))
            self.forget(sa)
            return
        qm.timers(self, sa, now)
        if sa.established and renewal.timers(self, sa, now):
            return
        if sa.keepalive_next is not None and now >= sa.keepalive_next:
            sa.keepalive_next = now + KEEPALIVE_INTERVAL
            self.emit(NatKeepaliveDue(src=sa.local, dst=sa.remote))
        if sa.dpd_next is not None and now >= sa.dpd_next:
            dpd.tick(self, sa, now)

    # --- lookups ----------------------------------------------------------------------------

    def _peer_for_initiator(self, kind: ExchangeKind, address: IPAddress) -> PeerProfile | None:
        return self._peers_indexed().responder_peer(kind, address)

    def _peers_indexed(self) -> peers.PeerIndex:
        if self._peer_index is None or self._peer_index.peers is not self.peers:
            self._peer_index = peers.PeerIndex(self.peers)
        return self._peer_index

    def _peer_by_id(self, peer_id: int) -> PeerProfile | None:
        cached, by_id = self._peers_by_id
        if cached is not self.peers:  # built once per configuration (the first entry wins)
            by_id = {p.id: p for p in reversed(self.peers)}
            self._peers_by_id = (self.peers, by_id)
        return by_id.get(peer_id)

    def _endpoints_for(
        self, policy: Policy, quiet: bool = False
    ) -> tuple[PeerProfile, IPAddress, IPAddress] | None:
        found = peers.initiator_endpoints(
            self.peers, self.local_addresses, policy, self._peers_indexed()
        )
        if isinstance(found, peers.NoEndpoints):
            if not quiet:
                self.emit(NegotiationFailed(remote=found.remote, reason=found.reason))
            return None
        return found

    def _ike_for(
        self, peer: PeerProfile, remote: IPAddress, *, established_only: bool
    ) -> IkeSa | None:
        found = [s for s in self.ike.with_address(remote) if s.peer.id == peer.id]
        est = [s for s in found if s.established]
        if est:
            return max(est, key=lambda s: s.established_at or 0.0)
        return None if established_only or not found else found[0]

    def _ike_for_remote(self, child: ChildSa) -> IkeSa | None:
        est = [s for s in self.ike.with_address(child.remote) if s.established]
        return max(est, key=lambda s: s.established_at or 0.0, default=None)

    def _child_by_spi(self, spi: int, proto: SaProtocol, dst: IPAddress) -> ChildSa | None:
        return self.children.by_spi(proto, spi, dst)

    def _negotiating(self, policy: Policy, remote: IPAddress) -> bool:
        """Whether a quick mode for ``policy`` is under way with the peer at ``remote``."""
        return any(
            q.policy is not None and q.policy.id == policy.id and not q.done
            for sa in self.ike.with_address(remote)
            for q in sa.quick.values()
        )

    def _start_quick_mode(
        self, sa: IkeSa, policy: Policy, now: float, rekey_of: ChildSa | None = None
    ) -> None:
        qm.start(self, sa, policy, now, rekey_of=rekey_of)

    def _cookie(self) -> bytes:
        while True:
            c = self.rng(8)
            if c != _ZERO_COOKIE and c not in self.ike and c not in self.half_open:
                return c

    def _new_mid(self, sa: IkeSa) -> int:
        while True:
            mid = int.from_bytes(self.rng(4), "big")
            if mid and mid not in sa.quick and mid not in sa.info_seen:
                return mid
