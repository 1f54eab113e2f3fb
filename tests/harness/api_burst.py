"""A burst of RouterOS API requests (``/ip/ipsec/policy/print``, every row) over plain TCP,
``--workers`` connections in threads, each logged in with ``/login =name= =password=`` and
sending one command at a time. Framing from pyipsec.mgmt.api.codec (the client side needs
only the encoder and the incremental decoder). Run as a script so it can sit in a test
namespace:

    python tests/harness/api_burst.py --port 8728 --password PW -n 1000 --workers 4

Prints one JSON line: ``{"ok": N, "errors": N, "rows": R, "seconds": S, "rate": X}``; a
request is ok when its reply ends in ``!done`` without a ``!trap``.
"""

from __future__ import annotations

import json
import socket
import sys

from pyipsec.mgmt.api.codec import MAX_SENTENCE, SentenceDecoder, encode_sentence

try:
    from tests.harness.burst import Quota, arguments, run_workers, summary
except ImportError:  # run as a script: tests/harness is sys.path[0]
    from burst import Quota, arguments, run_workers, summary  # type: ignore[no-redef]


class Client:
    def __init__(self, host: str, port: int) -> None:
        self.sock = socket.create_connection((host, port), timeout=60)
        self.decoder = SentenceDecoder(max_sentence=MAX_SENTENCE)
        self.pending: list[list[str]] = []

    def command(self, *words: str) -> list[list[str]]:
        """Send a command; its reply sentences up to and with ``!done``."""
        self.sock.sendall(encode_sentence(words))
        out: list[list[str]] = []
        while True:
            while not self.pending:
                data = self.sock.recv(65536)
                if not data:
                    raise ConnectionError("closed")
                self.pending = self.decoder.feed(data)
            sentence = self.pending.pop(0)
            out.append(sentence)
            if sentence[0] in ("!done", "!fatal"):
                return out

    def close(self) -> None:
        self.sock.close()


def burst(
    host: str, port: int, user: str, password: str, n: int, workers: int
) -> dict[str, object]:
    quota = Quota(n)
    counts = {"ok": 0, "rows": 0}

    def work() -> None:
        client = Client(host, port)
        login = client.command("/login", f"=name={user}", f"=password={password}")
        if any(s[0] != "!done" for s in login):
            client.close()
            return
        while quota.take():
            try:
                reply = client.command("/ip/ipsec/policy/print")
            except OSError:
                break
            if all(s[0] in ("!re", "!done") for s in reply) and reply[-1][0] == "!done":
                with quota.lock:
                    counts["ok"] += 1
                    counts["rows"] += len(reply) - 1
        client.close()

    seconds = run_workers(work, workers)
    return summary(n, counts["ok"], seconds, rows=counts["rows"])


def main(argv: list[str] | None = None) -> int:
    a = arguments(__doc__, port=8728).parse_args(argv)
    out = burst(a.host, a.port, a.user, a.password, a.n, a.workers)
    print(json.dumps(out), flush=True)
    return 0 if out["errors"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
