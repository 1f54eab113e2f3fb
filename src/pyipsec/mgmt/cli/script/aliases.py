"""Spellings of the ``:`` commands without their colon, as real-world scripts write them.

The Scripting manual's command line is ``[prefix] [path] command ...`` where the ``:`` prefix
"may not be required": at the root menu RouterOS lists the global commands beside the menus
(``put``, ``if``, ``local``, ``set``, ...), so a script line ``if ([...] = "x") do={ ... }`` or
``put 1`` runs as ``:if`` / ``:put`` there (a shared SNMP ph2 probe and WAN failover scripts
are written so). Inside a menu the menu's own commands win (``set`` there is the menu's
``set``), so only the root takes them.

``/log info|warning|error|debug <message>`` (the ``/log`` menu's commands; netwatch scripts
write ``/log error "..."``) is ``:log <level> <message>``.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import replace

from pyipsec.mgmt.cli.script.ast import Lit, Word

LOG_LEVELS = ("info", "warning", "error", "debug")


def as_global_command(
    words: list[Word],
    cwd: tuple[str, ...],
    menu_names: Mapping[str, str],
    commands: Collection[str],
) -> tuple[Word, list[Word]] | None:
    """``(":name" word, its arguments)`` when ``words`` is a colon-less global command at
    ``cwd`` (``menu_names``: what may follow there; ``commands``: the ``:`` commands)."""
    text = words[0].plain
    if text is None or "=" in text:
        return None
    if text in ("/log", "log") and not (text == "log" and cwd) and len(words) > 1:
        if words[1].plain in LOG_LEVELS:  # /log info "message"
            return _colon(words[0], "log"), words[1:]
        return None
    if cwd == ("log",) and text in LOG_LEVELS:
        return _colon(words[0], "log"), words
    if not cwd and text in commands and text not in menu_names:
        return _colon(words[0], text), words[1:]
    return None


def _colon(word: Word, name: str) -> Word:
    return replace(word, parts=(Lit(text=":" + name),))
