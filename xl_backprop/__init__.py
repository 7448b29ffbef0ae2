"""xl-backprop: see backpropagation happen in Excel. The Python engine behind the add-in."""

from .analysis import GradCheck, LRSummary, grad_check, lr_summary
from .network import (
    DEFAULT_BIASES,
    DEFAULT_INPUTS,
    DEFAULT_ITERATIONS,
    DEFAULT_LRS,
    DEFAULT_TARGETS,
    DEFAULT_WEIGHTS,
    Backward,
    Forward,
    TrainResult,
    backward,
    forward,
    gradients,
    sigmoid,
    step,
    train,
    train_curves,
)

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_BIASES", "DEFAULT_INPUTS", "DEFAULT_ITERATIONS", "DEFAULT_LRS", "DEFAULT_TARGETS",
    "DEFAULT_WEIGHTS", "Backward", "Forward", "GradCheck", "LRSummary", "TrainResult", "backward",
    "forward", "grad_check", "gradients", "lr_summary", "sigmoid", "step", "train", "train_curves",
]
