"""Hypothesis over the RouterOS 7 dialect:

* any valid v7 configuration exports (compact and verbose, ``show-sensitive``) and imports into
  an empty database - which the export's header makes a v7 one - to the same items and the
  same export text;
* any 6.x configuration v7 can say converts to v7 and back to the same export, and compiles to
  the same engine records in both dialects.

``ROUNDTRIP_EXAMPLES=N`` for longer runs.
"""

from __future__ import annotations

import os
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pyipsec.config.compile import Compiled, compile_config
from pyipsec.config.convert import to_v6, to_v7
from pyipsec.config.menus import menus_for
from pyipsec.config.menus.ipsec7 import PROFILE_DH, PROFILE_ENC, PROFILE_HASH, PeerAddress
from pyipsec.config.schema import Menu, Property
from pyipsec.config.store import Store
from pyipsec.config.table import Config, value_of
from pyipsec.config.types import Time, format_seconds
from pyipsec.mgmt.commands import dispatch
from tests.mgmt.helpers import Console
from tests.mgmt.test_roundtrip import TEXT, prefix, value_strategy

V7_ORDER = [
    ("ip", "ipsec", "mode-config"),
    ("ip", "ipsec", "policy", "group"),
    ("ip", "ipsec", "profile"),
    ("ip", "ipsec", "proposal"),
    ("ip", "ipsec", "peer"),
    ("ip", "ipsec", "identity"),
    ("ip", "ipsec", "policy"),
]
EXAMPLES = int(os.environ.get("ROUNDTRIP_EXAMPLES", "40"))
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
dns_name = st.from_regex(r"[a-z]([a-z0-9-]{0,7}[a-z0-9])?\.example\.(net|org)", fullmatch=True)
host = st.ip_addresses(v=4).map(lambda a: f"{a}/32")


def v7_value(prop: Property) -> st.SearchStrategy[str]:
    t = prop.type
    if isinstance(t, PeerAddress):
        return prefix | host | dns_name
    if isinstance(t, Time):  # dpd-interval: at most an hour in v7
        times = st.integers(t.lo, min(t.hi, 10**7)).map(format_seconds)
        return times | st.sampled_from(t.keywords) if t.keywords else times
    return value_strategy(prop)


@st.composite
def v7_configurations(draw: st.DrawFn) -> list[tuple[tuple[str, ...], str, dict[str, str]]]:
    menus = menus_for("v7")
    names: dict[tuple[str, ...], list[str]] = {
        p: [v["name"] for v in menus[p].default_items if "name" in v] for p in V7_ORDER
    }
    steps = []
    addresses: list[str] = []
    for path in V7_ORDER:
        menu: Menu = menus[path]
        for _ in range(draw(st.integers(0, 3))):
            args: dict[str, str] = {}
            ok = True
            for prop in menu.writable:
                if prop.ref is not None:
                    known = names.get(prop.ref, [])
                    if known and (prop.required or draw(st.booleans())):
                        args[prop.name] = draw(st.sampled_from(known))
                    elif prop.required:
                        ok = False
                    continue
                if prop.name == menu.key:
                    taken = list(names[path])
                    name = draw(TEXT.filter(lambda n, taken=taken: bool(n) and n not in taken))
                    names[path].append(name)
                    args[prop.name] = name
                elif draw(st.integers(0, 3)) == 0:
                    args[prop.name] = draw(v7_value(prop))
            if path == ("ip", "ipsec", "peer"):  # one initiator per address (RouterOS 7)
                taken = addresses  # compared canonically (10.1.2.3/8 is 10.0.0.0/8)
                args["address"] = draw(
                    (prefix | host | dns_name).filter(
                        lambda a, taken=taken: PeerAddress().parse(a) not in taken
                    )
                )
                addresses.append(PeerAddress().parse(args["address"]))
            if ok:
                steps.append((path, "add", args))
    return steps


def effective(config: Config) -> dict[tuple[str, ...], list[dict[str, str | None]]]:
    out = {}
    for path in V7_ORDER:
        menu = config.menu(path)
        out[path] = [
            {p.name: value_of(menu, it, p.name) for p in menu.writable} | {"d": str(it.default)}
            for it in config.table(path)
        ]
    return out


@SETTINGS
@given(steps=v7_configurations())
def test_v7_export_import_round_trip(
    tmp_path: Path, steps: list[tuple[tuple[str, ...], str, dict[str, str]]]
) -> None:
    source = Console(Store(":memory:", dialect="v7"), files_dir=tmp_path)
    for path, command, args in steps:
        dispatch(source.session, path, command, args)
    want = effective(source.store.load())
    for mode in ("show-sensitive", "verbose show-sensitive"):
        text = source.export(mode)
        (tmp_path / "x.rsc").write_text(text)
        target = Console(files_dir=tmp_path)  # a new (6.x) database: the import makes it v7
        target.ok("/import file-name=x.rsc")
        assert target.store.snapshot().dialect == "v7"
        assert effective(target.store.load()) == want
        assert target.export(mode) == text


# -- 6.x configurations v7 can say

V6_PEER_VALUES: dict[str, st.SearchStrategy[str]] = {
    "address": prefix | host,
    "local-address": st.ip_addresses(v=4).map(str),
    "passive": st.sampled_from(["yes", "no"]),
    "port": st.integers(1, 65535).map(str),
    "secret": TEXT,
    "exchange-mode": st.sampled_from(["main", "aggressive", "base", "ike2"]),
    "send-initial-contact": st.sampled_from(["yes", "no"]),
    "nat-traversal": st.sampled_from(["yes", "no"]),
    "my-id": st.sampled_from(["auto", "fqdn:a.example", "user-fqdn:u@x", "key-id:k1"]),
    "generate-policy": st.sampled_from(["no", "port-override", "port-strict"]),
    "proposal-check": st.sampled_from(["obey", "claim", "strict", "exact"]),
    "hash-algorithm": st.sampled_from([h for h in PROFILE_HASH if h != "sha384"]),
    "enc-algorithm": st.lists(st.sampled_from(PROFILE_ENC), min_size=1, unique=True).map(",".join),
    "dh-group": st.lists(st.sampled_from(PROFILE_DH), min_size=1, unique=True).map(",".join),
    "lifetime": st.sampled_from(["1d", "8h", "30m", "0s"]),
    "lifebytes": st.integers(0, 10**9).map(str),
    "dpd-interval": st.sampled_from(["2m", "10s", "disable-dpd"]),
    "dpd-maximum-failures": st.integers(1, 100).map(str),
    "xauth-login": TEXT,
    "disabled": st.sampled_from(["yes", "no"]),
    "comment": TEXT,
}


@st.composite
def v6_configurations(draw: st.DrawFn) -> list[tuple[tuple[str, ...], str, dict[str, str]]]:
    steps: list[tuple[tuple[str, ...], str, dict[str, str]]] = []
    hosts: list[str] = []
    locals_: list[str] = []
    addresses: list[str] = []
    for _ in range(draw(st.integers(0, 4))):
        args = {k: draw(v) for k, v in V6_PEER_VALUES.items() if draw(st.integers(0, 2)) == 0}
        taken = addresses  # v7 has one initiator per address and exchange mode (canonical)
        args["address"] = draw(
            (prefix | host).filter(lambda a, taken=taken: PeerAddress().parse(a) not in taken)
        )
        addresses.append(PeerAddress().parse(args["address"]))
        if args.get("address", "").endswith("/32"):
            hosts.append(args["address"][:-3])
        if "local-address" in args:
            locals_.append(args["local-address"])
        steps.append((("ip", "ipsec", "peer"), "add", args))
    policy = menus_for("v6")[("ip", "ipsec", "policy")]
    skip = {"priority", "manual-sa", "dont-fragment", "sa-src-address", "sa-dst-address"}
    for _ in range(draw(st.integers(0, 4))):
        args = {
            p.name: draw(value_strategy(p))
            for p in policy.writable
            if p.ref is None and p.name not in skip and draw(st.integers(0, 3)) == 0
        }
        if hosts and draw(st.booleans()):
            args["sa-dst-address"] = draw(st.sampled_from(hosts))
        if locals_ and draw(st.booleans()):
            args["sa-src-address"] = draw(st.sampled_from(locals_))
        steps.append((("ip", "ipsec", "policy"), "add", args))
    return steps


def _records(compiled: Compiled) -> tuple[object, ...]:
    return (compiled.policies, compiled.peers, compiled.proposals, compiled.templates)


def _export(config: Config) -> str:
    store = Store(":memory:", dialect=config.dialect)
    store.replace(config)
    text = Console(store).ok("/ip ipsec export verbose show-sensitive")
    return "".join(line + "\n" for line in text.splitlines() if not line.startswith("#"))


@SETTINGS
@given(steps=v6_configurations())
def test_6x_to_v7_and_back(steps: list[tuple[tuple[str, ...], str, dict[str, str]]]) -> None:
    source = Console()
    for path, command, args in steps:
        dispatch(source.session, path, command, args)
    v6 = source.store.snapshot()
    v7 = to_v7(v6)
    assert _records(compile_config(v7)) == _records(compile_config(v6))
    back = to_v6(v7)
    assert _export(back) == _export(v6)
    assert _records(compile_config(back)) == _records(compile_config(v6))
