"""A hub engine with many spoke peers, for the cost of an acquire (tests and bench).

``n`` host peer entries (in the IPv6 documentation prefix, in memory only: nothing is sent),
each with an established phase 1, behind two wide entries listed first: ``::/0`` (initiates
to anything) and a passive road-warrior ``/64`` that contains every spoke. What follows the
lookups, building the quick-mode or phase-1 messages, is replaced by a record of the call:
its cost does not depend on the number of peers, and the harness SAs have no keys.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from pyipsec.core.ikev1.engine import Ikev1Engine
from pyipsec.core.ikev1.ike_sa import ExchangeKind, IkeSa, Side
from pyipsec.core.profiles import PeerProfile, ProposalProfile
from pyipsec.dataplane.policy import IPAddress, Policy
from tests.harness.ike_scale import CountingBackend, rng_of

HUB = ipaddress.ip_address("2001:db8::1")
SPOKES = ipaddress.ip_network("2001:db8:1::/64")
NOW = 1000.0


def _spoke(i: int, plen: int) -> ipaddress.IPv6Network:
    if plen == 128:
        return ipaddress.IPv6Network(SPOKES[i + 2])
    size = 1 << (128 - plen)
    return ipaddress.IPv6Network((int(SPOKES.network_address) + (i + 1) * size, plen))


@dataclass
class Spokes:
    engine: Ikev1Engine
    peers: list[PeerProfile]
    started_qm: list[tuple[IkeSa, Policy]] = field(default_factory=list)
    started_p1: list[tuple[PeerProfile, IPAddress, IPAddress]] = field(default_factory=list)


def spokes(n: int, plen: int = 128) -> Spokes:
    """``n`` spoke peers, one established phase 1 with each (at the first address of its
    entry), plus prefix peers that contain them all (a passive road-warrior /64 and a ::/0
    catch-all), listed first so that a first-match scan would have to keep going. ``plen``
    128: each spoke is a host entry; less (e.g. 126): each is a prefix of its own."""
    engine = Ikev1Engine(
        backend=CountingBackend(rng=rng_of(b"spi")), rng=rng_of(b"hub"), local_addresses=[HUB]
    )
    wide = [
        PeerProfile(id=1, address=ipaddress.ip_network("::/0"), secret=b"any"),
        PeerProfile(id=2, address=SPOKES, secret=b"rw", passive=True),
    ]
    hosts = [PeerProfile(id=10 + i, address=_spoke(i, plen), secret=b"s") for i in range(n)]
    engine.configure(
        peers=[*wide, *hosts],
        proposals=[ProposalProfile(name="default")],
        policies=[],
        templates=[],
        now=NOW,
    )
    for i, peer in enumerate(hosts):
        sa = IkeSa(
            cky_i=(i + 1).to_bytes(8, "big"),
            cky_r=(i + 1 + (1 << 40)).to_bytes(8, "big"),
            side=Side.INITIATOR,
            kind=ExchangeKind.MAIN,
            peer=peer,
            local=(HUB, 500),
            remote=(peer.address.network_address, 500),
            created=NOW,
            established_at=NOW,
            last_heard=NOW,
        )
        engine.ike[sa.cky_i] = sa
        engine.touch(sa)
    s = Spokes(engine=engine, peers=hosts)
    # what follows the lookups (building and sending messages) is not what is counted here

    def start_quick_mode(sa: IkeSa, policy: Policy, now: float, rekey_of: object = None) -> None:
        s.started_qm.append((sa, policy))

    def start_phase1(
        peer: PeerProfile, local: IPAddress, remote: IPAddress, now: float, queued: object = None
    ) -> None:
        s.started_p1.append((peer, local, remote))

    engine._start_quick_mode = start_quick_mode  # type: ignore[method-assign]
    engine.start_phase1 = start_phase1  # type: ignore[method-assign]
    return s


def policy_to(k: int, remote: IPAddress) -> Policy:
    return Policy(
        id=100 + k,
        src=ipaddress.ip_network("2001:db8:ffff::/64"),
        dst=ipaddress.ip_network(f"2001:db8:2:{k:x}::/64"),
        tunnel=True,
        sa_dst=remote,
    )
