"""ESP packet-engine throughput beside the bare crypto cost (the floor).

For each transform and inner packet size: packets per second through ``Processor.outbound``
(one flow, so after the first packet the per-flow fast path; ``--slow-path`` turns it off)
and ``Processor.inbound`` (tunnel mode, IPv4, replay window 128), and the same for the bare
cipher (+ MAC) calls on the same bytes: encrypt(+compute) for out, decrypt(+verify) for in.
``floor/engine`` is the share of the engine's time that is crypto (1.0 = zero overhead).
Medians of ``--runs`` runs of ``--packets`` packets.

    .venv/bin/python bench/bench_esp.py [--runs 5] [--packets 3000] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import ipaddress
import pstats
import statistics
import struct
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.dataplane.engine_helpers import make_pair, udp_packet

from pyipsec.crypto import registry
from pyipsec.dataplane.processor import Verdict
from pyipsec.wire.esp import build_trailer

TRANSFORMS = [("aes-128-gcm", None), ("aes-256-cbc", "sha256"), ("chacha20poly1305", None)]
SIZES = (64, 512, 1400)


def inner_packet(size: int) -> bytes:
    src = ipaddress.ip_address("198.51.100.10")
    dst = ipaddress.ip_address("198.51.100.200")
    return udp_packet(src, dst, 1000, 2000, bytes(size - 28))


def timed(fn: Callable[[], None]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


FAST_PATH = True


def measure(enc: str, integ: str | None, size: int, n: int) -> dict[str, float]:
    pair = make_pair(enc, integ)
    pair.a.fast_path = pair.b.fast_path = FAST_PATH
    pkt = inner_packet(size)
    out = pair.a.outbound
    protected: list[bytes] = []

    def run_out() -> None:
        protected.clear()
        append = protected.append
        for _ in range(n):
            append(out(pkt, 1.0).packet)

    t_out = timed(run_out)
    inbound = pair.b.inbound

    def run_in() -> None:
        for p in protected:
            inbound(p, 1.0)

    t_in = timed(run_in)
    assert pair.b.inbound(pair.a.outbound(pkt, 1.0).packet, 1.0).verdict is Verdict.DELIVER
    assert pair.a.stats.total() == 0 and pair.b.stats.total() == 0

    # The floor: the keyed cipher and MAC of the SA on the same bytes.
    sa = next(iter(pair.a.sad))
    cipher, mac = sa.cipher, sa.mac
    assert cipher is not None
    alg = registry.encryption(enc)
    plain = pkt + build_trailer(len(pkt), 4, alg.block_size)
    iv = bytes(alg.iv_size)
    aad = struct.pack("!II", 1, 1)
    ct = cipher.encrypt(iv, plain, aad)
    body = bytes(8) + iv + ct
    icv = mac.compute(body) if mac is not None else b""

    def floor_out() -> None:
        for _ in range(n):
            c = cipher.encrypt(iv, plain, aad)
            if mac is not None:
                mac.compute(bytes(8) + iv + c)

    def floor_in() -> None:
        for _ in range(n):
            if mac is not None:
                mac.verify(body, icv)
            cipher.decrypt(iv, ct, aad)

    return {
        "out": n / t_out,
        "in": n / t_in,
        "floor_out": n / timed(floor_out),
        "floor_in": n / timed(floor_in),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--packets", type=int, default=3000)
    ap.add_argument("--profile", action="store_true", help="cProfile one outbound+inbound run")
    ap.add_argument("--slow-path", action="store_true", help="engine without per-flow caches")
    args = ap.parse_args()
    global FAST_PATH
    FAST_PATH = not args.slow_path
    if args.profile:
        prof = cProfile.Profile()
        prof.enable()
        measure("aes-128-gcm", None, 512, 20000)
        prof.disable()
        pstats.Stats(prof).sort_stats("tottime").print_stats(18)
        return
    path = "slow path only" if args.slow_path else "fast path on (one flow)"
    print(
        f"python {sys.version.split()[0]}; packets per second, median of {args.runs} runs; {path}"
    )
    print(
        f"{'transform':<22}{'size':>5}{'out':>10}{'floor':>10}{'ratio':>7}"
        f"{'in':>10}{'floor':>10}{'ratio':>7}"
    )
    # Runs are interleaved (every configuration once per round) so that load changes on a shared
    # machine spread over all rows instead of skewing one.
    configs = [(enc, integ, size) for enc, integ in TRANSFORMS for size in SIZES]
    samples: dict[tuple[str, str | None, int], list[dict[str, float]]] = {c: [] for c in configs}
    for _ in range(args.runs):
        for enc, integ, size in configs:
            samples[enc, integ, size].append(measure(enc, integ, size, args.packets))
    for enc, integ, size in configs:
        runs = samples[enc, integ, size]
        med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        name = enc + (f"+{integ}" if integ else "")
        print(
            f"{name:<22}{size:>5}{med['out']:>10,.0f}{med['floor_out']:>10,.0f}"
            f"{med['out'] / med['floor_out']:>7.2f}"
            f"{med['in']:>10,.0f}{med['floor_in']:>10,.0f}{med['in'] / med['floor_in']:>7.2f}"
        )


if __name__ == "__main__":
    main()
