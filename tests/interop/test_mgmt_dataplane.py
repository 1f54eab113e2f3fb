"""Management front-ends do not block the data plane (issue 12): two pyipsec daemons (ns a and
ns b, tests/interop/test_pyipsec_pair.py's lab) carry a ping through their tunnel while a
burst of 1,000 requests runs against daemon a from inside ns a: REST (``GET`` of 200
policies, 4 keep-alive connections on the plain ``www`` service, tests/harness/http_burst.py)
and the RouterOS API (``/ip/ipsec/policy/print``, 4 connections on ``api``,
tests/harness/api_burst.py). Not one ping may be lost, and the worst round trip during the
burst stays under a second.

The ping runs in chunks of 20 at 50 ms intervals (each chunk waits for its replies) for as
long as the burst lasts, so every echo sent while a request was being served is counted."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from pyipsec.io.labnet import LAN_A, LAN_B, Lab, lab_prerequisites, two_sites
from tests.conftest import require
from tests.interop.helpers import console, mirrored, ping_until, pyipsec_pair

pytestmark = pytest.mark.netns

ROOT = Path(__file__).resolve().parents[2]
HARNESS = ROOT / "tests" / "harness"
REQUESTS = 1000
POLICIES = 200


@pytest.fixture(scope="module")
def site() -> Iterator[tuple[Lab, str, str]]:
    require(lab_prerequisites())
    with Lab(f"pyimg{os.getpid()}") as lab:
        a, b = two_sites(lab)
        yield lab, a, b


def ping_chunk(ns: str) -> tuple[int, int, float]:
    """(sent, received, max rtt ms) of 20 echoes at 50 ms from LAN_A to LAN_B."""
    out = subprocess.run(
        ["ip", "netns", "exec", ns, "ping", "-n", "-q", "-c", "20", "-i", "0.05", "-W", "2",
         "-I", LAN_A, LAN_B],
        capture_output=True, text=True, timeout=30, check=False,
    ).stdout  # fmt: skip
    m = re.search(r"(\d+) packets transmitted, (\d+) received", out)
    assert m, out
    rtt = re.search(r"= [\d.]+/[\d.]+/([\d.]+)/", out)
    return int(m.group(1)), int(m.group(2)), float(rtt.group(1)) if rtt else 0.0


def admin_password(db: Path) -> str:
    """The first start's admin password (the root-only file next to the database)."""
    path = db.with_name(db.name + ".admin-password")
    assert os.stat(path).st_mode & 0o777 == 0o600
    return path.read_text().strip()


def burst_command(front: str, password: str) -> list[str]:
    common = ["--password", password, "-n", str(REQUESTS), "--workers", "4"]
    if front == "rest":
        return [str(HARNESS / "http_burst.py"), "--port", "80", *common,
                "--path", "/rest/ip/ipsec/policy"]  # fmt: skip
    return [str(HARNESS / "api_burst.py"), "--port", "8728", *common]


@pytest.mark.parametrize("front", ["rest", "api"])
def test_burst_loses_no_ping(site: tuple[Lab, str, str], tmp_path: Path, front: str) -> None:
    lab, a, b = site
    script_a, script_b = mirrored()
    extra = "".join(
        f"\n/ip ipsec policy add src-address=198.51.100.{i}/32 dst-address=203.0.113.{i}/32"
        " action=none"
        for i in range(1, POLICIES)
    )
    with pyipsec_pair(a, b, tmp_path, script_a + extra + "\n", script_b) as (da, _db):
        ping_until(lab, a, LAN_A, LAN_B, timeout=30, fail_on=da)
        services = console(da.db, "/ip service print where !disabled")
        assert "www" in services and "api" in services, services
        password = admin_password(da.db)
        env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
        burst = subprocess.Popen(
            ["ip", "netns", "exec", a, sys.executable, *burst_command(front, password)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        sent = received = 0
        worst = 0.0
        try:
            while True:
                s, r, rtt = ping_chunk(a)
                sent, received, worst = sent + s, received + r, max(worst, rtt)
                if burst.poll() is not None:
                    break
            out, err = burst.communicate(timeout=120)
        finally:
            if burst.poll() is None:
                burst.kill()
                burst.wait()
        result = json.loads(out.strip().splitlines()[-1]) if out.strip() else {}
        assert result.get("ok") == REQUESTS, (result, err)
        print(
            f"\n{front} burst: {REQUESTS} requests in {result['seconds']} s "
            f"({result['rate']}/s); ping {received}/{sent}, worst rtt {worst:.1f} ms"
        )
        assert sent >= 20
        assert received == sent, f"lost {sent - received} of {sent} pings during the burst"
        assert worst < 1000.0
