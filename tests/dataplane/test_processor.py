"""Round trips through two Processor instances with mirrored SAs (dataplane/processor.py)."""

from __future__ import annotations

import pytest

from pyipsec.crypto import registry
from pyipsec.dataplane.processor import Verdict
from pyipsec.wire.ip import parse_ip

from .engine_helpers import make_pair

ENC_NAMES = sorted({a.name for a in registry.ENCRYPTION.values()})
INTEG_NAMES = sorted({a.name for a in registry.INTEGRITY.values()})
REAL_INTEG = [n for n in INTEG_NAMES if registry.integrity(n).icv_size]
SIZES = (1, 64, 333)


def round_trip(pair, sizes=SIZES, now: float = 1.0) -> None:  # type: ignore[no-untyped-def]
    for n in sizes:
        for reverse in (False, True):
            sender, receiver = (pair.b, pair.a) if reverse else (pair.a, pair.b)
            pkt = pair.packet(bytes(range(256)) * (n // 256) + bytes(n % 256), reverse=reverse)
            out = sender.outbound(pkt, now)
            assert out.verdict is Verdict.PROTECTED, out.reason
            got = receiver.inbound(out.packet, now)
            assert got.verdict is Verdict.DELIVER, (got.reason, receiver.stats.as_dict())
            assert got.packet == pkt
            assert got.policy_id == 1
    for proc in (pair.a, pair.b):
        assert proc.stats.total() == 0, proc.stats.as_dict()


def enc_integ_matrix() -> list[tuple[str, str | None]]:
    combos: list[tuple[str, str | None]] = []
    for enc in ENC_NAMES:
        alg = registry.encryption(enc)
        if alg.aead:
            combos.append((enc, None))
        elif enc == "twofish":  # pure Python, slow: one combination
            combos.append((enc, "sha256"))
        else:
            combos += [(enc, i) for i in INTEG_NAMES if not (enc == "null" and i == "null")]
    return combos


@pytest.mark.parametrize("enc,integ", enc_integ_matrix())
def test_esp_every_cipher_and_integrity(enc: str, integ: str | None) -> None:
    sizes = (40,) if enc == "twofish" else SIZES
    round_trip(make_pair(enc, integ), sizes)


@pytest.mark.parametrize("integ", REAL_INTEG)
@pytest.mark.parametrize("tunnel,outer", [(True, 4), (False, 6)])
def test_ah_every_integrity(integ: str, tunnel: bool, outer: int) -> None:
    round_trip(make_pair(None, integ, esp=False, ah=True, tunnel=tunnel, outer=outer))


@pytest.mark.parametrize("enc,integ", [("aes-128-cbc", "sha256"), ("aes-256-gcm", None)])
@pytest.mark.parametrize("protocols", ["esp", "ah", "ah,esp"])
@pytest.mark.parametrize(
    "tunnel,inner,outer",
    [(True, 4, 4), (True, 6, 6), (True, 4, 6), (True, 6, 4), (False, 4, 4), (False, 6, 6)],
)
@pytest.mark.parametrize("esn", [False, True])
def test_layouts(  # type: ignore[no-untyped-def]
    enc, integ, protocols, tunnel, inner, outer, esn
) -> None:
    ah = "ah" in protocols
    esp = "esp" in protocols
    pair = make_pair(
        enc, integ or "sha1", esp=esp, ah=ah, tunnel=tunnel, inner=inner, outer=outer, esn=esn
    )
    round_trip(pair, (0, 100))


@pytest.mark.parametrize("tunnel", [True, False])
@pytest.mark.parametrize("outer", [4, 6])
def test_udp_encapsulated_round_trip(tunnel: bool, outer: int) -> None:
    round_trip(make_pair("aes-128-gcm", None, tunnel=tunnel, outer=outer, inner=outer, udp=True))


def test_esp_packet_layout() -> None:
    pair = make_pair("aes-128-cbc", "sha1")
    pkt = pair.packet(b"x" * 10)
    for expected_seq in (1, 2, 3):
        out = pair.a.outbound(pkt, 0.0)
        info = parse_ip(out.packet)
        assert info.protocol == 50 and info.src == pair.params["ESP-ab"].src
        assert info.dst == out.dst == pair.params["ESP-ab"].dst
        esp = out.packet[info.header_len :]
        assert int.from_bytes(esp[:4], "big") == 0x101
        assert int.from_bytes(esp[4:8], "big") == expected_seq
        # 8 header + 16 IV + ciphertext (inner 38 bytes + 2 trailer -> 48) + 12 ICV
        assert len(esp) == 8 + 16 + 48 + 12
    assert pair.a.sad.find_outbound(pair.policy_a, pair.params["ESP-ab"].protocol, None, out.dst)


def test_counter_iv_is_the_sequence_number() -> None:
    pair = make_pair("aes-128-gcm", None)
    pair.a.outbound(pair.packet(), 0.0)
    out = pair.a.outbound(pair.packet(), 0.0)
    esp = out.packet[20:]
    assert esp[8:16] == (2).to_bytes(8, "big")  # RFC 4106 §3.1


def test_random_iv_differs_per_packet() -> None:
    pair = make_pair("aes-128-cbc", "sha1")
    ivs = {pair.a.outbound(pair.packet(), 0.0).packet[28:44] for _ in range(20)}
    assert len(ivs) == 20


def test_keyed_transforms_are_built_once() -> None:
    pair = make_pair("aes-128-cbc", "sha1")
    sa = pair.a.sad.find_outbound(
        pair.policy_a, pair.params["ESP-ab"].protocol, None, pair.params["ESP-ab"].dst
    )
    assert sa is not None
    cipher, mac = sa.cipher, sa.mac
    for _ in range(5):
        pair.a.outbound(pair.packet(), 0.0)
    assert sa.cipher is cipher and sa.mac is mac and sa.seq_out == 5


def test_tunnel_outer_header_copies_dscp_and_sets_fresh_ttl() -> None:
    pair = make_pair("aes-128-gcm", None)
    pkt = bytearray(pair.packet())
    pkt[1] = 0xB8  # DSCP EF
    pkt[8] = 3  # TTL
    pkt[10:12] = b"\x00\x00"
    from pyipsec.wire.ip import internet_checksum

    pkt[10:12] = internet_checksum(bytes(pkt[:20])).to_bytes(2, "big")
    out = pair.a.outbound(bytes(pkt), 0.0)
    assert out.packet[1] == 0xB8 and out.packet[8] == 64
    assert internet_checksum(out.packet[:20]) == 0


def test_rekey_overlap_newest_sends_all_accepted() -> None:
    from dataclasses import replace

    pair = make_pair("aes-128-cbc", "sha1")
    old_out = pair.params["ESP-ab"]
    new_out = replace(old_out, spi=0x999, enc_key=bytes(16))
    pair.a.sad.add(new_out, 5.0)
    from pyipsec.dataplane.policy import Direction

    pair.b.sad.add(replace(new_out, direction=Direction.IN), 5.0)
    out = pair.a.outbound(pair.packet(), 6.0)
    assert out.packet[20:24] == (0x999).to_bytes(4, "big")
    assert pair.b.inbound(out.packet, 6.0).verdict is Verdict.DELIVER
    # A packet still in flight on the old SA is accepted too.
    old_sa = next(sa for sa in pair.a.sad if sa.spi == old_out.spi)
    old_sa.state = old_sa.state.DYING
    pair.a.sad.remove(next(sa for sa in pair.a.sad if sa.spi == 0x999))
    late = pair.a.outbound(pair.packet(), 6.0)
    assert late.packet[20:24] == old_out.spi.to_bytes(4, "big")
    assert pair.b.inbound(late.packet, 6.0).verdict is Verdict.DELIVER


@pytest.mark.parametrize("inner,outer", [(4, 4), (6, 6), (4, 6), (6, 4)])
@pytest.mark.parametrize("inner_ecn,expected", [(0, 0), (1, 3), (2, 3), (3, 3)])
def test_ecn_congestion_mark_survives_decapsulation(
    inner: int, outer: int, inner_ecn: int, expected: int
) -> None:
    """RFC 6040 §4.2: outer CE is copied to an ECN-capable inner packet, never to Not-ECT."""
    from pyipsec.wire.ip import ecn, internet_checksum, with_ecn_ce

    pair = make_pair("aes-128-gcm", None, inner=inner, outer=outer)
    pkt = bytearray(pair.packet())
    if inner == 4:
        pkt[1] = inner_ecn
        pkt[10:12] = b"\x00\x00"
        pkt[10:12] = internet_checksum(bytes(pkt[:20])).to_bytes(2, "big")
    else:
        pkt[1] = (pkt[1] & 0xCF) | (inner_ecn << 4)
    out = pair.a.outbound(bytes(pkt), 1.0)
    assert ecn(out.packet) == inner_ecn  # copied on encapsulation (RFC 6040 normal mode)
    marked = with_ecn_ce(out.packet)  # a congested router marks the outer header
    got = pair.b.inbound(marked, 1.0)
    assert got.verdict is Verdict.DELIVER
    assert ecn(got.packet) == expected
    if inner == 4:
        assert internet_checksum(got.packet[:20]) == 0
