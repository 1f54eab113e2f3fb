"""IKEv2 liveness checks from `dpd-interval` / `dpd-maximum-failures` (RFC 7296 §2.4) between
two engines: an idle peer gets empty INFORMATIONAL requests and stays up; traffic on the
child SAs or IKE messages defer the check; a peer that stops answering is declared
unreachable after dpd-maximum-failures sends dpd-interval apart, its SAs removed; checks go
on over the IKE SA a rekey made; dpd-interval off sends nothing."""

from __future__ import annotations

import itertools

import pytest

from pyipsec.core.events import PeerUnreachable
from pyipsec.wire.ikev2.constants import ExchangeType
from pyipsec.wire.ikev2.header import peek
from tests.core.ikev1.exchanges.harness import Net, Side

from .harness import ike2_pair, live_children

INTERVAL = 10


def up(**peer: object) -> Net:
    net, pa, _ = ike2_pair(peer_a={"dpd_interval": INTERVAL, "dpd_maximum_failures": 3, **peer})
    net.a.engine.acquire(pa, net.now)
    net.run(5)
    assert len(net.a.sas()) == 2
    return net


def probes(net: Net, sender: Side) -> list[float]:
    """Times of ``sender``'s empty INFORMATIONAL requests (liveness checks; a Delete or a
    notify is longer than an empty SK payload)."""
    out = []
    for t, d in net.log:
        h = peek(d.data)
        empty = len(d.data) <= 28 + 4 + 16 + 16 + 16  # header, SK, IV, padding, ICV
        request = h.exchange == ExchangeType.INFORMATIONAL and not h.response
        if request and d.src[0] == sender.address and empty:
            out.append(t)
    return out


def test_an_idle_peer_is_checked_every_interval_and_stays_up() -> None:
    net = up()
    start = net.now
    net.run(10 * INTERVAL + 1)
    sent = probes(net, net.a)
    assert 8 <= len(sent) <= 11
    assert all(b - a >= INTERVAL - 0.01 for a, b in itertools.pairwise(sent))
    assert sent[0] - start <= INTERVAL
    assert net.a.engine.stats()["liveness-check-answered"] == len(sent)
    assert net.b.engine.stats()["liveness-answered"] == len(sent)
    assert not net.a.of(PeerUnreachable) and len(net.a.sas()) == 2
    assert probes(net, net.b) == []  # B has no dpd-interval


def test_traffic_on_the_child_sa_defers_the_check() -> None:
    net = up()
    (child,) = live_children(net.a)
    before = len(probes(net, net.a))
    for _ in range(20):  # a packet arrives on A's inbound SA every 5 s
        net.a.backend.traffic(child.spi_in, child.protocol, child.local, 100, net.now)
        net.run(5)
    assert len(probes(net, net.a)) == before
    net.run(2 * INTERVAL)  # traffic stops: checks resume
    assert len(probes(net, net.a)) > before


@pytest.mark.parametrize("failures", [1, 3])
def test_a_silent_peer_is_unreachable_after_the_maximum_failures(failures: int) -> None:
    net = up(dpd_maximum_failures=failures)
    net.run(INTERVAL / 2 + 1)
    net.drop_if = lambda d: d.dst[0] == net.b.address  # B is gone
    silent_from = net.now
    net.run(INTERVAL * (failures + 3))
    (dead,) = net.a.of(PeerUnreachable)
    assert net.a.sas() == [] and not [s for s in net.a.engine.ike.values() if not s.dead]
    sent = [t for t in probes(net, net.a) if t > silent_from]
    assert len(sent) == failures  # first send and the resends, dpd-interval apart
    # idle for at most one interval, then `failures` sends each waited for one interval
    died = max(t for t, d in net.log if d.src[0] == net.a.address)
    assert died - silent_from <= INTERVAL * (failures + 1)
    assert "retransmissions" in dead.reason


def test_checks_go_on_over_a_rekeyed_ike_sa() -> None:
    net = up(lifetime=200)
    net.run(400)  # at least one IKE SA rekey
    assert net.a.engine.stats().get("ike-rekey-started", 0) >= 1
    checked = net.a.engine.stats()["liveness-check-answered"]
    net.run(5 * INTERVAL)
    assert net.a.engine.stats()["liveness-check-answered"] >= checked + 4
    assert not net.a.of(PeerUnreachable)


def test_no_checks_without_dpd_interval() -> None:
    net = up(dpd_interval=None)
    net.run(20 * INTERVAL)
    assert probes(net, net.a) == [] and probes(net, net.b) == []
