"""The daemon's start-up heap is kept out of the garbage collector's full passes
(``io.daemon.settle_heap``): what start-up made lives as long as the daemon, and a full
collection that walked it stopped the event loop for 20-40 ms of CPU (docs/benchmarks.md)."""

from __future__ import annotations

import gc

from pyipsec.io.daemon import settle_heap


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
