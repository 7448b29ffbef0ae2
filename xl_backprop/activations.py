"""The activations a layer can use, stated once: every face (kernel, network, explain, UDFs, CLI)
reads this table.

For each: the function f, applied to a unit's net input (a_h1 = f(h1)), and ``back``, which
multiplies an incoming gradient g by f'(x) — written, as the course writes σ' = a·(1 − a), in
terms of the unit's output a = f(x), so that the course's numbers do not move by a bit:

    sigmoid      σ(x) = 1 / (1 + e^-x)            σ'(x) = a·(1 − a)
    tanh         tanh(x)                          tanh'(x) = 1 − a²
    relu         max(0, x)                        relu'(x) = 1 if a > 0 else 0      (0 at x = 0)
    leaky_relu   x if x > 0 else 0.01·x           leaky_relu'(x) = 1 if a > 0 else 0.01
    linear       x                                linear'(x) = 1

The derivatives at 0 are PyTorch's: relu'(0) = 0, leaky_relu'(0) = 0.01. The ``code`` is what
the compiled loop (kernel.py) takes per layer: an integer, so that it branches without Python.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike

#: The slope of leaky_relu below 0 (PyTorch's default negative_slope).
LEAKY_SLOPE = 0.01

SIGMOID, TANH, RELU, LEAKY_RELU, LINEAR = range(5)  # the kernel's codes, in NAMES' order


def sigmoid(x: ArrayLike) -> np.ndarray:
    """σ(x) = 1 / (1 + e^-x), computed without overflow for any finite x.

    Parameters
    ----------
    x : array_like of any shape

    Returns
    -------
    ndarray of float64, the shape of ``x``, in [0, 1]
    """
    x = np.asarray(x, dtype=float)
    z = np.exp(-np.abs(x))  # in (0, 1]: never overflows
    return np.where(x >= 0, 1.0 / (1.0 + z), z / (1.0 + z))


def _tanh(x):
    return np.tanh(np.asarray(x, dtype=float))


def _relu(x):
    x = np.asarray(x, dtype=float)
    return np.where(x > 0, x, 0.0)


def _leaky_relu(x):
    x = np.asarray(x, dtype=float)
    return np.where(x > 0, x, LEAKY_SLOPE * x)


def _linear(x):
    return np.array(x, dtype=float)


# g · f'(x), f' in terms of a = f(x); the sigmoid's as the course writes it, (g·a)·(1 − a).
def _back_sigmoid(g, a):
    return g * a * (1 - a)


def _back_tanh(g, a):
    return g * (1 - a * a)


def _back_relu(g, a):
    return g * np.where(a > 0, 1.0, 0.0)


def _back_leaky_relu(g, a):
    return g * np.where(a > 0, 1.0, LEAKY_SLOPE)


def _back_linear(g, a):
    return g * 1.0


class Activation(NamedTuple):
    """One activation: its name, the kernel's code, f and g·f' in numpy, and how the course writes
    them: ``symbol`` of f (σ), ``derivative`` of f' in terms of a (``a·(1 − a)``)."""

    name: str
    code: int
    f: Callable[[ArrayLike], np.ndarray]
    back: Callable[[ArrayLike, ArrayLike], np.ndarray]
    symbol: str
    formula: str
    derivative: str


ACTIVATIONS = {
    a.name: a
    for a in (
        Activation("sigmoid", SIGMOID, sigmoid, _back_sigmoid, "σ", "σ(x) = 1 / (1 + e^−x)", "a·(1 − a)"),
        Activation("tanh", TANH, _tanh, _back_tanh, "tanh", "tanh(x) = (e^x − e^−x) / (e^x + e^−x)", "1 − a²"),
        Activation("relu", RELU, _relu, _back_relu, "relu", "relu(x) = max(0, x)", "1 if a > 0, else 0"),
        Activation(
            "leaky_relu",
            LEAKY_RELU,
            _leaky_relu,
            _back_leaky_relu,
            "leaky_relu",
            f"leaky_relu(x) = x if x > 0, else {LEAKY_SLOPE:g}·x",
            f"1 if a > 0, else {LEAKY_SLOPE:g}",
        ),
        Activation("linear", LINEAR, _linear, _back_linear, "linear", "linear(x) = x", "1"),
    )
}
#: The accepted names, in the kernel's code order; the first is the default.
NAMES = tuple(ACTIVATIONS)
DEFAULT = "sigmoid"


def expected(argument: str) -> str:
    """How every face refuses a name that is not an activation's (the engine here, the UDFs'
    cells): ``argument``, then the accepted names; the caller adds what it got."""
    return f"{argument}: expected one of {', '.join(NAMES)}"


def typed(text: str) -> str | None:
    """The accepted name a person typed (a cell): any case, spaces around ignored; else None."""
    name = text.strip().lower()
    return name if name in ACTIVATIONS else None


def get(name, argument: str) -> Activation:
    """The activation named ``name``, or ValueError naming ``argument`` and the accepted names."""
    if isinstance(name, str) and str.__str__(name) in ACTIVATIONS:
        return ACTIVATIONS[str.__str__(name)]
    got = repr(str.__str__(name))[:40] if isinstance(name, str) else type(name).__name__
    raise ValueError(f"{expected(argument)}, got {got}")


def pair(hidden_activation, output_activation) -> tuple[Activation, Activation]:
    """The hidden and the output layer's activations, checked."""
    return get(hidden_activation, "hidden_activation"), get(output_activation, "output_activation")
