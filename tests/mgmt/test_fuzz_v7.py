"""The RouterOS 7 console: whatever is typed, output or an error, never a crash, and a rejected
command never changes the database (the v7 menus, properties and references; ``/import`` of
scripts of either dialect included)."""

from __future__ import annotations

import os
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pyipsec.config.store import Store
from tests.config.test_dialect_v7 import V7_SITE
from tests.mgmt.helpers import Console

WORDS = st.sampled_from(
    [
        "/", "..", "/ip", "ipsec", "/ip/ipsec/profile", "ip/ipsec/peer/", "profile", "peer",
        "identity", "policy", "proposal", "active-peers", "installed-sa", "mode-config",
        "settings", "add", "set", "unset", "remove", "enable", "disable", "comment", "find",
        "get", "print", "export", "detail", "terse", "brief", "count-only", "where", "0", "1",
        "*1", "*2", "default", "ike1-site2", "name=x", "name=", "name=ike1-site2",
        "address=gw.example.net", "address=10.0.0.1/32", "address=bad_name", "profile=x",
        "profile=default", "peer=ike1-site2", "peer=nope", "peer=none", "secret=s",
        "auth-method=digital-signature", "auth-method=eap", "remote-id=fqdn:a", "my-id=dn",
        "match-by=certificate", "dh-group=x25519,ecp256", "enc-algorithm=blowfish",
        "hash-algorithm=sha384", "prf-algorithm=sha256", "ppk=no", "ppk=psk",
        "dpd-interval=2h", "passive=yes", "exchange-mode=main-l2tp", "exchange-mode=ike2",
        "use-responder-dns=yes", "responder=yes", "sa-src-address=10.0.0.1", "priority=1",
        "show-sensitive", "hide-sensitive", "verbose", "dialect=v6", "dialect=v7",
        "dialect=v8", "value-name=sa-dst-address", "responder", "[find]", "\\n", ":put",
        "file-name=x.rsc", "/import", "/import file-name=x.rsc", "/import file-name=x.rsc",
    ]
)  # fmt: skip
LINES = st.lists(WORDS, min_size=1, max_size=8).map(" ".join)
SCRIPTS = st.sampled_from(
    [
        V7_SITE,
        "/ip ipsec peer add address=10.7.0.1/32 secret=x dh-group=modp2048\n",
        "# sep/05/2018 22:53:03 by RouterOS 6.42.7\n/ip ipsec proposal\nadd name=q\n",
        "/ip ipsec profile add name=z dh-group=nope\n",
        "/ip/ipsec/identity/add peer=ike1-site2 secret=two\n",
    ]
)


@settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(st.lists(LINES, min_size=1, max_size=5), SCRIPTS)
def test_v7_console_never_crashes(tmp_path: Path, lines: list[str], script: str) -> None:
    (tmp_path / "x.rsc").write_text(script)
    c = Console(Store(":memory:", dialect="v7"), files_dir=tmp_path)
    c.ok(V7_SITE)
    for line in lines:
        before = c.store.generation()
        snapshot = c.store.load()
        ok = c.interp.run(line)
        if not ok and "\n" not in line:
            assert c.store.generation() == before, line
            assert c.store.load().tables == snapshot.tables
            assert c.store.snapshot().dialect == snapshot.dialect
