"""The Security Association Database (RFC 4301 §4.4.2) with RouterOS `installed-sa` semantics.

An SA is described by an immutable ``SaParams`` (what IKE or a manual SA negotiated) and lives
as a ``SecurityAssociation``: the params, the keyed cipher and MAC built once at install, the
replay window, the outbound sequence counter, the usage counters and the state.

Lookup:

- inbound by (SPI, protocol, destination address) (RFC 4301 §4.1);
- outbound for a policy: SAs bound to the policy's id (level=unique, manual SAs) first; else,
  unless the policy is unique, any SA with the policy's endpoints, protocol and mode whose
  selector covers the policy's traffic. Among the candidates the newest mature one wins, then
  the newest dying one; an SA whose sequence numbers ran out is never chosen. During a rekey
  the old and new SAs coexist: the newest is used for sending, every live one is accepted
  inbound.

Every SA may carry an ``SaSelector``, the traffic it was negotiated for; the packet engine
drops a decapsulated packet an SA does not ``admits`` (docs/security-dataplane.md).

Lifetimes (RouterOS add-lifetime, use-lifetime, lifebytes) are soft/hard pairs; 0 means none.
Time limits are checked by ``expire(now)`` (called by the I/O shell on a timer) and, cheaply,
per packet through a precomputed deadline; byte limits are checked when packets are counted
(``count()``). ``count()`` also records the first and the latest use; the processor counts an
inbound packet only after its ICV and replay checks passed, so an inbound SA's ``lastuse`` is
the last authenticated traffic from the peer (what dead peer detection needs). Soft expiry
moves a mature SA to ``dying`` and emits ``SaSoftExpired`` (IKE rekeys); hard expiry removes
the SA and emits ``SaHardExpired``.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

from pyipsec.crypto.base import EncryptionAlgorithm, EspCipher, IntegrityAlgorithm, IvKind, Mac
from pyipsec.dataplane.policy import (
    GENERATIONS,
    AddressKey,
    Direction,
    IPAddress,
    IPNetwork,
    Level,
    Mode,
    Policy,
    Selector,
    address_key,
)
from pyipsec.dataplane.replay import ReplayWindow
from pyipsec.fastinit import fast_init
from pyipsec.wire.ip import IpProtocol

DEFAULT_REPLAY_WINDOW = 128


class SaProtocol(enum.IntEnum):
    """IPsec protocol of an SA, by its IANA protocol number."""

    ESP = IpProtocol.ESP
    AH = IpProtocol.AH


class SaState(enum.Enum):
    """`installed-sa` state."""

    LARVAL = "larval"
    MATURE = "mature"
    DYING = "dying"
    DEAD = "dead"


class ExpiryReason(enum.Enum):
    TIME = "time"
    BYTES = "bytes"
    SEQUENCE = "sequence"  # outbound sequence numbers exhausted (RFC 4303 §3.3.3): soft only


@fast_init  # keyword construction ~50 ns less per field (pyipsec.fastinit)
@dataclass(frozen=True, slots=True, kw_only=True)
class Lifetime:
    """Soft/hard limits; 0 = unlimited. Seconds from add, seconds from first use, bytes."""

    soft_add: float = 0
    hard_add: float = 0
    soft_use: float = 0
    hard_use: float = 0
    soft_bytes: int = 0
    hard_bytes: int = 0


@fast_init  # keyword construction ~50 ns less per field (pyipsec.fastinit)
@dataclass(frozen=True, slots=True, kw_only=True)
class SaSelector:
    """The traffic an SA was negotiated for, in the SA's own direction (RFC 4301 §4.4.2, the
    SAD entry's selectors): ``src`` is where its packets come from. None = any."""

    src: IPNetwork
    dst: IPNetwork
    protocol: int | None = None
    src_port: int | None = None
    dst_port: int | None = None
    # A port range (IKEv2 traffic selectors, RFC 7296 §3.13.1): ``src_port``..``src_port_end``
    # when set; None with a port: that one port.
    src_port_end: int | None = None
    dst_port_end: int | None = None

    @classmethod
    def of_policy(cls, policy: Policy, direction: Direction) -> SaSelector:
        """The traffic of ``policy`` (written outbound) as an SA of ``direction`` carries it."""
        if direction is Direction.OUT:
            return cls(
                src=policy.src, dst=policy.dst, protocol=policy.protocol,
                src_port=policy.src_port, dst_port=policy.dst_port,
            )  # fmt: skip
        return cls(
            src=policy.dst, dst=policy.src, protocol=policy.protocol,
            src_port=policy.dst_port, dst_port=policy.src_port,
        )  # fmt: skip


@fast_init  # keyword construction ~50 ns less per field (pyipsec.fastinit)
@dataclass(frozen=True, slots=True, kw_only=True)
class SaParams:
    """Everything negotiated for one SA (one direction)."""

    spi: int
    protocol: SaProtocol
    direction: Direction
    src: IPAddress
    dst: IPAddress
    mode: Mode = Mode.TUNNEL
    encryption: EncryptionAlgorithm | None = None  # None for AH
    enc_key: bytes = field(default=b"", repr=False)  # key material incl. salt
    integrity: IntegrityAlgorithm | None = None  # None for AEAD ciphers
    auth_key: bytes = field(default=b"", repr=False)
    esn: bool = False
    replay_window: int = DEFAULT_REPLAY_WINDOW  # 0 = anti-replay off
    # ESP in UDP (RFC 3948): (source port, destination port) as on the wire in this SA's
    # direction: (local, peer) for outbound SAs, (peer, local) for inbound ones.
    udp_encap: tuple[int, int] | None = None
    lifetime: Lifetime = Lifetime()
    policy_id: int | None = None  # bound to one policy (level=unique, manual SA)
    initial_seq: int = 0  # last sequence number already used (tests of overflow)
    # What the SA may carry (docs/security-dataplane.md). Inbound: a decapsulated packet
    # outside it is dropped (in-state-mismatches); outbound: the SA serves only policies
    # inside it. None: no selector (a transport-mode SA is still bound to its endpoints).
    selector: SaSelector | None = None
    # The traffic agreed when it is not the policy's (IKEv2, RFC 7296 §2.9: the responder
    # narrowed, TS payloads may hold several selectors and the SA carries every TSi x TSr
    # combination): ``selector`` is then the first of them. The SA admits inbound and carries
    # outbound, checked per packet, only traffic inside one of them (RFC 4301 §5.1, §5.2).
    # Empty: ``selector`` alone (IKEv1, manual SAs, IKEv2 when the agreement is the policy).
    selectors: tuple[SaSelector, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class SaSoftExpired:
    spi: int
    protocol: SaProtocol
    dst: IPAddress
    reason: ExpiryReason


@dataclass(frozen=True, slots=True, kw_only=True)
class SaHardExpired:
    spi: int
    protocol: SaProtocol
    dst: IPAddress
    reason: ExpiryReason


SadEvent = SaSoftExpired | SaHardExpired


def check_algorithms(params: SaParams) -> None:
    """Raise ValueError unless ``params`` names algorithms an SA can run with (the SAD's
    checks; ``FakeBackend`` makes them too, so engine tests see what the SAD would refuse)."""
    enc = params.encryption
    integ = params.integrity
    if params.protocol is SaProtocol.ESP:
        if enc is None:
            raise ValueError("an ESP SA needs an encryption algorithm (null included)")
        if not enc.aead and integ is None:
            raise ValueError("a non-AEAD ESP SA needs an integrity algorithm (null included)")
        if enc.iv_kind is IvKind.NONE and not enc.aead and not (integ and integ.icv_size):
            # RFC 4303 §3.2: NULL encryption and NULL integrity MUST NOT both be selected.
            raise ValueError("ESP with null encryption needs a real integrity algorithm")
    elif integ is None or integ.icv_size == 0:
        raise ValueError("an AH SA needs a real integrity algorithm")


class SecurityAssociation:
    """One installed SA: params, keyed transforms, sequence state, counters, lifetime state."""

    __slots__ = (
        "_bind",
        "_hard_deadline",
        "_more",
        "_order",
        "_serves",
        "_soft_deadline",
        "addtime",
        "cipher",
        "current_bytes",
        "current_packets",
        "dst_packed",
        "lastuse",
        "mac",
        "params",
        "replay",
        "seq_exhausted",
        "seq_out",
        "src_packed",
        "state",
        "usetime",
    )

    def __init__(self, params: SaParams, now: float, order: int) -> None:
        self.params = params
        enc = params.encryption
        integ = params.integrity
        check_algorithms(params)
        self.cipher: EspCipher | None = enc.keyed(params.enc_key) if enc is not None else None
        self.mac: Mac | None = (
            integ.keyed(params.auth_key) if integ is not None and integ.icv_size else None
        )
        self.replay = ReplayWindow(params.replay_window, esn=params.esn)
        self.src_packed = params.src.packed  # for building outer headers without conversions
        self.dst_packed = params.dst.packed
        self.seq_out = params.initial_seq
        self.seq_exhausted = False
        self.state = SaState.MATURE
        self.addtime = now
        self.usetime: float | None = None  # first packet (use-lifetime counts from here)
        self.lastuse: float | None = None  # latest packet counted (liveness, RFC 3706 §5.3)
        self.current_bytes = 0
        self.current_packets = 0
        self._order = order
        self._bind = _binding(params, params.selector)
        # the further agreed selectors (SaParams.selectors), tried when ``_bind`` fails
        more = params.selectors[1:]
        self._more = (
            tuple(b for sel in more if (b := _binding(params, sel)) is not None) if more else ()
        )
        self._serves: tuple[Policy, bool] | None = None  # the last answer of ``serves``
        self._soft_deadline = math.inf
        self._hard_deadline = math.inf
        self._recompute_deadlines()

    @property
    def spi(self) -> int:
        return self.params.spi

    @property
    def protocol(self) -> SaProtocol:
        return self.params.protocol

    def admits(
        self,
        src: IPAddress,
        dst: IPAddress,
        protocol: int,
        src_port: int | None,
        dst_port: int | None,
    ) -> bool:
        """Whether a packet lies within what this SA was negotiated for (RFC 4301 §5.2 step 4
        for a packet it decapsulated; §5.1 for one an outbound SA of narrowed selectors is to
        carry): its selector(s) and, in transport mode, its endpoints."""
        bind = self._bind
        if bind is None:
            return True
        version, slo, shi, dlo, dhi, proto, sport, sport_end, dport, dport_end = bind
        if src.version == version and dst.version == version:  # the first selector, inline
            s, d = int(src), int(dst)
            if (
                slo <= s <= shi
                and dlo <= d <= dhi
                and (proto is None or proto == protocol)
                and (sport is None or (src_port is not None and sport <= src_port <= sport_end))
                and (dport is None or (dst_port is not None and dport <= dst_port <= dport_end))
            ):
                return True
        more = self._more
        return bool(more) and any(_matches(b, src, dst, protocol, src_port, dst_port) for b in more)

    def carries(self, policy: Policy, packet: Selector | None) -> bool:
        """Whether this outbound SA may carry ``packet``, which matched ``policy``: when the SA
        covers the whole policy (``serves``), or, for an SA of agreed selectors
        (``SaParams.selectors``), when the packet lies inside them. Without a packet, only
        ``serves``."""
        if self.serves(policy):
            return True
        if packet is None or not self.params.selectors:
            return False
        return self.admits(
            packet.src, packet.dst, packet.protocol, packet.src_port, packet.dst_port
        )

    def serves(self, policy: Policy) -> bool:
        """Whether this outbound SA may carry ``policy``'s traffic: its selector covers the
        policy's (an SA the peer negotiated for other traffic would be refused there)."""
        sel = self.params.selector
        if sel is None:
            return True
        cached = self._serves
        if cached is not None and cached[0] is policy:
            return cached[1]
        answer = (
            _covers(sel.src, policy.src)
            and _covers(sel.dst, policy.dst)
            and sel.protocol in (None, policy.protocol)
            and _covers_port(sel.src_port, sel.src_port_end, policy.src_port)
            and _covers_port(sel.dst_port, sel.dst_port_end, policy.dst_port)
        )
        self._serves = (policy, answer)
        return answer

    @property
    def hard_deadline(self) -> float:
        """The earliest time the SA hard-expires (inf if never)."""
        return self._hard_deadline

    def _recompute_deadlines(self) -> None:
        lt = self.params.lifetime
        soft = self.addtime + lt.soft_add if lt.soft_add else math.inf
        hard = self.addtime + lt.hard_add if lt.hard_add else math.inf
        if self.usetime is not None:
            if lt.soft_use:
                soft = min(soft, self.usetime + lt.soft_use)
            if lt.hard_use:
                hard = min(hard, self.usetime + lt.hard_use)
        self._soft_deadline = soft
        self._hard_deadline = hard


# (version, src range, dst range, protocol, src port range, dst port range); None = any
_Binding = tuple[int, int, int, int, int, int | None, int | None, int, int | None, int]


def _binding(params: SaParams, sel: SaSelector | None) -> _Binding | None:
    """``admits``'s precomputed form of one selector of ``params``.

    Transport mode: the packet's own header is the SA's outer header, so its addresses must be
    the SA's endpoints (the inbound lookup checks only the destination); they stand for the
    selector's addresses, which behind a NAT may name the peer's private address (RFC 3947
    §5.2), and the selector narrows protocol and ports. Tunnel mode: the selector, or anything.
    """
    proto = sport = dport = None
    sport_end = dport_end = 0
    if sel is not None:
        proto, sport, dport = sel.protocol, sel.src_port, sel.dst_port
        sport_end = sel.src_port_end if sel.src_port_end is not None else (sport or 0)
        dport_end = sel.dst_port_end if sel.dst_port_end is not None else (dport or 0)
    if params.mode is Mode.TRANSPORT:
        src, dst = int(params.src), int(params.dst)
        return (params.src.version, src, src, dst, dst, proto, sport, sport_end, dport, dport_end)
    if sel is None:
        return None
    s, d = sel.src, sel.dst
    if s.version != d.version:
        return (0, 1, 0, 1, 0, None, None, 0, None, 0)  # matches nothing
    # the last address from the prefix length: ``broadcast_address`` (a cached property,
    # computed afresh for each SA's new selector) built two address objects: 1 us an SA
    slo, dlo = int(s.network_address), int(d.network_address)
    return (
        s.version,
        slo,
        slo | ((1 << (s.max_prefixlen - s.prefixlen)) - 1),
        dlo,
        dlo | ((1 << (d.max_prefixlen - d.prefixlen)) - 1),
        proto,
        sport,
        sport_end,
        dport,
        dport_end,
    )


def _matches(
    bind: _Binding,
    src: IPAddress,
    dst: IPAddress,
    protocol: int,
    src_port: int | None,
    dst_port: int | None,
) -> bool:
    version, slo, shi, dlo, dhi, proto, sport, sport_end, dport, dport_end = bind
    if src.version != version or dst.version != version:
        return False
    s, d = int(src), int(dst)
    return (
        slo <= s <= shi
        and dlo <= d <= dhi
        and (proto is None or proto == protocol)
        and (sport is None or (src_port is not None and sport <= src_port <= sport_end))
        and (dport is None or (dst_port is not None and dport <= dst_port <= dport_end))
    )


def _covers_port(start: int | None, end: int | None, port: int | None) -> bool:
    """Whether a selector's port (range) covers a policy's port (None = any)."""
    if start is None:
        return True
    if port is None:
        return False
    return start <= port <= (start if end is None else end)


def _covers(outer: IPNetwork, inner: IPNetwork) -> bool:
    return outer.version == inner.version and inner.subnet_of(outer)  # type: ignore[arg-type]


class Sad:
    """The SAD: install, find, count and expire SAs; events drained with ``pop_events``."""

    def __init__(self) -> None:
        # Inbound: (SPI, protocol, packed destination) -> SA (RFC 4301 §4.1).
        self._inbound: dict[tuple[int, int, bytes], SecurityAssociation] = {}
        # Outbound: all, plus indexes by (protocol, destination) and by bound policy id.
        self._outbound: list[SecurityAssociation] = []
        # (protocol, ``address_key`` of the destination): hashed in C, per packet sent too
        self._by_peer: dict[tuple[int, AddressKey], list[SecurityAssociation]] = {}
        self._by_policy: dict[int, list[SecurityAssociation]] = {}
        self._events: list[SadEvent] = []
        self._order = 0
        # Changes whenever an SA is added or removed or changes state, i.e. whenever
        # ``find_outbound`` could answer differently: callers may cache its answer meanwhile.
        # Drawn from the process-wide sequence the SPD uses too (``policy.GENERATIONS``).
        self.generation = next(GENERATIONS)

    # -- install / remove -------------------------------------------------------------------

    def add(self, params: SaParams, now: float) -> SecurityAssociation:
        """Install an SA (mature at once); keyed transforms are built here, once."""
        self._order += 1
        self.generation = next(GENERATIONS)
        sa = SecurityAssociation(params, now, self._order)
        if params.direction is Direction.IN:
            key = (params.spi, int(params.protocol), sa.dst_packed)
            if key in self._inbound:
                raise ValueError("an inbound SA with this SPI, protocol and destination exists")
            self._inbound[key] = sa
        else:
            self._outbound.append(sa)
            if params.policy_id is not None:
                self._by_policy.setdefault(params.policy_id, []).append(sa)
            else:
                pkey = (int(params.protocol), address_key(params.dst))
                self._by_peer.setdefault(pkey, []).append(sa)
        return sa

    def remove(self, sa: SecurityAssociation) -> None:
        """Remove ``sa`` (no event); it becomes dead."""
        self.generation = next(GENERATIONS)
        sa.state = SaState.DEAD
        p = sa.params
        if p.direction is Direction.IN:
            self._inbound.pop((p.spi, int(p.protocol), p.dst.packed), None)
        elif sa in self._outbound:
            self._outbound.remove(sa)
            if p.policy_id is not None:
                index, key = self._by_policy, p.policy_id
                bucket = index[key]
                bucket.remove(sa)
                if not bucket:
                    del index[key]
            else:
                peers, pkey = self._by_peer, (int(p.protocol), address_key(p.dst))
                pbucket = peers[pkey]
                pbucket.remove(sa)
                if not pbucket:
                    del peers[pkey]

    def get(self, spi: int, protocol: SaProtocol, dst: IPAddress) -> SecurityAssociation | None:
        """The SA (either direction, inbound first) with this SPI, protocol and destination."""
        sa = self._inbound.get((spi, int(protocol), dst.packed))
        if sa is not None:
            return sa
        for sa in self._outbound:
            p = sa.params
            if p.spi == spi and p.protocol is protocol and p.dst == dst:
                return sa
        return None

    def delete(self, spi: int, protocol: SaProtocol, dst: IPAddress) -> bool:
        """Remove the SA (either direction) with this SPI, protocol and destination."""
        sa = self.get(spi, protocol, dst)
        if sa is not None:
            self.remove(sa)
        return sa is not None

    def flush(self, protocol: SaProtocol | None = None) -> int:
        """Remove all SAs (of one protocol): `installed-sa flush sa-type=`."""
        victims = [sa for sa in self if protocol is None or sa.protocol is protocol]
        for sa in victims:
            self.remove(sa)
        return len(victims)

    def __iter__(self) -> Iterator[SecurityAssociation]:
        yield from list(self._inbound.values())
        yield from list(self._outbound)

    def __len__(self) -> int:
        return len(self._inbound) + len(self._outbound)

    # -- lookup -----------------------------------------------------------------------------

    def lookup_inbound(
        self, spi: int, protocol: int, dst: IPAddress | bytes
    ) -> SecurityAssociation | None:
        """The inbound SA for (SPI, protocol, destination) (RFC 4301 §4.1).

        ``dst`` may be given packed (4 or 16 bytes), as the packet engine does.
        """
        raw = dst if isinstance(dst, bytes) else dst.packed
        return self._inbound.get((spi, protocol, raw))

    def find_outbound(
        self,
        policy: Policy,
        protocol: SaProtocol,
        src: IPAddress | None,
        dst: IPAddress,
        packet: Selector | None = None,
    ) -> SecurityAssociation | None:
        """The SA to send with for ``policy`` (newest mature, else newest dying).

        ``src``/``dst`` are the SA endpoints the policy asks for (``src`` None = any);
        ``packet`` the packet's selector: an SA of agreed selectors narrower than the policy
        (``SaParams.selectors``) carries only packets inside them.
        """
        bound: SecurityAssociation | None = None
        for sa in self._by_policy.get(policy.id, ()):
            if (
                sa.params.protocol is protocol
                and _better(sa, bound)
                and (not sa.params.selectors or sa.carries(policy, packet))
            ):
                bound = sa
        if bound is not None:
            return bound
        if policy.level is Level.UNIQUE or policy.manual_sa is not None:
            return None
        shared: SecurityAssociation | None = None
        mode = policy.mode
        for sa in self._by_peer.get((int(protocol), address_key(dst)), ()):
            p = sa.params
            if (
                (src is None or p.src == src)
                and p.mode is mode
                and _better(sa, shared)
                and sa.carries(policy, packet)
            ):
                shared = sa
        return shared

    # -- usage, lifetimes -------------------------------------------------------------------

    def count(self, sa: SecurityAssociation, nbytes: int, now: float) -> bool:
        """Account one packet of ``nbytes``; False if that hard-expired the SA (now removed)."""
        sa.current_bytes += nbytes
        sa.current_packets += 1
        sa.lastuse = now
        if sa.usetime is None:
            sa.usetime = now
            lt = sa.params.lifetime
            if lt.soft_use or lt.hard_use:
                sa._recompute_deadlines()
        lt = sa.params.lifetime
        if lt.hard_bytes and sa.current_bytes >= lt.hard_bytes:
            self._hard(sa, ExpiryReason.BYTES)
            return False
        if lt.soft_bytes and sa.current_bytes >= lt.soft_bytes and sa.state is SaState.MATURE:
            self._soft(sa, ExpiryReason.BYTES)
        return True

    def check_time(self, sa: SecurityAssociation, now: float) -> bool:
        """Per-packet lifetime check: False (and the SA removed) if it is past hard expiry."""
        if now >= sa._hard_deadline:
            self._hard(sa, ExpiryReason.TIME)
            return False
        if now >= sa._soft_deadline and sa.state is SaState.MATURE:
            self._soft(sa, ExpiryReason.TIME)
        return True

    def expire(self, now: float) -> list[SadEvent]:
        """Apply time lifetimes at ``now``; returns (and queues) the events this produced."""
        before = len(self._events)
        for sa in list(self):
            self.check_time(sa, now)
        return self._events[before:]

    def next_deadline(self) -> float:
        """The earliest time ``expire`` has work to do (inf if none): the shell's timer."""
        best = math.inf
        for sa in self:
            if sa.state is SaState.MATURE:
                best = min(best, sa._soft_deadline)
            best = min(best, sa._hard_deadline)
        return best

    def pop_events(self) -> list[SadEvent]:
        events, self._events = self._events, []
        return events

    def sequence_exhausted(self, sa: SecurityAssociation) -> None:
        """``sa`` (outbound) has used its last sequence number (RFC 4303 §3.3.3): it is
        sent with no more (``find_outbound`` skips it) and, once, a soft expiry asks IKE for
        a replacement; its hard lifetime still removes it."""
        if sa.seq_exhausted:
            return
        sa.seq_exhausted = True
        self.generation = next(GENERATIONS)
        if sa.state is SaState.MATURE:
            sa.state = SaState.DYING
        p = sa.params
        self._events.append(
            SaSoftExpired(spi=p.spi, protocol=p.protocol, dst=p.dst, reason=ExpiryReason.SEQUENCE)
        )

    def move_peer_port(self, peer: IPAddress, old_port: int, new_port: int) -> int:
        """The peer's NAT now maps its ESP-in-UDP to ``new_port`` (RFC 3948 §5, RFC 7296
        §2.23): every SA with that peer on ``old_port`` follows (inbound SAs expect packets
        from the new port, outbound ones send there). Returns how many SAs moved."""
        moved = 0
        for sa in self:
            p = sa.params
            ports = p.udp_encap
            if ports is None:
                continue
            if p.direction is Direction.IN and p.src == peer and ports[0] == old_port:
                sa.params = replace(p, udp_encap=(new_port, ports[1]))
            elif p.direction is Direction.OUT and p.dst == peer and ports[1] == old_port:
                sa.params = replace(p, udp_encap=(ports[0], new_port))
            else:
                continue
            moved += 1
        if moved:
            self.generation = next(GENERATIONS)
        return moved

    def _soft(self, sa: SecurityAssociation, reason: ExpiryReason) -> None:
        self.generation = next(GENERATIONS)
        sa.state = SaState.DYING
        p = sa.params
        self._events.append(SaSoftExpired(spi=p.spi, protocol=p.protocol, dst=p.dst, reason=reason))

    def _hard(self, sa: SecurityAssociation, reason: ExpiryReason) -> None:
        self.remove(sa)
        p = sa.params
        self._events.append(SaHardExpired(spi=p.spi, protocol=p.protocol, dst=p.dst, reason=reason))


_STATE_RANK = {SaState.MATURE: 2, SaState.DYING: 1}


def _better(sa: SecurityAssociation, best: SecurityAssociation | None) -> bool:
    rank = _STATE_RANK.get(sa.state, 0)
    if rank == 0 or sa.seq_exhausted:
        return False
    if best is None:
        return True
    best_rank = _STATE_RANK[best.state]
    return rank > best_rank or (rank == best_rank and sa._order > best._order)
