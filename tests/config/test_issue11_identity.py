"""Issue 11: every RouterOS 7 identity and peer property the issue names reaches the engine
as its 6.x equivalent does (reference §2.4-§2.6; docs/config.md "Dialects", Mapping).

The same four peers are written twice by hand - 6.x (everything on the peer) and RouterOS 7
(profile + peer + identity) - with certificates, RSA keys, XAuth, mode-config, my-id,
generate-policy, policy-template-group, notrack-chain, passive, port, local-address and
send-initial-contact set; both compile to the same engine records, and converting the 6.x
one (config/convert.py) gives the hand-written v7 one's records too. The certificate and the
keys are tests/mgmt/data's (made for these tests).
"""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from pyipsec.config.compile import Compiled, compile_config
from pyipsec.config.convert import to_v7
from pyipsec.config.store import Store
from pyipsec.core.profiles import AuthMethod, GeneratePolicy, Identity
from tests.mgmt.helpers import Console

DATA = Path(__file__).resolve().parent.parent / "mgmt" / "data"

MATERIAL = """\
/certificate import file-name=gw1.der
/certificate import file-name=gw1.key
/certificate set gw1.der_0 name=gw1
/ip ipsec key import file-name=rsa1024.pem name=priv
/ip ipsec key import file-name=rsa1024.pub name=pub
/ip pool add name=rw-pool ranges=10.99.0.10-10.99.0.200
/ip ipsec mode-config add name=rw address-pool=rw-pool responder=yes split-include=10.1.0.0/16
/ip ipsec policy group add name=rw-group
"""

V6 = """\
/ip ipsec peer
add address=198.51.100.1/32 auth-method=rsa-signature certificate=gw1 remote-certificate=gw1 \\
    my-id=fqdn:gw1.example.net exchange-mode=ike2 local-address=203.0.113.1 port=4500 \\
    send-initial-contact=no enc-algorithm=aes-256 hash-algorithm=sha256 dh-group=ecp256
add address=198.51.100.2/32 auth-method=rsa-key key=priv remote-key=pub \\
    my-id=key-id:k1 notrack-chain=prerouting
add address=0.0.0.0/0 passive=yes auth-method=pre-shared-key-xauth secret=road \\
    xauth-login=u1 xauth-password=p1 generate-policy=port-strict \\
    policy-template-group=rw-group mode-config=rw dpd-interval=disable-dpd
add address=198.51.100.3/32 secret=0x414243 my-id=user-fqdn:a@example.net \\
    generate-policy=port-override lifetime=8h
/ip ipsec policy
add src-address=10.1.0.0/24 dst-address=10.2.0.0/24 sa-src-address=203.0.113.1 \\
    sa-dst-address=198.51.100.1 tunnel=yes
add src-address=10.1.0.0/24 dst-address=10.3.0.0/24 sa-dst-address=198.51.100.2 tunnel=yes
add src-address=10.1.0.0/16 dst-address=10.99.0.0/24 group=rw-group template=yes
"""

V7 = """\
/ip ipsec profile
add name=certs enc-algorithm=aes-256 hash-algorithm=sha256 dh-group=ecp256
add name=eight-hours lifetime=8h
add name=no-dpd dpd-interval=disable-dpd
/ip ipsec peer
add name=gw1 address=198.51.100.1/32 profile=certs exchange-mode=ike2 \\
    local-address=203.0.113.1 port=4500 send-initial-contact=no
add name=gw2 address=198.51.100.2/32
add name=road address=0.0.0.0/0 passive=yes profile=no-dpd
add name=gw3 address=198.51.100.3/32 profile=eight-hours
/ip ipsec identity
add peer=gw1 auth-method=digital-signature certificate=gw1 remote-certificate=gw1 \\
    my-id=fqdn:gw1.example.net
add peer=gw2 auth-method=rsa-key key=priv remote-key=pub my-id=key-id:k1 \\
    notrack-chain=prerouting
add peer=road auth-method=pre-shared-key-xauth secret=road username=u1 password=p1 \\
    generate-policy=port-strict policy-template-group=rw-group mode-config=rw
add peer=gw3 secret=0x414243 my-id=user-fqdn:a@example.net generate-policy=port-override
/ip ipsec policy
add src-address=10.1.0.0/24 dst-address=10.2.0.0/24 peer=gw1 tunnel=yes
add src-address=10.1.0.0/24 dst-address=10.3.0.0/24 peer=gw2 tunnel=yes
add src-address=10.1.0.0/16 dst-address=10.99.0.0/24 group=rw-group template=yes
"""


def _console(dialect: str, tmp_path: Path) -> Console:
    tmp_path.mkdir(exist_ok=True)
    for f in DATA.iterdir():
        shutil.copy(f, tmp_path / f.name)
    console = Console(Store(":memory:", dialect=dialect), files_dir=tmp_path)
    console.ok(MATERIAL)
    return console


def _records(compiled: Compiled) -> tuple[object, ...]:
    return (
        [replace(p, id=0) for p in compiled.peers],
        [replace(p, id=0) for p in compiled.policies],
        compiled.proposals,
        compiled.templates,
        compiled.problems,
    )


@pytest.fixture
def both(tmp_path: Path) -> tuple[Compiled, Compiled, Console]:
    c6, c7 = _console("v6", tmp_path / "v6"), _console("v7", tmp_path / "v7")
    c6.ok(V6)
    c7.ok(V7)
    return compile_config(c6.store.snapshot()), compile_config(c7.store.snapshot()), c6


def test_hand_written_v7_compiles_to_the_6x_records(
    both: tuple[Compiled, Compiled, Console],
) -> None:
    a, b, _ = both
    assert a.problems == () and b.problems == ()
    assert _records(b) == _records(a)
    gw1, gw2, road, gw3 = b.peers
    assert (gw1.auth_method, gw1.certificate, gw1.remote_certificate) == (
        AuthMethod.RSA_SIGNATURE,
        "gw1",
        "gw1",
    )
    assert gw1.my_id == Identity(kind="fqdn", value="gw1.example.net")
    assert (gw1.port, gw1.send_initial_contact, str(gw1.local_address)) == (
        4500,
        False,
        "203.0.113.1",
    )
    assert (gw2.auth_method, gw2.key, gw2.remote_key) == (AuthMethod.RSA_KEY, "priv", "pub")
    assert road.passive and road.auth_method is AuthMethod.PRE_SHARED_KEY_XAUTH
    assert (road.mode_config, road.policy_template_group) == ("rw", "rw-group")
    assert road.generate_policy is GeneratePolicy.PORT_STRICT and road.dpd_interval is None
    assert gw3.secret == b"ABC" and gw3.lifetime == 8 * 3600
    assert gw3.generate_policy is GeneratePolicy.PORT_OVERRIDE


def test_converting_the_6x_configuration_gives_the_same_records(
    both: tuple[Compiled, Compiled, Console],
) -> None:
    a, _, c6 = both
    assert _records(compile_config(to_v7(c6.store.snapshot()))) == _records(a)


def test_identity_values_the_engine_does_not_use_are_kept_and_exported(tmp_path: Path) -> None:
    """notrack-chain and the XAuth username/password have no engine record in either dialect;
    they are kept, printed (password hidden) and exported like RouterOS."""
    c7 = _console("v7", tmp_path / "again")
    c7.ok(V7)
    text = c7.ok("/ip ipsec identity export show-sensitive")
    assert "notrack-chain=prerouting" in text and "password=p1" in text and "username=u1" in text
    assert "password" not in c7.ok("/ip ipsec identity export")
    assert c7.ok(":put [/ip ipsec identity get [find peer=gw2] notrack-chain]") == "prerouting\n"
