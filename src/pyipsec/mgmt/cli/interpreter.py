"""The console language: resolve paths and abbreviations, build arguments, call the command
layer, render results.

A command line is ``[path words] [command] [arguments]``. Paths use spaces or slashes, may be
absolute (``/ip ipsec``), relative, or ``..``; a line that is only a path moves there (in a
script: the following lines run there, as exports rely on). Menu, command and argument names
may be abbreviated to any unambiguous prefix. Positional arguments are mapped to their API
names (``numbers``, ``value-name``, ``destination``); ``where`` takes the rest of the line
as an expression. ``[ ... ]`` runs a command and substitutes its value; ``/import`` runs a
``.rsc`` file; ``:put`` prints a value.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

from pyipsec.config.menus import V6, V7, children, menus_for
from pyipsec.config.schema import Menu
from pyipsec.mgmt import commands, dialects
from pyipsec.mgmt.cli import printer
from pyipsec.mgmt.cli.foreign import ForeignMenus
from pyipsec.mgmt.cli.tokenizer import Command, Lit, ScriptSyntaxError, Sub, Word, tokenize
from pyipsec.mgmt.commands import CommandError, Session, UnknownArgument

Path = tuple[str, ...]

PRINT_SWITCHES = ("detail", "terse", "brief", "value-list", "count-only", "without-paging")
EXPORT_SWITCHES = ("verbose", "compact", "hide-sensitive", "show-sensitive", "terse")
# Positional arguments after the item list, per command.
POSITIONAL = {
    "set": ("numbers",),
    "remove": ("numbers",),
    "enable": ("numbers",),
    "disable": ("numbers",),
    "comment": ("numbers", "comment"),
    "move": ("numbers", "destination"),
    "get": ("numbers", "value-name"),
    "unset": ("numbers", "value-name"),
    "import": ("file-name",),
}


class ConsoleError(Exception):
    """An error to show the user (RouterOS text, with position where RouterOS gives one)."""


def _where(word: Word) -> str:
    return f"(line {word.line} column {word.col})"


def command_names(path: Path, dialect: str = V6) -> dict[str, str]:
    """Names usable at ``path``: sub-menus (``dir``) and commands (``cmd``)."""
    names = dict.fromkeys(children(path, dialect), "dir")
    menu = menus_for(dialect).get(path)
    if menu is not None:
        names.update(dict.fromkeys(menu.all_commands(), "cmd"))
    names["export"] = "cmd"
    if path == ():
        names["import"] = "cmd"
    return names


def match(word: str, choices: list[str] | tuple[str, ...] | dict[str, str]) -> str | None:
    """The choice ``word`` names exactly or by unique prefix; None if none or ambiguous."""
    options = list(choices)
    if word in options:
        return word
    found = [c for c in options if c.startswith(word)]
    return found[0] if len(found) == 1 else None


def arg_names(path: Path, command: str, dialect: str = V6) -> tuple[str, ...]:
    """Argument names of ``command`` at ``path`` (for abbreviations, completion, help)."""
    if command == "export":
        return (*EXPORT_SWITCHES, "file", "dialect")
    if command == "import" and path == ():
        return ("file-name", "verbose")
    menu = menus_for(dialect).get(path)
    if menu is None:
        return ()
    props = tuple(p.name for p in menu.writable)
    legacy = tuple(menu.legacy)
    table: dict[str, tuple[str, ...]] = {
        # a legacy name may also be a property (src-address=a/n:port): listed once
        "add": tuple(
            dict.fromkeys(
                props + legacy + ("copy-from",) + (("place-before",) if menu.ordered else ())
            )
        ),
        "set": tuple(dict.fromkeys(("numbers", *props, *legacy))),
        "find": (*(p.name for p in menu.properties), *menu.flag_names, "where"),
        "print": (*PRINT_SWITCHES, "where", "from"),
        "unset": ("numbers", "value-name"),
        "get": ("numbers", "value-name"),
        "move": ("numbers", "destination"),
        "comment": ("numbers", "comment"),
        "remove": ("numbers",),
        "enable": ("numbers",),
        "disable": ("numbers",),
    }
    if command in table:
        return table[command]
    spec = menu.command(command)
    return tuple(a.name for a in spec.args) if spec else ()


def _boolean_names(menu: Menu) -> tuple[str, ...]:
    bools = tuple(p.name for p in menu.properties if p.type.kind == "bool")
    return tuple(dict.fromkeys(menu.flag_names + bools))


class Interpreter:
    """Runs console lines and scripts against a :class:`~pyipsec.mgmt.commands.Session`."""

    def __init__(
        self,
        session: Session,
        *,
        write: Callable[[str], None],
        width: int = printer.DEFAULT_WIDTH,
    ) -> None:
        self.session = session
        self.write = write
        self.width = width
        self.cwd: Path = ()
        self.foreign = ForeignMenus()  # lines of menus pyipsec does not implement (skipped)

    def dialect(self) -> str:
        """The console dialect of the session's database (v6 or v7: which menus exist)."""
        return self.session.store.snapshot().dialect

    # -- entry points

    def run(self, text: str, *, stop_on_error: bool = True) -> bool:
        """Run console text (one or many commands); errors are written. True if all ran."""
        try:
            cmds = tokenize(text)
        except ScriptSyntaxError as exc:
            self.write(f"{exc}\n")
            return False
        ok = True
        # a script (more than one command) syncs the database once, at its end
        with self.session.store.bulk() if len(cmds) > 1 else contextlib.nullcontext():
            for cmd in cmds:
                try:
                    self.cwd = self.execute(cmd, self.cwd, top=True)[1]
                except ConsoleError as exc:
                    self.write(f"{exc}\n")
                    ok = False
                    if stop_on_error:
                        break
        self.write(self.foreign.report())
        return ok

    def import_file(self, name: str) -> None:
        """``/import file-name=``: run a script file from a fresh root location."""
        data = commands.read_file(self.session, name)
        saved = self.cwd
        try:
            text = data.decode("utf-8", errors="replace")
            try:
                cmds = tokenize(text)
            except ScriptSyntaxError as exc:
                raise ConsoleError(str(exc)) from exc
            cwd: Path = ()
            # a script in the other dialect: used or converted (mgmt/dialects.py)
            with self.session.store.bulk(), dialects.script_dialect(self, text):
                for cmd in cmds:
                    cwd = self.execute(cmd, cwd, top=True)[1]
        finally:
            self.cwd = saved
            self.write(self.foreign.report())

    # -- one command

    def execute(self, cmd: Command, cwd: Path, *, top: bool) -> tuple[str, Path]:
        """Run one command at ``cwd``; returns (its value, the new location)."""
        words = list(cmd.words)
        if words and words[0].plain == ":put":
            value = " ".join(self.value(w.parts, cwd) for w in words[1:])
            self.write(value + "\n")
            return value, cwd
        if top and (moved := self.foreign.skip(words, cwd, self.dialect())) is not None:
            return "", moved  # a menu pyipsec does not implement: skipped, counted
        path, command, rest = self.locate(words, cwd)
        if command is None:
            return "", path
        words_of: dict[str, Word] = {}
        args = self.arguments(path, command, rest, cmd, words_of)
        result = self.call(path, command, args, words_of)
        if top:
            self.show(result)
        return result.ret or "", cwd

    def locate(self, words: list[Word], cwd: Path) -> tuple[Path, str | None, list[Word]]:
        """Split leading path words off; returns (path, command or None, argument words)."""
        path = cwd
        for i, word in enumerate(words):
            text = word.plain
            if text is None or word.split_assignment() is not None:
                raise ConsoleError(f"bad command name {self._text(word)} {_where(word)}")
            if i == 0 and text.startswith("/"):
                path = ()
            segments = [s for s in text.split("/") if s]
            for j, seg in enumerate(segments):
                if seg == "..":
                    path = path[:-1]
                    continue
                names = command_names(path, self.dialect())
                name = match(seg, names)
                if name is None:
                    raise ConsoleError(f"bad command name {seg} {_where(word)}")
                if names[name] == "dir":
                    path = (*path, name)
                    continue
                if j != len(segments) - 1:
                    raise ConsoleError(f"bad command name {seg} {_where(word)}")
                return path, name, words[i + 1 :]
            if i == len(words) - 1:
                return path, None, []
        return path, None, []

    @staticmethod
    def _text(word: Word) -> str:
        return "".join(p.text if isinstance(p, Lit) else f"[{p.raw}]" for p in word.parts)

    def value(self, parts: tuple[Lit | Sub, ...], cwd: Path) -> str:
        out = []
        for part in parts:
            if isinstance(part, Lit):
                out.append(part.text)
                continue
            values = [self.execute(c, cwd, top=False)[0] for c in part.commands]
            out.append(";".join(v for v in values if v))
        return "".join(out)

    def arguments(
        self, path: Path, command: str, words: list[Word], cmd: Command, words_of: dict[str, Word]
    ) -> dict[str, str]:
        """API-style arguments of a command; ``words_of`` records each one's word (for errors)."""
        names = arg_names(path, command, self.dialect())
        switches = {
            "print": PRINT_SWITCHES,
            "export": EXPORT_SWITCHES,
        }.get(command, ())
        positional = list(POSITIONAL.get(command, ()))
        menu = menus_for(self.dialect()).get(path)
        if menu is not None and command in ("set", "get") and menu.kind.value.endswith("single"):
            positional = positional[1:]  # settings menus have no item list
        args: dict[str, str] = {}
        i = 0
        while i < len(words):
            word = words[i]
            assignment = word.split_assignment()
            if assignment is not None:
                raw_name, parts = assignment
                name = match(raw_name, names)
                if name is None:
                    raise ConsoleError(f"expected end of command {_where(word)}")
                args[name] = self.value(parts, path)
                words_of[name] = word
                i += 1
                continue
            plain = word.plain
            if plain is not None and plain == "where" and "where" in names:
                rest = words[i + 1 :]
                if rest:
                    args["where"] = cmd.source[rest[0].start : rest[-1].end]
                    args[".where-col"] = str(rest[0].col)
                else:
                    args["where"] = ""
                words_of["where"] = word
                break
            if plain is not None and switches:
                name = match(plain, switches)
                if name is not None:
                    args[name] = "yes"
                    i += 1
                    continue
            if plain is not None and command == "find" and menu is not None:
                flag = match(plain, _boolean_names(menu))
                if flag is not None:  # `find default` = `find default=yes`
                    args[flag] = "yes"
                    i += 1
                    continue
            while positional and positional[0] in args:
                positional.pop(0)
            if not positional:
                raise ConsoleError(f"expected end of command {_where(word)}")
            name = positional.pop(0)
            args[name] = self.value(word.parts, path)
            words_of[name] = word
            i += 1
        return args

    def call(
        self, path: Path, command: str, args: dict[str, str], words_of: dict[str, Word]
    ) -> commands.Result:
        try:
            if command == "import" and path == ():
                if "file-name" not in args:
                    raise CommandError("failure: file-name must be specified")
                self.import_file(args["file-name"])
                return commands.Result(text="Script file loaded and executed successfully\n")
            return commands.dispatch(self.session, path, command, args)
        except UnknownArgument as exc:
            word = words_of.get(exc.arg or "")
            where = _where(word) if word else "(line 1 column 1)"
            raise ConsoleError(f"expected end of command {where}") from exc
        except CommandError as exc:
            raise ConsoleError(exc.message) from exc

    def show(self, result: commands.Result) -> None:
        if result.table is not None:
            self.write(printer.format_print(result.table, self.width))
        if result.text is not None:
            self.write(result.text)

    # -- prompt

    def prompt(self) -> str:
        identity = self.session.store.snapshot().single(("system", "identity"))
        name = identity.values.get("name", "MikroTik")
        # RouterOS 7 shows the slash form (reference §3.1): /ip/ipsec/policy
        sep = "/" if self.dialect() == V7 else " "
        where = "/" + sep.join(self.cwd) if self.cwd else ""
        return f"[{self.session.user}@{printer.escape(name)}] {where}> "


def menu_of(path: Path, dialect: str = V6) -> Menu | None:
    return menus_for(dialect).get(path)
