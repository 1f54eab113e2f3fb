"""RouterOS API request rates: ``print`` of 1,000 policies, small commands, and a burst.

Starts the API service in-process (io/api_server.py on its own event loop in a thread, as the
daemon runs it; a database of ``--items`` policies) and drives it with librouteros over
loopback, plain TCP and TLS. Prints, as medians of ``--runs`` runs:

- print: full prints of the N policies per second (and rows per second);
- print with ``.proplist`` and a query that selects one policy;
- small commands (``/system/identity/print``) per second, one connection, one at a time;
- login (scrypt check included) per second;
- and the server's own work per print (command layer and reply encoding, no socket): the client
  runs in the same process, so librouteros' parsing of the rows is in the print rate.

    .venv/bin/python bench/bench_api.py [--items 1000] [--runs 3]

Not a test: never part of ``make test``. Figures are in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

import librouteros  # noqa: E402
from librouteros.login import plain  # noqa: E402
from librouteros.query import Key  # noqa: E402
from tests.io.test_api_server import HOST, Server  # noqa: E402
from tests.mgmt.helpers import Console  # noqa: E402

from pyipsec.config.store import Store  # noqa: E402


def rate(n: int, fn) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return n / (time.perf_counter() - start)


def measure(srv: Server, tls: bool, items: int, runs: int) -> None:
    kw = {"ssl_wrapper": srv.tls_context().wrap_socket} if tls else {}
    port = srv.tls_port if tls else srv.port

    def connect():  # type: ignore[no-untyped-def]
        return librouteros.connect(HOST, "alice", "alice-pw", port=port, login_method=plain, **kw)

    api = connect()
    path = api.path("ip", "ipsec", "policy")
    assert len(list(path)) == items + 1
    one = path.select(Key(".id"), Key("src-address")).where(Key("comment") == f"p{items // 2}")
    ident = api.path("system", "identity")
    figures: dict[str, list[float]] = {}
    for _ in range(runs):
        figures.setdefault("print", []).append(rate(5, lambda: list(path)))
        figures.setdefault("query", []).append(rate(20, lambda: list(one)))
        figures.setdefault("small", []).append(rate(200, lambda: list(ident)))
        figures.setdefault("login", []).append(rate(4, lambda: connect().close()))
    api.close()
    name = "api-ssl" if tls else "api"
    med = {k: statistics.median(v) for k, v in figures.items()}
    print(
        f"{name:7s} print of {items} items: {med['print']:.1f}/s "
        f"({med['print'] * (items + 1):.0f} rows/s); "
        f"query by comment with .proplist: {med['query']:.1f}/s; "
        f"/system/identity/print: {med['small']:.0f}/s; "
        f"login: {med['login']:.1f}/s"
    )


def server_side(db: Path, items: int, runs: int) -> None:
    """The server's own work for one print (command layer + reply encoding), no sockets."""
    from pyipsec.mgmt.api import replies
    from pyipsec.mgmt.api.codec import encode_sentence
    from pyipsec.mgmt.base import Session
    from pyipsec.mgmt.commands import dispatch

    with Store(db) as store:
        session = Session(store=store, policies=frozenset({"read", "api"}))

        def one() -> None:
            result = dispatch(session, ("ip", "ipsec", "policy"), "print", {})
            b"".join(encode_sentence(s) for s in replies.result_sentences(result))

        times = [1000 / rate(5, one) for _ in range(runs)]
    print(f"server side: {statistics.median(times):.1f} ms per print of {items} items")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.db"
        c = Console(Store(db))
        with c.store.bulk():
            for i in range(args.items):
                c.ok(
                    f"/ip ipsec policy add src-address=10.{i // 250}.{i % 250}.0/24 "
                    f"dst-address=172.16.{i // 250}.{i % 250}/32 comment=p{i}"
                )
        c.store.close()
        server_side(db, args.items, args.runs)
        srv = Server(db)
        try:
            for tls in (False, True):
                measure(srv, tls, args.items, args.runs)
        finally:
            srv.stop()


if __name__ == "__main__":
    main()
