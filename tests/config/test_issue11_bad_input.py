"""Issue 11, "Every bad input in the new menus and commands: a RouterOS-style error, nothing
changed" - the menus and commands the issue added (RouterOS 7 profile/peer/identity/
active-peers/settings, /ip pool, /ip ipsec user and user settings, export dialect=, the console
print forms, edit), each bad line checked for its message and for an unchanged configuration
(the verbose export with secrets, which shows every item and property).

Messages are RouterOS's (reference §3.5): ``invalid value for argument <p>`` for a value its
type refuses (an empty name included: RouterOS refuses ``name=""`` so), ``input does not match
any value of <p>`` for a choice, ``expected end of command`` for an unknown argument, ``bad
command name`` for a command a menu does not have.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pyipsec.config.store import Store
from tests.mgmt.helpers import Console

V7_SETUP = """\
/ip ipsec profile add name=pr dh-group=modp2048
/ip ipsec peer add name=p address=203.0.113.1/32 profile=pr
/ip ipsec peer add address=203.0.113.2/32
/ip ipsec identity add peer=p secret=s
/ip ipsec policy add peer=p src-address=10.1.0.0/24 dst-address=10.2.0.0/24 tunnel=yes
/ip pool add name=pool1 ranges=10.9.0.10-10.9.0.20
"""
V6_SETUP = """\
/ip ipsec peer add address=203.0.113.1/32 secret=s
/ip pool add name=pool1 ranges=10.9.0.10-10.9.0.20
/ip ipsec user add name=u1 password=p1
"""

V7_BAD = [
    ("/ip ipsec profile set default name=", "invalid value for argument name"),
    ("/ip ipsec profile set pr name=", "invalid value for argument name"),
    ('/ip ipsec profile add name=""', "invalid value for argument name"),
    ("/ip ipsec peer set p name=", "invalid value for argument name"),
    ('/ip ipsec peer add name="" address=203.0.113.9/32', "invalid value for argument name"),
    ("/ip ipsec peer set p name=peer1", "failure: item with such name already exists"),
    ("/ip ipsec profile set pr prf-algorithm=md5", "input does not match any value of prf"),
    ("/ip ipsec profile set pr lifebytes=-1", "value of lifebytes out of range"),
    ("/ip ipsec peer set p port=70000", "value of port out of range"),
    ("/ip ipsec peer set p passive=maybe", "input does not match any value of passive"),
    ("/ip ipsec peer set p local-address=nowhere", "invalid value for argument local-address"),
    ("/ip ipsec identity set 0 generate-policy=always", "input does not match any value"),
    ("/ip ipsec identity set 0 mode-config=nope", "input does not match any value of mode"),
    ("/ip ipsec identity set 0 policy-template-group=nope", "input does not match any value"),
    ("/ip ipsec identity set 0 my-id=bogus:x", "input does not match any value of my-id"),
    ("/ip ipsec identity set 0 certificate=nope", "input does not match any value"),
    ("/ip ipsec identity set 0 bogus=1", "expected end of command"),
    ("/ip ipsec active-peers add", "bad command name add"),
    ("/ip ipsec active-peers remove 0", "bad command name remove"),
    ("/ip ipsec active-peers kill-connections bogus=1", "expected end of command"),
    ("/ip ipsec settings set bogus=1", "expected end of command"),
    ("/ip ipsec settings set xauth-use-radius=maybe", "input does not match any value"),
    ("/ip ipsec user add name=u", "bad command name user"),  # 6.x only (v7: settings)
    ("/ip ipsec remote-peers print", "bad command name remote-peers"),  # 6.45: active-peers
    ("/ip ipsec policy add peer=p,nope", "input does not match any value of peer"),
    ("/ip ipsec peer print interval=bogus", "invalid value for argument interval"),
    ("/ip ipsec peer print file=", "expected end of command"),
    ("/ip ipsec peer edit 0 bogus", "input does not match any value of value-name"),
    ("/export dialect=", "input does not match any value of dialect"),
    ("/export dialect=v8", "input does not match any value of dialect"),
    ("/ip/ipsec/peer/bogus", "bad command name bogus"),
    ("ip ipsec/active-peers/print bogus", "expected end of command"),
]

V6_BAD = [
    ('/ip pool add name=""', "invalid value for argument name"),
    ("/ip pool add name=pool1 ranges=10.0.0.1-10.0.0.2", "failure: item with such name"),
    ("/ip pool add name=p2 ranges=10.0.0.5-10.0.0.1", "invalid value for argument ranges"),
    ("/ip pool set pool1 next-pool=nope", "input does not match any value of next-pool"),
    ('/ip ipsec user add name=""', "invalid value for argument name"),
    ("/ip ipsec user add password=x", "failure: name must be specified"),
    ("/ip ipsec user set u1 address=nowhere", "invalid value for argument address"),
    ("/ip ipsec user settings set xauth-use-radius=2", "input does not match any value"),
    ("/ip ipsec profile add name=x", "bad command name profile"),
    ("/ip ipsec identity print", "bad command name identity"),
    ("/ip ipsec active-peers print", "bad command name active-peers"),
    ("/ip ipsec peer print interval=-1", "invalid value for argument interval"),
    ("/ip ipsec export dialect=v8", "input does not match any value of dialect"),
]


@pytest.mark.parametrize(("command", "message"), V7_BAD, ids=[c for c, _ in V7_BAD])
def test_v7_bad_input_changes_nothing(command: str, message: str, tmp_path: Path) -> None:
    c = Console(Store(":memory:", dialect="v7"), files_dir=tmp_path)
    c.ok(V7_SETUP)
    before = c.export("verbose show-sensitive")
    assert c.run(command).startswith(message)
    assert c.export("verbose show-sensitive") == before
    assert list(tmp_path.iterdir()) == []  # no file written either


@pytest.mark.parametrize(("command", "message"), V6_BAD, ids=[c for c, _ in V6_BAD])
def test_v6_bad_input_in_the_new_menus_changes_nothing(
    command: str, message: str, tmp_path: Path
) -> None:
    c = Console(files_dir=tmp_path)
    c.ok(V6_SETUP)
    before = c.export("verbose show-sensitive")
    assert c.run(command).startswith(message)
    assert c.export("verbose show-sensitive") == before
    assert list(tmp_path.iterdir()) == []


def test_an_empty_name_never_reaches_an_export() -> None:
    """Before, ``/ip ipsec profile set default name=`` renamed the default profile to "" on a
    RouterOS 7 database, and the peers using it then exported ``profile=""``."""
    c = Console(Store(":memory:", dialect="v7"))
    c.ok(V7_SETUP)
    c.run("/ip ipsec profile set default name=\n/ip ipsec peer set peer1 name=")
    text = c.export("verbose show-sensitive")
    assert 'name=""' not in text and 'profile=""' not in text and 'peer=""' not in text


V7_REFS = """\
/ip pool add name=pl ranges=10.9.0.2-10.9.0.9
/ip ipsec mode-config add name=rw address-pool=pl responder=yes
/ip ipsec policy group add name=g1
/ip ipsec peer add name=p address=203.0.113.1/32
/ip ipsec identity add peer=p mode-config=rw policy-template-group=g1 generate-policy=port-strict
"""


@pytest.mark.parametrize(
    ("command", "message"),
    [
        (
            "/ip ipsec mode-config remove rw",
            "failure: mode-config rw is used by /ip ipsec identity",
        ),
        ("/ip ipsec policy group remove g1", "failure: group g1 is used by /ip ipsec identity"),
        ("/ip pool remove pl", "failure: pool pl is used by /ip ipsec mode-config"),
        ("/ip ipsec peer remove p", "failure: peer p is used by /ip ipsec identity"),
    ],
)
def test_v7_identity_references_are_kept(command: str, message: str) -> None:
    """RouterOS 7's identity names a mode-config, a policy group and its peer: removing one of
    them is refused with nothing changed, and a rename reaches the identity."""
    c = Console(Store(":memory:", dialect="v7"))
    c.ok(V7_REFS)
    before = c.export("verbose show-sensitive")
    assert c.run(command).startswith(message)
    assert c.export("verbose show-sensitive") == before
    c.ok("/ip ipsec mode-config set rw name=rw2\n/ip ipsec policy group set g1 name=g2")
    get = ":put [/ip ipsec identity get 0 {}]"
    assert c.ok(get.format("mode-config") + "; " + get.format("policy-template-group")) == (
        "rw2\ng2\n"
    )
