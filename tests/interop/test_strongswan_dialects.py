"""The same tunnels against strongSwan 5.9.8 (kernel-libipsec, ns b) with pyipsec configured in
either console dialect (issue 11): ``ros_script(dialect=...)`` writes the RouterOS 6.x script
(everything on the peer, policy sa-src/sa-dst-address) or its RouterOS 7 form (profile + peer +
identity, the policy naming its peer), which the daemon's ``--import`` loads into a new
database (the script's dialect becomes the database's). IKEv1 main mode and aggressive mode with
FQDN ids, and IKEv2 PSK: the tunnel comes up from either side and carries pings both ways.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from pyipsec.io.labnet import LAN_A, LAN_B, WAN_B, Lab
from tests.interop.helpers import (
    bring_up,
    console,
    ping,
    ros_script,
    strongswan_pair,
    strongswan_site,
    swanctl_conf,
)
from tests.io.daemon_proc import DaemonProc

pytestmark = pytest.mark.netns

DIALECTS = ["v6", "v7"]


@pytest.fixture(scope="module")
def site() -> Iterator[tuple[Lab, str, str]]:
    with strongswan_site("pyidl") as lab_a_b:
        yield lab_a_b


def check(lab: Lab, a: str, b: str, daemon: DaemonProc, dialect: str) -> None:
    """Pings both ways, one SA pair, and the database speaks ``dialect``."""
    assert ping(lab, a, LAN_A, LAN_B) == 3
    assert ping(lab, b, LAN_B, LAN_A) == 3
    # (a v7 plain print is a table: count the SPIs of the detail print, which both have)
    sas = console(daemon.db, "/ip ipsec installed-sa print detail")
    assert len(set(re.findall(r"spi=(0x[0-9A-F]+)", sas))) == 2, sas
    if dialect == "v7":
        assert "lab-peer" in console(daemon.db, "/ip ipsec identity print")
        assert WAN_B in console(daemon.db, "/ip/ipsec/active-peers/print")
    else:
        assert WAN_B in console(daemon.db, "/ip ipsec remote-peers print")
        assert "secret=" in console(daemon.db, "/ip ipsec peer print")


@pytest.mark.parametrize("initiator", ["pyipsec", "strongswan"])
@pytest.mark.parametrize("dialect", DIALECTS)
def test_ikev1_main_mode_psk(
    site: tuple[Lab, str, str], tmp_path: Path, dialect: str, initiator: str
) -> None:
    lab, a, b = site
    script = ros_script(dialect=dialect)
    with strongswan_pair(a, b, tmp_path, script, swanctl_conf()) as (daemon, charon):
        line = bring_up(lab, a, b, daemon, charon, initiator)
        assert "exchange=main" in line, line
        check(lab, a, b, daemon, dialect)
        assert "ESTABLISHED, IKEv1" in charon.swanctl("--list-sas")


@pytest.mark.parametrize("dialect", DIALECTS)
def test_ikev1_aggressive_mode_fqdn_ids(
    site: tuple[Lab, str, str], tmp_path: Path, dialect: str
) -> None:
    lab, a, b = site
    extra = "exchange-mode=aggressive my-id=fqdn:a.lab.example"
    script = ros_script(dialect=dialect, peer_extra=extra)
    conf = swanctl_conf(aggressive=True, local_id="b.lab.example", remote_id="a.lab.example")
    with strongswan_pair(a, b, tmp_path, script, conf) as (daemon, charon):
        line = bring_up(lab, a, b, daemon, charon, "pyipsec")
        assert "exchange=aggressive" in line, line
        check(lab, a, b, daemon, dialect)
        assert "remote 'a.lab.example'" in charon.swanctl("--list-sas")


@pytest.mark.parametrize("initiator", ["pyipsec", "strongswan"])
@pytest.mark.parametrize("dialect", DIALECTS)
def test_ikev2_psk(
    site: tuple[Lab, str, str], tmp_path: Path, dialect: str, initiator: str
) -> None:
    lab, a, b = site
    script = ros_script(dialect=dialect, peer_extra="exchange-mode=ike2")
    with strongswan_pair(a, b, tmp_path, script, swanctl_conf(version=2)) as (daemon, charon):
        line = bring_up(lab, a, b, daemon, charon, initiator)
        assert "exchange=ike2" in line, line
        check(lab, a, b, daemon, dialect)
        assert "ESTABLISHED, IKEv2" in charon.swanctl("--list-sas")


@contextlib.contextmanager
def netns_hosts(ns: str, text: str) -> Iterator[None]:
    """/etc/netns/<ns>/hosts: what `ip netns exec <ns>` shows programs as /etc/hosts (iproute2
    bind-mounts it), so a name resolves inside our namespace only; removed afterwards."""
    base = Path("/etc/netns")
    made_base = not base.exists()
    folder = base / ns
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "hosts").write_text(text)
    try:
        yield
    finally:
        (folder / "hosts").unlink()
        folder.rmdir()
        if made_base:
            with contextlib.suppress(OSError):  # another test may use it now
                base.rmdir()


@pytest.mark.parametrize("initiator", ["pyipsec", "strongswan"])
def test_ikev2_peer_named_by_dns(
    site: tuple[Lab, str, str], tmp_path: Path, initiator: str
) -> None:
    """RouterOS 7 peer address=<DNS name>: the daemon resolves it (io/dns_peers.py) and the
    tunnel comes up at that address as with the address itself."""
    lab, a, b = site
    name = "peer-b.lab.example"
    script = ros_script(dialect="v7", peer_address=name, peer_extra="exchange-mode=ike2")
    with (
        netns_hosts(a, f"127.0.0.1 localhost\n{WAN_B} {name}\n"),
        strongswan_pair(a, b, tmp_path, script, swanctl_conf(version=2)) as (daemon, charon),
    ):
        line = bring_up(lab, a, b, daemon, charon, initiator)
        assert "exchange=ike2" in line, line
        check(lab, a, b, daemon, "v7")
        assert f"address={name}" in console(daemon.db, "/ip ipsec peer print detail")
