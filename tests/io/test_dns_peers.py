"""Background resolution of RouterOS 7 peer DNS names (io/dns_peers.py) and what the daemon
compiles with it: a peer named by DNS is left out until its name resolves, then it is an
ordinary peer at that address, and it follows an address change (a DDNS peer)."""

from __future__ import annotations

import asyncio
import ipaddress

from pyipsec.config.compile import compile_config, dns_names
from pyipsec.config.store import Store
from pyipsec.io.dns_peers import IPAddress, PeerResolver, pick
from tests.config.test_dialect_v7 import V7_SITE
from tests.mgmt.helpers import Console

A = ipaddress.ip_address


def test_pick_prefers_ipv4() -> None:
    assert pick([A("2001:db8::1"), A("198.51.100.7")]) == A("198.51.100.7")
    assert pick([A("2001:db8::1")]) == A("2001:db8::1")
    assert pick([]) is None


def test_resolver_follows_a_changing_name_and_keeps_the_last_good_address() -> None:
    answers: dict[str, list[IPAddress] | OSError] = {"gw.example.net": [A("198.51.100.7")]}
    changes: list[int] = []

    async def resolve(name: str) -> list[IPAddress]:
        answer = answers[name]
        if isinstance(answer, OSError):
            raise answer
        return answer

    async def scenario() -> None:
        resolver = PeerResolver(lambda: changes.append(1), interval=0.01, resolve=resolve)
        resolver.want({"gw.example.net"})
        task = asyncio.create_task(resolver.run())
        await asyncio.sleep(0.05)
        assert resolver.resolved == {"gw.example.net": A("198.51.100.7")}
        assert len(changes) == 1  # the first answer; the same answer again is no change
        answers["gw.example.net"] = [A("203.0.113.9")]
        await asyncio.sleep(0.05)
        assert resolver.resolved["gw.example.net"] == A("203.0.113.9")
        assert len(changes) == 2
        answers["gw.example.net"] = OSError("no such name")
        await asyncio.sleep(0.05)
        assert resolver.resolved["gw.example.net"] == A("203.0.113.9")
        resolver.want(set())
        await asyncio.sleep(0.05)
        assert resolver.resolved == {}
        task.cancel()

    asyncio.run(scenario())


def test_a_dns_peer_compiles_once_resolved() -> None:
    console = Console(Store(":memory:", dialect="v7"))
    console.ok(V7_SITE + "/ip ipsec peer set ike1-site2 address=gw.example.net\n")
    config = console.store.snapshot()
    assert dns_names(config) == {"gw.example.net"}
    assert compile_config(config).peers == ()
    compiled = compile_config(config, resolved={"gw.example.net": A("203.0.113.9")})
    assert compiled.peers[0].address == ipaddress.ip_network("203.0.113.9/32")
    assert compiled.policies[0].sa_dst == A("203.0.113.9")
    console.ok("/ip ipsec peer disable ike1-site2")
    assert dns_names(console.store.snapshot()) == frozenset()
