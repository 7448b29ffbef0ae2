"""The walkthrough on the Backprop sheet: one training step, phase by phase, in native formulas.

Two input cells choose what is shown: ``WalkStep`` (the table's row; the same cell as the show
step, ``in_show_step``) and ``WalkPhase`` (1 forward, 2 error, 3 output layer's gradients,
4 hidden layer's gradients, 5 update: ``explain.PHASES``). From them:

- the diagram shows the values computed so far and leaves later ones blank (``shown``), so a
  learner can predict them; the current phase's cells are highlighted (``highlight``);
- the derivation's lines and the table's row at WalkStep are highlighted likewise;
- below the table, one ``Explain_<q>`` cell per quantity: ``explain.excel_formula``'s text, fed
  by plain value cells (the table's value at WalkStep), blank before its phase. The texts follow
  the activations chosen on the sheet (HiddenActCode, OutputActCode: CHOOSE over the five forms
  of a symbol or a slope inside the text); where several examples are in use (ExampleCount > 1),
  E_total's and each ∂E/∂w's text is the shown example's (ExampleShown), then says the mean over
  the examples, the table's value (``example_text``).

The ribbon's Walk through group (Start, Back, Next, Play, Pause) moves the two cells in plain VBA
(vba/Walkthrough.bas). Nothing here is volatile: the two cells are inputs.
"""

from __future__ import annotations

from xlsxwriter.format import Format
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from .. import explain, network
from . import layout as L

STEP, PHASE, SPEED = L.WALK_STEP_NAME, L.IN_WALK_PHASE.name, L.IN_WALK_SPEED.name
LAST_PHASE = len(explain.PHASES)
#: The defined names of the texts, one per quantity: ``Explain_h1`` … ``Explain_new_w8``.
EXPLAIN_NAMES = {q: f"{L.WALK_EXPLAIN_PREFIX}{q}" for q in explain.QUANTITIES}
#: Every defined name the walkthrough adds beside the inputs' (WalkPhase and WalkSpeed are inputs).
NAMES = (STEP, *EXPLAIN_NAMES.values())
#: The derivation's lines (sheets.DERIVATION, top to bottom) and the phases each belongs to.
DERIVATION_PHASES = ((1, 2), (3,), (4,), (4,), (3, 4), (5,))


def table_name(q: str) -> str:
    """The Backprop table's column for an explain name (``dE_dw5`` is ``dE/dw5`` there)."""
    return q.replace("dE_dw", "dE/dw")


def table_phase(column: str) -> int | None:
    """The phase that computes a Backprop table column (None: a given number or a weight);
    the path columns (∂E1/∂a_h1, …) feed the hidden deltas: phase 4."""
    if column in L.BACKPROP_PATHS or column.startswith("dE_da_h"):
        return 4
    return explain.PHASE_OF.get(column.replace("dE/dw", "dE_dw"))


def shown(column: str, expression: str) -> str:
    """A formula showing ``expression`` (the column's value) once its phase has come, else ""."""
    k = table_phase(column)
    return f"={expression}" if k is None else f'=IF({PHASE}<{k},"",{expression})'


def cf_formats(book: Workbook) -> dict[str, Format]:
    """The highlights' formats (conditional formats): ``walk_now`` and ``walk_row``."""
    return {"walk_now": book.add_format(L.WALK_NOW), "walk_row": book.add_format(L.WALK_ROW)}


def _phase_test(phases: tuple[int, ...]) -> str:
    tests = [f"{PHASE}={k}" for k in phases]
    return tests[0] if len(tests) == 1 else f"OR({','.join(tests)})"


def highlight(ws: Worksheet, fmt: dict, cells: tuple[int, int, int, int], phases: tuple[int, ...]) -> None:
    """Highlight ``cells`` (first row, first col, last row, last col) while WalkPhase is one of ``phases``."""
    ws.conditional_format(*cells, {"type": "formula", "criteria": f"={_phase_test(phases)}", "format": fmt["walk_now"]})


def diagram_phases(column: str) -> tuple[int, ...]:
    """When a diagram cell showing ``column`` is highlighted: in its phase; a weight while its
    gradient is computed (3: w5..w8, 4: w1..w4) and in the update."""
    if column in ("w5", "w6", "w7", "w8"):
        return (3, 5)
    if column in ("w1", "w2", "w3", "w4"):
        return (4, 5)
    k = table_phase(column)
    return () if k is None else (k,)


# --- the inputs ----------------------------------------------------------------------------------
PHASE_MESSAGE = "1 forward, 2 error, 3 output layer's gradients, 4 hidden layer's gradients (the two paths), 5 update"


def _phase_name_formula() -> str:
    names = ",".join(f'"{k}: {name}"' for k, name in enumerate(explain.PHASES, start=1))
    return f'=IF(AND(ISNUMBER({PHASE}),{PHASE}>=1,{PHASE}<{LAST_PHASE + 1}),CHOOSE({PHASE},{names}),"")'


def write_inputs(book: Workbook, ws: Worksheet, fmt: dict) -> None:
    """The WalkPhase and WalkSpeed cells (label, yellow input, note), validated, and the name
    WalkStep on the show step's cell."""
    book.define_name(STEP, "=" + L.IN_SHOW_STEP.ref)
    rules = (
        (L.IN_WALK_PHASE, 1, LAST_PHASE, PHASE_MESSAGE),
        (L.IN_WALK_SPEED, 1, L.WALK_MAX_SPEED, "Seconds per phase when Play runs the walkthrough."),
    )
    for inp, lo, hi, message in rules:
        ws.write(inp.row, 0, inp.label, fmt["label"])
        ws.write_number(inp.row, inp.col, float(inp.default), fmt["input"])
        ws.data_validation(
            inp.cell,
            {
                "validate": "integer",
                "criteria": "between",
                "minimum": lo,
                "maximum": hi,
                "error_title": "xl-backprop",
                "error_message": f"{inp.label}: expected a whole number from {lo} to {hi}",
                "input_title": inp.label,
                "input_message": message,
            },
        )
    phase = L.IN_WALK_PHASE
    current = explain.PHASES[int(phase.default) - 1]
    ws.write_formula(phase.row, phase.col + 1, _phase_name_formula(), fmt["note"], f"{int(phase.default)}: {current}")
    speed = L.IN_WALK_SPEED
    ws.write(speed.row, speed.col + 1, f"{speed.name} · s per phase", fmt["note"])


# --- the texts and the values they read ------------------------------------------------------------
#: The values the texts read, one cell each: the step's parameters, then every quantity.
VALUE_NAMES = (*explain.PARAMETERS, *explain.QUANTITIES)


def value_row(name: str) -> int:
    """Zero-based row of ``name``'s value cell (column B), under the texts."""
    return L.WALK_EXPLAIN_ROW + len(explain.QUANTITIES) + 2 + VALUE_NAMES.index(name)


#: The quantities a step takes as the mean over the examples, and each one's value for one
#: example from its operands (``name: (a, operator, b)``), as the table's single-example rules.
MEAN_QUANTITIES = ("E_total", *explain.GRADIENT_QUANTITIES)
PER_EXAMPLE = {
    "E_total": ("E1", "+", "E2"),
    **{
        f"dE_dw{k}": (d, "*", x)
        for k, (d, x) in enumerate(
            (
                ("d_h1", "i1"),
                ("d_h1", "i2"),
                ("d_h2", "i1"),
                ("d_h2", "i2"),
                ("d_o1", "a_h1"),
                ("d_o1", "a_h2"),
                ("d_o2", "a_h1"),
                ("d_o2", "a_h2"),
            ),
            start=1,
        )
    },
}
#: The cells of the activations' codes the texts follow (named formulas of the dropdowns).
CODES = {"hidden": L.ACT_CODE_NAMES[L.IN_HIDDEN_ACT.name], "output": L.ACT_CODE_NAMES[L.IN_OUTPUT_ACT.name]}
COUNT, SHOWN = L.EXAMPLE_COUNT.name, L.IN_EXAMPLE_SHOWN.name


def example_row(name: str) -> int:
    """Zero-based row of the one-example value of a ``MEAN_QUANTITIES`` name, under the value cells."""
    return value_row(VALUE_NAMES[-1]) + 2 + MEAN_QUANTITIES.index(name)


LAST_ROW = example_row(MEAN_QUANTITIES[-1])  #: zero-based: the walkthrough's last row


def value_cells() -> dict[str, str]:
    """name -> its value cell, absolute (``$B$170``): what ``explain.excel_formula`` reads."""
    return {name: f"$B${value_row(name) + 1}" for name in VALUE_NAMES}


def example_cell(name: str) -> str:
    return f"$B${example_row(name) + 1}"


def _column_range(column: str) -> str:
    c = L.col_letters(L.BACKPROP_COLUMNS.index(column))
    first = L.BACKPROP_FIRST_ROW + 1
    return f"${c}${first}:${c}${first + L.BACKPROP_STEPS - 1}"


def value_formula(name: str) -> str:
    """The value cell's formula: the table at WalkStep, INDEX(<column>, WalkStep+1); new_w<k> as
    the table's update rule, so that the last step has one too. Blank before the quantity's phase."""
    cells = value_cells()
    if name.startswith("new_w"):
        k = name[len("new_w") :]
        expression = f"{cells['w' + k]}-{cells['lr']}*{cells['dE_dw' + k]}"
    else:
        expression = f"INDEX({_column_range(table_name(name))},{STEP}+1)"
    k = explain.PHASE_OF.get(name)
    return f"={expression}" if k is None else f'=IF({PHASE}<{k},"",{expression})'


def example_formula(name: str) -> str:
    """The one-example value of a ``MEAN_QUANTITIES`` name, from the value cells of its operands."""
    cells = value_cells()
    a, op, b = PER_EXAMPLE[name]
    return f'=IF({PHASE}<{explain.PHASE_OF[name]},"",{cells[a]}{op}{cells[b]})'


def _mean_words(q: str) -> tuple[str, str]:
    """What is said before and after the number of the mean, for a ``MEAN_QUANTITIES`` name."""
    if q == "E_total":
        return "; E_total is the mean over the ", " examples: "
    return "; the step uses the mean over the ", " examples: "


def example_text(q: str, text: str, count: int, shown: int, mean: float, digits: int = explain.DEFAULT_DIGITS) -> str:
    """``Explain_<q>`` for ``count`` examples: ``text`` (explain's, for the shown example) as it is
    for one; else, for E_total and the ∂E/∂w, prefixed with the example shown and followed by the
    mean over the examples (``mean``, the table's value)."""
    if count <= 1 or q not in MEAN_QUANTITIES:
        return text
    before, after = _mean_words(q)
    return f"example {shown}: {text}{before}{count}{after}{explain.number(mean, digits)}"


def explain_formula(q: str) -> str:
    """``Explain_<q>``: explain's formula over the value cells, blank before q's phase; following
    the chosen activations, and for several examples ``example_text``'s words."""
    if q not in MEAN_QUANTITIES:
        return f'=IF({PHASE}<{explain.PHASE_OF[q]},"",{explain.excel_formula(q, value_cells(), codes=CODES)[1:]})'
    cells = {**value_cells(), q: example_cell(q)}
    text = explain.excel_formula(q, cells, codes=CODES)[1:]
    before, after = _mean_words(q)
    many = f"{COUNT}>1"
    mean = explain.number_formula(value_cells()[q])
    return (
        f'=IF({PHASE}<{explain.PHASE_OF[q]},"",IF({many},"example "&{SHOWN}&": ","")&{text}'
        f'&IF({many},"{before}"&{COUNT}&"{after}"&{mean},""))'
    )


def step_values(cached: dict, step: int) -> dict[str, float]:
    """The value cells' numbers at ``step`` of the template's table (``cached``: its columns)."""
    values = {name: float(cached[table_name(name)][step]) for name in VALUE_NAMES if not name.startswith("new_w")}
    for k in range(1, 9):
        values[f"new_w{k}"] = values[f"w{k}"] - values["lr"] * values[f"dE_dw{k}"]
    return values


def write_texts(book: Workbook, ws: Worksheet, fmt: dict, cached: dict) -> None:
    """Below the table: the title, the ``Explain_<q>`` texts, then the value cells they read,
    each storing what it shows at the template's step and phase."""
    step, phase = int(L.IN_SHOW_STEP.default), int(L.IN_WALK_PHASE.default)
    values = step_values(cached, step)
    r = L.WALK_TITLE_ROW
    ws.write(
        r,
        0,
        "Walk through one step: every formula with its numbers, at "
        f"{STEP} ({L.IN_SHOW_STEP.cell}) and {PHASE} ({L.IN_WALK_PHASE.cell})",
        fmt["h2"],
    )
    ws.write(
        r + 1,
        0,
        f"Phases: {PHASE_MESSAGE}. A value shows from its phase on: predict it first. "
        "Ribbon: Walk through → Start, Back, Next, Play.",
        fmt["note"],
    )
    for i, q in enumerate(explain.QUANTITIES):
        row = L.WALK_EXPLAIN_ROW + i
        ws.write_string(row, 0, explain.SYMBOLS[q], fmt["label"])
        text = explain.text(q, values) if explain.PHASE_OF[q] <= phase else ""
        ws.write_formula(row, 1, explain_formula(q), fmt["text"], text)
        book.define_name(EXPLAIN_NAMES[q], f"={L.SHEET_BACKPROP}!$B${row + 1}")
    ws.write(
        value_row(VALUE_NAMES[0]) - 1, 0, f"The values at {STEP} the texts read (blank before their phase)", fmt["h2"]
    )
    for name in VALUE_NAMES:
        k = explain.PHASE_OF.get(name, 0)
        style = fmt["grad"] if name.startswith("d") else fmt["value"]
        ws.write_string(value_row(name), 0, explain.SYMBOLS[name], fmt["label"])
        ws.write_formula(value_row(name), 1, value_formula(name), style, values[name] if k <= phase else "")
    ws.write(
        example_row(MEAN_QUANTITIES[0]) - 1,
        0,
        f"The same for the example shown ({SHOWN}), where the step uses the mean over the examples",
        fmt["h2"],
    )
    for name in MEAN_QUANTITIES:
        a, op, b = PER_EXAMPLE[name]
        value = values[a] + values[b] if op == "+" else values[a] * values[b]
        style = fmt["grad"] if name.startswith("d") else fmt["value"]
        ws.write_string(example_row(name), 0, explain.SYMBOLS[name], fmt["label"])
        ws.write_formula(
            example_row(name), 1, example_formula(name), style, value if explain.PHASE_OF[name] <= phase else ""
        )


# --- highlights on the table and the derivation ------------------------------------------------------
def highlight_table(ws: Worksheet, fmt: dict) -> None:
    """The table's row at WalkStep in a light fill, its current phase's columns bright; in the
    update, the weights one row down (the row the update writes)."""
    first, last = L.BACKPROP_FIRST_ROW, L.BACKPROP_FIRST_ROW + L.BACKPROP_STEPS - 1
    row = f"$A{first + 1}"
    by_phase: dict[int, list[str]] = {}
    for j, name in enumerate(L.BACKPROP_COLUMNS):
        k = 5 if name in network.WEIGHT_NAMES else table_phase(name)
        if k is not None:
            c = L.col_letters(j)
            by_phase.setdefault(k, []).append(f"{c}{first + 1}:{c}{last + 1}")
    for k, ranges in sorted(by_phase.items()):
        at = f"{STEP}+1" if k == LAST_PHASE else STEP
        r1, c1 = L.rowcol(ranges[0].split(":")[0])
        ws.conditional_format(
            r1,
            c1,
            last,
            c1,
            {
                "type": "formula",
                "criteria": f"=AND({row}={at},{PHASE}={k})",
                "format": fmt["walk_now"],
                "multi_range": " ".join(ranges),
            },
        )
    ws.conditional_format(
        first,
        0,
        last,
        len(L.BACKPROP_COLUMNS) - 1,
        {"type": "formula", "criteria": f"={row}={STEP}", "format": fmt["walk_row"]},
    )


def highlight_derivation(ws: Worksheet, fmt: dict) -> None:
    """Each line of the derivation while its phase is shown."""
    r, c = L.rowcol(L.DERIVATION_TOP_LEFT)
    for k, phases in enumerate(DERIVATION_PHASES):
        highlight(ws, fmt, (r + k, c, r + k, c), phases)
