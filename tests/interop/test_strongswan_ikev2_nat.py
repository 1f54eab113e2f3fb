"""IKEv2 DoS cookies, NAT-T and fragmentation against strongSwan 5.9.8 (issue 10).

pyipsec in ns a, strongSwan (charon, kernel-libipsec) in ns b, on the two-site lab. Each case
starts its own charon and daemon and stops both (by their handles).

- Cookie mode through a NAT: pyipsec runs with ``ddos-cookie-threshold=0`` (every initiator
  must return a cookie, RFC 7296 §2.6); strongSwan initiates from behind an nftables SNAT in
  its own namespace that rewrites its UDP 500/4500 source ports. strongSwan must get the
  COOKIE, repeat IKE_SA_INIT with it, float to 4500 through the NAT (§2.23) and carry ESP in
  UDP; pings both ways.
- Cookie mode meets INVALID_KE_PAYLOAD (§2.6.1): strongSwan keeps the cookie on its retry
  with the group pyipsec asked for, and needs no second cookie.
- strongSwan's NAT rebinds after the tunnel is up: pyipsec follows strongSwan's next
  authenticated liveness check to the new port (without that rule the check is never
  answered: tried by hand with the rule removed).
- pyipsec behind a NAT (SNAT in its namespace) initiates: it floats to 4500 and sends
  NAT-keepalives, which strongSwan's side counts.
- Fragmentation (RFC 7383): certificates make IKE_AUTH larger than the path: the wan link's
  MTU is 1000 octets and nftables in both namespaces drops IP fragments, so only IKE's own
  fragments get through. pyipsec fragments for a 576-octet IPv4 path, strongSwan for its
  ``fragment_size``; both directions must be reassembled for the tunnel to come up.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pyipsec.core.ikev2.natt import KEEPALIVE_INTERVAL
from pyipsec.io.labnet import LAN_A, LAN_B, WAN_A, WAN_B, Lab, lab_prerequisites, two_sites
from tests.conftest import require
from tests.harness.strongswan import strongswan_prerequisites
from tests.interop.helpers import (
    bring_up,
    console,
    make_pki,
    ping,
    ros_script,
    strongswan_pair,
    swanctl_conf,
    tcp_transfer,
)

pytestmark = pytest.mark.netns

SNAT = "pyipsec_v2_snat"
NOFRAG = "pyipsec_v2_nofrag"
SNAT_IKE, SNAT_NATT = 1500, 14500


@pytest.fixture(scope="module")
def site() -> Iterator[tuple[Lab, str, str]]:
    tools = (("nft", "nftables"), ("conntrack", "conntrack"))
    missing = [f"{t} (Debian package {pkg})" for t, pkg in tools if shutil.which(t) is None]
    require(lab_prerequisites() + strongswan_prerequisites() + missing)
    with Lab(f"pyi2n{os.getpid()}") as lab:
        a, b = two_sites(lab)
        yield lab, a, b


def nft(lab: Lab, ns: str, tmp: Path, name: str, rules: str) -> None:
    path = tmp / f"{name}-{ns}.nft"
    path.write_text(rules)
    lab.sh(ns, "nft", "-f", str(path))


def snat_rules() -> str:
    """strongSwan's side: its IKE ports leave as other ports (a NAT that keeps the address,
    so the cookie, bound to the address, survives it)."""
    return f"""table ip {SNAT} {{
    chain post {{
        type nat hook postrouting priority srcnat;
        oifname "wan0" udp sport 500 snat to {WAN_B}:{SNAT_IKE}
        oifname "wan0" udp sport 4500 snat to {WAN_B}:{SNAT_NATT}
    }}
}}
"""


def ike2_script(prelude: str = "", peer_extra: str = "") -> str:
    return ros_script(
        peer_extra=f"exchange-mode=ike2 {peer_extra}",
        prelude=prelude,
    )


def test_strongswan_through_snat_meets_cookie_mode(
    site: tuple[Lab, str, str], tmp_path: Path
) -> None:
    lab, a, b = site
    nft(lab, b, tmp_path, SNAT, snat_rules())
    lab.sh(b, "conntrack", "-F", check=False)
    try:
        script = ike2_script(prelude="/ip ipsec settings set ddos-cookie-threshold=0\n")
        conf = swanctl_conf(version=2)
        with strongswan_pair(a, b, tmp_path, script, conf) as (daemon, charon):
            line = bring_up(lab, a, b, daemon, charon, "strongswan")
            assert ping(lab, b, LAN_B, LAN_A) == 3
            assert ping(lab, a, LAN_A, LAN_B) == 3
            tcp_transfer(lab, a, b, LAN_A, LAN_B)
            log = (charon.state / "charon.log").read_text(errors="replace")
            # strongSwan got our COOKIE and came back with it (its log of parsed messages)
            assert "IKE_SA_INIT response 0 [ N(COOKIE) ]" in log, log[-3000:]
            assert "[ N(COOKIE) SA KE No" in log
            # pyipsec saw strongSwan at the NAT's ports, NAT detected, ESP in UDP
            assert "nat=yes" in line or "nat=True" in line, line
            peers = console(tmp_path / "a.db", "/ip ipsec remote-peers print detail")
            assert "established" in peers, peers
            rows = console(tmp_path / "a.db", "/ip ipsec installed-sa print detail")
            assert rows.count("spi=") == 2, rows
    finally:
        lab.sh(b, "nft", "delete", "table", "ip", SNAT, check=False)


def nofrag_rules() -> str:
    """Drop IP fragments arriving on wan0: only unfragmented datagrams get through."""
    return f"""table ip {NOFRAG} {{
    chain in {{
        type filter hook prerouting priority raw;
        iifname "wan0" ip frag-off & 0x3fff != 0 counter drop
    }}
}}
"""


@pytest.mark.parametrize("initiator", ["strongswan", "pyipsec"])
def test_certificates_over_a_small_mtu_path_need_ike_fragments(
    site: tuple[Lab, str, str], tmp_path: Path, initiator: str
) -> None:
    """Either side initiates; both IKE_AUTH messages go as RFC 7383 fragments (IP fragments
    are dropped), then a ping both ways and TCP through the tunnel, and still not one IP
    fragment crossed the wan link (the nftables counters below)."""
    lab, a, b = site
    for ns in (a, b):
        lab.sh(ns, "ip", "link", "set", "wan0", "mtu", "1000")
        nft(lab, ns, tmp_path, NOFRAG, nofrag_rules())
    try:
        pki = make_pki()
        for name in ("ca.crt", "a.crt", "a.key"):
            (tmp_path / name).write_bytes(pki[name])
        prelude = (
            "/certificate\n"
            "import file-name=ca.crt name=ca\n"
            "import file-name=a.crt name=a\n"
            "import file-name=a.key\n"
        )
        script = ike2_script(prelude=prelude, peer_extra="auth-method=rsa-signature certificate=a")
        # RouterOS my-id=auto with a certificate: the ID is the certificate's subject DN
        conf = swanctl_conf(
            version=2,
            auth="pubkey",
            local_id='"O=pyipsec interop lab, CN=b.lab.example"',
            remote_id='"O=pyipsec interop lab, CN=a.lab.example"',
            local_cert="b.crt",
            conn_extra="fragmentation = yes\n        send_cert = always",
        )
        files = {
            "x509ca/ca.crt": pki["ca.crt"],
            "x509/b.crt": pki["b.crt"],
            "private/b.key": pki["b.key"],
        }
        # strongSwan's fragments must fit the 1000-octet link too (its default is 1280)
        extra = "charon {\n    fragment_size = 900\n}\n"
        with strongswan_pair(a, b, tmp_path, script, conf, files=files, extra_conf=extra) as (
            daemon,
            charon,
        ):
            bring_up(lab, a, b, daemon, charon, initiator)
            assert ping(lab, b, LAN_B, LAN_A) == 3
            assert ping(lab, a, LAN_A, LAN_B) == 3
            tcp_transfer(lab, a, b, LAN_A, LAN_B)
            log = (charon.state / "charon.log").read_text(errors="replace")
            # strongSwan split its IKE_AUTH and reassembled our fragmented one
            theirs, ours = ("request", "response")[:: 1 if initiator == "strongswan" else -1]
            assert f"generating IKE_AUTH {theirs} 1 [ EF(1/" in log, log[-3000:]
            assert f"parsed IKE_AUTH {ours} 1 [ EF(1/" in log, log[-3000:]
            assert "reassembled fragmented IKE message" in log, log[-3000:]
        for ns in (a, b):
            counters = lab.sh(ns, "nft", "list", "table", "ip", NOFRAG)
            assert "counter packets 0 " in counters, counters  # no IP fragment was needed
    finally:
        for ns in (a, b):
            lab.sh(ns, "nft", "delete", "table", "ip", NOFRAG, check=False)
            lab.sh(ns, "ip", "link", "set", "wan0", "mtu", "1500", check=False)


A_NAT = "pyipsec_v2_anat"
A_NATT_PORT = 24500
KEEPALIVES = "pyipsec_v2_keepalives"


def test_pyipsec_behind_a_nat_initiates_and_keeps_the_mapping_open(
    site: tuple[Lab, str, str], tmp_path: Path
) -> None:
    """pyipsec (ns a) initiates from behind an SNAT in its own namespace: it must see that it
    is behind a NAT (NAT_DETECTION_DESTINATION_IP), float to 4500, and send NAT-keepalives
    (RFC 3948: one 0xFF octet, a UDP length of 9) that strongSwan's side counts."""
    lab, a, b = site
    nft(
        lab,
        a,
        tmp_path,
        A_NAT,
        f"""table ip {A_NAT} {{
    chain post {{
        type nat hook postrouting priority srcnat;
        oifname "wan0" udp sport 500 snat to {WAN_A}:1500
        oifname "wan0" udp sport 4500 snat to {WAN_A}:{A_NATT_PORT}
    }}
}}
""",
    )
    nft(
        lab,
        b,
        tmp_path,
        KEEPALIVES,
        f"""table ip {KEEPALIVES} {{
    chain in {{
        type filter hook prerouting priority raw;
        iifname "wan0" udp sport {A_NATT_PORT} udp dport 4500 udp length 9 counter
    }}
}}
""",
    )
    lab.sh(a, "conntrack", "-F", check=False)
    try:
        conf = swanctl_conf(version=2)
        with strongswan_pair(a, b, tmp_path, ike2_script(), conf) as (daemon, charon):
            line = bring_up(lab, a, b, daemon, charon, "pyipsec")
            assert "nat=yes" in line or "nat=True" in line, line
            assert ping(lab, b, LAN_B, LAN_A) == 3
            assert ping(lab, a, LAN_A, LAN_B) == 3
            log = (charon.state / "charon.log").read_text(errors="replace")
            assert f"{WAN_A}[{A_NATT_PORT}]" in log, log[-3000:]  # IKE_AUTH came via the NAT
            time.sleep(KEEPALIVE_INTERVAL + 3)
            counted = lab.sh(b, "nft", "list", "table", "ip", KEEPALIVES)
            packets = int(re.search(r"counter packets (\d+)", counted).group(1))  # type: ignore[union-attr]
            assert packets >= 1, counted
            assert ping(lab, a, LAN_A, LAN_B) == 3
            tcp_transfer(lab, a, b, LAN_A, LAN_B)  # ESP in UDP through the NAT
    finally:
        lab.sh(a, "nft", "delete", "table", "ip", A_NAT, check=False)
        lab.sh(b, "nft", "delete", "table", "ip", KEEPALIVES, check=False)


def test_strongswan_behind_a_rebinding_nat_is_followed(
    site: tuple[Lab, str, str], tmp_path: Path
) -> None:
    """strongSwan (behind its SNAT) established with pyipsec; then the NAT gives its 4500 a
    new port and forgets the old mapping. strongSwan's next liveness check (authenticated,
    new) comes from the new port: pyipsec must answer there (§2.23), and ESP from the new
    port moves the child SAs (the data plane's rule), so pings go on both ways."""
    lab, a, b = site
    nft(lab, b, tmp_path, SNAT, snat_rules())
    lab.sh(b, "conntrack", "-F", check=False)
    try:
        conf = swanctl_conf(version=2, dpd_delay="2s")
        with strongswan_pair(a, b, tmp_path, ike2_script(), conf) as (daemon, charon):
            bring_up(lab, a, b, daemon, charon, "strongswan")
            assert ping(lab, b, LAN_B, LAN_A) == 3
            moved = SNAT_NATT + 1000
            lab.sh(b, "nft", "delete", "table", "ip", SNAT)
            nft(lab, b, tmp_path, SNAT, snat_rules().replace(str(SNAT_NATT), str(moved)))
            lab.sh(b, "conntrack", "-F", check=False)
            mark = len((charon.state / "charon.log").read_text(errors="replace"))
            time.sleep(8)  # a few of strongSwan's 2 s liveness checks
            assert ping(lab, b, LAN_B, LAN_A) == 3
            assert ping(lab, a, LAN_A, LAN_B) == 3
            after = (charon.state / "charon.log").read_text(errors="replace")[mark:]
            assert "parsed INFORMATIONAL response" in after, after[-3000:]
            assert "retransmit" not in after, after[-3000:]
            assert f"from {WAN_A}[4500] to {WAN_B}[4500]" in after  # answered (de-NATed)
    finally:
        lab.sh(b, "nft", "delete", "table", "ip", SNAT, check=False)


def test_strongswan_cookie_then_invalid_ke_in_cookie_mode(
    site: tuple[Lab, str, str], tmp_path: Path
) -> None:
    """RFC 7296 §2.6.1 against strongSwan: it offers ecp256 first, pyipsec (cookie mode)
    wants modp2048. COOKIE, then INVALID_KE_PAYLOAD, then strongSwan's request with the
    cookie still first and the group we asked for is accepted - no second cookie."""
    lab, a, b = site
    script = ike2_script(prelude="/ip ipsec settings set ddos-cookie-threshold=0\n")
    conf = swanctl_conf(version=2, ike="aes256-sha256-ecp256-modp2048")
    with strongswan_pair(a, b, tmp_path, script, conf) as (daemon, charon):
        bring_up(lab, a, b, daemon, charon, "strongswan")
        assert ping(lab, b, LAN_B, LAN_A) == 3
        log = (charon.state / "charon.log").read_text(errors="replace")
        parsed = [
            line.split("parsed ", 1)[1]
            for line in log.splitlines()
            if "parsed IKE_SA_INIT response" in line
        ]
        assert [p.split(" [")[1] for p in parsed[:2]] == [
            " N(COOKIE) ]",
            " N(INVAL_KE) ]",
        ], parsed
        assert len([p for p in parsed if "N(COOKIE)" in p]) == 1, parsed
        assert "MODP_2048" in log
