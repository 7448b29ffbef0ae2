"""Time per training step for every pair of activations (issue 18 item 3): figures and ratios,
not a test (``make bench``).

Every pair runs the same networks (the course's weights, inputs and targets; learning rates
small enough that no pair overflows) through the compiled loop on one core
(``kernel.train_serial``), best of several runs, and is shown as a ratio to sigmoid-sigmoid
measured in the same process. Target: every pair within 1.5x sigmoid-sigmoid. Also shown:
sigmoid-sigmoid against the loop as it was before activations (benchmarks/baseline_kernel.py,
commit d8bc890), to see what the integer branches cost the course's case.

    python benchmarks/bench_activations.py [--repeat N] [--iterations N]
"""

from __future__ import annotations

import argparse
import itertools
import time

import numpy as np

from xl_backprop import DEFAULT_INPUTS, DEFAULT_TARGETS, DEFAULT_WEIGHTS, activations, kernel

LRS = np.array([0.05, 0.1, 0.2, 0.3, 0.4, 0.5])
TARGET = 1.5


def arrays(iterations: int):
    """Fresh arrays for one run of the loop over LRS: (lrs, W, B, loss, W_hist, B_hist)."""
    K = LRS.size
    W = np.array(np.broadcast_to(DEFAULT_WEIGHTS, (K, 8)), order="C")
    return LRS.copy(), W, np.zeros((K, 2)), np.empty((iterations, K)), np.empty((0, K, 8)), np.empty((0, K, 2))


def run_pair(hidden: str, output: str, iterations: int) -> np.ndarray:
    lrs, W, B, loss, W_hist, B_hist = arrays(iterations)
    (i1, i2), (t1, t2) = DEFAULT_INPUTS, DEFAULT_TARGETS
    codes = activations.ACTIVATIONS[hidden].code, activations.ACTIVATIONS[output].code
    kernel.train_serial(
        lrs, lrs, i1, i2, t1, t2, W, B, False, False, *codes, loss, W_hist, B_hist, 0, iterations
    )  # fmt: skip
    return loss


def run_baseline(iterations: int) -> np.ndarray:
    import baseline_kernel

    lrs, W, B, loss, W_hist, B_hist = arrays(iterations)
    (i1, i2), (t1, t2) = DEFAULT_INPUTS, DEFAULT_TARGETS
    baseline_kernel.train_serial(lrs, lrs, i1, i2, t1, t2, W, B, False, False, loss, W_hist, B_hist, 0, iterations)
    return loss


def best(fn, repeat: int) -> tuple[float, np.ndarray]:
    fn()  # compile or load from the cache first
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--iterations", type=int, default=20_000)
    args = ap.parse_args(argv)
    n = args.iterations
    steps = LRS.size * n
    print(f"activations: {LRS.size} learning rates x {n:,} loss values, one core, best of {args.repeat}")
    print(f"compiled: {kernel.COMPILED}")
    base, base_loss = best(lambda: run_pair("sigmoid", "sigmoid", n), args.repeat)
    print(f"  {'sigmoid-sigmoid':<24} {base / steps * 1e9:7.1f} ns/step  1.00x")
    try:
        old, old_loss = best(lambda: run_baseline(n), args.repeat)
        same = np.array_equal(old_loss, base_loss)
        print(
            f"  {'before activations':<24} {old / steps * 1e9:7.1f} ns/step  sigmoid-sigmoid / before = "
            f"{base / old:.2f}x (numbers {'identical' if same else 'DIFFER'})"
        )
    except ImportError as e:  # numba missing: no baseline to compile
        print(f"  before activations: not run ({e})")
    worst = 1.0
    for hidden, output in itertools.product(activations.NAMES, repeat=2):
        if (hidden, output) == ("sigmoid", "sigmoid"):
            continue
        t, loss = best(lambda h=hidden, o=output: run_pair(h, o, n), args.repeat)
        worst = max(worst, t / base)
        finite = "" if np.isfinite(loss).all() else "  (not all finite)"
        print(f"  {hidden + '-' + output:<24} {t / steps * 1e9:7.1f} ns/step  {t / base:.2f}x{finite}")
    verdict = "ok" if worst <= TARGET else "SLOWER than the target"
    print(f"slowest pair: {worst:.2f}x sigmoid-sigmoid (target <= {TARGET}x): {verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
