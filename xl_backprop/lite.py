"""The same functions and buttons in xlwings Lite: Excel on Windows, on a Mac and on the web.

xlwings Lite runs Python (Pyodide) inside Excel's add-in and sets ``XLWINGS_ON_SERVER=true``
before it imports ``main.py``; xlwings then resolves ``xw.func``, ``xw.arg`` and ``xw.script``
to its Office.js implementation (``xlwings.server``). So the functions of ``udfs`` --
their conversions, checks, messages and help -- register themselves for Lite when ``udfs``
is imported there: this module only gathers them, adds the four buttons as ``@script``
functions and runs them through the ribbon's own code (``macros.run_in_book``).

Differences from the ribbon, by what Lite offers: a script runs from the task pane's Run
button (the template has no sheet shapes to bind with ``@script(button=...)``); bad input is
printed to the task pane's output (Office.js has no message box, and xlwings' ``App.alert``
is not supported in Pyodide) and nothing is written.

``xl-backprop lite --out DIR`` bundles this module and the modules it needs into one
``main.py`` (see ``lite_bundle``): Lite cannot install xl-backprop itself.
"""

from __future__ import annotations

import xlwings as xw
from xlwings import script

from . import macros
from .udfs import BACKPROP_STEP, EXPLAIN, FORWARD, GRAD_CHECK, GRADIENTS, LR_MAP, LR_SUMMARY, SIGMOID, TRAIN_CURVE

#: What Lite shows: the custom functions (the same objects as ``udfs``'), then the scripts.
FUNCTIONS = (SIGMOID, FORWARD, GRADIENTS, BACKPROP_STEP, TRAIN_CURVE, GRAD_CHECK, LR_SUMMARY, LR_MAP, EXPLAIN)


def _tell(message: str) -> None:
    print(f"{macros.ALERT_TITLE}: {message}")  # Lite's output pane shows what a script prints


@script(name="Train learning rates")
def train_learning_rates(book: xw.Book):
    """Trains the network for every learning rate on the Learning rates sheet: loss table,
    summary, chart and picture, as the ribbon's button writes them."""
    macros.run_in_book("train-lrs", book, _tell)


@script(name="Draw network")
def draw_network(book: xw.Book):
    """Draws the network at the Backprop sheet's step (WalkStep, else "show step") and phase
    (WalkPhase, where the book has one), as a picture; a bad phase prints one line."""
    macros.run_in_book("draw-network", book, _tell)


@script(name="Map learning rates")
def map_learning_rates(book: xw.Book):
    """Trains one network per pair of layer learning rates in the ranges on the Learning rates
    sheet and draws the map, as the ribbon's button does (bounded more tightly here: Lite's loop
    is not compiled)."""
    macros.run_in_book("map-lrs", book, _tell)


@script(name="Reset to defaults")
def reset(book: xw.Book):
    """Puts the course's inputs back and clears what the buttons wrote."""
    macros.run_in_book("reset", book, _tell)


SCRIPTS = (train_learning_rates, draw_network, map_learning_rates, reset)

__all__ = [
    "BACKPROP_STEP",
    "EXPLAIN",
    "FORWARD",
    "FUNCTIONS",
    "GRADIENTS",
    "GRAD_CHECK",
    "LR_MAP",
    "LR_SUMMARY",
    "SCRIPTS",
    "SIGMOID",
    "TRAIN_CURVE",
    "draw_network",
    "map_learning_rates",
    "reset",
    "train_learning_rates",
]
