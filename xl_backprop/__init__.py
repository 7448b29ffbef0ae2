"""xl-backprop: see backpropagation happen in Excel. The Python engine behind the add-in."""

from importlib import metadata as _metadata

from .analysis import GradCheck, LRSummary, grad_check, lr_summary
from .network import (
    DEFAULT_BIASES,
    DEFAULT_INPUTS,
    DEFAULT_ITERATIONS,
    DEFAULT_LRS,
    DEFAULT_TARGETS,
    DEFAULT_WEIGHTS,
    Backward,
    Chain,
    Forward,
    TrainResult,
    backward,
    chain,
    forward,
    gradients,
    loss,
    sigmoid,
    step,
    train,
    train_curves,
)

try:  # the one version is pyproject.toml's, as installed
    __version__ = _metadata.version("xl-backprop")
except _metadata.PackageNotFoundError:  # sources without their distribution: Lite's main.py, a bare checkout
    __version__ = "0+unknown"

__all__ = [
    "DEFAULT_BIASES",
    "DEFAULT_INPUTS",
    "DEFAULT_ITERATIONS",
    "DEFAULT_LRS",
    "DEFAULT_TARGETS",
    "DEFAULT_WEIGHTS",
    "Backward",
    "Chain",
    "Forward",
    "GradCheck",
    "LRSummary",
    "TrainResult",
    "backward",
    "chain",
    "forward",
    "grad_check",
    "gradients",
    "loss",
    "lr_summary",
    "sigmoid",
    "step",
    "train",
    "train_curves",
]
