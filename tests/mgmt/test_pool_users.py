"""``/ip pool``, ``/ip ipsec user`` and ``/ip ipsec user settings`` through the console."""

from __future__ import annotations

import pytest

from tests.mgmt.helpers import Console


def test_mode_config_address_pool_names_a_pool() -> None:
    c = Console()
    # before: any text was accepted, and the export named a pool that did not exist
    assert c.run("/ip ipsec mode-config add name=c1 address-pool=nopool") == (
        "input does not match any value of address-pool\n"
    )
    c.ok("/ip pool add name=vpn ranges=10.10.0.2-10.10.0.254")
    c.ok("/ip ipsec mode-config add name=c1 address-pool=vpn address-prefix-length=32")
    assert c.ok(":put [/ip ipsec mode-config get c1 address-pool]") == "vpn\n"
    c.ok("/ip ipsec mode-config set c1 address-pool=none")


def test_pool_errors_change_nothing() -> None:
    c = Console()
    assert c.run("/ip pool add name=p ranges=10.0.0.9-10.0.0.1") == (
        "invalid value for argument ranges\n"
    )
    assert c.run("/ip pool add name=p") == "failure: ranges must be specified\n"
    assert c.run("/ip pool add ranges=10.0.0.1-10.0.0.9 next-pool=p9") == (
        "input does not match any value of next-pool\n"
    )
    c.ok("/ip pool add name=p ranges=10.0.0.1-10.0.0.9")
    assert c.run("/ip pool add name=p ranges=10.0.1.1") == (
        "failure: item with such name already exists\n"
    )
    assert c.ok("/ip pool print count-only") == "1\n"
    assert c.ok("/ip pool used print") == " # POOL  ADDRESS  OWNER  INFO\n"


def test_user_password_is_sensitive() -> None:
    c = Console()
    c.ok("/ip ipsec user add name=alice password=Xauth-s3cret address=10.10.0.7")
    assert "Xauth-s3cret" in c.export()
    hidden = c.export("hide-sensitive")
    assert "Xauth-s3cret" not in hidden and "add address=10.10.0.7 name=alice\n" in hidden
    assert c.run("/ip ipsec user add name=bob address=nonsense") == (
        "invalid value for argument address\n"
    )
    assert c.run("/ip ipsec user add password=x") == "failure: name must be specified\n"


def test_user_settings() -> None:
    c = Console()
    assert c.ok("/ip ipsec user settings print") == "  xauth-use-radius: no\n"
    c.ok("/ip ipsec user settings set xauth-use-radius=yes")
    assert c.ok("/ip ipsec user settings export").endswith(
        "/ip ipsec user settings\nset xauth-use-radius=yes\n"
    )
    assert c.run("/ip ipsec user settings set xauth-use-radius=maybe") == (
        "input does not match any value of xauth-use-radius\n"
    )


def test_export_with_pool_users_reimports() -> None:
    c = Console()
    c.ok(
        "/ip pool add name=p1 ranges=10.1.0.2-10.1.0.9\n"
        "/ip pool add name=p2 ranges=10.2.0.2-10.2.0.9 next-pool=p1\n"
        "/ip ipsec mode-config add name=rw address-pool=p2\n"
        '/ip ipsec user add name="road warrior" password="a b$c" address=10.2.0.5\n'
        "/ip ipsec user settings set xauth-use-radius=yes"
    )
    text = c.export()
    again = Console()
    again.ok(text)
    assert again.export() == text


BAD = [
    ("/ip pool add name=q ranges=10.0.0.300", "invalid value for argument ranges"),
    ("/ip pool add name=q ranges=10.0.0.1-10.0.0.9,10.0.0.9", "invalid value for argument ranges"),
    ("/ip pool add ranges=10.0.0.1 next-pool=x", "input does not match any value of next-pool"),
    ("/ip pool add name=q ranges=10.0.0.1 bogus=1", "expected end of command (line 1 column 37)"),
    ("/ip pool set p1 ranges=", "invalid value for argument ranges"),
    ("/ip pool set p1 name=p2", "failure: item with such name already exists"),
    ("/ip pool remove p9", "no such item"),
    ("/ip pool used add pool=p1", "bad command name add (line 1 column 15)"),
    ("/ip ipsec user add name=u address=10.0.0.1/24", "invalid value for argument address"),
    ("/ip ipsec user add name=u disabled=maybe", "input does not match any value of disabled"),
    ("/ip ipsec user add name=alice", "failure: item with such name already exists"),
    ("/ip ipsec user settings set xauth-use-radius=1", "input does not match any value of "
     "xauth-use-radius"),
    ("/ip ipsec user settings set bogus=1", "expected end of command (line 1 column 29)"),
]  # fmt: skip


@pytest.mark.parametrize(("command", "message"), BAD, ids=[c for c, _ in BAD])
def test_bad_input_changes_nothing(command: str, message: str) -> None:
    c = Console()
    c.ok(
        "/ip pool add name=p1 ranges=10.1.0.2-10.1.0.9\n/ip pool add name=p2 ranges=10.2.0.1\n"
        "/ip ipsec user add name=alice password=a"
    )
    before = c.export("verbose")
    assert c.run(command) == message + "\n"
    assert c.export("verbose") == before


def test_pool_prints_as_a_table_in_both_dialects() -> None:
    from pyipsec.config.store import Store

    setup = "/ip pool add name=dhcp ranges=192.168.88.10-192.168.88.254"
    c6 = Console()
    c6.ok(setup)
    assert c6.ok("/ip pool print") == (" # NAME  RANGES\n 0 dhcp  192.168.88.10-192.168.88.254\n")
    c7 = Console(Store(":memory:", dialect="v7"))
    c7.ok(setup)
    assert c7.ok("/ip pool print") == (
        "Columns: NAME, RANGES\n# NAME  RANGES\n0 dhcp  192.168.88.10-192.168.88.254\n"
    )
