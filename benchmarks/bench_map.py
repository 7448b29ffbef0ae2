"""How close is the learning-rate map's loop to the machine's limit? Figures and ratios (``make bench``).

The yardstick is benchmarks/limit_simd.c (a copy of the project's shared tools/limit_simd.c):
K networks as arrays, the K loop innermost, built with gcc -O3 -march=native -ffast-math
-fopenmp, where glibc's libmvec gives a SIMD exp; run here with OMP_NUM_THREADS=1, one core.
The map's loop (xl_backprop/sweep.py, one core: ``map_serial``) trains the same networks (one
learning rate for both layers, 0.01 + k * 5 / K, the course's network) for the same steps,
and each of them is timed in turn, several rounds in this one process, so both see the same
neighbours. Target (issue 19): map / C <= 1.5 per network step.

What each choice costs, the same loop with one choice undone (one core, one tile of
``lrmap.DEFAULT_TILE`` networks, timed the same way):
  - error_model="python" (numba's default): a zero-division check on every ``/``;
  - math.exp (libm, scalar) instead of sweep.exp_neg, the vectorisable polynomial;
  - the course's per-network kernel (kernel.py, the loss of every step kept), one core.

    python benchmarks/bench_map.py [--rounds N] [--pairs K] [--steps N]
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import types
from pathlib import Path

import numpy as np

import xl_backprop as xb
from xl_backprop import activations, lrmap, network, runner, sweep

C_SOURCE = Path(__file__).with_name("limit_simd.c")
TARGET = 1.5


def build_c(tmp: Path) -> tuple[Path | None, str]:
    gcc = shutil.which("gcc")
    if gcc is None:
        return None, "gcc not found"
    exe = tmp / "limit_simd"
    flags = ["-O3", "-march=native", "-ffast-math", "-fopenmp"]
    proc = subprocess.run([gcc, *flags, str(C_SOURCE), "-o", str(exe), "-lm"], capture_output=True, text=True)
    if proc.returncode != 0:
        return None, f"gcc failed: {proc.stderr.strip()[-200:]}"
    version = subprocess.run([gcc, "-dumpfullversion"], capture_output=True, text=True).stdout.strip()
    return exe, f"gcc {version} {' '.join(flags)}, OMP_NUM_THREADS=1"


def run_c(exe: Path, K: int, N: int) -> float:
    """Seconds the C loop reports for K networks x N steps (its own clock, the loop alone)."""
    env = dict(os.environ, OMP_NUM_THREADS="1")
    out = subprocess.run([str(exe), str(K), str(N)], capture_output=True, text=True, env=env, check=True).stdout
    return float(re.search(r"([\d.]+) ms", out).group(1)) / 1e3


def map_job(steps: int) -> lrmap._Job:
    X = np.array([[*xb.DEFAULT_INPUTS, *xb.DEFAULT_TARGETS]])  # the course's one example
    net = np.array([0.0, 0.0, 1e-5, lrmap.SATURATION_BOUND])
    sig = activations.SIGMOID
    return lrmap._Job(lrmap.DEFAULT_TILE, steps, steps // 2, np.array(xb.DEFAULT_WEIGHTS), X, net, sig, sig)


def run_map(lrs: np.ndarray, steps: int) -> tuple[float, np.ndarray]:
    job = map_job(steps)
    t0 = time.perf_counter()
    out = lrmap.run_batch(job, lrs, lrs, parallel=False)
    return time.perf_counter() - t0, out


def variant(error_model: str, libm_exp: bool):
    """sweep.run_steps compiled again with one choice changed (no cache: a fresh compile)."""
    from numba import njit

    sig = sweep.sigmoid.py_func
    g = dict(sweep.__dict__)
    if libm_exp:

        def sigmoid_libm(x):
            z = math.exp(-abs(x))
            q = 1.0 / (1.0 + z)
            return q if x >= 0 else z * q

        g["math"] = math
        sig = sigmoid_libm
    g["sigmoid"] = njit(error_model=error_model)(types.FunctionType(sig.__code__, g, sig.__name__))
    act = sweep.activate.py_func
    g["activate"] = njit(error_model=error_model)(types.FunctionType(act.__code__, g, act.__name__))
    f = sweep.run_steps.py_func
    return njit(error_model=error_model, inline="always")(types.FunctionType(f.__code__, g, f.__name__))


def _drive(fn):
    """A compiled caller of the run_steps-like ``fn`` with one example and σ in both layers as
    constants, as sweep.map_tile calls it (``fn`` inlined there, so compiled for them)."""
    from numba import njit

    sig = activations.SIGMOID

    @njit(error_model="numpy")
    def drive(w1, w2, w3, w4, w5, w6, w7, w8, lr_h, lr_o, m, n0, n1, steps, X, net, E, below, run, ok):
        fn(w1, w2, w3, w4, w5, w6, w7, w8, lr_h, lr_o, m, n0, n1, steps, X, 1, net, sig, sig, E, below, run, ok)

    return drive


def time_steps(fn, m: int, steps: int, rounds: int) -> float:
    """Seconds a run_steps-like ``fn`` takes for one tile of m networks x steps (compiled
    first), the best of ``rounds``."""
    job = map_job(steps)
    lrs = np.linspace(0.01, 5.0, m)

    def state():
        ws = [np.full(m, w) for w in xb.DEFAULT_WEIGHTS]
        return ws, [np.zeros(m), np.zeros(m), np.zeros(m), np.ones(m)]

    fn = _drive(fn)
    ws, rest = state()
    fn(*ws, lrs, lrs, m, 0, 2, steps, job.X, job.net, *rest)  # compile
    best = math.inf
    for _ in range(rounds):
        ws, rest = state()
        t0 = time.perf_counter()
        fn(*ws, lrs, lrs, m, 0, steps, steps, job.X, job.net, *rest)
        best = min(best, time.perf_counter() - t0)
    return best


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5, help="C and map runs, in turn (default 5)")
    ap.add_argument("--pairs", type=int, default=10_000, help="networks (default 10,000, the C loop's K)")
    ap.add_argument("--steps", type=int, default=1_000, help="steps per network (default 1,000)")
    args = ap.parse_args(argv)
    import numba

    K, N = args.pairs, args.steps
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"learning-rate map benchmark: Python {platform.python_version()}, numba {numba.__version__}, "
        f"{os.cpu_count()} CPUs, load average {load:.2f}"
    )
    print(f"{K:,} networks x {N:,} steps = {K * N:,} network steps, one core each; ns/step = time / network steps")
    lrs = 0.01 + np.arange(K) * (5.0 / K)  # the C loop's learning rates
    with tempfile.TemporaryDirectory(prefix="xlbp-map-bench-") as tmp:
        exe, note = build_c(Path(tmp))
        print(f"C loop: {note}")
        run_map(lrs[:64], 4)  # compiled, or loaded from numba's cache
        c_times, m_times = [], []
        for _ in range(args.rounds):
            if exe is not None:
                c_times.append(run_c(exe, K, N))
            dt, out = run_map(lrs, N)
            m_times.append(dt)
    stopped = int(np.sum(out[4]))
    ref = network.train_curves(lrs[:: max(1, K // 20)], N + 1)[-1]
    diff = float(np.max(np.abs(out[0][:: max(1, K // 20)] - ref) / ref))
    print(f"  map loop agrees with the per-network kernel: max relative difference {diff:.1e} (20 networks)")
    print(f"  networks that diverged and stopped early: {stopped}")

    def show(name: str, times: list[float]) -> None:
        ns = [t / (K * N) * 1e9 for t in times]
        print(f"  {name:<36} best {min(ns):7.1f} ns/step, median {statistics.median(ns):7.1f}, worst {max(ns):7.1f}")

    show("xl_backprop map loop, one core", m_times)
    verdict = "not measured"
    if c_times:
        show("C limit_simd.c, one core", c_times)
        ratios = [m / c for m, c in zip(m_times, c_times, strict=True)]
        best = min(m_times) / min(c_times)
        med = statistics.median(m_times) / statistics.median(c_times)
        print(
            f"  map / C: best {best:.2f}, median {med:.2f}; round by round {min(ratios):.2f} to {max(ratios):.2f} "
            f"({', '.join(f'{r:.2f}' for r in ratios)})"
        )
        verdict = f"median {med:.2f} (<= {TARGET})  {'PASS' if med <= TARGET else 'MISS'}"

    m = lrmap.DEFAULT_TILE
    print(f"\nwhat each choice costs: one tile of {m} networks x {N:,} steps, one core, best of {args.rounds}")
    R = args.rounds
    base = time_steps(sweep.run_steps, m, N, R)
    rows = [
        ("the map's loop (as shipped)", base),
        ('error_model="python"', time_steps(variant("python", False), m, N, R)),
        ("math.exp instead of exp_neg", time_steps(variant("numpy", True), m, N, R)),
    ]
    lr1 = lrs[:m]
    network.train_curves(lr1[:2], 3)
    saved, runner.PARALLEL_WORK = runner.PARALLEL_WORK, math.inf
    try:
        best = math.inf
        for _ in range(R):
            t0 = time.perf_counter()
            network.train_curves(lr1, N + 1)
            best = min(best, time.perf_counter() - t0)
        rows.append(("per-network kernel.py (train_curves)", best))
    finally:
        runner.PARALLEL_WORK = saved
    for name, t in rows:
        print(f"  {name:<36} {t / (m * N) * 1e9:7.1f} ns/step  ({t / base:.2f}x the map's loop)")
    print(f"\ntarget: map loop / C loop per network step, one core each: {verdict}")
    print("(a shared machine: neighbours slow both loops, not always equally; the round-by-round ratios show it)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
