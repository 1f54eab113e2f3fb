"""Command results as API reply sentences (reference §4.3).

A print's rows become ``!re`` sentences: ``=.id=`` first (when no ``.proplist`` was asked for,
or it names ``.id``), then every property that has a value, booleans as ``true``/``false``
(the console's ``yes``/``no``), the print flags that are not properties (``invalid``,
``dynamic``, ``default``, ``active``...) as booleans too; properties without a value are left
out. Every command ends with exactly one ``!done``, carrying ``=ret=`` when the command
returned something (the new item's id after ``add``, the value of ``get``, the count of
``=count-only=``). A failure is ``!trap =category=N =message=...`` (only those two attributes:
librouteros passes them to its exception as keyword arguments) followed by ``!done``.
"""

from __future__ import annotations

from collections.abc import Iterator

from pyipsec.config.schema import Menu
from pyipsec.config.table import format_id
from pyipsec.config.types import Bool
from pyipsec.mgmt.base import PrintResult, PrintRow, Result

BOOL = {"yes": "true", "no": "false"}


_BOOLS: dict[int, tuple[Menu, frozenset[str], tuple[str, ...]]] = {}


def _menu_facts(menu: Menu) -> tuple[frozenset[str], tuple[str, ...]]:
    """(boolean properties, flags that are not properties) of a menu, worked out once."""
    got = _BOOLS.get(id(menu))
    if got is None or got[0] is not menu:
        bools = frozenset(p.name for p in menu.properties if isinstance(p.type, Bool))
        flags = tuple(n for n in menu.flag_names if not menu.has(n))
        got = _BOOLS[id(menu)] = (menu, bools, flags)
    return got[1], got[2]


def row_words(
    menu: Menu, row: PrintRow, proplist: tuple[str, ...] | None, *, with_id: bool
) -> list[str]:
    """The attribute words of one printed row."""
    words: list[str] = []
    if with_id and (proplist is None or ".id" in proplist):
        words.append(f"=.id={format_id(row.id)}")
    bools, flags = _menu_facts(menu)
    seen: set[str] = set()
    for name, value in row.values:
        seen.add(name)
        if value == "":
            continue
        if name in bools:
            value = BOOL.get(value, value)
        words.append(f"={name}={value}")
    for name in flags:
        if name in seen or (proplist is not None and name not in proplist):
            continue
        words.append(f"={name}={'true' if name in row.flags else 'false'}")
    return words


def print_sentences(table: PrintResult) -> Iterator[list[str]]:
    """``!re`` sentences of a print (without the ``!done``)."""
    with_id = table.mode != "settings"
    for row in table.rows:
        yield ["!re", *row_words(table.menu, row, table.proplist, with_id=with_id)]


def result_sentences(result: Result, *, empty: bool = False) -> list[list[str]]:
    """Every reply sentence of a successful command; ``empty``: say ``!empty`` for a print
    without rows (RouterOS 7.18+)."""
    out: list[list[str]] = []
    done = ["!done"]
    table = result.table
    if table is not None:
        if table.mode == "count-only":
            done.append(f"=ret={table.count}")
        else:
            out += print_sentences(table)
            if not table.rows and empty:
                out.append(["!empty"])
    if result.ret is not None:
        done.append(f"=ret={result.ret}")
    elif result.values is not None:
        done += [f"={k}={v}" for k, v in result.values]
    elif result.text is not None:
        done.append(f"=ret={result.text}")
    out.append(done)
    return out


def trap(message: str, category: int | None = None) -> list[list[str]]:
    """``!trap`` and the ``!done`` that ends the command."""
    words = ["!trap"]
    if category is not None:
        words.append(f"=category={category}")
    words.append(f"=message={message}")
    return [words, ["!done"]]


def tagged(sentence: list[str], tag: str | None) -> list[str]:
    """The sentence with ``.tag=`` when the command carried a (non-empty) tag."""
    return [*sentence, f".tag={tag}"] if tag else sentence
