"""The 2-2-2 sigmoid network of the course's worked example, in pure numpy.

Notation follows the workbook (DESIGN.md):

    h1 = w1*i1 + w2*i2 + b1     a_h1 = σ(h1)     o1 = w5*a_h1 + w6*a_h2 + b2    a_o1 = σ(o1)
    h2 = w3*i1 + w4*i2 + b1     a_h2 = σ(h2)     o2 = w7*a_h1 + w8*a_h2 + b2    a_o2 = σ(o2)
    E1 = ½(t1 - a_o1)²          E2 = ½(t2 - a_o2)²                              E_total = E1 + E2

Shape rule, stated once: leading axes are batch axes. ``weights`` has shape (..., 8) in the
order w1..w8, ``biases`` (..., 2) as (b1, b2); ``inputs`` and ``targets`` are (2,). Every
value the functions return has the batch shape (...), so K learning rates or K weight sets
are computed in one vectorised pass. In ``train``, axis 0 of the batch indexes learning rates.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple

import numpy as np

from .limits import is_count as _is_count  # a whole number >= 1, the one rule every face uses

#: The course's reference sheet.
DEFAULT_INPUTS = (0.05, 0.1)
DEFAULT_TARGETS = (0.01, 0.99)
DEFAULT_WEIGHTS = (0.15, 0.2, 0.25, 0.3, 0.4, 0.45, 0.5, 0.55)
DEFAULT_BIASES = (0.0, 0.0)
DEFAULT_LRS = (0.1, 0.2, 0.5, 0.8, 1.0, 2.0)
DEFAULT_ITERATIONS = 51
UPDATE_ORDERS = ("simultaneous", "sequential")

WEIGHT_NAMES = tuple(f"w{k}" for k in range(1, 9))
GRADIENT_NAMES = tuple(f"dE/dw{k}" for k in range(1, 9))


class Forward(NamedTuple):
    """Every value of one forward pass, each of the batch shape."""

    h1: np.ndarray
    a_h1: np.ndarray
    h2: np.ndarray
    a_h2: np.ndarray
    o1: np.ndarray
    a_o1: np.ndarray
    o2: np.ndarray
    a_o2: np.ndarray
    E1: np.ndarray
    E2: np.ndarray
    E_total: np.ndarray


class Backward(NamedTuple):
    """Gradients of E_total: ``weights`` (..., 8) as dE/dw1..dE/dw8, ``biases`` (..., 2)."""

    weights: np.ndarray
    biases: np.ndarray


class TrainResult(NamedTuple):
    """``loss`` (iterations, K); ``weights`` (iterations, K, 8) and ``biases``
    (iterations, K, 2) when recorded, else the final (K, 8) and (K, 2)."""

    loss: np.ndarray
    weights: np.ndarray
    biases: np.ndarray


def sigmoid(x):
    """σ(x) = 1 / (1 + e^-x), computed without overflow for any finite x."""
    x = np.asarray(x, dtype=float)
    z = np.exp(-np.abs(x))  # in (0, 1]: never overflows
    return np.where(x >= 0, 1.0 / (1.0 + z), z / (1.0 + z))


def _as_params(weights, biases):
    w = np.asarray(weights, dtype=float)
    b = np.asarray(biases, dtype=float)
    if w.shape[-1:] != (8,):
        raise ValueError(f"weights: expected 8 values w1..w8 on the last axis, got shape {w.shape}")
    if b.shape[-1:] != (2,):
        raise ValueError(f"biases: expected 2 values (b1, b2) on the last axis, got shape {b.shape}")
    return w, b


def _check_update(update: str) -> None:
    if update not in UPDATE_ORDERS:
        raise ValueError(f"update: expected one of {', '.join(UPDATE_ORDERS)}, got {update!r}")


def _pair(values, name: str) -> np.ndarray:
    v = np.asarray(values, dtype=float)
    if v.shape != (2,):
        raise ValueError(f"{name}: expected 2 values, got shape {v.shape}")
    return v


def forward(weights, inputs=DEFAULT_INPUTS, targets=DEFAULT_TARGETS, biases=DEFAULT_BIASES) -> Forward:
    """One forward pass. weights (..., 8), biases (..., 2); returns a ``Forward`` of shape (...)."""
    w, b = _as_params(weights, biases)
    i1, i2 = _pair(inputs, "inputs")
    t1, t2 = _pair(targets, "targets")
    w1, w2, w3, w4, w5, w6, w7, w8 = np.moveaxis(w, -1, 0)
    b1, b2 = np.moveaxis(b, -1, 0)
    h1 = w1 * i1 + w2 * i2 + b1
    h2 = w3 * i1 + w4 * i2 + b1
    a_h1, a_h2 = sigmoid(h1), sigmoid(h2)
    o1 = w5 * a_h1 + w6 * a_h2 + b2
    o2 = w7 * a_h1 + w8 * a_h2 + b2
    a_o1, a_o2 = sigmoid(o1), sigmoid(o2)
    E1 = 0.5 * (t1 - a_o1) ** 2
    E2 = 0.5 * (t2 - a_o2) ** 2
    return Forward(h1, a_h1, h2, a_h2, o1, a_o1, o2, a_o2, E1, E2, E1 + E2)


def backward(weights, inputs=DEFAULT_INPUTS, targets=DEFAULT_TARGETS, biases=DEFAULT_BIASES,
             fwd: Forward | None = None) -> Backward:
    """All gradients of E_total, by the chain rule:

        δo1 = (a_o1 - t1) * a_o1 * (1 - a_o1)            δo2 likewise with t2, a_o2
        dE/dw5 = δo1 * a_h1    dE/dw6 = δo1 * a_h2    dE/dw7 = δo2 * a_h1    dE/dw8 = δo2 * a_h2
        δh1 = (δo1 * w5 + δo2 * w7) * a_h1 * (1 - a_h1)  δh2 = (δo1 * w6 + δo2 * w8) * a_h2 * (1 - a_h2)
        dE/dw1 = δh1 * i1      dE/dw2 = δh1 * i2      dE/dw3 = δh2 * i1      dE/dw4 = δh2 * i2
        dE/db1 = δh1 + δh2     dE/db2 = δo1 + δo2
    """
    w, b = _as_params(weights, biases)
    i1, i2 = _pair(inputs, "inputs")
    t1, t2 = _pair(targets, "targets")
    f = forward(w, inputs, targets, b) if fwd is None else fwd
    d_o1 = (f.a_o1 - t1) * f.a_o1 * (1 - f.a_o1)
    d_o2 = (f.a_o2 - t2) * f.a_o2 * (1 - f.a_o2)
    w5, w6, w7, w8 = np.moveaxis(w[..., 4:], -1, 0)
    d_h1 = (d_o1 * w5 + d_o2 * w7) * f.a_h1 * (1 - f.a_h1)
    d_h2 = (d_o1 * w6 + d_o2 * w8) * f.a_h2 * (1 - f.a_h2)
    g = np.stack([d_h1 * i1, d_h1 * i2, d_h2 * i1, d_h2 * i2,
                  d_o1 * f.a_h1, d_o1 * f.a_h2, d_o2 * f.a_h1, d_o2 * f.a_h2], axis=-1)
    return Backward(g, np.stack([d_h1 + d_h2, d_o1 + d_o2], axis=-1))


def gradients(weights, inputs=DEFAULT_INPUTS, targets=DEFAULT_TARGETS, biases=DEFAULT_BIASES) -> np.ndarray:
    """dE/dw1..dE/dw8, shape (..., 8)."""
    return backward(weights, inputs, targets, biases).weights


def step(weights, inputs=DEFAULT_INPUTS, targets=DEFAULT_TARGETS, lr=0.5, biases=DEFAULT_BIASES, *,
         train_biases: bool = False, update: str = "simultaneous") -> tuple[np.ndarray, np.ndarray]:
    """One gradient-descent step, w ← w - lr * dE/dw; returns (weights (..., 8), biases (..., 2)).

    ``update="simultaneous"`` takes every gradient from the same forward pass;
    ``"sequential"`` updates w5..w8 first and takes the hidden-layer gradients with the new
    w5..w8 (the variant some tutorials use). ``lr`` broadcasts against the batch shape.
    """
    _check_update(update)
    w, b = _as_params(weights, biases)
    lr = np.asarray(lr, dtype=float)[..., None]
    f = forward(w, inputs, targets, b)
    g = backward(w, inputs, targets, b, fwd=f)
    new_w = w - lr * g.weights
    gb = g.biases
    if update == "sequential":  # the same forward pass, the new w5..w8 in the chain rule
        mixed = np.concatenate([w[..., :4], new_w[..., 4:]], axis=-1)
        gh = backward(mixed, inputs, targets, b, fwd=f)
        new_w = np.concatenate([w[..., :4] - lr * gh.weights[..., :4], new_w[..., 4:]], axis=-1)
        gb = np.stack([gh.biases[..., 0], g.biases[..., 1]], axis=-1)
    new_b = b - lr * gb if train_biases else np.broadcast_to(b, new_w.shape[:-1] + (2,)).copy()
    return new_w, new_b


def train(lrs, iterations: int = DEFAULT_ITERATIONS, *, weights=DEFAULT_WEIGHTS, inputs=DEFAULT_INPUTS,
          targets=DEFAULT_TARGETS, biases=DEFAULT_BIASES, train_biases: bool = False,
          update: str = "simultaneous", record: bool = False, progress=None) -> TrainResult:
    """Train one network per learning rate, all in one vectorised pass.

    lrs : K learning rates. weights (8,) or (K, 8), biases (2,) or (K, 2).
    Returns ``TrainResult``: loss (iterations, K) of E_total, row 0 before any update, so
    there are iterations - 1 updates. With ``record``, the weights and biases of every row.
    ``progress``, if given, is called with the fraction of the work done, from 0 to 1.
    """
    lrs = np.atleast_1d(np.asarray(lrs, dtype=float))
    if lrs.ndim != 1 or lrs.size == 0:
        raise ValueError("lrs: expected a non-empty list of learning rates")
    if not _is_count(iterations):
        raise ValueError(f"iterations: expected a whole number >= 1, got {iterations!r}")
    _check_update(update)
    w0, b0 = _as_params(weights, biases)
    try:
        (K,) = np.broadcast_shapes(lrs.shape, w0.shape[:-1], b0.shape[:-1])
    except ValueError:
        raise ValueError(f"weights: expected (8,) or ({lrs.size}, 8) to match the learning rates, "
                         f"got {w0.shape}; biases {b0.shape}") from None
    if lrs.size != K:
        lrs = np.full(K, lrs[0])
    iterations = int(iterations)
    # Parameters as rows of one (10, K) array: w1..w8, b1, b2. Every parameter is a
    # contiguous vector, and the update is one in-place operation on all of them.
    P = np.empty((10, K))
    P[:8] = w0.reshape(-1, 8).T
    P[8:] = b0.reshape(-1, 2).T
    loss = np.empty((iterations, K))
    hist = np.empty((iterations, 10, K)) if record else None
    kernel = _Kernel(_pair(inputs, "inputs"), _pair(targets, "targets"), train_biases, update,
                     use_biases=train_biases or bool(np.any(b0 != 0)))
    # Learning rates are independent columns: a large batch is split into one block per core,
    # each trained in its own thread (numpy releases the GIL inside each operation). Smaller
    # blocks would spend more time handing the GIL over than computing.
    n_blocks = min(os.cpu_count() or 1, K // _MIN_BLOCK) if K >= 2 * _MIN_BLOCK else 1
    edges = [K * n // n_blocks for n in range(n_blocks + 1)]
    blocks = [slice(a, b) for a, b in zip(edges[:-1], edges[1:], strict=True)]
    done = np.zeros(len(blocks))

    def run(n: int) -> None:
        cols = blocks[n]
        report = None
        if progress is not None:
            def report(t: int) -> None:
                done[n] = t * (cols.stop - cols.start)
                progress(done.sum() / (iterations * K))
        p = P[:, cols].copy()
        kernel(p, lrs[cols], loss[:, cols], None if hist is None else hist[:, :, cols], report)
        P[:, cols] = p

    with np.errstate(over="ignore", invalid="ignore"):
        if len(blocks) == 1:
            run(0)
        else:
            with ThreadPoolExecutor(max_workers=len(blocks)) as pool:
                list(pool.map(run, range(len(blocks))))
    if record:
        return TrainResult(loss, hist[:, :8].transpose(0, 2, 1), hist[:, 8:].transpose(0, 2, 1))
    return TrainResult(loss, P[:8].T.copy(), P[8:].T.copy())


_MIN_BLOCK = 4096  # columns: below this, a second thread costs more than it saves


class _Kernel:
    """The training loop on one block of k columns, every array a (2, k) pair of rows.

    Written for speed: preallocated buffers, in-place numpy operations, no temporaries.
    The maths is exactly ``forward`` and ``backward`` above.
    """

    def __init__(self, inputs, targets, train_biases: bool, update: str, use_biases: bool):
        self.i = np.asarray(inputs, dtype=float)
        self.t = np.asarray(targets, dtype=float)[:, None]
        self.train_biases, self.sequential, self.use_biases = train_biases, update == "sequential", use_biases

    def __call__(self, P, lrs, loss, hist, report) -> None:
        k = P.shape[1]
        sequential, train_biases, use_biases = self.sequential, self.train_biases, self.use_biases
        mul, sub, add, exp, recip = np.multiply, np.subtract, np.add, np.exp, np.reciprocal
        Wh = P[0:4].reshape(2, 2, k)  # Wh[0] = (w1, w2) into h1, Wh[1] = (w3, w4) into h2
        Wo = P[4:8].reshape(2, 2, k)  # Wo[0] = (w5, w6) into o1, Wo[1] = (w7, w8) into o2
        G = np.zeros((10, k))  # lr * dE/dw1..dE/dw8, lr * dE/db1, lr * dE/db2
        Gh, Go = G[0:4].reshape(2, 2, k), G[4:8].reshape(2, 2, k)
        A_h, A_o, Z, T, D, DO, DH = np.empty((7, 2, k))
        Q = np.empty((2, 2, k))
        # Constants at full shape: numpy's fast path for equal shapes beats scalar broadcasting.
        ONE = np.ones((2, k))
        t = np.repeat(self.t, k, axis=1)
        neg_i1, neg_i2 = np.full((2, 2, k), -self.i[:, None, None])
        LR = np.repeat(lrs[None, :], 2, axis=0)
        # Views made once: a numpy call on a small block costs about as much as making a view.
        w13, w24, b1, b2 = Wh[:, 0], Wh[:, 1], P[8], P[9]
        Q0, Q1, Qc0, Qc1 = Q[0], Q[1], Q[:, 0], Q[:, 1]
        T0, T1, DO0, DO1, DH0, DH1 = T[0], T[1], DO[0], DO[1], DH[0], DH[1]
        DO_col, A_h_row, DH_col = DO[:, None, :], A_h[None, :, :], DH[:, None, :]
        inp = self.i[None, :, None]
        n = 10 if train_biases else 8
        Gn, Pn, gb1, gb2 = G[:n], P[:n], G[8], G[9]
        last = loss.shape[0] - 1
        for step_no, E_row in enumerate(loss):
            # forward: Z = -h = (-(w1*i1 + w2*i2 + b1), -(w3*i1 + w4*i2 + b1)), A_h = 1 / (1 + e^-h)
            mul(w13, neg_i1, Z)
            mul(w24, neg_i2, T)
            Z += T
            if use_biases:
                Z -= b1
            exp(Z, Z)
            Z += ONE
            recip(Z, A_h)
            # Z = o = (w5*a_h1 + w6*a_h2 + b2, w7*a_h1 + w8*a_h2 + b2), A_o = (a_o1, a_o2)
            mul(Wo, A_h_row, Q)
            add(Qc0, Qc1, Z)
            if use_biases:
                Z += b2
            np.negative(Z, Z)
            exp(Z, Z)
            Z += ONE
            recip(Z, A_o)
            # E_total = ½(a_o1 - t1)² + ½(a_o2 - t2)²   (the ½ is applied once, after the loop)
            sub(A_o, t, D)
            mul(D, D, T)
            add(T0, T1, E_row)
            if hist is not None:
                hist[step_no] = P
            if report is not None:
                report(step_no + 1)
            if step_no == last:
                break
            # backward, every delta times lr (the chain rule is linear in δo, so one
            # multiplication here scales every gradient below):
            # lr * δo = lr * (a_o - t) * a_o * (1 - a_o);  lr * dE/dw5..8 = lr * δo_j * a_h_m
            sub(ONE, A_o, T)
            T *= A_o
            mul(D, T, DO)
            DO *= LR
            mul(DO_col, A_h_row, Go)
            if sequential:  # w5..w8 first; the hidden-layer gradients then use them
                Wo -= Go
                if train_biases:
                    add(DO0, DO1, gb2)
                    b2 -= gb2
            # δh_m = (δo1 * w5|w6 + δo2 * w7|w8) * a_h_m * (1 - a_h_m);  dE/dw1..4 = δh_m * i_n
            mul(Wo, DO_col, Q)
            add(Q0, Q1, DH)
            sub(ONE, A_h, T)
            T *= A_h
            DH *= T
            mul(DH_col, inp, Gh)
            if sequential:
                Wh -= Gh
                if train_biases:
                    add(DH0, DH1, gb1)
                    b1 -= gb1
            else:
                if train_biases:
                    add(DH0, DH1, gb1)
                    add(DO0, DO1, gb2)
                Pn -= Gn
        loss *= 0.5


def train_curves(lrs, iterations: int = DEFAULT_ITERATIONS, *, weights=DEFAULT_WEIGHTS, inputs=DEFAULT_INPUTS,
                 targets=DEFAULT_TARGETS, biases=DEFAULT_BIASES, train_biases: bool = False,
                 update: str = "simultaneous") -> np.ndarray:
    """E_total for each learning rate: float64 array of shape (iterations, len(lrs)), row 0
    before any update."""
    return train(lrs, iterations, weights=weights, inputs=inputs, targets=targets, biases=biases,
                 train_biases=train_biases, update=update).loss
