"""Runs the kernel's training loop: the progress chunks, the lock, and serial or parallel.

``kernel.py`` holds the loop (the course's formulas, one network at a time); ``network.py``
the maths in numpy. What is neither — cutting a long run into chunks so that a progress bar
moves, choosing the parallel loop for big runs, and keeping numba's thread pool to one caller
at a time — lives here.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from . import kernel

#: Network steps from which the parallel loop is used. Measured on 2 cores: it halves the time
#: from a few hundred steps up, but a small gain (0.3 ms at 10,000 steps) is not worth its
#: first-call cost (0.1 s) or its wake-up delays (several ms) on a busy machine.
PARALLEL_WORK = 20_000
#: numba's fallback thread pool (workqueue) aborts on concurrent use: one parallel call at a time.
PARALLEL_LOCK = threading.Lock()
#: Network steps between two progress reports, at most (about 0.1 s).
CHUNK_WORK = 2_000_000


def chunk_rows(iterations: int, K: int, progress: Callable[[float], object] | None) -> int:
    """Rows per call of the loop. Without a progress callback, all of them; with one, every row
    of a short run, at most about 100 reports in a long one, and at least one every CHUNK_WORK
    network steps so that a huge run still moves its progress bar."""
    if progress is None:
        return iterations
    return max(1, min(-(-iterations // 100), CHUNK_WORK // K))


def run(args: tuple, K: int, iterations: int, progress: Callable[[float], object] | None = None) -> None:
    """The kernel's loop over K networks and ``iterations`` rows, in chunks; ``args`` are
    ``kernel.train_serial``'s arguments up to (not including) ``start, stop``."""
    rows = chunk_rows(iterations, K, progress)
    parallel = K >= 2 and K * iterations >= PARALLEL_WORK
    for start in range(0, iterations, rows):
        stop = min(start + rows, iterations)
        if parallel:
            with PARALLEL_LOCK:
                kernel.train_parallel(*args, start, stop)
        else:
            kernel.train_serial(*args, start, stop)
        if progress is not None:
            progress(stop / iterations)
