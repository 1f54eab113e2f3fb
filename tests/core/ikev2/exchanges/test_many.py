"""Many IKE SAs between one initiator address and several responder addresses at once (the
IKE benchmark's shape): INITIAL_CONTACT clears only IKE SAs between the same identities and
addresses, a spent key-pair budget answers with cookies instead of drops, a cookie-proven
IKE_SA_INIT draws from its source's own budget instead of its standing's (its source answered,
as IKEv1 main mode's message 3 shows), and a cookie retry keeps its key pair."""

from __future__ import annotations

import ipaddress

from pyipsec.core.admission import AdmissionLimits
from pyipsec.core.events import ChildSaInstalled, HalfOpenDiscarded, IkeSaDeleted
from pyipsec.core.ikev2.engine import Ikev2Engine
from pyipsec.core.profiles import (
    ExchangeMode,
    GeneratePolicy,
    IkeSettings,
    PeerProfile,
    ProposalProfile,
    TemplatePolicy,
)
from pyipsec.dataplane.fake import FakeBackend
from pyipsec.dataplane.policy import Policy
from pyipsec.wire.ikev2 import message as wm
from pyipsec.wire.ikev2.constants import ExchangeType
from pyipsec.wire.ikev2.payloads import KePayload
from tests.core.ikev1.exchanges.harness import seeded_rng

A = ipaddress.ip_address("198.51.100.1")
KW: dict[str, object] = {"exchange_mode": ExchangeMode.IKE2, "secret": b"k", "dpd_interval": None}
PROPOSAL = [ProposalProfile(name="default", pfs_group=None)]


def pair(
    n: int, admission: AdmissionLimits | None = None
) -> tuple[Ikev2Engine, Ikev2Engine, list[Policy]]:
    bs = [ipaddress.ip_address(f"203.0.113.{i + 1}") for i in range(n)]
    a = Ikev2Engine(
        backend=FakeBackend(rng=seeded_rng(b"sa")), rng=seeded_rng(b"a"), local_addresses=[A]
    )
    b = Ikev2Engine(
        backend=FakeBackend(rng=seeded_rng(b"sb")), rng=seeded_rng(b"b"), local_addresses=bs,
        admission=admission,
    )  # fmt: skip
    policies = [
        Policy(
            id=i + 1,
            src=ipaddress.ip_network(f"10.1.0.{i + 1}/32"),
            dst=ipaddress.ip_network(f"10.2.0.{i + 1}/32"),
            tunnel=True,
            sa_src=A,
            sa_dst=ip,
        )
        for i, ip in enumerate(bs)
    ]
    peers = [
        PeerProfile(id=i + 1, address=ipaddress.ip_network(f"{ip}/32"), **KW)  # type: ignore[arg-type]
        for i, ip in enumerate(bs)
    ]
    a.configure(peers=peers, proposals=PROPOSAL, policies=policies, templates=[], now=0)
    template = TemplatePolicy(
        id=1,
        group="default",
        src=ipaddress.ip_network("10.2.0.0/16"),
        dst=ipaddress.ip_network("10.1.0.0/16"),
        protocol=None,
        proposal="default",
    )
    hub = PeerProfile(
        id=1,
        address=ipaddress.ip_network("198.51.100.0/24"),
        passive=True,
        generate_policy=GeneratePolicy.PORT_OVERRIDE,
        **KW,  # type: ignore[arg-type]
    )
    b.configure(peers=[hub], proposals=PROPOSAL, policies=[], templates=[template], now=0)
    return a, b, policies


def pump(a: Ikev2Engine, b: Ikev2Engine, log: list[bytes] | None = None) -> None:
    for _ in range(1000):
        moved = False
        for src, dst in ((a, b), (b, a)):
            for d in src.datagrams_to_send():
                if log is not None and src is a:
                    log.append(d.data)
                dst.receive_datagram(d.data, d.src, d.dst, 1.0)
                moved = True
        if not moved:
            return


def test_initial_contact_only_clears_the_same_identities() -> None:
    a, b, policies = pair(5)
    for p in policies:
        a.acquire(p, 1.0)
    pump(a, b)
    events = b.pop_events()
    assert sum(isinstance(e, ChildSaInstalled) for e in events) == 5
    assert not [e for e in events if isinstance(e, IkeSaDeleted)]
    assert len(b.ike) == 5 and b.stats().get("initial-contact-deleted", 0) == 0


def test_cookie_proven_requests_draw_from_their_source_budget_not_the_standing() -> None:
    limits = AdmissionLimits(key_pairs_per_second=2.0)
    a, b, policies = pair(12, limits)
    b.settings = IkeSettings(ddos_cookie_threshold=0)  # every request needs a cookie
    for p in policies:
        a.acquire(p, 1.0)
    pump(a, b)
    assert sum(isinstance(e, ChildSaInstalled) for e in a.pop_events()) == 12
    assert b.stats()["cookie-accepted"] == 12 and "half-open-rate" not in b.stats()


def test_a_cookie_proven_source_is_held_to_its_own_rate() -> None:
    limits = AdmissionLimits(key_pairs_per_second=2.0, proven_key_pairs_per_second=5.0)
    a, b, policies = pair(12, limits)
    b.settings = IkeSettings(ddos_cookie_threshold=0)
    for p in policies:
        a.acquire(p, 1.0)
    pump(a, b)  # all at one instant: the source's bucket holds 5
    assert sum(isinstance(e, ChildSaInstalled) for e in a.pop_events()) == 5
    assert b.stats()["cookie-accepted"] == 12 and b.stats()["half-open-rate"] == 7


def test_a_spent_key_pair_budget_asks_for_cookies_instead_of_dropping() -> None:
    """Below ddos-cookie-threshold, 12 requests at once from one address against a budget of
    2 key pairs: the first 2 are answered at once, the other 10 get a cookie (no key pair, no
    state) and come back with it; none is dropped, all 12 establish (before: 10 dropped as
    half-open-rate, each waiting for the initiator's retransmission)."""
    limits = AdmissionLimits(key_pairs_per_second=2.0)
    a, b, policies = pair(12, limits)
    log: list[bytes] = []
    for p in policies:
        a.acquire(p, 1.0)
    pump(a, b, log)
    assert sum(isinstance(e, ChildSaInstalled) for e in a.pop_events()) == 12
    stats = b.stats()
    assert "half-open-rate" not in stats
    assert stats["cookie-budget"] == stats["cookie-sent"] == 10 == stats["cookie-accepted"]
    assert a.stats()["cookie-retry"] == 10
    inits = [wm.decode(d) for d in log if wm.peek(d).exchange == ExchangeType.IKE_SA_INIT]
    assert len(inits) == 22  # 12 requests, 10 of them again with the cookie


def test_cookie_retry_keeps_the_key_pair_and_nonce() -> None:
    a, b, policies = pair(1)
    b.settings = IkeSettings(ddos_cookie_threshold=0)
    log: list[bytes] = []
    a.acquire(policies[0], 1.0)
    pump(a, b, log)
    inits = [wm.decode(d) for d in log if wm.peek(d).exchange == ExchangeType.IKE_SA_INIT]
    assert len(inits) == 2
    kes = [next(p for p in m.payloads if isinstance(p, KePayload)).data for m in inits]
    assert kes[0] == kes[1]


def test_timer_questions_do_not_walk_every_ike_sa() -> None:
    a, b, policies = pair(60)
    for p in policies:
        a.acquire(p, 1.0)
    pump(a, b)
    assert len(a.ike) == 60 and len(b.ike) == 60
    calls = [0]
    inner = b.deadlines._deadline_of

    def counting(sa: object) -> float | None:
        calls[0] += 1
        return inner(sa)  # type: ignore[arg-type]

    b.deadlines._deadline_of = counting  # type: ignore[method-assign]
    b.handle_timer(1.0)  # the first tick sweeps (tables.SWEEP_INTERVAL): 60
    calls[0] = 0
    for _ in range(100):
        b.next_timer()
        b.handle_timer(2.0)
    assert calls[0] <= 10  # not 100 x 60


def test_key_pairs_made_ahead_serve_both_sides_ike_sa_init() -> None:
    """core/kex_pool.py in the IKEv2 engine: after the first setup asked for the group, idle
    time (``precompute``) makes pairs that the next IKE_SA_INITs take, on either side."""
    a, b, policies = pair(4)
    a.acquire(policies[0], 1.0)
    pump(a, b)
    while a.precompute() or b.precompute():
        pass
    assert a.kex_pool.made_ahead == b.kex_pool.made_ahead == 8
    for p in policies[1:]:
        a.acquire(p, 1.0)
    pump(a, b)
    assert sum(isinstance(e, ChildSaInstalled) for e in a.pop_events()) == 4
    assert a.kex_pool.taken_ready == b.kex_pool.taken_ready == 3


def test_requests_beyond_a_sources_share_get_cookies_not_each_others_places() -> None:
    """80 requests at once from one road-warrior address (unknown standing: 32 half-open
    places) with the cookie threshold out of reach: the first 32 take places, the other 48
    are asked for cookies instead of pushing out the first ones (before: each replaced its
    own source's oldest half-open IKE SA, whose IKE_AUTH then found nothing); with their
    cookies they rank as proven and all 80 establish."""
    a, b, policies = pair(80)
    b.settings = IkeSettings(ddos_cookie_threshold=10**9)
    for p in policies:
        a.acquire(p, 1.0)
    pump(a, b)
    assert sum(isinstance(e, ChildSaInstalled) for e in a.pop_events()) == 80
    stats = b.stats()
    assert stats["cookie-share"] == 48 == stats["cookie-accepted"]
    assert not [e for e in b.pop_events() if isinstance(e, HalfOpenDiscarded)]
