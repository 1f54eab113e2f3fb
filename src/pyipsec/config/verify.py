"""Whole-configuration checks: collect every problem with its menu, item and property.

RouterOS accepts a policy that duplicates another one, or whose proposal has since been
removed, and flags it ``I`` (invalid) in ``print``; :func:`invalid_items` gives those flags and
:func:`verify` the reasons. :class:`ConfigError` carries all problems at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from pyipsec.config.menus import MENUS
from pyipsec.config.menus.ipsec import PEER, POLICY
from pyipsec.config.menus.ipsec7 import IDENTITY, V7
from pyipsec.config.table import SEALED, Config, Item, derived, format_id, value_of


@dataclass(frozen=True, slots=True, kw_only=True)
class Problem:
    """One configuration problem."""

    menu: tuple[str, ...]
    item: int | None
    prop: str | None
    message: str

    def __str__(self) -> str:
        where = "/" + " ".join(self.menu)
        if self.item is not None:
            where += f" {format_id(self.item)}"
        if self.prop:
            where += f" {self.prop}"
        return f"{where}: {self.message}"


class ConfigError(Exception):
    """Every problem found in a configuration."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


_SELECTOR = ("src-address", "src-port", "dst-address", "dst-port", "protocol")


def _references(config: Config) -> list[Problem]:
    """Properties naming an item of another menu that does not exist."""
    problems = []
    for path, table in config.tables.items():
        menu = config.menu(path)
        for prop in menu.properties:
            if prop.ref is None or prop.ref not in config.tables:
                continue
            names = set(config.table(prop.ref).names())
            for item in table:
                value = item.values.get(prop.name, prop.default)
                if value is None or value in prop.ref_keywords or value in names:
                    continue
                problems.append(
                    Problem(
                        menu=path, item=item.id, prop=prop.name, message=f"no such item {value}"
                    )
                )
    return problems


def _duplicate_key(item: Item) -> tuple[str | None, ...] | None:
    """What two enabled policies must not share (None for a disabled one)."""
    menu = MENUS[POLICY]
    if value_of(menu, item, "disabled") == "yes":
        return None
    key = tuple(value_of(menu, item, n) for n in (*_SELECTOR, "template"))
    if value_of(menu, item, "template") == "yes":
        key += (value_of(menu, item, "group"),)
    return key


def _policy_duplicates(config: Config) -> list[Problem]:
    """A policy whose selectors repeat an earlier enabled one's (same group for templates)."""
    seen: set[tuple[str | None, ...]] = set()
    problems = []
    for item in config.table(POLICY):
        key = derived(item, "duplicate-key", partial(_duplicate_key, item))
        if key is None:
            continue
        if key in seen:
            problems.append(
                Problem(menu=POLICY, item=item.id, prop=None, message="duplicate policy")
            )
        seen.add(key)
    return problems


def _peer_auth(config: Config) -> list[Problem]:
    """Certificate/key authentication needs the certificate/key it names (6.x: on the peer;
    v7: on the identity)."""
    path = IDENTITY if config.dialect == V7 else PEER
    menu = config.menu(path)
    needs = {
        "rsa-signature": "certificate",
        "digital-signature": "certificate",
        "rsa-signature-hybrid": "certificate",
        "rsa-key": "key",
    }
    problems = []
    for item in config.table(path):
        method = value_of(menu, item, "auth-method") or ""
        prop = needs.get(method)
        if prop and value_of(menu, item, prop) in (None, "none"):
            problems.append(Problem(menu=path, item=item.id, prop=prop, message=f"{prop} required"))
    return problems


def _family(prefix: str | None) -> int:
    return 6 if prefix is not None and ":" in prefix else 4


def _policy_families(config: Config) -> list[Problem]:
    """A policy's selectors are of one address family: an IPv6 source with an IPv4
    destination (or the reverse) matches no packet, and RouterOS flags it ``I`` (invalid).
    The SA addresses may be of the other family (IPv6 over an IPv4 tunnel)."""
    menu = config.menu(POLICY)
    problems = []
    for item in config.table(POLICY):
        src, dst = value_of(menu, item, "src-address"), value_of(menu, item, "dst-address")
        if _family(src) != _family(dst):
            problems.append(
                Problem(
                    menu=POLICY,
                    item=item.id,
                    prop="dst-address",
                    message="src-address and dst-address are of different address families",
                )
            )
    return problems


_INVALID = "invalid-items"
CHECKS = (_references, _policy_duplicates, _peer_auth, _policy_families)


def verify(config: Config) -> list[Problem]:
    """Every problem in ``config`` (empty when it is consistent)."""
    return [p for check in CHECKS for p in check(config)]


def check(config: Config) -> None:
    """Raise :class:`ConfigError` with every problem, if there is any."""
    problems = verify(config)
    if problems:
        raise ConfigError(problems)


def invalid_items(config: Config) -> dict[tuple[str, ...], set[int]]:
    """Ids of the items to flag invalid, by menu (computed once per version of a stored
    configuration: every ``print`` and the daemon's apply ask for it)."""
    kept = config.memo.get(_INVALID)
    if isinstance(kept, dict):
        return kept
    out: dict[tuple[str, ...], set[int]] = {}
    for problem in verify(config):
        if problem.item is not None:
            out.setdefault(problem.menu, set()).add(problem.item)
    if config.memo.get(SEALED):
        config.memo[_INVALID] = out
    return out


def is_invalid(config: Config, path: tuple[str, ...], item: Item) -> bool:
    return item.id in invalid_items(config).get(path, set())
