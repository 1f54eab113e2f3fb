"""SPD lookup rate: the indexed Spd against a naive linear scan, for 10, 1,000 and 10,000 policies.

Policies are what a hub gateway has: site-to-site /24 pairs from a few local LANs to many remote
LANs (random priorities 0..2), plus a few wide ones (a high-priority bypass for one host, a
10.0.0.0/8 catch-all discard at the lowest priority, and the IPv6 ::/0 template-like entry).
Selectors are UDP/ICMP packets, 90 % of them inside some site-to-site pair, 10 % misses.

Four figures per size: the index without the cache (every lookup walks the buckets), the
cached lookup on a traffic mix of 1,000 repeating flows (hits), the cached lookup when every
selector is new (misses: key, walk, insert), and the linear scan (first match over the
policies in evaluation order, `policy_matches` per policy).

Run: .venv/bin/python bench/bench_spd.py [--quick]
"""

from __future__ import annotations

import ipaddress
import random
import sys
import time
from collections.abc import Callable

from pyipsec.dataplane.policy import Action, Direction, Policy, Selector
from pyipsec.dataplane.spd import Spd, policy_matches

SIZES = (10, 1_000, 10_000)
LOCAL_LANS = 4
FLOWS = 1_000


def build_policies(n: int, rnd: random.Random) -> list[Policy]:
    wide = [
        Policy(
            id=1,
            src=ipaddress.ip_network("10.0.0.1/32"),
            dst=ipaddress.ip_network("0.0.0.0/0"),
            action=Action.NONE,
            priority=10,
        ),
        Policy(
            id=2,
            src=ipaddress.ip_network("10.0.0.0/8"),
            dst=ipaddress.ip_network("10.0.0.0/8"),
            action=Action.DISCARD,
            priority=-1,
        ),
        Policy(id=3, src=ipaddress.ip_network("::/0"), dst=ipaddress.ip_network("::/0")),
    ]
    out = list(wide)
    seen: set[tuple[int, int]] = set()
    while len(out) < n:
        local = rnd.randrange(LOCAL_LANS)
        remote = rnd.randrange(1, 65535)
        if (local, remote) in seen:
            continue
        seen.add((local, remote))
        out.append(
            Policy(
                id=len(out) + 1,
                src=ipaddress.ip_network(f"10.0.{local}.0/24"),
                dst=ipaddress.ip_network(f"10.{100 + (remote >> 8) % 100}.{remote & 255}.0/24"),
                tunnel=True,
                priority=rnd.randrange(3),
            )
        )
    return out[:n]


def build_selectors(policies: list[Policy], count: int, rnd: random.Random) -> list[Selector]:
    pairs = [p for p in policies if p.src.prefixlen == 24]
    sels: list[Selector] = []
    for _ in range(count):
        if pairs and rnd.random() < 0.9:
            p = rnd.choice(pairs)
            src = p.src.network_address + rnd.randrange(1, 255)
            dst = p.dst.network_address + rnd.randrange(1, 255)
        else:
            src = ipaddress.IPv4Address(f"10.0.{rnd.randrange(8)}.{rnd.randrange(1, 255)}")
            dst = ipaddress.IPv4Address(rnd.getrandbits(32))
        if rnd.random() < 0.8:
            sels.append(
                Selector(
                    src=src, dst=dst, protocol=17, src_port=rnd.randrange(1024, 65535), dst_port=53
                )
            )
        else:
            sels.append(Selector(src=src, dst=dst, protocol=1))
    return sels


def rate(fn: Callable[[Selector], object], sels: list[Selector], min_time: float) -> float:
    done = 0
    start = time.perf_counter()
    while True:
        for s in sels:
            fn(s)
        done += len(sels)
        elapsed = time.perf_counter() - start
        if elapsed >= min_time:
            return done / elapsed


def main() -> None:
    quick = "--quick" in sys.argv
    min_time = 0.2 if quick else 1.0
    rnd = random.Random(4301)
    print(f"python {sys.version.split()[0]}; lookups per second (higher is better)")
    print(
        f"{'policies':>9} {'index':>10} {'cache hit':>10} {'cache miss':>10} {'linear':>10}"
        f" {'index/linear':>13}"
    )
    for n in SIZES:
        policies = build_policies(n, rnd)
        spd = Spd(policies)
        ordered = list(spd)
        sels = build_selectors(policies, 5_000, rnd)
        misses = build_selectors(policies, 40_000, rnd)

        def linear(s: Selector, ordered: list[Policy] = ordered) -> Policy | None:
            for p in ordered:
                if policy_matches(p, Direction.OUT, s):
                    return p
            return None

        # The index and the linear scan must agree before we time them.
        for s in sels[:300]:
            assert spd._lookup_uncached(Direction.OUT, s) == linear(s)

        def index(s: Selector, spd: Spd = spd) -> Policy | None:
            return spd._lookup_uncached(Direction.OUT, s)

        def cached(s: Selector, spd: Spd = spd) -> Policy | None:
            return spd.lookup(Direction.OUT, s)

        flows = sels[:FLOWS] * 5
        r_index = rate(index, sels, min_time)
        r_cached = rate(cached, flows, min_time)
        # Every lookup a miss: 40,000 distinct selectors, one pass, cache of 4,096.
        r_miss = rate(cached, misses, 0.0)
        lin_sels = sels[: max(20, 200_000 // n)]
        r_linear = rate(linear, lin_sels, min_time)
        print(
            f"{n:>9} {r_index:>10,.0f} {r_cached:>10,.0f} {r_miss:>10,.0f} {r_linear:>10,.0f}"
            f" {r_index / r_linear:>12.1f}x"
        )


if __name__ == "__main__":
    main()
