"""pyipsec to pyipsec (two daemons in ns a and ns b, no NAT), issue 5.

What strongSwan 5.9.8/libipsec cannot test: raw ESP and AH (IP protocols 50/51, no UDP
encapsulation), transport mode, base mode, EC2N groups and the rest of the phase-1 menu. Each
case starts two daemons on one shared two-site lab and stops them again.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from pyipsec.io.labnet import LAN_A, LAN_B, WAN_A, WAN_B, Lab, lab_prerequisites, two_sites
from tests.conftest import require
from tests.interop.helpers import (
    Phase1,
    Phase2,
    console,
    installed_spis,
    mirrored,
    ping,
    ping_until,
    pyipsec_pair,
    wait_log,
)

pytestmark = pytest.mark.netns


@pytest.fixture(scope="module")
def site() -> Iterator[tuple[Lab, str, str]]:
    require(lab_prerequisites())
    with Lab(f"pyipp{os.getpid()}") as lab:
        a, b = two_sites(lab)
        yield lab, a, b


@dataclass(frozen=True)
class Phase1Case:
    id: str
    mode: str
    p1: Phase1
    p2: Phase2
    initiator: str = "a"


PHASE1_CASES = [
    Phase1Case("main-des-md5-modp768", "main", Phase1("des", "md5", "modp768"),
               Phase2("des", "md5", "modp768")),
    Phase1Case("main-3des-sha1-modp1024", "main", Phase1("3des", "sha1", "modp1024"),
               Phase2("3des", "sha1", "modp1024"), "b"),
    Phase1Case("main-aes128-sha256-modp1536", "main", Phase1("aes-128", "sha256", "modp1536"),
               Phase2("aes-128-cbc", "sha256", "modp1536")),
    Phase1Case("main-aes192-sha512-modp2048", "main", Phase1("aes-192", "sha512", "modp2048"),
               Phase2("aes-192-cbc", "sha512", "none"), "b"),
    Phase1Case("main-aes256-sha1-ec2n155", "main", Phase1("aes-256", "sha1", "ec2n155"),
               Phase2("aes-256-cbc", "sha1", "ec2n155")),
    Phase1Case("main-blowfish-sha256-ec2n185", "main", Phase1("blowfish", "sha256", "ec2n185"),
               Phase2("aes-128-gcm", "null", "ec2n185"), "b"),
    Phase1Case("main-camellia128-sha1-ecp256", "main", Phase1("camellia-128", "sha1", "ecp256"),
               Phase2("camellia-128", "sha1", "ecp256")),
    Phase1Case("main-camellia192-sha256-ecp384", "main", Phase1("camellia-192", "sha256", "ecp384"),
               Phase2("camellia-192", "sha256", "ecp384")),
    Phase1Case("main-camellia256-sha512-ecp521", "main", Phase1("camellia-256", "sha512", "ecp521"),
               Phase2("camellia-256", "sha512", "ecp521")),
    Phase1Case("aggressive-aes256-sha256-modp2048", "aggressive", Phase1(), Phase2()),
    Phase1Case("aggressive-3des-md5-ec2n155", "aggressive", Phase1("3des", "md5", "ec2n155"),
               Phase2("3des", "md5", "ec2n155"), "b"),
    Phase1Case("base-aes128-sha1-modp1024", "base", Phase1("aes-128", "sha1", "modp1024"),
               Phase2("aes-128-cbc", "sha1", "modp1024")),
    Phase1Case("base-3des-md5-ec2n185", "base", Phase1("3des", "md5", "ec2n185"),
               Phase2("3des", "md5", "ec2n185"), "b"),
]  # fmt: skip


def assert_raw(db: Path, count: int) -> None:
    """``count`` SAs installed, none UDP-encapsulated (no NAT between two pyipsec)."""
    sas = console(db, "/ip ipsec installed-sa print")
    assert len(installed_spis(db)) == count, sas
    assert ":4500" not in sas, sas


@pytest.mark.parametrize("case", PHASE1_CASES, ids=lambda c: c.id)
def test_phase1_modes_and_algorithms(
    site: tuple[Lab, str, str], tmp_path: Path, case: Phase1Case
) -> None:
    lab, a, b = site
    ids = ""
    if case.mode == "aggressive":
        ids = " my-id=fqdn:{}.lab.example"
    extra_a = f"exchange-mode={case.mode}" + ids.format("a")
    extra_b = f"exchange-mode={case.mode}" + ids.format("b")
    script_a, script_b = mirrored(p1=case.p1, p2=case.p2, peer_extra=extra_a,
                                  peer_extra_b=extra_b)  # fmt: skip
    with pyipsec_pair(a, b, tmp_path, script_a, script_b) as (da, db_):
        if case.initiator == "a":
            ping_until(lab, a, LAN_A, LAN_B, timeout=30, fail_on=da)
        else:
            ping_until(lab, b, LAN_B, LAN_A, timeout=30, fail_on=db_)
        for d, side in ((da, "a"), (db_, "b")):
            line = wait_log(d, "IkeSaEstablished")
            role = "initiator" if side == case.initiator else "responder"
            assert f"exchange={case.mode}" in line and f"side={role}" in line, line
            assert "nat=False" in line, line
        assert ping(lab, a, LAN_A, LAN_B) == 3
        assert ping(lab, b, LAN_B, LAN_A) == 3
        assert_raw(da.db, 2)
        assert_raw(db_.db, 2)


@pytest.mark.parametrize(
    ("tunnel", "protocols", "count"),
    [(True, "ah", 2), (True, "ah,esp", 4), (False, "esp", 2), (False, "ah", 2),
     (False, "ah,esp", 4)],
    ids=["tunnel-ah", "tunnel-ah+esp", "transport-esp", "transport-ah", "transport-ah+esp"],
)  # fmt: skip
def test_ah_esp_and_transport_mode(
    site: tuple[Lab, str, str], tmp_path: Path, tunnel: bool, protocols: str, count: int
) -> None:
    """AH, AH+ESP, and host-to-host transport mode between the wan addresses; raw IP
    protocols 50/51, no UDP."""
    lab, a, b = site
    script_a, script_b = mirrored(tunnel=tunnel, protocols=protocols)
    src_a, src_b = (LAN_A, LAN_B) if tunnel else (WAN_A, WAN_B)
    with pyipsec_pair(a, b, tmp_path, script_a, script_b) as (da, db_):
        ping_until(lab, a, src_a, src_b, timeout=30, fail_on=da)
        assert ping(lab, a, src_a, src_b) == 3
        assert ping(lab, b, src_b, src_a) == 3
        assert_raw(da.db, count)
        assert_raw(db_.db, count)
        installed = [line for line in da.log if "ChildSaInstalled" in line]
        protos = {p for p in ("protocol=50", "protocol=51") if any(p in x for x in installed)}
        want = {n for p, n in (("ah", "protocol=51"), ("esp", "protocol=50")) if p in protocols}
        assert protos == want, installed
        if not tunnel:
            policies = console(da.db, "/ip ipsec policy print")
            assert "tunnel=no" in policies, policies


@pytest.mark.parametrize("initiator", ["a", "b"])
def test_ike2_transport_mode(site: tuple[Lab, str, str], tmp_path: Path, initiator: str) -> None:
    """IKEv2 between two pyipsec with tunnel=no host-to-host policies (RFC 7296 §1.3.1): the
    child is negotiated with USE_TRANSPORT_MODE and installed as transport; a ping both ways
    between the wan addresses, raw ESP. (strongSwan with libipsec cannot do transport mode:
    tests/interop/test_strongswan_ikev2.py checks the negotiation with it.)"""
    lab, a, b = site
    script_a, script_b = mirrored(tunnel=False, peer_extra="exchange-mode=ike2")
    first, src, dst = (a, WAN_A, WAN_B) if initiator == "a" else (b, WAN_B, WAN_A)
    with pyipsec_pair(a, b, tmp_path, script_a, script_b) as (da, db_):
        ping_until(lab, first, src, dst, timeout=30, fail_on=da if initiator == "a" else db_)
        for d in (da, db_):
            line = wait_log(d, "IkeSaEstablished")
            assert "exchange=ike2" in line and "nat=False" in line, line
            wait_log(d, "ChildSaInstalled")
        assert ping(lab, a, WAN_A, WAN_B) == 3
        assert ping(lab, b, WAN_B, WAN_A) == 3
        assert_raw(da.db, 2)
        assert_raw(db_.db, 2)
        # installed-sa print shows no mode (as RouterOS); the mode is the agreed one because
        # a tunnel answer to our transport request is deleted and a tunnel request for a
        # tunnel=no policy refused, each with an ipsec,error line: there is none
        for d in (da, db_):
            d.read_log()
            assert not [x for x in d.log if "ipsec,error" in x], d.log


@pytest.mark.parametrize("mode", ["main", "ike2"])
def test_secrets_never_reach_the_logs(
    site: tuple[Lab, str, str], tmp_path: Path, mode: str
) -> None:
    """With --debug on both daemons, a working tunnel and then a wrong secret on one side:
    neither the pre-shared keys nor anything derived from them in printable form shows up in
    the daemons' output or in `/log print` (IKEv1 main mode and IKEv2)."""
    lab, a, b = site
    good, bad = "k3y-" + os.urandom(12).hex(), "b4d-" + os.urandom(12).hex()
    script_a, script_b = mirrored(secret=good, peer_extra=f"exchange-mode={mode}")
    with pyipsec_pair(a, b, tmp_path, script_a, script_b, "--debug") as (da, db_):
        ping_until(lab, a, LAN_A, LAN_B, timeout=30, fail_on=da)
        wait_log(db_, "ChildSaInstalled")
        assert f"exchange={mode}" in wait_log(da, "IkeSaEstablished")
        console(db_.db, f'/ip ipsec peer set [ find ] secret="{bad}"')
        console(da.db, "/ip ipsec remote-peers kill-connections")
        console(db_.db, "/ip ipsec remote-peers kill-connections")
        assert ping(lab, a, LAN_A, LAN_B, count=2) == 0
        wait_log(da, "AuthenticationFailed", timeout=30)
        logs = [da.log, db_.log, console(da.db, "/log print"), console(db_.db, "/log print")]
        text = "\n".join("\n".join(x) if isinstance(x, list) else x for x in logs)
        for secret in (good, bad):
            for form in (secret, secret.encode().hex(), secret.encode().hex().upper()):
                assert form not in text
