"""The configuration view: every ``/ip ipsec`` menu of the database's dialect, generated from
the menu schema the console uses (config/menus), and run through ``commands.dispatch``.

The page asks for the schema once (``GET /web/menus``: properties with their type, allowed
values, default, read-only/required/secret marks; flags; the commands each menu has), then for
a menu's rows (``GET /web/items?path=ip/ipsec/policy``: ``print`` rows with every property, and
the item names each reference property may take now) and sends every change as one command
(``POST /web/run`` with ``{"path", "command", "args"}``). Validation, look-up and error texts
are the command layer's: a refused value answers 400 with RouterOS's message
(``invalid value for argument src-address``, ``input does not match any value of proposal``)
and the argument it concerns, exactly what the console prints.

``set`` from the edit form: a property the form emptied is ``unset`` when the schema allows it
(an optional property without a default), as WebFig clears a field.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import web

from pyipsec.config.menus import menus_for
from pyipsec.config.schema import Menu, MenuKind, Property
from pyipsec.config.table import Config, format_id
from pyipsec.mgmt import commands
from pyipsec.mgmt.auth import NOT_PERMITTED
from pyipsec.mgmt.base import CommandError, PrintRow, Session
from pyipsec.mgmt.web.routes import require_session

IPSEC = ("ip", "ipsec")
MAX_ARGS = 64  # arguments of one command at most
MAX_VALUE = 8192  # characters of one value at most


def ipsec_menus(dialect: str) -> list[Menu]:
    """The ``/ip ipsec`` menus of ``dialect`` in the console's order."""
    return [m for p, m in menus_for(dialect).items() if p[:2] == IPSEC]


def _prop_json(prop: Property) -> dict[str, Any]:
    return {
        "name": prop.name,
        "kind": prop.type.kind,
        "choices": list(prop.type.choices()),
        "default": prop.default,
        "readonly": prop.readonly,
        "required": prop.required,
        "secret": prop.sensitive or prop.hashed,
        "unsettable": prop.unsettable,
        "ref": prop.ref is not None,
        "keywords": list(prop.ref_keywords),
    }


def menu_json(menu: Menu) -> dict[str, Any]:
    """What the page builds a menu's table and forms from."""
    columns = menu.brief_columns or menu.print_order[:7]
    writable = menu.kind in (MenuKind.LIST, MenuKind.SINGLE)
    return {
        "path": "/".join(menu.path),
        "name": menu.name,
        "kind": menu.kind.value,
        "description": menu.description,
        "key": menu.key,
        "ordered": menu.ordered,  # the page offers up/down (move) buttons
        "columns": [c for c in columns if menu.has(c)],
        "flags": [{"letter": f.letter, "name": f.name} for g in menu.flags for f in g],
        "properties": [_prop_json(p) for p in menu.properties if not p.name.startswith("_")],
        "commands": list(menu.generic_commands) if writable else [],
        # menu commands without a required argument become buttons (flush, kill-connections)
        "actions": [c.name for c in menu.commands if not any(a.required for a in c.args)],
    }


async def menus(request: web.Request) -> web.Response:
    session = require_session(request)
    dialect = session.store.snapshot().dialect
    return web.json_response(
        {"dialect": dialect, "menus": [menu_json(m) for m in ipsec_menus(dialect)]}
    )


def _menu_of(session: Session, text: object) -> Menu:
    if not isinstance(text, str):
        raise web.HTTPNotFound(text='{"error": "no such menu"}', content_type="application/json")
    path = tuple(p for p in text.strip("/").split("/") if p)
    menu = menus_for(session.store.snapshot().dialect).get(path)
    if menu is None or path[:2] != IPSEC:
        raise web.HTTPNotFound(text='{"error": "no such menu"}', content_type="application/json")
    return menu


def row_json(row: PrintRow) -> dict[str, Any]:
    return {
        ".id": format_id(row.id),
        "flags": sorted(row.flags),
        "values": dict(row.values),
        "comment": row.comment,
    }


def ref_choices(config: Config, menu: Menu) -> dict[str, list[str]]:
    """Values each reference property may take now: the names in the menu it refers to,
    then its keywords (``none``)."""
    out: dict[str, list[str]] = {}
    all_menus = menus_for(config.dialect)
    for prop in menu.properties:
        if prop.ref is None:
            continue
        target = all_menus.get(prop.ref)
        names: list[str] = []
        if target is not None and target.key is not None:
            names = [it.values.get(target.key, "") for it in config.table(prop.ref)]
        out[prop.name] = [n for n in names if n] + list(prop.ref_keywords)
    return out


def _error(exc: CommandError) -> web.Response:
    status = 403 if exc.message == NOT_PERMITTED else 400
    return web.json_response({"error": exc.message, "arg": exc.arg}, status=status)


async def items(request: web.Request) -> web.Response:
    session = require_session(request)
    menu = _menu_of(session, request.query.get("path"))
    try:
        table = commands.dispatch(session, menu.path, "print", {}).table
    except CommandError as exc:
        return _error(exc)
    rows = [row_json(r) for r in table.rows] if table is not None else []
    config = session.store.snapshot()
    return web.json_response({"path": "/".join(menu.path), "rows": rows,
                              "refs": ref_choices(config, menu)})  # fmt: skip


def _args(raw: object) -> dict[str, str]:
    if not isinstance(raw, Mapping) or len(raw) > MAX_ARGS:
        raise web.HTTPBadRequest(text='{"error": "bad arguments"}', content_type="application/json")
    out = {}
    for name, value in raw.items():
        if not isinstance(name, str) or not isinstance(value, str) or len(value) > MAX_VALUE:
            raise web.HTTPBadRequest(
                text='{"error": "bad arguments"}', content_type="application/json"
            )
        out[name] = value
    return out


def run_command(
    session: Session, menu: Menu, command: str, args: dict[str, str]
) -> commands.Result:
    """``command`` through the command layer; an emptied optional property of ``set`` is
    ``unset`` afterwards."""
    if command != "set":
        return commands.dispatch(session, menu.path, command, args)
    cleared = [
        name
        for name, value in args.items()
        if value == "" and menu.has(name) and menu.prop(name).unsettable
    ]
    for name in cleared:
        del args[name]
    result = commands.dispatch(session, menu.path, "set", args)
    if cleared:
        unset = {"value-name": ",".join(cleared)}
        if "numbers" in args:
            unset["numbers"] = args["numbers"]
        commands.dispatch(session, menu.path, "unset", unset)
    return result


async def run(request: web.Request) -> web.Response:
    from pyipsec.io.http_server import context_of

    session = require_session(request, write=True)
    try:
        body = await request.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(text='{"error": "bad JSON"}', content_type="application/json")
    menu = _menu_of(session, body.get("path"))
    command = body.get("command")
    if not isinstance(command, str) or command in ("print", "export", "edit"):
        raise web.HTTPBadRequest(text='{"error": "bad command"}', content_type="application/json")
    args = _args(body.get("args", {}))
    try:
        result = run_command(session, menu, command, args)
    except CommandError as exc:
        return _error(exc)
    finally:
        context_of(request).after_command()
    return web.json_response({"ret": result.ret})


def add_routes(app: web.Application) -> None:
    app.router.add_get("/web/menus", menus)
    app.router.add_get("/web/items", items)
    app.router.add_post("/web/run", run)
