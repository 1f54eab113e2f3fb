"""The transforms of SA payloads are encoded and decoded once per distinct run
(wire/ikev2/payloads.py ``_push_transforms``/``_pull_transforms``): counted, and the results
equal to those of a fresh decode. Layouts: RFC 7296 §3.3.1-§3.3.2 (as test_payloads.py)."""

from __future__ import annotations

import struct

import pytest

from pyipsec.wire.ikev2 import (
    EncrId,
    MalformedMessage,
    PayloadType,
    Proposal,
    ProtocolId,
    SaPayload,
    Transform,
    TransformType,
)
from pyipsec.wire.ikev2 import payloads as wp
from pyipsec.wire.ikev2.payloads import pull_payload_chain, push_payload_body

TRANSFORMS = (
    Transform(type=TransformType.ENCR, id=EncrId.ENCR_AES_GCM_16, key_length=128),
    Transform(type=TransformType.ESN, id=0),
)


def _sa(spi: bytes) -> SaPayload:
    return SaPayload(
        proposals=(Proposal(number=1, protocol=ProtocolId.ESP, spi=spi, transforms=TRANSFORMS),)
    )


def _chain(body: bytes) -> bytes:
    return struct.pack("!BBH", 0, 0, 4 + len(body)) + body


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    wp._pulled_transforms.clear()
    wp._pushed_transforms.clear()
    calls = {"pull": 0, "push": 0}
    pull, push = wp._pull_transform, wp._push_transform

    def counting_pull(body: bytes) -> Transform:
        calls["pull"] += 1
        return pull(body)

    def counting_push(t: Transform, last: bool) -> bytes:
        calls["push"] += 1
        return push(t, last)

    monkeypatch.setattr(wp, "_pull_transform", counting_pull)
    monkeypatch.setattr(wp, "_push_transform", counting_push)
    return calls


def test_proposals_differing_only_in_spi_share_one_encoding_and_decoding(
    counted: dict[str, int],
) -> None:
    spis = [n.to_bytes(4, "big") for n in range(0x11223344, 0x11223344 + 20)]
    bodies = [push_payload_body(_sa(spi)) for spi in spis]
    assert counted["push"] == 2  # the two transforms once (fails before: 40)
    # each body is still its own: the SPI written, the transforms as RFC 7296 lays them out
    assert bodies[0] == bytes.fromhex("00000020" "01030402" "11223344" "0300000c" "01000014"
                                      "800e0080" "00000008" "05000000")  # fmt: skip
    assert bodies[5][8:12] == spis[5]
    decoded = [pull_payload_chain(PayloadType.SA, _chain(b))[0][0] for b in bodies]
    assert counted["pull"] == 2  # (fails before: 40)
    assert decoded == [_sa(spi) for spi in spis]


def test_a_malformed_run_is_refused_every_time_and_not_kept(counted: dict[str, int]) -> None:
    good = push_payload_body(_sa(b"\x01\x02\x03\x04"))
    bad = good[:-8] + bytes.fromhex("0300000805000000")  # the last says "more follow"
    for _ in range(2):
        with pytest.raises(MalformedMessage):
            pull_payload_chain(PayloadType.SA, _chain(bad))
    assert wp._pulled_transforms == {}
    # a well-formed run with the wrong transform count in its proposal: refused each time too
    miscounted = good[:7] + b"\x03" + good[8:]
    for _ in range(2):
        with pytest.raises(MalformedMessage, match="says 3 transforms, has 2"):
            pull_payload_chain(PayloadType.SA, _chain(miscounted))


def test_the_caches_stay_bounded(counted: dict[str, int]) -> None:
    for n in range(3 * wp._TRANSFORMS_CACHE_SIZE):
        t = (Transform(type=TransformType.ENCR, id=EncrId.ENCR_AES_CBC, key_length=n),)
        sa = SaPayload(proposals=(Proposal(number=1, protocol=ProtocolId.ESP, spi=bytes(4),
                                           transforms=t),))  # fmt: skip
        assert pull_payload_chain(PayloadType.SA, _chain(push_payload_body(sa)))[0][0] == sa
        assert len(wp._pulled_transforms) <= wp._TRANSFORMS_CACHE_SIZE
        assert len(wp._pushed_transforms) <= wp._TRANSFORMS_CACHE_SIZE
