"""The packet engine's outbound path (RFC 4301 §5.1): a cleartext packet leaving the gateway
becomes ESP and/or AH, or passes in clear, or is dropped (steps 1-4 in ``processor.py``'s
docstring).

``_outbound`` is the full path: SPD lookup, the policy's SA endpoints (``_endpoints``), the
SAs of the bundle (``_find_out``, expired ones retired on the way), an acquire at most once a
second per policy when they are missing (``_acquire``), sequence numbers that never wrap
(``_next_seq``), IVs drawn from the rng in chunks (``_random``), ESP then AH, the outer header
and the optional UDP encapsulation. An ESP tunnel-mode packet of a plain IPv4 flow leaves its
choice in the flow table, and the flow's next packets take ``_fast_outbound``, which does the
same work for that one case once it has checked the choice is still what ``_outbound`` would
make (``flows.py``).

``OutboundPath`` is a mixin of ``Processor``: the methods run on the processor's own state
(the attributes declared below, set up in ``Processor.__init__``), so the hot path stays plain
method calls on one object.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pyipsec.crypto.base import IvKind, Rng
from pyipsec.dataplane.flows import FLOW_CACHE_MAX, Flow, flow_key, selector_of, unspecified
from pyipsec.dataplane.policy import Action, Direction, IPAddress, Level, Policy, Selector
from pyipsec.dataplane.results import AcquireRequested, OutboundResult, ProcessorEvent, Verdict
from pyipsec.dataplane.sad import Sad, SaProtocol, SecurityAssociation
from pyipsec.dataplane.stats import XfrmStat
from pyipsec.dataplane.transforms import PacketDropped, ah_protect, counter_iv, esp_protect
from pyipsec.wire.ip import (
    IpProtocol,
    MalformedPacket,
    ipv4_header,
    ipv6_header,
    parse_ip,
    rewrite_header,
    set_ipv4_checksum,
)
from pyipsec.wire.udpencap import udp_header

if TYPE_CHECKING:
    from pyipsec.dataplane.processor import SpdLookup

__all__ = ["ACQUIRE_INTERVAL", "OutboundPath"]

_SEQ_LIMIT = {False: 0xFFFFFFFF, True: 0xFFFFFFFFFFFFFFFF}  # RFC 4303 §3.3.3
ACQUIRE_INTERVAL = 1.0  # seconds between two acquires for one policy
_RNG_CHUNK = 4096


class OutboundPath:
    """The outbound half of ``Processor`` (a mixin; see the module docstring)."""

    spd: SpdLookup
    sad: Sad
    fast_path: bool
    udp_payload_only: bool
    _rng: Rng
    _rbuf: bytes
    _rpos: int
    _ip_id: int
    _last_acquire: dict[int, float]
    _endpoint_cache: dict[int, tuple[Policy, IPAddress | None, IPAddress | None]]
    _out_flows: dict[bytes, Flow]

    if TYPE_CHECKING:

        def _emit(self, event: ProcessorEvent) -> None: ...

    def _random(self, n: int) -> bytes:
        pos = self._rpos
        if pos + n > len(self._rbuf):
            self._rbuf = self._rng(max(_RNG_CHUNK, n))
            pos = 0
        self._rpos = pos + n
        return self._rbuf[pos : pos + n]

    def _find_out(
        self,
        policy: Policy,
        proto: SaProtocol,
        src: IPAddress | None,
        dst: IPAddress,
        now: float,
        packet: Selector,
    ) -> SecurityAssociation | None:
        sad = self.sad
        while True:
            sa = sad.find_outbound(policy, proto, src, dst, packet)
            if sa is None or sad.check_time(sa, now):
                return sa

    def _endpoints(self, policy: Policy) -> tuple[IPAddress | None, IPAddress | None]:
        """The policy's (sa-src, sa-dst), None for unspecified; cached per policy object."""
        cached = self._endpoint_cache.get(policy.id)
        if cached is not None and cached[0] is policy:
            return cached[1], cached[2]
        src = None if unspecified(policy.sa_src) else policy.sa_src
        dst = None if unspecified(policy.sa_dst) else policy.sa_dst
        if len(self._endpoint_cache) > 65536:
            self._endpoint_cache.clear()
        self._endpoint_cache[policy.id] = (policy, src, dst)
        return src, dst

    def _acquire(self, policy: Policy, selector: Selector, now: float) -> None:
        last = self._last_acquire.get(policy.id)
        if last is None or now - last >= ACQUIRE_INTERVAL or now < last:
            self._last_acquire[policy.id] = now
            self._emit(AcquireRequested(policy=policy, selector=selector))

    def _next_seq(self, sa: SecurityAssociation) -> int:
        seq = sa.seq_out + 1
        if seq > _SEQ_LIMIT[sa.params.esn]:
            # RFC 4303 §3.3.3: never wrap; the SA is retired and IKE asked for a new one
            # (a soft expiry, ExpiryReason.SEQUENCE). Later packets find no SA (out-no-states,
            # acquire) until the replacement is installed.
            self.sad.sequence_exhausted(sa)
            raise PacketDropped(XfrmStat.OUT_STATE_SEQUENCE_ERRORS, "sequence number exhausted")
        return seq

    def _outbound(self, packet: bytes, now: float) -> OutboundResult:
        try:
            info = parse_ip(packet)
        except MalformedPacket:
            raise PacketDropped(XfrmStat.OUT_ERRORS, "malformed packet") from None
        if len(packet) > info.total_len:
            packet = packet[: info.total_len]
        selector = selector_of(info)
        policy = self.spd.lookup(Direction.OUT, selector)
        if policy is None or policy.action is Action.NONE:
            return OutboundResult(verdict=Verdict.CLEAR, packet=packet, dst=info.dst)
        if policy.action is Action.DISCARD:
            raise PacketDropped(XfrmStat.OUT_POLICY_BLOCKED, "policy discards")
        if not (policy.esp or policy.ah):
            raise PacketDropped(XfrmStat.OUT_POLICY_ERRORS, "policy has no IPsec protocol")
        tunnel = policy.tunnel
        sa_src, sa_dst = self._endpoints(policy)
        if not tunnel:
            # Transport mode protects the packet's own endpoints (routeros-ipsec.md §1.2).
            sa_src = sa_src or info.src
            sa_dst = sa_dst or info.dst
        if sa_dst is None:
            raise PacketDropped(XfrmStat.OUT_POLICY_ERRORS, "tunnel policy without sa-dst")
        esp_sa = (
            self._find_out(policy, SaProtocol.ESP, sa_src, sa_dst, now, selector)
            if policy.esp
            else None
        )
        ah_sa = (
            self._find_out(policy, SaProtocol.AH, sa_src, sa_dst, now, selector)
            if policy.ah
            else None
        )
        if (policy.esp and esp_sa is None) or (policy.ah and ah_sa is None):
            if policy.level is Level.USE:
                return OutboundResult(
                    verdict=Verdict.CLEAR, packet=packet, dst=info.dst, policy_id=policy.id
                )
            self._acquire(policy, selector, now)
            raise PacketDropped(XfrmStat.OUT_NO_STATES, "no SA for the policy")
        first = esp_sa or ah_sa
        assert first is not None  # one of them exists: checked above
        if esp_sa is not None and ah_sa is not None and esp_sa.params.udp_encap is not None:
            raise PacketDropped(XfrmStat.OUT_BUNDLE_ERRORS, "AH cannot be UDP-encapsulated")
        # RFC 4303 §3.3.3: check every SA of the bundle before consuming a number.
        esp_seq = self._next_seq(esp_sa) if esp_sa is not None else 0
        ah_seq = self._next_seq(ah_sa) if ah_sa is not None else 0

        version = info.version
        if tunnel:
            outer_src, outer_dst = first.params.src, first.params.dst
            version = outer_src.version
            nh: int
            if info.version == 4:
                tos = packet[1]
                nh = IpProtocol.IPV4
            else:
                tos = ((packet[0] & 0x0F) << 4) | (packet[1] >> 4)
                nh = IpProtocol.IPV6
            header = b""  # built once the payload length is known
            nh_offset = 9 if version == 4 else 6
            payload = packet
        else:
            outer_src, outer_dst = info.src, info.dst
            header = packet[: info.insert_at]
            nh_offset = info.nh_offset
            nh = header[nh_offset]
            payload = packet[info.insert_at :]
        udp_ports = None
        payload_offset = len(header) if not tunnel else (20 if version == 4 else 40)
        if esp_sa is not None:
            enc = esp_sa.params.encryption
            assert enc is not None  # SecurityAssociation() refuses ESP without a cipher
            kind = enc.iv_kind
            if kind is IvKind.COUNTER:
                iv = counter_iv(esp_seq)
            elif kind is IvKind.RANDOM:
                iv = self._random(enc.iv_size)
            else:
                iv = b""
            payload = esp_protect(esp_sa, payload, nh, esp_seq, iv)
            udp_ports = esp_sa.params.udp_encap
            if udp_ports is not None:
                payload = udp_header(outer_src, outer_dst, udp_ports[0], udp_ports[1], payload) + (
                    payload
                )
                payload_offset += 8
                nh = IpProtocol.UDP
            else:
                nh = IpProtocol.ESP
        if tunnel:
            # RFC 4301 §5.1.2.1: fresh TTL, DSCP/ECN copied from the inner header, DF clear.
            if version == 4:
                header = ipv4_header(
                    first.src_packed, first.dst_packed, nh, len(payload), tos=tos,
                    ident=self._next_ip_id(),
                )  # fmt: skip
            else:
                header = ipv6_header(
                    first.src_packed, first.dst_packed, nh, len(payload), traffic_class=tos
                )
            if ah_sa is None:
                out = header + payload
            else:
                out = ah_protect(ah_sa, header, version, nh_offset, payload, ah_seq)
        elif ah_sa is not None:
            if esp_sa is not None:
                header = rewrite_header(header, version, nh_offset, nh, len(header))
            if version == 4 and header[4:6] == b"\0\0":
                header = self._with_ip_id(header)
            out = ah_protect(ah_sa, header, version, nh_offset, payload, ah_seq)
        else:
            out = rewrite_header(header, version, nh_offset, nh, len(header) + len(payload)) + (
                payload
            )
        sad = self.sad
        # what the SPD and the SAD looked like when they chose (before counting can expire)
        generations = (self.spd.generation, sad.generation)
        for sa, seq in ((esp_sa, esp_seq), (ah_sa, ah_seq)):
            if sa is not None:
                sa.seq_out = seq
                sad.count(sa, len(packet), now)
        if udp_ports is not None and self.udp_payload_only:
            out = out[payload_offset:]
            payload_offset = 0
        if tunnel and self.fast_path and ah_sa is None and esp_sa is not None:
            key = flow_key(packet)
            if key is not None:
                if len(self._out_flows) >= FLOW_CACHE_MAX:
                    self._out_flows.clear()
                flow = self._out_flows[key] = Flow(selector, policy, esp_sa, sa_src, sa_dst)
                flow.spd_gen, flow.sad_gen = generations
        return OutboundResult(
            verdict=Verdict.PROTECTED,
            packet=out,
            src=outer_src,
            dst=outer_dst,
            udp_ports=udp_ports,
            payload_offset=payload_offset,
            policy_id=policy.id,
        )

    def _fast_outbound(self, packet: bytes, now: float) -> OutboundResult | None:
        """ESP tunnel mode for a flow the slow path has already seen, or None (slow path).

        The SPD is still consulted (through the flow's prepared selector) and the SA is still
        chosen by ``_find_out``: the cached choice is used only if both are what the slow path
        would pick now, so policy changes, rekeys and expiry take effect at once. Everything
        after that (sequence number, IV, ESP, outer header, counters) is what ``_outbound``
        does for this case; nothing is changed before the last check that can send us back.
        """
        key = flow_key(packet)
        if key is None:
            return None
        flow = self._out_flows.get(key)
        if flow is None or flow.sa_dst is None or len(packet) != (packet[2] << 8) | packet[3]:
            return None
        sad, spd = self.sad, self.spd
        policy = flow.policy
        sa = flow.sa
        if flow.spd_gen == spd.generation and flow.sad_gen == sad.generation:
            if not sad.check_time(sa, now):  # the lifetime part of _find_out
                return None
        else:
            if spd.lookup(Direction.OUT, flow.selector) is not policy:
                return None
            found = self._find_out(
                policy, SaProtocol.ESP, flow.sa_src, flow.sa_dst, now, flow.selector
            )
            if found is not sa:
                return None
            flow.spd_gen, flow.sad_gen = spd.generation, sad.generation
        params = sa.params
        seq = sa.seq_out + 1
        if seq > _SEQ_LIMIT[params.esn]:
            return None
        enc = params.encryption
        assert enc is not None
        kind = enc.iv_kind
        if kind is IvKind.COUNTER:
            iv = counter_iv(seq)
        elif kind is IvKind.RANDOM:
            iv = self._random(enc.iv_size)
        else:
            iv = b""
        out = esp_protect(sa, packet, IpProtocol.IPV4, seq, iv)
        udp_ports = params.udp_encap
        offset = 0  # of the ESP bytes in ``out``
        if udp_ports is None or not self.udp_payload_only:  # else the kernel adds IP/UDP
            nh = IpProtocol.ESP
            if udp_ports is not None:
                out = udp_header(params.src, params.dst, udp_ports[0], udp_ports[1], out) + out
                nh = IpProtocol.UDP
                offset = 8
            if params.src.version == 4:
                header = ipv4_header(
                    sa.src_packed, sa.dst_packed, nh, len(out), tos=packet[1],
                    ident=self._next_ip_id(),
                )  # fmt: skip
            else:
                header = ipv6_header(
                    sa.src_packed, sa.dst_packed, nh, len(out), traffic_class=packet[1]
                )
            out = header + out
            offset += len(header)
        sa.seq_out = seq
        sad.count(sa, len(packet), now)
        return OutboundResult(
            Verdict.PROTECTED, out, params.src, params.dst, udp_ports, offset, "", policy.id
        )

    def _next_ip_id(self) -> int:
        """A non-zero IPv4 Identification for headers we build (RFC 6864 §4.1: unique for
        fragmentable packets). AH covers the field, so it must be set before the ICV: a raw
        socket would otherwise fill in a zero ID after we signed the header."""
        self._ip_id = (self._ip_id % 0xFFFF) + 1
        return self._ip_id

    def _with_ip_id(self, header: bytes) -> bytes:
        h = bytearray(header)
        h[4:6] = self._next_ip_id().to_bytes(2, "big")
        set_ipv4_checksum(h)
        return bytes(h)
