"""Policy semantics and IPv6 through a running daemon, end to end in namespaces.

- ``action=discard`` drops (out-policy-blocked), ``action=none`` passes in clear,
  ``level=use`` with no SA passes in clear, ``level=require`` with no SA drops (out-no-states)
  and raises an acquire for IKE (logged, visible in `/log print`).
- Manually keyed ESP over IPv6: IPv6 in IPv6 tunnel, IPv4 in IPv6 tunnel, IPv6 transport.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pyipsec.io.labnet import (
    LAN6_A,
    LAN6_B,
    LAN_A,
    NET6_A,
    NET6_B,
    NET_A,
    NET_B,
    WAN6_A,
    WAN6_B,
    WAN_A,
    WAN_B,
    Lab,
    add_ipv6,
    lab_prerequisites,
    two_sites,
)
from tests.conftest import require
from tests.io.daemon_proc import start_daemon
from tests.io.test_daemon_e2e import console, script

pytestmark = pytest.mark.netns


def ping(lab: Lab, ns: str, src: str, dst: str) -> bool:
    out = lab.sh(ns, "ping", "-c2", "-i0.2", "-W1", "-I", src, dst, check=False)
    return " 0% packet loss" in out


def test_discard_none_use_and_require_without_sa(tmp_path: Path) -> None:
    require(lab_prerequisites())
    with Lab(f"pyip{os.getpid()}") as lab:
        a, b = two_sites(lab)
        for n in (2, 3, 4):
            lab.addr(b, "lan0", f"203.0.113.{n}/25")
        # plain routing between the sites, so what passes in clear has a way there and back
        lab.sh(a, "ip", "route", "add", NET_B, "via", WAN_B)
        lab.sh(b, "ip", "route", "add", NET_A, "via", WAN_A)
        cfg = (
            "/ip ipsec policy\n"
            f"add src-address={NET_A} dst-address=203.0.113.1/32 action=discard\n"
            f"add src-address={NET_A} dst-address=203.0.113.2/32 action=none\n"
            f"add src-address={NET_A} dst-address=203.0.113.3/32 level=use tunnel=yes "
            f"sa-src-address={WAN_A} sa-dst-address={WAN_B}\n"
            f"add src-address={NET_A} dst-address=203.0.113.4/32 level=require tunnel=yes "
            f"sa-src-address={WAN_A} sa-dst-address={WAN_B}\n"
        )
        d = start_daemon(a, tmp_path / "a.db", cfg)
        try:
            assert not ping(lab, a, LAN_A, "203.0.113.1")  # discard
            assert ping(lab, a, LAN_A, "203.0.113.2")  # none: in clear
            assert ping(lab, a, LAN_A, "203.0.113.3")  # use, no SA: in clear
            assert not ping(lab, a, LAN_A, "203.0.113.4")  # require, no SA: dropped
            stats = console(tmp_path / "a.db", "/ip ipsec statistics print")
            counters = dict(
                (k.strip(), int(v)) for k, v in (line.split(":") for line in stats.splitlines())
            )
            assert counters["out-policy-blocked"] >= 2
            assert counters["out-no-states"] >= 2
            log = console(tmp_path / "a.db", "/log print")
            assert "acquire for policy" in log
        finally:
            assert d.stop() == 0


@pytest.mark.parametrize(
    ("inner", "tunnel"),
    [(6, True), (4, True), (6, False)],
    ids=["v6-in-v6-tunnel", "v4-in-v6-tunnel", "v6-transport"],
)
def test_manual_esp_over_ipv6(tmp_path: Path, inner: int, tunnel: bool) -> None:
    require(lab_prerequisites())
    with Lab(f"pyi6{os.getpid()}") as lab:
        a, b = two_sites(lab)
        add_ipv6(lab, a, b)
        scripts = {}
        for side in ("a", "b"):
            text = script(side, tunnel=True, protocols="esp")
            local, remote = (WAN6_A, WAN6_B) if side == "a" else (WAN6_B, WAN6_A)
            text = text.replace(WAN_A if side == "a" else WAN_B, local).replace(
                WAN_B if side == "a" else WAN_A, remote
            )
            if inner == 6 and tunnel:
                nets = (NET6_A, NET6_B) if side == "a" else (NET6_B, NET6_A)
                text = text.replace(NET_A if side == "a" else NET_B, nets[0]).replace(
                    NET_B if side == "a" else NET_A, nets[1]
                )
            if not tunnel:
                text = (
                    text.replace(NET_A if side == "a" else NET_B, f"{local}/128")
                    .replace(NET_B if side == "a" else NET_A, f"{remote}/128")
                    .replace("tunnel=yes", "tunnel=no")
                )
            scripts[side] = text
        da = start_daemon(a, tmp_path / "a.db", scripts["a"])
        db_ = start_daemon(b, tmp_path / "b.db", scripts["b"])
        try:
            if not tunnel:
                src, dst = WAN6_A, WAN6_B
            elif inner == 6:
                src, dst = LAN6_A, LAN6_B
            else:
                src, dst = LAN_A, "203.0.113.1"
            assert ping(lab, a, src, dst), da.log + db_.log
            sas = console(tmp_path / "a.db", "/ip ipsec installed-sa print")
            assert f"dst-address={WAN6_B}" in sas and "current-packets=0 " not in sas
        finally:
            assert da.stop() == 0
            assert db_.stop() == 0
