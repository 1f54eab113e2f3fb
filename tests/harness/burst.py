"""What the request-burst scripts share (api_burst.py, http_burst.py): a quota of requests
taken by worker threads, the threads run and timed, the summary line and the common
command-line arguments. The scripts run standalone (in a test namespace) or are imported
(bench/bench_mgmt.py), so each imports this module either way."""

from __future__ import annotations

import argparse
import threading
import time
from collections.abc import Callable


class Quota:
    """``n`` requests shared by the workers: ``take()`` is True while one is left."""

    def __init__(self, n: int) -> None:
        self.lock = threading.Lock()  # also for the workers' own counters
        self._left = n

    def take(self) -> bool:
        with self.lock:
            if self._left <= 0:
                return False
            self._left -= 1
            return True


def run_workers(work: Callable[[], None], workers: int) -> float:
    """Run ``work`` in ``workers`` threads at once; the seconds until all are done."""
    threads = [threading.Thread(target=work) for _ in range(workers)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - start


def summary(n: int, ok: int, seconds: float, **extra: object) -> dict[str, object]:
    """The JSON line's fields: ok and failed requests of ``n``, seconds and requests a second."""
    return {
        "ok": ok,
        "errors": n - ok,
        **extra,
        "seconds": round(seconds, 4),
        "rate": round(n / seconds, 1) if seconds else 0.0,
    }


def arguments(description: str | None, *, port: int | None) -> argparse.ArgumentParser:
    """--host --port (``port`` its default, None: required) --user --password -n --workers."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--host", default="127.0.0.1")
    if port is None:
        p.add_argument("--port", type=int, required=True)
    else:
        p.add_argument("--port", type=int, default=port)
    p.add_argument("--user", default="admin")
    p.add_argument("--password", required=True)
    p.add_argument("-n", type=int, default=1000)
    p.add_argument("--workers", type=int, default=4)
    return p
