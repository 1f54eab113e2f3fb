"""The proposal pieces both IKE versions share (core/proposals.py): configured RouterOS names
to registry algorithms, the per-version filter, and the ESP combinations (RFC 4303 §3.2)."""

from __future__ import annotations

import ipaddress

import pytest

from pyipsec.core import proposals as shared
from pyipsec.core.profiles import PeerProfile, ProposalProfile


class Refused(Exception):
    """Stands in for a version's LocalProtocolError."""


def peer(**kw: object) -> PeerProfile:
    base: dict[str, object] = {"id": 7, "address": ipaddress.ip_network("198.51.100.0/24")}
    base.update(kw)
    return PeerProfile(**base)  # type: ignore[arg-type]


def test_peer_lists_keep_configured_order_and_apply_the_version_filter() -> None:
    p = peer(enc_algorithms=("aes-256", "3des", "aes-128"), dh_groups=("ec2n155", "ecp256"))
    encs = shared.peer_encryptions(p, lambda a: True, "cipher", Refused)
    assert [e.name for e in encs] == ["aes-256-cbc", "3des", "aes-128-cbc"]
    groups = shared.peer_groups(p, lambda g: g.id not in (3, 4), "IKEv2 group", Refused)
    assert [g.name for g in groups] == ["ecp256"]
    with pytest.raises(Refused, match="peer 7: no IKEv2 group"):
        shared.peer_groups(peer(dh_groups=("ec2n185",)), lambda g: g.id > 4, "IKEv2 group", Refused)
    with pytest.raises(Refused, match=r"peer 7: .*rot13"):
        shared.peer_encryptions(peer(enc_algorithms=("rot13",)), lambda a: True, "x", Refused)
    assert shared.peer_prf(peer(hash_algorithm="sha256"), Refused).ikev2_id == 5


def test_profile_integrities_null_and_pfs() -> None:
    prof = ProposalProfile(name="p", auth_algorithms=("sha256", "null"), pfs_group="none")
    integs = shared.profile_integrities(prof, lambda i: True, Refused)
    assert [None if i is None else i.name for i in integs] == ["sha256", None]
    assert shared.profile_integrities(
        ProposalProfile(name="p", auth_algorithms=()), lambda i: True, Refused
    ) == [None]
    assert shared.profile_pfs(prof, lambda g: True, "group", Refused) is None
    x = ProposalProfile(name="q", pfs_group="x25519")
    assert shared.profile_pfs(x, lambda g: True, "group", Refused) is not None
    with pytest.raises(Refused, match="proposal q: x25519 is no IKEv1 group"):
        shared.profile_pfs(x, lambda g: g.id != 31, "IKEv1 group", Refused)


def test_esp_combinations_aead_once_and_never_null_with_null() -> None:
    prof = ProposalProfile(
        name="p",
        enc_algorithms=("aes-128-gcm", "aes-256-cbc", "null", "chacha20poly1305"),
        auth_algorithms=("sha1", "null"),
    )
    combos = shared.esp_combinations(
        shared.profile_encryptions(prof, Refused),
        shared.profile_integrities(prof, lambda i: True, Refused),
    )
    names = [(e.name, None if i is None else i.name) for e, i in combos]
    assert names == [
        ("aes-128-gcm", None),
        ("aes-256-cbc", "sha1"),
        ("aes-256-cbc", None),
        ("null", "sha1"),
        ("chacha20poly1305", None),
    ]
