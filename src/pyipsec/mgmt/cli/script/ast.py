"""What the tokenizer makes of script text: commands of words, words of parts.

A word is a run of parts without blanks between them: literal text (``Lit``, ``quoted`` when it
came from ``"..."``), a variable reference (``Var``: ``$name``, ``$"odd-name"``, with ``->key``
accessors), a command substitution (``Sub``: ``[ ... ]``), an expression (``Expr``: ``( ... )``),
a block (``Block``: ``{ ... }``, code or an array literal, decided by where it is used) and, for
``where``, the raw rest of the command with its variables (``Where``). Expression trees are
``Unary``, ``Binary`` and ``Index`` over ``Word`` leaves.
"""

from __future__ import annotations

from dataclasses import dataclass


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
class Var:
    """``$name`` (``quoted``: inside a string, so it is substituted as text)."""

    name: str
    keys: tuple[Node, ...] = ()
    quoted: bool = False
    line: int = 1
    col: int = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class Block:
    """``{ ... }``: a code block, or an array literal where a value is expected."""

    commands: tuple[Command, ...]
    raw: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Expr:
    """A ``( ... )`` expression (``quoted``: ``$( ... )`` inside a string)."""

    node: Node
    quoted: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Where:
    """The rest of a command after ``where``: text and the variables/substitutions in it."""

    segments: tuple[str | Var | Sub | Expr, ...]
    col: int
    in_string: frozenset[int] = frozenset()  # segments inside a "..." string: their text only


Part = Lit | Sub | Var | Block | Expr | Where


@dataclass(frozen=True, slots=True, kw_only=True)
class Word:
    parts: tuple[Part, ...]
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

    def split_assignment(self) -> tuple[str, tuple[Part, ...]] | None:
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


@dataclass(frozen=True, slots=True, kw_only=True)
class Unary:
    op: str
    operand: Node
    line: int
    col: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Binary:
    op: str
    left: Node
    right: Node
    line: int
    col: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Index:
    """``base->key``: an element of an array."""

    base: Node
    key: Node


Node = Word | Unary | Binary | Index
