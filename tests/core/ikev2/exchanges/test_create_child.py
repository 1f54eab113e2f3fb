"""CREATE_CHILD_SA for a new child between two IKEv2 engines (RFC 7296 §1.3.1): an acquire for
another policy of the same ike2 peer reuses the established IKE SA, either side initiating;
PFS with the proposal's pfs-group (KE payloads, KEYMAT with the new g^ir, §2.17); errors
(NO_PROPOSAL_CHOSEN, TS_UNACCEPTABLE) leave the IKE SA up; lossy, duplicating, reordering
networks."""

from __future__ import annotations

import pytest

from pyipsec.core.events import ChildSaInstalled, IkeSaEstablished, NegotiationFailed
from pyipsec.core.ikev2 import keymat
from pyipsec.core.ikev2.engine import Ikev2Engine
from pyipsec.core.profiles import ProposalProfile
from pyipsec.dataplane.policy import Direction
from pyipsec.dataplane.sad import SaSelector
from pyipsec.wire.ikev2 import message as wm
from pyipsec.wire.ikev2.constants import ExchangeType
from pyipsec.wire.ikev2.header import peek
from pyipsec.wire.ikev2.payloads import KePayload, NoncePayload
from tests.core.ikev1.exchanges.harness import Net, Side, assert_pairs_match

from .harness import add_policy_pair, ike2_pair, live_children

NET_A2, NET_B2 = "10.1.1.0/24", "10.2.1.0/24"


def exchanges(net: Net) -> list[tuple[str, bool]]:
    return [(ExchangeType(peek(d.data).exchange).name, peek(d.data).response) for _, d in net.log]


def two_policies(**kw: object) -> tuple[Net, object, object, object, object]:
    net, pa, pb = ike2_pair(**kw)  # type: ignore[arg-type]
    pa2, pb2 = add_policy_pair(net, pa, pb, src=NET_A2, dst=NET_B2, pid=2)
    return net, pa, pb, pa2, pb2


def only_ike_sa(side: Side) -> object:
    sas = [s for s in side.engine.ike.values() if not s.dead]
    assert len(sas) == 1
    return sas[0]


def requests(net: Net, side: Side, other: Side, exchange: ExchangeType) -> list[wm.Message]:
    """``side``'s requests of ``exchange``, decrypted with the receiver's keys."""
    out = []
    sa = only_ike_sa(other)
    eng: Ikev2Engine = other.engine
    for _, d in net.log:
        h = peek(d.data)
        if h.exchange == exchange and not h.response and d.src[0] == side.address:
            out.append(wm.decode_protected(d.data, eng.sk_in(sa)))  # type: ignore[arg-type]
    return out


@pytest.mark.parametrize("who", ["a", "b"])
def test_acquire_for_a_second_policy_reuses_the_ike_sa(who: str) -> None:
    net, pa, _pb, pa2, pb2 = two_policies()
    net.a.engine.acquire(pa, net.now)
    net.run(10)
    side = net.a if who == "a" else net.b
    side.engine.acquire(pa2 if who == "a" else pb2, net.now)
    net.run(10)
    assert exchanges(net)[4:] == [("CREATE_CHILD_SA", False), ("CREATE_CHILD_SA", True)]
    for s in (net.a, net.b):
        assert len(s.of(IkeSaEstablished)) == 1  # no second IKE_SA_INIT
        assert [e.policy_id for e in s.of(ChildSaInstalled)] == [1, 2]
        assert not any(e.rekey for e in s.of(ChildSaInstalled))
        assert s.of(NegotiationFailed) == []
    assert assert_pairs_match(net.a, net.b) == 2 and assert_pairs_match(net.b, net.a) == 2
    # the new pair is bound to the second policy's selectors
    out = [p for p in net.a.backend.sas.values() if p.direction is Direction.OUT]
    assert out[-1].selector == SaSelector.of_policy(pa2, Direction.OUT)  # type: ignore[arg-type]
    # the request carried the default proposal's pfs-group (modp1024) in a KE payload
    req = requests(net, side, net.b if who == "a" else net.a, ExchangeType.CREATE_CHILD_SA)
    assert [p.group for m in req for p in m.payloads if isinstance(p, KePayload)] == [2]


def test_pfs_keys_take_the_new_shared_secret() -> None:
    """§2.17: with a KE payload KEYMAT = prf+(SK_d, g^ir (new) | Ni | Nr): the installed keys
    are not those prf+(SK_d, Ni | Nr) would give (that is what a lost KE would look like)."""
    pfs = ProposalProfile(name="default", pfs_group="modp2048")
    net, pa, _, pa2, _ = two_policies(proposal_a=pfs, proposal_b=pfs)
    net.a.engine.acquire(pa, net.now)
    net.run(10)
    net.a.engine.acquire(pa2, net.now)
    net.run(10)
    assert assert_pairs_match(net.a, net.b) == 2 and assert_pairs_match(net.b, net.a) == 2
    (req,) = requests(net, net.a, net.b, ExchangeType.CREATE_CHILD_SA)
    assert [p.group for p in req.payloads if isinstance(p, KePayload)] == [14]
    sa = only_ike_sa(net.a)
    child = live_children(net.a)[-1]
    ni = next(p.data for p in req.payloads if isinstance(p, NoncePayload))
    resp = next(
        wm.decode_protected(d.data, net.a.engine.sk_in(sa))
        for _, d in net.log
        if peek(d.data).exchange == ExchangeType.CREATE_CHILD_SA and peek(d.data).response
    )
    nr = next(p.data for p in resp.payloads if isinstance(p, NoncePayload))
    assert any(isinstance(p, KePayload) and p.group == 14 for p in resp.payloads)
    without = keymat.derive_child_keys(
        sa.choice.prf,  # type: ignore[attr-defined]
        sa.keys.sk_d,  # type: ignore[attr-defined]
        child.choice.encryption,
        child.choice.integrity,
        ni,
        nr,
        None,
    )
    out = net.a.backend.sas[(child.spi_out, child.protocol, child.remote)]
    assert out.enc_key != without.encr_i
    assert len(out.enc_key) == len(without.encr_i)


def test_no_pfs_without_pfs_group() -> None:
    nopfs = ProposalProfile(name="default", pfs_group=None)
    net, pa, _, pa2, _ = two_policies(proposal_a=nopfs, proposal_b=nopfs)
    net.a.engine.acquire(pa, net.now)
    net.run(10)
    net.a.engine.acquire(pa2, net.now)
    net.run(10)
    (req,) = requests(net, net.a, net.b, ExchangeType.CREATE_CHILD_SA)
    assert not any(isinstance(p, KePayload) for p in req.payloads)
    assert assert_pairs_match(net.a, net.b) == 2 and assert_pairs_match(net.b, net.a) == 2


def test_pfs_group_mismatch_is_no_proposal_chosen_and_the_ike_sa_stays() -> None:
    net, pa, _, pa2, _ = two_policies(
        proposal_a=ProposalProfile(name="default", pfs_group="modp2048"),
        proposal_b=ProposalProfile(name="default", pfs_group="ecp256"),
    )
    net.a.engine.acquire(pa, net.now)
    net.run(10)
    net.a.engine.acquire(pa2, net.now)
    net.run(10)
    (fail,) = net.a.of(NegotiationFailed)
    assert "NO_PROPOSAL_CHOSEN" in fail.reason and "policy 2" in fail.reason
    assert net.b.engine.stats()["no-proposal-chosen"] == 1
    assert len(net.a.sas()) == 2 and len(net.b.sas()) == 2  # the first child only
    assert not net.a.backend.reserved and not net.b.backend.reserved  # SPIs released
    assert [r.state for r in net.a.engine.remote_peers()] == ["established"]


def test_ts_unacceptable_when_the_responder_has_no_policy() -> None:
    net, pa, _pb = ike2_pair()
    net.a.engine.acquire(pa, net.now)
    net.run(10)
    # only A gets the second policy
    eng = net.a.engine
    import ipaddress
    from dataclasses import replace

    pa2 = replace(pa, id=2, src=ipaddress.ip_network(NET_A2), dst=ipaddress.ip_network(NET_B2))
    eng.configure(
        peers=list(eng.peers),
        proposals=list(eng.proposals.values()),
        policies=[pa, pa2],
        templates=[],
        now=net.now,
    )
    eng.acquire(pa2, net.now)
    net.run(10)
    (fail,) = net.a.of(NegotiationFailed)
    assert "TS_UNACCEPTABLE" in fail.reason and NET_A2 in fail.reason
    assert len(net.a.sas()) == 2 and len(net.b.sas()) == 2
    assert [r.state for r in net.b.engine.remote_peers()] == ["established"]


@pytest.mark.parametrize("who", ["a", "b"])  # the new child's initiator: IKE initiator or not
@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_new_child_over_a_bad_network(seed: int, who: str) -> None:
    net, pa, _pb, pa2, pb2 = two_policies(loss=0.3, duplicate=0.3, reorder=True, seed=seed)
    net.a.engine.acquire(pa, net.now)
    net.run(120)
    if who == "a":
        net.a.engine.acquire(pa2, net.now)
    else:
        net.b.engine.acquire(pb2, net.now)
    net.run(120)
    assert assert_pairs_match(net.a, net.b) == 2 and assert_pairs_match(net.b, net.a) == 2
    for s in (net.a, net.b):
        assert len(s.of(IkeSaEstablished)) == 1
        assert sorted(e.policy_id for e in s.of(ChildSaInstalled)) == [1, 2]
