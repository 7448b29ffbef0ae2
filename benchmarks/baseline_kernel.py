"""The training loop as it was before activations and examples (commit d8bc890's kernel.py,
sigmoid only, one example): the baseline the benchmarks time today's loop against. Not used by
the package; compiled here without numba's cache."""

# ruff: noqa: E501
import math

from numba import njit


@njit
def sigma(x):
    z = math.exp(-abs(x))
    return 1.0 / (1.0 + z) if x >= 0 else z / (1.0 + z)


@njit
def train_network(k, lr_h, lr_o, i1, i2, t1, t2, W, B, train_biases, sequential, loss, W_hist, B_hist, start, stop):
    """The loop of commit d8bc890."""
    w1, w2, w3, w4 = float(W[k, 0]), float(W[k, 1]), float(W[k, 2]), float(W[k, 3])
    w5, w6, w7, w8 = float(W[k, 4]), float(W[k, 5]), float(W[k, 6]), float(W[k, 7])
    b1, b2 = float(B[k, 0]), float(B[k, 1])
    record = W_hist.shape[0] > 0
    last = loss.shape[0] - 1
    for n in range(start, stop):
        # forward pass
        h1 = w1 * i1 + w2 * i2 + b1
        h2 = w3 * i1 + w4 * i2 + b1
        a_h1 = sigma(h1)
        a_h2 = sigma(h2)
        o1 = w5 * a_h1 + w6 * a_h2 + b2
        o2 = w7 * a_h1 + w8 * a_h2 + b2
        a_o1 = sigma(o1)
        a_o2 = sigma(o2)
        E1 = 0.5 * ((t1 - a_o1) * (t1 - a_o1))  # ½(t1 - a_o1)², squared as numpy does (** 2 could raise in Python)
        E2 = 0.5 * ((t2 - a_o2) * (t2 - a_o2))
        loss[n, k] = E1 + E2
        if record:
            W_hist[n, k, 0], W_hist[n, k, 1], W_hist[n, k, 2], W_hist[n, k, 3] = w1, w2, w3, w4
            W_hist[n, k, 4], W_hist[n, k, 5], W_hist[n, k, 6], W_hist[n, k, 7] = w5, w6, w7, w8
            B_hist[n, k, 0], B_hist[n, k, 1] = b1, b2
        if n == last:
            break
        # backward pass, output layer: δo1 = (a_o1 - t1) * a_o1 * (1 - a_o1)
        d_o1 = (a_o1 - t1) * a_o1 * (1 - a_o1)
        d_o2 = (a_o2 - t2) * a_o2 * (1 - a_o2)
        dE_dw5 = d_o1 * a_h1
        dE_dw6 = d_o1 * a_h2
        dE_dw7 = d_o2 * a_h1
        dE_dw8 = d_o2 * a_h2
        dE_db2 = d_o1 + d_o2
        if sequential:  # w5..w8 first; the hidden layer's deltas below then use the new ones
            w5 = w5 - lr_o * dE_dw5
            w6 = w6 - lr_o * dE_dw6
            w7 = w7 - lr_o * dE_dw7
            w8 = w8 - lr_o * dE_dw8
        # backward pass, hidden layer: δh1 = (δo1 * w5 + δo2 * w7) * a_h1 * (1 - a_h1)
        d_h1 = (d_o1 * w5 + d_o2 * w7) * a_h1 * (1 - a_h1)
        d_h2 = (d_o1 * w6 + d_o2 * w8) * a_h2 * (1 - a_h2)
        dE_dw1 = d_h1 * i1
        dE_dw2 = d_h1 * i2
        dE_dw3 = d_h2 * i1
        dE_dw4 = d_h2 * i2
        dE_db1 = d_h1 + d_h2
        # gradient descent: w ← w - lr * dE/dw, lr_h for w1..w4 and b1, lr_o for w5..w8 and b2
        w1 = w1 - lr_h * dE_dw1
        w2 = w2 - lr_h * dE_dw2
        w3 = w3 - lr_h * dE_dw3
        w4 = w4 - lr_h * dE_dw4
        if not sequential:
            w5 = w5 - lr_o * dE_dw5
            w6 = w6 - lr_o * dE_dw6
            w7 = w7 - lr_o * dE_dw7
            w8 = w8 - lr_o * dE_dw8
        if train_biases:
            b1 = b1 - lr_h * dE_db1
            b2 = b2 - lr_o * dE_db2
    W[k, 0], W[k, 1], W[k, 2], W[k, 3], W[k, 4], W[k, 5], W[k, 6], W[k, 7] = w1, w2, w3, w4, w5, w6, w7, w8
    B[k, 0], B[k, 1] = b1, b2


@njit
def train_serial(lrs, lrs_o, i1, i2, t1, t2, W, B, train_biases, sequential, loss, W_hist, B_hist, start, stop):
    for k in range(lrs.shape[0]):
        train_network(
            k, lrs[k], lrs_o[k], i1, i2, t1, t2, W, B, train_biases, sequential, loss, W_hist, B_hist, start, stop
        )
