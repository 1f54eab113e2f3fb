"""`make demo` = `pyipsec demo`: the two-site tunnel demo runs, shows its output and cleans up."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from pyipsec.io.labnet import lab_prerequisites, run
from tests.conftest import require
from tests.io.daemon_proc import ROOT

pytestmark = pytest.mark.netns
ENV = dict(os.environ, PYTHONPATH=str(ROOT / "src"))


@pytest.mark.parametrize("mode", ["ike", "ike2", "manual"])
def test_demo_brings_up_a_tunnel_and_tears_it_down(mode: str) -> None:
    require(lab_prerequisites())
    extra = {"ike": [], "ike2": ["--ike2"], "manual": ["--manual"]}[mode]
    proc = subprocess.run(
        [sys.executable, "-m", "pyipsec", "demo", *extra], capture_output=True, text=True,
        timeout=300, env=ENV,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    assert " 0% packet loss" in out
    assert "Mbit/s" in out
    assert out.count("/ip ipsec installed-sa print") == 2
    assert out.count("in-state-protocol-errors: 0") == 2
    assert "E spi=0x" in out and "state=mature" in out
    assert out.rstrip().endswith("== done")
    if mode == "ike":
        assert "IKEv1 main mode" in out and "state=established" in out
        assert "side=initiator" in out and "SAs installed after" in out
    elif mode == "ike2":  # `pyipsec demo --ike2` (`make demo DEMO=--ike2`)
        assert "(IKEv2, pre-shared key)" in out and "IKE_SA_INIT and IKE_AUTH" in out
        assert "state=established" in out and "exchange-mode=ike2" in out
        assert "side=initiator" in out and "SAs installed after" in out
    else:
        assert "manually keyed" in out
    assert "pyipsec-demo" not in run(["ip", "netns", "list"])


def test_demo_without_root_says_what_it_needs() -> None:
    require(lab_prerequisites())
    proc = subprocess.run(
        ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable, "-m",
         "pyipsec", "demo"],
        capture_output=True, text=True, timeout=60, env=ENV, cwd="/",
    )  # fmt: skip
    assert proc.returncode == 1
    assert "needs root" in proc.stderr and "sudo make demo" in proc.stderr


def test_demo_cleans_up_when_its_output_pipe_closes() -> None:
    """`pyipsec demo | head` must not leave daemons behind when the pipe closes early."""
    require(lab_prerequisites())
    proc = subprocess.run(
        ["sh", "-c", f"{sys.executable} -m pyipsec demo --manual | head -3"],
        capture_output=True, text=True, timeout=300, env=ENV,
    )  # fmt: skip
    assert proc.stdout.count("\n") == 3
    left = subprocess.run(["pgrep", "-f", "pyipsec-demo-.*rsc"], capture_output=True, text=True)
    assert left.stdout.strip() == "", "daemons left running: " + left.stdout
    assert "pyipsec-demo" not in run(["ip", "netns", "list"])
