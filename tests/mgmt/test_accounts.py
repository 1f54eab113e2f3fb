"""Accounts: /user, /user group, /ip service, password hashes, logins (rate limit, logging),
authorisation in the command layer, and what the daemon sets up on a fresh database."""

from __future__ import annotations

import base64
import logging
import os

import pytest
from cryptography import x509

from pyipsec.config.menus.users import SERVICE, USER
from pyipsec.config.store import Store
from pyipsec.mgmt import auth, first_start, passwords
from pyipsec.mgmt.base import Session
from pyipsec.mgmt.commands import CommandError, dispatch
from tests.mgmt.helpers import Console

PEER = ("ip", "ipsec", "peer")

# RFC 7914 §12, the third scrypt test vector (N=16384, r=8, p=1), first 32 octets of the
# 64-octet output (scrypt's last step is PBKDF2-HMAC-SHA256, whose shorter outputs are
# prefixes of longer ones).
RFC7914_KEY = bytes.fromhex("7023bdcb3afd7348461c06cd81fd38ebfda8fbba904f8e3ea9b543f6545da1f2")


def test_scrypt_matches_rfc7914() -> None:
    stored = "$".join(
        [
            "scrypt",
            "14",
            "8",
            "1",
            base64.b64encode(b"SodiumChloride").decode(),
            base64.b64encode(RFC7914_KEY).decode(),
        ]
    )
    assert passwords.verify("pleaseletmein", stored)
    assert not passwords.verify("pleaseletmeinX", stored)
    assert passwords.hash_password("pleaseletmein", salt=b"SodiumChloride") == stored


def test_hashes_are_salted_and_malformed_ones_never_match() -> None:
    a, b = passwords.hash_password("pw"), passwords.hash_password("pw")
    assert a != b and passwords.verify("pw", a) and passwords.verify("pw", b)
    for bad in (None, "", "scrypt$99$8$1$AA==$AA==", "md5$x", "scrypt$14$8$1$!!$!!"):
        assert not passwords.verify("pw", bad)


def test_user_password_is_stored_hashed_and_never_shown() -> None:
    c = Console()
    c.ok("/user add name=bob group=read password=s3cret-pw comment=ops")
    item = c.store.snapshot().table(USER).by_name("bob")
    assert item is not None
    assert "password" not in item.values
    assert passwords.verify("s3cret-pw", item.values["_password"])
    for text in (
        c.ok("/user print"),
        c.ok("/user print detail"),
        c.ok("/export verbose"),
    ):
        assert "s3cret" not in text and "scrypt" not in text
    assert "bob" in c.ok("/user print")


def test_builtin_groups_have_routeros_policies() -> None:
    c = Console()
    config = c.store.snapshot()
    got = {g: auth._group_policies(config, g) for g in ("read", "write", "full")}
    assert {"read", "api", "rest-api", "web"} <= got["read"]
    assert not {"write", "policy", "sensitive"} & got["read"]
    assert "write" in got["write"] and not {"policy", "sensitive"} & got["write"]
    assert {"write", "policy", "sensitive"} <= got["full"]
    c.ok("/user group add name=ops policy=read,write,api,!sensitive")
    assert auth._group_policies(c.store.snapshot(), "ops") == {"read", "write", "api"}
    assert "input does not match" in c.run("/user group add name=x policy=flying")
    assert "failure: can not remove default group" in c.run("/user group remove read")


def test_services_are_routeros_defaults() -> None:
    c = Console()
    rows = {it.values["name"]: it.values["port"] for it in c.store.snapshot().table(SERVICE)}
    assert rows == {
        "telnet": "23",
        "ftp": "21",
        "www": "80",
        "ssh": "22",
        "www-ssl": "443",
        "api": "8728",
        "winbox": "8291",
        "api-ssl": "8729",
    }
    c.ok("/ip service set telnet disabled=yes")  # as real RouterOS exports say
    c.ok("/ip service set api port=18728 address=127.0.0.0/8")
    assert "18728" in c.ok("/ip service print")
    assert "input does not match" in c.run("/ip service set api certificate=nope")
    assert c.run("/ip service add name=x") != ""  # no add in this menu


def test_authorisation_read_write_policy_sensitive() -> None:
    store = Store(":memory:")
    admin = Session(store=store)
    dispatch(admin, PEER, "add", {"address": "203.0.113.5/32", "secret": "psk-value"})
    reader = Session(store=store, policies=auth._group_policies(store.snapshot(), "read"))
    writer = Session(store=store, policies=auth._group_policies(store.snapshot(), "write"))
    before = store.generation()
    with pytest.raises(CommandError, match=r"not enough permissions \(9\)"):
        dispatch(reader, PEER, "add", {"address": "203.0.113.6/32"})
    with pytest.raises(CommandError, match="not enough permissions"):
        dispatch(reader, ("ip", "ipsec", "installed-sa"), "flush", {})
    with pytest.raises(CommandError, match="not enough permissions"):
        dispatch(writer, USER, "add", {"name": "eve", "group": "full"})
    assert store.generation() == before  # nothing changed
    dispatch(writer, PEER, "set", {"numbers": "0", "comment": "w"})
    (row,) = dispatch(reader, PEER, "print", {}).table.rows  # type: ignore[union-attr]
    assert "secret" not in dict(row.values)
    text = dispatch(reader, ("ip", "ipsec"), "export", {}).text or ""
    assert "psk-value" not in text and "203.0.113.5" in text


def accounts(store: Store, t: list[float]) -> auth.Accounts:
    return auth.Accounts(store=store, clock=lambda: t[0])


def login(acc: auth.Accounts, name: str, pw: str, addr: str = "127.0.0.1", via: str = "api"):
    attempt = acc.begin(name, addr, via)
    attempt.check(pw)
    return acc.finish(attempt)


def test_login_rules(caplog: pytest.LogCaptureFixture) -> None:
    c = Console()
    c.ok("/user add name=bob group=write password=pw1")
    c.ok("/user add name=net group=read password=pw2 address=198.51.100.0/24")
    c.ok("/user add name=off group=full password=pw3 disabled=yes")
    c.ok("/user group add name=nologin policy=read")
    c.ok("/user add name=noapi group=nologin password=pw4")
    t = [100.0]
    acc = accounts(c.store, t)
    caplog.set_level(logging.INFO)
    assert login(acc, "bob", "pw1") is not None
    assert login(acc, "bob", "wrong") is None
    assert login(acc, "ghost", "pw1", "127.0.0.2") is None
    assert login(acc, "net", "pw2", "203.0.113.9") is None  # not from its allow-list
    assert login(acc, "net", "pw2", "198.51.100.7") is not None
    assert login(acc, "off", "pw3", "127.0.0.3") is None  # disabled
    assert login(acc, "noapi", "pw4", "127.0.0.4") is None  # group lacks the api policy
    assert login(acc, "noapi", "pw4", "127.0.0.4", via="console") is not None
    failures = [r for r in caplog.records if r.name == "pyipsec.system.error"]
    assert failures and all(r.levelno == logging.CRITICAL for r in failures)
    assert "login failure for user bob from 127.0.0.1 via api" in caplog.text
    assert "wrong" not in caplog.text and "pw1" not in caplog.text
    # last-logged-in and /user active
    assert c.store.snapshot().table(USER).by_name("bob").values["last-logged-in"]  # type: ignore[union-attr]
    assert {r.values["name"] for r in acc.rows()} == {"bob", "net", "noapi"}


def test_login_failures_are_rate_limited_per_address(caplog: pytest.LogCaptureFixture) -> None:
    c = Console()
    c.ok("/user add name=bob group=full password=right")
    t = [0.0]
    acc = accounts(c.store, t)
    for _ in range(auth.MAX_FAILURES):
        assert login(acc, "bob", "wrong", "203.0.113.1") is None
    # the limit reached: even the right password is refused, without a check
    attempt = acc.begin("bob", "203.0.113.1", "api")
    assert attempt.refused and not attempt.check("right")
    acc.finish(attempt)
    assert login(acc, "bob", "right", "203.0.113.2") is not None  # other addresses are not
    lines = [r.getMessage() for r in caplog.records if "refused for" in r.getMessage()]
    assert len(lines) == 1
    t[0] = auth.WINDOW + 1
    assert login(acc, "bob", "right", "203.0.113.1") is not None  # the window is over


def test_first_start_admin_and_certificate(tmp_path: os.PathLike[str]) -> None:
    store = Store(":memory:")
    password = first_start.ensure_admin(store)
    assert password is not None and len(password) >= 16
    assert first_start.ensure_admin(store) is None  # once
    acc = auth.Accounts(store=store)
    assert login(acc, "admin", password) is not None
    c = Console(store)
    c.ok("/user remove admin")
    assert first_start.ensure_admin(store) is None  # a database that had users: never again
    from datetime import UTC, datetime

    name = first_start.ensure_certificate(store, datetime(2026, 12, 4, tzinfo=UTC))
    assert name == first_start.SELF_SIGNED
    assert first_start.ensure_certificate(store, datetime(2026, 12, 4, tzinfo=UTC)) is None
    config = store.snapshot()
    services = {it.values["name"]: it.values.get("certificate") for it in config.table(SERVICE)}
    assert services["api-ssl"] == name and services["www-ssl"] == name
    assert services["api"] is None
    pem, key = first_start.tls_material(config, name)  # type: ignore[misc]
    cert = x509.load_pem_x509_certificate(pem.encode())
    assert cert.issuer == cert.subject
    assert "PRIVATE KEY" in key
    listing = c.ok("/certificate print")
    assert name in listing and "PRIVATE" not in listing
    assert "not enough" not in c.ok("/certificate print detail")


def test_secrets_cannot_be_read_or_probed_without_sensitive() -> None:
    store = Store(":memory:")
    admin = Session(store=store)
    dispatch(admin, PEER, "add", {"address": "203.0.113.5/32", "secret": "abc"})
    reader = Session(store=store, policies=auth._group_policies(store.snapshot(), "read"))
    for command, args in (
        ("get", {"numbers": "0", "value-name": "secret"}),
        ("find", {"where": 'secret~"^a"'}),
        ("find", {"secret": "abc"}),
        ("print", {".query": "=secret=abc"}),
        ("print", {"where": "secret=abc"}),
    ):
        with pytest.raises(CommandError, match="not enough permissions"):
            dispatch(reader, PEER, command, args)
    assert dispatch(admin, PEER, "get", {"numbers": "0", "value-name": "secret"}).ret == "abc"
    assert dispatch(reader, PEER, "get", {"numbers": "0", "value-name": "address"}).ret


def test_a_password_cannot_be_unset_only_replaced() -> None:
    c = Console()
    c.ok("/user add name=bob group=read password=one")
    assert "input does not match" in c.run("/user unset bob value-name=password")
    c.ok("/user set bob password=two")
    item = c.store.snapshot().table(USER).by_name("bob")
    assert item is not None and passwords.verify("two", item.values["_password"])
    assert not passwords.verify("one", item.values["_password"])
