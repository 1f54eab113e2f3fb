"""JSON in and out of the REST API, as RouterOS 7 writes it (reference §4.7).

Replies: every value is a string (``"disabled":"false"``, ``"ph2-count":"1"``), booleans as
``true``/``false`` where the console says ``yes``/``no``, print flags that are not properties
(``invalid``, ``dynamic``, ``default``, ``active``) as booleans too, ``.id`` as ``*1``,
properties without a value left out. Requests: a JSON object whose values may be strings,
integers or booleans (RouterOS accepts those; no floats, no nesting); ``.proplist`` a comma
string or a list, ``.query`` a list of API query words without their ``?``.

Errors are :class:`RestError`: the HTTP status and RouterOS's message, rendered as
``{"error": 400, "message": "Bad Request", "detail": "..."}``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from pyipsec.config.schema import Menu
from pyipsec.config.table import format_id
from pyipsec.config.types import Bool
from pyipsec.mgmt.base import PrintResult, PrintRow, Result
from pyipsec.mgmt.query import API_QUERY_SEP

BOOL_OUT = {"yes": "true", "no": "false"}
BOOL_IN = {"true": "yes", "false": "no", "yes": "yes", "no": "no"}
MAX_DEPTH = 3  # JSON nesting a request may have at most ({".query": [...]} is 2)


class RestError(Exception):
    """A request failed: ``status`` (HTTP) and RouterOS's ``detail``."""

    def __init__(self, status: int, detail: str | None = None) -> None:
        super().__init__(detail or HTTPStatus(status).phrase)
        self.status = status
        self.detail = detail

    def body(self) -> dict[str, object]:
        out: dict[str, object] = {"error": self.status, "message": HTTPStatus(self.status).phrase}
        if self.detail:
            out["detail"] = self.detail
        return out


def error_body(status: int, detail: str | None = None) -> dict[str, object]:
    return RestError(status, detail).body()


def _depth(value: object, level: int = 1) -> int:
    if isinstance(value, dict):
        return max([level, *(_depth(v, level + 1) for v in value.values())])
    if isinstance(value, list):
        return max([level, *(_depth(v, level + 1) for v in value)])
    return level


def parse_body(raw: bytes) -> dict[str, Any]:
    """The request's JSON object (an empty body is ``{}``)."""
    if not raw.strip():
        return {}
    try:
        text = raw.decode("utf-8")
        data = json.loads(text, parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise RestError(400, f"invalid JSON: {type(exc).__name__}") from exc
    if not isinstance(data, dict):
        raise RestError(400, "JSON object expected")
    if _depth(data) > MAX_DEPTH:
        raise RestError(400, "JSON nested too deeply")
    return data


def _no_constant(name: str) -> object:
    raise ValueError(f"{name} is not a value")


def _scalar(name: str, value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        if "\x00" in value:
            raise RestError(400, f"invalid value for argument {name}")
        return value
    raise RestError(400, f"invalid value for argument {name}")


def _words(name: str, value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [_scalar(name, v) for v in value]
    raise RestError(400, f"invalid value for argument {name}")


def command_args(body: Mapping[str, Any]) -> dict[str, str]:
    """Command arguments (name -> text, as the command layer takes them) from a JSON body."""
    out: dict[str, str] = {}
    for name, value in body.items():
        if not name or "\x00" in name:
            raise RestError(400, "invalid argument name")
        if name == ".proplist":
            out[name] = ",".join(w.strip() for w in _words(name, value) for w in w.split(","))
        elif name == ".query":
            words = _words(name, value)
            out[name] = API_QUERY_SEP.join(w.removeprefix("?") for w in words)
        else:
            out[name] = _scalar(name, value)
    return out


def flag_words(menu: Menu, words: list[str]) -> list[str]:
    """Query words with ``flag=true|false`` for flags that are not properties (``dynamic``,
    ``invalid``) turned into the command layer's ``yes``/``no``."""
    out = []
    for word in words:
        name, eq, value = word.lstrip("=").partition("=")
        if eq and name in menu.flag_names and not menu.has(name) and value in BOOL_IN:
            word = f"{name}={BOOL_IN[value]}"
        out.append(word)
    return out


_SHAPES: dict[tuple[str, tuple[str, ...]], tuple[frozenset[str], tuple[str, ...]]] = {}


def _shape(menu: Menu) -> tuple[frozenset[str], tuple[str, ...]]:
    """(boolean properties, flags that are not properties) of a menu, worked out once."""
    key = (menu.dialect, menu.path)
    shape = _SHAPES.get(key)
    if shape is None or len(_SHAPES) > 256:
        bools = frozenset(p.name for p in menu.properties if isinstance(p.type, Bool))
        flags = tuple(n for n in menu.flag_names if not menu.has(n))
        shape = _SHAPES[key] = (bools, flags)
    return shape


def row_json(
    menu: Menu, row: PrintRow, proplist: tuple[str, ...] | None, *, with_id: bool
) -> dict[str, str]:
    """One printed row as a JSON object of strings."""
    bools, flags = _shape(menu)
    out: dict[str, str] = {}
    if with_id and (proplist is None or ".id" in proplist):
        out[".id"] = format_id(row.id)
    for name, value in row.values:
        if value == "":
            continue
        out[name] = BOOL_OUT.get(value, value) if name in bools else value
    for name in flags:
        if name in out or (proplist is not None and name not in proplist):
            continue
        out[name] = "true" if name in row.flags else "false"
    return out


def table_json(table: PrintResult) -> list[dict[str, str]]:
    with_id = table.mode != "settings"
    return [row_json(table.menu, r, table.proplist, with_id=with_id) for r in table.rows]


def result_json(result: Result) -> object:
    """A command's result as a POST reply: rows -> array, data of ``!done`` -> object,
    nothing -> ``[]`` (reference §4.7)."""
    table = result.table
    if table is not None:
        if table.mode == "count-only":
            return {"ret": str(table.count)}
        return table_json(table)
    if result.ret is not None:
        return {"ret": result.ret}
    if result.values is not None:  # /certificate/import: one object of strings in an array
        return [dict(result.values)]
    if result.text is not None:
        return {"ret": result.text}
    return []
