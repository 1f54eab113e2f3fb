"""Configuration at scale: what console commands cost with 1,000 / 3,000 / 10,000 policies.

For each size it prints (medians of ``--runs`` runs):

- import: ``pyipsec console --db X script.rsc`` of a script of N ``/ip ipsec policy add`` lines
  into a fresh database (wall time of the process);
- without a daemon: ``add``, ``set``, ``remove`` and ``print count-only`` on that database, as
  a ``pyipsec console --db X -c ...`` process (wall time, Python start-up included, ~0.2 s) and
  as the command alone in a console interpreter already open on the database;
- with a daemon (needs root and network namespaces; otherwise it says so and skips these): the
  daemon's start-up on the N-policy database (process start to its "daemon started" line, the
  routes of all policies installed), and the same four commands sent over the daemon's control
  socket (a console connected to the daemon: the command, its apply to the SPD/SAD/IKE engine
  and the reply).

    .venv/bin/python bench/bench_config.py [--sizes 1000,3000,10000] [--runs 3] [--no-daemon]

Not a test: never part of ``make test``. Figures are in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # tests.io.daemon_proc: the daemon harness of the tests
sys.path.insert(0, str(ROOT / "src"))

from pyipsec.config.store import Store  # noqa: E402
from pyipsec.io.control import ControlClient, socket_path  # noqa: E402
from pyipsec.io.labnet import Lab, lab_prerequisites  # noqa: E402
from pyipsec.mgmt.cli.interpreter import Interpreter  # noqa: E402
from pyipsec.mgmt.commands import Session  # noqa: E402

ENV = dict(os.environ, PYTHONPATH=str(ROOT / "src"))


def script(count: int) -> str:
    """``count`` distinct tunnel policies (RFC 5737 outer addresses)."""
    lines = ["/ip ipsec policy"]
    for n in range(count):
        a, b = divmod(n, 250)
        lines.append(
            f"add src-address=10.{a}.{b}.0/24 dst-address=10.200.{a}.{b}/32 "
            f"sa-src-address=198.51.100.1 sa-dst-address=203.0.113.{n % 250 + 1} tunnel=yes"
        )
    return "\n".join(lines) + "\n"


def console(db: Path, *args: str) -> float:
    """Wall time of one ``pyipsec console --db db ...`` process (exit status checked)."""
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "pyipsec", "console", "--db", str(db), *args],
        check=True, stdout=subprocess.DEVNULL, env=ENV, cwd=db.parent,
    )  # fmt: skip
    return time.perf_counter() - start


def commands(run: int) -> list[tuple[str, str]]:
    """The measured commands of run ``run`` (a fresh policy each time, then changed and
    removed again, so every run sees the same N)."""
    tag = f"10.250.{run}.0/24"
    return [
        ("add", f"/ip ipsec policy add src-address={tag} dst-address=10.251.0.0/24"),
        ("set", f"/ip ipsec policy set [ find src-address={tag} ] comment=bench{run}"),
        ("remove", f"/ip ipsec policy remove [ find src-address={tag} ]"),
        ("print count-only", "/ip ipsec policy print count-only"),
    ]


def med(samples: list[float]) -> str:
    value = statistics.median(samples)
    return f"{value * 1e3:8.1f} ms" if value < 1 else f"{value:8.2f} s "


def bench_size(count: int, runs: int, work: Path, daemon: bool) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {}
    rsc = work / f"p{count}.rsc"
    rsc.write_text(script(count))
    db = work / f"p{count}.db"
    for _ in range(runs):
        for f in work.glob(f"p{count}.db*"):
            f.unlink()
        out.setdefault("import", []).append(console(db, str(rsc)))
    for run in range(runs):
        for name, text in commands(run):
            out.setdefault(f"console process: {name}", []).append(console(db, "-c", text))
    with Store(db) as store:
        sink: list[str] = []
        interp = Interpreter(Session(store=store), write=sink.append)
        interp.run("/ip ipsec policy print count-only")  # the first read of the database
        for run in range(runs):
            for name, text in commands(60 + run):
                start = time.perf_counter()
                assert interp.run(text), sink
                out.setdefault(f"command alone: {name}", []).append(time.perf_counter() - start)
    if daemon:
        bench_daemon(count, runs, work, db, out)
    return out


def bench_daemon(count: int, runs: int, work: Path, db: Path, out: dict[str, list[float]]) -> None:
    from tests.io.daemon_proc import start_daemon

    with Lab(f"pyicfg{os.getpid()}") as lab:
        ns = lab.ns("gw")
        for run in range(runs):
            start = time.perf_counter()
            proc = start_daemon(ns, db)
            out.setdefault("daemon start-up", []).append(time.perf_counter() - start)
            try:
                if run == runs - 1:
                    client = ControlClient(socket_path(db))
                    client.run("/ip ipsec policy print count-only")
                    for sample in range(runs):
                        for name, text in commands(120 + sample):
                            start = time.perf_counter()
                            ok, output = client.run(text)
                            out.setdefault(f"daemon: {name}", []).append(
                                time.perf_counter() - start
                            )
                            assert ok, (text, output)
                    client.close()
                    out["daemon: console process add"] = [
                        console(db, "-c", commands(180 + s)[0][1]) for s in range(runs)
                    ]
                    for s in range(runs):
                        console(db, "-c", commands(180 + s)[2][1])
            finally:
                assert proc.stop() == 0, proc.log


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1000,3000,10000")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-daemon", action="store_true")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    daemon = not args.no_daemon
    if daemon:
        missing = lab_prerequisites()
        if os.geteuid() != 0:
            missing.append("root")
        if missing:
            print(f"daemon figures skipped: missing {', '.join(missing)}")
            daemon = False
    work = Path(tempfile.mkdtemp(prefix="pyipsec-bench-config-"))
    results: dict[int, dict[str, list[float]]] = {}
    try:
        for count in sizes:
            results[count] = bench_size(count, args.runs, work, daemon)
            print(f"{count} policies done", file=sys.stderr, flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    names = list(results[sizes[0]])
    print(f"medians of {args.runs} runs")
    print(f"{'':34}" + "".join(f"{f'{n} policies':>15}" for n in sizes))
    for name in names:
        print(f"{name:34}" + "".join(f"{med(results[n][name]):>15}" for n in sizes))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
