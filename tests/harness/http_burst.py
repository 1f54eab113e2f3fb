"""A burst of REST requests from a plain HTTP client (http.client, keep-alive connections in
threads), run as a script so it can sit in a test namespace or a process of its own:

    python tests/harness/http_burst.py --port 80 --password PW -n 1000 --workers 4 \
        --path /rest/ip/ipsec/policy [--post-json '{".proplist": "src-address"}'] [--tls]

Prints one JSON line: ``{"ok": N, "errors": N, "statuses": {...}, "seconds": S, "rate": R,
"bytes": B}``; a request counts as ok with status 200 and a JSON body.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import ssl
import sys
import threading
import time
from collections import Counter


def burst(
    host: str,
    port: int,
    user: str,
    password: str,
    n: int,
    workers: int,
    path: str,
    post_json: str | None = None,
    tls: bool = False,
) -> dict[str, object]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    headers = {"Authorization": f"Basic {token}"}
    if post_json is not None:
        headers["Content-Type"] = "application/json"
    statuses: Counter[str] = Counter()
    sizes = [0]
    lock = threading.Lock()
    left = [n]

    def take() -> bool:
        with lock:
            if left[0] <= 0:
                return False
            left[0] -= 1
            return True

    def connect() -> http.client.HTTPConnection:
        if tls:
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE  # the daemon's self-signed certificate
            return http.client.HTTPSConnection(host, port, timeout=60, context=ctx)
        return http.client.HTTPConnection(host, port, timeout=60)

    def work() -> None:
        conn = connect()
        while take():
            method = "POST" if post_json is not None else "GET"
            body = post_json.encode() if post_json is not None else None
            try:
                conn.request(method, path, body=body, headers=headers)
                r = conn.getresponse()
                data = r.read()
                key = str(r.status)
                if r.status == 200:
                    json.loads(data)
            except (OSError, http.client.HTTPException, ValueError) as exc:
                key = type(exc).__name__
                data = b""
                conn.close()
                conn = connect()
            with lock:
                statuses[key] += 1
                sizes[0] += len(data)
        conn.close()

    threads = [threading.Thread(target=work) for _ in range(workers)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - start
    ok = statuses.get("200", 0)
    return {
        "ok": ok,
        "errors": n - ok,
        "statuses": dict(statuses),
        "seconds": round(seconds, 4),
        "rate": round(n / seconds, 1) if seconds else 0.0,
        "bytes": sizes[0],
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--user", default="admin")
    p.add_argument("--password", required=True)
    p.add_argument("-n", type=int, default=1000)
    p.add_argument("--workers", type=int, default=4)
    p.add_argument("--path", default="/rest/ip/ipsec/policy")
    p.add_argument("--post-json")
    p.add_argument("--tls", action="store_true")
    a = p.parse_args(argv)
    out = burst(a.host, a.port, a.user, a.password, a.n, a.workers, a.path, a.post_json, a.tls)
    print(json.dumps(out), flush=True)
    return 0 if out["errors"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
