"""One RouterOS API client, sans-IO (reference §4.1-§4.4; docs/api.md).

The shell (io/api_server.py) feeds received octets to :meth:`ApiConnection.receive_data`,
writes out :meth:`ApiConnection.data_to_send`, and closes the socket once ``closed`` is set.
A ``/login`` is returned as a :class:`LoginRequested`: the shell runs the password check
(scrypt, costly by design) in a worker thread and hands the attempt back with
:meth:`ApiConnection.login_checked`; sentences that arrive meanwhile wait for its outcome.

After login, every command runs through the one command layer (``commands.dispatch``), as the
console's do, with the session of the logged-in user (its group's policies; authorisation is
the command layer's). Commands run in arrival order and each is answered completely before
the next starts, except the streams: ``listen`` and ``print =follow=`` / ``=follow-only=`` stay
open, send an ``!re`` per change the change feed (mgmt/changes.py) reports, and end with
``/cancel`` (``!trap =category=2 =message=interrupted``, then ``!done``). Replies carry the
command's ``.tag`` when it had one, so a client may keep several commands open at once.

A framing violation (a reserved control byte, a sentence over the limit: 4 KiB before login,
1 MiB after) is answered with ``!fatal <reason>`` and the connection closes; anything else a
client can send gets a ``!trap`` and changes nothing.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from pyipsec.config.menus.users import USER
from pyipsec.config.store import Store
from pyipsec.config.table import value_of
from pyipsec.mgmt import query
from pyipsec.mgmt.api import replies
from pyipsec.mgmt.api.codec import (
    MAX_SENTENCE,
    ApiProtocolError,
    SentenceDecoder,
    encode_sentence,
)
from pyipsec.mgmt.auth import LOGIN_FAILED, VIA_POLICY, Accounts, LoginAttempt, session_policies
from pyipsec.mgmt.base import CommandError, Result, RuntimeProvider, Session
from pyipsec.mgmt.changes import REMOVED, Change, ChangeFeed, Subscription

log = logging.getLogger("pyipsec.system")

NOT_LOGGED_IN = "not logged in"
MAX_UNAUTHENTICATED = 16  # sentences other than /login before the connection is closed
# Failed /login checks before the connection is closed with !fatal. RouterOS answers a failed
# login with !trap and !done and its documentation says nothing of closing; every client
# library gives up (and reconnects) after one, so closing at the third costs a real client
# nothing and makes a guesser pay a new connection (and the per-source limit of
# mgmt/auth.py) for every three passwords.
MAX_FAILED_LOGINS = 3
TOO_MANY_FAILED_LOGINS = "too many failed logins"
MAX_BACKLOG = 16 << 20  # octets of replies a slow reader may leave unread
STREAM_ARGS = ("follow", "follow-only", "interval")
SAFE_FILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)*")
IMPORT_STEP_BUDGET = 200_000  # commands one /import may run
READ_COMMANDS = frozenset({"print", "get", "find", "getall", "listen", "export"})


@dataclass(frozen=True, slots=True, kw_only=True)
class Request:
    """A command sentence taken apart."""

    command: str
    attrs: dict[str, str]
    queries: tuple[str, ...]
    tag: str | None


def parse_request(words: list[str]) -> Request:
    """Split a sentence into command, ``=attributes``, ``?queries`` and ``.tag``.
    A word of another kind is a ``CommandError`` (``unknown parameter``)."""
    attrs: dict[str, str] = {}
    queries: list[str] = []
    tag: str | None = None
    for word in words[1:]:
        if word.startswith("="):
            name, _, value = word[1:].partition("=")  # "=name" (no value): routeros-api
            if not name:
                raise CommandError("unknown parameter", category=0)
            attrs[name] = value
        elif word.startswith("?"):
            queries.append(word[1:])
        elif word.startswith(".tag="):
            tag = word[5:]
        elif word.startswith(".proplist="):
            attrs[".proplist"] = word[10:]
        else:
            raise CommandError("unknown parameter", category=0)
    return Request(command=words[0], attrs=attrs, queries=tuple(queries), tag=tag)


@dataclass(slots=True, kw_only=True)
class LoginRequested:
    """A ``/login``: the shell calls ``attempt.check(password)`` (a worker thread may) and
    then :meth:`ApiConnection.login_checked`."""

    attempt: LoginAttempt
    password: str = field(repr=False)
    tag: str | None


@dataclass(slots=True)
class _Stream:
    path: tuple[str, ...]
    args: dict[str, str]
    tag: str | None
    sub: Subscription | None = None


class ApiConnection:
    """The state of one API client connection (module docstring)."""

    def __init__(
        self,
        *,
        store: Store,
        accounts: Accounts,
        address: str,
        via: str = "api",
        runtime: RuntimeProvider | None = None,
        feed: ChangeFeed | None = None,
        files_dir: Path | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.store = store
        self.accounts = accounts
        self.address = address
        self.via = via
        self.runtime = runtime
        self.feed = feed
        self.files_dir = files_dir or Path.cwd()
        self.now = now
        self.session: Session | None = None
        self.active_id: int | None = None
        self.closed = False
        self.wake: Callable[[], None] = lambda: None  # the shell: replies are waiting
        self._decoder = SentenceDecoder()
        self._out = bytearray()
        self._login_pending = False
        self._queued: list[list[str]] = []
        self._unauthenticated = 0
        self._failed_logins = 0
        self._streams: dict[str | None, _Stream] = {}

    # -- I/O side

    def receive_data(self, data: bytes) -> list[LoginRequested]:
        """Handle received octets; the logins the shell must check."""
        if self.closed:
            return []
        try:
            sentences = self._decoder.feed(data)
        except ApiProtocolError as exc:
            self.fatal(str(exc))
            return []
        return self._handle_all(sentences)

    def data_to_send(self) -> bytes:
        out = bytes(self._out)
        self._out.clear()
        return out

    def connection_lost(self) -> None:
        """The socket closed: end the streams, leave ``/user active``."""
        self.closed = True
        for stream in self._streams.values():
            if stream.sub is not None:
                stream.sub.close()
        self._streams.clear()
        self.accounts.logout(self.active_id)
        self.active_id = None

    def fatal(self, reason: str) -> None:
        """``!fatal <reason>``; the connection is over."""
        self._out += encode_sentence(["!fatal", reason])
        self.connection_lost()

    # -- sentences

    def _send(self, sentence: list[str], tag: str | None) -> None:
        self._out += encode_sentence(replies.tagged(sentence, tag))
        if len(self._out) > MAX_BACKLOG:
            self._out.clear()
            self.fatal("reply queue overflow (the client does not read)")

    def _handle_all(self, sentences: list[list[str]]) -> list[LoginRequested]:
        logins: list[LoginRequested] = []
        for n, words in enumerate(sentences):
            if self.closed:
                break
            if self._login_pending:
                self._queued += sentences[n:]
                break
            login = self._handle(words)
            if login is not None:
                logins.append(login)
        return logins

    def _handle(self, words: list[str]) -> LoginRequested | None:
        try:
            request = parse_request(words)
        except CommandError as exc:
            tag = next((w[5:] for w in words if w.startswith(".tag=")), None)
            for s in replies.trap(exc.message, exc.category):
                self._send(s, tag)
            return None
        command = request.command
        if command == "/quit":
            self.fatal("session terminated on request")
            return None
        if command == "/login":
            return self._login(request)
        if self.session is None:
            self._refuse(NOT_LOGGED_IN, 0, request.tag)
            return None
        if command == "/cancel":
            self._cancel(request)
            return None
        if not self._still_allowed(self.session):
            self.fatal("user removed or disabled")
            return None
        self._command(self.session, request)
        return None

    def _refuse(self, message: str, category: int | None, tag: str | None) -> None:
        """``!trap`` a sentence sent without a login; the connection closes at the
        ``MAX_UNAUTHENTICATED``-th."""
        self._unauthenticated += 1
        for s in replies.trap(message, category):
            self._send(s, tag)
        if self._unauthenticated >= MAX_UNAUTHENTICATED:
            self.fatal("not logged in")

    def _still_allowed(self, session: Session) -> bool:
        """The user still exists, is enabled, and may use the API; the session takes its
        group's policies as they are now (a change applies to the next command)."""
        config = self.store.snapshot()
        user = config.table(USER).by_name(session.user)
        if user is None or value_of(config.menu(USER), user, "disabled") == "yes":
            return False
        policies = session_policies(config, session.user) or frozenset()
        if VIA_POLICY.get(self.via, "api") not in policies:
            return False
        session.policies = policies
        return True

    # -- login (reference §4.2: the 6.43+ method only; see docs/api.md)

    def _login(self, request: Request) -> LoginRequested | None:
        name = request.attrs.get("name")
        password = request.attrs.get("password")
        if self.session is not None or name is None or password is None:
            # a bare /login asks for the pre-6.43 MD5 challenge, which needs the password in
            # clear: pyipsec stores only a hash, so only =name= with =password= works
            self._refuse(LOGIN_FAILED, None, request.tag)
            return None
        self._login_pending = True
        attempt = self.accounts.begin(name, self.address, self.via)
        return LoginRequested(attempt=attempt, password=password, tag=request.tag)

    def login_checked(self, login: LoginRequested) -> list[LoginRequested]:
        """The password check of ``login`` is done: answer it, then run what waited."""
        self._login_pending = False
        if self.closed:
            return []
        attempt = login.attempt
        active = self.accounts.finish(attempt)
        if active is None:
            self._unauthenticated += 1
            self._failed_logins += 1
            for s in replies.trap(LOGIN_FAILED, None):
                self._send(s, login.tag)
            if self._failed_logins >= MAX_FAILED_LOGINS:
                self.fatal(TOO_MANY_FAILED_LOGINS)
                self.wake()
                self._queued = []
                return []
        else:
            self.active_id = active
            self._decoder.max_sentence = MAX_SENTENCE
            self.session = Session(
                store=self.store,
                files_dir=self.files_dir,
                now=self.now,
                user=attempt.name,
                policies=attempt.policies,
                client=self.via,
                address=self.address,
            )
            if self.runtime is not None:
                self.session.runtime = self.runtime
            self._send(["!done"], login.tag)
        self.wake()
        queued, self._queued = self._queued, []
        return self._handle_all(queued)

    # -- commands

    def _cancel(self, request: Request) -> None:
        wanted = request.attrs.get("tag")
        for key in [k for k in self._streams if wanted is None or k == wanted]:
            stream = self._streams.pop(key)
            if stream.sub is not None:
                stream.sub.close()
            for s in replies.trap("interrupted", 2):
                self._send(s, stream.tag)
        self._send(["!done"], request.tag)

    def _command(self, session: Session, request: Request) -> None:
        from pyipsec.mgmt import commands

        parts = [p for p in request.command.split("/") if p]
        if not request.command.startswith("/") or not parts:
            self._fail(CommandError("no such command prefix", category=0), request.tag)
            return
        path, command = tuple(parts[:-1]), parts[-1]
        if command == "getall":
            command = "print"
        args = dict(request.attrs)
        if request.queries:
            args[".query"] = query.API_QUERY_SEP.join(request.queries)
        stream = command == "listen" or (
            command == "print" and any(a in args for a in ("follow", "follow-only"))
        )
        follow_only = command == "listen" or "follow-only" in args
        for name in STREAM_ARGS:
            args.pop(name, None)
        if stream:
            command = "print"
        try:
            if command == "import" and not path:  # /import: a script; a menu's is its own
                result = self._import(session, path, args)
            elif stream and follow_only:
                commands.dispatch(session, path, "print", {**args, "count-only": ""})
                result = Result()  # the print checked menu, rights and arguments
            else:
                result = commands.dispatch(session, path, command, args)
        except CommandError as exc:
            self._fail(exc, request.tag)
            return
        except Exception as exc:  # the command layer's bug must not end the connection
            self._fail(
                CommandError(f"failure: internal error ({type(exc).__name__})", category=4),
                request.tag,
            )
            return
        if stream:
            if result.table is not None:
                for s in replies.print_sentences(result.table):
                    self._send(s, request.tag)
            self._open_stream(path, args, request.tag)
            return
        empty = session.store.snapshot().dialect == "v7"
        for s in replies.result_sentences(result, empty=empty):
            self._send(s, request.tag)
        if command not in READ_COMMANDS and self.feed is not None:
            self.feed.check()  # listeners (this connection's and others') see it now

    def _fail(self, exc: CommandError, tag: str | None) -> None:
        message = exc.message
        if message.startswith("bad command name"):
            message = f"no such command or directory ({message.rsplit(' ', 1)[-1]})"
        for s in replies.trap(message, exc.category):
            self._send(s, tag)

    def _import(self, session: Session, path: tuple[str, ...], args: dict[str, str]) -> Result:
        from pyipsec.mgmt.cli.interpreter import Interpreter

        if path or set(args) - {"file-name", "verbose"} or "file-name" not in args:
            raise CommandError("unknown parameter", category=0)
        name = args["file-name"]
        if not SAFE_FILE_NAME.fullmatch(name):  # it becomes console text below
            raise CommandError("failure: bad file name", category=4)
        out: list[str] = []
        interp = Interpreter(session, write=out.append)
        # the script runs on the daemon's event loop: no `:delay`, a bounded number of commands
        interp.delay_budget = 0.0
        interp.step_budget = IMPORT_STEP_BUDGET
        if not interp.run(f'/import file-name="{name}"'):
            text = "".join(out).strip().splitlines()
            raise CommandError(text[-1] if text else "failure", category=3)
        return Result(text="".join(out).strip())

    def _open_stream(self, path: tuple[str, ...], args: dict[str, str], tag: str | None) -> None:
        old = self._streams.pop(tag, None)
        if old is not None and old.sub is not None:
            old.sub.close()
        stream = _Stream(path=path, args=args, tag=tag)
        if self.feed is not None:
            stream.sub = self.feed.subscribe(path, lambda c: self._changed(stream, c))
        self._streams[tag] = stream

    def _changed(self, stream: _Stream, change: Change) -> None:
        from pyipsec.mgmt import commands

        if self.closed or self.session is None:
            return
        id_text = f"*{change.id:X}"
        if change.kind == REMOVED:
            self._send(["!re", f"=.id={id_text}", "=.dead=true"], stream.tag)
        else:
            args = dict(stream.args)
            words = [w for w in args.get(".query", "").split(query.API_QUERY_SEP) if w]
            args[".query"] = query.API_QUERY_SEP.join([*words, f"=.id={id_text}"])
            try:
                result = commands.dispatch(self.session, stream.path, "print", args)
            except CommandError:
                return
            if result.table is not None:
                for s in replies.print_sentences(result.table):
                    self._send(s, stream.tag)
        self.wake()
