"""Loss curves computed by PyTorch's autograd, for tests/test_activations.py: every pair of
activations x {course, half-adder} x several learning rates. Run in its own environment, outside
the project (it imports nothing from xl_backprop), and commit the JSON it writes:

    python3 -m venv /tmp/torch-ref && /tmp/torch-ref/bin/pip install torch numpy
    /tmp/torch-ref/bin/python tests/data/make_torch_reference.py > tests/data/torch_reference.json

The network is the course's 2-2-2 one, written in torch: E_total is the mean over the examples
of ½((t1 − a_o1)² + (t2 − a_o2)²), one full-batch gradient step per row (w ← w − lr·∂E/∂w,
simultaneous), biases 0 and not trained, float64 throughout.
"""

import itertools
import json
import sys

import torch
import torch.nn.functional as F

ACTIVATIONS = {
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "relu": F.relu,
    "leaky_relu": lambda x: F.leaky_relu(x, 0.01),
    "linear": lambda x: x,
}
WEIGHTS = [0.15, 0.2, 0.25, 0.3, 0.4, 0.45, 0.5, 0.55]  # the course's w1..w8
DATA = {  # rows of (i1, i2, t1, t2)
    "course": [(0.05, 0.1, 0.01, 0.99)],
    "half-adder": [(a, b, float(int(a) ^ int(b)), float(int(a) & int(b))) for a in (0.0, 1.0) for b in (0.0, 1.0)],
}
LRS = (0.1, 0.5, 2.0)
ITERATIONS = 51


def curve(data, hidden, output, lr):
    rows = torch.tensor(data, dtype=torch.float64)
    X, T = rows[:, :2], rows[:, 2:]
    w = torch.tensor(WEIGHTS, dtype=torch.float64, requires_grad=True)
    losses = []
    for n in range(ITERATIONS):
        W_h = torch.stack([w[0:2], w[2:4]])  # h1 = w1*i1 + w2*i2, h2 = w3*i1 + w4*i2
        W_o = torch.stack([w[4:6], w[6:8]])  # o1 = w5*a_h1 + w6*a_h2, o2 = w7*a_h1 + w8*a_h2
        a_h = ACTIVATIONS[hidden](X @ W_h.T)
        a_o = ACTIVATIONS[output](a_h @ W_o.T)
        E = (0.5 * (T - a_o) ** 2).sum(dim=1).mean()
        losses.append(E.item())
        if n == ITERATIONS - 1:
            break
        (g,) = torch.autograd.grad(E, w)
        with torch.no_grad():
            w = (w - lr * g).requires_grad_(True)
    return losses


def main():
    cases = [
        {"data": d, "hidden": h, "output": o, "lr": lr, "loss": curve(DATA[d], h, o, lr)}
        for d, (h, o), lr in itertools.product(DATA, itertools.product(ACTIVATIONS, repeat=2), LRS)
    ]
    made = {"torch": torch.__version__, "script": "tests/data/make_torch_reference.py", "iterations": ITERATIONS}
    head = {"made_by": made, "data": DATA, "weights": WEIGHTS}
    sys.stdout.write(json.dumps(head)[:-1] + ', "cases": [\n')  # one case a line
    sys.stdout.write(",\n".join(json.dumps(c) for c in cases) + "\n]}\n")


if __name__ == "__main__":
    main()
