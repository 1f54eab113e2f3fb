"""Every rejected input: RouterOS's error text, and the database unchanged."""

from __future__ import annotations

from pathlib import Path

import pytest

from pyipsec.config.store import Store
from tests.mgmt.helpers import Console

SETUP = """
/ip ipsec proposal add name=tset1
/ip ipsec peer add address=192.0.2.1/32 secret=x
/ip ipsec policy add src-address=10.0.0.0/24 dst-address=10.1.0.0/24 tunnel=yes
"""

REJECTED = [
    ("/ip ipsec peer add exchange-mode=foo", "input does not match any value of exchange-mode"),
    ("/ip ipsec peer add dh-group=modp1024,foo", "input does not match any value of dh-group"),
    (
        "/ip ipsec peer add enc-algorithm=aes-128-gcm",
        "input does not match any value of enc-algorithm",
    ),
    ("/ip ipsec peer add port=70000", "value of port out of range (0..65535)"),
    (
        "/ip ipsec peer add dpd-maximum-failures=0",
        "value of dpd-maximum-failures out of range (1..100)",
    ),
    ("/ip ipsec peer add address=1.2.3", "invalid value for argument address"),
    ("/ip ipsec peer add lifetime=1x", "invalid value for argument lifetime"),
    ("/ip ipsec peer add my-id=foo", "input does not match any value of my-id"),
    ("/ip ipsec peer add nat-traversal=maybe", "input does not match any value of nat-traversal"),
    (
        "/ip ipsec peer add policy-template-group=nogroup",
        "input does not match any value of policy-template-group",
    ),
    ("/ip ipsec peer add certificate=nocert", "input does not match any value of certificate"),
    ("/ip ipsec policy add foo=bar", "expected end of command (line 1 column 22)"),
    ("/ip ipsec policy add ph2-state=established", "expected end of command (line 1 column 22)"),
    ("/ip ipsec policy add proposal=nonexistent", "input does not match any value of proposal"),
    ("/ip ipsec policy add group=nogroup template=yes", "input does not match any value of group"),
    ("/ip ipsec policy add action=accept2", "input does not match any value of action"),
    ("/ip ipsec policy add protocol=300", "value of protocol out of range (0..255)"),
    ("/ip ipsec policy add src-port=65536", "value of src-port out of range (0..65535)"),
    (
        "/ip ipsec policy add ipsec-protocols=esp,gre",
        "input does not match any value of ipsec-protocols",
    ),
    ("/ip ipsec policy set 1 priority=abc", "invalid value for argument priority"),
    ("/ip ipsec policy set 1,9 tunnel=no", "no such item"),
    ("/ip ipsec policy set *FF tunnel=no", "no such item"),
    ("/ip ipsec policy remove 0", "failure: can not remove default policy"),
    ("/ip ipsec proposal remove default", "failure: can not remove default proposal"),
    ("/ip ipsec proposal remove [ find default=yes ]", "failure: can not remove default proposal"),
    ("/ip ipsec policy group remove default", "failure: can not remove default group"),
    ("/ip ipsec mode-config remove request-only", "failure: can not remove default mode-config"),
    ("/ip ipsec peer remove 5", "no such item"),
    ("/ip ipsec peer remove nosuchname", "no such item"),
    ("/ip ipsec proposal add name=default", "failure: item with such name already exists"),
    ("/ip ipsec proposal set tset1 name=default", "failure: item with such name already exists"),
    (
        "/ip ipsec proposal add auth-algorithms=sha3",
        "input does not match any value of auth-algorithms",
    ),
    ("/ip ipsec proposal add enc-algorithms=", "input does not match any value of enc-algorithms"),
    ("/ip ipsec proposal add pfs-group=modp999", "input does not match any value of pfs-group"),
    ("/ip ipsec policy move 1 7", "no such item"),
    ("/ip ipsec policy print where (", "syntax error (line 1 column 31)"),
    ("/ip ipsec policy print bogus", "expected end of command (line 1 column 24)"),
    ("/ip ipsec bogus", "bad command name bogus (line 1 column 11)"),
    ("/ip ipsec p", "bad command name p (line 1 column 11)"),
    ("/ip ipsec peer frobnicate", "bad command name frobnicate (line 1 column 16)"),
    ('/ip ipsec peer add secret="abc', "unterminated string (line 1 column 27)"),
    ("/ip ipsec policy unset 1 tunnel", "input does not match any value of value-name"),
    ("/ip ipsec peer get 0 nosuch", "input does not match any value of value-name"),
    ("/ip ipsec manual-sa add esp-spi=0x10", "value of esp-spi out of range (256..4294967295)"),
    ("/ip ipsec manual-sa add esp-enc-key=xyz", "invalid value for argument esp-enc-key"),
    (
        "/ip ipsec key generate-key name=k key-size=512",
        "input does not match any value of key-size",
    ),
    ("/ip ipsec statistics set in-errors=1", "bad command name set (line 1 column 22)"),
    ("/ip ipsec installed-sa add spi=1", "bad command name add (line 1 column 24)"),
    ("/system identity set name=a foo=b", "expected end of command (line 1 column 29)"),
    ("/ip ipsec policy add place-before=9", "no such item"),
    ("/ip ipsec peer add place-before=0", "expected end of command (line 1 column 20)"),
    ("/import file-name=missing.rsc", "failure: no such file"),
]


@pytest.fixture
def console(tmp_path: Path) -> Console:
    console = Console(Store(tmp_path / "c.db"), files_dir=tmp_path)
    console.ok(SETUP)
    console.ok("/ip ipsec policy print")
    return console


@pytest.mark.parametrize(("command", "message"), REJECTED, ids=[c for c, _ in REJECTED])
def test_rejected_input(console: Console, command: str, message: str) -> None:
    before = console.export("verbose")
    generation = console.store._current_generation()
    out = console.run(command)
    assert out == message + "\n"
    assert console.store._current_generation() == generation
    assert console.export("verbose") == before
    # and a second process reading the file sees the same
    fresh = Console(Store(console.store.path))
    assert fresh.export("verbose") == before


def test_script_stops_at_first_error_keeping_earlier_commands(console: Console) -> None:
    out = console.run(
        "/ip ipsec proposal add name=p1\n/ip ipsec proposal add name=p2 lifetime=x\n"
        "/ip ipsec proposal add name=p3"
    )
    assert out == "invalid value for argument lifetime\n"
    names = console.ok(":put [/ip ipsec proposal find]")
    assert names.count("*") == 3  # default, tset1, p1


def test_removing_a_proposal_in_use_is_refused(console: Console) -> None:
    """Before: the policy kept the dangling name, was flagged invalid, and the export no longer
    imported. Now the removal is refused (mgmt/references.py) and nothing changes."""
    console.ok("/ip ipsec policy add src-address=10.5.0.0/24 proposal=tset1")
    assert console.run("/ip ipsec proposal remove tset1") == (
        "failure: proposal tset1 is used by /ip ipsec policy *3\n"
    )
    assert console.ok("/ip ipsec policy print count-only where invalid") == "0\n"
    console.ok("/ip ipsec policy set [ find proposal=tset1 ] proposal=default")
    console.ok("/ip ipsec proposal remove tset1")
