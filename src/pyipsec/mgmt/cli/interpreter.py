"""The console language: resolve paths and abbreviations, build arguments, call the command
layer, render results, and run the scripting language around them.

A command line is ``[path words] [command] [arguments]``. Paths use spaces or slashes
(``/ip ipsec peer print``, ``/ip/ipsec/peer/print``, ``ip ipsec/peer/print``), may be absolute,
relative, or ``..``; a line that is only a path moves there (in a script: the following lines
run there, as exports rely on). Menu, command and argument names may be abbreviated to any
unambiguous prefix. Positional arguments are mapped to their API names (``numbers``,
``value-name``, ``destination``); ``where`` takes the rest of the line as an expression.

Script commands start with ``:`` (:mod:`~pyipsec.mgmt.cli.script.builtins`); ``{ ... }`` runs
a block in its own scope; ``$f args`` calls a function. Every value is typed
(:mod:`~pyipsec.mgmt.cli.script.values`): ``[ ... ]`` gives the value of a command (``find``
ids, ``get`` typed values, ``print count-only`` / ``as-value``), ``( ... )`` an expression.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass

from pyipsec.config.menus import V6, V7, children, menus_for
from pyipsec.config.schema import Menu
from pyipsec.mgmt import commands, dialects
from pyipsec.mgmt.cli import printer
from pyipsec.mgmt.cli.foreign import ForeignMenus
from pyipsec.mgmt.cli.script import builtins, menuvalues
from pyipsec.mgmt.cli.script import operators as ops
from pyipsec.mgmt.cli.script.aliases import as_global_command
from pyipsec.mgmt.cli.script.ast import (
    Binary,
    Block,
    Command,
    Expr,
    Index,
    Lit,
    Node,
    Part,
    Sub,
    Unary,
    Var,
    Where,
    Word,
)
from pyipsec.mgmt.cli.script.scope import Globals, Scope
from pyipsec.mgmt.cli.script.values import (
    NOTHING,
    Array,
    Code,
    ScriptError,
    Value,
    arg_text,
    infer,
    to_str,
)
from pyipsec.mgmt.cli.tokenizer import ScriptSyntaxError, tokenize
from pyipsec.mgmt.commands import CommandError, Session, UnknownArgument

Path = tuple[str, ...]

PRINT_SWITCHES = (
    "detail", "terse", "brief", "value-list", "count-only", "without-paging", "as-value",
    "follow", "follow-only",
)  # fmt: skip
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
    "edit": ("numbers", "value-name"),
    "import": ("file-name",),
}
# An editor for `edit`: (current text, prompt) -> new text, None when cancelled.
Editor = Callable[[str, str], str | None]


MAX_CALL_DEPTH = 64  # functions calling functions
NESTED = "failure: script nested too deeply"


class ConsoleError(Exception):
    """An error to show the user (RouterOS text, with position where RouterOS gives one)."""


class Return(Exception):
    """``:return``: leaves the function (or script) with a value."""

    def __init__(self, value: Value) -> None:
        super().__init__("return")
        self.value = value


def _where(word: Word) -> str:
    return f"(line {word.line} column {word.col})"


def command_names(path: Path, dialect: str = V6) -> dict[str, str]:
    """Names usable at ``path``: sub-menus (``dir``) and commands (``cmd``)."""
    names = dict.fromkeys(children(path, dialect), "dir")
    menu = menus_for(dialect).get(path)
    if menu is not None:
        names.update(dict.fromkeys(menu.all_commands(), "cmd"))
        if "set" in menu.generic_commands:
            names["edit"] = "cmd"
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
        "print": (*PRINT_SWITCHES, "where", "from", "interval", "file", "proplist"),
        "unset": ("numbers", "value-name"),
        "get": ("numbers", "value-name"),
        "edit": ("numbers", "value-name"),
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


def _quote_for_where(value: Value) -> str:
    text = arg_text(value)
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _quoted_key(word: Word) -> tuple[str, tuple[Part, ...]] | None:
    """``"odd-key"=value`` in an array literal."""
    parts = word.parts
    if len(parts) < 2 or not isinstance(parts[0], Lit) or not parts[0].quoted:
        return None
    second = parts[1]
    if not isinstance(second, Lit) or second.quoted or not second.text.startswith("="):
        return None
    rest = second.text[1:]
    return parts[0].text, ((Lit(text=rest),) if rest else ()) + parts[2:]


@dataclass(slots=True)
class Context:
    """Where a command runs: its variables and its menu."""

    scope: Scope
    cwd: Path
    nested: bool = False  # inside [ ]: a command's value is wanted, nothing is skipped

    def child(self) -> Context:
        return Context(self.scope.child(), self.cwd, self.nested)


class Interpreter:
    """Runs console lines and scripts against a :class:`~pyipsec.mgmt.commands.Session`.

    ``globals`` are the ``:global`` variables (a daemon shares one between its console
    sessions), ``sleep`` serves ``:delay`` and repeated prints, ``resolver`` ``:resolve``
    (None: the system resolver), ``editor`` ``edit`` (None: ``edit`` fails with a message),
    ``interactive`` lets ``print follow`` / ``interval=`` run until Ctrl-C.
    """

    def __init__(
        self,
        session: Session,
        *,
        write: Callable[[str], None],
        width: int = printer.DEFAULT_WIDTH,
        globals: Globals | None = None,
        sleep: Callable[[float], None] = time.sleep,
        resolver: Callable[[str], str] | None = None,
        editor: Editor | None = None,
        interactive: bool = False,
    ) -> None:
        self.session = session
        self.write = write
        self.width = width
        self.cwd: Path = ()
        self.globals = globals if globals is not None else Globals()
        self.sleep = sleep
        self.resolver = resolver
        self.editor = editor
        self.interactive = interactive
        self.repeat_rounds = 1  # print follow / interval= rounds outside the interactive console
        # Limits for a daemon, whose event loop a request holds: seconds of `:delay` and
        # commands per run (None: no limit, as at a console of its own).
        self.delay_budget: float | None = None
        self.step_budget: int | None = None
        self._delayed = 0.0
        self._steps = 0
        self._calls = 0  # functions being called (recursion depth)
        self._dialect = V6
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
        except RecursionError:  # ((((... thousands deep
            self.write(f"{NESTED}\n")
            return False
        ok = True
        self._delayed, self._steps = 0.0, 0
        ctx = Context(Scope(self.globals), self.cwd)
        # a script (more than one command) syncs the database once, at its end; pasted in the
        # other dialect it is used or converted, as an import is (mgmt/dialects.py)
        script = len(cmds) > 1
        try:
            with (
                self.session.store.bulk() if script else contextlib.nullcontext(),
                dialects.script_dialect(self, text) if script else contextlib.nullcontext(),
            ):
                for cmd in cmds:
                    try:
                        self.execute(cmd, ctx, top=True)
                    except Return:
                        break
                    except (ConsoleError, ScriptError, RecursionError) as exc:
                        self.write(f"{self._message(exc)}\n")
                        ok = False
                        if stop_on_error:
                            break
                    finally:
                        self.cwd = ctx.cwd
        except CommandError as exc:  # what the database's dialect cannot say: nothing changed
            self.write(f"{exc.message}\n")
            ok = False
        self.write(self.foreign.report())
        return ok

    @staticmethod
    def _message(exc: Exception) -> str:
        if isinstance(exc, RecursionError):
            return NESTED
        return exc.message if isinstance(exc, ScriptError) else str(exc)

    def import_file(self, name: str) -> None:
        """``/import file-name=``: run a script file from a fresh root location."""
        data = commands.read_file(self.session, name)
        text = data.decode("utf-8", errors="replace")
        try:
            cmds = tokenize(text)
        except ScriptSyntaxError as exc:
            raise ConsoleError(str(exc)) from exc
        except RecursionError as exc:
            raise ConsoleError(NESTED) from exc
        ctx = Context(Scope(self.globals), ())
        try:
            # a script in the other dialect: used or converted (mgmt/dialects.py)
            with (
                self.session.store.bulk(),
                dialects.script_dialect(self, text),
                contextlib.suppress(Return),
            ):
                for cmd in cmds:
                    self.execute(cmd, ctx, top=True)
        finally:
            self.write(self.foreign.report())

    def step(self) -> None:
        """Count a command (or a loop round) against the step budget."""
        self._steps += 1
        if self.step_budget is not None and self._steps > self.step_budget:
            raise ScriptError(f"failure: script stopped after {self.step_budget} commands")

    def delay(self, seconds: float) -> None:
        """``:delay``: sleep, within the delay budget."""
        self._delayed += seconds
        if self.delay_budget is not None and self._delayed > self.delay_budget:
            raise ScriptError(f"failure: more than {self.delay_budget:g}s of delay in one request")
        self.sleep(seconds)

    def run_block(self, cmds: tuple[Command, ...], ctx: Context) -> Value:
        """Run commands in ``ctx``; the value of the last one."""
        value: Value = NOTHING
        for cmd in cmds:
            value = self.execute(cmd, ctx, top=True)
        return value

    def call(
        self, code: Code, ctx: Context, positional: list[Value], named: dict[str, Value]
    ) -> Value:
        """Call a function: ``$1``.. and named arguments as its locals."""
        if self._calls >= MAX_CALL_DEPTH:
            raise ScriptError(NESTED)
        inner = Context(Scope(self.globals), ctx.cwd)
        for i, value in enumerate(positional, start=1):
            inner.scope.declare_local(str(i), value)
        for name, value in named.items():
            inner.scope.declare_local(name, value)
        self._calls += 1
        try:
            return self.run_block(code.commands, inner)
        except Return as ret:
            return ret.value
        finally:
            self._calls -= 1

    # -- one command

    def execute(self, cmd: Command, ctx: Context, *, top: bool) -> Value:
        """Run one command in ``ctx``; returns its value (and may move ``ctx.cwd``)."""
        self.step()
        self._dialect = self.dialect()  # once per command: it is read at every step below
        words = list(cmd.words)
        first = words[0]
        if len(first.parts) == 1 and not first.plain:
            part = first.parts[0]
            if isinstance(part, Block) and len(words) == 1:
                return self.run_block(part.commands, ctx.child())
            if isinstance(part, Var) and not part.quoted:
                return self._call_variable(first, words[1:], ctx)
            if isinstance(part, Expr) and len(words) == 1:
                return self.evaluate(part.node, ctx)
        text = first.plain
        if text is not None and text.startswith(":"):
            return builtins.run(self, ctx, first, words[1:])
        names = command_names(ctx.cwd, self._dialect)
        if (alias := as_global_command(words, ctx.cwd, names, builtins.COMMANDS)) is not None:
            return builtins.run(self, ctx, *alias)  # `put 1` at the root, `/log info "x"`
        skip = top and not ctx.nested
        if skip and (moved := self.foreign.skip(words, ctx.cwd, self._dialect)) is not None:
            ctx.cwd = moved  # a menu pyipsec does not implement: skipped, counted
            return NOTHING
        path, command, rest = self.locate(words, ctx.cwd)
        if command is None:
            ctx.cwd = path
            return NOTHING
        words_of: dict[str, Word] = {}
        args = self.arguments(path, command, rest, ctx, words_of)
        return self.menu_command(path, command, args, words_of, top=top)

    def _call_variable(self, word: Word, rest: list[Word], ctx: Context) -> Value:
        value = self.word_value(word, ctx)
        if isinstance(value, Code):
            positional: list[Value] = []
            named: dict[str, Value] = {}
            for w in rest:
                assignment = w.split_assignment()
                if assignment is not None:
                    named[assignment[0]] = self.parts_value(assignment[1], ctx)
                else:
                    positional.append(self.word_value(w, ctx))
            return self.call(value, ctx, positional, named)
        if rest:
            raise ConsoleError(f"expected end of command {_where(rest[0])}")
        return value

    def locate(self, words: list[Word], cwd: Path) -> tuple[Path, str | None, list[Word]]:
        """Split leading path words off; returns (path, command or None, argument words)."""
        path = cwd
        for i, word in enumerate(words):
            text = word.plain
            assignment = word.split_assignment()
            if text is None or assignment is not None:
                # never the value: it may be a secret
                shown = assignment[0] if assignment else self._text(word)
                raise ConsoleError(f"bad command name {shown} {_where(word)}")
            if i == 0 and text.startswith("/"):
                path = ()
            segments = [s for s in text.split("/") if s]
            for j, seg in enumerate(segments):
                if seg == "..":
                    path = path[:-1]
                    continue
                names = command_names(path, self._dialect)
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
        out = []
        for p in word.parts:
            if isinstance(p, Lit):
                out.append(p.text)
            elif isinstance(p, Sub):
                out.append(f"[{p.raw}]")
            elif isinstance(p, Var):
                out.append(f"${p.name}")
            elif isinstance(p, Block):
                out.append(f"{{{p.raw}}}")
            else:
                out.append("(...)")
        return "".join(out)

    # -- values

    def word_value(self, word: Word, ctx: Context) -> Value:
        return self.parts_value(word.parts, ctx)

    def parts_value(self, parts: tuple[Part, ...], ctx: Context) -> Value:
        """A word's value: typed when it is one literal/variable/substitution/expression,
        otherwise the text of its parts joined."""
        if not parts:
            return ""
        if len(parts) == 1:
            part = parts[0]
            if isinstance(part, Lit):
                return part.text if part.quoted else infer(part.text)
            value = self.part_value(part, ctx)
            if isinstance(part, Var | Expr) and part.quoted:
                return to_str(value)
            return value
        return "".join(
            p.text if isinstance(p, Lit) else to_str(self.part_value(p, ctx)) for p in parts
        )

    def part_value(self, part: Part, ctx: Context) -> Value:
        if isinstance(part, Lit):
            return part.text if part.quoted else infer(part.text)
        if isinstance(part, Var):
            value = ctx.scope.lookup(part.name)
            for key in part.keys:
                value = self._index(value, self.evaluate(key, ctx))
            return value
        if isinstance(part, Sub):
            return self.substitute(part, ctx)
        if isinstance(part, Expr):
            return self.evaluate(part.node, ctx)
        if isinstance(part, Block):
            return self.array_literal(part, ctx)
        raise ScriptError("syntax error")  # a Where outside a command

    def substitute(self, sub: Sub, ctx: Context) -> Value:
        """``[ ... ]``: the value of the last command (several: their texts joined by ``;``)."""
        inner = Context(ctx.scope.child(), ctx.cwd, nested=True)
        values = [self.execute(c, inner, top=False) for c in sub.commands]
        if len(values) == 1:
            return values[0]
        return ";".join(t for t in (to_str(v) for v in values) if t)

    def array_literal(self, block: Block, ctx: Context) -> Array:
        """``{1;2;"a"}``, ``{a=1;b=2}``, ``{}``: a block where a value is expected."""
        out = Array()
        for cmd in block.commands:
            if len(cmd.words) != 1:
                raise ConsoleError(f"expected end of command {_where(cmd.words[1])}")
            word = cmd.words[0]
            assignment = word.split_assignment() or _quoted_key(word)
            if assignment is not None:
                out.named[assignment[0]] = self.parts_value(assignment[1], ctx)
            else:
                out.items.append(self.word_value(word, ctx))
        return out

    @staticmethod
    def _index(value: Value, key: Value) -> Value:
        if not isinstance(value, Array):
            return NOTHING
        return value.get(key)

    def evaluate(self, node: Node, ctx: Context) -> Value:
        """The value of an expression."""
        if isinstance(node, Word):
            return self.word_value(node, ctx)
        if isinstance(node, Index):
            return self._index(self.evaluate(node.base, ctx), self.evaluate(node.key, ctx))
        if isinstance(node, Unary):
            value = self.evaluate(node.operand, ctx)
            if node.op == "!":
                return not ops.truth(value)
            return ops.negate(value) if node.op == "-" else ops.invert(value)
        assert isinstance(node, Binary)
        if node.op in ("&&", "and", "||", "or"):
            left = ops.truth(self.evaluate(node.left, ctx))
            if left == (node.op in ("||", "or")):
                return left
            return ops.truth(self.evaluate(node.right, ctx))
        return ops.binary(node.op, self.evaluate(node.left, ctx), self.evaluate(node.right, ctx))

    def text_value(self, parts: tuple[Part, ...], ctx: Context) -> str:
        """A value as command-argument text."""
        if len(parts) == 1 and isinstance(parts[0], Where):
            return self.where_text(parts[0], ctx)
        if all(isinstance(p, Lit) for p in parts):  # literal text stays as written (name=00)
            return "".join(p.text for p in parts if isinstance(p, Lit))
        return arg_text(self.parts_value(parts, ctx))

    def where_text(self, where: Where, ctx: Context) -> str:
        out = []
        for i, seg in enumerate(where.segments):
            if isinstance(seg, str):
                out.append(seg)
            elif i in where.in_string:
                text = arg_text(self.part_value(seg, ctx))
                out.append(text.replace("\\", "\\\\").replace('"', '\\"'))
            else:
                out.append(_quote_for_where(self.part_value(seg, ctx)))
        return "".join(out)

    # -- menu commands

    def arguments(
        self, path: Path, command: str, words: list[Word], ctx: Context, words_of: dict[str, Word]
    ) -> dict[str, str]:
        """API-style arguments of a command; ``words_of`` records each one's word (for errors)."""
        ctx = Context(ctx.scope, path, ctx.nested)  # `[find]` in an argument: the command's menu
        names = arg_names(path, command, self._dialect)
        switches = {"print": PRINT_SWITCHES, "export": EXPORT_SWITCHES}.get(command, ())
        positional = list(POSITIONAL.get(command, ()))
        menu = menu_of(path, self._dialect)
        if menu is not None and command in ("set", "get", "edit") and not menu.is_list:
            positional = positional[1:]  # settings menus have no item list
        args: dict[str, str] = {}
        for word in words:
            where = next((p for p in word.parts if isinstance(p, Where)), None)
            if where is not None:
                if "where" not in names:
                    raise ConsoleError(f"expected end of command {_where(word)}")
                args["where"] = self.where_text(where, ctx)
                args[".where-col"] = str(where.col)
                words_of["where"] = word
                continue
            assignment = word.split_assignment()
            if assignment is not None:
                raw_name, parts = assignment
                name = match(raw_name, names)
                if name is None:
                    raise ConsoleError(f"expected end of command {_where(word)}")
                args[name] = self.text_value(parts, ctx)
                words_of[name] = word
                continue
            plain = word.plain
            if plain is not None and switches:
                name = match(plain, switches)
                if name is not None:
                    args[name] = "yes"
                    continue
            if plain is not None and command == "find" and menu is not None:
                flag = match(plain, _boolean_names(menu))
                if flag is not None:  # `find default` = `find default=yes`
                    args[flag] = "yes"
                    continue
            while positional and positional[0] in args:
                positional.pop(0)
            if not positional:
                raise ConsoleError(f"expected end of command {_where(word)}")
            name = positional.pop(0)
            args[name] = self.text_value(word.parts, ctx)
            words_of[name] = word
        return args

    def menu_command(
        self,
        path: Path,
        command: str,
        args: dict[str, str],
        words_of: dict[str, Word],
        *,
        top: bool,
    ) -> Value:
        try:
            if command == "import" and path == ():
                if "file-name" not in args:
                    raise CommandError("failure: file-name must be specified")
                self.import_file(args["file-name"])
                if top:
                    self.write("Script file loaded and executed successfully\n")
                return NOTHING
            if command == "print":
                value = self._console_print(path, args)
                if value is not None:
                    return value
            if command == "get" and "value-name" not in args:
                return menuvalues.whole_item(self.session, path, args.get("numbers", ""))
            if command == "edit":
                return self._edit(path, args)
            result = commands.dispatch(self.session, path, command, args)
        except UnknownArgument as exc:
            word = words_of.get(exc.arg or "")
            where = _where(word) if word else "(line 1 column 1)"
            raise ConsoleError(f"expected end of command {where}") from exc
        except CommandError as exc:
            raise ConsoleError(exc.message) from exc
        value = menuvalues.result_value(menu_of(path, self._dialect), command, args, result)
        count_only = result.table is not None and result.table.mode == "count-only"
        if top or (command == "print" and not count_only):
            self.show(result)
        return value

    def _console_print(self, path: Path, args: dict[str, str]) -> Value | None:
        """The print forms the command layer does not know; None for an ordinary print."""
        if commands._switch(args, "as-value"):
            rest = {k: v for k, v in args.items() if k != "as-value"}
            return menuvalues.as_value(self.session, path, rest)
        if args.get("file"):
            menuvalues.print_to_file(self.session, path, args, self.width)
            return NOTHING
        repeat = ("follow", "follow-only")
        if "interval" in args or any(commands._switch(args, s) for s in repeat):
            menuvalues.repeat_print(
                self.session,
                path,
                args,
                write=self.write,
                width=self.width,
                sleep=self.sleep,
                rounds=None if self.interactive else self.repeat_rounds,
            )
            return NOTHING
        if "proplist" in args:
            self.show(menuvalues.run_print(self.session, path, args))
            return NOTHING
        return None

    def _edit(self, path: Path, args: dict[str, str]) -> Value:
        """``edit <item> <property>``: the console's editor (a line editor here)."""
        name = args.get("value-name", "")
        menu = menu_of(path, self.dialect())
        if menu is None or not menu.has(name) or menu.prop(name).readonly:
            raise CommandError("input does not match any value of value-name", arg="value-name")
        numbers = {"numbers": args["numbers"]} if "numbers" in args else {}
        # the item first (`no such item`), then whether there is a terminal to edit it on
        current = commands.dispatch(self.session, path, "get", {**numbers, "value-name": name}).ret
        if self.editor is None:
            raise CommandError(f"failure: no terminal for the editor; use set ... {name}=")
        new = self.editor(current or "", f"{name}: ")
        if new is not None and new != current:
            commands.dispatch(self.session, path, "set", {**numbers, name: new})
        return NOTHING

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
