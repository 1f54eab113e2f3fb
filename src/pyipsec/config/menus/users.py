"""Accounts and management services: ``/user``, ``/user group``, ``/user active`` and
``/ip service`` (docs/api.md).

``/user`` holds who may manage the gateway: ``name``, ``group`` (a ``/user group``),
``password`` (write-only: the command layer stores a salted scrypt hash under an internal name,
mgmt/passwords.py; print and export never show it), ``address`` (the prefixes a login may come
from; empty: any), ``disabled``, ``comment`` and ``last-logged-in``. ``/user group`` names
policies as RouterOS does; its built-in ``read``, ``write`` and ``full`` groups have RouterOS's
policy sets. ``/ip service`` lists the management services the daemon offers: ``api`` (8728),
``api-ssl`` (8729), ``www`` (80) and ``www-ssl`` (443).
"""

from __future__ import annotations

from dataclasses import dataclass

from pyipsec.config.schema import (
    LIST_COMMANDS,
    RUNTIME_LIST_COMMANDS,
    Flag,
    Menu,
    MenuKind,
    Property,
)
from pyipsec.config.types import Bool, Enum, Int, ListOf, NoMatch, Prefix

USER = ("user",)
USER_GROUP = ("user", "group")
USER_ACTIVE = ("user", "active")
SERVICE = ("ip", "service")
CERTIFICATE = ("certificate",)

# RouterOS's policy names (a group's rights), in the order RouterOS prints them.
POLICIES = (
    "local", "telnet", "ssh", "ftp", "reboot", "read", "write", "policy", "test", "winbox",
    "password", "web", "sniff", "sensitive", "api", "romon", "rest-api",
)  # fmt: skip
_NOT_READ = ("ftp", "write", "policy", "sensitive")
READ_POLICIES = ",".join(p for p in POLICIES if p not in _NOT_READ)
WRITE_POLICIES = ",".join(p for p in POLICIES if p not in ("ftp", "policy", "sensitive"))
FULL_POLICIES = ",".join(POLICIES)


@dataclass(frozen=True, slots=True, kw_only=True)
class Policies:
    """A group's ``policy=``: policy names, comma-separated; ``!name`` (RouterOS prints the
    policies a group lacks that way) is accepted and means "not". Canonical: the policies
    held, in RouterOS's order."""

    kind: str = "multi"

    def parse(self, text: str) -> str:
        held: set[str] = set()
        for part in (p.strip() for p in text.split(",")):
            if not part:
                continue
            name = part.removeprefix("!")
            if name not in POLICIES:
                raise NoMatch(text)
            if part.startswith("!"):
                held.discard(name)
            else:
                held.add(name)
        return ",".join(p for p in POLICIES if p in held)

    def choices(self) -> tuple[str, ...]:
        return POLICIES


def policy_set(text: str) -> frozenset[str]:
    """The policies a canonical ``policy=`` value holds."""
    return frozenset(p for p in text.split(",") if p)


USER_GROUP_MENU = Menu(
    path=USER_GROUP,
    kind=MenuKind.LIST,
    description="user groups and the policies (rights) of their members",
    properties=(
        Property(name="name", required=True),
        Property(name="policy", type=Policies(), default=""),
        Property(name="skin", default="default"),
        Property(name="comment", default=""),
    ),
    print_order=("name", "policy", "skin"),
    brief_columns=("name", "policy", "skin"),
    key="name",
    default_items=(
        {"name": "read", "policy": READ_POLICIES},
        {"name": "write", "policy": WRITE_POLICIES},
        {"name": "full", "policy": FULL_POLICIES},
    ),
    default_thing="group",
    generic_commands=tuple(c for c in LIST_COMMANDS if c not in ("enable", "disable", "move")),
)

USER_MENU = Menu(
    path=USER,
    kind=MenuKind.LIST,
    description="accounts that may log in to the console, the API, REST and the web page",
    properties=(
        Property(name="name", required=True),
        Property(name="group", required=True, ref=USER_GROUP),
        Property(name="password", hashed=True, sensitive=True),
        Property(name="address", type=ListOf(item=Prefix()), default=""),
        Property(name="last-logged-in", readonly=True, default=""),
        Property(name="disabled", type=Bool(), default="no"),
        Property(name="comment", default=""),
    ),
    flags=((Flag(letter="X", name="disabled"),),),
    print_order=("name", "group", "address", "last-logged-in"),
    brief_columns=("name", "group", "address", "last-logged-in"),
    table_print=True,
    key="name",
    generic_commands=tuple(c for c in LIST_COMMANDS if c != "move"),
)

_ACTIVE_FIELDS = ("when", "name", "address", "via", "group")

USER_ACTIVE_MENU = Menu(
    path=USER_ACTIVE,
    kind=MenuKind.RUNTIME_LIST,
    description="who is logged in now, from where, over what (read-only)",
    properties=tuple(Property(name=n, readonly=True, default="") for n in _ACTIVE_FIELDS),
    print_order=_ACTIVE_FIELDS,
    brief_columns=_ACTIVE_FIELDS,
    table_print=True,
    generic_commands=RUNTIME_LIST_COMMANDS,
)

# name, port, disabled. pyipsec serves api and api-ssl (and www/www-ssl for REST and the web
# page); the others are listed, disabled, because RouterOS has them and real exports set them
# (`/ip service set telnet disabled=yes`). api-ssl and www-ssl take a certificate (none: the
# daemon makes a self-signed one on start).
SERVICES = (
    ("telnet", 23, True), ("ftp", 21, True), ("www", 80, False), ("ssh", 22, True),
    ("www-ssl", 443, True), ("api", 8728, False), ("winbox", 8291, True),
    ("api-ssl", 8729, False),
)  # fmt: skip
SERVED = ("api", "api-ssl", "www", "www-ssl")
TLS_SERVICES = ("api-ssl", "www-ssl")

SERVICE_MENU = Menu(
    path=SERVICE,
    kind=MenuKind.LIST,
    description="management services: the RouterOS API (plain and TLS), REST and the web page",
    properties=(
        Property(name="name", readonly=True, default=""),
        Property(name="port", type=Int(lo=1, hi=65535), required=True),
        Property(name="address", type=ListOf(item=Prefix()), default=""),
        Property(name="certificate", ref=CERTIFICATE, ref_keywords=("none",), default="none"),
        Property(name="tls-version", type=Enum(values=("any", "only-1.2")), default="any"),
        Property(name="disabled", type=Bool(), default="no"),
    ),
    flags=((Flag(letter="X", name="disabled"),), (Flag(letter="I", name="invalid"),)),
    print_order=("name", "port", "address", "certificate", "tls-version"),
    brief_columns=("name", "port", "address", "certificate"),
    table_print=True,
    key="name",
    default_items=tuple(
        {"name": n, "port": str(p), **({"disabled": "yes"} if off else {})}
        for n, p, off in SERVICES
    ),
    default_thing="service",
    generic_commands=("set", "enable", "disable", "find", "get", "print"),
)

MENUS = (USER_GROUP_MENU, USER_MENU, USER_ACTIVE_MENU, SERVICE_MENU)
