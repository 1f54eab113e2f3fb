"""The ``:`` commands of the scripting language (RouterOS "global commands").

Variables ``:local`` ``:global`` ``:set``; control ``:if`` ``:for`` ``:foreach`` ``:while``
``:do`` (``while=``, ``on-error=``) ``:onerror`` ``:retry`` (RouterOS 7) ``:return``
``:error``; values ``:len`` ``:pick`` ``:find``
``:typeof`` ``:tostr`` ``:tonum`` ``:tobool`` ``:toid`` ``:toip`` ``:toip6`` ``:totime``
``:toarray`` ``:parse`` ``:nothing``; output ``:put`` ``:log`` ``:environment print``; time
``:delay`` ``:time``; ``:resolve``. Anything else is ``bad command name`` (``:execute``,
``:beep``... need a router).

``:resolve`` asks the interpreter's resolver hook (tests and scripts that must not touch DNS
give one) or else the system resolver (``getaddrinfo``), and fails as RouterOS does
(``failure: dns name does not exist``). ``:log`` writes to the ``script`` topic of the daemon's
log (``/log print``), with the level as the second topic, as RouterOS does.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pyipsec.mgmt.cli.script import operators as ops
from pyipsec.mgmt.cli.script.ast import Block, Expr, Index, Lit, Node, Part, Var, Word
from pyipsec.mgmt.cli.script.values import (
    NIL,
    NOTHING,
    NS,
    Array,
    Code,
    Duration,
    Empty,
    ScriptError,
    Value,
    to_array,
    to_bool,
    to_id,
    to_ip,
    to_num,
    to_str,
    to_time,
    typeof,
)
from pyipsec.mgmt.commands import CommandError

if TYPE_CHECKING:
    from pyipsec.mgmt.cli.interpreter import Context, Interpreter

log = logging.getLogger("pyipsec.script")


def _pos(word: Word) -> str:
    return f"(line {word.line} column {word.col})"


def _syntax(word: Word) -> ScriptError:
    return ScriptError(f"syntax error {_pos(word)}")


@dataclass(slots=True)
class Args:
    """A ``:`` command's words: positional ones and the named ones it takes."""

    interp: Interpreter
    ctx: Context
    command: Word
    positional: list[Word] = field(default_factory=list)
    named: dict[str, tuple[Word, tuple[Part, ...]]] = field(default_factory=dict)

    def count(self, most: int, least: int = 0) -> None:
        if len(self.positional) > most:
            raise ScriptError(f"expected end of command {_pos(self.positional[most])}")
        if len(self.positional) < least:
            raise ScriptError(f"syntax error {_pos(self.command)}")

    def value(self, i: int) -> Value:
        if i >= len(self.positional):
            return NOTHING
        return self.interp.word_value(self.positional[i], self.ctx)

    def named_value(self, name: str) -> Value | None:
        if name not in self.named:
            return None
        return self.interp.parts_value(self.named[name][1], self.ctx)

    def name(self, i: int) -> str:
        """A variable name (``x``, ``"odd-name"``)."""
        word = self.positional[i]
        if (
            len(word.parts) == 1
            and isinstance(word.parts[0], Lit)
            and "=" not in word.parts[0].text
        ):
            return word.parts[0].text
        raise _syntax(word)

    def run(self, name: str, ctx: Context | None = None) -> Value:
        """Run the block (or evaluate the value) given as ``name=``."""
        _, parts = self.named[name]
        self.interp.step()
        run_ctx = ctx or self.ctx.child()
        if len(parts) == 1 and isinstance(parts[0], Block):
            return self.interp.run_block(parts[0].commands, run_ctx)
        value = self.interp.parts_value(parts, run_ctx)
        if isinstance(value, Code):
            return self.interp.run_block(value.commands, run_ctx)
        return value

    def condition(self, parts: tuple[Part, ...]) -> bool:
        return ops.truth(self.interp.parts_value(parts, self.ctx))


def _code_or_value(args: Args, i: int) -> Value:
    """The value given to ``:local``/``:global``/``:set``: a ``do={}`` function or a value."""
    if "do" in args.named:
        _, parts = args.named["do"]
        if len(parts) == 1 and isinstance(parts[0], Block):
            return Code(commands=parts[0].commands, raw=parts[0].raw)
        raise _syntax(args.named["do"][0])
    value = args.value(i) if i < len(args.positional) else NIL
    return value.copy() if isinstance(value, Array) else value


def _put(args: Args) -> Value:
    args.count(1)
    args.interp.write(to_str(args.value(0)) + "\n")
    return NOTHING


def _local(args: Args) -> Value:
    args.count(2, 1)
    args.ctx.scope.declare_local(args.name(0), _code_or_value(args, 1))
    return NOTHING


def _global(args: Args) -> Value:
    args.count(2, 1)
    has_value = len(args.positional) > 1 or "do" in args.named
    args.ctx.scope.declare_global(args.name(0), _code_or_value(args, 1) if has_value else None)
    return NOTHING


def _set(args: Args) -> Value:
    args.count(2, 1)
    value = _code_or_value(args, 1)
    target = args.positional[0]
    part = target.parts[0] if len(target.parts) == 1 else None
    if isinstance(part, Expr):
        _set_element(args, part.node, value)
        return NOTHING
    if isinstance(part, Var) and part.keys:
        _set_element(args, target, value)
        return NOTHING
    args.ctx.scope.assign(args.name(0), value)
    return NOTHING


def _set_element(args: Args, node: Node, value: Value) -> None:
    """``:set ($a->"k") v`` (keys may nest: ``($a->"x"->1)``)."""
    keys: list[Value] = []
    while isinstance(node, Index):
        keys.insert(0, args.interp.evaluate(node.key, args.ctx))
        node = node.base
    var = node.parts[0] if isinstance(node, Word) and len(node.parts) == 1 else None
    if not isinstance(var, Var):
        raise _syntax(args.positional[0])
    keys[:0] = [args.interp.evaluate(k, args.ctx) for k in var.keys]
    if not keys:
        raise _syntax(args.positional[0])
    root = args.ctx.scope.lookup(var.name)
    root = root.copy() if isinstance(root, Array) else Array()
    arr = root
    for key in keys[:-1]:
        inner = arr.get(key)
        inner = inner.copy() if isinstance(inner, Array) else Array()
        arr.put(key, inner)
        arr = inner
    arr.put(keys[-1], value)
    args.ctx.scope.assign(var.name, root)


def _if(args: Args) -> Value:
    args.count(1, 1)
    if "do" not in args.named:
        raise _syntax(args.command)
    if ops.truth(args.value(0)):
        return args.run("do")
    if "else" in args.named:
        return args.run("else")
    return NOTHING


def _for(args: Args) -> Value:
    args.count(1, 1)
    name = args.name(0)
    if "do" not in args.named or "to" not in args.named:
        raise _syntax(args.command)
    start = to_num(args.named_value("from") or 0)
    end = to_num(args.named_value("to") or 0)
    if isinstance(start, Empty) or isinstance(end, Empty):
        raise ScriptError("invalid value for argument from/to")
    step_value = args.named_value("step")
    step = to_num(step_value) if step_value is not None else (1 if start <= end else -1)
    if isinstance(step, Empty) or step == 0:
        raise ScriptError("invalid value for argument step")
    i = start
    while (step > 0 and i <= end) or (step < 0 and i >= end):
        inner = args.ctx.child()
        inner.scope.declare_local(name, i)
        args.run("do", inner)
        i += step
    return NOTHING


def _foreach(args: Args) -> Value:
    args.count(1, 1)
    names = args.name(0).split(",")
    if "do" not in args.named or "in" not in args.named or len(names) > 2:
        raise _syntax(args.command)
    items = args.named_value("in")
    pairs: list[tuple[Value, Value]]
    if isinstance(items, Array):
        pairs = list(items.pairs())
    elif isinstance(items, Empty) or items is None:
        pairs = []
    else:
        pairs = [(0, items)]
    for key, value in pairs:
        inner = args.ctx.child()
        if len(names) == 2:
            inner.scope.declare_local(names[0], key)
            inner.scope.declare_local(names[1], value)
        else:
            inner.scope.declare_local(names[0], value)
        args.run("do", inner)
    return NOTHING


def _while(args: Args) -> Value:
    args.count(1, 1)
    if "do" not in args.named:
        raise _syntax(args.command)
    while ops.truth(args.value(0)):
        args.run("do")
    return NOTHING


def _do(args: Args) -> Value:
    args.count(1)
    if args.positional:
        word = args.positional[0]
        if not (len(word.parts) == 1 and isinstance(word.parts[0], Block)):
            raise _syntax(word)
        args.named["command"] = (word, word.parts)
    if "command" not in args.named:
        raise _syntax(args.command)

    def body() -> Value:
        if "while" not in args.named:
            return args.run("command")
        while True:
            args.run("command")
            if not args.condition(args.named["while"][1]):
                return NOTHING

    if "on-error" not in args.named:
        return body()
    from pyipsec.mgmt.cli.interpreter import ConsoleError

    try:
        return body()
    except (ConsoleError, ScriptError, CommandError):
        return args.run("on-error")


def _onerror(args: Args) -> Value:
    """``:onerror e in={...} do={...}`` (RouterOS 7.13): ``do`` runs with ``$e`` the error's
    message when ``in`` fails; the value says whether it failed. ``in`` may also be given
    unnamed, after the variable (``:onerror e { ... } do={ ... }``, as eworm-de's
    routeros-scripts for 7.21 write it)."""
    from pyipsec.mgmt.cli.interpreter import ConsoleError

    args.count(2, 1)
    if len(args.positional) == 2 and "in" not in args.named:
        word = args.positional.pop()
        args.named["in"] = (word, word.parts)
    if "in" not in args.named or "do" not in args.named:
        raise _syntax(args.command)
    name = args.name(0)
    try:
        args.run("in")
    except (ConsoleError, ScriptError, CommandError) as exc:
        inner = args.ctx.child()
        message = exc.message if isinstance(exc, ScriptError | CommandError) else str(exc)
        inner.scope.declare_local(name, message)
        args.run("do", inner)
        return True
    return False


def _retry(args: Args) -> Value:
    """``:retry command={...} delay=1 max=3 on-error={...}`` (RouterOS 7): run ``command``
    until it succeeds, at most ``max`` times, ``delay`` apart; then ``on-error``."""
    from pyipsec.mgmt.cli.interpreter import ConsoleError

    args.count(1)
    if args.positional:
        word = args.positional[0]
        args.named["command"] = (word, word.parts)
    if "command" not in args.named:
        raise _syntax(args.command)
    tries = to_num(args.named_value("max") or 3)
    delay = to_time(args.named_value("delay") or Duration(NS))
    if isinstance(tries, Empty) or tries < 1 or isinstance(delay, Empty) or delay.ns < 0:
        raise ScriptError("invalid value for argument max")
    for attempt in range(tries):
        try:
            return args.run("command")
        except (ConsoleError, ScriptError, CommandError):
            if attempt + 1 < tries:
                args.interp.delay(delay.ns / NS)
    if "on-error" in args.named:
        return args.run("on-error")
    raise ScriptError("failure: retry attempts exhausted")


def _return(args: Args) -> Value:
    from pyipsec.mgmt.cli.interpreter import Return

    args.count(1)
    raise Return(args.value(0))


def _error(args: Args) -> Value:
    args.count(1)
    raise ScriptError(to_str(args.value(0)))


def _len(args: Args) -> Value:
    args.count(1)
    value = args.value(0)
    if isinstance(value, Array):
        return len(value)
    return len(to_str(value))


def _pick(args: Args) -> Value:
    args.count(3, 2)
    value = args.value(0)
    start = to_num(args.value(1))
    end_value = args.value(2)
    end = to_num(end_value) if not isinstance(end_value, Empty) else None
    if isinstance(start, Empty) or isinstance(end, Empty):
        raise ScriptError("invalid value for argument start")
    start = max(start, 0)
    if isinstance(value, Array):
        values = value.values()
        if end is None:
            return values[start] if start < len(values) else NOTHING
        return Array(values[start:end])
    text = to_str(value)
    if end is None:
        return text[start : start + 1] if start < len(text) else NOTHING
    return text[start:end] if start < min(end, len(text)) else NOTHING


def _find(args: Args) -> Value:
    args.count(3, 2)
    value, what = args.value(0), args.value(1)
    start_value = args.value(2)
    start = to_num(start_value) if not isinstance(start_value, Empty) else -1
    if isinstance(start, Empty):
        raise ScriptError("invalid value for argument start")
    if isinstance(value, Array):
        for i, element in enumerate(value.values()):
            if i > start and ops.equal(element, what):
                return i
        return NIL
    found = to_str(value).find(to_str(what), start + 1)
    return found if found >= 0 else NIL


def _convert(fn: Callable[[Value], Value]) -> Callable[[Args], Value]:
    def run(args: Args) -> Value:
        args.count(1)
        return fn(args.value(0))

    return run


def _log(args: Args) -> Value:
    args.count(2, 1)
    topic = args.positional[0].plain
    levels = {"info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}
    levels["debug"] = logging.DEBUG
    if topic not in levels:
        raise ScriptError(f"bad command name {topic or ''} {_pos(args.positional[0])}")
    log.log(levels[topic], "%s", to_str(args.value(1)))
    return NOTHING


def _delay(args: Args) -> Value:
    args.count(1)
    value = args.value(0) if args.positional else Duration(NS)
    delay = to_time(value)
    if isinstance(delay, Empty) or delay.ns < 0:
        raise ScriptError("invalid value for argument delay-time")
    args.interp.delay(delay.ns / NS)
    return NOTHING


def _time(args: Args) -> Value:
    args.count(1, 1)
    word = args.positional[0]
    args.named["command"] = (word, word.parts)
    started = time.monotonic_ns()
    args.run("command")
    return Duration(time.monotonic_ns() - started)


def _resolve(args: Args) -> Value:
    args.count(1)
    name_value = args.named_value("domain-name")
    name = to_str(name_value if name_value is not None else args.value(0))
    if not name:
        raise ScriptError("failure: dns name does not exist")
    if args.interp.resolver is not None:
        text = args.interp.resolver(name)
    else:
        try:
            infos = socket.getaddrinfo(name, None, type=socket.SOCK_DGRAM)
        except (OSError, UnicodeError) as exc:
            raise ScriptError("failure: dns name does not exist") from exc
        v4 = [str(i[4][0]) for i in infos if i[0] == socket.AF_INET]
        text = (v4 or [str(i[4][0]) for i in infos])[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError as exc:
        raise ScriptError("failure: dns name does not exist") from exc


def _environment(args: Args) -> Value:
    args.count(1, 1)
    if args.positional[0].plain not in ("print", "pr", "p"):
        raise ScriptError(f"bad command name {args.positional[0].plain} {_pos(args.positional[0])}")
    out = ["Global Variables"]
    out += [f"{name}={to_str(value)}" for name, value in args.ctx.scope.globals.items()]
    out.append("Local Variables")
    out += [f"{n}={to_str(v)}" for n, v in sorted(args.ctx.scope.visible_locals().items())]
    args.interp.write("\n".join(out) + "\n")
    return NOTHING


def _parse(args: Args) -> Value:
    from pyipsec.mgmt.cli.tokenizer import ScriptSyntaxError, tokenize

    args.count(1, 1)
    source = to_str(args.value(0))
    try:
        return Code(commands=tuple(tokenize(source)), raw=source)
    except ScriptSyntaxError as exc:
        raise ScriptError(str(exc)) from exc


def _typeof(args: Args) -> Value:
    args.count(1)
    return typeof(args.value(0))


COMMANDS: dict[str, tuple[Callable[[Args], Value], tuple[str, ...]]] = {
    "put": (_put, ()),
    "local": (_local, ("do",)),
    "global": (_global, ("do",)),
    "set": (_set, ("do",)),
    "if": (_if, ("do", "else")),
    "for": (_for, ("from", "to", "step", "do")),
    "foreach": (_foreach, ("in", "do")),
    "while": (_while, ("do",)),
    "do": (_do, ("command", "while", "on-error")),
    "onerror": (_onerror, ("in", "do")),
    "retry": (_retry, ("command", "delay", "max", "on-error")),
    "return": (_return, ()),
    "error": (_error, ()),
    "len": (_len, ()),
    "pick": (_pick, ()),
    "find": (_find, ()),
    "typeof": (_typeof, ()),
    "tostr": (_convert(lambda v: to_str(v)), ()),
    "tonum": (_convert(to_num), ()),
    "tobool": (_convert(to_bool), ()),
    "toid": (_convert(to_id), ()),
    "toip": (_convert(lambda v: to_ip(v, 4)), ()),
    "toip6": (_convert(lambda v: to_ip(v, 6)), ()),
    "totime": (_convert(to_time), ()),
    "toarray": (_convert(to_array), ()),
    "log": (_log, ()),
    "delay": (_delay, ()),
    "time": (_time, ()),
    "resolve": (_resolve, ("domain-name",)),
    "environment": (_environment, ()),
    "parse": (_parse, ()),
    "nothing": (_convert(lambda v: NOTHING), ()),
}


def run(interp: Interpreter, ctx: Context, first: Word, words: list[Word]) -> Value:
    """Run the ``:`` command ``first`` with its argument ``words``."""
    name = (first.plain or ":")[1:]
    entry = COMMANDS.get(name)
    if entry is None:
        raise ScriptError(f"bad command name {name} {_pos(first)}")
    handler, named = entry
    args = Args(interp, ctx, first)
    for word in words:
        assignment = word.split_assignment()
        if assignment is not None and assignment[0] in named:
            args.named[assignment[0]] = (word, assignment[1])
        elif assignment is not None and not args.positional and name in ("if", "while"):
            raise _syntax(word)
        else:
            args.positional.append(word)
    return handler(args)
