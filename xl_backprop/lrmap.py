"""The learning-rate map: one network per pair (lr_hidden, lr_output), and how each one ended.

Shape rule: a map over H hidden-layer rates and O output-layer rates has arrays of shape
(H, O), axis 0 indexing ``lr_hidden`` and axis 1 ``lr_output``; pair p = i * O + j (the CSV's
row order). The pairs are cut into tiles of ``tile`` networks, which ``sweep.py`` trains side by
side; tiles are independent, so they go to the local cores or, with ``scheduler``, to a Dask
cluster, and the result is the same to the last bit either way.

Each network trains ``steps`` steps (gradient descent on every weight, simultaneous updates,
biases fixed; E_total and each step's gradient are means over the examples, as in
``network.train``; each layer's activation as chosen, σ by default) and falls in one class:

- diverged: |h1| + |h2| + |o1| + |o2| grew past ``SATURATION_BOUND`` on some example, or
  stopped being a number: σ and tanh are saturated (σ'(x) < e^-250) and nothing is learnt any
  more, relu and linear have blown up; the network stops there;
- converged: the last E_total is below the threshold;
- still falling: E_total fell by more than ``FALLING_MIN_DROP`` (relative) over the second half
  of the run;
- stalled: the rest.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from . import activations, kernel, runner, sweep
from .examples import as_examples
from .limits import (
    MAP_MAX_PAIRS,
    MAP_MAX_STEPS,
    as_learning_rates,
    as_numbers,
    is_count,
    is_learning_rate,
    is_threshold,
    shown,
)
from .network import DEFAULT_BIASES, DEFAULT_INPUTS, DEFAULT_TARGETS, DEFAULT_WEIGHTS

#: The classes, in the order of their codes 0..3 (``LRMap.cls``); the CSV writes the names.
CLASSES = ("converged", "falling", "stalled", "diverged")
#: What each class means, for legends.
CLASS_LABELS = {
    "converged": "converged (E_total < threshold)",
    "falling": "still falling",
    "stalled": "stalled",
    "diverged": "diverged",
}
#: A network whose |h1| + |h2| + |o1| + |o2| passes this has diverged: its sigmoids are saturated.
SATURATION_BOUND = 1e3
#: E_total below which a network has converged, by default: finer than ``train``'s 0.01, which
#: nearly every pair reaches within 1,000 steps on the course's example, and below 1e-4, the
#: E_total of a network whose outputs are saturated at 0 and 1 (targets 0.01, 0.99):
#: saturation is not convergence.
MAP_THRESHOLD = 1e-5
#: Relative fall of E_total over the second half of the run that tells "still falling" from "stalled".
FALLING_MIN_DROP = 1e-3
#: Networks trained side by side in one tile: the tile's state (8 weights and 6 numbers each,
#: 28 kB) stays in the core's L1 cache.
DEFAULT_TILE = 256
#: Network steps in one batch of tiles, between two progress reports (local) or in one Dask task.
BATCH_WORK = 20_000_000
#: The CSV's columns.
CSV_COLUMNS = ("lr_hidden", "lr_output", "E_final", "steps_run", "class")


class LRMap(NamedTuple):
    """A map: the rates on each axis, and (H, O) arrays of how each network ended."""

    lr_hidden: np.ndarray  # (H,)
    lr_output: np.ndarray  # (O,)
    steps: int
    threshold: float
    E_final: np.ndarray  # (H, O): the last E_total computed
    steps_run: np.ndarray  # (H, O) int: steps run before the network stopped (steps, unless diverged)
    below_from: np.ndarray  # (H, O) int: the step from which E_total stayed below the threshold
    cls: np.ndarray  # (H, O) int8: index into CLASSES


def rates(start: float, stop: float, count: int, log: bool = True) -> np.ndarray:
    """``count`` learning rates from ``start`` to ``stop``, both included, evenly spaced on a log
    scale (``log``) or a linear one. Raises ValueError naming what is wrong."""
    if not (is_learning_rate(start) and is_learning_rate(stop)):
        raise ValueError(f"expected positive learning rates, got {start!r}:{stop!r}")
    if not is_count(count):
        raise ValueError(f"expected a whole COUNT >= 1, got {count!r}")
    if count > 1 and not start < stop:
        raise ValueError(f"expected START < STOP, got {start!r}:{stop!r}")
    count = int(count)
    return np.geomspace(start, stop, count) if log else np.linspace(start, stop, count)


def check_size(pairs: int, steps: int) -> None:
    """The bounds of one map (limits.py): ValueError if over."""
    if pairs > MAP_MAX_PAIRS:
        raise ValueError(f"expected at most {MAP_MAX_PAIRS:,} pairs of learning rates, got {pairs:,}")
    if pairs * steps > MAP_MAX_STEPS:
        raise ValueError(f"expected at most {MAP_MAX_STEPS:,} network steps (pairs x steps), got {pairs * steps:,}")


def classify(E_final: np.ndarray, E_half: np.ndarray, diverged: np.ndarray, threshold: float) -> np.ndarray:
    """Class codes (index into CLASSES) from how the networks ended."""
    cls = np.full(E_final.shape, CLASSES.index("stalled"), dtype=np.int8)
    cls[E_final < (1.0 - FALLING_MIN_DROP) * E_half] = CLASSES.index("falling")
    cls[E_final < threshold] = CLASSES.index("converged")
    cls[diverged != 0] = CLASSES.index("diverged")
    return cls


class _Job(NamedTuple):
    """What every tile needs besides its pairs: plain numbers and arrays, cheap to send to a worker."""

    tile: int
    steps: int
    half: int
    w0: np.ndarray
    X: np.ndarray  # (N, 4) the examples
    net: np.ndarray
    act_h: int
    act_o: int


def run_batch(job: _Job, lr_h: np.ndarray, lr_o: np.ndarray, parallel: bool = False) -> np.ndarray:
    """Train the pairs (lr_h[p], lr_o[p]) tile by tile: (5, P) as E_final, steps_run, below_from,
    E_half, diverged. The unit of work a Dask task runs."""
    out = np.empty((5, lr_h.shape[0]))
    args = (np.ascontiguousarray(lr_h), np.ascontiguousarray(lr_o), job.tile, job.steps, job.half, job.w0, job.X)
    args += (job.net, job.act_h, job.act_o)
    if parallel:
        with runner.PARALLEL_LOCK:
            sweep.map_parallel(*args, *out)
    else:
        sweep.map_serial(*args, *out)
    return out


def lr_map(
    lr_hidden: ArrayLike,
    lr_output: ArrayLike,
    steps: int,
    *,
    weights: ArrayLike = DEFAULT_WEIGHTS,
    inputs: ArrayLike = DEFAULT_INPUTS,
    targets: ArrayLike = DEFAULT_TARGETS,
    biases: ArrayLike = DEFAULT_BIASES,
    threshold: float = MAP_THRESHOLD,
    tile: int = DEFAULT_TILE,
    threads: int | None = None,
    batch: int | None = None,
    scheduler: str | None = None,
    progress: Callable[[float], object] | None = None,
    hidden_activation: str = activations.DEFAULT,
    output_activation: str = activations.DEFAULT,
) -> LRMap:
    """Train one network per pair (lr_hidden[i], lr_output[j]) for ``steps`` steps.

    Parameters
    ----------
    lr_hidden : array_like of shape (H,)
        Learning rates of the hidden layer (w1..w4).
    lr_output : array_like of shape (O,)
        Learning rates of the output layer (w5..w8).
    steps : int
        Gradient-descent steps per network, at least 1.
    weights, inputs, targets, biases
        The starting network, as for ``network.train`` (one weight set for all pairs): inputs and
        targets (2,) for one example or (N, 2) for N of them, a row each; E_total is the mean
        over the examples and each step takes the mean gradient (full batch).
    threshold : float
        E_total below which a network has converged.
    tile : int
        Networks trained side by side; any value gives the same numbers.
    threads : int, optional
        Local cores to use (default: all numba may use); any value gives the same numbers.
    batch : int, optional
        Pairs per batch of tiles (a progress report, or one Dask task); default about
        BATCH_WORK network steps.
    scheduler : str, optional
        Address of a Dask scheduler (``tcp://host:8786``): the batches run on its workers.
    progress : callable, optional
        Called with the fraction of the pairs done, from 0 to 1.
    hidden_activation, output_activation : str
        f of each layer, a name of ``activations.NAMES`` (σ, the course's, by default).

    Returns
    -------
    LRMap
    """
    # the one home of each rule (limits): what a learning rate, a count and a threshold are
    lr_h = np.atleast_1d(as_learning_rates(lr_hidden, "lr_hidden"))
    lr_o = np.atleast_1d(as_learning_rates(lr_output, "lr_output"))
    for name, v in (("lr_hidden", lr_h), ("lr_output", lr_o)):
        if v.ndim != 1 or v.size == 0:
            raise ValueError(f"{name}: expected a non-empty list of positive learning rates")
    if not is_count(steps):
        raise ValueError(f"steps: expected a whole number >= 1, got {shown(steps)}")
    if not is_count(tile):
        raise ValueError(f"tile: expected a whole number >= 1, got {shown(tile)}")
    if not is_threshold(threshold):
        raise ValueError(f"threshold: expected a positive number, got {shown(threshold)}")
    steps, tile = int(steps), int(tile)
    H, O = lr_h.size, lr_o.size
    check_size(H * O, steps)
    f_h, f_o = activations.pair(hidden_activation, output_activation)
    w0 = as_numbers(weights, "weights")
    if w0.shape != (8,):
        raise ValueError(f"weights: expected 8 values w1..w8, got shape {w0.shape}")
    b = as_numbers(biases, "biases")
    if b.shape != (2,):
        raise ValueError(f"biases: expected 2 numbers, got shape {b.shape}")
    X = as_examples(inputs, targets)  # (N, 4): one row (i1, i2, t1, t2) per example
    net = np.array([b[0], b[1], threshold, SATURATION_BOUND])
    job = _Job(tile, steps, steps // 2, np.ascontiguousarray(w0), X, net, f_h.code, f_o.code)

    P = H * O
    all_h = np.repeat(lr_h, O)  # pair p = i * O + j
    all_o = np.tile(lr_o, H)
    if batch is None:
        batch = tile * max(1, BATCH_WORK // (tile * (steps + 1)))
    batch = max(tile, -(-int(batch) // tile) * tile)  # whole tiles
    starts = range(0, P, batch)
    out = np.empty((5, P))
    if scheduler is not None:
        _run_on_cluster(scheduler, job, all_h, all_o, starts, batch, out, progress)
    else:
        _run_locally(job, all_h, all_o, starts, batch, out, threads, progress)
    E_final, steps_run, below_from, E_half, diverged = out
    cls = classify(E_final, E_half, diverged, threshold)
    return LRMap(
        lr_h,
        lr_o,
        steps,
        float(threshold),
        E_final.reshape(H, O),
        steps_run.astype(np.int64).reshape(H, O),
        below_from.astype(np.int64).reshape(H, O),
        cls.reshape(H, O),
    )


def _run_locally(job, all_h, all_o, starts, batch, out, threads, progress) -> None:
    parallel = kernel.COMPILED and (threads is None or threads > 1)
    saved = None
    try:
        if parallel and threads is not None:
            import numba

            saved = numba.get_num_threads()
            numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
        P = all_h.size
        for a in starts:
            b = min(a + batch, P)
            out[:, a:b] = run_batch(job, all_h[a:b], all_o[a:b], parallel and b - a > job.tile)
            if progress is not None:
                progress(b / P)
    finally:
        if saved is not None:
            import numba

            numba.set_num_threads(saved)


#: Seconds to wait for a Dask scheduler to answer before saying it cannot be reached.
CONNECT_TIMEOUT = 5
#: Times a batch is run again when the worker running it dies.
RETRIES = 3


def _run_on_cluster(address, job, all_h, all_o, starts, batch, out, progress) -> None:
    """The batches as Dask tasks, retried if a worker dies, put back in order."""
    from distributed import Client, as_completed

    try:
        client = Client(address, timeout=f"{CONNECT_TIMEOUT}s", set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise ConnectionError(f"cannot reach a Dask scheduler at {address} ({type(exc).__name__})") from None
    try:
        P = all_h.size
        where = {}
        futures = []
        for a in starts:
            b = min(a + batch, P)
            f = client.submit(run_batch, job, all_h[a:b], all_o[a:b], retries=RETRIES, pure=False)
            where[f.key] = (a, b)
            futures.append(f)
        done = 0
        for f in as_completed(futures, loop=client.loop):
            a, b = where[f.key]
            out[:, a:b] = f.result()
            done += b - a
            if progress is not None:
                progress(done / P)
    finally:
        client.close()


def csv_text_rows(m: LRMap):
    """The CSV's data rows, pair by pair in order (lr_hidden outer): floats in repr precision."""
    names = CLASSES
    for i, a in enumerate(m.lr_hidden.tolist()):
        ra = repr(a)
        E, s, c = m.E_final[i].tolist(), m.steps_run[i].tolist(), m.cls[i].tolist()
        for j, b in enumerate(m.lr_output.tolist()):
            yield f"{ra},{b!r},{E[j]!r},{s[j]},{names[c[j]]}\n"


def write_csv(path: os.PathLike, m: LRMap, progress: Callable[[float], object] | None = None) -> None:
    """Header ``lr_hidden,lr_output,E_final,steps_run,class``, one row per pair."""
    H = m.lr_hidden.size
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(",".join(CSV_COLUMNS) + "\n")
        rows = csv_text_rows(m)
        O = m.lr_output.size
        for i in range(H):
            f.writelines(next(rows) for _ in range(O))
            if progress is not None:
                progress((i + 1) / H)
