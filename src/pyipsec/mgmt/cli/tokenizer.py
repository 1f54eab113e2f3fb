"""RouterOS script text -> commands of words.

Handles ``\\`` line continuation (the continuation's leading blanks are dropped, so an export
wrapped as ``name=\\`` / ``    proposal1`` reads ``name=proposal1``), ``#`` comments at the
start of a command, ``;`` and newlines between commands, double-quoted strings with RouterOS
escapes, and ``[ ... ]`` command substitution (nested). Every word keeps its line/column and
source span so that errors can point at it and ``where`` can take the raw rest of a command.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pyipsec.mgmt.query import unescape


class ScriptSyntaxError(ValueError):
    """Unbalanced quotes/brackets and the like; message is RouterOS's text."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Lit:
    """Literal text; ``quoted`` when it came from a ``"..."`` string."""

    text: str
    quoted: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Sub:
    """A ``[ ... ]`` command substitution."""

    commands: tuple[Command, ...]
    raw: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Word:
    parts: tuple[Lit | Sub, ...]
    line: int
    col: int
    start: int  # offset in the joined source
    end: int

    @property
    def plain(self) -> str | None:
        """The word's text when it is one unquoted literal, else None."""
        if len(self.parts) == 1 and isinstance(self.parts[0], Lit) and not self.parts[0].quoted:
            return self.parts[0].text
        return None

    def split_assignment(self) -> tuple[str, tuple[Lit | Sub, ...]] | None:
        """``(name, value parts)`` when the word is ``name=value`` (= unquoted, in front)."""
        first = self.parts[0]
        if not isinstance(first, Lit) or first.quoted or "=" not in first.text:
            return None
        name, _, rest = first.text.partition("=")
        if not name:
            return None
        value = ((Lit(text=rest),) if rest else ()) + self.parts[1:]
        return name, value


@dataclass(frozen=True, slots=True, kw_only=True)
class Command:
    words: tuple[Word, ...]
    source: str  # the joined text the offsets refer to
    line: int


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

    def error(self, what: str) -> ScriptSyntaxError:
        line, col = self.src.lines[self.pos], self.src.cols[self.pos]
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
            if ch in "\n;" or (closing and ch == "\n"):
                self.pos += 1
                flush()
                continue
            if ch == "#" and not words:
                while self.pos < len(text) and text[self.pos] != "\n":
                    self.pos += 1
                continue
            if ch in "{}":
                raise self.error("syntax error")
            words.append(self.word(closing))

    def word(self, closing: str | None) -> Word:
        text = self.text
        start = self.pos
        parts: list[Lit | Sub] = []
        buf: list[str] = []

        def lit() -> None:
            if buf:
                parts.append(Lit(text="".join(buf)))
                buf.clear()

        while self.pos < len(text):
            ch = text[self.pos]
            if ch in " \t\r\n;" or (closing and ch == closing):
                break
            if ch == '"':
                lit()
                self.pos += 1
                body_start = self.pos
                while self.pos < len(text) and text[self.pos] != '"':
                    if text[self.pos] == "\\":
                        self.pos += 1
                    self.pos += 1
                if self.pos >= len(text):
                    self.pos = body_start - 1
                    raise self.error("unterminated string")
                parts.append(Lit(text=unescape(text[body_start : self.pos]), quoted=True))
                self.pos += 1
                continue
            if ch == "[":
                lit()
                self.pos += 1
                inner_start = self.pos
                inner = self.commands("]")
                parts.append(Sub(commands=tuple(inner), raw=text[inner_start : self.pos - 1]))
                continue
            if ch == "\\" and self.pos + 1 < len(text):
                buf.append(unescape(text[self.pos : self.pos + 2]))
                self.pos += 2
                continue
            buf.append(ch)
            self.pos += 1
        lit()
        return Word(
            parts=tuple(parts),
            line=self.src.lines[start],
            col=self.src.cols[start],
            start=start,
            end=self.pos,
        )


def tokenize(text: str, first_line: int = 1) -> list[Command]:
    """The commands of a script (or of one console line)."""
    return _Lexer(_join(text, first_line)).commands()
