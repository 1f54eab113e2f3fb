"""The interactive console: prompt, readline completion from the schema, ``?`` help, history.

Completion and help only read the schema (:mod:`pyipsec.config.menus`) and the interpreter's
name tables, so what can be typed and what is offered never disagree. Typing ``?`` prints
what may come next at once (readline submits the line with the ``?``, the loop prints help and
puts the line back for editing); ``\\?`` stays a literal question mark.

A paste of several lines (a RouterOS export copied from a terminal) runs as ONE text, as
``/import`` and ``pyipsec console < file`` do: lines that are already waiting when a line is
read join it, so a paste in the other dialect is detected and converted (mgmt/dialects.py)
and a ``{ }`` block may span its lines.
"""

from __future__ import annotations

import contextlib
import os
import select
import shlex
import sys
from collections.abc import Callable
from pathlib import Path

from pyipsec.config.menus import menus_for
from pyipsec.mgmt.cli.interpreter import (
    POSITIONAL,
    Interpreter,
    arg_names,
    command_names,
    match,
)
from pyipsec.mgmt.cli.script.builtins import COMMANDS as SCRIPT_COMMANDS

EXIT_WORDS = {"quit", "/quit", "exit", "/exit"}


def _split(line: str) -> list[str]:
    try:
        return shlex.split(line, posix=True)
    except ValueError:
        return line.split()


def candidates(interp: Interpreter, line: str) -> list[str]:
    """Completions for the last (partial) word of ``line``."""
    words = _split(line)
    partial = "" if (not line or line[-1] == " ") else (words.pop() if words else "")
    if not words and partial.startswith(":"):  # the scripting language's commands
        return sorted(f":{n}" for n in SCRIPT_COMMANDS if n.startswith(partial[1:]))
    if words and words[0].startswith(":"):
        return []
    path = interp.cwd
    command: str | None = None
    rest: list[str] = []
    for i, word in enumerate(words):
        if "=" in word or command is not None:
            rest = words[i:]
            break
        if i == 0 and word.startswith("/"):
            path = ()
        for seg in (s for s in word.split("/") if s):
            if seg == "..":
                path = path[:-1]
                continue
            names = command_names(path, interp.dialect())
            name = match(seg, names)
            if name is None:
                return []
            if names[name] == "dir":
                path = (*path, name)
            else:
                command = name
    del rest
    if command is None:
        prefix = ""
        if partial.startswith("/") or "/" in partial:
            head, _, partial = partial.rpartition("/")
            prefix = head + "/"
            for seg in (s for s in head.split("/") if s):
                name = match(seg, command_names(path, interp.dialect())) if seg != ".." else None
                path = path[:-1] if seg == ".." else ((*path, name) if name else path)
        return sorted(
            prefix + n for n in command_names(path, interp.dialect()) if n.startswith(partial)
        )
    if "=" in partial:
        name, _, value = partial.partition("=")
        menu = menus_for(interp.dialect()).get(path)
        if menu is None or not menu.has(name):
            return []
        choices = menu.prop(name).type.choices()
        if menu.prop(name).ref is not None:
            choices = tuple(menu.prop(name).ref_keywords) + tuple(
                interp.session.store.snapshot().table(menu.prop(name).ref or ()).names()
            )
        head, _, last = value.rpartition(",")
        head = head + "," if head else ""
        return sorted(f"{name}={head}{c}" for c in choices if c.startswith(last))
    found = [n + "=" for n in arg_names(path, command, interp.dialect()) if n.startswith(partial)]
    menu = menus_for(interp.dialect()).get(path)
    if command in POSITIONAL and "numbers" in POSITIONAL[command] and menu and menu.key:
        # item names for the item list (names with blanks would need quotes: not offered)
        items = interp.session.store.snapshot().table(path).names() if not menu.is_runtime else []
        found += [n for n in items if n.startswith(partial) and " " not in n]
    return sorted(found)


def help_text(interp: Interpreter, line: str) -> str:
    """What ``?`` shows: the menu's description and what may be typed next."""
    words = _split(line)
    path = interp.cwd
    for word in words:
        name = (
            match(word.strip("/"), command_names(path, interp.dialect()))
            if word not in ("/", "..")
            else word
        )
        if word == "/":
            path = ()
        elif word == "..":
            path = path[:-1]
        elif name and command_names(path, interp.dialect()).get(name) == "dir":
            path = (*path, name)
        else:
            break
    menu = menus_for(interp.dialect()).get(path)
    out = []
    if menu is not None:
        out.append(f"{menu.name}: {menu.description}")
    complete_word = not line or line.endswith((" ", "="))
    options = candidates(interp, line if complete_word else line + " ")
    if options:
        out.append("  " + "  ".join(options))
    return "\n".join(out) + "\n"


def line_editor(read: Callable[[str], str]) -> Callable[[str, str], str | None]:
    """``edit``'s editor at the interactive console: the value's one line, pre-filled for
    editing; Enter saves, Ctrl-C or Ctrl-D cancels."""

    def edit(current: str, prompt: str) -> str | None:
        try:
            import readline
        except ImportError:  # pragma: no cover - platforms without readline
            readline = None  # type: ignore[assignment]
        if readline is not None:
            readline.set_startup_hook(lambda: readline.insert_text(current))
        try:
            return read(prompt)
        except (EOFError, KeyboardInterrupt):
            return None
        finally:
            if readline is not None:
                readline.set_startup_hook(None)

    return edit


def _stdin_waiting() -> bool:
    """Whether more typed (pasted) input already waits on the terminal."""
    try:
        return bool(select.select([sys.stdin], [], [], 0.02)[0])
    except (OSError, ValueError):
        return False


def interact(
    interp: Interpreter,
    history: Path | None,
    read: Callable[[str], str] = input,
    waiting: Callable[[], bool] | None = None,
) -> int:
    """The prompt loop; ``waiting`` tells whether more lines of a paste are already there (by
    default: input waiting on stdin when ``read`` is :func:`input` at a terminal)."""
    if waiting is None:
        tty = read is input and sys.stdin.isatty()
        waiting = _stdin_waiting if tty else (lambda: False)
    """Run the read-eval-print loop until quit or end of input."""
    try:
        import readline
    except ImportError:  # pragma: no cover - platforms without readline
        readline = None  # type: ignore[assignment]
    # `print follow` / `interval=` run until Ctrl-C here; `edit` edits the value's line
    interp.interactive = True
    interp.editor = line_editor(read)
    pending = ""
    if readline is not None:
        matches: list[str] = []

        def complete(text: str, state: int) -> str | None:
            nonlocal matches
            if state == 0:
                buffer = readline.get_line_buffer()[: readline.get_endidx()]
                found = candidates(interp, buffer)
                # readline replaces only ``text``, the part after the last blank
                word = buffer.split(" ")[-1]
                matches = [text + m[len(word) :] for m in found if m.startswith(word)]
            return matches[state] if state < len(matches) else None

        readline.set_completer_delims(" ")
        readline.set_completer(complete)
        readline.parse_and_bind("tab: complete")
        # `?` shows help at once, as on RouterOS: insert it literally and submit the line;
        # the loop prints help and puts the line back for editing.
        readline.parse_and_bind(r'"?": "\C-v?\n"')
        if history is not None:
            with contextlib.suppress(OSError):
                readline.read_history_file(history)

        def hook() -> None:
            if pending:
                readline.insert_text(pending)
                readline.redisplay()

        readline.set_pre_input_hook(hook)
    try:
        while True:
            try:
                line = read(interp.prompt())
            except EOFError:
                interp.write("\n")
                break
            except KeyboardInterrupt:
                interp.write("\n")
                pending = ""
                continue
            pending = ""
            if line.rstrip().endswith("?") and readline is not None:
                last = readline.get_current_history_length()
                if last:  # a help request is not a command to remember
                    readline.remove_history_item(last - 1)
            if line.endswith("\\?"):  # an escaped `?` is text: keep editing the line
                pending = line
                continue
            if line.rstrip().endswith("?"):
                pending = line.rstrip()[:-1]
                interp.write(help_text(interp, pending))
                continue
            if line.strip() in EXIT_WORDS:
                break
            lines = [line]
            with contextlib.suppress(EOFError):
                while waiting():  # the rest of a paste: run with its first line, as a script
                    lines.append(read(""))
            if any(x.strip() for x in lines):
                interp.run("\n".join(lines), stop_on_error=True)
    finally:
        if readline is not None and history is not None:
            try:
                history.parent.mkdir(parents=True, exist_ok=True)
                readline.write_history_file(history)
                os.chmod(history, 0o600)
            except OSError:
                pass
    return 0
