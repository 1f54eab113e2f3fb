"""Table.by_name's name index (config/table.py) answers as a scan of the list does: the first
item of that name in list order, after any sequence of add (appended or placed before),
put (renamed or not), remove and move - also when two items share a name (dynamic items,
legacy data)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from pyipsec.config.menus import MENUS
from pyipsec.config.table import Item, Table

NAMES = st.sampled_from(["a", "b", "c", "d"])
OPS = st.lists(
    st.tuples(
        st.sampled_from(["add", "insert", "put", "remove", "move", "look"]),
        NAMES,
        st.integers(0, 50),
    ),
    max_size=40,
)


def scan(table: Table, name: str) -> Item | None:
    return next((it for it in table.items if it.values.get("name") == name), None)


@settings(max_examples=300, deadline=None)
@given(ops=OPS)
def test_by_name_agrees_with_a_scan(ops: list[tuple[str, str, int]]) -> None:
    table = Table(menu=MENUS[("ip", "ipsec", "proposal")])
    for op, name, n in ops:
        ids = [it.id for it in table.items]
        pick = ids[n % len(ids)] if ids else None
        if op == "add" or pick is None:
            table.add({"name": name})
        elif op == "insert":
            table.add({"name": name}, before=pick)
        elif op == "put":
            item = table.get(pick)
            assert item is not None
            table.put(item.with_values({"name": name}))
        elif op == "remove":
            table.remove(pick)
        elif op == "move":
            table.move([pick], ids[(n // 2) % len(ids)] if n % 3 else None)
        if op == "look" or n % 2:
            table = table.copy() if n % 4 == 1 else table
        for probe in ("a", "b", "c", "d"):
            assert table.by_name(probe) is scan(table, probe)
