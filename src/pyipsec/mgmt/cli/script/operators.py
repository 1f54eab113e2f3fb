"""What the expression operators do with script values.

Arithmetic on numbers (integer division, as RouterOS), times (``1h + 30m``, ``$t * 2``) and
addresses (``10.0.0.1 + 1``, ``$a - $b``, ``& | ^ ~`` masks: the help page's
``(192.168.88.77 & 0.0.0.255)``); ``.`` joins texts, ``,`` joins arrays; comparisons of values
of one type (other mixes compare their texts); ``in`` tests an address or prefix against a
prefix (or membership of an array); ``~`` is a regular-expression match. ``&&`` / ``||`` / ``!``
want booleans. A string that looks like a number or time takes part as one, as RouterOS
converts them. Other combinations are a run-time error, never a silent result.
"""

from __future__ import annotations

import ipaddress
import re

from pyipsec.mgmt.cli.script.values import (
    INT_MAX,
    INT_MIN,
    Array,
    Duration,
    Empty,
    Ip,
    Prefix,
    ScriptError,
    Value,
    infer,
    to_str,
    typeof,
)


def _bad(op: str, *values: Value) -> ScriptError:
    kinds = ", ".join(typeof(v) for v in values)
    return ScriptError(f"invalid operand types for {op} ({kinds})")


def _num(n: int) -> int:
    if not INT_MIN <= n <= INT_MAX:
        raise ScriptError("arithmetic overflow")
    return n


def _coerce(value: Value) -> Value:
    return infer(value) if isinstance(value, str) else value


def _is_num(v: Value) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_ip(v: Value) -> bool:
    return isinstance(v, ipaddress.IPv4Address | ipaddress.IPv6Address)


def _ip(v: Ip, n: int) -> Ip:
    try:
        return v + n
    except ipaddress.AddressValueError as exc:
        raise ScriptError("address out of range") from exc


def arith(op: str, a: Value, b: Value) -> Value:
    x, y = _coerce(a), _coerce(b)
    if _is_num(x) and _is_num(y):
        assert isinstance(x, int) and isinstance(y, int)
        if op in "/%" and y == 0:
            raise ScriptError("division by zero")
        if op == "/":
            q = abs(x) // abs(y)
            return _num(q if (x < 0) == (y < 0) else -q)
        if op == "%":
            return _num(x - y * int(x / y))
        return _num({"+": x + y, "-": x - y, "*": x * y}[op])
    if isinstance(x, Duration) and isinstance(y, Duration) and op in "+-":
        return Duration(x.ns + y.ns if op == "+" else x.ns - y.ns)
    if isinstance(x, Duration) and _is_num(y) and op in "*/":
        assert isinstance(y, int)
        if op == "/" and y == 0:
            raise ScriptError("division by zero")
        return Duration(x.ns * y if op == "*" else int(x.ns / y))
    if _is_num(x) and isinstance(y, Duration) and op == "*":
        assert isinstance(x, int)
        return Duration(x * y.ns)
    if _is_ip(x) and _is_num(y) and op in "+-":
        assert isinstance(x, ipaddress.IPv4Address | ipaddress.IPv6Address)
        assert isinstance(y, int)
        return _ip(x, y if op == "+" else -y)
    if _is_num(x) and _is_ip(y) and op == "+":
        assert isinstance(y, ipaddress.IPv4Address | ipaddress.IPv6Address)
        assert isinstance(x, int)
        return _ip(y, x)
    if _is_ip(x) and _is_ip(y) and op == "-":
        assert isinstance(x, ipaddress.IPv4Address | ipaddress.IPv6Address)
        assert isinstance(y, ipaddress.IPv4Address | ipaddress.IPv6Address)
        return int(x) - int(y)
    raise _bad(op, a, b)


def bitwise(op: str, a: Value, b: Value) -> Value:
    x, y = _coerce(a), _coerce(b)
    if _is_num(x) and _is_num(y):
        assert isinstance(x, int) and isinstance(y, int)
        if op in ("<<", ">>") and not 0 <= y < 64:
            raise ScriptError("invalid shift")
        results = {"&": x & y, "|": x | y, "^": x ^ y, "<<": x << y, ">>": x >> y}
        return (
            _num(results[op])
            if op != "<<"
            else _num(((x << y) + (1 << 63)) % (1 << 64) - (1 << 63))
        )
    if _is_ip(x) and _is_ip(y) and op in "&|^":
        assert isinstance(x, ipaddress.IPv4Address | ipaddress.IPv6Address)
        assert isinstance(y, ipaddress.IPv4Address | ipaddress.IPv6Address)
        if x.version != y.version:
            raise _bad(op, a, b)
        n = {"&": int(x) & int(y), "|": int(x) | int(y), "^": int(x) ^ int(y)}[op]
        return ipaddress.ip_address(n) if x.version == 4 else ipaddress.IPv6Address(n)
    raise _bad(op, a, b)


def invert(a: Value) -> Value:
    """Unary ``~``: bits of a number or an address inverted."""
    x = _coerce(a)
    if _is_num(x):
        assert isinstance(x, int)
        return ~x
    if isinstance(x, ipaddress.IPv4Address):
        return ipaddress.IPv4Address(int(x) ^ 0xFFFFFFFF)
    if isinstance(x, ipaddress.IPv6Address):
        return ipaddress.IPv6Address(int(x) ^ ((1 << 128) - 1))
    raise _bad("~", a)


def negate(a: Value) -> Value:
    x = _coerce(a)
    if _is_num(x):
        assert isinstance(x, int)
        return _num(-x)
    if isinstance(x, Duration):
        return Duration(-x.ns)
    raise _bad("-", a)


def truth(value: Value, what: str = "conditional not boolean") -> bool:
    """A condition's boolean (``yes``/``no``/``true``/``false`` strings count as one)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value in ("true", "false", "yes", "no"):
        return value in ("true", "yes")
    raise ScriptError(what)


def _comparable(a: Value, b: Value) -> tuple[object, object] | None:
    x, y = _coerce(a), _coerce(b)
    if type(x) is type(y) and not isinstance(x, Array | Empty):
        return x, y
    if _is_num(x) and _is_num(y):
        return x, y
    return None


def equal(a: Value, b: Value) -> bool:
    if isinstance(a, Array) and isinstance(b, Array):
        return a == b
    if isinstance(a, Empty) or isinstance(b, Empty):
        return to_str(a) == to_str(b)
    pair = _comparable(a, b)
    if pair is not None:
        return pair[0] == pair[1]
    return to_str(a) == to_str(b)


def compare(op: str, a: Value, b: Value) -> bool:
    if op == "=":
        return equal(a, b)
    if op == "!=":
        return not equal(a, b)
    pair = _comparable(a, b)
    x, y = pair if pair is not None else (to_str(a), to_str(b))
    try:
        results = {"<": x < y, ">": x > y, "<=": x <= y, ">=": x >= y}  # type: ignore[operator]
    except TypeError as exc:
        raise _bad(op, a, b) from exc
    return bool(results[op])


def contained(a: Value, b: Value) -> bool:
    """``a in b``."""
    if isinstance(b, Array):
        return any(equal(a, v) for v in b.values())
    x, y = _coerce(a), _coerce(b)
    if isinstance(y, ipaddress.IPv4Address | ipaddress.IPv6Address):
        y = ipaddress.ip_network(y)
    if not isinstance(y, ipaddress.IPv4Network | ipaddress.IPv6Network):
        raise _bad("in", a, b)
    net: Prefix = y
    if isinstance(x, ipaddress.IPv4Address | ipaddress.IPv6Address):
        return x.version == net.version and x in net
    if isinstance(x, ipaddress.IPv4Network | ipaddress.IPv6Network):
        return x.version == net.version and x.subnet_of(net)  # type: ignore[arg-type]
    raise _bad("in", a, b)


def matches(a: Value, b: Value) -> bool:
    """``a ~ b``: the regular expression ``b`` found in the text of ``a``."""
    try:
        return re.search(to_str(b), to_str(a)) is not None
    except re.error as exc:
        raise ScriptError("invalid regular expression") from exc


def concat_arrays(a: Value, b: Value) -> Array:
    out = Array()
    for v in (a, b):
        if isinstance(v, Array):
            out.items.extend(v.items)
            out.named.update(v.named)
        elif not isinstance(v, Empty):
            out.items.append(v)
    return out


def binary(op: str, a: Value, b: Value) -> Value:
    """Every binary operator but the short-circuit ``&&`` / ``||``."""
    if op in ("+", "-", "*", "/", "%"):
        return arith(op, a, b)
    if op in ("&", "|", "^", "<<", ">>"):
        return bitwise(op, a, b)
    if op == ".":
        return to_str(a) + to_str(b)
    if op == ",":
        return concat_arrays(a, b)
    if op == "in":
        return contained(a, b)
    if op == "~":
        return matches(a, b)
    return compare(op, a, b)
