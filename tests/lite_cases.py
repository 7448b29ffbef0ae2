"""What the Lite tests send to ``lite_driver.py``: the custom-function calls, as Office.js
hands them over, and the scripts with the book payload Lite sends, built from the committed
template. Used by test_lite.py (CPython with only Lite's packages) and test_pyodide.py (real
Pyodide); the fixtures that run the driver are in conftest.py.
"""

from __future__ import annotations

from pathlib import Path

from xl_backprop.cellref import Area, CellError, parse_cell, parse_ref, ref
from xl_backprop.ooxml import Workbook
from xl_backprop.ooxml.package import NS_MAIN
from xl_backprop.workbook import layout as L

from .conftest import TEMPLATE

W = [[0.15, 0.2, 0.25, 0.3, 0.4, 0.45, 0.5, 0.55]]  # a row of 8 cells
I = [[0.05], [0.1]]  # a column
T = [[0.01, 0.99]]


def err(name: str, kind: str) -> dict:
    """An error value as Office.js hands it to a custom function (allowErrorForDataTypeAny)."""
    return {"type": "Error", "basicValue": name, "errorType": kind}


# (Excel formula, for the reader; function; the arguments as Office.js sends them: a 2-D list per
# argument, None for an omitted optional one (JS null) or an empty single cell)
CALLS = [
    ("=SIGMOID(0)", "SIGMOID", [[[0]]]),  # Pyodide hands whole numbers over as int
    ("=SIGMOID(A1:B2)", "SIGMOID", [[[0.0, 1.5], [-2.0, 40.0]]]),
    ("=FORWARD(w, i, t)", "FORWARD", [W, I, T, None]),
    ("=FORWARD(w, i, t) -- trailing optional left out", "FORWARD", [W, I, T]),
    ("=FORWARD(w, i, t, {0.35;0.6})", "FORWARD", [W, I, T, [[0.35], [0.6]]]),
    ("=FORWARD(w, i, t, two empty cells)", "FORWARD", [W, I, T, [[None], [None]]]),
    ("=GRADIENTS(w, i, t)", "GRADIENTS", [W, I, T, None]),
    ("=BACKPROP_STEP(w, i, t, 0.5)", "BACKPROP_STEP", [W, I, T, [[0.5]], None]),
    ("=BACKPROP_STEP(w, i, t, 1)", "BACKPROP_STEP", [W, I, T, [[1]], None]),
    ("=TRAIN_CURVE(w, i, t, lrs, 51)", "TRAIN_CURVE", [W, I, T, [[0.1, 0.2, 0.5, 0.8, 1, 2]], [[51]], None]),
    # 30,000 network steps: the size from which network.train takes the kernel's parallel loop
    ("=TRAIN_CURVE(w, i, t, {0.5,2}, 15000)", "TRAIN_CURVE", [W, I, T, [[0.5, 2]], [[15000]], None]),
    ("=GRAD_CHECK(w, i, t)", "GRAD_CHECK", [W, I, T, None]),
    ("=LR_SUMMARY(w, i, t, lrs, 51)", "LR_SUMMARY", [W, I, T, [[0.1, 0.5, 2]], [[51]], None, None]),
    (
        "=LR_SUMMARY(w, i, t, lrs, 200, 0.05, biases)",
        "LR_SUMMARY",
        [W, I, T, [[0.5], [1.0]], [[200]], [[0.05]], [[0.35, 0.6]]],
    ),
    ("=LR_MAP(w, i, t, lr_h, lr_o, 100)", "LR_MAP", [W, I, T, [[0.1], [10]], [[0.5, 50, 5000]], [[100]]]),
    # bad input: one line in the cell
    ("=FORWARD(7 weights, i, t)", "FORWARD", [[W[0][:7]], I, T, None]),
    ("=FORWARD(w 2x4, i, t)", "FORWARD", [[W[0][:4], W[0][4:]], I, T, None]),
    ("=FORWARD(w, {0.05;#N/A}, t)", "FORWARD", [W, [[0.05], [err("#N/A", "NotAvailable")]], T, None]),
    ("=FORWARD(w, {0.05;#N/A}, t) -- error as text", "FORWARD", [W, [[0.05], ["#N/A"]], T, None]),  # older runtimes
    ('=GRADIENTS(w, i, {0.01,"abc"})', "GRADIENTS", [W, I, [[0.01, "abc"]], None]),
    ("=GRADIENTS(w, {0.05; empty}, t)", "GRADIENTS", [W, [[0.05], [None]], T, None]),
    ("=BACKPROP_STEP(w, i, t, #SPILL!)", "BACKPROP_STEP", [W, I, T, [[err("#SPILL!", "Spill")]], None]),
    ("=BACKPROP_STEP(w, i, t, empty cell)", "BACKPROP_STEP", [W, I, T, None, None]),
    ("=TRAIN_CURVE(w, i, t, lrs, 2.5)", "TRAIN_CURVE", [W, I, T, [[0.5]], [[2.5]], None]),
    ('=TRAIN_CURVE(w, i, t, lrs, "ten")', "TRAIN_CURVE", [W, I, T, [[0.5]], [["ten"]], None]),
    ("=SIGMOID(A1:B2 with #DIV/0!)", "SIGMOID", [[[0.0, 1.0], [err("#DIV/0!", "Div0"), 2.0]]]),
    ("=LR_SUMMARY(w, i, t, lrs, 51, TRUE)", "LR_SUMMARY", [W, I, T, [[0.5]], [[51]], [[True]], None]),
    ("=FORWARD(w, i, t, {0.35; #VALUE!})", "FORWARD", [W, I, T, [[0.35], [err("#VALUE!", "Value")]]]),
    ('=FORWARD(w, i, {"a<line break>b", 0.99})', "FORWARD", [W, I, [["a\nb\u001b[2J", 0.99]], None]),
    ("=LR_SUMMARY(w, i, t, lrs, 51, -1)", "LR_SUMMARY", [W, I, T, [[0.5]], [[51]], [[-1]], None]),
    ("=LR_MAP(w, i, t, lr_h, -1, 10)", "LR_MAP", [W, I, T, [[0.1]], [[-1]], [[10]]]),
    ('=EXPLAIN("∂E/∂w5", w, i, t, {0.35;0.6})', "EXPLAIN", [[["∂E/∂w5"]], W, I, T, [[0.35], [0.6]], None, None]),
    (
        '=EXPLAIN("new w5", w, i, t, {0.35,0.6}, 0.5, 9)',
        "EXPLAIN",
        [[["new w5"]], W, I, T, [[0.35, 0.6]], [[0.5]], [[9]]],
    ),
    ('=EXPLAIN("δh1", w, i, t)', "EXPLAIN", [[["δh1"]], W, I, T]),
    ('=EXPLAIN("w5", w, i, t)', "EXPLAIN", [[["w5"]], W, I, T, None, None, None]),
    ('=EXPLAIN("h1", w, i, t, , , 16)', "EXPLAIN", [[["h1"]], W, I, T, None, None, [[16]]]),
]


def book_payload(path: Path, values: dict[str, object] | None = None, drawn: bool = False) -> dict:
    """The book payload of xlwings' Office.js client for the workbook at ``path``: every sheet's
    values from A1 ("" for an empty cell, an error as its text), the defined names, and (with
    ``drawn``) the charts and pictures the buttons draw. ``values``: defined name -> a new value
    for its (single) cell, as if the user had typed it."""
    pkg = Workbook.read(path)
    sheets = list(pkg.sheets())
    out_sheets = []
    for sheet in sheets:
        last = pkg.package.xml(pkg.sheet_part(sheet)).find(f"{{{NS_MAIN}}}dimension").get("ref").split(":")[-1]
        used = Area(sheet, 0, 0, *parse_cell(last))
        # Office.js sends every sheet's used range whole: no bound to stop at, as the book's own reads have
        rows = pkg.read_cells(used, max_cells=(used.row2 + 1) * (used.col2 + 1))
        out_sheets.append(
            {
                "name": sheet,
                "values": [
                    ["" if v is None else str(v) if isinstance(v, CellError) else v for v in row] for row in rows
                ],
                "pictures": [],
                "charts": [],
                "shapes": [],
                "tables": [],
                "notes": [],
            }
        )
    names = []
    for name, refers_to in pkg.defined_names().items():
        try:
            area = parse_ref(refers_to)
        except ValueError:
            continue
        address = ref(area.sheet, area.row1, area.col1, area.row2, area.col2, absolute=False).split("!")[1]
        names.append(
            {
                "name": name,
                "sheet_index": sheets.index(area.sheet),
                "address": address,
                "book_scope": True,
                "scope_sheet_name": None,
                "scope_sheet_index": None,
                "refers_to": "=" + refers_to,
            }
        )
        if values and name in values:
            out_sheets[sheets.index(area.sheet)]["values"][area.row1][area.col1] = values[name]
    if drawn:

        def shape(name):
            return {"name": name, "width": 100, "height": 100, "left": 0, "top": 0, "lock_aspect_ratio": True}

        by_name = {s["name"]: s for s in out_sheets}
        by_name[L.MACRO_CHART.sheet]["charts"].append({**shape(L.MACRO_CHART.name), "chart_type": "line"})
        for anchor in (L.MACRO_PICTURE, L.NETWORK_PICTURE):
            by_name[anchor.sheet]["pictures"].append(shape(anchor.name))
    return {
        "client": "Office.js",
        "version": "0.37.8",
        "book": {"name": path.name, "active_sheet_index": 0, "selection": "A1"},
        "names": names,
        "sheets": out_sheets,
    }


SCRIPT_RUNS = [  # (script, action, book payload options)
    ("train_learning_rates", "train-lrs", {}),
    ("draw_network", "draw-network", {}),
    ("reset", "reset", {"drawn": True}),
    ("draw_network", "draw-network", {"values": {L.IN_LR.name: "abc"}}),  # bad input
    ("train_learning_rates", "train-lrs", {"values": {L.IN_ITERATIONS.name: 2.5}}),  # bad input
    # a small map: Lite's loop is not compiled (the template's 24 x 24 x 300 runs too, in seconds)
    (
        "map_learning_rates",
        "map-lrs",
        {"values": {L.IN_MAP_H_COUNT.name: 4, L.IN_MAP_O_COUNT.name: 3, L.IN_MAP_STEPS.name: 40}},
    ),
    ("map_learning_rates", "map-lrs", {"values": {L.IN_MAP_H_FROM.name: "x"}}),  # bad input
    # the network's choices (issue 18): other activations and examples reach the scripts; a bad one is one line.
    # leaky_relu and linear take only + and x: Pyodide's numbers equal CPython's to 1e-12 (tanh's libm
    # differs in the last bits, and 50 steps of the half-adder grow that to ~4e-11)
    (
        "train_learning_rates",
        "train-lrs",
        {
            "values": {
                L.IN_HIDDEN_ACT.name: "leaky_relu",
                L.IN_OUTPUT_ACT.name: "linear",
                L.IN_EXAMPLE_SET.name: "half-adder",
            }
        },
    ),
    (
        "draw_network",
        "draw-network",
        {"values": {L.IN_HIDDEN_ACT.name: "relu", L.IN_EXAMPLE_SET.name: "and-or", L.IN_EXAMPLE_SHOWN.name: 4}},
    ),
    ("draw_network", "draw-network", {"values": {L.IN_OUTPUT_ACT.name: "softmax"}}),  # bad input
]


#: The walkthrough's scripts: (script, WalkStep and WalkPhase before, the same after).
WALK_RUNS = [
    ("walk_next", (0, 1), (0, 2)),
    ("walk_next", (3, 5), (4, 1)),
    ("walk_next", (L.BACKPROP_STEPS - 1, 5), (L.BACKPROP_STEPS - 1, 5)),  # the last step: stays
    ("walk_back", (4, 1), (3, 5)),
    ("walk_back", (0, 1), (0, 1)),
    ("walk_back", ("abc", 9), (0, 4)),  # not a number reads as step 0; phase 9 as the last phase
]


def walk_payload(step, phase) -> dict:
    return book_payload(TEMPLATE, values={L.WALK_STEP_NAME: step, L.IN_WALK_PHASE.name: phase})


def request() -> dict:
    """The driver's request: every call of CALLS, every run of SCRIPT_RUNS, then of WALK_RUNS, in order."""
    return {
        "calls": [{"func_name": f, "args": a} for _, f, a in CALLS],
        "scripts": [{"name": s, "book": book_payload(TEMPLATE, **opts)} for s, _, opts in SCRIPT_RUNS]
        + [{"name": s, "book": walk_payload(*before)} for s, before, _ in WALK_RUNS],
    }
