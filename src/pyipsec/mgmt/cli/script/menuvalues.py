"""Menu results as script values, and the print forms only a console has.

``add`` gives the new item's id, ``find`` an array of ids (``*1;*3``), ``get`` a value typed by
its property (``disabled`` a bool, ``lifetime`` a time, ``src-address`` an ip-prefix, ``port`` a
num, ``.id`` an id), ``get`` without a property and ``print as-value`` key-value arrays (``.id``,
the properties print shows, each flag as a bool), ``print count-only`` a num.

``print follow`` prints the items and then, every second, the items that were added or changed;
``follow-only`` only the changes; ``interval=T`` prints everything every ``T``. At the
interactive console they run until Ctrl-C; in a script (or a request to the daemon) for
``rounds`` rounds (one by default), so a pasted script never hangs. ``print file=name`` writes
what print shows to ``name.txt`` in the files directory, as RouterOS does. ``proplist=a,b``
(RouterOS 7) cuts any of these, and ``as-value``, to the properties named.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping

from pyipsec.config.schema import Menu
from pyipsec.config.table import parse_id
from pyipsec.config.types import parse_seconds
from pyipsec.mgmt import commands
from pyipsec.mgmt.cli import printer
from pyipsec.mgmt.cli.script.values import NOTHING, NS, Array, Duration, ItemId, Value
from pyipsec.mgmt.commands import PrintResult, PrintRow, Result, Session

Path = tuple[str, ...]
CONSOLE_PRINT_ARGS = ("as-value", "follow", "follow-only", "interval", "file", "proplist")


def typed(menu: Menu | None, name: str, text: str) -> Value:
    """The script value of property ``name`` whose canonical text is ``text``."""
    if name == ".id":
        item_id = parse_id(text)
        return ItemId(item_id) if item_id is not None else text
    if menu is not None and name in menu.flag_names and text in ("yes", "no"):
        return text == "yes"  # a flag (dynamic, invalid, active, ...): a bool, as RouterOS
    kind = menu.prop(name).type.kind if menu is not None and menu.has(name) else ""
    if text == "" and kind != "text":
        return NOTHING
    try:
        if kind == "bool" and text in ("yes", "no"):
            return text == "yes"
        if kind == "int":
            return int(text)
        if kind == "time":
            return Duration(parse_seconds(text) * NS)
        if kind == "address":
            return ipaddress.ip_address(text)
        if kind == "prefix":
            return ipaddress.ip_network(text, strict=False)
    except ValueError:
        return text
    return text


def ids(ret: str | None) -> Array:
    """``find``'s ids as an array."""
    out = Array()
    for part in (ret or "").split(";"):
        item_id = parse_id(part)
        if item_id is not None:
            out.items.append(ItemId(item_id))
    return out


def row_array(menu: Menu, row: PrintRow) -> Array:
    """One printed item as a key-value array (``.id``, values, flags as booleans)."""
    out = Array()
    if menu.is_list:
        out.named[".id"] = ItemId(row.id)
    for name, text in row.values:
        out.named[name] = typed(menu, name, text)
    for name in menu.flag_names:
        if name not in out.named:
            out.named[name] = name in row.flags
    if row.comment and "comment" not in out.named:
        out.named["comment"] = row.comment
    return out


def proplist(args: Mapping[str, str]) -> list[str]:
    """``proplist=a,b``: the properties to show (empty: all)."""
    return [n for n in args.get("proplist", "").split(",") if n]


def run_print(session: Session, path: Path, args: Mapping[str, str]) -> Result:
    """An ordinary print of ``args`` (the console-only ones left out; ``proplist=`` is the
    command layer's ``.proplist``)."""
    plain = {k: v for k, v in args.items() if k not in CONSOLE_PRINT_ARGS}
    if "proplist" in args:
        plain[".proplist"] = args["proplist"]
    return commands.dispatch(session, path, "print", plain)


def quiet_print(session: Session, path: Path, args: Mapping[str, str]) -> PrintResult:
    """A ``detail`` print that leaves the session's item numbering as it was."""
    saved = session.numbering.get(path)
    try:
        result = run_print(session, path, {**args, "detail": "yes"})
    finally:
        if saved is None:
            session.numbering.pop(path, None)
        else:
            session.numbering[path] = saved
    if result.table is None:  # pragma: no cover - print always gives a table
        raise commands.CommandError("bad command name print")
    return result.table


def as_value(session: Session, path: Path, args: Mapping[str, str]) -> Array:
    """``print as-value``: an array of key-value arrays (one key-value array for settings)."""
    table = quiet_print(session, path, args)
    names = proplist(args)

    def cut(arr: Array) -> Array:
        if names:
            arr.named = {k: v for k, v in arr.named.items() if k == ".id" or k in names}
        return arr

    if table.mode == "settings":
        return cut(row_array(table.menu, table.rows[0]))
    return Array([cut(row_array(table.menu, r)) for r in table.rows])


def whole_item(session: Session, path: Path, numbers: str) -> Array:
    """``get <item>`` without a property: the item as a key-value array."""
    table = quiet_print(session, path, {"from": numbers} if numbers else {})
    if table.mode == "settings":
        return row_array(table.menu, table.rows[0])
    if len(table.rows) != 1:
        raise commands.no_such_item()
    return row_array(table.menu, table.rows[0])


def result_value(menu: Menu | None, command: str, args: Mapping[str, str], result: Result) -> Value:
    """What a menu command gives a script."""
    if result.table is not None and result.table.mode == "count-only":
        return result.table.count
    if result.ret is None:
        return NOTHING
    if command == "find":
        return ids(result.ret)
    if command == "add":
        item_id = parse_id(result.ret)
        return ItemId(item_id) if item_id is not None else result.ret
    if command == "get":
        return typed(menu, args.get("value-name", ""), result.ret)
    return result.ret


def _row_key(row: PrintRow) -> tuple[object, ...]:
    return (row.id, row.flags, row.values, row.comment)


def repeat_print(
    session: Session,
    path: Path,
    args: Mapping[str, str],
    *,
    write: Callable[[str], None],
    width: int,
    sleep: Callable[[float], None],
    rounds: int | None,
) -> None:
    """``print follow`` / ``follow-only`` / ``interval=``; ``rounds`` None = until Ctrl-C."""
    follow = commands._switch(args, "follow") or commands._switch(args, "follow-only")
    only = commands._switch(args, "follow-only")
    interval = 1.0
    if args.get("interval"):
        try:
            interval = max(parse_seconds(args["interval"]), 1)
        except ValueError as exc:
            raise commands.CommandError("invalid value for argument interval") from exc
    seen: set[tuple[object, ...]] = set()
    done = 0
    try:
        while rounds is None or done < rounds:
            result = run_print(session, path, args)
            table = result.table
            if table is not None and follow:
                fresh = tuple(r for r in table.rows if _row_key(r) not in seen)
                seen.update(_row_key(r) for r in table.rows)
                if fresh and not (only and done == 0):
                    write(printer.format_print(_with_rows(table, fresh), width))
            elif table is not None:
                write(printer.format_print(table, width))
            done += 1
            if rounds is None or done < rounds:
                sleep(interval)
    except KeyboardInterrupt:
        write("\n")


def _with_rows(table: PrintResult, rows: tuple[PrintRow, ...]) -> PrintResult:
    return PrintResult(menu=table.menu, mode=table.mode, rows=rows, count=len(rows))


def print_to_file(session: Session, path: Path, args: Mapping[str, str], width: int) -> None:
    """``print file=name``: what print shows, written to ``name.txt``."""
    name = args["file"]
    result = run_print(session, path, args)
    text = printer.format_print(result.table, width) if result.table is not None else ""
    if not name.endswith(".txt"):
        name += ".txt"
    commands.write_file(session, name, text.encode(), 0o600)
