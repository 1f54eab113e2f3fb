"""The sans-IO rule of DESIGN.md, enforced: the pure packages do no I/O of their own.

Nothing under wire/, crypto/, core/, config/ (except its persistence module) or the packet
engine of dataplane/ may import an I/O or event-loop module, read the wall clock, or draw
randomness from the OS. Time and randomness come in as arguments.

And no import cycles under core/ (the second half of this module).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src" / "pyipsec"

PURE_DIRS = ["wire", "crypto", "core", "config", "dataplane"]
# I/O shells that live inside otherwise pure packages.
EXEMPT = {
    "config/store.py",
    "dataplane/userspace",
    "dataplane/xfrm",
}
FORBIDDEN_MODULES = {
    "asyncio",
    "socket",
    "select",
    "selectors",
    "time",
    "random",
    "secrets",
    "threading",
    "subprocess",
    "sqlite3",
}
FORBIDDEN_ATTRS = {("os", "urandom"), ("datetime", "now"), ("datetime", "utcnow")}


def pure_files() -> list[Path]:
    files: list[Path] = []
    for d in PURE_DIRS:
        for path in sorted((SRC / d).rglob("*.py")):
            rel = path.relative_to(SRC).as_posix()
            if any(rel == e or rel.startswith(e + "/") for e in EXEMPT):
                continue
            files.append(path)
    return files


def violations(source: str) -> list[str]:
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [
                f"import {a.name}" for a in node.names if a.name.split(".")[0] in FORBIDDEN_MODULES
            ]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.split(".")[0] in FORBIDDEN_MODULES:
                found.append(f"from {node.module} import ...")
            if node.module == "os":
                found += [f"from os import {a.name}" for a in node.names if a.name == "urandom"]
        elif isinstance(node, ast.Attribute):
            receiver = node.value
            name = receiver.id if isinstance(receiver, ast.Name) else None
            if isinstance(receiver, ast.Attribute):
                name = receiver.attr  # datetime.datetime.now -> ("datetime", "now")
            if name is not None and (name, node.attr) in FORBIDDEN_ATTRS:
                found.append(f"{name}.{node.attr}")
    return found


def test_pure_packages_exist() -> None:
    assert len(pure_files()) >= len(PURE_DIRS)


@pytest.mark.parametrize("path", pure_files(), ids=lambda p: p.relative_to(SRC).as_posix())
def test_pure_module_does_no_io(path: Path) -> None:
    assert violations(path.read_text()) == []


@pytest.mark.parametrize(
    "snippet",
    [
        "import asyncio",
        "import socket as s",
        "from time import monotonic",
        "import os\nx = os.urandom(4)",
        "from os import urandom",
        "import datetime\ndatetime.datetime.now()",
        "import secrets",
    ],
)
def test_checker_catches(snippet: str) -> None:
    assert violations(snippet)


def test_checker_allows_plain_code() -> None:
    assert violations("import os.path\nimport hmac\nfrom dataclasses import dataclass") == []


# --- no import cycles under core/ ------------------------------------------------------------
#
# Every module under core/ can be understood (and imported) after the modules it imports, the
# IKEv1 engine's step modules included. The graph has an edge for every import a module
# executes, at the top or inside a function (a function-level import hides a cycle, it does not
# remove it); imports under ``if TYPE_CHECKING:`` are for annotations only and are not edges: a
# step module that needs the engine's type takes it that way (core/ikev1/deletion.py, ...).

SRC_ROOT = SRC.parent
CORE = "pyipsec.core"
# Cycles tolerated, each only among these modules: none (the IKEv2 exchanges' shared payload
# helpers live in core/ikev2/message_parts.py, which imports none of them).
KNOWN_CYCLE_MODULES: frozenset[str] = frozenset()


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC_ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    root = SRC_ROOT / Path(*CORE.split("."))
    return {module_name(p): p for p in sorted(root.rglob("*.py"))}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _runtime_imports(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    """Every import statement except those inside ``if TYPE_CHECKING:`` blocks."""
    found: list[ast.Import | ast.ImportFrom] = []

    def walk(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:
                walk(child)
            return
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
        for child in ast.iter_child_nodes(node):
            walk(child)

    walk(tree)
    return found


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """The modules of ``known`` that ``name`` imports when it runs."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    out: set[str] = set()
    for node in _runtime_imports(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        else:
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            # `from package import module` imports the module; `from module import name` not
            targets = [base] + [f"{base}.{a.name}" for a in node.names]
        out |= {t for t in targets if t in known and t != name}
    return out


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def graph() -> dict[str, set[str]]:
    mods = modules()
    known = set(mods)
    return {name: imports_of(name, path, known) for name, path in mods.items()}


def test_the_graph_sees_the_engines_imports() -> None:
    g = graph()
    assert "pyipsec.core.ikev1.quick_mode" in g["pyipsec.core.ikev1.engine"]
    assert "pyipsec.core.ikev1.ike_sa" in g["pyipsec.core.ikev1.deletion"]
    # a TYPE_CHECKING import is not an edge
    assert "pyipsec.core.ikev1.engine" not in g["pyipsec.core.ikev1.deletion"]


def test_cycle_detection_finds_a_function_level_cycle() -> None:
    g = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(g) == [["a", "b", "c"]]


def test_no_import_cycles_under_core() -> None:
    found = cycles(graph())
    assert [c for c in found if not set(c) <= KNOWN_CYCLE_MODULES] == []


# --- issue 10's architecture: shared seams, module size ----------------------------------------

# The seams both IKE engines stand on (docs/ikev2.md, ../shared/reference/seams-for-ikev2-and-api.md
# S1-S8): records and events, errors, retransmission, admission and rate limits, proposal
# matching, selectors, credentials and certificate checks, liveness, the unknown-SPI rule.
SHARED_SEAMS = frozenset(
    f"{CORE}.{name}"
    for name in (
        "admission",
        "certauth",
        "child_sa",
        "credentials",
        "engine_base",
        "errors",
        "events",
        "kex_pool",
        "liveness",
        "profiles",
        "proposals",
        "ratelimit",
        "retransmit",
        "selectors",
        "unknown_spi",
    )
)


def test_both_engines_stand_on_the_shared_seams() -> None:
    """Issue 10: IKEv2 is built beside IKEv1 on one set of shared modules, not on copies:
    each engine package imports every shared seam, itself or through the base class both
    engines inherit their shell plumbing from (core/engine_base.py); IKEv2's task manager
    took its own retransmission schedule before), and neither imports the other."""
    g = graph()
    for version in ("ikev1", "ikev2"):
        package = f"{CORE}.{version}"
        used = set().union(*(deps for m, deps in g.items() if m.startswith(package + ".")))
        if f"{CORE}.engine_base" in used:  # the shell plumbing both engines inherit
            used |= g[f"{CORE}.engine_base"]
        assert SHARED_SEAMS - used == set(), f"{version} does not use {SHARED_SEAMS - used}"
        other = f"{CORE}.{'ikev2' if version == 'ikev1' else 'ikev1'}"
        assert not {d for d in used if d.startswith(other)}, f"{version} imports {other}"


MAX_MODULE_LINES = 800


def test_modules_stay_under_800_lines() -> None:
    """House style and issue 10: modules stay under ~800 lines (split by task when one grows)."""
    long = {
        str(p.relative_to(SRC_ROOT)): n
        for p in sorted(SRC.rglob("*.py"))
        if (n := len(p.read_text().splitlines())) > MAX_MODULE_LINES
    }
    assert long == {}, long
