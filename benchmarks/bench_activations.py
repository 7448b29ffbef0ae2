"""Time per training step for every pair of activations (issue 18 item 3): figures and ratios,
not a test (``make bench``).

Every pair runs the same networks (the course's weights, inputs and targets; learning rates
small enough that no pair overflows) through the compiled loop on one core
(``kernel.train_serial``), in turn with sigmoid-sigmoid in the same process, and is shown as
the median over the rounds of its CPU time over sigmoid-sigmoid's. Target: every pair within
1.5x sigmoid-sigmoid. Also shown: sigmoid-sigmoid against the loop as it was before
activations (benchmarks/baseline_kernel.py, commit d8bc890, before activations and examples):
the one-example case must stay within 10 % of it (issue 18 item 2), the median of the rounds'
ratios. And the half-adder's four examples, per example step.

    python benchmarks/bench_activations.py [--repeat N] [--iterations N]
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import time

import numpy as np

from xl_backprop import DEFAULT_INPUTS, DEFAULT_TARGETS, DEFAULT_WEIGHTS, activations, examples, kernel

LRS = np.array([0.05, 0.1, 0.2, 0.3, 0.4, 0.5])
TARGET = 1.5
ONE_EXAMPLE_TARGET = 1.10  # the one-example loop against the loop before examples (issue 18 item 2)


def arrays(iterations: int):
    """Fresh arrays for one run of the loop over LRS: (lrs, W, B, loss, W_hist, B_hist)."""
    K = LRS.size
    W = np.array(np.broadcast_to(DEFAULT_WEIGHTS, (K, 8)), order="C")
    return LRS.copy(), W, np.zeros((K, 2)), np.empty((iterations, K)), np.empty((0, K, 8)), np.empty((0, K, 2))


def run_pair(hidden: str, output: str, iterations: int) -> np.ndarray:
    return run_set(hidden, output, iterations, np.array([[*DEFAULT_INPUTS, *DEFAULT_TARGETS]]))


def run_set(hidden: str, output: str, iterations: int, X: np.ndarray) -> np.ndarray:
    """The loop over LRS for the examples X (N, 4)."""
    lrs, W, B, loss, W_hist, B_hist = arrays(iterations)
    codes = activations.ACTIVATIONS[hidden].code, activations.ACTIVATIONS[output].code
    kernel.train_serial(lrs, lrs, X, W, B, False, False, *codes, loss, W_hist, B_hist, 0, iterations)
    return loss


def run_baseline(iterations: int) -> np.ndarray:
    import baseline_kernel

    lrs, W, B, loss, W_hist, B_hist = arrays(iterations)
    (i1, i2), (t1, t2) = DEFAULT_INPUTS, DEFAULT_TARGETS
    baseline_kernel.train_serial(lrs, lrs, i1, i2, t1, t2, W, B, False, False, loss, W_hist, B_hist, 0, iterations)
    return loss


def alternating(fa, fb, repeat: int) -> tuple[float, float, float, np.ndarray, np.ndarray]:
    """``fa`` and ``fb`` run turn about ``repeat`` times, CPU time of one thread each: a busy
    machine slows both alike within a round, and CPU time leaves out the time another process
    held the core. Returns the median of the rounds' ratios a / b (steadier than a ratio of
    bests), the median times of a and b, and their last results."""
    fa(), fb()  # compiled, or loaded from numba's cache
    ta, tb, out_a, out_b = [], [], None, None
    for _ in range(repeat):
        t0 = time.thread_time()
        out_a = fa()
        t1 = time.thread_time()
        out_b = fb()
        ta.append(t1 - t0)
        tb.append(time.thread_time() - t1)
    ratio = statistics.median(a / b for a, b in zip(ta, tb, strict=True))
    return ratio, statistics.median(ta), statistics.median(tb), out_a, out_b


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=9)
    ap.add_argument("--iterations", type=int, default=20_000)
    args = ap.parse_args(argv)
    n = args.iterations
    steps = LRS.size * n
    print(f"activations: {LRS.size} learning rates x {n:,} loss values, one core, median of {args.repeat} rounds")
    print(f"compiled: {kernel.COMPILED}")
    sigmoid = lambda: run_pair("sigmoid", "sigmoid", n)  # noqa: E731
    try:
        ratio, base, old, base_loss, old_loss = alternating(sigmoid, lambda: run_baseline(n), args.repeat)
        same = np.array_equal(old_loss, base_loss)
        print(f"  {'sigmoid-sigmoid':<24} {base / steps * 1e9:7.1f} ns/step  1.00x")
        print(
            f"  {'before (d8bc890)':<24} {old / steps * 1e9:7.1f} ns/step  today / before = "
            f"{ratio:.2f}x, target <= {ONE_EXAMPLE_TARGET}x (numbers {'identical' if same else 'DIFFER'})"
        )
    except ImportError as e:  # numba missing: no baseline to compile
        print(f"  before activations: not run ({e})")
    worst = 1.0
    for hidden, output in itertools.product(activations.NAMES, repeat=2):
        if (hidden, output) == ("sigmoid", "sigmoid"):
            continue
        ratio, t, _, loss, _ = alternating(lambda h=hidden, o=output: run_pair(h, o, n), sigmoid, args.repeat)
        worst = max(worst, ratio)
        finite = "" if np.isfinite(loss).all() else "  (not all finite)"
        print(f"  {hidden + '-' + output:<24} {t / steps * 1e9:7.1f} ns/step  {ratio:.2f}x{finite}")
    verdict = "ok" if worst <= TARGET else "SLOWER than the target"
    print(f"slowest pair: {worst:.2f}x sigmoid-sigmoid (target <= {TARGET}x): {verdict}")
    half_adder = examples.preset("half-adder")
    ratio, t, _, _, _ = alternating(lambda: run_set("sigmoid", "sigmoid", n, half_adder), sigmoid, args.repeat)
    per = t / (steps * len(half_adder))
    print(f"half-adder, 4 examples: {per * 1e9:.1f} ns per example step ({ratio:.2f}x one example's step time)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
