"""Rekey collisions between two IKEv2 engines (RFC 7296 §2.8.1, §2.8.2, §2.25): both sides
rekey the same child at once (the exchange holding the lowest nonce made the redundant child,
which its initiator deletes; either side may lose, and the outcome is checked against the
nonces on the wire), both rekey the IKE SA at once (same rule), a child rekey crossing a
Delete of that child (TEMPORARY_FAILURE), a rekey of a child the peer does not know
(CHILD_SA_NOT_FOUND: a new child replaces it), a child rekey crossing an IKE SA rekey
(TEMPORARY_FAILURE, retried on the new IKE SA), an IKE SA rekey crossing the IKE SA's
deletion. Traffic keeps an SA in every direction at every step (``coverage_check``)."""

from __future__ import annotations

import pytest

from pyipsec.core.events import ChildSaDeleted, ChildSaInstalled, IkeSaDeleted
from pyipsec.core.ikev2 import ike_rekey
from pyipsec.core.ikev2.child_rekey import lost
from pyipsec.dataplane.sad import ExpiryReason, SaHardExpired
from pyipsec.wire.ikev2 import message as wm
from pyipsec.wire.ikev2.constants import ExchangeType, NotifyType
from pyipsec.wire.ikev2.header import peek
from pyipsec.wire.ikev2.payloads import NoncePayload, NotifyPayload
from tests.core.ikev1.exchanges.harness import Net, Side, assert_pairs_match

from .harness import coverage_check, ike2_pair, live_children, soft_expire


def up(**kw: object) -> Net:
    net, pa, _ = ike2_pair(**kw)  # type: ignore[arg-type]
    net.a.engine.acquire(pa, net.now)
    net.run(10 if not kw.get("loss") else 120)
    assert len(net.a.sas()) == 2 and len(net.b.sas()) == 2
    return net


def skip_draws(side: Side, n: int) -> None:
    """Advance ``side``'s deterministic rng by ``n`` draws: other nonces from here on."""
    for _ in range(n):
        side.engine.rng(1)


def live_ike(side: Side) -> list[object]:
    return [s for s in side.engine.ike.values() if not s.dead]


def one_pair_each(net: Net) -> None:
    assert len(net.a.sas()) == 2 and len(net.b.sas()) == 2
    assert assert_pairs_match(net.a, net.b) == 1 and assert_pairs_match(net.b, net.a) == 1
    assert len(live_children(net.a)) == 1 and len(live_children(net.b)) == 1
    assert not net.a.backend.reserved and not net.b.backend.reserved


def exchange_nonces(net: Net, sa_a: object, sa_b: object) -> dict[str, tuple[bytes, bytes]]:
    """Ni/Nr of the CREATE_CHILD_SA exchange each side initiated, from the wire (decrypted
    with the receiving side's keys of the IKE SA they ran on)."""
    msgs: dict[tuple[str, bool], bytes] = {}
    for _, d in net.log:
        h = peek(d.data)
        if h.exchange != ExchangeType.CREATE_CHILD_SA:
            continue
        by_a = d.src[0] == net.a.address
        receiver, sa = (net.b, sa_b) if by_a else (net.a, sa_a)
        msg = wm.decode_protected(d.data, receiver.engine.sk_in(sa))
        if any(isinstance(p, NotifyPayload) and p.type < 16384 for p in msg.payloads):
            continue  # an error answer (INVALID_KE, TEMPORARY_FAILURE) carries no nonce
        nonce = next(p.data for p in msg.payloads if isinstance(p, NoncePayload))
        # a request from A and the response from B belong to A's exchange
        key = "a" if by_a != h.response else "b"
        msgs.setdefault((key, h.response), nonce)
    return {k: (msgs[(k, False)], msgs[(k, True)]) for k in ("a", "b")}


# --- §2.8.1 simultaneous child rekey ----------------------------------------------------------


@pytest.mark.parametrize("skew", range(6))
def test_simultaneous_child_rekey_the_lowest_nonce_loses(skew: int) -> None:
    net = up()
    skip_draws(net.a, skew)  # a different draw of nonces for each case
    (ca,), (cb,) = live_children(net.a), live_children(net.b)
    (sa_a,), (sa_b,) = live_ike(net.a), live_ike(net.b)
    net.watch = coverage_check(net, flows=1)
    soft_expire(net.a, ca, net.now)
    soft_expire(net.b, cb, net.now)
    net.run(10)
    one_pair_each(net)
    nonces = exchange_nonces(net, sa_a, sa_b)
    a_lost = lost(nonces["a"], nonces["b"])
    loser, winner = (net.a, net.b) if a_lost else (net.b, net.a)
    assert loser.engine.stats()["rekey-collision-lost"] == 1
    assert winner.engine.stats()["rekey-collision-won"] == 1
    # the survivor is the winner's exchange's child: the winner installed it as initiator
    (survivor,) = live_children(winner)
    assert survivor.initiator
    (kept,) = live_children(loser)
    assert not kept.initiator and kept.spi_in == survivor.spi_out
    # each side installed two new children (its own and the peer's) and deleted the old one
    # and the redundant one
    for s in (net.a, net.b):
        assert [e.rekey for e in s.of(ChildSaInstalled)] == [False, True, True]
        assert len(s.of(ChildSaDeleted)) == 2
    assert net.checks >= 8


def test_simultaneous_child_rekey_both_outcomes_happen() -> None:
    """The parametrised cases above are not all won by the same side."""
    outcomes = set()
    for skew in range(6):
        net = up()
        skip_draws(net.a, skew)
        (ca,), (cb,) = live_children(net.a), live_children(net.b)
        soft_expire(net.a, ca, net.now)
        soft_expire(net.b, cb, net.now)
        net.run(10)
        outcomes.add(net.a.engine.stats().get("rekey-collision-lost", 0))
    assert outcomes == {0, 1}


def test_our_response_before_the_peers_request_temporary_failure() -> None:
    """B's rekey request is lost once: A completes first and deletes the old child; B's
    retransmitted request then names a child A is closing: TEMPORARY_FAILURE (§2.25.1), and
    B keeps the child of A's exchange."""
    net = up()
    dropped: list[bool] = []

    def drop(d: object) -> bool:
        h = peek(d.data)  # type: ignore[attr-defined]
        first_b = h.exchange == ExchangeType.CREATE_CHILD_SA and not h.response
        if first_b and d.src[0] == net.b.address and not dropped:  # type: ignore[attr-defined]
            dropped.append(True)
            return True
        return False

    net.drop_if = drop
    (ca,), (cb,) = live_children(net.a), live_children(net.b)
    net.watch = coverage_check(net, flows=1)
    soft_expire(net.a, ca, net.now)
    soft_expire(net.b, cb, net.now)
    net.run(30)
    one_pair_each(net)
    assert net.a.engine.stats()["temporary-failure-sent"] == 1
    assert net.b.engine.stats()["rekey-yielded"] == 1
    assert live_children(net.a)[0].initiator and not live_children(net.b)[0].initiator


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5, 6])
def test_simultaneous_child_rekey_over_a_bad_network(seed: int) -> None:
    net = up(loss=0.2, duplicate=0.2, reorder=True, seed=seed)
    (ca,), (cb,) = live_children(net.a), live_children(net.b)
    net.watch = coverage_check(net, flows=1)
    soft_expire(net.a, ca, net.now)
    soft_expire(net.b, cb, net.now)
    net.run(300)
    one_pair_each(net)


# --- §2.25.1 rekey crossing a delete ------------------------------------------------------------


@pytest.mark.parametrize("who", ["a", "b"])
def test_child_rekey_crossing_its_delete(who: str) -> None:
    net = up()
    side, other = (net.a, net.b) if who == "a" else (net.b, net.a)
    (mine,), (theirs,) = live_children(side), live_children(other)
    soft_expire(side, mine, net.now)  # side rekeys while other deletes (hard expiry)
    other.engine.sa_expired(
        SaHardExpired(spi=theirs.spi_in, protocol=theirs.protocol, dst=theirs.local,
                      reason=ExpiryReason.TIME),
        net.now,
    )  # fmt: skip
    net.run(30)
    assert net.a.sas() == [] and net.b.sas() == []  # the delete wins
    assert other.engine.stats()["temporary-failure-sent"] == 1
    assert side.engine.stats()["rekey-yielded"] == 1
    assert not net.a.backend.reserved and not net.b.backend.reserved
    # nothing retried a rekey of the deleted child
    assert [e.rekey for e in side.of(ChildSaInstalled)] == [False]


@pytest.mark.parametrize("who", ["a", "b"])
def test_rekey_of_a_child_the_peer_does_not_know(who: str) -> None:
    net = up()
    side, other = (net.a, net.b) if who == "a" else (net.b, net.a)
    (theirs,) = live_children(other)
    other.engine.delete_child(theirs, net.now, reason="test: lost state", notify=False)
    (mine,) = live_children(side)
    soft_expire(side, mine, net.now)
    net.run(30)
    assert other.engine.stats()["child-sa-not-found-sent"] == 1
    one_pair_each(net)  # a new child replaced the unknown one
    assert [e.rekey for e in side.of(ChildSaInstalled)] == [False, False]


# --- §2.8.2 simultaneous IKE SA rekey -----------------------------------------------------------


def ike_nonces(net: Net, old_a: object, old_b: object) -> dict[str, tuple[bytes, bytes]]:
    return exchange_nonces(net, old_a, old_b)


@pytest.mark.parametrize("skew", range(6))
def test_simultaneous_ike_rekey_the_lowest_nonce_loses(skew: int) -> None:
    net = up()
    skip_draws(net.a, skew)
    (old_a,), (old_b,) = live_ike(net.a), live_ike(net.b)
    sas = {id(s): dict(s.backend.sas) for s in (net.a, net.b)}
    net.watch = coverage_check(net, flows=1)
    ike_rekey.start(net.a.engine, old_a, net.now)  # type: ignore[arg-type]
    ike_rekey.start(net.b.engine, old_b, net.now)  # type: ignore[arg-type]
    net.run(10)
    (new_a,), (new_b,) = live_ike(net.a), live_ike(net.b)
    assert (new_a.spi_i, new_a.spi_r) == (new_b.spi_i, new_b.spi_r)  # type: ignore[attr-defined]
    assert new_a.keys.sk_d == new_b.keys.sk_d  # type: ignore[attr-defined]
    nonces = ike_nonces(net, old_a, old_b)
    a_lost = lost(nonces["a"], nonces["b"])
    winner, loser = (net.b, net.a) if a_lost else (net.a, net.b)
    assert winner.engine.stats()["ike-rekey-collision-won"] == 1
    assert loser.engine.stats()["ike-rekey-collision-lost"] == 1
    # the surviving IKE SA is the winner's exchange's: the winner is its initiator
    assert (new_a if winner is net.a else new_b).initiator  # type: ignore[attr-defined]
    for s, new in ((net.a, new_a), (net.b, new_b)):
        assert dict(s.backend.sas) == sas[id(s)]  # the children were never touched
        assert len(new.children) == 1  # type: ignore[attr-defined]
        assert s.of(ChildSaDeleted) == []
        assert len(s.of(IkeSaDeleted)) == 2  # the old one and the redundant one
    # the survivor works: a child rekey on it
    (ca,) = live_children(net.a)
    soft_expire(net.a, ca, net.now)
    net.run(10)
    one_pair_each(net)


def test_simultaneous_ike_rekey_both_outcomes_happen() -> None:
    outcomes = set()
    for skew in range(6):
        net = up()
        skip_draws(net.a, skew)
        (old_a,), (old_b,) = live_ike(net.a), live_ike(net.b)
        ike_rekey.start(net.a.engine, old_a, net.now)  # type: ignore[arg-type]
        ike_rekey.start(net.b.engine, old_b, net.now)  # type: ignore[arg-type]
        net.run(10)
        outcomes.add(net.a.engine.stats().get("ike-rekey-collision-lost", 0))
    assert outcomes == {0, 1}


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5, 6])
def test_simultaneous_ike_rekey_over_a_bad_network(seed: int) -> None:
    net = up(loss=0.2, duplicate=0.2, reorder=True, seed=seed)
    (old_a,), (old_b,) = live_ike(net.a), live_ike(net.b)
    net.watch = coverage_check(net, flows=1)
    ike_rekey.start(net.a.engine, old_a, net.now)  # type: ignore[arg-type]
    ike_rekey.start(net.b.engine, old_b, net.now)  # type: ignore[arg-type]
    net.run(300)
    (new_a,), (new_b,) = live_ike(net.a), live_ike(net.b)
    assert (new_a.spi_i, new_a.spi_r) == (new_b.spi_i, new_b.spi_r)  # type: ignore[attr-defined]
    assert len(new_a.children) == 1 and len(new_b.children) == 1  # type: ignore[attr-defined]
    one_pair_each(net)


@pytest.mark.parametrize("who", ["a", "b"])
def test_child_rekey_crossing_an_ike_rekey_is_retried_on_the_new_ike_sa(who: str) -> None:
    net = up()
    side, other = (net.a, net.b) if who == "a" else (net.b, net.a)
    (old,) = live_ike(side)
    net.watch = coverage_check(net, flows=1)
    ike_rekey.start(side.engine, old, net.now)  # type: ignore[arg-type]
    (child,) = live_children(other)
    soft_expire(other, child, net.now)
    net.run(30)
    assert side.engine.stats()["temporary-failure-sent"] == 1
    assert other.engine.stats()["temporary-failure-received"] == 1
    (new,) = live_ike(side)
    assert new is not old
    one_pair_each(net)
    assert [e.rekey for e in other.of(ChildSaInstalled)] == [False, True]
    assert live_children(side)[0].ike_spi_i == new.spi_i  # type: ignore[attr-defined]


@pytest.mark.parametrize("who", ["a", "b"])
def test_ike_rekey_crossing_the_ike_sa_delete(who: str) -> None:
    net = up()
    side, other = (net.a, net.b) if who == "a" else (net.b, net.a)
    (old,) = live_ike(side)
    ike_rekey.start(side.engine, old, net.now)  # type: ignore[arg-type]
    other.engine.kill_connections(net.now)
    net.run(30)
    assert live_ike(net.a) == [] and live_ike(net.b) == []
    assert net.a.sas() == [] and net.b.sas() == []
    assert net.a.engine.next_timer() is None and net.b.engine.next_timer() is None


def test_notify_names() -> None:
    assert NotifyType.TEMPORARY_FAILURE == 43 and NotifyType.CHILD_SA_NOT_FOUND == 44


# --- everything at once -------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(8))
def test_random_rekeys_over_a_bad_network_keep_traffic_covered(seed: int) -> None:
    """Soft expiries at random moments on either or both sides (so child rekeys collide with
    each other, with deletes and with the IKE SA rekeys the lifetimes of 700 s and 650 s
    drive), PFS, over a network that loses, duplicates and reorders 10 %: every direction has
    a usable SA after every datagram, and in the end one IKE SA and one child remain."""
    import random

    from pyipsec.core.events import PeerUnreachable
    from pyipsec.core.profiles import ProposalProfile

    pfs = ProposalProfile(name="default", pfs_group="modp2048")
    net, pa, _ = ike2_pair(
        peer_a={"lifetime": 700},
        peer_b={"lifetime": 650},
        proposal_a=pfs,
        proposal_b=pfs,
        loss=0.1,
        duplicate=0.1,
        reorder=True,
        seed=seed,
    )
    net.a.engine.acquire(pa, net.now)
    net.run(200)
    net.watch = coverage_check(net, flows=1)
    r = random.Random(seed)
    for _ in range(30):
        net.run(r.uniform(0, 60))
        both = r.random() < 0.3
        for s in [net.a, net.b] if both else [r.choice([net.a, net.b])]:
            ready = [c for c in live_children(s) if not c.rekeyed]
            if ready:
                soft_expire(s, ready[-1], net.now)
    net.run(400)
    for s in (net.a, net.b):
        assert not s.of(PeerUnreachable)
        assert [x.state.value for x in live_ike(s)] == ["established"]  # type: ignore[attr-defined]
    assert sum(s.engine.stats().get("ike-rekey-started", 0) for s in (net.a, net.b)) >= 2
    one_pair_each(net)
    assert net.checks > 100


@pytest.mark.parametrize("what", ["child", "ike"])
def test_temporary_failure_for_minutes_closes_the_ike_sa(what: str) -> None:
    """§2.25: retries wait, longer and longer; a peer still answering TEMPORARY_FAILURE after
    several minutes (300 s) is out of sync: the IKE SA is closed."""
    from pyipsec.core.events import NegotiationFailed

    net = up()
    net.b.engine.handlers[int(ExchangeType.CREATE_CHILD_SA)] = lambda eng, sa, msg, now: [
        NotifyPayload(type=NotifyType.TEMPORARY_FAILURE)
    ]
    start = net.now
    if what == "child":
        soft_expire(net.a, live_children(net.a)[0], net.now)
    else:
        ike_rekey.start(net.a.engine, live_ike(net.a)[0], net.now)  # type: ignore[arg-type]
    net.run(290)
    assert len(live_ike(net.a)) == 1 and len(net.a.sas()) == 2  # still retrying
    net.run(100)
    (fail,) = [e for e in net.a.of(NegotiationFailed) if "TEMPORARY_FAILURE" in e.reason]
    assert "out of sync" in fail.reason
    assert live_ike(net.a) == [] and live_ike(net.b) == [] and net.b.sas() == []
    tries = [t for t, d in net.log if peek(d.data).exchange == ExchangeType.CREATE_CHILD_SA]
    assert 10 <= len(tries) // 2 <= 25  # waits grow: not one retry every few seconds
    assert all(t - start < 400 for t in tries)
