"""Real RouterOS 7 exports (not written by us) import and re-export their /ip ipsec lines.

Fixtures under tests/golden/v7real/ are excerpts of whole-router exports published in public
GitHub repositories, copied byte for byte: the header, every ``/ip ipsec`` section, and the
sections of other menus around them (kept so that the import skips foreign menus as it does
for the whole file). SOURCES.md beside them says where each comes from and which lines were
kept. Only the ``/ip ipsec`` lines are compared: the rest of a whole-router export is outside
pyipsec (skipped with one summary warning), and a whole-router export interleaves the IPsec
sections with other menus' sections, which ``/ip ipsec export`` writes one after the other.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pyipsec.config.store import Store
from tests.mgmt.helpers import Console

GOLDEN = Path(__file__).resolve().parent.parent / "golden" / "v7real"


def ipsec_sections(text: str) -> str:
    """The ``/ip ipsec ...`` sections of an export, in order, continuation lines kept."""
    out: list[str] = []
    keep = False
    for line in text.splitlines():
        if line.startswith("/"):
            keep = line.startswith("/ip ipsec")
        if keep and not line.startswith("#"):
            out.append(line + "\n")
    return "".join(out)


@pytest.mark.parametrize(
    ("fixture", "export", "skipped"),
    [
        (
            "routeros-7.24.4-whole.export-verbose.rsc",
            "/ip ipsec export verbose show-sensitive",
            "/ip hotspot user profile (1), /ip smb users (1), /ip hotspot user (1), "
            "/ip media settings (1)",
        ),
        (
            "routeros-7.23.2-whole.export.rsc",
            "/ip ipsec export",
            "/ip firewall nat (4), /ip route (1)",
        ),
        (
            "routeros-7.19.1-whole.export.rsc",
            "/ip ipsec export",
            "/ip firewall nat (1), /ip smb shares (1), /routing bfd configuration (1), "
            "/system clock (1), /system note (1)",
        ),
    ],
)
def test_real_v7_export_round_trips_its_ipsec_lines(
    fixture: str, export: str, skipped: str, tmp_path: Path
) -> None:
    text = (GOLDEN / fixture).read_text()
    assert ipsec_sections(text)  # the sample has IPsec lines to compare
    (tmp_path / "in.rsc").write_text(text)
    console = Console(Store(":memory:", dialect="v7"), files_dir=tmp_path)
    out = console.ok("/import file-name=in.rsc")
    assert out.splitlines()[0] == (
        f"warning: skipped lines of menus pyipsec does not implement: {skipped}"
    )
    assert "Script file loaded and executed successfully" in out
    assert ipsec_sections(console.ok(export)) == ipsec_sections(text)


def test_untouched_v7_router_compact_export_writes_the_default_profile_dpd() -> None:
    """7.19.1 and 7.23.2 routers without IPsec configuration export this line (SOURCES.md)."""
    console = Console(Store(":memory:", dialect="v7"))
    assert ipsec_sections(console.ok("/ip ipsec export")) == (
        "/ip ipsec profile\nset [ find default=yes ] dpd-interval=2m dpd-maximum-failures=5\n"
    )
    # the help page's 8s/4 are what the compact export compares with: held, they write nothing
    console.ok("/ip ipsec profile set [ find default=yes ] dpd-interval=8s dpd-maximum-failures=4")
    assert ipsec_sections(console.ok("/ip ipsec export")) == ""
    assert "dpd-interval=8s" in console.ok("/ip ipsec export verbose")


def test_real_v7_export_with_tunnels_round_trips_from_the_routers_default_profile(
    tmp_path: Path,
) -> None:
    """A 7.19.1 CCR's compact export with peers, identities (secrets hidden, as RouterOS 7
    exports without show-sensitive) and policies. It has no default-profile line, so that
    router's default profile held the compact baseline 8s/4 (the help page's defaults, also what
    the 7.24.4 router holds), not the 2m/5 a new pyipsec v7 database starts with (reference
    §2.5's 7.21 export): a compact export does not carry that state, so the import cannot know
    it. From the router's state, the round trip is byte for byte; from a new database the only
    difference is that line (documented in tests/golden/v7real/SOURCES.md)."""
    text = (GOLDEN / "routeros-7.19.1-ccr.export.rsc").read_text()
    (tmp_path / "in.rsc").write_text(text)
    default_dpd = (
        "/ip ipsec profile\nset [ find default=yes ] dpd-interval=2m dpd-maximum-failures=5\n"
    )

    new = Console(Store(":memory:", dialect="v7"), files_dir=tmp_path)
    assert "successfully" in new.ok("/import file-name=in.rsc")
    assert ipsec_sections(new.ok("/ip ipsec export")) == default_dpd + ipsec_sections(text)

    router = Console(Store(":memory:", dialect="v7"), files_dir=tmp_path)
    router.ok("/ip ipsec profile set [ find default=yes ] dpd-interval=8s dpd-maximum-failures=4")
    out = router.ok("/import file-name=in.rsc")
    assert out.splitlines()[0].startswith(
        "warning: skipped lines of menus pyipsec does not implement: /ip dhcp-server (1), "
        "/port (2), /routing ospf instance (1)"
    )
    assert ipsec_sections(router.ok("/ip ipsec export")) == ipsec_sections(text)
    assert "peer=peer1 secret=" not in router.ok("/ip ipsec export show-sensitive")
