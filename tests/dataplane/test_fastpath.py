"""The per-flow fast path of the packet engine behaves exactly like the slow path.

Each test runs the same packets through a pair with the fast path (the default) and a twin
pair built with ``fast_path=False`` (deterministic rng, same keys), and compares every output
byte, verdict, counter, sequence number and event; then it changes the world under a flow
(rekey, policy removal, expiry) and checks the fast path notices at once.
"""

from __future__ import annotations

import ipaddress
from dataclasses import replace

import pytest

from pyipsec.dataplane.policy import Action, Direction
from pyipsec.dataplane.processor import Verdict
from pyipsec.dataplane.sad import Lifetime, SaParams
from pyipsec.dataplane.spd import Spd
from pyipsec.wire.ip import build_ip
from tests.dataplane.engine_helpers import NO_LIFETIME, Pair, make_pair, tcp_packet, udp_packet

TRANSFORMS = [("aes-128-gcm", None), ("aes-256-cbc", "sha256"), ("chacha20poly1305", None)]


def twins(enc: str, integ: str | None, **kw: object) -> tuple[Pair, Pair]:
    fast = make_pair(enc, integ, **kw)  # type: ignore[arg-type]
    slow = make_pair(enc, integ, **kw)  # type: ignore[arg-type]
    for proc in (slow.a, slow.b):
        proc.fast_path = False
    return fast, slow


def flows(pair: Pair, n: int) -> list[bytes]:
    """Packets of several flows, interleaved: TCP, UDP, and ICMP-like (no ports)."""
    out = []
    for i in range(n):
        data = bytes([i & 0xFF]) * (i % 300)
        if i % 3 == 0:
            out.append(tcp_packet(pair.src, pair.dst, 40000 + i % 4, 443, data))
        elif i % 3 == 1:
            out.append(udp_packet(pair.src, pair.dst, 1000, 2000 + i % 2, data))
        else:
            out.append(build_ip(pair.src, pair.dst, 1, b"\x08\x00\x00\x00" + data))
    return out


def state(pair: Pair) -> list[object]:
    got: list[object] = [pair.a.stats.as_dict(), pair.b.stats.as_dict()]
    for proc in (pair.a, pair.b):
        for sa in proc.sad:
            got.append(
                (sa.spi, sa.seq_out, sa.current_bytes, sa.current_packets, sa.state, sa.replay.top)
            )
    return got


@pytest.mark.parametrize(("enc", "integ"), TRANSFORMS)
@pytest.mark.parametrize(("outer", "udp"), [(4, False), (6, False), (4, True), (6, True)])
def test_fast_and_slow_paths_produce_the_same_bytes_and_counters(enc, integ, outer, udp) -> None:
    fast, slow = twins(enc, integ, outer=outer, udp=udp)
    for pf, ps in zip(flows(fast, 60), flows(slow, 60), strict=True):
        of, os_ = fast.a.outbound(pf, 1.0), slow.a.outbound(ps, 1.0)
        assert of == os_
        inf, ins = fast.b.inbound(of.packet, 1.0), slow.b.inbound(os_.packet, 1.0)
        assert inf == ins
        assert inf.verdict is Verdict.DELIVER and inf.packet == pf
    assert state(fast) == state(slow)
    assert fast.a._out_flows and fast.b._in_flows  # the fast path was really taken
    assert not slow.a._out_flows and not slow.b._in_flows


def test_replay_and_forgery_are_dropped_on_the_fast_path_too() -> None:
    fast, slow = twins("aes-128-gcm", None)
    for pair in (fast, slow):
        p = pair.packet(b"x" * 100)
        first = pair.a.outbound(p, 1.0).packet
        second = pair.a.outbound(p, 1.0).packet
        assert pair.b.inbound(first, 1.0).verdict is Verdict.DELIVER
        assert pair.b.inbound(second, 1.0).verdict is Verdict.DELIVER
        assert pair.b.inbound(second, 1.0).reason == "replayed or outside window"
        forged = bytearray(pair.a.outbound(p, 1.0).packet)
        forged[-1] ^= 1
        assert pair.b.inbound(bytes(forged), 1.0).verdict is Verdict.DROPPED
    assert state(fast) == state(slow)


def test_a_rekey_takes_effect_on_the_next_packet() -> None:
    pair = make_pair("aes-128-gcm", None)
    p = pair.packet(b"data")
    assert pair.a.outbound(p, 1.0).verdict is Verdict.PROTECTED
    assert pair.a._out_flows
    old = pair.params["ESP-ab"]
    new = SaParams(**{**_fields(old), "spi": 0x777})
    pair.a.sad.add(new, 2.0)
    pair.b.sad.add(SaParams(**{**_fields(new), "direction": Direction.IN}), 2.0)
    out = pair.a.outbound(p, 2.0)
    assert int.from_bytes(out.packet[20:24], "big") == 0x777  # the newest SA, at once
    got = pair.b.inbound(out.packet, 2.0)
    assert got.verdict is Verdict.DELIVER and got.spis == (0x777,)


def _fields(params: SaParams) -> dict[str, object]:
    return {f: getattr(params, f) for f in params.__dataclass_fields__}


def test_policy_changes_take_effect_on_the_next_packet() -> None:
    pair = make_pair("aes-128-gcm", None)
    p = pair.packet(b"data")
    prot = pair.a.outbound(p, 1.0)
    assert pair.b.inbound(prot.packet, 1.0).verdict is Verdict.DELIVER
    assert isinstance(pair.a.spd, Spd) and isinstance(pair.b.spd, Spd)
    pair.a.spd.remove(1)
    assert pair.a.outbound(p, 1.0).verdict is Verdict.CLEAR
    # inbound: the flow's policy now discards
    pair.b.spd.replace_all([replace(pair.policy_b, action=Action.DISCARD)])
    again = make_pair("aes-128-gcm", None)  # a fresh sender with the same keys
    again.a.outbound(p, 1.0)  # seq 1 (already seen by b)
    res = pair.b.inbound(again.a.outbound(p, 1.0).packet, 1.0)
    assert res.verdict is Verdict.DROPPED and res.reason == "policy discards"


def test_lifetimes_expire_the_same_way() -> None:
    life = Lifetime(soft_bytes=2000, hard_bytes=4000)
    fast, slow = twins("aes-128-gcm", None, lifetime=life)
    for pair in (fast, slow):
        for i in range(40):
            out = pair.a.outbound(pair.packet(bytes(150)), 1.0 + i)
            if out.verdict is Verdict.PROTECTED:
                pair.b.inbound(out.packet, 1.0 + i)
    assert state(fast) == state(slow)
    assert [type(e) for e in fast.a.pop_events()] == [type(e) for e in slow.a.pop_events()]
    assert fast.a.stats.as_dict() == slow.a.stats.as_dict()
    assert life != NO_LIFETIME


def test_sequence_exhaustion_goes_through_the_slow_path() -> None:
    fast, slow = twins("aes-128-gcm", None)
    for pair in (fast, slow):
        pair.a.outbound(pair.packet(), 1.0)
        sa = next(sa for sa in pair.a.sad if sa.params.direction is Direction.OUT)
        sa.seq_out = 0xFFFFFFFF
        res = pair.a.outbound(pair.packet(), 1.0)
        assert res.verdict is Verdict.DROPPED and res.reason == "sequence number exhausted"
    assert state(fast) == state(slow)
    assert [type(e) for e in fast.a.pop_events()] == [type(e) for e in slow.a.pop_events()]


def test_other_shapes_keep_to_the_slow_path() -> None:
    """IPv6 inner, AH bundles and fragments never enter the caches."""
    for kw in ({"inner": 6, "outer": 6}, {"ah": True}):
        pair = make_pair("aes-128-cbc", "sha1", **kw)  # type: ignore[arg-type]
        out = pair.a.outbound(pair.packet(b"abc"), 1.0)
        assert pair.b.inbound(out.packet, 1.0).verdict is Verdict.DELIVER
        assert not pair.a._out_flows
    pair = make_pair("aes-128-gcm", None)
    frag = bytearray(pair.packet(b"z" * 64))
    frag[6] = 0x20  # MF: a first fragment
    assert pair.a.outbound(bytes(frag), 1.0).verdict is Verdict.PROTECTED
    assert not pair.a._out_flows
    assert ipaddress.ip_address(pair.src).version == 4


@pytest.mark.parametrize(
    ("enc", "integ", "kw"),
    [
        ("aes-128-gcm", None, {}),
        ("aes-256-cbc", "sha256", {}),
        ("aes-256-cbc", "sha256", {"udp": True}),
        ("aes-128-cbc", "sha1", {"ah": True}),
        ("aes-128-cbc", "sha1", {"inner": 6, "outer": 6}),
        ("aes-128-ctr", "md5", {"tunnel": False}),
    ],
)
def test_inner_mtu_is_the_largest_packet_that_fits(enc, integ, kw) -> None:
    """``inner_mtu`` agrees with what ``outbound`` really produces, byte for byte."""
    pair = make_pair(enc, integ, **kw)
    for outer_mtu in (1500, 1400, 1281, 576):
        limit = pair.a.inner_mtu(pair.packet(bytes(100)), outer_mtu)
        assert limit is not None
        overhead = len(pair.packet(b""))
        fits = pair.a.outbound(pair.packet(bytes(limit - overhead)), 1.0)
        assert len(fits.packet) <= outer_mtu
        too_big = pair.a.outbound(pair.packet(bytes(limit - overhead + 1)), 1.0)
        assert len(too_big.packet) > outer_mtu
    pair.a.spd.remove(1)  # type: ignore[attr-defined]
    assert pair.a.inner_mtu(pair.packet(b""), 1500) is None


def test_changes_after_the_flow_is_confirmed_take_effect_at_once() -> None:
    """Once a flow is confirmed, the fast path trusts the SPD/SAD generations instead of
    asking them again; every kind of change must still reach the very next packet, with the
    same bytes, counters and events as the slow path."""
    life = Lifetime(soft_add=10.0, hard_add=20.0)
    fast, slow = twins("aes-128-gcm", None, lifetime=life)
    results: dict[int, list[object]] = {id(fast): [], id(slow): []}

    def send(pair: Pair, t: float, n: int = 3) -> None:
        for _ in range(n):
            out = pair.a.outbound(pair.packet(b"x" * 40), t)
            got = pair.b.inbound(out.packet, t) if out.verdict is Verdict.PROTECTED else None
            results[id(pair)].append(
                (out.verdict, out.packet, got and (got.verdict, got.packet, got.spis))
            )

    for pair in (fast, slow):
        send(pair, 1.0)  # confirmed: later packets skip the lookups
        send(pair, 11.0)  # soft expiry by time: events, SA dying, still used
        old = pair.params["ESP-ab"]
        new = SaParams(**{**_fields(old), "spi": 0x999})
        pair.a.sad.add(new, 12.0)
        pair.b.sad.add(SaParams(**{**_fields(new), "direction": Direction.IN}), 12.0)
        send(pair, 12.0)  # the new SA at once
        send(pair, 40.0)  # both SAs past hard expiry: gone, acquire, drops
    assert results[id(fast)] == results[id(slow)]
    spis = [r[2][2] for r in results[id(fast)] if r[2]]
    first = pair_spi = fast.params["ESP-ab"].spi
    assert spis == [(first,)] * 6 + [(0x999,)] * 3 and pair_spi != 0x999
    assert [r[0] for r in results[id(fast)]][-3:] == [Verdict.DROPPED] * 3
    assert state(fast) == state(slow)
    assert [type(e) for e in fast.a.pop_events()] == [type(e) for e in slow.a.pop_events()]
    assert fast.a._out_flows

    # inbound: the SPD changes under a confirmed flow
    pair = make_pair("aes-128-gcm", None)
    for _ in range(3):
        assert pair.b.inbound(pair.a.outbound(pair.packet(), 1.0).packet, 1.0).verdict is (
            Verdict.DELIVER
        )
    assert isinstance(pair.b.spd, Spd)
    pair.b.spd.replace_all([replace(pair.policy_b, action=Action.DISCARD)])
    res = pair.b.inbound(pair.a.outbound(pair.packet(), 1.0).packet, 1.0)
    assert res.verdict is Verdict.DROPPED and res.reason == "policy discards"


@pytest.mark.parametrize(("enc", "integ"), TRANSFORMS)
@pytest.mark.parametrize("outer", [4, 6])
@pytest.mark.parametrize("fast_path", [True, False])
def test_udp_socket_entry_points_match_the_whole_packet_ones(enc, integ, outer, fast_path) -> None:
    """``udp_payload_only`` gives exactly the ESP bytes of the whole-packet result, and
    ``inbound_udp(header, esp)`` answers and counts exactly as ``inbound(whole packet)``."""
    whole = make_pair(enc, integ, outer=outer, udp=True)
    short = make_pair(enc, integ, outer=outer, udp=True)
    for proc in (whole.a, whole.b, short.a, short.b):
        proc.fast_path = fast_path
    short.a.udp_payload_only = True
    hl = 20 if outer == 4 else 40
    packets = flows(whole, 30)
    sent = []
    for p in packets:
        full, esp = whole.a.outbound(p, 1.0), short.a.outbound(p, 1.0)
        assert full.verdict is esp.verdict is Verdict.PROTECTED
        assert esp.payload_offset == 0 and esp.packet == full.payload == full.packet[hl + 8 :]
        assert (esp.src, esp.dst, esp.udp_ports) == (full.src, full.dst, full.udp_ports)
        sent.append(full)
    # inbound: the same datagrams, in order, then a replay and a forgery
    tampered = bytearray(sent[0].payload)
    tampered[-1] ^= 1
    datagrams = [r.payload for r in sent] + [sent[3].payload, bytes(tampered)]
    header = sent[0].packet[:hl]
    ports = (sent[0].udp_ports[1], sent[0].udp_ports[0])  # as seen by the receiver
    verdicts = []
    for data in datagrams:
        whole_packet = build_ip(
            ipaddress.ip_address(socket_ntop(header, 12 if outer == 4 else 8, outer)),
            ipaddress.ip_address(socket_ntop(header, 16 if outer == 4 else 24, outer)),
            50,
            data,
        )
        a = whole.b.inbound(whole_packet, 1.0, ports)
        b = short.b.inbound_udp(header, data, 1.0, ports)
        assert a == b
        verdicts.append(b.verdict)
    assert verdicts == [Verdict.DELIVER] * 30 + [Verdict.DROPPED] * 2
    assert whole.b.stats.as_dict() == short.b.stats.as_dict()
    assert whole.b._in_flows if fast_path else not short.b._in_flows


def socket_ntop(header: bytes, offset: int, version: int) -> str:
    size = 4 if version == 4 else 16
    return str(ipaddress.ip_address(header[offset : offset + size]))


def test_a_new_spd_object_is_never_mistaken_for_the_old_one() -> None:
    """Generations are unique across SPD/SAD objects: swapping in a fresh SPD whose own count
    of changes equals the old one's still reaches a confirmed flow at once."""
    pair = make_pair("aes-128-gcm", None)
    for _ in range(3):  # confirmed: the fast path trusts the generations
        assert pair.a.outbound(pair.packet(), 1.0).verdict is Verdict.PROTECTED
    pair.a.spd = Spd([replace(pair.policy_a, action=Action.DISCARD)])
    res = pair.a.outbound(pair.packet(), 1.0)
    assert res.verdict is Verdict.DROPPED and res.reason == "policy discards"


def test_a_flow_made_by_a_packet_that_soft_expires_its_sa_is_not_trusted() -> None:
    """The slow path records the generations as they were when it chose, before counting the
    packet: if that count soft-expires the newest SA, the next packet must go back to the
    older mature one, as the slow path would."""
    fast, slow = twins("aes-128-gcm", None)
    for pair in (fast, slow):
        old = pair.params["ESP-ab"]
        dying = SaParams(**{**_fields(old), "spi": 0x555, "lifetime": Lifetime(soft_bytes=1)})
        pair.a.sad.add(dying, 1.0)
        pair.b.sad.add(SaParams(**{**_fields(dying), "direction": Direction.IN}), 1.0)
    spis = {}
    for pair in (fast, slow):
        got = []
        for _ in range(3):
            out = pair.a.outbound(pair.packet(), 1.0)
            got.append(int.from_bytes(out.packet[20:24], "big"))
        spis[id(pair)] = got
    older = fast.params["ESP-ab"].spi
    assert spis[id(fast)] == spis[id(slow)] == [0x555, older, older]
    assert state(fast) == state(slow)
