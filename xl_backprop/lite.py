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
is not supported in Pyodide) and nothing is written. The walkthrough's Next and Back move the
Backprop sheet's WalkStep / WalkPhase cells as the ribbon's buttons do; Office.js has no timer
(nothing like VBA's Application.OnTime), so Lite has no Play.

``xl-backprop lite --out DIR`` bundles this module and the modules it needs into one
``main.py`` (see ``lite_bundle``): Lite cannot install xl-backprop itself.
"""

from __future__ import annotations

import xlwings as xw
from xlwings import script

from . import explain, macros
from .udfs import BACKPROP_STEP, EXPLAIN, FORWARD, GRAD_CHECK, GRADIENTS, LR_MAP, LR_SUMMARY, SIGMOID, TRAIN_CURVE
from .workbook import layout as L

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


LAST_STEP = L.BACKPROP_STEPS - 1  #: the walkthrough's last step: the Backprop table's last row
LAST_PHASE = len(explain.PHASES)


def _whole(value, lo: int, hi: int) -> int:
    """A cell's value as a whole number in lo..hi, as the VBA reads it (not a number: lo)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        return lo
    return int(min(max(value, lo), hi))


def walk_move(step: int, phase: int, forward: bool) -> tuple[int, int]:
    """One phase on (or back): after phase 5 the next step's phase 1; never past the table's
    last step's phase 5, nor before step 0's phase 1."""
    if forward:
        return (step, phase + 1) if phase < LAST_PHASE else (step + 1, 1) if step < LAST_STEP else (step, phase)
    return (step, phase - 1) if phase > 1 else (step - 1, LAST_PHASE) if step > 0 else (0, 1)


def _walk(book: xw.Book, forward: bool) -> None:
    step_cell = book.names[L.WALK_STEP_NAME].refers_to_range
    phase_cell = book.names[L.IN_WALK_PHASE.name].refers_to_range
    step, phase = _whole(step_cell.value, 0, LAST_STEP), _whole(phase_cell.value, 1, LAST_PHASE)
    step, phase = walk_move(step, phase, forward)
    step_cell.value = step
    phase_cell.value = phase


@script(name="Walk: next")
def walk_next(book: xw.Book):
    """The walkthrough's next phase on the Backprop sheet (WalkPhase; after the update, the next
    step). Lite has no Play: Office.js has no timer."""
    _walk(book, forward=True)


@script(name="Walk: back")
def walk_back(book: xw.Book):
    """The walkthrough's phase before (before phase 1, the previous step's update)."""
    _walk(book, forward=False)


SCRIPTS = (train_learning_rates, draw_network, map_learning_rates, reset, walk_next, walk_back)

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
    "walk_back",
    "walk_next",
]
