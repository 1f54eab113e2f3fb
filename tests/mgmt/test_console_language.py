"""The console language end to end: paths, abbreviations, generic commands, find/where."""

from __future__ import annotations

import stat
from pathlib import Path

from tests.mgmt.helpers import Console


def ids(console: Console, command: str) -> str:
    return console.ok(f":put [{command}]").strip()


def test_path_forms_and_navigation() -> None:
    c = Console()
    assert c.interp.prompt() == "[admin@MikroTik] > "
    c.ok("/ip ipsec")
    assert c.interp.prompt() == "[admin@MikroTik] /ip ipsec> "
    c.ok("policy")
    assert c.interp.prompt() == "[admin@MikroTik] /ip ipsec policy> "
    c.ok("..")
    c.ok("peer add address=192.0.2.1/32")
    assert c.interp.prompt() == "[admin@MikroTik] /ip ipsec> "
    c.ok("/")
    assert c.interp.prompt() == "[admin@MikroTik] > "
    slash = c.ok("/ip/ipsec/peer/print terse")
    spaced = c.ok("ip ipsec peer print terse")
    mixed = c.ok("ip ipsec/peer print terse")
    assert slash == spaced == mixed
    assert "address=192.0.2.1/32" in slash
    c.ok("/ip ipsec policy")
    assert c.ok("/ip ipsec peer print count-only") == "1\n"  # runs elsewhere without moving
    assert c.interp.prompt().endswith("/ip ipsec policy> ")
    assert c.ok(".. peer print count-only") == "1\n"


def test_identity_in_prompt_is_escaped() -> None:
    c = Console()
    c.ok('/system identity set name="V\\E4nge RV"')
    assert c.ok("/system identity get name") == ""
    assert c.ok(":put [/system identity get name]") == "V\u00e4nge RV\n"
    # non-ASCII shown as \XX (UTF-8 bytes)
    assert c.interp.prompt() == "[admin@V\\C3\\A4nge RV] > "


def test_abbreviations() -> None:
    c = Console()
    c.ok("/ip ips pe a addr=192.0.2.1/32 exch=aggressive")
    assert c.ok("/ip ipsec po pr count-only") == "1\n"
    assert ids(c, "/ip ipsec peer get 0 exchange-mode") == "aggressive"


def test_add_returns_id_and_ids_are_not_reused() -> None:
    c = Console()
    assert ids(c, "/ip ipsec proposal add name=a") == "*2"
    assert ids(c, "/ip ipsec proposal add name=b") == "*3"
    c.ok("/ip ipsec proposal remove b")
    assert ids(c, "/ip ipsec proposal add name=c") == "*4"


def test_numbers_come_from_the_last_print() -> None:
    c = Console()
    for n in range(3):
        c.ok(f"/ip ipsec peer add address=192.0.2.{n + 1}/32")
    c.ok('/ip ipsec peer print where address~"192.0.2.[23]"')
    c.ok("/ip ipsec peer set 0 comment=second")  # item 0 of the filtered print
    assert ids(c, "/ip ipsec peer get *2 comment") == "second"
    c.ok("/ip ipsec peer remove 0")
    # numbers stay valid after remove until the next print
    c.ok("/ip ipsec peer set 1 comment=third")
    assert ids(c, "/ip ipsec peer get [find address=192.0.2.3/32] comment") == "third"


def test_set_unset_enable_disable_comment() -> None:
    c = Console()
    c.ok("/ip ipsec peer add address=192.0.2.1/32 local-address=192.0.2.254")
    assert "local-address=192.0.2.254" in c.ok("/ip ipsec peer print")
    c.ok("/ip ipsec peer unset 0 local-address")
    assert "local-address=::" in c.ok("/ip ipsec peer print")  # unset shows as ::
    assert ids(c, "/ip ipsec peer get 0 local-address") == ""
    assert "local-address" not in c.export("verbose")
    c.ok("/ip ipsec peer disable 0")
    assert c.ok("/ip ipsec peer print count-only where disabled") == "1\n"
    c.ok("/ip ipsec peer enable [find]")
    assert c.ok("/ip ipsec peer print count-only where !disabled") == "1\n"
    c.ok('/ip ipsec peer comment 0 comment="hello world"')
    assert " 0    ;;; hello world\n" in c.ok("/ip ipsec peer print")
    c.ok('/ip ipsec peer comment 0 "positional"')
    assert ids(c, "/ip ipsec peer get 0 comment") == "positional"


def test_find_and_where_expressions() -> None:
    c = Console()
    c.ok(
        "/ip ipsec policy\n"
        "add src-address=10.1.0.0/24 dst-address=10.2.0.0/24 priority=5\n"
        "add src-address=10.1.1.0/24 dst-address=172.16.0.0/16 priority=1 disabled=yes\n"
        "add src-address=192.168.0.0/24 dst-address=10.2.0.0/24 protocol=udp\n"
    )
    assert ids(c, "/ip ipsec policy find default=yes") == "*1"
    assert ids(c, "/ip ipsec policy find where src-address in 10.0.0.0/8") == "*2;*3"
    assert ids(c, "/ip ipsec policy find where priority>1 or protocol=17") == "*2;*4"
    assert ids(c, "/ip ipsec policy find where !template and !disabled") == "*2;*4"
    assert ids(c, '/ip ipsec policy find where (disabled or default) and src-address~"^10"') == "*3"
    assert ids(c, "/ip ipsec policy find dst-address=10.2.0.0/24 protocol=udp") == "*4"
    assert ids(c, "/ip ipsec policy find where template") == "*1"
    assert c.ok("/ip ipsec policy print count-only where priority>=1") == "2\n"
    out = c.ok("/ip ipsec policy print terse from=1,3")
    assert [line.split()[0] for line in out.splitlines()] == ["0", "1"]
    assert "priority=5" in out and "protocol=udp" in out


def test_move_and_place_before() -> None:
    c = Console()
    c.ok(
        "/ip ipsec policy\n"
        "add src-address=10.0.0.1\nadd src-address=10.0.0.2\nadd src-address=10.0.0.3\n"
    )
    order = lambda: ids(c, "/ip ipsec policy find")  # noqa: E731
    assert order() == "*1;*2;*3;*4"
    c.ok("/ip ipsec policy add src-address=10.0.0.4 place-before=1")
    assert order() == "*1;*5;*2;*3;*4"
    c.ok("/ip ipsec policy print")
    c.ok("/ip ipsec policy move 4 1")
    assert order() == "*1;*4;*5;*2;*3"
    c.ok("/ip ipsec policy move *4")
    assert order() == "*1;*5;*2;*3;*4"


def test_copy_from_and_rename_propagates() -> None:
    c = Console()
    c.ok("/ip ipsec proposal add name=p1 lifetime=1h pfs-group=none")
    c.ok("/ip ipsec proposal add copy-from=p1 name=p2")
    # `get` gives scripts a typed value: a time prints as RouterOS's :put shows times
    assert ids(c, "/ip ipsec proposal get p2 lifetime") == "01:00:00"
    c.ok("/ip ipsec policy add proposal=p1 src-address=10.0.0.0/8")
    c.ok("/ip ipsec proposal set p1 name=renamed")
    assert ids(c, "/ip ipsec policy get [find src-address=10.0.0.0/8] proposal") == "renamed"


def test_quoting_escapes_continuation_and_comments() -> None:
    c = Console()
    c.ok(
        "# a comment line\n"
        '/ip ipsec proposal add name="with space" comment="say \\"hi\\" \\$x \\\\ end" \\\n'
        "    lifetime=\\\n"
        "    1h ; /ip ipsec proposal add name=second\n"
    )
    assert ids(c, '/ip ipsec proposal get "with space" comment') == 'say "hi" $x \\ end'
    assert ids(c, '/ip ipsec proposal get "with space" lifetime') == "01:00:00"
    out = c.export()
    assert 'add comment="say \\"hi\\" \\$x \\\\ end" lifetime=1h name="with space"' in out
    assert "add name=second" in out


def test_time_values_normalise() -> None:
    c = Console()
    c.ok("/ip ipsec proposal add name=p lifetime=1800")
    assert ids(c, "/ip ipsec proposal get p lifetime") == "00:30:00"
    assert "lifetime=30m" in c.ok("/ip ipsec proposal print detail where name=p")
    c.ok("/ip ipsec proposal set p lifetime=01:30:00")
    assert ids(c, "/ip ipsec proposal get p lifetime") == "01:30:00"
    assert "lifetime=1h30m" in c.ok("/ip ipsec proposal print detail where name=p")
    assert ids(c, "/ip ipsec proposal find where lifetime=5400") == "*2"


def test_export_options_and_levels(tmp_path: Path) -> None:
    c = Console(files_dir=tmp_path)
    c.ok("/ip ipsec peer add address=192.0.2.1/32 secret=topsecret")
    c.ok("/system identity set name=gw")
    assert "secret=topsecret" in c.ok("/ip ipsec peer export")
    assert "secret" not in c.ok("/ip ipsec peer export hide-sensitive")
    sub = c.ok("/ip ipsec export")
    assert "/ip ipsec peer" in sub and "/system identity" not in sub
    assert "/system identity\nset name=gw" in c.ok("/export")
    assert c.ok("/ip ipsec peer export file=peers") == ""
    written = tmp_path / "peers.rsc"
    assert "secret=topsecret" in written.read_text()
    assert stat.S_IMODE(written.stat().st_mode) == 0o600


def test_get_on_settings_and_statistics() -> None:
    c = Console()
    assert ids(c, "/system identity get name") == "MikroTik"
    assert ids(c, "/ip ipsec statistics get in-errors") == "0"
    out = c.ok("/ip ipsec statistics print")
    assert out.splitlines()[0] == "                  in-errors: 0"
    assert len(out.splitlines()) == 25


def test_runtime_commands_reach_the_provider() -> None:
    c = Console()
    calls: list[str] = []
    c.session.runtime.flush_installed_sa = lambda t: calls.append(f"flush {t}")  # type: ignore[method-assign]
    c.session.runtime.kill_connections = lambda: calls.append("kill")  # type: ignore[method-assign]
    c.ok("/ip ipsec installed-sa flush sa-type=esp")
    c.ok("/ip ipsec installed-sa flush")
    c.ok("/ip ipsec remote-peers kill-connections")
    assert calls == ["flush esp", "flush all", "kill"]
    assert c.ok("/ip ipsec installed-sa print") == "Flags: H - hw-aead, A - AH, E - ESP\n"
    assert c.ok("/ip ipsec remote-peers print count-only") == "0\n"


def test_export_terse_is_one_line_per_command_with_path(tmp_path: Path) -> None:
    c = Console(files_dir=tmp_path)
    c.ok(
        "/ip ipsec peer add address=198.51.100.7/32 dh-group=ec2n155,modp1024,modp768 "
        "enc-algorithm=aes-192,aes-128,3des exchange-mode=ike2 lifetime=10h secret=x"
    )
    c.ok("/ip ipsec proposal set default pfs-group=none")
    out = c.ok("/ip ipsec export terse")
    assert out.splitlines()[3:] == [
        "/ip ipsec peer add address=198.51.100.7/32 dh-group=ec2n155,modp1024,modp768 "
        "enc-algorithm=aes-192,aes-128,3des exchange-mode=ike2 lifetime=10h secret=x",
        "/ip ipsec proposal set [ find default=yes ] pfs-group=none",
    ]
    (tmp_path / "t.rsc").write_text(out)
    again = Console(files_dir=tmp_path)
    again.ok("/import file-name=t.rsc")
    assert again.ok("/ip ipsec export terse") == out


def test_api_style_id_argument() -> None:
    from pyipsec.mgmt.commands import dispatch

    c = Console()
    ret = dispatch(c.session, ("ip", "ipsec", "proposal"), "add", {"name": "p"}).ret
    assert ret == "*2"
    dispatch(c.session, ("ip", "ipsec", "proposal"), "set", {".id": "*2", "lifetime": "1h"})
    assert (
        dispatch(
            c.session, ("ip", "ipsec", "proposal"), "get", {".id": "*2", "value-name": "lifetime"}
        ).ret
        == "1h"
    )


def test_find_with_bare_flag_names() -> None:
    c = Console()
    c.ok("/ip ipsec policy add src-address=10.0.0.1 disabled=yes")
    assert ids(c, "/ip ipsec policy find default") == "*1"
    assert ids(c, "/ip ipsec policy find disabled") == "*2"
    c.ok("/ip ipsec policy add src-address=10.0.0.2 place-before=[find default]")
    assert ids(c, "/ip ipsec policy find") == "*3;*1;*2"


def test_import_takes_the_file_name_positionally(tmp_path: Path) -> None:
    (tmp_path / "x.rsc").write_text("/ip ipsec proposal add name=fromfile\n")
    c = Console(files_dir=tmp_path)
    assert c.ok("/import x.rsc") == "Script file loaded and executed successfully\n"
    assert ids(c, "/ip ipsec proposal find name=fromfile") == "*2"


def test_print_value_list() -> None:
    c = Console()
    c.ok("/ip ipsec proposal add name=tset1 auth-algorithms=md5 enc-algorithms=3des lifetime=1h")
    c.ok("/ip ipsec proposal set default enc-algorithms=des")
    assert c.ok("/ip ipsec proposal print value-list") == (
        "             name: default   tset1\n"
        "  auth-algorithms: sha1      md5\n"
        "   enc-algorithms: des       3des\n"
        "         lifetime: 30m       1h\n"
        "        pfs-group: modp1024  modp1024\n"
    )


def test_error_column_after_a_substitution() -> None:
    c = Console()
    c.ok("/ip ipsec peer add address=192.0.2.1/32")
    out = c.run("/ip ipsec peer set [find address=192.0.2.1/32] bogus=1")
    assert out == "expected end of command (line 1 column 48)\n"
