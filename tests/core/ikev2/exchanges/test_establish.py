"""IKE_SA_INIT + IKE_AUTH between two IKEv2 engines (RFC 7296 §1.2): PSK both ways, AES-GCM
and CBC+SHA2 children installed in both directions with the same keys on both sides, bound
to the policy; lossy, duplicating and reordering networks; INVALID_KE_PAYLOAD retry."""

from __future__ import annotations

import pytest

from pyipsec.core.events import (
    ChildSaInstalled,
    DatagramDropped,
    IkeSaEstablished,
    NatDetected,
)
from pyipsec.core.profiles import ExchangeMode, ProposalProfile
from pyipsec.dataplane.policy import Direction
from pyipsec.dataplane.sad import SaSelector
from pyipsec.wire.ikev2.constants import ExchangeType
from pyipsec.wire.ikev2.header import peek
from tests.core.ikev1.exchanges.harness import NET_A, NET_B, Net, assert_pairs_match

from .harness import ike2_pair


def established(net: Net) -> None:
    """One IKE SA and one child on each side, keys paired both ways."""
    assert [e.exchange for e in net.a.of(IkeSaEstablished)] == ["ike2"]
    assert [e.exchange for e in net.b.of(IkeSaEstablished)] == ["ike2"]
    assert len(net.a.of(ChildSaInstalled)) == 1 and len(net.b.of(ChildSaInstalled)) == 1
    assert assert_pairs_match(net.a, net.b) == 1
    assert assert_pairs_match(net.b, net.a) == 1
    for side in (net.a, net.b):
        assert [r.state for r in side.engine.remote_peers()] == ["established"]


def exchanges(net: Net) -> list[tuple[str, bool]]:
    out = []
    for _, d in net.log:
        h = peek(d.data)
        out.append((ExchangeType(h.exchange).name, h.response))
    return out


@pytest.mark.parametrize("initiator", ["a", "b"])
def test_psk_tunnel_either_side_initiates(initiator: str) -> None:
    net, pa, pb = ike2_pair()
    if initiator == "a":
        net.a.engine.acquire(pa, net.now)
    else:
        net.b.engine.acquire(pb, net.now)
    net.run(10)
    established(net)
    first = net.a if initiator == "a" else net.b
    assert first.of(IkeSaEstablished)[0].side == "initiator"
    # four messages: IKE_SA_INIT and IKE_AUTH, each request and response, nothing else
    assert exchanges(net) == [
        ("IKE_SA_INIT", False),
        ("IKE_SA_INIT", True),
        ("IKE_AUTH", False),
        ("IKE_AUTH", True),
    ]
    assert not net.a.of(NatDetected) and not net.b.of(NatDetected)
    # the SAs carry exactly the policy's traffic (RFC 4301 §4.4.2)
    for sa in net.a.sas():
        want = (NET_A, NET_B) if sa.direction is Direction.OUT else (NET_B, NET_A)
        assert sa.selector == SaSelector(src=want[0], dst=want[1])
        assert sa.lifetime.hard_add == 1800
        assert 0.85 * 1800 <= sa.lifetime.soft_add < 1800


@pytest.mark.parametrize(
    ("enc", "auth", "want_enc", "want_integ"),
    [
        (("aes-128-gcm",), ("sha256",), "aes-128-gcm", None),
        (("aes-256-gcm",), ("sha1",), "aes-256-gcm", None),
        (("aes-128-cbc",), ("sha256",), "aes-128-cbc", "sha256"),
        (("aes-256-cbc",), ("sha512",), "aes-256-cbc", "sha512"),
    ],
)
def test_child_algorithms(
    enc: tuple[str, ...], auth: tuple[str, ...], want_enc: str, want_integ: str | None
) -> None:
    prop = ProposalProfile(name="default", enc_algorithms=enc, auth_algorithms=auth)
    net, pa, _ = ike2_pair(proposal_a=prop, proposal_b=prop)
    net.a.engine.acquire(pa, net.now)
    net.run(10)
    established(net)
    for sa in net.a.sas() + net.b.sas():
        assert sa.encryption is not None and sa.encryption.name == want_enc
        assert (sa.integrity.name if sa.integrity else None) == want_integ


def test_aead_ike_sa_and_sha2_prf() -> None:
    peer = {"enc_algorithms": ("aes-256-gcm", "aes-128"), "hash_algorithm": "sha256"}
    net, pa, _ = ike2_pair(peer_a=peer, peer_b=peer)
    net.a.engine.acquire(pa, net.now)
    net.run(10)
    established(net)
    sa = next(iter(net.a.engine.ike.values()))
    assert sa.choice.encryption.name == "aes-256-gcm" and sa.choice.integrity is None
    assert sa.choice.prf.name == "sha256"


@pytest.mark.parametrize("seed", range(6))
def test_lossy_reordering_network(seed: int) -> None:
    net, pa, _ = ike2_pair(loss=0.3, reorder=True, duplicate=0.2, seed=seed)
    net.a.engine.acquire(pa, net.now)
    net.run(200)
    established(net)


def test_duplicates_answered_from_cache_never_processed_twice() -> None:
    net, pa, _ = ike2_pair(duplicate=1.0)
    net.a.engine.acquire(pa, net.now)
    net.run(10)
    established(net)  # one child each: the IKE_AUTH copy did not install a second
    b = net.b.engine.stats()
    # each request of A arrived twice; the second copy got the cached response
    assert b["retransmission-answered"] == 2
    a = net.a.engine.stats()
    # B answered each request twice (once processed, once from the cache), every answer
    # arrived twice: of the four copies one is taken, three answer no outstanding request
    assert a["unexpected-response"] == 2 * 3
    assert len(net.b.backend.log) == len(net.a.backend.log)


def test_lost_response_retransmitted_request_gets_cached_answer() -> None:
    dropped: list[bool] = []

    def lose_first_auth_response(d: object) -> bool:
        h = peek(d.data)  # type: ignore[attr-defined]
        if h.exchange == ExchangeType.IKE_AUTH and h.response and not dropped:
            dropped.append(True)
            return True
        return False

    net, pa, _ = ike2_pair(drop_if=lose_first_auth_response)
    net.a.engine.acquire(pa, net.now)
    net.run(10)
    established(net)
    assert net.a.engine.stats()["retransmitted"] == 1
    assert net.b.engine.stats()["retransmission-answered"] == 1
    # B installed once: its response came from the cache
    assert sum(1 for k, _ in net.b.backend.log if k == "add_sa") == 2


def test_invalid_ke_payload_initiator_retries_with_the_wanted_group() -> None:
    net, pa, _ = ike2_pair(
        peer_a={"dh_groups": ("ecp256", "modp2048")}, peer_b={"dh_groups": ("modp2048",)}
    )
    net.a.engine.acquire(pa, net.now)
    net.run(10)
    established(net)
    assert net.b.engine.stats()["invalid-ke-sent"] == 1
    assert net.a.engine.stats()["invalid-ke-retry"] == 1
    sa = next(iter(net.a.engine.ike.values()))
    assert sa.choice.group.name == "modp2048"
    assert exchanges(net)[:2] == [("IKE_SA_INIT", False), ("IKE_SA_INIT", True)]
    assert len(exchanges(net)) == 6


def test_nat_detected_and_ike_floats_to_4500() -> None:
    net, pa, _ = ike2_pair(nat=True)
    net.a.engine.acquire(pa, net.now)
    net.run(10)
    established(net)
    assert [e.local_behind_nat for e in net.a.of(NatDetected)] == [True]
    assert [e.peer_behind_nat for e in net.b.of(NatDetected)] == [True]
    ports = [(d.src[1], d.dst[1]) for _, d in net.log]
    assert ports[2:] == [(4500, 4500), (4500, 4500)] or all(p[1] == 4500 for p in ports[2:3])
    for sa in net.b.sas():
        assert sa.udp_encap is not None
    assert not net.b.of(DatagramDropped)


def test_responder_generates_the_policy_from_a_template() -> None:
    import ipaddress

    from pyipsec.core.profiles import GeneratePolicy, TemplatePolicy
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
    established(net)
    (generated,) = net.b.backend.policies.values()
    assert (generated.src, generated.dst) == (NET_B, NET_A)
    assert generated.sa_dst == net.a.address
    # deleting the child removes the generated policy too
    net.b.engine.kill_connections(net.now)
    net.run(10)
    assert net.b.backend.policies == {}


def test_initiator_moving_to_4500_without_a_nat_is_answered_there() -> None:
    """strongSwan with MOBIKE sends IKE_AUTH from 4500 even without a NAT (RFC 4555 §3.2):
    the answer goes back to 4500 (RFC 7296 §2.11), ESP stays unencapsulated."""
    from pyipsec.core.events import Datagram

    net, pa, _ = ike2_pair()
    a = net.a.engine
    sent = a.datagrams_to_send

    def moved() -> list[Datagram]:  # A's IKE_AUTH leaves from and to port 4500
        out = []
        for d in sent():
            if peek(d.data).exchange == ExchangeType.IKE_AUTH:
                d = Datagram(data=d.data, src=(d.src[0], 4500), dst=(d.dst[0], 4500))
            out.append(d)
        return out

    a.datagrams_to_send = moved
    a.acquire(pa, net.now)
    net.run(10)
    established(net)
    auth_response = [d for _, d in net.log if peek(d.data).exchange == ExchangeType.IKE_AUTH][-1]
    assert auth_response.src[1] == 4500 and auth_response.dst[1] == 4500
    assert all(sa.udp_encap is None for sa in net.b.sas())
