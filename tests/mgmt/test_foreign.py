"""Whole-router scripts: lines of RouterOS menus pyipsec does not implement are skipped with one
summary warning; errors inside implemented menus still stop the script (mgmt/cli/foreign.py)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from pyipsec.mgmt.cli.foreign import classify
from pyipsec.mgmt.cli.tokenizer import tokenize
from tests.mgmt.helpers import Console

WHOLE = """\
# nov/04/2026 10:00:00 by RouterOS 6.42.7
# software id = ABCD-1234
#
/interface bridge
add name=bridge1
add fast-forward=no name=bridge2 \\
    protocol-mode=none
/interface ethernet
set [ find default-name=ether1 ] name=ether1-wan
/ip ipsec proposal
set [ find default=yes ] enc-algorithms=aes-128-cbc
/ip firewall filter
add action=accept chain=input comment="allow IKE" dst-port=500,4500 \\
    protocol=udp
add action=accept chain=input protocol=ipsec-esp
/ip address
add address=198.51.100.1/24 interface=ether1-wan network=198.51.100.0
/ip ipsec peer
add address=203.0.113.2/32 secret=s3cret
/system identity
set name=gw
/system clock
set time-zone-name=Europe/Riga
/tool mac-server
set allowed-interface-list=none
"""

SUMMARY = (
    "warning: skipped lines of menus pyipsec does not implement: /interface bridge (2), "
    "/interface ethernet (1), /ip firewall filter (2), /ip address (1), /system clock (1), "
    "/tool mac-server (1)\n"
)


def test_import_skips_foreign_menus_with_one_summary(tmp_path: Path) -> None:
    (tmp_path / "all.rsc").write_text(WHOLE)
    c = Console(files_dir=tmp_path)
    out = c.ok("/import file-name=all.rsc")
    assert out == SUMMARY + "Script file loaded and executed successfully\n"
    assert c.ok(":put [/ip ipsec proposal get default enc-algorithms]") == "aes-128-cbc\n"
    assert c.ok(":put [/ip ipsec peer get 0 address]") == "203.0.113.2/32\n"
    assert c.interp.prompt() == "[admin@gw] > "  # identity applied, location kept


def test_pasted_script_skips_foreign_menus() -> None:
    c = Console()
    out = c.ok(WHOLE)
    assert out == SUMMARY
    assert c.ok("/ip ipsec peer print count-only") == "1\n"
    assert c.interp.cwd == ("tool", "mac-server")  # the last section header entered it


def test_error_in_an_implemented_menu_still_stops_the_import(tmp_path: Path) -> None:
    script = WHOLE.replace("add address=203.0.113.2/32", "add address=203.0.113.2/32 bogus=1")
    (tmp_path / "all.rsc").write_text(script)
    c = Console(files_dir=tmp_path)
    out = c.run("/import file-name=all.rsc")
    # RouterOS's error with its line; the skipped lines before it are summarised
    assert out.endswith("expected end of command (line 19 column 28)\n")
    assert "/ip firewall filter (2)" in out and "/system clock" not in out
    assert c.ok("/ip ipsec peer print count-only") == "0\n"
    assert c.ok(":put [/system identity get name]") == "MikroTik\n"


def test_unknown_menus_and_typos_are_errors_not_skipped() -> None:
    c = Console()
    assert c.run("/frobnicate add x=1") == "bad command name frobnicate (line 1 column 1)\n"
    assert c.run("/ip ipsec peeer") == "bad command name peeer (line 1 column 11)\n"
    assert c.run("/ip firewal2 filter") == "bad command name firewal2 (line 1 column 5)\n"


def test_substitution_of_a_foreign_menu_is_not_skipped() -> None:
    """A value must not silently become empty: `[ /interface find ]` stays an error."""
    c = Console()
    out = c.run(":put [/interface ethernet find]")
    assert out.startswith("bad command name interface")


def test_console_moves_into_a_foreign_menu_and_skips_there() -> None:
    c = Console()
    assert c.ok("/interface bridge") == (
        "warning: skipped lines of menus pyipsec does not implement: /interface bridge (1)\n"
    )
    assert c.interp.prompt() == "[admin@MikroTik] /interface bridge> "
    assert c.ok("port add bridge=bridge1 interface=ether2").endswith("/interface bridge port (1)\n")
    assert c.ok("..").endswith("does not implement: /interface (1)\n")  # still foreign
    assert c.interp.cwd == ("interface",)
    c.ok("/ip firewall")
    c.ok("..")  # back in /ip, which pyipsec implements
    assert c.interp.cwd == ("ip",)
    assert c.ok("ipsec proposal print count-only") == "1\n"
    c.ok("/ip ipsec")
    assert c.interp.cwd == ("ip", "ipsec")


def test_terse_and_slash_forms() -> None:
    def menu(line: str) -> tuple[tuple[str, ...], bool] | None:
        return classify(tokenize(line)[0].words, ())

    assert menu("/interface bridge add name=b1") == (("interface", "bridge"), False)
    assert menu("/ip/firewall/filter/add chain=x") == (("ip", "firewall", "filter"), False)
    assert menu("/routing ospf instance set [ find default=yes ] router-id=1.1.1.1") == (
        ("routing", "ospf", "instance"),
        False,
    )
    assert menu("/ip ssh set strong-crypto=yes") == (("ip", "ssh"), False)
    assert menu("/system ntp client") == (("system", "ntp", "client"), True)
    assert menu("/certificate settings set crl-use=yes") == (("certificate", "settings"), False)
    assert menu("/system identity set name=x") is None
    assert menu("/ip ipsec peer add address=1.2.3.4") is None
    assert menu("/ip pool add name=p ranges=10.0.0.1-10.0.0.9") is None
    assert menu(':put "x"') is None


def test_continuation_lines_go_with_the_skipped_command() -> None:
    c = Console()
    # the continuation alone (`protocol=udp`) would be a command error at the root
    out = c.ok('/ip firewall filter add chain=input comment="a b" \\\n    protocol=udp\n/')
    assert out == (
        "warning: skipped lines of menus pyipsec does not implement: /ip firewall filter (1)\n"
    )


def test_daemon_import_logs_the_summary(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    from pyipsec.config.store import Store
    from pyipsec.io.daemon import Daemon, DaemonOptions

    (tmp_path / "all.rsc").write_text(WHOLE)
    d = Daemon(DaemonOptions(db=tmp_path / "x.db"))
    d.store = Store(tmp_path / "x.db")
    with caplog.at_level(logging.WARNING, logger="pyipsec.system"):
        d.import_script(tmp_path / "all.rsc")
    assert [r.getMessage() for r in caplog.records] == [
        "import of all.rsc: " + SUMMARY.removeprefix("warning: ").rstrip("\n")
    ]
    assert len(d.store.snapshot().table(("ip", "ipsec", "peer"))) == 1


def test_v7_menus_are_ours_in_a_v7_database() -> None:
    from pyipsec.config.store import Store

    c = Console(Store(":memory:", dialect="v7"))
    out = c.ok(
        "/interface bridge\nadd name=br1\n/ip ipsec profile\nadd name=p1\n"
        "/ip pool\nadd name=vpn ranges=10.10.0.2-10.10.0.9\n"
    )
    assert out == (
        "warning: skipped lines of menus pyipsec does not implement: /interface bridge (1)\n"
    )
    assert c.ok("/ip ipsec profile print count-only") == "2\n"  # default and p1
    # in a 6.x database the same line is a `bad command name`, never skipped
    assert Console().run("/ip ipsec profile add name=p1").startswith("bad command name profile")


def test_ipsec_names_of_skipped_things_are_kept() -> None:
    """docs/config.md "Whole-router exports": an address list or a raw chain named by an
    /ip ipsec item is kept as text (no effect: pyipsec has no firewall) and exported again."""
    c = Console()
    out = c.ok(
        "/ip firewall address-list\nadd address=192.168.88.0/24 list=lan-nets\n"
        "/ip ipsec mode-config\nadd name=cfg-client src-address-list=lan-nets\n"
        "/ip ipsec peer\nadd address=203.0.113.5/32 mode-config=cfg-client "
        "notrack-chain=prerouting secret=x\n"
    )
    assert out.endswith("/ip firewall address-list (1)\n")
    text = c.export()
    assert "add name=cfg-client src-address-list=lan-nets\n" in text
    assert "notrack-chain=prerouting" in text
