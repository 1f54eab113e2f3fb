"""The RouterOS API services (io/api_server.py) driven by the clients RouterOS users use,
unchanged: librouteros and routeros-api (PyPI), over plain TCP and TLS, on loopback ports
chosen free at test time. Plus what an attacker can send: malformed words, oversized
sentences, wrong passwords (rate limit), commands before login, a read-only user writing:
each gets a clean error, nothing changes, and the server keeps serving."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import librouteros
import pytest
import routeros_api
from librouteros.exceptions import TrapError
from librouteros.login import plain
from librouteros.query import Key, Or

from pyipsec.config.menus.users import USER_ACTIVE
from pyipsec.config.store import Store
from pyipsec.io.api_server import ApiServices
from pyipsec.mgmt import first_start
from pyipsec.mgmt.api.codec import SentenceDecoder, encode_sentence
from pyipsec.mgmt.api.connection import MAX_FAILED_LOGINS
from pyipsec.mgmt.auth import MAX_FAILURES, Accounts
from pyipsec.mgmt.base import NullRuntime, WithRows
from pyipsec.mgmt.changes import ChangeFeed
from tests.mgmt.helpers import Console

HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


class Server:
    """The API services of a database, on their own event loop in a thread (as in the daemon:
    the loop owns the store; the test reads the database through its own connection)."""

    def __init__(self, db: Path) -> None:
        self.db = db
        self.port, self.tls_port = free_port(), free_port()
        c = Console(Store(db))
        c.ok("/user add name=alice group=full password=alice-pw")
        c.ok("/user add name=reader group=read password=reader-pw")
        c.ok(f"/ip service set api port={self.port}")
        c.ok(f"/ip service set api-ssl port={self.tls_port}")
        self.cert_name = first_start.ensure_certificate(c.store, first_start_now())
        pem = first_start.tls_material(c.store.snapshot(), self.cert_name or "")
        assert pem is not None
        self.cert_pem = pem[0]
        c.store.close()
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.stopping: asyncio.Event | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        assert self.ready.wait(10)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self._main())

    async def _main(self) -> None:
        store = Store(self.db)
        accounts = Accounts(store=store)
        runtime = WithRows(NullRuntime(), {USER_ACTIVE: accounts.rows})
        feed = ChangeFeed(store, runtime)
        services = ApiServices(
            store=store,
            accounts=accounts,
            runtime=runtime,
            feed=feed,
            files_dir=self.db.parent / "files",
            host=HOST,
        )
        await services.reconcile()
        self.services = services
        self.stopping = asyncio.Event()
        self.ready.set()
        while not self.stopping.is_set():  # the daemon's tick: other writers, live rows
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.stopping.wait(), 0.2)
            feed.check()
            await services.reconcile()
        await services.stop()
        store.close()

    def stop(self) -> None:
        assert self.stopping is not None
        self.loop.call_soon_threadsafe(self.stopping.set)
        self.thread.join(10)

    def store(self) -> Store:
        return Store(self.db)

    def tls_context(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context(cadata=self.cert_pem)
        ctx.check_hostname = False  # the self-signed certificate names "pyipsec", not 127.0.0.1
        return ctx


def first_start_now():  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    return datetime.now(UTC)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    srv = Server(tmp_path / "config.db")
    yield srv
    srv.stop()


def lr_connect(srv: Server, user: str = "alice", password: str = "alice-pw", *, tls: bool = False):  # type: ignore[no-untyped-def]
    kw = {}
    if tls:
        ctx = srv.tls_context()
        kw["ssl_wrapper"] = ctx.wrap_socket
    return librouteros.connect(
        HOST,
        user,
        password,
        port=srv.tls_port if tls else srv.port,
        login_method=plain,
        timeout=10,
        **kw,
    )


@pytest.mark.parametrize("tls", [False, True], ids=["api", "api-ssl"])
def test_librouteros_read_add_change_remove_query(server: Server, tls: bool) -> None:
    api = lr_connect(server, tls=tls)
    policies = api.path("ip", "ipsec", "policy")
    first = policies.add(**{"src-address": "10.1.0.0/16", "dst-address": "10.2.0.0/16"})
    second = policies.add(
        **{"src-address": "10.3.0.0/16", "dst-address": "10.4.0.0/16", "disabled": True}
    )
    assert first.startswith("*") and second != first
    rows = {r[".id"]: r for r in policies}
    assert rows[first]["src-address"] == "10.1.0.0/16"
    assert rows[first]["disabled"] is False and rows[second]["disabled"] is True
    default = next(r for r in rows.values() if r.get("default"))
    assert default["template"] is True and default["group"] == "default"
    # librouteros' query words: ?=disabled=no, In() as ?= words and ?#|, Or()
    src = Key("src-address")
    got = list(
        policies.select(Key(".id"), src).where(Key("disabled") == False, Key("template") == False)  # noqa: E712
    )
    assert [r["src-address"] for r in got] == ["10.1.0.0/16"]
    got = list(policies.select(src).where(src.In("10.1.0.0/16", "10.3.0.0/16")))
    assert sorted(r["src-address"] for r in got) == ["10.1.0.0/16", "10.3.0.0/16"]
    got = list(policies.select(src).where(Or(src == "10.1.0.0/16", Key(".id") == second)))
    assert sorted(r["src-address"] for r in got) == ["10.1.0.0/16", "10.3.0.0/16"]
    assert list(policies.select(src).where(Key(".id") == second)) == [
        {"src-address": "10.3.0.0/16"}
    ]
    policies.update(**{".id": first, "comment": "from librouteros", "disabled": True})
    assert next(r for r in policies if r[".id"] == first)["comment"] == "from librouteros"
    policies.remove(first, second)
    assert {r[".id"] for r in policies} == {default[".id"]}
    assert list(api("/ip/ipsec/policy/print", **{"count-only": True})) == [{"ret": 1}]
    with pytest.raises(TrapError, match="no such item"):
        policies.remove(first)
    with pytest.raises(TrapError) as err:
        policies.add(**{"src-address": "not-a-prefix"})
    assert err.value.category == 1 and "src-address" in err.value.message
    api.close()
    with server.store() as store:
        assert [it.id for it in store.snapshot().table(("ip", "ipsec", "policy"))] == [
            int(default[".id"][1:], 16)
        ]


@pytest.mark.parametrize("tls", [False, True], ids=["api", "api-ssl"])
def test_routeros_api_client(server: Server, tls: bool) -> None:
    pool = routeros_api.RouterOsApiPool(
        HOST,
        username="alice",
        password="alice-pw",
        port=server.tls_port if tls else server.port,
        plaintext_login=True,
        **({"use_ssl": True, "ssl_context": server.tls_context()} if tls else {}),
    )
    api = pool.get_api()
    peers = api.get_resource("/ip/ipsec/peer")
    peers.add(address="203.0.113.7/32", secret="k1", comment="rapi")
    (peer,) = peers.get(address="203.0.113.7/32")
    assert peer["comment"] == "rapi" and peer["secret"] == "k1" and peer["disabled"] == "false"
    peers.set(id=peer["id"], comment="changed")
    assert peers.get(id=peer["id"])[0]["comment"] == "changed"
    identity = api.get_resource("/system/identity").get()
    assert identity == [{"name": "MikroTik"}]
    with pytest.raises(routeros_api.exceptions.RouterOsApiCommunicationError) as err:
        peers.set(id="*FFFF", comment="x")
    assert b"no such item" in err.value.original_message
    peers.remove(id=peer["id"])
    assert peers.get() == []
    active = api.get_resource("/user/active").get()
    assert [(a["name"], a["via"]) for a in active] == [("alice", "api-ssl" if tls else "api")]
    pool.disconnect()


def test_listen_sees_changes_of_another_client(server: Server) -> None:
    listener = lr_connect(server, "reader", "reader-pw")
    writer = lr_connect(server)
    listener.protocol.writeSentence("/ip/ipsec/peer/listen")
    new = writer.path("ip", "ipsec", "peer").add(address="203.0.113.8/32")
    reply, words = listener.readSentence()
    assert reply == "!re" and words[".id"] == new and words["address"] == "203.0.113.8/32"
    writer.path("ip", "ipsec", "peer").remove(new)
    assert listener.readSentence() == ("!re", {".id": new, ".dead": True})
    listener.protocol.writeSentence("/cancel")
    assert listener.readSentence() == ("!trap", {"category": 2, "message": "interrupted"})
    assert listener.readSentence() == ("!done", {})
    assert listener.readSentence() == ("!done", {})
    listener.close()
    writer.close()


class Raw:
    """A socket speaking words directly (for what no client library sends)."""

    def __init__(self, port: int, source: str | None = None) -> None:
        self.sock = socket.create_connection(
            (HOST, port), timeout=10, source_address=(source, 0) if source else None
        )
        self.dec = SentenceDecoder(max_sentence=1 << 24)
        self.got: list[list[str]] = []

    def send(self, *words: str) -> None:
        self.sock.sendall(encode_sentence(words))

    def read(self) -> list[str]:
        while not self.got:
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError("closed")
            self.got += self.dec.feed(data)
        return self.got.pop(0)

    def closed(self) -> bool:
        try:
            return self.sock.recv(1) == b""
        except ConnectionError:
            return True


def test_tags_and_concurrent_commands(server: Server) -> None:
    raw = Raw(server.port)
    raw.send("/login", "=name=alice", "=password=alice-pw", ".tag=0")
    assert raw.read() == ["!done", ".tag=0"]
    raw.send("/ip/ipsec/policy/listen", ".tag=L")
    raw.send(
        "/ip/ipsec/policy/add", "=src-address=10.5.0.0/16", "=dst-address=10.6.0.0/16", ".tag=A"
    )
    raw.send("/system/identity/print", ".tag=P")
    # the add's !done, the listen's !re for the new policy, the print's !re and !done
    got = [raw.read() for _ in range(4)]
    done_a = next(s for s in got if s[-1] == ".tag=A")
    assert done_a[0] == "!done" and done_a[1].startswith("=ret=*")
    assert ["!re", "=name=MikroTik", ".tag=P"] in got
    assert got[-1] == ["!done", ".tag=P"]
    assert any(s[0] == "!re" and s[-1] == ".tag=L" and "=src-address=10.5.0.0/16" in s for s in got)


def test_attacks_get_clean_errors_and_change_nothing(server: Server) -> None:
    # a reserved control byte: !fatal, closed
    raw = Raw(server.port)
    raw.sock.sendall(b"\xf8\x00")
    assert raw.read()[0] == "!fatal" and raw.closed()
    # an oversized sentence before login
    raw = Raw(server.port)
    raw.sock.sendall(b"\x7f" + b"a" * 127 + (b"\x7f" + b"a" * 127) * 40)
    assert raw.read() == ["!fatal", "sentence too long"] and raw.closed()
    # commands before login
    raw = Raw(server.port)
    raw.send("/ip/ipsec/peer/add", "=address=203.0.113.66/32")
    assert raw.read() == ["!trap", "=category=0", "=message=not logged in"]
    assert raw.read() == ["!done"]
    raw.send("/login")  # the pre-6.43 challenge: refused (passwords are kept hashed)
    assert raw.read()[0] == "!trap"
    # a read user writing
    reader = lr_connect(server, "reader", "reader-pw")
    with pytest.raises(TrapError, match=r"not enough permissions \(9\)"):
        reader.path("ip", "ipsec", "peer").add(address="203.0.113.67/32")
    with pytest.raises(TrapError, match="not enough permissions"):
        reader.path("user").add(name="evil", group="full", password="x")
    rows = list(reader.path("ip", "ipsec", "peer"))
    assert rows == []
    with server.store() as store:  # nothing changed (logins only stamp last-logged-in)
        config = store.snapshot()
        assert len(config.table(("ip", "ipsec", "peer"))) == 0
        assert config.table(("user",)).names() == ["alice", "reader"]
    # wrong passwords: then the right one is refused too (rate limit per address)
    for _ in range(MAX_FAILURES):
        with pytest.raises(TrapError, match=r"invalid user name or password \(6\)"):
            lr_connect(server, "alice", "wrong")
    with pytest.raises(TrapError, match="invalid user name or password"):
        lr_connect(server, "alice", "alice-pw")
    # and the server still serves the user who was logged in
    assert list(reader.path("system", "identity")) == [{"name": "MikroTik"}]
    reader.close()


def test_service_settings_apply(server: Server) -> None:
    new_port = free_port()
    api = lr_connect(server)
    api.path("ip", "service").update(**{".id": "*6", "port": new_port})
    services = {r["name"]: r for r in api.path("ip", "service")}
    assert services["api"]["port"] == new_port
    assert services["api-ssl"]["certificate"] == server.cert_name
    deadline = time.monotonic() + 5
    while True:
        try:
            moved = librouteros.connect(
                HOST, "alice", "alice-pw", port=new_port, login_method=plain, timeout=5
            )
            break
        except OSError:
            assert time.monotonic() < deadline
            time.sleep(0.1)
    assert list(moved.path("system", "identity")) == [{"name": "MikroTik"}]
    moved.path("ip", "service").update(**{".id": "*6", "address": "198.51.100.0/24"})
    # within a tick or two the service restarts with the allow-list: 127.0.0.1 is not in it
    deadline = time.monotonic() + 10
    while True:
        try:
            librouteros.connect(
                HOST, "alice", "alice-pw", port=new_port, login_method=plain, timeout=5
            ).close()
        except (OSError, librouteros.exceptions.ConnectionClosed):
            break
        assert time.monotonic() < deadline, "the allow-list did not apply"
        time.sleep(0.1)


def test_routeros_api_listen_with_tags_and_cancel(server: Server) -> None:
    """routeros-api tags every command: a listen stays open under its tag while other
    commands run on the same connection, and /cancel =tag= ends it."""

    def pool() -> routeros_api.RouterOsApiPool:
        return routeros_api.RouterOsApiPool(
            HOST, username="alice", password="alice-pw", port=server.port, plaintext_login=True
        )

    listening, writing = pool(), pool()
    api = listening.get_api()
    promise = api.get_resource("/ip/ipsec/policy").call_async("listen")
    rows = iter(promise)
    # another command on the same connection while the listen is open
    assert api.get_resource("/system/identity").get() == [{"name": "MikroTik"}]
    writing.get_api().get_resource("/ip/ipsec/policy").add(
        **{"src_address": "10.7.0.0/16", "dst_address": "10.8.0.0/16"}
    )
    row = next(rows)
    assert row["src-address"] == "10.7.0.0/16" and row["id"].startswith("*")
    inner = promise
    while not hasattr(inner, "tag"):  # the library's promise decorators, down to its tag
        inner = inner.inner
    api.get_binary_resource("/").call("cancel", {"tag": inner.tag})
    with pytest.raises(routeros_api.exceptions.RouterOsApiCommunicationError, match="interrupted"):
        next(rows)
    listening.disconnect()
    writing.disconnect()


def test_a_client_that_does_not_read_is_cut_off(tmp_path: Path) -> None:
    """Replies (a listen's) waiting in the transport past MAX_BACKLOG end the connection."""
    from pyipsec.io import api_server
    from pyipsec.mgmt.api.connection import ApiConnection

    class Transport:
        def __init__(self) -> None:
            self.size = api_server.MAX_BACKLOG - 10
            self.aborted = False

        def get_write_buffer_size(self) -> int:
            return self.size

        def abort(self) -> None:
            self.aborted = True

    class Writer:
        def __init__(self) -> None:
            self.transport = Transport()
            self.written = b""

        def is_closing(self) -> bool:
            return self.transport.aborted

        def write(self, data: bytes) -> None:
            self.written += data

    store = Store(tmp_path / "x.db")
    conn = ApiConnection(store=store, accounts=Accounts(store=store), address="127.0.0.1")
    conn.receive_data(encode_sentence(["/quit"]))  # 37 octets of !fatal waiting
    writer = Writer()
    api_server._flush(conn, writer)  # type: ignore[arg-type]
    assert writer.transport.aborted and writer.written == b"" and conn.closed
    store.close()


def test_failed_logins_close_the_connection_and_the_source_is_rate_limited(
    server: Server,
) -> None:
    """Each failed /login gets RouterOS's !trap and !done; the MAX_FAILED_LOGINS-th also
    closes the connection with !fatal. Over connections, the per-source limit (MAX_FAILURES
    in mgmt/auth.py) then refuses even the right password from that address, while another
    address logs in. 127.0.0.1 and 127.0.0.2 are both loopback."""
    failed = ["!trap", "=message=invalid user name or password (6)"]
    raw = Raw(server.port)
    for n in range(1, MAX_FAILED_LOGINS + 1):
        raw.send("/login", "=name=alice", f"=password=wrong{n}")
        assert raw.read() == failed
        assert raw.read() == ["!done"]
    assert raw.read() == ["!fatal", "too many failed logins"]
    assert raw.closed()
    raw = Raw(server.port)  # a new connection: failures up to the per-source limit
    for _ in range(MAX_FAILURES - MAX_FAILED_LOGINS):
        raw.send("/login", "=name=alice", "=password=wrong")
        assert raw.read() == failed
        assert raw.read() == ["!done"]
    raw.send("/login", "=name=alice", "=password=alice-pw")  # right, but over the limit
    assert raw.read() == failed
    raw.sock.close()
    other = Raw(server.port, source="127.0.0.2")
    other.send("/login", "=name=alice", "=password=alice-pw")
    assert other.read() == ["!done"]
    other.sock.close()
