"""Quick mode between two engines: SAs installed on both sides with matching keys."""

from __future__ import annotations

import pytest

from pyipsec.core.events import ChildSaInstalled, IkeSaEstablished, NegotiationFailed
from pyipsec.core.profiles import ExchangeMode, ProposalProfile
from pyipsec.dataplane.policy import Direction, Mode
from pyipsec.dataplane.sad import SaProtocol

from .harness import assert_pairs_match, site_to_site


def test_acquire_main_mode_then_quick_mode() -> None:
    net, pa, _pb = site_to_site()
    net.a.engine.acquire(pa, net.now)
    net.run(10)
    assert len(net.a.of(IkeSaEstablished)) == 1
    assert len(net.a.of(ChildSaInstalled)) == 1 and len(net.b.of(ChildSaInstalled)) == 1
    assert len(net.a.backend.sas) == 2 and len(net.b.backend.sas) == 2
    assert assert_pairs_match(net.a, net.b) == 1
    assert assert_pairs_match(net.b, net.a) == 1
    for sa in net.a.sas():
        assert sa.mode is Mode.TUNNEL and sa.udp_encap is None
        assert sa.lifetime.hard_add == 1800 and 0 < sa.lifetime.soft_add < 1800


# RouterOS v4.5 defaults: 3des/md5/modp1024 phase 1; sha1/3des PFS modp1024 phase 2.
ROS45_PEER = {"hash_algorithm": "md5", "enc_algorithms": ("3des",), "dh_groups": ("modp1024",)}
ROS45_PROPOSAL = ProposalProfile(
    name="default", auth_algorithms=("sha1",), enc_algorithms=("3des",), pfs_group="modp1024"
)

COMBOS = [
    pytest.param(ROS45_PEER, ROS45_PROPOSAL, id="routeros-4.5-defaults"),
    pytest.param(
        {"hash_algorithm": "sha256", "enc_algorithms": ("aes-256",), "dh_groups": ("modp2048",)},
        ProposalProfile(
            name="default",
            auth_algorithms=("sha256",),
            enc_algorithms=("aes-128-cbc",),
            pfs_group=None,
        ),
        id="aes256-sha256-modp2048-nopfs",
    ),
    pytest.param(
        {"hash_algorithm": "sha1", "enc_algorithms": ("aes-128",), "dh_groups": ("ec2n155",)},
        ProposalProfile(
            name="default",
            auth_algorithms=("md5",),
            enc_algorithms=("aes-256-gcm",),
            pfs_group="ec2n185",
        ),
        id="ec2n155-gcm-pfs-ec2n185",
    ),
    pytest.param(
        {"hash_algorithm": "sha512", "enc_algorithms": ("camellia-256",), "dh_groups": ("ecp256",)},
        ProposalProfile(
            name="default",
            auth_algorithms=("sha512",),
            enc_algorithms=("blowfish",),
            pfs_group="ecp384",
        ),
        id="camellia-sha512-ecp256-blowfish",
    ),
    pytest.param(
        {"hash_algorithm": "md5", "enc_algorithms": ("des",), "dh_groups": ("modp768",)},
        ProposalProfile(
            name="default", auth_algorithms=("md5",), enc_algorithms=("des",), pfs_group="modp768"
        ),
        id="des-md5-modp768",
    ),
    pytest.param(
        {"hash_algorithm": "sha256", "enc_algorithms": ("aes-256",), "dh_groups": ("modp2048",)},
        ProposalProfile(
            name="default",
            auth_algorithms=("null",),
            enc_algorithms=("aes-128-cbc",),
            pfs_group=None,
        ),
        # found by the mutation campaign: ESP without integrity (RouterOS auth-algorithms=null)
        # reached the SAD with no integrity algorithm instead of "null" and was refused there
        id="esp-without-integrity",
    ),
]


@pytest.mark.parametrize(("peer_kw", "proposal"), COMBOS)
@pytest.mark.parametrize("mode", [ExchangeMode.MAIN, ExchangeMode.AGGRESSIVE, ExchangeMode.BASE])
def test_algorithm_combinations(
    peer_kw: dict[str, object], proposal: ProposalProfile, mode: ExchangeMode
) -> None:
    kw = {**peer_kw, "exchange_mode": mode}
    net, pa, _ = site_to_site(peer_a=kw, peer_b=kw, proposal_a=proposal, proposal_b=proposal)
    net.a.engine.acquire(pa, net.now)
    net.run(10)
    assert not net.a.of(NegotiationFailed) and not net.b.of(NegotiationFailed)
    assert assert_pairs_match(net.a, net.b) == 1 and assert_pairs_match(net.b, net.a) == 1


def test_responder_can_initiate_too() -> None:
    net, _pa, pb = site_to_site()
    net.b.engine.acquire(pb, net.now)
    net.run(10)
    assert net.b.of(IkeSaEstablished)[0].side == "initiator"
    assert assert_pairs_match(net.a, net.b) == 1


@pytest.mark.parametrize(("ah", "esp"), [(True, False), (False, True), (True, True)])
@pytest.mark.parametrize("tunnel", [True, False])
def test_protocols_and_modes(ah: bool, esp: bool, tunnel: bool) -> None:
    import ipaddress

    from .harness import A_ADDR, B_ADDR

    if tunnel:
        net, pa, _ = site_to_site(policy_a={"ah": ah, "esp": esp}, policy_b={"ah": ah, "esp": esp})
    else:
        host_a, host_b = ipaddress.ip_network(A_ADDR), ipaddress.ip_network(B_ADDR)
        net, pa, _ = site_to_site(
            policy_a={"ah": ah, "esp": esp, "tunnel": False, "src": host_a, "dst": host_b},
            policy_b={"ah": ah, "esp": esp, "tunnel": False, "src": host_b, "dst": host_a},
        )
    net.a.engine.acquire(pa, net.now)
    net.run(10)
    protos = {sa.protocol for sa in net.a.sas()}
    expected = {p for p, on in ((SaProtocol.AH, ah), (SaProtocol.ESP, esp)) if on}
    assert protos == expected
    assert assert_pairs_match(net.a, net.b) == len(expected)
    mode = Mode.TUNNEL if tunnel else Mode.TRANSPORT
    assert all(sa.mode is mode for sa in net.a.sas() + net.b.sas())
    assert {sa.direction for sa in net.b.sas()} == {Direction.IN, Direction.OUT}


def test_esp_without_integrity_is_null_integrity_without_anti_replay() -> None:
    """auth-algorithms=null: the SAs carry the "null" integrity the SAD expects, and no replay
    window, which only packets with verified integrity may move (RFC 4303 §3.4.3); with one, a
    single forged sequence number far ahead made the SA drop every real packet (found by the
    mutation campaign)."""
    proposal = ProposalProfile(
        name="default", auth_algorithms=("null",), enc_algorithms=("aes-128-cbc",), pfs_group=None
    )
    net, pa, _ = site_to_site(proposal_a=proposal, proposal_b=proposal)
    net.a.engine.acquire(pa, net.now)
    net.run(10)
    sas = net.a.sas() + net.b.sas()
    assert len(sas) == 4
    for sa in sas:
        assert sa.integrity is not None and sa.integrity.name == "null"
        assert sa.replay_window == 0
    net, pa, _ = site_to_site()
    net.a.engine.acquire(pa, net.now)
    net.run(10)
    assert {sa.replay_window for sa in net.a.sas()} == {128}
