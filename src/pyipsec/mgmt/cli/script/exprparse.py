"""Parse a RouterOS ``( ... )`` expression straight off the tokenizer's text.

Operands are what a word may hold (``"strings $with vars"``, ``$var->key``, ``[command]``,
``{array}``, ``(nested)``) and bare literals (``1``, ``0x1F``, ``10.0.0.1``, ``10.0.0.0/8``,
``fe80::1``, ``1h30m``, ``01:30:00``, ``*1A``, ``true``, words). Operators, loosest first (a
Pratt parser; C-like ranks, as RouterOS documents no table)::

    || or  |  && and  |  = != < > <= >= in ~  |  ,  |  |  |  ^  |  &  |  .  |  << >>  |
    + -  |  * / %  |  prefix ! not - ~  |  postfix ->
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from pyipsec.mgmt.cli.script.ast import Binary, Expr, Index, Lit, Node, Unary, Word

if TYPE_CHECKING:
    from pyipsec.mgmt.cli.tokenizer import _Lexer

BINARY = {
    "||": 1, "or": 1,
    "&&": 2, "and": 2,
    "=": 3, "!=": 3, "<": 3, ">": 3, "<=": 3, ">=": 3, "in": 3, "~": 3,
    ",": 4, "|": 5, "^": 6, "&": 7, ".": 8, "<<": 9, ">>": 9,
    "+": 10, "-": 10, "*": 11, "/": 11, "%": 11,
}  # fmt: skip
PREFIX_RANK = 12
_SYMBOLS = sorted((op for op in BINARY if not op.isalpha()), key=len, reverse=True)
_WORD_OPS = ("and", "or", "in", "not")
_LITERAL = re.compile(
    r"\d+\.\d+\.\d+\.\d+(?:/\d+)?"
    r"|(?:\d+[wd])*\d+:\d\d(?::\d\d(?:\.\d+)?)?"
    r"|(?:\d+(?:ms|us|ns|w|d|h|m|s))+"
    r"|[0-9A-Fa-f]*:[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*(?:/\d+)?"
    r"|0x[0-9A-Fa-f]+"
    r"|\d+"
    r"|\*[0-9A-Fa-f]+"
    r"|[A-Za-z_][A-Za-z0-9_-]*"
)
_BOUNDARY = re.compile(r"[A-Za-z0-9_:]")


def _skip(lx: _Lexer) -> None:
    text = lx.text
    while lx.pos < len(text) and text[lx.pos] in " \t\r\n":
        lx.pos += 1


def _word_at(lx: _Lexer) -> str | None:
    m = re.compile(r"[A-Za-z]+").match(lx.text, lx.pos)
    return m.group(0) if m else None


def _peek_binary(lx: _Lexer) -> str | None:
    _skip(lx)
    word = _word_at(lx)
    if word in ("and", "or", "in"):
        return word
    for op in _SYMBOLS:
        if lx.text.startswith(op, lx.pos):
            return op
    return None


def parse(lx: _Lexer) -> Node:
    """The expression after an opening ``(``; consumes the closing ``)``."""
    node = _expr(lx, 0)
    _skip(lx)
    if lx.pos >= len(lx.text) or lx.text[lx.pos] != ")":
        raise lx.error("syntax error")
    lx.pos += 1
    return node


def _expr(lx: _Lexer, min_rank: int) -> Node:
    left = _prefix(lx)
    while True:
        op = _peek_binary(lx)
        if op is None or BINARY[op] <= min_rank:
            return left
        line, col = lx.where()
        lx.pos += len(op)
        right = _expr(lx, BINARY[op])
        left = Binary(op=op, left=left, right=right, line=line, col=col)


def _prefix(lx: _Lexer) -> Node:
    _skip(lx)
    line, col = lx.where()
    text = lx.text
    if lx.pos < len(text) and text[lx.pos] in "!-~" and not text.startswith("!=", lx.pos):
        op = text[lx.pos]
        lx.pos += 1
        return Unary(op=op, operand=_expr(lx, PREFIX_RANK - 1), line=line, col=col)
    if _word_at(lx) == "not":
        lx.pos += 3
        return Unary(op="!", operand=_expr(lx, PREFIX_RANK - 1), line=line, col=col)
    return postfix(lx, primary(lx))


def postfix(lx: _Lexer, node: Node) -> Node:
    """``node->key->key...``"""
    while lx.text.startswith("->", lx.pos):
        lx.pos += 2
        node = Index(base=node, key=primary(lx))
    return node


def primary(lx: _Lexer) -> Node:
    """One operand (no operators around it)."""
    _skip(lx)
    text = lx.text
    if lx.pos >= len(text):
        raise lx.error("syntax error")
    start = lx.pos
    line, col = lx.where()
    ch = text[lx.pos]
    if ch == "(":
        lx.pos += 1
        node = parse(lx)
        return Word(parts=(Expr(node=node),), line=line, col=col, start=start, end=lx.pos)
    if ch in '"$[{':
        parts = lx.value_part()
        return Word(parts=tuple(parts), line=line, col=col, start=start, end=lx.pos)
    m = _LITERAL.match(text, lx.pos)
    if m is None or (m.end() < len(text) and _BOUNDARY.match(text, m.end())):
        raise lx.error("syntax error")
    if m.group(0) in _WORD_OPS:
        raise lx.error("syntax error")
    lx.pos = m.end()
    return Word(parts=(Lit(text=m.group(0)),), line=line, col=col, start=start, end=lx.pos)
