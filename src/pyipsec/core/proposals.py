"""Proposal pieces both IKE versions share: configured names -> algorithm objects.

A `/ip ipsec peer` names its phase-1 (IKE SA) algorithms and a `/ip ipsec proposal` its
child-SA ones by their RouterOS names; both IKE versions turn those names into the crypto
registry's algorithm objects the same way and only differ in which of them their protocol can
carry (IKEv1 has no ChaCha20 and no Curve25519, IKEv2 has no EC2N groups). The version modules
pass that difference in as a ``usable`` predicate and the error class to raise
(``core.ikev1.proposal_common`` and ``core.ikev2.proposals``).

The ESP transform combinations (``esp_combinations``) are the same for both: every
enc-algorithm x auth-algorithm in the configured order (encryption outer), an AEAD cipher once
without integrity, "null" auth (or an empty auth-algorithms) meaning ESP without integrity,
and never NULL encryption with NULL integrity (RFC 4303 §3.2).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TypeVar

from pyipsec.core.profiles import PeerProfile, ProposalProfile
from pyipsec.crypto import groups as _groups
from pyipsec.crypto import registry
from pyipsec.crypto.base import (
    EncryptionAlgorithm,
    IntegrityAlgorithm,
    KeyExchangeGroup,
    PrfAlgorithm,
    UnknownAlgorithm,
)

__all__ = [
    "NULL_AUTH",
    "Fail",
    "esp_combinations",
    "group_name",
    "peer_encryptions",
    "peer_groups",
    "peer_prf",
    "profile_encryptions",
    "profile_integrities",
    "profile_pfs",
]

# How a version module reports a configuration it cannot offer (its LocalProtocolError).
Fail = Callable[[str], Exception]

# auth-algorithms values meaning "no integrity".
NULL_AUTH = frozenset({"null", ""})

_T = TypeVar("_T")


def _lookup(names: Iterable[str], find: Callable[[str], _T], owner: str, fail: Fail) -> list[_T]:
    try:
        return [find(n) for n in names]
    except UnknownAlgorithm as exc:
        raise fail(f"{owner}: {exc}") from None


def _usable(
    found: Sequence[_T], usable: Callable[[_T], bool], owner: str, what: str, fail: Fail
) -> list[_T]:
    out = [a for a in found if usable(a)]
    if not out:
        raise fail(f"{owner}: no {what}")
    return out


def peer_encryptions(
    peer: PeerProfile, usable: Callable[[EncryptionAlgorithm], bool], what: str, fail: Fail
) -> list[EncryptionAlgorithm]:
    """The peer's enc-algorithm list, those ``usable`` by the version, in configured order."""
    owner = f"peer {peer.id}"
    found = _lookup(peer.enc_algorithms, registry.encryption, owner, fail)
    return _usable(found, usable, owner, what, fail)


def peer_groups(
    peer: PeerProfile, usable: Callable[[KeyExchangeGroup], bool], what: str, fail: Fail
) -> list[KeyExchangeGroup]:
    """The peer's dh-group list, those ``usable`` by the version, in configured order."""
    owner = f"peer {peer.id}"
    found = _lookup(peer.dh_groups, _groups.group, owner, fail)
    return _usable(found, usable, owner, what, fail)


def peer_prf(peer: PeerProfile, fail: Fail) -> PrfAlgorithm:
    """The PRF named by the peer's hash-algorithm (the HMAC of that hash)."""
    return _lookup((peer.hash_algorithm,), registry.prf, f"peer {peer.id}", fail)[0]


def profile_encryptions(profile: ProposalProfile, fail: Fail) -> list[EncryptionAlgorithm]:
    """The proposal's enc-algorithms in configured order (every name the registry knows)."""
    return _lookup(profile.enc_algorithms, registry.encryption, f"proposal {profile.name}", fail)


def profile_integrities(
    profile: ProposalProfile, usable: Callable[[IntegrityAlgorithm], bool], fail: Fail
) -> list[IntegrityAlgorithm | None]:
    """auth-algorithms in order, None for "null"; nothing usable left means null only."""
    out = _lookup(
        profile.auth_algorithms,
        lambda n: None if n in NULL_AUTH else registry.integrity(n),
        f"proposal {profile.name}",
        fail,
    )
    return [i for i in out if i is None or usable(i)] or [None]


def profile_pfs(
    profile: ProposalProfile, usable: Callable[[KeyExchangeGroup], bool], what: str, fail: Fail
) -> KeyExchangeGroup | None:
    """The proposal's pfs-group, None for none; ``fail`` for a group the version cannot name."""
    if profile.pfs_group in (None, "none"):
        return None
    owner = f"proposal {profile.name}"
    group = _lookup((profile.pfs_group,), _groups.group, owner, fail)[0]
    if not usable(group):
        raise fail(f"{owner}: {group.name} is no {what}")
    return group


def esp_combinations(
    encryptions: Iterable[EncryptionAlgorithm], integrities: Sequence[IntegrityAlgorithm | None]
) -> list[tuple[EncryptionAlgorithm, IntegrityAlgorithm | None]]:
    """(encryption, integrity) pairs to offer for ESP (module docstring)."""
    combos: list[tuple[EncryptionAlgorithm, IntegrityAlgorithm | None]] = []
    for enc in encryptions:
        if enc.aead:
            combos.append((enc, None))
            continue
        for integ in integrities:
            if integ is None and enc.name == "null":
                continue  # RFC 4303 §3.2: not both NULL
            combos.append((enc, integ))
    return combos


def group_name(group: KeyExchangeGroup | None) -> str:
    """A group's RouterOS name, "none" for no group (for plain-words details)."""
    return "none" if group is None else group.name
