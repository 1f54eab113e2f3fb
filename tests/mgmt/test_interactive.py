"""Interactive console: completion and ? help from the schema, the read-eval-print loop."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from pyipsec.mgmt.cli.console import candidates, help_text, interact
from tests.mgmt.helpers import Console


def test_complete_paths_and_commands() -> None:
    c = Console()
    interp = c.interp
    assert candidates(interp, "/ip ipsec p") == ["peer", "policy", "proposal"]
    assert candidates(interp, "/ip ipsec policy ") == [
        "add",
        "comment",
        "disable",
        "edit",
        "enable",
        "export",
        "find",
        "get",
        "group",
        "move",
        "print",
        "remove",
        "set",
        "unset",
    ]
    assert candidates(interp, "/ip/ipsec/pe") == ["/ip/ipsec/peer"]
    assert candidates(interp, "/ip ipsec installed-sa ") == [
        "export",
        "find",
        "flush",
        "get",
        "print",
    ]


def test_complete_arguments_and_values() -> None:
    c = Console()
    c.ok("/ip ipsec proposal add name=tset1")
    interp = c.interp
    assert "exchange-mode=" in candidates(interp, "/ip ipsec peer add ")
    assert candidates(interp, "/ip ipsec peer add exch") == ["exchange-mode="]
    assert candidates(interp, "/ip ipsec peer add exchange-mode=ma") == [
        "exchange-mode=main",
        "exchange-mode=main-l2tp",
    ]
    assert candidates(interp, "/ip ipsec peer add dh-group=modp1024,ec") == [
        "dh-group=modp1024,ec2n155",
        "dh-group=modp1024,ec2n185",
        "dh-group=modp1024,ecp256",
        "dh-group=modp1024,ecp384",
        "dh-group=modp1024,ecp521",
    ]
    assert candidates(interp, "/ip ipsec policy add proposal=") == [
        "proposal=default",
        "proposal=tset1",
    ]
    c.ok("/ip ipsec policy")
    assert candidates(interp, "add tun") == ["tunnel="]


def test_help() -> None:
    c = Console()
    text = help_text(c.interp, "/ip ipsec proposal")
    assert text.startswith("/ip ipsec proposal: phase 2 parameter sets")
    assert "add" in text and "print" in text


def test_loop_runs_commands_help_and_quits(tmp_path: Path) -> None:
    c = Console()
    lines: Iterator[str] = iter(
        ["/ip ipsec", "proposal add name=x", "proposal print count-only", "peer ?", "quit", "never"]
    )
    prompts: list[str] = []

    def read(prompt: str) -> str:
        prompts.append(prompt)
        return next(lines)

    assert interact(c.interp, tmp_path / "history", read) == 0
    out = "".join(c.output)
    assert "2\n" in out
    assert "/ip ipsec peer: phase 1" in out
    assert prompts[0] == "[admin@MikroTik] > "
    assert prompts[1] == "[admin@MikroTik] /ip ipsec> "
    assert len(prompts) == 5


def test_help_after_equals_lists_values() -> None:
    c = Console()
    text = help_text(c.interp, "/ip ipsec peer add exchange-mode=")
    assert "exchange-mode=main-l2tp" in text and "exchange-mode=ike2" in text


def test_escaped_question_mark_is_not_help_and_not_run(tmp_path: Path) -> None:
    c = Console()
    lines = iter(['/ip ipsec proposal add name=x comment="a\\?', "quit"])
    interact(c.interp, tmp_path / "history", lambda _prompt: next(lines))
    assert c.output == []
    assert c.ok("/ip ipsec proposal print count-only") == "1\n"


def test_complete_item_names() -> None:
    c = Console()
    c.ok('/ip ipsec proposal add name=tset1\n/ip ipsec proposal add name="with blank"')
    assert candidates(c.interp, "/ip ipsec proposal set t") == ["tset1"]
    assert "default" in candidates(c.interp, "/ip ipsec proposal remove ")
    assert candidates(c.interp, "/ip ipsec proposal add t") == []


def test_edit_and_print_interval_at_the_interactive_console(tmp_path: Path) -> None:
    c = Console()
    c.ok("/ip ipsec peer add address=203.0.113.5 comment=old")
    answers = iter(["/ip ipsec peer edit 0 comment", "new", "/ip ipsec peer print interval=2"])

    def read(prompt: str) -> str:
        try:
            return next(answers)
        except StopIteration:
            raise EOFError from None

    sleeps: list[float] = []

    def sleep(seconds: float) -> None:  # Ctrl-C on the third wait
        sleeps.append(seconds)
        if len(sleeps) == 3:
            raise KeyboardInterrupt

    c.interp.sleep = sleep
    interact(c.interp, tmp_path / "history", read)
    printed = "".join(c.output)
    assert sleeps == [2.0, 2.0, 2.0]  # printed, waited, ... until Ctrl-C
    assert printed.count(";;; new") == 3
    assert c.ok(":put [/ip ipsec peer get 0 comment]") == "new\n"


def test_complete_script_commands() -> None:
    c = Console()
    assert candidates(c.interp, ":p") == [":parse", ":pick", ":put"]
    assert candidates(c.interp, ":fo") == [":for", ":foreach"]
    assert candidates(c.interp, ":put ") == []
