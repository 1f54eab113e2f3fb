"""REST on the real daemon (io/daemon.py -> io/http_server.py) in a network namespace: ``www``
serves on port 80 from the first start with the admin password of ``<db>.admin-password``; a
REST ``PATCH`` of ``/ip service www-ssl`` turns TLS on without a restart (the daemon applies the
configuration after the command and the listener follows), and the certificate the TLS
handshake presents is the self-signed one ``/certificate`` lists (SHA-256 fingerprint);
``tls-version=only-1.2`` then holds for a new handshake; a wrong password is logged as
``system,error,critical ... via rest``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pyipsec.io.labnet import Lab, lab_prerequisites
from tests.conftest import require
from tests.io.daemon_proc import ROOT, start_daemon

pytestmark = pytest.mark.netns

CLIENT = r"""
import base64, hashlib, http.client, json, ssl, sys, time
password = sys.argv[1]
auth = {"Authorization": "Basic " + base64.b64encode(f"admin:{password}".encode()).decode(),
        "Content-Type": "application/json"}
out = {}

def call(conn, method, path, body=None, headers=auth):
    conn.request(method, path, body=json.dumps(body) if body is not None else None,
                 headers=headers)
    r = conn.getresponse()
    data = r.read()
    return r.status, json.loads(data) if data else None

plain = http.client.HTTPConnection("127.0.0.1", 80, timeout=30)
out["users"] = call(plain, "GET", "/rest/user?.proplist=name,group")
out["cert"] = call(plain, "GET", "/rest/certificate/pyipsec-self-signed")[1]["fingerprint"]
out["enable"] = call(plain, "PATCH", "/rest/ip/service/www-ssl", {"disabled": "no"})[0]
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
for _ in range(50):  # the listener starts right after the command
    try:
        tls = http.client.HTTPSConnection("127.0.0.1", 443, timeout=30, context=ctx)
        out["tls"] = call(tls, "PUT", "/rest/ip/ipsec/peer",
                          {"address": "203.0.113.9/32", "comment": "via-rest"})
        break
    except ConnectionRefusedError:
        time.sleep(0.1)
out["served"] = hashlib.sha256(tls.sock.getpeercert(binary_form=True)).hexdigest()
out["version"] = tls.sock.version()
call(tls, "PATCH", "/rest/ip/service/www-ssl", {"tls-version": "only-1.2"})
for _ in range(50):  # the listener restarts right after the command
    try:
        tls2 = http.client.HTTPSConnection("127.0.0.1", 443, timeout=30, context=ctx)
        out["after"] = call(tls2, "GET", "/rest/ip/ipsec/peer?.proplist=comment")
        out["version2"] = tls2.sock.version()
        if out["version2"] == "TLSv1.2":
            break
    except (ConnectionError, ssl.SSLError):
        pass
    time.sleep(0.1)
bad = {"Authorization": "Basic " + base64.b64encode(b"admin:wrong").decode()}
out["wrong"] = call(plain, "GET", "/rest/ip/ipsec/peer", headers=bad)
print(json.dumps(out))
"""


def test_rest_on_the_daemon(tmp_path: Path) -> None:
    require(lab_prerequisites())
    with Lab(f"pyrest{os.getpid()}") as lab:
        ns = lab.ns("gw")
        db = tmp_path / "gw.db"
        d = start_daemon(ns, db)
        try:
            d.wait_for("www listening on port 80")
            password = db.with_name("gw.db.admin-password").read_text().strip()
            env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
            done = subprocess.run(
                ["ip", "netns", "exec", ns, sys.executable, "-c", CLIENT, password],
                capture_output=True, text=True, timeout=120, env=env, check=False,
            )  # fmt: skip
            assert done.returncode == 0, done.stderr + "\n".join(d.log)
            got = json.loads(done.stdout)
            assert got["users"] == [200, [{"name": "admin", "group": "full"}]]
            assert got["enable"] == 200
            status, peer = got["tls"]
            assert status == 200 and peer["comment"] == "via-rest" and peer[".id"] == "*1"
            assert got["served"] == got["cert"]  # the /certificate entry is what TLS presents
            assert got["version"] == "TLSv1.3" and got["version2"] == "TLSv1.2"
            assert got["after"] == [200, [{"comment": "via-rest"}]]
            assert got["wrong"] == [401, {"error": 401, "message": "Unauthorized"}]
            d.wait_for("system,error,critical login failure for user admin from 127.0.0.1 via rest")
            d.wait_for("www-ssl listening on port 443")
        finally:
            assert d.stop() == 0, "\n".join(d.log)
