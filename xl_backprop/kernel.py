"""The training loop: one network at a time, one line per formula of the sheet, compiled by numba.

``network.py`` states the maths in numpy, for any batch shape; this module runs it fast. Each
learning rate trains its own network, so the loop is plain scalar code per network — the
course's formulas, line by line — and the networks are independent: with many of them,
``train_parallel`` spreads them over the cores (``prange``).

Each layer's activation is an integer code (activations.py: 0 = sigmoid, the course's, 1 = tanh,
2 = relu, 3 = leaky_relu, 4 = linear): ``act_h`` for the hidden layer, ``act_o`` for the output.

Arrays, for K networks, N examples and ``iterations`` rows (row 0 before any update):
    X (N, 4) the examples, a row (i1, i2, t1, t2) each: E_total and every gradient are means
    over them, so one row of X is the course's one-example case
    lrs (K,) of the hidden layer (w1..w4, b1), lrs_o (K,) of the output layer (w5..w8, b2)
    W (K, 8) as w1..w8    B (K, 2) as b1, b2    (W and B are updated in place)
    loss (iterations, K) of E_total   W_hist (iterations, K, 8), B_hist (iterations, K, 2): the
    weights and biases of every row, or arrays of length 0 when not recorded.
A call runs rows ``start`` to ``stop - 1`` and leaves W and B ready for row ``stop``, so a long
run can be cut into chunks with a progress report between them.

Where numba cannot be imported (Pyodide, an interpreter without numba wheels) or
``NUMBA_DISABLE_JIT=1`` is set, the same source runs as plain Python, with the same numbers.
"""

from __future__ import annotations

import math

import numpy as np

from .activations import LEAKY_RELU, LEAKY_SLOPE, RELU, SIGMOID, TANH

try:
    from numba import njit, prange
except ImportError:  # no numba for this interpreter: the decorators do nothing, prange is range

    def njit(*args, **options):
        return args[0] if args and callable(args[0]) else (lambda f: f)

    prange = range


def _compiled(**options):
    """``njit`` with numba's on-disk cache, so compiling is paid once per machine. numba keeps
    the cache next to this file, or in the user's cache folder when this folder is read-only;
    where neither can be written it refuses ``cache=True``, and we compile in memory instead."""

    def decorate(f):
        try:
            return njit(cache=True, **options)(f)
        except RuntimeError:  # "cannot cache function ...: no locator available"
            return njit(**options)(f)

    return decorate


@_compiled()
def sigmoid(x):
    """σ(x) = 1 / (1 + e^-x) of one number, as network.sigmoid computes it for arrays: e^-|x| is in
    (0, 1], never overflows. Two functions of one name because numba compiles scalar code and the
    numpy reference works on whole arrays; the tests hold them equal."""
    z = math.exp(-abs(x))
    return 1.0 / (1.0 + z) if x >= 0 else z / (1.0 + z)


#: Below this |x|, tanh is its Taylor polynomial (degree 9, within 1e-22 relative there); above,
#: it is computed from e^-2|x|, where 1 - e^-2|x| loses at most log2(1 / (1 - e^-0.02)) ≈ 5.6 bits.
TANH_SERIES = 0.01


@_compiled()
def tanh(x):
    """tanh(x) = (1 - e^-2|x|) / (1 + e^-2|x|) with x's sign, e^-2|x| in (0, 1]: libm's exp, as σ
    uses, instead of libm's tanh (expm1 inside, about twice the time); within 1e-14 relative of
    math.tanh (tests/test_kernel.py), so every activation pair stays within 1.5x σ's time per step."""
    ax = abs(x)
    if ax < TANH_SERIES:  # x - x³/3 + 2x⁵/15 - 17x⁷/315 + 62x⁹/2835
        s = x * x
        return x + x * s * (-1.0 / 3.0 + s * (2.0 / 15.0 + s * (-17.0 / 315.0 + s * (62.0 / 2835.0))))
    z = math.exp(-2.0 * ax)
    r = (1.0 - z) / (1.0 + z)
    return r if x >= 0 else -r


@_compiled()
def activate(code, x):
    """a = f(x) for the activation of kernel code ``code`` (activations.py: SIGMOID .. LINEAR).
    A branch on an integer, in compiled code: no Python runs per step."""
    if code == SIGMOID:
        return sigmoid(x)
    if code == TANH:
        return tanh(x)
    if code == RELU:
        return x if x > 0 else 0.0
    if code == LEAKY_RELU:
        return x if x > 0 else LEAKY_SLOPE * x
    return x  # LINEAR


@_compiled()
def back(code, g, a):
    """g · f'(x), f' written in a = f(x) as activations.py states it; σ's as the course writes
    it, (g · a) · (1 - a), so that its numbers do not move by a bit."""
    if code == SIGMOID:
        return g * a * (1 - a)
    if code == TANH:
        return g * (1 - a * a)
    if code == RELU:
        return g * (1.0 if a > 0 else 0.0)
    if code == LEAKY_RELU:
        return g * (1.0 if a > 0 else LEAKY_SLOPE)
    return g * 1.0  # LINEAR


@_compiled(inline="always")
def output_pass(X, S, w1, w2, w3, w4, w5, w6, w7, w8, b1, b2, act_h, act_o):
    """Every example's forward pass and the output layer's backward pass: the sums over the
    examples of E_total and of dE/dw5..dE/dw8, dE/db2. Keeps example e's a_h1, a_h2, δo1, δo2 in
    S[e] for the hidden layer's pass."""
    # from -0.0: -0.0 + x is x for every x, so one example's sums are its own values, to the bit
    E_sum, g5, g6, g7, g8, gb2 = -0.0, -0.0, -0.0, -0.0, -0.0, -0.0
    for e in range(X.shape[0]):
        i1, i2, t1, t2 = X[e, 0], X[e, 1], X[e, 2], X[e, 3]
        # forward pass
        h1 = w1 * i1 + w2 * i2 + b1
        h2 = w3 * i1 + w4 * i2 + b1
        a_h1 = activate(act_h, h1)
        a_h2 = activate(act_h, h2)
        o1 = w5 * a_h1 + w6 * a_h2 + b2
        o2 = w7 * a_h1 + w8 * a_h2 + b2
        a_o1 = activate(act_o, o1)
        a_o2 = activate(act_o, o2)
        E1 = 0.5 * ((t1 - a_o1) * (t1 - a_o1))  # ½(t1 - a_o1)², squared as numpy does (** 2 could raise in Python)
        E2 = 0.5 * ((t2 - a_o2) * (t2 - a_o2))
        E_sum += E1 + E2
        # backward pass, output layer: δo1 = (a_o1 - t1) * f'(o1), for σ (a_o1 - t1) * a_o1 * (1 - a_o1)
        d_o1 = back(act_o, a_o1 - t1, a_o1)
        d_o2 = back(act_o, a_o2 - t2, a_o2)
        g5 += d_o1 * a_h1  # dE/dw5 of this example
        g6 += d_o1 * a_h2
        g7 += d_o2 * a_h1
        g8 += d_o2 * a_h2
        gb2 += d_o1 + d_o2
        S[e, 0], S[e, 1], S[e, 2], S[e, 3] = a_h1, a_h2, d_o1, d_o2
    return E_sum, g5, g6, g7, g8, gb2


@_compiled(inline="always")
def example_terms(i1, i2, t1, t2, w1, w2, w3, w4, w5, w6, w7, w8, b1, b2, act_h, act_o):
    """One example's forward and backward pass, the simultaneous order (the hidden layer's
    deltas take the same w5..w8 as the forward pass): its E_total and its dE/dw1..dE/dw4,
    dE/db1, dE/dw5..dE/dw8, dE/db2 — the course's loop body."""
    # forward pass
    h1 = w1 * i1 + w2 * i2 + b1
    h2 = w3 * i1 + w4 * i2 + b1
    a_h1 = activate(act_h, h1)
    a_h2 = activate(act_h, h2)
    o1 = w5 * a_h1 + w6 * a_h2 + b2
    o2 = w7 * a_h1 + w8 * a_h2 + b2
    a_o1 = activate(act_o, o1)
    a_o2 = activate(act_o, o2)
    E1 = 0.5 * ((t1 - a_o1) * (t1 - a_o1))  # ½(t1 - a_o1)², squared as numpy does (** 2 could raise in Python)
    E2 = 0.5 * ((t2 - a_o2) * (t2 - a_o2))
    # backward pass: δo1 = (a_o1 - t1) * f'(o1), δh1 = (δo1 * w5 + δo2 * w7) * f'(h1)
    d_o1 = back(act_o, a_o1 - t1, a_o1)
    d_o2 = back(act_o, a_o2 - t2, a_o2)
    d_h1 = back(act_h, d_o1 * w5 + d_o2 * w7, a_h1)
    d_h2 = back(act_h, d_o1 * w6 + d_o2 * w8, a_h2)
    return (
        E1 + E2,
        d_h1 * i1,
        d_h1 * i2,
        d_h2 * i1,
        d_h2 * i2,
        d_h1 + d_h2,
        d_o1 * a_h1,
        d_o1 * a_h2,
        d_o2 * a_h1,
        d_o2 * a_h2,
        d_o1 + d_o2,
    )


@_compiled(inline="always")
def full_pass(X, w1, w2, w3, w4, w5, w6, w7, w8, b1, b2, act_h, act_o):
    """``output_pass`` and ``hidden_pass`` in one pass over the examples, for the simultaneous
    order: the sums over the examples of E_total and of the 10 gradients (``example_terms``'
    order), the same operations in the same order as the two passes, so the same numbers, with
    nothing kept per example. One example's sums are its terms (-0.0 + x is x): the caller
    takes ``example_terms`` itself then, without the loop."""
    E_sum, g1, g2, g3, g4, gb1 = -0.0, -0.0, -0.0, -0.0, -0.0, -0.0
    g5, g6, g7, g8, gb2 = -0.0, -0.0, -0.0, -0.0, -0.0
    for e in range(X.shape[0]):
        E, t1, t2, t3, t4, tb1, t5, t6, t7, t8, tb2 = example_terms(
            X[e, 0], X[e, 1], X[e, 2], X[e, 3], w1, w2, w3, w4, w5, w6, w7, w8, b1, b2, act_h, act_o
        )
        E_sum += E
        g1 += t1
        g2 += t2
        g3 += t3
        g4 += t4
        gb1 += tb1
        g5 += t5
        g6 += t6
        g7 += t7
        g8 += t8
        gb2 += tb2
    return E_sum, g1, g2, g3, g4, gb1, g5, g6, g7, g8, gb2


@_compiled(inline="always")
def hidden_pass(X, S, w5, w6, w7, w8, act_h):
    """Every example's backward pass through the hidden layer, with w5..w8 as given (the new ones
    in the sequential order): the sums over the examples of dE/dw1..dE/dw4, dE/db1."""
    g1, g2, g3, g4, gb1 = -0.0, -0.0, -0.0, -0.0, -0.0
    for e in range(X.shape[0]):
        i1, i2 = X[e, 0], X[e, 1]
        a_h1, a_h2, d_o1, d_o2 = S[e, 0], S[e, 1], S[e, 2], S[e, 3]
        # δh1 = (δo1 * w5 + δo2 * w7) * f'(h1), for σ (δo1 * w5 + δo2 * w7) * a_h1 * (1 - a_h1)
        d_h1 = back(act_h, d_o1 * w5 + d_o2 * w7, a_h1)
        d_h2 = back(act_h, d_o1 * w6 + d_o2 * w8, a_h2)
        g1 += d_h1 * i1  # dE/dw1 of this example
        g2 += d_h1 * i2
        g3 += d_h2 * i1
        g4 += d_h2 * i2
        gb1 += d_h1 + d_h2
    return g1, g2, g3, g4, gb1


@_compiled(inline="always")
def mean(total, per_example, N):
    """A sum over the N examples as their mean; with one example the sum itself, untouched."""
    return total * per_example if N > 1 else total


@_compiled()
def train_network(k, lr_h, lr_o, X, W, B, train_biases, sequential, act_h, act_o, loss, W_hist, B_hist, start, stop):
    """Rows start..stop-1 of network k, learning rate lr_h for the hidden layer (w1..w4, b1) and
    lr_o for the output layer (w5..w8, b2): E_total and the gradients as means over the examples
    X (N, 4), then gradient descent — the floating-point operations of network.forward, backward
    and step, in their order, so the numbers are theirs (up to the last bits of exp, where numpy
    has its own, and of tanh, see ``tanh``). With one example (``example_terms`` without a loop:
    the sum of one number is that number, times 1/1 = 1) and lr_h == lr_o every operation is the
    course's one-rate loop's: its numbers do not move by a bit."""
    w1, w2, w3, w4 = float(W[k, 0]), float(W[k, 1]), float(W[k, 2]), float(W[k, 3])
    w5, w6, w7, w8 = float(W[k, 4]), float(W[k, 5]), float(W[k, 6]), float(W[k, 7])
    b1, b2 = float(B[k, 0]), float(B[k, 1])
    record = W_hist.shape[0] > 0
    last = loss.shape[0] - 1
    N = X.shape[0]
    # a mean is the sum times 1/N: one division per call, not eleven per step; none with one example
    per_example = 1.0 / N
    S = np.empty((N if sequential else 0, 4))  # per example: a_h1, a_h2, δo1, δo2 (the sequential order)
    for n in range(start, stop):
        if sequential:  # the hidden layer's pass waits for the new w5..w8: each example's values kept in S
            E_sum, g5, g6, g7, g8, gb2 = output_pass(X, S, w1, w2, w3, w4, w5, w6, w7, w8, b1, b2, act_h, act_o)
            g1, g2, g3, g4, gb1 = 0.0, 0.0, 0.0, 0.0, 0.0  # set below, from the new w5..w8
        elif N == 1:  # the course's case: one example, no loop, no sums
            E_sum, g1, g2, g3, g4, gb1, g5, g6, g7, g8, gb2 = example_terms(
                X[0, 0], X[0, 1], X[0, 2], X[0, 3], w1, w2, w3, w4, w5, w6, w7, w8, b1, b2, act_h, act_o
            )
        else:
            E_sum, g1, g2, g3, g4, gb1, g5, g6, g7, g8, gb2 = full_pass(
                X, w1, w2, w3, w4, w5, w6, w7, w8, b1, b2, act_h, act_o
            )
        loss[n, k] = mean(E_sum, per_example, N)  # E_total, the mean over the examples
        if record:
            W_hist[n, k, 0], W_hist[n, k, 1], W_hist[n, k, 2], W_hist[n, k, 3] = w1, w2, w3, w4
            W_hist[n, k, 4], W_hist[n, k, 5], W_hist[n, k, 6], W_hist[n, k, 7] = w5, w6, w7, w8
            B_hist[n, k, 0], B_hist[n, k, 1] = b1, b2
        if n == last:
            break
        # the output layer's gradients, means over the examples: dE/dw5 = mean of δo1 * a_h1
        dE_dw5, dE_dw6 = mean(g5, per_example, N), mean(g6, per_example, N)
        dE_dw7, dE_dw8, dE_db2 = mean(g7, per_example, N), mean(g8, per_example, N), mean(gb2, per_example, N)
        if sequential:  # w5..w8 first; the hidden layer's deltas then use the new ones
            w5 = w5 - lr_o * dE_dw5
            w6 = w6 - lr_o * dE_dw6
            w7 = w7 - lr_o * dE_dw7
            w8 = w8 - lr_o * dE_dw8
            g1, g2, g3, g4, gb1 = hidden_pass(X, S, w5, w6, w7, w8, act_h)
        # the hidden layer's gradients: dE/dw1 = mean of δh1 * i1
        dE_dw1, dE_dw2 = mean(g1, per_example, N), mean(g2, per_example, N)
        dE_dw3, dE_dw4, dE_db1 = mean(g3, per_example, N), mean(g4, per_example, N), mean(gb1, per_example, N)
        # gradient descent: w ← w - lr * dE/dw, lr_h for w1..w4 and b1, lr_o for w5..w8 and b2
        w1 = w1 - lr_h * dE_dw1
        w2 = w2 - lr_h * dE_dw2
        w3 = w3 - lr_h * dE_dw3
        w4 = w4 - lr_h * dE_dw4
        if not sequential:
            w5 = w5 - lr_o * dE_dw5
            w6 = w6 - lr_o * dE_dw6
            w7 = w7 - lr_o * dE_dw7
            w8 = w8 - lr_o * dE_dw8
        if train_biases:
            b1 = b1 - lr_h * dE_db1
            b2 = b2 - lr_o * dE_db2
    W[k, 0], W[k, 1], W[k, 2], W[k, 3], W[k, 4], W[k, 5], W[k, 6], W[k, 7] = w1, w2, w3, w4, w5, w6, w7, w8
    B[k, 0], B[k, 1] = b1, b2


@_compiled()
def train_serial(lrs, lrs_o, X, W, B, train_biases, sequential, act_h, act_o, loss, W_hist, B_hist, start, stop):
    """Every network in turn, on one core: the fastest way for a few networks."""
    for k in range(lrs.shape[0]):
        train_network(
            k, lrs[k], lrs_o[k], X, W, B, train_biases, sequential, act_h, act_o, loss, W_hist, B_hist, start, stop
        )


@_compiled(parallel=True)
def train_parallel(lrs, lrs_o, X, W, B, train_biases, sequential, act_h, act_o, loss, W_hist, B_hist, start, stop):
    """The networks spread over the cores. The first call in a process costs about 0.1 s (loaded
    from numba's cache, threads started), each later one tens of microseconds: for big runs."""
    for k in prange(lrs.shape[0]):
        train_network(
            k, lrs[k], lrs_o[k], X, W, B, train_biases, sequential, act_h, act_o, loss, W_hist, B_hist, start, stop
        )


#: Whether the loop above runs compiled: False without numba (xlwings Lite's Pyodide) or with
#: NUMBA_DISABLE_JIT=1, where a network step costs about 3.5 µs instead of about 60 ns.
COMPILED = hasattr(train_serial, "py_func")
