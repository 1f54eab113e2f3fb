"""Configuration -> data plane: policies in evaluation order and manual SA pairs."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from pyipsec.config.compile import compile_config
from pyipsec.config.store import Store
from pyipsec.dataplane.policy import Action, Direction, Level
from pyipsec.dataplane.sad import SaProtocol, SaSelector
from pyipsec.mgmt.cli.interpreter import Interpreter
from pyipsec.mgmt.commands import Session

KEY_A = "00112233445566778899aabbccddeeff"
KEY_B = "ffeeddccbbaa99887766554433221100"
SHA1_A = "0102030405060708090a0b0c0d0e0f1011121314"
SHA1_B = "1112131415161718191a1b1c1d1e1f2021222324"


def configure(tmp_path: Path, script: str) -> Store:
    store = Store(tmp_path / "db.sqlite")
    out: list[str] = []
    interp = Interpreter(Session(store=store, files_dir=tmp_path), write=out.append)
    assert interp.run(script), "".join(out)
    return store


def test_policies_in_list_order_without_template_disabled_or_invalid(tmp_path: Path) -> None:
    store = configure(
        tmp_path,
        "/ip ipsec policy\n"
        "add src-address=10.1.0.0/24 dst-address=10.2.0.0/24 sa-src-address=198.51.100.1 "
        "sa-dst-address=198.51.100.2 tunnel=yes protocol=tcp dst-port=80 level=unique\n"
        "add src-address=10.1.0.0/24 dst-address=10.3.0.0/24 action=discard disabled=yes\n"
        "add src-address=10.1.0.0/24 dst-address=10.4.0.0/24 action=none priority=5\n",
    )
    compiled = compile_config(store.load())
    assert compiled.problems == ()
    first, second = compiled.policies  # the default template and the disabled one are left out
    assert first.src == ipaddress.ip_network("10.1.0.0/24")
    assert first.protocol == 6 and first.dst_port == 80 and first.src_port is None
    assert first.tunnel and first.level is Level.UNIQUE and first.action is Action.ENCRYPT
    assert first.sa_dst == ipaddress.ip_address("198.51.100.2")
    assert second.action is Action.NONE and second.priority == 5 and second.sa_src is None


def test_manual_sa_gives_an_in_and_out_pair(tmp_path: Path) -> None:
    store = configure(
        tmp_path,
        f"/ip ipsec manual-sa add name=m1 esp-enc-algorithm=aes-128 "
        f"esp-enc-key={KEY_A}/{KEY_B} esp-auth-algorithm=sha1 esp-auth-key={SHA1_A}/{SHA1_B} "
        f"esp-spi=0x300/0x400 ah-algorithm=sha1 ah-key={SHA1_B} ah-spi=0x500\n"
        "/ip ipsec policy add src-address=10.1.0.0/24 dst-address=10.2.0.0/24 tunnel=yes "
        "sa-src-address=198.51.100.1 sa-dst-address=198.51.100.2 manual-sa=m1 "
        "ipsec-protocols=ah,esp\n",
    )
    compiled = compile_config(store.load())
    assert compiled.problems == ()
    (policy,) = compiled.policies
    sas = {(p.protocol, p.direction): p for p in compiled.manual_sas}
    assert len(sas) == 4
    esp_in, esp_out = sas[SaProtocol.ESP, Direction.IN], sas[SaProtocol.ESP, Direction.OUT]
    assert (esp_in.spi, esp_out.spi) == (0x300, 0x400)
    assert esp_in.enc_key == bytes.fromhex(KEY_A) and esp_out.enc_key == bytes.fromhex(KEY_B)
    assert esp_in.auth_key == bytes.fromhex(SHA1_A) and esp_out.auth_key == bytes.fromhex(SHA1_B)
    assert esp_out.src == policy.sa_src and esp_out.dst == policy.sa_dst
    assert esp_in.src == policy.sa_dst and esp_in.dst == policy.sa_src
    assert esp_out.encryption is not None and esp_out.encryption.name == "aes-128-cbc"
    ah_in, ah_out = sas[SaProtocol.AH, Direction.IN], sas[SaProtocol.AH, Direction.OUT]
    assert ah_in.spi == ah_out.spi == 0x500  # one value serves both directions
    assert ah_in.auth_key == ah_out.auth_key == bytes.fromhex(SHA1_B)
    assert all(p.policy_id == policy.id for p in compiled.manual_sas)
    assert all(p.replay_window == 0 for p in compiled.manual_sas)  # no anti-replay when manual
    # bound to the policy's traffic (RFC 4301 §5.2): inbound from 10.2/24 to 10.1/24
    assert {p.selector for p in compiled.manual_sas if p.direction is Direction.IN} == {
        SaSelector(src=policy.dst, dst=policy.src)
    }
    assert esp_out.selector == SaSelector(src=policy.src, dst=policy.dst)


@pytest.mark.parametrize(
    ("manual", "problem"),
    [
        ("esp-enc-algorithm=aes-128 esp-enc-key=0011", "key must be 16 bytes"),
        ("esp-enc-algorithm=3des esp-enc-key=" + KEY_A, "key must be 24 bytes"),
    ],
)
def test_a_bad_manual_sa_leaves_its_policy_out(tmp_path: Path, manual: str, problem: str) -> None:
    store = configure(
        tmp_path,
        f"/ip ipsec manual-sa add name=m1 {manual}\n"
        "/ip ipsec policy add src-address=10.1.0.0/24 dst-address=10.2.0.0/24 tunnel=yes "
        "sa-src-address=198.51.100.1 sa-dst-address=198.51.100.2 manual-sa=m1\n",
    )
    compiled = compile_config(store.load())
    assert compiled.policies == () and compiled.manual_sas == ()
    assert len(compiled.problems) == 1 and problem in compiled.problems[0]


def test_peers_proposals_and_templates(tmp_path: Path) -> None:
    from pyipsec.core.profiles import AuthMethod, ExchangeMode, GeneratePolicy, ProposalCheck

    store = configure(
        tmp_path,
        "/ip ipsec proposal set [ find default=yes ] enc-algorithms=3des pfs-group=none\n"
        "/ip ipsec proposal add name=p2 auth-algorithms=sha256 enc-algorithms=aes-128-gcm "
        "lifetime=1h pfs-group=modp2048\n"
        '/ip ipsec peer add address=198.51.100.0/24 secret="0x6162" exchange-mode=aggressive '
        "dh-group=ec2n155 enc-algorithm=3des hash-algorithm=md5 lifetime=8h dpd-interval="
        "disable-dpd generate-policy=port-strict proposal-check=claim my-id=fqdn:a.example\n"
        "/ip ipsec peer add address=203.0.113.7/32 secret=plain disabled=yes\n",
    )
    compiled = compile_config(store.load())
    (peer,) = compiled.peers  # the disabled one is left out
    assert peer.secret == b"ab"  # 0x-prefixed secrets are hex
    assert peer.exchange_mode is ExchangeMode.AGGRESSIVE
    assert peer.auth_method is AuthMethod.PRE_SHARED_KEY
    assert peer.dh_groups == ("ec2n155",) and peer.enc_algorithms == ("3des",)
    assert peer.hash_algorithm == "md5" and peer.lifetime == 8 * 3600
    assert peer.dpd_interval is None and peer.proposal_check is ProposalCheck.CLAIM
    assert peer.generate_policy is GeneratePolicy.PORT_STRICT
    assert (peer.my_id.kind, peer.my_id.value) == ("fqdn", "a.example")
    assert "secret=" not in repr(peer)  # the PSK never shows in a repr
    default, p2 = compiled.proposals
    assert default.enc_algorithms == ("3des",) and default.pfs_group is None
    assert p2.lifetime == 3600 and p2.pfs_group == "modp2048"
    assert p2.auth_algorithms == ("sha256",)
    (template,) = compiled.templates  # the default template policy
    assert template.group == "default" and template.src.version == 6


def test_ike2_peer_and_proposal_may_name_x25519_and_chacha20poly1305(tmp_path: Path) -> None:
    """Curve25519 (RFC 8031, IKEv2 group 31) is accepted as dh-group and pfs-group, and
    ChaCha20-Poly1305 (RFC 7634) as a proposal's enc-algorithm, beyond RouterOS 6.x's lists
    (docs/ikev2.md); strongSwan's x25519 and chacha20poly1305 proposals need them."""
    from pyipsec.core.profiles import ExchangeMode

    store = configure(
        tmp_path,
        "/ip ipsec proposal set [ find default=yes ] enc-algorithms=aes-128-gcm "
        "pfs-group=x25519\n"
        "/ip ipsec proposal add name=cc auth-algorithms=null enc-algorithms=chacha20poly1305\n"
        "/ip ipsec peer add address=198.51.100.0/24 secret=lab exchange-mode=ike2 "
        "dh-group=x25519,ecp256 enc-algorithm=aes-128 hash-algorithm=sha256\n",
    )
    compiled = compile_config(store.load())
    (peer,) = compiled.peers
    assert peer.exchange_mode is ExchangeMode.IKE2
    assert peer.dh_groups == ("x25519", "ecp256")
    assert compiled.proposals[0].pfs_group == "x25519"
    assert compiled.proposals[1].enc_algorithms == ("chacha20poly1305",)  # RFC 7634, RouterOS 7


def test_certificates_and_keys_become_credentials(tmp_path: Path) -> None:
    import shutil

    from cryptography import x509

    data = Path(__file__).resolve().parent.parent / "mgmt" / "data"
    for f in data.iterdir():
        shutil.copy(f, tmp_path / f.name)
    cert_file = "gw1.crt"
    store = configure(
        tmp_path,
        f"/certificate import file-name={cert_file} name=c1\n"
        "/ip ipsec key generate-key name=k1 key-size=1024\n",
    )
    creds = compile_config(store.load()).credentials
    cred = creds.certificates["c1"]
    assert cred.certificate is not None
    x509.load_der_x509_certificate(cred.certificate)  # the DER is a real certificate
    key = creds.keys["k1"]
    assert key.private_key is not None and key.private_key.startswith("-----BEGIN")
    assert key.public_key is not None and key.public_key[0] == 0x30  # DER SEQUENCE
    assert "BEGIN" not in repr(key)  # private keys never in a repr


def test_ike2_peer_with_every_property_the_issue_names(tmp_path: Path) -> None:
    """Issue 10's configuration line: an ike2 peer with every phase-1 property RouterOS 6.x
    gives it compiles to a PeerProfile the IKEv2 engine serves, each property carried over
    (the engine's use of each is tested in tests/core/ikev2/exchanges: test_peer_switches.py
    for send-initial-contact and nat-traversal)."""
    from pyipsec.core.profiles import ExchangeMode, GeneratePolicy, Identity

    store = configure(
        tmp_path,
        "/ip ipsec policy group add name=rw\n"
        "/ip ipsec proposal set [ find default=yes ] enc-algorithms=aes-128-gcm,aes-256-cbc "
        "auth-algorithms=sha256 pfs-group=ecp256 lifetime=20m\n"
        "/ip ipsec peer add address=203.0.113.0/24 exchange-mode=ike2 "
        "auth-method=pre-shared-key secret=lab-only my-id=fqdn:gw.lab.example "
        "enc-algorithm=aes-256,aes-128 hash-algorithm=sha256 dh-group=ecp256,modp2048 "
        "lifetime=8h dpd-interval=30s dpd-maximum-failures=3 nat-traversal=no "
        "generate-policy=port-strict policy-template-group=rw send-initial-contact=no\n",
    )
    compiled = compile_config(store.load())
    (peer,) = compiled.peers
    assert peer.exchange_mode is ExchangeMode.IKE2
    assert peer.secret == b"lab-only"
    assert peer.my_id == Identity(kind="fqdn", value="gw.lab.example")
    assert peer.enc_algorithms == ("aes-256", "aes-128")
    assert peer.hash_algorithm == "sha256"
    assert peer.dh_groups == ("ecp256", "modp2048")
    assert peer.lifetime == 8 * 3600
    assert (peer.dpd_interval, peer.dpd_maximum_failures) == (30, 3)
    assert peer.nat_traversal is False and peer.send_initial_contact is False
    assert peer.generate_policy is GeneratePolicy.PORT_STRICT
    assert peer.policy_template_group == "rw"
    (proposal,) = compiled.proposals
    assert proposal.enc_algorithms == ("aes-128-gcm", "aes-256-cbc")
    assert (proposal.pfs_group, proposal.lifetime) == ("ecp256", 1200)
