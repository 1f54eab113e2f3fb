"""The pyipsec daemon: configuration + packet engine + data plane on one asyncio loop.

Start-up order, each step undone on failure so nothing is left half set up: check the
prerequisites (root, /dev/net/tun), take the database's lock (one daemon per database), open
the store and import the optional script, compile the configuration, start the data plane
(TUN device, sockets, routes, rules), install the manual SAs, open the control socket.
SIGTERM/SIGINT stop it in reverse order and exit 0.

Start-up after a crash (``kill -9``, the OOM killer): the dead daemon's lock is gone with it
(``flock``), but its lock file still names it, which is how a restart knows; its policy rule
(and, with a persistent TUN device, the device and its routes) is adopted or replaced by the
data plane, and its control socket file is replaced. Each of these is logged as a
``system,warning`` line. See docs/crash-recovery.md.

While running, the configuration is re-read after every control-socket command and once a
second (for edits made directly to the database) when the database's change counter moved, and
the data plane is brought in line with it by its difference: changed policies are removed from
and inserted into the SPD and the routes, manual SAs that disappeared or changed are removed
and new ones added (docs/config-at-scale.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import functools
import gc
import ipaddress
import logging
import os
import signal
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from pyipsec.config.compile import Compiled, compile_config, dns_names
from pyipsec.config.menus.users import USER_ACTIVE
from pyipsec.config.store import Store
from pyipsec.core import events as ike_events
from pyipsec.core.admission import AdmissionLimits
from pyipsec.core.engine import IkeEngines
from pyipsec.core.ikev1.engine import Ikev1Engine
from pyipsec.core.ikev2.engine import Ikev2Engine
from pyipsec.dataplane.inprocess import InProcessBackend
from pyipsec.dataplane.policy import Direction, Policy
from pyipsec.dataplane.processor import (
    AcquireRequested,
    NatMappingChanged,
    Processor,
    UnknownSpiReceived,
)
from pyipsec.dataplane.sad import Sad, SaHardExpired, SaParams, SaSoftExpired
from pyipsec.dataplane.spd import Spd
from pyipsec.dataplane.stats import Statistics
from pyipsec.dataplane.userspace.router import UserspaceDataplane
from pyipsec.dataplane.userspace.routing import RoutingError, local_addresses
from pyipsec.dataplane.userspace.tun import TunError
from pyipsec.io.api_server import ApiServices
from pyipsec.io.control import ControlServer, socket_path
from pyipsec.io.dns_peers import PeerResolver
from pyipsec.io.http_server import HttpContext, HttpServer
from pyipsec.io.ike_endpoint import IkeEndpoint, address_text
from pyipsec.io.logging import RingHandler, log_line, log_text
from pyipsec.io.runtime import DaemonRuntime
from pyipsec.mgmt import first_start
from pyipsec.mgmt.auth import Accounts
from pyipsec.mgmt.base import RuntimeProvider, WithRows
from pyipsec.mgmt.changes import ChangeFeed
from pyipsec.mgmt.cli.interpreter import Interpreter
from pyipsec.mgmt.commands import Session

log = logging.getLogger("pyipsec.ipsec")
syslog = logging.getLogger("pyipsec.system")


class DaemonError(RuntimeError):
    """The daemon cannot start; the message says why and what is needed."""


def prerequisites() -> list[str]:
    missing = []
    if os.geteuid() != 0:
        missing.append("root privileges (the data plane creates a TUN device and raw sockets)")
    if not os.path.exists("/dev/net/tun"):
        missing.append("/dev/net/tun (load the tun kernel module)")
    return missing


def _first_word(data: bytes) -> str | None:
    words = data.decode(errors="replace").split()
    return words[0] if words else None


class DbLock:
    """An exclusive lock on ``<db>.lock`` holding the daemon's PID: one daemon per database.

    The lock is a ``flock``, which the kernel drops when its holder dies, so a killed daemon
    never blocks the next one; a live one always does. A clean stop removes the file, so a
    file that still names a PID when the lock is taken tells that its daemon died
    (``stale_pid``)."""

    def __init__(self, db: Path) -> None:
        self.path = db.with_name(db.name + ".lock")
        self.fd = -1
        self.stale_pid: str | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _first_word(os.read(fd, 32)) or "?"
            os.close(fd)
            raise DaemonError(
                f"another pyipsec daemon (pid {holder}) is already running on this database"
            ) from None
        self.stale_pid = _first_word(os.read(fd, 32))
        # overwrite, then cut: the file never reads empty, even to one killed in between
        mine = f"{os.getpid()}\n".encode()
        os.pwrite(fd, mine, 0)
        os.ftruncate(fd, len(mine))
        self.fd = fd

    def release(self) -> None:
        if self.fd >= 0:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()
            os.close(self.fd)
            self.fd = -1


# Drop reasons meaning "no peer entry covers that address": IKEv1's, IKEv2's (core/ikev2).
_NO_PEER_DROPS = frozenset({"unknown-peer", "no-peer"})


def describe_ike_event(event: object, *, version: int = 1) -> str:
    """One log line for an IKE event: its name and fields, no key material (events carry
    none). An IKEv2 engine's event says ``exchange=ike2`` (as ``IkeSaEstablished`` does by
    itself), so a line about a peer tells which IKE version it concerns."""
    shape = _EVENT_SHAPES.get(type(event))
    if shape is None:
        shape = _event_shape(type(event))
    name, fields, ike2 = shape
    parts = ["exchange=ike2"] if version == 2 and ike2 else []
    for f in fields:
        value = getattr(event, f)
        if type(value) in _ADDRESSES:  # str() of it, from the endpoint's bounded cache
            parts.append(f"{f}={address_text(value)}")
        elif isinstance(value, tuple) and len(value) == 2 and hasattr(value[0], "version"):
            parts.append(f"{f}={address_text(value[0])}:{value[1]}")  # an endpoint
        else:
            parts.append(f"{f}={value}")
    return name + " " + " ".join(parts)


_ADDRESSES = (ipaddress.IPv4Address, ipaddress.IPv6Address)


# Per event class: its name, its fields in order, and whether an IKEv2 line adds
# ``exchange=ike2`` (it has no ``exchange`` field of its own). Read off the class once instead
# of off every event (two lines per IKE setup); bounded by the engines' event classes.
_EVENT_SHAPES: dict[type, tuple[str, tuple[str, ...], bool]] = {}


def _event_shape(cls: type) -> tuple[str, tuple[str, ...], bool]:
    fields = tuple(getattr(cls, "__dataclass_fields__", {}))
    shape = (cls.__name__, fields, "exchange" not in fields)
    if len(_EVENT_SHAPES) < 256:
        _EVENT_SHAPES[cls] = shape
    return shape


# The collector's generation-0 threshold while the daemon runs (CPython's default: 700).
GC_THRESHOLD_0 = 10_000


def settle_heap() -> None:
    """Move what start-up made (modules, the compiled configuration, the CLI's menus: some
    50,000 objects) out of the garbage collector's reach (``gc.freeze``), after collecting
    what start-up left over. Those objects live as long as the daemon, yet every full
    collection walked them: 20-40 ms of CPU (0.1-0.3 s of wall time on a loaded machine) a
    few times a minute under IKE load, with the event loop stopped. Later objects are
    collected as before.

    Then generation 0 is collected every ``GC_THRESHOLD_0`` (10,000) net container
    allocations instead of 700 (generations 1 and 2 keep their default 10 and 10). An IKE
    setup leaves ~80 tracked objects per side (IKE SA, child SAs, SAD entries) and makes
    no cyclic garbage (bench_ike_cpu: 0 objects collected over 1,000 setups), so at 700
    every few setups walked the in-flight exchanges and, ten passes later, generation 1
    walked them again: 38 us of collector CPU per setup (both sides together) at 700,
    16 us at 10,000 (20,000: 16, 50,000: 20 with 7 ms passes). A pass at 10,000 takes
    about 1 ms on the loaded benchmark machine; a generation-1 pass ~10 times that once
    every ~1,200 setups. Memory stays bounded: only cyclic garbage waits for the
    collector (the rest is freed by reference counting at once), at most 10,000 objects
    in generation 0 and 100,000 in generation 1 (the survivors of ten passes), some
    10-20 MB in the worst case that every one of them were garbage of a few hundred
    bytes; generation 2 keeps CPython's rule (a full pass when it grew by a quarter)."""
    gc.collect()
    gc.freeze()
    _, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(GC_THRESHOLD_0, gen1, gen2)


def _wall_clock_offset() -> float:
    """What turns the engine's monotonic ``now`` into POSIX time (certificate dates)."""
    return time.time() - time.monotonic()


def _sa_key(p: SaParams) -> tuple[int, int, str]:
    return (p.spi, int(p.protocol), str(p.dst))


def make_engines(backend: InProcessBackend, admission: AdmissionLimits | None = None) -> IkeEngines:
    """IKEv1 and IKEv2 behind the one API the daemon drives (core/engine.py), with the
    admission limits of ``pyipsec daemon`` (core/admission.py; None: its defaults)."""
    offset = _wall_clock_offset()
    return IkeEngines(
        Ikev1Engine(backend=backend, rng=os.urandom, wall_clock_offset=offset, admission=admission),
        Ikev2Engine(backend=backend, rng=os.urandom, wall_clock_offset=offset, admission=admission),
    )


@dataclass
class DaemonOptions:
    db: Path
    import_file: Path | None = None
    tun_name: str = "pyipsec0"
    mtu: int = 1400
    log_ring: RingHandler | None = None  # what `/log print` shows
    # admission control of new IKE exchanges (docs/admission.md); None: the defaults
    admission: AdmissionLimits | None = None


class Daemon:
    def __init__(self, options: DaemonOptions) -> None:
        self.options = options
        self.lock = DbLock(options.db)
        self.store: Store | None = None
        self.stats = Statistics()
        self.spd = Spd()
        self.sad = Sad()
        self.processor = Processor(self.spd, self.sad, self.stats, os.urandom)
        self.backend = InProcessBackend(self.processor, os.urandom, self._sync_spd)
        self.engine = make_engines(self.backend, options.admission)
        self.runtime = DaemonRuntime(self.processor, log=options.log_ring, ike=self)
        self.dataplane: UserspaceDataplane | None = None
        self.ike: IkeEndpoint | None = None
        self._spd_configured: tuple[Policy, ...] | None = None
        self._spd_dynamic: dict[int, Policy] = {}
        self._applied_generation = -1
        self.control: ControlServer | None = None
        self.compiled: Compiled | None = None
        # DNS names in (RouterOS 7) peer addresses, resolved in the background
        self.resolver = PeerResolver(on_change=self._addresses_changed)
        self.manual: dict[tuple[int, int, str], SaParams] = {}
        # management front-ends (issue 12): accounts, the change feed, www/www-ssl
        self.accounts: Accounts | None = None
        self.changes: ChangeFeed | None = None
        self.http: HttpServer | None = None
        self.api: ApiServices | None = None  # the RouterOS API (api, api-ssl)
        # the runtime the front-ends see: the daemon's, plus /user active from the accounts
        self.mgmt_runtime: RuntimeProvider = self.runtime
        self._stop = asyncio.Event()

    # -- configuration -------------------------------------------------------------------

    def session(self) -> Session:
        assert self.store is not None
        return Session(store=self.store, runtime=self.mgmt_runtime)

    def after_command(self) -> None:
        """A command ran (control socket, API, REST): apply it, tell the listeners."""
        self.apply_config()
        if self.changes is not None:
            self.changes.check()

    def import_script(self, path: Path) -> None:
        out: list[str] = []
        interp = Interpreter(
            Session(store=self.store, files_dir=path.parent),  # type: ignore[arg-type]
            write=out.append,
        )
        if not interp.run(f'/import file-name="{path.name}"'):
            raise DaemonError(f"import of {path} failed: {''.join(out).strip()}")
        for line in "".join(out).splitlines():  # skipped menus of a whole-router export
            if line.startswith("warning: "):
                syslog.warning("import of %s: %s", path.name, line.removeprefix("warning: "))

    def apply_config(self) -> None:
        """Bring the SPD, the manual SAs and the routes in line with the configuration.

        Called after every control-socket request and once a second: when the database's
        change counter has not moved nothing is read or compiled. After a change only the
        changed policies are compiled again (config.compile keeps records per item) and the
        SPD receives only the difference (see ``_sync_spd``)."""
        assert self.store is not None
        generation = self.store.generation()  # before the read: a later write is seen next time
        if generation == self._applied_generation:
            return
        config = self.store.snapshot()
        self.resolver.want(dns_names(config))
        compiled = compile_config(config, resolved=self.resolver.resolved)
        self._applied_generation = generation
        if self.http is not None:
            self.http.poke()  # /ip service may have changed
        if compiled == self.compiled:
            return
        for problem in compiled.problems:
            log.error("%s", problem)
        now = time.monotonic()
        self.compiled = compiled
        self._sync_spd()
        wanted = {_sa_key(p): p for p in compiled.manual_sas}
        for key, params in list(self.manual.items()):
            if wanted.get(key) != params:
                self.sad.delete(params.spi, params.protocol, params.dst)
                del self.manual[key]
                log.info("removed manual SA spi=0x%X", params.spi)
        for key, params in wanted.items():
            if key not in self.manual:
                self.sad.add(params, now)
                self.manual[key] = params
                log.info(
                    "installed manual %s SA spi=0x%X %s->%s",
                    params.protocol.name, params.spi, params.src, params.dst,
                )  # fmt: skip
        if isinstance(self.engine.ikev2, Ikev2Engine):  # `/ip ipsec settings` (cookies)
            self.engine.ikev2.settings = compiled.settings
        self.engine.configure(
            peers=compiled.peers,
            proposals=compiled.proposals,
            policies=[p for p in compiled.policies if p.manual_sa is None],
            templates=compiled.templates,
            now=now,
            credentials=compiled.credentials,
        )
        if self.ike is not None:
            self.ike.flush()
        log.info(
            "configuration applied: %d policies, %d peers",
            len(compiled.policies), len(compiled.peers),
        )  # fmt: skip

    def _addresses_changed(self) -> None:
        """A peer's DNS name resolves to a new address: compile again on the next tick."""
        self._applied_generation = -1

    def _sync_spd(self) -> None:
        """SPD and routes = configured policies + IKE's dynamic (generate-policy) ones.

        The SPD keeps its order: configured policies in list order first, dynamic ones after.
        Both parts take only the difference: IKE adds and removes dynamic policies one at a
        time, possibly hundreds in a burst, and a console command changes a few configured
        ones of possibly thousands. A configured policy that is new or changed is inserted
        between its neighbours (``Spd.insert``); a reordering of unchanged policies (``move``)
        or a change of a large part of the list rebuilds the SPD with ``replace_all``."""
        configured = self.compiled.policies if self.compiled is not None else ()
        # the dynamic ids added/removed since the last sync (None: look at all of them)
        changed: list[int] | None = self.backend.take_changed()
        added: list[Policy] = []
        removed: list[Policy] = []
        if configured != self._spd_configured:
            policies = self.backend.policies(configured)
            old = self._spd_configured
            if old is None or not self._update_configured(old, configured, added, removed):
                self.spd.replace_all(policies)
                self._spd_configured = tuple(configured)
                self._spd_dynamic = {p.id: p for p in policies[len(configured) :]}
                if self.dataplane is not None:
                    self.dataplane.sync_policies(policies)
                return
            self._spd_configured = tuple(configured)
            changed = None  # look at every dynamic policy
        if changed is None:
            wanted = dict(self.backend.dynamic)
            for pid in [pid for pid in self._spd_dynamic if pid not in wanted]:
                self.spd.remove(pid)
                removed.append(self._spd_dynamic.pop(pid))
        else:  # only what IKE changed: a generated policy costs the same with 10 or 10,000
            wanted = {pid: p for pid in changed if (p := self.backend.dynamic.get(pid)) is not None}
            for pid in changed:
                if pid not in wanted and pid in self._spd_dynamic:
                    self.spd.remove(pid)
                    removed.append(self._spd_dynamic.pop(pid))
        for pid, policy in wanted.items():
            if self._spd_dynamic.get(pid) != policy:
                if pid in self._spd_dynamic:
                    self.spd.remove(pid)
                    removed.append(self._spd_dynamic[pid])
                self.spd.add(policy)
                self._spd_dynamic[pid] = policy
                added.append(policy)
        if self.dataplane is not None and (added or removed):
            self.dataplane.change_policies(added, removed)

    def _update_configured(
        self,
        old: tuple[Policy, ...],
        new: tuple[Policy, ...],
        added: list[Policy],
        removed: list[Policy],
    ) -> bool:
        """Turn the SPD's configured part from ``old`` into ``new`` by removing and inserting
        the changed policies (recorded in ``added``/``removed``); False (the caller rebuilds)
        when that is not the cheaper way."""
        old_by_id = {p.id: p for p in old}
        new_by_id = {p.id: p for p in new}
        gone = {
            pid
            for pid, p in old_by_id.items()
            if (q := new_by_id.get(pid)) is None or (q is not p and q != p)
        }
        fresh = [i for i, p in enumerate(new) if p.id not in old_by_id or p.id in gone]
        if len(gone) + len(fresh) > max(64, len(new) // 8):
            return False
        kept_old = [p.id for p in old if p.id not in gone]
        kept_new = [p.id for p in new if p.id in old_by_id and p.id not in gone]
        if kept_old != kept_new:
            return False  # unchanged policies moved
        for pid in gone:
            self.spd.remove(pid)
            removed.append(old_by_id[pid])
        pending = set(fresh)
        for i in fresh:
            after = new[i - 1].id if i > 0 else None
            j = i + 1
            while j in pending:
                j += 1
            before = new[j].id if j < len(new) else self.spd.first_added(self._spd_dynamic)
            if not self.spd.insert(new[i], after=after, before=before):
                return False
            pending.discard(i)
            added.append(new[i])
        return True

    # -- life cycle ----------------------------------------------------------------------

    async def run(self) -> int:
        missing = prerequisites()
        if missing:
            raise DaemonError("pyipsec daemon needs " + " and ".join(missing))
        self.lock.acquire()
        try:
            if self.lock.stale_pid is not None:
                syslog.warning(
                    "previous daemon (pid %s) on this database did not stop cleanly; "
                    "taking over what it left",
                    self.lock.stale_pid,
                )
            self.store = Store(self.options.db)
            if self.options.import_file is not None:
                self.import_script(self.options.import_file)
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(sig, self._stop.set)
            self.dataplane = UserspaceDataplane(
                self.processor,
                tun_name=self.options.tun_name,
                mtu=self.options.mtu,
                after_batch=self.drain_events,
            )
            try:
                self.dataplane.start(loop)
            except (TunError, RoutingError) as exc:
                raise DaemonError(f"cannot start the data plane: {exc}") from exc
            for line in self.dataplane.found:
                syslog.warning("%s", line)
            self.engine.local_addresses = tuple(local_addresses())
            self.ike = IkeEndpoint(self.engine, self.dataplane.udp, on_activity=self.drain_ike)
            self.dataplane.on_ike = self.ike.on_nat_t
            self.ike.start(loop)
            # peers named by DNS (RouterOS 7) are resolved before the first configuration
            self.resolver.want(dns_names(self.store.snapshot()))
            await self.resolver.refresh()
            self.apply_config()
            # the first routes before "started": traffic may follow at once
            await loop.run_in_executor(None, self.dataplane.wait_routes)
            control = socket_path(self.options.db)
            if control.exists():  # we hold the lock: nobody listens there any more
                syslog.warning("removed stale control socket %s", control)
            self.control = ControlServer(control, self.session, self.after_command, self.counters)
            await self.control.start()
            await self.start_management()
            syslog.info(
                "pyipsec daemon started on %s (pid %d, data plane %s)",
                self.options.db, os.getpid(), self.dataplane.tun_name,
            )  # fmt: skip
            settle_heap()
            tickers = [
                asyncio.create_task(self._tick()),
                asyncio.create_task(self._events_tick()),
                asyncio.create_task(self.resolver.run()),
            ]
            await self._stop.wait()
            for ticker in tickers:
                ticker.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await ticker
            syslog.info("pyipsec daemon stopping")
            return 0
        finally:
            await self._shutdown()

    def first_start(self) -> None:
        """An admin with a random password on a database that never had a user (written
        once to the log and to a root-only file), a self-signed certificate for TLS services
        without one (mgmt/first_start.py)."""
        assert self.store is not None
        password = first_start.ensure_admin(self.store)
        if password is not None:
            secret = self.options.db.with_name(self.options.db.name + ".admin-password")
            fd = os.open(secret, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(password + "\n")
            os.chmod(secret, 0o600)
            # to stderr only: /log print is readable by every user with the read policy
            syslog.warning(
                "first start: user admin created with password %s (also in %s)",
                password, secret, extra={"secret": True},
            )  # fmt: skip
        cert = first_start.ensure_certificate(self.store, datetime.now(UTC))
        if cert is not None:
            syslog.info("first start: self-signed certificate %s for api-ssl/www-ssl", cert)

    async def start_management(self) -> None:
        """Accounts, the change feed, and the www/www-ssl listeners (REST, web page)."""
        assert self.store is not None
        self.first_start()
        self.accounts = Accounts(store=self.store)
        self.mgmt_runtime = WithRows(self.runtime, {USER_ACTIVE: self.accounts.rows})
        self.changes = ChangeFeed(self.store, self.mgmt_runtime)
        # files of management sessions (export file=, import, key files): a directory of their
        # own, never the database's (a user could overwrite config.db by name)
        files_dir = self.options.db.parent / "files"
        context = HttpContext(
            store=self.store,
            accounts=self.accounts,
            runtime=self.mgmt_runtime,
            changes=self.changes,
            log_ring=self.options.log_ring,
            files_dir=files_dir,
            after_command=self.after_command,
        )
        self.http = HttpServer(context)
        await self.http.start()
        self.api = ApiServices(
            store=self.store,
            accounts=self.accounts,
            runtime=self.mgmt_runtime,
            feed=self.changes,
            files_dir=files_dir,
        )
        await self.api.reconcile()

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(1.0)
            self.engine.wall_clock_offset = _wall_clock_offset()  # follows clock steps
            try:
                self.apply_config()
                if self.changes is not None:  # live pages and listeners
                    self.changes.check()
            except Exception:  # a bad edit must not kill the daemon
                log.exception("re-reading the configuration failed")
            try:
                if self.api is not None:
                    await self.api.reconcile()  # /ip service changes
            except Exception:
                syslog.exception("starting or stopping an API service failed")
            self.sad.expire(time.monotonic())

    async def _events_tick(self) -> None:
        """Hand the data plane's events (acquires, expiries) to IKE ten times a second."""
        while True:
            await asyncio.sleep(0.1)
            try:
                self.drain_events()
            except Exception:
                log.exception("handling data-plane events failed")

    def drain_events(self) -> None:
        now = time.monotonic()
        events = self.processor.pop_events()
        for event in events:
            if isinstance(event, AcquireRequested):
                policy = event.policy
                if policy.manual_sa is not None:
                    continue
                log_text(log, logging.INFO, "acquire for policy %s", policy.id)
                self.engine.acquire(policy, now, event.selector)
            elif isinstance(event, SaSoftExpired | SaHardExpired):
                name, reason = type(event).__name__, event.reason.value
                log_text(log, logging.INFO, "SA spi=0x%X %s (%s)", event.spi, name, reason)
                self.engine.sa_expired(event, now)
            elif isinstance(event, NatMappingChanged):
                ike = self.engine.peer_port_changed(
                    event.peer, event.old_ports[0], event.new_ports[0]
                )
                log.info(
                    "NAT mapping of %s changed: port %d -> %d (%d SAs, %d IKE SAs moved)",
                    event.peer, event.old_ports[0], event.new_ports[0], event.moved, ike,
                )  # fmt: skip
            elif isinstance(event, UnknownSpiReceived):
                log.debug("%s from %s: unknown SPI 0x%X", event.protocol.name, event.src, event.spi)
                self.engine.unknown_spi(event.spi, event.protocol, event.src, event.dst, now)
        if events and self.ike is not None:
            self.ike.flush()

    def drain_ike(self) -> None:
        """Log what the IKE engine did; send the NAT keepalives it asks for."""
        for version, event in self.engine.pop_tagged_events():
            if isinstance(event, ike_events.NatKeepaliveDue):
                if self.ike is not None:
                    self.ike.send_keepalive(event.src, event.dst)
                continue
            level = logging.INFO
            if isinstance(event, ike_events.DatagramDropped):
                # a peer we have no entry for is worth a line; other drops are debug noise,
                # except the engine's safety net catching one of its own bugs
                kind = event.reason.split(":", 1)[0]
                level = logging.WARNING if kind in _NO_PEER_DROPS else logging.DEBUG
                if kind == "internal-error":
                    level = logging.ERROR
            elif isinstance(event, ike_events.NotifyReceived):
                level = logging.DEBUG
            elif isinstance(event, ike_events.AuthenticationFailed | ike_events.NegotiationFailed):
                level = logging.ERROR
            # a flood yields many events: format one only when its line is written (level
            # enabled, not suppressed by the rate limit), see io/logging.py
            if log.isEnabledFor(level):
                describe = (  # one partial, not a second one for IKEv2's events
                    functools.partial(describe_ike_event, event, version=2)
                    if version == 2
                    else functools.partial(describe_ike_event, event)
                )
                log_line(log, level, type(event).__name__, describe)

    def counters(self) -> dict[str, object]:
        """Internal counters for the control socket's ``stats`` request: the IKE engine's
        (drop reasons, ``internal-error`` for its safety net), `/ip ipsec statistics`
        (``in-errors``/``out-errors``: the packet engine's safety net), and the exceptions
        that reached the daemon's own safety nets."""
        return {
            "ike": dict(self.engine.stats()),
            "ipsec": self.processor.stats.as_dict(),
            "ike-endpoint-errors": self.ike.errors if self.ike is not None else 0,
            # packets each inbound SA accepted (ICV and replay checks passed), each outbound
            # SA sent
            "inbound-sa-packets": self._sa_packets(Direction.IN),
            "outbound-sa-packets": self._sa_packets(Direction.OUT),
        }

    def _sa_packets(self, direction: Direction) -> dict[str, int]:
        """``<integrity>/<protocol>/<destination>/<SPI>`` -> packets."""
        out: dict[str, int] = {}
        for sa in self.sad:
            p = sa.params
            if p.direction is direction:
                name = p.integrity.name if p.integrity is not None else "aead"
                out[f"{name}/{p.protocol.name}/{p.dst}/{p.spi:#x}"] = sa.current_packets
        return out

    def remote_peers(self) -> list[ike_events.RemotePeer]:
        return self.engine.remote_peers(time.monotonic())

    def kill_connections(self) -> None:
        self.engine.kill_connections(time.monotonic())
        if self.ike is not None:
            self.ike.flush()

    async def _shutdown(self) -> None:
        if self.http is not None:
            await self.http.stop()
            self.http = None
        if self.api is not None:
            await self.api.stop()
            self.api = None
        if self.ike is not None:
            self.engine.kill_connections(time.monotonic())  # Delete notifies to the peers
            self.ike.flush()
            self.ike.stop()
            self.ike = None
        if self.control is not None:
            await self.control.stop()
            self.control = None
        if self.dataplane is not None:
            self.dataplane.stop()
            self.dataplane = None
        if self.store is not None:
            self.store.close()
            self.store = None
        self.lock.release()
