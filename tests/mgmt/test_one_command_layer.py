"""Issue 12's architecture, read from the source (docs/issue12-acceptance.md): one command layer
(mgmt/commands.py) serves the console, the API, REST and the web page. The front-ends never
write the database themselves (no ``store.transaction``/``load``), never parse or validate a
property value (no ``parse_value``/``parse_props``/``Type.parse``), and reach commands through
``commands.dispatch`` (where authorisation is checked). HTTP is aiohttp's (no hand-written
parser: no request-line or header splitting in pyipsec), TLS the standard ``ssl`` module, and
the API's sockets are asyncio's, on the daemon's loop."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "pyipsec"
FRONT_ENDS = [
    *sorted((SRC / "mgmt" / "api").glob("*.py")),
    *sorted((SRC / "mgmt" / "rest").glob("*.py")),
    *sorted((SRC / "mgmt" / "web").glob("*.py")),
    SRC / "io" / "api_server.py",
    SRC / "io" / "http_server.py",
]
FORBIDDEN_CALLS = {"transaction", "load", "parse_value", "parse_props", "parse"}


def _calls(tree: ast.AST) -> list[tuple[str, int]]:
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            f = node.func
            name = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")
            out.append((name, node.lineno))
    return out


def _imports(tree: ast.AST) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_front_ends_do_not_write_or_validate_on_their_own() -> None:
    assert all(p.exists() for p in FRONT_ENDS) and len(FRONT_ENDS) > 8
    bad = []
    for path in FRONT_ENDS:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for name, line in _calls(tree):
            # json.loads is a parse of the request body, not of a property value
            if name in FORBIDDEN_CALLS:
                bad.append(f"{path.relative_to(SRC)}:{line}: {name}()")
    assert bad == []


def test_every_front_end_dispatches_through_the_command_layer() -> None:
    dispatching = {
        "api": SRC / "mgmt" / "api" / "connection.py",
        "rest": SRC / "mgmt" / "rest" / "routes.py",
        "web config": SRC / "mgmt" / "web" / "config_view.py",
        "web live": SRC / "mgmt" / "web" / "live.py",
    }
    for front, path in dispatching.items():
        calls = {name for name, _ in _calls(ast.parse(path.read_text(encoding="utf-8")))}
        assert "dispatch" in calls, front


def test_http_is_aiohttp_tls_is_ssl_and_nothing_parses_http_by_hand() -> None:
    http = _imports(ast.parse((SRC / "io" / "http_server.py").read_text(encoding="utf-8")))
    api = _imports(ast.parse((SRC / "io" / "api_server.py").read_text(encoding="utf-8")))
    assert "aiohttp" in http and "ssl" in http and "ssl" in api and "asyncio" in api
    for path in SRC.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "HTTP/1." not in text, path  # a request/status line written or parsed by hand
        assert "http.server" not in _imports(ast.parse(text)), path
