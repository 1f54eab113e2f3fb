"""Phase 1 between two engines: main, aggressive and base mode with pre-shared keys."""

from __future__ import annotations

import pytest

from pyipsec.core.events import (
    AuthenticationFailed,
    DatagramDropped,
    IkeSaEstablished,
    NegotiationFailed,
)
from pyipsec.core.profiles import ExchangeMode, Identity

from .harness import B_ADDR, site_to_site


def establish(net, a_peer_index: int = 0):  # type: ignore[no-untyped-def]
    peer = net.a.engine.peers[a_peer_index]
    return net.a.engine.start_phase1(peer, net.a.address, B_ADDR, net.now)


@pytest.mark.parametrize("mode", [ExchangeMode.MAIN, ExchangeMode.AGGRESSIVE, ExchangeMode.BASE])
def test_phase1_psk_establishes(mode: ExchangeMode) -> None:
    kw = {"exchange_mode": mode}
    if mode is ExchangeMode.AGGRESSIVE:
        net, _, _ = site_to_site(
            peer_a={**kw, "my_id": Identity(kind="fqdn", value="a.lab.example")},
            peer_b={**kw, "my_id": Identity(kind="fqdn", value="b.lab.example")},
        )
    else:
        net, _, _ = site_to_site(peer_a=kw, peer_b=kw)
    establish(net)
    net.run(10)
    ea, eb = net.a.of(IkeSaEstablished), net.b.of(IkeSaEstablished)
    assert len(ea) == 1 and len(eb) == 1, (net.a.events, net.b.events)
    assert ea[0].side == "initiator" and eb[0].side == "responder"
    assert ea[0].exchange == eb[0].exchange == {"main": "main"}.get(mode.value, mode.value)
    rows_a, rows_b = net.a.engine.remote_peers(), net.b.engine.remote_peers()
    assert [r.state for r in rows_a] == ["established"] == [r.state for r in rows_b]
    assert net.a.engine.stats() == {} or "internal-error" not in net.a.engine.stats()
    assert "internal-error" not in net.b.engine.stats()


def test_wrong_psk_fails_authentication() -> None:
    net, _, _ = site_to_site(peer_b={"secret": b"something else"})
    establish(net)
    net.run(200)
    assert net.b.of(AuthenticationFailed)
    assert not net.a.of(IkeSaEstablished) and not net.b.of(IkeSaEstablished)
    # B's notify comes under B's keys, which A's cannot open: A blames the secret too
    assert net.a.of(AuthenticationFailed)
    assert net.a.engine.remote_peers() == [] and net.b.engine.remote_peers() == []


def test_no_common_proposal() -> None:
    net, _, _ = site_to_site(
        peer_a={"enc_algorithms": ("aes-256",)}, peer_b={"enc_algorithms": ("3des",)}
    )
    establish(net)
    net.run(10)
    assert any("NO_PROPOSAL_CHOSEN" in e.reason for e in net.b.of(NegotiationFailed))
    assert any("NO_PROPOSAL_CHOSEN" in e.reason for e in net.a.of(NegotiationFailed))
    assert net.a.engine.remote_peers() == []


def test_unknown_peer_is_dropped() -> None:
    net, _, _ = site_to_site(peer_b={"address": __import__("ipaddress").ip_network("192.0.2.0/24")})
    establish(net)
    net.run(200)
    assert any(e.reason == "unknown-peer" for e in net.b.of(DatagramDropped))
    assert net.b.engine.stats()["unknown-peer"] >= 1
    assert net.a.of(NegotiationFailed)
