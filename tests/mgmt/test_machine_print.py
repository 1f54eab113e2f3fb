"""The command layer as machine callers (API, REST, web) use it: full rows from ``print``,
``.proplist``, the API's ``?`` query words compiled into mgmt/query.py's tree (reference §4.4,
MikroTik's API page: the stack machine and librouteros' own query words), stable runtime
``.id``s, and the change feed behind ``listen``."""

from __future__ import annotations

import pytest

from pyipsec.config.store import Store
from pyipsec.mgmt import query
from pyipsec.mgmt.base import RuntimeRow, Session, console_values
from pyipsec.mgmt.changes import ADDED, CHANGED, REMOVED, Change, ChangeFeed
from pyipsec.mgmt.commands import CommandError, NullRuntime, dispatch
from pyipsec.mgmt.stable_ids import StableIds
from tests.mgmt.helpers import Console

POLICY = ("ip", "ipsec", "policy")
PEER = ("ip", "ipsec", "peer")
SEP = query.API_QUERY_SEP


def session() -> Session:
    return Session(store=Store(":memory:"))


def rows(s: Session, path: tuple[str, ...], **args: str) -> list[dict[str, str]]:
    result = dispatch(s, path, "print", args)
    assert result.table is not None
    return [{".id": f"*{r.id:X}", **dict(r.values)} for r in result.table.rows]


def add_policies(s: Session) -> None:
    for n, (src, disabled) in enumerate(
        [("10.1.0.0/16", "no"), ("10.2.0.0/16", "yes"), ("10.3.0.0/16", "no")]
    ):
        dispatch(
            s,
            POLICY,
            "add",
            {"src-address": src, "dst-address": f"10.9.{n}.0/24", "disabled": disabled},
        )


def test_print_rows_carry_defaults_the_console_hides() -> None:
    s = session()
    dispatch(s, PEER, "add", {"address": "203.0.113.5/32", "secret": "k"})
    (row,) = rows(s, PEER)
    # the console's peer print hides these defaults; a machine caller gets them all
    assert row["exchange-mode"] == "main"
    assert row["disabled"] == "no"
    assert row["secret"] == "k"
    console = Console(s.store)
    text = console.ok("/ip ipsec peer print")
    assert "disabled=" not in text and "address=203.0.113.5/32" in text


def test_console_values_drop_hidden_defaults() -> None:
    s = session()
    add_policies(s)
    result = dispatch(s, POLICY, "print", {})
    assert result.table is not None
    full = dict(result.table.rows[1].values)
    shown = dict(console_values(result.table.menu, result.table.rows[1]))
    assert set(shown) < set(full)


def test_sensitive_values_need_the_sensitive_policy() -> None:
    s = session()
    dispatch(s, PEER, "add", {"address": "203.0.113.5/32", "secret": "k"})
    s.policies = frozenset({"read", "api"})
    (row,) = rows(s, PEER)
    assert "secret" not in row and row["address"] == "203.0.113.5/32"


def test_proplist_keeps_only_the_named_properties() -> None:
    s = session()
    add_policies(s)
    got = rows(s, POLICY, **{".proplist": "src-address,comment"})
    assert all(r.keys() <= {".id", "src-address", "comment"} for r in got)
    assert [r["src-address"] for r in got][-3:] == ["10.1.0.0/16", "10.2.0.0/16", "10.3.0.0/16"]


def api_query(s: Session, *words: str) -> list[str]:
    got = rows(s, POLICY, **{".query": SEP.join(w.removeprefix("?") for w in words)})
    return [r["src-address"] for r in got]


def test_api_query_equality_is_typed() -> None:
    s = session()
    add_policies(s)
    # librouteros sends booleans as yes/no and ids as *N (reference §4.4)
    assert api_query(s, "?=disabled=yes") == ["10.2.0.0/16"]
    assert api_query(s, "?disabled=true") == ["10.2.0.0/16"]
    assert api_query(s, "?=src-address=10.1.0.0/16") == ["10.1.0.0/16"]
    # the canonical form of a prefix: a host bit set is compared after parsing
    ids = [r[".id"] for r in rows(s, POLICY)]
    assert api_query(s, f"?=.id={ids[-1]}") == ["10.3.0.0/16"]


def test_api_query_stack_operations() -> None:
    s = session()
    add_policies(s)
    # MikroTik's example: ?type=ether ?type=vlan ?#| (either)
    assert api_query(s, "?src-address=10.1.0.0/16", "?src-address=10.3.0.0/16", "?#|") == [
        "10.1.0.0/16",
        "10.3.0.0/16",
    ]
    # librouteros: Key != value -> ?=k=v ?#!
    got = api_query(s, "?=disabled=no", "?#!")
    assert got == ["10.2.0.0/16"]
    # implicit AND of what remains on the stack
    assert api_query(s, "?=disabled=no", "?=dst-address=10.9.2.0/24") == ["10.3.0.0/16"]
    # librouteros In(): three ?= words then ?#| twice
    three = api_query(
        s,
        "?=src-address=10.1.0.0/16",
        "?=src-address=10.2.0.0/16",
        "?=src-address=10.9.9.0/24",
        "?#|",
        "?#|",
    )
    assert three == ["10.1.0.0/16", "10.2.0.0/16"]
    # ?#& explicit and; an index at the end of a word replaces the stack with that value
    assert api_query(s, "?=disabled=no", "?=src-address=10.3.0.0/16", "?#&") == ["10.3.0.0/16"]
    assert api_query(s, "?=disabled=yes", "?=src-address=10.3.0.0/16", "?#1") == ["10.2.0.0/16"]
    # "." duplicates the top; "!" on the copy gives x and not x: nothing
    assert api_query(s, "?=disabled=yes", "?#.!&") == []


def test_api_query_presence_and_order() -> None:
    s = session()
    add_policies(s)
    dispatch(s, POLICY, "comment", {"numbers": "1", "comment": "x"})
    # ?name: has a value; ?-name: has none
    assert api_query(s, "?comment") == ["10.1.0.0/16"]
    assert "10.1.0.0/16" not in api_query(s, "?-comment")
    # ?>comment= : non-empty comment (MikroTik's example)
    assert api_query(s, "?>comment=") == ["10.1.0.0/16"]
    assert api_query(s, "?<dst-address=10.9.1.0", "?=template=no") == ["10.1.0.0/16"]


@pytest.mark.parametrize("word", ["#x", "-", "=", "-a=b", "=name"])
def test_bad_query_words_are_command_errors(word: str) -> None:
    s = session()
    with pytest.raises(CommandError):
        rows(s, POLICY, **{".query": word})


def test_find_takes_api_queries_too() -> None:
    s = session()
    add_policies(s)
    ret = dispatch(s, POLICY, "find", {".query": "=disabled=yes"}).ret
    assert ret is not None and len(ret.split(";")) == 1


def test_stable_ids_survive_other_rows_going() -> None:
    ids = StableIds()
    assert ids.assign(["a", "b", "c"]) == [1, 2, 3]
    assert ids.assign(["b", "c"]) == [2, 3]  # list positions moved, ids did not
    assert ids.assign(["d", "b", "b"]) == [4, 2, 5]  # equal keys told apart by rank
    assert ids.assign(["a"]) == [6]  # a key that went away comes back as a new row


class Rows(NullRuntime):
    def __init__(self) -> None:
        self.current: list[RuntimeRow] = []

    def rows(self, path: tuple[str, ...]) -> list[RuntimeRow]:
        return self.current if path == ("ip", "ipsec", "installed-sa") else []


def test_change_feed_reports_commands_of_any_session() -> None:
    store = Store(":memory:")
    feed = ChangeFeed(store)
    seen: list[Change] = []
    feed.subscribe(POLICY, seen.append)
    other: list[Change] = []
    feed.subscribe(PEER, other.append)
    s = Session(store=store)
    new = dispatch(s, POLICY, "add", {"src-address": "10.1.0.0/16", "dst-address": "10.2.0.0/16"})
    assert new.ret is not None
    feed.check()
    item_id = int(new.ret[1:], 16)
    assert [(c.id, c.kind) for c in seen] == [(item_id, ADDED)]
    assert seen[0].generation == store.generation()
    dispatch(s, POLICY, "set", {"numbers": new.ret, "comment": "c"})
    dispatch(s, POLICY, "remove", {"numbers": new.ret})
    feed.check()
    # two commands between two checks: the item is gone, which is what the feed says
    assert [(c.id, c.kind) for c in seen[1:]] == [(item_id, REMOVED)]
    assert other == []
    assert feed.check() == []  # nothing new: no change


def test_change_feed_runtime_rows() -> None:
    store = Store(":memory:")
    runtime = Rows()
    feed = ChangeFeed(store, runtime)
    seen: list[Change] = []
    sub = feed.subscribe(("ip", "ipsec", "installed-sa"), seen.append)
    runtime.current = [RuntimeRow(id=7, values={"spi": "0x1"})]
    feed.check()
    runtime.current = [RuntimeRow(id=7, values={"spi": "0x1", "current-bytes": "5"})]
    feed.check()
    runtime.current = []
    feed.check()
    assert [(c.id, c.kind) for c in seen] == [(7, ADDED), (7, CHANGED), (7, REMOVED)]
    sub.close()
    assert feed.subscribers == 0
