"""Where everything lives in ``workbook_template.xlsm``: the one description of the layout.

The template builder writes these places; the macros read their inputs from the named input
cells and write their results only into the reserved blocks and anchors below. Cell
addresses are A1 strings without ``$`` (``"B4"``); :func:`rowcol` / :func:`a1` convert to and
from zero-based (row, col) as XlsxWriter counts, :func:`ref` gives a sheet-qualified
absolute reference as a defined name or a formula wants it.

Names of input cells start with ``in_`` because ``W1``, ``I1`` and ``T1`` are cell references
in Excel, not names.
"""

from __future__ import annotations

from dataclasses import dataclass

from xlsxwriter.utility import quote_sheetname, xl_cell_to_rowcol, xl_rowcol_to_cell

from ..analysis import DEFAULT_THRESHOLD
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
    """``"B4"`` (or ``"$B$4"``) -> zero-based (row, col) = (3, 1)."""
    return xl_cell_to_rowcol(cell)


def a1(row: int, col: int) -> str:
    """Zero-based (row, col) -> ``"B4"``."""
    return xl_rowcol_to_cell(row, col)


def ref(sheet: str, first: str, last: str | None = None) -> str:
    """Absolute sheet-qualified reference: ``ref("Learning rates", "B5", "K5")`` ->
    ``"'Learning rates'!$B$5:$K$5"``."""
    r, c = rowcol(first)
    out = f"{quote_sheetname(sheet)}!{xl_rowcol_to_cell(r, c, True, True)}"
    if last is not None:
        r, c = rowcol(last)
        out += ":" + xl_rowcol_to_cell(r, c, True, True)
    return out


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
    def ref(self) -> str:
        """The defined name's target, e.g. ``"Backprop!$B$8"``."""
        return ref(self.sheet, self.cell, self.last)

    @property
    def row(self) -> int:
        return rowcol(self.cell)[0]

    @property
    def col(self) -> int:
        return rowcol(self.cell)[1]


@dataclass(frozen=True)
class Block:
    """A rectangle reserved for output: top-left cell and the largest extent it may take."""

    sheet: str
    top_left: str
    max_rows: int
    max_cols: int

    @property
    def bottom_right(self) -> str:
        r, c = rowcol(self.top_left)
        return a1(r + self.max_rows - 1, c + self.max_cols - 1)

    @property
    def ref(self) -> str:
        return ref(self.sheet, self.top_left, self.bottom_right)

    def contains(self, cell: str) -> bool:
        r, c = rowcol(cell)
        r0, c0 = rowcol(self.top_left)
        return r0 <= r < r0 + self.max_rows and c0 <= c < c0 + self.max_cols


@dataclass(frozen=True)
class Anchor:
    """Where a chart or picture goes: its top-left cell and its size in pixels."""

    sheet: str
    cell: str
    width: int
    height: int
    name: str  # the shape/picture name, so a second run can find and replace it


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


# --- cell styles: declared once for the template (sheets.py) and the macros' blocks (macros.py) -
NUMBER = "0.000000000"  # E_total and the other values of the network
SMALL = "0.00E+00"  # gradients
COUNT = "0"  # step counts: whole numbers
YES_NO = '"yes";"yes";"no"'  # a boolean read as 1/0 (LibreOffice); Excel shows TRUE/FALSE
LR = "0.0##"


@dataclass(frozen=True)
class Style:
    """A cell style as every writer needs it: XlsxWriter (the template), the file back-end
    (``ooxml_styles``) and xlwings (Excel, Lite). Colours are "#RRGGBB"; ``border`` is a thin
    line on every side; ``align`` is a horizontal alignment ("center")."""

    num_format: str = "General"
    bold: bool = False
    fill: str | None = None
    font_color: str | None = None
    border: bool = False
    align: str | None = None

    def xlsxwriter(self) -> dict:
        """The properties of ``Workbook.add_format`` for this style (defaults left out)."""
        out: dict = {}
        if self.num_format != "General":
            out["num_format"] = self.num_format
        if self.bold:
            out["bold"] = True
        if self.fill:
            out["bg_color"] = self.fill
        if self.font_color:
            out["font_color"] = self.font_color
        if self.border:
            out["border"] = 1
        if self.align:
            out["align"] = self.align
        return out


#: The named styles that the template's tables and the macros' blocks share.
STYLES = {
    "head": Style(bold=True, fill="#DDEBF7", border=True, align="center"),
    "value": Style(NUMBER),
    "count": Style(COUNT),
    "yes_no": Style(YES_NO, align="center"),
    "lr": Style(LR),
    "step": Style(align="center", font_color="#7F7F7F"),
}
#: The style of each summary column (analysis.SUMMARY_COLUMNS' fields): LR_SUMMARY's block in the
#: template, the macro's summary block.
SUMMARY_STYLES = {"lr": "lr", "final_loss": "value", "steps_to_threshold": "count", "only_falls": "yes_no",
                  "first_rise": "count"}
#: Column widths (characters, as Excel and XlsxWriter count them) of the macro's blocks: the summary's
#: fit its headers ("first step with E_total < 0.01", ...); the loss table's fit "0.000000000".
SUMMARY_WIDTHS = (14, 15, 30, 18, 21)
LOSS_WIDTHS = (9, *(12,) * LR_SLOTS)


def column_pixels(width: float) -> int:
    """Pixels of a column ``width`` characters wide in the default font (Calibri 11: 7-pixel
    digits, 5 pixels of padding), as Excel and XlsxWriter count them."""
    return int(width * 12 + 0.5) if width < 1 else int(width * 7 + 0.5) + 5
ANCHORS = (BACKPROP_CHART, NETWORK_PICTURE, LIVE_CHART, MACRO_CHART, MACRO_PICTURE)
