"""The recording FakeBackend keeps the books the way the real backend does.

Engine tests run on ``FakeBackend``; what they prove holds for the daemon only if the fake
reports what ``InProcessBackend`` over the packet engine reports. Both are driven through the
same calls here, the real one with real ESP packets through a ``Processor``.
"""

from __future__ import annotations

from dataclasses import replace

from pyipsec.dataplane.fake import FakeBackend
from pyipsec.dataplane.inprocess import InProcessBackend
from pyipsec.dataplane.policy import Direction
from pyipsec.dataplane.results import Verdict
from pyipsec.dataplane.sad import SaProtocol
from tests.dataplane.engine_helpers import det_rng, make_pair


def test_usage_reports_match_the_real_backend_packet_by_packet() -> None:
    pair = make_pair(install=False)
    out_ab = pair.params["ESP-ab"]
    in_ab = replace(out_ab, direction=Direction.IN)
    real = InProcessBackend(pair.b, det_rng(b"r"))
    fake = FakeBackend(rng=det_rng(b"f"))
    pair.a.sad.add(out_ab, 0.0)
    for be in (real, fake):
        be.add_sa(in_ab, 0.0)
    key = (in_ab.spi, SaProtocol.ESP, in_ab.dst)
    assert real.sa_usage(*key) == fake.sa_usage(*key)  # never used: no times at all
    for t in (3.0, 4.5, 61.0):
        esp = pair.a.outbound(pair.packet(b"x" * 50), t)
        assert esp.verdict is Verdict.PROTECTED
        got = pair.b.inbound(esp.packet, t)
        assert got.verdict is Verdict.DELIVER
        # A replayed copy is dropped before it is counted: it is no sign of life.
        assert pair.b.inbound(esp.packet, t + 1).verdict is Verdict.DROPPED
        fake.traffic(*key, nbytes=0, now=t)
        r, f = real.sa_usage(*key), fake.sa_usage(*key)
        assert r is not None and f is not None
        assert (r.packets, r.first_used, r.last_used) == (f.packets, f.first_used, f.last_used)
    r = real.sa_usage(*key)
    assert r is not None and r.first_used == 3.0 and r.last_used == 61.0
    for be in (real, fake):
        assert be.delete_sa(*key)
        assert be.sa_usage(*key) is None


def test_spi_reservations_match_the_real_backend() -> None:
    pair = make_pair(install=False)
    gw_b, gw_a = pair.policy_b.sa_src, pair.policy_b.sa_dst
    assert gw_a is not None and gw_b is not None
    real = InProcessBackend(pair.b, det_rng(b"same"))
    fake = FakeBackend(rng=det_rng(b"same"))
    spis = []
    for be in (real, fake):
        spis.append([be.allocate_spi(SaProtocol.ESP, gw_a, gw_b) for _ in range(3)])
    assert spis[0] == spis[1]
    first, second, third = spis[0]
    assert real.reserved == fake.reserved == {(s, SaProtocol.ESP, gw_b) for s in spis[0]}
    taken = replace(pair.params["ESP-ab"], spi=first, direction=Direction.IN)
    for be in (real, fake):
        be.add_sa(taken, 0.0)  # an SA takes its SPI out of the reservations
        assert not be.delete_sa(second, SaProtocol.ESP, gw_b)  # releases a reservation
    assert real.reserved == fake.reserved == {(third, SaProtocol.ESP, gw_b)}
