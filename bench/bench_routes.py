"""Steering routes for many policies: time to install them and what it costs the event loop.

In a throw-away namespace (a veth end stands in for the TUN device) a ``TunRouting`` is given
N (src, dst) prefixes with one ``sync()`` from inside a running asyncio loop while a 1 ms
ticker measures the loop's lag; then all of them are removed again. Prints, as medians of
``--runs`` runs: how long ``sync()`` held the loop, the seconds until the routes were in the
kernel, the worst ticker lag meanwhile, and the seconds to remove them. Needs root.

    .venv/bin/python bench/bench_routes.py -n 10000 --runs 3
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pyipsec.io.labnet import Lab, lab_prerequisites  # noqa: E402

IN_NS = """
import asyncio, ipaddress, json, sys, time
from pyipsec.dataplane.userspace.routing import TunRouting

n = int(sys.argv[1])
src = ipaddress.ip_network("198.51.100.0/25")
pairs = [(src, net) for net in ipaddress.ip_network("10.0.0.0/8").subnets(new_prefix=24)]
pairs = pairs[:n]

async def main():
    r = TunRouting("d0", 0x5049)
    r.setup_device(1400)
    loop = asyncio.get_running_loop()
    lag = [0.0]
    stop = asyncio.Event()
    async def ticker():
        while not stop.is_set():
            t = time.perf_counter()
            await asyncio.sleep(0.001)
            lag[0] = max(lag[0], time.perf_counter() - t - 0.001)
    tick = asyncio.create_task(ticker())
    await asyncio.sleep(0.05)
    lag[0] = 0.0
    t0 = time.perf_counter()
    r.sync(pairs)
    t_sync = time.perf_counter() - t0
    await loop.run_in_executor(None, r.wait)
    t_done = time.perf_counter() - t0
    worst = lag[0]
    installed = len(r.routes)
    t0 = time.perf_counter()
    r.sync([])
    await loop.run_in_executor(None, r.wait)
    t_del = time.perf_counter() - t0
    stop.set()
    await tick
    r.clear()
    print(json.dumps({"sync": t_sync, "done": t_done, "lag": worst, "del": t_del,
                      "installed": installed, "failures": r.failures}))

asyncio.run(main())
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=10000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    missing = lab_prerequisites()
    if missing:
        print("bench_routes needs " + ", ".join(missing), file=sys.stderr)
        return 2
    rows = []
    with Lab(f"pyibr{os.getpid()}") as lab:
        ns = lab.ns("a")
        lab.link(ns, "d0", ns, "d1")
        lab.addr(ns, "d0", "198.51.100.1/25")
        for _ in range(args.runs):
            out = lab.sh(ns, sys.executable, "-c", IN_NS, str(args.n), timeout=600)
            row = json.loads(out)
            assert row["installed"] == args.n and not row["failures"], row
            rows.append(row)
            left = subprocess.run(
                ["ip", "netns", "exec", ns, "ip", "route", "show", "table", "2207"],
                capture_output=True,
                text=True,
            ).stdout
            assert not left.strip(), left
    med = {k: statistics.median(r[k] for r in rows) for k in ("sync", "done", "lag", "del")}
    print(f"{args.n} policy routes, median of {args.runs} runs:")
    print(f"  sync() held the event loop  {med['sync'] * 1e3:8.1f} ms")
    print(f"  routes in the kernel after  {med['done'] * 1e3:8.1f} ms")
    print(f"  worst event-loop lag        {med['lag'] * 1e3:8.1f} ms")
    print(f"  all removed after           {med['del'] * 1e3:8.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
