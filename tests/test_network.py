"""The core engine against published numbers, finite differences and a plain scalar loop."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import xl_backprop as xb
from xl_backprop import network

from . import scalar_reference as ref
from .published import COURSE_DE_DW5, COURSE_E_TOTAL, MAZUR, MAZUR_E_TOTAL, MAZUR_LR, MAZUR_STEP

I, T, W = xb.DEFAULT_INPUTS, xb.DEFAULT_TARGETS, xb.DEFAULT_WEIGHTS


def test_course_defaults_match_design():
    assert xb.forward(W).E_total == pytest.approx(COURSE_E_TOTAL, abs=1e-15)
    assert xb.gradients(W)[4] == pytest.approx(COURSE_DE_DW5, abs=1e-15)
    assert xb.train_curves(xb.DEFAULT_LRS)[0] == pytest.approx([COURSE_E_TOTAL] * 6, abs=1e-15)
    assert xb.DEFAULT_LRS == (0.1, 0.2, 0.5, 0.8, 1.0, 2.0) and xb.DEFAULT_ITERATIONS == 51


def test_mazur_published_first_step():
    m = MAZUR
    assert float(
        xb.forward(m["weights"], inputs=m["inputs"], targets=m["targets"], biases=m["biases"]).E_total
    ) == pytest.approx(MAZUR_E_TOTAL, abs=1e-9)
    published = MAZUR_STEP
    w, b = xb.step(m["weights"], inputs=m["inputs"], targets=m["targets"], lr=MAZUR_LR, biases=m["biases"])
    np.testing.assert_allclose(w, published, atol=5e-9)
    np.testing.assert_array_equal(b, m["biases"])  # biases are not trained by default
    r = xb.train([0.5], 2, record=True, **m)
    np.testing.assert_allclose(r.weights[1, 0], published, atol=5e-9)


def test_forward_values_match_scalar_reference():
    f = xb.forward(W, inputs=I, targets=T)
    expected = ref.forward(W, I, T)
    for name in network.Forward._fields:
        assert float(getattr(f, name)) == pytest.approx(expected[name], abs=1e-15), name


@pytest.mark.parametrize("biases", [(0.0, 0.0), (0.35, 0.6)])
def test_every_gradient_equals_central_differences(biases):
    w = np.array(W)
    g = xb.backward(w, inputs=I, targets=T, biases=biases)
    eps = 1e-6
    for k in range(8):
        dw = np.zeros(8)
        dw[k] = eps
        e_plus, e_minus = ref.forward(w + dw, I, T, biases), ref.forward(w - dw, I, T, biases)
        num = (e_plus["E_total"] - e_minus["E_total"]) / (2 * eps)
        assert g.weights[k] == pytest.approx(num, rel=1e-6, abs=1e-11), f"dE/dw{k + 1}"
    for k in range(2):
        db = np.zeros(2)
        db[k] = eps
        b = np.array(biases)
        num = (ref.forward(w, I, T, b + db)["E_total"] - ref.forward(w, I, T, b - db)["E_total"]) / (2 * eps)
        assert g.biases[k] == pytest.approx(num, rel=1e-6, abs=1e-11), f"dE/db{k + 1}"


@pytest.mark.parametrize("update", ["simultaneous", "sequential"])
@pytest.mark.parametrize("train_biases,biases", [(False, (0.0, 0.0)), (False, (0.35, 0.6)), (True, (0.35, 0.6))])
def test_vectorised_training_equals_scalar_loop(update, train_biases, biases):
    lrs = [0.1, 0.2, 0.5, 0.8, 1.0, 2.0, 7.5]
    r = xb.train(lrs, 51, biases=biases, train_biases=train_biases, update=update, record=True)
    assert r.loss.shape == (51, len(lrs)) and r.loss.dtype == np.float64
    assert r.weights.shape == (51, len(lrs), 8) and r.biases.shape == (51, len(lrs), 2)
    for k, lr in enumerate(lrs):
        losses, weights = ref.train(lr, 51, W, I, T, biases, train_biases, update)
        np.testing.assert_allclose(r.loss[:, k], losses, rtol=0, atol=1e-12)
        np.testing.assert_allclose(r.weights[:, k], weights, rtol=0, atol=1e-12)
    final = xb.train(lrs, 51, biases=biases, train_biases=train_biases, update=update)
    np.testing.assert_array_equal(final.loss, r.loss)
    np.testing.assert_array_equal(final.weights, r.weights[-1])


def test_step_chained_equals_train():
    for update in network.UPDATE_ORDERS:
        w, b = np.array(W), np.array((0.35, 0.6))
        r = xb.train([0.8], 6, biases=b, train_biases=True, update=update, record=True)
        for n in range(6):
            np.testing.assert_allclose(r.weights[n, 0], w, atol=1e-15)
            np.testing.assert_allclose(r.biases[n, 0], b, atol=1e-15)
            w, b = xb.step(w, inputs=I, targets=T, lr=0.8, biases=b, train_biases=True, update=update)


def test_sequential_differs_from_simultaneous():
    a = xb.step(W, lr=0.5, update="simultaneous")[0]
    s = xb.step(W, lr=0.5, update="sequential")[0]
    np.testing.assert_array_equal(a[4:], s[4:])  # the output layer is updated the same way
    assert np.all(np.abs(a[:4] - s[:4]) > 1e-9)  # the hidden layer sees the new w5..w8


def test_parallel_batch_equals_the_same_networks_trained_alone():
    lrs = np.linspace(0.05, 3.0, 9000)  # 180,000 network steps: the parallel loop; the picks alone: the serial one
    big = xb.train_curves(lrs, 20)
    picks = [0, 1, 4095, 4096, 4500, 8999]
    np.testing.assert_array_equal(big[:, picks], xb.train_curves(lrs[picks], 20))


def test_batched_weight_sets():
    rng = np.random.default_rng(1)
    ws = rng.uniform(-1, 1, (5, 8))
    f = xb.forward(ws)
    assert f.E_total.shape == (5,)
    np.testing.assert_allclose(f.E_total, [ref.forward(w, I, T)["E_total"] for w in ws], atol=1e-15)
    curves = xb.train_curves([0.5] * 5, 10, weights=ws)
    for k in range(5):
        np.testing.assert_allclose(curves[:, k], ref.train(0.5, 10, ws[k], I, T)[0], atol=1e-12)


def test_progress_reaches_one():
    seen = []
    xb.train(xb.DEFAULT_LRS, 11, progress=seen.append)
    assert len(seen) == 11 and seen[-1] == pytest.approx(1.0) and seen == sorted(seen)


def test_sigmoid_is_stable_and_exact():
    x = np.array([-1000.0, -745.0, -30.0, -1.0, 0.0, 1.0, 30.0, 1000.0])
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # no overflow warnings
        s = xb.sigmoid(x)
    assert s[0] == 0.0 and s[-1] == 1.0 and s[4] == 0.5
    assert s[2] == pytest.approx(9.357622968840175e-14, rel=1e-14)  # e^-30 / (1 + e^-30)
    assert s[3] == pytest.approx(1 / (1 + np.e), rel=1e-15)
    assert xb.sigmoid(2.0) == pytest.approx(ref.sigma(2.0), rel=1e-15)


@pytest.mark.parametrize(
    "kwargs,message",
    [
        (dict(lrs=[]), "lrs: expected a non-empty list"),
        (dict(lrs=[0.5], iterations=0), "iterations: expected a whole number >= 1, got 0"),
        (dict(lrs=[0.5], iterations=2.5), "iterations: expected a whole number >= 1, got 2.5"),
        (dict(lrs=[0.5], iterations=float("nan")), "iterations: expected a whole number >= 1"),
        (dict(lrs=[0.5], update="random"), "update: expected one of simultaneous, sequential"),
        (dict(lrs=[0.5], weights=[0.1] * 7), "weights: expected 8 values"),
        (dict(lrs=[0.5], inputs=[0.1]), "inputs: expected 2 values"),
        (dict(lrs=[0.5, 0.1], weights=np.zeros((3, 8))), "weights: expected (8,) or (2, 8)"),
    ],
)
def test_bad_arguments_name_the_argument(kwargs, message):
    with pytest.raises(ValueError) as e:
        xb.train(**kwargs)
    assert str(e.value).startswith(message)


weights_st = st.lists(st.floats(-3, 3), min_size=8, max_size=8)
pair_st = st.tuples(st.floats(-2, 2), st.floats(-2, 2))
unit_pair_st = st.tuples(st.floats(0, 1), st.floats(0, 1))


@settings(max_examples=60, deadline=None)
@given(weights_st, pair_st, unit_pair_st, pair_st, st.floats(0.01, 3))
def test_property_training_matches_reference(w, i, t, b, lr):
    r = xb.train([lr], 8, weights=w, inputs=i, targets=t, biases=b, train_biases=True, record=True)
    losses, weights = ref.train(lr, 8, w, i, t, b, train_biases=True)
    np.testing.assert_allclose(r.loss[:, 0], losses, atol=1e-12)
    np.testing.assert_allclose(r.weights[:, 0], weights, atol=1e-12)


@settings(max_examples=60, deadline=None)
@given(weights_st, pair_st, unit_pair_st)
def test_property_small_step_lowers_loss(w, i, t):
    """Gradient descent with a small enough step never raises E_total."""
    g = xb.gradients(w, inputs=i, targets=t)
    lr = 1e-3
    e0 = float(xb.forward(w, inputs=i, targets=t).E_total)
    e1 = float(xb.forward(xb.step(w, inputs=i, targets=t, lr=lr)[0], inputs=i, targets=t).E_total)
    assert e1 <= e0 + 1e-15
    assert e0 - e1 == pytest.approx(lr * float(g @ g), rel=0.05, abs=1e-12)
