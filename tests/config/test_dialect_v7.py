"""The RouterOS 7 dialect's model: profile + peer + identity menus, policy ``peer=``, the
database's dialect, and compilation to the very records the equivalent 6.x configuration gives
(reference §2.4-§2.6; the 6.x <-> v7 mapping is in docs/config.md, "Dialects")."""

from __future__ import annotations

import ipaddress
from dataclasses import replace
from pathlib import Path

import pytest

from pyipsec.config.compile import compile_config
from pyipsec.config.store import Store
from tests.mgmt.helpers import Console

# The MikroTik site-to-site example of reference §3.6 in both dialects.
V7_SITE = """\
/ip ipsec profile add dh-group=modp2048 enc-algorithm=aes-128 name=ike1-site2
/ip ipsec peer add address=192.168.80.1/32 name=ike1-site2 profile=ike1-site2
/ip ipsec proposal add enc-algorithms=aes-128-cbc name=ike1-site2 pfs-group=modp2048
/ip ipsec identity add peer=ike1-site2 secret=thisisnotasecurepsk
/ip ipsec policy add dst-address=10.1.101.0/24 peer=ike1-site2 proposal=ike1-site2 \\
    src-address=10.1.202.0/24 tunnel=yes
"""
V6_SITE = """\
/ip ipsec peer add address=192.168.80.1/32 dh-group=modp2048 enc-algorithm=aes-128 \\
    secret=thisisnotasecurepsk
/ip ipsec proposal add enc-algorithms=aes-128-cbc name=ike1-site2 pfs-group=modp2048
/ip ipsec policy add dst-address=10.1.101.0/24 proposal=ike1-site2 src-address=10.1.202.0/24 \\
    sa-dst-address=192.168.80.1 tunnel=yes
"""


def v7_console() -> Console:
    return Console(Store(":memory:", dialect="v7"))


def test_v7_and_v6_site_compile_to_the_same_engine_records() -> None:
    c7, c6 = v7_console(), Console()
    c7.ok(V7_SITE)
    c6.ok(V6_SITE)
    a, b = compile_config(c7.store.snapshot()), compile_config(c6.store.snapshot())
    assert a.problems == b.problems == ()
    assert [replace(p, id=0) for p in a.peers] == [replace(p, id=0) for p in b.peers]
    assert [replace(p, id=0) for p in a.policies] == [replace(p, id=0) for p in b.policies]
    assert a.proposals == b.proposals
    assert a.peers[0].secret == b"thisisnotasecurepsk"
    assert a.peers[0].dh_groups == ("modp2048",)
    assert a.policies[0].sa_dst == ipaddress.ip_address("192.168.80.1")


def test_v7_local_address_becomes_the_policy_sa_source() -> None:
    c7 = v7_console()
    c7.ok(V7_SITE + "/ip ipsec peer set ike1-site2 local-address=203.0.113.1 exchange-mode=ike2\n")
    compiled = compile_config(c7.store.snapshot())
    assert compiled.policies[0].sa_src == ipaddress.ip_address("203.0.113.1")
    assert compiled.peers[0].exchange_mode.value == "ike2"


def test_v6_database_has_no_v7_menus() -> None:
    c6 = Console()
    assert c6.run("/ip ipsec profile add name=x") == "bad command name profile (line 1 column 11)\n"
    assert "bad command name identity" in c6.run("/ip ipsec identity print")


def test_v7_database_has_no_6x_only_menus_and_peer_properties() -> None:
    c7 = v7_console()
    assert "bad command name manual-sa" in c7.run("/ip ipsec manual-sa print")
    assert "bad command name remote-peers" in c7.run("/ip ipsec remote-peers print")
    # 6.x peer properties belong to profile/identity in v7
    assert c7.run("/ip ipsec peer add name=p secret=x").startswith("expected end of command")
    assert c7.run("/ip ipsec peer add name=p dh-group=modp2048").startswith("expected end")


def test_dialect_is_kept_in_the_database(tmp_path: Path) -> None:
    db = tmp_path / "c.db"
    with Store(db, dialect="v7") as store:
        Console(store).ok(V7_SITE)
    with Store(db) as store:  # reopened without saying: stays v7
        assert store.snapshot().dialect == "v7"
        out = Console(store).ok("/ip ipsec profile print count-only")
        assert out == "2\n"
    with Store(tmp_path / "old.db") as store:
        assert store.snapshot().dialect == "v6"


def test_default_profile_exists_and_cannot_be_removed() -> None:
    c7 = v7_console()
    assert c7.ok(":put [/ip ipsec profile get default dh-group]") == "modp2048,modp1024\n"
    assert c7.run("/ip ipsec profile remove default") == "failure: can not remove default profile\n"


def test_peer_without_name_is_named_like_routeros() -> None:
    c7 = v7_console()
    c7.ok("/ip ipsec peer add address=198.51.100.1/32")
    assert c7.ok(":put [/ip ipsec peer get [find] name]") == "peer1\n"


def test_peer_address_takes_dns_names() -> None:
    c7 = v7_console()
    c7.ok(V7_SITE + "/ip ipsec peer set ike1-site2 address=Gw.Example.NET.\n")
    assert c7.ok(":put [/ip ipsec peer get ike1-site2 address]") == "gw.example.net\n"
    unresolved = compile_config(c7.store.snapshot())
    assert unresolved.peers == ()
    assert "peer ike1-site2: address gw.example.net is not resolved yet" in unresolved.problems
    resolved = compile_config(
        c7.store.snapshot(), resolved={"gw.example.net": ipaddress.ip_address("198.51.100.7")}
    )
    assert resolved.peers[0].address == ipaddress.ip_network("198.51.100.7/32")
    assert resolved.policies[0].sa_dst == ipaddress.ip_address("198.51.100.7")


def test_peer_without_identity_is_left_out_with_a_problem() -> None:
    c7 = v7_console()
    c7.ok(V7_SITE + "/ip ipsec identity remove [find]\n")
    compiled = compile_config(c7.store.snapshot())
    assert compiled.peers == ()
    assert "peer ike1-site2: no identity" in compiled.problems
    assert compiled.policies == ()  # its policy has no usable peer


def test_identity_auth_methods_map_to_the_engine() -> None:
    c7 = v7_console()
    c7.ok(V7_SITE + "/ip ipsec identity set 0 auth-method=eap\n")
    assert (
        "peer ike1-site2: auth-method eap is not supported"
        in compile_config(c7.store.snapshot()).problems
    )
    c7.ok("/ip ipsec identity set 0 auth-method=pre-shared-key remote-id=fqdn:x.example")
    assert compile_config(c7.store.snapshot()).peers == ()


@pytest.mark.parametrize(
    ("command", "error"),
    [
        ("/ip ipsec profile add", "failure: name must be specified"),
        ("/ip ipsec profile add name=default", "failure: item with such name already exists"),
        ("/ip ipsec profile add name=x enc-algorithm=blowfish", "input does not match any"),
        ("/ip ipsec profile add name=x dh-group=ec2n155", "input does not match any value"),
        ("/ip ipsec profile add name=x dpd-interval=2h", "invalid value for argument dpd-interval"),
        ("/ip ipsec profile add name=x ppk=psk", "input does not match any value of ppk"),
        ("/ip ipsec peer add name=ike1-site2", "failure: item with such name already exists"),
        ("/ip ipsec peer add name=q address=10.1.2", "invalid value for argument address"),
        ("/ip ipsec peer add name=q address=bad_name", "invalid value for argument address"),
        ("/ip ipsec peer add name=q profile=nope", "input does not match any value of profile"),
        ("/ip ipsec peer add name=q exchange-mode=main-l2tp", "input does not match any value"),
        ("/ip ipsec identity add secret=x", "failure: peer must be specified"),
        ("/ip ipsec identity add peer=nope", "input does not match any value of peer"),
        ("/ip ipsec identity add peer=ike1-site2 auth-method=rsa-signature", "input does not"),
        ("/ip ipsec identity add peer=ike1-site2 remote-id=bogus", "input does not match any"),
        ("/ip ipsec identity add peer=ike1-site2 match-by=x", "input does not match any value"),
        ("/ip ipsec policy add peer=nope", "input does not match any value of peer"),
        ("/ip ipsec policy add priority=1", "expected end of command"),
        ("/ip ipsec profile remove default", "failure: can not remove default profile"),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(command: str, error: str) -> None:
    c7 = v7_console()
    c7.ok(V7_SITE)
    before = c7.export("verbose")
    assert c7.run(command).startswith(error)
    assert c7.export("verbose") == before


@pytest.mark.parametrize(
    "extra", ["", "exchange-mode=aggressive my-id=fqdn:a.lab.example", "exchange-mode=ike2"]
)
def test_interop_scripts_of_both_dialects_compile_alike(extra: str) -> None:
    """tests/interop's ros_script(dialect=v7) is the 6.x script's configuration: the same
    engine records (the v7 peer names sa-src-address as its local-address)."""
    from tests.interop.helpers import ros_script

    c6, c7 = Console(), v7_console()
    c6.ok(ros_script(peer_extra=extra))
    c7.ok(ros_script(peer_extra=extra, dialect="v7"))
    a, b = compile_config(c6.store.snapshot()), compile_config(c7.store.snapshot())
    assert a.problems == b.problems == ()
    assert [replace(p, id=0) for p in a.policies] == [replace(p, id=0) for p in b.policies]
    peer7 = b.peers[0]
    assert [replace(p, id=0, local_address=peer7.local_address) for p in a.peers] == [
        replace(peer7, id=0)
    ]


def test_v7_console_prompt_completion_and_help() -> None:
    from pyipsec.mgmt.cli.console import candidates, help_text

    c7 = v7_console()
    c7.ok("/ip ipsec profile")
    assert c7.interp.prompt() == "[admin@MikroTik] /ip/ipsec/profile> "
    assert Console().interp.prompt() == "[admin@MikroTik] > "
    c6 = Console()
    c6.ok("/ip ipsec policy")
    assert c6.interp.prompt() == "[admin@MikroTik] /ip ipsec policy> "
    c7.ok("/")
    assert candidates(c7.interp, "/ip ipsec pro") == ["profile", "proposal"]
    assert candidates(c7.interp, "ip/ipsec/pro") == ["ip/ipsec/profile", "ip/ipsec/proposal"]
    assert candidates(c6.interp, "/ip ipsec pro") == ["proposal"]
    assert "ppk=" in candidates(c7.interp, "/ip ipsec profile add p")
    assert "profile" in help_text(c7.interp, "/ip ipsec ")


def test_passive_peers_carry_the_responder_flag() -> None:
    c7 = v7_console()
    c7.ok(V7_SITE + "/ip ipsec peer add name=road passive=yes exchange-mode=ike2\n")
    assert c7.ok(":put [/ip ipsec peer find responder]") == "*2\n"
    assert c7.ok(":put [/ip ipsec peer get road responder]") == "true\n"  # a bool to scripts
    assert c7.ok("/ip ipsec peer print count-only where responder") == "1\n"
    assert c7.ok("/ip ipsec peer print detail").startswith(
        "Flags: X - disabled; D - dynamic; R - responder\n"
    )


def test_renames_follow_and_used_items_stay() -> None:
    """RouterOS refers to items by id: a renamed profile/peer is renamed where it is used, and
    an item in use is not removed (the v7 references: peer profile=, identity/policy peer=)."""
    c7 = v7_console()
    c7.ok(V7_SITE)
    c7.ok("/ip ipsec profile set ike1-site2 name=renamed")
    c7.ok("/ip ipsec peer set ike1-site2 name=p2")
    assert c7.ok(":put [/ip ipsec peer get p2 profile]") == "renamed\n"
    assert c7.ok(":put [/ip ipsec identity get 0 peer]") == "p2\n"
    assert c7.ok(":put [/ip ipsec policy get 1 peer]") == "p2\n"
    before = c7.export("verbose show-sensitive")
    assert c7.run("/ip ipsec profile remove renamed").startswith("failure: profile renamed is used")
    assert c7.run("/ip ipsec peer remove p2").startswith("failure: peer p2 is used by")
    assert c7.export("verbose show-sensitive") == before


def test_peer_policy_shows_the_peers_sa_addresses_read_only() -> None:
    """RouterOS 7 shows a peer= policy's SA addresses from its peer (reference §2.2)."""
    c7 = v7_console()
    c7.ok(V7_SITE + "/ip ipsec peer set ike1-site2 local-address=203.0.113.1\n")
    assert c7.ok(":put [/ip ipsec policy get 1 sa-dst-address]") == "192.168.80.1\n"
    assert c7.ok(":put [/ip ipsec policy get 1 sa-src-address]") == "203.0.113.1\n"
    assert c7.ok("/ip ipsec policy print count-only where sa-dst-address=192.168.80.1") == "1\n"
    detail = c7.ok("/ip ipsec policy print detail")
    assert "sa-src-address=203.0.113.1" in detail and "sa-dst-address=192.168.80.1" in detail
    assert "sa-dst-address" not in c7.ok("/ip ipsec policy export")  # not configured values
    c7.ok("/ip ipsec peer set ike1-site2 address=198.51.100.0/24")  # no host: nothing shown
    assert c7.ok(":put [/ip ipsec policy get 1 sa-dst-address]") == "\n"


def test_one_initiator_peer_per_address_and_exchange_mode() -> None:
    """ "Exchange mode is the only unique identifier between peers" (reference §2.4)."""
    c7 = v7_console()
    c7.ok(V7_SITE)
    clash = "failure: Multiple initiator peers for the same address/dns\n"
    before = c7.export("verbose show-sensitive")
    assert c7.run("/ip ipsec peer add name=b address=192.168.80.1/32") == clash
    assert c7.export("verbose show-sensitive") == before
    c7.ok("/ip ipsec peer add name=b address=192.168.80.1/32 exchange-mode=ike2")
    c7.ok("/ip ipsec peer add name=c address=192.168.80.1/32 passive=yes")
    c7.ok("/ip ipsec peer add name=d address=192.168.80.1/32 disabled=yes")
    assert c7.run("/ip ipsec peer enable d") == clash
    assert c7.run("/ip ipsec peer set c passive=no") == clash
    c6 = Console()  # 6.x has no such rule
    c6.ok("/ip ipsec peer add address=10.0.0.1/32\n/ip ipsec peer add address=10.0.0.1/32")


def test_compiled_v7_records_follow_every_item_they_are_made_of() -> None:
    """Peer records are kept with the peer item and policy records with their peer's record
    (a change recompiles only what changed): a change to the profile, the identity or the peer
    still reaches the records."""
    c7 = v7_console()
    c7.ok(V7_SITE)
    first = compile_config(c7.store.snapshot())
    again = compile_config(c7.store.snapshot())
    assert again.peers[0] is first.peers[0] and again.policies[0] is first.policies[0]
    c7.ok("/ip ipsec profile set ike1-site2 dh-group=ecp256")
    assert compile_config(c7.store.snapshot()).peers[0].dh_groups == ("ecp256",)
    c7.ok("/ip ipsec identity set 0 secret=other")
    assert compile_config(c7.store.snapshot()).peers[0].secret == b"other"
    c7.ok("/ip ipsec peer set ike1-site2 address=198.51.100.9/32")
    compiled = compile_config(c7.store.snapshot())
    assert compiled.policies[0].sa_dst == ipaddress.ip_address("198.51.100.9")
    c7.ok("/ip ipsec identity disable 0")
    compiled = compile_config(c7.store.snapshot())
    assert compiled.peers == () and compiled.policies == ()
    assert compiled.problems == (
        "peer ike1-site2: no identity",
        "policy 1: peer ike1-site2 is not usable",
    )
