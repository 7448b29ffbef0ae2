"""Checks and summaries on top of the core: gradient check, per-learning-rate summaries."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from .activations import DEFAULT as DEFAULT_ACTIVATION
from .limits import as_learning_rates, as_numbers, finite_number, is_threshold, shown
from .network import DEFAULT_BIASES, DEFAULT_INPUTS, DEFAULT_TARGETS, gradients, loss

DEFAULT_THRESHOLD = 0.01


class GradCheck(NamedTuple):
    """Analytic and central-difference gradients, shape (8,) each, and their relative error."""

    analytic: np.ndarray
    numeric: np.ndarray
    rel_error: np.ndarray


def grad_check(
    weights: ArrayLike,
    inputs: ArrayLike = DEFAULT_INPUTS,
    targets: ArrayLike = DEFAULT_TARGETS,
    biases: ArrayLike = DEFAULT_BIASES,
    eps: float = 1e-6,
    hidden_activation: str = DEFAULT_ACTIVATION,
    output_activation: str = DEFAULT_ACTIVATION,
) -> GradCheck:
    """dE/dwk next to the central difference, for k = 1..8:

        numeric_k = (E_total(wk + eps) - E_total(wk - eps)) / (2 eps)
        rel_error = |analytic - numeric| / max(|analytic|, |numeric|), 0 where both are 0

    Parameters
    ----------
    weights : array_like of shape (8,)
    inputs, targets : array_like of shape (2,) or (N, 2)
        One example or N (E_total and its gradients: means over them).
    biases : array_like of shape (2,)
    eps : float
        The step of the difference, > 0.
    hidden_activation, output_activation : str
        As for ``network.forward``. relu and leaky_relu have a kink at 0: a difference across it
        does not match the one-sided derivative there.

    Returns
    -------
    GradCheck
        ``analytic``, ``numeric`` and ``rel_error``, each an ndarray of shape (8,).
    """
    w = as_numbers(weights, "weights")
    if w.shape != (8,):
        raise ValueError(f"weights: expected 8 values w1..w8, got shape {w.shape}")
    h = finite_number(eps)
    if h is None or h <= 0:
        raise ValueError(f"eps: expected a positive number, got {shown(eps)}")
    net = dict(inputs=inputs, targets=targets, biases=biases)
    net.update(hidden_activation=hidden_activation, output_activation=output_activation)
    analytic = gradients(w, **net)
    shift = np.eye(8) * h  # all 16 shifted weight sets in one batched forward pass
    e_plus = loss(w + shift, **net)  # E_total: the mean over the examples
    e_minus = loss(w - shift, **net)
    numeric = (e_plus - e_minus) / (2 * h)
    scale = np.maximum(np.abs(analytic), np.abs(numeric))
    rel = np.divide(np.abs(analytic - numeric), scale, out=np.zeros(8), where=scale > 0)
    return GradCheck(analytic, numeric, rel)


class LRSummary(NamedTuple):
    """What one loss curve did. Steps count updates: step 0 is before any update."""

    lr: float
    final_loss: float
    steps_to_threshold: int | None  # first step with E_total < threshold; None: not reached
    only_falls: bool  # E_total never rose from one step to the next
    first_rise: int | None  # first step whose E_total is above the step before; None: never


def lr_summary(lrs: ArrayLike, curves: ArrayLike, threshold: float = DEFAULT_THRESHOLD) -> list[LRSummary]:
    """What each loss curve did: final E_total, first step below ``threshold``, whether it only
    falls, its first rise.

    Parameters
    ----------
    lrs : array_like of shape (K,)
    curves : array_like of shape (iterations, K)
        E_total per step, as ``train_curves`` returns it (row 0 before any update).
    threshold : float

    Returns
    -------
    list of K LRSummary, in the order of ``lrs``
    """
    lrs = np.atleast_1d(as_learning_rates(lrs, "lrs"))
    curves = as_numbers(curves, "curves")
    if not is_threshold(threshold):
        raise ValueError(f"threshold: expected a positive number, got {shown(threshold)}")
    if curves.ndim != 2 or curves.shape[1] != lrs.size:
        raise ValueError(f"curves: expected shape (iterations, {lrs.size}), got {curves.shape}")
    below = curves < threshold
    rises = np.diff(curves, axis=0) > 0
    out = []
    for k, lr in enumerate(lrs):
        hit = np.flatnonzero(below[:, k])
        up = np.flatnonzero(rises[:, k])
        out.append(
            LRSummary(
                float(lr),
                float(curves[-1, k]),
                int(hit[0]) if hit.size else None,
                not up.size,
                int(up[0]) + 1 if up.size else None,
            )
        )
    return out


class SummaryColumn(NamedTuple):
    """One column of the per-learning-rate summary: the ``LRSummary`` field it shows, its kind
    ("float", "count" or "bool") and the word shown where a count is None."""

    field: str
    kind: str
    missing: str | None = None


#: The summary table's columns, in order: every face (LR_SUMMARY, the ribbon's summary block,
#: the CLI's table) shows these, each with its own header wording and number format.
SUMMARY_COLUMNS = (
    SummaryColumn("lr", "float"),
    SummaryColumn("final_loss", "float"),
    SummaryColumn("steps_to_threshold", "count", "not reached"),
    SummaryColumn("only_falls", "bool"),
    SummaryColumn("first_rise", "count", "never"),
)


def summary_rows(summaries) -> list[list]:
    """The body of the summary table: one row per ``LRSummary``, one value per SUMMARY_COLUMNS
    entry (float, int, bool, or the column's word where a count is None)."""
    return [
        [c.missing if getattr(s, c.field) is None else getattr(s, c.field) for c in SUMMARY_COLUMNS] for s in summaries
    ]


class Overflow(ValueError):
    """A result that is not a finite number: one line naming it and what to try."""


def first_non_finite(values) -> tuple[int, ...] | None:
    """The index of the first value (in C order) that is inf or NaN, or None if all are finite."""
    bad = np.argwhere(~np.isfinite(np.asarray(values, dtype=float)))
    return tuple(int(k) for k in bad[0]) if bad.size else None


def check_finite(values, what, hint):
    """``values`` unchanged if every number is finite; else Overflow naming the first that is
    not, ``what(index)``, and what to try, ``hint`` (or ``hint(index)``)."""
    at = first_non_finite(values)
    if at is not None:
        raise Overflow(f"overflow: {what(at)} is not a finite number; {hint(at) if callable(hint) else hint}")
    return values
