"""Every drop lands in its counter (docs/dataplane-counters.md); the databases are unchanged.

Drops after the ICV verified (mode errors, the inbound policy check) are the exception: like
Linux xfrm, the SA has then processed the packet, so its replay window and counters advanced.
"""

from __future__ import annotations

import ipaddress
from dataclasses import replace

import pytest

from pyipsec.dataplane.policy import Action, Direction, Level, Policy
from pyipsec.dataplane.processor import (
    AcquireRequested,
    Processor,
    Verdict,
)
from pyipsec.dataplane.sad import (
    ExpiryReason,
    Lifetime,
    Sad,
    SaHardExpired,
    SaProtocol,
    SaSoftExpired,
    SecurityAssociation,
)
from pyipsec.dataplane.spd import Spd
from pyipsec.dataplane.stats import Statistics, XfrmStat
from pyipsec.dataplane.transforms import counter_iv, esp_protect
from pyipsec.wire.esp import ESP_HEADER
from pyipsec.wire.ip import build_ip, internet_checksum, parse_ip, pseudo_header, rewrite_header
from pyipsec.wire.udpencap import decapsulate

from .engine_helpers import SITES, Pair, det_rng, make_pair, tcp_packet, udp_packet


def snapshot(sad: Sad) -> list[tuple[object, ...]]:
    return sorted(
        (
            sa.spi,
            sa.params.direction.value,
            sa.state.value,
            sa.replay.top,
            sa.replay._bitmap,
            sa.seq_out,
            sa.current_bytes,
            sa.current_packets,
            sa.usetime,
        )
        for sa in sad
    )


def only(stats: Statistics, stat: XfrmStat, n: int = 1) -> None:
    expected = [0] * 25
    expected[stat] = n
    assert stats.counts == expected, stats.as_dict()


def sa_of(sad: Sad, spi: int, direction: Direction = Direction.OUT) -> SecurityAssociation:
    return next(sa for sa in sad if sa.spi == spi and sa.params.direction is direction)


def assert_inbound_drop(
    pair: Pair, packet: bytes, stat: XfrmStat, *, authenticated: bool = False, **kw: object
) -> str:
    before = snapshot(pair.b.sad)
    got = pair.b.inbound(packet, 1.0, **kw)  # type: ignore[arg-type]
    assert got.verdict is Verdict.DROPPED and got.packet == b""
    only(pair.b.stats, stat)
    after = snapshot(pair.b.sad)
    if authenticated:
        assert len(after) == len(before) and after != before
    else:
        assert after == before
    assert "internal" not in got.reason
    return got.reason


@pytest.fixture
def pair() -> Pair:
    return make_pair("aes-128-cbc", "sha1")


def protected(pair: Pair, data: bytes = b"hello") -> bytes:
    out = pair.a.outbound(pair.packet(data), 1.0)
    assert out.verdict is Verdict.PROTECTED
    return out.packet


# -- inbound --------------------------------------------------------------------------------


@pytest.mark.parametrize("cut", [0, 1, 19, 20, 27])
def test_truncated_is_header_error(pair: Pair, cut: int) -> None:
    pkt = protected(pair)
    hdr = rewrite_header(pkt[:20], 4, 9, 50, cut) if cut >= 20 else pkt[:cut]
    assert_inbound_drop(pair, hdr + pkt[20:cut], XfrmStat.IN_HEADER_ERRORS)


def test_unknown_spi_is_no_state(pair: Pair) -> None:
    pkt = bytearray(protected(pair))
    pkt[20:24] = (0xDEAD).to_bytes(4, "big")
    assert_inbound_drop(pair, bytes(pkt), XfrmStat.IN_NO_STATES)


def test_wrong_destination_is_no_state(pair: Pair) -> None:
    pkt = protected(pair)
    other = rewrite_header(
        pkt[:16] + ipaddress.ip_address("203.0.113.77").packed, 4, 9, 50, len(pkt)
    )
    assert_inbound_drop(pair, other + pkt[20:], XfrmStat.IN_NO_STATES)


@pytest.mark.parametrize("where", [30, 50, -1])
def test_bad_icv_is_protocol_error(pair: Pair, where: int) -> None:
    pkt = bytearray(protected(pair))
    pkt[where] ^= 0x01
    assert (
        assert_inbound_drop(pair, bytes(pkt), XfrmStat.IN_STATE_PROTOCOL_ERRORS) == "ICV mismatch"
    )


def test_aead_tag_failure_is_protocol_error() -> None:
    pair = make_pair("aes-128-gcm", None)
    pkt = bytearray(protected(pair))
    pkt[40] ^= 0x80
    assert_inbound_drop(pair, bytes(pkt), XfrmStat.IN_STATE_PROTOCOL_ERRORS)


def esp_with_trailer(pair: Pair, trailer: bytes, nh_payload: bytes, seq: int = 1) -> bytes:
    """An authentic ESP packet (null cipher + sha1) with a hand-made plaintext trailer."""
    sa = sa_of(pair.a.sad, 0x101)
    assert sa.mac is not None
    body = ESP_HEADER.pack(sa.spi, seq) + nh_payload + trailer
    esp = body + sa.mac.compute(body)
    p = sa.params
    return build_ip(p.src, p.dst, 50, esp)


def test_bad_padding_is_protocol_error() -> None:
    pair = make_pair("null", "sha1")
    inner = pair.packet(b"abcdefgh")  # 36 bytes: 2 bytes of padding to reach 40
    good = esp_with_trailer(pair, b"\x01\x02\x02\x04", inner)
    assert pair.b.inbound(good, 1.0).verdict is Verdict.DELIVER
    bad = esp_with_trailer(pair, b"\x01\x07\x02\x04", inner, seq=2)
    assert assert_inbound_drop(pair, bad, XfrmStat.IN_STATE_PROTOCOL_ERRORS) == "bad padding"
    worse = esp_with_trailer(pair, b"\x01\x02\xf0\x04", inner, seq=3)  # pad length too big
    pair.b.stats.reset()
    assert_inbound_drop(pair, worse, XfrmStat.IN_STATE_PROTOCOL_ERRORS)


def test_misaligned_ciphertext_is_protocol_error() -> None:
    pair = make_pair("null", "sha1")
    bad = esp_with_trailer(pair, b"\x00\x04", pair.packet(b"abcdefg"))  # 37+2: not 4-aligned
    assert_inbound_drop(pair, bad, XfrmStat.IN_STATE_PROTOCOL_ERRORS)


def test_replay_is_sequence_error(pair: Pair) -> None:
    pkt = protected(pair)
    assert pair.b.inbound(pkt, 1.0).verdict is Verdict.DELIVER
    assert_inbound_drop(pair, pkt, XfrmStat.IN_STATE_SEQUENCE_ERRORS)


def test_outside_window_is_sequence_error(pair: Pair) -> None:
    first = protected(pair)
    for _ in range(200):
        last = protected(pair)
    assert pair.b.inbound(last, 1.0).verdict is Verdict.DELIVER
    assert_inbound_drop(pair, first, XfrmStat.IN_STATE_SEQUENCE_ERRORS)


def test_forged_packet_does_not_advance_the_window(pair: Pair) -> None:
    pkt = bytearray(protected(pair))
    pkt[24:28] = (1000).to_bytes(4, "big")  # seq 1000, ICV now wrong
    assert_inbound_drop(pair, bytes(pkt), XfrmStat.IN_STATE_PROTOCOL_ERRORS)
    assert sa_of(pair.b.sad, 0x101, Direction.IN).replay.top == 0


def test_expired_sa_is_state_expired() -> None:
    pair = make_pair("aes-128-cbc", "sha1", lifetime=Lifetime(hard_add=10))
    pkt = protected(pair)
    before = len(pair.b.sad)
    got = pair.b.inbound(pkt, 11.0)
    assert got.verdict is Verdict.DROPPED
    only(pair.b.stats, XfrmStat.IN_STATE_EXPIRED)
    assert len(pair.b.sad) == before - 1  # the hard expiry removed it (it was due)
    assert any(isinstance(e, SaHardExpired) for e in pair.b.pop_events())


def test_udp_encap_mismatch(pair: Pair) -> None:
    pkt = protected(pair)
    assert_inbound_drop(pair, pkt, XfrmStat.IN_STATE_MISMATCHES, udp_encap=(4500, 4500))
    upair = make_pair("aes-128-cbc", "sha1", udp=True)
    out = upair.a.outbound(upair.packet(), 1.0)
    stripped, _ports, _kind = decapsulate(out.packet)
    assert_inbound_drop(upair, stripped, XfrmStat.IN_STATE_MISMATCHES)


def test_non_esp_udp_is_header_error(pair: Pair) -> None:
    keepalive = udp_packet(SITES[4]["gw_a"], SITES[4]["gw_b"], 4500, 4500, b"\xff")
    assert_inbound_drop(pair, keepalive, XfrmStat.IN_HEADER_ERRORS)


def test_tunnel_sa_with_non_ip_payload_is_mode_error(pair: Pair) -> None:
    sa = sa_of(pair.a.sad, 0x101)
    esp = esp_protect(sa, b"\x00" * 20, 6, 1, bytes(16))
    p = sa.params
    assert_inbound_drop(
        pair, build_ip(p.src, p.dst, 50, esp), XfrmStat.IN_STATE_MODE_ERRORS, authenticated=True
    )


def test_tfc_dummy_is_discarded_silently() -> None:
    pair = make_pair("aes-128-gcm", None)
    sa = sa_of(pair.a.sad, 0x101)
    esp = esp_protect(sa, b"", 59, 1, counter_iv(1))
    got = pair.b.inbound(build_ip(sa.params.src, sa.params.dst, 50, esp), 1.0)
    assert got.verdict is Verdict.DUMMY and pair.b.stats.total() == 0
    assert sa_of(pair.b.sad, 0x101, Direction.IN).replay.top == 1


@pytest.mark.parametrize("fast_path", [True, False])
def test_tfc_padding_after_a_tunnel_inner_packet_is_cut_off(fast_path: bool) -> None:
    """RFC 4303 §2.7: TFC padding follows the inner packet in the Payload Data; a tunnel
    receiver finds its start by the inner IP header's total length and discards it. (What
    lets IKEv2 omit ESP_TFC_PADDING_NOT_SUPPORTED for tunnel children, docs/ikev2.md.)"""
    pair = make_pair("aes-128-gcm", None)
    pair.b.fast_path = fast_path
    inner = pair.packet(b"payload")
    sa = sa_of(pair.a.sad, 0x101)
    esp = esp_protect(sa, inner + bytes(300), 4, 1, counter_iv(1))  # 300 octets of TFC padding
    got = pair.b.inbound(build_ip(sa.params.src, sa.params.dst, 50, esp), 1.0)
    assert got.verdict is Verdict.DELIVER and got.packet == inner


def test_decapsulated_packet_without_policy_is_no_policies() -> None:
    pair = make_pair("aes-128-cbc", "sha1")
    # A encrypts everything to B; B's policy covers only A's net.
    wide = replace(pair.policy_a, src=ipaddress.ip_network("198.51.0.0/16"))
    pair.a.spd = Spd([wide])
    pkt = udp_packet(ipaddress.ip_address("198.51.7.7"), SITES[4]["host_b"], 1, 2, b"x")
    out = pair.a.outbound(pkt, 1.0)
    assert out.verdict is Verdict.PROTECTED
    assert_inbound_drop(pair, out.packet, XfrmStat.IN_NO_POLICIES, authenticated=True)


def test_decapsulated_packet_hitting_discard_is_policy_blocked(pair: Pair) -> None:
    pair.b.spd = Spd([replace(pair.policy_b, action=Action.DISCARD)])
    assert_inbound_drop(pair, protected(pair), XfrmStat.IN_POLICY_BLOCKED, authenticated=True)


@pytest.mark.parametrize(
    "change",
    [
        {"ah": True},  # policy wants ah,esp; only ESP was used
        {"sa_dst": ipaddress.ip_address("203.0.113.99")},  # SA from another peer
        {"tunnel": False},  # mode differs
        {"action": Action.NONE},  # bypass policy reached through a tunnel
    ],
)
def test_template_mismatch(pair: Pair, change: dict[str, object]) -> None:
    pair.b.spd = Spd([replace(pair.policy_b, **change)])  # type: ignore[arg-type]
    assert_inbound_drop(pair, protected(pair), XfrmStat.IN_TEMPLATE_MISMATCHES, authenticated=True)


def test_level_use_accepts_template_mismatch(pair: Pair) -> None:
    pair.b.spd = Spd([replace(pair.policy_b, ah=True, level=Level.USE)])
    assert pair.b.inbound(protected(pair), 1.0).verdict is Verdict.DELIVER


def test_inbound_clear() -> None:
    pair = make_pair("aes-128-cbc", "sha1")
    clear = pair.packet(reverse=True)  # B -> A traffic arriving at A in clear
    got = pair.a.inbound_clear(clear, 1.0)
    assert got.verdict is Verdict.DROPPED
    only(pair.a.stats, XfrmStat.IN_TEMPLATE_MISMATCHES)
    other = udp_packet(ipaddress.ip_address("203.0.113.50"), SITES[4]["host_a"], 1, 2, b"")
    assert pair.a.inbound_clear(other, 1.0).verdict is Verdict.DELIVER
    pair.a.spd = Spd([replace(pair.policy_a, level=Level.USE)])
    assert pair.a.inbound_clear(clear, 1.0).verdict is Verdict.DELIVER
    pair.a.spd = Spd([replace(pair.policy_a, action=Action.DISCARD)])
    pair.a.stats.reset()
    assert pair.a.inbound_clear(clear, 1.0).verdict is Verdict.DROPPED
    only(pair.a.stats, XfrmStat.IN_POLICY_BLOCKED)
    pair.a.stats.reset()
    assert pair.a.inbound_clear(b"\x45\x00", 1.0).verdict is Verdict.DROPPED
    only(pair.a.stats, XfrmStat.IN_HEADER_ERRORS)


def test_transport_udp_encap_fixes_inner_checksum_after_nat() -> None:
    pair = make_pair("aes-128-gcm", None, tunnel=False, udp=True)
    s = SITES[4]
    pkt = tcp_packet(s["gw_a"], s["gw_b"], 5555, 80, b"data")
    out = pair.a.outbound(pkt, 1.0)
    assert out.verdict is Verdict.PROTECTED and out.udp_ports == (4500, 4500)
    # A NAT rewrites the outer source address (and would fix only the outer UDP header).
    nat = ipaddress.ip_address("203.0.113.200")
    # B's IKE saw A at the NAT's address: its inbound SA runs from there (endpoint binding).
    inbound = sa_of(pair.b.sad, 0x101, Direction.IN)
    pair.b.sad.remove(inbound)
    pair.b.sad.add(replace(inbound.params, src=nat), 1.0)
    natted = rewrite_header(
        out.packet[:12] + nat.packed + out.packet[16:20], 4, 9, 17, len(out.packet)
    )
    got = pair.b.inbound(natted + out.packet[20:], 1.0)
    assert got.verdict is Verdict.DELIVER, got.reason
    info = parse_ip(got.packet)
    assert info.src == nat
    seg = got.packet[info.header_len :]
    assert internet_checksum(pseudo_header(info.src, info.dst, 6, len(seg)) + seg) == 0


# -- outbound -------------------------------------------------------------------------------


def test_no_policy_and_bypass_pass_in_clear(pair: Pair) -> None:
    stray = udp_packet(
        ipaddress.ip_address("203.0.113.50"), ipaddress.ip_address("203.0.113.51"), 1, 2, b""
    )
    assert pair.a.outbound(stray, 1.0).verdict is Verdict.CLEAR
    pair.a.spd = Spd([replace(pair.policy_a, action=Action.NONE)])
    res = pair.a.outbound(pair.packet(), 1.0)
    assert res.verdict is Verdict.CLEAR and res.packet == pair.packet()
    assert pair.a.stats.total() == 0


def test_discard_is_out_policy_blocked(pair: Pair) -> None:
    pair.a.spd = Spd([replace(pair.policy_a, action=Action.DISCARD)])
    before = snapshot(pair.a.sad)
    assert pair.a.outbound(pair.packet(), 1.0).verdict is Verdict.DROPPED
    only(pair.a.stats, XfrmStat.OUT_POLICY_BLOCKED)
    assert snapshot(pair.a.sad) == before


def test_malformed_outbound_is_out_error(pair: Pair) -> None:
    assert pair.a.outbound(b"\x45\x00\x00", 1.0).verdict is Verdict.DROPPED
    only(pair.a.stats, XfrmStat.OUT_ERRORS)


def test_no_sa_drops_and_acquires_rate_limited() -> None:
    pair = make_pair("aes-128-cbc", "sha1", install=False)
    for t in (1.0, 1.2, 1.9, 2.0, 2.5, 3.1):
        assert pair.a.outbound(pair.packet(), t).verdict is Verdict.DROPPED
    only(pair.a.stats, XfrmStat.OUT_NO_STATES, 6)
    acquires = [e for e in pair.a.pop_events() if isinstance(e, AcquireRequested)]
    assert len(acquires) == 3  # at 1.0, 2.0, 3.1
    assert acquires[0].policy == pair.policy_a
    assert acquires[0].selector.dst == SITES[4]["host_b"] and acquires[0].selector.dst_port == 2000


def test_no_sa_with_level_use_passes_in_clear() -> None:
    pair = make_pair("aes-128-cbc", "sha1", install=False, level=Level.USE)
    res = pair.a.outbound(pair.packet(), 1.0)
    assert res.verdict is Verdict.CLEAR and pair.a.pop_events() == []


def test_unique_policy_needs_its_own_sa() -> None:
    pair = make_pair("aes-128-cbc", "sha1", level=Level.UNIQUE)
    assert pair.a.outbound(pair.packet(), 1.0).verdict is Verdict.DROPPED
    only(pair.a.stats, XfrmStat.OUT_NO_STATES)
    pair.a.sad.add(replace(pair.params["ESP-ab"], spi=0x777, policy_id=1), 1.0)
    out = pair.a.outbound(pair.packet(), 1.0)
    assert out.verdict is Verdict.PROTECTED and out.packet[20:24] == (0x777).to_bytes(4, "big")


def test_bundle_missing_ah_is_no_state() -> None:
    pair = make_pair("aes-128-cbc", "sha1", ah=True)
    ah = sa_of(pair.a.sad, 0x201)
    pair.a.sad.remove(ah)
    before = snapshot(pair.a.sad)
    assert pair.a.outbound(pair.packet(), 1.0).verdict is Verdict.DROPPED
    only(pair.a.stats, XfrmStat.OUT_NO_STATES)
    assert snapshot(pair.a.sad) == before  # the ESP SA consumed no sequence number


def test_sequence_overflow_without_esn() -> None:
    pair = make_pair("aes-128-gcm", None)
    sa = sa_of(pair.a.sad, 0x101)
    sa.seq_out = 0xFFFFFFFE
    assert pair.a.outbound(pair.packet(), 1.0).verdict is Verdict.PROTECTED  # seq 2^32-1
    assert pair.a.outbound(pair.packet(), 1.0).verdict is Verdict.DROPPED
    only(pair.a.stats, XfrmStat.OUT_STATE_SEQUENCE_ERRORS)
    assert sa.seq_out == 0xFFFFFFFF
    # a soft expiry asks IKE for a replacement; the SA is not used again (it would wrap)
    assert pair.a.pop_events() == [
        SaSoftExpired(
            spi=0x101, protocol=SaProtocol.ESP, dst=sa.params.dst, reason=ExpiryReason.SEQUENCE
        )
    ]
    for _ in range(2):
        assert pair.a.outbound(pair.packet(), 2.0).verdict is Verdict.DROPPED
    assert pair.a.stats.counts[XfrmStat.OUT_NO_STATES] == 2
    assert [type(e) for e in pair.a.pop_events()] == [AcquireRequested]  # once a second
    assert sa.seq_out == 0xFFFFFFFF and sa in pair.a.sad  # kept until its hard lifetime
    # the replacement IKE negotiates is used at once
    pair.a.sad.add(replace(pair.params["ESP-ab"], spi=0x901), 2.0)
    out = pair.a.outbound(pair.packet(), 2.0)
    assert out.verdict is Verdict.PROTECTED and out.packet[20:24] == (0x901).to_bytes(4, "big")


@pytest.mark.parametrize(
    "enc,integ,ah", [("aes-128-gcm", None, False), ("aes-128-cbc", "sha256", True)]
)
def test_esn_crosses_the_32_bit_boundary(enc: str, integ: str | None, ah: bool) -> None:
    pair = make_pair(enc, integ, esn=True, ah=ah)
    start = (1 << 32) - 3
    for sa in pair.a.sad:
        if sa.params.direction is Direction.OUT:
            sa.seq_out = start
    for sa in pair.b.sad:
        if sa.params.direction is Direction.IN:
            sa.replay.update(start)
    for _ in range(6):
        out = pair.a.outbound(pair.packet(), 1.0)
        got = pair.b.inbound(out.packet, 1.0)
        assert got.verdict is Verdict.DELIVER, got.reason
    assert sa_of(pair.b.sad, 0x101, Direction.IN).replay.top == start + 6
    assert pair.b.stats.total() == 0


def test_byte_lifetime_through_the_processor() -> None:
    pair = make_pair("aes-128-gcm", None, lifetime=Lifetime(soft_bytes=100, hard_bytes=200))
    pkt = pair.packet(b"x" * 42)  # 70 bytes
    assert pair.a.outbound(pkt, 1.0).verdict is Verdict.PROTECTED
    assert pair.a.outbound(pkt, 1.0).verdict is Verdict.PROTECTED  # 140: soft
    assert pair.a.outbound(pkt, 1.0).verdict is Verdict.PROTECTED  # 210: hard, SA removed
    assert pair.a.outbound(pkt, 1.0).verdict is Verdict.DROPPED
    events = pair.a.pop_events()
    kinds = [type(e) for e in events]
    assert kinds[:2] == [SaSoftExpired, SaHardExpired] and AcquireRequested in kinds
    only(pair.a.stats, XfrmStat.OUT_NO_STATES)


def test_time_lifetime_checked_per_packet() -> None:
    pair = make_pair("aes-128-gcm", None, lifetime=Lifetime(soft_add=5, hard_add=10))
    assert pair.a.outbound(pair.packet(), 6.0).verdict is Verdict.PROTECTED
    assert [type(e) for e in pair.a.pop_events()] == [SaSoftExpired]
    assert pair.a.outbound(pair.packet(), 10.0).verdict is Verdict.DROPPED
    only(pair.a.stats, XfrmStat.OUT_NO_STATES)


def test_ah_cannot_be_udp_encapsulated() -> None:
    pair = make_pair("aes-128-cbc", "sha1", ah=True, udp=True)
    before = snapshot(pair.a.sad)
    assert pair.a.outbound(pair.packet(), 1.0).verdict is Verdict.DROPPED
    only(pair.a.stats, XfrmStat.OUT_BUNDLE_ERRORS)
    assert snapshot(pair.a.sad) == before


def test_tunnel_policy_without_sa_dst_is_policy_error() -> None:
    s = SITES[4]
    pol = Policy(id=3, src=s["net_a"], dst=s["net_b"], tunnel=True)
    proc = Processor(Spd([pol]), Sad(), Statistics(), det_rng())
    assert (
        proc.outbound(udp_packet(s["host_a"], s["host_b"], 1, 2, b""), 1.0).verdict
        is Verdict.DROPPED
    )
    only(proc.stats, XfrmStat.OUT_POLICY_ERRORS)


def test_larval_sa_is_state_invalid(pair: Pair) -> None:
    from pyipsec.dataplane.sad import SaState

    pkt = protected(pair)
    sa_of(pair.b.sad, 0x101, Direction.IN).state = SaState.LARVAL
    assert_inbound_drop(pair, pkt, XfrmStat.IN_STATE_INVALID)


def test_sequence_overflow_with_esn_at_2_64() -> None:
    pair = make_pair("aes-128-gcm", None, esn=True)
    sa = sa_of(pair.a.sad, 0x101)
    sa.seq_out = (1 << 64) - 2
    assert pair.a.outbound(pair.packet(), 1.0).verdict is Verdict.PROTECTED
    assert pair.a.outbound(pair.packet(), 1.0).verdict is Verdict.DROPPED
    only(pair.a.stats, XfrmStat.OUT_STATE_SEQUENCE_ERRORS)
    expiries = [e for e in pair.a.pop_events() if isinstance(e, SaSoftExpired)]
    assert [e.reason for e in expiries] == [ExpiryReason.SEQUENCE]


def test_same_seed_same_packets() -> None:
    """All randomness comes from the injected rng: equal seeds give equal packets."""
    one = make_pair("aes-128-cbc", "sha1")
    two = make_pair("aes-128-cbc", "sha1")
    for _ in range(3):
        assert one.a.outbound(one.packet(), 1.0).packet == two.a.outbound(two.packet(), 1.0).packet
