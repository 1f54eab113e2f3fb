"""The RouterOS scripting language in the console: variables, expressions, control flow,
typed command values, and RouterOS-style errors for what is not valid.

Expected outputs follow the MikroTik "Scripting" manual (help.mikrotik.com/docs/display/ROS/
Scripting: data types, operators, ``:pick "abcde" 1 3`` = ``bc``, ``(192.168.88.77&0.0.0.255)``,
``:typeof`` names) and RouterOS console behaviour (times print as ``01:30:00``, booleans as
``true``/``false``, arrays joined by ``;``).
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from pyipsec.mgmt.cli.interpreter import Interpreter
from pyipsec.mgmt.cli.script.scope import Globals
from tests.mgmt.helpers import Console


def put(c: Console, text: str) -> str:
    return c.ok(text)


@pytest.mark.parametrize(
    ("script", "output"),
    [
        (":put (1+2)", "3"),
        (":put (7 / 2)", "3"),
        (":put (-7 / 2)", "-3"),
        (":put (7 % 3)", "1"),
        (":put (2 + 3 * 4)", "14"),
        (":put ((2 + 3) * 4)", "20"),
        (':put ("a" . "b")', "ab"),
        (':put ("n=" . (1 + 1))', "n=2"),
        (":put (1h + 30m)", "01:30:00"),
        (":put (1d + 2h)", "1d02:00:00"),
        (":put (1w + 1s)", "1w00:00:01"),
        (":put (90s * 2)", "00:03:00"),
        (":put 500ms", "00:00:00.5"),
        (":put (10.0.0.1 + 1)", "10.0.0.2"),
        (":put (10.0.0.10 - 10.0.0.1)", "9"),
        (":put (192.168.88.77&0.0.0.255)", "0.0.0.77"),  # the manual's examples
        (":put (192.168.88.77|0.0.0.255)", "192.168.88.255"),
        (":put (1.1.1.1/32 in 1.0.0.0/8)", "true"),
        (':put ($nothing."a")', "a"),
        (":put (192.168.88.77 & 255.255.255.0)", "192.168.88.0"),
        (":put (192.168.88.77 | 0.0.0.255)", "192.168.88.255"),
        (":put (10.1.2.3 in 10.0.0.0/8)", "true"),
        (":put (10.1.0.0/16 in 10.0.0.0/8)", "true"),
        (":put (172.16.0.1 in 10.0.0.0/8)", "false"),
        (":put (1 < 2 && 2 < 3)", "true"),
        (":put (1 > 2 || !(2 > 3))", "true"),
        (":put (1 = 1 and 2 != 3)", "true"),
        (':put ("abc" ~ "^a.c\\$")', "true"),
        (':put ("abc" = "abd")', "false"),
        (":put ({1;2},3)", "1;2;3"),
        (":put 0x1F", "31"),
        (":put [:typeof 1]", "num"),
        (':put [:typeof "1"]', "str"),
        (":put [:typeof true]", "bool"),
        (":put [:typeof 10.0.0.1]", "ip"),
        (":put [:typeof 10.0.0.0/8]", "ip-prefix"),
        (":put [:typeof fe80::1]", "ip6"),
        (":put [:typeof 2001:db8::/32]", "ip6-prefix"),
        (":put [:typeof 1h]", "time"),
        (":put [:typeof 01:30:00]", "time"),
        (":put [:typeof *1A]", "id"),
        (":put [:typeof {1;2}]", "array"),
        (":put [:typeof $nosuchvariable]", "nothing"),
        (":local v; :put [:typeof $v]", "nil"),
        (":local f do={:put x}; :put [:typeof $f]", "code"),
        (':put [:len "length=8"]', "8"),
        (":put [:len {1;2;3}]", "3"),
        (':put [:pick "abcde" 1 3]', "bc"),
        (':put [:pick "abcde" 2]', "c"),
        (":put [:pick {10;20;30} 1]", "20"),
        (":put [:pick {10;20;30} 1 3]", "20;30"),
        (':put [:find "abc" "a" -1]', "0"),
        (':put [:find "abcabc" "c" 2]', "5"),
        (':put [:typeof [:find "abc" "x"]]', "nil"),
        (":put [:find {5;6;7} 6]", "1"),
        (":put [:tostr 1h]", "01:00:00"),
        (':put ([:tonum "41"] + 1)', "42"),
        (':put [:typeof [:tonum "x"]]', "nil"),
        (':put [:tobool "yes"]', "true"),
        (':put [:toip "10.0.0.1"]', "10.0.0.1"),
        (':put [:typeof [:toip "10.0.0.1"]]', "ip"),
        (':put [:totime "1h"]', "01:00:00"),
        (':put [:toarray "a,b,c"]', "a;b;c"),
        (':put [:len [:toarray "a,b,c"]]', "3"),
        (":put {b=2;a=1}", "a=1;b=2"),
        (':local a {x=1;y=2}; :put ($a->"y")', "2"),
        (":local a {10;20}; :put ($a->1)", "20"),
        (':local a {x=1}; :set ($a->"y") 2; :put $a', "x=1;y=2"),
        (':local n 3; :put "n is $n, next $($n + 1), len $[:len "abc"]"', "n is 3, next 4, len 3"),
        (':put "cost \\$5"', "cost $5"),
    ],
)
def test_expressions_values_and_builtins(script: str, output: str) -> None:
    assert Console().ok(script) == output + "\n"


def test_control_flow() -> None:
    c = Console()
    assert c.ok(":for i from=1 to=10 step=3 do={:put $i}") == "1\n4\n7\n10\n"
    assert c.ok(":for i from=3 to=1 do={:put $i}") == "3\n2\n1\n"
    assert c.ok(":foreach i in={1;2;3} do={:put ($i * 10)}") == "10\n20\n30\n"
    assert c.ok(':foreach k,v in={a=1;b="x"} do={:put "$k=$v"}') == "a=1\nb=x\n"
    assert c.ok(":foreach k,v in={7;8} do={:put $k}") == "0\n1\n"
    assert c.ok(":if (1 < 2) do={:put yes} else={:put no}") == "yes\n"
    assert c.ok(':if ("a" = "b") do={:put yes} else={:put no}') == "no\n"
    assert c.ok(":if (false) do={:put yes}") == ""
    assert c.ok(":local i 0; :while ($i < 3) do={:put $i; :set i ($i + 1)}") == "0\n1\n2\n"
    assert c.ok(":local i 0; :do {:set i ($i + 1)} while=($i < 5); :put $i") == "5\n"
    assert c.ok(':do {:error "boom"; :put unreached} on-error={:put caught}') == "caught\n"
    assert c.ok(":do {/ip ipsec peer set 99 comment=x} on-error={:put failed}") == "failed\n"
    assert c.ok(":local f do={:return ($1 * 2)}; :put [$f 21]") == "42\n"
    assert c.ok(':local f do={:return "$a-$b"}; :put [$f a=x b=y]') == "x-y\n"
    assert c.ok("{:local x 1; {:local x 2; :put $x}; :put $x}") == "2\n1\n"
    assert c.ok(':local code [:parse ":put parsed"]; $code') == "parsed\n"
    # RouterOS 7: :onerror gives the message to its handler; :retry tries `max` times
    got = c.ok(':put [:onerror e in={:error "bad thing"} do={:put "got: $e"}]')
    assert got == "got: bad thing\ntrue\n"
    assert c.ok(":put [:onerror e in={:put fine} do={:put never}]") == "fine\nfalse\n"
    slept: list[float] = []
    c.interp.sleep = slept.append
    retry = (
        ':global n 0; :retry command={:set n ($n + 1); :error "x"} delay=2s max=3 '
        'on-error={:put "gave up after $n"}'
    )
    assert c.ok(retry) == "gave up after 3\n"
    assert slept == [2.0, 2.0]
    assert c.ok(":retry {:put once} max=2") == "once\n"


def test_endless_recursion_and_deep_nesting_are_errors_not_crashes() -> None:
    c = Console()
    assert c.run(":global f do={:global f; $f}; $f") == "failure: script nested too deeply\n"
    assert c.run(":put " + "(" * 3000 + "1" + ")" * 3000) == "failure: script nested too deeply\n"
    assert c.ok(":put " + "(" * 50 + "1" + ")" * 50) == "1\n"
    sum_to = ":global g do={:if ($1 = 0) do={:return 0}; :global g; :return ($1 + [$g ($1 - 1)])}"
    assert c.ok(sum_to + "; :put [$g 30]") == "465\n"  # recursion within the depth limit


def test_error_stops_the_script_with_its_message() -> None:
    c = Console()
    assert c.run(':put a; :error "stop here"; :put b') == "a\nstop here\n"
    assert c.run(":put (1 / 0)") == "division by zero\n"
    assert c.run(':if ("x") do={:put y}') == "conditional not boolean\n"


def test_scopes_locals_end_with_the_line_globals_persist() -> None:
    c = Console()
    c.ok(":local l 1; :global g 2")
    assert c.ok(":put [:typeof $l]") == "nothing\n"
    assert c.ok(":put $g") == "2\n"
    assert c.ok(":set g ($g + 1); :put $g") == "3\n"
    assert c.run(":set undefinedname 1") == "no such item (undefinedname)\n"
    out = c.ok(":local mine 5; :environment print")
    assert out == "Global Variables\ng=3\nLocal Variables\nmine=5\n"


def test_globals_are_shared_between_interpreters_given_the_same_store() -> None:
    shared = Globals()
    first, second = Console(), Console()
    out: list[str] = []
    one = Interpreter(first.session, write=out.append, globals=shared)
    two = Interpreter(second.session, write=out.append, globals=shared)
    assert one.run(':global wan "203.0.113.7"')
    assert two.run(":put $wan")
    assert "".join(out) == "203.0.113.7\n"


def test_undefined_variable_in_a_secret_reads_empty_and_escaped_dollar_is_kept() -> None:
    c = Console()
    c.ok('/ip ipsec peer add address=203.0.113.1 secret="pa$word"')
    c.ok('/ip ipsec peer add address=203.0.113.2 secret="pa\\$word"')
    c.ok(':local word "ss"; /ip ipsec peer add address=203.0.113.3 secret="pa$word"')
    get = ":put [/ip ipsec peer get [find address=203.0.113.{}/32] secret]"
    assert [c.ok(get.format(n)) for n in (1, 2, 3)] == ["pa\n", "pa$word\n", "pass\n"]
    assert 'secret="pa\\$word"' in c.export()


def test_typed_command_values() -> None:
    c = Console()
    c.ok("/ip ipsec peer add address=203.0.113.1 comment=wan1 secret=x")
    c.ok("/ip ipsec peer add address=203.0.113.2 comment=wan2 secret=y disabled=yes")
    assert c.ok(":put [:typeof [/ip ipsec peer add address=203.0.113.3]]") == "id\n"
    assert c.ok(":put [/ip ipsec peer find]") == "*1;*2;*3\n"
    assert c.ok(":put [:typeof [/ip ipsec peer find]]") == "array\n"
    assert c.ok(":put [:len [/ip ipsec peer find where disabled]]") == "1\n"
    assert c.ok(":put [/ip ipsec peer print count-only]") == "3\n"
    assert c.ok(":put ([/ip ipsec peer print count-only where !disabled] + 1)") == "3\n"
    assert c.ok(":put [:typeof [/ip ipsec peer get *2 disabled]]") == "bool\n"
    assert c.ok(":put ([/ip ipsec peer get *2 dynamic] = false)") == "true\n"  # a flag
    assert c.ok(":put [/ip ipsec policy get [find default] default]") == "true\n"
    assert c.ok(":put [/ip ipsec peer get *2 disabled]") == "true\n"
    assert c.ok(":put [:typeof [/ip ipsec peer get *2 address]]") == "ip-prefix\n"
    assert c.ok(":put [:typeof [/ip ipsec peer get *2 port]]") == "num\n"
    assert c.ok(":put [:typeof [/ip ipsec peer get *2 lifetime]]") == "time\n"
    assert c.ok(":put [/ip ipsec peer get *2 lifetime]") == "1d00:00:00\n"
    assert c.ok(":put [:typeof [/ip ipsec peer get *2 comment]]") == "str\n"
    item = ':local p [/ip ipsec peer get [find comment=wan2]]; :put ($p->"{}")'
    assert c.ok(item.format(".id")) == "*2\n"
    assert c.ok(item.format("address")) == "203.0.113.2/32\n"
    assert c.ok(item.format("disabled")) == "true\n"
    rows = (
        ":foreach p in=[/ip ipsec peer print as-value] do={"
        ':put (($p->"address") . " " . ($p->"comment"))}'
    )
    assert c.ok(rows) == "203.0.113.1/32 wan1\n203.0.113.2/32 wan2\n203.0.113.3/32 \n"
    settings = ':put [:typeof ([/ip ipsec settings print as-value]->"{}")]'
    assert c.ok(settings.format("ddos-cookie-threshold")) == "num\n"


def test_proplist_cuts_print_and_as_value() -> None:
    c = Console()
    c.ok("/ip ipsec peer add address=203.0.113.1 comment=wan1 secret=x")
    assert c.ok("/ip ipsec peer print proplist=address,port") == (
        "Flags: X - disabled, D - dynamic\n"
        " 0    ;;; wan1\n"
        "      address=203.0.113.1/32 port=500\n\n"
    )
    got = c.ok(":put [/ip ipsec peer print as-value proplist=address]")
    assert got == ".id=*1;address=203.0.113.1/32\n"


def test_where_takes_variables_and_substitutions() -> None:
    c = Console()
    c.ok("/ip ipsec peer add address=203.0.113.1 comment=wan1")
    c.ok("/ip ipsec peer add address=198.51.100.1 comment=wan2")
    assert c.ok(':local x "203.0"; :put [/ip ipsec peer find where address~$x]') == "*1\n"
    assert c.ok(':local x "wan2"; :put [/ip ipsec peer find where comment=$x]') == "*2\n"
    assert c.ok(':put [/ip ipsec peer find where comment="wan$[:len "a"]"]') == "*1\n"
    got = c.ok(":local n 198.51.100.0/24; :put [/ip ipsec peer find where address in $n]")
    assert got == "*2\n"


def test_a_foreign_menu_inside_a_substitution_is_an_error_not_skipped() -> None:
    c = Console()
    out = c.run(":put [:do { /interface print }]")
    assert out == "bad command name interface (line 1 column 13)\n"


def test_paths_with_slashes() -> None:
    c = Console()
    c.ok("/ip/ipsec/peer/add address=203.0.113.9")
    assert c.ok("/ip/ipsec/peer/print count-only") == "1\n"
    assert c.ok("ip ipsec/peer/print count-only") == "1\n"
    assert c.ok(":put [/ip/ipsec/peer/get 0 address]") == "203.0.113.9/32\n"


@pytest.mark.parametrize(
    ("script", "error"),
    [
        (":bogus", "bad command name bogus (line 1 column 1)"),
        (":execute {:put 1}", "bad command name execute (line 1 column 1)"),
        (":put (1 +", "syntax error (line 1 column 10)"),
        (":put 1 2", "expected end of command (line 1 column 8)"),
        (":if (true) {:put x}", "expected end of command (line 1 column 12)"),
        (':put "a$"', "syntax error (line 1 column 8)"),
        (":put {1;2", "syntax error (line 1 column 10)"),
        ("/ip ipsec peer print bogus", "expected end of command (line 1 column 22)"),
        (":put [/ip ipsec peer get 5 address]", "no such item"),
        (
            '/ip ipsec peer add address=203.0.113.1 secret="x" bogus=$y',
            "expected end of command (line 1 column 51)",
        ),
        (":log loud hello", "bad command name loud (line 1 column 6)"),
        (':local x "a"; :put ($x + 1)', "invalid operand types for + (str, num)"),
    ],
)
def test_unsupported_constructs_give_routeros_errors(script: str, error: str) -> None:
    c = Console()
    assert c.run(script) == error + "\n"


def test_errors_never_echo_a_secret() -> None:
    c = Console()
    out = c.run("/ip ipsec peer secret=hunter2")
    assert out == "bad command name secret (line 1 column 16)\n"
    out = c.run("/ip ipsec peer add secret=hunter2 address=nonsense")
    assert "hunter2" not in out and out.startswith("invalid value for argument address")


def test_log_writes_script_topic_records(caplog: pytest.LogCaptureFixture) -> None:
    c = Console()
    with caplog.at_level(logging.DEBUG, logger="pyipsec.script"):
        c.ok(':log info "peer up"; :log warning ("n=" . 2); :log error x; :log debug y')
    got = [(r.name, r.levelname, r.getMessage()) for r in caplog.records]
    assert got == [
        ("pyipsec.script", "INFO", "peer up"),
        ("pyipsec.script", "WARNING", "n=2"),
        ("pyipsec.script", "ERROR", "x"),
        ("pyipsec.script", "DEBUG", "y"),
    ]


def test_delay_uses_the_injected_sleep_and_the_daemon_budget() -> None:
    c = Console()
    slept: list[float] = []
    c.interp.sleep = slept.append
    c.ok(":delay 1s; :delay 500ms; :delay 2")
    assert slept == [1.0, 0.5, 2.0]
    c.interp.delay_budget = 2.0
    assert c.run(":delay 1s; :delay 1s; :delay 1s") == (
        "failure: more than 2s of delay in one request\n"
    )
    c.interp.step_budget = 100
    assert c.run(":while (true) do={}") == "failure: script stopped after 100 commands\n"


def test_resolve_through_the_hook() -> None:
    c = Console()
    names = {"vpn.example.net": "203.0.113.44"}

    def resolver(name: str) -> str:
        if name not in names:
            raise KeyError(name)
        return names[name]

    c.interp.resolver = lambda n: names.get(n, "")
    assert c.ok(':put [:resolve "vpn.example.net"]') == "203.0.113.44\n"
    assert c.ok(":put [:typeof [:resolve vpn.example.net]]") == "ip\n"
    assert c.run(":put [:resolve nowhere.example.net]") == "failure: dns name does not exist\n"
    del resolver


def test_print_file_follow_interval_and_edit(tmp_path: Path) -> None:
    c = Console(files_dir=tmp_path)
    c.ok("/ip ipsec peer add address=203.0.113.1 comment=first")
    assert c.ok("/ip ipsec peer print file=peers") == ""
    written = (tmp_path / "peers.txt").read_text()
    assert written == c.ok("/ip ipsec peer print")
    assert (tmp_path / "peers.txt").stat().st_mode & 0o777 == 0o600

    slept: list[float] = []
    c.interp.sleep = slept.append
    c.interp.repeat_rounds = 2
    once = c.ok("/ip ipsec peer print")
    assert c.ok("/ip ipsec peer print interval=3s") == once + once
    assert slept == [3.0]
    # follow: everything, then only what changed; follow-only: only the changes
    assert c.ok("/ip ipsec peer print follow") == once
    assert c.ok("/ip ipsec peer print follow-only") == ""

    # a change between two rounds: follow prints only the added item the second time
    c.interp.sleep = lambda _s: c.interp.run("/ip ipsec peer add address=203.0.113.2 comment=new")
    out = c.ok("/ip ipsec peer print follow")
    assert out.count(";;; first") == 1 and out.count(";;; new") == 1
    assert out.index(";;; first") < out.index(";;; new")
    c.ok("/ip ipsec peer remove [find comment=new]")
    assert c.run("/ip ipsec peer edit 0 comment") == (
        "failure: no terminal for the editor; use set ... comment=\n"
    )
    c.interp.editor = lambda current, prompt: current + "-edited"
    c.ok("/ip ipsec peer edit 0 comment")
    assert c.ok(":put [/ip ipsec peer get 0 comment]") == "first-edited\n"
    assert c.run("/ip ipsec peer edit 0 bogus") == (
        "input does not match any value of value-name\n"
    )
