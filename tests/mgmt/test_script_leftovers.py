"""Leftovers of issue 11's audit (docs/issue11-acceptance.md "Known limitations"), each
checked against RouterOS's Scripting manual (help.mikrotik.com) and the reference's section 3."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from pyipsec.mgmt.cli.console import interact
from tests.mgmt.helpers import Console
from tests.mgmt.test_issue11_users import TwoPeers, _console


@pytest.mark.parametrize(
    "command",
    [
        "/ip ipsec peer print file=../../outside",
        "/ip ipsec peer print file={abs}/outside",
        "/ip ipsec export file=../../outside",
        "/export file={abs}/outside",
        "/ip ipsec key export-pub-key key=k file-name=../outside.pub",
    ],
)
def test_writes_of_a_root_console_stay_in_the_files_directory(tmp_path: Path, command: str) -> None:
    """A pasted script is untrusted: root's console (no login, ``policies`` None) may not write
    outside the files directory either; RouterOS keeps files in its own store."""
    files = tmp_path / "a" / "b" / "files"
    files.mkdir(parents=True)
    outside = tmp_path / "abs"
    outside.mkdir()
    c = Console(files_dir=files)
    c.ok("/ip ipsec peer add address=203.0.113.1")
    c.ok("/ip ipsec key generate-key name=k key-size=1024")
    out = c.run(command.format(abs=outside))
    assert out.startswith("failure: bad file name"), out
    created = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert created == []


def test_root_console_still_reads_an_absolute_path_and_writes_inside(tmp_path: Path) -> None:
    files = tmp_path / "files"
    files.mkdir()
    script = tmp_path / "elsewhere.rsc"
    script.write_text("/ip ipsec peer add address=203.0.113.9 comment=imported\n")
    c = Console(files_dir=files)
    assert "Script file loaded and executed successfully" in c.run(f"/import file-name={script}")
    assert "imported" in c.ok("/ip ipsec peer print")
    c.ok("/ip ipsec export file=sub/site")
    assert (files / "sub" / "site.rsc").is_file()


def test_blank_between_equals_and_a_block_is_accepted() -> None:
    """``else= {`` / ``do= {``: published scripts run on routers write them so (the widely used
    BackupAndUpdate script, a JSON parser's ``} else= {``, an SSH client sending
    ``:if [...] do= { :put false } else= { :put true }`` and reading its answer), so RouterOS
    takes the block after the blanks. Other values keep their rule (``comment= x`` is an error)."""
    c = Console()
    assert c.run(":if (1=1) do={:put a} else= {:put b}") == "a\n"
    assert c.run(":if (1=2) do= {:put a} else=  {:put b}") == "b\n"
    assert c.run(":local f do= {:return 5}; :put [$f]") == "5\n"
    script = (
        ':if ([:len [/ip ipsec peer find]] > 0) do={\n  :put "some"\n} else= {\n  :put "none"\n}'
    )
    assert c.run(script) == "none\n"
    assert c.run("/ip ipsec peer add address=203.0.113.1 comment= x").startswith(
        "expected end of command"
    )


def test_where_without_the_property_is_nothing() -> None:
    """``find where !(dynamic-address=[])`` (eworm-de: the active peers that have a mode-config
    address): ``[]`` is nothing, and so is a property a row lacks, so ``prop=[]`` is true for
    that row and the negation keeps only the rows that have it."""
    c = _console("v7")
    c.session.runtime = TwoPeers()
    menu = "/ip/ipsec/active-peers/find"
    assert c.ok(f":put [{menu} where !(dynamic-address=[])]") == "*1\n"
    assert c.ok(f":put [{menu} where dynamic-address=[]]") == "*2\n"
    assert c.ok(f':put [{menu} where dynamic-address!="10.9.0.5"]') == "*2\n"
    assert c.ok(f":put [{menu} where dynamic-address]") == "*1\n"


def test_find_arguments_are_typed_by_their_property() -> None:
    """``find prop=value`` parses ``value`` with the property's type, as ``set`` does: another
    spelling of the same value matches, a bad one is RouterOS's error for the argument (it was
    an empty result). ``where`` compares values (a text never equals a number: no error)."""
    c = Console()
    c.ok("/ip ipsec peer add address=203.0.113.1 port=500 comment=a")
    c.ok("/ip ipsec peer add address=203.0.113.2/32 port=4500 disabled=yes")
    c.ok("/ip ipsec policy add dst-address=10.1.0.0/24 sa-dst-address=203.0.113.2 tunnel=yes")
    peer, policy = ":put [/ip ipsec peer find ", ":put [/ip ipsec policy find "
    assert c.run(peer + "port=0500]") == "*1\n"
    assert c.run(peer + "where port=500]") == "*1\n"
    assert c.run(peer + "where disabled=yes]") == "*2\n"
    assert c.run(peer + "where address=203.0.113.2]") == "*2\n"
    assert c.run(policy + "where dst-address=10.1.0.7/24]") == "*2\n"
    assert c.run(peer + "port=abc]") == "invalid value for argument port\n"
    assert c.run(peer + "disabled=maybe]") == "input does not match any value of disabled\n"
    assert c.run(policy + "sa-dst-address=bogus]") == "invalid value for argument sa-dst-address\n"
    assert c.run(peer + "where port=abc]") == "\n"
    before = c.export()
    assert c.run(":foreach i in=[/ip ipsec peer find port=x] do={/ip ipsec peer remove $i}") == (
        "invalid value for argument port\n"
    )
    assert c.export() == before


def _typed(lines: list[str]) -> tuple[Callable[[str], str], Callable[[], bool]]:
    """A terminal that receives ``lines`` at once (a paste): each is already waiting."""
    queue = list(lines)

    def read(prompt: str) -> str:
        if not queue:
            raise EOFError
        return queue.pop(0)

    return read, lambda: bool(queue)


def test_a_paste_at_the_interactive_console_is_converted_like_an_import(tmp_path: Path) -> None:
    """A v7 export pasted at a 6.x console's prompt (docs/issue11-acceptance.md: "pasted (not
    /imported) text is not converted") runs as one text, as ``/import`` of the same file does
    (tests/config/test_convert.py): it used to run line by line and stop at ``/ip ipsec
    profile`` (``bad command name profile``)."""
    from tests.config.test_convert import GOLDEN_V7, V6_HUB

    text = (GOLDEN_V7 / "site.export.txt").read_text()
    (tmp_path / "v7.rsc").write_text(text)
    imported = Console(files_dir=tmp_path)
    imported.ok(V6_HUB)
    imported.ok("/import file-name=v7.rsc")

    pasted = Console(files_dir=tmp_path)
    pasted.ok(V6_HUB)
    read, waiting = _typed(text.splitlines())
    interact(pasted.interp, tmp_path / "history", read, waiting)
    assert "bad command name" not in "".join(pasted.output)
    assert pasted.store.snapshot().dialect == "v6"
    assert pasted.export("verbose") == imported.export("verbose")

    # lines typed one by one (nothing waiting) still run each on its own
    typed = Console(files_dir=tmp_path)
    typed.ok(V6_HUB)
    read, _ = _typed(["/ip ipsec profile", "/ip ipsec peer print count-only"])
    interact(typed.interp, tmp_path / "history", read, lambda: False)
    assert "".join(typed.output).startswith("bad command name profile")
