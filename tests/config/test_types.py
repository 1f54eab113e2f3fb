"""RouterOS value codecs."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pyipsec.config import types as t


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("30m", "30m"),
        ("1800", "30m"),
        ("1d2h3m4s", "1d2h3m4s"),
        ("86400", "1d"),
        ("604800", "1w"),
        ("8d", "1w1d"),
        ("90m", "1h30m"),
        ("0", "0s"),
        ("0s", "0s"),
        ("01:30:00", "1h30m"),
        ("2d 01:00:00", "2d1h"),
        ("7h17m10s", "7h17m10s"),
    ],
)
def test_time(text: str, canonical: str) -> None:
    assert t.Time().parse(text) == canonical


@given(st.integers(0, 10**9))
def test_time_round_trip(seconds: int) -> None:
    text = t.format_seconds(seconds)
    assert t.parse_seconds(text) == seconds
    assert t.Time().parse(text) == text


@pytest.mark.parametrize("bad", ["", "1x", "m", "1h1d", "-5", "1.5h"])
def test_time_rejects(bad: str) -> None:
    with pytest.raises(t.ValueProblem) as exc:
        t.Time().parse(bad)
    assert exc.value.message("lifetime") == "invalid value for argument lifetime"


def test_time_keywords() -> None:
    assert t.Time(keywords=("disable-dpd",)).parse("disable-dpd") == "disable-dpd"


def test_bool() -> None:
    b = t.Bool()
    assert [b.parse(x) for x in ("yes", "no", "true", "false")] == ["yes", "no", "yes", "no"]
    with pytest.raises(t.NoMatch) as exc:
        b.parse("y")
    assert exc.value.message("tunnel") == "input does not match any value of tunnel"


def test_enum_and_aliases() -> None:
    e = t.Enum(values=("no", "port-override", "port-strict"), aliases={"yes": "port-override"})
    assert e.parse("port-strict") == "port-strict"
    assert e.parse("yes") == "port-override"
    with pytest.raises(t.NoMatch):
        e.parse("maybe")


def test_multi_enum_keeps_order_drops_duplicates() -> None:
    m = t.MultiEnum(values=("md5", "sha1", "null"), allow_empty=True)
    assert m.parse("sha1,md5,sha1") == "sha1,md5"
    assert m.parse("") == ""
    with pytest.raises(t.NoMatch):
        t.MultiEnum(values=("md5",)).parse("")
    with pytest.raises(t.NoMatch):
        m.parse("md5,sha3")


def test_int_range_hex_keywords() -> None:
    i = t.Int(lo=0, hi=65535, keywords=("any",))
    assert i.parse("any") == "any"
    assert i.parse("0x1f4") == "500"
    with pytest.raises(t.OutOfRange) as exc:
        i.parse("65536")
    assert exc.value.message("port") == "value of port out of range (0..65535)"
    with pytest.raises(t.ValueProblem):
        i.parse("12a")


def test_addresses_and_prefixes() -> None:
    assert t.Prefix().parse("10.1.2.3/24") == "10.1.2.0/24"
    assert t.Prefix().parse("10.1.2.3") == "10.1.2.3/32"
    assert t.Prefix().parse("::/0") == "::/0"
    assert t.Prefix().parse("2001:DB8::1/64") == "2001:db8::/64"
    assert t.Address().parse("2001:DB8::0001") == "2001:db8::1"
    for bad in ("10.1.2", "10.0.0.0/33", "host.example"):
        with pytest.raises(t.ValueProblem):
            t.Prefix().parse(bad)
    assert (
        t.ListOf(item=t.Prefix()).parse("10.0.0.1/8,192.168.0.0/16") == "10.0.0.0/8,192.168.0.0/16"
    )


def test_protocol() -> None:
    p = t.IpProtocol()
    assert p.parse("tcp") == "tcp"
    assert p.parse("17") == "udp"
    assert p.parse("50") == "ipsec-esp"
    assert p.parse("253") == "253"
    with pytest.raises(t.NoMatch):
        p.parse("tcpx")
    with pytest.raises(t.OutOfRange):
        p.parse("256")


def test_tagged_id() -> None:
    i = t.TaggedId()
    assert i.parse("auto") == "auto"
    assert i.parse("user-fqdn:zzz.zzz") == "user-fqdn:zzz.zzz"
    assert i.parse("address:2001:DB8::1") == "address:2001:db8::1"
    for bad in ("fqdn:", "foo:bar", "plain"):
        with pytest.raises(t.NoMatch):
            i.parse(bad)


def test_hex_and_spi() -> None:
    assert t.Hex(pair=True).parse("0xAABB/ccdd") == "aabb/ccdd"
    with pytest.raises(t.ValueProblem):
        t.Hex().parse("abc")  # odd number of digits
    assert t.SpiPair().parse("4096/0x1001") == "0x1000/0x1001"
    with pytest.raises(t.OutOfRange):
        t.SpiPair().parse("0xff")
