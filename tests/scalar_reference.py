"""An independent, deliberately plain reference: one network, one learning rate, Python
floats and math.exp, every line written from the formulas in docs/design.md. Slow, obvious, and
sharing no code with xl_backprop."""

from __future__ import annotations

import math


def sigma(x: float) -> float:
    if x < -700:  # e^-x would overflow: the same value, written the other way
        return math.exp(x) / (1.0 + math.exp(x))
    return 1.0 / (1.0 + math.exp(-x))


def forward(w, i, t, b=(0.0, 0.0)):
    w1, w2, w3, w4, w5, w6, w7, w8 = w
    i1, i2 = i
    t1, t2 = t
    b1, b2 = b
    h1 = w1 * i1 + w2 * i2 + b1
    h2 = w3 * i1 + w4 * i2 + b1
    a_h1 = sigma(h1)
    a_h2 = sigma(h2)
    o1 = w5 * a_h1 + w6 * a_h2 + b2
    o2 = w7 * a_h1 + w8 * a_h2 + b2
    a_o1 = sigma(o1)
    a_o2 = sigma(o2)
    E1 = 0.5 * (t1 - a_o1) ** 2
    E2 = 0.5 * (t2 - a_o2) ** 2
    return dict(h1=h1, a_h1=a_h1, h2=h2, a_h2=a_h2, o1=o1, a_o1=a_o1, o2=o2, a_o2=a_o2, E1=E1, E2=E2, E_total=E1 + E2)


def gradients(w, i, t, b=(0.0, 0.0), out_w=None):
    """dE/dw1..dE/dw8 and dE/db1, dE/db2. ``out_w``: the w5..w8 to use in the hidden layer's
    chain rule (the sequential variant), default the forward pass's own."""
    f = forward(w, i, t, b)
    i1, i2 = i
    t1, t2 = t
    w5, w6, w7, w8 = out_w if out_w is not None else w[4:]
    a_h1, a_h2, a_o1, a_o2 = f["a_h1"], f["a_h2"], f["a_o1"], f["a_o2"]
    dw5 = (a_o1 - t1) * a_o1 * (1 - a_o1) * a_h1
    dw6 = (a_o1 - t1) * a_o1 * (1 - a_o1) * a_h2
    dw7 = (a_o2 - t2) * a_o2 * (1 - a_o2) * a_h1
    dw8 = (a_o2 - t2) * a_o2 * (1 - a_o2) * a_h2
    back_h1 = (a_o1 - t1) * a_o1 * (1 - a_o1) * w5 + (a_o2 - t2) * a_o2 * (1 - a_o2) * w7
    back_h2 = (a_o1 - t1) * a_o1 * (1 - a_o1) * w6 + (a_o2 - t2) * a_o2 * (1 - a_o2) * w8
    dw1 = back_h1 * a_h1 * (1 - a_h1) * i1
    dw2 = back_h1 * a_h1 * (1 - a_h1) * i2
    dw3 = back_h2 * a_h2 * (1 - a_h2) * i1
    dw4 = back_h2 * a_h2 * (1 - a_h2) * i2
    db1 = back_h1 * a_h1 * (1 - a_h1) + back_h2 * a_h2 * (1 - a_h2)
    db2 = (a_o1 - t1) * a_o1 * (1 - a_o1) + (a_o2 - t2) * a_o2 * (1 - a_o2)
    return [dw1, dw2, dw3, dw4, dw5, dw6, dw7, dw8], [db1, db2]


def train(lr, iterations, w, i, t, b=(0.0, 0.0), train_biases=False, update="simultaneous"):
    """E_total of each row (row 0 before any update), and the weights of each row."""
    w, b = list(w), list(b)
    losses, weights = [], []
    for n in range(iterations):
        losses.append(forward(w, i, t, b)["E_total"])
        weights.append(list(w))
        if n == iterations - 1:
            break
        gw, gb = gradients(w, i, t, b)
        if update == "sequential":
            new_out = [w[k] - lr * gw[k] for k in range(4, 8)]
            gw_h, gb_h = gradients(w, i, t, b, out_w=new_out)
            w = [w[k] - lr * gw_h[k] for k in range(4)] + new_out
            gb = [gb_h[0], gb[1]]
        else:
            w = [w[k] - lr * gw[k] for k in range(8)]
        if train_biases:
            b = [b[0] - lr * gb[0], b[1] - lr * gb[1]]
    return losses, weights


def train_layers(lr_hidden, lr_output, iterations, w, i, t, b=(0.0, 0.0), train_biases=False):
    """``train`` with a learning rate per layer, simultaneous updates: lr_hidden for w1..w4 and
    b1, lr_output for w5..w8 and b2. E_total of each row (row 0 before any update)."""
    w, b = list(w), list(b)
    losses = []
    for n in range(iterations):
        losses.append(forward(w, i, t, b)["E_total"])
        if n == iterations - 1:
            break
        gw, gb = gradients(w, i, t, b)
        w = [w[k] - (lr_hidden if k < 4 else lr_output) * gw[k] for k in range(8)]
        if train_biases:
            b = [b[0] - lr_hidden * gb[0], b[1] - lr_output * gb[1]]
    return losses


# --- other activations: written from their textbook definitions, derivatives in x (as PyTorch
# computes them: relu'(0) = 0, leaky_relu'(0) = 0.01), sharing nothing with xl_backprop ----------


def _act(name: str, x: float) -> float:
    if name == "sigmoid":
        return sigma(x)
    if name == "tanh":
        return math.tanh(x)
    if name == "relu":
        return max(0.0, x)
    if name == "leaky_relu":
        return x if x > 0 else 0.01 * x
    if name == "linear":
        return x
    raise ValueError(name)


def _slope(name: str, x: float) -> float:
    """f'(x), from x."""
    if name == "sigmoid":
        return sigma(x) * (1 - sigma(x))
    if name == "tanh":
        return 1 - math.tanh(x) ** 2
    if name == "relu":
        return 1.0 if x > 0 else 0.0
    if name == "leaky_relu":
        return 1.0 if x > 0 else 0.01
    if name == "linear":
        return 1.0
    raise ValueError(name)


def train_activations(lr, iterations, w, i, t, hidden, output, update="simultaneous", b=(0.0, 0.0)):
    """E_total of each row (row 0 before any update), one network, one example, the hidden
    layer's activation ``hidden`` and the output layer's ``output``; biases fixed."""
    return train_examples(lr, iterations, w, [(*i, *t)], hidden, output, update, b)


def train_examples(lr, iterations, w, rows, hidden="sigmoid", output="sigmoid", update="simultaneous", b=(0.0, 0.0)):
    """E_total of each row, for the examples ``rows`` of (i1, i2, t1, t2): E_total is the mean
    over them of ½(t1 - a_o1)² + ½(t2 - a_o2)², each step takes the mean gradient (full batch);
    ``update`` as in ``train`` (sequential: w5..w8 first, the hidden layer's deltas of every
    example with the new ones). Biases fixed."""
    w = list(w)
    b1, b2 = b
    N = len(rows)
    losses = []
    for n in range(iterations):
        E, g_out, cache = 0.0, [0.0] * 4, []
        for i1, i2, t1, t2 in rows:
            h = [w[0] * i1 + w[1] * i2 + b1, w[2] * i1 + w[3] * i2 + b1]
            a_h = [_act(hidden, x) for x in h]
            o = [w[4] * a_h[0] + w[5] * a_h[1] + b2, w[6] * a_h[0] + w[7] * a_h[1] + b2]
            a_o = [_act(output, x) for x in o]
            E += 0.5 * (t1 - a_o[0]) ** 2 + 0.5 * (t2 - a_o[1]) ** 2
            d_o = [(a_o[0] - t1) * _slope(output, o[0]), (a_o[1] - t2) * _slope(output, o[1])]
            for j in (0, 1):
                for m in (0, 1):
                    g_out[2 * j + m] += d_o[j] * a_h[m]
            cache.append((i1, i2, h, a_h, d_o))
        losses.append(E / N)
        if n == iterations - 1:
            break
        new_out = [w[4 + k] - lr * (g_out[k] / N) for k in range(4)]  # the mean gradient
        w_out = new_out if update == "sequential" else w[4:]
        g_hid = [0.0] * 4
        for i1, i2, h, _a_h, d_o in cache:
            d_h = [(d_o[0] * w_out[m] + d_o[1] * w_out[2 + m]) * _slope(hidden, h[m]) for m in (0, 1)]
            for m in (0, 1):
                g_hid[2 * m] += d_h[m] * i1
                g_hid[2 * m + 1] += d_h[m] * i2
        w = [w[k] - lr * (g_hid[k] / N) for k in range(4)] + new_out
    return losses
