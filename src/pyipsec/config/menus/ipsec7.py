"""The `/ip ipsec` menus in the RouterOS 7 dialect (reference §2.2, §2.4-§2.12).

RouterOS 6.44 split the 6.x peer in three: ``/ip ipsec profile`` (phase-1 crypto, named,
shared by peers), ``/ip ipsec peer`` (named; where and how to reach the peer) and
``/ip ipsec identity`` (how to authenticate it; ``peer=`` names the peer). Policies name their
peer (``peer=``) instead of giving ``sa-src-address``/``sa-dst-address``. The other menus
(proposal, policy group, key, settings) keep the 6.x properties and change only how they print;
their v7 menus are copies of the 6.x ones with ``dialect="v7"``. Both dialects' items live in
the same tables (docs/config.md, "Dialects"); config/compile.py builds the same engine records
from either. Values the reference marks [U] are a one-line change here.

Target release: RouterOS 7.2x (defaults of the 7.21-7.24 exports the reference quotes).
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from pyipsec.config.menus import ipsec as v6
from pyipsec.config.menus import runtime
from pyipsec.config.schema import (
    LIST_COMMANDS,
    RUNTIME_LIST_COMMANDS,
    Flag,
    Menu,
    MenuCommand,
    MenuKind,
    Property,
)
from pyipsec.config.types import (
    Address,
    Bool,
    Enum,
    Int,
    ListOf,
    MultiEnum,
    Prefix,
    TaggedId,
    Text,
    Time,
    ValueProblem,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

    from pyipsec.config.table import Config, Item, Table

V7 = "v7"

PROFILE = (*v6.IPSEC, "profile")
IDENTITY = (*v6.IPSEC, "identity")
ACTIVE_PEERS = (*v6.IPSEC, "active-peers")

# §2.5: v7 offers fewer phase-1 ciphers and groups than 6.x (no blowfish/camellia, ec2n, modp8192).
PROFILE_ENC = ("aes-256", "aes-192", "aes-128", "3des", "des")
PROFILE_HASH = ("md5", "sha1", "sha256", "sha384", "sha512")
PROFILE_DH = (
    "x25519", "ecp256", "ecp384", "ecp521", "modp6144", "modp4096", "modp3072", "modp2048",
    "modp1536", "modp1024", "modp768",
)  # fmt: skip
# §2.6 auth methods; 6.x rsa-signature is v7 digital-signature.
IDENTITY_AUTH = (
    "pre-shared-key", "digital-signature", "eap", "eap-radius", "pre-shared-key-xauth",
    "rsa-key", "rsa-signature-hybrid",
)  # fmt: skip

_DNS_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")


@dataclass(frozen=True, slots=True, kw_only=True)
class PeerAddress:
    """v7 peer ``address=``: an IPv4/IPv6 prefix (``10.0.0.1/32``) or a DNS name (6.44+)."""

    kind: str = "prefix"

    def parse(self, text: str) -> str:
        try:
            return Prefix().parse(text)
        except ValueProblem:
            pass
        name = text.rstrip(".")
        labels = name.split(".")
        if (
            len(name) > 253
            or not all(_DNS_LABEL.fullmatch(label) for label in labels)
            or labels[-1].isdigit()  # 10.1.2 or 1.2.3.456: a mistyped address, not a name
        ):
            raise ValueProblem(text)
        return name.lower()

    def choices(self) -> tuple[str, ...]:
        return ()


def is_dns_name(address: str) -> bool:
    """Whether a canonical peer ``address`` is a DNS name rather than a prefix."""
    try:
        ipaddress.ip_network(address, strict=False)
    except ValueError:
        return True
    return False


def _v7(menu: Menu, **changes: object) -> Menu:
    """The v7 copy of a 6.x menu (same properties unless ``changes`` says otherwise)."""
    return replace(menu, dialect=V7, **changes)  # type: ignore[arg-type]


DISABLED = v6.DISABLED
COMMENT = v6.COMMENT
# The 6.x peer's properties that v7 moved unchanged to its profile, peer and identity menus.
_PEER_PROPS = {p.name: p for p in v6.PEER_MENU.properties}

PROFILE_MENU = Menu(
    path=PROFILE,
    kind=MenuKind.LIST,
    dialect=V7,
    description="phase 1 (IKE) parameter sets shared by peers",
    properties=(
        Property(name="name", type=v6.Name(), required=True, quoted=True),
        Property(name="hash-algorithm", type=Enum(values=PROFILE_HASH), default="sha1"),
        Property(
            name="prf-algorithm",
            type=Enum(values=("auto", "sha1", "sha256", "sha384", "sha512")),
            default="auto",
            hide_default=True,
        ),
        Property(name="enc-algorithm", type=MultiEnum(values=PROFILE_ENC), default="aes-128,3des"),
        Property(name="dh-group", type=MultiEnum(values=PROFILE_DH), default="modp2048,modp1024"),
        _PEER_PROPS["lifetime"],
        Property(name="lifebytes", type=Int(lo=0, hi=4294967295), default="0", hide_default=True),
        _PEER_PROPS["proposal-check"],
        _PEER_PROPS["nat-traversal"],
        Property(name="dpd-interval", type=Time(hi=3600, keywords=("disable-dpd",)), default="2m"),
        _PEER_PROPS["dpd-maximum-failures"],
        # 7.21 post-quantum preshared keys (RFC 8784) are not implemented: only `no`, so that
        # 7.21+ exports (which write ppk=no) import.
        Property(name="ppk", type=Enum(values=("no",)), default="no"),
        COMMENT,
    ),
    flags=((Flag(letter="*", name="default"),),),
    print_order=(
        "name",
        "hash-algorithm",
        "prf-algorithm",
        "enc-algorithm",
        "dh-group",
        "lifetime",
        "lifebytes",
        "proposal-check",
        "nat-traversal",
        "dpd-interval",
        "dpd-maximum-failures",
    ),
    brief_columns=("name", "hash-algorithm", "enc-algorithm", "dh-group", "lifetime"),
    key="name",
    default_items=({"name": "default"},),
    default_thing="profile",
    generic_commands=tuple(c for c in LIST_COMMANDS if c not in ("enable", "disable", "move")),
    export_rank=25,
)

PEER_MENU = Menu(
    path=v6.PEER,
    kind=MenuKind.LIST,
    dialect=V7,
    description="remote peers: where and how to reach them (crypto in profile, auth in identity)",
    properties=(
        # `add` without it names the peer peer1, peer2...; an empty name is refused
        Property(name="name", type=v6.Name(), quoted=True),
        Property(name="address", type=PeerAddress(), default="0.0.0.0/0"),
        Property(name="local-address", type=Address()),
        Property(name="passive", type=Bool(), default="no", hide_default=True),
        Property(name="port", type=Int(lo=0, hi=65535), default="500", hide_default=True),
        Property(name="profile", default="default", ref=PROFILE),
        Property(
            name="exchange-mode",
            type=Enum(values=("main", "aggressive", "base", "ike2")),
            default="main",
        ),
        _PEER_PROPS["send-initial-contact"],
        DISABLED,
        COMMENT,
    ),
    flags=(
        (Flag(letter="X", name="disabled"),),
        (Flag(letter="D", name="dynamic"),),
        (Flag(letter="R", name="responder", source="passive"),),
    ),
    print_order=(
        "name",
        "address",
        "local-address",
        "passive",
        "port",
        "profile",
        "exchange-mode",
        "send-initial-contact",
    ),
    brief_columns=("name", "address", "profile", "exchange-mode", "send-initial-contact"),
    key="name",
    auto_name="peer",
    generic_commands=tuple(c for c in LIST_COMMANDS if c != "move"),
    export_rank=30,
)

IDENTITY_MENU = Menu(
    path=IDENTITY,
    kind=MenuKind.LIST,
    dialect=V7,
    description="how a peer authenticates (secret, certificates, ids) and what it may generate",
    properties=(
        Property(name="peer", required=True, ref=v6.PEER),
        Property(name="auth-method", type=Enum(values=IDENTITY_AUTH), default="pre-shared-key"),
        *(
            _PEER_PROPS[n]
            for n in ("secret", "certificate", "remote-certificate", "key", "remote-key")
        ),
        Property(name="username", quoted=True),
        Property(name="password", sensitive=True, quoted=True),
        Property(
            name="my-id",
            type=TaggedId(keywords=("auto", "dn")),
            default="auto",
            hide_default=True,
        ),
        Property(
            name="remote-id",
            type=TaggedId(keywords=("auto", "ignore", "dn")),
            default="auto",
            hide_default=True,
        ),
        Property(
            name="match-by",
            type=Enum(values=("remote-id", "certificate")),
            default="remote-id",
            hide_default=True,
        ),
        _PEER_PROPS["mode-config"],
        _PEER_PROPS["generate-policy"],
        replace(_PEER_PROPS["policy-template-group"], hide_default=True),
        _PEER_PROPS["notrack-chain"],
        DISABLED,
        COMMENT,
    ),
    flags=((Flag(letter="D", name="dynamic"), Flag(letter="X", name="disabled")),),
    print_order=(
        "peer",
        "auth-method",
        "secret",
        "certificate",
        "remote-certificate",
        "key",
        "remote-key",
        "username",
        "password",
        "my-id",
        "remote-id",
        "match-by",
        "mode-config",
        "generate-policy",
        "policy-template-group",
        "notrack-chain",
    ),
    brief_columns=("peer", "auth-method", "my-id", "remote-id", "generate-policy"),
    generic_commands=tuple(c for c in LIST_COMMANDS if c != "move"),
    export_rank=55,
)

_POLICY_PROPS = {p.name: p for p in v6.POLICY_MENU.properties}
# v7: without peer= a policy may still name its SA addresses; with peer= they come from the
# peer. Unset (not printed, not exported) until given.
_POLICY_PROPS["sa-src-address"] = Property(name="sa-src-address", type=Address())
_POLICY_PROPS["sa-dst-address"] = Property(name="sa-dst-address", type=Address())

POLICY_MENU = _v7(
    v6.POLICY_MENU,
    properties=(
        Property(name="peer", ref=v6.PEER, ref_keywords=("none",)),
        _POLICY_PROPS["sa-src-address"],
        _POLICY_PROPS["sa-dst-address"],
        *(
            _POLICY_PROPS[n]
            for n in (
                "src-address",
                "src-port",
                "dst-address",
                "dst-port",
                "protocol",
                "action",
                "level",
                "ipsec-protocols",
                "tunnel",
                "proposal",
                "template",
                "group",
                "disabled",
                "comment",
                "ph2-state",
                "ph2-count",
            )
        ),
    ),
    # 6.x's flags with v7's B (backup) after T (template)
    flags=(v6.POLICY_MENU.flags[0], (Flag(letter="B", name="backup"),), *v6.POLICY_MENU.flags[1:]),
    print_order=(
        "peer",
        "tunnel",
        "src-address",
        "src-port",
        "dst-address",
        "dst-port",
        "protocol",
        "action",
        "level",
        "ipsec-protocols",
        "sa-src-address",
        "sa-dst-address",
        "proposal",
        "ph2-count",
        "ph2-state",
    ),
    brief_columns=(
        "peer",
        "tunnel",
        "src-address",
        "src-port",
        "dst-address",
        "dst-port",
        "protocol",
        "action",
        "level",
        "ph2-count",
    ),
    legacy={},
)

_MODE_CONFIG_PROPS = {p.name: p for p in v6.MODE_CONFIG_MENU.properties}

MODE_CONFIG_MENU = _v7(
    v6.MODE_CONFIG_MENU,
    properties=(
        _MODE_CONFIG_PROPS["name"],
        Property(name="responder", type=Bool(), default="no"),
        Property(name="address", type=Address()),
        _MODE_CONFIG_PROPS["address-pool"],
        _MODE_CONFIG_PROPS["address-prefix-length"],
        _MODE_CONFIG_PROPS["split-include"],
        Property(name="split-dns", type=ListOf(item=Text()), default=""),
        _MODE_CONFIG_PROPS["static-dns"],
        _MODE_CONFIG_PROPS["system-dns"],
        _MODE_CONFIG_PROPS["src-address-list"],
        Property(name="connection-mark"),
        Property(
            name="use-responder-dns",
            type=Enum(values=("no", "yes", "exclusively")),
            default="exclusively",
        ),
        COMMENT,
    ),
    # an initiator's mode-config (responder=no) prints and verbosely exports only what an
    # initiator uses; a responder's the addresses and networks it hands out (§2.15 sample)
    print_order=("name", "responder", "use-responder-dns", "src-address-list", "connection-mark"),
    print_variants=(
        (
            "responder",
            (
                "name",
                "responder",
                "address",
                "address-pool",
                "address-prefix-length",
                "split-include",
                "split-dns",
                "static-dns",
                "system-dns",
            ),
        ),
    ),
    brief_columns=("name", "responder", "address-pool", "split-include"),
)

SETTINGS_MENU = _v7(
    v6.SETTINGS_MENU,
    description="global IPsec settings (IKEv2 cookie threshold, RADIUS accounting)",
    properties=(
        Property(name="accounting", type=Bool(), default="yes"),
        *v6.SETTINGS_MENU.properties,
        Property(name="interim-update", type=Time(), default="0s"),
    ),
    print_order=("xauth-use-radius", "accounting", "interim-update", "ddos-cookie-threshold"),
)

# Unchanged properties, v7 print style.
PROPOSAL_MENU = _v7(v6.PROPOSAL_MENU)
POLICY_GROUP_MENU = _v7(v6.POLICY_GROUP_MENU)
KEY_MENU = _v7(v6.KEY_MENU)

INSTALLED_SA_MENU = _v7(
    runtime.INSTALLED_SA_MENU,
    flags=(
        (Flag(letter="S", name="seen-traffic"),),
        (Flag(letter="H", name="hw-aead"),),
        (Flag(letter="A", name="AH"), Flag(letter="E", name="ESP")),
    ),
)

# §2.8: 6.45 renamed remote-peers to active-peers; the rows are the same runtime rows.
_ACTIVE_FIELDS = (
    "id", "local-address", "local-port", "remote-address", "port", "state", "side",
    "dynamic-address", "uptime", "last-seen", "ph2-total", "spii", "spir", "exchange-mode",
)  # fmt: skip  # fmt: skip

ACTIVE_PEERS_MENU = Menu(
    path=ACTIVE_PEERS,
    kind=MenuKind.RUNTIME_LIST,
    dialect=V7,
    description="peers with an established or negotiating IKE SA (read-only)",
    properties=tuple(
        Property(name=n, readonly=True, quoted=n in ("id", "spii", "spir"), default="")
        for n in _ACTIVE_FIELDS
    ),
    flags=((Flag(letter="R", name="responder"),), (Flag(letter="N", name="natt-peer"),)),
    print_order=_ACTIVE_FIELDS,
    brief_columns=("id", "state", "uptime", "ph2-total", "remote-address", "dynamic-address"),
    generic_commands=RUNTIME_LIST_COMMANDS,
    commands=(
        MenuCommand(name="kill-connections", description="tear down all IKE SAs (IKEv1 and IKEv2)"),
    ),
)

STATISTICS_MENU = _v7(runtime.STATISTICS_MENU)

# What a v7 verbose export leaves out (reference §2.5, 7.21: the default profile's line has no
# prf-algorithm and no lifebytes): these properties while at their default.
VERBOSE_HIDDEN: dict[tuple[str, ...], frozenset[str]] = {
    PROFILE: frozenset({"prf-algorithm", "lifebytes"}),
}
# Menus whose verbose export writes only the properties the item's print variant shows (§2.15:
# the default mode-config is `name=request-only responder=no use-responder-dns=exclusively`).
VERBOSE_AS_PRINTED: frozenset[tuple[str, ...]] = frozenset({v6.MODE_CONFIG})
# What a compact export compares a default item with, where RouterOS 7 does not compare it with
# the values the item starts with. Real 7.x compact exports of routers that never touched IPsec
# (7.19.1, 7.23.2: tests/golden/v7real/SOURCES.md) all write
# `set [ find default=yes ] dpd-interval=2m dpd-maximum-failures=5`: the default profile holds
# 2m/5 (7.21 verbose exports, reference §2.5) while the schema defaults are 8s/4 (the help page;
# a 7.24.4 router whose default profile holds 8s/4 exports them verbosely). Added profiles keep
# 2m/5 as their compact baseline (no real export shows otherwise).
COMPACT_DEFAULT_BASELINE: dict[tuple[str, ...], dict[str, str]] = {
    PROFILE: {"dpd-interval": "8s", "dpd-maximum-failures": "4"},
}

MENUS = (
    POLICY_MENU,
    POLICY_GROUP_MENU,
    PROFILE_MENU,
    PEER_MENU,
    IDENTITY_MENU,
    PROPOSAL_MENU,
    MODE_CONFIG_MENU,
    KEY_MENU,
    SETTINGS_MENU,
    INSTALLED_SA_MENU,
    ACTIVE_PEERS_MENU,
    STATISTICS_MENU,
)


def _peer_sa(config: Config) -> dict[str, dict[str, str]]:
    """SA addresses by peer name, as a v7 policy naming the peer shows them (computed once per
    stored configuration version)."""
    kept = config.memo.get("v7-peer-sa")
    if isinstance(kept, dict):
        return kept
    out: dict[str, dict[str, str]] = {}
    for peer in config.table(v6.PEER):
        values: dict[str, str] = {}
        if "local-address" in peer.values:
            values["sa-src-address"] = peer.values["local-address"]
        address = peer.values.get("address", "0.0.0.0/0")
        if not is_dns_name(address):
            net = ipaddress.ip_network(address, strict=False)
            if net.prefixlen == net.max_prefixlen and not net.network_address.is_unspecified:
                values["sa-dst-address"] = str(net.network_address)
        out[peer.values.get("name", "")] = values
    if config.memo.get("sealed"):
        config.memo["v7-peer-sa"] = out
    return out


def shows_from_peer(config: Config, path: tuple[str, ...]) -> bool:
    """Whether items of ``path`` may show values of their peer (:func:`shown_from_peer`)."""
    return config.dialect == V7 and path == v6.POLICY


def shown_from_peer(config: Config, path: tuple[str, ...], item: Item) -> dict[str, str]:
    """What a v7 policy with ``peer=`` shows of its peer: the SA addresses, read-only
    (reference §2.2; the addresses config/compile.py gives the policy's SAs)."""
    if not shows_from_peer(config, path):
        return {}
    name = item.values.get("peer", "none")
    return {} if name == "none" else _peer_sa(config).get(name, {})


def peer_clash(table: Table, item_id: int | None, values: Mapping[str, str]) -> str | None:
    """RouterOS 7's refusal of a second enabled initiator (not passive) peer for the same
    address and exchange mode - "exchange mode is the only unique identifier between peers"
    (reference §2.4, §5 item 15) - else None. ``values``: the item's values after the change."""
    menu = table.menu
    if menu.dialect != V7 or menu.path != v6.PEER:
        return None

    def key(values: Mapping[str, str]) -> tuple[str, str] | None:
        get = values.get
        if get("disabled", "no") == "yes" or get("passive", "no") == "yes":
            return None
        return get("address", "0.0.0.0/0"), get("exchange-mode", "main")

    mine = key(values)
    if mine is None:
        return None
    address = mine[0]
    for other in table:  # (the address first: most peers differ there)
        if other.values.get("address", "0.0.0.0/0") != address or other.id == item_id:
            continue
        if not other.dynamic and key(other.values) == mine:
            return "failure: Multiple initiator peers for the same address/dns"
    return None
