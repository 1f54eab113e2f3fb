"""6.x <-> RouterOS 7 conversion (config/convert.py), ``export dialect=`` and ``/import`` of
the other dialect (mgmt/dialects.py). The mapping under test is docs/config.md's "Dialects":
a 6.x peer = a v7 profile + peer + identity, a policy's sa-dst-address = its peer's address."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from pyipsec.config.compile import Compiled, compile_config
from pyipsec.config.convert import ConversionError, detect_dialect, to_v6, to_v7
from pyipsec.config.store import Store
from pyipsec.config.table import Config
from tests.config.test_dialect_v7 import V7_SITE
from tests.mgmt.helpers import Console

GOLDEN_V7 = Path(__file__).resolve().parent.parent / "golden" / "v7"

V6_HUB = """\
/ip ipsec policy group add name=logserver
/ip ipsec proposal add name=p2 enc-algorithms=aes-256-gcm auth-algorithms="" pfs-group=ecp256
/ip ipsec peer
add address=198.51.100.1/32 secret=s1 enc-algorithm=aes-256 hash-algorithm=sha256 \\
    dh-group=modp2048 comment="branch 1"
add address=198.51.100.2/32 secret=s2 enc-algorithm=aes-256 hash-algorithm=sha256 \\
    dh-group=modp2048 local-address=203.0.113.1 exchange-mode=ike2
add address=0.0.0.0/0 passive=yes generate-policy=port-strict policy-template-group=logserver \\
    secret=road my-id=fqdn:gw.example.net auth-method=pre-shared-key-xauth xauth-login=u1 \\
    xauth-password=p1
add address=203.0.113.9/32 secret=off disabled=yes lifetime=8h
/ip ipsec policy
add src-address=10.1.0.0/24 dst-address=10.2.0.0/24 sa-src-address=203.0.113.1 \\
    sa-dst-address=198.51.100.1 tunnel=yes
add src-address=10.1.0.0/24 dst-address=10.3.0.0/24 sa-src-address=203.0.113.1 \\
    sa-dst-address=198.51.100.2 tunnel=yes proposal=p2
add src-address=10.1.0.0/24 dst-address=10.4.0.0/24 sa-dst-address=198.51.100.77 tunnel=yes
add src-address=10.8.0.0/16 dst-address=10.9.0.0/16 group=logserver template=yes
"""

V7_HUB = """\
/ip ipsec policy group
add name=logserver
/ip ipsec profile
set [ find default=yes ] dpd-interval=2m dpd-maximum-failures=5
add dh-group=modp2048 enc-algorithm=aes-256 hash-algorithm=sha256 name=peer1
add lifetime=8h name=peer4
/ip ipsec peer
add address=198.51.100.1/32 comment="branch 1" name=peer1 profile=peer1
add address=198.51.100.2/32 exchange-mode=ike2 local-address=203.0.113.1 \\
    name=peer2 profile=peer1
add name=peer3 passive=yes
add address=203.0.113.9/32 disabled=yes name=peer4 profile=peer4
/ip ipsec proposal
add auth-algorithms="" enc-algorithms=aes-256-gcm name=p2 pfs-group=ecp256
/ip ipsec identity
add peer=peer1 secret=s1
add peer=peer2 secret=s2
add auth-method=pre-shared-key-xauth generate-policy=port-strict my-id=\\
    fqdn:gw.example.net password=p1 peer=peer3 policy-template-group=\\
    logserver secret=road username=u1
add disabled=yes peer=peer4 secret=off
/ip ipsec policy
add dst-address=10.2.0.0/24 peer=peer1 sa-src-address=203.0.113.1 \\
    src-address=10.1.0.0/24 tunnel=yes
add dst-address=10.3.0.0/24 peer=peer2 proposal=p2 src-address=10.1.0.0/24 \\
    tunnel=yes
add dst-address=10.4.0.0/24 sa-dst-address=198.51.100.77 src-address=\\
    10.1.0.0/24 tunnel=yes
add dst-address=10.9.0.0/16 group=logserver src-address=10.8.0.0/16 template=\\
    yes
"""

V7_SITE_AGAIN = """\
/ip ipsec profile
set [ find default=yes ] dpd-interval=2m dpd-maximum-failures=5
add dh-group=modp2048 enc-algorithm=aes-128 name=peer1
/ip ipsec peer
add address=192.168.80.1/32 name=peer1 profile=peer1
/ip ipsec proposal
add enc-algorithms=aes-128-cbc name=ike1-site2 pfs-group=modp2048
/ip ipsec identity
add peer=peer1 secret=thisisnotasecurepsk
/ip ipsec policy
add dst-address=10.1.101.0/24 peer=peer1 proposal=ike1-site2 src-address=\\
    10.1.202.0/24 tunnel=yes
"""


def _body(text: str) -> str:
    return "".join(line + "\n" for line in text.splitlines() if not line.startswith("#"))


def _config(script: str, dialect: str = "v6") -> Config:
    console = Console(Store(":memory:", dialect=dialect))
    console.ok(script)
    return console.store.snapshot()


def _export(config: Config, args: str = "") -> str:
    store = Store(":memory:", dialect=config.dialect)
    store.replace(config)
    return _body(Console(store).ok(f"/ip ipsec export show-sensitive {args}"))


def _records(compiled: Compiled) -> tuple[object, ...]:
    return (
        compiled.policies,
        compiled.peers,
        compiled.proposals,
        compiled.templates,
        compiled.problems,
    )


def test_6x_hub_converts_to_the_expected_v7_export() -> None:
    assert _export(to_v7(_config(V6_HUB))) == V7_HUB
    # phase-1 crypto shared by two peers is one profile; the default crypto is `default`;
    # xauth-login/xauth-password are username/password; sa-dst-address became peer=


def test_conversion_keeps_the_engine_records() -> None:
    v6 = _config(V6_HUB)
    v7 = to_v7(v6)
    assert _records(compile_config(v7)) == _records(compile_config(v6))
    assert len(compile_config(v6).peers) == 3  # the disabled one is left out in both


def test_6x_to_v7_and_back_is_lossless() -> None:
    v6 = _config(V6_HUB)
    back = to_v6(to_v7(v6))
    assert _export(back) == _export(v6)
    assert _export(back, "verbose") == _export(v6, "verbose")
    assert _records(compile_config(back)) == _records(compile_config(v6))


def test_v7_to_6x_keeps_the_engine_records() -> None:
    v7 = _config(V7_SITE, "v7")
    v6 = to_v6(v7)
    assert _records(compile_config(v6)) == _records(compile_config(v7))
    # names of peers and profiles do not exist in 6.x: converting back names them anew
    assert _export(to_v7(v6)) == V7_SITE_AGAIN


@pytest.mark.parametrize(
    ("setup", "problem"),
    [
        ("/ip ipsec manual-sa add name=sa1", "/ip ipsec manual-sa: has no v7 menu"),
        ("/ip ipsec peer add exchange-mode=main-l2tp", "exchange-mode=main-l2tp has no v7"),
        ("/ip ipsec peer add enc-algorithm=blowfish", "enc-algorithm=blowfish is not valid"),
        ("/ip ipsec peer add dh-group=ec2n155", "dh-group=ec2n155 is not valid in v7"),
        ("/ip ipsec policy add priority=5", "priority=5 has no v7"),
        ("/ip ipsec peer add compatibility-options=skip-peer-id-check", "compatibility-options"),
        (
            "/ip ipsec peer add address=10.0.0.1/32\n/ip ipsec peer add address=10.0.0.1/32",
            "a second initiator for address 10.0.0.1/32 and exchange-mode main",
        ),
    ],
)
def test_what_v7_cannot_say_stops_the_conversion(setup: str, problem: str) -> None:
    with pytest.raises(ConversionError) as info:
        to_v7(_config(setup))
    assert any(problem in p for p in info.value.problems), info.value.problems


@pytest.mark.parametrize(
    ("setup", "problem"),
    [
        ("/ip ipsec peer set ike1-site2 address=gw.example.net", "a DNS name in address="),
        ("/ip ipsec identity add peer=ike1-site2", "2 identities (6.x has exactly one per peer)"),
        ("/ip ipsec identity remove 0", "0 identities"),
        ("/ip ipsec identity set 0 remote-id=fqdn:a.example", "remote-id=fqdn:a.example has no"),
        ("/ip ipsec identity set 0 my-id=dn", "my-id=dn is not valid in v6"),
        ("/ip ipsec profile set ike1-site2 hash-algorithm=sha384", "sha384 is not valid in v6"),
        ("/ip ipsec profile add name=spare", "/ip ipsec profile spare: used by no peer"),
        ("/ip ipsec mode-config set 0 use-responder-dns=yes", "use-responder-dns=yes has no"),
        ("/ip ipsec settings set accounting=no", "accounting=no has no v6"),
    ],
)
def test_what_6x_cannot_say_stops_the_conversion(setup: str, problem: str) -> None:
    with pytest.raises(ConversionError) as info:
        to_v6(_config(V7_SITE + setup + "\n", "v7"))
    assert any(problem in p for p in info.value.problems), info.value.problems


@pytest.mark.parametrize(
    ("text", "dialect"),
    [
        ("# 2026-07-11 21:04:13 by RouterOS 7.21.5\n/ip ipsec proposal\nadd name=a\n", "v7"),
        ("# sep/05/2018 22:53:03 by RouterOS 6.42.7\n/ip ipsec proposal\nadd name=a\n", "v6"),
        ("/ip ipsec profile\nadd name=x\n", "v7"),
        ("/ip ipsec identity add peer=x secret=y\n", "v7"),
        ("/ip/ipsec/proposal/add name=x\n", "v7"),
        ("ip/ipsec/active-peers/print\n", "v7"),
        ("/ip ipsec policy\nadd peer=x dst-address=10.0.0.0/8\n", "v7"),
        ("/ip ipsec peer\nadd address=10.0.0.1/32 name=p profile=default\n", "v7"),
        ("/ip ipsec peer\nadd address=10.0.0.1/32 secret=x\n", "v6"),
        ("/ip ipsec peer add address=10.0.0.1/32 dh-group=modp2048\n", "v6"),
        ("/ip ipsec proposal\nadd name=x\n", None),
        (":put hello\n", None),
    ],
)
def test_script_dialect_detection(text: str, dialect: str | None) -> None:
    assert detect_dialect(text) == dialect


def test_export_writes_either_dialect_without_changing_the_database() -> None:
    c6 = Console()
    c6.ok(V6_HUB)
    assert _body(c6.ok("/ip ipsec export dialect=v7 show-sensitive")) == V7_HUB
    assert "secret" not in c6.ok("/ip ipsec export dialect=v7")  # v7 hides them by default
    assert c6.store.snapshot().dialect == "v6"
    assert _body(c6.ok("/ip ipsec export dialect=v6")) == _body(c6.ok("/ip ipsec export"))
    assert c6.ok("/export dialect=v7").startswith("# 2026-01-02 03:04:05 by pyipsec")
    assert c6.run("/export dialect=v8") == "input does not match any value of dialect\n"
    assert c6.run("/ip ipsec manual-sa export dialect=v7").startswith("bad command name")


def test_lossy_export_is_a_routeros_style_failure() -> None:
    c7 = Console(Store(":memory:", dialect="v7"))
    c7.ok(V7_SITE + "/ip ipsec peer set 0 address=gw.example.net\n")
    assert c7.run("/export dialect=v6") == (
        "failure: can not convert to v6: /ip ipsec peer ike1-site2: a DNS name in address= "
        "has no 6.x; /ip ipsec policy *2: peer ike1-site2 has no host address\n"
    )


def test_first_import_decides_a_new_databases_dialect(tmp_path: Path) -> None:
    (tmp_path / "v7.rsc").write_text((GOLDEN_V7 / "site.export.txt").read_text())
    db = tmp_path / "c.db"
    with Store(db) as store:
        console = Console(store, files_dir=tmp_path)
        console.ok("/import file-name=v7.rsc")
        assert store.snapshot().dialect == "v7"
        out = console.ok("/ip ipsec export show-sensitive")
        assert out == (GOLDEN_V7 / "site.export.txt").read_text()
    with Store(db) as store:
        assert store.snapshot().dialect == "v7"
    # and a 6.x export into a fresh v7 database makes it a 6.x one
    (tmp_path / "v6.rsc").write_text("# jan/02/2026 03:04:05 by RouterOS 6.42.7\n" + V6_HUB)
    console = Console(Store(":memory:", dialect="v7"), files_dir=tmp_path)
    console.ok("/import file-name=v6.rsc")
    assert console.store.snapshot().dialect == "v6"


def test_import_of_the_other_dialect_into_a_configured_database_is_converted(
    tmp_path: Path,
) -> None:
    (tmp_path / "v7.rsc").write_text((GOLDEN_V7 / "site.export.txt").read_text())
    console = Console(files_dir=tmp_path)
    console.ok(V6_HUB)
    console.ok("/import file-name=v7.rsc")
    assert console.store.snapshot().dialect == "v6"
    out = console.ok("/ip ipsec export")
    assert "add address=192.168.80.1/32 dh-group=modp2048 enc-algorithm=aes-128 secret=\\" in out
    compiled = compile_config(console.store.snapshot())
    assert len(compiled.peers) == 4 and compiled.problems == ()


def test_import_that_6x_cannot_say_changes_nothing(tmp_path: Path) -> None:
    text = (GOLDEN_V7 / "site.export.txt").read_text()
    (tmp_path / "v7.rsc").write_text(text.replace("192.168.80.1/32", "gw.example.net"))
    console = Console(files_dir=tmp_path)
    console.ok(V6_HUB)
    before = console.export("verbose")
    out = console.run("/import file-name=v7.rsc")
    assert out.startswith("failure: can not convert to v6: /ip ipsec peer ike1-site2: a DNS")
    assert console.export("verbose") == before


def test_import_error_in_a_converted_script_changes_nothing(tmp_path: Path) -> None:
    (tmp_path / "bad.rsc").write_text(V7_SITE + "/ip ipsec identity add peer=nope\n")
    console = Console(files_dir=tmp_path)
    console.ok(V6_HUB)
    before = console.export("verbose")
    assert console.run("/import file-name=bad.rsc") == "input does not match any value of peer\n"
    assert console.export("verbose") == before


def test_ids_survive_conversion() -> None:
    v6 = _config(V6_HUB)
    v7 = to_v7(v6)
    assert [it.id for it in v7.table(("ip", "ipsec", "peer"))] == [
        it.id for it in v6.table(("ip", "ipsec", "peer"))
    ]
    assert [replace(p, id=0) for p in compile_config(v7).policies] == [
        replace(p, id=0) for p in compile_config(v6).policies
    ]


def test_failed_import_into_a_new_database_leaves_it_as_it_was(tmp_path: Path) -> None:
    """The first import decides the dialect only when it ran: a failing one changes nothing."""
    (tmp_path / "bad.rsc").write_text("/ip ipsec profile\nadd name=a dh-group=bogus\n")
    console = Console(files_dir=tmp_path)
    out = console.run("/import file-name=bad.rsc")
    assert out == "input does not match any value of dh-group\n"
    assert console.store.snapshot().dialect == "v6"
    (tmp_path / "empty.rsc").write_text("# 2026-07-11 21:04:13 by RouterOS 7.21.5\n")
    console.ok("/import file-name=empty.rsc")
    assert console.store.snapshot().dialect == "v7"  # it ran: a new database takes v7


def test_pasted_export_of_the_other_dialect_is_used_or_converted() -> None:
    """`pyipsec console < export.rsc`, or a paste: as an import (more than one command)."""
    site = (GOLDEN_V7 / "site.export.txt").read_text()
    fresh = Console()
    fresh.ok(site)
    assert fresh.store.snapshot().dialect == "v7"
    configured = Console()
    configured.ok(V6_HUB)
    configured.ok(site)
    assert configured.store.snapshot().dialect == "v6"
    assert "add address=192.168.80.1/32 dh-group=modp2048" in configured.export()
    lossy = Console()
    lossy.ok(V6_HUB + "/ip ipsec manual-sa add name=m1\n")
    before = lossy.export("verbose")
    out = lossy.run(site)
    assert out == "failure: can not convert to v7: /ip ipsec manual-sa: has no v7 menu\n"
    assert lossy.export("verbose") == before


def test_slash_paths_alone_do_not_convert_a_configured_database() -> None:
    """Slash paths are RouterOS 7 syntax, but the 6.x console reads them too: in a configured
    6.x database such a script runs as it is (a new database takes v7 from it)."""
    c6 = Console()
    c6.ok(V6_HUB + "/ip ipsec manual-sa add name=m1\n")
    c6.ok("/ip/ipsec/proposal/add name=s1\n/ip/ipsec/proposal/add name=s2")
    assert c6.store.snapshot().dialect == "v6"
    assert c6.ok(":put [/ip ipsec proposal get s2 name]") == "s2\n"
    fresh = Console()
    fresh.ok("/ip/ipsec/proposal/add name=s1\n/ip/ipsec/proposal/add name=s2")
    assert fresh.store.snapshot().dialect == "v7"


@pytest.mark.parametrize(
    ("text", "dialect"),
    [
        # another menu's profile=/peer= says nothing (a 6.x whole-router export's /ppp lines)
        ("/ppp secret\nadd name=carol profile=l2tp-profile\n", None),
        ("/ppp secret add name=carol profile=l2tp\n/ip ipsec peer add secret=x\n", "v6"),
        ("/routing bgp peer\nadd name=x peer=y\n", None),
        # continuation lines are one command
        ("/ip ipsec policy\nadd dst-address=10.0.0.0/8 \\\n    peer=x\n", "v7"),
        # the header wins over what the lines look like
        ("# dec/04/2026 19:40:12 by RouterOS 6.42.7\n/ppp secret add profile=a\n", "v6"),
    ],
)
def test_detection_looks_at_each_line_in_its_own_menu(text: str, dialect: str | None) -> None:
    assert detect_dialect(text) == dialect
