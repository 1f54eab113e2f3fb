"""The ``where`` / ``find`` expression language of RouterOS consoles.

Grammar (``and`` may be omitted between terms; ``!``/``not`` negate; parentheses group)::

    expr    := and (("or" | "||") and)*
    and     := unary (("and" | "&&")? unary)*
    unary   := ("!" | "not") unary | "(" expr ")" | NAME [op value]
    op      := "=" | "!=" | "<" | ">" | "<=" | ">=" | "~" | "in"

A bare ``NAME`` is a boolean test: a flag (``dynamic``, ``default``, ``invalid``) or a
property that is ``yes`` / non-empty. Comparisons use the property's codec, so
``lifetime=1800`` matches ``30m`` and ``src-address in 10.0.0.0/8`` tests containment.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pyipsec.config.types import parse_seconds


class QueryError(ValueError):
    """A malformed expression; the message is RouterOS's error text."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Cmp:
    prop: str
    op: str
    value: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Has:
    prop: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Not:
    operand: Node


@dataclass(frozen=True, slots=True, kw_only=True)
class And:
    operands: tuple[Node, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Or:
    operands: tuple[Node, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Present:
    """``?name``: the item has a (non-empty) value for ``prop``."""

    prop: str


Node = Cmp | Has | Not | And | Or | Present

_OPS = ("!=", "<=", ">=", "=", "<", ">", "~")
_TOKEN_RE = re.compile(
    r'\s*(?:(?P<str>"(?:[^"\\]|\\.)*")|(?P<op>!=|<=|>=|&&|\|\||[=<>~()!])|(?P<word>[^\s=<>~()!"]+))'
)
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\", "$": "$", "?": "?", "_": " "}


def unescape(body: str) -> str:
    """The text of a double-quoted RouterOS string body (``\\"``, ``\\\\``, ``\\XX`` hex...)."""
    out = bytearray()
    i = 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            if re.fullmatch(r"[0-9A-Fa-f]{2}", body[i + 1 : i + 3]):
                out.append(int(body[i + 1 : i + 3], 16))
                i += 3
                continue
            out += _ESCAPES.get(nxt, nxt).encode()
            i += 2
            continue
        out += ch.encode()
        i += 1
    try:
        return out.decode("utf-8")
    except UnicodeDecodeError:
        return out.decode("latin-1")  # RouterOS v6 writes \XX bytes of a Latin-1 name


@dataclass(frozen=True, slots=True)
class _Tok:
    kind: str  # str, op, word, end
    text: str
    col: int


def _lex(text: str, col0: int) -> list[_Tok]:
    toks: list[_Tok] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN_RE.match(text, pos)
        if not m or m.end() == pos:
            raise QueryError(f"syntax error (line 1 column {col0 + pos})")
        kind = m.lastgroup or "word"
        raw = m.group(kind)
        value = unescape(raw[1:-1]) if kind == "str" else raw
        toks.append(_Tok(kind, value, col0 + m.start(kind)))
        pos = m.end()
    toks.append(_Tok("end", "", col0 + len(text)))
    return toks


class _Parser:
    def __init__(self, toks: list[_Tok]) -> None:
        self.toks = toks
        self.i = 0

    def peek(self) -> _Tok:
        return self.toks[self.i]

    def take(self) -> _Tok:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def error(self) -> QueryError:
        return QueryError(f"syntax error (line 1 column {self.peek().col})")

    def is_word(self, *words: str) -> bool:
        tok = self.peek()
        return tok.kind in ("word", "op") and tok.text in words

    def expr(self) -> Node:
        parts = [self.conj()]
        while self.is_word("or", "||"):
            self.take()
            parts.append(self.conj())
        return parts[0] if len(parts) == 1 else Or(operands=tuple(parts))

    def conj(self) -> Node:
        parts = [self.unary()]
        while True:
            if self.is_word("and", "&&"):
                self.take()
            elif self.peek().kind == "end" or self.is_word(")", "or", "||"):
                break
            parts.append(self.unary())
        return parts[0] if len(parts) == 1 else And(operands=tuple(parts))

    def unary(self) -> Node:
        tok = self.peek()
        if self.is_word("!", "not"):
            self.take()
            return Not(operand=self.unary())
        if self.is_word("("):
            self.take()
            node = self.expr()
            if not self.is_word(")"):
                raise self.error()
            self.take()
            return node
        if tok.kind != "word":
            raise self.error()
        self.take()
        name = tok.text
        nxt = self.peek()
        if (nxt.kind == "op" and nxt.text in _OPS) or (nxt.kind == "word" and nxt.text == "in"):
            op = self.take().text
            value = self.peek()
            if value.kind not in ("word", "str"):
                raise self.error()
            self.take()
            return Cmp(prop=name, op=op, value=value.text)
        return Has(prop=name)


def parse(text: str, col0: int = 1) -> Node:
    """Parse an expression; ``col0`` is the column of ``text`` in its command line."""
    parser = _Parser(_lex(text, col0))
    if parser.peek().kind == "end":
        return And(operands=())
    node = parser.expr()
    if parser.peek().kind != "end":
        raise parser.error()
    return node


def props_of(node: Node) -> set[str]:
    """Property names an expression mentions."""
    match node:
        case Cmp(prop=p) | Has(prop=p) | Present(prop=p):
            return {p}
        case Not(operand=o):
            return props_of(o)
        case And(operands=ops) | Or(operands=ops):
            return set().union(*(props_of(o) for o in ops)) if ops else set()
    return set()


# getter(prop) -> canonical value or None; normalize(prop, text) -> canonical text for prop.
Getter = Callable[[str], str | None]
Normalizer = Callable[[str, str], str]


def _ordered(text: str) -> tuple[int, Any] | None:
    if re.fullmatch(r"-?\d+", text):
        return (0, int(text))
    try:
        return (1, parse_seconds(text))
    except ValueError:
        pass
    try:
        address = ipaddress.ip_address(text.split("/")[0])
    except ValueError:
        return None
    # IPv4 sorts before IPv6 (comparing the two raised TypeError)
    return (2 + (address.version == 6), address)


def _in(value: str, container: str) -> bool:
    try:
        net = ipaddress.ip_network(container, strict=False)
        mine = ipaddress.ip_network(value, strict=False)
    except ValueError:
        return value in container.split(",")
    return mine.version == net.version and mine.subnet_of(net)  # type: ignore[arg-type]


def _compare(op: str, have: str | None, want: str) -> bool:
    if op == "=":
        return have == want
    if op == "!=":
        return have != want
    if have is None:
        return False
    if op == "~":
        try:
            return re.search(want, have) is not None
        except re.error as exc:
            raise QueryError("invalid regular expression") from exc
    if op == "in":
        return _in(have, want)
    a, b = _ordered(have), _ordered(want)
    if a is None or b is None or a[0] != b[0]:
        a, b = (0, have), (0, want)
    results = {"<": a < b, ">": a > b, "<=": a <= b, ">=": a >= b}
    return bool(results[op])


def evaluate(node: Node, get: Getter, normalize: Normalizer) -> bool:
    """Whether an item (seen through ``get``) satisfies ``node``."""
    match node:
        case Cmp(prop=p, op=op, value=v):
            want = v
            if op in ("=", "!="):
                try:
                    want = normalize(p, v)
                except ValueError:
                    want = v
            have = get(p)
            if have is None and op in ("=", "!="):
                # a row without the property reads as nothing, as `[]` (given as "") does:
                # `!(dynamic-address=[])` keeps the rows that have one (eworm-de's scripts)
                have = ""
            return _compare(op, have, want)
        case Has(prop=p):
            return get(p) not in (None, "", "no", "0")
        case Present(prop=p):
            return get(p) not in (None, "")
        case Not(operand=o):
            return not evaluate(o, get, normalize)
        case And(operands=ops):
            return all(evaluate(o, get, normalize) for o in ops)
        case Or(operands=ops):
            return any(evaluate(o, get, normalize) for o in ops)
    return False


# -- the RouterOS API's query words (reference §4.4): a stack machine compiled to a tree


TRUE: Node = And(operands=())
# The API's query words travel to the command layer as one ``.query`` argument, joined by this.
API_QUERY_SEP = "\x00"  # the stack's bottom: an endless supply of true


def _api_operations(ops: str, stack: list[Node], word: str) -> None:
    """Apply the operations of a ``?#...`` word to ``stack`` (its top is the end of the list).

    Digits are a stack index (0 = top): followed by another character they push a copy of
    that element, at the end of the word they replace the whole stack with it. ``!`` negates
    the top, ``&``/``|`` pop two and push their and/or, ``.`` after an index does nothing and
    after anything else pushes a copy of the top. Popping an empty stack yields true."""

    def pop() -> Node:
        return stack.pop() if stack else TRUE

    i = 0
    while i < len(ops):
        ch = ops[i]
        if ch.isdigit():
            j = i
            while j < len(ops) and ops[j].isdigit():
                j += 1
            index = int(ops[i:j])
            picked = stack[-1 - index] if index < len(stack) else TRUE
            if j == len(ops):
                stack[:] = [picked]
                return
            stack.append(picked)
            if ops[j] == ".":
                j += 1  # "." after an index does nothing
            i = j
            continue
        if ch == "!":
            stack.append(Not(operand=pop()))
        elif ch in "&|":
            b, a = pop(), pop()
            stack.append(And(operands=(a, b)) if ch == "&" else Or(operands=(a, b)))
        elif ch == ".":
            top = pop()
            stack += [top, top]
        else:
            raise QueryError(f"unknown query operation in {word}")
        i += 1


def from_api(words: list[str] | tuple[str, ...]) -> Node:
    """The condition of an API ``print``'s query words (given without their leading ``?``):
    ``name`` (has a value), ``-name`` (has none), ``name=x`` / ``=name=x`` (equal, compared by
    the property's codec as the console's ``where`` is), ``<name=x``, ``>name=x``, and
    ``#ops`` stack operations. An item passes when every value left on the stack is true."""
    stack: list[Node] = []
    for word in words:
        if word.startswith("#"):
            _api_operations(word[1:], stack, "?" + word)
            continue
        op = "="
        body = word
        if body[:1] in ("<", ">"):
            op, body = body[0], body[1:]
        elif body.startswith("="):
            body = body[1:]
        elif body.startswith("-"):
            if not body[1:] or "=" in body:
                raise QueryError(f"invalid query word ?{word}")
            stack.append(Not(operand=Present(prop=body[1:])))
            continue
        name, eq, value = body.partition("=")
        if not name:
            raise QueryError(f"invalid query word ?{word}")
        if not eq:
            if op != "=" or word.startswith("="):
                raise QueryError(f"invalid query word ?{word}")
            stack.append(Present(prop=name))
            continue
        stack.append(Cmp(prop=name, op=op, value=value))
    if not stack:
        return TRUE
    return stack[0] if len(stack) == 1 else And(operands=tuple(stack))
