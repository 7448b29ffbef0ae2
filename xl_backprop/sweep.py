"""The map's loop: many networks, one pair of learning rates each, the networks side by side.

``kernel.py`` trains one network at a time (the course's formulas, line by line, the loss of
every step kept): the right shape for a few learning rates. A map of learning-rate pairs trains
up to millions of networks and keeps only how each one ended, so here the same formulas run
with the networks' loop innermost: a tile of networks is a structure of arrays (w1[j] .. w8[j]
for network j), and one step of every network of the tile is one pass of a loop the compiler
turns into SIMD instructions. Three things make that pass vectorise in numba (measured in
benchmarks/bench_map.py):

- ``error_model="numpy"``: the default Python error model checks every ``/`` for a zero
  divisor, a branch that stops vectorisation;
- no call to ``math.exp``: this numba's LLVM has no vector exp (no SVML), so σ uses
  ``exp_neg`` below, a polynomial LLVM can vectorise;
- a network that diverged is frozen with selects (its learning rates become 0), not
  branches, and dropped from the tile at the next chunk boundary (``CHUNK`` steps), so the
  diverged side of a map costs little.

Every network's numbers depend only on its own pair and the step count, never on its
neighbours, the tile size or the thread count: the same IEEE operations in the same order,
vector lane or scalar remainder alike (no fast-math, no fused multiply-add), so a map is the
same to the last bit however it is cut up.

Arrays, for a tile of m networks: lr_h, lr_o (m,) the learning rates of the hidden layer
(w1..w4) and the output layer (w5..w8); results (m,) each: E_final, steps_run, below_from (the
step from which E_total stayed below the threshold), E_half (E_total after ``half`` steps) and
diverged (1.0 or 0.0). Biases are fixed (the map does not train them).
"""

from __future__ import annotations

import math

import numpy as np

from . import activations
from .activations import LEAKY_RELU, LEAKY_SLOPE, RELU, SIGMOID, TANH
from .kernel import _compiled, back, mean, prange, tanh

#: e^-u is computed as (e^-(u / 2^EXP_SQUARINGS))^(2^EXP_SQUARINGS): the polynomial's argument
#: stays in [0, 1] for u up to EXP_CLAMP, and each squaring doubles the relative error (6:
#: σ within 2e-14 relative of libm's, 1.4e-14 measured; tests/test_lrmap.py).
EXP_SQUARINGS = 6
#: e^-u for u above this is taken as e^-EXP_CLAMP (1.6e-28): σ(x) = 1 exactly there for x > 0,
#: and for x < 0 its tail below 1.6e-28 is flattened, far below what E_total can show.
EXP_CLAMP = float(2**EXP_SQUARINGS)
#: Steps between two checks for networks to drop (diverged ones) from a tile.
CHUNK = 32

# e^-r for r in [0, 1], as a polynomial of degree 12 in s = r - 1/2: Chebyshev interpolation of
# e^-(1/2 + s) on [-1/2, 1/2], solved in 50-digit arithmetic (mpmath) and rounded to doubles.
# Evaluated by Horner in doubles it is within 2.1e-16 relative of e^-r (Taylor's series needs
# degree 15 for that). Coefficients of s^0 .. s^12:
_C = (
    0.6065306597126334,
    -0.6065306597126333,
    0.3032653298563167,
    -0.10108844328544739,
    0.02527211082136033,
    -0.005054422164000439,
    0.0008424036940259399,
    -0.00012034338858639082,
    1.504292337374757e-05,
    -1.67141109149772e-06,
    1.6714181868801803e-07,
    -1.527420048841299e-08,
    1.2719039650810423e-09,
)
C0, C1, C2, C3, C4, C5, C6, C7, C8, C9, C10, C11, C12 = _C
_SCALE = 1.0 / EXP_CLAMP


@_compiled(error_model="numpy")
def exp_neg(u):
    """e^-u for u >= 0, in operations LLVM vectorises: the argument scaled into [0, 1], a
    polynomial (Horner), then EXP_SQUARINGS squarings."""
    s = min(u, EXP_CLAMP) * _SCALE - 0.5
    p = C12
    p = p * s + C11
    p = p * s + C10
    p = p * s + C9
    p = p * s + C8
    p = p * s + C7
    p = p * s + C6
    p = p * s + C5
    p = p * s + C4
    p = p * s + C3
    p = p * s + C2
    p = p * s + C1
    p = p * s + C0
    p = p * p
    p = p * p
    p = p * p
    p = p * p
    p = p * p
    p = p * p
    return p


@_compiled(error_model="numpy")
def sigmoid(x):
    """σ(x) = 1 / (1 + e^-x), with e^-|x| from ``exp_neg`` (in (0, 1]: never overflows). The map's
    own σ, not kernel.sigmoid's libm exp: this one vectorises (see above), within 2e-14."""
    z = exp_neg(abs(x))
    q = 1.0 / (1.0 + z)
    return q if x >= 0 else z * q


@_compiled(error_model="numpy")
def activate(code, x):
    """a = f(x) for the activation of kernel code ``code`` (activations.py), as kernel.activate
    computes it (its tanh too) but for σ, which is the map's own (above). A branch on an integer in compiled
    code; where the code is a constant (the σ-σ loop below) the compiler removes the branch."""
    if code == SIGMOID:
        return sigmoid(x)
    if code == TANH:
        return tanh(x)
    if code == RELU:
        return x if x > 0 else 0.0
    if code == LEAKY_RELU:
        return x if x > 0 else LEAKY_SLOPE * x
    return x  # LINEAR


@_compiled(error_model="numpy", inline="always")
def run_steps(w1, w2, w3, w4, w5, w6, w7, w8, lr_h, lr_o, m, n0, n1, steps, X, N, net, act_h, act_o, E, below, run, ok):
    """Steps n0..n1-1 of networks 0..m-1: every example's forward pass, E_total (their mean), and
    (for a step < ``steps``, if the network is still within bounds on every example) the backward
    passes and one gradient-descent step from the mean gradient. ``X`` (N, 4) holds the examples
    (i1, i2, t1, t2), ``N`` their number; ``net`` b1, b2, the threshold and the bound on
    |h1| + |h2| + |o1| + |o2|; ``act_h``, ``act_o`` the layers' activation codes. The sums and
    means are kernel.train_network's, in its order: one example's mean is its value, to the bit.
    Inlined where it is called, so that a call with constant N and codes is compiled for them."""
    b1, b2, threshold, bound = net[0], net[1], net[2], net[3]
    per_example = 1.0 / N
    for n in range(n0, n1):
        update = n < steps
        for j in range(m):
            W1, W2, W3, W4, W5, W6, W7, W8 = w1[j], w2[j], w3[j], w4[j], w5[j], w6[j], w7[j], w8[j]
            E_sum, g1, g2, g3, g4, g5, g6, g7, g8 = -0.0, -0.0, -0.0, -0.0, -0.0, -0.0, -0.0, -0.0, -0.0
            fine = True
            for e in range(N):
                i1, i2, t1, t2 = X[e, 0], X[e, 1], X[e, 2], X[e, 3]
                # forward pass
                h1 = W1 * i1 + W2 * i2 + b1
                h2 = W3 * i1 + W4 * i2 + b1
                a_h1 = activate(act_h, h1)
                a_h2 = activate(act_h, h2)
                o1 = W5 * a_h1 + W6 * a_h2 + b2
                o2 = W7 * a_h1 + W8 * a_h2 + b2
                a_o1 = activate(act_o, o1)
                a_o2 = activate(act_o, o2)
                E_sum += 0.5 * ((t1 - a_o1) * (t1 - a_o1)) + 0.5 * ((t2 - a_o2) * (t2 - a_o2))
                # within bounds: |h1| + |h2| + |o1| + |o2| <= bound (false for NaN and inf)
                fine = fine & (abs(h1) + abs(h2) + abs(o1) + abs(o2) <= bound)
                # backward pass: δo1 = (a_o1 - t1) * f'(o1), δh1 = (δo1 * w5 + δo2 * w7) * f'(h1)
                d_o1 = back(act_o, a_o1 - t1, a_o1)
                d_o2 = back(act_o, a_o2 - t2, a_o2)
                d_h1 = back(act_h, d_o1 * W5 + d_o2 * W7, a_h1)
                d_h2 = back(act_h, d_o1 * W6 + d_o2 * W8, a_h2)
                g1 += d_h1 * i1  # dE/dw1 of this example
                g2 += d_h1 * i2
                g3 += d_h2 * i1
                g4 += d_h2 * i2
                g5 += d_o1 * a_h1
                g6 += d_o1 * a_h2
                g7 += d_o2 * a_h1
                g8 += d_o2 * a_h2
            E_total = mean(E_sum, per_example, N)
            E[j] = E_total
            ok[j] = 1.0 if fine else 0.0
            below[j] = below[j] if (E_total < threshold) | (not fine) else n + 1.0
            # gradient descent from the mean gradient, lr_h for w1..w4, lr_o for w5..w8; a stopped network's rates are 0
            move = fine & update
            rh = lr_h[j] if move else 0.0
            ro = lr_o[j] if move else 0.0
            w1[j] = W1 - rh * mean(g1, per_example, N)
            w2[j] = W2 - rh * mean(g2, per_example, N)
            w3[j] = W3 - rh * mean(g3, per_example, N)
            w4[j] = W4 - rh * mean(g4, per_example, N)
            w5[j] = W5 - ro * mean(g5, per_example, N)
            w6[j] = W6 - ro * mean(g6, per_example, N)
            w7[j] = W7 - ro * mean(g7, per_example, N)
            w8[j] = W8 - ro * mean(g8, per_example, N)
            run[j] = n + 1.0 if move else run[j]


def _exp_neg_arrays(u):
    """``exp_neg`` on numpy arrays: the same operations in the same order, so the same bits."""
    s = np.minimum(u, EXP_CLAMP) * _SCALE - 0.5
    p = C12
    for c in (C11, C10, C9, C8, C7, C6, C5, C4, C3, C2, C1, C0):
        p = p * s + c
    for _ in range(EXP_SQUARINGS):
        p = p * p
    return p


def _sigmoid_arrays(x):
    z = _exp_neg_arrays(np.abs(x))
    q = 1.0 / (1.0 + z)
    return np.where(x >= 0, q, z * q)


def _layer_arrays(code):
    """f and g·f' of activation ``code`` on numpy arrays: activations.py's, σ the map's own."""
    a = activations.ACTIVATIONS[activations.NAMES[code]]
    return (_sigmoid_arrays if code == SIGMOID else a.f), a.back


def _mean_arrays(total, per_example, N):
    return total * per_example if N > 1 else total


def run_steps_arrays(
    w1, w2, w3, w4, w5, w6, w7, w8, lr_h, lr_o, m, n0, n1, steps, X, N, net, act_h, act_o, E, below, run, ok
):
    """``run_steps`` as numpy operations over the m networks, for where numba is missing (xlwings
    Lite): the same numbers, a step of the whole tile per round of numpy calls instead of a
    Python loop over the networks (about 100 times faster uncompiled)."""
    b1, b2, threshold, bound = (float(v) for v in net[:4])
    (f_h, back_h), (f_o, back_o) = _layer_arrays(int(act_h)), _layer_arrays(int(act_o))
    w1, w2, w3, w4, w5, w6, w7, w8 = (w[:m] for w in (w1, w2, w3, w4, w5, w6, w7, w8))
    lr_h, lr_o = lr_h[:m], lr_o[:m]
    per_example = 1.0 / N
    for n in range(n0, n1):
        E_sum = np.full(m, -0.0)
        g = [np.full(m, -0.0) for _ in range(8)]
        fine = np.ones(m, dtype=bool)
        for e in range(N):
            i1, i2, t1, t2 = (float(v) for v in X[e, :4])
            h1 = w1 * i1 + w2 * i2 + b1
            h2 = w3 * i1 + w4 * i2 + b1
            a_h1 = f_h(h1)
            a_h2 = f_h(h2)
            o1 = w5 * a_h1 + w6 * a_h2 + b2
            o2 = w7 * a_h1 + w8 * a_h2 + b2
            a_o1 = f_o(o1)
            a_o2 = f_o(o2)
            E_sum = E_sum + (0.5 * ((t1 - a_o1) * (t1 - a_o1)) + 0.5 * ((t2 - a_o2) * (t2 - a_o2)))
            fine &= np.abs(h1) + np.abs(h2) + np.abs(o1) + np.abs(o2) <= bound
            d_o1 = back_o(a_o1 - t1, a_o1)
            d_o2 = back_o(a_o2 - t2, a_o2)
            d_h1 = back_h(d_o1 * w5 + d_o2 * w7, a_h1)
            d_h2 = back_h(d_o1 * w6 + d_o2 * w8, a_h2)
            for k, term in enumerate(
                (d_h1 * i1, d_h1 * i2, d_h2 * i1, d_h2 * i2, d_o1 * a_h1, d_o1 * a_h2, d_o2 * a_h1, d_o2 * a_h2)
            ):
                g[k] = g[k] + term
        E_total = _mean_arrays(E_sum, per_example, N)
        E[:m] = E_total
        ok[:m] = np.where(fine, 1.0, 0.0)
        below[:m] = np.where((E_total < threshold) | ~fine, below[:m], n + 1.0)
        move = fine & (n < steps)
        rh = np.where(move, lr_h, 0.0)
        ro = np.where(move, lr_o, 0.0)
        for k, w in enumerate((w1, w2, w3, w4, w5, w6, w7, w8)):
            w[:] = w - (rh if k < 4 else ro) * _mean_arrays(g[k], per_example, N)
        run[:m] = np.where(move, n + 1.0, run[:m])


if not hasattr(run_steps, "py_func"):  # numba missing or disabled: map_tile below runs as Python
    run_steps = run_steps_arrays  # noqa: F811


@_compiled(error_model="numpy")
def map_tile(lr_h, lr_o, steps, half, w0, X, net, act_h, act_o, E_final, steps_run, below_from, E_half, diverged):
    """Train one network per pair (lr_h[j], lr_o[j]) for ``steps`` steps from weights ``w0``
    (8,); write how each ended into the result arrays (m,). Diverged networks leave the tile at
    the next multiple of CHUNK steps (or at step ``half`` + 1), so the tile's work shrinks."""
    m = lr_h.shape[0]
    w1, w2, w3, w4 = np.full(m, w0[0]), np.full(m, w0[1]), np.full(m, w0[2]), np.full(m, w0[3])
    w5, w6, w7, w8 = np.full(m, w0[4]), np.full(m, w0[5]), np.full(m, w0[6]), np.full(m, w0[7])
    rh, ro = lr_h.copy(), lr_o.copy()
    E, below, run, ok, Eh = np.zeros(m), np.zeros(m), np.zeros(m), np.ones(m), np.zeros(m)
    N = X.shape[0]
    course_case = N == 1 and act_h == SIGMOID and act_o == SIGMOID
    index = np.arange(m)  # network j of the tile's state is result index[j]
    live = m
    n = 0
    while n <= steps and live > 0:
        n1 = min((n // CHUNK + 1) * CHUNK, steps + 1)
        if n <= half < n1:  # end the chunk right after step ``half``, to read E_half there
            n1 = half + 1
        if course_case:  # one example, σ in both layers: compiled for these constants, vectorised
            run_steps(
                w1,
                w2,
                w3,
                w4,
                w5,
                w6,
                w7,
                w8,
                rh,
                ro,
                live,
                n,
                n1,
                steps,
                X,
                1,
                net,
                SIGMOID,
                SIGMOID,
                E,
                below,
                run,
                ok,
            )
        else:
            run_steps(
                w1, w2, w3, w4, w5, w6, w7, w8, rh, ro, live, n, n1, steps, X, N, net, act_h, act_o, E, below, run, ok
            )
        if n1 == half + 1:
            Eh[:live] = E[:live]
        # write out the networks that diverged, and keep the others at the front, in order
        kept = 0
        for j in range(live):
            if ok[j] == 0.0 or n1 == steps + 1:
                k = index[j]
                E_final[k], steps_run[k], below_from[k] = E[j], run[j], below[j]
                E_half[k] = Eh[j] if n1 > half else math.nan
                diverged[k] = 1.0 - ok[j]
            else:
                if kept != j:
                    w1[kept], w2[kept], w3[kept], w4[kept] = w1[j], w2[j], w3[j], w4[j]
                    w5[kept], w6[kept], w7[kept], w8[kept] = w5[j], w6[j], w7[j], w8[j]
                    rh[kept], ro[kept], index[kept] = rh[j], ro[j], index[j]
                    E[kept], below[kept], run[kept], Eh[kept] = E[j], below[j], run[j], Eh[j]
                kept += 1
        live = kept
        n = n1


@_compiled(error_model="numpy")
def map_serial(
    lr_h, lr_o, tile, steps, half, w0, X, net, act_h, act_o, E_final, steps_run, below_from, E_half, diverged
):
    """``map_tile`` for every tile of ``tile`` pairs in turn, on one core."""
    P = lr_h.shape[0]
    for t in range((P + tile - 1) // tile):
        a, b = t * tile, min((t + 1) * tile, P)
        map_tile(
            lr_h[a:b], lr_o[a:b], steps, half, w0, X, net, act_h, act_o,
            E_final[a:b], steps_run[a:b], below_from[a:b], E_half[a:b], diverged[a:b],
        )  # fmt: skip


@_compiled(error_model="numpy", parallel=True)
def map_parallel(
    lr_h, lr_o, tile, steps, half, w0, X, net, act_h, act_o, E_final, steps_run, below_from, E_half, diverged
):
    """``map_tile`` for every tile of ``tile`` pairs, the tiles spread over the cores."""
    P = lr_h.shape[0]
    for t in prange((P + tile - 1) // tile):
        a, b = t * tile, min((t + 1) * tile, P)
        map_tile(
            lr_h[a:b], lr_o[a:b], steps, half, w0, X, net, act_h, act_o,
            E_final[a:b], steps_run[a:b], below_from[a:b], E_half[a:b], diverged[a:b],
        )  # fmt: skip
