"""IKEv2 over IPv6 between pyipsec (ns a, ``exchange-mode=ike2``) and strongSwan 5.9.8 with
kernel-libipsec (ns b, swanctl ``version = 2``), issue 10.

The outer addresses are IPv6 (RFC 3849 documentation prefix, on the two sites of
``pyipsec.io.labnet``: ``add_ipv6``; the namespaces have no default route). strongSwan, the
independent implementation, computes its side of every key, NAT-D hash (over the IPv6
addresses: libipsec fakes NAT detection and both sides move to port 4500, ESP in UDP over
IPv6) and child SA on its own, so traffic both ways proves ours agree. Covered, each from
either side (strongSwan initiating with swanctl, pyipsec on traffic):

- IPv6 traffic selectors (TS_IPV6_ADDR_RANGE) between the two IPv6 LANs: a ping both ways and
  a TCP transfer each way, checked by digest;
- IPv4-in-IPv6 (TS_IPV4_ADDR_RANGE inside an SA over IPv6): the same traffic between the IPv4
  LANs;
- a policy for all IPv6 (``::/0`` both ways, a template for strongSwan's narrower proposal):
  strongSwan initiating with its LAN prefixes, pyipsec narrows to them (RFC 7296 §2.9);
- RFC 7383 fragmentation at IPv6's minimum MTU: wan links of 1280 octets, RSA certificates
  with an intermediate (IKE_AUTH over 1280 octets each way), identities that are IPv6
  addresses (ID_IPV6_ADDR named by the certificates' subjectAltName).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from pyipsec.io.labnet import (
    LAN6_A,
    LAN6_B,
    LAN_A,
    LAN_B,
    NET6_A,
    NET6_B,
    NET_A,
    NET_B,
    WAN6_A,
    WAN6_B,
    Lab,
    add_ipv6,
)
from tests.harness.strongswan import Charon
from tests.interop.helpers import (
    Phase1,
    Phase2,
    bring_up,
    carries_traffic,
    console,
    no_errors,
    ros_script,
    strongswan_pair,
    strongswan_site,
    swanctl_conf,
    wait_log,
)
from tests.interop.pki import Pki, chain_pki
from tests.io.daemon_proc import DaemonProc

pytestmark = pytest.mark.netns

INITIATORS = ["strongswan", "pyipsec"]
P1 = Phase1("aes-128", "sha256", "ecp256")
P2 = Phase2("aes-128-gcm", "null", "none")  # strongSwan: aes128gcm16
TRANSFER = 1 << 20  # bytes each way, compared by SHA-256 at the receiver


@pytest.fixture(scope="module")
def site() -> Iterator[tuple[Lab, str, str]]:
    with strongswan_site("pyik6", add_ipv6) as lab_a_b:
        yield lab_a_b


def script(src: str, dst: str, peer_extra: str = "", prelude: str = "") -> str:
    """pyipsec: one ike2 peer at strongSwan's IPv6 wan address, one policy ``src``-``dst``
    with its SA between the IPv6 wan addresses."""
    return ros_script(
        p1=P1,
        p2=P2,
        peer_address=f"{WAN6_B}/128",
        peer_extra=f"exchange-mode=ike2 {peer_extra}",
        src=src,
        dst=dst,
        sa_src=WAN6_A,
        sa_dst=WAN6_B,
        prelude=prelude,
    )


def conf(local_ts: str, remote_ts: str, **kw: object) -> str:
    """strongSwan: IKEv2 between the IPv6 wan addresses (PSK with the addresses as IDs)."""
    kw = {"local_id": WAN6_B, "remote_id": WAN6_A} | kw
    return swanctl_conf(
        version=2,
        ike=P1.swan,
        esp=P2.swan,
        local_addrs=WAN6_B,
        remote_addrs=WAN6_A,
        local_ts=local_ts,
        remote_ts=remote_ts,
        **kw,  # type: ignore[arg-type]
    )


def bring_up_ike2(
    lab: Lab,
    a: str,
    b: str,
    daemon: DaemonProc,
    charon: Charon,
    initiator: str,
    src: str,
    dst: str,
) -> str:
    """``helpers.bring_up`` (pyipsec: a ping from ``src`` to ``dst`` hits the policy), the IKE
    SA an IKEv2 one with strongSwan's IPv6 wan address; pyipsec's IkeSaEstablished line."""
    line = bring_up(lab, a, b, daemon, charon, initiator, src=src, dst=dst)
    assert "exchange=ike2" in line, line
    assert WAN6_B in line, line
    return line


def check_tunnel(
    lab: Lab, a: str, b: str, daemon: DaemonProc, charon: Charon, lan_a: str, lan_b: str
) -> str:
    """A ping each way and a TCP transfer each way between ``lan_a`` and ``lan_b``; one SA
    pair on each side between the IPv6 wan addresses, ESP in UDP 4500; returns strongSwan's
    ``--list-sas``."""
    carries_traffic(lab, a, b, daemon, lan_a=lan_a, lan_b=lan_b, size=TRANSFER)
    sas = console(daemon.db, "/ip ipsec installed-sa print")
    assert WAN6_A in sas and WAN6_B in sas, sas
    listed = charon.swanctl("--list-sas")
    assert "ESTABLISHED, IKEv2" in listed, listed
    assert f"{WAN6_B}[4500]" in listed and f"{WAN6_A}[4500]" in listed, listed
    assert "INSTALLED, TUNNEL-in-UDP" in listed, listed
    peers = console(daemon.db, "/ip ipsec remote-peers print")
    assert WAN6_B in peers, peers
    no_errors(daemon)
    return listed


@pytest.mark.parametrize("initiator", INITIATORS)
def test_ipv6_selectors_over_ipv6(
    site: tuple[Lab, str, str], tmp_path: Path, initiator: str
) -> None:
    """IPv6 LAN to IPv6 LAN over IPv6 wan addresses, PSK with ID_IPV6_ADDR identities."""
    lab, a, b = site
    ros = script(NET6_A, NET6_B)
    with strongswan_pair(a, b, tmp_path, ros, conf(NET6_B, NET6_A)) as (daemon, charon):
        line = bring_up_ike2(lab, a, b, daemon, charon, initiator, LAN6_A, LAN6_B)
        assert "nat=True" in line, line
        # libipsec fakes a NAT with a random NAT_DETECTION_SOURCE_IP; its
        # NAT_DETECTION_DESTINATION_IP is the real SHA-1 over our SPIs, IPv6 address and port
        # (RFC 7296 §2.23), which matches the one we compute: we are not behind a NAT
        natd = wait_log(daemon, "NatDetected")
        assert "local_behind_nat=False peer_behind_nat=True" in natd, natd
        listed = check_tunnel(lab, a, b, daemon, charon, LAN6_A, LAN6_B)
        assert f"local  {NET6_B}" in listed and f"remote {NET6_A}" in listed, listed
        assert f"remote '{WAN6_A}'" in listed, listed


@pytest.mark.parametrize("initiator", INITIATORS)
def test_ipv4_selectors_over_ipv6(
    site: tuple[Lab, str, str], tmp_path: Path, initiator: str
) -> None:
    """IPv4 LAN to IPv4 LAN inside an SA between the IPv6 wan addresses."""
    lab, a, b = site
    ros = script(NET_A, NET_B)
    with strongswan_pair(a, b, tmp_path, ros, conf(NET_B, NET_A)) as (daemon, charon):
        bring_up_ike2(lab, a, b, daemon, charon, initiator, LAN_A, LAN_B)
        listed = check_tunnel(lab, a, b, daemon, charon, LAN_A, LAN_B)
        assert f"local  {NET_B}" in listed and f"remote {NET_A}" in listed, listed


@pytest.mark.parametrize("initiator", INITIATORS)
def test_all_ipv6_policy_narrowed_to_the_lans(
    site: tuple[Lab, str, str], tmp_path: Path, initiator: str
) -> None:
    """pyipsec's policy covers all IPv6 (``::/0`` both ways; its route through the TUN
    device takes a global address as preferred source, not ``::1``, which Linux refuses).
    strongSwan initiating proposes its LAN prefixes and pyipsec, as responder, narrows
    ``::/0`` to them; pyipsec initiating proposes ``::/0`` and strongSwan narrows it to its
    LAN prefixes (RFC 7296 §2.9). Either way the child carries exactly the two /64s."""
    lab, a, b = site
    ros = script("::/0", "::/0")
    with strongswan_pair(a, b, tmp_path, ros, conf(NET6_B, NET6_A)) as (daemon, charon):
        bring_up_ike2(lab, a, b, daemon, charon, initiator, LAN6_A, LAN6_B)
        listed = check_tunnel(lab, a, b, daemon, charon, LAN6_A, LAN6_B)
        assert f"local  {NET6_B}" in listed and f"remote {NET6_A}" in listed, listed


# -- fragmentation at IPv6's minimum MTU, certificates with IPv6 identities ------------------


def _issue_v6(pki: Pki, cn: str, key: rsa.RSAPrivateKey, addr: str) -> bytes:
    san: list[x509.GeneralName] = [x509.DNSName(cn), x509.IPAddress(ipaddress.ip_address(addr))]
    return pki.issue(cn, key, by_intermediate=True, san=san)


@pytest.fixture(scope="module")
def pki() -> Pki:
    return chain_pki()


@pytest.mark.parametrize("initiator", INITIATORS)
def test_certificates_fragmented_at_1280(
    site: tuple[Lab, str, str], tmp_path: Path, pki: Pki, initiator: str
) -> None:
    """Both wan links at 1280 octets (IPv6's minimum MTU); both certificates from the
    intermediate, which each side sends with its own: each IKE_AUTH (two 2048-bit RSA
    certificates and a signature) is larger than 1280 octets and goes out as RFC 7383
    fragments, each within 1280 octets on the wire (strongSwan's default fragment_size for
    IPv6 is 1280 as well). IDs are the IPv6 wan addresses, named by the certificates."""
    lab, a, b = site
    a_key = serialization.load_pem_private_key(pki.files["a.key"], password=None)
    assert isinstance(a_key, rsa.RSAPrivateKey)
    a_cert = _issue_v6(pki, "a.lab.example", a_key, WAN6_A)
    b_cert = _issue_v6(pki, "b.lab.example", pki.b_key, WAN6_B)
    files_a = {"ca.crt": pki.files["ca.crt"], "int.crt": pki.files["int.crt"], "a.crt": a_cert}
    files_a["a.key"] = pki.files["a.key"]
    for name, data in files_a.items():
        (tmp_path / name).write_bytes(data)
    prelude = (
        "/certificate\nimport file-name=ca.crt name=ca\nimport file-name=int.crt name=int\n"
        "set int trusted=no\nimport file-name=a.crt name=a\nimport file-name=a.key\n"
    )
    ros = script(
        NET6_A,
        NET6_B,
        peer_extra="auth-method=rsa-signature certificate=a my-id=address:" + WAN6_A,
        prelude=prelude,
    )
    swan = conf(NET6_B, NET6_A, auth="pubkey", local_cert="b.crt")
    files = {
        "x509ca/ca.crt": pki.files["ca.crt"],
        "x509ca/int.crt": pki.files["int.crt"],
        "x509/b.crt": b_cert,
        "private/b.key": pki.files["b.key"],
    }
    for ns in (a, b):
        lab.sh(ns, "ip", "link", "set", "wan0", "mtu", "1280")
    try:
        with strongswan_pair(a, b, tmp_path, ros, swan, files=files) as (daemon, charon):
            bring_up_ike2(lab, a, b, daemon, charon, initiator, LAN6_A, LAN6_B)
            listed = check_tunnel(lab, a, b, daemon, charon, LAN6_A, LAN6_B)
            assert f"remote '{WAN6_A}'" in listed, listed
            log = charon.log_tail(400)
            # strongSwan split its own IKE_AUTH and reassembled ours
            assert "splitting IKE message" in log, log
            assert re.search(r"received fragment #\d+ of \d+, reassembled", log), log
            # every datagram from pyipsec fitted 1280 octets with its IPv6 and UDP headers
            sizes = [int(n) for n in re.findall(r"received packet: from .*? \((\d+) bytes\)", log)]
            assert sizes and max(sizes) <= 1280 - 40 - 8, sizes
            assert f"authentication of '{WAN6_A}' with RSA_EMSA_PKCS1_SHA2_256 successful" in log
    finally:
        for ns in (a, b):
            lab.sh(ns, "ip", "link", "set", "wan0", "mtu", "1500")
