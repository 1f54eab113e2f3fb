"""The where/find expression language."""

from __future__ import annotations

import pytest

from pyipsec.mgmt import query as q

ITEM = {
    "src-address": "10.1.0.0/24",
    "priority": "5",
    "lifetime": "30m",
    "name": "Office 1",
    "disabled": "no",
    "dynamic": "yes",
    "comment": "",
}


def check(text: str) -> bool:
    def normalize(prop: str, value: str) -> str:
        return "30m" if (prop, value) == ("lifetime", "1800") else value

    return q.evaluate(q.parse(text), ITEM.get, normalize)


@pytest.mark.parametrize(
    ("expr", "result"),
    [
        ("", True),
        ("dynamic", True),
        ("disabled", False),
        ("!disabled", True),
        ("not dynamic", False),
        ("comment", False),
        ("priority=5", True),
        ("priority!=5", False),
        ("priority>4 and priority<6", True),
        ("priority>=5 priority<=5", True),
        ("priority>10 || dynamic", True),
        ("priority>10 or (disabled and dynamic)", False),
        ("!(priority>10) && dynamic", True),
        ('name="Office 1"', True),
        ('name~"^Off"', True),
        ("name~x", False),
        ("src-address in 10.0.0.0/8", True),
        ("src-address in 192.168.0.0/16", False),
        ("lifetime=1800", True),
        ("lifetime>10m", True),
        ("missing=1", False),
        ("missing!=1", True),
    ],
)
def test_expressions(expr: str, result: bool) -> None:
    assert check(expr) is result


@pytest.mark.parametrize(("expr", "col"), [("(", 2), ("a=", 3), ("a and (b", 9), ("=x", 1)])
def test_syntax_errors_point_at_the_column(expr: str, col: int) -> None:
    with pytest.raises(q.QueryError) as exc:
        q.parse(expr)
    assert str(exc.value) == f"syntax error (line 1 column {col})"


def test_unescape() -> None:
    assert q.unescape('a\\"b\\\\c\\$d\\?e\\n') == 'a"b\\c$d?e\n'
    assert q.unescape("V\\E4nge") == "V\u00e4nge"
    assert q.unescape("\\C3\\A4") == "\u00e4"


def test_props_of() -> None:
    assert q.props_of(q.parse("a=1 and (!b or c~x)")) == {"a", "b", "c"}
