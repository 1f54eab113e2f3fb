"""Issue 12 acceptance (docs/issue12-acceptance.md): the web page's configuration view covers
every ``/ip ipsec`` menu of both dialects, not only policies (tests/mgmt/test_web.py): for each
list menu the page offers, add, edit (set), disable / enable where the menu has them, and
remove through ``/web/run`` change the database as the console's commands would, the rows come
back from ``/web/items``, and a refused value or a missing item gets the console's own text
with nothing changed; single menus (settings) are edited the same way."""

from __future__ import annotations

from typing import Any

from pyipsec.config.menus import menus_for
from pyipsec.config.schema import Menu
from tests.mgmt.helpers import Console
from tests.mgmt.web_harness import Web, web_test

# the least an add needs in each menu (the console's required properties)
MINIMAL: dict[str, dict[str, str]] = {
    "ip/ipsec/user": {"name": "u1", "password": "pw"},
    "ip/ipsec/identity": {"peer": "p1"},
    "ip/ipsec/profile": {"name": "prof1"},
}


def _rows(web: Web, path: str) -> list[Any]:
    return list(web.store.snapshot().table(tuple(path.split("/"))))


def _bad_choice(menu: Menu) -> str | None:
    """A writable property with a fixed set of values (``bogus`` is none of them)."""
    for prop in menu.properties:
        choices = getattr(prop.type, "choices", None)
        if prop.readonly or choices is None or not list(choices()):
            continue
        return prop.name
    return None


async def _every_menu(web: Web, dialect: str) -> None:
    csrf = await web.login()
    console = Console(web.store)
    if dialect == "v7":
        console.ok("/ip ipsec peer add name=p1 address=203.0.113.1/32")
    data = await (await web.client.get("/web/menus")).json()
    menus = menus_for(dialect)
    seen = []
    for entry in data["menus"]:
        path, commands = entry["path"], set(entry["commands"])
        menu = menus[tuple(path.split("/"))]
        if "set" not in commands:
            continue  # runtime menus: their buttons are tested in test_web.py
        seen.append(path)
        bad = _bad_choice(menu)
        if entry["kind"] == "single":
            if bad is not None:
                before = console.ok(f"/{path.replace('/', ' ')} export verbose")
                status, body = await web.run(csrf, path, "set", **{bad: "bogus"})
                said = console.run(f"/{path.replace('/', ' ')} set {bad}=bogus").strip()
                assert status == 400 and body["error"] == said != "", (path, body, said)
                assert console.ok(f"/{path.replace('/', ' ')} export verbose") == before
            continue
        count = len(_rows(web, path))
        if "add" in commands:
            status, body = await web.run(csrf, path, "add", **MINIMAL.get(path, {}))
            assert status == 200, (path, body)
            new = body["ret"]
            assert len(_rows(web, path)) == count + 1
        else:  # keys: generate-key is the console's way in
            console.ok("/ip ipsec key generate-key name=k1 key-size=1024")
            new = "*" + format(_rows(web, path)[-1].id, "X")
        items = await (await web.client.get(f"/web/items?path={path}")).json()
        assert new in [r[".id"] for r in items["rows"]], path
        if "comment" in commands:
            status, body = await web.run(csrf, path, "set", numbers=new, comment="from web")
            assert status == 200, (path, body)
            item = next(it for it in _rows(web, path) if f"*{it.id:X}" == new)
            assert item.values.get("comment") == "from web", path
        if "disable" in commands:
            for command, flag in (("disable", "yes"), ("enable", "no")):
                status, body = await web.run(csrf, path, command, numbers=new)
                assert status == 200, (path, command, body)
                item = next(it for it in _rows(web, path) if f"*{it.id:X}" == new)
                assert item.values.get("disabled", "no") == flag, (path, command)
        generation = web.store.generation()
        if bad is not None:
            status, body = await web.run(csrf, path, "set", numbers=new, **{bad: "bogus"})
            said = console.run(f"/{path.replace('/', ' ')} set {new} {bad}=bogus").strip()
            assert status == 400 and body["error"] == said != "", (path, body, said)
        status, body = await web.run(csrf, path, "remove", numbers="*FFFF")
        expected = console.run(f"/{path.replace('/', ' ')} remove *FFFF").strip()
        assert status == 400 and body["error"] == expected == "no such item", (path, body)
        assert web.store.generation() == generation  # the refusals changed nothing
        status, body = await web.run(csrf, path, "remove", numbers=new)
        assert status == 200, (path, body)
        assert len(_rows(web, path)) == count
    expected_menus = [
        "/".join(p)
        for p, m in menus.items()
        if p[:2] == ("ip", "ipsec") and m.kind.name in ("LIST", "SINGLE")
    ]
    assert sorted(seen) == sorted(expected_menus)


test_every_v6_menu_through_the_web_view = web_test(lambda web: _every_menu(web, "v6"), dialect="v6")
test_every_v7_menu_through_the_web_view = web_test(lambda web: _every_menu(web, "v7"), dialect="v7")
