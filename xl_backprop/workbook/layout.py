"""Where everything lives in ``workbook_template.xlsm``: the one description of the layout.

The template builder writes these places; the macros read their inputs from the named input
cells and write their results only into the reserved blocks and anchors below. Places are
declared as A1 strings without ``$`` (``"B4"``), as a reader of the sheet names them; each
place's ``area`` is the ``cellref.Area`` (zero-based rows and columns) that the macros, the
OOXML editor and the tests use. :func:`rowcol`, :func:`a1` and :func:`ref` are cellref's
conversions under the names the sheet builder uses.

Names of input cells start with ``in_`` because ``W1``, ``I1`` and ``T1`` are cell references
in Excel, not names.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..analysis import DEFAULT_THRESHOLD
from ..cellref import Area, a1, parse_cell
from ..limits import MACRO_MAX_ITERATIONS, SHEET_COLUMNS, SHEET_ROWS
from ..network import (
    DEFAULT_BIASES,
    DEFAULT_INPUTS,
    DEFAULT_ITERATIONS,
    DEFAULT_LRS,
    DEFAULT_TARGETS,
    DEFAULT_WEIGHTS,
)

# --- sheets, in workbook order -------------------------------------------------------------
SHEET_BACKPROP = "Backprop"
SHEET_UDFS = "UDFs"
SHEET_LRS = "Learning rates"
SHEET_ABOUT = "About"
SHEET_CONF = "xlwings.conf"  # xlwings looks for exactly this name
SHEETS = (SHEET_BACKPROP, SHEET_UDFS, SHEET_LRS, SHEET_ABOUT, SHEET_CONF)

#: Excel's sheet limits (rows, columns).
MAX_ROWS = SHEET_ROWS
MAX_COLS = SHEET_COLUMNS


# --- helpers -------------------------------------------------------------------------------
def rowcol(cell: str) -> tuple[int, int]:
    """``"B4"`` (or ``"$B$4"``) -> zero-based (row, col) = (3, 1): ``cellref.parse_cell``."""
    return parse_cell(cell)


def ref(sheet: str, first: str, last: str | None = None) -> str:
    """Absolute sheet-qualified reference: ``ref("Learning rates", "B5", "K5")`` ->
    ``"'Learning rates'!$B$5:$K$5"``."""
    return Area.of(sheet, first, last).ref()


@dataclass(frozen=True)
class Input:
    """One labelled input cell, or a row of cells (``last``), with an Excel defined name."""

    name: str  # the defined name, e.g. "in_w1"
    sheet: str
    cell: str  # first (or only) cell, A1
    default: float | tuple[float, ...]
    label: str  # what the label cell beside it says
    last: str | None = None  # last cell of a multi-cell input

    @property
    def area(self) -> Area:
        return Area.of(self.sheet, self.cell, self.last)

    @property
    def ref(self) -> str:
        """The defined name's target, e.g. ``"Backprop!$B$8"``."""
        return self.area.ref()

    @property
    def row(self) -> int:
        return self.area.row1

    @property
    def col(self) -> int:
        return self.area.col1


@dataclass(frozen=True)
class Block:
    """A rectangle reserved for output: top-left cell and the largest extent it may take."""

    sheet: str
    top_left: str
    max_rows: int
    max_cols: int

    @property
    def area(self) -> Area:
        r, c = parse_cell(self.top_left)
        return Area(self.sheet, r, c, r + self.max_rows - 1, c + self.max_cols - 1)

    @property
    def bottom_right(self) -> str:
        return a1(self.area.row2, self.area.col2)

    @property
    def ref(self) -> str:
        return self.area.ref()

    def contains(self, cell: str) -> bool:
        return self.area.contains(*parse_cell(cell))


@dataclass(frozen=True)
class Anchor:
    """Where a chart or picture goes: its top-left cell and its size in pixels."""

    sheet: str
    cell: str
    width: int
    height: int
    name: str  # the shape/picture name, so a second run can find and replace it

    @property
    def area(self) -> Area:
        """The top-left cell."""
        return Area.of(self.sheet, self.cell)

    @property
    def row(self) -> int:
        return self.area.row1

    @property
    def col(self) -> int:
        return self.area.col1


# --- Backprop: inputs ----------------------------------------------------------------------
# Column A holds the label, column B the value, column C a short note.
_B = SHEET_BACKPROP
IN_I1 = Input("in_i1", _B, "B4", DEFAULT_INPUTS[0], "i1")
IN_I2 = Input("in_i2", _B, "B5", DEFAULT_INPUTS[1], "i2")
IN_T1 = Input("in_t1", _B, "B6", DEFAULT_TARGETS[0], "t1")
IN_T2 = Input("in_t2", _B, "B7", DEFAULT_TARGETS[1], "t2")
IN_W = tuple(Input(f"in_w{k}", _B, f"B{7 + k}", DEFAULT_WEIGHTS[k - 1], f"w{k}") for k in range(1, 9))
IN_W1, IN_W2, IN_W3, IN_W4, IN_W5, IN_W6, IN_W7, IN_W8 = IN_W
IN_B1 = Input("in_b1", _B, "B16", DEFAULT_BIASES[0], "b1")
IN_B2 = Input("in_b2", _B, "B17", DEFAULT_BIASES[1], "b2")
IN_LR = Input("in_lr", _B, "B18", 0.5, "learning rate")
#: Which step (0 = before any update) the network diagram and the "Draw network" picture show.
IN_SHOW_STEP = Input("in_show_step", _B, "B19", 0, "show step")

# The same cells as blocks, for UDF arguments (a column of 2 or 8 cells).
IN_INPUTS = Input("in_inputs", _B, "B4", DEFAULT_INPUTS, "inputs", last="B5")
IN_TARGETS = Input("in_targets", _B, "B6", DEFAULT_TARGETS, "targets", last="B7")
IN_WEIGHTS = Input("in_weights", _B, "B8", DEFAULT_WEIGHTS, "weights", last="B15")
IN_BIASES = Input("in_biases", _B, "B16", DEFAULT_BIASES, "biases", last="B17")

# --- Learning rates: inputs ----------------------------------------------------------------
_L = SHEET_LRS
LR_SLOTS = 10  #: cells in the learning-rate list; blank cells are not learning rates
IN_ITERATIONS = Input("in_iterations", _L, "B4", DEFAULT_ITERATIONS, "iterations")
IN_LRS = Input("in_lrs", _L, "B5", DEFAULT_LRS, "learning rates", last=a1(4, 1 + LR_SLOTS - 1))
IN_THRESHOLD = Input("in_threshold", _L, "B6", DEFAULT_THRESHOLD, "loss threshold")

#: Every single-cell input the "Reset to defaults" action restores, in sheet order.
SCALAR_INPUTS = (IN_I1, IN_I2, IN_T1, IN_T2, *IN_W, IN_B1, IN_B2, IN_LR, IN_SHOW_STEP,
                 IN_ITERATIONS, IN_THRESHOLD)
#: All defined names of inputs (scalar and block); IN_LRS is the list row.
INPUTS = (*SCALAR_INPUTS, IN_LRS, IN_INPUTS, IN_TARGETS, IN_WEIGHTS, IN_BIASES)

# --- Backprop: the native-formula table -----------------------------------------------------
#: Columns of the iteration table, left to right, starting in column A.
BACKPROP_COLUMNS = (
    "step", "t1", "t2", "i1", "i2", "b1", "b2", "lr",
    "w1", "w2", "w3", "w4", "h1", "a_h1", "h2", "a_h2",
    "w5", "w6", "w7", "w8", "o1", "a_o1", "o2", "a_o2", "E1", "E2", "E_total",
    "dE/dw1", "dE/dw2", "dE/dw3", "dE/dw4", "dE/dw5", "dE/dw6", "dE/dw7", "dE/dw8",
)
BACKPROP_HEADER_ROW = 23  #: zero-based row of the column headers (sheet row 24)
BACKPROP_FIRST_ROW = 24  #: zero-based row of step 0 (sheet row 25)
BACKPROP_STEPS = 100  #: rows in the table: steps 0..99


def backprop_cell(column: str, step: int) -> str:
    """A1 address of ``column`` (a name from BACKPROP_COLUMNS) at ``step`` on Backprop."""
    if not 0 <= step < BACKPROP_STEPS:
        raise ValueError(f"step: expected 0..{BACKPROP_STEPS - 1}, got {step!r}")
    return a1(BACKPROP_FIRST_ROW + step, BACKPROP_COLUMNS.index(column))


# --- Backprop: things drawn above the table -------------------------------------------------
DIAGRAM_TOP_LEFT = "E3"  #: cell-drawn network diagram, E3:N12 (labels are formulas)
DERIVATION_TOP_LEFT = "E14"  #: chain-rule text, E14:N22
BACKPROP_CHART = Anchor(_B, "P3", 560, 400, "E_total chart")
#: Reserved for the "Draw network" picture (macros); the template leaves it empty.
NETWORK_PICTURE = Anchor(_B, "Z3", 640, 400, "xl_backprop network")

# --- Learning rates: live UDF part (columns A..L) --------------------------------------------
LIVE_SUMMARY_TOP_LEFT = "A9"  #: LR_SUMMARY spills from here
LIVE_CURVE_HEADER_ROW = 21  #: zero-based; the lr header above the TRAIN_CURVE spill
LIVE_CURVE_TOP_LEFT = "B23"  #: TRAIN_CURVE spills from here; column A numbers the steps
LIVE_CHART = Anchor(_L, "M8", 560, 400, "live curves chart")
#: The live chart's legend, in cells under the chart (two rows of LR_SLOTS / 2 entries).
LIVE_LEGEND_TOP_LEFT = "M29"

# --- Learning rates: reserved for the "Train learning rates" macro (column V onwards) -------
#: Largest iteration count the macro writes (rows below the header): limits.MACRO_MAX_ITERATIONS.
#: The loss matrix: header row (corner label, then one lr per column), then one row per
#: step with the step number in the first column.
MACRO_LOSS = Block(_L, "V8", 1 + MACRO_MAX_ITERATIONS, 1 + LR_SLOTS)
#: The summary: a header row, then one row per learning rate (lr, final loss, steps to
#: threshold, only falls, first rise, and one spare column).
MACRO_SUMMARY = Block(_L, "AH8", 1 + LR_SLOTS, 6)
MACRO_CHART = Anchor(_L, "AO8", 640, 400, "xl_backprop curves")
MACRO_PICTURE = Anchor(_L, "AO30", 900, 420, "xl_backprop curves picture")
#: The label the template writes above the macro area (outside every block).
MACRO_TITLE_CELL = "V6"

BLOCKS = (MACRO_LOSS, MACRO_SUMMARY)
ANCHORS = (BACKPROP_CHART, NETWORK_PICTURE, LIVE_CHART, MACRO_CHART, MACRO_PICTURE)
