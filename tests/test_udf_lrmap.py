"""LR_MAP through xlwings' own Windows-side machinery (tests/xlwings_windows.py): the grid of
final E_total against the plain per-layer reference, and its bounds and messages."""

import numpy as np
import pytest

from xl_backprop import limits

from . import scalar_reference as ref
from .xlwings_windows import Cells, cell, column, row, windows_xlwings

W = (0.15, 0.2, 0.25, 0.3, 0.4, 0.45, 0.5, 0.55)
I = (0.05, 0.1)
T = (0.01, 0.99)
LR_H = (0.1, 10.0, 1000.0)
LR_O = (0.5, 5.0, 50.0, 5000.0)  # still falling, converging, converged, saturated (stalled): none diverge


@pytest.fixture(scope="module")
def excel():
    with windows_xlwings() as xl:
        yield xl


def net():
    return row(*W), row(*I), column(*T)


def test_lr_map_spills_the_final_losses_of_the_reference(excel):
    got = excel.call("LR_MAP", *net(), column(*LR_H), row(*LR_O), cell(200))
    want = [[ref.train_layers(a, b, 201, W, I, T)[-1] for b in LR_O] for a in LR_H]
    assert np.shape(got) == (len(LR_H), len(LR_O))
    np.testing.assert_allclose(np.array(got, dtype=float), want, rtol=1e-12, atol=0)


def test_lr_map_one_rate_each(excel):
    got = excel.call("LR_MAP", *net(), cell(0.5), cell(0.5), cell(50))  # one cell: xlwings gives Excel the number
    want = ref.train(0.5, 51, W, I, T)[0][-1]
    assert isinstance(got, float) and abs(got - want) <= 1e-12 * want


HALF_ADDER = ((0.0, 0.0, 0.0, 0.0), (0.0, 1.0, 1.0, 0.0), (1.0, 0.0, 1.0, 0.0), (1.0, 1.0, 0.0, 1.0))
RATES = (0.5, 2.0, 8.0)


@pytest.mark.parametrize(("hidden", "output"), [("sigmoid", "sigmoid"), ("tanh", "sigmoid"), ("relu", "linear")])
def test_lr_map_of_n_examples_and_activations_is_the_reference(excel, hidden, output):
    """Inputs and targets of 4 rows are the half-adder's 4 examples; where lr_hidden equals
    lr_output, each E_total is the plain per-example reference's (the mean over the examples)."""
    inputs = Cells([r[:2] for r in HALF_ADDER])
    targets = Cells([r[2:] for r in HALF_ADDER])
    got = excel.call(
        "LR_MAP", row(*W), inputs, targets, column(*RATES), row(*RATES), cell(60), cell(hidden), cell(output)
    )
    assert np.shape(got) == (len(RATES), len(RATES))
    want = [ref.train_examples(lr, 61, W, HALF_ADDER, hidden, output)[-1] for lr in RATES]
    np.testing.assert_allclose(np.diag(np.array(got, dtype=float)), want, rtol=1e-12, atol=0)


def test_lr_map_bad_activation_is_one_line(excel):
    got = excel.call("LR_MAP", *net(), cell(0.5), cell(0.5), cell(5), cell("softplus"))
    assert got == 'hidden_activation: expected one of sigmoid, tanh, relu, leaky_relu, linear, got "softplus"'


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((row(0.1, -1.0), row(0.5), cell(10)), "lr_hidden_range: expected a positive number in cell 2, got -1"),
        ((row(0.1), row(0.5, "x"), cell(10)), 'lr_output_range: expected a number in cell 2, got text "x"'),
        ((row(0.1), row(0.5), cell(0)), "steps: expected a whole number >= 1, got 0"),
        (
            (row(*[0.1] * 100), row(*[0.5] * 100), cell(1001)),
            f"lr_hidden_range x lr_output_range x steps: expected at most {limits.UDF_MAX_MAP_STEPS:,} network "
            "steps, got 100 x 100 x 1,001 = 10,010,000; for more, use xl-backprop map",
        ),
    ],
)
def test_lr_map_bad_input_is_one_line(excel, args, message):
    got = excel.call("LR_MAP", *net(), *args)
    assert got == message
