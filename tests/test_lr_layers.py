"""A learning rate per layer in the engine: lr_hidden for w1..w4 and b1, lr_output for w5..w8
and b2, against the plain scalar reference (tests/scalar_reference.py, no code shared)."""

import numpy as np
import pytest

import xl_backprop as xb

from . import scalar_reference as ref

PAIRS = [(0.1, 2.0), (2.0, 0.1), (0.5, 0.5), (7.5, 0.01), (0.01, 30.0), (1.0, 3.0)]


@pytest.mark.parametrize("biases,train_biases", [((0.0, 0.0), False), ((0.35, 0.6), False), ((0.35, 0.6), True)])
def test_per_layer_rates_equal_the_scalar_reference(biases, train_biases):
    lr_h = np.array([p[0] for p in PAIRS])
    lr_o = np.array([p[1] for p in PAIRS])
    r = xb.train(lr_h, 201, lr_output=lr_o, biases=biases, train_biases=train_biases)
    for k, (a, b) in enumerate(PAIRS):
        net = (xb.DEFAULT_WEIGHTS, xb.DEFAULT_INPUTS, xb.DEFAULT_TARGETS, biases)
        want = ref.train_layers(a, b, 201, *net, train_biases)
        np.testing.assert_allclose(r.loss[:, k], want, rtol=1e-12, atol=0)


def test_the_rates_reach_their_own_layers():
    """Only the hidden rate moves w1..w4, only the output rate w5..w8: a rate of 1e-300 leaves
    its layer as it was (to the last bit, since 1e-300 * dE/dw is below half an ulp of w)."""
    r = xb.train([1e-300, 0.5], 5, lr_output=[0.5, 1e-300])
    w0 = np.array(xb.DEFAULT_WEIGHTS)
    np.testing.assert_array_equal(r.weights[0, :4], w0[:4])
    assert np.all(r.weights[0, 4:] != w0[4:])
    np.testing.assert_array_equal(r.weights[1, 4:], w0[4:])
    assert np.all(r.weights[1, :4] != w0[:4])


def test_one_rate_for_both_is_todays_train_to_the_last_bit():
    lrs = np.array(xb.DEFAULT_LRS)
    for update in xb.network.UPDATE_ORDERS:
        one = xb.train(lrs, 51, update=update, biases=(0.35, 0.6), train_biases=True, record=True)
        two = xb.train(lrs, 51, update=update, biases=(0.35, 0.6), train_biases=True, record=True, lr_output=lrs.copy())
        np.testing.assert_array_equal(one.loss, two.loss)
        np.testing.assert_array_equal(one.weights, two.weights)
        np.testing.assert_array_equal(one.biases, two.biases)


def test_lr_output_of_the_wrong_length_is_refused():
    with pytest.raises(ValueError, match="lr_output: expected one learning rate or 3"):
        xb.train([0.1, 0.2, 0.3], 5, lr_output=[0.1, 0.2])
