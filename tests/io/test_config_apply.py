"""The daemon's configuration apply path: a console command reaches the SPD as its difference.

No root needed: the daemon object is driven without its data plane (``apply_config`` is what
the control socket calls after every request). Everything is counted, nothing is timed.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from ipaddress import ip_network
from pathlib import Path
from typing import Any

import pytest

from pyipsec.config.store import Store
from pyipsec.dataplane.policy import Action, Policy
from pyipsec.dataplane.spd import Spd
from pyipsec.io import daemon as daemon_module
from pyipsec.io.daemon import Daemon, DaemonOptions
from pyipsec.mgmt.cli.interpreter import Interpreter

POLICY = ("ip", "ipsec", "policy")


class Calls:
    """Counts the SPD's change operations."""

    def __init__(self, spd: Any, monkeypatch: pytest.MonkeyPatch) -> None:
        self.log: list[str] = []
        for name in ("add", "insert", "remove", "replace_all"):
            real = getattr(spd, name)
            monkeypatch.setattr(spd, name, self._wrap(name, real))

    def _wrap(self, name: str, real: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            self.log.append(name)
            return real(*args, **kwargs)

        return call

    def take(self) -> list[str]:
        out, self.log = sorted(self.log), []
        return out


def _daemon(tmp_path: Path, policies: int) -> tuple[Daemon, Interpreter]:
    db = tmp_path / f"{policies}.db"
    d = Daemon(DaemonOptions(db=db))
    d.store = Store(db)
    out: list[str] = []
    interp = Interpreter(d.session(), write=out.append)
    lines = [
        f"add src-address=10.{n // 250}.{n % 250}.0/24 dst-address=10.200.{n // 250}.{n % 250}"
        for n in range(policies)
    ]
    assert interp.run("/ip ipsec policy\n" + "\n".join(lines)), out
    d.apply_config()
    return d, interp


def _run(d: Daemon, interp: Interpreter, text: str) -> None:
    assert interp.run(text), text
    d.apply_config()


def _spd_ids(d: Daemon) -> list[int]:
    return [p.id for p in d.spd]


def _configured_ids(d: Daemon) -> list[int]:
    assert d.compiled is not None
    return [p.id for p in d.compiled.policies]


@pytest.mark.parametrize("size", [10, 1000])
def test_the_spd_receives_only_the_changed_policy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, size: int
) -> None:
    d, interp = _daemon(tmp_path, size)
    calls = Calls(d.spd, monkeypatch)
    _run(d, interp, "/ip ipsec policy add src-address=10.99.0.0/24 dst-address=10.98.0.0/24")
    assert calls.take() == ["insert"]
    _run(
        d,
        interp,
        "/ip ipsec policy add src-address=10.97.0.0/24 dst-address=10.98.0.0/24 place-before=3",
    )
    assert calls.take() == ["insert"]
    _run(d, interp, "/ip ipsec policy set [ find src-address=10.99.0.0/24 ] priority=3")
    assert calls.take() == ["insert", "remove"]  # the changed record replaces the old one
    _run(d, interp, "/ip ipsec policy disable 5")
    assert calls.take() == ["remove"]
    _run(d, interp, "/ip ipsec policy enable 5")
    assert calls.take() == ["insert"]
    _run(d, interp, "/ip ipsec policy remove [ find src-address=10.97.0.0/24 ]")
    assert calls.take() == ["remove"]
    _run(d, interp, "/ip ipsec policy print count-only")
    assert calls.take() == []
    # and the SPD holds exactly the configured policies, in evaluation order
    assert sorted(_spd_ids(d)) == sorted(_configured_ids(d))
    assert _spd_ids(d)[0] == _configured_ids(d)[-1]  # priority 3 first, then list order
    assert _spd_ids(d)[1:] == _configured_ids(d)[:-1]


def test_inserted_policies_keep_list_order_and_stay_before_dynamic_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    d, interp = _daemon(tmp_path, 20)
    dynamic = Policy(id=1 << 40, src=ip_network("10.77.0.0/24"), dst=ip_network("10.78.0.0/24"))
    d.backend.add_policy(dynamic)
    assert _spd_ids(d)[-1] == dynamic.id
    calls = Calls(d.spd, monkeypatch)
    for n in range(30):  # many at one place, then at the end (before the dynamic one)
        _run(
            d,
            interp,
            f"/ip ipsec policy add src-address=10.60.{n}.0/24 dst-address=10.61.0.0/24 "
            "place-before=4",
        )
        _run(d, interp, f"/ip ipsec policy add src-address=10.62.{n}.0/24 dst-address=10.61.0.0/24")
        assert _spd_ids(d) == [*_configured_ids(d), dynamic.id]
    assert "replace_all" not in calls.take()
    _run(d, interp, "/ip ipsec policy move 7 2")  # a reordering: rebuilt, still right
    assert calls.take() == ["replace_all"]
    assert _spd_ids(d) == [*_configured_ids(d), dynamic.id]


def test_nothing_is_compiled_while_the_configuration_is_unchanged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    d, interp = _daemon(tmp_path, 50)
    compiles: list[int] = []
    real = daemon_module.compile_config
    monkeypatch.setattr(
        daemon_module, "compile_config", lambda c, **kw: compiles.append(1) or real(c, **kw)
    )
    for _ in range(5):  # what the control socket and the once-a-second tick do
        _run(d, interp, "/ip ipsec policy print count-only")
        d.apply_config()
    assert compiles == []
    _run(d, interp, "/ip ipsec policy set 3 comment=x")
    assert compiles == [1]
    # a change made by another process (the console writing the database directly)
    with Store(d.options.db) as other:
        other.transaction(lambda c: c.table(("ip", "ipsec", "policy")).remove(5))
    d.apply_config()
    assert compiles == [1, 1]
    assert 5 not in _spd_ids(d)


def test_a_policy_change_leaves_the_engines_peers_alone(tmp_path: Path) -> None:
    d, interp = _daemon(tmp_path, 20)
    _run(d, interp, '/ip ipsec peer add address=203.0.113.7/32 secret="not-a-real-secret"')
    peers = d.engine.ikev1.peers
    assert len(peers) == 1
    _run(d, interp, "/ip ipsec policy add src-address=10.99.0.0/24 dst-address=10.98.0.0/24")
    # the same records and the same tuple: the engine neither walks its SAs for a peer change
    # nor rebuilds its responder peer index
    assert d.engine.ikev1.peers is peers
    _run(d, interp, '/ip ipsec peer set 0 secret="another-test-secret"')
    assert (
        d.engine.ikev1.peers is not peers
        and d.engine.ikev1.peers[0].secret == b"another-test-secret"
    )


class RouteRecorder:
    """Stands in for the data plane: the multiset of (src, dst) the routes are kept for."""

    def __init__(self) -> None:
        self.pairs: Counter[tuple[object, object]] = Counter()

    def sync_policies(self, policies: list[Policy]) -> None:
        self.pairs = Counter((p.src, p.dst) for p in policies if p.action is not Action.NONE)

    def change_policies(self, added: list[Policy], removed: list[Policy]) -> None:
        self.pairs.subtract((p.src, p.dst) for p in removed if p.action is not Action.NONE)
        self.pairs.update((p.src, p.dst) for p in added if p.action is not Action.NONE)
        assert min(self.pairs.values(), default=0) >= 0


def test_random_edits_keep_spd_and_routes_equal_to_a_rebuild(tmp_path: Path) -> None:
    d, interp = _daemon(tmp_path, 40)
    routes = RouteRecorder()
    d.dataplane = routes  # type: ignore[assignment]
    d._spd_configured = None  # the next apply rebuilds, with the recorder in place
    _run(d, interp, "/ip ipsec policy add src-address=10.90.0.0/24 dst-address=10.91.0.0/24")
    rng = random.Random(4)
    for step in range(250):
        count = len(d.store.snapshot().table(POLICY))  # type: ignore[union-attr]
        pick, other = rng.randrange(1, count), rng.randrange(1, count)
        net = f"10.{100 + step // 250}.{step % 250}.0/24"
        text = rng.choice(
            [
                f"add src-address={net} dst-address=10.50.{step % 7}.0/24",
                f"add src-address={net} dst-address=10.50.0.0/24 place-before={pick}",
                f"set {pick} priority={rng.randrange(3)}",
                f"set {pick} action={rng.choice(['encrypt', 'none', 'discard'])}",
                f"set {pick} dst-address=10.60.{step % 9}.0/24",
                f"disable {pick}",
                f"enable {pick}",
                f"remove {pick}",
                f"move {pick} {other}",
            ]
        )
        assert interp.run(f"/ip ipsec policy {text}") or "remove" in text or "move" in text
        d.apply_config()
        assert d.compiled is not None
        rebuilt = Spd(d.backend.policies(d.compiled.policies))
        assert [p.id for p in d.spd] == [p.id for p in rebuilt], text
        assert +routes.pairs == Counter(
            (p.src, p.dst) for p in d.compiled.policies if p.action is not Action.NONE
        ), text


def _dynamic(n: int, dst: int = 0) -> Policy:
    return Policy(
        id=(1 << 40) + n,
        src=ip_network(f"10.{100 + n // 250}.{n % 250}.0/24"),
        dst=ip_network(f"10.{200 + dst}.0.0/24"),
    )


def test_a_generated_policy_is_applied_without_comparing_the_other_generated_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """IKE adds a generated policy per setup (generate-policy): the SPD takes it without the
    daemon comparing it against every generated policy it already has (before: each addition
    compared all of them, so a burst of n setups cost O(n^2) policy comparisons)."""
    d, _interp = _daemon(tmp_path, 5)
    for n in range(1000):
        d.backend.add_policy(_dynamic(n))
    compared = [0]
    real_eq = Policy.__eq__

    def counting_eq(self: Policy, other: object) -> bool:
        compared[0] += 1
        return real_eq(self, other)

    monkeypatch.setattr(Policy, "__eq__", counting_eq)
    calls = Calls(d.spd, monkeypatch)
    d.backend.add_policy(_dynamic(1000))
    d.backend.remove_policy(_dynamic(500).id)
    d.backend.add_policy(_dynamic(7, dst=1))  # the same id, another policy: replaced
    assert calls.take() == ["add", "add", "remove", "remove"]
    assert compared[0] <= 4, compared[0]
    # a replaced generated policy goes to the end, as a new one does
    order = [_dynamic(n).id for n in (*range(7), *range(8, 500), *range(501, 1001), 7)]
    assert _spd_ids(d) == [*_configured_ids(d), *order]
    assert [p for p in d.spd][-1] == _dynamic(7, dst=1)


def test_generated_and_configured_changes_mixed_keep_the_spd_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The SPD holds the configured policies in order, then the generated ones in the order
    they were added (a replaced one counts as added anew; a rebuild of the SPD after a
    configuration change takes them in the backend's order): checked against that model."""
    d, interp = _daemon(tmp_path, 10)
    calls = Calls(d.spd, monkeypatch)
    rng = random.Random(7)
    model: dict[int, Policy] = {}  # generated policies in SPD order
    for step in range(300):
        n = rng.randrange(60)
        roll = rng.random()
        if roll < 0.4:
            p = _dynamic(n, dst=rng.randrange(3))
            d.backend.add_policy(p)
            if model.get(p.id) != p:
                model.pop(p.id, None)
                model[p.id] = p
        elif roll < 0.7:
            d.backend.remove_policy(_dynamic(n).id)
            model.pop(_dynamic(n).id, None)
        else:
            net = f"10.{30 + step // 250}.{step % 250}.0/24"
            _run(d, interp, f"/ip ipsec policy add src-address={net} dst-address=10.31.0.0/24")
            if "replace_all" in calls.take():
                model = dict(d.backend.dynamic)
        assert list(d.spd) == [*(d.compiled.policies if d.compiled else ()), *model.values()]
