"""Whatever is typed, the console answers with output or an error message: never a crash,
and a rejected command never changes the database."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.mgmt.helpers import Console

WORDS = st.sampled_from(
    [
        "/", "..", "/ip", "ipsec", "policy", "peer", "proposal", "group", "installed-sa",
        "statistics", "/system", "identity", "add", "set", "unset", "remove", "enable",
        "disable", "comment", "move", "find", "get", "print", "export", "flush",
        "kill-connections", "detail", "terse", "brief", "value-list", "count-only", "where",
        "from=0", "0", "1", "*1", "*FF", "default", "name=x", "name=", "src-address=10.0.0.0/8",
        "dst-port=any", "tunnel=yes", "proposal=default", "proposal=nope", "priority=-5",
        "place-before=0", "copy-from=0", "destination=0", "value-name=name", "numbers=0,1",
        "disabled", "!disabled", "and", "or", "(", ")", "=", "~", "in", "[", "]", "[find]",
        "[find default=yes]", '"quoted word"', "\\", ";", "#", "?", ":put", "verbose",
        "hide-sensitive", "file-name=x", "exchange-mode=ike2", "dh-group=modp1024,ecp256",
        "comment=\"a b\"", "=x", "x=", "lifetime=1h", "lifetime=1x", "\n",
    ]
)  # fmt: skip

LINES = st.lists(WORDS, min_size=1, max_size=8).map(" ".join) | st.text(max_size=40)


@settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "300")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(st.lists(LINES, min_size=1, max_size=5))
def test_console_never_crashes(lines: list[str]) -> None:
    c = Console()
    c.ok("/ip ipsec proposal add name=p1\n/ip ipsec policy add src-address=10.9.0.0/16")
    for line in lines:
        before = c.store._current_generation()
        snapshot = c.store.load()
        ok = c.interp.run(line)
        if not ok and "\n" not in line and ";" not in line:
            # a single failing command changed nothing
            assert c.store._current_generation() == before
            assert c.store.load().tables == snapshot.tables
