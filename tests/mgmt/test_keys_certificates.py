"""/ip ipsec key and /certificate: generate, import (PEM and DER), export, print, remove."""

from __future__ import annotations

import shutil
import stat
from pathlib import Path

import pytest

from pyipsec.crypto import pki
from tests.mgmt.helpers import Console

DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture
def console(tmp_path: Path) -> Console:
    for f in DATA.iterdir():
        shutil.copy(f, tmp_path / f.name)
    return Console(files_dir=tmp_path)


def test_generate_key_and_export_public_part(console: Console, tmp_path: Path) -> None:
    console.ok("/ip ipsec key generate-key name=mine key-size=1024")
    assert console.ok("/ip ipsec key print") == (
        'Flags: P - private-key, R - rsa\n 0 PR name="mine" key-size=1024\n\n'
    )
    console.ok("/ip ipsec key export-pub-key key=mine file-name=mine.pub")
    [key] = pki.load_keys((tmp_path / "mine.pub").read_bytes())
    assert (key.key_type, key.size, key.private_pem) == ("rsa", 1024, None)
    # the private key never shows in print or export
    assert "PRIVATE" not in console.export("verbose") + console.ok("/ip ipsec key print detail")


def test_import_private_and_public_keys(console: Console) -> None:
    console.ok("/ip ipsec key import file-name=rsa1024.pem name=priv")
    console.ok("/ip ipsec key import file-name=rsa1024.pub name=pub")
    out = console.ok("/ip ipsec key print")
    assert ' 0 PR name="priv" key-size=1024\n' in out
    assert ' 1  R name="pub" key-size=1024\n' in out
    console.ok("/ip ipsec peer add auth-method=rsa-key key=priv remote-key=pub")
    assert console.ok("/ip ipsec peer print count-only where key=priv") == "1\n"
    assert console.run("/ip ipsec key import file-name=gw1.crt name=x") == (
        "failure: no RSA key found in file\n"
    )


def test_certificate_import_pem_der_and_key(console: Console) -> None:
    out = console.ok("/certificate import file-name=gw1.der")
    assert "certificates-imported: 1" in out
    assert (
        console.ok("/certificate import file-name=gw1.crt").count("certificates-imported: 0") == 1
    )
    out = console.ok("/certificate import file-name=gw1.key")
    assert "private-keys-imported: 1" in out
    printed = console.ok("/certificate print")
    assert printed.startswith(
        'Flags: K - private-key, A - authority, T - trusted\n 0 KAT name="gw1.der_0"'
    )
    assert 'common-name="gw1.example.net"' in printed
    console.ok("/ip ipsec peer add auth-method=rsa-signature certificate=gw1.der_0")
    assert console.ok("/certificate print count-only where private-key") == "1\n"
    console.ok("/certificate set gw1.der_0 name=gw1")
    assert console.ok(":put [/ip ipsec peer get 0 certificate]") == "gw1\n"
    # the peer still names it: refused (mgmt/references.py), nothing removed
    assert console.run("/certificate remove gw1") == (
        "failure: certificate gw1 is used by /ip ipsec peer *1\n"
    )
    console.ok("/ip ipsec peer remove 0")
    console.ok("/certificate remove gw1")
    assert console.ok("/certificate print count-only") == "0\n"


def test_database_holding_keys_is_private(tmp_path: Path) -> None:
    from pyipsec.config.store import Store

    db = tmp_path / "k.db"
    c = Console(Store(db), files_dir=tmp_path)
    c.ok("/ip ipsec key generate-key name=k key-size=1024")
    assert stat.S_IMODE(db.stat().st_mode) == 0o600


def test_certificate_import_report(console: Console, tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization

    assert console.ok("/certificate import file-name=gw1.crt") == (
        "     certificates-imported: 1\n"
        "     private-keys-imported: 0\n"
        "            files-imported: 1\n"
        "       decryption-failures: 0\n"
        "  keys-with-no-certificate: 0\n"
    )
    out = console.ok("/certificate import file-name=rsa1024.pem")
    assert "keys-with-no-certificate: 1" in out and "files-imported: 0" in out
    key = serialization.load_pem_private_key((tmp_path / "gw1.key").read_bytes(), None)
    (tmp_path / "locked.key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"right"),
        )
    )
    out = console.ok("/certificate import file-name=locked.key passphrase=wrong")
    assert "decryption-failures: 1" in out and "private-keys-imported: 0" in out
    out = console.ok("/certificate import file-name=locked.key passphrase=right")
    assert "private-keys-imported: 1" in out
    assert console.ok("/certificate print count-only where private-key") == "1\n"
