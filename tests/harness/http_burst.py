"""A burst of REST requests from a plain HTTP client (http.client, keep-alive connections in
threads), run as a script so it can sit in a test namespace or a process of its own:

    python tests/harness/http_burst.py --port 80 --password PW -n 1000 --workers 4 \
        --path /rest/ip/ipsec/policy [--post-json '{".proplist": "src-address"}'] [--tls]

Prints one JSON line: ``{"ok": N, "errors": N, "statuses": {...}, "seconds": S, "rate": R,
"bytes": B}``; a request counts as ok with status 200 and a JSON body.
"""

from __future__ import annotations

import base64
import http.client
import json
import ssl
import sys
from collections import Counter

try:
    from tests.harness.burst import Quota, arguments, run_workers, summary
except ImportError:  # run as a script: tests/harness is sys.path[0]
    from burst import Quota, arguments, run_workers, summary  # type: ignore[no-redef]


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
    quota = Quota(n)

    def connect() -> http.client.HTTPConnection:
        if tls:
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE  # the daemon's self-signed certificate
            return http.client.HTTPSConnection(host, port, timeout=60, context=ctx)
        return http.client.HTTPConnection(host, port, timeout=60)

    def work() -> None:
        conn = connect()
        while quota.take():
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
            with quota.lock:
                statuses[key] += 1
                sizes[0] += len(data)
        conn.close()

    seconds = run_workers(work, workers)
    ok = statuses.get("200", 0)
    return summary(n, ok, seconds, statuses=dict(statuses), bytes=sizes[0])


def main(argv: list[str] | None = None) -> int:
    p = arguments(__doc__, port=None)
    p.add_argument("--path", default="/rest/ip/ipsec/policy")
    p.add_argument("--post-json")
    p.add_argument("--tls", action="store_true")
    a = p.parse_args(argv)
    out = burst(a.host, a.port, a.user, a.password, a.n, a.workers, a.path, a.post_json, a.tls)
    print(json.dumps(out), flush=True)
    return 0 if out["errors"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
