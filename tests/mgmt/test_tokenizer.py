"""Script tokenizer: words, quotes, escapes, substitutions, continuations, comments."""

from __future__ import annotations

import pytest

from pyipsec.mgmt.cli.tokenizer import Lit, ScriptSyntaxError, Sub, tokenize


def words(text: str) -> list[list[str]]:
    out = []
    for cmd in tokenize(text):
        row = []
        for w in cmd.words:
            row.append("".join(p.text if isinstance(p, Lit) else f"[{p.raw}]" for p in w.parts))
        out.append(row)
    return out


def test_commands_split_on_newlines_and_semicolons() -> None:
    assert words("a b\nc; d e\n\n") == [["a", "b"], ["c"], ["d", "e"]]


def test_comments_only_at_command_start() -> None:
    assert words("# x y\na b # not a comment\n  # indented comment") == [
        ["a", "b", "#", "not", "a", "comment"]
    ]


def test_quotes_and_escapes() -> None:
    assert words('set name="a b" x="\\"q\\" \\\\ \\$ \\?"') == [["set", "name=a b", 'x="q" \\ $ ?']]
    [cmd] = tokenize('name="x y"z')
    parts = cmd.words[0].parts
    assert parts == (Lit(text="name="), Lit(text="x y", quoted=True), Lit(text="z"))
    assert cmd.words[0].split_assignment() == ("name", parts[1:])


def test_continuation_joins_and_drops_indent() -> None:
    assert words("add a=1 \\\n    b=2 name=\\\n    proposal1") == [
        ["add", "a=1", "b=2", "name=proposal1"]
    ]
    [cmd] = tokenize("add a=1 \\\n    b=2")
    assert (cmd.words[2].line, cmd.words[2].col) == (2, 5)


def test_substitution() -> None:
    [cmd] = tokenize("set [ find default=yes ] a=[/x get 0 y]")
    sub = cmd.words[1].parts[0]
    assert isinstance(sub, Sub)
    assert [w.plain for w in sub.commands[0].words] == ["find", "default=yes"]
    assert words("set [ find default=yes ] x=1") == [["set", "[ find default=yes ]", "x=1"]]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('a "b', "unterminated string (line 1 column 3)"),
        ("a [b", "syntax error (line 1 column 5)"),
        ("a {b", "syntax error (line 1 column 5)"),
        ("a b}", "syntax error (line 1 column 4)"),
        (":put (1 +)", "syntax error (line 1 column 10)"),
        (":put $-x", "syntax error (line 1 column 6)"),
    ],
)
def test_errors(text: str, message: str) -> None:
    with pytest.raises(ScriptSyntaxError) as exc:
        tokenize(text)
    assert str(exc.value) == message


def test_variables_blocks_and_expressions() -> None:
    from pyipsec.mgmt.cli.tokenizer import Block, Expr, Var, Where

    [cmd] = tokenize(':if ($a > 1) do={:put "x$b"; :put $c->"k"} comment=a(b)')
    cond, body, comment = cmd.words[1], cmd.words[2], cmd.words[3]
    assert isinstance(cond.parts[0], Expr)
    name, value = body.split_assignment() or ("", ())
    assert name == "do" and isinstance(value[0], Block)
    inner = value[0].commands
    assert inner[0].words[1].parts == (
        Lit(text="x", quoted=True),
        Var(name="b", quoted=True, line=1, col=25),
    )
    var = inner[1].words[1].parts[0]
    assert isinstance(var, Var) and var.name == "c" and len(var.keys) == 1
    # in the middle of a word, ( ) are plain characters (exports write comment=a(b) bare)
    assert comment.parts == (Lit(text="comment=a(b)"),)
    [cmd] = tokenize('find where comment~$p and address="$q" and x=[y]')
    where = cmd.words[1].parts[1]
    assert isinstance(where, Where)
    assert [s if isinstance(s, str) else type(s).__name__ for s in where.segments] == [
        "comment~", "Var", ' and address="', "Var", '" and x=', "Sub", ""
    ]  # fmt: skip
    assert where.in_string == frozenset({3})
