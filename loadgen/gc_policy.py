"""The garbage collector's policy for a long run, in every lambdascope process that holds one
(the monitor, `run`, `local`, the load generator's child).

CPython's default collects the young generation every 700 allocations and the whole heap every
~10 of those once it has grown by a quarter. At 1,000 environments held 2 s each (`watch
--concurrency 1000 --hold 2s --logs kinesis`, the local Lambda apart), a full collection ran every
3-5 s over ~240k objects, most of them the import-time modules of Textual, Rich, botocore and
aiohttp that never die: 22 of them in 83 s took 13.0 s, the longest 1.13 s, during which no
redraw ran (gen1 took 3.0 s more; GC 21% of the wall in all, measured with gc.callbacks).
So:
- `tune()` (at the start of every command) sets larger thresholds: the young generation is
  collected every 20,000 allocations (short-lived batches mostly die before that, instead of
  being promoted and scanned again with the old heap), the whole heap after 50 middle
  collections instead of 10;
- `freeze_startup()`, once a command is up (its modules imported, its clients and screen made),
  moves what exists into the permanent generation, which collections skip. Objects frozen are
  still freed when their last reference goes; only a cycle among them would stay.
The same run with both: 2 full collections, 0.06 s; gen1 0.68 s, gen0 2.4 s (3.2 s in all, 4%).
Cycles are still collected, only less often: memory stays bounded (the soak bench reports RSS).

It lives in loadgen, the lowest package that every one of those processes imports.
"""

import gc

YOUNG = 20_000  # allocations between young collections (CPython: 700)
MIDDLE = 20  # young collections between middle ones (10)
OLD = 50  # middle collections before a full one is considered (10)


def tune() -> None:
    """The thresholds for a long run."""
    gc.set_threshold(YOUNG, MIDDLE, OLD)


def freeze_startup() -> None:
    """Collect once, then freeze what is alive: the start-up that no collection needs to scan."""
    gc.collect()
    gc.freeze()
