"""The daemon's start-up heap is kept out of the garbage collector's full passes
(``io.daemon.settle_heap``): what start-up made lives as long as the daemon, and a full
collection that walked it stopped the event loop for 20-40 ms of CPU (docs/benchmarks.md)."""

from __future__ import annotations

import gc

from pyipsec.io.daemon import GC_THRESHOLD_0, settle_heap


def test_settle_heap_takes_the_startup_objects_out_of_every_collection() -> None:
    config = [[i] for i in range(5000)]  # long-lived containers, as a compiled configuration
    garbage: list[object] = []
    garbage.append(garbage)  # a cycle start-up left behind: collected first
    del garbage
    try:
        settle_heap()
        assert gc.get_freeze_count() >= 5000
        tracked = {id(o) for o in gc.get_objects()}  # every generation a collection walks
        assert id(config) not in tracked and id(config[0]) not in tracked
        later = [[1]]  # made after start-up: collected as before
        assert id(later) in {id(o) for o in gc.get_objects()}
    finally:
        gc.unfreeze()


def test_settle_heap_raises_the_generation_0_threshold_only() -> None:
    """After start-up generation 0 is collected every 10,000 net allocations, not 700
    (CPython's default), with generations 1 and 2 as they were: an IKE setup makes no
    cyclic garbage, and at 700 the collector walked the in-flight exchanges every few
    setups (bench/bench_ike_cpu.py uses this same function)."""
    before = gc.get_threshold()
    try:
        gc.set_threshold(700, 10, 10)
        settle_heap()
        assert gc.get_threshold() == (GC_THRESHOLD_0, 10, 10) == (10_000, 10, 10)
        assert gc.isenabled()
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
