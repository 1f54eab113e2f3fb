"""The real daemon's management start-up (io/daemon.py, mgmt/first_start.py): on a fresh
database it creates ``admin`` with a random password (logged once, and in a file only root
reads), a self-signed certificate for api-ssl, and serves the RouterOS API on 8728 and 8729
inside its network namespace, where librouteros logs in with that password (plain and TLS);
a failed login is logged as ``system,error,critical``; the second start creates nothing."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from pyipsec.io.labnet import Lab, lab_prerequisites
from tests.conftest import require
from tests.io.daemon_proc import ROOT, start_daemon

pytestmark = pytest.mark.netns

CLIENT = r"""
import json, ssl, sys
import librouteros
from librouteros.exceptions import TrapError
from librouteros.login import plain
password = sys.argv[1]
out = {}
api = librouteros.connect("127.0.0.1", "admin", password, port=8728, login_method=plain)
out["users"] = [(u["name"], u["group"]) for u in api.path("user")]
out["services"] = {s["name"]: s.get("certificate") for s in api.path("ip", "service")}
api.path("ip", "ipsec", "peer").add(address="203.0.113.9/32", comment="via-api")
api.close()
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
tls = librouteros.connect("127.0.0.1", "admin", password, port=8729, login_method=plain,
                          ssl_wrapper=ctx.wrap_socket)
out["tls_peers"] = [p["comment"] for p in tls.path("ip", "ipsec", "peer")]
out["active"] = sorted(a["via"] for a in tls.path("user", "active"))
out["log"] = [e["message"] for e in tls.path("log")]
try:
    librouteros.connect("127.0.0.1", "admin", "wrong", port=8728, login_method=plain)
except TrapError as exc:
    out["wrong"] = exc.message
print(json.dumps(out))
"""


def client(ns: str, password: str) -> dict[str, object]:
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    done = subprocess.run(
        ["ip", "netns", "exec", ns, sys.executable, "-c", CLIENT, password],
        capture_output=True, text=True, timeout=60, env=env, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout))


def test_first_start_admin_certificate_and_api(tmp_path: Path) -> None:
    require(lab_prerequisites())
    with Lab(f"pyapi{os.getpid()}") as lab:
        ns = lab.ns("gw")
        db = tmp_path / "gw.db"
        d = start_daemon(ns, db)
        try:
            secret = db.with_name("gw.db.admin-password")
            password = secret.read_text().strip()
            assert stat.S_IMODE(secret.stat().st_mode) == 0o600
            log = "\n".join(d.log)
            assert f"user admin created with password {password}" in log
            assert "self-signed certificate pyipsec-self-signed" in log
            d.wait_for("api-ssl service listening on port 8729")
            got = client(ns, password)
            assert got["users"] == [["admin", "full"]]
            services = got["services"]
            assert isinstance(services, dict)
            assert services["api-ssl"] == "pyipsec-self-signed"
            assert got["tls_peers"] == ["via-api"]
            assert got["active"] == ["api-ssl"]
            assert got["wrong"] == "invalid user name or password (6)"
            d.wait_for("system,error,critical login failure for user admin from 127.0.0.1 via api")
            assert log.count(password) == 1  # the password was logged once, at creation
            logged = got["log"]
            assert isinstance(logged, list) and logged  # /log print over the API ...
            assert not any(password in line for line in logged)  # ... does not show it
        finally:
            d.stop()
        d = start_daemon(ns, db)
        try:
            d.wait_for("api service listening on port 8728")
            text = "\n".join(d.log)
            assert "admin created" not in text and "self-signed" not in text
            assert secret.read_text().strip() == password
        finally:
            d.stop()


BURST = r"""
import json, sys, threading, time
import librouteros
from librouteros.login import plain
password, per_conn, conns = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
done = []
def run():
    api = librouteros.connect("127.0.0.1", "admin", password, port=8728, login_method=plain)
    n = 0
    for i in range(per_conn):
        path = ("ip", "ipsec", "installed-sa") if i % 2 else ("ip", "ipsec", "policy")
        n += len(list(api.path(*path)))
    api.close()
    done.append(n)
start = time.monotonic()
threads = [threading.Thread(target=run) for _ in range(conns)]
for t in threads: t.start()
for t in threads: t.join()
print(json.dumps({"requests": per_conn * conns, "finished": len(done),
                  "seconds": time.monotonic() - start}))
"""


def test_api_burst_does_not_lose_a_ping_through_the_tunnel(tmp_path: Path) -> None:
    """1,000 API requests (4 connections, print of policies and installed SAs) while pings
    cross a manually keyed ESP tunnel every 20 ms: not one is lost (the API shares the
    daemon's event loop with the data plane)."""
    from pyipsec.io.labnet import LAN_A, LAN_B, two_sites
    from tests.io.test_daemon_e2e import script

    require(lab_prerequisites())
    with Lab(f"pyapb{os.getpid()}") as lab:
        a, b = two_sites(lab)
        da = start_daemon(a, tmp_path / "a.db", script("a", tunnel=True, protocols="esp"))
        db_ = start_daemon(b, tmp_path / "b.db", script("b", tunnel=True, protocols="esp"))
        try:
            warm = lab.sh(a, "ping", "-c2", "-i0.2", "-W2", "-I", LAN_A, LAN_B, check=False)
            assert " 0% packet loss" in warm, warm
            password = (tmp_path / "a.db.admin-password").read_text().strip()
            da.wait_for("api service listening on port 8728")
            ping = subprocess.Popen(
                ["ip", "netns", "exec", a, "ping", "-c", "150", "-i", "0.02", "-W", "2",
                 "-I", LAN_A, LAN_B],
                stdout=subprocess.PIPE, text=True,
            )  # fmt: skip
            env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
            burst = subprocess.run(
                ["ip", "netns", "exec", a, sys.executable, "-c", BURST, password, "250", "4"],
                capture_output=True, text=True, timeout=120, env=env, check=False,
            )  # fmt: skip
            out, _ = ping.communicate(timeout=60)
            assert burst.returncode == 0, burst.stderr
            got = json.loads(burst.stdout)
            assert got["finished"] == 4 and got["requests"] == 1000
            print(f"1000 API requests in {got['seconds']:.2f} s during the pings")
            assert " 0% packet loss" in out, out
        finally:
            da.stop()
            db_.stop()
