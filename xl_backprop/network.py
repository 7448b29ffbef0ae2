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

from typing import NamedTuple

import numpy as np

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


def _sigmoid_into(x: np.ndarray, out: np.ndarray) -> np.ndarray:
    """σ(x) into ``out``, for the training loop. Same value as ``sigmoid``: where e^-x
    overflows the result underflows to 0 either way."""
    np.negative(x, out=out)
    with np.errstate(over="ignore"):
        np.exp(out, out=out)
    out += 1.0
    return np.reciprocal(out, out=out)


def _as_params(weights, biases):
    w = np.asarray(weights, dtype=float)
    b = np.asarray(biases, dtype=float)
    if w.shape[-1:] != (8,):
        raise ValueError(f"weights: expected 8 values w1..w8 on the last axis, got shape {w.shape}")
    if b.shape[-1:] != (2,):
        raise ValueError(f"biases: expected 2 values (b1, b2) on the last axis, got shape {b.shape}")
    return w, b


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
    if update not in UPDATE_ORDERS:
        raise ValueError(f"update: expected one of {', '.join(UPDATE_ORDERS)}, got {update!r}")
    w, b = _as_params(weights, biases)
    lr = np.asarray(lr, dtype=float)[..., None]
    g = backward(w, inputs, targets, b)
    new_w = w - lr * g.weights
    gb = g.biases
    if update == "sequential":
        mixed = np.concatenate([w[..., :4], new_w[..., 4:]], axis=-1)
        gh = backward(mixed, inputs, targets, b, fwd=forward(w, inputs, targets, b))
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
    ``progress``, if given, is called with the number of rows done so far.
    """
    lrs = np.atleast_1d(np.asarray(lrs, dtype=float))
    if lrs.ndim != 1 or lrs.size == 0:
        raise ValueError("lrs: expected a non-empty list of learning rates")
    if int(iterations) != iterations or iterations < 1:
        raise ValueError(f"iterations: expected a whole number >= 1, got {iterations!r}")
    if update not in UPDATE_ORDERS:
        raise ValueError(f"update: expected one of {', '.join(UPDATE_ORDERS)}, got {update!r}")
    w0, b0 = _as_params(weights, biases)
    try:
        (K,) = np.broadcast_shapes(lrs.shape, w0.shape[:-1], b0.shape[:-1])
    except ValueError:
        raise ValueError(f"weights: expected (8,) or ({lrs.size}, 8) to match the learning rates, "
                         f"got {w0.shape}; biases {b0.shape}") from None
    lrs = np.broadcast_to(lrs, (K,))
    iterations = int(iterations)
    i1, i2 = _pair(inputs, "inputs")
    t1, t2 = _pair(targets, "targets")
    # Parameters as rows of one (10, K) array, so every w_k is a contiguous vector and the
    # update is a single in-place operation on all of them.
    P = np.empty((10, K))
    P[:8] = np.broadcast_to(w0, (K, 8)).T
    P[8:] = np.broadcast_to(b0, (K, 2)).T
    w1, w2, w3, w4, w5, w6, w7, w8, b1, b2 = P
    G = np.zeros((10, K))
    g1, g2, g3, g4, g5, g6, g7, g8, gb1, gb2 = G
    a_h1, a_h2, a_o1, a_o2, d_o1, d_o2, d_h1, d_h2, tmp = np.empty((9, K))
    loss = np.empty((iterations, K))
    hist_w = np.empty((iterations, K, 8)) if record else None
    hist_b = np.empty((iterations, K, 2)) if record else None
    lr_col = lrs[None, :]  # (1, K): broadcasts over the rows of G
    n_grad = 10 if train_biases else 8

    def hidden_deltas(v5, v6, v7, v8):
        # δh1 = (δo1 * w5 + δo2 * w7) * a_h1 * (1 - a_h1), δh2 likewise with w6, w8
        for d_h, a, wa, wb in ((d_h1, a_h1, v5, v7), (d_h2, a_h2, v6, v8)):
            np.multiply(d_o1, wa, out=d_h)
            np.multiply(d_o2, wb, out=tmp)
            d_h += tmp
            d_h *= a
            np.subtract(1.0, a, out=tmp)
            d_h *= tmp
        np.multiply(d_h1, i1, out=g1)
        np.multiply(d_h1, i2, out=g2)
        np.multiply(d_h2, i1, out=g3)
        np.multiply(d_h2, i2, out=g4)
        np.add(d_h1, d_h2, out=gb1)

    for t in range(iterations):
        # forward
        for h, a, wa, wb, bb, x1, x2 in ((tmp, a_h1, w1, w2, b1, i1, i2), (tmp, a_h2, w3, w4, b1, i1, i2)):
            np.multiply(wa, x1, out=h)
            np.multiply(wb, x2, out=a)
            h += a
            h += bb
            _sigmoid_into(h, a)
        for a, wa, wb in ((a_o1, w5, w6), (a_o2, w7, w8)):
            np.multiply(wa, a_h1, out=tmp)
            np.multiply(wb, a_h2, out=a)
            tmp += a
            tmp += b2
            _sigmoid_into(tmp, a)
        # E_total = ½(t1 - a_o1)² + ½(t2 - a_o2)²
        row = loss[t]
        np.subtract(t1, a_o1, out=tmp)
        np.multiply(tmp, tmp, out=row)
        np.subtract(t2, a_o2, out=tmp)
        tmp *= tmp
        row += tmp
        row *= 0.5
        if record:
            hist_w[t] = P[:8].T
            hist_b[t] = P[8:].T
        if progress is not None:
            progress(t + 1)
        if t == iterations - 1:
            break
        # backward: δo = (a_o - t) * a_o * (1 - a_o)
        for d_o, a, tt in ((d_o1, a_o1, t1), (d_o2, a_o2, t2)):
            np.subtract(a, tt, out=d_o)
            d_o *= a
            np.subtract(1.0, a, out=tmp)
            d_o *= tmp
        np.multiply(d_o1, a_h1, out=g5)
        np.multiply(d_o1, a_h2, out=g6)
        np.multiply(d_o2, a_h1, out=g7)
        np.multiply(d_o2, a_h2, out=g8)
        np.add(d_o1, d_o2, out=gb2)
        if update == "simultaneous":
            hidden_deltas(w5, w6, w7, w8)
            G[:n_grad] *= lr_col
            P[:n_grad] -= G[:n_grad]
        else:
            G[4:8] *= lr_col
            P[4:8] -= G[4:8]
            if train_biases:
                gb2 *= lrs
                b2 -= gb2
            hidden_deltas(w5, w6, w7, w8)
            G[:4] *= lr_col
            P[:4] -= G[:4]
            if train_biases:
                gb1 *= lrs
                b1 -= gb1
    if not record:
        hist_w, hist_b = P[:8].T.copy(), P[8:].T.copy()
    return TrainResult(loss, hist_w, hist_b)


def train_curves(lrs, iterations: int = DEFAULT_ITERATIONS, *, weights=DEFAULT_WEIGHTS, inputs=DEFAULT_INPUTS,
                 targets=DEFAULT_TARGETS, biases=DEFAULT_BIASES, train_biases: bool = False,
                 update: str = "simultaneous") -> np.ndarray:
    """E_total for each learning rate: float64 array of shape (iterations, len(lrs)), row 0
    before any update."""
    return train(lrs, iterations, weights=weights, inputs=inputs, targets=targets, biases=biases,
                 train_biases=train_biases, update=update).loss
