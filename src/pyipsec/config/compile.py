"""Configuration -> what the engines run: SPD entries, manual SAs, IKE peers and proposals.

``compile_config`` turns the `/ip ipsec policy` table into ``Policy`` records (skipping
disabled, template and invalid items, in list order) and each policy's ``manual-sa=`` into the
SA pair it implies:

- outbound: from ``sa-src-address`` to ``sa-dst-address`` with the *out* SPI and keys;
- inbound: from ``sa-dst-address`` to ``sa-src-address`` with the *in* SPI and keys.

A RouterOS 7 configuration (``config.dialect == "v7"``) compiles to the same records: each
enabled `/ip ipsec peer` with its `profile` (phase-1 crypto) and its first enabled
`/ip ipsec identity` (authentication) is one ``PeerProfile``, exactly the one the equivalent
6.x peer gives (config/convert.py maps between the two; docs/config.md "Dialects"), and a
policy's ``peer=`` supplies the SA addresses (``local-address`` -> sa-src, the peer's host
address -> sa-dst), as RouterOS 7 does. What a 6.x engine cannot honour (a DNS name not
resolved yet, a ``remote-id`` to check, EAP) leaves that peer out with a problem.

Manual SA keys and SPIs are written ``in/out`` (a single value serves both directions), the
form of the v2.9-v5 manuals. ``ipsec-protocols`` of the policy says which of the manual SA's
ESP and AH parts are used. Problems that make a policy unusable (a manual SA without the keys
its algorithms need) are collected, and that policy is left out, never half-installed.
"""

from __future__ import annotations

import base64
import ipaddress
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from functools import partial
from types import MappingProxyType

from pyipsec.config.menus.ipsec import (
    CERTIFICATE,
    KEY,
    MANUAL_SA,
    PEER,
    POLICY,
    PROPOSAL,
    SETTINGS,
)
from pyipsec.config.menus.ipsec7 import IDENTITY, PROFILE, PROFILE_MENU, V7, is_dns_name
from pyipsec.config.menus.ipsec7 import PEER_MENU as PEER_MENU_V7
from pyipsec.config.menus.system import CRL
from pyipsec.config.table import Config, Item, derived, format_id, value_of
from pyipsec.config.types import PROTOCOLS, as_bool, as_list, as_network, parse_seconds
from pyipsec.config.verify import invalid_items
from pyipsec.core.credentials import Credential, Credentials
from pyipsec.core.profiles import (
    AuthMethod,
    ExchangeMode,
    GeneratePolicy,
    Identity,
    IkeSettings,
    PeerProfile,
    ProposalCheck,
    ProposalProfile,
    TemplatePolicy,
)
from pyipsec.crypto import registry
from pyipsec.crypto.base import CryptoError
from pyipsec.dataplane.policy import Action, Direction, Level, Policy
from pyipsec.dataplane.sad import Lifetime, SaParams, SaProtocol, SaSelector

_ACTIONS = {a.value: a for a in Action}
_LEVELS = {lv.value: lv for lv in Level}


@dataclass(frozen=True, slots=True, kw_only=True)
class Compiled:
    policies: tuple[Policy, ...]
    manual_sas: tuple[SaParams, ...]
    problems: tuple[str, ...]
    peers: tuple[PeerProfile, ...] = ()
    proposals: tuple[ProposalProfile, ...] = ()
    templates: tuple[TemplatePolicy, ...] = ()
    credentials: Credentials = field(default_factory=Credentials)
    settings: IkeSettings = field(default_factory=IkeSettings)


def _port(text: str | None) -> int | None:
    return None if text in (None, "any") else int(text)


def _address(text: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    if not text:
        return None
    addr = ipaddress.ip_address(text)
    return None if addr.is_unspecified else addr


def _pair(text: str) -> tuple[str, str]:
    """``in/out`` -> (in, out); a single value serves both directions."""
    inn, _, out = text.partition("/")
    return inn, (out or inn)


def policy_record(config: Config, item: Item) -> Policy:
    menu = config.menu(POLICY)

    def get(name: str) -> str:
        return value_of(menu, item, name) or ""

    protos = set(as_list(get("ipsec-protocols")))
    protocol = PROTOCOLS[get("protocol")] if get("protocol") in PROTOCOLS else int(get("protocol"))
    manual = get("manual-sa")
    return Policy(
        id=item.id,
        src=as_network(get("src-address")),
        dst=as_network(get("dst-address")),
        src_port=_port(get("src-port")),
        dst_port=_port(get("dst-port")),
        protocol=None if protocol == PROTOCOLS["all"] else protocol,
        action=_ACTIONS[get("action")],
        level=_LEVELS[get("level")],
        ah="ah" in protos,
        esp="esp" in protos,
        tunnel=as_bool(get("tunnel")),
        sa_src=_address(get("sa-src-address")),
        sa_dst=_address(get("sa-dst-address")),
        priority=int(get("priority") or 0),
        proposal=get("proposal"),
        manual_sa=None if manual in ("", "none") else manual,
    )


def _manual_sas(config: Config, policy: Policy) -> list[SaParams]:
    table = config.table(MANUAL_SA)
    item = table.by_name(policy.manual_sa or "")
    if item is None:
        raise ValueError(f"manual-sa {policy.manual_sa} does not exist")
    menu = config.menu(MANUAL_SA)

    def get(name: str) -> str:
        return value_of(menu, item, name) or ""

    if as_bool(get("disabled")):
        raise ValueError(f"manual-sa {policy.manual_sa} is disabled")
    if policy.sa_src is None or policy.sa_dst is None:
        raise ValueError("a manually keyed policy needs sa-src-address and sa-dst-address")
    hard = parse_seconds(get("lifetime") or "0s")
    lifetime = Lifetime(hard_add=hard)
    out: list[SaParams] = []
    parts: list[tuple[SaProtocol, str, str | None, str | None, str, str]] = []
    if policy.esp:
        esp_algs = (get("esp-enc-algorithm"), get("esp-auth-algorithm"))
        esp_keys = (get("esp-enc-key"), get("esp-auth-key"))
        parts.append((SaProtocol.ESP, get("esp-spi"), *esp_algs, *esp_keys))
    if policy.ah:
        parts.append((SaProtocol.AH, get("ah-spi"), None, get("ah-algorithm"), "", get("ah-key")))
    for proto, spis, enc_name, auth_name, enc_keys, auth_keys in parts:
        enc = registry.encryption(enc_name) if enc_name else None
        integ = registry.integrity(auth_name) if auth_name else None
        if integ is not None and integ.name == "null" and proto is SaProtocol.AH:
            raise ValueError("AH needs an ah-algorithm other than null")
        if enc is not None and enc.aead:
            integ = None
        for direction, idx in ((Direction.IN, 0), (Direction.OUT, 1)):
            spi = int(_pair(spis)[idx], 16)
            src, dst = (
                (policy.sa_dst, policy.sa_src)
                if direction is Direction.IN
                else (policy.sa_src, policy.sa_dst)
            )
            out.append(
                SaParams(
                    spi=spi,
                    protocol=proto,
                    direction=direction,
                    src=src,
                    dst=dst,
                    mode=policy.mode,
                    encryption=enc,
                    enc_key=bytes.fromhex(_pair(enc_keys)[idx]) if enc else b"",
                    integrity=integ,
                    auth_key=bytes.fromhex(_pair(auth_keys)[idx]) if integ else b"",
                    lifetime=lifetime,
                    policy_id=policy.id,
                    selector=SaSelector.of_policy(policy, direction),
                    # No anti-replay on manual SAs (as `ip xfrm state` defaults to): without a
                    # key exchange nothing can reset the counter, so a restarted or re-enabled
                    # peer would start again at 1 and be dropped as a replay forever.
                    replay_window=0,
                )
            )
    for params in out:  # key lengths are checked by keying once, before anything is installed
        if params.encryption is not None:
            params.encryption.keyed(params.enc_key)
        if params.integrity is not None:
            params.integrity.keyed(params.auth_key)
    return out


def secret_bytes(text: str) -> bytes:
    """A PSK as bytes: ``0x``-prefixed secrets are hex (reference §1.3), others UTF-8."""
    if text.lower().startswith("0x"):
        try:
            return bytes.fromhex(text[2:])
        except ValueError:
            pass
    return text.encode()


def _opt(text: str | None) -> str | None:
    return None if text in (None, "", "none") else text


def peer_profile(config: Config, item: Item) -> PeerProfile:
    menu = config.menu(PEER)

    def get(name: str) -> str:
        return value_of(menu, item, name) or ""

    return _peer_record(
        id=item.id,
        address=as_network(get("address")),
        auth_method=AuthMethod(get("auth-method")),
        my_id=get("my-id"),
        get=get,
    )


def _peer_record(
    *,
    id: int,
    address: ipaddress.IPv4Network | ipaddress.IPv6Network,
    auth_method: AuthMethod,
    my_id: str,
    get: Callable[[str], str],
) -> PeerProfile:
    """The engine record of a peer whose other properties ``get`` reads by their 6.x names
    (from the 6.x peer, or from the v7 peer, identity and profile)."""
    kind, _, value = my_id.partition(":")
    dpd = get("dpd-interval")
    return PeerProfile(
        id=id,
        address=address,
        local_address=_address(get("local-address")),
        passive=as_bool(get("passive")),
        port=int(get("port") or 500),
        auth_method=auth_method,
        secret=secret_bytes(get("secret")),
        certificate=_opt(get("certificate")),
        remote_certificate=_opt(get("remote-certificate")),
        key=_opt(get("key")),
        remote_key=_opt(get("remote-key")),
        generate_policy=GeneratePolicy(get("generate-policy")),
        policy_template_group=get("policy-template-group"),
        exchange_mode=ExchangeMode(get("exchange-mode")),
        send_initial_contact=as_bool(get("send-initial-contact")),
        nat_traversal=as_bool(get("nat-traversal")),
        my_id=Identity(kind=kind or "auto", value=value),
        proposal_check=ProposalCheck(get("proposal-check")),
        hash_algorithm=get("hash-algorithm"),
        enc_algorithms=tuple(as_list(get("enc-algorithm"))),
        dh_groups=tuple(as_list(get("dh-group"))),
        lifetime=parse_seconds(get("lifetime") or "0s"),
        lifebytes=int(get("lifebytes") or 0),
        dpd_interval=None if dpd == "disable-dpd" else parse_seconds(dpd or "0s"),
        dpd_maximum_failures=int(get("dpd-maximum-failures") or 5),
        mode_config=_opt(get("mode-config")),
    )


IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# v7 identity auth-method -> the engine's (6.x names); absent = not supported here.
_V7_AUTH = {
    "pre-shared-key": AuthMethod.PRE_SHARED_KEY,
    "digital-signature": AuthMethod.RSA_SIGNATURE,
    "rsa-key": AuthMethod.RSA_KEY,
    "pre-shared-key-xauth": AuthMethod.PRE_SHARED_KEY_XAUTH,
    "rsa-signature-hybrid": AuthMethod.RSA_SIGNATURE_HYBRID,
    "eap-radius": AuthMethod.EAP_RADIUS,
}


# Where a v7 peer keeps what the 6.x peer held (reference §2.4-§2.6): the v7 peer's and
# profile's own properties there, the rest in its identity.
_V7_PEER_PROPS = frozenset(p.name for p in PEER_MENU_V7.properties)
_V7_PROFILE_PROPS = frozenset(p.name for p in PROFILE_MENU.properties)


def _v7_address(
    text: str, resolved: Mapping[str, IPAddress]
) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    """A v7 peer address as a network: a prefix as is, a DNS name by its resolved address."""
    if not is_dns_name(text):
        return as_network(text)
    addr = resolved.get(text)
    if addr is None:
        raise ValueError(f"address {text} is not resolved yet")
    return ipaddress.ip_network(addr)


def v7_peer_profile(
    config: Config,
    peer: Item,
    identity: Item,
    resolved: Mapping[str, IPAddress],
    profile: Item | None = None,
) -> PeerProfile:
    """The engine record of a v7 peer with its profile and identity: the same record the
    equivalent 6.x peer compiles to. ValueError when the engine cannot honour it."""
    peer_menu, id_menu, prof_menu = config.menu(PEER), config.menu(IDENTITY), config.menu(PROFILE)

    def pv(name: str) -> str:
        return value_of(peer_menu, peer, name) or ""

    def iv(name: str) -> str:
        return value_of(id_menu, identity, name) or ""

    if profile is None:
        profile = config.table(PROFILE).by_name(pv("profile"))
    if profile is None:
        raise ValueError(f"profile {pv('profile')} does not exist")

    def fv(name: str) -> str:
        return value_of(prof_menu, profile, name) or ""

    method = _V7_AUTH.get(iv("auth-method"))
    if method is None:
        raise ValueError(f"auth-method {iv('auth-method')} is not supported")
    if iv("remote-id") not in ("auto", "ignore") or iv("match-by") != "remote-id":
        raise ValueError("remote-id/match-by checks are not supported (remote-id=auto)")
    my_id = iv("my-id")

    def get(name: str) -> str:
        if name in _V7_PEER_PROPS:
            return pv(name)
        return fv(name) if name in _V7_PROFILE_PROPS else iv(name)

    return _peer_record(
        id=peer.id,
        address=_v7_address(pv("address"), resolved),
        auth_method=method,
        my_id="auto" if my_id == "dn" else my_id,
        get=get,
    )


def dns_names(config: Config) -> frozenset[str]:
    """The DNS names of enabled v7 peers' addresses (what a caller resolves for compile)."""
    if config.dialect != V7:
        return frozenset()
    menu = config.menu(PEER)
    return frozenset(
        address
        for item in config.table(PEER)
        if _enabled(config, PEER, item)
        and is_dns_name(address := value_of(menu, item, "address") or "0.0.0.0/0")
    )


def _v7_peers(
    config: Config, resolved: Mapping[str, IPAddress], problems: list[str]
) -> dict[str, PeerProfile]:
    """Enabled v7 peers by name, each with its first enabled identity."""
    identities: dict[str, Item] = {}
    for item in config.table(IDENTITY):
        if not _enabled(config, IDENTITY, item):
            continue
        name = item.values.get("peer", "")
        if name in identities:
            problems.append(f"identity {format_id(item.id)}: peer {name} has an identity already")
            continue
        identities[name] = item
    profiles = {it.values.get("name"): it for it in config.table(PROFILE)}
    out: dict[str, PeerProfile] = {}
    for peer in config.table(PEER):
        name = peer.values.get("name", "")
        if not _enabled(config, PEER, peer):
            continue
        identity = identities.get(name)
        if identity is None:
            problems.append(f"peer {name}: no identity")
            continue
        profile = profiles.get(peer.values.get("profile", "default"))
        address = resolved.get(peer.values.get("address", ""))
        # made from three items (and a resolved name): kept with the peer item together with
        # them, made again when one of them changed (items never change: identity compares)
        kept = peer.memo.get("v7-peer")
        if not (
            isinstance(kept, tuple)
            and kept[0] is identity
            and kept[1] is profile
            and kept[2] == address
            and profile is not None
        ):
            try:
                made: PeerProfile | str = v7_peer_profile(config, peer, identity, resolved, profile)
            except (ValueError, KeyError) as exc:
                made = f"peer {name}: {exc}"  # the text only: a memo outlives its version
            kept = peer.memo["v7-peer"] = (identity, profile, address, made)
        if isinstance(kept[3], str):
            problems.append(kept[3])
        else:
            out[name] = kept[3]
    return out


def _with_peer(
    record: Policy, peer_name: str, peers: Mapping[str, PeerProfile], number: int
) -> Policy | str:
    """A v7 policy's SA addresses from its peer (RouterOS 7 shows them read-only)."""
    peer = peers.get(peer_name)
    if peer is None:
        return f"policy {number}: peer {peer_name} is not usable"
    net = peer.address
    host = net.prefixlen == net.max_prefixlen and not net.network_address.is_unspecified
    sa_dst = net.network_address if host else record.sa_dst
    sa_src = peer.local_address or record.sa_src
    return replace(record, sa_src=sa_src, sa_dst=sa_dst)


def proposal_profile(config: Config, item: Item) -> ProposalProfile:
    menu = config.menu(PROPOSAL)

    def get(name: str) -> str:
        return value_of(menu, item, name) or ""

    return ProposalProfile(
        name=get("name"),
        auth_algorithms=tuple(as_list(get("auth-algorithms"))),
        enc_algorithms=tuple(as_list(get("enc-algorithms"))),
        lifetime=parse_seconds(get("lifetime") or "0s"),
        pfs_group=_opt(get("pfs-group")),
    )


def template_policy(config: Config, item: Item) -> TemplatePolicy:
    p = policy_record(config, item)
    group = value_of(config.menu(POLICY), item, "group") or "default"
    return TemplatePolicy(
        id=p.id, group=group, src=p.src, dst=p.dst, protocol=p.protocol,
        proposal=p.proposal, level=p.level,
    )  # fmt: skip


def ike_settings(config: Config) -> IkeSettings:
    """`/ip ipsec settings` (one item) -> what the IKE engines need of it."""
    menu = config.menu(SETTINGS)
    item = config.single(SETTINGS)
    return IkeSettings(
        ddos_cookie_threshold=int(value_of(menu, item, "ddos-cookie-threshold") or 0)
    )


def pem_der(text: str) -> bytes:
    """The DER inside one PEM block (RFC 7468 §2): the base64 between the BEGIN/END lines."""
    body = "".join(line for line in text.splitlines() if line and not line.startswith("-----"))
    return base64.b64decode(body)


def credentials(config: Config) -> Credentials:
    """`/certificate`, `/certificate crl` and `/ip ipsec key` entries for signature
    authentication (certificates and keys by name)."""
    certs: dict[str, Credential] = {}
    for item in config.table(CERTIFICATE):
        v = item.values
        if "_pem" not in v:
            continue
        certs[v["name"]] = Credential(
            certificate=pem_der(v["_pem"]),
            private_key=v.get("_private") or None,
            trusted=v.get("trusted", "no") == "yes" and v.get("authority", "no") == "yes",
        )
    keys: dict[str, Credential] = {}
    for item in config.table(KEY):
        v = item.values
        if "_public" not in v:
            continue
        keys[v["name"]] = Credential(
            private_key=v.get("_private") or None, public_key=pem_der(v["_public"])
        )
    crls = tuple(pem_der(it.values["_pem"]) for it in config.table(CRL) if "_pem" in it.values)
    return Credentials(certificates=MappingProxyType(certs), keys=MappingProxyType(keys), crls=crls)


def _enabled(config: Config, path: tuple[str, ...], item: Item) -> bool:
    return not as_bool(value_of(config.menu(path), item, "disabled") or "no")


def _policy_of(config: Config, item: Item) -> tuple[str, Policy | TemplatePolicy | str | None]:
    """What one policy item compiles to, from the item alone (so it is computed once per
    item: a change recompiles only the changed policies). A problem is kept as its text, not
    the exception: a memo outlives its configuration version, a traceback would pin it."""
    menu = config.menu(POLICY)
    if as_bool(value_of(menu, item, "disabled") or "no"):
        return "disabled", None
    if as_bool(value_of(menu, item, "template") or "no"):
        return "template", template_policy(config, item)
    try:
        return "policy", policy_record(config, item)
    except (ValueError, KeyError) as exc:
        return "problem", str(exc)


def compile_config(config: Config, *, resolved: Mapping[str, IPAddress] | None = None) -> Compiled:
    """The active policies in evaluation order, the manual SAs they reference, the peers.

    ``resolved`` maps the DNS names of v7 peer addresses to addresses (the caller resolves;
    this module does no I/O): a peer whose name is not in it is left out until it is."""
    invalid = invalid_items(config).get(POLICY, set())
    policies: list[Policy] = []
    sas: list[SaParams] = []
    problems: list[str] = []
    v7_peers = _v7_peers(config, resolved or {}, problems) if config.dialect == V7 else None
    templates: list[TemplatePolicy] = []
    manual: dict[str | None, Item] | None = None  # manual-sa items by name, when needed
    for number, item in enumerate(config.table(POLICY)):
        if item.id in invalid:
            continue
        kind, record = derived(item, "compiled", partial(_policy_of, config, item))
        if kind == "disabled":
            continue
        if isinstance(record, TemplatePolicy):
            templates.append(record)
            continue
        if kind == "problem":
            problems.append(f"policy {number}: {record}")
            continue
        assert isinstance(record, Policy)
        peer_name = item.values.get("peer", "none") if v7_peers is not None else "none"
        if peer_name != "none" and v7_peers is not None:
            # depends on the peer's record too: kept with the policy item together with it
            peer_record = v7_peers.get(peer_name)
            kept_peer = item.memo.get("with-peer")
            if (
                isinstance(kept_peer, tuple)
                and kept_peer[0] is peer_record
                and kept_peer[1] is record
                and peer_record is not None
            ):
                with_peer = kept_peer[2]
            else:
                with_peer = _with_peer(record, peer_name, v7_peers, number)
                item.memo["with-peer"] = (peer_record, record, with_peer)
            if isinstance(with_peer, str):
                problems.append(with_peer)
                continue
            record = with_peer
        if record.manual_sa is not None:
            # depends on the manual-sa item too: kept with the policy item together with the
            # manual-sa item it was made from, and made again when that item changed
            if manual is None:
                manual = {it.values.get("name"): it for it in config.table(MANUAL_SA)}
            source = manual.get(record.manual_sa)
            kept = item.memo.get("manual-sas")
            if not (isinstance(kept, tuple) and kept[0] is source and source is not None):
                try:
                    made: list[SaParams] | str = _manual_sas(config, record)
                except (ValueError, KeyError, CryptoError) as exc:
                    made = str(exc)  # the text only, as for _policy_of
                kept = item.memo["manual-sas"] = (source, made)
            if isinstance(kept[1], str):
                problems.append(f"policy {number}: {kept[1]}")
                continue
            sas.extend(kept[1])
        policies.append(record)
    if v7_peers is not None:
        peers = tuple(v7_peers.values())
    else:
        peers = tuple(
            derived(item, "peer", partial(peer_profile, config, item))
            for item in config.table(PEER)
            if _enabled(config, PEER, item)
        )
    proposals = tuple(
        derived(item, "proposal", partial(proposal_profile, config, item))
        for item in config.table(PROPOSAL)
        if _enabled(config, PROPOSAL, item)
    )
    return Compiled(
        policies=tuple(policies),
        manual_sas=tuple(sas),
        problems=tuple(problems),
        peers=peers,
        proposals=proposals,
        templates=tuple(templates),
        credentials=credentials(config),
        settings=ike_settings(config),
    )
