"""The REST API (RouterOS 7 conventions, reference §4.7) over the one command layer.

``/rest/<menu path>`` is the console's path with ``/``; every request is HTTP basic
authenticated (io/http_server.basic_auth: the user's group needs ``rest-api``) and runs as
``commands.dispatch`` with a session of that user, so validation, look-up, formatting and
authorisation (``read``/``write``/``policy``/``sensitive``) are the console's:

============================  =============================================================
``GET /rest/<menu>``          ``print``: a JSON array (an object for settings menus); query
                              parameters are ANDed equality filters, ``.proplist=a,b``
``GET /rest/<menu>/<item>``   one item (``*1F`` or, in named menus, its name); 404 if none
``PUT /rest/<menu>``          ``add``: the created item
``PATCH /rest/<menu>/<item>`` ``set``: the changed item (``PATCH /rest/<settings menu>`` too)
``DELETE /rest/<menu>/<item>`` ``remove``: 204, no body
``POST /rest/<menu>/<cmd>``   any command with the JSON body as arguments (``print`` with
                              ``.proplist``/``.query``, ``flush``, ``kill-connections``,
                              ``enable``, ``disable``, ``move``, ``add``, ...); rows -> array,
                              ``ret`` -> ``{"ret": ...}``, nothing -> ``[]``
============================  =============================================================

Errors are ``{"error": <status>, "message": <reason>, "detail": <RouterOS's message>}``: 401
without valid credentials, 403 without the policy, 404 for an unknown path or item, 406 for a
command the menu does not have, 400 for a bad value or bad JSON, 413 for a body over the limit.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from aiohttp import web

from pyipsec.config.menus import menus_for, paths
from pyipsec.config.schema import Menu, MenuKind
from pyipsec.config.table import parse_id
from pyipsec.mgmt import commands
from pyipsec.mgmt.auth import READ_COMMANDS
from pyipsec.mgmt.base import CommandError, PrintResult, Result, Session
from pyipsec.mgmt.query import API_QUERY_SEP
from pyipsec.mgmt.rest.convert import (
    RestError,
    command_args,
    flag_words,
    parse_body,
    result_json,
    table_json,
)

if TYPE_CHECKING:
    from pyipsec.io.http_server import HttpContext

log = logging.getLogger("pyipsec.system")

PREFIX = "/rest"
NOT_PERMITTED = "not enough permissions (9)"
REALM = 'Basic realm="pyipsec"'
OFFLOAD_ROWS = 64  # listings with this many rows are encoded in a worker thread
SINGLE_KINDS = (MenuKind.SINGLE, MenuKind.RUNTIME_SINGLE)


def _dumps(data: object) -> str:
    return json.dumps(data, separators=(",", ":"))  # compact, as RouterOS writes it


def _json(data: object, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, dumps=_dumps)


def _error_response(exc: RestError) -> web.Response:
    response = _json(exc.body(), exc.status)
    if exc.status == 401:
        response.headers["WWW-Authenticate"] = REALM
    return response


def _status_of(exc: CommandError) -> int:
    if exc.message == NOT_PERMITTED:
        return 403
    if exc.message.startswith("bad command name"):
        return 406
    return 400


def _run(session: Session, path: tuple[str, ...], command: str, args: Mapping[str, str]) -> Result:
    try:
        return commands.dispatch(session, path, command, args)
    except CommandError as exc:
        detail = exc.message
        if exc.message.startswith("bad command name"):
            detail = f"no such command or directory ({command})"
        raise RestError(_status_of(exc), detail) from exc


# -- the target of a path ---------------------------------------------------------------------


def _segments(request: web.Request) -> tuple[str, ...]:
    tail = request.match_info.get("tail", "")
    return tuple(s for s in tail.split("/") if s)


def _split(menus: Mapping[tuple[str, ...], Menu], segs: tuple[str, ...]) -> tuple[Menu, str | None]:
    """(menu, last segment or None) of a path naming a menu or something in one."""
    menu = menus.get(segs)
    if menu is not None:
        return menu, None
    menu = menus.get(segs[:-1]) if segs else None
    if menu is None:
        raise RestError(404)
    return menu, segs[-1]


def _item_query(menu: Menu, spec: str) -> str:
    """The ``.query`` that selects the item a URL names (``*1F``, or a name)."""
    if spec.startswith("*"):
        if parse_id(spec) is None:
            raise RestError(404)
        return f".id={spec}"
    if menu.key is None or menu.kind is not MenuKind.LIST:
        raise RestError(404)
    return f"{menu.key}={spec}"


# -- handlers ---------------------------------------------------------------------------------


def _get_item(session: Session, menu: Menu, spec: str, proplist: str | None) -> dict[str, str]:
    args = {".query": _item_query(menu, spec)}
    if proplist is not None:
        args[".proplist"] = proplist
    table = _run(session, menu.path, "print", args).table
    rows = table_json(table) if table is not None else []
    if not rows:
        raise RestError(404)
    return rows[0]


def _get(
    session: Session, menu: Menu, spec: str | None, params: Sequence[tuple[str, str]]
) -> object:
    """``params``: the query string's pairs in order (a name may repeat: each is a filter)."""
    proplist = next((v for n, v in params if n == ".proplist"), None)
    if spec is not None:
        if any(n != ".proplist" for n, _ in params):
            raise RestError(400, "filters apply to a list, not to one item")
        return _get_item(session, menu, spec, proplist)
    args: dict[str, str] = {}
    if proplist is not None:
        args[".proplist"] = proplist
    words = []
    for name, value in params:
        if name == ".proplist":
            continue
        if name == ".query":
            words += value.split(",")
            continue
        if not (menu.has(name) or name in menu.flag_names or name == ".id"):
            raise RestError(400, f"unknown parameter {name}")
        words.append(f"{name}={value}")
    if words:
        if menu.kind in SINGLE_KINDS:
            raise RestError(400, "filters apply to a list")
        args[".query"] = API_QUERY_SEP.join(flag_words(menu, words))
    table = _run(session, menu.path, "print", args).table
    if menu.kind in SINGLE_KINDS:
        rows = table_json(table) if table is not None else []
        return rows[0] if rows else {}
    return table if table is not None else []


def _values(body: Mapping[str, Any]) -> dict[str, str]:
    args = command_args(body)
    for name in (".id", "numbers", ".proplist", ".query"):
        args.pop(name, None)
    return args


def _put(session: Session, menu: Menu, body: Mapping[str, Any]) -> object:
    if menu.kind is not MenuKind.LIST:
        raise RestError(406, "no such command or directory (add)")
    ret = _run(session, menu.path, "add", _values(body)).ret or ""
    return _get_item(session, menu, ret, None)


def _patch(session: Session, menu: Menu, spec: str | None, body: Mapping[str, Any]) -> object:
    args = _values(body)
    if spec is None:
        if menu.kind is not MenuKind.SINGLE:
            raise RestError(404)
        _run(session, menu.path, "set", args)
        return _get(session, menu, None, ())
    found = _get_item(session, menu, spec, ".id")  # 404 before anything is tried
    _run(session, menu.path, "set", {"numbers": found[".id"], **args})
    return _get_item(session, menu, found[".id"], None)


def _delete(session: Session, menu: Menu, spec: str) -> None:
    found = _get_item(session, menu, spec, ".id")
    _run(session, menu.path, "remove", {"numbers": found[".id"]})


def _post(session: Session, segs: tuple[str, ...], body: Mapping[str, Any]) -> object:
    dialect = session.store.snapshot().dialect
    menus = menus_for(dialect)
    if segs and segs[-1] == "export" and segs[:-1] in paths(dialect):
        return result_json(_run(session, segs[:-1], "export", command_args(body)))
    menu, command = _split(menus, segs)
    if command is None:
        raise RestError(404)
    args = command_args(body)
    if ".query" in args:
        args[".query"] = API_QUERY_SEP.join(flag_words(menu, args[".query"].split(API_QUERY_SEP)))
    result = _run(session, menu.path, command, args)
    if result.table is not None and result.table.mode != "count-only":
        return result.table  # encoded by handle (off the loop when large)
    return result_json(result)


WRITES = frozenset({"PUT", "PATCH", "DELETE", "POST"})


def _may_write(method: str, segs: tuple[str, ...]) -> bool:
    """Whether the request ran a command that may have changed something (then the daemon
    applies the configuration and runs the change feed): not for GET, nor a POST of print,
    get, find or export."""
    return method in WRITES and not (method == "POST" and segs and segs[-1] in READ_COMMANDS)


async def handle(request: web.Request) -> web.StreamResponse:
    from pyipsec.io.http_server import basic_auth, context_of

    context = context_of(request)
    session = await basic_auth(request, "rest")
    if session is None:
        return _error_response(RestError(401))
    segs = _segments(request)
    try:
        method = request.method
        body: dict[str, Any] = {}
        if method in WRITES:
            body = parse_body(await request.read())
        if method == "POST":
            data = _post(session, segs, body)
        else:
            menu, spec = _split(menus_for(session.store.snapshot().dialect), segs)
            if method == "GET":
                data = _get(session, menu, spec, list(request.query.items()))
            elif method == "PUT":
                if spec is not None:
                    raise RestError(404)
                data = _put(session, menu, body)
            elif method == "PATCH":
                data = _patch(session, menu, spec, body)
            elif method == "DELETE":
                if spec is None:
                    raise RestError(404)
                _delete(session, menu, spec)
                data = None
            else:
                raise RestError(405)
    except RestError as exc:
        return _error_response(exc)
    finally:
        if _may_write(request.method, segs):
            context.after_command()
    if data is None:
        return web.Response(status=204)
    if isinstance(data, PrintResult):
        if len(data.rows) < OFFLOAD_ROWS:
            return _json(table_json(data))
        # a large listing is turned into JSON in a worker thread: the loop (IKE, the data
        # plane) gets the interpreter back every switch interval instead of waiting for it
        loop = asyncio.get_running_loop()
        text = await loop.run_in_executor(None, _encode_table, data)
        return web.Response(text=text, content_type="application/json")
    return _json(data)


def _encode_table(table: PrintResult) -> str:
    return _dumps(table_json(table))


@web.middleware
async def rest_errors(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """aiohttp's own errors under /rest (413, 405, 404) in RouterOS's JSON form; anything
    unexpected is logged and answered 500 without details."""
    if not (request.path == PREFIX or request.path.startswith(PREFIX + "/")):
        return await handler(request)
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return _error_response(RestError(exc.status))
    except Exception:
        log.exception("REST %s %s failed", request.method, request.path)
        return _error_response(RestError(500))


def add_routes(app: web.Application, context: HttpContext) -> None:
    """Route ``/rest/...`` (every method) to :func:`handle`."""
    app.middlewares.append(rest_errors)
    app.router.add_route("*", PREFIX + "/{tail:.*}", handle)
    app.router.add_route("*", PREFIX, handle)
