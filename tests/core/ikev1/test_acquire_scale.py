"""An acquire costs the same with 10 or 5,000 peers (issue 9: a hub with thousands of spokes).

Work is counted, never timed: every Python and C function call the engine makes while it
handles one acquire (``sys.setprofile``). The peer is found through ``PeerIndex`` (a few dict
lookups, core/ikev1/peers.py) and the IKE SA through the remote-address index of ``IkeTable``;
before, ``initiator_endpoints`` (and the unknown-SPI path) called ``PeerProfile.matches`` on
every peer entry.
"""

from __future__ import annotations

import functools
import gc
import ipaddress
import sys
from collections.abc import Callable
from types import FrameType
from typing import Any

import pytest

from pyipsec.core.events import NegotiationFailed
from pyipsec.dataplane.sad import SaProtocol
from tests.harness.acquire_scale import HUB, NOW, SPOKES, policy_to, spokes


def calls_during(action: Callable[[], Any]) -> int:
    """How many Python and C function calls ``action`` makes."""
    count = 0

    def profile(frame: FrameType, event: str, arg: object) -> None:
        nonlocal count
        if event in ("call", "c_call"):
            count += 1

    # no garbage collection meanwhile: its callbacks (Hypothesis installs one once a fuzz test
    # has run in this process) would be counted as the engine's calls whenever a collection
    # happened to fall into one of the measured acquires
    enabled = gc.isenabled()
    gc.disable()
    sys.setprofile(profile)
    try:
        action()
    finally:
        sys.setprofile(None)
        if enabled:
            gc.enable()
    return count


def acquire_cost(n: int, plen: int) -> tuple[int, int]:
    """Calls for an acquire towards a peer with an established phase 1 and towards an address
    that only the /0 entry covers (a new phase 1), after a first acquire built the index."""
    s = spokes(n, plen)
    s.engine.acquire(policy_to(0, s.peers[0].address.network_address), NOW)  # builds the index
    target = s.peers[n // 2]
    remote = target.address.network_address
    established = calls_during(lambda: s.engine.acquire(policy_to(1, remote), NOW))
    assert [(sa.peer, p.id) for sa, p in s.started_qm[1:]] == [(target, 101)]
    assert s.engine.ike.with_address(remote)[0] is s.started_qm[1][0]
    elsewhere = ipaddress.ip_address("2001:db8:7::9")
    fresh = calls_during(lambda: s.engine.acquire(policy_to(2, elsewhere), NOW))
    assert [(p.id, local, r) for p, local, r in s.started_p1] == [(1, HUB, elsewhere)]
    return established, fresh


@pytest.mark.parametrize("plen", [128, 126])  # spokes as host entries, as prefixes
def test_an_acquire_costs_the_same_with_10_or_5000_peers(plen: int) -> None:
    small = acquire_cost(10, plen)
    large = acquire_cost(5000, plen)
    assert large == small, (small, large)
    assert max(small) < 400, small  # a few hundred calls, not one per peer


def test_an_acquire_inside_the_passive_prefix_is_refused_and_costs_the_same() -> None:
    """RouterOS: the most specific entry decides; a passive one means "do not initiate",
    even though the ::/0 entry would (docs/ikev1-engine.md, Quick mode)."""
    costs = []
    for n in (10, 5000):
        s = spokes(n)
        s.engine.acquire(policy_to(0, s.peers[0].address.network_address), NOW)
        s.engine.pop_events()
        inside = SPOKES[n + 100]  # in the passive /64, no host entry of its own
        acquire = functools.partial(s.engine.acquire, policy_to(3, inside), NOW)
        costs.append(calls_during(acquire))
        assert not s.started_p1
        failed = s.engine.pop_events()
        assert failed == [NegotiationFailed(remote=(inside, 500), reason=f"no peer for {inside}")]
    assert costs[0] == costs[1], costs


def test_an_unknown_spi_from_a_peer_without_sas_costs_the_same_with_10_or_5000_peers() -> None:
    """ESP for an unknown SPI is per packet (before the INVALID-SPI rate limit): the peer it
    came from is found through the index too (core/ikev1/invalid_spi.py)."""
    costs = []
    for n in (10, 5000):
        s = spokes(n)
        s.engine.acquire(policy_to(0, s.peers[0].address.network_address), NOW)
        src = SPOKES[n + 100]  # a road warrior of the passive /64 with no phase 1
        unknown = functools.partial(s.engine.unknown_spi, 0x4242, SaProtocol.ESP, src, HUB, NOW)
        costs.append(calls_during(unknown))
        assert s.engine.stats()["unknown-spi-passive-peer"] == 1
        assert not s.started_p1
    assert costs[0] == costs[1], costs


def test_spoofed_esp_from_an_address_only_a_wildcard_entry_covers_starts_no_phase1() -> None:
    """The attack: ESP with random SPIs from addresses inside a catch-all (non-passive) peer
    entry. Without a phase 1 with that address nothing is started towards it."""
    s = spokes(10)
    stranger = ipaddress.ip_address("2001:db8:dead::7")
    assert stranger not in SPOKES
    for spi in range(0x5000, 0x5010):
        s.engine.unknown_spi(spi, SaProtocol.ESP, stranger, HUB, NOW + spi)  # past the limits
    assert s.engine.stats()["unknown-spi-wildcard-peer"] == 16
    assert not s.started_p1
