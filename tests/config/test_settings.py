"""`/ip ipsec settings`: settings-style print, set/get, export, and what the engines receive.

Defaults from reference §2.12 (xauth-use-radius=no) and a RouterOS 7.24 verbose export
(``set accounting=yes ddos-cookie-threshold=20 interim-update=0s xauth-use-radius=no``)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from pyipsec.config.compile import compile_config
from pyipsec.config.menus.ipsec import SETTINGS
from pyipsec.config.store import Store
from pyipsec.config.table import Config
from pyipsec.core.profiles import IkeSettings
from tests.mgmt.helpers import Console


def test_default_print_is_settings_style() -> None:
    assert Console().ok("/ip ipsec settings print") == (
        "       xauth-use-radius: no\n  ddos-cookie-threshold: 20\n"
    )


def test_defaults_compile_to_the_routeros_threshold() -> None:
    assert compile_config(Config.initial()).settings == IkeSettings(ddos_cookie_threshold=20)


def test_set_get_and_compile() -> None:
    console = Console()
    console.ok("/ip ipsec settings set ddos-cookie-threshold=0")
    assert console.ok(":put [/ip ipsec settings get ddos-cookie-threshold]") == "0\n"
    snapshot = console.session.store.snapshot()
    assert compile_config(snapshot).settings.ddos_cookie_threshold == 0
    console.ok("/ip ipsec settings set ddos-cookie-threshold=0x100")
    assert compile_config(console.session.store.snapshot()).settings.ddos_cookie_threshold == 256


def test_bad_values_refused_and_change_nothing() -> None:
    console = Console()
    assert console.run("/ip ipsec settings set ddos-cookie-threshold=-1") == (
        "value of ddos-cookie-threshold out of range (0..4294967295)\n"
    )
    assert console.run("/ip ipsec settings set ddos-cookie-threshold=many") == (
        "invalid value for argument ddos-cookie-threshold\n"
    )
    assert console.run("/ip ipsec settings set xauth-use-radius=maybe") != ""
    assert console.run("/ip ipsec settings add ddos-cookie-threshold=5") != ""  # no `add`
    assert compile_config(console.session.store.snapshot()).settings == IkeSettings()


def test_default_settings_change_no_compact_export() -> None:
    console = Console()
    assert "/ip ipsec settings" not in console.export()
    # RouterOS's verbose exports do carry the settings (reference §2.15, the 7.24 export).
    verbose = console.export("verbose")
    assert "\n/ip ipsec settings\nset ddos-cookie-threshold=20 xauth-use-radius=no\n" in verbose


def test_changed_threshold_exports_and_imports_again(tmp_path: Path) -> None:
    console = Console(files_dir=tmp_path)
    console.ok("/ip ipsec settings set ddos-cookie-threshold=100")
    text = console.export()
    assert "/ip ipsec settings\nset ddos-cookie-threshold=100\n" in text
    (tmp_path / "s.rsc").write_text(text)
    again = Console(files_dir=tmp_path)
    again.ok("/import file-name=s.rsc")
    assert again.export() == text
    assert compile_config(again.session.store.snapshot()).settings.ddos_cookie_threshold == 100


def test_database_from_before_the_menu_gets_its_default(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    Store(path).close()
    with sqlite3.connect(path) as db:  # as a database written before the menu existed
        for table in ("items", "counters"):
            db.execute(f"DELETE FROM {table} WHERE menu = ?", ("/".join(SETTINGS),))
    store = Store(path)
    assert compile_config(store.load()).settings == IkeSettings()
    console = Console(store=store)
    console.ok("/ip ipsec settings set ddos-cookie-threshold=7")
    store.close()
    reopened = Store(path)
    assert compile_config(reopened.load()).settings.ddos_cookie_threshold == 7
    reopened.close()
