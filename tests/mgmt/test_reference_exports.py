"""The reference's verbatim RouterOS exports import cleanly and re-export every value."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pyipsec.config.menus import MENUS
from pyipsec.config.table import value_of
from pyipsec.mgmt.cli.tokenizer import Lit, tokenize
from tests.mgmt.helpers import Console
from tests.mgmt.reference_exports import ALL

# Legacy spellings the schema maps to their 6.x form on import.
LEGACY = {
    ("my-id-user-fqdn", ""): None,
    ("generate-policy", "yes"): ("generate-policy", "port-override"),
}


def commands_of(text: str) -> list[tuple[tuple[str, ...], str, dict[str, str]]]:
    """(menu path, head, {prop: value}) of every add/set line of a script."""
    out = []
    path: tuple[str, ...] = ()
    for cmd in tokenize(text):
        words = [w for w in cmd.words]
        first = words[0].plain or ""
        if first.startswith("/"):
            segs = [w.plain or "" for w in words]
            if all("=" not in s for s in segs) and segs[-1] not in ("add", "set"):
                path = tuple(s.strip("/") for s in segs)
                continue
            # one-line form: /ip ipsec peer add ...
            i = next(i for i, s in enumerate(segs) if s in ("add", "set"))
            path = tuple(s.strip("/") for s in segs[:i])
            words = words[i:]
        head = words[0].plain or ""
        pairs = {}
        for w in words[1:]:
            split = w.split_assignment()
            if split is None:
                continue
            name, parts = split
            pairs[name] = "".join(p.text for p in parts if isinstance(p, Lit))
        out.append((path, head, pairs))
    return out


def expected_pairs(pairs: dict[str, str]) -> dict[str, str]:
    out = {}
    for name, value in pairs.items():
        if (name, value) in LEGACY:
            mapped = LEGACY[(name, value)]
            if mapped is None:
                continue
            name, value = mapped
        m = re.fullmatch(r"([0-9.]+/\d+):(any|\d+)", value)
        if name in ("src-address", "dst-address") and m:
            out[name.replace("address", "port")] = m.group(2)
            value = m.group(1)
        out[name] = value
    return out


@pytest.mark.parametrize("name", sorted(ALL))
def test_reference_export_imports_and_keeps_values(name: str, tmp_path: Path) -> None:
    text = ALL[name]
    (tmp_path / "ref.rsc").write_text(text)
    console = Console(files_dir=tmp_path)
    out = console.ok("/import file-name=ref.rsc")
    assert "Script file loaded and executed successfully" in out
    config = console.store.load()
    added: dict[tuple[str, ...], int] = {}
    for path, head, pairs in commands_of(text):
        menu = MENUS[path]
        table = config.table(path)
        if head == "add":
            items = [it for it in table if not it.default]
            item = items[added.get(path, 0)]
            added[path] = added.get(path, 0) + 1
        else:
            item = next(it for it in table if it.default)
        for prop, value in expected_pairs(pairs).items():
            canonical = menu.prop(prop).type.parse(value)
            assert value_of(menu, item, prop) == canonical, (path, prop)
    # Re-export verbosely: every value of the source is in the export again.
    again = console.export("verbose")
    exported = commands_of(again)
    added.clear()
    for path, head, pairs in commands_of(text):
        lines = [p for (mp, h, p) in exported if mp == path and h == head]
        index = added.get((path, head), 0)
        added[(path, head)] = index + 1
        for prop, value in expected_pairs(pairs).items():
            canonical = MENUS[path].prop(prop).type.parse(value)
            assert lines[index].get(prop) == canonical, (path, head, prop)


@pytest.mark.parametrize("name", sorted(ALL))
def test_reference_export_round_trip_is_stable(name: str, tmp_path: Path) -> None:
    """Import, export, import the export into an empty database, export: identical."""
    (tmp_path / "ref.rsc").write_text(ALL[name])
    first = Console(files_dir=tmp_path)
    first.ok("/import file-name=ref.rsc")
    for mode in ("", "verbose"):
        text = first.export(mode)
        (tmp_path / "again.rsc").write_text(text)
        second = Console(files_dir=tmp_path)
        second.ok("/import file-name=again.rsc")
        assert second.export(mode) == text


def test_v4_address_port_form_splits_port() -> None:
    console = Console()
    console.ok("/ip ipsec policy add src-address=50.0.0.1/32:500 dst-address=50.0.0.2/32:any")
    assert console.ok(":put [/ip ipsec policy get 1 src-port]") == "500\n"
    assert console.ok(":put [/ip ipsec policy get 1 src-address]") == "50.0.0.1/32\n"


def test_v5_7_default_addressed_by_name(tmp_path: Path) -> None:
    console = Console()
    console.ok("/ip ipsec proposal set default enc-algorithms=3des pfs-group=none")
    out = console.export()
    assert "set [ find default=yes ] enc-algorithms=3des pfs-group=none" in out


def _body(export: str) -> list[str]:
    return [line for line in export.splitlines() if not line.startswith("#")]


def test_6_42_7_compact_export_is_reproduced_byte_for_byte(tmp_path: Path) -> None:
    """Same properties, order, quoting and line wrapping as RouterOS 6.42.7 wrote them."""
    from tests.mgmt.reference_exports import V6_42_7

    (tmp_path / "ref.rsc").write_text(V6_42_7)
    console = Console(files_dir=tmp_path)
    console.ok("/import file-name=ref.rsc")
    assert _body(console.export()) == _body(V6_42_7)


def test_5_21_verbose_proposal_export_is_reproduced_byte_for_byte(tmp_path: Path) -> None:
    from tests.mgmt.reference_exports import V5_21

    (tmp_path / "ref.rsc").write_text(V5_21)
    console = Console(files_dir=tmp_path)
    console.ok("/import file-name=ref.rsc")
    assert _body(console.ok("/ip ipsec proposal export verbose")) == _body(V5_21)
