"""Management request rates: ``print`` of 1,000 policies over REST and the RouterOS API, with
strongSwan's vici listing 1,000 connections (``list-conns``) as the anchor, in the same run.

- Server: a process of its own (this script with ``--serve DB``) runs the daemon's management
  side on one asyncio loop: io/http_server.HttpServer (REST, plain ``www``) and
  io/api_server.ApiServices (``api``), over a database of ``--items`` policies. No data plane:
  these are the management paths alone. Clients run in this process, one kind at a time.
- REST: ``GET /rest/ip/ipsec/policy`` (every row, every property, as JSON) over keep-alive
  http.client connections, 1 and 4 at once (tests/harness/http_burst.py); also ``POST
  .../print`` with ``.proplist=src-address,dst-address``.
- API: librouteros ``list(api.path("ip", "ipsec", "policy"))``, one connection; and the same
  print from a minimal client (tests/harness/api_burst.py: pyipsec's own framing codec, no
  object mapping), which shows how much of the librouteros figure is the client's own work.
- In-process: ``commands.dispatch(print)`` alone, the floor under both front-ends.
- Anchor: charon (strongSwan, tests/harness/strongswan.Charon) in a network namespace of its
  own with ``--items`` connections loaded, each with one child; the python ``vici`` client
  (strongSwan's) lists them all (``list_conns``) on one session, one request at a time.

The kinds are measured in turns within each run (REST, API, command layer, vici, then again),
so the load of a shared machine drifts over all of them alike. Figures are medians of
``--runs`` runs; the ratio lines (pyipsec rate / vici rate) come last.
Needs root (the namespace), strongSwan and the PyPI packages vici and librouteros; without
strongSwan the anchor and the ratio lines are left out with a note. Not a test.

    .venv/bin/python bench/bench_mgmt.py [--items 1000] [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from tests.harness.api_burst import burst as api_burst  # noqa: E402
from tests.harness.http_burst import burst  # noqa: E402
from tests.harness.strongswan import Charon, strongswan_prerequisites  # noqa: E402

from pyipsec.config.store import Store  # noqa: E402
from pyipsec.mgmt.commands import Session, dispatch  # noqa: E402

PASSWORD = "bench-pw"
POLICY = ("ip", "ipsec", "policy")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_db(db: Path, items: int, www: int, api: int) -> None:
    store = Store(db)
    root = Session(store=store)
    dispatch(root, ("user",), "add", {"name": "bench", "group": "full", "password": PASSWORD})
    dispatch(root, ("ip", "service"), "set", {"numbers": "www", "port": str(www)})
    dispatch(root, ("ip", "service"), "set", {"numbers": "api", "port": str(api)})
    dispatch(root, ("ip", "service"), "set", {"numbers": "api-ssl", "disabled": "yes"})
    with store.bulk():
        for i in range(items):
            dispatch(root, POLICY, "add", {
                "src-address": f"10.{i // 250}.{i % 250}.0/24",
                "dst-address": f"172.16.{i // 250}.{i % 250}/32",
                "comment": f"p{i}",
            })  # fmt: skip
    store.close()


# -- the server process ---------------------------------------------------------------------


async def serve(db: Path) -> None:
    from pyipsec.config.menus.users import USER_ACTIVE
    from pyipsec.io.api_server import ApiServices
    from pyipsec.io.http_server import HttpContext, HttpServer
    from pyipsec.mgmt.auth import Accounts
    from pyipsec.mgmt.base import NullRuntime, WithRows
    from pyipsec.mgmt.changes import ChangeFeed

    store = Store(db)
    accounts = Accounts(store=store)
    runtime = WithRows(NullRuntime(), {USER_ACTIVE: accounts.rows})
    feed = ChangeFeed(store, runtime)
    files = db.parent / "files"
    context = HttpContext(store=store, accounts=accounts, runtime=runtime, changes=feed,
                          files_dir=files, after_command=feed.check)  # fmt: skip
    http = HttpServer(context, host="127.0.0.1")
    await http.start()
    api = ApiServices(store=store, accounts=accounts, runtime=runtime, feed=feed,
                      files_dir=files, host="127.0.0.1")  # fmt: skip
    await api.reconcile()
    print("ready", flush=True)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)  # until the parent closes our stdin
    await api.stop()
    await http.stop()
    store.close()


# -- measurements ---------------------------------------------------------------------------


def timed(n: int, fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return n / (time.perf_counter() - start)


def rest_round(port: int, out: dict[str, list[float]]) -> None:
    path = "/rest/ip/ipsec/policy"
    body = json.dumps({".proplist": "src-address,dst-address"})
    for label, workers, post in (("REST GET", 1, None), ("REST GET x4", 4, None),
                                 ("REST POST print .proplist", 1, body)):  # fmt: skip
        n = 12 if workers == 1 else 24
        r = burst("127.0.0.1", port, "bench", PASSWORD, n, workers,
                  path + ("/print" if post else ""), post)  # fmt: skip
        assert r["errors"] == 0, r
        out.setdefault(label, []).append(float(r["rate"]))  # type: ignore[arg-type]


def api_round(port: int, items: int, out: dict[str, list[float]]) -> None:
    import librouteros
    from librouteros.login import plain

    api = librouteros.connect("127.0.0.1", "bench", PASSWORD, port=port, login_method=plain)
    path = api.path(*POLICY)
    assert len(list(path)) == items + 1
    out.setdefault("API print (librouteros, 1 connection)", []).append(timed(6, lambda: list(path)))
    api.close()
    r = api_burst("127.0.0.1", port, "bench", PASSWORD, 12, 1)
    assert r["errors"] == 0 and r["rows"] == 12 * (items + 1), r
    out.setdefault("API print (raw client, 1 connection)", []).append(float(r["rate"]))  # type: ignore[arg-type]


def dispatch_round(session: Session, out: dict[str, list[float]]) -> None:
    out.setdefault("command layer in-process (dispatch print)", []).append(
        timed(12, lambda: dispatch(session, POLICY, "print", {}))
    )


def swanctl_conf(items: int) -> str:
    conns = "".join(
        f"""    c{i} {{
        local_addrs = 198.51.100.1
        remote_addrs = 203.0.113.{1 + i % 250}
        local {{ auth = psk }}
        remote {{ auth = psk }}
        children {{ net {{ local_ts = 10.{i // 250}.{i % 250}.0/24
                         remote_ts = 172.16.{i // 250}.{i % 250}/32 }} }}
    }}
"""
        for i in range(items)
    )
    return f"connections {{\n{conns}}}\nsecrets {{ ike-1 {{ secret = bench-secret }} }}\n"


@contextlib.contextmanager
def vici_session(items: int) -> Iterator[Any]:
    """A vici session to a charon with ``items`` connections, in a namespace of its own
    (None without root or strongSwan)."""
    import vici

    missing = strongswan_prerequisites()
    if missing or os.geteuid() != 0:
        print(f"anchor left out: {'; '.join(missing) or 'needs root'}", file=sys.stderr)
        yield None
        return
    ns = f"pyimb{os.getpid()}"
    subprocess.run(["ip", "netns", "add", ns], check=True)
    try:
        subprocess.run(["ip", "-n", ns, "link", "set", "lo", "up"], check=True)
        with tempfile.TemporaryDirectory(prefix="pyimb-") as tmp:
            charon = Charon(ns, Path(tmp) / "charon", swanctl_conf(items))
            charon.start(timeout=120)
            try:
                with socket.socket(socket.AF_UNIX) as sock:
                    sock.connect(str(charon.state / "charon.vici"))
                    session = vici.Session(sock)
                    assert sum(1 for _ in session.list_conns()) == items
                    yield session
            finally:
                charon.stop()
    finally:
        subprocess.run(["ip", "netns", "delete", ns], check=False)


def vici_round(session: Any, out: dict[str, list[float]]) -> None:
    out.setdefault("vici", []).append(timed(12, lambda: sum(1 for _ in session.list_conns())))


@contextlib.contextmanager
def server_process(db: Path) -> Iterator[None]:
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    server = subprocess.Popen([sys.executable, __file__, "--serve", str(db)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env,
                              text=True)  # fmt: skip
    try:
        assert server.stdout is not None and server.stdout.readline().strip() == "ready"
        yield
    finally:
        assert server.stdin is not None
        server.stdin.close()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--serve", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve is not None:
        asyncio.run(serve(args.serve))
        return
    out: dict[str, list[float]] = {}
    n = args.items
    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="pyimgmt-")))
        db = tmp / "bench.db"
        www, api = free_port(), free_port()
        make_db(db, n, www, api)
        anchor = stack.enter_context(vici_session(n))
        stack.enter_context(server_process(db))
        session = Session(store=Store(db))
        burst("127.0.0.1", www, "bench", PASSWORD, 2, 1, "/rest/ip/ipsec/policy")  # login once
        for _ in range(args.runs):  # interleaved, so the machine's load drifts over all alike
            rest_round(www, out)
            api_round(api, n, out)
            dispatch_round(session, out)
            if anchor is not None:
                vici_round(anchor, out)
    med = {k: statistics.median(v) for k, v in out.items()}
    vici_rate = med.pop("vici", None)
    print(f"print of {n} policies (+1 default template), requests/s, median of {args.runs}:")
    for label, value in med.items():
        print(f"  {label:46s} {value:8.1f}/s")
    if vici_rate is not None:
        print(f"  {'strongSwan vici list-conns (' + str(n) + ' connections)':46s} "
              f"{vici_rate:8.1f}/s")  # fmt: skip
        print("ratios (pyipsec / strongSwan vici list-conns, same run):")
        for label in ("REST GET", "REST GET x4", "API print (librouteros, 1 connection)",
                      "API print (raw client, 1 connection)"):  # fmt: skip
            print(f"  {label} / vici list-conns = {med[label] / vici_rate:.2f}")


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        main()
