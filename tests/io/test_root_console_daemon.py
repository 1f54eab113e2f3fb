"""Issue 12 acceptance (docs/issue12-acceptance.md): the console of root on the daemon's machine
can always set the admin password. A real ``pyipsec daemon`` on a fresh database in a network
namespace; ``pyipsec console --db`` (the CLI, attached over the owner-only control socket, with
no login) runs ``/user set admin password=...``: the first-start password no longer logs in
over the API, the new one does (librouteros), and neither appears in the daemon's log
afterwards. While that API session is open, ``/user active print`` at the console lists it
with ``via=api``. ``/ip service set api-ssl tls-version=only-1.2`` from the console holds for the
next TLS handshake on 8729 (the first one negotiates TLS 1.3)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from pyipsec.io.control import socket_path
from pyipsec.io.labnet import Lab, lab_prerequisites
from tests.conftest import require
from tests.io.daemon_proc import ROOT, start_daemon

pytestmark = pytest.mark.netns

NEW_PASSWORD = "Root-set-9fQ2"

CLIENT = r"""
import json, ssl, sys, time
import librouteros
from librouteros.exceptions import ConnectionClosed, TrapError
from librouteros.login import plain
old, new = sys.argv[1], sys.argv[2]
out = {}
try:
    librouteros.connect("127.0.0.1", "admin", old, port=8728, login_method=plain, timeout=10)
    out["old"] = "accepted"
except TrapError as exc:
    out["old"] = exc.message
api = librouteros.connect("127.0.0.1", "admin", new, port=8728, login_method=plain, timeout=10)
out["identity"] = list(api.path("system", "identity"))
print(json.dumps(out), flush=True)
sys.stdin.readline()  # the test runs /user active print at the console meanwhile
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
versions = []
for _ in range(100):  # the api-ssl listener restarts after the console's change
    try:
        tls = librouteros.connect("127.0.0.1", "admin", new, port=8729, login_method=plain,
                                  ssl_wrapper=ctx.wrap_socket, timeout=10)
        versions.append(tls.protocol.transport.sock.version())
        tls.close()
        if versions[-1] == "TLSv1.2":
            break
    except (OSError, ConnectionClosed):  # the old listener closing
        pass
    time.sleep(0.1)
out["versions"] = versions
api.close()
print(json.dumps(out), flush=True)
"""


def console(db: Path, commands: str) -> str:
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    done = subprocess.run(
        [sys.executable, "-m", "pyipsec", "console", "--db", str(db), "-c", commands],
        capture_output=True, text=True, timeout=60, env=env, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_root_console_sets_the_admin_password_of_a_running_daemon(tmp_path: Path) -> None:
    require(lab_prerequisites())
    with Lab(f"pyroot{os.getpid()}") as lab:
        ns = lab.ns("gw")
        db = tmp_path / "gw.db"
        d = start_daemon(ns, db)
        client = None
        try:
            d.wait_for("api-ssl service listening on port 8729")
            first = db.with_name("gw.db.admin-password").read_text().strip()
            sock = socket_path(db)
            assert stat.S_IMODE(sock.stat().st_mode) == 0o600 and sock.stat().st_uid == 0
            console(db, f"/user set admin password={NEW_PASSWORD}")
            env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
            client = subprocess.Popen(
                ["ip", "netns", "exec", ns, sys.executable, "-c", CLIENT, first, NEW_PASSWORD],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                text=True, env=env,
            )  # fmt: skip
            assert client.stdout is not None and client.stdin is not None
            line = client.stdout.readline()
            assert line, client.stderr.read() if client.stderr else ""
            got = json.loads(line)
            assert got["old"] == "invalid user name or password (6)"
            assert got["identity"] == [{"name": "MikroTik"}]
            active = console(db, "/user active print terse")
            assert any("name=admin" in ln and "via=api" in ln for ln in active.splitlines()), active
            console(db, "/ip service set api-ssl tls-version=only-1.2")
            client.stdin.write("go\n")
            client.stdin.flush()
            out, err = client.communicate(timeout=60)
            assert client.returncode == 0, err
            versions = json.loads(out)["versions"]
            assert versions[0] in ("TLSv1.3", "TLSv1.2") and versions[-1] == "TLSv1.2", versions
            d.read_log()
            assert not any(NEW_PASSWORD in line for line in d.log)
            assert "\n".join(d.log).count(first) == 1  # once, at creation
        finally:
            if client is not None and client.poll() is None:
                client.kill()
                client.wait()
            assert d.stop() == 0, "\n".join(d.log)
