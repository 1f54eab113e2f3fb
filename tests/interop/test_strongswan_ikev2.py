"""IKEv2 between pyipsec (ns a, peer ``exchange-mode=ike2``) and strongSwan 5.9.8 with
kernel-libipsec (ns b, swanctl ``version = 2``), issue 10.

The independent implementation is strongSwan: it computes its side of every key, AUTH payload
and child SA on its own, so a tunnel that carries traffic both ways proves ours agree. One
two-site lab per module; every case starts its own charon and daemon and stops both by their
handles (PIDs). strongSwan's libipsec always UDP-encapsulates (it fakes NAT detection), so every
IKE_AUTH goes to port 4500 and every SA here is ESP in UDP 4500, tunnel mode.

Covered, each marked below: PSK with the IKE groups modp2048, ecp256 and x25519 and the child
ciphers AES-GCM-16 and AES-CBC + HMAC-SHA-256, with strongSwan initiating (swanctl) and with
pyipsec initiating on traffic (acquire), each with a ping both ways and a checked TCP transfer
both ways; a child SA rekey and an IKE SA rekey under a 0.2 s ping with no loss, each driven by
either side's short lifetime; RSA signatures with certificates from a root CA through an
intermediate, both directions.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from pyipsec.io.labnet import LAN_A, LAN_B, WAN_B, Lab, lab_prerequisites, two_sites
from tests.conftest import require
from tests.harness.strongswan import Charon, strongswan_prerequisites
from tests.interop.helpers import (
    Phase1,
    Phase2,
    bring_up,
    console,
    installed_spis,
    log_text,
    ping,
    ros_script,
    strongswan_pair,
    swanctl_conf,
    tcp_transfer,
)
from tests.interop.pki import Pki, b_good, chain_pki
from tests.io.daemon_proc import DaemonProc

pytestmark = pytest.mark.netns

IKE2 = "exchange-mode=ike2"
TRANSFER = 3 << 20  # bytes each way through the tunnel, compared by SHA-256 at the receiver
INITIATORS = ["strongswan", "pyipsec"]


@pytest.fixture(scope="module")
def site() -> Iterator[tuple[Lab, str, str]]:
    require(lab_prerequisites() + strongswan_prerequisites())
    with Lab(f"pyik2{os.getpid()}") as lab:
        a, b = two_sites(lab)
        yield lab, a, b


@dataclass(frozen=True)
class Suite:
    """IKE aes-128 with HMAC-SHA-256 (integrity and, by RouterOS's rule, the PRF) over ``dh``;
    the child SA's cipher from ``p2``."""

    id: str
    dh: str
    p2: Phase2

    @property
    def p1(self) -> Phase1:
        return Phase1("aes-128", "sha256", self.dh)


CBC = Phase2("aes-128-cbc", "sha256", "none")  # strongSwan: aes128-sha256
GCM = Phase2("aes-128-gcm", "null", "none")  # strongSwan: aes128gcm16
SUITES = [
    Suite("modp2048-esp-aes128-sha256", "modp2048", CBC),
    Suite("ecp256-esp-aes128gcm16", "ecp256", GCM),
    Suite("x25519-esp-aes128gcm16", "x25519", GCM),
    Suite("x25519-esp-aes128-sha256", "x25519", CBC),
]


def conf(suite: Suite = SUITES[0], **kw: object) -> str:
    """strongSwan's IKEv2 connection ``v2`` matching ``suite``."""
    return swanctl_conf(version=2, ike=suite.p1.swan, esp=suite.p2.swan, **kw)


def script(suite: Suite = SUITES[0], peer_extra: str = "", **kw: object) -> str:
    """pyipsec's RouterOS configuration: one ike2 peer, the default proposal, one policy."""
    return ros_script(p1=suite.p1, p2=suite.p2, peer_extra=f"{IKE2} {peer_extra}", **kw)


def check_tunnel(lab: Lab, a: str, b: str, daemon: DaemonProc, charon: Charon) -> None:
    """Ping both ways; one SA pair on each side, ESP in UDP 4500; strongSwan calls it IKEv2."""
    assert ping(lab, a, LAN_A, LAN_B) == 3
    assert ping(lab, b, LAN_B, LAN_A) == 3
    sas = console(daemon.db, "/ip ipsec installed-sa print")
    assert len(installed_spis(daemon.db)) == 2, sas
    assert ":4500" in sas, sas
    listed = charon.swanctl("--list-sas")
    assert "ESTABLISHED, IKEv2" in listed, listed
    assert "INSTALLED, TUNNEL-in-UDP" in listed, listed
    peers = console(daemon.db, "/ip ipsec remote-peers print")
    assert WAN_B in peers, peers


def ike_sa_ids(charon: Charon) -> list[int]:
    """strongSwan's unique ids of its established IKE SAs (a rekeyed IKE SA gets a new one)."""
    listed = charon.swanctl("--list-sas")
    return [int(x) for x in re.findall(r"v2: #(\d+), ESTABLISHED, IKEv2", listed)]


def no_errors(daemon: DaemonProc) -> None:
    daemon.read_log()
    errors = [line for line in daemon.log if "ipsec,error" in line]
    assert not errors, errors


# -- PSK, every group and child cipher, both directions --------------------------------------


@pytest.mark.parametrize("initiator", INITIATORS)
@pytest.mark.parametrize("suite", SUITES, ids=lambda s: s.id)
def test_psk(site: tuple[Lab, str, str], tmp_path: Path, suite: Suite, initiator: str) -> None:
    """PSK (AUTH method 2) over ``suite``: the tunnel comes up from ``initiator``'s side (for
    pyipsec: the first ping hits the policy and the acquire starts IKE_SA_INIT), carries a
    ping both ways and 3 MiB of TCP each way, checked by digest."""
    lab, a, b = site
    with strongswan_pair(a, b, tmp_path, script(suite), conf(suite)) as (daemon, charon):
        line = bring_up(lab, a, b, daemon, charon, initiator)
        assert "exchange=ike2" in line and "nat=True" in line, line
        check_tunnel(lab, a, b, daemon, charon)
        tcp_transfer(lab, a, b, LAN_A, LAN_B, size=TRANSFER)
        tcp_transfer(lab, b, a, LAN_B, LAN_A, size=TRANSFER)
        listed = charon.swanctl("--list-sas")
        assert ("AES_GCM_16-128" if suite.p2 is GCM else "AES_CBC-128/HMAC_SHA2_256_128") in listed
        group = {"modp2048": "MODP_2048", "ecp256": "ECP_256", "x25519": "CURVE_25519"}[suite.dh]
        assert f"AES_CBC-128/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/{group}" in listed, listed
        no_errors(daemon)


# -- rekeying under traffic ------------------------------------------------------------------


def lossless_ping(lab: Lab, a: str, seconds: float) -> tuple[int, int]:
    """A ping every 0.2 s for ``seconds`` from LAN a to LAN b; (sent, lost)."""
    count = int(seconds / 0.2)
    received = ping(lab, a, LAN_A, LAN_B, count=count, interval=0.2, wait=1)
    return count, count - received


@pytest.mark.parametrize("rekeyer", ["pyipsec", "strongswan"])
def test_child_sa_rekey_under_continuous_ping(
    site: tuple[Lab, str, str], tmp_path: Path, rekeyer: str
) -> None:
    """CREATE_CHILD_SA rekeying the child (RFC 7296 §1.3.3) with PFS ecp256, driven by the side
    with the short lifetime (pyipsec: proposal lifetime 20 s; strongSwan: rekey_time 15 s),
    pyipsec having initiated the IKE SA: a new SA pair replaces the first and a ping every
    0.2 s for 35 s loses nothing."""
    lab, a, b = site
    p2 = Phase2("aes-128-gcm", "null", "ecp256", lifetime="20s" if rekeyer == "pyipsec" else "1h")
    suite = Suite("rekey", "ecp256", p2)
    child = (
        "rekey_time = 15s\n                life_time = 60s\n                rand_time = 0s"
        if rekeyer == "strongswan"
        else "rekey_time = 1h"
    )
    with strongswan_pair(a, b, tmp_path, script(suite), conf(suite, child_extra=child)) as (
        daemon,
        charon,
    ):
        bring_up(lab, a, b, daemon, charon, "pyipsec")
        first = installed_spis(daemon.db)
        assert len(first) == 2, first
        sent, lost = lossless_ping(lab, a, 35)
        print(f"child rekey by {rekeyer} under ping -i 0.2: {lost} of {sent} lost")
        daemon.read_log()
        rekeys = [x for x in daemon.log if "ChildSaInstalled" in x and "rekey=True" in x]
        assert rekeys, log_text(daemon)
        assert installed_spis(daemon.db) - first, "no new SA pair in use"
        listed = charon.swanctl("--list-sas")
        assert re.search(r"net: #[2-9]", listed), listed  # strongSwan's rekeyed CHILD_SA
        assert listed.count("INSTALLED, TUNNEL") >= 1, listed
        assert lost == 0, f"{lost} of {sent} pings lost across the child rekey"
        assert ping(lab, b, LAN_B, LAN_A) == 3
        no_errors(daemon)


@pytest.mark.parametrize("rekeyer", ["pyipsec", "strongswan"])
def test_ike_sa_rekey_under_continuous_ping(
    site: tuple[Lab, str, str], tmp_path: Path, rekeyer: str
) -> None:
    """CREATE_CHILD_SA rekeying the IKE SA (RFC 7296 §1.3.2, §2.18), driven by the side with
    the short IKE lifetime (pyipsec: peer lifetime 40 s; strongSwan: rekey_time 20 s): the
    child SA moves to the new IKE SA untouched, strongSwan holds one established IKE SA with a
    new id, pyipsec one remote peer, and a ping every 0.2 s for 45 s loses nothing."""
    lab, a, b = site
    peer = "lifetime=40s" if rekeyer == "pyipsec" else "lifetime=1d"
    ike = (
        "rekey_time = 20s\n        over_time = 20s\n        rand_time = 0s"
        if rekeyer == "strongswan"
        else "rekey_time = 1h"
    )
    with strongswan_pair(a, b, tmp_path, script(peer_extra=peer), conf(conn_extra=ike)) as (
        daemon,
        charon,
    ):
        bring_up(lab, a, b, daemon, charon, "pyipsec")
        before = ike_sa_ids(charon)
        assert len(before) == 1, charon.swanctl("--list-sas")
        spis = installed_spis(daemon.db)
        sent, lost = lossless_ping(lab, a, 45)
        print(f"IKE SA rekey by {rekeyer} under ping -i 0.2: {lost} of {sent} lost")
        after = ike_sa_ids(charon)
        assert len(after) == 1 and after[0] != before[0], (before, after)
        assert installed_spis(daemon.db) == spis, "the child SA must survive the IKE SA rekey"
        peers = console(daemon.db, "/ip ipsec remote-peers print")
        assert peers.count(WAN_B) == 1, peers
        assert lost == 0, f"{lost} of {sent} pings lost across the IKE SA rekey"
        assert ping(lab, b, LAN_B, LAN_A) == 3
        no_errors(daemon)


# -- certificates ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pki() -> Pki:
    return chain_pki()


@pytest.mark.parametrize("initiator", INITIATORS)
def test_rsa_certificates_through_an_intermediate(
    site: tuple[Lab, str, str], tmp_path: Path, pki: Pki, initiator: str
) -> None:
    """RSA signatures with certificates: pyipsec (a.lab.example, issued by the root CA) trusts
    the root and holds the intermediate with trusted=no; strongSwan's certificate
    (b.lab.example) is issued by the intermediate, which strongSwan does not send, so pyipsec
    must build the path through its store. strongSwan checks pyipsec's certificate against the
    root and its DN identity; pyipsec the FQDN b.lab.example against strongSwan's certificate.
    strongSwan's IKE_AUTH message is larger than its fragment size, so it arrives as RFC 7383
    fragments (pyipsec announced IKEV2_FRAGMENTATION_SUPPORTED)."""
    lab, a, b = site
    for name in ("ca.crt", "int.crt", "a.crt", "a.key"):
        (tmp_path / name).write_bytes(pki.files[name])
    prelude = (
        "/certificate\n"
        "import file-name=ca.crt name=ca\n"
        "import file-name=int.crt name=int\n"
        "set int trusted=no\n"
        "import file-name=a.crt name=a\n"
        "import file-name=a.key\n"
    )
    ros = script(prelude=prelude, peer_extra="auth-method=rsa-signature certificate=a")
    conf_b = conf(
        auth="pubkey",
        local_id="b.lab.example",
        remote_id='"O=pyipsec cert lab, CN=a.lab.example"',
        local_cert="b.crt",
        conn_extra="send_cert = always",
    )
    files = {
        "x509ca/ca.crt": pki.files["ca.crt"],
        "x509/b.crt": b_good(pki),
        "private/b.key": pki.files["b.key"],
    }
    with strongswan_pair(a, b, tmp_path, ros, conf_b, files=files) as (daemon, charon):
        line = bring_up(lab, a, b, daemon, charon, initiator)
        assert "exchange=ike2" in line, line
        check_tunnel(lab, a, b, daemon, charon)
        tcp_transfer(lab, a, b, LAN_A, LAN_B, size=TRANSFER)
        listed = charon.swanctl("--list-sas")
        assert "remote 'O=pyipsec cert lab, CN=a.lab.example'" in listed, listed
        log = charon.log_tail(300)
        assert "authentication of 'O=pyipsec cert lab, CN=a.lab.example' with RSA" in log, log
        # strongSwan's IKE_AUTH with its certificate (~1.3-1.4 kB) is above its 1280-byte
        # fragment_size: it went as RFC 7383 fragments, which pyipsec reassembled
        assert "splitting IKE message" in log, log
        no_errors(daemon)
