"""Gradient check and learning-rate summaries."""

import numpy as np
import pytest

import xl_backprop as xb

from .published import COURSE_DE_DW5


def test_grad_check_agrees_at_defaults():
    gc = xb.grad_check(xb.DEFAULT_WEIGHTS)
    assert gc.analytic[4] == pytest.approx(COURSE_DE_DW5, abs=1e-15)
    np.testing.assert_allclose(gc.numeric, gc.analytic, rtol=1e-6)
    assert gc.rel_error.shape == (8,) and np.all(gc.rel_error < 1e-6)


def test_grad_check_detects_a_wrong_gradient(monkeypatch):
    """The check is not a tautology: a broken analytic gradient shows up."""
    from xl_backprop import analysis

    real = analysis.gradients
    monkeypatch.setattr(analysis, "gradients", lambda *a, **k: real(*a, **k) * np.r_[1, 1, 1, 1, 1.1, 1, 1, 1])
    gc = xb.grad_check(xb.DEFAULT_WEIGHTS)
    assert gc.rel_error[4] == pytest.approx(0.1 / 1.1, rel=1e-4)
    assert np.all(np.delete(gc.rel_error, 4) < 1e-6)


def test_lr_summary_by_hand():
    curves = np.array(
        [
            [0.30, 0.30, 0.30],
            [0.20, 0.25, 0.40],
            [0.009, 0.20, 0.35],
            [0.005, 0.15, 0.36],
        ]
    )
    s = xb.lr_summary([0.1, 0.2, 5.0], curves, threshold=0.01)
    assert s[0] == xb.LRSummary(0.1, 0.005, 2, True, None)
    assert s[1] == xb.LRSummary(0.2, 0.15, None, True, None)
    assert s[2] == xb.LRSummary(5.0, 0.36, None, False, 1)


def test_lr_summary_of_course_sweep():
    curves = xb.train_curves(xb.DEFAULT_LRS, 51)
    s = xb.lr_summary(xb.DEFAULT_LRS, curves)
    assert [x.only_falls for x in s] == [True] * 6
    assert all(x.steps_to_threshold is None for x in s)  # 51 values are not enough to reach 0.01
    longer = xb.lr_summary([2.0], xb.train_curves([2.0], 200))[0]
    assert longer.steps_to_threshold is not None and 51 < longer.steps_to_threshold < 200
    assert [x.final_loss for x in s] == sorted([x.final_loss for x in s], reverse=True)


def test_lr_summary_shape_error():
    with pytest.raises(ValueError, match=r"curves: expected shape \(iterations, 2\)"):
        xb.lr_summary([0.1, 0.2], np.zeros((5, 3)))


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: xb.grad_check([None] * 8), TypeError, "weights: expected numbers, got None"),
        (lambda: xb.grad_check(xb.DEFAULT_WEIGHTS, eps=None), ValueError, "eps: expected a positive number, got None"),
        (
            lambda: xb.grad_check(xb.DEFAULT_WEIGHTS, eps=float("inf")),
            ValueError,
            "eps: expected a positive number, got inf",
        ),
        (lambda: xb.lr_summary([0.5], [[0.2], [0.1]], -1), ValueError, "threshold: expected a positive number, got -1"),
        (
            lambda: xb.lr_summary([0.5], [[0.2], [0.1]], "0.1"),
            ValueError,
            "threshold: expected a positive number, got text",
        ),
        (lambda: xb.lr_summary([0.5], [[0.2], [float("nan")]]), ValueError, "curves: expected finite numbers, got nan"),
        (lambda: xb.lr_summary([None], [[0.2]]), TypeError, "lrs: expected numbers, got None"),
    ],
)
def test_every_argument_is_checked_where_it_enters(call, error, message):
    with pytest.raises(error) as e:
        call()
    assert type(e.value) is error and str(e.value) == message
