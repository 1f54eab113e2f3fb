"""Admission of new phase-1 exchanges (core/ikev1/first_message.py, core/admission.py):
deferred DH, no timer for the first reply, bounded half-open SAs under a spoofed flood."""

from __future__ import annotations

import dataclasses
import ipaddress
import itertools

import pytest

from pyipsec.core.admission import AdmissionLimits, HalfOpenTable, KeyPairBudget, Standing
from pyipsec.core.events import (
    Datagram,
    DatagramDropped,
    HalfOpenDiscarded,
    IkeSaEstablished,
    NegotiationFailed,
)
from pyipsec.core.ikev1 import first_message as first_message_module
from pyipsec.core.ikev1.ike_sa import IkeSa
from pyipsec.core.profiles import ExchangeMode, Identity, PeerProfile
from pyipsec.wire.ikev1.constants import NotifyMessageType
from pyipsec.wire.ikev1.message import parse_message
from pyipsec.wire.ikev1.payloads import NotifyPayload

from .exchanges.harness import A_ADDR, B_ADDR, Net, configure, peer, site_to_site

LIMITS = AdmissionLimits(half_open_max=64, per_source=(4, 32, 32), timeout=30.0)
SOURCES = [ipaddress.ip_address(f"198.51.100.{i}") for i in range(100, 150)]
_cookies = itertools.count(1)


def first_message(net: Net, pa: object) -> Datagram:
    """A's real main-mode message 1 (not delivered)."""
    net.a.engine.acquire(pa, net.now)  # type: ignore[arg-type]
    (d,) = net.a.engine.datagrams_to_send()
    return d


def flood(net: Net, template: Datagram, n: int, sources: list[object] | None = None) -> None:
    """``n`` copies of ``template`` with fresh initiator cookies, from A's address (or round
    robin from ``sources``), straight into B; B's replies go nowhere."""
    eng = net.b.engine
    for i in range(n):
        data = next(_cookies).to_bytes(8, "big") + template.data[8:]
        src = (sources[i % len(sources)], 500) if sources else template.src
        eng.receive_datagram(data, src, template.dst, net.now)  # type: ignore[arg-type]
    eng.datagrams_to_send()
    net.b.events += eng.pop_events()


def half_open(net: Net) -> list[IkeSa]:
    return list(net.b.engine.half_open.values())


def test_responder_makes_its_key_pair_only_for_message_4() -> None:
    net, pa, _ = site_to_site()
    d1 = first_message(net, pa)
    net.b.engine.receive_datagram(d1.data, d1.src, d1.dst, net.now)
    (sa,) = half_open(net)
    assert sa.ke is None and sa.choice is not None  # chosen, but no modular exponentiation
    assert net.b.engine.ike == {}
    net.run(5)
    assert net.a.of(IkeSaEstablished) and net.b.of(IkeSaEstablished)
    (done,) = net.b.engine.ike.values()
    assert done is sa and sa.ke is not None and sa.g_xr == sa.ke.public_value
    assert half_open(net) == [] and net.b.engine.stats()["half-open-promoted"] == 1


def test_first_reply_is_not_resent_on_a_timer_only_for_a_repeat() -> None:
    net, pa, _ = site_to_site()
    d1 = first_message(net, pa)
    eng = net.b.engine
    eng.receive_datagram(d1.data, d1.src, d1.dst, net.now)
    (reply,) = eng.datagrams_to_send()
    timeout = AdmissionLimits().timeout
    assert eng.next_timer() == net.now + timeout  # only the half-open deadline
    eng.handle_timer(net.now + timeout - 1)
    assert eng.datagrams_to_send() == []
    eng.receive_datagram(d1.data, d1.src, d1.dst, net.now + timeout - 0.5)  # a repeat
    assert [d.data for d in eng.datagrams_to_send()] == [reply.data]  # from the cache
    eng.handle_timer(net.now + timeout)
    assert eng.datagrams_to_send() == [] and half_open(net) == []
    assert eng.next_timer() is None and eng.remote_peers() == []
    (gone,) = [e for e in eng.pop_events() if isinstance(e, HalfOpenDiscarded)]
    assert gone.reason == "expired" and gone.remote == d1.src
    assert eng.stats()["half-open-expired"] == 1


def test_spoofed_flood_from_the_peer_address_leaves_the_real_peer_alone() -> None:
    net, pa, _ = site_to_site()
    net.b.engine.half_open = HalfOpenTable(LIMITS)
    d1 = first_message(net, pa)
    flood(net, d1, 200)  # before: the table holds the newest 32 of them
    assert len(half_open(net)) == 32
    net.b.engine.receive_datagram(d1.data, d1.src, d1.dst, net.now)  # the real message 1
    (real_reply,) = net.b.engine.datagrams_to_send()
    flood(net, d1, 31)  # the peer's share is 32: the real entry is still there
    net.b.engine.send(real_reply.src, real_reply.dst, real_reply.data)
    net.run(0.1)  # message 3 echoes our cookie: promoted, out of the flood's reach
    flood(net, d1, 2000)
    net.run(5)
    assert net.a.of(IkeSaEstablished) and net.b.of(IkeSaEstablished)
    assert len(half_open(net)) == 32
    assert all(sa.ke is None for sa in half_open(net))  # the flood cost no DH
    stats = net.b.engine.stats()
    assert stats["half-open-replaced"] == 200 + 1 + 31 + 2000 - 32 - 1
    assert stats["half-open-promoted"] == 1
    # Once it stops, everything returns to normal.
    net.run(LIMITS.timeout + 1)
    assert half_open(net) == [] and [r.state for r in net.b.engine.remote_peers()] == [
        "established"
    ]


def test_flood_from_fifty_addresses_cannot_fill_the_table_against_a_configured_peer() -> None:
    net, pa, _ = site_to_site()
    b = net.b
    b.engine.half_open = HalfOpenTable(LIMITS)
    configure(
        b,
        peers=[
            *b.engine.peers,
            peer("198.51.100.0/24", id=2, passive=True),  # road warriors: any address there
        ],
        policies=list(b.engine.policies),
    )
    d1 = first_message(net, pa)
    flood(net, d1, 5000, SOURCES)
    assert len(half_open(net)) == 64  # full, each unknown source at most its share of 4
    assert max(b.engine.half_open.count(s) for s in SOURCES) <= 4
    b.engine.receive_datagram(d1.data, d1.src, d1.dst, net.now)
    flood(net, d1, 5000, SOURCES)  # unknown sources evict each other, never the real peer
    net.run(5)
    assert net.a.of(IkeSaEstablished) and b.of(IkeSaEstablished)
    # Its reply went out in the middle of the flood and was lost; its repeat of message 1
    # three seconds later was answered from the stored reply.
    stats = b.engine.stats()
    assert stats["retransmission-answered"] == 1 and stats["half-open-promoted"] == 1
    assert len(half_open(net)) == 63  # the place the real peer took and left
    discarded = 10_001 - 1 - 63
    assert stats["half-open-evicted"] + stats.get("half-open-replaced", 0) == discarded
    assert len([e for e in b.events if isinstance(e, HalfOpenDiscarded)]) == discarded


def test_a_table_full_of_better_standing_refuses_unknown_sources() -> None:
    net, pa, _ = site_to_site()
    b = net.b
    b.engine.half_open = HalfOpenTable(AdmissionLimits(half_open_max=8, per_source=(4, 32, 32)))
    configure(
        b,
        peers=[*b.engine.peers, peer("198.51.100.0/24", id=2, passive=True)],
        policies=list(b.engine.policies),
    )
    d1 = first_message(net, pa)
    flood(net, d1, 8)  # from the configured peer's address
    flood(net, d1, 3, SOURCES)
    assert len(half_open(net)) == 8 and b.engine.stats()["half-open-limit"] == 3
    drops = [e.reason for e in b.events if isinstance(e, DatagramDropped)]
    assert drops == ["half-open-limit"] * 3
    assert all(sa.remote[0] == A_ADDR for sa in half_open(net))
    assert B_ADDR not in {sa.remote[0] for sa in half_open(net)}


def test_a_repeated_first_message_is_answered_from_the_reply_cache() -> None:
    """Same bytes after the cookie, same peer: the cached outcome equals a computed one, field
    by field, and the exchange made from it completes."""
    net, pa, _ = site_to_site()
    d1 = first_message(net, pa)
    eng = net.b.engine
    decoy = b"\x77" * 8 + d1.data[8:]
    eng.receive_datagram(decoy, d1.src, d1.dst, net.now)  # computed, remembered
    (first,) = eng.datagrams_to_send()
    eng.receive_datagram(d1.data, d1.src, d1.dst, net.now)  # answered from the cache
    (cached,) = eng.datagrams_to_send()
    assert cached.data[:8] == d1.data[:8] and cached.data[16:] == first.data[16:]
    from_cache = eng.half_open.get(d1.data[:8])
    other, _, _ = site_to_site()
    other.b.engine.receive_datagram(d1.data, d1.src, d1.dst, net.now)  # computed
    computed = other.b.engine.half_open.get(d1.data[:8])
    assert from_cache is not None and computed is not None
    for f in dataclasses.fields(IkeSa):
        if f.name in ("cky_r", "retransmit"):
            continue
        assert getattr(from_cache, f.name) == getattr(computed, f.name), f.name
    assert from_cache.retransmit is not None and computed.retransmit is not None
    assert from_cache.retransmit.data[16:] == computed.retransmit.data[16:]
    assert from_cache.retransmit.reply_to == computed.retransmit.reply_to
    assert not from_cache.retransmit.awaiting
    eng.send(cached.src, cached.dst, cached.data)
    net.run(5)
    assert net.a.of(IkeSaEstablished) and net.b.of(IkeSaEstablished)
    assert net.b.engine.ike[d1.data[:8]] is from_cache


def test_aggressive_mode_first_messages_draw_on_a_key_pair_budget() -> None:
    """Aggressive mode must answer message 1 with a KE: a flood of them gets a bounded number
    of key pairs a second, and the real peer gets through once the bucket refills."""
    ids = {"exchange_mode": ExchangeMode.AGGRESSIVE}
    net, pa, _ = site_to_site(
        peer_a={**ids, "my_id": Identity(kind="fqdn", value="a.lab.example")},
        peer_b={**ids, "my_id": Identity(kind="fqdn", value="b.lab.example")},
    )
    eng = net.b.engine
    eng.key_pairs = KeyPairBudget(AdmissionLimits(key_pairs_per_second=20))
    d1 = first_message(net, pa)
    flood(net, d1, 500)
    assert eng.stats()["half-open-admitted"] == 20 and eng.stats()["half-open-rate"] == 480
    assert all(sa.ke is not None for sa in half_open(net))  # those did cost a key pair
    net.now += 1.0
    eng.receive_datagram(d1.data, d1.src, d1.dst, net.now)
    net.run(5)
    assert net.a.of(IkeSaEstablished) and net.b.of(IkeSaEstablished)


def test_a_refused_first_message_is_refused_again_from_the_cache(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    net, pa, _ = site_to_site(peer_b={"enc_algorithms": ("aes-256",)})  # A offers aes-128, 3des
    parsed: list[bytes] = []
    real_parse = first_message_module.parse_message

    def counting_parse(data: bytes):  # type: ignore[no-untyped-def]
        parsed.append(data)
        return real_parse(data)

    monkeypatch.setattr(first_message_module, "parse_message", counting_parse)
    d1 = first_message(net, pa)
    eng = net.b.engine
    for i in range(100):
        eng.receive_datagram(bytes([i + 1]) * 8 + d1.data[8:], d1.src, d1.dst, net.now)
    replies = eng.datagrams_to_send()
    assert len(parsed) == 1 and len(replies) == 100
    assert [r.data[:8] for r in replies] == [bytes([i + 1]) * 8 for i in range(100)]
    for r in replies:
        (notify,) = parse_message(r.data).all(NotifyPayload)
        assert notify.notify_type == NotifyMessageType.NO_PROPOSAL_CHOSEN
    failed = [e for e in eng.pop_events() if isinstance(e, NegotiationFailed)]
    assert len(failed) == 100 and "NO_PROPOSAL_CHOSEN" in failed[0].reason
    assert half_open(net) == [] and eng.ike == {}


def test_first_messages_do_not_walk_every_peer_entry(monkeypatch: pytest.MonkeyPatch) -> None:
    """A hub with thousands of peers: finding the peer of a first message is a dict lookup
    plus the prefix entries, not a walk over all of them (3.6 ms for 10,000)."""
    net, pa, _ = site_to_site()
    b = net.b
    hosts = [peer(f"10.{i // 250}.{i % 250}.1/32", id=10 + i) for i in range(3000)]
    configure(
        b,
        peers=[*b.engine.peers, *hosts, peer("198.51.100.0/24", id=2, passive=True)],
        policies=list(b.engine.policies),
    )
    d1 = first_message(net, pa)
    calls: list[object] = []
    real = PeerProfile.matches

    def counting(self: PeerProfile, address: object) -> bool:
        calls.append(address)
        return real(self, address)  # type: ignore[arg-type]

    monkeypatch.setattr(PeerProfile, "matches", counting)
    flood(net, d1, 50, SOURCES)  # from the wildcard's addresses
    flood(net, d1, 50)  # from the configured peer's address
    assert len(calls) <= 50  # one prefix entry to test for each wildcard-covered source
    assert b.engine.stats()["half-open-admitted"] == 100


def test_standing_prefers_proven_then_configured_addresses() -> None:
    net, pa, _ = site_to_site()
    b = net.b
    configure(
        b,
        peers=[*b.engine.peers, peer("198.51.100.0/24", id=2, passive=True)],
        policies=list(b.engine.policies),
    )
    wildcard, configured = b.engine.peers[1], b.engine.peers[0]
    assert first_message_module.standing(b.engine, wildcard, SOURCES[0]) is Standing.UNKNOWN
    assert first_message_module.standing(b.engine, configured, A_ADDR) is Standing.CONFIGURED
    net.a.engine.acquire(pa, net.now)
    net.run(5)
    assert b.of(IkeSaEstablished)
    assert first_message_module.standing(b.engine, configured, A_ADDR) is Standing.PROVEN
    # A full table of unknown entries makes room for the proven address, not the other way.
    b.engine.half_open = HalfOpenTable(AdmissionLimits(half_open_max=8))
    other, other_pa, _ = site_to_site()
    d1 = first_message(other, other_pa)  # a message 1 as A would send it
    flood(net, d1, 8, SOURCES)
    flood(net, d1, 4)
    assert sum(sa.remote[0] == A_ADDR for sa in half_open(net)) == 4
    assert b.engine.stats()["half-open-evicted"] == 4


def test_message_3_completes_an_exchange_the_flood_pushed_out() -> None:
    """Faster than the real peer answers, the flood replaces its entry; the tombstone left
    behind lets its message 3 (our cookie echoed) complete the exchange all the same."""
    net, pa, _ = site_to_site()
    eng = net.b.engine
    eng.half_open = HalfOpenTable(LIMITS)
    d1 = first_message(net, pa)
    eng.receive_datagram(d1.data, d1.src, d1.dst, net.now)
    (real_reply,) = eng.datagrams_to_send()
    flood(net, d1, 500)  # the share is 32: the real entry is long gone
    assert eng.half_open.get(d1.data[:8]) is None and len(eng.tombstones) == 500 + 1 - 32
    eng.send(real_reply.src, real_reply.dst, real_reply.data)
    net.run(5)
    assert net.a.of(IkeSaEstablished) and net.b.of(IkeSaEstablished)
    assert eng.stats()["half-open-revived"] == 1
    # A message 3 under a tombstone's cookies from elsewhere, or too late, revives nothing.
    stone_key = next(iter(eng.tombstones._stones))
    stone = eng.tombstones._stones[stone_key]
    forged = stone_key + stone.cky_r + real_reply.data[16:]
    eng.receive_datagram(forged, (SOURCES[0], 500), d1.dst, net.now)
    assert eng.stats()["half-open-revived"] == 1 and stone_key in eng.tombstones._stones
    eng.handle_timer(net.now + LIMITS.timeout)
    assert len(eng.tombstones) == 0
