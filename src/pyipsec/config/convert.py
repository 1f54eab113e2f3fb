"""6.x <-> RouterOS 7 conversion of a whole configuration, and script dialect detection.

A 6.x peer carries phase 1, addressing and authentication; RouterOS 7 splits it into a
profile, a peer and an identity (reference §2.4-§2.6). :func:`to_v7` and :func:`to_v6` map one
model onto the other (the mapping is in docs/config.md, "Dialects"); both compile to the same
engine records (tests/config/test_convert.py). What the target dialect cannot say is never
dropped silently: the conversion raises :class:`ConversionError` with every such item, and
nothing is converted. Ids are kept (a 6.x peer and the v7 peer made from it have the same id),
so the engine records and ``*id`` references stay the same.

:func:`detect_dialect` tells which dialect a script is written in (for ``/import``).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping

from pyipsec.config.menus import V6, V7, menus_for
from pyipsec.config.menus.ipsec import PEER, POLICY
from pyipsec.config.menus.ipsec7 import IDENTITY, PROFILE, is_dns_name
from pyipsec.config.schema import Menu
from pyipsec.config.table import Config, Item, Table, format_id, value_of
from pyipsec.config.types import ValueProblem

# The 6.x peer's phase-1 properties, which a v7 profile holds.
PROFILE_PROPS = (
    "hash-algorithm", "enc-algorithm", "dh-group", "lifetime", "lifebytes", "proposal-check",
    "nat-traversal", "dpd-interval", "dpd-maximum-failures",
)  # fmt: skip
# The 6.x peer's addressing properties, which stay on the v7 peer.
PEER_PROPS = (
    "address", "local-address", "passive", "port", "exchange-mode", "send-initial-contact",
    "disabled", "comment",
)  # fmt: skip
# 6.x peer -> v7 identity (renamed ones mapped).
IDENTITY_PROPS = {
    "auth-method": "auth-method",
    "secret": "secret",
    "certificate": "certificate",
    "remote-certificate": "remote-certificate",
    "key": "key",
    "remote-key": "remote-key",
    "my-id": "my-id",
    "generate-policy": "generate-policy",
    "policy-template-group": "policy-template-group",
    "mode-config": "mode-config",
    "notrack-chain": "notrack-chain",
    "xauth-login": "username",
    "xauth-password": "password",
}
AUTH_TO_V7 = {"rsa-signature": "digital-signature"}
AUTH_TO_V6 = {v: k for k, v in AUTH_TO_V7.items()}


class ConversionError(Exception):
    """What the target dialect cannot represent (every problem, one per line)."""

    def __init__(self, target: str, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.target = target
        self.problems = problems

    def message(self) -> str:
        return f"failure: can not convert to {self.target}: " + "; ".join(self.problems)


def _where(menu: Menu, item: Item) -> str:
    name = item.values.get(menu.key) if menu.key else None
    return f"{menu.name} {name if name else format_id(item.id)}"


def _carry(
    source: Menu,
    target: Menu,
    item: Item,
    problems: list[str],
    *,
    names: Mapping[str, str] | None = None,
    skip: frozenset[str] = frozenset(),
) -> dict[str, str]:
    """The values of ``item`` that ``target`` has (renamed by ``names``), checked by the target
    menu's codecs; a set value the target lacks is a problem unless it is the default."""
    out: dict[str, str] = {}
    for name, value in item.values.items():
        if name in skip:
            continue
        if name.startswith("_"):  # internal values (key and certificate material) as they are
            out[name] = value
            continue
        new = (names or {}).get(name, name)
        if not target.has(new):
            default = source.prop(name).default if source.has(name) else None
            if value != default:
                problems.append(f"{_where(source, item)}: {name}={value} has no {target.dialect}")
            continue
        try:
            out[new] = target.prop(new).type.parse(value)
        except ValueProblem:
            problems.append(
                f"{_where(source, item)}: {name}={value} is not valid in {target.dialect}"
            )
    return out


def _copy_table(source: Config, target: Config, path: tuple[str, ...], problems: list[str]) -> None:
    """A table both dialects have: same items and ids, values the target menu has."""
    old = source.table(path)
    menu = target.menu(path)
    items = [
        Item(
            id=it.id,
            values=_carry(old.menu, menu, it, problems),
            default=it.default,
        )
        for it in old
        if not it.dynamic
    ]
    target.tables[path] = Table(menu=menu, items=items, next_id=old.next_id)


def _shared_and_dropped(
    source: Config, target: Config, problems: list[str], own: set[tuple[str, ...]]
) -> None:
    """Copy the tables both dialects have; a table only the source has must hold nothing but
    its unchanged default items."""
    initial = Config.initial(source.dialect)
    for path, table in source.tables.items():
        if path in own:
            continue
        if path in target.tables:
            _copy_table(source, target, path, problems)
            continue
        fresh = [(it.default, dict(it.values)) for it in initial.tables[path]]
        if [(it.default, dict(it.values)) for it in table] != fresh:
            problems.append(f"{table.menu.name}: has no {target.dialect} menu")


def _host(address: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address of a host prefix (``10.0.0.1/32``), else None."""
    if is_dns_name(address):
        return None
    net = ipaddress.ip_network(address, strict=False)
    if net.prefixlen != net.max_prefixlen or net.network_address.is_unspecified:
        return None  # (0.0.0.0 as an SA address means "none", config/compile.py)
    return net.network_address


def to_v7(config: Config) -> Config:
    """The RouterOS 7 form of a 6.x configuration (ConversionError if something is lost)."""
    if config.dialect == V7:
        return config.copy()
    problems: list[str] = []
    out = Config.initial(V7)
    v7 = menus_for(V7)
    old_peer, peer_menu = config.menu(PEER), v7[PEER]
    profile_menu, identity_menu = v7[PROFILE], v7[IDENTITY]
    _shared_and_dropped(config, out, problems, {PEER, POLICY})
    profiles = out.table(PROFILE)
    default_profile = profiles.items[0]
    peers = Table(menu=peer_menu, next_id=config.table(PEER).next_id)
    identities = out.table(IDENTITY)
    by_crypto: dict[tuple[str | None, ...], str] = {}
    hosts: dict[str, list[tuple[str, str | None]]] = {}  # host address -> [(peer, local)]
    initiators: set[tuple[str | None, str | None]] = set()
    default_effective = tuple(value_of(profile_menu, default_profile, n) for n in PROFILE_PROPS)
    for item in config.table(PEER):
        if item.dynamic:
            continue
        v = item.values
        if v.get("exchange-mode") == "main-l2tp":
            problems.append(f"{_where(old_peer, item)}: exchange-mode=main-l2tp has no v7")
        if v.get("compatibility-options"):
            problems.append(f"{_where(old_peer, item)}: compatibility-options has no v7")
        name = peers.unique_name("peer")
        initiator = (value_of(old_peer, item, "address"), value_of(old_peer, item, "exchange-mode"))
        if v.get("disabled") != "yes" and v.get("passive") != "yes":
            if initiator in initiators:  # RouterOS 7 refuses a second one (reference §2.4)
                problems.append(
                    f"{_where(old_peer, item)}: a second initiator for address {initiator[0]} "
                    f"and exchange-mode {initiator[1]} (v7: one per address and mode)"
                )
            initiators.add(initiator)
        effective = tuple(value_of(old_peer, item, n) for n in PROFILE_PROPS)
        if effective == default_effective:
            profile = "default"
        elif effective in by_crypto:
            profile = by_crypto[effective]
        else:  # a profile of its own, named after the first peer that uses it
            profile = by_crypto[effective] = name
            crypto = {n: v[n] for n in PROFILE_PROPS if n in v}
            values = _carry(old_peer, profile_menu, Item(id=item.id, values=crypto), problems)
            profiles.add({"name": profile, **values})
        addressing = {n: v[n] for n in PEER_PROPS if n in v}
        peer_values = _carry(old_peer, peer_menu, Item(id=item.id, values=addressing), problems)
        peers.items.append(
            Item(id=item.id, values={"name": name, **peer_values, "profile": profile})
        )
        peers.next_id = max(peers.next_id, item.id + 1)
        ident = {k: v[k] for k in IDENTITY_PROPS if k in v}
        if "auth-method" in ident:
            ident["auth-method"] = AUTH_TO_V7.get(ident["auth-method"], ident["auth-method"])
        ident_values = _carry(
            old_peer, identity_menu, Item(id=item.id, values=ident), problems, names=IDENTITY_PROPS
        )
        if v.get("disabled") == "yes":
            ident_values["disabled"] = "yes"
        identities.add({"peer": name, **ident_values})
        host = _host(value_of(old_peer, item, "address") or "0.0.0.0/0")
        if host is not None and v.get("disabled") != "yes":
            hosts.setdefault(str(host), []).append((name, v.get("local-address")))
    out.tables[PEER] = Table(menu=peer_menu, items=peers.items, next_id=peers.next_id)
    policies = out.table(POLICY)
    old_policy = config.menu(POLICY)
    converted: list[Item] = []
    for item in config.table(POLICY):
        if item.dynamic:
            continue
        values = _carry(old_policy, policies.menu, item, problems)
        found = hosts.get(values.get("sa-dst-address", ""), [])
        if len(found) == 1 and values.get("template") != "yes":
            # the policy's SAs go to that peer: name it, as v7 does (the same SA addresses:
            # compile takes sa-src from the peer's local-address, else the policy's)
            name, local = found[0]
            src = values.get("sa-src-address")
            if local is None or src == local:
                values["peer"] = name
                del values["sa-dst-address"]
                if local is not None:
                    del values["sa-src-address"]
        converted.append(Item(id=item.id, values=values, default=item.default))
    out.tables[POLICY] = Table(
        menu=policies.menu, items=converted, next_id=config.table(POLICY).next_id
    )
    if problems:
        raise ConversionError(V7, problems)
    return out


def to_v6(config: Config) -> Config:
    """The 6.x form of a RouterOS 7 configuration (ConversionError if something is lost)."""
    if config.dialect == V6:
        return config.copy()
    problems: list[str] = []
    out = Config.initial(V6)
    v6 = menus_for(V6)
    peer_menu, old_peer = v6[PEER], config.menu(PEER)
    profile_menu, identity_menu = config.menu(PROFILE), config.menu(IDENTITY)
    _shared_and_dropped(config, out, problems, {PEER, POLICY, PROFILE, IDENTITY})
    identities: dict[str, list[Item]] = {}
    for ident in config.table(IDENTITY):
        identities.setdefault(ident.values.get("peer", ""), []).append(ident)
    used_profiles: set[str] = set()
    peers: list[Item] = []
    sa: dict[str, tuple[str | None, str | None]] = {}  # peer name -> (sa-dst, local-address)
    to_v6_names = {v: k for k, v in IDENTITY_PROPS.items()}
    for item in config.table(PEER):
        if item.dynamic:
            continue
        name = item.values.get("name", "")
        where = _where(old_peer, item)
        address = value_of(old_peer, item, "address") or ""
        skip = {"name", "profile"}
        if is_dns_name(address):
            problems.append(f"{where}: a DNS name in address= has no 6.x")
            skip.add("address")
        values = _carry(old_peer, peer_menu, item, problems, skip=frozenset(skip))
        profile = config.table(PROFILE).by_name(value_of(old_peer, item, "profile") or "")
        if profile is not None:
            used_profiles.add(profile.values.get("name", ""))
            crypto = {n: profile.values[n] for n in PROFILE_PROPS if n in profile.values}
            for extra in ("prf-algorithm", "ppk", "comment"):
                if profile.values.get(extra, profile_menu.prop(extra).default) not in (
                    "auto",
                    "no",
                    "",
                ):
                    problems.append(f"{_where(profile_menu, profile)}: {extra} has no 6.x")
            values.update(
                _carry(profile_menu, peer_menu, Item(id=profile.id, values=crypto), problems)
            )
        mine = identities.get(name, [])
        if len(mine) != 1:
            problems.append(f"{where}: {len(mine)} identities (6.x has exactly one per peer)")
        for ident in mine[:1]:
            iv = dict(ident.values)
            iv.pop("peer", None)
            if "auth-method" in iv:
                iv["auth-method"] = AUTH_TO_V6.get(iv["auth-method"], iv["auth-method"])
            if iv.pop("disabled", "no") != values.get("disabled", "no"):
                problems.append(f"{_where(identity_menu, ident)}: disabled apart from its peer")
            if iv.pop("comment", "") not in ("", values.get("comment", "")):
                problems.append(f"{_where(identity_menu, ident)}: comment has no 6.x")
            values.update(
                _carry(
                    identity_menu,
                    peer_menu,
                    Item(id=ident.id, values=iv),
                    problems,
                    names=to_v6_names,
                )
            )
        host = _host(address) if not is_dns_name(address) else None
        sa[name] = (str(host) if host is not None else None, item.values.get("local-address"))
        peers.append(Item(id=item.id, values=values))
    for profile in config.table(PROFILE):
        pname = profile.values.get("name", "")
        if not profile.default and pname not in used_profiles:
            problems.append(f"/ip ipsec profile {pname}: used by no peer (6.x has no profiles)")
    out.tables[PEER] = Table(menu=peer_menu, items=peers, next_id=config.table(PEER).next_id)
    old_policy, new_policy = config.menu(POLICY), v6[POLICY]
    converted: list[Item] = []
    for item in config.table(POLICY):
        if item.dynamic:
            continue
        values = _carry(old_policy, new_policy, item, problems, skip=frozenset({"peer"}))
        peer = item.values.get("peer", "none")
        if peer != "none":
            dst, local = sa.get(peer, (None, None))
            if dst is None:
                problems.append(f"{_where(old_policy, item)}: peer {peer} has no host address")
            else:
                values["sa-dst-address"] = dst
                if local is not None:  # what compile takes (the peer's, else the policy's)
                    values["sa-src-address"] = local
        converted.append(Item(id=item.id, values=values, default=item.default))
    out.tables[POLICY] = Table(
        menu=new_policy, items=converted, next_id=config.table(POLICY).next_id
    )
    if problems:
        raise ConversionError(V6, problems)
    return out


def convert(config: Config, dialect: str) -> Config:
    """``config`` in ``dialect`` (a copy; ConversionError when something would be lost)."""
    return to_v7(config) if dialect == V7 else to_v6(config)


def is_pristine(config: Config) -> bool:
    """Whether ``config`` holds only a fresh router's default items, unchanged."""
    initial = Config.initial(config.dialect)
    for path, table in config.tables.items():
        fresh = initial.tables.get(path)
        mine = [(it.default, dict(it.values)) for it in table if not it.dynamic]
        if fresh is None or mine != [(it.default, dict(it.values)) for it in fresh]:
            return False
    return True


# -- which dialect a script is written in

_V7_HEADER = re.compile(r"^#.* by RouterOS 7\.|^# \d{4}-\d\d-\d\d \d\d:\d\d:\d\d ", re.M)
_V6_HEADER = re.compile(r"^#.* by RouterOS [3-6]\.|^# [a-z]{3}/\d\d/\d{4} ", re.M)
_SLASH_PATH = re.compile(r"^\s*/?ip/ipsec\b", re.M)  # v7 syntax, which pyipsec reads in 6.x too
_V7_MENUS = ("/ip ipsec profile", "/ip ipsec identity", "/ip ipsec active-peers")
_V6_PEER = re.compile(r"\b(?:secret|dh-group|enc-algorithm|hash-algorithm|auth-method|my-id)=")
_COMMANDS = ("add", "set", "print", "remove", "find", "get", "enable", "disable", "unset")


def _commands(text: str) -> list[tuple[str, str]]:
    """(menu, command line) of every command of a script, the menu written with spaces; a
    line naming only a menu (an export's section header) sets the menu of those after it."""
    out: list[tuple[str, str]] = []
    section = ""
    for raw in re.sub(r"\\\n\s*", "", text).splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith(("/", "ip/")):
            words = [w for w in re.split(r"[ /]+", line.split("=")[0]) if w]
            at = next((i for i, w in enumerate(words) if w in _COMMANDS), None)
            menu = "/" + " ".join(words[: len(words) if at is None else at])
            if at is None:
                section = menu
                continue
            out.append((menu, line))
        else:
            out.append((section, line))
    return out


def detect(text: str) -> tuple[str | None, bool]:
    """(``v7``, ``v6`` or None, whether the sign is strong) for a RouterOS script or export.

    Strong: the RouterOS version (or date style) in the header, a menu or property only one
    dialect has (a profile or identity section, a policy naming its ``peer=``, a peer naming
    its ``profile=``; a peer with ``secret=``, ``dh-group=``...), looked at in its own menu
    only (``/ppp secret add profile=`` says nothing). Weak: only the slash path syntax, which
    RouterOS 7 introduced but pyipsec's 6.x console reads as well."""
    if _V7_HEADER.search(text):
        return V7, True
    if _V6_HEADER.search(text):
        return V6, True
    for menu, line in _commands(text):
        if menu in _V7_MENUS:
            return V7, True
        if menu == "/ip ipsec policy" and re.search(r"\bpeer=", line):
            return V7, True
        if menu == "/ip ipsec peer" and re.search(r"\bprofile=", line):
            return V7, True
        if menu == "/ip ipsec peer" and _V6_PEER.search(line):
            return V6, True
    if _SLASH_PATH.search(text):
        return V7, False
    return None, False


def detect_dialect(text: str) -> str | None:
    """``v7``, ``v6`` or None (nothing telling) for a RouterOS script or export."""
    return detect(text)[0]
