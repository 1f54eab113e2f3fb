"""The engine's per-tick and per-event work does not grow with the number of peers (issue 9:
a hub with thousands of spokes). Work is counted, never timed (``tests/harness/ike_scale.py``):
a DPD check of one peer visits that peer's IKE SA and its own child SAs, whether the hub has 10
peers or 2,000; before, every tick visited every IKE SA and every DPD check walked every child.
"""

from __future__ import annotations

import dataclasses

import pytest

from pyipsec.core.ikev1 import renewal
from pyipsec.core.ikev1.ike_sa import ChildSa, IkeSa, identity_key
from pyipsec.dataplane.policy import Policy
from pyipsec.dataplane.sad import ExpiryReason, SaHardExpired, SaProtocol
from pyipsec.wire.ikev1.constants import IdentificationType
from pyipsec.wire.ikev1.payloads import IdPayload
from tests.harness.ike_scale import SPOKES, Counted, hub


@pytest.mark.parametrize("n", [10, 2000])
def test_a_dpd_check_costs_the_same_with_10_or_2000_peers(n: int) -> None:
    h = hub(n)
    first = h.deadlines()[0]
    assert h.engine.next_timer() == first
    with Counted():
        h.visits[0] = h.backend.usage_calls = 0
        h.engine.handle_timer(first)  # exactly one peer's DPD check is due
        assert h.visits[0] == 1
        assert h.backend.usage_calls == 2  # its two inbound SAs, nobody else's
        assert Counted.remote_reads <= 4, Counted.remote_reads
    probed = [sa for sa in h.sas if sa.dpd_pending is not None]
    assert len(probed) == 1  # idle: it was probed (no keys here, so nothing went out)
    assert h.engine.next_timer() == h.deadlines()[0] > first


def test_a_whole_dpd_round_over_2000_peers_visits_each_once() -> None:
    n = 2000
    h = hub(n)
    with Counted():
        h.visits[0] = h.backend.usage_calls = 0
        ticks = 0
        while (t := h.engine.next_timer()) is not None and t <= 1000.0 + 30:
            h.engine.handle_timer(t)
            ticks += 1
        assert ticks == n and h.visits[0] == n
        assert h.backend.usage_calls == 2 * n
        assert Counted.remote_reads <= 4 * n, Counted.remote_reads
    assert all(sa.dpd_pending is not None for sa in h.sas)


@pytest.mark.parametrize("n", [10, 2000])
def test_an_sa_expiry_finds_its_child_without_walking_the_others(n: int) -> None:
    h = hub(n)
    victim = list(h.engine.children)[n]  # one child of the peer in the middle
    proto, spi_in, _ = victim.sas[0]
    with Counted():
        h.engine.sa_expired(
            SaHardExpired(spi=spi_in, protocol=proto, dst=victim.local, reason=ExpiryReason.TIME),
            1001.0,
        )
        assert victim.deleted and victim not in h.engine.children
        assert Counted.remote_reads <= 8, Counted.remote_reads
    assert len(h.engine.children) == 2 * n - 1
    assert SaProtocol.ESP is proto


def test_deleting_one_peer_deletes_only_its_children_and_walks_no_others() -> None:
    h = hub(2000)
    sa = h.sas[1000]
    with Counted():
        h.engine.delete_ike(sa, 1001.0, reason="test", children=True, notify=False)
        assert Counted.remote_reads <= 16, Counted.remote_reads
    assert len(h.engine.children) == 2 * 2000 - 2
    assert all(c.remote != sa.remote[0] for c in h.engine.children)
    assert sa.cky_i not in h.engine.ike and not h.engine.ike.with_address(sa.remote[0])


def test_a_deadline_changed_without_touch_is_caught() -> None:
    """The nets under the timer queue (timer_queue.py): strict mode raises at the next tick;
    otherwise the periodic sweep finds it, counts it and runs it."""
    h = hub(10)
    h.engine.handle_timer(1000.0)  # the first sweep
    sa = h.sas[-1]  # due last (1030)
    sa.dpd_next = 1001.0  # behind the engine's back
    h.engine.strict = True
    with pytest.raises(AssertionError, match="timers not scheduled"):
        h.engine.handle_timer(1000.5)
    h.engine.strict = False
    h.engine.handle_timer(1060.5)  # sweep due (60 s after the first): found and run at once
    assert h.engine.stats().get("timer-missed") == 1
    assert sa.dpd_pending is not None


def test_next_timer_includes_the_safety_sweep() -> None:
    """The sweep only helps if the shell wakes up for it: ``next_timer`` names it, so a
    deadline changed without ``touch`` runs at most ``SWEEP_INTERVAL`` late even when no other
    timer is near (before, the shell slept until the next scheduled deadline, here the phase
    1's renewal hours away), as the IKEv2 engine does (core/ikev2/engine.next_timer)."""
    from pyipsec.core.ikev1.timer_queue import SWEEP_INTERVAL
    from tests.core.ikev1.exchanges.harness import site_to_site

    net, pa, _ = site_to_site()
    net.a.engine.acquire(pa, net.now)
    net.run(10)
    eng = net.a.engine
    eng.strict = False
    eng.handle_timer(net.now)  # the sweep ran now: the next is due SWEEP_INTERVAL later
    (sa,) = [s for s in eng.ike.values() if s.established]
    sa.dpd_next = net.now + 1.0  # a liveness check due, set behind the heap's back
    due = eng.next_timer()
    assert due is not None and due <= net.now + SWEEP_INTERVAL
    eng.handle_timer(due)
    assert eng.stats().get("timer-missed") == 1
    assert sa.dpd_next is None  # it ran, late but not lost (DPD is off: nothing to probe)


def test_phase_1s_from_one_address_adopt_children_without_examining_every_older_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Many phase 1s with one peer address and identity (the IKE setup benchmark: one
    initiator address, a phase 1 to each of the responder's addresses): each new one, as
    responder, adopts the children of the older ones (a reauthentication, renewal.py), so in
    the end all hang under the newest. Only the older phase 1 that still holds children is
    examined each time; before, every older one was (identity compared, children listed and
    re-indexed one by one), and a burst of n setups cost O(n^2)."""
    n = 300
    h = hub(1, children=0)
    engine, peer_sa = h.engine, h.sas[0]
    remote = peer_sa.remote[0]
    engine.delete_ike(peer_sa, 1000.0, reason="test", children=True, notify=False)
    examined = [0]
    real_identity_key = renewal.identity_key

    def counting(ident: IdPayload | None) -> tuple[int, bytes] | None:
        examined[0] += 1
        return real_identity_key(ident)

    monkeypatch.setattr(renewal, "identity_key", counting)
    ident = IdPayload(id_type=IdentificationType.ID_IPV6_ADDR, data=remote.packed)
    sas: list[IkeSa] = []
    children: list[ChildSa] = []
    for i in range(n):
        sa = dataclasses.replace(
            peer_sa,
            cky_i=(1000 + i).to_bytes(8, "big"),
            peer_id=ident,
            expires_at=5000.0,
            dead=False,
            dpd_next=None,
        )
        engine.ike[sa.cky_i] = sa
        engine.touch(sa)
        renewal.established(engine, sa, 1000.0)  # sets renew_at, adopts the older children
        sas.append(sa)
        child = ChildSa(
            peer_id=1, local=peer_sa.local[0], remote=remote,
            policy=Policy(id=0x4000_0000 + i, src=SPOKES, dst=SPOKES),
            sas=((SaProtocol.ESP, 0x1000 + 2 * i, 0x1001 + 2 * i),),
            installed=1000.0, initiator=False, peer_identity=identity_key(ident),
            made_by=sa.cky_i,
        )  # fmt: skip
        engine.children.append(child)
        children.append(child)
    newest = sas[-1]
    assert renewal.made_under(engine, newest) == children  # all of them, in their order
    assert all(c.made_by == newest.cky_i for c in children)
    assert all(not renewal.made_under(engine, sa) for sa in sas[:-1])
    assert all(sa.renew_at is None for sa in sas[:-1]) and newest.renew_at is not None
    assert engine.stats()["children-adopted"] == n * (n - 1) // 2  # each moved at every step
    # each step: the new SA itself and the one older SA holding the children (before: all)
    assert examined[0] <= 2 * n, examined[0]
