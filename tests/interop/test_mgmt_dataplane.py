"""Management front-ends do not block the data plane (issue 12): two pyipsec daemons (ns a and
ns b, tests/interop/test_pyipsec_pair.py's lab) carry a ping through their tunnel while a
burst of 1,000 requests runs against daemon a from inside ns a: REST (``GET`` of 200
policies, 4 keep-alive connections on the plain ``www`` service, tests/harness/http_burst.py)
and the RouterOS API (``/ip/ipsec/policy/print``, 4 connections on ``api``,
tests/harness/api_burst.py). Not one ping may be lost, and the worst round trip during the
burst stays under a second.

One ping runs from before the burst until 3 s after it, an echo every 50 ms, and prints every
reply (``icmp_seq``, ``time``), late ones included; it is stopped with SIGINT. An echo is lost
when its sequence number never comes back; the last 10 sent (the final 0.5 s, after the burst)
are not judged. (ping's own summary is not used: with ``-c`` it gives up on a chunk's last
echoes after twice the largest round trip seen, and with ``-w`` it leaves with echoes still in
flight, so either would count a late reply as lost; lateness is bounded separately.)"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
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


class Pinger:
    """``ping`` from LAN_A to LAN_B in ``ns``, every 50 ms, until :meth:`stop`."""

    def __init__(self, ns: str) -> None:
        # ip netns exec execs ping: this PID is ping's, and SIGINT makes it print its summary
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", ns, "ping", "-n", "-i", "0.05", "-I", LAN_A, LAN_B],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def stop(self) -> tuple[int, dict[int, float]]:
        """(echoes sent, {sequence number: round trip ms} of the replies)."""
        self.proc.send_signal(signal.SIGINT)
        out, _ = self.proc.communicate(timeout=10)
        m = re.search(r"(\d+) packets transmitted", out)
        assert m, out
        replies = {
            int(seq): float(ms) for seq, ms in re.findall(r"icmp_seq=(\d+) \S+ time=([\d.]+)", out)
        }
        return int(m.group(1)), replies

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


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
        pinger = Pinger(a)
        try:
            time.sleep(1.0)
            burst = subprocess.Popen(
                ["ip", "netns", "exec", a, sys.executable, *burst_command(front, password)],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
            )  # fmt: skip
            try:
                out, err = burst.communicate(timeout=300)
            finally:
                if burst.poll() is None:
                    burst.kill()
                    burst.wait()
            time.sleep(3.0)  # late replies come in; the last echoes are sent unloaded
            sent, replies = pinger.stop()
        finally:
            pinger.kill()
        result = json.loads(out.strip().splitlines()[-1]) if out.strip() else {}
        assert result.get("ok") == REQUESTS, (result, err)
        judged = range(1, sent - 10)
        lost = [seq for seq in judged if seq not in replies]
        worst = max(replies.values(), default=0.0)
        print(
            f"\n{front} burst: {REQUESTS} requests in {result['seconds']} s "
            f"({result['rate']}/s); ping {len(judged) - len(lost)}/{len(judged)}, "
            f"worst rtt {worst:.1f} ms"
        )
        assert len(judged) >= 40
        assert not lost, f"lost {len(lost)} of {len(judged)} pings during the burst: {lost}"
        assert worst < 1000.0
