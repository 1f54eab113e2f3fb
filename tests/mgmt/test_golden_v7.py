"""RouterOS 7 print and export formats, against the reference's real v7 samples.

Fixtures under tests/golden/v7/:

* ``active-peers.print.txt`` / ``active-peers.detail.txt``: the v7 prints of reference §2.8,
  verbatim (a hub's ``ip ipsec/active-peers/print`` and ``print detail``).
* ``site.export.txt``: the compact v7 export of MikroTik's site-to-site example (reference
  §3.6, "as the export would show it": written from the example, not a router's output), its
  long policy line wrapped at 80 columns as RouterOS exports wrap, and the default profile's
  ``dpd-interval=2m dpd-maximum-failures=5`` line that real 7.19-7.23 compact exports write
  (tests/golden/v7real/SOURCES.md).
* ``defaults.export-verbose.txt``: a fresh v7 router's verbose ``/ip ipsec export``; its
  logical lines are the real ones of reference §2.15 (mode-config, group, proposal, policy),
  §2.5 (the 7.21 default profile, with ``ppk=no`` and without prf-algorithm/lifebytes) and
  docs/config.md (the 7.24.4 settings line), checked below line by line.
* ``site.export-verbose.txt``: the site example exported verbosely (checked by eye).
* ``site.<menu>.print.txt`` / ``.detail.txt``: v7 prints of the site example (checked by eye
  against the layout rules of §3.4 and the §2.8 samples).

``UPDATE_GOLDEN=1`` rewrites the files that are not reference samples.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from pyipsec.config.menus.ipsec7 import ACTIVE_PEERS
from pyipsec.config.store import Store
from pyipsec.mgmt.commands import NullRuntime, RuntimeRow
from tests.mgmt.helpers import Console

GOLDEN = Path(__file__).resolve().parent.parent / "golden" / "v7"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"

# Reference §2.15 / §2.5 / docs/config.md: the logical lines of a fresh v7 router's verbose
# /ip ipsec export (RouterOS 7.2x).
REFERENCE_DEFAULTS = """\
/ip ipsec mode-config
set [ find default=yes ] name=request-only responder=no use-responder-dns=exclusively
/ip ipsec policy group
set [ find default=yes ] name=default
/ip ipsec profile
set [ find default=yes ] dh-group=modp2048,modp1024 dpd-interval=2m dpd-maximum-failures=5 enc-algorithm=aes-128,3des hash-algorithm=sha1 lifetime=1d name=default nat-traversal=yes ppk=no proposal-check=obey
/ip ipsec proposal
set [ find default=yes ] auth-algorithms=sha1 disabled=no enc-algorithms=aes-256-cbc,aes-192-cbc,aes-128-cbc lifetime=30m name=default pfs-group=modp1024
/ip ipsec policy
set 0 disabled=no dst-address=::/0 group=default proposal=default protocol=all src-address=::/0 template=yes
/ip ipsec settings
set accounting=yes ddos-cookie-threshold=20 interim-update=0s xauth-use-radius=no
"""  # noqa: E501  (verbatim logical lines)


def _body(text: str) -> str:
    return "".join(line + "\n" for line in text.splitlines() if not line.startswith("#"))


def _logical(text: str) -> str:
    """Continuation lines joined (``\\`` at the end, 4-space indent), comments dropped."""
    return _body(text.replace("\\\n    ", ""))


def v7_console(tmp_path: Path | None = None) -> Console:
    return Console(Store(":memory:", dialect="v7"), files_dir=tmp_path)


def _fixture(name: str) -> str:
    return (GOLDEN / name).read_text()


def test_fresh_v7_router_verbose_export_matches_the_reference_lines() -> None:
    text = v7_console().ok("/ip ipsec export verbose")
    assert _logical(text) == REFERENCE_DEFAULTS
    assert text == _fixture("defaults.export-verbose.txt")


@pytest.mark.parametrize(
    ("fixture", "export"),
    [
        ("site.export.txt", "/ip ipsec export show-sensitive"),
        ("site.export-verbose.txt", "/ip ipsec export verbose show-sensitive"),
        ("defaults.export-verbose.txt", "/ip ipsec export verbose"),
    ],
)
def test_v7_export_imports_and_re_exports_byte_for_byte(
    fixture: str, export: str, tmp_path: Path
) -> None:
    (tmp_path / "in.rsc").write_text(_fixture(fixture))
    console = v7_console(tmp_path)
    console.ok("/import file-name=in.rsc")
    assert _body(console.ok(export)) == _body(_fixture(fixture))
    assert console.ok(export) == _fixture(fixture)  # the header too (same clock, same dialect)


def test_verbose_and_compact_exports_describe_the_same_configuration(tmp_path: Path) -> None:
    (tmp_path / "in.rsc").write_text(_fixture("site.export-verbose.txt"))
    console = v7_console(tmp_path)
    console.ok("/import file-name=in.rsc")
    assert console.ok("/ip ipsec export show-sensitive") == _fixture("site.export.txt")


def test_v7_export_hides_secrets_unless_show_sensitive() -> None:
    """RouterOS 7 exports leave secrets out by default (reference §3.6)."""
    console = v7_console()
    console.ok(_fixture("site.export.txt"))
    hidden = console.ok("/ip ipsec export")
    assert "secret" not in hidden
    assert hidden == _fixture("site.export.txt").replace(" secret=thisisnotasecurepsk", "")
    assert "secret=thisisnotasecurepsk" in console.ok("/export show-sensitive")


class HubRuntime(NullRuntime):
    """The hub of reference §2.8: one responder peer, spoke1, behind NAT."""

    def __init__(self, values: Mapping[str, str]) -> None:
        self.values = values

    def rows(self, path: tuple[str, ...]) -> Sequence[RuntimeRow]:
        if path != ACTIVE_PEERS:
            return ()
        return (RuntimeRow(id=1, values=self.values, flags=frozenset({"responder"})),)


HUB = {
    "id": "spoke1",
    "local-address": "50.0.0.50",
    "local-port": "4500",
    "remote-address": "150.0.0.150",
    "port": "4500",
    "state": "established",
    "side": "responder",
    "dynamic-address": "172.16.0.2",
    "ph2-total": "3",
    "spii": "341c6d6330c59831",
    "spir": "16c05dd1993caee0",
}


@pytest.mark.parametrize(
    ("command", "fixture", "extra"),
    [
        ("ip ipsec/active-peers/print", "active-peers.print.txt", {"uptime": "3h8m2s"}),
        (
            "ip ipsec/active-peers/print detail",
            "active-peers.detail.txt",
            {"uptime": "5h9m14s", "last-seen": "3s"},
        ),
    ],
)
def test_active_peers_prints_match_the_reference(
    command: str, fixture: str, extra: dict[str, str]
) -> None:
    console = v7_console()
    console.session.runtime = HubRuntime({**HUB, **extra})
    assert console.ok(command) == _fixture(fixture)


SITE_MENUS = ("policy", "peer", "profile", "identity", "proposal", "mode-config", "settings")


@pytest.mark.parametrize("menu", SITE_MENUS)
@pytest.mark.parametrize("mode", ["print", "detail"])
def test_site_prints(menu: str, mode: str, tmp_path: Path) -> None:
    console = v7_console()
    console.ok(_fixture("site.export.txt"))
    console.ok('/ip ipsec identity set 0 comment="to site 2"')
    console.ok("/ip ipsec peer add name=road address=0.0.0.0/0 passive=yes exchange-mode=ike2")
    text = console.ok(f"/ip ipsec {menu} print{' detail' if mode == 'detail' else ''}")
    path = GOLDEN / f"site.{menu.replace(' ', '-')}.{mode}.txt"
    if UPDATE:
        path.write_text(text)
    assert text == path.read_text()


def test_v7_legends_and_flag_columns() -> None:
    console = v7_console()
    console.ok(_fixture("site.export.txt"))
    console.ok("/ip ipsec policy disable [find peer=ike1-site2]")
    table = console.ok("/ip ipsec policy print")
    # only the flags in use, upper case, ';' between flag groups; one column per group in use
    assert table.splitlines()[0] == "Flags: T - TEMPLATE; X - DISABLED; * - DEFAULT"
    assert table.splitlines()[1].startswith("Columns: PEER, TUNNEL, SRC-ADDRESS")
    assert table.splitlines()[3].startswith("0 T *")
    assert table.splitlines()[4].startswith("1  X  ike1-site2")
    detail = console.ok("/ip ipsec policy print detail")
    assert detail.splitlines()[0] == (
        "Flags: T - template; B - backup; X - disabled, D - dynamic, I - invalid, A - active; "
        "* - default"
    )
    assert detail.splitlines()[1].startswith(" 0 T  * group=default")
    assert " 1   X  peer=ike1-site2 tunnel=yes" in detail
