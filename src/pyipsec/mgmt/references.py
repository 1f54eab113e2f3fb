"""Reference integrity: an item another item names cannot be removed.

RouterOS keeps references by internal id, so a rename reaches every item that names the
renamed one (mgmt/commands.py ``_rename_references``), and pyipsec refuses to remove an item
that a configured item still names (a peer's ``policy-template-group=`` or ``mode-config=``, a
policy's ``proposal=`` or ``manual-sa=``, a mode-config's ``address-pool=``, a pool's
``next-pool=``, a peer's ``certificate=``/``key=``, a v7 peer's ``profile=`` ...). Left
dangling, such a name made the item invalid and our own export impossible to import again
(``input does not match any value of ...``). The refusal names the first user::

    failure: group ike2 is used by /ip ipsec peer *2

(RouterOS's exact text for this case was not found in the sources at hand; the wording follows
its ``failure: ...`` errors.) Items removed by the same command may name each other.
"""

from __future__ import annotations

from collections.abc import Iterable

from pyipsec.config.schema import Menu
from pyipsec.config.table import Config, format_id


def _thing(menu: Menu) -> str:
    return menu.default_thing or menu.path[-1]


def check_remove(config: Config, menu: Menu, ids: Iterable[int]) -> str | None:
    """RouterOS's refusal when an item of ``ids`` is still named by another item, else None."""
    if menu.key is None:
        return None
    table = config.table(menu.path)
    gone = set(ids)
    names: dict[str, int] = {}
    for item_id in gone:
        item = table.get(item_id)
        if item is not None and item.values.get(menu.key) is not None:
            names[item.values[menu.key]] = item_id
    if not names:
        return None
    for other_path, other in config.tables.items():
        other_menu = config.menu(other_path)
        props = [p for p in other_menu.properties if p.ref == menu.path]
        if not props:
            continue
        for item in other:
            if other_path == menu.path and item.id in gone:
                continue
            for prop in props:
                value = item.values.get(prop.name, prop.default)
                if value is not None and value in names:
                    return (
                        f"failure: {_thing(menu)} {value} is used by "
                        f"{other_menu.name} {format_id(item.id)}"
                    )
    return None
