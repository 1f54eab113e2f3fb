"""Routes and policy-routing rules that steer protected traffic into the TUN device.

For each ``encrypt`` policy the userspace backend routes the policy's destination prefix into
the TUN device in a table of its own, and one rule sends everything that does not carry
pyipsec's fwmark through that table. Packets pyipsec sends itself (protected packets, and
cleartext that the SPD lets pass) carry the mark and take the main table. Where a local address
lies inside the policy's source prefix the route names it as the preferred source, so traffic
the gateway originates itself picks an address the policy covers.

Everything goes through rtnetlink, from one worker thread, never on the caller's (the event
loop's) thread: ``sync()`` only records the wanted set of prefixes and wakes the worker, which
applies the difference to what is installed. A burst of policy changes (IKE adds hundreds of
generated policies at once) is folded into one pass over the newest wanted set, and the route
changes of a pass go to the kernel in batches (``rtbatch.py``: many requests per send, one ack
each). Rules, the link settings and the dumps use pyroute2. ``setup_device()``, ``wait()`` and
``clear()`` block until the worker is done: they belong to start-up, tests and shutdown.

Crash recovery: a daemon killed with SIGKILL leaves its rule behind (and, when the TUN device
was persistent, the device and the routes through it). ``setup_device()`` adopts what it
finds instead of failing on "File exists": our rule at our priority is kept (a different one
there is replaced), routes in our table through our device are taken as installed, so the
first ``sync()`` removes the ones no longer wanted. ``found`` lists what was adopted or
removed, for the daemon's log. Everything installed or adopted is removed by ``clear()``.
"""

from __future__ import annotations

import bisect
import ipaddress
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from pyipsec.dataplane.policy import IPAddress, IPNetwork
from pyipsec.dataplane.userspace.rtbatch import RouteBatcher, RouteOp, dump_local_addresses

ROUTE_TABLE = 2207
RULE_PRIORITY = 2207
FIB_RULE_INVERT = 0x2  # linux/fib_rules.h: the rule matches what its selectors do not
IP_MTU = 14  # linux/in.h: getsockopt on a connected socket gives the path MTU
IPV6_MTU = 24  # linux/in6.h
SO_MARK = 36
RETRY_AFTER = 1.0  # seconds before a failed route batch is tried again
# seconds between two worker passes the daemon's loop asks for (``TunRouting(coalesce=)``):
# a burst of generated policies (one per IKE setup, ~1,000 a second) costs one pass per
# interval, not one per loop iteration; a first change after a quiet spell goes at once
ROUTE_COALESCE = 0.005
TXQUEUELEN = 2000  # packets queued in the TUN device for the daemon to read
EEXIST, ENOENT, ESRCH = 17, 2, 3

log = logging.getLogger("pyipsec.dataplane")
T = TypeVar("T")


class RoutingError(RuntimeError):
    """A netlink request failed."""


def open_netlink() -> Any:
    """An rtnetlink socket (pyroute2's synchronous ``IPRoute``; it runs its own event loop,
    so it must live in a thread without a running asyncio loop)."""
    from pyroute2 import IPRoute

    return IPRoute()


def _family(version: int) -> int:
    return socket.AF_INET6 if version == 6 else socket.AF_INET


def _err_code(exc: BaseException) -> int:
    return int(getattr(exc, "code", 0) or 0)


def read_local_addresses(ipr: Any) -> list[IPAddress]:
    """Every address configured on an interface of this namespace."""
    found: list[IPAddress] = []
    for msg in ipr.get_addr():
        addr = msg.get("address") or msg.get("local")
        if addr:
            found.append(ipaddress.ip_address(str(addr).split("%")[0]))
    return found


def _host_only(a: IPAddress) -> bool:
    """Loopback (127/8, ::1) or link-local (169.254/16, fe80::/10), by integer value (the
    ``ipaddress`` properties test network membership, slow for thousands of addresses)."""
    v = int(a)
    if a.version == 4:
        return v >> 24 == 127 or v >> 16 == 0xA9FE
    return v == 1 or v >> 118 == 0x3FA


def _by_value(addresses: list[IPAddress]) -> dict[int, tuple[list[int], list[int]]]:
    """Per IP version, the addresses' integer values in ascending order and, beside each, its
    position in ``addresses``. Loopback and link-local addresses are left out: neither can
    source a packet that leaves through the tunnel, and the kernel refuses ``::1`` (or any
    IPv6 address not usable off-link) as an IPv6 route's preferred source (EINVAL), so a
    policy from ``::/0`` had no route at all."""
    out: dict[int, tuple[list[int], list[int]]] = {}
    usable = [(i, a) for i, a in enumerate(addresses) if not _host_only(a)]
    for version in (4, 6):
        pairs = sorted((int(a), i) for i, a in usable if a.version == version)
        out[version] = ([v for v, _ in pairs], [i for _, i in pairs])
    return out


def local_addresses() -> list[IPAddress]:
    """The namespace's addresses (one netlink dump; blocking, for start-up and tools)."""
    return _in_thread(read_local_addresses)


def _in_thread(fn: Callable[[Any], T]) -> T:
    """Run ``fn(ipr)`` on a fresh netlink socket in a short-lived thread (pyroute2's sync API
    cannot run in a thread whose asyncio loop is running)."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="pyipsec-netlink") as pool:

        def call() -> T:
            ipr = open_netlink()
            try:
                return fn(ipr)
            finally:
                ipr.close()

        return pool.submit(call).result(timeout=30)


def path_mtu(dst: IPAddress, mark: int) -> int:
    """The MTU toward ``dst`` for packets carrying ``mark``: the route's MTU (its device's, a
    ``mtu`` set on the route, or what path-MTU discovery learnt), as the kernel reports it for a
    connected UDP socket. Raises ``OSError`` when there is no route."""
    family = socket.AF_INET if dst.version == 4 else socket.AF_INET6
    with socket.socket(family, socket.SOCK_DGRAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, SO_MARK, mark)
        sock.connect((str(dst), 9))
        if family == socket.AF_INET:
            return sock.getsockopt(socket.IPPROTO_IP, IP_MTU)
        return sock.getsockopt(socket.IPPROTO_IPV6, IPV6_MTU)


def write_sysctl(path: str, value: str) -> bool:
    """Write one ``/proc/sys`` entry of this namespace; False when it cannot be written."""
    try:
        Path("/proc/sys", path).write_text(value)
    except OSError:
        return False
    return True


class TunRouting:
    """The routes/rules of one TUN device, kept in step with the set of steered prefixes."""

    def __init__(
        self,
        device: str,
        mark: int,
        *,
        table: int = ROUTE_TABLE,
        priority: int = RULE_PRIORITY,
        netlink: Callable[[], Any] = open_netlink,
        batcher: Callable[[], Any] = RouteBatcher,
        address_ttl: float = 2.0,
        clock: Callable[[], float] | None = None,
        addresses: Callable[[], list[IPAddress]] | None = None,
        defer: Callable[[float, Callable[[], None]], object] | None = None,
        coalesce: float = 0.0,
    ) -> None:
        self.device = device
        self.mark = mark
        self.table = table
        self.priority = priority
        self.address_ttl = address_ttl  # seconds a dump of the local addresses is reused
        self.clock = clock or time.monotonic
        # installed state: owned by the worker thread
        self.routes: dict[IPNetwork, IPAddress | None] = {}
        self.rules: set[int] = set()  # address families (4, 6) with our rule installed
        self.found: list[str] = []  # what setup_device() adopted or removed
        self.failures = 0  # netlink requests that failed (each is logged)
        self._stale: set[IPNetwork] = set()  # adopted routes not (yet) wanted again
        self._netlink = netlink
        # the local addresses: a raw rtnetlink dump (rtbatch.py), or through an injected
        # netlink object (tests) the way pyroute2's dump gives them
        if addresses is None and netlink is open_netlink:
            addresses = dump_local_addresses
        self._read_addresses = addresses or (lambda: read_local_addresses(self._nl()))
        self._ipr: Any = None
        self._batcher = batcher
        self._routes_out: Any = None  # the RouteBatcher, made in the worker
        self._index = 0
        self._locals: list[IPAddress] = []
        self._locals_read = float("-inf")
        # by IP version: the local addresses as sorted integers, and each one's dump position
        self._locals_sorted: dict[int, tuple[list[int], list[int]]] = {}
        self._preferred: dict[IPNetwork, IPAddress | None] = {}
        # wanted state: written by sync() and change() on the caller's thread. ``_srcs`` is
        # the multiset of wanted (src, dst) pairs by dst; ``_dirty`` the dsts changed since
        # the worker's last pass (None: look at every dst, after sync() or a failed batch).
        self._lock = threading.Lock()
        self._wanted: frozenset[tuple[IPNetwork, IPNetwork]] | None = None
        self._srcs: dict[IPNetwork, dict[IPNetwork, int]] = {}
        self._dirty: set[IPNetwork] | None = None
        self._queued: Future[None] | None = None
        self._closing = False
        # ``defer(delay, fn)`` (the daemon's loop.call_later): sync()/change() then wake the
        # worker once from the caller's loop, after the rest of its iteration and at least
        # ``coalesce`` seconds after the previous pass was submitted, instead of once per
        # call. IKE changes routes one generated policy at a time, tens per read batch; each
        # wake of the worker thread costs the caller's thread a GIL hand-over (py-spy: ~10 %
        # of a responder's samples at one wake per loop iteration under setup load).
        self._defer = defer
        self.coalesce = coalesce
        self._wake_pending = False
        self._last_submit = float("-inf")  # clock() when the last pass was submitted
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pyipsec-netlink")

    # -- the caller's side -----------------------------------------------------------------

    def setup_device(self, mtu: int) -> None:
        """Adopt what a previous instance left, then bring the device up (blocking)."""
        self._pool.submit(self._setup, mtu).result(timeout=30)

    def sync(self, prefixes: Iterable[tuple[IPNetwork, IPNetwork]]) -> None:
        """Make the installed routes the destinations of ``(src, dst)`` prefixes, soon.

        Returns at once; an unchanged set costs nothing (IKE calls this for every generated
        policy), and sets that change while the worker is busy are applied as one."""
        items = list(prefixes)
        pairs = frozenset(items)
        with self._lock:
            if pairs == self._wanted:
                return
            self._wanted = pairs
            self._srcs = {}
            for src, dst in items:  # a multiset, as change() keeps it: one count per policy
                srcs = self._srcs.setdefault(dst, {})
                srcs[src] = srcs.get(src, 0) + 1
            self._dirty = None
            self._wake()

    def change(
        self,
        added: Iterable[tuple[IPNetwork, IPNetwork]],
        removed: Iterable[tuple[IPNetwork, IPNetwork]],
    ) -> None:
        """Add and remove ``(src, dst)`` prefixes (a multiset: a pair wanted twice stays until
        removed twice), soon. The worker then looks at the changed destinations only, so a
        configuration edit costs the same with ten policies or ten thousand."""
        with self._lock:
            self._wanted = None  # no longer a known set: the next sync() is applied in full
            touched = set()
            for src, dst in removed:
                srcs = self._srcs.get(dst)
                if srcs is None or src not in srcs:
                    continue
                srcs[src] -= 1
                if not srcs[src]:
                    del srcs[src]
                    if not srcs:
                        del self._srcs[dst]
                touched.add(dst)
            for src, dst in added:
                srcs = self._srcs.setdefault(dst, {})
                srcs[src] = srcs.get(src, 0) + 1
                touched.add(dst)
            if not touched:
                return
            if self._dirty is not None:
                self._dirty |= touched
            self._wake()

    def _wake(self) -> None:
        """Have the worker apply the wanted state: now, or (with ``defer``) once the caller's
        loop iteration is over. Called with the lock held."""
        if self._queued is not None or self._closing or self._wake_pending:
            return
        if self._defer is None:
            self._submit()
            return
        self._wake_pending = True
        self._defer(max(0.0, self._last_submit + self.coalesce - self.clock()), self._deferred_wake)

    def _submit(self) -> None:
        """Queue a worker pass unless one is queued or we are closing (lock held)."""
        if self._queued is None and not self._closing:
            self._queued = self._pool.submit(self._apply)
            self._last_submit = self.clock()

    def _deferred_wake(self) -> None:
        with self._lock:
            if not self._wake_pending:  # wait() submitted it already
                return
            self._wake_pending = False
            self._submit()

    def _retry(self) -> None:
        with self._lock:
            self._submit()

    def wait(self, timeout: float = 30) -> None:
        """Block until every ``sync()`` so far is applied."""
        with self._lock:  # a wake still waiting for the caller's loop: not any more
            if self._wake_pending:
                self._wake_pending = False
                self._submit()
        self._pool.submit(lambda: None).result(timeout=timeout)

    def clear(self) -> None:
        """Remove every route and rule installed or adopted, and stop the worker (blocking)."""
        with self._lock:
            self._closing = True
        try:
            self._pool.submit(self._clear).result(timeout=30)
        finally:
            self._pool.shutdown(wait=True)

    # -- the worker's side -----------------------------------------------------------------

    def _request(
        self,
        what: str,
        fn: Callable[..., object],
        *args: object,
        quiet: tuple[int, ...] = (),
        **kwargs: object,
    ) -> bool:
        """One netlink request ``fn(*args, **kwargs)``; a failure is logged and counted, never
        raised (the worker must survive, e.g. a route whose preferred source just went away)."""
        try:
            fn(*args, **kwargs)
        except Exception as exc:
            if _err_code(exc) in quiet:
                return True
            self.failures += 1
            log.warning("netlink %s failed: %s", what, exc)
            return False
        return True

    def _nl(self) -> Any:
        if self._ipr is None:
            self._ipr = self._netlink()
        return self._ipr

    def _setup(self, mtu: int) -> None:
        ipr = self._nl()
        found = ipr.link_lookup(ifname=self.device)
        if not found:
            raise RoutingError(f"device {self.device} not found")
        self._index = int(found[0])
        self._adopt(ipr)
        # The TUN device is a tunnel end, not a LAN: no IPv6 router solicitations or router
        # advertisements on it (they would reach the SPD as traffic to ff02::2).
        # Reverse-path filter: decapsulated packets arrive on the TUN from remote prefixes. The
        # kernel filters with max(conf/all/rp_filter, conf/<dev>/rp_filter), so the device's own
        # 0 only matters where `all` is 0; nothing host-wide is touched. Where `all` is 1
        # (strict) or 2 (loose), the check still passes: the reverse route to a remote prefix of
        # an encrypt policy is ours, through the TUN (unmarked lookups take our table), and
        # traffic from prefixes no policy steers here is not ours to accept.
        dev = self.device
        for path in (
            f"net/ipv4/conf/{dev}/rp_filter",
            f"net/ipv6/conf/{dev}/router_solicitations",
            f"net/ipv6/conf/{dev}/accept_ra",
        ):
            write_sysctl(path, "0")
        # A deeper queue than TUN's default 500 packets: a burst a TCP sender makes while the
        # gateway is busy waits instead of being dropped (measured: ~3 % of a bulk transfer's
        # segments lost and retransmitted at 500, none at 2000; docs/userspace-offload.md).
        try:
            ipr.link("set", index=self._index, mtu=mtu, txqlen=TXQUEUELEN, state="up")
        except Exception as exc:
            raise RoutingError(f"cannot bring {dev} up: {exc}") from exc

    def _is_ours(self, rule: Any) -> bool:
        return bool(
            rule.get("priority") == self.priority
            and (rule.get("FRA_TABLE") or rule.get("table")) == self.table
        )

    def _exact(self, rule: Any) -> bool:
        return bool(
            rule["flags"] & FIB_RULE_INVERT
            and rule.get("fwmark") == self.mark
            and rule.get("fwmask") in (None, 0xFFFFFFFF)
            and not rule["src_len"]
            and not rule["dst_len"]
            and not rule.get("iifname")
            and not rule.get("oifname")
        )

    def _adopt(self, ipr: Any) -> None:
        """Take over the rule and routes a previous instance on this namespace left."""
        for version in (4, 6):
            for rule in ipr.get_rules(family=_family(version)):
                if not self._is_ours(rule):
                    continue
                if self._exact(rule) and version not in self.rules:
                    self.rules.add(version)
                    self.found.append(
                        f"adopted IPv{version} policy rule {self.priority} "
                        f"(not fwmark {self.mark:#x} lookup {self.table}) left by a previous run"
                    )
                    continue
                self._request(
                    "rule delete",
                    ipr.rule,
                    "del",
                    family=_family(version),
                    priority=self.priority,
                    table=self.table,
                    fwmark=rule.get("fwmark"),
                    fwmask=rule.get("fwmask"),
                    flags=rule["flags"],
                    quiet=(ENOENT,),
                )
                self.found.append(f"removed a stale IPv{version} rule at priority {self.priority}")
        adopted = 0
        for route in ipr.get_routes(family=socket.AF_UNSPEC, table=self.table):
            if route.get("oif") != self._index or route.get("table") != self.table:
                continue
            dst = route.get("dst") or ("::" if route["family"] == socket.AF_INET6 else "0.0.0.0")
            net = ipaddress.ip_network(f"{dst}/{route['dst_len']}", strict=False)
            pref = route.get("prefsrc")
            self.routes[net] = ipaddress.ip_address(pref) if pref else None
            self._stale.add(net)
            adopted += 1
        if adopted:
            self.found.append(
                f"adopted {adopted} routes in table {self.table} through {self.device} "
                "left by a previous run"
            )

    def _preferred_source(self, src: IPNetwork) -> IPAddress | None:
        """A local address inside ``src`` (memoised; the address list is dumped again at most
        every ``address_ttl`` seconds, so a burst of policy changes reads it once)."""
        if src in self._preferred:
            return self._preferred[src]
        now = self.clock()
        if now - self._locals_read > self.address_ttl:
            try:
                self._locals = self._read_addresses()
            except Exception as exc:
                log.warning("netlink address dump failed: %s", exc)
            self._locals_read = now
            self._preferred.clear()
            self._locals_sorted = _by_value(self._locals)
        # the first address (in dump order) inside src: bisect the ones in its range (a
        # gateway with hundreds of addresses used to test every one for each new source)
        keys, positions = self._locals_sorted.get(src.version, ((), ()))
        lo = bisect.bisect_left(keys, int(src.network_address))
        hi = bisect.bisect_right(keys, int(src.broadcast_address), lo)
        first = min(positions[lo:hi], default=None)
        pref = self._locals[first] if first is not None else None
        self._preferred[src] = pref
        return pref

    def _apply(self) -> None:
        with self._lock:
            self._queued = None
            dirty, self._dirty = self._dirty, set()
            if dirty is None:  # every destination: wanted ones and installed ones
                look = {dst: tuple(srcs) for dst, srcs in self._srcs.items()}
            else:
                look = {dst: tuple(self._srcs.get(dst, ())) for dst in dirty}
        if dirty is None:
            look.update((dst, ()) for dst in self.routes if dst not in look)
        ops = []
        for dst, srcs in look.items():
            if not srcs:
                if dst in self.routes:
                    ops.append(self._op(False, dst))
                continue
            prefs = [self._preferred_source(src) for src in srcs]
            pref = next((p for p in prefs if p is not None), None)
            if dst not in self.routes or self.routes[dst] != pref:
                ops.append(self._op(True, dst, pref))
        for version in sorted({op.dst.version for op in ops if op.replace} - self.rules):
            self._add_rule(version)
        self._run(ops)
        self._stale.clear()  # the adopted routes still wanted are ours now

    def _op(self, replace: bool, dst: IPNetwork, pref: IPAddress | None = None) -> RouteOp:
        return RouteOp(replace=replace, dst=dst, oif=self._index, table=self.table, prefsrc=pref)

    def _run(self, ops: list[RouteOp]) -> None:
        """Apply route changes in batches and record what the kernel accepted."""
        if not ops:
            return
        try:
            if self._routes_out is None:
                self._routes_out = self._batcher()
            results = self._routes_out.apply(ops)
        except OSError as exc:  # the socket itself failed: a new one, and the next sync retries
            self.failures += 1
            log.warning("netlink route batch of %d changes failed: %s", len(ops), exc)
            if self._routes_out is not None:
                self._routes_out.close()
            self._routes_out = None
            with self._lock:
                self._dirty = None  # the retry looks at everything again
            timer = threading.Timer(RETRY_AFTER, self._retry)
            timer.daemon = True
            timer.start()
            return
        stale = 0
        for op, error in zip(ops, results, strict=True):
            if op.replace:
                if error:
                    self.failures += 1
                    log.warning("netlink route replace %s failed: %s", op.dst, os.strerror(error))
                else:
                    self.routes[op.dst] = op.prefsrc
                continue
            if error not in (0, ENOENT, ESRCH):  # gone already is as good as deleted
                self.failures += 1
                log.warning("netlink route delete %s failed: %s", op.dst, os.strerror(error))
            self.routes.pop(op.dst, None)
            stale += op.dst in self._stale
        if stale:
            log.info("removed %d stale routes (table %d) left by a previous run", stale, self.table)

    def _add_rule(self, version: int) -> None:
        if self._rule("add", version, quiet=EEXIST):
            self.rules.add(version)

    def _rule(self, command: str, version: int, *, quiet: int) -> bool:
        """``ip rule <command> not fwmark <mark> lookup <table> priority <priority>`` for one
        IP version; ``quiet``: the errno that means it is already so."""
        return self._request(
            f"IPv{version} rule {'delete' if command == 'del' else command}",
            self._nl().rule,
            command,
            family=_family(version),
            priority=self.priority,
            table=self.table,
            fwmark=self.mark,
            fwmask=0xFFFFFFFF,
            flags=FIB_RULE_INVERT,
            quiet=(quiet,),
        )

    def _clear(self) -> None:
        if self._ipr is None and not self.routes and not self.rules:
            return
        self._run([self._op(False, dst) for dst in self.routes])
        for version in sorted(self.rules):
            self._rule("del", version, quiet=ENOENT)
        self.rules.clear()
        with self._lock:
            self._dirty = None
        for sock in (self._ipr, self._routes_out):
            if sock is not None:
                sock.close()
        self._ipr = self._routes_out = None
