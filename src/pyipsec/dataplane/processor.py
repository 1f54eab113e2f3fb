"""The sans-IO ESP/AH packet engine: SPD + SAD + transforms + counters, one packet at a time.

Theory of operation
-------------------

``outbound(packet, now)`` takes a cleartext IP packet leaving the gateway (RFC 4301 §5.1):

1. parse it and build its selector; look up the SPD (Direction.OUT);
2. no policy or action=none: pass in clear; discard: drop (out-policy-blocked);
3. encrypt: find the SA(s) (ESP and/or AH, RFC 4301 §4.5 bundle); if missing, level=use passes
   in clear, require/unique drop (out-no-states) and emit ``AcquireRequested`` at most once a
   second per policy;
4. apply ESP (tunnel: over the whole packet under a new outer header; transport: after the IP
   header chain), then AH over the result, outermost, in transport position (a bundle has one
   outer header); optionally wrap ESP in UDP (RFC 3948).

``inbound(packet, now, udp_encap=None)`` takes an IP packet carrying ESP or AH (RFC 4301 §5.2):

- ``packet`` is always a whole IP packet. ESP-in-UDP is accepted in two shapes: as received from
  a raw socket (IP/UDP/ESP, protocol 17: the UDP header is parsed and stripped here), or, from a
  UDP socket, as an IP header with protocol 50 followed by the ESP bytes, with
  ``udp_encap=(src_port, dst_port)`` (``wire.udpencap.decapsulate`` builds that shape);
- AH is removed first (if present), then ESP: SA lookup by (SPI, protocol, dst), replay check,
  ICV/AEAD verification and decryption, replay-window update, padding check; an authenticated
  ESP-in-UDP packet from a new source port moves the peer's SAs there (``_peer_moved``);
- the inner packet must lie within the selectors (and, in transport mode, the endpoints) of
  every SA that processed it (``SecurityAssociation.admits``, in-state-mismatches), then it
  is checked against the SPD inbound (``_policy_check``) and returned.

``inbound_clear(packet, now)`` checks a packet that arrived without IPsec, so traffic covered
by an encrypt policy of level require/unique cannot sneak in in clear.

Where the code is: the outbound path in ``outbound.py`` (``OutboundPath``, a mixin of
``Processor``), the per-flow records of the fast paths in ``flows.py``, the inbound path and
the SPD check of decapsulated packets here.

The engine never raises on packet input: every failure is a ``PacketDropped`` turned into a
counted drop with a short reason (see docs/dataplane-counters.md). Events (acquires, SA expiry
-- sequence exhaustion is a soft expiry --, NAT mapping changes) are drained with
``pop_events()``.
"""

from __future__ import annotations

from typing import Protocol

from pyipsec.crypto.base import Rng
from pyipsec.dataplane.flows import (
    FLOW_CACHE_MAX,
    Flow,
    flow_key,
    raw_dst,
    raw_src,
    selector_of,
)
from pyipsec.dataplane.outbound import OutboundPath
from pyipsec.dataplane.policy import Action, Direction, IPAddress, Level, Mode, Policy, Selector
from pyipsec.dataplane.results import (
    AcquireRequested,
    InboundResult,
    NatMappingChanged,
    OutboundResult,
    ProcessorEvent,
    UnknownSpiReceived,
    Verdict,
)
from pyipsec.dataplane.sad import (
    Sad,
    SaProtocol,
    SaState,
    SecurityAssociation,
)
from pyipsec.dataplane.stats import Statistics, XfrmStat
from pyipsec.dataplane.transforms import (
    PacketDropped,
    ah_unprotect,
    esp_icv_size,
    esp_unprotect,
)
from pyipsec.dataplane.unknown_spi import UnknownSpiReporter
from pyipsec.wire.ah import MalformedAh, ah_length, pull_ah_header
from pyipsec.wire.esp import ESP_HEADER
from pyipsec.wire.ip import (
    ECN_CE,
    IpPacket,
    IpProtocol,
    MalformedPacket,
    ecn,
    fix_transport_checksum,
    ipv4_header,
    ipv6_header,
    parse_ip,
    rewrite_header,
    with_ecn_ce,
)
from pyipsec.wire.udpencap import UdpPayloadKind, decapsulate

MOVE_INTERVAL = 1.0  # seconds between two NAT-mapping moves of one peer (_peer_moved)


__all__ = [
    "AcquireRequested",
    "InboundResult",
    "NatMappingChanged",
    "OutboundResult",
    "Processor",
    "ProcessorEvent",
    "SpdLookup",
    "UnknownSpiReceived",
    "Verdict",
]


class SpdLookup(Protocol):
    """What the processor needs of the SPD (``pyipsec.dataplane.spd.Spd``)."""

    generation: int  # changes with every change of the SPD (``policy.GENERATIONS``)

    def lookup(self, direction: Direction, selector: Selector) -> Policy | None: ...


class Processor(OutboundPath):
    """The packet engine. ``rng(n)`` supplies CBC IVs; it is drawn in 4 KiB chunks."""

    def __init__(
        self, spd: SpdLookup, sad: Sad, stats: Statistics, rng: Rng, *, fast_path: bool = True
    ) -> None:
        self.spd = spd
        self.fast_path = fast_path  # per-flow caches for ESP tunnel mode (False: always slow)
        # Set by a data plane that sends ESP-in-UDP on a UDP socket: PROTECTED results of
        # UDP-encapsulated SAs then carry only the ESP bytes (``payload_offset`` 0), and the
        # outer IP and UDP headers, which the kernel writes, are not built.
        self.udp_payload_only = False
        self.sad = sad
        self.stats = stats
        self._rng = rng
        self._rbuf = b""
        self._rpos = 0
        self._events: list[ProcessorEvent] = []
        self._last_acquire: dict[int, float] = {}
        self._last_move: dict[IPAddress, float] = {}
        self._ip_id = int.from_bytes(rng(2), "big")
        self._endpoint_cache: dict[int, tuple[Policy, IPAddress | None, IPAddress | None]] = {}
        # Fast path (see _fast_outbound / _fast_inbound): flow key -> Flow.
        self._out_flows: dict[bytes, Flow] = {}
        self._in_flows: dict[bytes, Flow] = {}
        self._unknown_spis = UnknownSpiReporter()

    # -- public -----------------------------------------------------------------------------

    def pop_events(self) -> list[ProcessorEvent]:
        """Events since the last call (the SAD's expiry events included), oldest first."""
        events: list[ProcessorEvent] = [*self._events, *self.sad.pop_events()]
        self._events = []
        return events

    def _emit(self, event: ProcessorEvent) -> None:
        self._events.extend(self.sad.pop_events())  # keep the SAD's earlier events in order
        self._events.append(event)

    def _unknown_spi(self, header: bytes, payload: bytes | None, now: float) -> None:
        """An SPI without SA: a rate-limited event for IKE (INVALID-SPI)."""
        event = self._unknown_spis.report(header, payload, now)
        if event is None:
            return
        if self.sad.lookup_inbound(event.spi, event.protocol, event.dst) is None:
            self._emit(event)  # (else an outer AH SA exists: the inner ESP SPI was unknown)

    def outbound(self, packet: bytes, now: float) -> OutboundResult:
        """Process a cleartext packet leaving the gateway (RFC 4301 §5.1)."""
        try:
            packet = bytes(packet)
            if self._out_flows:
                result = self._fast_outbound(packet, now)
                if result is not None:
                    return result
            return self._outbound(packet, now)
        except PacketDropped as drop:
            self.stats.counts[drop.stat] += 1
            return OutboundResult(verdict=Verdict.DROPPED, reason=drop.reason)
        except Exception:  # a bug must not become a crash on remote input; counted, visible
            self.stats.counts[XfrmStat.OUT_ERRORS] += 1
            return OutboundResult(verdict=Verdict.DROPPED, reason="internal error")

    def inbound(
        self, packet: bytes, now: float, udp_encap: tuple[int, int] | None = None
    ) -> InboundResult:
        """Process an IP packet carrying ESP or AH (RFC 4301 §5.2); see the module docstring."""
        try:
            packet = bytes(packet)
            if self.fast_path and len(packet) >= 28 and packet[0] == 0x45 and packet[9] == 50:
                result = self._fast_inbound(packet, now, udp_encap)
                if result is not None:
                    return result
            return self._inbound(packet, now, udp_encap)
        except PacketDropped as drop:
            self.stats.counts[drop.stat] += 1
            if drop.stat is XfrmStat.IN_NO_STATES:
                self._unknown_spi(packet, None, now)
            return InboundResult(verdict=Verdict.DROPPED, reason=drop.reason)
        except Exception:
            self.stats.counts[XfrmStat.IN_ERRORS] += 1
            return InboundResult(verdict=Verdict.DROPPED, reason="internal error")

    def inbound_udp(
        self, header: bytes, esp: bytes, now: float, udp_encap: tuple[int, int]
    ) -> InboundResult:
        """ESP-in-UDP as a UDP socket hands it over: ``esp`` is the datagram, ``header`` an IP
        header with the outer addresses (its length and checksum fields are not used).

        The same as ``inbound(header-with-length + esp, now, udp_encap)``, without building
        the whole outer packet when the fast path can take it.
        """
        try:
            if self.fast_path and len(header) == 20 and len(esp) >= 8:
                return self._fast_esp(header, esp, now, udp_encap)
            if header[0] >> 4 == 4:
                hdr = ipv4_header(header[12:16], header[16:20], IpProtocol.ESP, len(esp))
            else:
                hdr = ipv6_header(header[8:24], header[24:40], IpProtocol.ESP, len(esp))
            return self._inbound(hdr + esp, now, udp_encap)
        except PacketDropped as drop:
            self.stats.counts[drop.stat] += 1
            if drop.stat is XfrmStat.IN_NO_STATES:
                self._unknown_spi(header, esp, now)
            return InboundResult(verdict=Verdict.DROPPED, reason=drop.reason)
        except Exception:
            self.stats.counts[XfrmStat.IN_ERRORS] += 1
            return InboundResult(verdict=Verdict.DROPPED, reason="internal error")

    def inbound_clear(self, packet: bytes, now: float) -> InboundResult:
        """Check a packet that arrived without IPsec against the SPD (RFC 4301 §5.2 step 3a)."""
        try:
            return self._inbound_clear(bytes(packet))
        except Exception:
            self.stats.counts[XfrmStat.IN_ERRORS] += 1
            return InboundResult(verdict=Verdict.DROPPED, reason="internal error")

    def _inbound_clear(self, packet: bytes) -> InboundResult:
        try:
            info = parse_ip(packet)
        except MalformedPacket:
            self.stats.counts[XfrmStat.IN_HEADER_ERRORS] += 1
            return InboundResult(verdict=Verdict.DROPPED, reason="malformed packet")
        policy = self.spd.lookup(Direction.IN, selector_of(info))
        if policy is None or policy.action is Action.NONE:
            return InboundResult(verdict=Verdict.DELIVER, packet=packet)
        if policy.action is Action.DISCARD:
            self.stats.counts[XfrmStat.IN_POLICY_BLOCKED] += 1
            return InboundResult(
                verdict=Verdict.DROPPED, reason="policy discards", policy_id=policy.id
            )
        if policy.level is Level.USE:
            return InboundResult(verdict=Verdict.DELIVER, packet=packet, policy_id=policy.id)
        self.stats.counts[XfrmStat.IN_TEMPLATE_MISMATCHES] += 1
        return InboundResult(
            verdict=Verdict.DROPPED, reason="cleartext for an encrypt policy", policy_id=policy.id
        )

    def inner_mtu(self, packet: bytes, outer_mtu: int) -> int | None:
        """The largest packet of ``packet``'s flow that still fits in ``outer_mtu`` bytes once
        protected by the SAs that would protect it now; None if it would not be protected.

        A pure lookup: nothing is counted or consumed (no sequence number, no acquire). The
        data plane asks when a protected packet came out too big, to put the answer in the
        ICMP "fragmentation needed" / "packet too big" it returns (RFC 4301 §8.2.1).
        """
        try:
            info = parse_ip(packet)
        except MalformedPacket:
            return None
        selector = selector_of(info)
        policy = self.spd.lookup(Direction.OUT, selector)
        if policy is None or policy.action is not Action.ENCRYPT:
            return None
        sa_src, sa_dst = self._endpoints(policy)
        if not policy.tunnel:
            sa_src, sa_dst = sa_src or info.src, sa_dst or info.dst
        if sa_dst is None:
            return None
        sad = self.sad
        esp_sa = (
            sad.find_outbound(policy, SaProtocol.ESP, sa_src, sa_dst, selector)
            if policy.esp
            else None
        )
        ah_sa = (
            sad.find_outbound(policy, SaProtocol.AH, sa_src, sa_dst, selector)
            if policy.ah
            else None
        )
        if (policy.esp and esp_sa is None) or (policy.ah and ah_sa is None):
            return None
        first = esp_sa or ah_sa
        assert first is not None
        version: int
        if policy.tunnel:
            version = first.params.src.version
            kept = 0  # the whole inner packet is the ESP/AH payload
            room = outer_mtu - (20 if version == 4 else 40)
        else:
            version = info.version
            kept = info.insert_at  # the header chain stays in front
            room = outer_mtu - kept
        if ah_sa is not None and ah_sa.mac is not None:
            room -= ah_length(ah_sa.mac.icv_size, version)
        if esp_sa is not None:
            enc = esp_sa.params.encryption
            assert enc is not None
            if esp_sa.params.udp_encap is not None:
                room -= 8
            room -= 8 + enc.iv_size + esp_icv_size(esp_sa)
            align = max(enc.block_size, 4)
            room = room // align * align - 2  # RFC 4303 §2.4: pad, pad length, next header
        return max(room + kept, 0)

    # -- inbound ----------------------------------------------------------------------------

    def _inbound_sa(
        self, spi: int, proto: SaProtocol, dst: bytes, now: float
    ) -> SecurityAssociation:
        sa = self.sad.lookup_inbound(spi, proto, dst)
        if sa is None:
            raise PacketDropped(XfrmStat.IN_NO_STATES, "no SA for SPI")
        if sa.state is SaState.LARVAL or sa.state is SaState.DEAD:
            raise PacketDropped(XfrmStat.IN_STATE_INVALID, "SA not valid")
        if not self.sad.check_time(sa, now):
            raise PacketDropped(XfrmStat.IN_STATE_EXPIRED, "SA expired")
        return sa

    def _inbound(
        self, packet: bytes, now: float, udp_encap: tuple[int, int] | None
    ) -> InboundResult:
        hdr_err = XfrmStat.IN_HEADER_ERRORS
        try:
            info = parse_ip(packet)
            if info.fragment:
                raise PacketDropped(hdr_err, "fragment (reassemble first)")
            if len(packet) > info.total_len:
                packet = packet[: info.total_len]
            if info.protocol == IpProtocol.UDP and udp_encap is None:
                packet, udp_encap, kind = decapsulate(packet)
                if kind is not UdpPayloadKind.ESP:
                    raise PacketDropped(hdr_err, "UDP payload is not ESP")
                info = parse_ip(packet)
        except MalformedPacket:
            raise PacketDropped(hdr_err, "malformed packet") from None
        if udp_encap is not None and info.protocol != IpProtocol.ESP:
            raise PacketDropped(hdr_err, "UDP-encapsulated packet is not ESP")

        used: list[SecurityAssociation] = []
        sad = self.sad
        version = info.version
        if info.protocol == IpProtocol.AH:
            try:
                ah = pull_ah_header(packet, info.header_len)
            except MalformedAh:
                raise PacketDropped(hdr_err, "AH header malformed") from None
            sa = self._inbound_sa(ah.spi, SaProtocol.AH, raw_dst(packet, version), now)
            seq = sa.replay.check(ah.seq)
            if seq is None:
                raise PacketDropped(XfrmStat.IN_STATE_SEQUENCE_ERRORS, "replayed or outside window")
            packet, nh = ah_unprotect(sa, packet, version, info.header_len, info.proto_offset, seq)
            sa.replay.update(seq)
            sad.count(sa, len(packet), now)
            used.append(sa)
            header = packet[: info.header_len]
            proto_offset = info.proto_offset
            payload = packet[info.header_len :]
            if nh == IpProtocol.ESP:
                try:
                    info = parse_ip(packet)
                except MalformedPacket:
                    raise PacketDropped(hdr_err, "malformed packet after AH") from None
        if info.protocol == IpProtocol.ESP:
            off = info.header_len
            if len(packet) < off + 8:
                raise PacketDropped(hdr_err, "ESP header truncated")
            spi, seq_low = ESP_HEADER.unpack_from(packet, off)
            sa = self._inbound_sa(spi, SaProtocol.ESP, raw_dst(packet, version), now)
            self._check_encap(sa, udp_encap)
            seq = sa.replay.check(seq_low)
            if seq is None:
                raise PacketDropped(XfrmStat.IN_STATE_SEQUENCE_ERRORS, "replayed or outside window")
            payload, nh = esp_unprotect(sa, packet[off:], seq)
            sa.replay.update(seq)
            if udp_encap is not None and udp_encap != sa.params.udp_encap:
                self._peer_moved(sa, udp_encap, seq, now, raw_src(packet, version))
            sad.count(sa, len(payload), now)
            used.append(sa)
            header = packet[:off]
            proto_offset = info.proto_offset
            if nh == IpProtocol.IPV6_NONXT:
                return InboundResult(verdict=Verdict.DUMMY, reason="TFC dummy packet")
        elif not used:
            raise PacketDropped(hdr_err, "neither ESP nor AH")

        return self._decapsulated(header, payload, nh, used, version, proto_offset, udp_encap)

    def _fast_inbound(
        self, packet: bytes, now: float, udp_encap: tuple[int, int] | None
    ) -> InboundResult | None:
        """ESP in a plain, whole IPv4 packet: ``_inbound`` without re-parsing, or None.

        Takes only packets ``_inbound`` would parse the same way (no options, not a fragment,
        exact length) and then makes the same checks in the same order, so drops and counters
        are identical; the inner packet goes through ``_decapsulated`` as there.
        """
        if packet[6] & 0x3F or packet[7] or len(packet) != (packet[2] << 8) | packet[3]:
            return None
        return self._fast_esp(packet[:20], packet[20:], now, udp_encap)

    def _fast_esp(
        self, header: bytes, esp: bytes, now: float, udp_encap: tuple[int, int] | None
    ) -> InboundResult:
        """The ESP part of ``_fast_inbound``: ``header`` is the plain 20-byte outer IPv4
        header (only its addresses and ECN bits are read), ``esp`` the ESP bytes."""
        spi, seq_low = ESP_HEADER.unpack_from(esp)
        sa = self._inbound_sa(spi, SaProtocol.ESP, header[16:20], now)
        self._check_encap(sa, udp_encap)
        seq = sa.replay.check(seq_low)
        if seq is None:
            raise PacketDropped(XfrmStat.IN_STATE_SEQUENCE_ERRORS, "replayed or outside window")
        payload, nh = esp_unprotect(sa, esp, seq)
        sa.replay.update(seq)
        if udp_encap is not None and udp_encap != sa.params.udp_encap:
            self._peer_moved(sa, udp_encap, seq, now, header[12:16])
        self.sad.count(sa, len(payload), now)
        if nh == IpProtocol.IPV6_NONXT:
            return InboundResult(verdict=Verdict.DUMMY, reason="TFC dummy packet")
        return self._decapsulated(header, payload, nh, [sa], 4, 9, udp_encap)

    def _decapsulated(
        self,
        header: bytes,
        payload: bytes,
        nh: int,
        used: list[SecurityAssociation],
        version: int,
        proto_offset: int,
        udp_encap: tuple[int, int] | None,
    ) -> InboundResult:
        """The inner packet after the last IPsec header is removed: rebuild, then check it
        against the SPD (RFC 4301 §5.2 steps 3-4)."""
        hdr_err = XfrmStat.IN_HEADER_ERRORS
        mode = used[-1].params.mode
        if mode is Mode.TUNNEL:
            # RFC 4301 §5.2 step 3: the inner packet must be IP of the announced version.
            if nh not in (IpProtocol.IPV4, IpProtocol.IPV6):
                raise PacketDropped(XfrmStat.IN_STATE_MODE_ERRORS, "tunnel SA without inner IP")
            inner = payload
            if self.fast_path and len(used) == 1 and nh == IpProtocol.IPV4:
                fast = self._fast_tunnel_check(header, inner, used[0])
                if fast is not None:
                    return fast
            try:
                inner_info = parse_ip(inner)
            except MalformedPacket:
                raise PacketDropped(hdr_err, "malformed inner packet") from None
            if inner_info.version != (4 if nh == IpProtocol.IPV4 else 6):
                raise PacketDropped(hdr_err, "inner IP version mismatch")
            if len(inner) > inner_info.total_len:
                inner = inner[: inner_info.total_len]
            # RFC 6040 §4.2 (as Linux does): congestion marked on the outer header is carried
            # over to an ECN-capable inner packet.
            if ecn(header) == ECN_CE and ecn(inner) in (1, 2):
                inner = with_ecn_ce(inner)
        else:
            inner = (
                rewrite_header(header, version, proto_offset, nh, len(header) + len(payload))
                + payload
            )
            try:
                inner_info = parse_ip(inner)
            except MalformedPacket:
                raise PacketDropped(hdr_err, "malformed decrypted packet") from None
            if udp_encap is not None:
                # RFC 3948 §3.1.2: the TCP/UDP checksum covers addresses a NAT rewrote; the ESP
                # ICV has authenticated the payload, so the checksum is recomputed.
                inner = fix_transport_checksum(inner, inner_info)
        # RFC 4301 §5.2 step 4: the packet must be one the SAs were negotiated for. Flows
        # confirmed below skip this on their next packets (the answer depends only on the
        # flow key and the SA, see _fast_tunnel_check).
        for sa in used:
            if not sa.admits(
                inner_info.src,
                inner_info.dst,
                inner_info.protocol,
                inner_info.src_port,
                inner_info.dst_port,
            ):
                raise PacketDropped(
                    XfrmStat.IN_STATE_MISMATCHES, "packet outside the SA's selectors"
                )
        if mode is Mode.TUNNEL and len(used) == 1 and self.fast_path:
            # Fast path for the next packets of this flow (see _fast_tunnel_check).
            policy_id = self._policy_check(inner_info, used, mode)
            key = flow_key(inner)
            if key is not None:
                selector = selector_of(inner_info)
                policy = self.spd.lookup(Direction.IN, selector)
                if policy is not None and policy.id == policy_id:
                    if len(self._in_flows) >= FLOW_CACHE_MAX:
                        self._in_flows.clear()
                    flow = self._in_flows[key] = Flow(selector, policy, used[0])
                    flow.spd_gen = self.spd.generation
        else:
            policy_id = self._policy_check(inner_info, used, mode)
        return InboundResult(
            verdict=Verdict.DELIVER,
            packet=inner,
            spis=(used[0].params.spi,) if len(used) == 1 else tuple(sa.params.spi for sa in used),
            policy_id=policy_id,
        )

    def _fast_tunnel_check(
        self, header: bytes, inner: bytes, sa: SecurityAssociation
    ) -> InboundResult | None:
        """Deliver the inner IPv4 packet of a known flow, or None (full parse and check).

        ``_policy_check`` depends only on the policy found and the SA used, and the SA's own
        selector check (``SecurityAssociation.admits``) only on the flow key and the SA: when
        the SPD still returns the very policy it accepted for this flow with this SA, both
        answers are the same.
        """
        key = flow_key(inner)
        if key is None or len(inner) != (inner[2] << 8) | inner[3]:
            return None
        flow = self._in_flows.get(key)
        if flow is None or flow.sa is not sa:
            return None
        policy = flow.policy
        spd = self.spd
        if flow.spd_gen != spd.generation:
            if spd.lookup(Direction.IN, flow.selector) is not policy:
                return None
            flow.spd_gen = spd.generation
        if ecn(header) == ECN_CE and inner[1] & 3 in (1, 2):
            inner = with_ecn_ce(inner)  # RFC 6040 §4.2, as in the slow path
        return InboundResult(Verdict.DELIVER, inner, "", (sa.params.spi,), policy.id)

    def _check_encap(self, sa: SecurityAssociation, udp_encap: tuple[int, int] | None) -> None:
        """Encapsulated and plain ESP are not interchangeable. Other ports than the SA's are
        looked at only once the packet is authenticated (``_peer_moved``)."""
        if (sa.params.udp_encap is None) != (udp_encap is None):
            raise PacketDropped(XfrmStat.IN_STATE_MISMATCHES, "UDP encapsulation mismatch")

    def _peer_moved(
        self, sa: SecurityAssociation, ports: tuple[int, int], seq: int, now: float, src: bytes
    ) -> None:
        """An authenticated, new (ICV and replay checks passed) ESP-in-UDP packet came from
        another source port than the SA's: the peer's NAT has a new mapping (RFC 3948 §5,
        RFC 7296 §2.23). Only the newest packet so far moves things (a delayed one from the
        old mapping must not move them back), and only with anti-replay on (without it a
        recorded packet re-sent from any port would redirect our traffic). All the peer's
        SAs on that port follow; ``NatMappingChanged`` tells IKE to follow too. A packet to
        another of our ports, or from another address, is delivered and moves nothing.

        Moving visits every SA, so one peer moves at most once a second (MOVE_INTERVAL): an
        authenticated peer flipping ports on every packet costs no more than that, and a
        packet that came too soon is still delivered; the next one moves.
        """
        old = sa.params.udp_encap
        if old is None or ports[1] != old[1] or not sa.replay.size or sa.replay.top != seq:
            return
        if src != sa.src_packed:
            return  # another address: IKEv1 cannot move an SA there (no MOBIKE)
        peer = sa.params.src
        last = self._last_move.get(peer)
        if last is not None and 0 <= now - last < MOVE_INTERVAL:
            return
        if len(self._last_move) >= FLOW_CACHE_MAX:
            self._last_move.clear()
        self._last_move[peer] = now
        moved = self.sad.move_peer_port(peer, old[0], ports[0])
        self._emit(
            NatMappingChanged(
                spi=sa.params.spi,
                dst=sa.params.dst,
                peer=peer,
                old_ports=old,
                new_ports=ports,
                moved=moved,
            )
        )

    def _policy_check(
        self, info: IpPacket, used: list[SecurityAssociation], mode: Mode
    ) -> int | None:
        """RFC 4301 §5.2 step 4 with Linux xfrm's accounting (docs/dataplane-counters.md).

        No policy: a transport-mode packet is delivered (the SA vouches for its endpoints), a
        tunnel-mode one is dropped (in-no-policies). Discard: in-policy-blocked. Bypass policy
        reached through a tunnel, or an encrypt policy whose protocols, mode or SA endpoints
        differ from the SAs used: in-template-mismatches (level=use accepts anything).
        """
        policy = self.spd.lookup(Direction.IN, selector_of(info))
        tunnel = mode is Mode.TUNNEL
        if policy is None:
            if tunnel:
                raise PacketDropped(XfrmStat.IN_NO_POLICIES, "no policy for decapsulated packet")
            return None
        if policy.action is Action.DISCARD:
            raise PacketDropped(XfrmStat.IN_POLICY_BLOCKED, "policy discards")
        if policy.action is Action.NONE:
            if tunnel:
                raise PacketDropped(XfrmStat.IN_TEMPLATE_MISMATCHES, "bypass policy, tunnel SA")
            return policy.id
        if policy.level is not Level.USE and not _templates_match(
            policy, used, mode, self._endpoints(policy)
        ):
            raise PacketDropped(XfrmStat.IN_TEMPLATE_MISMATCHES, "SA does not match the policy")
        return policy.id


def _templates_match(
    policy: Policy,
    used: list[SecurityAssociation],
    mode: Mode,
    endpoints: tuple[IPAddress | None, IPAddress | None],
) -> bool:
    """Whether the SAs that processed a packet satisfy the policy's templates (RFC 4301 §5.2).

    ``endpoints`` are the policy's (sa-src, sa-dst) with unspecified addresses as None.
    """
    if mode is not policy.mode or len(used) != policy.esp + policy.ah:
        return False
    check_peer = policy.tunnel
    want_dst, want_src = endpoints  # mirrored: an inbound SA runs from sa-dst to sa-src
    for sa in used:
        p = sa.params
        if p.protocol is SaProtocol.ESP:
            if not policy.esp:
                return False
        elif not policy.ah:
            return False
        if p.policy_id is not None and p.policy_id != policy.id:
            return False
        if check_peer and (
            (want_src is not None and p.src != want_src)
            or (want_dst is not None and p.dst != want_dst)
        ):
            return False
    return True
