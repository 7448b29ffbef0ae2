"""How fast is ``xl_backprop.train_curves``? Figures and ratios, not a test (``make bench``).

Each sweep is timed against a compiled scalar C loop run in this process (gcc -O3
-march=native, benchmarks/scalar_loop.c, one core), after checking that both give the same
numbers (max abs difference in E_total). Targets, from issue 7:
  (a) the course's sweep, 6 learning rates x 51 loss values, warm:  <= 0.05 ms
  (b) 6 learning rates x 100,000 loss values:                       <= 1.5 x the C loop
  (c) 10,000 learning rates x 1,000 loss values, both cores:        <= 0.75 x the C loop
  (d) cold start: a fresh process imports the package and runs (a), numba's cache warm: <= 1.5 s
Also shown: a plain-Python scalar loop and PyTorch autograd (if ``import torch`` works), peak
memory of (c). Times are the best of several runs; a busy machine makes all of them slower.

    python benchmarks/bench_train.py [--repeat N] [--no-torch]
"""

from __future__ import annotations

import argparse
import ctypes
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import numpy as np

from xl_backprop import DEFAULT_INPUTS, DEFAULT_ITERATIONS, DEFAULT_LRS, DEFAULT_TARGETS, DEFAULT_WEIGHTS, runner
from xl_backprop import train_curves as engine

LONG_N = 100_000  # sweep (b): the course's 6 learning rates, many steps
BIG_K, BIG_N = 10_000, 1_000
BIG_LRS = np.linspace(0.01, 5.0, BIG_K)
COLD = "import xl_backprop as xb; xb.train_curves(xb.DEFAULT_LRS, xb.DEFAULT_ITERATIONS)"
PY_SUBSET = 40  # learning rates the plain-Python loop runs on sweep (b), then extrapolated
C_SOURCE = Path(__file__).with_name("scalar_loop.c")
AGREE = 1e-12  # max abs difference in E_total accepted between two implementations


CPU_OF_BEST: list[float] = [0.0]  # CPU seconds (all threads) of the last timed() best run


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, float, object]:
    """(best, median) wall seconds of ``repeat`` calls, and the last result. The best run's
    CPU time goes to CPU_OF_BEST: CPU / wall > 1 means the call used several cores."""
    times, result, cpu_of = [], None, {}
    for _ in range(repeat):
        c0, t0 = time.process_time(), time.perf_counter()
        result = fn()
        dt = time.perf_counter() - t0
        cpu_of[dt] = time.process_time() - c0
        times.append(dt)
    CPU_OF_BEST[0] = cpu_of[min(times)]
    return min(times), statistics.median(times), result


# ----------------------------------------------------------------------------- yardsticks


def python_curves(lrs, iterations: int) -> np.ndarray:
    """Plain-Python scalar loop, docs/design.md's formulas, simultaneous updates, no biases."""
    i1, i2 = DEFAULT_INPUTS
    t1, t2 = DEFAULT_TARGETS
    exp = math.exp
    out = np.empty((iterations, len(lrs)))
    for k, lr in enumerate(lrs):
        w1, w2, w3, w4, w5, w6, w7, w8 = DEFAULT_WEIGHTS
        for t in range(iterations):
            a_h1 = 1.0 / (1.0 + exp(-(w1 * i1 + w2 * i2)))
            a_h2 = 1.0 / (1.0 + exp(-(w3 * i1 + w4 * i2)))
            a_o1 = 1.0 / (1.0 + exp(-(w5 * a_h1 + w6 * a_h2)))
            a_o2 = 1.0 / (1.0 + exp(-(w7 * a_h1 + w8 * a_h2)))
            out[t, k] = 0.5 * (t1 - a_o1) ** 2 + 0.5 * (t2 - a_o2) ** 2
            d_o1 = (a_o1 - t1) * a_o1 * (1.0 - a_o1)
            d_o2 = (a_o2 - t2) * a_o2 * (1.0 - a_o2)
            d_h1 = (d_o1 * w5 + d_o2 * w7) * a_h1 * (1.0 - a_h1)
            d_h2 = (d_o1 * w6 + d_o2 * w8) * a_h2 * (1.0 - a_h2)
            w1, w2, w3, w4 = w1 - lr * d_h1 * i1, w2 - lr * d_h1 * i2, w3 - lr * d_h2 * i1, w4 - lr * d_h2 * i2
            w5, w6 = w5 - lr * d_o1 * a_h1, w6 - lr * d_o1 * a_h2
            w7, w8 = w7 - lr * d_o2 * a_h1, w8 - lr * d_o2 * a_h2
    return out


def build_c_loop(tmp: Path) -> tuple[Callable[[np.ndarray, int], np.ndarray] | None, str]:
    """Compile scalar_loop.c with gcc -O3 -march=native; (function, note) or (None, why not)."""
    gcc = shutil.which("gcc")
    if gcc is None:
        return None, "gcc not found"
    lib_path = tmp / "scalar_loop.so"
    cmd = [gcc, "-O3", "-march=native", "-shared", "-fPIC", str(C_SOURCE), "-o", str(lib_path), "-lm"]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        return None, f"gcc failed: {proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else proc.returncode}"
    lib = ctypes.CDLL(str(lib_path))
    vec = np.ctypeslib.ndpointer(dtype=np.float64, flags="C_CONTIGUOUS")
    lib.train_curves.argtypes = [vec, ctypes.c_int, ctypes.c_int, vec, vec, vec, vec]
    lib.train_curves.restype = None
    w0 = np.array(DEFAULT_WEIGHTS)
    inputs, targets = np.array(DEFAULT_INPUTS), np.array(DEFAULT_TARGETS)

    def c_curves(lrs: np.ndarray, iterations: int) -> np.ndarray:
        lrs = np.ascontiguousarray(lrs, dtype=np.float64)
        out = np.empty((iterations, lrs.size))
        lib.train_curves(lrs, lrs.size, iterations, w0, inputs, targets, out)
        return out

    version = subprocess.run([gcc, "-dumpfullversion"], capture_output=True, text=True).stdout.strip()
    return c_curves, f"gcc {version} -O3 -march=native"


def torch_loop():
    """PyTorch autograd, float64, all learning rates as one batch; None if torch is missing."""
    try:
        import torch
    except ImportError:
        return None, "torch not installed"

    def torch_curves(lrs, iterations: int) -> np.ndarray:
        i1, i2 = DEFAULT_INPUTS
        t1, t2 = DEFAULT_TARGETS
        lr = torch.tensor(np.asarray(lrs), dtype=torch.float64)[:, None]
        w = torch.tensor(DEFAULT_WEIGHTS, dtype=torch.float64).repeat(lr.shape[0], 1).requires_grad_()
        loss = torch.empty((iterations, lr.shape[0]), dtype=torch.float64)
        for t in range(iterations):
            w1, w2, w3, w4, w5, w6, w7, w8 = w.unbind(1)
            a_h1 = torch.sigmoid(w1 * i1 + w2 * i2)
            a_h2 = torch.sigmoid(w3 * i1 + w4 * i2)
            a_o1 = torch.sigmoid(w5 * a_h1 + w6 * a_h2)
            a_o2 = torch.sigmoid(w7 * a_h1 + w8 * a_h2)
            E_total = 0.5 * (t1 - a_o1) ** 2 + 0.5 * (t2 - a_o2) ** 2
            loss[t] = E_total.detach()
            if t == iterations - 1:
                break
            # networks are independent, so d(sum of E_total)/dw is every network's own gradient
            (grad,) = torch.autograd.grad(E_total.sum(), w)
            with torch.no_grad():
                w -= lr * grad
        return loss.numpy()

    return torch_curves, f"torch {torch.__version__}, {torch.get_num_threads()} threads, float64"


# ----------------------------------------------------------------------------- report


def line(name: str, seconds: float, steps: int, note: str = "") -> None:
    print(f"  {name:<34} {seconds * 1e3:11.3f} ms {seconds / steps * 1e9:9.1f} ns/step  {note}")


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def agree(name: str, got: np.ndarray, want: np.ndarray) -> bool:
    diff = float(np.max(np.abs(got - want)))
    ok = diff <= AGREE
    print(f"  {'':<34} {name} vs engine: max abs difference {diff:.2e} ({'agrees' if ok else 'DIFFERS'})")
    return ok


def cold_start(repeat: int) -> tuple[float, float, float]:
    """(best, median) wall seconds of a fresh ``python -c COLD`` with numba's cache warm, and of
    a fresh ``python -c "import numpy"`` for comparison (the interpreter's own start)."""

    def run(code: str) -> float:
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        return time.perf_counter() - t0

    run(COLD)  # fills the cache if this checkout has none yet
    times = sorted(run(COLD) for _ in range(repeat))
    return times[0], statistics.median(times), min(run("import numpy") for _ in range(repeat))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5, help="runs of each long timing; the best counts")
    ap.add_argument("--no-torch", action="store_true", help="skip PyTorch even if installed")
    args = ap.parse_args(argv)
    if args.repeat < 1:
        ap.error("--repeat: expected a whole number >= 1")

    import numba

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"xl_backprop.train_curves benchmark: Python {platform.python_version()}, numpy {np.__version__}, "
        f"numba {numba.__version__} ({numba.get_num_threads()} threads), {os.cpu_count()} CPUs, "
        f"load average {load:.2f}"
    )
    print("ns/step = time / (learning rates x loss values): one forward pass (+ backward and update)")
    targets: list[str] = []
    with tempfile.TemporaryDirectory(prefix="xlbp-bench-") as tmp:
        c_curves, c_note = build_c_loop(Path(tmp))
        t_curves, t_note = (None, "skipped (--no-torch)") if args.no_torch else torch_loop()
        print(f"C loop: {c_note};  PyTorch: {t_note}")

        def sweep(label: str, lrs: np.ndarray, n: int, repeat: int, limit: float | None, what: str) -> float:
            """Time the engine and the yardsticks on one sweep; ``limit``: engine / C allowed."""
            steps = lrs.size * n
            print(f"\n{label} {lrs.size:,} learning rates x {n:,} loss values = {steps:,} network steps")
            engine(lrs, n)  # warm-up: the serial or parallel loop loaded from numba's cache, threads started
            best, med, ref = timed(lambda: engine(lrs, n), repeat)
            line(
                "xl_backprop.train_curves",
                best,
                steps,
                f"median {med * 1e3:.3f} ms, CPU/wall {CPU_OF_BEST[0] / best:.1f} (cores used)",
            )
            if steps >= runner.PARALLEL_WORK:  # the same run on one core, to compare with the C loop core for core
                runner.PARALLEL_WORK, saved = math.inf, runner.PARALLEL_WORK
                try:
                    one, _, got = timed(lambda: engine(lrs, n), repeat)
                finally:
                    runner.PARALLEL_WORK = saved
                line("xl_backprop, one core (serial loop)", one, steps, "")
                agree("one core", got, ref)
            if steps <= 2_000_000:
                p_best, _, got = timed(lambda: python_curves(lrs, n), 3 if steps < 10_000 else 1)
                line("plain-Python scalar loop", p_best, steps, f"engine {p_best / best:.0f}x faster")
                agree("Python", got, ref)
            else:
                sub = lrs[:: lrs.size // PY_SUBSET][:PY_SUBSET]
                p_sub, _, got = timed(lambda: python_curves(sub, n), 1)
                p_full = p_sub * lrs.size / sub.size
                line(
                    "plain-Python scalar loop",
                    p_full,
                    steps,
                    f"extrapolated from {sub.size} learning rates; engine {p_full / best:.0f}x faster",
                )
                agree("Python", got, ref[:, :: lrs.size // PY_SUBSET][:, :PY_SUBSET])
            if c_curves is not None:
                c_best, _, got = timed(lambda: c_curves(lrs, n), repeat)
                ratio = best / c_best
                line("compiled C scalar loop", c_best, steps, f"one core; engine / C = {ratio:.2f}")
                agree("C", got, ref)
                if limit is not None:
                    targets.append(f"{label} {what}: engine / C = {ratio:.2f} (<= {limit})  {verdict(ratio <= limit)}")
            elif limit is not None:
                targets.append(f"{label} {what}: not measured ({c_note})")
            if t_curves is not None:
                tn = min(n, 2_000)  # each step costs tens of us in Python: time a prefix, extrapolate
                t_curves(lrs, 3)  # warm-up
                t_best, _, got = timed(lambda: t_curves(lrs, tn), max(1, min(repeat, 3)))
                t_full = t_best * n / tn
                note = "" if tn == n else f" (extrapolated from {tn:,} steps)"
                line(
                    "PyTorch autograd",
                    t_full,
                    steps,
                    f"engine {t_full / best:.1f}x faster{note}, CPU/wall {CPU_OF_BEST[0] / t_best:.1f}",
                )
                agree("torch", got, ref[:tn])
                targets.append(f"{label} engine faster than PyTorch: {t_full / best:.1f}x  {verdict(t_full > best)}")
            return best

        # (a) the course's sweep --------------------------------------------------------------
        lrs = np.array(DEFAULT_LRS)
        a = sweep("(a)", lrs, DEFAULT_ITERATIONS, 2000, None, "")
        targets.append(f"(a) course sweep <= 0.05 ms warm: {a * 1e3:.4f} ms  {verdict(a <= 5e-5)}")
        # (b) a few learning rates, many steps ------------------------------------------------
        sweep("(b)", lrs, LONG_N, args.repeat, 1.5, "<= 1.5 x C loop")
        # (c) many learning rates -------------------------------------------------------------
        sweep("(c)", BIG_LRS, BIG_N, args.repeat, 0.75, "<= 0.75 x C loop (both cores)")
        tracemalloc.start()
        tracemalloc.reset_peak()
        result = engine(BIG_LRS, BIG_N)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        print(
            f"  {'peak memory (tracemalloc)':<34} {peak / 2**20:11.1f} MiB for a result of "
            f"{result.nbytes / 2**20:.1f} MiB: {peak / result.nbytes:.2f}x"
        )

    # (d) cold start ------------------------------------------------------------------------
    best, med, bare = cold_start(max(3, args.repeat))
    print(f"\n(d) cold start, numba's cache warm: python -c '{COLD}'")
    print(
        f"  {'fresh process':<34} {best * 1e3:11.0f} ms (median {med * 1e3:.0f} ms); "
        f"python -c 'import numpy' alone: {bare * 1e3:.0f} ms"
    )
    targets.append(f"(d) cold start <= 1.5 s: {best:.2f} s  {verdict(best <= 1.5)}")

    print("\ntargets (a shared machine: a busy neighbour slows every line)")
    for t in targets:
        print(f"  {t}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
