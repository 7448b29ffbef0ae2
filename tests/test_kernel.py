"""The compiled training loop (kernel.py) against the numpy reference (network.step), the plain
scalar reference, and itself run as plain Python: every option of ``train``."""

import itertools
import json
import math
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import xl_backprop as xb
from xl_backprop import kernel, runner

from . import scalar_reference as ref
from .conftest import as_plain_python

LRS = np.array([0.1, 0.2, 0.5, 0.8, 1.0, 2.0, 7.5])
K = LRS.size
WEIGHT_SETS = np.random.default_rng(7).uniform(-3, 3, (K, 8))
BIAS_SETS = np.random.default_rng(8).uniform(-1, 1, (K, 2))
# (biases, train_biases) x update order x (one weight set for all, or K of them) x record
BIASES = [((0.0, 0.0), False), ((0.35, 0.6), False), ((0.35, 0.6), True), (BIAS_SETS, True)]
OPTIONS = list(itertools.product(BIASES, xb.network.UPDATE_ORDERS, ["one", "K"], [False, True]))
OPTION_IDS = [
    f"{'trained' if tb else 'fixed'}-{np.ndim(b)}d-{u}-{ws}-{'record' if r else 'final'}"
    for (b, tb), u, ws, r in OPTIONS
]
PACKAGE = Path(xb.__file__).parent
COMPILED = hasattr(kernel.train_serial, "py_func")  # False under NUMBA_DISABLE_JIT=1 or without numba


def stepped(weights, biases, train_biases, update, rows):
    """``network.step`` iterated: weights (rows, K, 8), biases (rows, K, 2), loss (rows, K)."""
    w = np.broadcast_to(np.asarray(weights, float), (K, 8))
    b = np.broadcast_to(np.asarray(biases, float), (K, 2))
    ws, bs, loss = [], [], []
    for _ in range(rows):
        ws.append(w)
        bs.append(b)
        loss.append(xb.forward(w, biases=b).E_total)
        w, b = xb.step(w, lr=LRS, biases=b, train_biases=train_biases, update=update)
    return np.array(ws), np.array(bs), np.array(loss)


@pytest.mark.parametrize("option", OPTIONS, ids=OPTION_IDS)
def test_kernel_equals_step_iterated(option):
    """Within rounding: numpy's exp (SIMD on AVX-512 machines) and libm's, which the loop uses,
    differ in the last bit for some arguments; test_kernel_equals_step_to_the_last_bit below
    shows that exp is the only difference."""
    (biases, train_biases), update, weight_sets, record = option
    weights = WEIGHT_SETS if weight_sets == "K" else xb.DEFAULT_WEIGHTS
    r = xb.train(LRS, 51, weights=weights, biases=biases, train_biases=train_biases, update=update, record=record)
    w, b, loss = stepped(weights, biases, train_biases, update, 51)
    np.testing.assert_allclose(r.loss, loss, rtol=1e-13, atol=1e-15)
    if record:
        assert r.weights.shape == (51, K, 8) and r.biases.shape == (51, K, 2)
        np.testing.assert_allclose(r.weights, w, rtol=1e-13, atol=1e-14)
        np.testing.assert_allclose(r.biases, b, rtol=1e-13, atol=1e-14)
    else:
        assert r.weights.shape == (K, 8) and r.biases.shape == (K, 2)
        np.testing.assert_allclose(r.weights, w[-1], rtol=1e-13, atol=1e-14)
        np.testing.assert_allclose(r.biases, b[-1], rtol=1e-13, atol=1e-14)
    if not train_biases:
        np.testing.assert_array_equal(r.biases, b[-1] if not record else b)


@pytest.mark.parametrize("option", OPTIONS[::2], ids=OPTION_IDS[::2])
def test_kernel_equals_scalar_reference(option):
    (biases, train_biases), update, weight_sets, _ = option
    weights = WEIGHT_SETS if weight_sets == "K" else np.tile(xb.DEFAULT_WEIGHTS, (K, 1))
    bias_rows = np.broadcast_to(np.asarray(biases, float), (K, 2))
    r = xb.train(LRS, 51, weights=weights, biases=biases, train_biases=train_biases, update=update, record=True)
    for k, lr in enumerate(LRS):
        losses, ws = ref.train(
            lr, 51, weights[k], xb.DEFAULT_INPUTS, xb.DEFAULT_TARGETS, bias_rows[k], train_biases, update
        )
        np.testing.assert_allclose(r.loss[:, k], losses, rtol=0, atol=1e-12)
        np.testing.assert_allclose(r.weights[:, k], ws, rtol=0, atol=1e-12)


_LAST_BIT = r"""
import itertools, json, math, sys
import numpy as np
import xl_backprop as xb
x = -np.abs(np.random.default_rng(0).normal(0, 3, 100_000))
if not np.array_equal(np.exp(x), [math.exp(v) for v in x]):
    print(json.dumps("numpy's exp is not libm's here")); sys.exit()
lrs = np.array([0.1, 0.2, 0.5, 0.8, 1.0, 2.0, 7.5])
K = lrs.size
weight_sets = np.random.default_rng(7).uniform(-3, 3, (K, 8))
bias_sets = np.random.default_rng(8).uniform(-1, 1, (K, 2))
biases = [((0.0, 0.0), False), ((0.35, 0.6), False), ((0.35, 0.6), True), (bias_sets, True)]
differ = []
for (b, tb), update, ws in itertools.product(biases, ["simultaneous", "sequential"], [xb.DEFAULT_WEIGHTS, weight_sets]):
    r = xb.train(lrs, 200, weights=ws, biases=b, train_biases=tb, update=update, record=True)
    w, bb = np.broadcast_to(np.asarray(ws, float), (K, 8)), np.broadcast_to(np.asarray(b, float), (K, 2))
    for n in range(200):
        same = (np.array_equal(r.weights[n], w) and np.array_equal(r.biases[n], bb)
                and np.array_equal(r.loss[n], xb.forward(w, biases=bb).E_total))
        if not same:
            differ.append(f"biases {np.ndim(b)}-d trained {tb}, {update}, weights {np.ndim(ws)}-d: row {n}")
            break
        w, bb = xb.step(w, lr=lrs, biases=bb, train_biases=tb, update=update)
print(json.dumps(differ))
"""


def test_kernel_equals_step_to_the_last_bit():
    """With numpy's own SIMD exp switched off (NPY_DISABLE_CPU_FEATURES), numpy and the loop
    both call libm's exp, and 200 rows of every option agree bit for bit: the loop does the
    reference's floating-point operations, in its order."""
    try:
        from numpy._core._multiarray_umath import __cpu_dispatch__, __cpu_features__
    except ImportError:  # numpy 1.x
        from numpy.core._multiarray_umath import __cpu_dispatch__, __cpu_features__

    simd = [f for f in __cpu_dispatch__ if __cpu_features__.get(f) and ("AVX512" in f or f == "X86_V4")]
    env = {**os.environ, "NPY_DISABLE_CPU_FEATURES": " ".join(simd)}
    out = subprocess.run([sys.executable, "-c", _LAST_BIT], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    differ = json.loads(out.stdout)
    if isinstance(differ, str):
        pytest.skip(differ)
    assert differ == []


def test_huge_weights_do_not_overflow():
    """σ through e^-|x|: weights of ±1e6 saturate the units, as network.sigmoid does, with no
    overflow and no warning."""
    w = np.array([1e6, -1e6, -2e5, 3e5, -1e6, 1e6, 5e5, -5e5])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        r = xb.train([0.5, 2.0], 5, weights=w, biases=(0.35, 0.6), train_biases=True, record=True)
        f = xb.forward(w, biases=(0.35, 0.6))
    assert np.all(np.isfinite(r.loss)) and np.all(np.isfinite(r.weights))
    assert r.loss[0, 0] == f.E_total
    ws, _, loss = stepped(w, (0.35, 0.6), True, "simultaneous", 5)
    np.testing.assert_allclose(r.loss[:, 0], loss[:, 0], rtol=1e-15)


def test_progress_chunks_give_the_same_numbers():
    """With a progress callback the loop runs in chunks of rows; the numbers do not change."""
    seen = []
    chunked = xb.train(
        LRS, 1001, record=True, train_biases=True, biases=(0.35, 0.6), update="sequential", progress=seen.append
    )
    whole = xb.train(LRS, 1001, record=True, train_biases=True, biases=(0.35, 0.6), update="sequential")
    for a, b in zip(chunked, whole, strict=True):
        np.testing.assert_array_equal(a, b)
    assert 50 <= len(seen) <= 200 and seen == sorted(seen) and seen[-1] == 1.0


def test_parallel_and_serial_loops_agree():
    lrs = np.linspace(0.05, 4.0, 3000)
    big = xb.train(lrs, 40, weights=np.tile(WEIGHT_SETS[0], (3000, 1)), record=True)  # 120,000 steps: parallel
    assert lrs.size * 40 >= runner.PARALLEL_WORK
    picks = [0, 1, 1499, 1500, 2999]
    small = xb.train(lrs[picks], 40, weights=WEIGHT_SETS[0], record=True)  # serial
    np.testing.assert_array_equal(big.loss[:, picks], small.loss)
    np.testing.assert_array_equal(big.weights[:, picks], small.weights)


def test_concurrent_calls_from_threads():
    """Several Python threads training at once (the UDF server, a progress bar's thread): each
    gets its own numbers; numba's thread pool is not entered twice at the same time."""
    from concurrent.futures import ThreadPoolExecutor

    jobs = [np.linspace(0.05 * j, 3.0, 2500 + j) for j in range(1, 5)]  # 4 x 100,000 steps: parallel
    with ThreadPoolExecutor(max_workers=4) as pool:
        together = list(pool.map(lambda lrs: xb.train_curves(lrs, 40), jobs))
    for lrs, curves in zip(jobs, together, strict=True):
        np.testing.assert_array_equal(curves, xb.train_curves(lrs, 40))


@pytest.mark.skipif(not COMPILED, reason="numba is not compiling here (NUMBA_DISABLE_JIT=1 or no numba)")
@pytest.mark.parametrize("option", OPTIONS[1::3], ids=OPTION_IDS[1::3])
def test_compiled_equals_plain_python(option, monkeypatch):
    """The same source, compiled and as plain Python (each function's ``py_func``): the same
    numbers, to 1e-15 relative."""
    (biases, train_biases), update, weight_sets, record = option
    weights = WEIGHT_SETS if weight_sets == "K" else xb.DEFAULT_WEIGHTS
    lrs = np.linspace(0.1, 3, 40)
    kw = dict(
        biases=biases if np.ndim(biases) == 1 else np.resize(biases, (40, 2)),
        train_biases=train_biases,
        update=update,
        record=record,
        weights=weights if np.ndim(weights) == 1 else np.resize(weights, (40, 8)),
    )
    compiled = xb.train(lrs, 60, **kw)
    as_plain_python(monkeypatch, kernel)
    plain = xb.train(lrs, 60, **kw)
    for a, b in zip(compiled, plain, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-15, atol=0)


_TRAIN_JSON = r"""
import json, sys
import xl_backprop as xb
from xl_backprop import kernel, runner
r = xb.train([0.1, 0.5, 2.0], 51, biases=(0.35, 0.6), train_biases=True, update="sequential", record=True)
print(json.dumps({"compiled": hasattr(kernel.train_serial, "py_func"), "kernel": kernel.__file__,
                  "loss": r.loss.tolist(), "weights": r.weights.tolist()}))
"""
_EXPECTED = dict(biases=(0.35, 0.6), train_biases=True, update="sequential", record=True)


def run_train(prelude: str = "", env: dict | None = None, cwd=None, path=None) -> tuple[dict, str]:
    """_TRAIN_JSON in a fresh interpreter: (its result, its stderr)."""
    env = {k: v for k, v in (env or os.environ).items() if k != "NUMBA_CACHE_DIR"}
    if path is not None:
        env["PYTHONPATH"] = str(path)
    out = subprocess.run(
        [sys.executable, "-c", prelude + _TRAIN_JSON], capture_output=True, text=True, env=env, cwd=cwd, timeout=300
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout), out.stderr


def assert_trains_like_here(result: dict) -> None:
    r = xb.train([0.1, 0.5, 2.0], 51, **_EXPECTED)
    np.testing.assert_allclose(result["loss"], r.loss, rtol=1e-15, atol=0)
    np.testing.assert_allclose(result["weights"], r.weights, rtol=1e-15, atol=0)


def test_without_numba_the_same_source_runs_as_plain_python():
    """An interpreter where ``import numba`` fails (Pyodide, a Python without numba wheels)."""
    result, stderr = run_train("import sys; sys.modules['numba'] = None\n")
    assert result["compiled"] is False
    assert stderr == ""
    assert_trains_like_here(result)


def test_numba_disable_jit_runs_plain_python():
    result, stderr = run_train(env={**os.environ, "NUMBA_DISABLE_JIT": "1"})
    assert result["compiled"] is False and stderr == ""
    assert_trains_like_here(result)


def read_only_copy(tmp_path: Path) -> Path:
    """The package copied to tmp_path/site/xl_backprop (no cache), every folder and file read-only."""
    site = tmp_path / "site"
    shutil.copytree(PACKAGE, site / "xl_backprop", ignore=shutil.ignore_patterns("__pycache__"))
    for p in sorted(site.rglob("*"), reverse=True):
        p.chmod(stat.S_IRUSR | stat.S_IXUSR if p.is_dir() else stat.S_IRUSR)
    site.chmod(stat.S_IRUSR | stat.S_IXUSR)
    return site


def make_writable(root: Path) -> None:
    for p in [root, *root.rglob("*")]:
        p.chmod(stat.S_IRWXU)


@pytest.mark.skipif(not COMPILED, reason="numba's cache: numba is not compiling here")
@pytest.mark.skipif(os.name != "posix", reason="read-only folders by chmod")
@pytest.mark.parametrize("home_writable", [True, False], ids=["user-cache", "no-cache-anywhere"])
def test_read_only_install_trains_silently(tmp_path, home_writable):
    """An install folder numba cannot write its cache into: numba then caches in the user's
    cache folder (XDG_CACHE_HOME); where that cannot be written either, the loop is compiled
    in memory. Either way: the same numbers, nothing on stderr.

    The folders are made read-only with chmod. chmod does not stop root, so a test run as root
    (as in our containers) also replaces os.open and os.makedirs in the child with versions
    that refuse to create anything under those folders, as the kernel would for a user."""
    site = read_only_copy(tmp_path)
    cache = tmp_path / "cache"
    cache.mkdir()
    if not home_writable:
        cache.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        prelude = _deny_writes(site, None if home_writable else cache) if os.geteuid() == 0 else ""
        env = {**os.environ, "XDG_CACHE_HOME": str(cache), "HOME": str(tmp_path), "PYTHONDONTWRITEBYTECODE": "1"}
        result, stderr = run_train(prelude, env=env, cwd=tmp_path, path=site)
        assert Path(result["kernel"]).parent == site / "xl_backprop"
        assert result["compiled"] is True
        assert stderr == ""
        assert not list(site.rglob("*.nb[ic]"))  # nothing written into the install
        assert bool(list(cache.rglob("*.nbi"))) is home_writable  # the user-wide cache, where writable
        assert_trains_like_here(result)
    finally:
        make_writable(tmp_path)


def _deny_writes(*folders) -> str:
    """Python source for the child: creating a file or folder under ``folders`` fails with
    EACCES, as it does for a user without write permission."""
    roots = [str(f) for f in folders if f is not None]
    return (
        f"import os\nROOTS = {roots!r}\n"
        "def _denied(p):\n"
        "    p = os.path.abspath(os.fsdecode(p))\n"
        "    return any(p == r or p.startswith(r + os.sep) for r in ROOTS)\n"
        "_open, _makedirs = os.open, os.makedirs\n"
        "def os_open(p, flags, *a, **k):\n"
        "    if flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT) and _denied(p):\n"
        "        raise PermissionError(13, 'Permission denied', p)\n"
        "    return _open(p, flags, *a, **k)\n"
        "def makedirs(p, *a, **k):\n"
        "    if _denied(p) and not os.path.isdir(p):\n"
        "        raise PermissionError(13, 'Permission denied', p)\n"
        "    return _makedirs(p, *a, **k)\n"
        "os.open, os.makedirs = os_open, makedirs\n"
    )


def test_kernel_sigmoid_is_network_sigmoid():
    x = [-1000.0, -745.0, -30.0, -1.0, -0.0, 0.0, 1e-300, 1.0, 30.0, 1000.0, math.inf, -math.inf]
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        want = xb.sigmoid(np.array(x))
    np.testing.assert_allclose([kernel.sigmoid(v) for v in x], want, rtol=1e-15, atol=0)
    assert math.isnan(kernel.sigmoid(math.nan))


def test_compiled_says_whether_numba_compiles_the_loop():
    """The UDFs cap a cell's work lower where the loop runs as plain Python (limits.py)."""
    disabled = os.environ.get("NUMBA_DISABLE_JIT", "0") not in ("", "0")
    assert kernel.COMPILED is (not disabled)
    assert kernel.COMPILED is hasattr(kernel.train_serial, "py_func")


def test_the_kernels_tanh_is_within_3e_15_of_libm():
    """kernel.tanh (from e^-2|x|, a Taylor polynomial near 0) against math.tanh: the loop's
    numbers stay those of network.py (np.tanh) to rounding."""
    x = np.concatenate([np.linspace(-25, 25, 20001), np.geomspace(1e-300, 25, 5000), [kernel.TANH_SERIES]])
    x = np.concatenate([x, -x])
    got = np.array([kernel.tanh(float(v)) for v in x])
    want = np.array([math.tanh(float(v)) for v in x])
    np.testing.assert_allclose(got, want, rtol=3e-15, atol=0)
    assert kernel.tanh(math.inf) == 1.0 and kernel.tanh(-math.inf) == -1.0 and math.isnan(kernel.tanh(math.nan))
