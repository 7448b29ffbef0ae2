"""The native sheets follow the Backprop sheet's choices (issue 18): each layer's activation and the
examples in use. Edited copies of the template, recalculated by LibreOffice (one start for all),
against the engine (``network.train``) with the same examples and activations.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from xl_backprop import examples, network
from xl_backprop.workbook import layout as L

from . import libreoffice
from .conftest import TEMPLATE
from .test_template_libreoffice import edited_copy

STEPS = L.BACKPROP_STEPS
LR = L.IN_LR.default
#: The learner's own examples typed in the OwnExamples block (i1, i2, t1, t2), row 2 left empty:
#: an empty row between examples is no example.
OWN = ((0.3, -0.2, 0.9, 0.1), None, (-0.5, 0.7, 0.2, 0.6), (1.5, 0.25, 0.4, 0.45))

#: (book name, hidden activation, output activation, example set, shown example)
CASES = (
    ("tanh_sigmoid_course", "tanh", "sigmoid", "course", 1),
    ("relu_linear_half", "relu", "linear", "half-adder", 2),
    ("leaky_tanh_half", "leaky_relu", "tanh", "half-adder", 4),
    ("sigmoid_linear_andor", "sigmoid", "linear", "and-or", 3),
    ("tanh_relu_own", "tanh", "relu", "own", 3),
)


def _own_cells(rows) -> dict[str, float]:
    cells = {}
    for k, row in enumerate(rows):
        if row is not None:
            for j, v in enumerate(row):
                cells[L.a1(L.EXAMPLE_FIRST_ROW + k, L.OWN_EXAMPLES_BLOCK.col + j)] = v
    return cells


def _book(tmp: Path, name: str, backprop: dict, own: dict | None = None) -> Path:
    first = edited_copy(TEMPLATE, tmp / f"{name}-0.xlsm", L.SHEET_BACKPROP, backprop)
    if own is None:
        return shutil.move(first, tmp / f"{name}.xlsm")
    return edited_copy(first, tmp / f"{name}.xlsm", L.SHEET_EXAMPLES, own)


def _choices(hidden, output, data, shown) -> dict:
    return {
        L.IN_HIDDEN_ACT.cell: hidden,
        L.IN_OUTPUT_ACT.cell: output,
        L.IN_EXAMPLE_SET.cell: data,
        L.IN_EXAMPLE_SHOWN.cell: shown,
    }


def _examples(data: str) -> np.ndarray:
    if data == L.OWN_EXAMPLES:
        return np.array([r for r in OWN if r is not None], dtype=float)
    return examples.preset(data)


BAD = {
    "bad_own_row": (_choices("sigmoid", "sigmoid", "own", 1), {**_own_cells(OWN), "C7": 0.5}),
    "bad_activation": (_choices("sigmoid", "softmax", "course", 1), None),
    "bad_shown": (_choices("sigmoid", "sigmoid", "half-adder", 6), None),
}


@pytest.fixture(scope="module")
def books(tmp_path_factory):
    """Every case's book and the bad ones, recalculated by one LibreOffice start: name -> openpyxl book."""
    tmp = tmp_path_factory.mktemp("native-choices")
    srcs = {}
    for name, hidden, output, data, shown in CASES:
        own = _own_cells(OWN) if data == L.OWN_EXAMPLES else None
        srcs[name] = _book(tmp, name, _choices(hidden, output, data, shown), own)
    for name, (choices, own) in BAD.items():
        srcs[name] = _book(tmp, name, choices, own)
    wbs = libreoffice.recalculated_many(list(srcs.values()), tmp)
    return dict(zip(srcs, wbs, strict=True))


def _column(ws, name: str, steps: int = STEPS) -> np.ndarray:
    values = [ws[L.backprop_cell(name, s)].value for s in range(steps)]
    assert all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values), (name, values[:3])
    return np.array(values, dtype=float)


def _close(actual, expected, what):
    np.testing.assert_allclose(actual, expected, rtol=1e-12, atol=1e-300, err_msg=what)


@pytest.mark.parametrize(("name", "hidden", "output", "data", "shown"), CASES)
def test_the_table_trains_as_the_engine_on_the_chosen_examples_and_activations(
    books, name, hidden, output, data, shown
):
    ws = books[name][L.SHEET_BACKPROP]
    X = _examples(data)
    acts = dict(hidden_activation=hidden, output_activation=output)
    res = network.train([LR], STEPS, inputs=X[:, :2], targets=X[:, 2:], record=True, **acts)
    assert ws[L.CHOICE_MESSAGE.cell].value in (None, "")
    _close(_column(ws, "E_total"), res.loss[:, 0], f"{name}: E_total")
    w = res.weights[:, 0, :]
    for k, wname in enumerate(network.WEIGHT_NAMES):
        _close(_column(ws, wname), w[:, k], f"{name}: {wname}")
    # a mean gradient sums per-example terms of ~0.1 that may cancel to ~1e-5: equal to the terms' last bits
    grads = network.gradients(w, inputs=X[:, :2], targets=X[:, 2:], **acts)
    for k in range(8):
        np.testing.assert_allclose(
            _column(ws, f"dE/dw{k + 1}"), grads[:, k], rtol=1e-12, atol=1e-15, err_msg=f"{name}: dE/dw{k + 1}"
        )
    # the per-example columns show the example ExampleShown (a row of the examples in use), at the table's weights
    x = np.array(OWN[shown - 1] if data == L.OWN_EXAMPLES else X[shown - 1], dtype=float)
    fwd = network.forward(w, inputs=x[:2], targets=x[2:], **acts)
    assert _column(ws, "i1")[0] == x[0] and _column(ws, "t2")[0] == x[3]
    for q in ("a_h1", "a_o2", "E1"):
        _close(_column(ws, q), getattr(fwd, q), f"{name}: {q} of example {shown}")
    # the grid's empty slots hold 0
    rows = OWN if data == L.OWN_EXAMPLES else tuple(X)
    empty = [j for j in range(1, L.EXAMPLE_ROWS + 1) if j > len(rows) or rows[j - 1] is None]
    assert len(empty) == L.EXAMPLE_ROWS - len(X)
    for j in empty:
        for q in ("a_h1", "d_o1", "E"):
            assert set(_column(ws, L.grid_name(q, j))) == {0.0}, (q, j)


@pytest.mark.parametrize(("name", "hidden", "output", "data", "shown"), CASES[1:3])
def test_the_lr_blocks_train_every_rate_as_the_engine(books, name, hidden, output, data, shown):
    ws = books[name][L.SHEET_LR_BLOCKS]
    X = _examples(data)
    acts = dict(hidden_activation=hidden, output_activation=output)
    lrs, steps = network.DEFAULT_LRS, min(L.IN_ITERATIONS.default, L.LR_BLOCK_STEPS)
    curves = network.train_curves(lrs, steps, inputs=X[:, :2], targets=X[:, 2:], **acts)
    res = network.train(lrs, steps, inputs=X[:, :2], targets=X[:, 2:], record=True, **acts)
    for k in range(len(lrs)):
        got = np.array([ws[L.lr_block_cell(k, "E_total", s)].value for s in range(steps)], dtype=float)
        _close(got, curves[:, k], f"{name}: block {k} E_total")
        w8 = np.array([ws[L.lr_block_cell(k, "w8", s)].value for s in range(steps)], dtype=float)
        _close(w8, res.weights[:, k, 7], f"{name}: block {k} w8")


def test_a_bad_own_row_says_so_in_one_line_and_the_table_shows_na(books):
    ws = books["bad_own_row"][L.SHEET_BACKPROP]
    assert ws[L.CHOICE_MESSAGE.cell].value == "own examples, row 7: expected 4 numbers (i1, i2, t1, t2)"
    for name in ("E_total", "dE/dw1", "a_o1"):
        assert ws[L.backprop_cell(name, 0)].value == "#N/A", name
    assert ws[L.backprop_cell("w1", 1)].value == "#N/A"
    blocks = books["bad_own_row"][L.SHEET_LR_BLOCKS]
    assert blocks[L.lr_block_cell(0, "E_total", 0)].value == "#N/A"


def test_an_activation_not_in_the_list_says_so_and_the_table_shows_na(books):
    ws = books["bad_activation"][L.SHEET_BACKPROP]
    assert ws[L.CHOICE_MESSAGE.cell].value == (
        "output activation (B23): expected one of sigmoid, tanh, relu, leaky_relu, linear"
    )
    for name in ("a_o1", "d_o1", "E_total", "dE/dw5", "dE/dw1"):
        assert ws[L.backprop_cell(name, 0)].value == "#N/A", name
    assert isinstance(ws[L.backprop_cell("a_h1", 0)].value, float)  # the hidden layer's choice is good


def test_a_shown_example_that_is_none_says_so_and_only_its_columns_are_na(books):
    ws = books["bad_shown"][L.SHEET_BACKPROP]
    assert ws[L.CHOICE_MESSAGE.cell].value.startswith("shown example (B25): expected")
    assert ws[L.backprop_cell("i1", 0)].value == "#N/A"
    X = examples.preset("half-adder")
    curve = network.train_curves([LR], STEPS, inputs=X[:, :2], targets=X[:, 2:])[:, 0]
    _close(_column(ws, "E_total"), curve, "E_total with a bad shown example")
