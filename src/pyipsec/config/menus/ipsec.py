"""The configured `/ip ipsec` menus in the RouterOS 6.x (before 6.43) dialect.

Property sets, defaults and value lists follow reference §1-§2 and the §8 glossary; a value
marked [U] there is a one-line change here. The v5 era's spellings that real exports carry
(``generate-policy=yes``, ``my-id-user-fqdn=``, ``src-address=a/n:port``) are accepted as
aliases so those exports import unchanged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pyipsec.config.schema import (
    LIST_COMMANDS,
    CommandArg,
    Flag,
    LegacyRule,
    Menu,
    MenuCommand,
    MenuKind,
    Property,
)
from pyipsec.config.types import (
    Address,
    Bool,
    Enum,
    Hex,
    Int,
    IpProtocol,
    ListOf,
    MultiEnum,
    Prefix,
    SpiPair,
    TaggedId,
    Text,
    Time,
    ValueProblem,
)

# §8 glossary / §2.13: names the crypto registry must know (tests/config/test_menus.py).
# x25519 (Curve25519, RFC 8031, IKEv2 group 31) is not RouterOS 6.x's: IKEv2 peers and
# proposals may name it (docs/ikev2.md); IKEv1 cannot carry it.
DH_GROUPS = (
    "modp768", "modp1024", "ec2n155", "ec2n185", "modp1536", "modp2048", "modp3072",
    "modp4096", "modp6144", "modp8192", "ecp256", "ecp384", "ecp521", "x25519",
)  # fmt: skip
PHASE1_ENC = (
    "des", "3des", "aes-128", "aes-192", "aes-256", "blowfish", "camellia-128",
    "camellia-192", "camellia-256",
)  # fmt: skip
PHASE1_HASH = ("md5", "sha1", "sha256", "sha512")
# chacha20poly1305 (RFC 7634 ESP AEAD) is RouterOS 7's, for IKEv2 children (docs/ikev2.md);
# IKEv1 cannot carry it.
PHASE2_ENC = (
    "des", "3des", "aes-128", "aes-192", "aes-256", "aes-128-cbc", "aes-192-cbc",
    "aes-256-cbc", "aes-128-ctr", "aes-192-ctr", "aes-256-ctr", "aes-128-gcm", "aes-192-gcm",
    "aes-256-gcm", "blowfish", "twofish", "camellia-128", "camellia-192", "camellia-256",
    "null", "chacha20poly1305",
)  # fmt: skip
PHASE2_AUTH = ("md5", "sha1", "sha256", "sha512", "null")
MANUAL_AH = ("md5", "null", "sha1")
MANUAL_ENC = ("des", "3des", "aes-128", "aes-192", "aes-256", "null")

IPSEC = ("ip", "ipsec")
POLICY = (*IPSEC, "policy")
POLICY_GROUP = (*IPSEC, "policy", "group")
PEER = (*IPSEC, "peer")
PROPOSAL = (*IPSEC, "proposal")
MANUAL_SA = (*IPSEC, "manual-sa")
MODE_CONFIG = (*IPSEC, "mode-config")
KEY = (*IPSEC, "key")
SETTINGS = (*IPSEC, "settings")
CERTIFICATE = ("certificate",)
POOL = ("ip", "pool")  # config/menus/pool.py

DISABLED = Property(name="disabled", type=Bool(), default="no")
COMMENT = Property(name="comment", default="")


@dataclass(frozen=True, slots=True, kw_only=True)
class Name:
    """An item's name: any text but the empty one (``add name=""``: RouterOS refuses it with
    its codec error, ``invalid value for argument name``)."""

    kind: str = "text"

    def parse(self, text: str) -> str:
        if not text:
            raise ValueProblem(text)
        return Text().parse(text)

    def choices(self) -> tuple[str, ...]:
        return ()


def _name(required: bool = True) -> Property:
    return Property(
        name="name", type=Name() if required else Text(), required=required, quoted=True
    )


def _legacy_address_port(prop: str, port_prop: str) -> LegacyRule:
    """v4 exports write ``src-address=50.0.0.1/32:any`` (address and port in one value)."""

    def rule(value: str) -> tuple[tuple[str, str], ...]:
        m = re.fullmatch(r"([0-9.]+(?:/\d+)?):(any|\d+)", value)
        if m:
            return ((prop, m.group(1)), (port_prop, m.group(2)))
        return ((prop, value),)

    return rule


def _legacy_my_id_user_fqdn(value: str) -> tuple[tuple[str, str], ...]:
    """v5 ``my-id-user-fqdn=x`` is v6 ``my-id=user-fqdn:x`` (empty = auto)."""
    return (("my-id", f"user-fqdn:{value}"),) if value else ()


POLICY_MENU = Menu(
    path=POLICY,
    kind=MenuKind.LIST,
    description="security policy database: which traffic IPsec protects",
    properties=(
        Property(name="src-address", type=Prefix(), default="0.0.0.0/32"),
        Property(name="src-port", type=Int(lo=0, hi=65535, keywords=("any",)), default="any"),
        Property(name="dst-address", type=Prefix(), default="0.0.0.0/32"),
        Property(name="dst-port", type=Int(lo=0, hi=65535, keywords=("any",)), default="any"),
        Property(name="protocol", type=IpProtocol(), default="all"),
        Property(
            name="action",
            type=Enum(
                values=("encrypt", "discard", "none"), aliases={"accept": "none", "drop": "discard"}
            ),
            default="encrypt",
        ),
        Property(
            name="level",
            type=Enum(values=("require", "unique", "use"), aliases={"acquire": "require"}),
            default="require",
        ),
        Property(name="ipsec-protocols", type=MultiEnum(values=("ah", "esp")), default="esp"),
        Property(name="tunnel", type=Bool(), default="no"),
        Property(name="sa-src-address", type=Address(), default="0.0.0.0"),
        Property(name="sa-dst-address", type=Address(), default="0.0.0.0"),
        Property(name="proposal", default="default", ref=PROPOSAL),
        # 6.40 removed `priority` (list order decides); the 6.42 model accepts it from older
        # exports and keeps a non-zero value, and print/export show it only then.
        Property(
            name="priority",
            type=Int(lo=-2147483646, hi=2147483647),
            default="0",
            hide_default=True,
        ),
        Property(name="template", type=Bool(), default="no"),
        Property(name="group", default="default", ref=POLICY_GROUP),
        Property(
            name="manual-sa",
            default="none",
            ref=MANUAL_SA,
            ref_keywords=("none",),
            hide_default=True,
        ),
        Property(
            name="dont-fragment",
            type=Enum(values=("clear", "inherit", "set")),
            default="clear",
            hide_default=True,
        ),
        DISABLED,
        COMMENT,
        Property(name="ph2-state", readonly=True, default="no-phase2"),
        Property(name="ph2-count", readonly=True, default="0"),
    ),
    flags=(
        (Flag(letter="T", name="template"),),
        (
            Flag(letter="X", name="disabled"),
            Flag(letter="D", name="dynamic"),
            Flag(letter="I", name="invalid"),
            Flag(letter="A", name="active"),
        ),
        (Flag(letter="*", name="default"),),
    ),
    print_order=(
        "src-address",
        "src-port",
        "dst-address",
        "dst-port",
        "protocol",
        "action",
        "level",
        "ipsec-protocols",
        "tunnel",
        "sa-src-address",
        "sa-dst-address",
        "proposal",
        "priority",
        "manual-sa",
        "dont-fragment",
    ),
    print_variants=(
        ("template", ("group", "src-address", "dst-address", "protocol", "proposal", "template")),
    ),
    brief_columns=(
        "src-address",
        "src-port",
        "dst-address",
        "dst-port",
        "protocol",
        "action",
        "level",
    ),
    default_items=(
        {
            "group": "default",
            "src-address": "::/0",
            "dst-address": "::/0",
            "protocol": "all",
            "proposal": "default",
            "template": "yes",
        },
    ),
    default_ref="0",
    default_thing="policy",
    ordered=True,
    generic_commands=LIST_COMMANDS,
    export_rank=60,
    legacy={
        "src-address": _legacy_address_port("src-address", "src-port"),
        "dst-address": _legacy_address_port("dst-address", "dst-port"),
    },
)

POLICY_GROUP_MENU = Menu(
    path=POLICY_GROUP,
    kind=MenuKind.LIST,
    description="groups of template policies that peers may generate policies from",
    properties=(_name(), COMMENT),
    flags=((Flag(letter="*", name="default"),),),
    print_order=("name",),
    brief_columns=("name",),
    key="name",
    auto_name="group",
    default_items=({"name": "default"},),
    default_thing="group",
    generic_commands=tuple(c for c in LIST_COMMANDS if c not in ("enable", "disable", "move")),
    export_rank=20,
)

PEER_MENU = Menu(
    path=PEER,
    kind=MenuKind.LIST,
    description="phase 1 (IKE) settings per remote peer",
    properties=(
        Property(name="address", type=Prefix(), default="0.0.0.0/0"),
        Property(name="local-address", type=Address(), print_unset="::"),
        Property(name="passive", type=Bool(), default="no"),
        Property(name="port", type=Int(lo=0, hi=65535), default="500"),
        Property(
            name="auth-method",
            type=Enum(
                values=(
                    "pre-shared-key",
                    "rsa-signature",
                    "rsa-key",
                    "pre-shared-key-xauth",
                    "rsa-signature-hybrid",
                    "eap-radius",
                )
            ),
            default="pre-shared-key",
        ),
        Property(name="secret", default="", sensitive=True, quoted=True),
        Property(name="certificate", ref=CERTIFICATE, ref_keywords=("none",)),
        Property(name="remote-certificate", ref=CERTIFICATE, ref_keywords=("none",)),
        Property(name="key", ref=KEY),
        Property(name="remote-key", ref=KEY),
        Property(name="xauth-login", quoted=True),
        Property(name="xauth-password", sensitive=True, quoted=True),
        Property(
            name="generate-policy",
            type=Enum(
                values=("no", "port-override", "port-strict"), aliases={"yes": "port-override"}
            ),
            default="no",
        ),
        Property(
            name="policy-template-group",
            default="default",
            ref=POLICY_GROUP,
            ref_keywords=("none",),
        ),
        Property(
            name="exchange-mode",
            type=Enum(values=("main", "aggressive", "base", "main-l2tp", "ike2")),
            default="main",
        ),
        Property(name="send-initial-contact", type=Bool(), default="yes"),
        Property(name="nat-traversal", type=Bool(), default="yes"),
        Property(name="my-id", type=TaggedId(), default="auto", hide_default=True),
        Property(
            name="proposal-check",
            type=Enum(values=("obey", "claim", "strict", "exact")),
            default="obey",
        ),
        Property(
            name="hash-algorithm",
            type=Enum(values=PHASE1_HASH, aliases={"sha": "sha1"}),  # v2.9 spelling
            default="sha1",
        ),
        Property(name="enc-algorithm", type=MultiEnum(values=PHASE1_ENC), default="aes-128,3des"),
        Property(name="dh-group", type=MultiEnum(values=DH_GROUPS), default="modp2048,modp1024"),
        Property(name="lifetime", type=Time(), default="1d"),
        Property(name="lifebytes", type=Int(lo=0, hi=4294967295), default="0"),
        Property(name="dpd-interval", type=Time(keywords=("disable-dpd",)), default="2m"),
        Property(name="dpd-maximum-failures", type=Int(lo=1, hi=100), default="5"),
        Property(name="mode-config", ref=MODE_CONFIG, ref_keywords=("none",)),
        Property(
            name="compatibility-options",
            type=MultiEnum(values=("skip-peer-id-check",), allow_empty=True),
            default="",
            hide_default=True,
        ),
        Property(name="notrack-chain"),
        DISABLED,
        COMMENT,
    ),
    flags=((Flag(letter="X", name="disabled"),), (Flag(letter="D", name="dynamic"),)),
    print_order=(
        "address",
        "local-address",
        "passive",
        "port",
        "auth-method",
        "secret",
        "certificate",
        "remote-certificate",
        "key",
        "remote-key",
        "xauth-login",
        "xauth-password",
        "generate-policy",
        "policy-template-group",
        "exchange-mode",
        "send-initial-contact",
        "nat-traversal",
        "my-id",
        "proposal-check",
        "hash-algorithm",
        "enc-algorithm",
        "dh-group",
        "lifetime",
        "lifebytes",
        "dpd-interval",
        "dpd-maximum-failures",
        "mode-config",
        "compatibility-options",
        "notrack-chain",
    ),
    brief_columns=("address", "port", "auth-method", "exchange-mode", "generate-policy"),
    generic_commands=tuple(c for c in LIST_COMMANDS if c != "move"),
    export_rank=30,
    legacy={"my-id-user-fqdn": _legacy_my_id_user_fqdn},
)

PROPOSAL_MENU = Menu(
    path=PROPOSAL,
    kind=MenuKind.LIST,
    description="phase 2 parameter sets offered and accepted for policies",
    properties=(
        _name(),
        Property(
            name="auth-algorithms",
            type=MultiEnum(values=PHASE2_AUTH, allow_empty=True),
            default="sha1",
        ),
        Property(
            name="enc-algorithms",
            type=MultiEnum(values=PHASE2_ENC),
            default="aes-256-cbc,aes-192-cbc,aes-128-cbc",
        ),
        Property(name="lifetime", type=Time(), default="30m"),
        Property(name="pfs-group", type=Enum(values=("none", *DH_GROUPS)), default="modp1024"),
        DISABLED,
        COMMENT,
    ),
    flags=((Flag(letter="X", name="disabled"),), (Flag(letter="*", name="default"),)),
    print_order=("name", "auth-algorithms", "enc-algorithms", "lifetime", "pfs-group"),
    brief_columns=("name", "auth-algorithms", "enc-algorithms", "lifetime", "pfs-group"),
    key="name",
    auto_name="proposal",
    default_items=({"name": "default"},),
    default_thing="proposal",
    generic_commands=tuple(c for c in LIST_COMMANDS if c != "move"),
    export_rank=40,
)

MANUAL_SA_MENU = Menu(
    path=MANUAL_SA,
    kind=MenuKind.LIST,
    description="manually keyed SAs referenced by policy manual-sa=",
    properties=(
        _name(required=False),
        Property(name="ah-algorithm", type=Enum(values=MANUAL_AH), default="null"),
        Property(name="ah-key", type=Hex(pair=True), default="", sensitive=True),
        Property(name="ah-spi", type=SpiPair(), default="0x100"),
        Property(name="esp-auth-algorithm", type=Enum(values=MANUAL_AH), default="null"),
        Property(name="esp-auth-key", type=Hex(pair=True), default="", sensitive=True),
        Property(name="esp-enc-algorithm", type=Enum(values=MANUAL_ENC), default="null"),
        Property(name="esp-enc-key", type=Hex(pair=True), default="", sensitive=True),
        Property(name="esp-spi", type=SpiPair(), default="0x100"),
        Property(name="lifetime", type=Time(), default="0s"),
        DISABLED,
        COMMENT,
    ),
    flags=((Flag(letter="X", name="disabled"),),),
    print_order=(
        "name",
        "ah-algorithm",
        "ah-key",
        "ah-spi",
        "esp-auth-algorithm",
        "esp-auth-key",
        "esp-enc-algorithm",
        "esp-enc-key",
        "esp-spi",
        "lifetime",
    ),
    brief_columns=("name", "ah-algorithm", "esp-auth-algorithm", "esp-enc-algorithm"),
    key="name",
    auto_name="sa",
    generic_commands=tuple(c for c in LIST_COMMANDS if c != "move"),
    export_rank=50,
)

MODE_CONFIG_MENU = Menu(
    path=MODE_CONFIG,
    kind=MenuKind.LIST,
    description="IKE mode-config (addresses, DNS, split networks) for peers",
    properties=(
        _name(),
        Property(name="responder", type=Bool(), default="no", hide_default=True),
        Property(name="address-pool", default="none", ref=POOL, ref_keywords=("none",)),
        Property(name="address-prefix-length", type=Int(lo=1, hi=128)),
        Property(name="split-include", type=ListOf(item=Prefix()), default=""),
        Property(name="static-dns", type=ListOf(item=Address()), default=""),
        Property(name="system-dns", type=Bool(), default="yes"),
        Property(name="src-address-list"),
        COMMENT,
    ),
    flags=((Flag(letter="*", name="default"),),),
    print_order=(
        "name",
        "responder",
        "address-pool",
        "address-prefix-length",
        "split-include",
        "static-dns",
        "system-dns",
        "src-address-list",
    ),
    brief_columns=("name", "address-pool", "split-include", "system-dns"),
    key="name",
    auto_name="cfg",
    default_items=({"name": "request-only"},),
    default_thing="mode-config",
    generic_commands=tuple(c for c in LIST_COMMANDS if c not in ("enable", "disable", "move")),
    export_rank=10,
)

# What a 6.x verbose export writes for a mode-config that is not a responder, besides what is
# set on it: reference §2.15, a real 6.4x verbose export of the default item is
# `set [ find default=yes ] name=request-only responder=no` (the pool, split and DNS properties
# are a responder's).
MODE_CONFIG_INITIATOR_VERBOSE = frozenset({"name", "responder", "src-address-list"})
# What a 6.x verbose export leaves out while at its default: `priority`, gone since 6.40.
VERBOSE_HIDDEN_V6: dict[tuple[str, ...], frozenset[str]] = {POLICY: frozenset({"priority"})}

KEY_MENU = Menu(
    path=KEY,
    kind=MenuKind.LIST,
    description="RSA keys for auth-method=rsa-key",
    properties=(
        _name(),
        Property(name="key-size", readonly=True, default="0"),
        Property(name="private-key", type=Bool(), readonly=True, default="no"),
        Property(name="rsa", type=Bool(), readonly=True, default="yes"),
    ),
    flags=((Flag(letter="P", name="private-key"),), (Flag(letter="R", name="rsa"),)),
    print_order=("name", "key-size"),
    brief_columns=("name", "key-size"),
    key="name",
    generic_commands=("set", "remove", "find", "get", "print", "export"),
    commands=(
        MenuCommand(
            name="generate-key",
            description="generate an RSA key pair",
            args=(
                CommandArg(name="name", required=True),
                CommandArg(
                    name="key-size", type=Enum(values=("1024", "2048", "4096")), default="2048"
                ),
            ),
        ),
        MenuCommand(
            name="import",
            description="import a PEM/DER RSA key (private or public) from a file",
            args=(
                CommandArg(name="file-name", required=True),
                CommandArg(name="name", required=True),
                CommandArg(name="passphrase", default=""),
            ),
        ),
        MenuCommand(
            name="export-pub-key",
            description="write a key's public part to a PEM file",
            args=(
                CommandArg(name="file-name", required=True),
                CommandArg(name="key", required=True),
            ),
        ),
    ),
)

# RouterOS 7.x `/ip ipsec settings` (reference §2.12), one item printed settings-style. Of its
# properties the 6.x model has xauth-use-radius (6.x keeps it in `/ip ipsec user settings`;
# pyipsec has no RADIUS client, so only `no` is meaningful; it is kept so exports carry it), and
# the issue adds 7.22's ddos-cookie-threshold: how many half-open IKEv2 SAs there may be before
# the responder asks every new initiator for a stateless cookie (RFC 7296 §2.6; 0 = always).
# Its default, 20, is what a RouterOS 7.24 verbose export prints (docs/config.md).
SETTINGS_MENU = Menu(
    path=SETTINGS,
    kind=MenuKind.SINGLE,
    description="global IPsec settings (IKEv2 cookie threshold)",
    properties=(
        Property(name="xauth-use-radius", type=Bool(), default="no"),
        Property(
            name="ddos-cookie-threshold",
            type=Int(lo=0, hi=4294967295),
            default="20",
            description="half-open IKEv2 SAs before cookies are required (0: always)",
        ),
    ),
    print_order=("xauth-use-radius", "ddos-cookie-threshold"),
    generic_commands=("set", "get", "print", "export"),
    export_rank=70,
)

MENUS = (
    POLICY_MENU,
    POLICY_GROUP_MENU,
    PEER_MENU,
    PROPOSAL_MENU,
    MANUAL_SA_MENU,
    MODE_CONFIG_MENU,
    KEY_MENU,
    SETTINGS_MENU,
)
