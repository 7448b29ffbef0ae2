"""The ribbon's actions: read the book, run the batch, write the results back.

Each action is a pure *plan* (what to write where: cell blocks, a chart, a picture, what to
clear) computed from the book's named input cells, and two thin back-ends that apply a plan:
``apply_to_xlwings`` on a live Excel book, ``apply_to_package`` on an .xlsm file being edited
(``run_on_file``, for ``xl-backprop run``). Both read their inputs through one reader over "the
values of a defined name", and all places come from ``workbook.layout``, so Excel and the
command line write the same data to the same cells. No math here: the numbers come from
``network`` and ``analysis``.

The ribbon runs ``RunPython "import xl_backprop.macros as m; m.train_learning_rates()"`` (and
``m.draw_network()``, ``m.map_learning_rates()``, ``m.reset()``); the book is ``xw.Book.caller()``, looked up inside the
call. Bad input stops an action before anything is written: in Excel with a message box
naming the cell and what was expected, on files with a ValueError saying the same. An
argument that is not a cell (the action, the output file, the step to draw) is named by an
``InputError`` field, which each caller words its own way (the CLI as its options).
"""

from __future__ import annotations

import errno
import itertools
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from . import activations, analysis, cellstyle, examples, network
from .cellref import Area, CellError, Value, parse_ref, ref
from .excel_errors import excel_error
from .figures import curves_figure, png_bytes
from .fileio import Held, atomic_write
from .limits import (
    MAP_MORE,
    MAX_INPUT_CELLS,
    UDF_MAX_MAP_STEPS,
    UDF_MAX_MAP_STEPS_UNCOMPILED,
    is_count,
    is_learning_rate,
    is_threshold,
)
from .network_picture import PHASE_LIST, PHASES, network_figure
from .palette import lr_color, lr_label
from .workbook import layout as L

if TYPE_CHECKING:  # the file back-end's lxml is imported when a file is edited: Excel and xlwings Lite never need it
    from .ooxml import Workbook

#: The ribbon's actions, by the names ``xl-backprop run`` takes: the one list of them.
ACTIONS = ("train-lrs", "draw-network", "map-lrs", "reset")
ALERT_TITLE = "xl-backprop"
PT_PER_PX = 0.75  # layout sizes are pixels at 96 dpi; Excel positions shapes in points
#: Largest step "Draw network" draws: the last row of the Backprop table, so the cell diagram,
#: which reads the table at "show step", can always show the same step as the picture.
MAX_SHOW_STEP = L.BACKPROP_STEPS - 1


class InputError(ValueError):
    """Bad input that is not a cell of the book: an argument of the action, named by its
    ``field`` ("action", "output file", "step to draw"); a caller such as the CLI may name it
    in its own terms, with ``detail`` (what was expected, what came)."""

    def __init__(self, field: str, detail: str):
        super().__init__(f"{field}: {detail}")
        self.field, self.detail = field, detail


#: The extension Excel requires of a workbook with this main part: it refuses to open a file
#: whose extension does not match its content ("file format or file extension is not valid").
EXTENSIONS = {
    "application/vnd.ms-excel.sheet.macroEnabled.main+xml": ".xlsm",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml": ".xlsx",
    "application/vnd.ms-excel.template.macroEnabled.main+xml": ".xltm",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.template.main+xml": ".xltx",
}

#: A reader of the book: defined name -> (its address, for messages; its values, 2-D).
Getter = Callable[[str], tuple[str, list[list[Value]]]]


# ----------------------------------------------------------------------------- what to write


@dataclass(frozen=True)
class Cells:
    """A block of values with its top-left corner at (row, col) of ``sheet`` (0-based); a
    long numeric block is a 2-D float array (the file back-end writes it in bulk). ``styles``:
    the name of a ``layout.STYLES`` entry per column (None, or none given: the cells keep theirs)."""

    sheet: str
    row: int
    col: int
    values: list[list[Value]] | np.ndarray
    styles: tuple[str | None, ...] = ()

    @property
    def shape(self) -> tuple[int, int]:
        if isinstance(self.values, np.ndarray):
            return self.values.shape
        return len(self.values), max((len(r) for r in self.values), default=0)


@dataclass(frozen=True)
class Widths:
    """Column widths (in characters, as Excel counts them) from column ``col`` (0-based) of ``sheet``."""

    sheet: str
    col: int
    widths: tuple[float, ...]


@dataclass(frozen=True)
class ChartSpec:
    """A native line chart: one series per column of ``source`` (header row = series names,
    the rows below = values), x values from ``categories``; ``colors``: the series' line colours
    (``palette``), in order (none: the application's own)."""

    anchor: L.Anchor
    title: str
    x_title: str
    y_title: str
    source: Area
    categories: Area
    colors: tuple[str, ...] = ()


@dataclass(frozen=True)
class PictureSpec:
    """A PNG placed at ``anchor`` (named, so a rerun replaces it)."""

    anchor: L.Anchor
    png: bytes
    description: str


@dataclass(frozen=True)
class Plan:
    """Everything one action writes, in order: clear cells (values and formats), remove named
    charts/pictures (and any that the new ones replace), write cell blocks (with their styles),
    set column widths, add charts, add pictures."""

    clear: tuple[Area, ...] = ()
    remove: tuple[L.Anchor, ...] = ()
    cells: tuple[Cells, ...] = ()
    widths: tuple[Widths, ...] = ()
    charts: tuple[ChartSpec, ...] = ()
    pictures: tuple[PictureSpec, ...] = ()
    inputs_changed: bool = False  # input cells were written: formulas must recalculate

    def removed(self) -> dict[str, list[str]]:
        """Sheet -> names of the charts and pictures to delete before drawing."""
        out: dict[str, list[str]] = {}
        for a in (*self.remove, *(c.anchor for c in self.charts), *(p.anchor for p in self.pictures)):
            out.setdefault(a.sheet, [])
            if a.name not in out[a.sheet]:
                out[a.sheet].append(a.name)
        return out


def check_sheets(plan: Plan, sheets: Sequence[str]) -> None:
    """A sheet the plan writes to but the book lacks (renamed, deleted) is bad input too: say so
    before anything is written."""
    needed = (
        {a.sheet for a in plan.clear}
        | {c.sheet for c in plan.cells}
        | set(plan.removed())
        | {ch.source.sheet for ch in plan.charts}
    )
    missing = sorted(needed - set(sheets))
    if missing:
        raise ValueError(
            f"sheet {missing[0]!r}: not in this workbook (it has {', '.join(sheets)}); "
            "expected the xl-backprop template's sheets"
        )


# ----------------------------------------------------------------------------- reading inputs


class NetworkInputs(NamedTuple):
    """The Backprop sheet's network: inputs (i1, i2), targets (t1, t2), w1..w8, (b1, b2), each
    layer's activation and the examples it trains on. ``inputs`` and ``targets`` are one pair
    each for the course's example (the cells B4:B7), else one pair per example (N x 2)."""

    inputs: tuple[float, float] | tuple[tuple[float, float], ...]
    targets: tuple[float, float] | tuple[tuple[float, float], ...]
    weights: tuple[float, ...]
    biases: tuple[float, float]
    hidden_activation: str = activations.DEFAULT
    output_activation: str = activations.DEFAULT
    example_set: str = examples.DEFAULT
    slots: tuple[int, ...] = ()  # the own block's row (1-based) of each example; () for 1..N

    @property
    def example_slots(self) -> tuple[int, ...]:
        """The slot (the row of the block, 1-based, as ExampleShown counts) of each example."""
        return self.slots or tuple(range(1, len(self.examples) + 1))

    @property
    def acts(self) -> dict[str, str]:
        """The activations as the engine's keyword arguments."""
        return {"hidden_activation": self.hidden_activation, "output_activation": self.output_activation}

    @property
    def examples(self) -> np.ndarray:
        """The examples as an (N, 4) array of rows (i1, i2, t1, t2)."""
        return examples.as_examples(self.inputs, self.targets)

    def describe(self) -> str:
        """The choices in a few words, for titles: "sigmoid/sigmoid, course"; "tanh/linear,
        half-adder: 4 examples"."""
        n = len(self.examples)
        shown = self.example_set if n == 1 else f"{self.example_set}: {n} examples"
        return f"{self.hidden_activation}/{self.output_activation}, {shown}"


class TrainInputs(NamedTuple):
    """What "Train learning rates" needs."""

    net: NetworkInputs
    lrs: tuple[float, ...]
    iterations: int
    threshold: float


class DrawInputs(NamedTuple):
    """What "Draw network" needs: the network, its learning rate, the step to show and the phase
    (1..5, None: the whole step), and where the book's walkthrough keeps them, if it has one."""

    net: NetworkInputs
    lr: float
    step: int
    step_given: bool = False  # the step came from the caller, not the book: write it into "show step"
    phase: int | None = None
    phase_given: bool = False  # the phase came from the caller: write it into WalkPhase, if the book has it
    walk_step: Area | None = None  # the cells named WalkStep and WalkPhase, where the book has them
    walk_phase: Area | None = None
    example: int = 1  # the example the picture shows (ExampleShown), 1-based


class MissingName(ValueError):
    """A defined name the book lacks (a reader of an optional input may carry on without it)."""


class _Named(NamedTuple):
    """An input known only by its defined name (the walkthrough's), with the label messages use."""

    name: str
    label: str


#: The walkthrough's step and phase (issue 15): "Draw network" follows them where the book has them.
WALK_STEP = _Named(L.WALK_STEP_NAME, L.IN_SHOW_STEP.label)  # the cell the sheet labels "show step"
WALK_PHASE = _Named(L.IN_WALK_PHASE.name, L.IN_WALK_PHASE.name)


def _show(v: Value | Any) -> str:
    if v is None:
        return "an empty cell"
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, CellError):
        return f"the error {v}"
    if isinstance(v, float | int):
        return f"{v:.15g}"
    return repr(v)


def _one(get: Getter, inp: L.Input) -> tuple[str, Value]:
    where, values = get(inp.name)
    if len(values) != 1 or len(values[0]) != 1:
        raise ValueError(f"{where} ({inp.label}): the defined name {inp.name} should be one cell")
    return where, values[0][0]


def _is_number(v: Value | Any) -> bool:
    return isinstance(v, float | int) and not isinstance(v, bool) and bool(np.isfinite(v))


def _number(get: Getter, inp: L.Input, what: str = "a number", ok: Callable[[float], bool] = lambda x: True) -> float:
    where, v = _one(get, inp)
    if not _is_number(v) or not ok(float(v)):
        raise ValueError(f"{where} ({inp.label}): expected {what}, got {_show(v)}")
    return float(v)


def _whole(get: Getter, inp: L.Input, lo: int, hi: int) -> int:
    x = _number(get, inp, f"a whole number from {lo:,} to {hi:,}", lambda x: is_count(x, lo) and x <= hi)
    return int(x)


def read_network(get: Getter) -> NetworkInputs:
    """w1..w8, b1, b2, each layer's activation (HiddenActivation, OutputActivation) and the
    examples (ExampleSet: the course's i1, i2, t1, t2 on Backprop, a preset, or the Examples
    sheet's own block) from their named cells."""
    hidden, output, chosen = (_choice(get, inp) for inp in L.CHOICE_INPUTS)
    if chosen == examples.DEFAULT:  # the course's example: the Backprop sheet's own cells
        i1, i2, t1, t2 = (_number(get, inp) for inp in _COURSE_INPUTS)
    w = tuple(_number(get, inp) for inp in L.IN_W)
    b = (_number(get, L.IN_B1), _number(get, L.IN_B2))
    if chosen == examples.DEFAULT:
        return NetworkInputs((i1, i2), (t1, t2), w, b, hidden, output, chosen)
    own = _own_examples(get) if chosen == L.OWN_EXAMPLES else {}
    rows = list(own.values()) if own else examples.preset(chosen)
    inputs = tuple((float(r[0]), float(r[1])) for r in rows)
    targets = tuple((float(r[2]), float(r[3])) for r in rows)
    return NetworkInputs(inputs, targets, w, b, hidden, output, chosen, tuple(own))


_COURSE_INPUTS = (L.IN_I1, L.IN_I2, L.IN_T1, L.IN_T2)


def _choice(get: Getter, inp: L.Input) -> str:
    """A choice cell's text, one of ``layout.CHOICES[inp.name]``; its default in a book made
    before the choices (without the defined name), which trains the course's network."""
    try:
        where, v = _one(get, inp)
    except MissingName:
        return str(inp.default)
    listed = L.CHOICES[inp.name]
    if not isinstance(v, str) or v not in listed:
        raise ValueError(f"{where} ({inp.label}): expected one of {', '.join(listed)}, got {_show(v)[:60]}")
    return v


def _own_examples(get: Getter) -> dict[int, list[float]]:
    """The Examples sheet's own block: its rows of four numbers, top-down (empty rows skipped), by
    their row (1-based); a row with a text, or with some but not all four numbers, is named by
    its first bad cell."""
    where, rows = get(L.OWN_EXAMPLES_BLOCK.name)
    area = parse_ref(where)
    if area.shape[1] != len(examples.COLUMNS):
        raise ValueError(f"{where} (own examples): expected 4 columns (i1, i2, t1, t2), got {area.shape[1]}")
    out = {}
    for i, row in enumerate(rows):
        if all(v is None for v in row):
            continue
        for j, v in enumerate(row):
            if not _is_number(v):
                cell = ref(area.sheet, area.row1 + i, area.col1 + j, absolute=False)
                raise ValueError(
                    f"{cell} (own example {i + 1}, {examples.COLUMNS[j]}): expected a number, got {_show(v)[:60]}"
                )
        out[i + 1] = [float(v) for v in row]
    if not out:
        raise ValueError(
            f"{where} (own examples): expected at least one row of 4 numbers (i1, i2, t1, t2), found only empty cells"
        )
    return out


def read_train(get: Getter) -> TrainInputs:
    """The network, the learning-rate list, the iteration count and the loss threshold."""
    net = read_network(get)
    iterations = _whole(get, L.IN_ITERATIONS, 1, L.MACRO_MAX_ITERATIONS)
    threshold = _number(get, L.IN_THRESHOLD, "a positive number", is_threshold)
    where, rows = get(L.IN_LRS.name)
    area = parse_ref(where)
    lrs = []
    blank = None  # the first empty slot; the list is filled from the left, as the live formulas read it
    for i, row in enumerate(rows):
        for j, v in enumerate(row):
            cell = ref(area.sheet, area.row1 + i, area.col1 + j, absolute=False)
            if v is None:
                blank = blank or cell
                continue
            if not is_learning_rate(v):
                raise ValueError(
                    f"{cell} ({L.IN_LRS.label}): expected a positive number or an empty cell, got {_show(v)}"
                )
            if blank:
                raise ValueError(
                    f"{blank} ({L.IN_LRS.label}): expected a learning rate before the one in "
                    f"{cell.split('!')[-1]} (fill the list from the left), got an empty cell"
                )
            lrs.append(float(v))
    slots = L.MACRO_LOSS.area.shape[1] - 1
    if not lrs:
        raise ValueError(f"{where} ({L.IN_LRS.label}): expected at least one learning rate, found only empty cells")
    if len(lrs) > slots:
        raise ValueError(
            f"{where} ({L.IN_LRS.label}): expected at most {slots} learning rates "
            f"(the columns reserved for the loss table), got {len(lrs)}"
        )
    return TrainInputs(net, tuple(lrs), iterations, threshold)


class MapInputs(NamedTuple):
    """What "Map learning rates" needs: the network, each layer's rates and the steps."""

    net: NetworkInputs
    lr_hidden: np.ndarray
    lr_output: np.ndarray
    steps: int


def map_cap() -> int:
    """Most network steps (pairs x steps) one "Map learning rates" may run: LR_MAP's bound, the
    smaller one where the loop is not compiled (xlwings Lite)."""
    from .kernel import COMPILED

    return UDF_MAX_MAP_STEPS if COMPILED else UDF_MAX_MAP_STEPS_UNCOMPILED


def _map_rates(get: Getter, start: L.Input, stop: L.Input, count: L.Input, cap: int) -> np.ndarray:
    a = _number(get, start, "a positive number", is_learning_rate)
    b = _number(get, stop, "a positive number", is_learning_rate)
    n = _whole(get, count, 1, cap)
    if n > 1 and not a < b:
        where, _ = _one(get, stop)
        raise ValueError(f"{where} ({stop.label}): expected a number greater than {start.label} ({a:g}), got {b:g}")
    from .lrmap import rates

    return rates(a, b, n)


def read_map(get: Getter) -> MapInputs:
    """The network, the map's rates per layer (from, to, count: log-spaced) and its steps, each
    checked, and the work (pairs x steps, x examples where there are several) within ``map_cap``."""
    net = read_network(get)
    cap = map_cap()
    lr_h = _map_rates(get, L.IN_MAP_H_FROM, L.IN_MAP_H_TO, L.IN_MAP_H_COUNT, cap)
    lr_o = _map_rates(get, L.IN_MAP_O_FROM, L.IN_MAP_O_TO, L.IN_MAP_O_COUNT, cap)
    steps = _whole(get, L.IN_MAP_STEPS, 1, cap)
    n = len(net.examples)  # each step runs the network on every example
    work = lr_h.size * lr_o.size * steps * n
    if work > cap:
        where, _ = _one(get, L.IN_MAP_STEPS)
        per, times = (" x examples", f" x {n:,}") if n > 1 else ("", "")
        raise ValueError(
            f"{where} ({L.IN_MAP_STEPS.label}): expected at most {cap:,} network steps "
            f"(lr_hidden count x lr_output count x steps{per}), got {lr_h.size:,} x {lr_o.size:,} x {steps:,}"
            f"{times} = {work:,}; {MAP_MORE}"
        )
    return MapInputs(net, lr_h, lr_o, steps)


def _area_of(get: Getter, name: str) -> Area | None:
    """The cells of the defined name ``name``, None where the book has no such name."""
    try:
        where, _ = get(name)
    except MissingName:
        return None
    return parse_ref(where)


def _draw_step(get: Getter, step: int | None, walk: Area | None) -> int:
    """The step to draw: the caller's, else the book's WalkStep, else its "show step"."""
    if step is None:
        return _whole(get, WALK_STEP if walk else L.IN_SHOW_STEP, 0, MAX_SHOW_STEP)
    if not 0 <= step <= MAX_SHOW_STEP:
        raise InputError(
            "step to draw",
            f"expected a whole number from 0 to {MAX_SHOW_STEP:,} (the Backprop table's steps), got {step}",
        )
    return step


def _draw_phase(get: Getter, phase: int | None, walk: Area | None) -> int | None:
    """The phase to draw: the caller's, else the book's WalkPhase, else None (the whole step)."""
    n = len(PHASES)
    what = f"a whole number from 1 to {n} ({PHASE_LIST})"
    if phase is None:
        return int(_number(get, WALK_PHASE, what, lambda x: is_count(x, 1) and x <= n)) if walk else None
    if not 1 <= phase <= n:
        raise InputError("phase to draw", f"expected {what}, got {phase}")
    return phase


def read_draw(get: Getter, step: int | None = None, phase: int | None = None) -> DrawInputs:
    """The network, its learning rate, the step and the phase to draw (``step`` and ``phase``
    override the book's: its WalkStep or else "show step", its WalkPhase or else none)."""
    net = read_network(get)
    lr = _number(get, L.IN_LR, "a positive number", is_learning_rate)
    walk_step, walk_phase = _area_of(get, WALK_STEP.name), _area_of(get, WALK_PHASE.name)
    return DrawInputs(
        net,
        lr,
        _draw_step(get, step, walk_step),
        step is not None,
        _draw_phase(get, phase, walk_phase),
        phase is not None,
        walk_step,
        walk_phase,
        _shown_example(get, net.example_slots),
    )


def _shown_example(get: Getter, slots: tuple[int, ...]) -> int:
    """ExampleShown: the slot (row of the examples, 1-based) whose example the picture shows, one
    of ``slots``, as the Backprop table reads it (1 in a book without it)."""
    n = len(slots)
    what = f"a whole number from 1 to {n:,} (the examples in use)"
    if slots != tuple(range(1, n + 1)):  # own rows with empty rows between them
        what = f"the number of an own row that holds an example ({', '.join(map(str, slots))})"
    try:
        return int(_number(get, L.IN_EXAMPLE_SHOWN, what, lambda x: is_count(x, 1) and x in slots))
    except MissingName:
        return 1


# ----------------------------------------------------------------------------- plans

#: The summary block's words for analysis.SUMMARY_COLUMNS (fitted to its column widths).
SUMMARY_HEADERS = {
    "lr": "learning rate",
    "final_loss": "final E_total",
    "steps_to_threshold": "first step with E_total < {threshold:g}",
    "only_falls": "E_total only falls",
    "first_rise": "first rise of E_total",
}


class _Overflow(ValueError):
    """E_total (or a weight) stopped being a finite number at ``step`` for the ``lr``-th
    learning rate (0-based); ``make_plan`` turns it into a message naming the input cell."""

    def __init__(self, step: int, lr: int):
        super().__init__(f"overflow: E_total is not a finite number at step {step} for learning rate {lr + 1}")
        self.step, self.lr = step, lr


def _check_finite(curves: np.ndarray) -> None:
    at = analysis.first_non_finite(curves)
    if at is not None:
        raise _Overflow(*at)


def _row_styles(block: L.Block, i: int, width: int) -> tuple[str, ...]:
    """The style names (``layout.STYLES``) of row ``i`` of ``block``, column by column, as layout
    declares them: the block's first row is its header."""
    return tuple(block.styles.at(i, j) for j in range(width))


def plan_train_learning_rates(p: TrainInputs) -> Plan:
    """Train every learning rate in one batch; plan the loss matrix, the summary, the chart
    and the picture in the blocks and anchors ``layout`` reserves."""
    n = p.net
    curves = network.train_curves(
        p.lrs, p.iterations, weights=n.weights, inputs=n.inputs, targets=n.targets, biases=n.biases, **n.acts
    )
    _check_finite(curves)
    summary = analysis.lr_summary(p.lrs, curves, p.threshold)
    loss, summ = L.MACRO_LOSS.area, L.MACRO_SUMMARY.area
    K, T = len(p.lrs), p.iterations
    steps = np.arange(T, dtype=float)[:, None]
    header = [["step", *map(lr_label, p.lrs)]]
    summary_header = [SUMMARY_HEADERS[c.field].format(threshold=p.threshold) for c in analysis.SUMMARY_COLUMNS]
    n_summ = len(summary_header)
    chart = ChartSpec(
        L.MACRO_CHART,
        f"Train learning rates: E_total per step for {K} learning rates ({n.describe()})",
        "step",
        "E_total",
        source=Area(loss.sheet, loss.row1, loss.col1 + 1, loss.row1 + T, loss.col1 + K),
        categories=Area(loss.sheet, loss.row1 + 1, loss.col1, loss.row1 + T, loss.col1),
        colors=tuple(lr_color(k) for k in range(K)),
    )
    picture = PictureSpec(
        L.MACRO_PICTURE,
        png_bytes(curves_figure(p.lrs, curves, L.MACRO_PICTURE, n.describe())),
        f"E_total against step and against learning rate x step ({n.describe()})",
    )
    return Plan(
        clear=(loss, summ),
        cells=(
            Cells(loss.sheet, loss.row1, loss.col1, header, _row_styles(L.MACRO_LOSS, 0, 1 + K)),
            Cells(
                loss.sheet, loss.row1 + 1, loss.col1, np.hstack([steps, curves]), _row_styles(L.MACRO_LOSS, 1, 1 + K)
            ),
            Cells(summ.sheet, summ.row1, summ.col1, [summary_header], _row_styles(L.MACRO_SUMMARY, 0, n_summ)),
            Cells(
                summ.sheet,
                summ.row1 + 1,
                summ.col1,
                analysis.summary_rows(summary),
                _row_styles(L.MACRO_SUMMARY, 1, n_summ),
            ),
        ),
        widths=(
            Widths(loss.sheet, loss.col1, L.MACRO_LOSS_WIDTHS),
            Widths(summ.sheet, summ.col1, L.MACRO_SUMMARY_WIDTHS),
        ),
        charts=(chart,),
        pictures=(picture,),
    )


def plan_draw_network(p: DrawInputs) -> Plan:
    """The network after ``p.step`` updates at learning rate ``p.lr``, at phase ``p.phase``, as a
    picture on Backprop (``network_picture``); a step or phase the caller gave (not the book's)
    is written into the book's cells as well: the step into "show step" (and WalkStep), the
    phase into WalkPhase, where the book has them."""
    from .explain import GRADIENT_QUANTITIES, UPDATE_QUANTITIES, step_values

    n = p.net
    net = dict(inputs=n.inputs, targets=n.targets, biases=n.biases, **n.acts)
    result = network.train([p.lr], p.step + 1, weights=n.weights, **net)
    _check_finite(result.loss)
    w = result.weights[0]
    if not np.isfinite(w).all():  # saturated sigmoids can keep E_total finite while a weight is not
        raise _Overflow(p.step, 0)
    X = n.examples
    k = n.example_slots.index(p.example)
    with np.errstate(all="ignore"):
        values = step_values(w, X[k, :2], X[k, 2:], n.biases, p.lr, **n.acts)
        if len(X) > 1:  # the shown example's units; E_total, the gradients and the update over all examples
            values["E_total"] = float(network.loss(w, **net))
            values.update(zip(GRADIENT_QUANTITIES, network.gradients(w, **net).tolist(), strict=True))
            values.update(zip(UPDATE_QUANTITIES, network.step(w, lr=p.lr, **net)[0].tolist(), strict=True))
    if not np.isfinite(list(values.values())).all():  # the update itself overflowed
        raise _Overflow(p.step + 1, 0)
    acts = (n.hidden_activation, n.output_activation)
    png = png_bytes(network_figure(values, p.step, L.NETWORK_PICTURE, p.phase, acts, (len(X), p.example)))
    shown = f"The 2-2-2 network at step {p.step}" + (f", phase {p.phase}" if p.phase else "") + f" ({n.describe()})"
    picture = PictureSpec(L.NETWORK_PICTURE, png, shown)
    cells = _draw_cells(p)
    return Plan(cells=cells, pictures=(picture,), inputs_changed=bool(cells))


def _draw_cells(p: DrawInputs) -> tuple[Cells, ...]:
    """The step and phase the caller gave, into the cells that hold them, so that the sheet shows
    what the picture does."""
    show = L.IN_SHOW_STEP
    cells = [Cells(show.sheet, show.row, show.col, [[p.step]])] if p.step_given else []
    at = (show.sheet, show.row, show.col)
    if p.step_given and p.walk_step is not None and (p.walk_step.sheet, p.walk_step.row1, p.walk_step.col1) != at:
        cells.append(Cells(p.walk_step.sheet, p.walk_step.row1, p.walk_step.col1, [[p.step]]))
    if p.phase_given and p.walk_phase is not None:
        cells.append(Cells(p.walk_phase.sheet, p.walk_phase.row1, p.walk_phase.col1, [[p.phase]]))
    return tuple(cells)


def plan_map_learning_rates(p: MapInputs) -> Plan:
    """One network per pair of layer learning rates (``lrmap.lr_map``), drawn as the map
    (``map_figure``) at the Learning rates sheet's map anchor."""
    from .lrmap import lr_map
    from .map_figure import map_figure

    n = p.net
    m = lr_map(
        p.lr_hidden,
        p.lr_output,
        p.steps,
        weights=n.weights,
        inputs=n.inputs,
        targets=n.targets,
        biases=n.biases,
        **n.acts,
    )
    subtitle = (
        f"lr_hidden {p.lr_hidden[0]:g}..{p.lr_hidden[-1]:g}, lr_output {p.lr_output[0]:g}..{p.lr_output[-1]:g}, "
        f"log-spaced; the Backprop sheet's network ({n.describe()})"
    )
    png = png_bytes(map_figure(m, subtitle))
    description = f"Learning-rate map: {p.lr_hidden.size} x {p.lr_output.size} pairs, {p.steps} steps"
    return Plan(pictures=(PictureSpec(L.MAP_PICTURE, png, description),))


#: The choices "Reset to defaults" puts back (the own examples' block is never written).
RESET_CHOICES = (*L.CHOICE_INPUTS, L.IN_EXAMPLE_SHOWN)


def plan_reset() -> Plan:
    """The course's defaults back in every input cell, the choices too (sigmoid, sigmoid, course,
    example 1); the macros' blocks and pictures gone. The learner's own examples stay theirs."""
    cells = [Cells(i.sheet, i.row, i.col, [[i.default]]) for i in (*L.SCALAR_INPUTS, *RESET_CHOICES)]
    slots = L.IN_LRS.area
    lrs = list(L.IN_LRS.default) + [None] * (slots.shape[1] - len(L.IN_LRS.default))
    cells.append(Cells(slots.sheet, slots.row1, slots.col1, [lrs]))
    return Plan(
        clear=tuple(b.area for b in L.BLOCKS),
        remove=(L.MACRO_CHART, L.MACRO_PICTURE, L.NETWORK_PICTURE, L.MAP_PICTURE),
        cells=tuple(cells),
        inputs_changed=True,
    )


def make_plan(action: str, get: Getter, *, iteration: int | None = None, phase: int | None = None) -> Plan:
    """Read what ``action`` needs through ``get`` (raising ValueError on bad input) and plan it.
    A result that overflows is blamed on the input cell that caused it."""
    try:
        if action == "train-lrs":
            return plan_train_learning_rates(read_train(get))
        if action == "draw-network":
            return plan_draw_network(read_draw(get, iteration, phase))
        if action == "map-lrs":
            return plan_map_learning_rates(read_map(get))
    except _Overflow as e:
        raise ValueError(_overflow_message(get, e.step, e.lr, action)) from None
    if action == "reset":
        return plan_reset()
    raise InputError("action", f"expected one of {', '.join(ACTIONS)}, got {action!r}")


def _overflow_message(get: Getter, step: int, lr: int, action: str) -> str:
    """Name the input to blame for an overflow: the learning rate's cell if training made the
    numbers overflow; else (E_total overflowed before any update) the largest input of the
    first quantity of the forward pass that overflowed."""
    if step > 0:
        if action == "train-lrs":
            where, rows = get(L.IN_LRS.name)
            area = parse_ref(where)
            cells = [
                ref(area.sheet, area.row1 + i, area.col1 + j, absolute=False)
                for i, row in enumerate(rows)
                for j, v in enumerate(row)
                if v is not None
            ]
            where, label, value = cells[lr], L.IN_LRS.label, [v for row in rows for v in row if v is not None][lr]
        else:
            where, value = _one(get, L.IN_LR)
            label = L.IN_LR.label
        return (
            f"{where} ({label}): training with {value:.6g} makes E_total overflow at step {step:,}; "
            "expected a smaller learning rate"
        )
    return _overflow_before_training(get)


def _overflow_before_training(get: Getter) -> str:
    """E_total overflowed before any update: name the largest input of the first quantity of the
    forward pass that overflowed (for some example)."""
    net = read_network(get)
    sources = _overflow_sources(get, net)
    with np.errstate(all="ignore"):
        fs = [
            network.forward(net.weights, inputs=x[:2], targets=x[2:], biases=net.biases, **net.acts)
            for x in net.examples
        ]
    # follow the forward pass: the first quantity that overflowed (for some example), and what it is made of
    overflowed = (k for names, k in _made_of(net) if not all(np.isfinite(getattr(f, n)) for f in fs for n in names))
    kinds = next(overflowed, {kind for *_, kind in sources})
    where, label, value, _ = max((s for s in sources if s[3] in kinds), key=lambda s: abs(s[2]))
    return f"{where} ({label}): with {value:.6g} E_total overflows before training; expected a smaller number"


#: Activations whose output stays within -1..1: past one of them an overflow is the next layer's.
_BOUNDED = ("sigmoid", "tanh")


def _overflow_sources(get: Getter, net: NetworkInputs) -> list[tuple[str, str, float, str]]:
    """The cells the forward pass is made of: (where, label, value, kind); kind "i", "t1", "t2"
    for the examples' cells (the course's on Backprop, or the own block; a preset's are small),
    "h" for w1..w4 and b1, "o" for w5..w8 and b2."""
    out = []
    course = net.example_set == examples.DEFAULT
    layers = {L.IN_I1: "i", L.IN_I2: "i", L.IN_T1: "t1", L.IN_T2: "t2"} if course else {}
    layers.update({inp: "h" for inp in (*L.IN_W[:4], L.IN_B1)})  # among equals, the first named
    layers.update({inp: "o" for inp in (*L.IN_W[4:], L.IN_B2)})
    for inp, kind in layers.items():
        where, v = _one(get, inp)
        out.append((where, inp.label, float(v), kind))
    if net.example_set == L.OWN_EXAMPLES:
        where, rows = get(L.OWN_EXAMPLES_BLOCK.name)
        area = parse_ref(where)
        for i, row in enumerate(rows):
            for j, v in enumerate(row):
                if _is_number(v):
                    cell = ref(area.sheet, area.row1 + i, area.col1 + j, absolute=False)
                    column = examples.COLUMNS[j]
                    out.append((cell, f"own example {i + 1}, {column}", float(v), "i" if j < 2 else column))
    return out


def _made_of(net: NetworkInputs) -> list[tuple[tuple[str, ...], set[str]]]:
    """Each step of the forward pass and the kinds of cells (``_overflow_sources``) it is made
    of: h = w*i (+ b1); o = w*a_h (+ b2); E1 = (t1 - a_o1)^2 / 2; past a bounded activation
    (sigmoid, tanh) only the layer's own cells, past another everything before it too."""
    h = {"i", "h"}
    o = {"o"} | (set() if net.hidden_activation in _BOUNDED else h)
    e = set() if net.output_activation in _BOUNDED else o
    return [(("h1", "h2"), h), (("o1", "o2"), o), (("E1",), {"t1"} | e), (("E2",), {"t2"} | e)]


# ----------------------------------------------------------------------------- Excel (xlwings)


def xlwings_getter(book) -> Getter:
    """Read defined names from a live xlwings Book."""

    def get(name: str) -> tuple[str, list[list[Value]]]:
        if name not in book.names:
            raise MissingName(f"defined name {name}: not in this workbook; expected the xl-backprop template")
        rng = book.names[name].refers_to_range
        where = ref(
            rng.sheet.name,
            rng.row - 1,
            rng.column - 1,
            rng.row + rng.shape[0] - 2,
            rng.column + rng.shape[1] - 2,
            absolute=False,
        )
        _check_size(name, where, rng.shape)
        # without err_to_str xlwings reads an error (#DIV/0!) as None, and the message would say "empty"
        return where, [[_from_excel(v) for v in row] for row in rng.options(ndim=2, err_to_str=True).value]

    return get


def _from_excel(v: Any) -> Value:
    """A value as xlwings reads it, with Excel's error values as CellError."""
    error = excel_error(v)
    return v if error is None else CellError(error)


def _xw_range(sheet, area: Area):
    return sheet.range((area.row1 + 1, area.col1 + 1), (area.row2 + 1, area.col2 + 1))


def _runs(items: Sequence) -> list[tuple[int, int, Any]]:
    """(first, last, item) of each run of equal neighbours in ``items``."""
    out, k = [], 0
    for item, group in itertools.groupby(items):
        n = len(list(group))
        out.append((k, k + n - 1, item))
        k += n
    return out


def _styled_runs(c: Cells) -> list[tuple[Area, dict]]:
    """The areas of ``c`` that take one style each (runs of neighbouring columns alike), with the
    style's XlsxWriter properties from ``layout.STYLES``."""
    height, width = c.shape
    return [
        (Area(c.sheet, c.row, c.col + j, c.row + height - 1, c.col + k), L.STYLES[name])
        for j, k, name in _runs(c.styles[:width])
        if name is not None and height
    ]


def _xw_style(rng, props: dict) -> None:
    """Give an xlwings range the look of a ``layout.STYLES`` entry (XlsxWriter format properties):
    what XlsxWriter writes for it in the template, and the file back-end in a written book
    (``border: 1`` is a thin line in Excel's automatic colour)."""
    cellstyle.check(props, "the xlwings back-end")  # the properties the macros write: one rule
    if props.get("num_format", "General") != "General":
        rng.number_format = props["num_format"]
    if props.get("bold"):
        rng.font.bold = True
    if props.get("font_color"):
        rng.font.color = props["font_color"]
    if props.get("bg_color"):
        rng.color = props["bg_color"]
    if props.get("border"):
        rng.borders.set("all", line_style="continuous", weight="thin")
    if props.get("align"):
        rng.horizontal_alignment = props["align"]


def _xw_widths(book, w: Widths) -> None:
    """Column widths: in characters in Excel (classic xlwings); in points on the remote engine
    (xlwings Lite and Server, Office.js), the pixels Excel gives that many characters."""
    sheet = book.sheets[w.sheet]
    points = book.app.engine.type == "remote"
    for k, end, chars in _runs(w.widths):  # neighbouring columns alike in one call
        width = L.column_pixels(chars) * PT_PER_PX if points else chars
        sheet.range((1, w.col + k + 1), (1, w.col + end + 1)).column_width = width


def _xw_series_colors(book, chart, colors: Sequence[str]) -> None:
    """Line ``k`` of a chart just added from ``colors``' columns takes ``colors[k]`` (``palette``),
    through xlwings' own series API (0.37.5 on): on Windows it sets
    ``SeriesCollection(k).Format.Line.ForeColor.RGB`` (R + G·256 + B·65536), on macOS appscript's
    ``line_format.fore_color``, on the remote engine (xlwings Lite and Server) it queues a
    ``setChartSeries`` action whose ``#RRGGBB`` Office.js applies. The chart has no markers, so
    only the line is coloured. The series' names are Excel's own: the source's header row."""
    if not colors:
        return
    series = chart.series
    if book.app.engine.type == "remote":
        # The remote chart.series counts its series only through ``await chart.get_series()``,
        # which a synchronous script cannot call; the count is known (one series per colour).
        series = type(series)(impl=type(series.impl)(chart.impl, count=len(colors)))
    for s, color in zip(series, colors, strict=False):
        s.line_color = color


def apply_to_xlwings(book, plan: Plan) -> None:
    """Write ``plan`` into a live Excel book through xlwings."""
    for area in plan.clear:
        _xw_range(book.sheets[area.sheet], area).clear()
    for sheet_name, names in plan.removed().items():
        sheet = book.sheets[sheet_name]
        for name in names:
            for shapes in (sheet.charts, sheet.pictures):
                if name in shapes:
                    shapes[name].delete()
    for c in plan.cells:
        book.sheets[c.sheet].range((c.row + 1, c.col + 1)).value = (
            c.values.tolist() if isinstance(c.values, np.ndarray) else c.values
        )
        for area, style in _styled_runs(c):
            _xw_style(_xw_range(book.sheets[c.sheet], area), style)
    for w in plan.widths:
        _xw_widths(book, w)
    for ch in plan.charts:
        sheet = book.sheets[ch.anchor.sheet]
        data = book.sheets[ch.source.sheet]
        chart = sheet.charts.add(
            source=_xw_range(data, ch.source),
            chart_type="line",
            plot_by="columns",
            name=ch.anchor.name,
            anchor=sheet.range(ch.anchor.cell),
            width=ch.anchor.width * PT_PER_PX,
            height=ch.anchor.height * PT_PER_PX,
        )
        chart.set_x_axis_values(_xw_range(data, ch.categories))
        chart.title = ch.title
        chart.category_axis.title = ch.x_title
        chart.value_axis.title = ch.y_title
        _xw_series_colors(book, chart, ch.colors)
    for pic in plan.pictures:
        sheet = book.sheets[pic.anchor.sheet]
        fd, path = tempfile.mkstemp(suffix=".png")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(pic.png)
            sheet.pictures.add(
                path,
                name=pic.anchor.name,
                anchor=sheet.range(pic.anchor.cell),
                width=pic.anchor.width * PT_PER_PX,
                height=pic.anchor.height * PT_PER_PX,
            )
        finally:
            os.unlink(path)


def run_in_book(action: str, book, tell: Callable[[str], None]) -> bool:
    """Run ``action`` on a live xlwings book (Excel, or xlwings Lite's): read, plan, write.
    Bad input goes to ``tell`` as one line, before anything is written; False then."""
    try:
        plan = make_plan(action, xlwings_getter(book))
        check_sheets(plan, [sheet.name for sheet in book.sheets])
    except ValueError as exc:
        tell(str(exc))
        return False
    apply_to_xlwings(book, plan)
    return True


def _run_in_excel(action: str, book) -> None:
    if book is None:
        import xlwings as xw

        book = xw.Book.caller()
    run_in_book(action, book, lambda message: book.app.alert(message, title=ALERT_TITLE, mode="critical"))


def train_learning_rates(book=None) -> None:
    """Ribbon "Train learning rates": loss table, summary, chart and picture on Learning rates."""
    _run_in_excel("train-lrs", book)


def draw_network(book=None) -> None:
    """Ribbon "Draw network": the network at the book's step (WalkStep, else "show step") and
    phase (WalkPhase, where the book has one), as a picture on Backprop."""
    _run_in_excel("draw-network", book)


def map_learning_rates(book=None) -> None:
    """Ribbon "Map learning rates": the learning-rate map, as a picture on Learning rates."""
    _run_in_excel("map-lrs", book)


def reset(book=None) -> None:
    """Ribbon "Reset to defaults": the course's inputs back, the macros' output cleared."""
    _run_in_excel("reset", book)


# ----------------------------------------------------------------------------- files


def file_getter(pkg: Workbook) -> Getter:
    """Read defined names from a workbook file (cached values of formulas)."""
    names = pkg.defined_names()

    def get(name: str) -> tuple[str, list[list[Value]]]:
        if name not in names:
            raise MissingName(f"defined name {name}: not in this workbook; expected the xl-backprop template")
        try:
            area = parse_ref(names[name])
        except ValueError:
            raise ValueError(f"defined name {name}: expected a reference to cells, got {names[name]!r}") from None
        where = ref(area.sheet, area.row1, area.col1, area.row2, area.col2, absolute=False)
        if area.sheet not in pkg.sheets():
            raise ValueError(f"defined name {name}: refers to a sheet {area.sheet!r} this workbook lacks")
        _check_size(name, where, area.shape)
        return where, pkg.read_cells(area)

    return get


def _check_size(name: str, where: str, shape: tuple[int, int]) -> None:
    if shape[0] * shape[1] > MAX_INPUT_CELLS:
        raise ValueError(
            f"defined name {name}: refers to {where}, {shape[0]:,} x {shape[1]:,} cells; "
            f"expected an input of at most {MAX_INPUT_CELLS:,} cells"
        )


def apply_to_package(pkg: Workbook, plan: Plan) -> None:
    """Write ``plan`` into a workbook file being edited (``ooxml.Workbook``)."""
    for area in plan.clear:
        pkg.clear_cells(area, formats=True)
    anchors = (*plan.remove, *(c.anchor for c in plan.charts), *(p.anchor for p in plan.pictures))
    for sheet, names in plan.removed().items():
        # by name, and by top-left cell: a re-save (openpyxl) renames charts and pictures
        pkg.remove_objects(sheet, names, at={L.rowcol(a.cell) for a in anchors if a.sheet == sheet})
    _write_package_cells(pkg, plan)
    for w in plan.widths:
        pkg.set_column_widths(w.sheet, {w.col + k: width for k, width in enumerate(w.widths)})
    _add_package_objects(pkg, plan)
    if plan.inputs_changed:
        pkg.set_full_calc_on_load()


def _write_package_cells(pkg: Workbook, plan: Plan) -> None:
    """``apply_to_package``'s cells, each style added to the book once."""
    xf: dict[str, int] = {}  # style name -> the book's cell format
    for c in plan.cells:
        for name in c.styles:
            if name is not None and name not in xf:
                xf[name] = pkg.style_index(L.STYLES[name])
        pkg.write_cells(c.sheet, c.row, c.col, c.values, [xf.get(n) for n in c.styles] if c.styles else None)


def _add_package_objects(pkg: Workbook, plan: Plan) -> None:
    """``apply_to_package``'s charts (drawn from the cells just written) and pictures."""
    from .ooxml.chart import line_chart

    for ch in plan.charts:
        a = ch.anchor
        xml = line_chart(ch.title, ch.x_title, ch.y_title, ch.source, ch.categories, pkg.read_cells, ch.colors)
        pkg.add_chart(a.sheet, a.row, a.col, a.width * PT_PER_PX, a.height * PT_PER_PX, a.name, xml)
    for p in plan.pictures:
        a = p.anchor
        pkg.add_picture(a.sheet, a.row, a.col, a.width * PT_PER_PX, a.height * PT_PER_PX, a.name, p.png, p.description)


def check_writable(out: Path) -> None:
    """Fail before the work rather than after it when ``out`` cannot be written: its folder must
    exist and take a new file, and a read-only ``out`` is not replaced (a rename would)."""
    out = Path(os.path.realpath(out)) if Path(out).is_symlink() else Path(out)  # what atomic_write replaces
    if not out.parent.is_dir():
        raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), str(out))
    if not os.access(out.parent, os.W_OK | os.X_OK) or (out.exists() and not os.access(out, os.W_OK)):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(out))


def run_on_file(
    action: str,
    book: Path,
    out: Path,
    *,
    iteration: int | None = None,
    phase: int | None = None,
    overwrite: bool = True,
    expect: Held | None = None,
) -> Path:
    """Apply a ribbon action to the workbook file ``book``, writing the result to ``out``
    (which may be ``book`` itself; the caller decides whether that is allowed). Inputs are
    read and checked before anything is written: bad input raises ValueError, naming the
    cell and what was expected, and leaves every file as it was. ``overwrite=False``: a file
    at ``out`` is never replaced (FileExistsError). ``expect``: ``book`` held with
    ``fileio.locked`` before this call; nothing is written if it changed meanwhile
    (``fileio.ChangedError``). Returns ``out``."""
    book, out = Path(book), Path(out)
    if action not in ACTIONS:
        raise InputError("action", f"expected one of {', '.join(ACTIONS)}, got {action!r}")
    check_writable(out)
    from .ooxml import Workbook

    pkg = Workbook.read(book)
    ext = EXTENSIONS.get(pkg.content_type(pkg.workbook_part) or "")
    if ext and out.suffix.lower() != ext:
        raise InputError(
            "output file",
            f"expected a name ending in {ext} like the book's, got {out.name} "
            f"(Excel refuses to open a {ext} workbook under another extension)",
        )
    plan = make_plan(action, file_getter(pkg), iteration=iteration, phase=phase)
    check_sheets(plan, list(pkg.sheets()))
    apply_to_package(pkg, plan)
    # through a link to the real file; a hard link is detached
    atomic_write(out, pkg.save, mode_from=book, overwrite=overwrite, expect=expect)
    return out


__all__ = [
    "ACTIONS",
    "Cells",
    "Widths",
    "ChartSpec",
    "Plan",
    "PictureSpec",
    "apply_to_package",
    "apply_to_xlwings",
    "draw_network",
    "file_getter",
    "MissingName",
    "make_plan",
    "map_learning_rates",
    "plan_map_learning_rates",
    "read_map",
    "plan_draw_network",
    "plan_reset",
    "plan_train_learning_rates",
    "read_draw",
    "read_network",
    "read_train",
    "reset",
    "run_in_book",
    "run_on_file",
    "train_learning_rates",
    "xlwings_getter",
]
