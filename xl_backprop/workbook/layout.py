"""Where everything lives in ``workbook_template.xlsm``, and how it looks: the one description of
the layout.

The template builder (``sheets.py``) renders these places in these styles; the macros read their
inputs from the named input cells and write their results only into the reserved blocks and
anchors below. Places are declared as A1 strings without ``$`` (``"B4"``), as a reader of the
sheet names them; each place's ``area`` is the ``cellref.Area`` (zero-based rows and columns)
that the macros, the OOXML editor and the tests use. :func:`rowcol`, :func:`a1` and :func:`ref`
are cellref's conversions under the names the sheet builder uses.

Names of input cells start with ``in_`` because ``W1``, ``I1`` and ``T1`` are cell references
in Excel, not names. Styles are named: :data:`STYLES` says what each name looks like, and the
tables, bands and blocks below name the styles of their cells.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..analysis import DEFAULT_THRESHOLD
from ..cellref import Area, a1, col_letters, parse_cell
from ..limits import MACRO_MAX_ITERATIONS, SHEET_COLUMNS, SHEET_ROWS
from ..network import (
    DEFAULT_BIASES,
    DEFAULT_INPUTS,
    DEFAULT_ITERATIONS,
    DEFAULT_LRS,
    DEFAULT_TARGETS,
    DEFAULT_WEIGHTS,
    GRADIENT_NAMES,
    WEIGHT_NAMES,
    Chain,
    Forward,
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


# --- formats --------------------------------------------------------------------------------
NUMBER = "0.000000000"
SMALL = "0.000000000E+00"  # 10 significant figures: enough to redo a 9-decimal update
COUNT = "0"  # step counts: whole numbers
YES_NO = '"yes";"yes";"no"'  # a boolean read as 1/0 (LibreOffice); Excel shows TRUE/FALSE
LR = "0.0##"

#: The colours of the two paths into a hidden unit -- through o1 (from E1) and through o2 (from
#: E2) -- in the table's headers and cells, the derivation text and the diagram.
PATH_COLORS = {"E1": "#C55A11", "E2": "#7030A0"}

#: The named cell styles (XlsxWriter format properties), in the order the builder adds them.
STYLES = {
    "title": {"bold": True, "font_size": 16, "font_color": "#1F3864"},
    "note": {"italic": True, "font_color": "#595959"},
    "h2": {"bold": True, "font_size": 12, "font_color": "#1F3864"},
    "label": {"bold": True},
    "input": {"bg_color": "#FFF2CC", "border": 1, "border_color": "#BF9000", "num_format": "General"},
    "head": {"bold": True, "bg_color": "#DDEBF7", "border": 1, "align": "center"},
    "group": {"bold": True, "font_color": "#1F3864", "align": "center", "bottom": 2},
    "given": {"num_format": "0.00", "font_color": "#7F7F7F"},
    "weight": {"num_format": NUMBER, "bg_color": "#F2F2F2"},
    "value": {"num_format": NUMBER},
    "error": {"num_format": NUMBER, "bold": True},
    "grad": {"num_format": SMALL},
    **{f"path_{p}": {"num_format": SMALL, "font_color": c} for p, c in PATH_COLORS.items()},
    "step": {"align": "center", "font_color": "#7F7F7F"},
    "text": {"text_wrap": False},
    "mono": {"font_name": "Consolas"},
    "conf": {},
    "count": {"num_format": COUNT},
    "yes_no": {"num_format": YES_NO, "align": "center"},
    "lr": {"num_format": LR},
}


@dataclass(frozen=True)
class Styles:
    """The styles of a block's cells: ``body`` for every cell (one style, or one per column),
    ``head`` for its first row and ``label`` for its first column, where it has them."""

    body: str | tuple[str, ...]
    head: str | None = None
    label: str | None = None

    def at(self, i: int, j: int) -> str:
        """The style of the block's cell (i, j), counted from its top-left cell."""
        if i == 0 and self.head:
            return self.head
        if j == 0 and self.label:
            return self.label
        return self.body if isinstance(self.body, str) else self.body[j]


# --- helpers -------------------------------------------------------------------------------
def column_pixels(width: float) -> int:
    """Pixels of a column ``width`` characters wide in the default font (Calibri 11: 7-pixel
    digits, 5 pixels of padding), as Excel and XlsxWriter count them."""
    return int(width * 12 + 0.5) if width < 1 else int(width * 7 + 0.5) + 5


def rowcol(cell: str) -> tuple[int, int]:
    """``"B4"`` (or ``"$B$4"``) -> zero-based (row, col) = (3, 1): ``cellref.parse_cell``."""
    return parse_cell(cell)


def ref(sheet: str, first: str, last: str | None = None) -> str:
    """Absolute sheet-qualified reference: ``ref("Learning rates", "B5", "K5")`` ->
    ``"'Learning rates'!$B$5:$K$5"``."""
    return Area.of(sheet, first, last).ref()


class _Place:
    """What every place of the layout offers through its ``area`` (a ``cellref.Area``)."""

    area: Area

    @property
    def ref(self) -> str:
        """The absolute sheet-qualified reference, e.g. ``"Backprop!$B$8"`` (a defined name's target)."""
        return self.area.ref()

    @property
    def row(self) -> int:
        return self.area.row1

    @property
    def col(self) -> int:
        return self.area.col1


@dataclass(frozen=True)
class Input(_Place):
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


@dataclass(frozen=True)
class Block(_Place):
    """A rectangle reserved for output: top-left cell and the largest extent it may take."""

    sheet: str
    top_left: str
    max_rows: int
    max_cols: int
    styles: Styles | None = None  # how its cells look, whoever writes them (the template, or a macro)

    @property
    def area(self) -> Area:
        r, c = parse_cell(self.top_left)
        return Area(self.sheet, r, c, r + self.max_rows - 1, c + self.max_cols - 1)

    @property
    def bottom_right(self) -> str:
        return a1(self.area.row2, self.area.col2)

    def contains(self, cell: str) -> bool:
        return self.area.contains(*parse_cell(cell))


@dataclass(frozen=True)
class Anchor(_Place):
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
SCALAR_INPUTS = (IN_I1, IN_I2, IN_T1, IN_T2, *IN_W, IN_B1, IN_B2, IN_LR, IN_SHOW_STEP, IN_ITERATIONS, IN_THRESHOLD)
#: All defined names of inputs (scalar and block); IN_LRS is the list row.
INPUTS = (*SCALAR_INPUTS, IN_LRS, IN_INPUTS, IN_TARGETS, IN_WEIGHTS, IN_BIASES)

# --- Backprop: the native-formula table -----------------------------------------------------
#: Columns of the iteration table, left to right, starting in column A, by their names in code
#: (``d_o1`` is δo1 on the sheet: BACKPROP_HEADERS). Each weight's gradient stands beside it;
#: the weight one row down is the update, w - lr·dE/dw.
BACKPROP_COLUMNS = (
    "step",
    "t1",
    "t2",
    "i1",
    "i2",
    "b1",
    "b2",
    "lr",
    *(name for k in range(1, 5) for name in (f"w{k}", f"dE/dw{k}")),
    "h1",
    "a_h1",
    "h2",
    "a_h2",
    *(name for k in range(5, 9) for name in (f"w{k}", f"dE/dw{k}")),
    "o1",
    "a_o1",
    "o2",
    "a_o2",
    "E1",
    "E2",
    "E_total",
    *Chain._fields,
)
#: What the sheet calls the columns whose names in code differ (the course's notation).
_SHEET_NAMES = {
    "d_o1": "δo1",
    "d_o2": "δo2",
    "dE1_da_h1": "∂E1/∂a_h1",
    "dE2_da_h1": "∂E2/∂a_h1",
    "dE_da_h1": "∂E/∂a_h1",
    "dE1_da_h2": "∂E1/∂a_h2",
    "dE2_da_h2": "∂E2/∂a_h2",
    "dE_da_h2": "∂E/∂a_h2",
    "d_h1": "δh1",
    "d_h2": "δh2",
}
#: The table's column headers, left to right.
BACKPROP_HEADERS = tuple(_SHEET_NAMES.get(name, name) for name in BACKPROP_COLUMNS)
#: The path each path column belongs to ("E1": through o1, "E2": through o2).
BACKPROP_PATHS = {name: name[1:3] for name in BACKPROP_COLUMNS if name[:3] in ("dE1", "dE2")}
_GIVEN = ("t1", "t2", "i1", "i2", "b1", "b2", "lr")
#: The style of each table column's numbers.
BACKPROP_STYLES = {
    name: "step"
    if name == "step"
    else "given"
    if name in _GIVEN
    else "weight"
    if name in WEIGHT_NAMES
    else f"path_{BACKPROP_PATHS[name]}"
    if name in BACKPROP_PATHS
    else "grad"
    if name.startswith("d")
    else "error"
    if name.startswith("E")
    else "value"
    for name in BACKPROP_COLUMNS
}
#: Group titles above the table's headers: (title, number of columns), left to right from column A.
BACKPROP_GROUPS = (
    ("step", 1),
    ("given", 7),
    ("hidden weights, each with its gradient", 8),
    ("hidden layer", 4),
    ("output weights, each with its gradient", 8),
    ("output layer", 7),
    ("output deltas", 2),
    ("two paths into h1, their sum", 3),
    ("two paths into h2, their sum", 3),
    ("hidden deltas", 2),
)
#: Column widths in characters, by style: the constants are narrow, a gradient in
#: 0.000000000E+00 ("-1.876173052E-04") wide.
BACKPROP_STYLE_WIDTHS = {"step": 13, "given": 7, "weight": 11.5, "value": 11.5, "error": 11.5, "grad": 15}
BACKPROP_WIDTHS = tuple(
    (col_letters(k), col_letters(k), BACKPROP_STYLE_WIDTHS.get(style, BACKPROP_STYLE_WIDTHS["grad"]))
    for k, style in enumerate(BACKPROP_STYLES.values())
)
INPUT_WIDTH = 10  #: column B, the input cells (t1 in the table)
BACKPROP_HEADER_ROW = 23  #: zero-based row of the column headers (sheet row 24)
BACKPROP_FIRST_ROW = 24  #: zero-based row of step 0 (sheet row 25)
BACKPROP_STEPS = 100  #: rows in the table: steps 0..99


def backprop_cell(column: str, step: int) -> str:
    """A1 address of ``column`` (a name from BACKPROP_COLUMNS) at ``step`` on Backprop."""
    if not 0 <= step < BACKPROP_STEPS:
        raise ValueError(f"step: expected 0..{BACKPROP_STEPS - 1}, got {step!r}")
    return a1(BACKPROP_FIRST_ROW + step, BACKPROP_COLUMNS.index(column))


# --- Backprop: the first screen, above the table ---------------------------------------------
#: What a 1920 x 1080 screen shows at 100 %: the grid's width and height in pixels (the window
#: less the row headers and scroll bar; less the ribbon, formula bar, tabs and status bar). The
#: inputs, the diagram and the chart fit in it; rows 1..24 (through the table's headers) are frozen.
FIRST_SCREEN_PX = (1860, 600)
ROW_PX = 20  #: the default row height (15 points)
DIAGRAM_TOP_LEFT = "E3"  #: cell-drawn computation graph, E3:R12 (labels are formulas)
DERIVATION_TOP_LEFT = "E15"  #: chain-rule text, E15:E22
BACKPROP_CHART = Anchor(_B, "S3", 400, 400, "E_total chart")
#: Reserved for the "Draw network" picture (macros), right of the chart on the frozen rows: the
#: template leaves it empty.
NETWORK_PICTURE = Anchor(_B, "X3", 640, 400, "xl_backprop network")


# --- UDFs: the same table, one UDF call per band and row -----------------------------------
@dataclass(frozen=True)
class Band:
    """Columns ``first``..``last`` (letters) of every row of a table: their headers, the style of
    their cells and the group title merged above them (None: no title)."""

    first: str
    last: str
    heads: tuple[str, ...]
    style: str
    group: str | None = None

    @property
    def cols(self) -> tuple[int, int]:
        """Zero-based first and last column."""
        return rowcol(f"{self.first}1")[1], rowcol(f"{self.last}1")[1]

    @property
    def letters(self) -> tuple[str, ...]:
        """The column letters, left to right."""
        c1, c2 = self.cols
        return tuple(col_letters(c) for c in range(c1, c2 + 1))

    def cells(self, row: int) -> tuple[str, str]:
        """The band's first and last cell on zero-based ``row``."""
        return f"{self.first}{row + 1}", f"{self.last}{row + 1}"


_U = SHEET_UDFS
UDF_GROUP_ROW = 3  #: zero-based row of the bands' group titles (sheet row 4)
UDF_HEADER_ROW = 4  #: zero-based row of the column headers (sheet row 5)
UDF_FIRST_ROW = 5  #: zero-based row of step 0 (sheet row 6); BACKPROP_STEPS rows, as on Backprop
UDF_STEP = Band("A", "A", ("step",), "step")
#: TRANSPOSE(in_weights) at step 0, then BACKPROP_STEP of the row above.
UDF_WEIGHTS = Band("B", "I", WEIGHT_NAMES, "value", "weights: BACKPROP_STEP of the row above")
UDF_FORWARD = Band("J", "T", Forward._fields, "value", "FORWARD")
UDF_GRADIENTS = Band("U", "AB", GRADIENT_NAMES, "grad", "GRADIENTS")
#: Against Backprop's row: E_total's difference, and the largest weight difference.
UDF_CHECKS = Band("AC", "AD", ("E_total − Backprop", "max |w − Backprop w|"), "grad", "check")
UDF_BANDS = (UDF_STEP, UDF_WEIGHTS, UDF_FORWARD, UDF_GRADIENTS, UDF_CHECKS)
#: GRAD_CHECK of step 0's weights: a header row, then one row per weight (its name, then numbers).
UDF_GRAD_CHECK = Block(_U, "AF5", 9, 4, Styles("grad", head="head", label="label"))
UDF_GRAD_CHECK_TITLE = "AF4"
#: Column widths: (first, last, width in characters).
UDF_WIDTHS = (("A", "A", 6), ("B", "T", 12.5), ("U", "AB", 15), ("AC", "AD", 20), ("AE", "AE", 3), ("AF", "AI", 16))

# --- Learning rates: live UDF part (columns A..L) --------------------------------------------
LIVE_SUMMARY_TOP_LEFT = "A9"  #: LR_SUMMARY spills from here
#: LR_SUMMARY's styles: its header row, then lr, final E_total, steps, only falls, first rise.
LIVE_SUMMARY_STYLES = Styles(("lr", "value", "count", "yes_no", "count"), head="head")
#: Widths of LR_SUMMARY's columns: they fit the headers it returns ("steps to E_total < 0.01", ...).
LIVE_SUMMARY_WIDTHS = (16, 14, 24, 11, 11)
LIVE_WIDTH = 11  #: the other columns of the live part, the legend's too
LIVE_CURVE_HEADER_ROW = 21  #: zero-based; the lr header above the TRAIN_CURVE spill
LIVE_CURVE_TOP_LEFT = "B23"  #: TRAIN_CURVE spills from here; column A numbers the steps
LIVE_CURVE_STYLE = "value"
LIVE_STEP_STYLE = "step"  #: the step numbers (a SEQUENCE spill) in column A beside the curves
#: The lr header above each curve (a one-cell spill of its slot of the list).
LIVE_LR_HEAD = {"bold": True, "bg_color": "#DDEBF7", "border": 1, "num_format": f'"lr "{LR}'}
LIVE_CHART = Anchor(_L, "M8", 560, 400, "live curves chart")
#: The live chart's legend, in cells under the chart (two rows of LR_SLOTS / 2 entries).
LIVE_LEGEND_TOP_LEFT = "M29"
#: Line colours of the live chart's series, slot by slot (Office's default series colours): the
#: legend is in cells under the chart, in the same colours, so an empty slot leaves no entry.
SERIES_COLORS = (
    "#4472C4",
    "#ED7D31",
    "#A5A5A5",
    "#FFC000",
    "#5B9BD5",
    "#70AD47",
    "#264478",
    "#9E480E",
    "#636363",
    "#997300",
)


def legend_entry(k: int) -> dict:
    """The style of slot ``k``'s legend cell: its lr in its series' colour."""
    return {"bold": True, "font_color": SERIES_COLORS[k], "num_format": f'"━ lr "{LR}'}


# --- Learning rates: reserved for the "Train learning rates" macro (column V onwards) -------
#: Largest iteration count the macro writes (rows below the header): limits.MACRO_MAX_ITERATIONS.
#: The loss matrix: header row (corner label, then one lr per column), then one row per
#: step with the step number in the first column.
MACRO_LOSS = Block(_L, "V8", 1 + MACRO_MAX_ITERATIONS, 1 + LR_SLOTS, Styles("value", head="head", label="step"))
#: Widths of the loss table's columns: the step column, then ones that fit "0.000000000".
MACRO_LOSS_WIDTHS = (9, *(12,) * LR_SLOTS)
#: The summary: a header row, then one row per learning rate (lr, final loss, steps to
#: threshold, only falls, first rise, and one spare column).
MACRO_SUMMARY = Block(_L, "AH8", 1 + LR_SLOTS, 6, Styles(LIVE_SUMMARY_STYLES.body, head="head"))
#: Widths of the summary's columns: they fit the headers macros.py writes ("steps to E_total < 0.01", ...).
MACRO_SUMMARY_WIDTHS = (14, 15, 30, 18, 21)
MACRO_CHART = Anchor(_L, "AO8", 640, 400, "xl_backprop curves")
MACRO_PICTURE = Anchor(_L, "AO30", 900, 420, "xl_backprop curves picture")
#: The label the template writes above the macro area (outside every block).
MACRO_TITLE_CELL = "V6"

BLOCKS = (MACRO_LOSS, MACRO_SUMMARY)
ANCHORS = (BACKPROP_CHART, NETWORK_PICTURE, LIVE_CHART, MACRO_CHART, MACRO_PICTURE)
