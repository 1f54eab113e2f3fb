"""RouterOS 7 ``installed-sa print detail`` against the reference's real sample (§2.9, a hub's
``ip ipsec/installed-sa/print detail``; tests/golden/v7/installed-sa.detail.txt is it verbatim,
with the blank line that ends a detail item): the ``;``-grouped legend, the flag columns, and
the keys broken inside their value at the line's end, as RouterOS 7 prints them."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from pyipsec.config.store import Store
from pyipsec.mgmt.commands import NullRuntime, RuntimeRow
from tests.mgmt.helpers import Console

GOLDEN = Path(__file__).resolve().parent.parent / "golden" / "v7"

SA = {
    "spi": "0xE841441",
    "src-address": "150.0.0.150",
    "dst-address": "50.0.0.50",
    "state": "mature",
    "auth-algorithm": "sha256",
    "enc-algorithm": "aes-cbc",
    "enc-key-size": "256",
    "auth-key": "61a63f8976fa4d3fae084cb927cc835b0a0c74a1b1d2fc6630198d1f15019903",
    "enc-key": "642751166df786565ca2e16a10ce4d7d647864354f4eca50490d58bde647ad9b",
    "add-lifetime": "24m23s/30m29s",
    "replay": "128",
}


class HubSa(NullRuntime):
    def rows(self, path: tuple[str, ...]) -> Sequence[RuntimeRow]:
        if path != ("ip", "ipsec", "installed-sa"):
            return ()
        return (RuntimeRow(id=1, flags=frozenset({"ESP"}), values=SA),)


def test_v7_installed_sa_detail_matches_the_reference() -> None:
    console = Console(Store(":memory:", dialect="v7"))
    console.session.runtime = HubSa()
    got = console.ok("ip ipsec/installed-sa/print detail")
    assert got == (GOLDEN / "installed-sa.detail.txt").read_text()


def test_6x_detail_keeps_long_values_whole() -> None:
    """6.x wraps between properties only (its goldens); the break inside a value is v7's."""
    console = Console()
    console.session.runtime = HubSa()
    got = console.ok("/ip ipsec installed-sa print detail")
    assert f'auth-key="{SA["auth-key"]}"' in got and f'enc-key="{SA["enc-key"]}"' in got
