"""Render :class:`~pyipsec.mgmt.commands.PrintResult` as RouterOS console text (§3.4).

Rows are ``<number> <one char per flag group> <values>``; values in the menu's print order,
wrapped at the terminal width with continuation lines indented to the first value's column,
a blank line after each item, ``;;; comment`` before the values. ``terse`` puts an item on one
line, ``brief`` prints a table, single-item menus print ``name: value`` lines.

Menus of the RouterOS 7 dialect (``menu.dialect == "v7"``) print as RouterOS 7 does: a plain
``print`` is a table (``Flags:`` with the upper-case names of the flags set on a printed row,
``Columns:``, a ``#`` header, one flag column per flag group in use, numbers right-aligned,
``;;; comment`` on a line of its own); the ``detail`` legend lists every flag, groups separated
by ``;`` (reference §2.8, §3.4).
"""

from __future__ import annotations

import re
from dataclasses import replace

from pyipsec.config.schema import Menu
from pyipsec.mgmt.base import PrintResult, PrintRow, console_values
from pyipsec.mgmt.export import quote

DEFAULT_WIDTH = 80
V7 = "v7"
# Names a runtime row keeps apart that RouterOS prints alike (active-peers' two ``port=``).
DISPLAY_NAMES = {"local-port": "port"}


def escape(text: str) -> str:
    """Non-printable and non-ASCII characters as ``\\XX`` (UTF-8 bytes), as RouterOS shows them."""
    if all(" " <= ch <= "~" for ch in text):
        return text
    return "".join(
        ch if " " <= ch <= "~" else "".join(f"\\{b:02X}" for b in ch.encode()) for ch in text
    )


_DATE = re.compile(r"[a-z]{3}/\d\d/\d{4} \d\d:\d\d:\d\d")


def show_value(menu: Menu, name: str, value: str) -> str:
    """``value`` of ``name`` as print shows it (quoted when the schema says so or needed;
    dates such as ``may/11/2018 10:07:57`` are shown bare, as RouterOS does)."""
    if _DATE.fullmatch(value):
        return value
    always = menu.has(name) and menu.prop(name).quoted
    if always:
        inner = quote(value + " ")[1:-2] if value else ""
        return f'"{inner}"'
    return quote(value)


def _legend_pieces(menu: Menu, used: frozenset[str] | None, upper: bool) -> list[str]:
    """``L - name`` with its separator: ``,`` between flags; v7 ``;`` between flag groups."""
    pieces: list[str] = []
    for group in menu.flags:
        flags = [f for f in group if used is None or f.name in used]
        for i, f in enumerate(flags):
            name = f.name.upper() if upper else f.name
            last_of_group = i == len(flags) - 1
            sep = ";" if menu.dialect == V7 and last_of_group else ","
            pieces.append(f"{f.letter} - {name}{sep}")
    if pieces:
        pieces[-1] = pieces[-1][:-1]
    return pieces


def legend(
    menu: Menu,
    width: int = DEFAULT_WIDTH,
    *,
    used: frozenset[str] | None = None,
    upper: bool = False,
) -> list[str]:
    """The ``Flags:`` legend, wrapped at ``width``; empty for menus without flags. ``used``
    keeps only those flags (v7 tables), ``upper`` prints their names in capitals."""
    names = _legend_pieces(menu, used, upper)
    if not names:
        return []
    lines: list[str] = []
    cur = "Flags:"
    for piece in names:
        if len(cur) + 1 + len(piece) > width - 1 and cur != "Flags:":
            lines.append(cur)
            cur = piece
        else:
            cur = f"{cur} {piece}"
    lines.append(cur)
    return lines


def _prefix(menu: Menu, row: PrintRow, number_width: int) -> str:
    chars = []
    for group in menu.flags:
        chars.append(next((f.letter for f in group if f.name in row.flags), " "))
    return f"{row.number:>{number_width}} " + "".join(chars) + (" " if chars else "")


def _number_width(result: PrintResult) -> int:
    biggest = max((r.number for r in result.rows), default=0)
    return max(2, len(str(biggest)))


def _wrap(indent: int, first: str, words: list[str], width: int) -> list[str]:
    lines: list[str] = []
    cur = first
    fresh = True
    for word in words:
        if fresh or len(cur) + 1 + len(word) <= width - 1:
            cur = cur + word if fresh else f"{cur} {word}"
            fresh = False
        else:
            lines.append(cur)
            cur = " " * indent + word
    lines.append(cur)
    return lines


def _words(menu: Menu, row: PrintRow) -> list[str]:
    return [
        f"{DISPLAY_NAMES.get(name, name)}={show_value(menu, name, value)}"
        for name, value in row.values
    ]


def _numeric(values: list[str]) -> bool:
    present = [v for v in values if v]
    return bool(present) and all(v.isdigit() for v in present)


def format_v7_table(result: PrintResult) -> list[str]:
    """A RouterOS 7 table (the default ``print`` of v7 list menus)."""
    menu = result.menu
    rows = result.rows
    if not rows:
        return []
    used = frozenset(f for row in rows for f in row.flags)
    groups = [g for g in menu.flags if any(f.name in used for f in g)]
    cells_by_row = [dict(row.values) for row in rows]
    columns = [c for c in menu.brief_columns if any(cells.get(c) for cells in cells_by_row)]
    cells = [[escape(c.get(col, "")) for col in columns] for c in cells_by_row]
    titles = [DISPLAY_NAMES.get(c, c).upper() for c in columns]
    widths = [max([len(t)] + [len(r[i]) for r in cells]) for i, t in enumerate(titles)]
    right = [_numeric([r[i] for r in cells]) for i in range(len(columns))]
    nw = len(str(max(r.number for r in rows)))
    lines = legend(menu, 10_000, used=used, upper=True)
    if columns:
        lines.append("Columns: " + ", ".join(titles))
    flag_head = " " * len(groups) + (" " if groups else "")
    lines.append(
        (
            f"{'#':<{nw}} "
            + flag_head
            + "  ".join(t.ljust(w) for t, w in zip(titles, widths, strict=True))
        ).rstrip()
    )
    for row, cell in zip(rows, cells, strict=True):
        if row.comment:
            lines.append(f";;; {escape(row.comment)}")
        marks = "".join(next((f.letter for f in g if f.name in row.flags), " ") for g in groups)
        prefix = f"{row.number:<{nw}} " + marks + (" " if groups else "")
        text = "  ".join(
            v.rjust(w) if r else v.ljust(w) for v, w, r in zip(cell, widths, right, strict=True)
        )
        lines.append((prefix + text).rstrip())
    return lines


def format_detail(result: PrintResult, width: int) -> list[str]:
    menu = result.menu
    # RouterOS 7 does not wrap the legend (reference §2.2: the policy legend on one line)
    lines = legend(menu, 10_000 if menu.dialect == V7 else width)
    nw = _number_width(result)
    for row in result.rows:
        prefix = _prefix(menu, row, nw)
        if row.comment:
            lines.append(f"{prefix};;; {escape(row.comment)}")
            item = _wrap(len(prefix), " " * len(prefix), _words(menu, row), width)
        else:
            item = _wrap(len(prefix), prefix, _words(menu, row), width)
        lines += _hard_wrap(item, width) if menu.dialect == V7 else item
        lines.append("")
    return lines


def _hard_wrap(lines: list[str], width: int) -> list[str]:
    """RouterOS 7 detail breaks a value too long for its line inside the value (reference
    §2.9: installed-sa auth-key/enc-key); the rest goes on lines indented by the property
    name's length plus one, as both of the reference's samples are."""
    out: list[str] = []
    for line in lines:
        if len(line) < width:
            out.append(line)
            continue
        name = line.lstrip().rsplit(" ", 1)[-1].partition("=")[0]
        out.append(line[: width - 1])
        rest = line[width - 1 :]
        pad = " " * (len(name) + 1)
        while rest:
            room = max(width - 1 - len(pad), 1)
            out.append(pad + rest[:room])
            rest = rest[room:]
    return out


def format_terse(result: PrintResult) -> list[str]:
    menu = result.menu
    nw = _number_width(result)
    lines = []
    for row in result.rows:
        words = _words(menu, row)
        if row.comment:
            words.insert(0, f"comment={show_value(menu, 'comment', row.comment)}")
        lines.append(_prefix(menu, row, nw) + " ".join(words))
    return lines


def format_brief(result: PrintResult) -> list[str]:
    menu = result.menu
    columns = list(menu.brief_columns)
    nw = _number_width(result)
    cells = [[escape(dict(row.values).get(c, "")) for c in columns] for row in result.rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    flag_cols = len(menu.flags)
    head = f"{'#':>{nw}} " + " " * flag_cols + (" " if flag_cols else "")
    lines = legend(menu)
    lines.append(
        (
            head + "  ".join(c.upper().ljust(w) for c, w in zip(columns, widths, strict=True))
        ).rstrip()
    )
    for row, cell in zip(result.rows, cells, strict=True):
        text = _prefix(menu, row, nw) + "  ".join(
            v.ljust(w) for v, w in zip(cell, widths, strict=True)
        )
        lines.append(text.rstrip())
    return lines


def format_value_list(result: PrintResult) -> list[str]:
    """One property per line, the items side by side (``print value-list``)."""
    names = list(dict.fromkeys(n for row in result.rows for n, _ in row.values))
    if not names:
        return []
    width = max(len(n) for n in names) + 2
    cells = [[escape(dict(row.values).get(n, "")) for row in result.rows] for n in names]
    cols = [max(len(c[i]) for c in cells) for i in range(len(result.rows))]
    lines = []
    for name, values in zip(names, cells, strict=True):
        text = "  ".join(v.ljust(w) for v, w in zip(values, cols, strict=True))
        lines.append(f"{name:>{width}}: {text}".rstrip())
    return lines


def format_settings(result: PrintResult) -> list[str]:
    row = result.rows[0]
    width = max(len(n) for n, _ in row.values) + 2
    return [f"{name:>{width}}: {escape(value)}" for name, value in row.values]


def console_view(result: PrintResult) -> PrintResult:
    """What the console shows of a print's full rows (the command returns every value; the
    console drops what RouterOS's console does not show: ``base.console_values``)."""
    menu = result.menu
    if result.mode == "settings":
        keep = set(menu.print_order)
        rows = tuple(
            replace(r, values=tuple((n, v) for n, v in r.values if n in keep)) for r in result.rows
        )
    else:
        rows = tuple(replace(r, values=console_values(menu, r)) for r in result.rows)
    if result.proplist is not None:  # `print proplist=a,b`: those only, nothing filled in
        rows = tuple(
            replace(r, values=tuple((n, v) for n, v in r.values if n in result.proplist))
            for r in rows
        )
    return replace(result, rows=rows)


def format_print(result: PrintResult, width: int = DEFAULT_WIDTH) -> str:
    """The console text of a print result (with a trailing newline unless empty)."""
    if result.mode != "count-only":
        result = console_view(result)
    if result.mode == "count-only":
        lines = [str(result.count)]
    elif result.mode == "settings":
        lines = format_settings(result)
    elif result.mode == "terse":
        lines = format_terse(result)
    elif result.menu.dialect == V7 and result.mode in ("plain", "brief"):
        lines = format_v7_table(result)
    elif result.mode == "brief" or (result.mode == "plain" and result.menu.table_print):
        lines = format_brief(result)
    elif result.mode == "value-list":
        lines = format_value_list(result)
    elif result.mode == "plain" and result.menu.line_format:
        lines = [result.menu.line_format.format_map(dict(row.values)) for row in result.rows]
    else:
        lines = format_detail(result, width)
    return "".join(line + "\n" for line in lines)
