"""Issue 12 acceptance, the RouterOS API points no other test showed (docs/issue12-acceptance.md):
every menu and command the console has is reachable over the API in both dialects, enable /
disable / move by ``.id`` as librouteros and routeros-api send them, the password hash never
leaves over the API, and a group's policies are what the API enforces (``api`` without ``read``
may write but not print). In memory, through mgmt/api/connection.py (tests/mgmt/
test_api_protocol.py's Client); the socket paths are tests/io/test_api_server.py."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pyipsec.config.menus import menus_for
from pyipsec.config.store import Store
from tests.mgmt.helpers import Console
from tests.mgmt.test_api_protocol import Client

POLICY = "/ip/ipsec/policy"
DATA = Path(__file__).resolve().parent / "data"


def logged_in(dialect: str = "v6", files_dir: Path | None = None) -> tuple[Store, Client]:
    store = Store(":memory:", dialect=dialect)
    Console(store).ok("/user add name=alice group=full password=pw")
    cl = Client(store)
    if files_dir is not None:
        cl.conn.files_dir = files_dir  # the session takes it at login
    assert cl.send("/login", "=name=alice", "=password=pw") == [["!done"]]
    return store, cl


@pytest.mark.parametrize("dialect", ["v6", "v7"])
def test_every_menu_and_command_of_the_console_is_reachable(dialect: str) -> None:
    """Each menu's generic commands and its own (flush, kill-connections, generate-key, ...)
    sent bare: the command layer answers (a row, !done, or its own argument error), never
    'no such command', 'bad command name' or !fatal."""
    _store, cl = logged_in(dialect)
    seen = 0
    for path, menu in menus_for(dialect).items():
        for command in [*menu.generic_commands, *(c.name for c in menu.commands)]:
            reply = cl.send("/" + "/".join(path) + "/" + command)
            seen += 1
            assert reply, (path, command)
            assert reply[-1][0] == "!done", (path, command, reply)
            words = [w for sentence in reply for w in sentence]
            # a bare command has no parameter to be unknown: that answer meant the API sent
            # every menu's import to the script /import (fixed with this test)
            wrong = ("no such command", "bad command name", "unknown parameter")
            assert not any(x in w for w in words for x in wrong), (path, command, reply)
        # and print, with a proplist, answers every menu
        assert cl.send("/" + "/".join(path) + "/print", "=.proplist=.id")[-1] == ["!done"]
    assert seen > 100
    assert not cl.conn.closed


def test_a_menu_s_import_is_that_menu_s_command(tmp_path: Path) -> None:
    """/certificate/import and /ip/ipsec/key/import run the menus' own import (before, the
    API took any .../import for the script /import: 'unknown parameter'); /import stays the
    script's."""
    _store, cl = logged_in(files_dir=tmp_path)
    for name in ("gw1.crt", "gw1.key", "rsa1024.pem"):
        shutil.copy(DATA / name, tmp_path / name)
    # the counts as words of !done, as RouterOS 7 sends them (a Go RouterOS client reads
    # them from the !done sentence's attributes; REST's array of the same names was seen
    # from a 7.19.4 CHR in an acme.sh deploy hook's debug log)
    (done,) = cl.send("/certificate/import", "=file-name=gw1.crt")
    assert done == [
        "!done",
        "=certificates-imported=1",
        "=private-keys-imported=0",
        "=files-imported=1",
        "=decryption-failures=0",
        "=keys-with-no-certificate=0",
    ]
    (done,) = cl.send("/certificate/import", "=file-name=gw1.key")
    assert done[0] == "!done" and "=private-keys-imported=1" in done
    assert cl.send("/ip/ipsec/key/import", "=file-name=rsa1024.pem", "=name=k")[0][0] == "!done"
    assert cl.send("/certificate/print", "=.proplist=private-key") == [
        ["!re", "=private-key=true"],
        ["!done"],
    ]
    assert cl.send("/certificate/import", "=file-name=../gw1.crt")[0][0] == "!trap"
    (tmp_path / "s.rsc").write_text("/system identity set name=imported\n")
    assert cl.send("/import", "=file-name=s.rsc")[-1][0] == "!done"
    assert cl.send("/system/identity/print") == [["!re", "=name=imported"], ["!done"]]


def test_enable_disable_move_by_id() -> None:
    store, cl = logged_in()
    ids = []
    for src in ("10.1.0.0/16", "10.2.0.0/16", "10.3.0.0/16"):
        (done,) = cl.send(f"{POLICY}/add", f"=src-address={src}", "=dst-address=10.9.0.0/16")
        ids.append(done[1].removeprefix("=ret="))
    a, b, c = ids
    assert cl.send(f"{POLICY}/disable", f"=.id={a}") == [["!done"]]  # librouteros' form
    assert cl.send(f"{POLICY}/disable", f"=numbers={b},{c}") == [["!done"]]  # routeros-api's
    assert cl.send(f"{POLICY}/enable", f"=.id={c}") == [["!done"]]
    assert cl.send(f"{POLICY}/move", f"=numbers={c}", f"=destination={a}") == [["!done"]]
    rows = cl.send(f"{POLICY}/print", "=.proplist=.id,disabled", "?template=false")
    assert rows == [
        ["!re", f"=.id={c}", "=disabled=false"],
        ["!re", f"=.id={a}", "=disabled=true"],
        ["!re", f"=.id={b}", "=disabled=true"],
        ["!done"],
    ]
    # the console sees the same order (one command layer)
    printed = Console(store).ok("/ip ipsec policy print terse where !template")
    assert (
        printed.index("10.3.0.0/16") < printed.index("10.1.0.0/16") < printed.index("10.2.0.0/16")
    )
    # errors as RouterOS words them, nothing changed
    before = store.generation()
    assert cl.send(f"{POLICY}/enable", "=.id=*FFF") == [
        ["!trap", "=category=0", "=message=no such item"],
        ["!done"],
    ]
    assert cl.send(f"{POLICY}/move", f"=numbers={a}", "=destination=*FFF")[0][0] == "!trap"
    assert store.generation() == before


def test_password_hash_never_leaves_over_the_api() -> None:
    _store, cl = logged_in()
    assert cl.send("/user/add", "=name=bob", "=group=read", "=password=Sup3r-secret") == [
        ["!done", "=ret=*2"]
    ]
    replies = [
        cl.send("/user/print"),
        cl.send("/user/print", "=detail="),
        cl.send("/user/print", "=.proplist=name,password,_password"),
        cl.send("/user/get", "=numbers=bob", "=value-name=password"),
        cl.send("/user/export", "=verbose="),
        cl.send("/export", "=verbose="),
    ]
    text = repr(replies)
    assert "Sup3r" not in text and "scrypt" not in text and "_password" not in text
    # a query on the hidden hash finds nothing to probe
    assert "scrypt" not in repr(cl.send("/user/print", "?_password"))


def test_group_policies_are_what_the_api_enforces() -> None:
    store, admin = logged_in()
    console = Console(store)
    console.ok("/user group add name=writer-only policy=api,write")
    console.ok("/user group add name=no-api policy=read,write,rest-api,web")
    console.ok("/user add name=w group=writer-only password=pw")
    console.ok("/user add name=n group=no-api password=pw")
    w = Client(store)
    assert w.send("/login", "=name=w", "=password=pw") == [["!done"]]
    assert w.send("/ip/ipsec/peer/print") == [
        ["!trap", "=category=4", "=message=not enough permissions (9)"],
        ["!done"],
    ]
    assert w.send("/ip/ipsec/peer/add", "=address=203.0.113.1/32")[0][0] == "!done"
    n = Client(store)
    assert n.send("/login", "=name=n", "=password=pw") == [
        ["!trap", "=message=invalid user name or password (6)"],
        ["!done"],
    ]
    # a change of the group's policies applies to the open session at once
    console.ok("/user group set writer-only policy=api,read")
    assert w.send("/ip/ipsec/peer/print", "=.proplist=address") == [
        ["!re", "=address=203.0.113.1/32"],
        ["!done"],
    ]
    assert w.send("/ip/ipsec/peer/remove", "=.id=*1")[0] == [
        "!trap",
        "=category=4",
        "=message=not enough permissions (9)",
    ]
    assert admin.send("/ip/ipsec/peer/print", "=count-only=") == [["!done", "=ret=1"]]
