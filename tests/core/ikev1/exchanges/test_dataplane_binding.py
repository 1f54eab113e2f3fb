"""What quick mode hands the data plane to bind its SAs, and how the engine follows the data
plane: selectors on every SA (RFC 4301 §5.2), a rekey when an SA's sequence numbers run out
(RFC 4303 §3.3.3), the peer's new NAT port once ESP from it authenticated (RFC 3948 §5)."""

from __future__ import annotations

from pyipsec.core.events import ChildSaInstalled
from pyipsec.core.ikev1.engine import NATT_PORT
from pyipsec.dataplane.policy import Direction
from pyipsec.dataplane.sad import ExpiryReason, SaSelector, SaSoftExpired

from .harness import NAT_PUBLIC, NET_A, NET_B, assert_pairs_match, site_to_site


def up(net, pa):  # type: ignore[no-untyped-def]
    net.a.engine.acquire(pa, net.now)
    net.run(10)
    assert assert_pairs_match(net.a, net.b) == 1


def test_quick_mode_binds_both_directions_to_the_negotiated_traffic() -> None:
    net, pa, _ = site_to_site(policy_a={"protocol": 17}, policy_b={"protocol": 17})
    up(net, pa)
    for side, own, other in ((net.a, NET_A, NET_B), (net.b, NET_B, NET_A)):
        for sa in side.sas():
            want = (
                SaSelector(src=own, dst=other, protocol=17)
                if sa.direction is Direction.OUT
                else SaSelector(src=other, dst=own, protocol=17)
            )
            assert sa.selector == want, (side, sa.direction)


def test_sequence_exhaustion_starts_a_rekey() -> None:
    """The data plane reports an exhausted SA as a soft expiry (reason sequence): a
    replacement is negotiated while the old SAs stay until their hard expiry."""
    net, pa, _ = site_to_site()
    up(net, pa)
    out = next(s for s in net.a.sas() if s.direction is Direction.OUT)
    net.a.engine.sa_expired(
        SaSoftExpired(
            spi=out.spi, protocol=out.protocol, dst=out.dst, reason=ExpiryReason.SEQUENCE
        ),
        net.now,
    )
    net.run(5)
    assert [e.rekey for e in net.a.of(ChildSaInstalled)] == [False, True]
    assert assert_pairs_match(net.a, net.b) == 2


def test_ike_follows_the_peers_new_nat_port() -> None:
    """A's NAT rebinds to a new public port. B's data plane sees authenticated ESP from it
    and calls ``peer_port_changed``: B's IKE SA moves, and B's next quick mode (a rekey)
    reaches A through the new mapping and installs SAs for the new port."""
    net, pa, _ = site_to_site(nat=True)
    up(net, pa)
    inside, old_port = next((i, p) for i, p in net._nat_out.items() if i[1] == NATT_PORT)
    new_port = old_port + 1000
    net._nat_out[inside] = new_port  # the NAT forgot the old mapping and made a new one
    assert net.b.engine.peer_port_changed(NAT_PUBLIC, old_port, new_port) == 1
    assert net.b.engine.peer_port_changed(NAT_PUBLIC, old_port, new_port) == 0  # done once
    out = next(s for s in net.b.sas() if s.direction is Direction.OUT)
    before = len(net.log)
    net.b.engine.sa_expired(
        SaSoftExpired(spi=out.spi, protocol=out.protocol, dst=out.dst, reason=ExpiryReason.TIME),
        net.now,
    )
    net.run(5)
    assert [e.rekey for e in net.b.of(ChildSaInstalled)] == [False, True]
    sent = [d for _, d in net.log[before:] if d.src[0] != NAT_PUBLIC]
    assert sent and all(d.dst == (NAT_PUBLIC, new_port) for d in sent)
    newest = [s for s in net.b.sas() if s.udp_encap is not None and new_port in s.udp_encap]
    assert {s.direction: s.udp_encap for s in newest} == {
        Direction.IN: (new_port, NATT_PORT),
        Direction.OUT: (NATT_PORT, new_port),
    }
