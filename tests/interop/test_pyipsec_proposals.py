"""Every cipher and integrity algorithm of the proposal menu between two pyipsec daemons.

One pair of daemons for the whole module: each variant gets its own proposal and its own pair
of LAN hosts (198.51.100.N <-> 203.0.113.N, a /32 tunnel policy with ``proposal=...``), so a
single ping starts one quick mode with exactly that proposal over the shared phase 1
(``level=unique``: with ``require`` the policies would share the first SA pair between the same
wan addresses). Raw ESP and AH (no NAT between the daemons, no UDP 4500).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from pyipsec.config.menus.ipsec import PHASE2_AUTH, PHASE2_ENC
from pyipsec.io.labnet import WAN_A, WAN_B, Lab, lab_prerequisites, two_sites
from tests.conftest import require
from tests.interop.helpers import PSK, console, ping, ping_until, pyipsec_pair
from tests.io.daemon_proc import DaemonProc

pytestmark = pytest.mark.netns

AUTHS = ("md5", "sha1", "sha256", "sha512")
# ciphers IKEv1 cannot negotiate (no IANA IKEv1 number): test_strongswan_ikev2.py covers them
IKEV2_ONLY = frozenset({"chacha20poly1305"})
PFS = ("none", "modp1024", "modp768", "modp1536", "modp2048", "ec2n155", "ec2n185", "ecp256")


@dataclass(frozen=True)
class Variant:
    id: str
    enc: str
    auth: str
    pfs: str
    protocols: str = "esp"


def _variants() -> list[Variant]:
    out = []
    for n, enc in enumerate(e for e in PHASE2_ENC if e not in IKEV2_ONLY):
        # AEAD (GCM) carries its own integrity; everything else rotates through the hashes
        auth = "null" if enc.endswith("-gcm") else AUTHS[n % len(AUTHS)]
        out.append(Variant(f"esp-{enc}-{auth}", enc, auth, PFS[n % len(PFS)]))
    for n, auth in enumerate(AUTHS):
        out.append(Variant(f"ah-{auth}", "null", auth, PFS[n], "ah"))
    out.append(Variant("ah+esp-sha1-aes-256-cbc", "aes-256-cbc", "sha1", "modp1024", "ah,esp"))
    return out


VARIANTS = _variants()


def hosts(n: int) -> tuple[str, str]:
    return f"198.51.100.{10 + n}", f"203.0.113.{10 + n}"


def script(side: str) -> str:
    local, remote = (WAN_A, WAN_B) if side == "a" else (WAN_B, WAN_A)
    lines = [
        "/ip ipsec peer",
        f"add address={remote}/32 secret={PSK} enc-algorithm=aes-128 hash-algorithm=sha1 "
        "dh-group=modp1024",
        "/ip ipsec proposal",
    ]
    for n, v in enumerate(VARIANTS):
        lines.append(
            f"add name=p{n} auth-algorithms={v.auth} enc-algorithms={v.enc} pfs-group={v.pfs}"
        )
    lines.append("/ip ipsec policy")
    for n, v in enumerate(VARIANTS):
        ha, hb = hosts(n)
        src, dst = (ha, hb) if side == "a" else (hb, ha)
        lines.append(
            f"add src-address={src}/32 dst-address={dst}/32 sa-src-address={local} "
            f"sa-dst-address={remote} tunnel=yes proposal=p{n} ipsec-protocols={v.protocols} "
            "level=unique"
        )
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Lab, DaemonProc, DaemonProc]]:
    require(lab_prerequisites())
    tmp = tmp_path_factory.mktemp("proposals")
    with Lab(f"pyipr{os.getpid()}") as lab:
        a, b = two_sites(lab)
        for n in range(len(VARIANTS)):
            ha, hb = hosts(n)
            lab.addr(a, "lan0", f"{ha}/25")
            lab.addr(b, "lan0", f"{hb}/25")
        with pyipsec_pair(a, b, tmp, script("a"), script("b")) as (da, db_):
            yield lab, da, db_


@pytest.mark.parametrize("n", range(len(VARIANTS)), ids=[v.id for v in VARIANTS])
def test_proposal_variant(pair: tuple[Lab, DaemonProc, DaemonProc], n: int) -> None:
    lab, da, db_ = pair
    ha, hb = hosts(n)
    da.read_log()
    before = sum("ChildSaInstalled" in line for line in da.log)
    ping_until(lab, da.ns, ha, hb, timeout=20, fail_on=da)
    assert ping(lab, db_.ns, hb, ha, count=1) == 1
    da.read_log()
    installed = [line for line in da.log if "ChildSaInstalled" in line][before:]
    want = {
        f"protocol={p}" for name, p in (("ah", 51), ("esp", 50)) if name in VARIANTS[n].protocols
    }
    assert {m for line in installed for m in re.findall(r"protocol=\d+", line)} == want, installed


def test_all_sas_raw_without_udp(pair: tuple[Lab, DaemonProc, DaemonProc]) -> None:
    """After the variants: every installed SA is raw ESP/AH between the wan addresses."""
    _lab, da, db_ = pair
    for d in (da, db_):
        sas = console(d.db, "/ip ipsec installed-sa print")
        assert ":4500" not in sas and ":500" not in sas, sas
        assert re.search(r"src-address=198\.51\.100\.129\s", sas), sas
        encs = set(re.findall(r"enc-algorithm=(\S+)", sas))
        want = {"des", "3des", "aes-cbc", "aes-ctr", "aes-gcm", "blowfish", "twofish", "camellia"}
        assert want | {"null"} <= encs, encs
        auths = set(re.findall(r"auth-algorithm=(\S+)", sas))
        assert {"md5", "sha1", "sha256", "sha512"} <= auths, auths


def test_menu_fully_covered() -> None:
    encs = {v.enc for v in VARIANTS}
    assert encs | IKEV2_ONLY == set(PHASE2_ENC)
    assert {v.auth for v in VARIANTS} == set(PHASE2_AUTH)
