"""Whatever script text is typed or pasted, the interpreter answers with output or a RouterOS
error message: never a Python exception (which would end the console, or a daemon request)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.mgmt.helpers import Console

TOKENS = st.sampled_from(
    [
        ":put", ":local", ":global", ":set", ":if", ":for", ":foreach", ":while", ":do", ":len",
        ":pick", ":find", ":typeof", ":tostr", ":tonum", ":toarray", ":tobool", ":toip",
        ":totime", ":toid", ":log", ":delay", ":return", ":error", ":parse", ":resolve",
        ":environment", "print", "info", "x", "y", "i", "k,v", "$x", "$y", "$i", "$x->0",
        '$x->"a"', '$"a-b"', "$", "(", ")", "{", "}", "[", "]", "(1+2)", "($x . $y)", "($x->1)",
        "(1/0)", "(-$x)", "(!$x)", "(~$x)", "($x in 10.0.0.0/8)", "($x ~ \"a(\")", "($x, $y)",
        "(10.0.0.1 + $x)", "(1h * $x)", "($x << 70)", "{1;2;3}", "{a=1;b={2;3}}", "{}", "do=",
        "do={:put 1}", "else={}", "on-error={:put e}", "in=", "in=$x", "from=", "to=3",
        "step=0", "step=-1", "while=(false)", "1", "-1", "0x", "0xFF", "9223372036854775807",
        "99999999999999999999", "10.0.0.1", "10.0.0.0/33", "fe80::1", "1h", "01:00:00", "*1",
        "true", "false", '"s"', '"$x"', '"$[:len $x]"', '"$(1+"', "=", ";", "\n", "/ip ipsec peer",
        "add", "find", "get", "set", "0", "where", "comment~$x", "address=$x", "[find]",
        "print as-value", "print count-only", "print interval=0", "print follow",
        "print file=$x", "print file=fz", "edit 0 comment", "get 0", "-", "->",
    ]
)  # fmt: skip

SCRIPTS = st.lists(TOKENS, min_size=1, max_size=12).map(" ".join) | st.text(max_size=40)


@settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "300")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(st.lists(SCRIPTS, min_size=1, max_size=4))
def test_scripts_never_raise(texts: list[str]) -> None:
    with tempfile.TemporaryDirectory() as files:
        run_all(Console(files_dir=Path(files)), texts)


def run_all(c: Console, texts: list[str]) -> None:
    c.interp.sleep = lambda _s: None
    c.interp.resolver = lambda _n: ""
    c.interp.step_budget = 2000  # `:while (true)` is a valid script; bound it here
    c.ok("/ip ipsec peer add address=203.0.113.1 comment=a")
    for text in texts:
        c.interp.run(text)
