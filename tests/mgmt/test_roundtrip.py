"""Hypothesis: any valid item set exports and re-imports to the same items, and
export -> import into an empty database -> export gives identical text."""

from __future__ import annotations

import os
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pyipsec.config.menus import MENUS
from pyipsec.config.schema import Menu, Property
from pyipsec.config.table import Config, value_of
from pyipsec.config.types import (
    Address,
    Bool,
    Enum,
    Hex,
    Int,
    IpProtocol,
    ListOf,
    MultiEnum,
    Prefix,
    SpiPair,
    TaggedId,
    Text,
    Time,
    format_seconds,
)
from pyipsec.mgmt.commands import dispatch
from tests.mgmt.helpers import Console

ORDER = [
    ("ip", "ipsec", "mode-config"),
    ("ip", "ipsec", "policy", "group"),
    ("ip", "ipsec", "proposal"),
    ("ip", "ipsec", "manual-sa"),
    ("ip", "ipsec", "peer"),
    ("ip", "ipsec", "policy"),
]

# Text with the characters that need quoting and escaping in scripts.
TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"))
    | st.sampled_from('"\\$?;[]{}=# \t\nxy'),
    max_size=14,
)
# long enough to be hard-wrapped inside the value by export
LONG_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc")) | st.sampled_from('"\\$? \t'),
    min_size=60,
    max_size=200,
)
ipv4 = st.ip_addresses(v=4).map(str)
ipv6 = st.ip_addresses(v=6).map(str)
prefix = st.tuples(st.ip_addresses(v=4), st.integers(0, 32)).map(lambda t: f"{t[0]}/{t[1]}")


def value_strategy(prop: Property) -> st.SearchStrategy[str]:
    t = prop.type
    if isinstance(t, Bool):
        return st.sampled_from(["yes", "no"])
    if isinstance(t, Enum):
        return st.sampled_from(t.values)
    if isinstance(t, MultiEnum):
        return st.lists(
            st.sampled_from(t.values), min_size=0 if t.allow_empty else 1, unique=True
        ).map(",".join)
    if isinstance(t, Int):
        ints = st.integers(t.lo, t.hi).map(str)
        return ints | st.sampled_from(t.keywords) if t.keywords else ints
    if isinstance(t, Time):
        times = st.integers(0, 10**7).map(format_seconds)
        return times | st.sampled_from(t.keywords) if t.keywords else times
    if isinstance(t, Address):
        return ipv4 | ipv6
    if isinstance(t, Prefix):
        return prefix
    if isinstance(t, ListOf):
        item = prefix if isinstance(t.item, Prefix) else ipv4
        return st.lists(item, max_size=3).map(",".join)
    if isinstance(t, IpProtocol):
        return st.sampled_from(["all", "tcp", "udp", "gre", "ipsec-esp", "200"])
    if isinstance(t, TaggedId):
        return st.just("auto") | st.tuples(
            st.sampled_from(["fqdn", "user-fqdn", "key-id"]),
            st.text(alphabet="abcdefgh.@-", min_size=1, max_size=8),
        ).map(lambda x: f"{x[0]}:{x[1]}")
    if isinstance(t, Hex):
        return st.binary(max_size=20).map(lambda b: b.hex())
    if isinstance(t, SpiPair):
        return st.integers(0x100, 0xFFFFFFFF).map(lambda n: f"0x{n:X}")
    assert isinstance(t, Text)
    return TEXT | LONG_TEXT


@st.composite
def configurations(draw: st.DrawFn) -> list[tuple[tuple[str, ...], str, dict[str, str]]]:
    """A list of (menu, command, args) building a valid configuration."""
    names: dict[tuple[str, ...], list[str]] = {
        p: [v["name"] for v in MENUS[p].default_items if "name" in v] for p in ORDER
    }
    steps = []
    for path in ORDER:
        menu: Menu = MENUS[path]
        for _ in range(draw(st.integers(0, 3))):
            args: dict[str, str] = {}
            for prop in menu.writable:
                if prop.ref is not None:
                    if prop.ref in names and names[prop.ref] and draw(st.booleans()):
                        args[prop.name] = draw(st.sampled_from(names[prop.ref]))
                    continue
                if prop.name == menu.key:
                    taken = list(names[path])
                    name = draw(TEXT.filter(lambda n, taken=taken: bool(n) and n not in taken))
                    names[path].append(name)
                    args[prop.name] = name
                elif draw(st.integers(0, 3)) == 0:
                    args[prop.name] = draw(value_strategy(prop))
            steps.append((path, "add", args))
    # change the default items too
    for path in ("ip", "ipsec", "proposal"), ("ip", "ipsec", "policy"):
        menu = MENUS[path]
        args = {
            p.name: draw(value_strategy(p))
            for p in menu.writable
            if p.ref is None and p.name != menu.key and draw(st.integers(0, 4)) == 0
        }
        if args:
            steps.append((path, "set", {"numbers": "*1", **args}))
    return steps


def effective(config: Config) -> dict[tuple[str, ...], list[dict[str, str | None]]]:
    out = {}
    for path in [*ORDER, ("system", "identity")]:
        menu = MENUS[path]
        out[path] = [
            {p.name: value_of(menu, it, p.name) for p in menu.writable}
            | {"default": str(it.default)}
            for it in config.table(path)
        ]
    return out


@settings(
    max_examples=int(os.environ.get("ROUNDTRIP_EXAMPLES", "100")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=configurations(), identity=TEXT)
def test_export_import_round_trip(
    tmp_path: Path, steps: list[tuple[tuple[str, ...], str, dict[str, str]]], identity: str
) -> None:
    source = Console(files_dir=tmp_path)
    for path, command, args in steps:
        dispatch(source.session, path, command, args)
    dispatch(source.session, ("system", "identity"), "set", {"name": identity})
    want = effective(source.store.load())
    for mode in ("", "verbose"):
        text = source.export(mode)
        (tmp_path / "x.rsc").write_text(text)
        target = Console(files_dir=tmp_path)
        target.ok("/import file-name=x.rsc")
        assert effective(target.store.load()) == want
        assert target.export(mode) == text
