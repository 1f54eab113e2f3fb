"""Accounts, logins and authorisation, for every front-end (console, API, REST, web).

Authorisation is one function, :func:`authorize`, called by ``commands.dispatch`` before any
command runs: reading (``print``, ``get``, ``find``, ``export``) needs the ``read`` policy,
anything else ``write``, and changing accounts or services (``/user``, ``/user group``,
``/ip service``) ``policy`` too. Sensitive values (secrets, keys) are left out of ``print`` and
``export`` for a session without ``sensitive`` (commands.py). A session whose ``policies`` is
None (the console of root on this machine, the control socket) may do everything.

A login is three steps so that the costly password check (scrypt, mgmt/passwords.py) can run
off the event loop: :meth:`Accounts.begin` looks the user up (and refuses at once an address
that failed too often: at most ``MAX_FAILURES`` failures per ``WINDOW`` seconds per source
address), :meth:`LoginAttempt.check` verifies the password (pure CPU, thread-safe), and
:meth:`Accounts.finish` records the outcome: a failure is logged with the topics RouterOS uses
(``system,error,critical``: ``login failure for user X from A via api``), a success updates
``last-logged-in`` and registers the session in ``/user active``. The password is never
logged; the reply to any failure is the same text whatever the reason.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from pyipsec.config.menus.users import POLICIES, SERVICE, USER, USER_GROUP, policy_set
from pyipsec.config.store import Store
from pyipsec.config.table import Config, value_of
from pyipsec.mgmt import passwords
from pyipsec.mgmt.base import CommandError, RuntimeRow, Session

# topics system,error,critical (io/logging.py: logger name parts, then the level)
failure_log = logging.getLogger("pyipsec.system.error")
log = logging.getLogger("pyipsec.system")

READ_COMMANDS = frozenset({"print", "get", "find", "export", "listen", "getall"})
POLICY_MENUS = frozenset({USER, USER_GROUP, SERVICE})
LOGIN_FAILED = "invalid user name or password (6)"
NOT_PERMITTED = "not enough permissions (9)"
MAX_FAILURES = 5  # failed logins per source address ...
WINDOW = 60.0  # ... per this many seconds; then that address is refused until it is over
TABLE_MAX = 4096  # addresses remembered at most (the oldest goes first)
# the policy a front-end's users need (RouterOS: api for both API services)
VIA_POLICY = {"api": "api", "api-ssl": "api", "rest": "rest-api", "web": "web"}


def authorize(session: Session, path: tuple[str, ...], command: str) -> None:
    """Raise ``not enough permissions`` unless the session may run ``command`` at ``path``."""
    if session.policies is None:
        return
    need = ["read"] if command in READ_COMMANDS else ["write"]
    if path in POLICY_MENUS and command not in READ_COMMANDS:
        need.append("policy")
    if not all(p in session.policies for p in need):
        raise CommandError(NOT_PERMITTED, category=4)


def routeros_date(when: datetime) -> str:
    return when.strftime("%b/%d/%Y %H:%M:%S").lower()


@dataclass(slots=True, kw_only=True)
class LoginAttempt:
    """A login between its look-up and its outcome; ``check`` may run in another thread."""

    name: str
    address: str
    via: str
    stored: str | None  # the user's password hash (None: no such user, or refused)
    policies: frozenset[str] = frozenset()
    group: str = ""
    refused: bool = False  # refused before any password check (rate limit)
    ok: bool = False

    def check(self, password: str) -> bool:
        """Verify the password (scrypt: costly by design; thread-safe)."""
        if self.refused:
            return False
        self.ok = passwords.verify(password, self.stored) and bool(self.policies)
        return self.ok


def address_allowed(allow: str, address: str) -> bool:
    """Whether ``address`` is in the comma-separated prefixes ``allow`` (empty: anyone). An
    IPv4 client seen on a dual-stack socket as ``::ffff:a.b.c.d`` counts as IPv4. The one
    allow-list check of /user address= and /ip service address= (API, REST, web)."""
    import ipaddress

    if not allow:
        return True
    try:
        ip = ipaddress.ip_address(address.split("%")[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for prefix in allow.split(","):
        net = ipaddress.ip_network(prefix, strict=False)
        if ip.version == net.version and ip in net:
            return True
    return False


@dataclass(slots=True)
class _Failures:
    since: float
    count: int = 0
    reported: bool = False


@dataclass(slots=True, kw_only=True)
class ActiveSession:
    id: int
    name: str
    address: str
    via: str
    group: str
    when: str


@dataclass(slots=True, kw_only=True)
class Accounts:
    """Users' logins against ``store`` and who is logged in now (``/user active``)."""

    store: Store
    clock: Callable[[], float] = time.monotonic
    wall: Callable[[], datetime] = datetime.now  # last-logged-in is local time, as RouterOS
    failures: OrderedDict[str, _Failures] = field(default_factory=OrderedDict)
    active: dict[int, ActiveSession] = field(default_factory=dict)
    _next_active: int = 1

    def _limited(self, address: str, now: float) -> bool:
        entry = self.failures.get(address)
        if entry is None or now - entry.since >= WINDOW:
            return False
        return entry.count >= MAX_FAILURES

    def begin(self, name: str, address: str, via: str) -> LoginAttempt:
        """Look ``name`` up for a login from ``address`` over ``via``."""
        attempt = LoginAttempt(name=name, address=address, via=via, stored=None)
        if self._limited(address, self.clock()):
            attempt.refused = True
            return attempt
        config = self.store.snapshot()
        user = config.table(USER).by_name(name)
        if user is None or value_of(config.menu(USER), user, "disabled") == "yes":
            return attempt
        if not address_allowed(user.values.get("address", ""), address):
            return attempt
        group = user.values.get("group", "")
        policies = _group_policies(config, group)
        needed = VIA_POLICY.get(via)
        if needed is not None and needed not in policies:
            return attempt
        attempt.stored = user.values.get("_password")
        attempt.policies = policies
        attempt.group = group
        return attempt

    def finish(self, attempt: LoginAttempt) -> int | None:
        """Record the outcome; the ``/user active`` id of a successful login, else None."""
        now = self.clock()
        if not attempt.ok:
            self._failed(attempt, now)
            return None
        self.failures.pop(attempt.address, None)
        when = routeros_date(self.wall())

        def stamp(config: Config) -> None:
            table = config.table(USER)
            user = table.by_name(attempt.name)
            if user is not None:
                table.put(user.with_values({**user.values, "last-logged-in": when}))

        self.store.transaction(stamp)
        log.info("user %s logged in from %s via %s", attempt.name, attempt.address, attempt.via)
        active_id = self._next_active
        self._next_active += 1
        self.active[active_id] = ActiveSession(
            id=active_id,
            name=attempt.name,
            address=attempt.address,
            via=attempt.via,
            group=attempt.group,
            when=when,
        )
        return active_id

    def _failed(self, attempt: LoginAttempt, now: float) -> None:
        entry = self.failures.get(attempt.address)
        if entry is None or now - entry.since >= WINDOW:
            entry = _Failures(since=now)
        self.failures.pop(attempt.address, None)
        self.failures[attempt.address] = entry
        if len(self.failures) > TABLE_MAX:
            self.failures.popitem(last=False)
        entry.count += 1
        if attempt.refused:
            if not entry.reported:  # one line per window, not one per attempt
                entry.reported = True
                failure_log.critical(
                    "login attempts from %s refused for %ds after %d failures",
                    attempt.address, int(WINDOW), MAX_FAILURES,
                )  # fmt: skip
            return
        failure_log.critical(
            "login failure for user %s from %s via %s", attempt.name, attempt.address, attempt.via
        )

    def logout(self, active_id: int | None) -> None:
        """The session ``active_id`` ended (its connection closed)."""
        if active_id is not None:
            self.active.pop(active_id, None)

    def rows(self) -> list[RuntimeRow]:
        """``/user active`` rows."""
        return [
            RuntimeRow(
                id=a.id,
                values={
                    "when": a.when,
                    "name": a.name,
                    "address": a.address,
                    "via": a.via,
                    "group": a.group,
                },
            )
            for a in self.active.values()
        ]


def _group_policies(config: Config, group: str) -> frozenset[str]:
    item = config.table(USER_GROUP).by_name(group)
    if item is None:
        return frozenset()
    return policy_set(value_of(config.menu(USER_GROUP), item, "policy") or "")


def session_policies(config: Config, user: str) -> frozenset[str] | None:
    """The policies of ``user``'s group now (None: no such user)."""
    item = config.table(USER).by_name(user)
    if item is None:
        return None
    return _group_policies(config, item.values.get("group", ""))


ALL_POLICIES = frozenset(POLICIES)
