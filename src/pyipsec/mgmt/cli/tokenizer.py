"""RouterOS script text -> commands of words.

Handles ``\\`` line continuation (the continuation's leading blanks are dropped, so an export
wrapped as ``name=\\`` / ``    proposal1`` reads ``name=proposal1``), ``#`` comments at the
start of a command, ``;`` and newlines between commands, double-quoted strings with RouterOS
escapes and ``$var`` / ``$[...]`` / ``$(...)`` inside them, ``$name`` / ``$"odd name"``
variables with ``->key`` accessors, ``[ ... ]`` command substitution, ``{ ... }`` blocks and
``( ... )`` expressions at the start of a value (``do={...}``, ``name=("a" . $b)``; in the
middle of a word they are plain characters, as in exported comments), and ``where`` taking the
rest of its command. Every word keeps its line/column and source span so that errors can
point at it. The parsed forms are in :mod:`pyipsec.mgmt.cli.script.ast`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pyipsec.mgmt.cli.script import exprparse
from pyipsec.mgmt.cli.script.ast import (
    Block,
    Command,
    Expr,
    Lit,
    Part,
    Sub,
    Var,
    Where,
    Word,
)
from pyipsec.mgmt.query import unescape

__all__ = [
    "Block",
    "Command",
    "Expr",
    "Lit",
    "ScriptSyntaxError",
    "Sub",
    "Var",
    "Where",
    "Word",
    "tokenize",
]

_NAME = re.compile(r"[A-Za-z0-9]+")
_VALUE_BEFORE = re.compile(r"(?:[=~<>]|\bin)\s*$")
_STOP = " \t\r\n;"


class ScriptSyntaxError(ValueError):
    """Unbalanced quotes/brackets and the like; message is RouterOS's text."""


@dataclass(slots=True)
class _Source:
    text: str
    lines: list[int] = field(default_factory=list)  # original line of each char
    cols: list[int] = field(default_factory=list)


def _join(text: str, first_line: int = 1) -> _Source:
    """Remove ``\\``-newline continuations and the next line's leading blanks, remembering
    each remaining char's original line/column."""
    out: list[str] = []
    lines: list[int] = []
    cols: list[int] = []
    line, col = first_line, 1
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            end = 2 if text[i + 1 : i + 2] == "\n" else 3 if text[i + 1 : i + 3] == "\r\n" else 0
            if end:
                i += end
                line, col = line + 1, 1
                while i < len(text) and text[i] in " \t":
                    i += 1
                    col += 1
                continue
            # an escape: keep the backslash and the escaped char together
            out.append(ch)
            lines.append(line)
            cols.append(col)
            i += 1
            col += 1
            if i < len(text) and text[i] != "\n":
                out.append(text[i])
                lines.append(line)
                cols.append(col)
                i += 1
                col += 1
            continue
        out.append(ch)
        lines.append(line)
        cols.append(col)
        if ch == "\n":
            line, col = line + 1, 1
        else:
            col += 1
        i += 1
    lines.append(line)
    cols.append(col)
    return _Source("".join(out), lines, cols)


class _Lexer:
    def __init__(self, src: _Source) -> None:
        self.src = src
        self.text = src.text
        self.pos = 0

    def where(self, pos: int | None = None) -> tuple[int, int]:
        p = self.pos if pos is None else pos
        return self.src.lines[p], self.src.cols[p]

    def error(self, what: str, pos: int | None = None) -> ScriptSyntaxError:
        line, col = self.where(pos)
        return ScriptSyntaxError(f"{what} (line {line} column {col})")

    def commands(self, closing: str | None = None) -> list[Command]:
        cmds: list[Command] = []
        words: list[Word] = []
        text = self.text

        def flush() -> None:
            if words:
                cmds.append(Command(words=tuple(words), source=text, line=words[0].line))
                words.clear()

        while True:
            while self.pos < len(text) and text[self.pos] in " \t\r":
                self.pos += 1
            if self.pos >= len(text):
                if closing:
                    raise self.error("syntax error")
                flush()
                return cmds
            ch = text[self.pos]
            if closing and ch == closing:
                self.pos += 1
                flush()
                return cmds
            if ch in "\n;":
                self.pos += 1
                flush()
                continue
            if ch == "#" and not words:
                while self.pos < len(text) and text[self.pos] != "\n":
                    self.pos += 1
                continue
            if ch in "}])":
                raise self.error("syntax error")
            if words and self._at_where(words):
                words.append(self.where_rest(closing))
                continue
            words.append(self.word(closing))

    def _at_where(self, words: list[Word]) -> bool:
        first = words[0].plain or ""
        if first.startswith(":") or not self.text.startswith("where", self.pos):
            return False
        after = self.text[self.pos + 5 : self.pos + 6]
        return after == "" or after in _STOP or after in "]}"

    def word(self, closing: str | None) -> Word:
        text = self.text
        start = self.pos
        parts: list[Part] = []
        buf: list[str] = []
        value_start = True  # a `{` or `(` here opens a block / an expression

        def lit() -> None:
            if buf:
                parts.append(Lit(text="".join(buf)))
                buf.clear()

        while self.pos < len(text):
            ch = text[self.pos]
            if value_start and buf and ch in " \t":
                # `else= {`: RouterOS takes a block after blanks behind `name=` (published
                # scripts write `do= {`/`else= {`, e.g. BackupAndUpdate); other values do not
                block = len(text) - len(text[self.pos :].lstrip(" \t"))
                if text[block : block + 1] == "{":
                    self.pos = block
                    ch = "{"
            if ch in _STOP or ch in "]}" or (closing and ch == closing):
                break
            if value_start and ch in "{(":
                lit()
                parts.extend(self.value_part())
                value_start = False
                continue
            if ch in '"$[':
                lit()
                parts.extend(self.value_part())
                value_start = False
                continue
            if ch == "\\" and self.pos + 1 < len(text):
                buf.append(unescape(text[self.pos : self.pos + 2]))
                self.pos += 2
                value_start = False
                continue
            buf.append(ch)
            self.pos += 1
            # `name=` in front of a word: its value may be a block or an expression
            value_start = ch == "=" and not parts and "=" not in "".join(buf[:-1])
        lit()
        line, col = self.where(start)
        return Word(parts=tuple(parts), line=line, col=col, start=start, end=self.pos)

    def value_part(self) -> list[Part]:
        """The part(s) at ``"``, ``$``, ``[``, ``{`` or ``(``."""
        ch = self.text[self.pos]
        if ch == '"':
            return self.quoted()
        if ch == "$":
            return [self.variable(quoted=False)]
        if ch == "[":
            return [self.substitution()]
        if ch == "{":
            self.pos += 1
            start = self.pos
            inner = self.commands("}")
            return [Block(commands=tuple(inner), raw=self.text[start : self.pos - 1])]
        self.pos += 1  # (
        return [Expr(node=exprparse.parse(self))]

    def substitution(self) -> Sub:
        self.pos += 1
        start = self.pos
        inner = self.commands("]")
        return Sub(commands=tuple(inner), raw=self.text[start : self.pos - 1])

    def variable(self, *, quoted: bool) -> Var:
        """``$name``, ``$"name"``, with ``->key`` accessors outside strings."""
        text = self.text
        line, col = self.where()
        self.pos += 1
        if text[self.pos : self.pos + 1] == '"' and not quoted:
            end = text.find('"', self.pos + 1)
            if end < 0:
                raise self.error("unterminated string", self.pos)
            name = unescape(text[self.pos + 1 : end])
            self.pos = end + 1
        else:
            m = _NAME.match(text, self.pos)
            if m is None:
                raise self.error("syntax error", self.pos - 1)
            name = m.group(0)
            self.pos = m.end()
        keys = []
        while not quoted and text.startswith("->", self.pos):
            self.pos += 2
            keys.append(exprparse.primary(self))
        return Var(name=name, keys=tuple(keys), quoted=quoted, line=line, col=col)

    def quoted(self) -> list[Part]:
        """A ``"..."`` string: literal text with ``$var``, ``$[...]``, ``$(...)`` in it."""
        text = self.text
        open_pos = self.pos
        self.pos += 1
        parts: list[Part] = []
        buf: list[str] = []

        def lit() -> None:
            parts.append(Lit(text=unescape("".join(buf)), quoted=True))
            buf.clear()

        while True:
            if self.pos >= len(text):
                raise self.error("unterminated string", open_pos)
            ch = text[self.pos]
            if ch == '"':
                self.pos += 1
                break
            if ch == "\\" and self.pos + 1 < len(text):
                buf.append(text[self.pos : self.pos + 2])
                self.pos += 2
                continue
            if ch == "$":
                nxt = text[self.pos + 1 : self.pos + 2]
                if buf:
                    lit()
                if nxt == "[":
                    self.pos += 1
                    parts.append(self.substitution())
                elif nxt == "(":
                    self.pos += 2
                    parts.append(Expr(node=exprparse.parse(self), quoted=True))
                else:
                    parts.append(self.variable(quoted=True))
                continue
            buf.append(ch)
            self.pos += 1
        if buf or not parts:
            lit()
        return parts

    def where_rest(self, closing: str | None) -> Word:
        """``where`` and the rest of the command: text, with its ``$vars`` and ``[...]``."""
        text = self.text
        start = self.pos
        self.pos += 5
        while self.pos < len(text) and text[self.pos] in " \t\r":
            self.pos += 1
        col = self.where()[1]
        segments: list[str | Var | Sub | Expr] = []
        buf: list[str] = []
        in_string = False
        inside: set[int] = set()
        while self.pos < len(text):
            ch = text[self.pos]
            if not in_string and (ch in "\n;" or (closing and ch == closing)):
                break
            if ch == "\\" and self.pos + 1 < len(text):
                buf.append(text[self.pos : self.pos + 2])
                self.pos += 2
                continue
            if ch == '"':
                in_string = not in_string
            elif ch == "(" and not in_string and _VALUE_BEFORE.search("".join(buf)):
                # `comment~("^" . $p)`: an expression as a compared value (grouping parens
                # elsewhere stay the condition's own)
                segments.append("".join(buf))
                buf.clear()
                self.pos += 1
                segments.append(Expr(node=exprparse.parse(self)))
                continue
            elif ch == "$" or (ch == "[" and not in_string):
                segments.append("".join(buf))
                buf.clear()
                if in_string:
                    inside.add(len(segments))
                if ch == "$" and text[self.pos + 1 : self.pos + 2] == "[":
                    self.pos += 1
                    ch = "["
                sub = self.substitution() if ch == "[" else self.variable(quoted=in_string)
                segments.append(sub)
                continue
            buf.append(ch)
            self.pos += 1
        if in_string:
            raise self.error("unterminated string")
        segments.append("".join(buf).rstrip())
        line, wcol = self.where(start)
        where = Where(segments=tuple(segments), col=col, in_string=frozenset(inside))
        return Word(
            parts=(Lit(text="where"), where), line=line, col=wcol, start=start, end=self.pos
        )


def tokenize(text: str, first_line: int = 1) -> list[Command]:
    """The commands of a script (or of one console line)."""
    return _Lexer(_join(text, first_line)).commands()
