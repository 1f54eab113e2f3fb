"""Mutated ESP plaintext behind a valid ICV (issue 9, mutation campaign).

A mutation on the wire ends at the ICV check. Here the packets are built with the SA's own
integrity key (ESP with NULL encryption and HMAC-SHA-256, so the plaintext is what we write):
the trailer (pad length, padding, next header) and the inner packet (version, lengths,
protocol, addresses outside the SA's selector, truncation) are mutated, each packet gets the
next sequence number and a correct ICV. Every packet must end as a counted drop with a reason
that is not ``internal error``, or be delivered, for tunnel and transport mode and both inner
address families.
"""

from __future__ import annotations

import random
import struct

import pytest

from pyipsec.dataplane.processor import Verdict
from pyipsec.dataplane.sad import Direction, SaProtocol
from pyipsec.wire.ip import build_ip

from .engine_helpers import Pair, make_pair
from .test_fuzz_packets import check_inbound

CONFIGS = {
    "tunnel-v4": dict(tunnel=True, inner=4, outer=4),
    "tunnel-v6-in-v4": dict(tunnel=True, inner=6, outer=4),
    "transport-v4": dict(tunnel=False, outer=4),
    "transport-v6": dict(tunnel=False, outer=6),
}
NEXT_HEADERS = (0, 1, 4, 6, 17, 41, 50, 51, 58, 59, 255)


def trailer(payload_len: int, next_header: int, block: int = 4) -> bytes:
    pad = -(payload_len + 2) % block
    return bytes(range(1, pad + 1)) + bytes([pad, next_header])


def mutate(rng: random.Random, pair: Pair) -> bytes:
    """A plaintext (payload + trailer), valid to start with, then mutated."""
    inner = bytearray(pair.packet(rng.randbytes(rng.randrange(0, 64))))
    tunnel = pair.policy_b.tunnel
    if tunnel:
        nh = 4 if inner[0] >> 4 == 4 else 41
        payload = inner
    else:
        off = 20 if inner[0] >> 4 == 4 else 40
        nh, payload = 17, inner[off:]
    for _ in range(rng.choice((1, 1, 2, 3))):
        kind = rng.randrange(8)
        if kind == 0 and payload:
            payload[rng.randrange(len(payload))] ^= 1 << rng.randrange(8)
        elif kind == 1:
            del payload[rng.randrange(len(payload) + 1) :]
        elif kind == 2:
            payload += rng.randbytes(rng.randrange(1, 40))
        elif kind == 3:
            nh = rng.choice(NEXT_HEADERS)
        elif kind == 4 and tunnel and len(payload) >= 20:  # inner header fields
            i = rng.choice((0, 2, 3, 4, 6, 9) if payload[0] >> 4 == 4 else (0, 4, 5, 6, 7))
            payload[i] = rng.randrange(256)
        elif kind == 5 and tunnel and len(payload) >= 20:  # an inner source outside the SA
            if payload[0] >> 4 == 4:
                payload[12:16] = bytes([203, 0, 113, rng.randrange(64, 128)])
            elif len(payload) >= 40:
                payload[8:24] = bytes.fromhex("20010db8dead") + rng.randbytes(10)
        elif kind == 6:  # a whole inner packet of another family or protocol
            src, dst = (pair.dst, pair.src) if rng.random() < 0.5 else (pair.src, pair.dst)
            payload = bytearray(build_ip(src, dst, rng.choice((1, 6, 17, 58)), rng.randbytes(8)))
        else:
            pass  # the trailer only (below)
    plain = bytearray(bytes(payload) + trailer(len(payload), nh))
    if rng.random() < 0.3:  # the trailer itself: pad length, padding bytes
        which = rng.randrange(3)
        if which == 0:
            plain[-2] = rng.choice((0, 1, 3, 255, rng.randrange(256)))
        elif which == 1 and plain[-2]:
            plain[-3] ^= 0xFF
        else:
            plain[-2:-1] = bytes([len(plain)])
    return bytes(plain)


def seal(pair: Pair, plaintext: bytes, seq: int) -> bytes:
    """ESP from A to B around ``plaintext`` with B's inbound SA's key (NULL encryption)."""
    (sa,) = [
        s
        for s in pair.b.sad
        if s.params.direction is Direction.IN and s.params.protocol is SaProtocol.ESP
    ]
    assert sa.mac is not None
    esp = struct.pack("!II", sa.params.spi, seq) + plaintext
    esp += sa.mac.compute(esp)
    return build_ip(sa.params.src, sa.params.dst, 50, esp)


@pytest.mark.parametrize("config", list(CONFIGS), ids=list(CONFIGS))
def test_authenticated_mutations_are_counted_drops_or_deliveries(config: str) -> None:
    pair = make_pair(enc="null", integ="sha256", **CONFIGS[config])  # type: ignore[arg-type]
    rng = random.Random(config)
    # the unmutated packet is accepted: the sealing here is right
    ok = pair.b.inbound(seal(pair, bytes(pair.packet()) + trailer(len(pair.packet()), 4), 1), 1.0)
    if pair.policy_b.tunnel and pair.packet()[0] >> 4 == 4:
        assert ok.verdict is Verdict.DELIVER, ok.reason
    verdicts: dict[str, int] = {}
    for seq in range(2, 1500):
        packet = seal(pair, mutate(rng, pair), seq)
        before = pair.b.stats.total()
        got = pair.b.inbound(packet, 1.0)
        after = pair.b.stats.total()
        key = got.reason or got.verdict.name
        verdicts[key] = verdicts.get(key, 0) + 1
        if got.verdict is Verdict.DROPPED:
            assert after == before + 1 and got.reason != "internal error", (seq, packet.hex())
        else:
            assert got.verdict in (Verdict.DELIVER, Verdict.DUMMY) and after == before
    print(config, dict(sorted(verdicts.items())))
    assert "DELIVER" in verdicts and len(verdicts) >= 4  # the mutations reach several checks


def test_seal_matches_the_engine() -> None:
    """``seal`` builds what the engine would (same ICV), so the test above tests the engine."""
    pair = make_pair(enc="null", integ="sha256")
    out = pair.a.outbound(pair.packet(b"x" * 10), 1.0)
    assert out.verdict is Verdict.PROTECTED
    check_inbound(pair.b, out.packet)
