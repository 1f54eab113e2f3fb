"""The namespace lab: creates what it says, and removes all of it again."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from pyipsec.dataplane.userspace.tun import TunError, open_tun
from pyipsec.io.labnet import Lab, LabError, lab_prerequisites, run
from tests.conftest import require

pytestmark = pytest.mark.netns


def netns_list() -> set[str]:
    return {line.split()[0] for line in run(["ip", "netns", "list"]).splitlines() if line}


def test_lab_builds_a_link_and_cleans_up() -> None:
    require(lab_prerequisites())
    with Lab(f"pyit{os.getpid()}") as lab:
        a, b = lab.ns("a"), lab.ns("b")
        lab.link(a, "wan0", b, "wan0")
        lab.addr(a, "wan0", "198.51.100.129/25")
        lab.addr(b, "wan0", "198.51.100.130/25")
        out = lab.sh(a, "ping", "-c1", "-W2", "198.51.100.130")
        assert "1 received" in out
        assert {a, b} <= netns_list()
    assert not {a, b} & netns_list()


def test_lab_refuses_a_namespace_it_does_not_own() -> None:
    require(lab_prerequisites())
    with Lab(f"pyit{os.getpid()}x") as outer:
        name = outer.ns("a")
        inner = Lab(outer.prefix)
        with pytest.raises(LabError, match="not ours"):
            inner.ns("a")
        inner.close()  # must not delete the outer lab's namespace
        assert name in netns_list()


def test_tun_device_opens_inside_a_namespace() -> None:
    require(lab_prerequisites())
    with Lab(f"pyit{os.getpid()}t") as lab:
        ns = lab.ns("a")
        code = (
            "from pyipsec.dataplane.userspace.tun import open_tun;"
            "fd, name = open_tun('pyitun0'); print(name)"
        )
        out = subprocess.run(
            ["ip", "netns", "exec", ns, sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        assert out.strip() == "pyitun0"


def test_tun_name_too_long() -> None:
    with pytest.raises(TunError, match="longer than"):
        open_tun("x" * 20)
