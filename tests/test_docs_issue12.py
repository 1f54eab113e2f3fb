"""Issue 12's documentation points: the README shows how to reach the API, REST and the web
page; docs/ has a page for each, and the web page's shows screenshots that exist (PNG, of a
real size); docs/issue12-acceptance.md names only tests that exist (every node id in it)."""

from __future__ import annotations

import ast
import re
import struct
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
NODE = re.compile(r"\b(tests/[\w/]+\.py)::(\w+)")


def test_readme_shows_each_interface() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for needle in ("8728", "8729", "/rest/ip/ipsec/policy", "http://<router>/"):
        assert needle in readme, needle
    for page in ("docs/api.md", "docs/rest.md", "docs/web.md"):
        assert page in readme, page


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", path
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_docs_pages_and_screenshots() -> None:
    for page in ("api.md", "rest.md", "web.md"):
        assert (DOCS / page).stat().st_size > 1000, page
    web = (DOCS / "web.md").read_text(encoding="utf-8")
    images = re.findall(r"!\[[^\]]*\]\(([^)]+\.png)\)", web)
    assert "images/web-dashboard.png" in images
    for image in images:
        width, height = _png_size(DOCS / image)
        assert width >= 800 and height >= 400, image


def test_acceptance_doc_names_only_existing_tests() -> None:
    text = (DOCS / "issue12-acceptance.md").read_text(encoding="utf-8")
    nodes = set(NODE.findall(text))
    assert len(nodes) > 60
    missing = []
    for file, name in sorted(nodes):
        path = ROOT / file
        if not path.exists():
            missing.append(f"{file}::{name}")
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        defined = {
            n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)
        } | {
            t.id
            for n in tree.body
            if isinstance(n, ast.Assign)
            for t in n.targets
            if isinstance(t, ast.Name)
        }
        if name not in defined or not name.startswith("test_"):
            missing.append(f"{file}::{name}")
    assert missing == []
