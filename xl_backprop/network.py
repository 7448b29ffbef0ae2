"""The 2-2-2 network of the course's worked example, in pure numpy: σ in both layers, as the
course has it, or another activation per layer (``activations.py``).

Notation follows the workbook (docs/design.md):

    h1 = w1*i1 + w2*i2 + b1     a_h1 = σ(h1)     o1 = w5*a_h1 + w6*a_h2 + b2    a_o1 = σ(o1)
    h2 = w3*i1 + w4*i2 + b1     a_h2 = σ(h2)     o2 = w7*a_h1 + w8*a_h2 + b2    a_o2 = σ(o2)
    E1 = ½(t1 - a_o1)²          E2 = ½(t2 - a_o2)²                              E_total = E1 + E2

Shape rule, stated once: leading axes are batch axes. ``weights`` has shape (..., 8) in the
order w1..w8, ``biases`` (..., 2) as (b1, b2); ``inputs`` and ``targets`` are (2,), one example.
Every value the functions return has the batch shape (...), so K learning rates or K weight
sets are computed in one vectorised pass. In ``train``, axis 0 of the batch indexes learning
rates. ``loss``, ``gradients``, ``step`` and ``train`` also take N examples, inputs and targets
(N, 2) (``examples.py``): E_total and the gradients are then means over them (full batch).

``forward``, ``backward`` and ``step`` are the readable reference; ``train`` runs the same
maths through the compiled per-network loop of ``kernel.py`` (``runner.py`` runs it: progress
chunks, serial or parallel), and the tests hold them equal.
Every argument after ``weights`` is keyword-only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from . import activations, runner
from .activations import sigmoid  # noqa: F401  (σ, part of this module's API)
from .examples import COURSE_INPUTS, COURSE_TARGETS, as_examples
from .limits import as_learning_rates, as_numbers, shown
from .limits import is_count as _is_count  # a whole number >= 1, the one rule every face uses

#: The course's reference sheet.
DEFAULT_INPUTS = COURSE_INPUTS
DEFAULT_TARGETS = COURSE_TARGETS
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
    """Every gradient of E_total, each of the batch shape; ``weights`` and ``biases`` stack them."""

    dE_dw1: np.ndarray
    dE_dw2: np.ndarray
    dE_dw3: np.ndarray
    dE_dw4: np.ndarray
    dE_dw5: np.ndarray
    dE_dw6: np.ndarray
    dE_dw7: np.ndarray
    dE_dw8: np.ndarray
    dE_db1: np.ndarray
    dE_db2: np.ndarray

    @property
    def weights(self) -> np.ndarray:
        """dE/dw1..dE/dw8 on the last axis, shape (..., 8)."""
        return np.stack(self[:8], axis=-1)

    @property
    def biases(self) -> np.ndarray:
        """dE/db1, dE/db2 on the last axis, shape (..., 2)."""
        return np.stack(self[8:], axis=-1)


class Chain(NamedTuple):
    """The chain rule's intermediate values, each of the batch shape: the output deltas, the two
    paths into each hidden unit (``dE1_da_h1`` = ∂E1/∂a_h1, the path through o1) and their sums,
    and the hidden deltas (``d_o1`` in code is δo1 on the sheet)."""

    d_o1: np.ndarray
    d_o2: np.ndarray
    dE1_da_h1: np.ndarray
    dE2_da_h1: np.ndarray
    dE_da_h1: np.ndarray
    dE1_da_h2: np.ndarray
    dE2_da_h2: np.ndarray
    dE_da_h2: np.ndarray
    d_h1: np.ndarray
    d_h2: np.ndarray


class TrainResult(NamedTuple):
    """``loss`` (iterations, K); ``weights`` (iterations, K, 8) and ``biases``
    (iterations, K, 2) when recorded, else the final (K, 8) and (K, 2)."""

    loss: np.ndarray
    weights: np.ndarray
    biases: np.ndarray


# --- the arguments, checked where they enter (limits.py states what each must be) ------------


def _as_flag(value, name: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name}: expected True or False, got {shown(value)}")
    return bool(value)


def _as_params(weights, biases):
    w = as_numbers(weights, "weights")
    b = as_numbers(biases, "biases")
    if w.shape[-1:] != (8,):
        raise ValueError(f"weights: expected 8 values w1..w8 on the last axis, got shape {w.shape}")
    if b.shape[-1:] != (2,):
        raise ValueError(f"biases: expected 2 values (b1, b2) on the last axis, got shape {b.shape}")
    return w, b


def _check_update(update: str) -> None:
    if not isinstance(update, str) or str.__str__(update) not in UPDATE_ORDERS:
        got = repr(str.__str__(update))[:40] if isinstance(update, str) else shown(update)
        raise ValueError(f"update: expected one of {', '.join(UPDATE_ORDERS)}, got {got}")


def _pair(values, name: str) -> np.ndarray:
    v = as_numbers(values, name)
    if v.shape != (2,):
        raise ValueError(f"{name}: expected 2 values, got shape {v.shape}")
    return v


def forward(
    weights: ArrayLike,
    *,
    inputs: ArrayLike = DEFAULT_INPUTS,
    targets: ArrayLike = DEFAULT_TARGETS,
    biases: ArrayLike = DEFAULT_BIASES,
    hidden_activation: str = activations.DEFAULT,
    output_activation: str = activations.DEFAULT,
) -> Forward:
    """One forward pass:

        h1 = w1*i1 + w2*i2 + b1    a_h1 = σ(h1)    o1 = w5*a_h1 + w6*a_h2 + b2    a_o1 = σ(o1)
        (σ, or the layer's activation)
        E_total = ½(t1 - a_o1)² + ½(t2 - a_o2)²     (h2, o2 likewise with w3, w4 and w7, w8)

    Parameters
    ----------
    weights : array_like of shape (..., 8)
        w1..w8; the leading axes are the batch.
    inputs, targets : array_like of shape (2,)
        (i1, i2) and (t1, t2).
    biases : array_like of shape (..., 2)
        (b1, b2), broadcast against the batch.
    hidden_activation, output_activation : str
        f of each layer, a name of ``activations.NAMES`` (σ, the course's, by default).

    Returns
    -------
    Forward
        h1, a_h1, h2, a_h2, o1, a_o1, o2, a_o2, E1, E2, E_total, each an ndarray of the batch shape (...).
    """
    f_h, f_o = activations.pair(hidden_activation, output_activation)
    w, b = _as_params(weights, biases)
    i1, i2 = _pair(inputs, "inputs")
    t1, t2 = _pair(targets, "targets")
    w1, w2, w3, w4, w5, w6, w7, w8 = np.moveaxis(w, -1, 0)
    b1, b2 = np.moveaxis(b, -1, 0)
    h1 = w1 * i1 + w2 * i2 + b1
    h2 = w3 * i1 + w4 * i2 + b1
    a_h1, a_h2 = f_h.f(h1), f_h.f(h2)
    o1 = w5 * a_h1 + w6 * a_h2 + b2
    o2 = w7 * a_h1 + w8 * a_h2 + b2
    a_o1, a_o2 = f_o.f(o1), f_o.f(o2)
    E1 = 0.5 * (t1 - a_o1) ** 2
    E2 = 0.5 * (t2 - a_o2) ** 2
    return Forward(h1, a_h1, h2, a_h2, o1, a_o1, o2, a_o2, E1, E2, E1 + E2)


def backward(
    weights: ArrayLike,
    *,
    inputs: ArrayLike = DEFAULT_INPUTS,
    targets: ArrayLike = DEFAULT_TARGETS,
    biases: ArrayLike = DEFAULT_BIASES,
    fwd: Forward | None = None,
    hidden_activation: str = activations.DEFAULT,
    output_activation: str = activations.DEFAULT,
) -> Backward:
    """All gradients of E_total, by the chain rule:

        δo1 = (a_o1 - t1) * a_o1 * (1 - a_o1)            δo2 likewise with t2, a_o2
        dE/dw5 = δo1 * a_h1    dE/dw6 = δo1 * a_h2    dE/dw7 = δo2 * a_h1    dE/dw8 = δo2 * a_h2
        δh1 = (δo1 * w5 + δo2 * w7) * a_h1 * (1 - a_h1)  δh2 = (δo1 * w6 + δo2 * w8) * a_h2 * (1 - a_h2)
        dE/dw1 = δh1 * i1      dE/dw2 = δh1 * i2      dE/dw3 = δh2 * i1      dE/dw4 = δh2 * i2
        dE/db1 = δh1 + δh2     dE/db2 = δo1 + δo2

    Parameters
    ----------
    weights : array_like of shape (..., 8)
    inputs, targets : array_like of shape (2,)
    biases : array_like of shape (..., 2)
    fwd : Forward, optional
        ``forward``'s result for these arguments, if already computed.
    hidden_activation, output_activation : str
        As for ``forward``; σ' = a·(1 − a) becomes the layer's f' (``activations``).

    Returns
    -------
    Backward
        dE_dw1..dE_dw8, dE_db1, dE_db2, each of the batch shape (...).
    """
    acts = dict(hidden_activation=hidden_activation, output_activation=output_activation)
    w, b = _as_params(weights, biases)
    i1, i2 = _pair(inputs, "inputs")
    f = forward(w, inputs=inputs, targets=targets, biases=b, **acts) if fwd is None else fwd
    d_o1, d_o2, *_, d_h1, d_h2 = chain(w, inputs=inputs, targets=targets, biases=b, fwd=f, **acts)
    dE_dw5, dE_dw6 = d_o1 * f.a_h1, d_o1 * f.a_h2
    dE_dw7, dE_dw8 = d_o2 * f.a_h1, d_o2 * f.a_h2
    dE_dw1, dE_dw2 = d_h1 * i1, d_h1 * i2
    dE_dw3, dE_dw4 = d_h2 * i1, d_h2 * i2
    dE_db1, dE_db2 = d_h1 + d_h2, d_o1 + d_o2
    return Backward(dE_dw1, dE_dw2, dE_dw3, dE_dw4, dE_dw5, dE_dw6, dE_dw7, dE_dw8, dE_db1, dE_db2)


def chain(
    weights: ArrayLike,
    *,
    inputs: ArrayLike = DEFAULT_INPUTS,
    targets: ArrayLike = DEFAULT_TARGETS,
    biases: ArrayLike = DEFAULT_BIASES,
    fwd: Forward | None = None,
    hidden_activation: str = activations.DEFAULT,
    output_activation: str = activations.DEFAULT,
) -> Chain:
    """The chain rule in numbers, as the Backprop sheet shows it row by row:

        δo1 = (a_o1 - t1) * a_o1 * (1 - a_o1)           δo2 = (a_o2 - t2) * a_o2 * (1 - a_o2)
        ∂E1/∂a_h1 = δo1 * w5    ∂E2/∂a_h1 = δo2 * w7    ∂E/∂a_h1 = ∂E1/∂a_h1 + ∂E2/∂a_h1
        ∂E1/∂a_h2 = δo1 * w6    ∂E2/∂a_h2 = δo2 * w8    ∂E/∂a_h2 = ∂E1/∂a_h2 + ∂E2/∂a_h2
        δh1 = ∂E/∂a_h1 * a_h1 * (1 - a_h1)               δh2 = ∂E/∂a_h2 * a_h2 * (1 - a_h2)

    Parameters
    ----------
    weights : array_like of shape (..., 8)
    inputs, targets : array_like of shape (2,)
    biases : array_like of shape (..., 2)
    fwd : Forward, optional
        ``forward``'s result for these arguments, if already computed.
    hidden_activation, output_activation : str
        As for ``forward``; a·(1 − a) becomes the layer's f'(x), written in a (``activations``).

    Returns
    -------
    Chain
        Every value of the batch shape (...).
    """
    f_h, f_o = activations.pair(hidden_activation, output_activation)
    w, b = _as_params(weights, biases)
    t1, t2 = _pair(targets, "targets")
    if fwd is None:
        fwd = forward(
            w, inputs=inputs, targets=targets, biases=b, hidden_activation=f_h.name, output_activation=f_o.name
        )
    f = fwd
    d_o1 = f_o.back(f.a_o1 - t1, f.a_o1)  # (a_o1 - t1) * a_o1 * (1 - a_o1) for σ
    d_o2 = f_o.back(f.a_o2 - t2, f.a_o2)
    w5, w6, w7, w8 = np.moveaxis(w[..., 4:], -1, 0)
    p11, p21 = d_o1 * w5, d_o2 * w7  # the two paths into h1: through o1 (E1) and through o2 (E2)
    p12, p22 = d_o1 * w6, d_o2 * w8
    s1, s2 = p11 + p21, p12 + p22
    return Chain(d_o1, d_o2, p11, p21, s1, p12, p22, s2, f_h.back(s1, f.a_h1), f_h.back(s2, f.a_h2))


def gradients(
    weights: ArrayLike,
    *,
    inputs: ArrayLike = DEFAULT_INPUTS,
    targets: ArrayLike = DEFAULT_TARGETS,
    biases: ArrayLike = DEFAULT_BIASES,
    hidden_activation: str = activations.DEFAULT,
    output_activation: str = activations.DEFAULT,
) -> np.ndarray:
    """dE/dw1..dE/dw8, as ``backward`` computes them, the mean over the examples; for example

        dE/dw5 = (a_o1 - t1) * a_o1 * (1 - a_o1) * a_h1

    Parameters
    ----------
    weights : array_like of shape (..., 8)
    inputs, targets : array_like of shape (2,) or (N, 2)
        One example, or N of them (1 to ``examples.MAX_EXAMPLES``), a row each.
    biases : array_like of shape (..., 2)
    hidden_activation, output_activation : str
        As for ``forward``.

    Returns
    -------
    ndarray of shape (..., 8)
    """
    w, _, examples = _per_example(weights, biases, inputs, targets, hidden_activation, output_activation)
    return _mean([backward(w, **e) for e in examples]).weights


def loss(
    weights: ArrayLike,
    *,
    inputs: ArrayLike = DEFAULT_INPUTS,
    targets: ArrayLike = DEFAULT_TARGETS,
    biases: ArrayLike = DEFAULT_BIASES,
    hidden_activation: str = activations.DEFAULT,
    output_activation: str = activations.DEFAULT,
) -> np.ndarray:
    """E_total over a set of examples: the mean of ``forward``'s E_total over them,

        E_total = (1/N) Σ ½(t1 - a_o1)² + ½(t2 - a_o2)²     (one example: the course's E_total)

    Parameters
    ----------
    weights : array_like of shape (..., 8)
    inputs, targets : array_like of shape (2,) or (N, 2)
        One example, or N of them (1 to ``examples.MAX_EXAMPLES``), a row each.
    biases : array_like of shape (..., 2)
    hidden_activation, output_activation : str
        As for ``forward``.

    Returns
    -------
    ndarray of the batch shape (...)
    """
    w, _, examples = _per_example(weights, biases, inputs, targets, hidden_activation, output_activation)
    return _mean([forward(w, **e).E_total for e in examples])


def _per_example(weights, biases, inputs, targets, hidden_activation, output_activation):
    """What ``gradients``, ``loss`` and ``step`` share: the weights and biases checked, and
    ``forward``'s and ``backward``'s keyword arguments for each example in order (its inputs
    and targets, the biases, the two activations): (weights, biases, [dict, ...])."""
    w, b = _as_params(weights, biases)
    acts = dict(hidden_activation=hidden_activation, output_activation=output_activation)
    return w, b, [dict(inputs=x[:2], targets=x[2:], biases=b, **acts) for x in as_examples(inputs, targets)]


def _mean(values: list):
    """The mean of per-example values (arrays, or Backward tuples field by field), as the kernel
    takes it: summed in the examples' order from -0.0 (-0.0 + x is x), times 1/N where N > 1, so
    one example's mean is its value, to the bit."""
    if isinstance(values[0], Backward):
        return Backward(*(_mean(list(field)) for field in zip(*values, strict=True)))
    total = -0.0
    for v in values:
        total = total + v
    return total * (1.0 / len(values)) if len(values) > 1 else total


def step(
    weights: ArrayLike,
    *,
    inputs: ArrayLike = DEFAULT_INPUTS,
    targets: ArrayLike = DEFAULT_TARGETS,
    lr: ArrayLike = 0.5,
    biases: ArrayLike = DEFAULT_BIASES,
    train_biases: bool = False,
    update: str = "simultaneous",
    hidden_activation: str = activations.DEFAULT,
    output_activation: str = activations.DEFAULT,
) -> tuple[np.ndarray, np.ndarray]:
    """One gradient-descent step:

        w_k ← w_k - lr * dE/dw_k        (and b ← b - lr * dE/db with ``train_biases``)

    Parameters
    ----------
    weights : array_like of shape (..., 8)
    inputs, targets : array_like of shape (2,) or (N, 2)
        One example, or N of them (1 to ``examples.MAX_EXAMPLES``), a row each. Every gradient is the mean over
        them (full batch).
    lr : float or array_like broadcasting against the batch shape (...)
    biases : array_like of shape (..., 2)
    train_biases : bool
        Update b1 and b2 too; else they are returned unchanged.
    update : {"simultaneous", "sequential"}
        "simultaneous" takes every gradient from the same forward pass; "sequential" updates
        w5..w8 first and takes the hidden-layer gradients with the new w5..w8 (the variant
        some tutorials use).
    hidden_activation, output_activation : str
        As for ``forward``.

    Returns
    -------
    weights : ndarray of shape (..., 8)
    biases : ndarray of shape (..., 2)
    """
    _check_update(update)
    train_biases = _as_flag(train_biases, "train_biases")
    w, b, examples = _per_example(weights, biases, inputs, targets, hidden_activation, output_activation)
    lr = as_learning_rates(lr, "lr")[..., None]
    fs = [forward(w, **e) for e in examples]
    g = _mean([backward(w, fwd=f, **e) for e, f in zip(examples, fs, strict=True)])
    new_w = w - lr * g.weights
    gb = g.biases
    if update == "sequential":  # the same forward passes, the new w5..w8 in the chain rule
        mixed = np.concatenate([w[..., :4], new_w[..., 4:]], axis=-1)
        gh = _mean([backward(mixed, fwd=f, **e) for e, f in zip(examples, fs, strict=True)])
        new_w = np.concatenate([w[..., :4] - lr * gh.weights[..., :4], new_w[..., 4:]], axis=-1)
        gb = np.stack([gh.dE_db1, g.dE_db2], axis=-1)
    new_b = b - lr * gb if train_biases else np.broadcast_to(b, new_w.shape[:-1] + (2,)).copy()
    return new_w, new_b


def train(
    lrs: ArrayLike,
    iterations: int = DEFAULT_ITERATIONS,
    *,
    weights: ArrayLike = DEFAULT_WEIGHTS,
    inputs: ArrayLike = DEFAULT_INPUTS,
    targets: ArrayLike = DEFAULT_TARGETS,
    biases: ArrayLike = DEFAULT_BIASES,
    train_biases: bool = False,
    update: str = "simultaneous",
    record: bool = False,
    progress: Callable[[float], object] | None = None,
    lr_output: ArrayLike | None = None,
    hidden_activation: str = activations.DEFAULT,
    output_activation: str = activations.DEFAULT,
) -> TrainResult:
    """Train one network per learning rate: ``step`` repeated, run by the compiled loop of kernel.py.

    Row n of the loss is E_total after n updates, each w_k ← w_k - lr * dE/dw_k.

    Parameters
    ----------
    lrs : array_like of shape (K,)
        One network per learning rate; the K axis of every result indexes them.
    iterations : int
        Rows of loss values, at least 1: row 0 before any update, so iterations - 1 updates.
    weights : array_like of shape (8,) or (K, 8)
    inputs, targets : array_like of shape (2,) or (N, 2)
        One example, or N of them (1 to ``examples.MAX_EXAMPLES``), a row each. E_total and the gradients
        are means over them.
    biases : array_like of shape (2,) or (K, 2)
    train_biases, update
        As for ``step``.
    record : bool
        Return the weights and biases of every row, not only the last ones.
    progress : callable, optional
        Called with the fraction of the work done, from 0 to 1.
    lr_output : array_like of shape (K,), optional
        A learning rate per layer: ``lrs`` then trains the hidden layer (w1..w4, b1) and
        ``lr_output`` the output layer (w5..w8, b2). Default: ``lrs`` for both.
    hidden_activation, output_activation : str
        As for ``forward``: the kernel takes each as its integer code.

    Returns
    -------
    TrainResult
        ``loss`` (iterations, K) of E_total; ``weights`` (iterations, K, 8) and ``biases``
        (iterations, K, 2) with ``record``, else the final (K, 8) and (K, 2).
    """
    f_h, f_o = activations.pair(hidden_activation, output_activation)
    lrs = _checked_run(lrs, iterations, update)
    train_biases, record = _as_flag(train_biases, "train_biases"), _as_flag(record, "record")
    if progress is not None and not callable(progress):
        raise TypeError(f"progress: expected a function or None, got {shown(progress)}")
    w0, b0 = _as_params(weights, biases)
    K = _networks(lrs, w0, b0)
    X = as_examples(inputs, targets)  # (N, 4): one row (i1, i2, t1, t2) per example
    iterations = int(iterations)
    # Fresh, writable, C-ordered arrays of one type each: numba compiles (and caches) one version.
    lrs = np.array(np.broadcast_to(lrs, (K,)), order="C")
    lrs_o = lrs if lr_output is None else _output_rates(lr_output, K)
    W = np.array(np.broadcast_to(w0, (K, 8)), order="C")  # updated in place, row by row
    B = np.array(np.broadcast_to(b0, (K, 2)), order="C")
    loss = np.empty((iterations, K))
    W_hist = np.empty((iterations if record else 0, K, 8))
    B_hist = np.empty((iterations if record else 0, K, 2))
    sequential = update == "sequential"
    args = (lrs, lrs_o, X, W, B, train_biases, sequential, f_h.code, f_o.code, loss, W_hist, B_hist)
    runner.run(args, K, iterations, progress)
    if record:
        return TrainResult(loss, W_hist, B_hist)
    return TrainResult(loss, W, B)


def _checked_run(lrs: ArrayLike, iterations, update: str) -> np.ndarray:
    """``train``'s lrs as a non-empty 1-D array of learning rates; iterations and update checked
    (ValueError naming the argument)."""
    lrs = np.atleast_1d(as_learning_rates(lrs, "lrs"))
    if lrs.ndim != 1 or lrs.size == 0:
        raise ValueError("lrs: expected a non-empty list of learning rates")
    if not _is_count(iterations):
        raise ValueError(f"iterations: expected a whole number >= 1, got {shown(iterations)}")
    _check_update(update)
    return lrs


def _networks(lrs: np.ndarray, w0: np.ndarray, b0: np.ndarray) -> int:
    """K, the number of networks: the learning rates, weight sets and bias sets broadcast."""
    try:
        (K,) = np.broadcast_shapes(lrs.shape, w0.shape[:-1], b0.shape[:-1])
    except ValueError:
        raise ValueError(
            f"weights: expected (8,) or ({lrs.size}, 8) to match the learning rates, got {w0.shape}; biases {b0.shape}"
        ) from None
    return K


def _output_rates(lr_output: ArrayLike, K: int) -> np.ndarray:
    """``train``'s lr_output as a fresh (K,) array, one rate per network."""
    lr_o = np.atleast_1d(as_learning_rates(lr_output, "lr_output"))
    if lr_o.ndim != 1 or lr_o.size not in (1, K):
        raise ValueError(f"lr_output: expected one learning rate or {K}, one per network, got shape {lr_o.shape}")
    return np.array(np.broadcast_to(lr_o, (K,)), order="C")


def train_curves(
    lrs: ArrayLike,
    iterations: int = DEFAULT_ITERATIONS,
    *,
    weights: ArrayLike = DEFAULT_WEIGHTS,
    inputs: ArrayLike = DEFAULT_INPUTS,
    targets: ArrayLike = DEFAULT_TARGETS,
    biases: ArrayLike = DEFAULT_BIASES,
    train_biases: bool = False,
    update: str = "simultaneous",
    hidden_activation: str = activations.DEFAULT,
    output_activation: str = activations.DEFAULT,
) -> np.ndarray:
    """E_total for each learning rate: ``train(...).loss``.

    Parameters
    ----------
    lrs : array_like of shape (K,)
    iterations : int
        Rows, at least 1: row 0 before any update.
    weights, inputs, targets, biases, train_biases, update, hidden_activation, output_activation
        As for ``train``.

    Returns
    -------
    ndarray of float64, shape (iterations, K)
    """
    return train(
        lrs,
        iterations,
        weights=weights,
        inputs=inputs,
        targets=targets,
        biases=biases,
        train_biases=train_biases,
        update=update,
        hidden_activation=hidden_activation,
        output_activation=output_activation,
    ).loss
