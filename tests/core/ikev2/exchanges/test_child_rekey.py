"""Child SA rekeying between two IKEv2 engines (RFC 7296 §1.3.3, §2.8): the side whose soft
expiry fires first rekeys (REKEY_SA), with and without PFS, either side; make-before-break:
at every step of the exchange each direction has an outbound SA whose inbound twin the
receiver holds (the recording backend's SAs are checked after every datagram); the old
child is deleted once the new one is installed; hard expiry deletes; INVALID_KE_PAYLOAD
after a pfs-group change is answered and retried."""

from __future__ import annotations

import pytest

from pyipsec.core.events import ChildSaDeleted, ChildSaInstalled, NegotiationFailed
from pyipsec.core.profiles import ProposalProfile
from pyipsec.dataplane.sad import ExpiryReason, SaHardExpired
from pyipsec.wire.ikev2 import message as wm
from pyipsec.wire.ikev2.constants import ExchangeType, NotifyType
from pyipsec.wire.ikev2.header import peek
from pyipsec.wire.ikev2.payloads import KePayload, NotifyPayload
from tests.core.ikev1.exchanges.harness import Net, Side, assert_pairs_match

from .harness import (
    add_policy_pair,
    coverage_check,
    ike2_pair,
    live_children,
    sending_spis,
    set_proposal,
    soft_expire,
)


def up(**kw: object) -> Net:
    net, pa, _ = ike2_pair(**kw)  # type: ignore[arg-type]
    net.a.engine.acquire(pa, net.now)
    net.run(10 if not kw.get("loss") else 120)
    assert len(net.a.sas()) == 2 and len(net.b.sas()) == 2
    return net


def sides(who: str, net: Net) -> tuple[Side, Side]:
    return (net.a, net.b) if who == "a" else (net.b, net.a)


def child_requests(net: Net, sender: Side, receiver: Side) -> list[wm.Message]:
    sa = next(s for s in receiver.engine.ike.values() if not s.dead)
    out = []
    for _, d in net.log:
        h = peek(d.data)
        ours = h.exchange == ExchangeType.CREATE_CHILD_SA and d.src[0] == sender.address
        if ours and not h.response:
            out.append(wm.decode_protected(d.data, receiver.engine.sk_in(sa)))
    return out


@pytest.mark.parametrize("pfs", [None, "modp2048"])
@pytest.mark.parametrize("who", ["a", "b"])
def test_soft_expiry_rekeys_make_before_break(who: str, pfs: str | None) -> None:
    prop = ProposalProfile(name="default", pfs_group=pfs)
    net = up(proposal_a=prop, proposal_b=prop)
    side, other = sides(who, net)
    old_a = sending_spis(net.a, net.b)
    old_b = sending_spis(net.b, net.a)
    net.watch = coverage_check(net, flows=1)
    (child,) = live_children(side)
    soft_expire(side, child, net.now)
    net.run(10)
    assert net.checks >= 4  # request, response, Delete, its answer
    # one new pair each side, keys paired, the old SAs gone on both sides
    assert len(net.a.sas()) == 2 and len(net.b.sas()) == 2
    assert assert_pairs_match(net.a, net.b) == 1 and assert_pairs_match(net.b, net.a) == 1
    assert sending_spis(net.a, net.b) != old_a and sending_spis(net.b, net.a) != old_b
    for s in (net.a, net.b):
        installed = s.of(ChildSaInstalled)
        assert [e.rekey for e in installed] == [False, True]
        (gone,) = s.of(ChildSaDeleted)
        assert gone.spi_in == installed[0].spi_in
        assert s.of(NegotiationFailed) == []
        assert not s.backend.reserved
    (req,) = child_requests(net, side, other)
    (rekey,) = [p for p in req.payloads if isinstance(p, NotifyPayload)][:1]
    assert rekey.type == NotifyType.REKEY_SA and int.from_bytes(rekey.spi, "big") == child.spi_in
    kes = [p.group for p in req.payloads if isinstance(p, KePayload)]
    assert kes == ([] if pfs is None else [14])
    # the exchanges: CREATE_CHILD_SA, then the initiator's Delete of the old child
    seen = [(peek(d.data).exchange, peek(d.data).response) for _, d in net.log][4:]
    assert seen == [(36, False), (36, True), (37, False), (37, True)]


def test_the_responder_sends_with_the_old_sa_until_the_delete() -> None:
    """Step by step: after the response is out but before the initiator's Delete arrives, the
    responder still sends with the old SA (the initiator may not have the new one yet)."""
    net = up()
    old_b = sending_spis(net.b, net.a)
    held: list[object] = []
    net.drop_if = lambda d: (
        peek(d.data).exchange == ExchangeType.INFORMATIONAL and not held.append(d)
    )
    (child,) = live_children(net.a)
    soft_expire(net.a, child, net.now)
    net.pump()
    assert sending_spis(net.b, net.a) == old_b  # new outbound SA held back
    assert len(net.b.sas()) == 3  # old pair + new inbound
    assert sending_spis(net.a, net.b) != {}  # A sends with the new SA already
    new_a = sending_spis(net.a, net.b)
    assert all(
        net.b.backend.sas.get((spi, child.protocol, net.b.address)) for spi in new_a.values()
    )


@pytest.mark.parametrize("who", ["a", "b"])
def test_rekey_over_a_bad_network_keeps_traffic_covered(who: str) -> None:
    for seed in (1, 2, 3, 5, 8):
        net = up(loss=0.25, duplicate=0.25, reorder=True, seed=seed)
        side, _ = sides(who, net)
        net.watch = coverage_check(net, flows=1)
        (child,) = live_children(side)
        soft_expire(side, child, net.now)
        net.run(200)
        assert len(net.a.sas()) == 2 and len(net.b.sas()) == 2, seed
        assert assert_pairs_match(net.a, net.b) == 1 and assert_pairs_match(net.b, net.a) == 1


@pytest.mark.parametrize("who", ["a", "b"])
def test_rekeyed_child_rekeys_again(who: str) -> None:
    net = up()
    side, _ = sides(who, net)
    net.watch = coverage_check(net, flows=1)
    for _ in range(3):
        (child,) = live_children(side)
        soft_expire(side, child, net.now)
        net.run(10)
    assert [e.rekey for e in net.a.of(ChildSaInstalled)] == [False, True, True, True]
    assert len(net.a.sas()) == 2 and len(net.b.sas()) == 2
    assert assert_pairs_match(net.a, net.b) == 1


@pytest.mark.parametrize("who", ["a", "b"])
def test_hard_expiry_deletes_without_a_rekey(who: str) -> None:
    net = up()
    side, other = sides(who, net)
    (child,) = live_children(side)
    side.engine.sa_expired(
        SaHardExpired(spi=child.spi_in, protocol=child.protocol, dst=child.local,
                      reason=ExpiryReason.TIME),
        net.now,
    )  # fmt: skip
    net.run(10)
    assert net.a.sas() == [] and net.b.sas() == []
    assert len(other.of(ChildSaInstalled)) == 1


@pytest.mark.parametrize("who", ["a", "b"])
def test_invalid_ke_after_a_pfs_group_change_is_retried(who: str) -> None:
    """The rekey sends its KE in the old child's group (modp1024) and offers the configured
    one too; both sides now want modp2048: the responder answers INVALID_KE_PAYLOAD(14), the
    initiator retries with modp2048 (§1.3)."""
    net, pa, pb = ike2_pair()
    pa2, _pb2 = add_policy_pair(net, pa, pb, src="10.1.1.0/24", dst="10.2.1.0/24", pid=2)
    net.a.engine.acquire(pa, net.now)
    net.run(10)
    net.a.engine.acquire(pa2, net.now)  # a CREATE_CHILD_SA child: PFS with modp1024
    net.run(10)
    new = ProposalProfile(name="default", pfs_group="modp2048")
    set_proposal(net.a, new, net.now)
    set_proposal(net.b, new, net.now)
    side, other = sides(who, net)
    child = next(c for c in live_children(side) if c.policy.id == 2)
    assert child.choice.group.id == 2
    net.watch = coverage_check(net, flows=2)
    soft_expire(side, child, net.now)
    net.run(10)
    reqs = child_requests(net, side, other)[-2:]
    assert [[p.group for p in m.payloads if isinstance(p, KePayload)] for m in reqs] == [[2], [14]]
    assert other.engine.stats()["invalid-ke-payload"] == 1
    assert side.engine.stats()["invalid-ke-retry"] == 1
    assert other.of(NegotiationFailed) == [] and side.of(NegotiationFailed) == []
    assert len(net.a.sas()) == 4 and assert_pairs_match(net.a, net.b) == 2
    assert next(c for c in live_children(side) if c.policy.id == 2).choice.group.id == 14


@pytest.mark.parametrize("who", ["a", "b"])
def test_rekey_of_a_child_whose_policy_b_generated_from_a_template(who: str) -> None:
    """B (generate-policy) made its policy from a template when the first child came; a rekey
    either way keeps one generated policy for the traffic, bound to the new SAs, and
    deleting the child at the end removes it."""
    import ipaddress

    from pyipsec.core.profiles import ExchangeMode, GeneratePolicy, TemplatePolicy
    from pyipsec.dataplane.policy import Direction
    from tests.core.ikev1.exchanges.harness import configure, peer

    net, pa, _ = ike2_pair()
    template = TemplatePolicy(
        id=9,
        group="default",
        src=ipaddress.ip_network("10.2.0.0/16"),
        dst=ipaddress.ip_network("10.1.0.0/16"),
        protocol=None,
        proposal="default",
    )
    b_peer = peer(
        f"{net.a.address}/32",
        exchange_mode=ExchangeMode.IKE2,
        generate_policy=GeneratePolicy.PORT_OVERRIDE,
    )
    configure(net.b, peers=[b_peer], policies=[], templates=[template])
    net.a.engine.acquire(pa, net.now)
    net.run(10)
    (first,) = net.b.backend.policies.values()
    side, _ = sides(who, net)
    net.watch = coverage_check(net, flows=1)
    for _ in range(2):
        (child,) = live_children(side)
        soft_expire(side, child, net.now)
        net.run(10)
    assert len(net.a.sas()) == 2 and len(net.b.sas()) == 2
    assert assert_pairs_match(net.a, net.b) == 1 and assert_pairs_match(net.b, net.a) == 1
    (generated,) = net.b.backend.policies.values()  # one policy, not one per rekey
    assert (generated.src, generated.dst) == (first.src, first.dst)
    for params in net.b.sas():
        bound = params.selector
        assert bound is not None and {bound.src, bound.dst} == {generated.src, generated.dst}
        assert params.direction in (Direction.IN, Direction.OUT)
    net.watch = None  # from here on the SAs go on purpose
    net.b.engine.kill_connections(net.now)
    net.run(10)
    assert net.b.backend.policies == {}


@pytest.mark.parametrize("who", ["a", "b"])
def test_ah_child_rekey(who: str) -> None:
    """An AH child (ipsec-protocols=ah) is rekeyed the same way: REKEY_SA names protocol AH."""
    ah = {"ah": True, "esp": False}
    net = up(policy_a=ah, policy_b=ah)
    side, other = sides(who, net)
    assert {p.protocol.name for p in net.a.sas()} == {"AH"}
    net.watch = coverage_check(net, flows=1)
    (child,) = live_children(side)
    soft_expire(side, child, net.now)
    net.run(10)
    assert len(net.a.sas()) == 2 and assert_pairs_match(net.a, net.b) == 1
    (req,) = child_requests(net, side, other)
    (rekey,) = [p for p in req.payloads if isinstance(p, NotifyPayload)][:1]
    assert rekey.type == NotifyType.REKEY_SA and rekey.protocol == 2  # AH
    assert [e.rekey for e in side.of(ChildSaInstalled)] == [False, True]


@pytest.mark.parametrize("who", ["a", "b"])
def test_kill_connections_while_a_rekey_is_in_flight(who: str) -> None:
    """The rekey's answer arrives after we started deleting the IKE SA: no child is
    installed on a dying IKE SA (it used to outlive it, with its SAs in the data plane)."""
    net = up()
    side, _other = sides(who, net)
    (child,) = live_children(side)
    soft_expire(side, child, net.now)  # the CREATE_CHILD_SA request is out
    side.engine.kill_connections(net.now)  # before its answer
    net.run(30)
    for s in (net.a, net.b):
        assert list(s.engine.children) == [] and s.backend.sas == {}
        assert not s.engine.ike and s.backend.reserved == set()
    assert [e.rekey for e in side.of(ChildSaInstalled)] == [False]
