"""Other activations (issue 18 item 3): every pair of hidden and output activation through the
engine (kernel and numpy reference), against the independent plain-Python loop of
scalar_reference.py; finite differences; PyTorch's derivatives at 0; the faces' messages."""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path

import numpy as np
import pytest

import xl_backprop as xb
from xl_backprop import activations, analysis, explain, kernel, network, udfs
from xl_backprop.cli import main

from . import scalar_reference as ref
from .conftest import as_plain_python

NAMES = activations.NAMES
PAIRS = list(itertools.product(NAMES, repeat=2))
PAIR_IDS = [f"{h}-{o}" for h, o in PAIRS]
LRS = np.array([0.1, 0.5, 1.0, 2.0])
COURSE = dict(weights=xb.DEFAULT_WEIGHTS, inputs=xb.DEFAULT_INPUTS, targets=xb.DEFAULT_TARGETS)
COMPILED = hasattr(kernel.train_serial, "py_func")


def acts(h, o):
    return dict(hidden_activation=h, output_activation=o)


def test_the_table_names_the_five_activations_in_the_kernels_code_order():
    assert NAMES == ("sigmoid", "tanh", "relu", "leaky_relu", "linear")
    assert [activations.ACTIVATIONS[n].code for n in NAMES] == [0, 1, 2, 3, 4]
    assert activations.DEFAULT == "sigmoid"
    assert set(explain.SLOPES) | {"sigmoid", "linear"} == set(NAMES)  # explain writes every derivative


@pytest.mark.parametrize("update", network.UPDATE_ORDERS)
@pytest.mark.parametrize(("hidden", "output"), PAIRS, ids=PAIR_IDS)
def test_loss_curves_equal_the_plain_python_reference(hidden, output, update):
    """Every pair x several learning rates x both update orders: E_total to 1e-12 relative."""
    r = xb.train(LRS, 51, update=update, **COURSE, **acts(hidden, output))
    for k, lr in enumerate(LRS):
        want = ref.train_activations(
            lr, 51, xb.DEFAULT_WEIGHTS, xb.DEFAULT_INPUTS, xb.DEFAULT_TARGETS, hidden, output, update
        )
        np.testing.assert_allclose(r.loss[:, k], want, rtol=1e-12, atol=0, err_msg=f"lr {lr}")


@pytest.mark.parametrize(("hidden", "output"), PAIRS, ids=PAIR_IDS)
def test_kernel_equals_numpy_step_iterated(hidden, output):
    """The compiled loop against network.step, with biases trained and a weight set per network.
    Within rounding: numpy's tanh and exp (SIMD) and libm's, which the loop uses, differ in the
    last bit for some arguments; rates that keep every pair stable, so nothing amplifies that."""
    lrs = np.array([0.1, 0.3, 0.5, 0.8])
    rng = np.random.default_rng(3)
    W0 = rng.uniform(-1, 1, (lrs.size, 8))
    b0 = (0.35, 0.6)
    r = xb.train(lrs, 30, weights=W0, biases=b0, train_biases=True, record=True, **acts(hidden, output))
    w, b = W0, np.broadcast_to(b0, (lrs.size, 2))
    for n in range(30):
        np.testing.assert_allclose(r.weights[n], w, rtol=1e-12, atol=1e-14)
        loss = xb.forward(w, biases=b, **acts(hidden, output)).E_total
        np.testing.assert_allclose(r.loss[n], loss, rtol=1e-12, atol=1e-15)
        w, b = xb.step(w, lr=lrs, biases=b, train_biases=True, **acts(hidden, output))


@pytest.mark.skipif(not COMPILED, reason="numba is not compiling here")
@pytest.mark.parametrize(("hidden", "output"), PAIRS[::4], ids=PAIR_IDS[::4])
def test_compiled_equals_plain_python(hidden, output, monkeypatch):
    compiled = xb.train(LRS, 40, update="sequential", **acts(hidden, output))
    as_plain_python(monkeypatch, kernel)
    plain = xb.train(LRS, 40, update="sequential", **acts(hidden, output))
    np.testing.assert_allclose(compiled.loss, plain.loss, rtol=1e-15, atol=0)


def test_sigmoid_named_is_the_course_to_the_bit():
    """Naming the default changes nothing; the course's published loss before training stands."""
    default = xb.train(xb.DEFAULT_LRS, 51, record=True)
    named = xb.train(xb.DEFAULT_LRS, 51, record=True, **acts("sigmoid", "sigmoid"))
    np.testing.assert_array_equal(default.loss, named.loss)
    np.testing.assert_array_equal(default.weights, named.weights)
    assert named.loss[0, 0] == 0.24251985734837728


# Points away from relu's kink: every net input at least 0.05 from 0.
GRAD_POINTS = [
    (np.array([0.8, -0.6, 0.5, 0.9, -0.7, 0.6, 0.4, -0.5]), (0.5, 0.9), (0.2, 0.7)),
    (np.array([-0.3, 0.7, 0.6, -0.4, 0.9, 0.3, -0.6, 0.8]), (1.0, 0.4), (0.9, 0.1)),
    (np.array(xb.DEFAULT_WEIGHTS), xb.DEFAULT_INPUTS, xb.DEFAULT_TARGETS),
]


@pytest.mark.parametrize(("hidden", "output"), PAIRS, ids=PAIR_IDS)
def test_grad_check_passes_for_every_pair(hidden, output):
    for w, i, t in GRAD_POINTS:
        f = xb.forward(w, inputs=i, targets=t, **acts(hidden, output))
        assert min(abs(f.h1), abs(f.h2), abs(f.o1), abs(f.o2)) > 0.02  # away from the kink
        gc = analysis.grad_check(w, i, t, **acts(hidden, output))
        # 1e-6 relative, or 1e-10 absolute for a tiny gradient (the difference's own rounding)
        np.testing.assert_allclose(gc.analytic, gc.numeric, rtol=1e-6, atol=1e-10)
        assert np.all((gc.rel_error < 1e-6) | (np.abs(gc.analytic) < 1e-4))
        assert np.any(gc.analytic != 0)


def test_derivatives_at_zero_are_pytorchs():
    """relu'(0) = 0 and leaky_relu'(0) = 0.01: w1 = w2 = 0 puts h1 exactly at 0."""
    w = np.array([0.0, 0.0, 0.25, 0.3, 0.4, 0.45, 0.5, 0.55])
    for name, slope in (("relu", 0.0), ("leaky_relu", 0.01)):
        c = xb.chain(w, **acts(name, "sigmoid"))
        g = xb.backward(w, **acts(name, "sigmoid"))
        assert c.d_h1 == c.dE_da_h1 * slope
        assert g.dE_dw1 == c.dE_da_h1 * slope * xb.DEFAULT_INPUTS[0]
        r = xb.train([0.5], 2, weights=w, record=True, **acts(name, "sigmoid"))
        assert r.weights[1, 0, 0] == 0.0 - 0.5 * g.dE_dw1
    assert kernel.back(activations.RELU, 2.0, 0.0) == 0.0
    assert kernel.back(activations.LEAKY_RELU, 2.0, 0.0) == 0.02


def test_backward_names_its_gradients():
    g = xb.backward(xb.DEFAULT_WEIGHTS)
    assert g._fields == (*(f"dE_dw{k}" for k in range(1, 9)), "dE_db1", "dE_db2")
    assert g.dE_dw5 == 0.07215707291213626  # docs/design.md's published value
    np.testing.assert_array_equal(g.weights, [getattr(g, f"dE_dw{k}") for k in range(1, 9)])


@pytest.mark.parametrize("bad", ["softmax", "Tanh", "", 3, None])
def test_unknown_activation_is_refused_in_one_line(bad):
    for kw in ("hidden_activation", "output_activation"):
        with pytest.raises(ValueError) as e:
            xb.forward(xb.DEFAULT_WEIGHTS, **{kw: bad})
        assert str(e.value).startswith(f"{kw}: expected one of sigmoid, tanh, relu, leaky_relu, linear, got ")
        assert "\n" not in str(e.value)
        with pytest.raises(ValueError, match=f"^{kw}: expected one of"):
            xb.train([0.5], 3, **{kw: bad})


def test_udfs_take_the_activations():
    W, I, T = [list(xb.DEFAULT_WEIGHTS)], [list(xb.DEFAULT_INPUTS)], [list(xb.DEFAULT_TARGETS)]
    f = udfs.FORWARD(W, I, T, None, [["tanh"]], [[" ReLU "]])
    want = xb.forward(xb.DEFAULT_WEIGHTS, **acts("tanh", "relu"))
    np.testing.assert_array_equal(np.asarray(f)[0], np.array(want))
    g = udfs.GRADIENTS(W, I, T, None, [["linear"]], None)
    np.testing.assert_array_equal(np.asarray(g)[0], xb.gradients(xb.DEFAULT_WEIGHTS, hidden_activation="linear"))
    curve = udfs.TRAIN_CURVE(W, I, T, [[0.5]], [[5]], None, None, [["leaky_relu"]])
    np.testing.assert_array_equal(curve, xb.train_curves([0.5], 5, output_activation="leaky_relu"))
    step = udfs.BACKPROP_STEP(W, I, T, [[0.5]], None, [["tanh"]], [["tanh"]])
    np.testing.assert_array_equal(np.asarray(step)[0], xb.step(xb.DEFAULT_WEIGHTS, lr=0.5, **acts("tanh", "tanh"))[0])
    gc = udfs.GRAD_CHECK(W, I, T, None, [["tanh"]], [["linear"]])
    assert [row[1] for row in gc[1:]] == xb.gradients(xb.DEFAULT_WEIGHTS, **acts("tanh", "linear")).tolist()
    summary = udfs.LR_SUMMARY(W, I, T, [[0.5]], [[5]], None, None, [["relu"]], None)
    assert summary[1][1] == xb.train_curves([0.5], 5, hidden_activation="relu")[-1, 0]
    text = udfs.EXPLAIN("d_o1", W, I, T, None, None, None, None, [["tanh"]])
    assert text.startswith("δo1 = ∂E/∂o1 = (a_o1 − t1)·(1 − a_o1²) = ")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ([["softmax"]], 'hidden_activation: expected one of sigmoid, tanh, relu, leaky_relu, linear, got "softmax"'),
        ([[0.5]], "hidden_activation: expected one of sigmoid, tanh, relu, leaky_relu, linear, got 0.5"),
        (
            [["relu", "tanh"]],
            "hidden_activation: expected one of sigmoid, tanh, relu, leaky_relu, linear in one cell, got 2 cells",
        ),
        ([[True]], "hidden_activation: expected one of sigmoid, tanh, relu, leaky_relu, linear, got TRUE"),
    ],
)
def test_udf_bad_activation_is_one_line_in_the_cell(value, message):
    W, I, T = [list(xb.DEFAULT_WEIGHTS)], [list(xb.DEFAULT_INPUTS)], [list(xb.DEFAULT_TARGETS)]
    assert udfs.FORWARD(W, I, T, None, value, None) == message
    assert udfs.TRAIN_CURVE(W, I, T, [[0.5]], [[5]], None, value, None) == message


def test_cli_refuses_an_unknown_activation(capsys):
    assert main(["gradcheck", "--hidden-activation", "softmax"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "--hidden-activation: invalid choice: 'softmax'" in err
    assert all(name in err for name in NAMES)


def test_cli_gradcheck_and_train_follow_the_activations(capsys, tmp_path):
    assert main(["gradcheck", "--hidden-activation", "tanh", "--output-activation", "linear"]) == 0
    out = capsys.readouterr().out
    want = analysis.grad_check(xb.DEFAULT_WEIGHTS, **acts("tanh", "linear")).analytic
    assert repr(float(want[4])) in out
    args = ["train", "--lrs", "0.5", "--iterations", "7", "--out-dir", str(tmp_path), "--no-plot", "--quiet"]
    assert main([*args, "--output-activation", "tanh"]) == 0
    body = np.loadtxt(tmp_path / "loss_curves.csv", delimiter=",", skiprows=1)
    np.testing.assert_allclose(body[:, 1], xb.train_curves([0.5], 7, output_activation="tanh")[:, 0], rtol=1e-15)


@pytest.mark.parametrize(("hidden", "output"), PAIRS, ids=PAIR_IDS)
def test_explanations_end_with_the_engines_values(hidden, output):
    w, i, t = GRAD_POINTS[0]
    v = explain.step_values(w, i, t, (0.0, 0.0), 0.5, hidden, output)
    for q in explain.QUANTITIES:
        line = explain.text(q, v, 6, hidden, output)
        shown = float(line.rsplit(" = ", 1)[1])
        assert math.isclose(shown, v[q], rel_tol=1e-5, abs_tol=1e-12), line
    assert explain.text("a_h1", v, 4, hidden, output).startswith(
        f"a_h1 = {activations.ACTIVATIONS[hidden].symbol}(h1) = "
    )


def test_explanation_forms_follow_the_activation():
    v = explain.step_values(hidden_activation="relu", output_activation="linear")
    t = explain.texts(v, 4, "relu", "linear")
    assert t["d_o1"] == "δo1 = ∂E/∂o1 = (a_o1 − t1) = (0.03013 − 0.01000) = 0.02013"
    assert t["d_h1"].startswith("δh1 = ∂E/∂h1 = (∂E1/∂a_h1 + ∂E2/∂a_h1)·relu′(h1) = (δo1·w5 + δo2·w7)·relu′(h1) = ")
    assert t["d_h1"].endswith(")·1.000 = " + explain.number(v["d_h1"]))
    tanh = explain.texts(explain.step_values(hidden_activation="tanh"), 4, "tanh", "sigmoid")
    assert "·(1 − a_h1²)·i1 = " in tanh["dE_dw1"]
    # the course's sigmoid texts are those of the default specs, character for character
    v = explain.step_values()
    assert explain.texts(v, 4, "sigmoid", "sigmoid") == explain.texts(v)


TORCH = json.loads((Path(__file__).parent / "data" / "torch_reference.json").read_text(encoding="utf-8"))
TORCH_COURSE = [c for c in TORCH["cases"] if c["data"] == "course"]


@pytest.mark.parametrize("case", TORCH_COURSE, ids=[f"{c['hidden']}-{c['output']}-lr{c['lr']}" for c in TORCH_COURSE])
def test_loss_curves_equal_pytorchs(case):
    """PyTorch's autograd (tests/data/make_torch_reference.py, run outside the project; the JSON
    records its torch version): the course's example, E_total to 1e-12 relative."""
    assert TORCH["weights"] == list(xb.DEFAULT_WEIGHTS)
    ((i1, i2, t1, t2),) = TORCH["data"]["course"]
    assert (i1, i2) == xb.DEFAULT_INPUTS and (t1, t2) == xb.DEFAULT_TARGETS
    got = xb.train_curves([case["lr"]], len(case["loss"]), **acts(case["hidden"], case["output"]))[:, 0]
    np.testing.assert_allclose(got, case["loss"], rtol=1e-12, atol=0)


EXCEL_PAIRS = [("tanh", "relu"), ("leaky_relu", "linear"), ("relu", "tanh"), ("linear", "leaky_relu")]
EXCEL_NETWORKS = [  # (weights, inputs, targets, biases, lr): positive and negative net inputs
    ((0.15, 0.2, 0.25, 0.3, 0.4, 0.45, 0.5, 0.55), (0.05, 0.1), (0.01, 0.99), (0.0, 0.0), 0.5),
    ((-1.5, 2.0, 0.7, -3.0, 2.5, -1.25, -0.4, 4.0), (-0.3, 0.9), (0.9, 0.1), (-0.2, 0.45), 2.0),
]


def test_excel_formulas_follow_the_activations_in_libreoffice(tmp_path):
    """explain.excel_formula for other activations gives explain.text's line, character for
    character, recalculated by LibreOffice (the sigmoid case: tests/test_explain.py)."""
    import xlsxwriter

    from . import libreoffice

    names = (*explain.PARAMETERS, *explain.QUANTITIES)
    path = tmp_path / "activations.xlsx"
    book = xlsxwriter.Workbook(path)
    sheet = book.add_worksheet("Step")
    expected = {}
    columns = list(itertools.product(EXCEL_PAIRS, EXCEL_NETWORKS))
    for c, ((h, o), (w, i, t, b, lr)) in enumerate(columns):
        v = {k: float(f"{x:.15g}") for k, x in explain.step_values(w, i, t, b, lr, h, o).items()}
        col = chr(ord("B") + c)
        cells = {n: f"Step!${col}${r + 1}" for r, n in enumerate(names)}
        for r, n in enumerate(names):
            sheet.write_number(r, 1 + c, v[n])
        for r, q in enumerate(explain.QUANTITIES):
            sheet.write_formula(len(names) + r, 1 + c, explain.excel_formula(q, cells, 4, h, o), None, "")
            expected[(len(names) + r, 1 + c)] = explain.text(q, v, 4, h, o)
    book.close()
    got = libreoffice.recalculated_values(path, tmp_path)["Step"]
    wrong = [
        (text, got.cell(r + 1, c + 1).value)
        for (r, c), text in expected.items()
        if got.cell(r + 1, c + 1).value != text
    ]
    assert wrong == []
    assert any("relu′(h2) = " in text and ")·0 = 0" in text for text in expected.values())  # relu′ = 0 was shown
