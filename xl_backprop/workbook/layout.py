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

from .. import activations, examples, exercise
from ..analysis import DEFAULT_THRESHOLD
from ..cellref import Area, a1, col_letters, parse_cell
from ..cellstyle import column_pixels as column_pixels  # a column's pixels: cellstyle's one formula
from ..explain import FORWARD_QUANTITIES, GRADIENT_QUANTITIES, UPDATE_QUANTITIES
from ..limits import SHEET_COLUMNS, SHEET_ROWS
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
from ..palette import LR_COLORS, PATH_COLORS

# --- sheets, in workbook order -------------------------------------------------------------
SHEET_BACKPROP = "Backprop"
SHEET_PRACTICE = "Practice"  # predict, then check: one training step to fill in
SHEET_UDFS = "UDFs"
SHEET_LRS = "Learning rates"
SHEET_LR_BLOCKS = "LR blocks"  # the native training runs the Learning rates sheet reads
SHEET_EXAMPLES = "Examples"  # the training set: a preset, or the learner's own examples
SHEET_ABOUT = "About"
SHEET_CONF = "xlwings.conf"  # xlwings looks for exactly this name
SHEETS = (
    SHEET_BACKPROP,
    SHEET_UDFS,
    SHEET_LRS,
    SHEET_PRACTICE,
    SHEET_EXAMPLES,
    SHEET_LR_BLOCKS,
    SHEET_ABOUT,
    SHEET_CONF,
)

#: Excel's sheet limits (rows, columns).
MAX_ROWS = SHEET_ROWS
MAX_COLS = SHEET_COLUMNS


# --- formats --------------------------------------------------------------------------------
NUMBER = "0.000000000"
SMALL = "0.000000000E+00"  # 10 significant figures: enough to redo a 9-decimal update
COUNT = "0"  # step counts: whole numbers
YES_NO = '"yes";"yes";"no"'  # a boolean read as 1/0 (LibreOffice); Excel shows TRUE/FALSE
LR = "0.0##"


#: The named cell styles (XlsxWriter format properties), in the order the builder adds them.
STYLES = {
    "title": {"bold": True, "font_size": 16, "font_color": "#1F3864"},
    "note": {"italic": True, "font_color": "#595959"},
    "error_text": {"bold": True, "font_color": "#C00000"},  # a one-line message on a bad input
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
    "count": {"num_format": COUNT, "align": "center"},  # centred: a count column may say "never"
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
    default: float | str | tuple[float, ...]
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

# --- Backprop: the walkthrough (one step, phase by phase) --------------------------------------
#: The walkthrough's step is the show step: one cell, two defined names -- WalkStep for the
#: walkthrough's formulas and VBA, in_show_step for the macros and Draw network.
WALK_STEP_NAME = "WalkStep"
#: 1 forward, 2 error, 3 output layer's gradients, 4 hidden layer's gradients, 5 update
#: (``explain.PHASES``); the template opens at 5, the whole step shown.
IN_WALK_PHASE = Input("WalkPhase", _B, "B20", 5, "walk phase")
IN_WALK_SPEED = Input("WalkSpeed", _B, "B21", 2, "play speed")  #: seconds per phase (Play)
WALK_MAX_SPEED = 60  #: seconds per phase, at most

# --- Backprop: the network's choices (issue 18) -------------------------------------------------
#: A validated dropdown per layer: one of ``activations.NAMES``; the native formulas follow it
#: through the named formulas HiddenActCode / OutputActCode (1-based: ``activations`` code + 1).
IN_HIDDEN_ACT = Input("HiddenActivation", _B, "B22", activations.DEFAULT, "hidden activation")
IN_OUTPUT_ACT = Input("OutputActivation", _B, "B23", activations.DEFAULT, "output activation")
#: Which examples the network trains on: a preset of ``examples.PRESETS`` or "own" (the Examples
#: sheet's own block); ExampleSetCode is its 1-based place in ``EXAMPLE_SETS``.
IN_EXAMPLE_SET = Input("ExampleSet", _B, "B24", examples.DEFAULT, "examples")
#: Which example (1-based row of the examples in use) the table's per-example columns show.
IN_EXAMPLE_SHOWN = Input("ExampleShown", _B, "B25", 1, "shown example")
#: Rows of examples the workbook holds: the learner's own block and the block in use have as many;
#: the native formulas train on up to this many (the engine, the UDFs and the CLI take
#: ``examples.MAX_EXAMPLES``).
EXAMPLE_ROWS = 8
#: The inputs whose value is a text, picked from a list (``CHOICES``).
CHOICE_INPUTS = (IN_HIDDEN_ACT, IN_OUTPUT_ACT, IN_EXAMPLE_SET)
OWN_EXAMPLES = "own"  #: the ExampleSet choice that reads the Examples sheet's own block
EXAMPLE_SETS = (*examples.PRESETS, OWN_EXAMPLES)
#: What each choice may be, in the order of its code.
CHOICES = {
    IN_HIDDEN_ACT.name: activations.NAMES,
    IN_OUTPUT_ACT.name: activations.NAMES,
    IN_EXAMPLE_SET.name: EXAMPLE_SETS,
}
#: The named formulas (defined names holding a formula, not a range): each choice's 1-based code.
ACT_CODE_NAMES = {"HiddenActivation": "HiddenActCode", "OutputActivation": "OutputActCode"}
EXAMPLE_SET_CODE = "ExampleSetCode"

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
#: The per-example grid, right of the table (one empty column between): per step, for each of the
#: EXAMPLE_ROWS slots of the examples in use, the course's values of that example (``q#j``: quantity
#: q of slot j; masked to 0 where the slot holds no example). Quantity-major, so that each quantity's
#: slots are one row range: E_total and dE/dw1..8 of the table are their means (SUM, SUMPRODUCT).
GRID_QUANTITIES = ("a_h1", "a_h2", "a_o1", "a_o2", "d_o1", "d_o2", "d_h1", "d_h2", "E")


def grid_name(q: str, j: int) -> str:
    """The code name of quantity ``q`` of slot ``j`` (1-based) of the per-example grid."""
    return f"{q}#{j}"


GRID_COLUMNS = tuple(grid_name(q, j) for q in GRID_QUANTITIES for j in range(1, EXAMPLE_ROWS + 1))
#: The grid's headers ("δo1 #3"), and its group title.
GRID_HEADERS = tuple(f"{_SHEET_NAMES.get(q, q)} #{j}" for q in GRID_QUANTITIES for j in range(1, EXAMPLE_ROWS + 1))
GRID_GROUP = "every example (the gradient is their mean): slot #1..#{n} of the Examples sheet"
GRID_FIRST_COL = len(BACKPROP_COLUMNS) + 1  #: zero-based column of a_h1 #1 on Backprop
GRID_WIDTH = 11.5  #: characters, every column of the grid


def backprop_col(name: str) -> int:
    """Zero-based column of ``name`` on Backprop: a table column, or a grid column (``grid_name``)."""
    if name in BACKPROP_COLUMNS:
        return BACKPROP_COLUMNS.index(name)
    return GRID_FIRST_COL + GRID_COLUMNS.index(name)


INPUT_WIDTH = 10  #: column B, the input cells (t1 in the table)
BACKPROP_HEADER_ROW = 27  #: zero-based row of the column headers (sheet row 28)
BACKPROP_FIRST_ROW = 28  #: zero-based row of step 0 (sheet row 29)
BACKPROP_STEPS = 100  #: rows in the table: steps 0..99


def backprop_cell(column: str, step: int) -> str:
    """A1 address of ``column`` (a name from BACKPROP_COLUMNS or GRID_COLUMNS) at ``step`` on Backprop."""
    if not 0 <= step < BACKPROP_STEPS:
        raise ValueError(f"step: expected 0..{BACKPROP_STEPS - 1}, got {step!r}")
    return a1(BACKPROP_FIRST_ROW + step, backprop_col(column))


#: The walkthrough's texts, below the table: a title, a note, one ``Explain_<q>`` cell per quantity
#: (``explain.QUANTITIES``; its symbol in column A, its text in column B), then the values at
#: WalkStep they read (a name in column A, its value in column B), one per operand.
WALK_TITLE_ROW = BACKPROP_FIRST_ROW + BACKPROP_STEPS + 1  #: zero-based (sheet row 126)
WALK_EXPLAIN_ROW = WALK_TITLE_ROW + 2  #: zero-based: Explain_h1
WALK_EXPLAIN_PREFIX = "Explain_"
#: Highlights (conditional formats): the current phase's cells, and the table's row at WalkStep.
WALK_NOW = {"bg_color": "#FFD966", "bold": True}
WALK_ROW = {"bg_color": "#FFF2CC"}


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
NETWORK_PICTURE = Anchor(_B, "X3", 720, 400, "xl_backprop network")


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

# --- Learning rates: the lesson, in native formulas (columns A..U) ----------------------------
#: Most steps the native blocks train (rows per block): the sheet's tables, summary and chart
#: show min(iterations, LR_BLOCK_STEPS) steps; the ribbon's button trains up to MACRO_MAX_ITERATIONS.
LR_BLOCK_STEPS = 100
LIVE_SUMMARY_TOP_LEFT = "A9"  #: the summary: a header row, then one row per slot of the list
#: The summary's styles: its header row, then lr, final E_total, steps, only falls, first rise.
LIVE_SUMMARY_STYLES = Styles(("lr", "value", "count", "yes_no", "count"), head="head")
#: The summary's header words, per ``analysis.SUMMARY_COLUMNS`` field; the threshold's value
#: follows "steps_to_threshold" (a formula joins them).
LIVE_SUMMARY_HEADS = {
    "lr": "lr",
    "final_loss": "final E_total",
    "steps_to_threshold": "steps to E_total < ",
    "only_falls": "only falls",
    "first_rise": "first rise",
}
LIVE_SUMMARY_HEAD_HEIGHT = 33  #: points: the summary's header row holds two wrapped lines
LIVE_WIDTH = 12  #: every column of the lesson's tables (step and learning-rate columns alike)
LIVE_TEXT_TOP_LEFT = "G8"  #: what the course's rates show, and what they cannot: short lines
LIVE_CURVE_HEADER_ROW = 21  #: zero-based; the lr labels above the curves (sheet row 22)
LIVE_CURVE_TOP_LEFT = "B23"  #: E_total of slot k's block at step s: (row 23 + s, column B + k)
LIVE_CURVE_STYLE = "value"
LIVE_STEP_STYLE = "step"  #: the step numbers in column A beside the curves
#: The chart: one series per slot, named by its label ("lr 0.5"), in the slot's colour.
LIVE_CHART = Anchor(_L, "M3", 640, 380, "live curves chart")
#: Line colours of the chart's series, slot by slot: the one palette (``palette.LR_COLORS``).
SERIES_COLORS = LR_COLORS[:LR_SLOTS]


# --- LR blocks: one native training run per slot of the list --------------------------------
#: The network's inputs, once for every block: (name, column letter) on LR_GIVEN_ROW; "steps"
#: is min(in_iterations, LR_BLOCK_STEPS), 0 for a bad iteration count.
LR_GIVEN = (("t1", "B"), ("t2", "C"), ("i1", "D"), ("i2", "E"), ("b1", "F"), ("b2", "G"), ("steps", "H"))
LR_GIVEN_HEAD_ROW = 3  #: zero-based (sheet row 4): the names
LR_GIVEN_ROW = 4  #: zero-based (sheet row 5): the values
LR_BLOCK_TITLE_ROW = 6  #: zero-based (sheet row 7): each block's slot, learning rate and message
LR_BLOCK_HEADER_ROW = 7  #: zero-based (sheet row 8): column names
LR_BLOCK_FIRST_ROW = 8  #: zero-based (sheet row 9): step 0
#: The chart's data: column A the step (#N/A past the step count), then one column per slot,
#: E_total or #N/A (a chart draws no point for #N/A, but a zero for an empty text); its header
#: row holds the series' names, the slots' labels ("lr 0.5").
LR_CHART_DATA_COL = 0
#: The columns of one block, left to right: the step, then every Backprop column that changes
#: from row to row (weights, forward values, E's, gradients), then the two the summary reads:
#: the step where E_total < threshold, and the step where E_total rose.
#: The shown example's forward and chain columns are the Backprop table's alone: a block keeps what
#: its curve needs, the weights, their gradients, E_total and the per-example grid they come from.
LR_BLOCK_COLUMNS = (
    "step",
    *(c for c in BACKPROP_COLUMNS if c in WEIGHT_NAMES or c.startswith("dE/dw")),
    "E_total",
    *GRID_COLUMNS,
    "below",
    "rise",
)
LR_BLOCK_FIRST_COL = LR_CHART_DATA_COL + 1 + LR_SLOTS + 1  #: column of block 0 (after a gap)
LR_BLOCK_GAP = 1  #: empty columns between blocks
LR_BLOCK_WIDTH = 11  #: characters per column


def lr_block_col(k: int, name: str) -> int:
    """Zero-based column of ``name`` (from LR_BLOCK_COLUMNS) in slot ``k``'s block."""
    return LR_BLOCK_FIRST_COL + k * (len(LR_BLOCK_COLUMNS) + LR_BLOCK_GAP) + LR_BLOCK_COLUMNS.index(name)


def lr_block_cell(k: int, name: str, step: int) -> str:
    """A1 address of ``name`` at ``step`` in slot ``k``'s block on LR blocks."""
    if not 0 <= step < LR_BLOCK_STEPS:
        raise ValueError(f"step: expected 0..{LR_BLOCK_STEPS - 1}, got {step!r}")
    return a1(LR_BLOCK_FIRST_ROW + step, lr_block_col(k, name))


#: Block title cells, relative to the block's first column: the slot's learning rate (a number
#: when the block trains, else empty) and its message (empty when it trains).
LR_BLOCK_RATE_OFFSET = 2
LR_BLOCK_MESSAGE_OFFSET = 3
#: What a block's title says when it does not train: the one wording the summary repeats.
LR_MESSAGES = {
    "gap": "empty: fill the list from the left",
    "text": "not trained: not a number",
    "sign": "not trained: lr must be > 0",
    "iterations": "not trained: iterations must be a number >= 1",
}

# --- Learning rates: reserved for the "Train learning rates" macro (column V onwards) -------
#: The loss matrix: header row (corner label, then one lr per column), then one row per
#: step with the step number in the first column. Its header cell is the one home of where it
#: starts: the largest iteration count below derives from it.
MACRO_LOSS_TOP_LEFT = "V8"
#: Largest iteration count the macro writes: the rows below the loss matrix's header, to the
#: sheet's last row but one (rows 9 to 1,048,575 for a header on row 8: 1,048,567). The ribbon's
#: input cell's validation and the macros (in Excel and through ``xl-backprop run``) refuse more.
MACRO_MAX_ITERATIONS = MAX_ROWS - (parse_cell(MACRO_LOSS_TOP_LEFT)[0] + 1) - 1
MACRO_LOSS = Block(
    _L, MACRO_LOSS_TOP_LEFT, 1 + MACRO_MAX_ITERATIONS, 1 + LR_SLOTS, Styles("value", head="head", label="step")
)
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

# --- Learning rates: the learning-rate map (the "Map learning rates" button), under the chart --
#: Below the frozen rows, beside the curves (columns M..U): a title, the rates of each layer
#: (from, to, count: log-spaced, ``lrmap.rates``) and the steps per network; then the picture.
#: The defaults (24 x 24 pairs, 300 steps: 172,800 network steps, within the uncompiled bound of
#: xlwings Lite) show all four classes of ``lrmap.CLASSES`` on the course's network.
MAP_TITLE_CELL = "M24"
MAP_HEAD_ROW = 24  #: zero-based (sheet row 25): "from", "to", "count" above the inputs
MAP_NOTE_CELL = "M29"
IN_MAP_H_FROM = Input("in_map_h_from", _L, "N26", 1.0, "lr_hidden from")
IN_MAP_H_TO = Input("in_map_h_to", _L, "O26", 100_000.0, "lr_hidden to")
IN_MAP_H_COUNT = Input("in_map_h_count", _L, "P26", 24, "lr_hidden count")
IN_MAP_O_FROM = Input("in_map_o_from", _L, "N27", 1.0, "lr_output from")
IN_MAP_O_TO = Input("in_map_o_to", _L, "O27", 100_000.0, "lr_output to")
IN_MAP_O_COUNT = Input("in_map_o_count", _L, "P27", 24, "lr_output count")
IN_MAP_STEPS = Input("in_map_steps", _L, "N28", 300, "map steps")
#: The map's inputs, row by row: (row label, its from, to and count cells); then the steps.
MAP_RATE_ROWS = (
    ("lr_hidden", IN_MAP_H_FROM, IN_MAP_H_TO, IN_MAP_H_COUNT),
    ("lr_output", IN_MAP_O_FROM, IN_MAP_O_TO, IN_MAP_O_COUNT),
)
MAP_INPUTS = (IN_MAP_H_FROM, IN_MAP_H_TO, IN_MAP_H_COUNT, IN_MAP_O_FROM, IN_MAP_O_TO, IN_MAP_O_COUNT, IN_MAP_STEPS)
#: The map's picture (``map_figure``, 900 x 700 drawn), scaled to the nine columns M..U.
MAP_PICTURE = Anchor(_L, "M31", 720, 560, "xl_backprop map picture")

# --- UDFs: TRAIN_CURVE and LR_SUMMARY beside the native blocks they equal ---------------------
#: A band right of GRAD_CHECK (one empty column between): LR_SUMMARY of the list, a check row
#: (per slot: the largest |TRAIN_CURVE - the Learning rates sheet's curve|), then TRAIN_CURVE
#: under the slots' labels, the step numbers (SEQUENCE) in the band's first column.
UDF_LR_FIRST_COL = UDF_GRAD_CHECK.area.col2 + 2
UDF_LR_TITLE = a1(UDF_GROUP_ROW, UDF_LR_FIRST_COL)
UDF_LR_SUMMARY = Block(_U, a1(UDF_HEADER_ROW, UDF_LR_FIRST_COL), 1 + LR_SLOTS, 5, LIVE_SUMMARY_STYLES)
UDF_LR_CHECK_ROW = UDF_LR_SUMMARY.area.row2 + 2  #: zero-based
UDF_LR_HEADER_ROW = UDF_LR_CHECK_ROW + 1  #: zero-based: the slots' labels above the curves
UDF_LR_CURVE_TOP_LEFT = a1(UDF_LR_HEADER_ROW + 1, UDF_LR_FIRST_COL + 1)
UDF_LR_WIDTH = 13  #: characters, every column of the band

# --- UDFs: LR_MAP, final E_total per pair of layer rates, right of the learning-rate band ------
#: The rates LR_MAP reads from cells: lr_output across its header row, lr_hidden down its first
#: column (nearly log-spaced, round numbers); the steps in a cell under the block.
UDF_MAP_FIRST_COL = UDF_LR_FIRST_COL + LR_SLOTS + 2
UDF_MAP_TITLE = a1(UDF_GROUP_ROW, UDF_MAP_FIRST_COL)
UDF_MAP_LR_HIDDEN = (0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0, 300.0)
UDF_MAP_LR_OUTPUT = (0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0, 300.0)
UDF_MAP_STEPS = 100
#: The grid LR_MAP spills (a row per lr_hidden, a column per lr_output), a colour scale on it.
UDF_MAP = Block(
    _U, a1(UDF_HEADER_ROW + 1, UDF_MAP_FIRST_COL + 1), len(UDF_MAP_LR_HIDDEN), len(UDF_MAP_LR_OUTPUT), Styles("grad")
)
UDF_MAP_STEPS_ROW = UDF_MAP.area.row2 + 2  #: zero-based: "steps" and its cell
UDF_MAP_WIDTH = 15  #: characters, every column of the block ("0.000000000E+00")
#: The colour scale: low E_total (converged) green, high red.
UDF_MAP_COLORS = ("#63BE7B", "#FFEB84", "#F8696B")


# --- Practice: one training step to fill in, checked cell by cell -----------------------------
@dataclass(frozen=True)
class Named(_Place):
    """A cell, or a column of cells (``last``), with an Excel defined name: a place a teacher
    (and a test) finds by name."""

    name: str
    sheet: str
    cell: str
    last: str | None = None

    @property
    def area(self) -> Area:
        return Area.of(self.sheet, self.cell, self.last)


_P = SHEET_PRACTICE
IN_PRACTICE_SEED = Input("PracticeSeed", _P, "B4", exercise.COURSE_SEED, "seed")
IN_PRACTICE_LEVEL = Input("PracticeLevel", _P, "B5", 1, "level")
PRACTICE_SCORE = Named("PracticeScore", _P, "B6")
#: The exercise (formulas of PracticeSeed, ``exercise.excel_formula``), on the frozen rows beside
#: the seed: a row of names above each row of values, w1..w8, then i1, i2, t1, t2 and lr.
PRACTICE_GIVEN_TITLE = "I3"
PRACTICE_WEIGHTS = Named("PracticeWeights", _P, "I5", "P5")
PRACTICE_INPUTS = Named("PracticeInputs", _P, "I7", "J7")
PRACTICE_TARGETS = Named("PracticeTargets", _P, "K7", "L7")
PRACTICE_LR = Named("PracticeLR", _P, "M7")
PRACTICE_GIVEN = (PRACTICE_WEIGHTS, PRACTICE_INPUTS, PRACTICE_TARGETS, PRACTICE_LR)
#: The cell of each of the exercise's values, by its name in ``exercise.DRAWS`` (w1 … lr).
PRACTICE_GIVEN_CELLS = dict(
    zip(
        (name for name, _, _ in exercise.DRAWS),
        (
            a1(r, c)
            for p in PRACTICE_GIVEN
            for r in range(p.area.row1, p.area.row2 + 1)
            for c in range(p.area.col1, p.area.col2 + 1)
        ),
        strict=True,
    )
)
PRACTICE_NOTES_TOP_LEFT = "I10"  #: the rules to use, beside the table
#: Widths (characters) of the columns right of the table: a gap, then the exercise's.
PRACTICE_SIDE_WIDTHS = (("H", "H", 1), ("I", "P", 5.5), ("Q", "Q", 3))
PRACTICE_HEADER_HEIGHT = 30  #: points: the headers wrap in two lines ("show / answer")
#: The phases of a step, as the walkthrough numbers them, and the quantities of each, in the
#: order a step computes them (q as in the walkthrough's Explain_<q> names; the paths into a
#: hidden unit and their sum as network.Chain names them: dE1_da_h1 is ∂E1/∂a_h1).
PRACTICE_PHASES = (
    (1, "1 forward", FORWARD_QUANTITIES[:8]),
    (2, "2 error", FORWARD_QUANTITIES[8:]),
    (3, "3 output", ("d_o1", "d_o2", *GRADIENT_QUANTITIES[4:])),
    (4, "4 hidden", (*Chain._fields[2:], *GRADIENT_QUANTITIES[:4])),
    (5, "5 update", UPDATE_QUANTITIES),
)
#: Every quantity the learner may fill in, top to bottom: the answer cell of q is Practice_<q>.
PRACTICE_QUANTITIES = tuple(q for _, _, qs in PRACTICE_PHASES for q in qs)
#: The first phase that is the learner's at each level (a faded worked example, last steps first).
PRACTICE_LEVELS = {1: 5, 2: 3, 3: 1}
PRACTICE_HEADER_ROW = 7  #: zero-based (sheet row 8): the table's headers
PRACTICE_FIRST_ROW = 8  #: zero-based (sheet row 9): the first quantity, h1
#: The table's columns: (code name, letter, header, width). The last two are hidden: the right
#: value, by native formulas (``sheets.table_formula``'s rules), and whether the row is the
#: learner's at the level.
PRACTICE_COLUMNS = (
    ("phase", "A", "phase", 10),
    ("quantity", "B", "quantity", 10),
    ("rule", "C", "rule", 26),
    ("answer", "D", "your answer", 11),
    ("check", "E", "check", 11),
    ("show", "F", "show answer", 7),
    ("given", "G", "given / answer", 13),
    ("right", "R", "right value (hidden)", 16),
    ("yours", "S", "yours (hidden)", 8),
)
PRACTICE_HIDDEN = ("right", "yours")
#: What the check cell says: right, wrong, and shown (not counted); nothing while empty.
PRACTICE_MARKS = {"right": "✓", "wrong": "✗ try again", "text": "✗ not a number", "shown": "shown"}


def practice_name(q: str) -> str:
    """The defined name of ``q``'s answer cell: ``Practice_<q>``."""
    return f"Practice_{q}"


def practice_cell(column: str, q: str) -> str:
    """A1 address of ``column`` (a code name of PRACTICE_COLUMNS) on ``q``'s row of Practice."""
    letter = {name: letter for name, letter, _, _ in PRACTICE_COLUMNS}[column]
    return f"{letter}{PRACTICE_FIRST_ROW + PRACTICE_QUANTITIES.index(q) + 1}"


#: The answer cells, by their defined names Practice_<q>.
PRACTICE_ANSWERS = tuple(Named(practice_name(q), _P, practice_cell("answer", q)) for q in PRACTICE_QUANTITIES)
#: Every defined name of the Practice sheet.
PRACTICE_NAMES = (IN_PRACTICE_SEED, IN_PRACTICE_LEVEL, PRACTICE_SCORE, *PRACTICE_GIVEN, *PRACTICE_ANSWERS)

# --- Examples: the training set ---------------------------------------------------------------
_X = SHEET_EXAMPLES
#: (EXAMPLE_ROWS, the rows of examples the workbook holds: with the choices above.)
EXAMPLE_FIRST_ROW = 5  #: zero-based (sheet row 6): example 1 of both blocks
#: The learner's own examples (typed or pasted): i1, i2, t1, t2 in columns A..D.
OWN_EXAMPLES_BLOCK = Named("OwnExamples", _X, "A6", a1(EXAMPLE_FIRST_ROW + EXAMPLE_ROWS - 1, 3))
#: The examples in use (formulas of ExampleSet): i1, i2 in F..G and t1, t2 in H..I; a row that
#: is not an example holds an empty text.
EXAMPLE_INPUTS = Named("ExampleInputs", _X, "F6", a1(EXAMPLE_FIRST_ROW + EXAMPLE_ROWS - 1, 6))
EXAMPLE_TARGETS = Named("ExampleTargets", _X, "H6", a1(EXAMPLE_FIRST_ROW + EXAMPLE_ROWS - 1, 8))
#: How many examples are in use (0 when the set is bad), and why the set is bad ("" when it is not).
EXAMPLE_COUNT = Named("ExampleCount", _X, "G3")
EXAMPLE_MESSAGE = Named("ExampleMessage", _X, "F4")
EXAMPLE_NAMES = (OWN_EXAMPLES_BLOCK, EXAMPLE_INPUTS, EXAMPLE_TARGETS, EXAMPLE_COUNT, EXAMPLE_MESSAGE)
#: The examples in use as numbers, one slot per column (B..I: slot #1..#8), for the per-example grids:
#: a row each of i1, i2, t1, t2 (0 where the slot holds no example) and ``used`` (1 an example, 0 none,
#: #N/A for a bad set: the grids then show #N/A). ``Slot_<name>`` names each row.
EXAMPLE_SLOT_HEAD_ROW = 15  #: zero-based (sheet row 16): the slots' numbers
EXAMPLE_SLOT_ROWS = ("i1", "i2", "t1", "t2", "used")
EXAMPLE_SLOTS = {
    name: Named(
        f"Slot_{name}", _X, a1(EXAMPLE_SLOT_HEAD_ROW + 1 + k, 1), a1(EXAMPLE_SLOT_HEAD_ROW + 1 + k, EXAMPLE_ROWS)
    )
    for k, name in enumerate(EXAMPLE_SLOT_ROWS)
}


#: The slot the table's per-example columns show: ExampleShown when it is a slot holding an
#: example, else #N/A.
SHOWN_SLOT = Named("ShownSlot", _X, a1(EXAMPLE_SLOT_HEAD_ROW + 1 + len(EXAMPLE_SLOT_ROWS) + 1, 1))
EXAMPLE_SLOT_NAMES = (*EXAMPLE_SLOTS.values(), SHOWN_SLOT)
#: One line on a bad choice (an activation not in the list, bad examples, a shown example that is
#: not one), "" when every choice is good: under the choices on Backprop, above the table.
CHOICE_MESSAGE = Named("ChoiceMessage", _B, "A26")


def slot_ref(name: str, j: int) -> str:
    """The absolute, sheet-qualified cell of row ``name`` (EXAMPLE_SLOT_ROWS) of slot ``j`` (1-based)."""
    place = EXAMPLE_SLOTS[name]
    return Area(_X, place.row, place.col + j - 1, place.row, place.col + j - 1).ref()


BLOCKS = (MACRO_LOSS, MACRO_SUMMARY)
ANCHORS = (BACKPROP_CHART, NETWORK_PICTURE, LIVE_CHART, MACRO_CHART, MACRO_PICTURE, MAP_PICTURE)

#: Every single-cell input the "Reset to defaults" action restores, in sheet order.
SCALAR_INPUTS = (
    IN_I1,
    IN_I2,
    IN_T1,
    IN_T2,
    *IN_W,
    IN_B1,
    IN_B2,
    IN_LR,
    IN_SHOW_STEP,
    IN_WALK_PHASE,
    IN_WALK_SPEED,
    IN_ITERATIONS,
    IN_THRESHOLD,
    *MAP_INPUTS,
)
#: All defined names of inputs (scalar and block); IN_LRS is the list row.
INPUTS = (*SCALAR_INPUTS, IN_LRS, IN_INPUTS, IN_TARGETS, IN_WEIGHTS, IN_BIASES, *CHOICE_INPUTS, IN_EXAMPLE_SHOWN)
