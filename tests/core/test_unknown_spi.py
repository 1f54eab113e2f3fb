"""The rule both IKE versions apply to ESP/AH for unknown SPIs (core/unknown_spi.py): the order
of its decisions, the shared limits, the policies a bring-up negotiates."""

from __future__ import annotations

import ipaddress
from typing import Any

from pyipsec.core.profiles import PeerProfile
from pyipsec.core.ratelimit import NOTIFY_INTERVAL, SPI_INTERVAL, RateLimit
from pyipsec.core.unknown_spi import PoliciesByRemote, Reaction, bring_up_policies, react
from pyipsec.dataplane.policy import Action, Level, Policy

PEER = ipaddress.ip_address("203.0.113.2")
OTHER = ipaddress.ip_address("203.0.113.3")


def peer(address: str = f"{PEER}/32", **kw: Any) -> PeerProfile:
    return PeerProfile(id=1, address=ipaddress.ip_network(address), secret=b"x", **kw)


class Judge:
    def __init__(self) -> None:
        self.by_spi = RateLimit(SPI_INTERVAL)
        self.by_peer = RateLimit(NOTIFY_INTERVAL)

    def __call__(
        self, p: PeerProfile | None, spi: int = 1, now: float = 0.0, **kw: Any
    ) -> Reaction:
        args: dict[str, Any] = {"protected": False, "joining": False, "proven": set()}
        args.update(kw)
        return react(peer=p, src=PEER, spi=spi, now=now, by_spi=self.by_spi,
                     by_peer=self.by_peer, **args)  # fmt: skip


def test_the_order_of_the_decisions() -> None:
    assert Judge()(None) is Reaction.NOT_A_PEER
    assert Judge()(peer(passive=True), protected=True) is Reaction.NOTIFY
    assert Judge()(peer(passive=True), joining=True) is Reaction.JOIN
    assert Judge()(peer(passive=True)) is Reaction.PASSIVE
    assert Judge()(peer("0.0.0.0/0")) is Reaction.WILDCARD
    assert Judge()(peer("0.0.0.0/0"), proven={PEER}) is Reaction.INITIATE  # it answered us once
    assert Judge()(peer()) is Reaction.INITIATE


def test_one_reaction_a_second_per_address_and_one_per_spi_in_ten() -> None:
    judge = Judge()
    assert judge(peer(), spi=1, now=0.0) is Reaction.INITIATE
    assert judge(peer(), spi=2, now=0.5) is Reaction.RATE_LIMITED  # the address: 1 s
    assert judge(peer(), spi=1, now=1.5) is Reaction.RATE_LIMITED  # the SPI: 10 s
    assert judge(peer(), spi=2, now=1.5) is Reaction.INITIATE  # spi 2 was not marked at 0.5
    assert judge(peer(), spi=1, now=10.0) is Reaction.INITIATE
    assert judge(None, spi=3, now=20.0) is Reaction.NOT_A_PEER  # strangers use up nothing...
    assert judge(peer(passive=True), spi=3, now=20.0) is Reaction.PASSIVE  # ...refusals do
    assert judge(peer(), spi=4, now=20.5) is Reaction.RATE_LIMITED


def test_bring_up_policies_are_the_encrypt_require_or_unique_ones_to_the_address() -> None:
    def pol(pid: int, dst: str, **kw: Any) -> Policy:
        return Policy(id=pid, src=ipaddress.ip_network("10.1.0.0/24"),
                      dst=ipaddress.ip_network(dst), **kw)  # fmt: skip

    policies = (
        pol(1, "10.2.0.0/24", tunnel=True, sa_dst=PEER),
        pol(2, "10.2.1.0/24", tunnel=True, sa_dst=PEER, level=Level.UNIQUE),
        pol(3, "10.2.2.0/24", tunnel=True, sa_dst=PEER, level=Level.USE),
        pol(4, "10.2.3.0/24", tunnel=True, sa_dst=PEER, action=Action.NONE),
        pol(5, "10.2.4.0/24", tunnel=True, sa_dst=OTHER),
        pol(6, f"{PEER}/32"),  # transport mode: the dst host is the SAs' remote
        pol(7, "10.2.5.0/24"),  # no sa-dst and not one host: no remote at all
    )
    index = PoliciesByRemote()
    assert [p.id for p in bring_up_policies(index, policies, PEER)] == [1, 2, 6]
    assert [p.id for p in bring_up_policies(index, policies, OTHER)] == [5]
    assert bring_up_policies(index, policies[:1], OTHER) == []  # a new configuration
