"""The shortcuts of core/ikev2/proposals.py against the plain computations they replace: a
peer entry's algorithms and offer made once (``_PeerTables``) equal the registry lookups, and
a bad entry still raises what the lookups raise; ``by_type`` and ``check_reply`` (which now
compare a transform's fields in a set made once per offer) give the results and errors of
their earlier, plain versions (kept here as references) for random proposals; the caches stay
bounded."""

from __future__ import annotations

import ipaddress
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pyipsec.core.ikev2 import proposals as pr
from pyipsec.core.ikev2.errors import InvalidSyntax, LocalProtocolError, NoProposalChosen
from pyipsec.core.profiles import PeerProfile
from pyipsec.wire.ikev2.constants import ProtocolId, TransformType
from pyipsec.wire.ikev2.payloads import Proposal, SaPayload, Transform


def peer(**kw: object) -> PeerProfile:
    base: dict[str, object] = {"id": 1, "address": ipaddress.ip_network("198.51.100.0/24")}
    base.update(kw)
    return PeerProfile(**base)  # type: ignore[arg-type]


PEERS = [
    peer(),
    peer(hash_algorithm="sha256", enc_algorithms=("aes-128",), dh_groups=("ecp256",)),
    peer(hash_algorithm="sha512", enc_algorithms=("aes-256-gcm", "aes-128", "3des")),
    peer(enc_algorithms=("aes-128-gcm",), dh_groups=("x25519", "ec2n155", "modp2048")),
]


@pytest.mark.parametrize("p", PEERS)
def test_tables_equal_the_lookups(p: PeerProfile) -> None:
    tables = pr._tables_of(p)
    assert tables is not None
    assert list(tables.encryptions) == pr._lookup_encryptions(p)
    assert list(tables.groups) == pr._lookup_groups(p)
    assert tables.prf == pr._lookup_prf(p)
    assert tables.integrity == pr._lookup_integrity(p)
    assert tables.offer == pr._ike_offer(p, b"")
    assert pr.ike_offer(p) is tables.offer and pr._tables_of(p) is tables  # made once
    assert pr.initial_group(p) == pr._lookup_groups(p)[0]
    edited = replace(p, dh_groups=("modp1024",))  # an edited entry is a new profile
    assert pr.initial_group(edited).name == "modp1024"
    rekey = pr.ike_offer(p, spi=b"\x05" * 8)  # a rekey's offer carries its SPI, not cached
    assert rekey == pr._ike_offer(p, b"\x05" * 8) and rekey is not tables.offer


@pytest.mark.parametrize(
    "bad",
    [
        {"enc_algorithms": ("null",)},
        {"dh_groups": ("ec2n155",)},
        {"hash_algorithm": "nonsense"},
        {"enc_algorithms": ("nonsense",)},
    ],
)
def test_a_bad_entry_raises_what_the_lookups_raise(bad: dict[str, object]) -> None:
    p = peer(**bad)
    assert pr._tables_of(p) is None
    with pytest.raises(LocalProtocolError) as plain:
        pr._ike_offer(p, b"")
    with pytest.raises(LocalProtocolError) as cached:
        pr.ike_offer(p)
    assert str(cached.value) == str(plain.value)
    for accessor, lookup in [
        (pr._encryptions, pr._lookup_encryptions),
        (pr._groups_of, pr._lookup_groups),
        (pr._prf, pr._lookup_prf),
        (pr._integrity, pr._lookup_integrity),
    ]:
        try:
            expected: object = lookup(p)
        except LocalProtocolError as e:
            expected = str(e)
        try:
            got: object = accessor(p)
        except LocalProtocolError as e:
            got = str(e)
        assert got == expected


def test_tables_cache_is_bounded() -> None:
    many = [peer(id=i) for i in range(pr._TABLES_MAX + 10)]
    for p in many:
        assert pr._tables_of(p) is not None
        assert len(pr._tables) <= pr._TABLES_MAX
    for i in range(pr._OFFERED_MAX + 10):
        pr._offered((Transform(type=1, id=i),))
        assert len(pr._offered_cache) <= pr._OFFERED_MAX


# --- by_type and check_reply against their plain versions ------------------------------------


def plain_by_type(p: Proposal, protocol: ProtocolId) -> dict[int, list[Transform]]:
    out: dict[int, list[Transform]] = {}
    for t in p.transforms:
        out.setdefault(int(t.type), []).append(t)
    extra = sorted(set(out) - pr.ALLOWED_TYPES[protocol])
    if extra:
        raise pr.Unacceptable(f"transform types {extra} in {protocol.name} proposal {p.number}")
    missing = sorted(pr.MANDATORY_TYPES[protocol] - set(out))
    if missing:
        names = ", ".join(TransformType(m).name for m in missing)
        raise pr.Unacceptable(f"{protocol.name} proposal {p.number} without {names}")
    return out


def plain_check_reply(offer: SaPayload, reply: SaPayload) -> tuple[Proposal, dict[int, Transform]]:
    if len(reply.proposals) != 1:
        raise InvalidSyntax(f"the reply SA holds {len(reply.proposals)} proposals, not one")
    answer = reply.proposals[0]
    ours = next((p for p in offer.proposals if p.number == answer.number), None)
    if ours is None or ours.protocol != answer.protocol:
        raise NoProposalChosen(
            f"they chose {pr.describe_sa(reply)}, we offered {pr.describe_sa(offer)}"
        )
    picked: dict[int, Transform] = {}
    for t in answer.transforms:
        if int(t.type) in picked:
            raise InvalidSyntax(f"the reply proposal holds two transforms of type {t.type}")
        if t not in ours.transforms:
            raise NoProposalChosen(
                f"they chose {pr._transform_name(t)}, which we did not offer in "
                f"{pr.describe_sa(SaPayload(proposals=(ours,)))}"
            )
        picked[int(t.type)] = t
    offered_types = {int(t.type) for t in ours.transforms}
    missing = sorted(offered_types - set(picked))
    if missing:
        names = ", ".join(TransformType(m).name for m in missing)
        raise NoProposalChosen(f"the reply proposal {answer.number} has no {names}")
    return answer, picked


def outcome(fn: object, *args: object) -> object:
    try:
        return fn(*args)  # type: ignore[operator]
    except (pr.Unacceptable, InvalidSyntax, NoProposalChosen, ValueError) as e:
        return (type(e), str(e))


transforms = st.builds(
    Transform,
    type=st.sampled_from([*TransformType, 6, 200]),
    id=st.sampled_from([0, 1, 2, 3, 12, 14, 19, 20]),
    key_length=st.sampled_from([None, 128, 256]),
    other_attributes=st.sampled_from([(), ((0x8000 | 17, b"\x00\x01"),)]),
)
proposals = st.builds(
    Proposal,
    number=st.integers(1, 3),
    protocol=st.sampled_from([ProtocolId.IKE, ProtocolId.ESP, ProtocolId.AH]),
    transforms=st.lists(transforms, max_size=7).map(tuple),
)


@settings(max_examples=300, deadline=None)
@given(proposals)
def test_by_type_is_the_plain_grouping(p: Proposal) -> None:
    for protocol in (ProtocolId.IKE, ProtocolId.ESP, ProtocolId.AH):
        assert outcome(pr.by_type, p, protocol) == outcome(plain_by_type, p, protocol)


@settings(max_examples=400, deadline=None)
@given(
    st.lists(proposals, min_size=1, max_size=3).map(lambda ps: SaPayload(proposals=tuple(ps))),
    st.lists(proposals, max_size=2),
    st.data(),
)
def test_check_reply_is_the_plain_check(
    offer: SaPayload, others: list[Proposal], data: st.DataObject
) -> None:
    # replies that mostly echo what was offered (equal but not the same objects, as decoded
    # off the wire), sometimes with a transform changed, added or left out
    ours = data.draw(st.sampled_from(offer.proposals))
    echoed = [replace(t) for t in ours.transforms]
    echoed = data.draw(st.permutations(echoed)) if echoed else []
    cut = data.draw(st.integers(0, len(echoed)))
    extra = data.draw(st.lists(transforms, max_size=2))
    answer = Proposal(
        number=ours.number, protocol=ours.protocol, transforms=(*echoed[:cut], *extra)
    )
    for reply in (SaPayload(proposals=(answer,)), SaPayload(proposals=(answer, *others))):
        assert outcome(pr.check_reply, offer, reply) == outcome(plain_check_reply, offer, reply)
