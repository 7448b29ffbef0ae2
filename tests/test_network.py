"""The core engine against published numbers, finite differences and a plain scalar loop."""

import decimal

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


W = xb.DEFAULT_WEIGHTS
# issue 17: each of these returned NaN or infinite weights, or trained uphill, instead of refusing
API_REFUSALS = [
    (lambda: xb.step(W, lr=None), TypeError, "lr: expected numbers, got None"),
    (lambda: xb.step(W, lr="1e400"), TypeError, "lr: expected numbers, got text"),
    (lambda: xb.step(W, lr=0.0), ValueError, "lr: expected positive numbers, got 0"),
    (lambda: xb.step(W, lr=[0.5, float("nan")]), ValueError, "lr: expected finite numbers, got nan"),
    (lambda: xb.step(W, train_biases="no"), TypeError, "train_biases: expected True or False, got text"),
    (lambda: xb.train(None, 3), TypeError, "lrs: expected numbers, got None"),
    (lambda: xb.train_curves([-1.0], 3), ValueError, "lrs: expected positive numbers, got -1"),
    (lambda: xb.train([0.5], 10**400), ValueError, "iterations: expected a whole number >= 1, got a number beyond"),
    (lambda: xb.train([0.5], 3, record=1), TypeError, "record: expected True or False, got 1"),
    (lambda: xb.train([0.5], 3, progress="bar"), TypeError, "progress: expected a function or None, got text"),
    (lambda: xb.train([0.5], 3, update=None), ValueError, "update: expected one of simultaneous, sequential, got None"),
    (
        lambda: xb.train([0.5], 3, update="x\n" * 99),
        ValueError,
        "update: expected one of simultaneous, sequential, got 'x\\nx",
    ),
    (
        lambda: xb.forward([10**400, *W[1:]]),
        ValueError,
        "weights: expected finite numbers, got a number beyond a double's range",
    ),
    (lambda: xb.forward([decimal.Decimal("sNaN"), *W[1:]]), ValueError, "weights: expected finite numbers, got NaN"),
    (lambda: xb.forward([np.inf, *W[1:]]), ValueError, "weights: expected finite numbers, got inf"),
    (lambda: xb.forward([True] * 8), TypeError, "weights: expected numbers, got True"),
    (lambda: xb.forward(W, inputs=("a", 0.1)), TypeError, "inputs: expected numbers, got text"),
    (lambda: xb.forward(W, targets=(0.01, None)), TypeError, "targets: expected numbers, got None"),
    (lambda: xb.gradients(W, biases=(0.35, -np.inf)), ValueError, "biases: expected finite numbers, got -inf"),
    (lambda: xb.forward([W, W[:7]]), ValueError, "weights: expected numbers in a regular array, got a ragged one"),
    (lambda: xb.backward(np.full(8, 1 + 2j)), TypeError, "weights: expected numbers, got a complex128"),
]


@pytest.mark.parametrize(("call", "error", "message"), API_REFUSALS, ids=[m for _, _, m in API_REFUSALS])
def test_every_argument_is_checked_where_it_enters(call, error, message):
    with pytest.raises(error) as e:
        call()
    assert type(e.value) is error and str(e.value).startswith(message)
    assert "\n" not in str(e.value) and len(str(e.value)) <= 120


def test_numbers_in_any_numeric_form_are_still_taken():
    """Ints, numpy scalars, Decimals (a Currency cell) and nested lists: the same as floats."""
    as_floats = xb.step(np.array(W), lr=0.5)[0]
    for weights, lr in (
        ([decimal.Decimal(str(w)) for w in W], decimal.Decimal("0.5")),
        (list(map(np.float32(1).__class__, W)), np.float64(0.5)),
        (np.array(W)[None, :], [0.5]),
    ):
        np.testing.assert_allclose(np.reshape(xb.step(weights, lr=lr)[0], 8), as_floats, rtol=1e-7)
    assert xb.train([1], np.int64(3)).loss.shape == (3, 1)


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


@pytest.mark.parametrize("biases", [(0.0, 0.0), (0.35, 0.6)])
def test_chain_values_are_partial_derivatives_by_central_differences(biases):
    """δo1 = ∂E/∂o1, each path ∂Ek/∂a_h1 = the derivative of Ek alone with a_h1 moved (a_h2
    held), their sum ∂E/∂a_h1, δh1 = ∂E/∂h1: each against a central difference of plain math."""
    import math

    sig = lambda x: 1 / (1 + math.exp(-x))  # noqa: E731
    w1, w2, w3, w4, w5, w6, w7, w8 = W
    (i1, i2), (t1, t2), (b1, b2) = I, T, biases
    h1, h2 = w1 * i1 + w2 * i2 + b1, w3 * i1 + w4 * i2 + b1

    def errors(a_h1, a_h2):
        return 0.5 * (t1 - sig(w5 * a_h1 + w6 * a_h2 + b2)) ** 2, 0.5 * (t2 - sig(w7 * a_h1 + w8 * a_h2 + b2)) ** 2

    def d(f, x, eps=1e-6):
        return (f(x + eps) - f(x - eps)) / (2 * eps)

    a1, a2 = sig(h1), sig(h2)
    o1, o2 = w5 * a1 + w6 * a2 + b2, w7 * a1 + w8 * a2 + b2
    expected = {
        "d_o1": d(lambda o: 0.5 * (t1 - sig(o)) ** 2, o1),
        "d_o2": d(lambda o: 0.5 * (t2 - sig(o)) ** 2, o2),
        "dE1_da_h1": d(lambda a: errors(a, a2)[0], a1),
        "dE2_da_h1": d(lambda a: errors(a, a2)[1], a1),
        "dE_da_h1": d(lambda a: sum(errors(a, a2)), a1),
        "dE1_da_h2": d(lambda a: errors(a1, a)[0], a2),
        "dE2_da_h2": d(lambda a: errors(a1, a)[1], a2),
        "dE_da_h2": d(lambda a: sum(errors(a1, a)), a2),
        "d_h1": d(lambda h: sum(errors(sig(h), a2)), h1),
        "d_h2": d(lambda h: sum(errors(a1, sig(h))), h2),
    }
    got = xb.chain(W, inputs=I, targets=T, biases=biases)
    assert got._fields == tuple(expected)
    for name, value in expected.items():
        assert float(getattr(got, name)) == pytest.approx(value, rel=1e-7, abs=1e-12), name
    g = xb.backward(W, inputs=I, targets=T, biases=biases).weights  # the gradients are built from them
    assert g[0] == pytest.approx(got.d_h1 * i1, rel=1e-15) and g[7] == pytest.approx(got.d_o2 * a2, rel=1e-14)


@pytest.mark.parametrize("biases", [(0.0, 0.0), (0.35, 0.6)])
def test_chain_deltas_are_the_error_signals_backward_multiplies_out(biases):
    """δo1 = ∂E/∂o1 and δh1 = ∂E/∂h1: a shift of the output (hidden) bias moves both units of a
    layer, so dE/db2 = δo1 + δo2 (dE/db1 = δh1 + δh2) by central differences; each weight's
    gradient is its unit's δ times the value into it."""
    d = network.chain(W, inputs=I, targets=T, biases=biases)
    f = xb.forward(W, inputs=I, targets=T, biases=biases)
    g = xb.backward(W, inputs=I, targets=T, biases=biases).weights
    eps, b = 1e-6, np.array(biases)
    for k, (da, db) in enumerate([(d.d_h1, d.d_h2), (d.d_o1, d.d_o2)]):
        step = np.eye(2)[k] * eps
        num = (ref.forward(W, I, T, b + step)["E_total"] - ref.forward(W, I, T, b - step)["E_total"]) / (2 * eps)
        assert float(da + db) == pytest.approx(num, rel=1e-6)
    assert g[4] == d.d_o1 * f.a_h1 and g[7] == d.d_o2 * f.a_h2
    assert g[0] == d.d_h1 * I[0] and g[3] == d.d_h2 * I[1]
