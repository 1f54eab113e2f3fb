"""Quick mode's bounds: nonce sizes (RFC 2409 §5), SPIs given back when nothing was installed,
soft lifebytes spread per bundle (quick_mode.py)."""

from __future__ import annotations

import functools

import pytest

from pyipsec.core.events import ChildSaInstalled, NegotiationFailed, NotifyReceived
from pyipsec.core.ikev1 import proposals
from pyipsec.core.ikev1 import quick_mode as qm
from pyipsec.core.ikev1.ike_sa import Side
from pyipsec.dataplane.policy import Direction
from pyipsec.wire.ikev1.constants import ExchangeType
from pyipsec.wire.ikev1.header import pull_header

from .harness import B_ADDR, Net, configure, seeded_rng, site_to_site


def phase1_only(net: Net) -> None:
    """Establish phase 1 between A and B without a quick mode."""
    (peer,) = net.a.engine.peers
    net.a.engine.start_phase1(peer, net.a.address, B_ADDR, net.now)
    net.run(10)
    assert [r.state for r in net.a.engine.remote_peers()] == ["established"]


def is_quick_mode(data: bytes) -> bool:
    return pull_header(data).exchange_type == ExchangeType.QUICK_MODE


@pytest.mark.parametrize("size", [4, 257])
def test_the_responder_refuses_a_nonce_of_the_wrong_size(
    monkeypatch: pytest.MonkeyPatch, size: int
) -> None:
    net, pa, _ = site_to_site()
    phase1_only(net)
    monkeypatch.setattr(qm, "NONCE_SIZE", size)
    net.a.engine.acquire(pa, net.now)
    net.run(10)
    assert net.a.backend.sas == {} and net.b.backend.sas == {}
    assert net.b.engine.stats()["bad-nonce"] == 1
    assert any("PAYLOAD_MALFORMED" in e.reason for e in net.b.of(NegotiationFailed))
    assert any(e.notify == "PAYLOAD_MALFORMED" for e in net.a.of(NotifyReceived))
    assert net.a.backend.reserved == set() and net.b.backend.reserved == set()


@pytest.mark.parametrize("size", [7, 300])
def test_the_initiator_refuses_a_reply_nonce_of_the_wrong_size(
    monkeypatch: pytest.MonkeyPatch, size: int
) -> None:
    net, pa, _ = site_to_site()
    phase1_only(net)
    net.a.engine.acquire(pa, net.now)
    first = net._collect()  # A's message 1, with a good nonce
    monkeypatch.setattr(qm, "NONCE_SIZE", size)  # B answers with a bad one
    for d in first:
        net._deliver(d)
    net.run(10)
    assert not net.a.of(ChildSaInstalled)
    assert net.a.engine.stats()["bad-nonce"] == 1
    assert any("PAYLOAD_MALFORMED" in e.reason for e in net.a.of(NegotiationFailed))
    assert net.a.backend.sas == {} and net.a.backend.reserved == set()
    assert net.b.backend.sas == {}  # B never saw HASH(3): nothing installed there either


def test_spis_are_released_when_the_responder_refuses() -> None:
    net, pa, _ = site_to_site()
    configure(net.b, peers=list(net.b.engine.peers), policies=[])  # no policy: refused
    net.a.engine.acquire(pa, net.now)
    net.run(10)
    assert any("INVALID_ID_INFORMATION" in e.reason for e in net.a.of(NegotiationFailed))
    assert [k for k, v in net.a.backend.log if k == "allocate_spi"]  # one was reserved ...
    assert net.a.backend.reserved == set()  # ... and given back


def test_spis_are_released_when_quick_mode_gets_no_answer() -> None:
    net, pa, _ = site_to_site()
    phase1_only(net)
    net.drop_if = lambda d: is_quick_mode(d.data) and d.src[0] == B_ADDR
    net.a.engine.acquire(pa, net.now)
    net.run(1)
    assert len(net.a.backend.reserved) == 1 and len(net.b.backend.reserved) == 1
    net.run(200)
    assert any("quick mode: no answer" in e.reason for e in net.a.of(NegotiationFailed))
    # A gave up on its message 1, B on its message 2 (HASH(3) never came): both released.
    assert net.a.backend.reserved == set() and net.b.backend.reserved == set()
    assert net.a.backend.sas == {} and net.b.backend.sas == {}


def test_spis_are_released_when_hash3_is_lost() -> None:
    net, pa, _ = site_to_site()
    phase1_only(net)
    sent: list[int] = []

    def lose_hash3(d) -> bool:  # type: ignore[no-untyped-def]
        if is_quick_mode(d.data) and d.src[0] == net.a.address:
            sent.append(1)
            return len(sent) >= 2  # A's message 3 (and anything after it) is lost
        return False

    net.drop_if = lose_hash3
    net.a.engine.acquire(pa, net.now)
    net.run(200)
    assert len(net.a.of(ChildSaInstalled)) == 1 and not net.b.of(ChildSaInstalled)
    assert net.b.backend.reserved == set()  # B's reserved SPI went back at give-up


def test_spis_are_released_when_the_phase_1_goes_during_quick_mode() -> None:
    net, pa, _ = site_to_site()
    phase1_only(net)
    net.a.engine.acquire(pa, net.now)
    net._collect()  # message 1 is on the wire; B never gets it
    assert len(net.a.backend.reserved) == 1
    net.a.engine.kill_connections(net.now)
    assert net.a.backend.reserved == set()


def test_soft_lifebytes_are_spread_and_the_initiator_goes_first() -> None:
    hard = 100_000_000
    for side in Side:
        lo, hi = qm.SOFT_BYTES_RANGE[side]
        draws = {qm.soft_bytes(seeded_rng(bytes([i])), side, hard) for i in range(50)}
        assert len(draws) > 40  # spread, not one fixed point
        assert all(hard * lo <= d < hard * hi for d in draws)
    assert qm.SOFT_BYTES_RANGE[Side.INITIATOR][1] <= qm.SOFT_BYTES_RANGE[Side.RESPONDER][0]
    # Deterministic under the injected rng; no limit draws nothing.
    assert qm.soft_bytes(seeded_rng(b"x"), Side.INITIATOR, hard) == qm.soft_bytes(
        seeded_rng(b"x"), Side.INITIATOR, hard
    )
    assert qm.soft_bytes(seeded_rng(b"x"), Side.INITIATOR, 0) == 0


def test_both_ends_no_longer_go_soft_at_exactly_90_percent(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A offers a kilobytes lifetime (as strongSwan does); both install SAs with it.
    offer = functools.partial(proposals.phase2_offer, lifebytes=512 * 1024 * 1024)
    monkeypatch.setattr(qm.proposals, "phase2_offer", offer)
    net, pa, _ = site_to_site()
    net.a.engine.acquire(pa, net.now)
    net.run(10)
    lives = {}
    for name, side in (("a", net.a), ("b", net.b)):
        (out,) = [s for s in side.sas() if s.direction is Direction.OUT]
        (inn,) = [s for s in side.sas() if s.direction is Direction.IN]
        assert out.lifetime == inn.lifetime  # one draw per bundle
        lives[name] = out.lifetime
    hard = lives["a"].hard_bytes
    assert hard == lives["b"].hard_bytes == 512 * 1024 * 1024
    a_soft, b_soft = lives["a"].soft_bytes, lives["b"].soft_bytes
    assert 0.80 * hard <= a_soft < 0.875 * hard <= b_soft < 0.95 * hard


def test_the_real_backends_spi_table_is_clean_after_a_refused_quick_mode() -> None:
    from pyipsec.dataplane.inprocess import InProcessBackend

    from .harness import A_ADDR, NET_A, NET_B, tunnel_policy
    from .test_dpd import real_side

    pa = tunnel_policy(NET_A, NET_B, A_ADDR, B_ADDR)
    pb = tunnel_policy(NET_B, NET_A, B_ADDR, A_ADDR)
    net = Net(a=real_side(b"A", A_ADDR, pa, B_ADDR), b=real_side(b"B", B_ADDR, pb, A_ADDR))
    configure(net.b, peers=list(net.b.engine.peers), policies=[])
    for _ in range(3):  # three acquires, three refusals
        net.a.engine.acquire(pa, net.now)
        net.run(10)
    assert len(net.a.of(NegotiationFailed)) == 3
    backend = net.a.backend
    assert isinstance(backend, InProcessBackend)
    assert backend.reserved == frozenset() and len(backend.processor.sad) == 0
