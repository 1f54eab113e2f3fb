"""Shared pieces of the IKEv1 proposal code: lifetimes, attribute splitting, group ids.

See ``proposals.py`` for the theory of operation; the phases live in ``phase1_proposals.py``
and ``phase2_proposals.py``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from pyipsec.core.ikev1.errors import (
    AttributesNotSupported,
    BadProposalSyntax,
    NoProposalChosen,
    RemoteProtocolError,
)
from pyipsec.core.profiles import AuthMethod, ProposalCheck
from pyipsec.wire.ikev1.attributes import Attribute
from pyipsec.wire.ikev1.constants import (
    AuthenticationMethod,
    GroupType,
)
from pyipsec.wire.ikev1.payloads import Transform

# RFC 2409 App. A / RFC 2407 §4.5: an SA without a life duration lives 8 hours.
DEFAULT_LIFETIME = 28800

# Well-known groups IKEv1 may name by Group Description (RFC 2409 §6, RFC 3526, RFC 5903);
# Curve25519 (31) has no IKEv1 Group Description.
IKEV1_GROUP_IDS = frozenset({1, 2, 3, 4, 5, 14, 15, 16, 17, 18, 19, 20, 21})

# Group Type of each well-known group, accepted when a peer sends it alongside the description.
_GROUP_TYPES: Mapping[int, int] = MappingProxyType(
    {
        **dict.fromkeys((1, 2, 5, 14, 15, 16, 17, 18), GroupType.MODP),
        **dict.fromkeys((3, 4), GroupType.EC2N),
        **dict.fromkeys((19, 20, 21), GroupType.ECP),
    }
)

# RouterOS auth-method -> phase-1 Authentication Method value (module docstring).
AUTH_METHOD_IDS: Mapping[AuthMethod, int] = MappingProxyType(
    {
        AuthMethod.PRE_SHARED_KEY: AuthenticationMethod.PRE_SHARED_KEY,
        AuthMethod.RSA_SIGNATURE: AuthenticationMethod.RSA_SIGNATURES,
        AuthMethod.RSA_KEY: AuthenticationMethod.RSA_SIGNATURES,
        AuthMethod.PRE_SHARED_KEY_XAUTH: AuthenticationMethod.XAUTH_INIT_PRESHARED,
        AuthMethod.RSA_SIGNATURE_HYBRID: AuthenticationMethod.HYBRID_INIT_RSA,
    }
)

_LIFE_SECONDS = 1  # LifeType.SECONDS == SaLifeType.SECONDS
_LIFE_KILOBYTES = 2


# --- shared helpers -------------------------------------------------------------------------


class _Unacceptable(Exception):
    """One transform we cannot accept; ``unsupported`` when it names an unknown attribute."""

    def __init__(self, reason: str, *, unsupported: bool = False) -> None:
        super().__init__(reason)
        self.unsupported = unsupported


def _limit(value: int) -> float:
    """A lifetime for comparisons: 0 (unlimited) is longer than anything."""
    return math.inf if value == 0 else value


def _shorter(a: int, b: int) -> int:
    """The shorter of two lifetimes where 0 means unlimited."""
    return a if _limit(a) <= _limit(b) else b


def _kilobytes(nbytes: int) -> int:
    """RouterOS lifebytes (bytes) as an SA Life Duration in kilobytes; 0 stays 0 (unlimited)."""
    return 0 if nbytes <= 0 else max(1, nbytes // 1024)


def _duration(type_: int, value: int) -> Attribute:
    # racoon's ipsecdoi_set_ld decodes 2- or 4-byte durations only: use TV, else a 4-byte TLV.
    if value <= 0xFFFF:
        return Attribute(type=type_, value=value)
    return Attribute.variable(type_, value, size=4)


def _life_attributes(life_type: int, life_duration: int, seconds: int, kb: int) -> list[Attribute]:
    out: list[Attribute] = []
    if seconds:
        out += [Attribute(type=life_type, value=_LIFE_SECONDS), _duration(life_duration, seconds)]
    if kb:
        out += [Attribute(type=life_type, value=_LIFE_KILOBYTES), _duration(life_duration, kb)]
    return out


@dataclass(frozen=True, slots=True, kw_only=True)
class _Attrs:
    """A transform's attributes: plain classes by type, life durations by life type."""

    values: Mapping[int, int]
    lives: Mapping[int, int]


def _split_attributes(attrs: Iterable[Attribute], life_type: int, life_duration: int) -> _Attrs:
    """Group the attributes; BAD_PROPOSAL_SYNTAX when the list is not well formed.

    RFC 2407 §4.5 / RFC 2409 App. A: a Life Duration follows its Life Type; each attribute
    class appears once per transform (Life Type/Duration once per life type).
    """
    values: dict[int, int] = {}
    lives: dict[int, int] = {}
    pending: int | None = None
    for a in attrs:
        if a.type == life_type:
            if pending is not None:
                raise BadProposalSyntax("Life Type without a Life Duration")
            pending = a.as_int()
            if pending in lives:
                raise BadProposalSyntax(f"Life Type {pending} given twice")
        elif a.type == life_duration:
            if pending is None:
                raise BadProposalSyntax("Life Duration does not follow a Life Type")
            lives[pending] = a.as_int()
            pending = None
        else:
            if a.type in values:
                raise BadProposalSyntax(f"attribute {a.type} given twice")
            values[a.type] = a.as_int()
    if pending is not None:
        raise BadProposalSyntax("Life Type without a Life Duration")
    return _Attrs(values=MappingProxyType(values), lives=MappingProxyType(lives))


def _lifetimes(attrs: _Attrs) -> tuple[int, int]:
    """(seconds, kilobytes) of a transform; absent seconds = the RFC default, absent KB = 0."""
    for t, d in attrs.lives.items():
        if t not in (_LIFE_SECONDS, _LIFE_KILOBYTES):
            raise _Unacceptable(f"unknown life type {t}")
        if d == 0:
            raise _Unacceptable("zero life duration")
    return attrs.lives.get(_LIFE_SECONDS, DEFAULT_LIFETIME), attrs.lives.get(_LIFE_KILOBYTES, 0)


def _check_lifetime(
    check: ProposalCheck, theirs: tuple[int, int], ours: tuple[int, int]
) -> tuple[tuple[int, int], bool]:
    """Apply racoon's proposal_check to (seconds, KB): the values to use, and whether ours won.

    ``ours`` may hold 0 (unlimited). Raises ``_Unacceptable`` under strict/exact.
    """
    if check is ProposalCheck.OBEY:
        return theirs, False
    if check is ProposalCheck.EXACT:
        if theirs != ours:
            raise _Unacceptable(f"lifetime {theirs} is not exactly ours {ours}")
        return theirs, False
    if check is ProposalCheck.STRICT:
        for t, o in zip(theirs, ours, strict=True):
            if _limit(t) > _limit(o):
                raise _Unacceptable(f"lifetime {theirs} longer than ours {ours}")
        return theirs, False
    # CLAIM: the shorter of each; ``claimed`` when ours is the shorter one.
    used = (_shorter(theirs[0], ours[0]), _shorter(theirs[1], ours[1]))
    return used, used != theirs


def _no_choice(reasons: list[_Unacceptable], what: str) -> RemoteProtocolError:
    """NO_PROPOSAL_CHOSEN, or ATTRIBUTES_NOT_SUPPORTED when every refusal was an unknown class."""
    detail = f"{what}: " + ("; ".join(str(r) for r in reasons[:8]) or "nothing offered")
    if reasons and all(r.unsupported for r in reasons):
        return AttributesNotSupported(detail)
    return NoProposalChosen(detail)


def _same_transform(a: Transform, b: Transform, life_type: int, life_duration: int) -> bool:
    """Same id and same attribute values (forms and order may differ: TV/TLV, re-encoding)."""
    if a.transform_id != b.transform_id:
        return False
    return _split_attributes(a.attributes, life_type, life_duration) == _split_attributes(
        b.attributes, life_type, life_duration
    )
