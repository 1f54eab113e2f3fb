"""The RouterOS API protocol without sockets (mgmt/api): the length codec against the table of
MikroTik's API page (reference §4.1) and librouteros' own encoder (an independent
implementation), the incremental decoder's limits, and a connection driven in memory:
login, tags, traps, listen and cancel."""

from __future__ import annotations

from pathlib import Path

import pytest
from librouteros import protocol as lr

from pyipsec.config.store import Store
from pyipsec.mgmt.api.codec import (
    ApiProtocolError,
    SentenceDecoder,
    encode_length,
    encode_sentence,
)
from pyipsec.mgmt.api.connection import MAX_FAILED_LOGINS, MAX_UNAUTHENTICATED, ApiConnection
from pyipsec.mgmt.auth import Accounts
from pyipsec.mgmt.base import NullRuntime, RuntimeRow
from pyipsec.mgmt.changes import ChangeFeed
from tests.mgmt.helpers import Console

# MikroTik's API page: (length, encoding)
LENGTHS = [
    (0, "00"),
    (0x7F, "7f"),
    (0x80, "8080"),
    (0x3FFF, "bfff"),
    (0x4000, "c04000"),
    (0x1FFFFF, "dfffff"),
    (0x200000, "e0200000"),
    (0xFFFFFFF, "efffffff"),
    (0x10000000, "f010000000"),
]


@pytest.mark.parametrize(("n", "hex_"), LENGTHS)
def test_length_encoding_matches_the_table(n: int, hex_: str) -> None:
    assert encode_length(n).hex() == hex_
    if n < 0x10000000:  # librouteros cannot encode the 5-octet form
        assert encode_length(n) == lr.encode_length(n)


def test_decoder_reassembles_across_reads_and_skips_empty_sentences() -> None:
    data = encode_sentence(["/login", "=name=admin", "=password=" + "x" * 200]) + b"\x00"
    data += encode_sentence(["/quit"])
    dec = SentenceDecoder()
    got = []
    for i in range(len(data)):
        got += dec.feed(data[i : i + 1])
    assert got == [["/login", "=name=admin", "=password=" + "x" * 200], ["/quit"]]
    # and what librouteros writes decodes the same
    assert SentenceDecoder().feed(lr.encode_sentence("/a", "=b=c", encoding="ASCII")) == [
        ["/a", "=b=c"]
    ]


@pytest.mark.parametrize(
    "data",
    [b"\xf8", b"\xff\x00", encode_length(5000) + b"x" * 5000, b"\x01a" * 5000],
    ids=["control-byte", "control-byte-2", "oversized-word", "oversized-sentence"],
)
def test_decoder_limits(data: bytes) -> None:
    with pytest.raises(ApiProtocolError):
        SentenceDecoder().feed(data)


def test_too_many_words() -> None:
    with pytest.raises(ApiProtocolError):
        SentenceDecoder(max_sentence=1 << 20, max_words=10).feed(b"\x01a" * 11)


class Client:
    """A connection driven in memory: send sentences, read reply sentences."""

    def __init__(self, store: Store, feed: ChangeFeed | None = None) -> None:
        self.conn = ApiConnection(
            store=store, accounts=Accounts(store=store), address="127.0.0.1", feed=feed
        )
        self.dec = SentenceDecoder(max_sentence=1 << 24)

    def send(self, *words: str) -> list[list[str]]:
        logins = self.conn.receive_data(encode_sentence(words))
        while logins:
            login = logins.pop(0)
            login.attempt.check(login.password)
            logins += self.conn.login_checked(login)
        return self.dec.feed(self.conn.data_to_send())

    def pending(self) -> list[list[str]]:
        return self.dec.feed(self.conn.data_to_send())


def setup_store() -> Store:
    c = Console()
    c.ok("/user add name=alice group=full password=pw")
    c.ok("/user add name=reader group=read password=pw")
    return c.store


def test_login_then_commands_with_tags() -> None:
    store = setup_store()
    cl = Client(store)
    assert cl.send("/ip/ipsec/policy/print") == [
        ["!trap", "=category=0", "=message=not logged in"],
        ["!done"],
    ]
    assert cl.send("/login", "=name=alice", "=password=bad") == [
        ["!trap", "=message=invalid user name or password (6)"],
        ["!done"],
    ]
    assert cl.send("/login", "=name=alice", "=password=pw", ".tag=a") == [["!done", ".tag=a"]]
    reply = cl.send(
        "/ip/ipsec/policy/add", "=src-address=10.1.0.0/16", "=dst-address=10.2.0.0/16", ".tag=7"
    )
    assert reply[0][0] == "!done" and reply[0][1].startswith("=ret=*") and reply[0][2] == ".tag=7"
    new_id = reply[0][1][5:]
    rows = cl.send(
        "/ip/ipsec/policy/print", "=.proplist=.id,src-address,disabled", f"?=.id={new_id}"
    )
    assert rows == [
        ["!re", f"=.id={new_id}", "=src-address=10.1.0.0/16", "=disabled=false"],
        ["!done"],
    ]
    assert cl.send("/ip/ipsec/policy/print", "=count-only=") == [["!done", "=ret=2"]]
    assert cl.send("/ip/ipsec/policy/remove", "=.id=*FFF") == [
        ["!trap", "=category=0", "=message=no such item"],
        ["!done"],
    ]
    assert cl.send("/ip/ipsec/nothing/print")[0] == [
        "!trap",
        "=category=0",
        "=message=no such command or directory (print)",
    ]
    assert cl.send("/quit") == [["!fatal", "session terminated on request"]]
    assert cl.conn.closed


def test_sentences_pipelined_behind_a_login_wait_for_it() -> None:
    store = setup_store()
    cl = Client(store)
    data = encode_sentence(["/login", "=name=alice", "=password=pw"]) + encode_sentence(
        ["/system/identity/print"]
    )
    (login,) = cl.conn.receive_data(data)
    login.attempt.check(login.password)
    assert cl.conn.login_checked(login) == []
    assert cl.pending() == [["!done"], ["!re", "=name=MikroTik"], ["!done"]]


def test_listen_and_cancel() -> None:
    store = setup_store()
    feed = ChangeFeed(store)
    listener, writer = Client(store, feed), Client(store, feed)
    listener.send("/login", "=name=reader", "=password=pw")
    writer.send("/login", "=name=alice", "=password=pw")
    assert listener.send("/ip/ipsec/peer/listen", ".tag=L") == []
    (done,) = writer.send("/ip/ipsec/peer/add", "=address=203.0.113.9/32", "=secret=x")
    new_id = done[1][5:]
    got = listener.pending()
    assert len(got) == 1 and got[0][0] == "!re" and got[0][-1] == ".tag=L"
    assert f"=.id={new_id}" in got[0] and "=address=203.0.113.9/32" in got[0]
    assert not any(w.startswith("=secret=") for w in got[0])  # reader lacks sensitive
    writer.send("/ip/ipsec/peer/remove", f"=.id={new_id}")
    assert listener.pending() == [["!re", f"=.id={new_id}", "=.dead=true", ".tag=L"]]
    assert listener.send("/cancel", "=tag=L", ".tag=C") == [
        ["!trap", "=category=2", "=message=interrupted", ".tag=L"],
        ["!done", ".tag=L"],
        ["!done", ".tag=C"],
    ]
    writer.send("/ip/ipsec/peer/add", "=address=203.0.113.10/32")
    assert listener.pending() == []
    assert feed.subscribers == 0


def test_read_user_cannot_write() -> None:
    store = setup_store()
    cl = Client(store)
    cl.send("/login", "=name=reader", "=password=pw")
    before = store.generation()
    assert cl.send("/ip/ipsec/peer/add", "=address=203.0.113.9/32") == [
        ["!trap", "=category=4", "=message=not enough permissions (9)"],
        ["!done"],
    ]
    assert store.generation() == before


@pytest.mark.parametrize(
    ("sentence", "trap"),
    [
        (("/ip/ipsec/policy/print",), ["!trap", "=category=0", "=message=not logged in"]),
        (("/login",), ["!trap", "=message=invalid user name or password (6)"]),
    ],
)
def test_unauthenticated_sentences_close_the_connection_at_the_limit(
    sentence: tuple[str, ...], trap: list[str]
) -> None:
    """A command before login and a bare /login are each trapped; the MAX_UNAUTHENTICATED-th
    such sentence closes the connection with !fatal."""
    cl = Client(setup_store())
    for _ in range(MAX_UNAUTHENTICATED - 1):
        assert cl.send(*sentence) == [trap, ["!done"]]
    assert not cl.conn.closed
    assert cl.send(*sentence) == [trap, ["!done"], ["!fatal", "not logged in"]]
    assert cl.conn.closed


def test_failed_logins_close_the_connection_at_the_limit() -> None:
    """A failed /login is !trap and !done (RouterOS's words); the MAX_FAILED_LOGINS-th also
    ends the connection with !fatal, and a command queued behind it is not run."""
    store = setup_store()
    cl = Client(store)
    failed = [["!trap", "=message=invalid user name or password (6)"], ["!done"]]
    for _ in range(MAX_FAILED_LOGINS - 1):
        assert cl.send("/login", "=name=alice", "=password=bad") == failed
    assert not cl.conn.closed
    before = store.generation()
    logins = cl.conn.receive_data(
        encode_sentence(["/login", "=name=alice", "=password=bad"])
        + encode_sentence(["/ip/ipsec/peer/add", "=address=203.0.113.5/32"])
    )
    (login,) = logins
    login.attempt.check(login.password)
    assert cl.conn.login_checked(login) == []
    assert cl.pending() == [*failed, ["!fatal", "too many failed logins"]]
    assert cl.conn.closed
    assert store.generation() == before


def test_malformed_input_is_fatal_and_changes_nothing() -> None:
    store = setup_store()
    cl = Client(store)
    cl.conn.receive_data(b"\xf9garbage")
    assert cl.pending() == [["!fatal", "malformed word length (reserved control byte)"]]
    assert cl.conn.closed
    cl2 = Client(store)
    cl2.conn.receive_data(encode_sentence(["/login", "=name=" + "a" * 5000]))
    assert cl2.pending() == [["!fatal", "sentence too long"]]


def test_follow_export_import_flush(tmp_path: Path) -> None:
    store = setup_store()
    feed = ChangeFeed(store)
    cl = Client(store, feed)
    cl.conn.files_dir = tmp_path
    cl.send("/login", "=name=alice", "=password=pw")
    cl.send("/ip/ipsec/peer/add", "=address=203.0.113.1/32", "=secret=psk1")
    # print =follow=: the rows now, then the changes, until /cancel
    now = cl.send("/ip/ipsec/peer/print", "=follow=", "=.proplist=address", ".tag=F")
    assert now == [["!re", "=address=203.0.113.1/32", ".tag=F"]]
    added = cl.send("/ip/ipsec/peer/add", "=address=203.0.113.2/32", ".tag=A")
    assert added[0][0] == "!done" and added[0][-1] == ".tag=A"
    assert added[1:] == [["!re", "=address=203.0.113.2/32", ".tag=F"]]
    assert [s[0] for s in cl.send("/cancel", "=tag=F")] == ["!trap", "!done", "!done"]
    # export: the script in =ret=; secrets only for users with the sensitive policy
    (done,) = cl.send("/ip/ipsec/peer/export")
    assert done[0] == "!done" and "psk1" in done[1] and "203.0.113.2/32" in done[1]
    reader = Client(store, feed)
    reader.send("/login", "=name=reader", "=password=pw")
    (done,) = reader.send("/ip/ipsec/peer/export")
    assert "psk1" not in done[1] and "203.0.113.1/32" in done[1]
    # /import of a file in the session's files directory; names that leave it are refused
    (tmp_path / "add.rsc").write_text("/ip ipsec peer add address=203.0.113.3/32\n")
    assert cl.send("/import", "=file-name=add.rsc")[-1][0] == "!done"
    assert len(store.snapshot().table(("ip", "ipsec", "peer"))) == 3
    for bad in ("../add.rsc", "/etc/passwd", 'x" [/user add name=e group=full]'):
        assert cl.send("/import", f"=file-name={bad}")[0][0] == "!trap"
    assert store.snapshot().table(("user",)).by_name("e") is None
    assert cl.send("/ip/ipsec/key/export-pub-key", "=key=k", "=file-name=../../x")[0][0] == "!trap"
    # flush and kill-connections are write commands
    assert cl.send("/ip/ipsec/installed-sa/flush") == [["!done"]]
    assert reader.send("/ip/ipsec/remote-peers/kill-connections")[0] == [
        "!trap",
        "=category=4",
        "=message=not enough permissions (9)",
    ]


def test_a_removed_or_demoted_user_loses_the_session_at_once() -> None:
    store = setup_store()
    cl = Client(store)
    cl.send("/login", "=name=alice", "=password=pw")
    admin = Console(store)
    admin.ok("/user set alice group=read")
    assert cl.send("/ip/ipsec/peer/add", "=address=203.0.113.1/32")[0][-1] == (
        "=message=not enough permissions (9)"
    )
    admin.ok("/user disable alice")
    assert cl.send("/ip/ipsec/peer/print") == [["!fatal", "user removed or disabled"]]
    assert cl.conn.closed


class SaRows(NullRuntime):
    def __init__(self) -> None:
        self.current: list[RuntimeRow] = []

    def rows(self, path: tuple[str, ...]) -> list[RuntimeRow]:
        return self.current if path == ("ip", "ipsec", "installed-sa") else []


def test_listen_on_a_runtime_menu() -> None:
    store = setup_store()
    runtime = SaRows()
    feed = ChangeFeed(store, runtime)
    cl = Client(store, feed)
    cl.conn.runtime = runtime
    cl.send("/login", "=name=reader", "=password=pw")
    assert cl.send("/ip/ipsec/installed-sa/listen", "=.proplist=spi,current-bytes") == []
    runtime.current = [RuntimeRow(id=5, values={"spi": "0x1001", "current-bytes": "0"})]
    feed.check()
    runtime.current = [RuntimeRow(id=5, values={"spi": "0x1001", "current-bytes": "840"})]
    feed.check()
    runtime.current = []
    feed.check()
    assert cl.pending() == [
        ["!re", "=spi=0x1001", "=current-bytes=0"],
        ["!re", "=spi=0x1001", "=current-bytes=840"],
        ["!re", "=.id=*5", "=.dead=true"],
    ]


def test_routeros7_database_over_the_api() -> None:
    """A RouterOS 7 database answers in its menus (profile, identity, active-peers) and says
    !empty for a print without rows, as RouterOS 7.18+ does."""
    store = Store(":memory:", dialect="v7")
    Console(store).ok("/user add name=alice group=full password=pw")
    cl = Client(store)
    cl.send("/login", "=name=alice", "=password=pw")
    assert cl.send("/ip/ipsec/identity/print") == [["!empty"], ["!done"]]
    rows = cl.send("/ip/ipsec/profile/print", "=.proplist=name,dh-group")
    assert rows == [["!re", "=name=default", "=dh-group=modp2048,modp1024"], ["!done"]]
    assert cl.send("/ip/ipsec/active-peers/print", "=count-only=") == [["!done", "=ret=0"]]
