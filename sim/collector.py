"""Python's cyclic garbage collector, set for the length of one simulated run.

A run allocates millions of short-lived objects (events, records, tuples) beside a world of
long-lived ones (150,000 pods at 5,000 nodes). With CPython's default thresholds (700, 10, 10)
the collector looks at its youngest generation every 700 net allocations, and the more often
it does, the more often the older generations are walked too, up to every tracked object in
the process: at 2,000 nodes that was about 14% of a surge run's time (1,394 young, 127 middle
and 12 full collections, 2.9 s of 20.8 s; benchmarks/README.md). While a run lasts, the
youngest generation is collected every ``YOUNG_THRESHOLD`` allocations instead (the same run:
52, 4 and no full collection, 0.4 s). Nothing the model computes depends on when the collector
runs, so results are the same; cycles are still collected, in larger batches.

Only the standard library; imports nothing of midair.
"""

from __future__ import annotations

import gc
from contextlib import contextmanager

YOUNG_THRESHOLD = 10_000  # allocations between collections of the youngest generation (CPython: 700)


@contextmanager
def run_collection():
    """Collect less often while the block runs; the thresholds are as they were afterwards."""
    before = gc.get_threshold()
    gc.set_threshold(max(before[0], YOUNG_THRESHOLD), *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)
