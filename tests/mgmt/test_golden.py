"""Golden output of print, print detail, print terse, print brief and export for every menu.

Run with ``UPDATE_GOLDEN=1`` to rewrite tests/golden/*.txt; check every rewritten file by eye
against the reference's verbatim prints before committing it.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from pyipsec.config.menus import ALL_MENUS, MENUS
from pyipsec.config.schema import MenuKind
from pyipsec.config.table import Item
from pyipsec.mgmt.commands import NullRuntime, RuntimeRow
from tests.mgmt.helpers import Console

GOLDEN = Path(__file__).resolve().parent.parent / "golden"
DATA = Path(__file__).resolve().parent / "data"

SETUP = r"""
/system identity set name=gw1
/ip pool add name=pool1 ranges=10.99.0.2-10.99.0.254
/ip pool add name=pool2 ranges=10.98.0.2-10.98.0.9,10.98.0.20-10.98.0.29 next-pool=pool1 \
    comment="road warriors"
/ip ipsec user add name=road1 password=xauth-pass1 address=10.99.0.10
/ip ipsec user add name=road2 password="pass two" disabled=yes comment="old laptop"
/ip ipsec mode-config add name=cfg1 address-pool=pool1 split-include=10.0.0.0/8,192.168.0.0/16 \
    static-dns=10.0.0.53 system-dns=no
/ip ipsec policy group add name=logserver
/ip ipsec proposal
set default enc-algorithms=des pfs-group=none
add name=tset1 auth-algorithms=md5 enc-algorithms=aes-128 lifetime=1h pfs-group=none
add name="Phase 2" auth-algorithms="" enc-algorithms=aes-256-gcm disabled=yes
/ip ipsec peer
add address=192.0.2.1/32 secret="1q2w3e4r5t" enc-algorithm=des dh-group=modp1024,modp768 \
    comment="to branch office"
add address=0.0.0.0/0 exchange-mode=main-l2tp generate-policy=port-strict passive=yes \
    secret=123 enc-algorithm=3des,aes-128,aes-192,aes-256 dh-group=modp1024 disabled=yes
add address=198.51.100.7/32 dh-group=ec2n155,modp1024,modp768 enc-algorithm=aes-192,aes-128,3des \
    exchange-mode=ike2 generate-policy=port-override lifetime=10h my-id=user-fqdn:zzz.zzz \
    policy-template-group=logserver secret=atdt880020006000
/ip ipsec manual-sa add name=sa1 esp-enc-algorithm=aes-128 esp-auth-algorithm=sha1 \
    esp-enc-key=00112233445566778899aabbccddeeff/ffeeddccbbaa99887766554433221100 \
    esp-auth-key=0x0102030405060708090a0b0c0d0e0f1011121314 esp-spi=0x1000/0x1001
/ip ipsec policy
add src-address=192.168.88.0/24 dst-address=192.168.91.0/24 sa-src-address=203.0.113.1 \
    sa-dst-address=192.0.2.1 tunnel=yes
add src-address=172.16.100.0/24 dst-address=172.16.20.0/24 level=unique priority=1 \
    proposal=tset1 sa-dst-address=192.0.2.2 tunnel=yes comment=cisco
add dst-address=192.168.10.0/24 group=logserver src-address=192.168.9.0/24 template=yes
add src-address=192.168.88.0/24 dst-address=192.168.91.0/24 sa-src-address=203.0.113.1 \
    sa-dst-address=192.0.2.1 tunnel=yes
add src-address=10.9.0.0/16 dst-address=0.0.0.0/0 action=discard protocol=udp dst-port=53 \
    disabled=yes
/ip ipsec manual-sa add name=sa2
/ip ipsec policy add src-address=10.0.0.1 dst-address=10.0.0.2 manual-sa=sa2 \
    ipsec-protocols=ah,esp sa-src-address=10.0.0.1 sa-dst-address=10.0.0.2
/ip ipsec key import file-name=rsa1024.pem name=peer-key
/certificate import file-name=gw1.crt
/certificate import file-name=gw1.key
/certificate import file-name=gw1.crl
/user group add name=ops policy=read,write,api,rest-api comment="network team"
/user add name=ops1 group=ops password=not-shown address=198.51.100.0/24,203.0.113.7 comment=noc
/ip service set api address=127.0.0.0/8 port=18728
"""


class FakeRuntime(NullRuntime):
    """One installed SA pair, one remote peer, some counters, one active policy."""

    def rows(self, path: tuple[str, ...]) -> Sequence[RuntimeRow]:
        if path == ("ip", "ipsec", "installed-sa"):
            common = {
                "state": "mature",
                "auth-algorithm": "sha1",
                "enc-algorithm": "3des",
                "enc-key-size": "192",
                "addtime": "may/11/2018 10:07:57",
                "expires-in": "56m45s",
                "add-lifetime": "48m/1h",
                "replay": "128",
            }
            return (
                RuntimeRow(
                    id=1,
                    flags=frozenset({"ESP"}),
                    values={
                        "spi": "0xD7AE27B",
                        "src-address": "1.1.1.1",
                        "dst-address": "2.2.2.2",
                        **common,
                        "auth-key": "3e932bb2301c65ef74e5f9f5248f6db888f20ee4",
                        "enc-key": "a43512e18968f4a778c971df21b71772ea1b4dcacb014c64",
                        "current-bytes": "1820",
                        "current-packets": "25",
                    },
                ),
            )
        if path == ("ip", "ipsec", "remote-peers"):
            return (
                RuntimeRow(
                    id=1,
                    values={
                        "local-address": "1.1.1.1",
                        "remote-address": "2.2.2.2",
                        "state": "established",
                        "side": "initiator",
                        "established": "7h17m10s",
                    },
                ),
            )
        if path == ("log",):
            return tuple(
                RuntimeRow(id=n + 1, values={"time": t, "topics": topics, "message": msg})
                for n, (t, topics, msg) in enumerate(
                    (
                        ("07:08:10", "system", "pyipsec daemon started on /tmp/a.db"),
                        ("07:08:11", "ipsec", "installed manual ESP SA spi=0x2001"),
                        ("07:08:12", "ipsec,error", "policy 3: manual-sa m2 does not exist"),
                    )
                )
            )
        return ()

    def counters(self, path: tuple[str, ...]) -> Mapping[str, int]:
        counters = dict(super().counters(path))
        if counters:
            counters["out-no-states"] = 57
            counters["out-state-mode-errors"] = 1
        return counters

    def item_state(self, path: tuple[str, ...], item_id: int) -> Mapping[str, str]:
        if path == ("ip", "ipsec", "policy") and item_id == 2:
            return {"active": "yes", "ph2-state": "established", "ph2-count": "1"}
        return {}

    def dynamic_items(self, path: tuple[str, ...]) -> Sequence[Item]:
        if path == ("ip", "ipsec", "peer"):
            return (
                Item(id=100, dynamic=True, values={"address": "203.0.113.9/32", "passive": "yes"}),
            )
        return ()


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Console:
    files = tmp_path_factory.mktemp("files")
    for f in DATA.iterdir():
        shutil.copy(f, files / f.name)
    console = Console(files_dir=files)
    console.ok(SETUP)
    console.session.runtime = FakeRuntime()
    return console


def _slug(path: tuple[str, ...]) -> str:
    return "-".join(path)


LIST_MODES = {
    "print": "print",
    "detail": "print detail",
    "terse": "print terse",
    "brief": "print brief",
    "export": "export",
    "export-verbose": "export verbose",
}
SINGLE_MODES = {"print": "print", "export": "export"}
CASES = [
    (m.path, mode, command)
    for m in ALL_MENUS
    for mode, command in (SINGLE_MODES if not m.is_list else LIST_MODES).items()
    if not (m.is_runtime and mode.startswith("export"))
]


@pytest.mark.parametrize(
    ("path", "mode", "command"), CASES, ids=[f"{_slug(p)}.{m}" for p, m, _ in CASES]
)
def test_golden(console: Console, path: tuple[str, ...], mode: str, command: str) -> None:
    out = console.ok(f"/{' '.join(path)} {command}")
    golden = GOLDEN / f"{_slug(path)}.{mode}.txt"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text(out)
    assert out == golden.read_text()


def test_every_menu_has_goldens() -> None:
    for menu in MENUS.values():
        assert (GOLDEN / f"{_slug(menu.path)}.print.txt").exists(), menu.path
        if menu.kind is MenuKind.LIST:
            assert (GOLDEN / f"{_slug(menu.path)}.detail.txt").exists()
            assert (GOLDEN / f"{_slug(menu.path)}.terse.txt").exists()


def test_full_export(console: Console) -> None:
    out = console.export()
    golden = GOLDEN / "full.export.txt"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text(out)
    assert out == golden.read_text()


def test_runtime_rows_by_number_and_id(console: Console) -> None:
    assert console.ok(":put [/ip ipsec installed-sa get 0 spi]") == "0xD7AE27B\n"
    assert console.ok(":put [/ip ipsec installed-sa get *1 enc-algorithm]") == "3des\n"
    assert console.ok(":put [/ip ipsec installed-sa find where ESP]") == "*1\n"
    assert console.ok(":put [/ip ipsec remote-peers find state=established]") == "*1\n"
    assert console.run("/ip ipsec installed-sa get 5 spi") == "no such item\n"
    assert console.ok(":put [/ip ipsec policy get [find where active] ph2-state]") == (
        "established\n"
    )
    assert console.ok(":put [/ip ipsec statistics get out-no-states]") == "57\n"
