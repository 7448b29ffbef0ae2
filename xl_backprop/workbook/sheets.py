"""The template's sheets, rendered with XlsxWriter at the places and in the styles ``layout`` gives.

Native formulas on Backprop compute the whole worked example in any spreadsheet application;
the UDFs and Learning rates sheets call the Python functions of ``xl_backprop.udfs``, which
need Excel with xlwings. Every formula cell stores the value it computes for the template's own
inputs -- native formulas from the engine, UDF blocks from the UDFs themselves, every cell of a
spill range -- so a viewer that does not recalculate (Protected View, file previews) shows the
right numbers, and the charts' cached data are those numbers too.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
from xlsxwriter.format import Format
from xlsxwriter.utility import xl_col_to_name, xl_rowcol_to_cell
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from .. import activations, analysis, explain, network, udfs
from ..limits import UDF_MAX_MAP_STEPS
from ..macros import ACTIONS
from ..palette import LR_PREFIX, lr_label
from . import examples_sheet, walkthrough
from . import layout as L

#: Print scale (percent) of the wide sheets: 11-point text prints at about 7.7 points.
PRINT_SCALE = 70


def col(name: str) -> str:
    """Column letter of a Backprop table (or grid) column, e.g. ``col("E_total") == "AA"``."""
    return xl_col_to_name(L.backprop_col(name))


def _formats(book: Workbook) -> dict[str, Format]:
    """One XlsxWriter format per named style of ``layout.STYLES``."""
    return {k: book.add_format(v) for k, v in L.STYLES.items()}


class BlockFormula(NamedTuple):
    """One formula of a sheet: the block it fills (first and last cell), its text, the styles of
    its cells (a style name, or ``layout.Styles``), and whether it is a dynamic array (a spill,
    or a one-cell array whose ranges are computed element by element) or a plain formula."""

    first: str
    last: str
    formula: str
    styles: str | L.Styles
    spill: bool = True


def _style_at(fmt: dict[str, Format], styles: str | L.Styles) -> Callable[[int, int], Format]:
    """``styles`` as write_spill takes it: the format of the block's cell (i, j)."""
    if isinstance(styles, str):
        return lambda i, j: fmt[styles]
    return lambda i, j: fmt[styles.at(i, j)]


def _write_value(ws: Worksheet, row: int, col: int, value, cell_format) -> None:
    """A stored result as a plain cell: a number, a boolean or a text (never read as a formula)."""
    if isinstance(value, (bool, np.bool_)):
        ws.write_boolean(row, col, bool(value), cell_format)
    elif isinstance(value, str):
        ws.write_string(row, col, value, cell_format)
    else:
        ws.write_number(row, col, float(value), cell_format)


def write_spill(ws: Worksheet, first: str, formula: str, values, formats) -> None:
    """A dynamic-array formula at ``first`` spilling ``values`` (a 2-D block), stored as Excel
    stores a spill: the formula and the first value in the anchor, every other value as a plain
    cell of the formula's range. ``formats``: one format, or ``formats(i, j)`` per cell."""
    fmt_at = formats if callable(formats) else (lambda i, j: formats)
    values = [list(row) for row in values]
    r1, c1 = L.rowcol(first)
    r2, c2 = r1 + len(values) - 1, c1 + len(values[0]) - 1
    anchor = values[0][0]
    ws.write_dynamic_array_formula(
        r1, c1, r2, c2, formula, fmt_at(0, 0), anchor if isinstance(anchor, str) else float(anchor)
    )
    for i, row in enumerate(values):
        for j, value in enumerate(row):
            if i or j:  # XlsxWriter pads the range with zeros; these are the real results
                _write_value(ws, r1 + i, c1 + j, value, fmt_at(i, j))


def _print_setup(
    ws: Worksheet,
    area: str | None,
    *,
    rows: tuple[int, int] | None = None,
    first_column: bool = False,
    scale: int = 100,
) -> None:
    """Landscape A4 at a readable fixed scale, the sheet's content as print area (None: the
    used range), titles repeated on every page, the sheet's name and page number in the footer."""
    ws.set_landscape()
    ws.set_paper(9)  # A4
    if area is not None:
        ws.print_area(area)
    ws.set_print_scale(scale)
    if rows is not None:
        ws.repeat_rows(*rows)
    if first_column:
        ws.repeat_columns(0)
    ws.set_footer("&L&A&RPage &P of &N")


# --- Backprop --------------------------------------------------------------------------------
def _engine_rows(steps: int, lr: float = L.IN_LR.default):
    """The engine's numbers for every table row (at learning rate ``lr``), for the formulas'
    cached results."""
    res = network.train(
        [lr],
        steps,
        weights=network.DEFAULT_WEIGHTS,
        inputs=network.DEFAULT_INPUTS,
        targets=network.DEFAULT_TARGETS,
        biases=network.DEFAULT_BIASES,
        record=True,
    )
    w = res.weights[:, 0, :]
    fwd = network.forward(
        w, inputs=network.DEFAULT_INPUTS, targets=network.DEFAULT_TARGETS, biases=network.DEFAULT_BIASES
    )
    grads = network.gradients(
        w, inputs=network.DEFAULT_INPUTS, targets=network.DEFAULT_TARGETS, biases=network.DEFAULT_BIASES
    )
    cols: dict[str, np.ndarray] = {f"w{k + 1}": w[:, k] for k in range(8)}
    cols.update({name: getattr(fwd, name) for name in network.Forward._fields})
    cols.update({f"dE/dw{k + 1}": grads[:, k] for k in range(8)})
    chain = network.chain(
        w, inputs=network.DEFAULT_INPUTS, targets=network.DEFAULT_TARGETS, biases=network.DEFAULT_BIASES
    )
    cols.update(chain._asdict())
    given = {
        "t1": network.DEFAULT_TARGETS[0],
        "t2": network.DEFAULT_TARGETS[1],
        "i1": network.DEFAULT_INPUTS[0],
        "i2": network.DEFAULT_INPUTS[1],
        "b1": network.DEFAULT_BIASES[0],
        "b2": network.DEFAULT_BIASES[1],
        "lr": lr,
    }
    for k, v in given.items():
        cols[k] = np.full(steps, float(v))
    # the per-example grid: the course's one example in slot #1, the empty slots 0
    for q in L.GRID_QUANTITIES:
        for j in range(1, L.EXAMPLE_ROWS + 1):
            cols[L.grid_name(q, j)] = cols["E_total" if q == "E" else q] if j == 1 else np.zeros(steps)
    return cols


def backprop_at(name: str, step: int) -> str:
    """Where ``table_formula`` finds ``name`` at ``step`` on the Backprop sheet (its table)."""
    return f"{col(name)}{L.BACKPROP_FIRST_ROW + step + 1}"


_HIDDEN, _OUTPUT = L.ACT_CODE_NAMES[L.IN_HIDDEN_ACT.name], L.ACT_CODE_NAMES[L.IN_OUTPUT_ACT.name]
_SLOPE = repr(activations.LEAKY_SLOPE)


def activation(code: str, x: str) -> str:
    """f(x) of the layer whose activation's code is the named formula ``code``, in
    ``activations.NAMES`` order: sigmoid, tanh, relu, leaky_relu, linear (``x``: a cell, or a
    sum, bracketed where an operator binds it)."""
    xb = x if re.fullmatch(r"\$?[A-Z]+\$?\d+", x) else f"({x})"
    return f"CHOOSE({code},1/(1+EXP(-{xb})),TANH({x}),MAX(0,{x}),IF({x}>0,{x},{_SLOPE}*{xb}),{x})"


def backed(code: str, g: str, a: str) -> str:
    """g·f'(x), f' written in the unit's output ``a`` as ``activations`` writes it (the sigmoid's
    as the course does, g·a·(1 − a))."""
    return f"CHOOSE({code},{g}*{a}*(1-{a}),{g}*(1-{a}^2),{g}*IF({a}>0,1,0),{g}*IF({a}>0,1,{_SLOPE}),{g}*1)"


def _slots(q: str, step: int, at: Callable[[str, int], str]) -> str:
    """Quantity ``q`` of every slot of the grid on ``step``'s row: one row range."""
    return f"{at(L.grid_name(q, 1), step)}:{at(L.grid_name(q, L.EXAMPLE_ROWS), step)}"


def _mean_rules(step: int, at: Callable[[str, int], str]) -> dict[str, str]:
    """E_total and dE/dw1..8: means over the examples in use of the grid's values."""
    n = L.EXAMPLE_COUNT.name
    rules = {"E_total": f"=SUM({_slots('E', step, at)})/{n}"}
    for k, (delta, x) in enumerate((("d_h1", "i1"), ("d_h1", "i2"), ("d_h2", "i1"), ("d_h2", "i2")), start=1):
        rules[f"dE/dw{k}"] = f"=SUMPRODUCT({_slots(delta, step, at)},{L.EXAMPLE_SLOTS[x].name})/{n}"
    for k, (delta, a) in enumerate((("d_o1", "a_h1"), ("d_o1", "a_h2"), ("d_o2", "a_h1"), ("d_o2", "a_h2")), start=5):
        rules[f"dE/dw{k}"] = f"=SUMPRODUCT({_slots(delta, step, at)},{_slots(a, step, at)})/{n}"
    return rules


def _one_example_rules(c: dict[str, str]) -> dict[str, str]:
    """E_total and dE/dw1..8 of one example, from its own row's cells ``c``."""
    return {
        "E_total": f"={c['E1']}+{c['E2']}",
        "dE/dw1": f"={c['d_h1']}*{c['i1']}",
        "dE/dw2": f"={c['d_h1']}*{c['i2']}",
        "dE/dw3": f"={c['d_h2']}*{c['i1']}",
        "dE/dw4": f"={c['d_h2']}*{c['i2']}",
        "dE/dw5": f"={c['d_o1']}*{c['a_h1']}",
        "dE/dw6": f"={c['d_o1']}*{c['a_h2']}",
        "dE/dw7": f"={c['d_o2']}*{c['a_h1']}",
        "dE/dw8": f"={c['d_o2']}*{c['a_h2']}",
    }


def grid_formula(q: str, j: int, step: int, at: Callable[[str, int], str] = backprop_at) -> str:
    """The formula of quantity ``q`` of slot ``j`` (1-based) on ``step``'s row of the per-example
    grid: the table's rule for that example (its i1, i2, t1, t2 from the Examples sheet's slot
    rows), 0 where the slot holds no example."""
    w = {name: at(name, step) for name in network.WEIGHT_NAMES}
    b1, b2 = at("b1", step), at("b2", step)
    g = {x: at(L.grid_name(x, j), step) for x in L.GRID_QUANTITIES}
    x = {name: L.slot_ref(name, j) for name in L.EXAMPLE_SLOT_ROWS}
    rules = {
        "a_h1": activation(_HIDDEN, f"{w['w1']}*{x['i1']}+{w['w2']}*{x['i2']}+{b1}"),
        "a_h2": activation(_HIDDEN, f"{w['w3']}*{x['i1']}+{w['w4']}*{x['i2']}+{b1}"),
        "a_o1": activation(_OUTPUT, f"{w['w5']}*{g['a_h1']}+{w['w6']}*{g['a_h2']}+{b2}"),
        "a_o2": activation(_OUTPUT, f"{w['w7']}*{g['a_h1']}+{w['w8']}*{g['a_h2']}+{b2}"),
        "d_o1": backed(_OUTPUT, f"({g['a_o1']}-{x['t1']})", g["a_o1"]),
        "d_o2": backed(_OUTPUT, f"({g['a_o2']}-{x['t2']})", g["a_o2"]),
        "d_h1": backed(_HIDDEN, f"({g['d_o1']}*{w['w5']}+{g['d_o2']}*{w['w7']})", g["a_h1"]),
        "d_h2": backed(_HIDDEN, f"({g['d_o1']}*{w['w6']}+{g['d_o2']}*{w['w8']})", g["a_h2"]),
        "E": f"0.5*({x['t1']}-{g['a_o1']})^2+0.5*({x['t2']}-{g['a_o2']})^2",
    }
    return f"=IF({x['used']}=1,{rules[q]},0)"


def shown_formula(name: str) -> str:
    """Step 0 of a per-example given (t1, t2, i1, i2): the shown example's, #N/A when it is none."""
    return f"=INDEX({L.EXAMPLE_SLOTS[name].name},1,{L.SHOWN_SLOT.name})"


def table_formula(name: str, step: int, at: Callable[[str, int], str] = backprop_at, *, mean: bool = True) -> str:
    """The native formula of one Backprop table cell (the rule a student would copy down).
    ``at(name, step)`` is the cell that holds ``name`` at ``step``: Backprop's table by default;
    the Learning rates blocks pass their own (one block per learning rate, the same rules).
    The forward and chain columns are the shown example's; E_total and dE/dw1..8 are means over
    every example, from the grid (``grid_formula``) right of the table -- or, ``mean=False``,
    the one example's own (E1 + E2, δh1·i1, ...: the Practice sheet's single step)."""
    if name in L.GRID_COLUMNS:
        q, j = name.split("#")
        return grid_formula(q, int(j), step, at)
    if name in ("t1", "t2", "i1", "i2"):
        return shown_formula(name) if step == 0 else f"={at(name, step - 1)}"
    if name in ("b1", "b2", "lr"):
        if step == 0:
            return f"=IF(ISNUMBER(in_{name}),in_{name},NA())"
        return f"={at(name, step - 1)}"
    if name in network.WEIGHT_NAMES:
        if step == 0:
            return f"=IF(ISNUMBER(in_{name}),in_{name},NA())"
        return f"={at(name, step - 1)}-{at('lr', step - 1)}*{at('dE/d' + name, step - 1)}"
    if mean and (name == "E_total" or name.startswith("dE/dw")):
        return _mean_rules(step, at)[name]
    c = {n: at(n, step) for n in L.BACKPROP_COLUMNS}  # this row's cells
    if name == "E_total" or name.startswith("dE/dw"):
        return _one_example_rules(c)[name]
    rules = {
        "h1": f"={c['w1']}*{c['i1']}+{c['w2']}*{c['i2']}+{c['b1']}",
        "h2": f"={c['w3']}*{c['i1']}+{c['w4']}*{c['i2']}+{c['b1']}",
        "a_h1": "=" + activation(_HIDDEN, c["h1"]),
        "a_h2": "=" + activation(_HIDDEN, c["h2"]),
        "o1": f"={c['w5']}*{c['a_h1']}+{c['w6']}*{c['a_h2']}+{c['b2']}",
        "o2": f"={c['w7']}*{c['a_h1']}+{c['w8']}*{c['a_h2']}+{c['b2']}",
        "a_o1": "=" + activation(_OUTPUT, c["o1"]),
        "a_o2": "=" + activation(_OUTPUT, c["o2"]),
        "E1": f"=0.5*({c['t1']}-{c['a_o1']})^2",
        "E2": f"=0.5*({c['t2']}-{c['a_o2']})^2",
        # the chain rule, one value per cell (network.chain), for the shown example
        "d_o1": "=" + backed(_OUTPUT, f"({c['a_o1']}-{c['t1']})", c["a_o1"]),
        "d_o2": "=" + backed(_OUTPUT, f"({c['a_o2']}-{c['t2']})", c["a_o2"]),
        "dE1_da_h1": f"={c['d_o1']}*{c['w5']}",
        "dE2_da_h1": f"={c['d_o2']}*{c['w7']}",
        "dE_da_h1": f"={c['dE1_da_h1']}+{c['dE2_da_h1']}",
        "dE1_da_h2": f"={c['d_o1']}*{c['w6']}",
        "dE2_da_h2": f"={c['d_o2']}*{c['w8']}",
        "dE_da_h2": f"={c['dE1_da_h2']}+{c['dE2_da_h2']}",
        "d_h1": "=" + backed(_HIDDEN, c["dE_da_h1"], c["a_h1"]),
        "d_h2": "=" + backed(_HIDDEN, c["dE_da_h2"], c["a_h2"]),
    }
    return rules[name]


def _column_range(name: str) -> str:
    first = L.BACKPROP_FIRST_ROW + 1
    last = first + L.BACKPROP_STEPS - 1
    return f"${col(name)}${first}:${col(name)}${last}"


#: The chain-rule text beside the diagram, one line per row: each line is a text, or a tuple of
#: pieces where ``(text, "E1")`` is written in the colour of the path through o1 (``E2``: o2).
DERIVATION_TITLE = "The chain rule, as the table computes each row  (σ'(x) = σ(x)·(1 − σ(x)))"
DERIVATION: tuple[str | tuple, ...] = (
    "Forward:  h1 = w1·i1 + w2·i2 + b1,  a_h1 = σ(h1);  o1 = w5·a_h1 + w6·a_h2 + b2,  a_o1 = σ(o1);"
    "  E_total = E1 + E2 = ½(t1 − a_o1)² + ½(t2 − a_o2)²",
    "Output deltas (columns δo1, δo2):  δo1 = (a_o1 − t1)·a_o1·(1 − a_o1),  δo2 = (a_o2 − t2)·a_o2·(1 − a_o2)",
    (
        "Two paths into h1:  ∂E/∂a_h1 = ",
        ("∂E1/∂a_h1 (= δo1·w5, through o1)", "E1"),
        " + ",
        ("∂E2/∂a_h1 (= δo2·w7, through o2)", "E2"),
        ";  into h2:  ∂E/∂a_h2 = ",
        ("∂E1/∂a_h2 (= δo1·w6)", "E1"),
        " + ",
        ("∂E2/∂a_h2 (= δo2·w8)", "E2"),
    ),
    "Hidden deltas (columns δh1, δh2):  δh1 = ∂E/∂a_h1·a_h1·(1 − a_h1),  δh2 = ∂E/∂a_h2·a_h2·(1 − a_h2)",
    "Gradients, each in the column beside its weight:  dE/dw1 = δh1·i1,  dE/dw2 = δh1·i2,  dE/dw3 = δh2·i1,"
    "  dE/dw4 = δh2·i2;  dE/dw5 = δo1·a_h1,  dE/dw6 = δo1·a_h2,  dE/dw7 = δo2·a_h1,  dE/dw8 = δo2·a_h2",
    "Update: the weight one row down is  w − lr·dE/dw,  every gradient taken from this row.",
    (
        "Why dE/dw1..4 are ~100–400× smaller than dE/dw5..8 (step 0, defaults): the two paths into h1, ",
        ("+0.0569", "E1"),
        " and ",
        ("−0.0419", "E2"),
        ", nearly cancel (sum 0.0151); then σ' ≤ 0.25 and inputs ≤ 0.1.",
    ),
    "Change any yellow cell in column B: the table, the diagram and the chart follow.",
)


class Pick(NamedTuple):
    """A piece of a derivation line that follows a choice: ``options[code − 1]``, ``code`` the value
    of the named formula ``code`` (HiddenActCode, OutputActCode; activations.NAMES order)."""

    code: str
    options: tuple[str, ...]


class Many(NamedTuple):
    """A piece that reads ``one`` for one example in use, ``several`` for more (ExampleCount > 1)."""

    one: str
    several: str


#: Each activation's derivative, as the derivation's title writes it (activations.NAMES order).
DERIVATIVES = {
    "sigmoid": "σ'(x) = σ(x)·(1 − σ(x))",
    "tanh": "tanh'(x) = 1 − tanh²(x)",
    "relu": "relu'(x) = 1 if x > 0, else 0",
    "leaky_relu": f"leaky_relu'(x) = 1 if x > 0, else {activations.LEAKY_SLOPE:g}",
    "linear": "linear'(x) = 1",
}


def _symbols(code: str) -> Pick:
    return Pick(code, tuple(activations.ACTIVATIONS[n].symbol for n in activations.NAMES))


def _slopes(code: str, a: str) -> Pick:
    """·f'(x) of the unit whose output is ``a``, as the explanations write it (none for linear)."""
    return Pick(code, tuple("".join(_symbolic_terms(explain.slope_terms(n, a))) for n in activations.NAMES))


def _symbolic_terms(terms: tuple) -> list[str]:
    return [t.symbol if isinstance(t, explain.Ref) else t for t in terms]


_E_TOTAL = "E1 + E2 = ½(t1 − a_o1)² + ½(t2 − a_o2)²"
#: The derivation's lines that follow the dropdowns (HiddenActivation, OutputActivation) and the
#: number of examples, by their place in ``DERIVATION``: pieces of text, ``Pick`` and ``Many``.
#: With the defaults (sigmoid, sigmoid, the course's one example) each reads as ``DERIVATION``'s.
DERIVATION_FOLLOWS: dict[int, tuple] = {
    0: (
        "Forward:  h1 = w1·i1 + w2·i2 + b1,  a_h1 = ",
        _symbols(_HIDDEN),
        "(h1);  o1 = w5·a_h1 + w6·a_h2 + b2,  a_o1 = ",
        _symbols(_OUTPUT),
        "(o1);  E_total = ",
        Many(_E_TOTAL, f"the mean over the examples of {_E_TOTAL}"),
    ),
    1: (
        "Output deltas (columns δo1, δo2):  δo1 = (a_o1 − t1)",
        _slopes(_OUTPUT, "a_o1"),
        ",  δo2 = (a_o2 − t2)",
        _slopes(_OUTPUT, "a_o2"),
    ),
    3: (
        "Hidden deltas (columns δh1, δh2):  δh1 = ∂E/∂a_h1",
        _slopes(_HIDDEN, "a_h1"),
        ",  δh2 = ∂E/∂a_h2",
        _slopes(_HIDDEN, "a_h2"),
    ),
    4: (
        "Gradients, each in the column beside its weight",
        Many("", " (the mean over the examples, each example's as written)"),
        ":  dE/dw1 = δh1·i1,  dE/dw2 = δh1·i2,  dE/dw3 = δh2·i1,"
        "  dE/dw4 = δh2·i2;  dE/dw5 = δo1·a_h1,  dE/dw6 = δo1·a_h2,  dE/dw7 = δo2·a_h1,  dE/dw8 = δo2·a_h2",
    ),
}


def _symbol_formula(code: str) -> str:
    """The symbol of the activation a code chooses (σ, tanh, …), as a formula."""
    return f"={_join_pieces((_symbols(code),))}"


def subtitle(hidden: str, output: str) -> str:
    """The Backprop sheet's line under its title, naming the chosen activations."""
    kind = hidden if hidden == output else f"{hidden}-{output}"
    return (
        f"A 2-2-2 {kind} network learning two targets by gradient descent, in plain formulas. "
        "Yellow cells are yours to change."
    )


def subtitle_formula() -> str:
    names = ",".join(_quoted(n) for n in activations.NAMES)
    hidden, output = f"CHOOSE({_HIDDEN},{names})", f"CHOOSE({_OUTPUT},{names})"
    head, tail = subtitle("@", "@").split("@")
    return f'={_quoted(head)}&IF({_HIDDEN}={_OUTPUT},{hidden},{hidden}&"-"&{output})&{_quoted(tail)}'


def derivation_title(hidden: str, output: str) -> str:
    """The derivation's title for the chosen activations: one derivative, or one per layer."""
    head = "The chain rule, as the table computes each row  ("
    if hidden == output:
        return f"{head}{DERIVATIVES[hidden]})"
    return f"{head}hidden: {DERIVATIVES[hidden]};  output: {DERIVATIVES[output]})"


def derivation_title_formula() -> str:
    """``derivation_title`` as an Excel formula of HiddenActCode and OutputActCode."""
    head = '"The chain rule, as the table computes each row  ("'
    options = ",".join(_quoted(DERIVATIVES[n]) for n in activations.NAMES)
    hidden, output = f"CHOOSE({_HIDDEN},{options})", f"CHOOSE({_OUTPUT},{options})"
    return f'={head}&IF({_HIDDEN}={_OUTPUT},{hidden},"hidden: "&{hidden}&";  output: "&{output})&")"'


def _quoted(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def derivation_line(k: int, hidden: str, output: str, examples: int = 1) -> str:
    """Line ``k`` of ``DERIVATION_FOLLOWS`` for the chosen activations and number of examples."""
    codes = {_HIDDEN: activations.NAMES.index(hidden), _OUTPUT: activations.NAMES.index(output)}
    out = []
    for piece in DERIVATION_FOLLOWS[k]:
        if isinstance(piece, Pick):
            out.append(piece.options[codes[piece.code]])
        elif isinstance(piece, Many):
            out.append(piece.several if examples > 1 else piece.one)
        else:
            out.append(piece)
    return "".join(out)


def derivation_formula(k: int) -> str:
    """``derivation_line`` as an Excel formula of the choices' codes and ExampleCount."""
    return "=" + _join_pieces(DERIVATION_FOLLOWS[k])


def _join_pieces(pieces: tuple) -> str:
    out = []
    for piece in pieces:
        if isinstance(piece, Pick):
            out.append(f"CHOOSE({piece.code},{','.join(_quoted(o) for o in piece.options)})")
        elif isinstance(piece, Many):
            out.append(f"IF({L.EXAMPLE_COUNT.name}>1,{_quoted(piece.several)},{_quoted(piece.one)})")
        else:
            out.append(_quoted(piece))
    return "&".join(out)


INPUT_NOTES = {
    "in_i1": "input 1",
    "in_i2": "input 2",
    "in_t1": "target 1",
    "in_t2": "target 2",
    "in_b1": "hidden bias",
    "in_b2": "output bias",
    "in_lr": "step size",
    "in_show_step": "WalkStep",
}


def _number_validation(ws: Worksheet, inp: L.Input, *, positive: bool = False) -> None:
    if positive:
        rule = {
            "validate": "decimal",
            "criteria": ">",
            "value": 0,
            "error_message": f"{inp.label}: expected a number greater than 0",
        }
    else:
        rule = {
            "validate": "decimal",
            "criteria": "between",
            "minimum": -1e6,
            "maximum": 1e6,
            "error_message": f"{inp.label}: expected a number between -1e6 and 1e6",
        }
    rule.update(
        {
            "error_title": "xl-backprop",
            "input_title": inp.label,
            "input_message": "Type a number; the sheet recalculates.",
        }
    )
    ws.data_validation(inp.cell, rule)


def signed(text: str, digits: str = "0.0000", sign: str = "") -> str:
    """A number format that writes ``text`` before the number and its sign after the text:
    ``"w5 = "0.0000;"w5 = −"0.0000`` reads "w5 = −2.0216", never "-w5 = 2.0216" (``sign``: what
    a positive number gets, e.g. "+")."""
    return f'"{text}{sign}"{digits};"{text}−"{digits};"{text}"{digits}'


def _rich(book: Workbook, pieces: tuple, base: dict) -> list:
    """``write_rich_string``'s arguments for pieces of text, ``(text, path)`` in the path's colour."""
    out: list = []
    for piece in pieces:
        if isinstance(piece, tuple):
            text, path = piece
            out += [book.add_format({**base, "font_color": L.PATH_COLORS[path], "bold": True}), text]
        else:
            out += [book.add_format(base), piece]
    return out


def _diagram(ws: Worksheet, book: Workbook, fmt: dict, cached: dict) -> None:
    """The computation graph drawn in cells, E3:R13: i -> h -σ-> a_h -> o -σ-> a_o -> E1, E2 ->
    E_total, and the two paths into each hidden unit under it. Values are formulas reading the
    table at the step in ``in_show_step``; lines are cell borders (X-shaped where they cross).
    Each value stores the table's value at the template's step (``cached``: the engine's columns)."""
    r0, c0 = L.rowcol(L.DIAGRAM_TOP_LEFT)
    shown = int(L.IN_SHOW_STEP.default)
    line = {"bottom": 2, "bottom_color": "#7F7F7F"}  # a line under a label on the upper row
    line_up = {"top": 2, "top_color": "#7F7F7F", "valign": "top"}  # over a label on the lower row

    def at(name: str) -> str:
        return f"INDEX({_column_range(name)},in_show_step+1)"

    def value(name: str) -> float:
        return float(cached[name][shown])

    def nf(extra: dict):
        return book.add_format(extra)

    def put(r: int, c: int, name: str, style: dict, c2: int | None = None) -> None:
        """The table's ``name`` at the shown step, in cell (r, c) or merged (r, c)..(r, c2)."""
        f = nf(style)
        if c2 is not None:
            ws.merge_range(r, c, r, c2, "", f)
        ws.write_formula(r, c, walkthrough.shown(name, at(name)), f, value(name))
        if phases := walkthrough.diagram_phases(name):  # the walkthrough's current phase, highlighted
            walkthrough.highlight(ws, fmt, (r, c, r, c if c2 is None else c2), phases)

    node = {
        "border": 2,
        "border_color": "#1F3864",
        "bg_color": "#DDEBF7",
        "align": "center",
        "valign": "vcenter",
        "bold": True,
        "num_format": signed("", "0.0000"),
    }
    name_style = nf({"align": "center", "font_color": "#1F3864", "bold": True})
    edge_label = {"align": "center", "valign": "bottom", "font_color": "#595959"}

    title = nf({"bold": True, "font_size": 12, "font_color": "#1F3864", "num_format": '"Network at step "0'})
    ws.merge_range(r0, c0, r0, c0 + 3, "", title)  # numbers do not overflow into empty cells
    ws.write_formula(r0, c0, "=in_show_step", title, shown)
    ws.write(
        r0,
        c0 + 4,
        f"(step {L.IN_SHOW_STEP.cell}, also Draw network's; phase {L.IN_WALK_PHASE.cell}: 1 forward · 2 error ·"
        f" 3 output gradients · 4 hidden gradients · 5 update; every formula with its numbers:"
        f" row {L.WALK_EXPLAIN_ROW + 1})",
        fmt["note"],
    )
    top, bottom = r0 + 2, r0 + 6  # rows of the upper and lower nodes
    ci, ch, cs1, ca, co, cs2, cao, ce = (c0 + k for k in (0, 4, 5, 6, 9, 10, 11, 12))
    for r, k, name_row in ((top, 1, top - 1), (bottom, 2, bottom + 1)):
        put(r, ci, f"i{k}", {**node, "num_format": "0.00##"}, ci + 1)
        ws.merge_range(name_row, ci, name_row, ci + 1, f"i{k}", name_style)
        for c, name in ((ch, f"h{k}"), (ca, f"a_h{k}"), (co, f"o{k}"), (cao, f"a_o{k}"), (ce, f"E{k}")):
            put(r, c, name, node)
            ws.write_string(name_row, c, name, name_style)
        for c, layer in ((cs1, _HIDDEN), (cs2, _OUTPUT)):  # the activation joins h to a_h and o to a_o
            look = nf({**edge_label, "bold": True, **(line if k == 1 else line_up)})
            ws.write_formula(r, c, _symbol_formula(layer), look, activations.ACTIVATIONS[activations.DEFAULT].symbol)
        put(r, ce + 1, f"t{k}", {"align": "left", "valign": "vcenter", "num_format": f'"t{k} = "0.00##'})
    _diagram_edges(
        ws, put, nf, (top, bottom), (ci, ch, ca, co), {"label": edge_label, "line": line, "line_up": line_up}
    )
    # E1 and E2 add up to E_total, between them
    arrow = nf({"align": "center", "font_color": "#595959"})
    ws.write_string(top + 1, ce, "↓ +", arrow)
    ws.write_string(bottom - 1, ce, "↑", arrow)
    put(top + 2, ce, "E_total", {**node, "bg_color": "#FCE4D6", "num_format": "0.000000"})
    ws.write_string(top + 2, ce + 1, "E_total", nf({"bold": True, "font_color": "#1F3864"}))
    _diagram_paths(ws, book, fmt, put, nf, bottom, (ci, ch, ca))


def _diagram_edges(ws: Worksheet, put, nf, rows: tuple[int, int], columns: tuple[int, ...], styles: dict) -> None:
    """``_diagram``'s weights between the node ``rows`` (upper, lower) and ``columns`` (i, h, a_h,
    o): a straight edge is a label on a line, the crossing ones an X labelled left of it."""
    top, bottom = rows
    ci, ch, ca, co = columns
    edge_label, line, line_up = styles["label"], styles["line"], styles["line_up"]
    for c_left, c_right, (straight_top, straight_bottom, down, up) in (
        (ci, ch, ("w1", "w4", "w3", "w2")),
        (ca, co, ("w5", "w8", "w7", "w6")),
    ):
        a, b = c_left + 1 + (c_left == ci), c_right - 1  # the edge columns between the nodes
        # straight edges: a label sitting on a line (bottom border above, top border below)
        put(top, a, straight_top, {**edge_label, **line, "num_format": signed(f"{straight_top} = ")}, b)
        put(bottom, a, straight_bottom, {**edge_label, **line_up, "num_format": signed(f"{straight_bottom} = ")}, b)
        # crossing edges: one X across the rows between the nodes, labelled left of it
        ws.merge_range(top + 1, a, bottom - 1, b, "", nf({"diag_type": 3, "diag_border": 2, "diag_color": "#7F7F7F"}))
        right = {**edge_label, "align": "right"}
        put(top + 1, a - 2, down, {**right, "valign": "top", "num_format": signed(f"↘ {down} = ")}, a - 1)
        put(bottom - 1, a - 2, up, {**right, "num_format": signed(f"↗ {up} = ")}, a - 1)


def _diagram_paths(ws: Worksheet, book: Workbook, fmt: dict, put, nf, bottom: int, columns: tuple[int, ...]) -> None:
    """``_diagram``'s rows under the lower nodes: the two paths into each hidden unit, in their
    colours, and their sum; then the legend."""
    ci, ch, ca = columns
    for r, k in ((bottom + 2, 1), (bottom + 3, 2)):
        ws.merge_range(r, ci, r, ch - 1, f"two paths into h{k}:", nf({"align": "right", "italic": True}))
        for (c, name, text, sign), path in zip(
            (
                (ch, f"dE1_da_h{k}", f"∂E1/∂a_h{k} = ", "+"),
                (ca, f"dE2_da_h{k}", f"∂E2/∂a_h{k} = ", "+"),
            ),
            ("E1", "E2"),
            strict=True,
        ):
            put(
                r,
                c,
                name,
                {"bold": True, "font_color": L.PATH_COLORS[path], "num_format": signed(text, sign=sign)},
                c + 1,
            )
        put(r, ca + 2, f"dE_da_h{k}", {"num_format": signed(f"sum ∂E/∂a_h{k} = ")}, ca + 3)
    legend = (
        "boxes: the table's values at the step shown · grey lines: the weights, and σ = sigmoid · ",
        ("orange: through o1 (E1)", "E1"),
        ", ",
        ("purple: through o2 (E2)", "E2"),
        " · inputs: the yellow cells in column B",
    )
    ws.write_rich_string(bottom + 4, ci, *_rich(book, legend, L.STYLES["note"]), fmt["note"])


def write_backprop(book: Workbook, fmt: dict) -> Worksheet:
    ws = book.add_worksheet(L.SHEET_BACKPROP)
    ws.write("A1", "Backpropagation, one step per row", fmt["title"])
    ws.write_formula("A2", subtitle_formula(), fmt["note"], subtitle(activations.DEFAULT, activations.DEFAULT))
    for first, last, width in L.BACKPROP_WIDTHS:
        ws.set_column(f"{first}:{last}", width)
    ws.set_column(L.IN_I1.col, L.IN_I1.col, L.INPUT_WIDTH)
    _backprop_inputs(ws, fmt)
    walkthrough.write_inputs(book, ws, fmt)
    examples_sheet.write_choices(ws, fmt)
    cached = _engine_rows(L.BACKPROP_STEPS)
    fmt = {**fmt, **walkthrough.cf_formats(book)}
    _diagram(ws, book, fmt, cached)
    walkthrough.highlight_derivation(ws, fmt)
    _backprop_derivation(ws, book, fmt)
    _backprop_table(ws, book, fmt, cached)
    walkthrough.highlight_table(ws, fmt)
    walkthrough.write_texts(book, ws, fmt, cached)
    _backprop_chart(ws, book, fmt)
    last = L.a1(walkthrough.LAST_ROW, len(L.BACKPROP_COLUMNS) - 1)  # the table, then the walkthrough's texts
    _print_setup(
        ws, f"A1:{last}", rows=(L.BACKPROP_HEADER_ROW - 1, L.BACKPROP_HEADER_ROW), first_column=True, scale=PRINT_SCALE
    )
    # the lesson above stays in view while the table scrolls under its headers
    ws.freeze_panes(L.BACKPROP_FIRST_ROW, 1)
    ws.activate()
    return ws


def _backprop_inputs(ws: Worksheet, fmt: dict) -> None:
    """The Backprop sheet's input cells (yellow), each with its label, note and validation."""
    ws.write("A3", "Inputs", fmt["h2"])
    for inp in (L.IN_I1, L.IN_I2, L.IN_T1, L.IN_T2, *L.IN_W, L.IN_B1, L.IN_B2, L.IN_LR, L.IN_SHOW_STEP):
        ws.write(inp.row, 0, inp.label, fmt["label"])
        ws.write_number(inp.row, inp.col, float(inp.default), fmt["input"])
        note = INPUT_NOTES.get(inp.name, "at step 0" if inp in L.IN_W else "")
        ws.write(inp.row, inp.col + 1, f"{inp.name} · {note}" if note else inp.name, fmt["note"])
        if inp is L.IN_SHOW_STEP:
            ws.data_validation(
                inp.cell,
                {
                    "validate": "integer",
                    "criteria": "between",
                    "minimum": 0,
                    "maximum": L.BACKPROP_STEPS - 1,
                    "error_title": "xl-backprop",
                    "error_message": f"show step: expected a whole number from 0 to {L.BACKPROP_STEPS - 1}",
                    "input_title": "show step (WalkStep)",
                    "input_message": "The table's step the diagram, the walkthrough and Draw network show.",
                },
            )
        else:
            _number_validation(ws, inp, positive=inp is L.IN_LR)


def _backprop_derivation(ws: Worksheet, book: Workbook, fmt: dict) -> None:
    """The chain rule written out beside the diagram (``DERIVATION``); the lines that depend on
    the dropdowns are formulas (``DERIVATION_FOLLOWS``), the two paths' line stays coloured."""
    r, c = L.rowcol(L.DERIVATION_TOP_LEFT)
    default = (activations.DEFAULT, activations.DEFAULT)
    ws.write_formula(r - 1, c, derivation_title_formula(), fmt["h2"], derivation_title(*default))
    for k, line in enumerate(DERIVATION):
        if k in DERIVATION_FOLLOWS:  # a formula of the dropdowns; the defaults' text stored
            ws.write_formula(r + k, c, derivation_formula(k), fmt["text"], derivation_line(k, *default))
        elif isinstance(line, tuple):
            ws.write_rich_string(r + k, c, *_rich(book, line, L.STYLES["text"]), fmt["text"])
        else:
            ws.write_string(r + k, c, line, fmt["note"] if k == len(DERIVATION) - 1 else fmt["text"])


def _backprop_table(ws: Worksheet, book: Workbook, fmt: dict, cached: dict) -> None:
    """The table: its group and column headers (a path's columns in its colour), then one row
    of formulas per step, each storing the engine's value (``cached``)."""
    c = 0
    for label, width in L.BACKPROP_GROUPS:
        if width > 1:
            ws.merge_range(L.BACKPROP_HEADER_ROW - 1, c, L.BACKPROP_HEADER_ROW - 1, c + width - 1, label, fmt["group"])
        c += width
    path_head = {p: book.add_format({**L.STYLES["head"], "font_color": color}) for p, color in L.PATH_COLORS.items()}
    for k, (name, head) in enumerate(zip(L.BACKPROP_COLUMNS, L.BACKPROP_HEADERS, strict=True)):
        ws.write_string(
            L.BACKPROP_HEADER_ROW,
            k,
            head,
            path_head[L.BACKPROP_PATHS[name]] if name in L.BACKPROP_PATHS else fmt["head"],
        )
    for s in range(L.BACKPROP_STEPS):
        row = L.BACKPROP_FIRST_ROW + s
        ws.write_number(row, 0, s, fmt[L.BACKPROP_STYLES["step"]])
        for k, name in enumerate(L.BACKPROP_COLUMNS[1:], start=1):
            ws.write_formula(row, k, table_formula(name, s), fmt[L.BACKPROP_STYLES[name]], float(cached[name][s]))
    _backprop_grid(ws, fmt, cached)


def _backprop_grid(ws: Worksheet, fmt: dict, cached: dict) -> None:
    """The per-example grid right of the table: its group title, headers, and a row per step."""
    first, last = L.GRID_FIRST_COL, L.GRID_FIRST_COL + len(L.GRID_COLUMNS) - 1
    ws.merge_range(
        L.BACKPROP_HEADER_ROW - 1,
        first,
        L.BACKPROP_HEADER_ROW - 1,
        last,
        L.GRID_GROUP.format(n=L.EXAMPLE_ROWS),
        fmt["group"],
    )
    ws.set_column(first, last, L.GRID_WIDTH)
    for k, (name, head) in enumerate(zip(L.GRID_COLUMNS, L.GRID_HEADERS, strict=True)):
        style = fmt["grad" if name.startswith("d_") else "value"]
        ws.write_string(L.BACKPROP_HEADER_ROW, first + k, head, fmt["head"])
        for s in range(L.BACKPROP_STEPS):
            ws.write_formula(L.BACKPROP_FIRST_ROW + s, first + k, table_formula(name, s), style, float(cached[name][s]))


def _backprop_chart(ws: Worksheet, book: Workbook, fmt: dict) -> None:
    """E_total over the steps as a chart, and the note where Draw network puts its picture."""
    chart = book.add_chart({"type": "line"})
    first, last = L.BACKPROP_FIRST_ROW, L.BACKPROP_FIRST_ROW + L.BACKPROP_STEPS - 1
    e_col = L.BACKPROP_COLUMNS.index("E_total")
    chart.add_series(
        {
            "name": "E_total",
            "categories": [L.SHEET_BACKPROP, first, 0, last, 0],
            "values": [L.SHEET_BACKPROP, first, e_col, last, e_col],
            "line": {"color": "#C00000", "width": 2},
        }
    )
    chart.set_title({"name": "E_total over the steps", "name_font": {"size": 12}})
    chart.set_x_axis({"name": "step", "interval_unit": 10, "interval_tick": 10})
    chart.set_y_axis({"name": "E_total", "num_format": "0.00"})
    chart.set_legend({"none": True})
    chart.set_size({"width": L.BACKPROP_CHART.width, "height": L.BACKPROP_CHART.height})
    ws.insert_chart(L.BACKPROP_CHART.cell, chart)
    ws.write(
        L.rowcol(L.NETWORK_PICTURE.cell)[0] - 1,
        L.rowcol(L.NETWORK_PICTURE.cell)[1],
        "The Draw network button puts a picture here.",
        fmt["note"],
    )


# --- UDFs ------------------------------------------------------------------------------------
def udf_formulas() -> list[BlockFormula]:
    """Every formula of the UDFs sheet: on each row, one per band of ``layout.UDF_BANDS`` (the
    check band has two), then GRAD_CHECK."""
    out = []
    bp_first = L.BACKPROP_FIRST_ROW + 1
    weights, fwd, grads, checks = L.UDF_WEIGHTS, L.UDF_FORWARD, L.UDF_GRADIENTS, L.UDF_CHECKS
    check_e, check_w = checks.letters
    wl = weights.letters  # w1..w8
    for s in range(L.BACKPROP_STEPS):
        row = L.UDF_FIRST_ROW + s
        R = row + 1
        w = ":".join(weights.cells(row))
        if s == 0:
            out.append(BlockFormula(*weights.cells(row), "=TRANSPOSE(in_weights)", weights.style))
        else:
            above = ":".join(weights.cells(row - 1))
            out.append(
                BlockFormula(
                    *weights.cells(row), f"=BACKPROP_STEP({above},in_inputs,in_targets,in_lr,in_biases)", weights.style
                )
            )
        out.append(BlockFormula(*fwd.cells(row), f"=FORWARD({w},in_inputs,in_targets,in_biases)", fwd.style))
        out.append(BlockFormula(*grads.cells(row), f"=GRADIENTS({w},in_inputs,in_targets,in_biases)", grads.style))
        bp = bp_first + s
        out.append(
            BlockFormula(
                f"{check_e}{R}",
                f"{check_e}{R}",
                f"={fwd.last}{R}-Backprop!{col('E_total')}{bp}",
                checks.style,
                spill=False,
            )
        )
        # weight by weight: on Backprop each weight has its gradient beside it
        diffs = ",".join(f"ABS({u}{R}-Backprop!{col(w)}{bp})" for u, w in zip(wl, network.WEIGHT_NAMES, strict=True))
        out.append(BlockFormula(f"{check_w}{R}", f"{check_w}{R}", f"=MAX({diffs})", checks.style, spill=False))
    gc = L.UDF_GRAD_CHECK
    out.append(
        BlockFormula(
            gc.top_left,
            gc.bottom_right,
            f"=GRAD_CHECK({':'.join(weights.cells(L.UDF_FIRST_ROW))},in_inputs,in_targets,in_biases)",
            gc.styles,
        )
    )
    return out


def _column(values) -> list[list[float]]:
    """A default as Excel passes a column of cells: a 2-D block, one value per row."""
    return [[float(v)] for v in values]


def udf_values() -> dict[str, list[list]]:
    """First cell -> the block each formula of ``udf_formulas`` returns for the template's own
    inputs: the UDFs called as xlwings calls them, with the cells' values."""
    args = (_column(network.DEFAULT_INPUTS), _column(network.DEFAULT_TARGETS), _column(network.DEFAULT_BIASES))
    inputs, targets, biases = args
    table = _engine_rows(L.BACKPROP_STEPS)
    out: dict[str, list[list]] = {}
    w = [list(map(float, network.DEFAULT_WEIGHTS))]  # TRANSPOSE(in_weights)
    check_e, check_w = L.UDF_CHECKS.letters
    for s in range(L.BACKPROP_STEPS):
        row = L.UDF_FIRST_ROW + s
        if s:
            w = udfs.BACKPROP_STEP(w, inputs, targets, [[L.IN_LR.default]], biases).tolist()
        out[L.UDF_WEIGHTS.cells(row)[0]] = w
        forward = udfs.FORWARD(w, inputs, targets, biases).tolist()
        out[L.UDF_FORWARD.cells(row)[0]] = forward
        out[L.UDF_GRADIENTS.cells(row)[0]] = udfs.GRADIENTS(w, inputs, targets, biases).tolist()
        out[f"{check_e}{row + 1}"] = [[forward[0][-1] - float(table["E_total"][s])]]
        native = [float(table[name][s]) for name in network.WEIGHT_NAMES]
        out[f"{check_w}{row + 1}"] = [[max(abs(a - b) for a, b in zip(w[0], native, strict=True))]]
    out[L.UDF_GRAD_CHECK.top_left] = udfs.GRAD_CHECK(
        out[L.UDF_WEIGHTS.cells(L.UDF_FIRST_ROW)[0]], inputs, targets, biases
    )
    return out


def _write_formulas(
    ws: Worksheet, fmt: dict[str, Format], formulas: list[BlockFormula], values: dict[str, list[list]]
) -> None:
    """Each formula with its stored result (``values``, by first cell) in its block's styles."""
    for f in formulas:
        r1, c1 = L.rowcol(f.first)
        block = values[f.first]
        assert L.rowcol(f.last) == (r1 + len(block) - 1, c1 + len(block[0]) - 1), (f.first, f.last)
        if f.spill:
            write_spill(ws, f.first, f.formula, block, _style_at(fmt, f.styles))
        else:
            ws.write_formula(r1, c1, f.formula, _style_at(fmt, f.styles)(0, 0), float(block[0][0]))


def write_udfs(book: Workbook, fmt: dict) -> Worksheet:
    ws = book.add_worksheet(L.SHEET_UDFS)
    ws.write("A1", "The same example with the Python functions", fmt["title"])
    ws.write(
        "A2",
        "Each row: FORWARD and GRADIENTS of the row's weights, then BACKPROP_STEP gives the "
        "next row's weights. Inputs, targets, biases and lr come from the Backprop sheet.",
        fmt["note"],
    )
    ws.write(
        "A3",
        "Needs Excel on Windows with Python and xlwings, or xlwings Lite (see About); elsewhere "
        "these cells show an error (#NAME?).",
        fmt["note"],
    )
    for first, last, width in L.UDF_WIDTHS:
        ws.set_column(f"{first}:{last}", width)
    for band in L.UDF_BANDS:
        c1, c2 = band.cols
        assert len(band.heads) == c2 - c1 + 1, band
        if band.group is not None:
            ws.merge_range(L.UDF_GROUP_ROW, c1, L.UDF_GROUP_ROW, c2, band.group, fmt["group"])
    for band in L.UDF_BANDS:
        for k, h in enumerate(band.heads):
            ws.write_string(L.UDF_HEADER_ROW, band.cols[0] + k, h, fmt["head"])
    for s in range(L.BACKPROP_STEPS):
        ws.write_number(L.UDF_FIRST_ROW + s, L.UDF_STEP.cols[0], s, fmt[L.UDF_STEP.style])
    _write_formulas(ws, fmt, udf_formulas(), udf_values())
    ws.freeze_panes(L.UDF_FIRST_ROW, 1)
    _write_udf_lrs(ws, book, fmt)
    _write_udf_map(ws, fmt)
    ws.write(L.UDF_GRAD_CHECK_TITLE, "GRAD_CHECK at step 0 (analytic vs central difference)", fmt["h2"])
    last = L.a1(
        max(L.UDF_FIRST_ROW + L.BACKPROP_STEPS, L.rowcol(L.UDF_LR_CURVE_TOP_LEFT)[0] + L.LR_BLOCK_STEPS) - 1,
        L.UDF_MAP.area.col2,
    )
    _print_setup(ws, f"A1:{last}", rows=(L.UDF_GROUP_ROW, L.UDF_HEADER_ROW), first_column=True, scale=PRINT_SCALE)
    return ws


# --- Learning rates --------------------------------------------------------------------------
# Every slot of the list trains in its own block of native formulas on LR blocks (the rules of
# ``table_formula``, one row per step); the lesson sheet reads the blocks: the summary, the
# curves and the chart. The UDF versions (TRAIN_CURVE, LR_SUMMARY) are on the UDFs sheet.
_NETWORK_GIVEN = ("t1", "t2", "i1", "i2", "b1", "b2")
#: The headers of a block's columns where they are not the Backprop table's names.
LR_BLOCK_HEADS = {"below": "E < threshold", "rise": "E rose", **dict(zip(L.GRID_COLUMNS, L.GRID_HEADERS, strict=True))}


def _abs(row: int, col: int) -> str:
    return xl_rowcol_to_cell(row, col, row_abs=True, col_abs=True)


def _blocks(cell: str) -> str:
    """``cell`` of LR blocks, as the Learning rates sheet refers to it."""
    return f"'{L.SHEET_LR_BLOCKS}'!{cell}"


def slot_cell(k: int) -> str:
    """Slot ``k`` (0-based) of the learning-rate list, as LR blocks refers to it."""
    return f"'{L.SHEET_LRS}'!{_abs(L.IN_LRS.row, L.IN_LRS.col + k)}"


def given_cell(name: str) -> str:
    """The LR blocks cell of a network input (t1 ... b2) or of the step count ("steps")."""
    return f"${dict(L.LR_GIVEN)[name]}${L.LR_GIVEN_ROW + 1}"


def rate_cell(k: int) -> str:
    """Block ``k``'s learning rate: the slot's number when the block trains, else empty."""
    return _abs(L.LR_BLOCK_TITLE_ROW, L.lr_block_col(k, "step") + L.LR_BLOCK_RATE_OFFSET)


def message_cell(k: int) -> str:
    """Block ``k``'s message: why it does not train (empty when it does)."""
    return _abs(L.LR_BLOCK_TITLE_ROW, L.lr_block_col(k, "step") + L.LR_BLOCK_MESSAGE_OFFSET)


def _block_ref(k: int, name: str, step: int) -> str:
    return f"{xl_col_to_name(L.lr_block_col(k, name))}{L.LR_BLOCK_FIRST_ROW + step + 1}"


def _block_column(k: int, name: str) -> str:
    """The whole column ``name`` of block ``k`` (every step), absolute."""
    c = xl_col_to_name(L.lr_block_col(k, name))
    return f"${c}${L.LR_BLOCK_FIRST_ROW + 1}:${c}${L.LR_BLOCK_FIRST_ROW + L.LR_BLOCK_STEPS}"


def block_at(k: int) -> Callable[[str, int], str]:
    """``table_formula``'s cells for block ``k``: the shared network inputs, the block's rate,
    and the block's own columns."""

    def at(name: str, step: int) -> str:
        if name in _NETWORK_GIVEN:
            return given_cell(name)
        if name == "lr":
            return rate_cell(k)
        return _block_ref(k, name, step)

    return at


def steps_formula() -> str:
    """How many steps the blocks train: the iteration count, at most LR_BLOCK_STEPS (0: a bad count)."""
    n = "in_iterations"
    return f"=IF(ISNUMBER({n}),IF({n}>=1,MIN(INT({n}),{L.LR_BLOCK_STEPS}),0),0)"


def rate_formula(k: int) -> str:
    slot, steps = slot_cell(k), given_cell("steps")
    return f'=IF(ISNUMBER({slot}),IF(AND({slot}>0,{steps}>0),{slot},""),"")'


def message_formula(k: int) -> str:
    """Why block ``k`` does not train, in ``layout.LR_MESSAGES``' words; empty when it trains
    or when the slot and every slot after it are empty (the list ends there)."""
    slot, m = slot_cell(k), L.LR_MESSAGES
    if k + 1 < L.LR_SLOTS:
        row, c1, c2 = L.IN_LRS.row, L.IN_LRS.col + k + 1, L.IN_LRS.col + L.LR_SLOTS - 1
        rest = f"'{L.SHEET_LRS}'!{_abs(row, c1)}:{_abs(row, c2)}"
        blank = f'IF(COUNTA({rest})>0,"{m["gap"]}","")'
    else:
        blank = '""'
    return (
        f'=IF({slot}="",{blank},IF(NOT(ISNUMBER({slot})),"{m["text"]}",'
        f'IF({slot}<=0,"{m["sign"]}",IF({given_cell("steps")}=0,"{m["iterations"]}",""))))'
    )


#: The chart's name of a series whose slot does not train: a space, as an empty name would
#: make the legend say "Column H" (LibreOffice) or "Series7" (Excel).
NO_LABEL = " "


def label_formula(k: int) -> str:
    """Slot ``k``'s label, ``palette.lr_label`` in formulas ("lr 0.5"); NO_LABEL when it does not train."""
    r = rate_cell(k)
    return f'=IF(ISNUMBER({r}),"{LR_PREFIX}"&{r},"{NO_LABEL}")'


def lr_block_formula(k: int, name: str, step: int) -> str | None:
    """The formula of ``name`` at ``step`` in block ``k`` (None: the cell stays empty). Rows
    past the step count, and blocks that do not train, are empty texts."""
    step_ref = f"${xl_col_to_name(L.lr_block_col(k, 'step'))}{L.LR_BLOCK_FIRST_ROW + step + 1}"
    if name == "step":
        return f'=IF(ISNUMBER({rate_cell(k)}),IF({step}<{given_cell("steps")},{step},""),"")'
    e = _block_ref(k, "E_total", step)
    if name == "below":
        body = f'IF({e}<in_threshold,{step_ref},"")'
    elif name == "rise":
        if step == 0:
            return None
        body = f'IF({e}>{_block_ref(k, "E_total", step - 1)},{step_ref},"")'
    else:
        body = table_formula(name, step, block_at(k))[1:]
    return f'=IF({step_ref}="","",{body})'


def summary_formulas(k: int) -> list[str]:
    """Slot ``k``'s row of the summary, one formula per ``analysis.SUMMARY_COLUMNS`` entry."""
    rate, steps = _blocks(rate_cell(k)), _blocks(given_cell("steps"))
    below, rise = _blocks(_block_column(k, "below")), _blocks(_block_column(k, "rise"))
    slot = f"{_abs(L.IN_LRS.row, L.IN_LRS.col + k)}"
    missing = {c.field: c.missing for c in analysis.SUMMARY_COLUMNS}
    by_field = {
        "lr": f'=IF({slot}="","",{slot})',
        "final_loss": f"=IF(ISNUMBER({rate}),INDEX({_blocks(_block_column(k, 'E_total'))},{steps}),"
        f"{_blocks(message_cell(k))})",
        "steps_to_threshold": f'=IF(ISNUMBER({rate}),IF(COUNT({below})=0,"{missing["steps_to_threshold"]}",'
        f'MIN({below})),"")',
        "only_falls": f'=IF(ISNUMBER({rate}),COUNT({rise})=0,"")',
        "first_rise": f'=IF(ISNUMBER({rate}),IF(COUNT({rise})=0,"{missing["first_rise"]}",MIN({rise})),"")',
    }
    return [by_field[c.field] for c in analysis.SUMMARY_COLUMNS]


def summary_head_formulas() -> list[str]:
    """The summary's header: its words per column; the threshold's value joins its column's."""
    heads = []
    for c in analysis.SUMMARY_COLUMNS:
        words = L.LIVE_SUMMARY_HEADS[c.field]
        heads.append(f'="{words}"&in_threshold' if c.field == "steps_to_threshold" else words)
    return heads


class LRValues(NamedTuple):
    """What every native cell of the learning-rate lesson computes for the template's inputs."""

    steps: int
    rates: list[float | str]  # per slot: the rate, or "" (does not train)
    rows: list[dict[str, np.ndarray] | None]  # per slot: the block's columns (None: empty block)
    curves: np.ndarray  # (steps, trained slots)
    summary: list[list]  # per slot: the summary's row


def lr_values(lrs=network.DEFAULT_LRS, iterations=L.IN_ITERATIONS.default, threshold=L.IN_THRESHOLD.default):
    """The engine's numbers for the native blocks, summary and chart (for the stored values)."""
    steps = min(int(iterations), L.LR_BLOCK_STEPS)
    rates: list[float | str] = [float(lrs[k]) if k < len(lrs) else "" for k in range(L.LR_SLOTS)]
    rows = [_engine_rows(steps, r) if r != "" else None for r in rates]
    trained = [r for r in rates if r != ""]
    curves = network.train_curves(trained, steps)
    summaries = analysis.summary_rows(analysis.lr_summary(trained, curves, threshold))
    summary = [summaries[k] if k < len(trained) else [""] * len(analysis.SUMMARY_COLUMNS) for k in range(L.LR_SLOTS)]
    return LRValues(steps, rates, rows, curves, summary)


def _block_value(v: LRValues, k: int, name: str, step: int):
    """The stored value of ``name`` at ``step`` in block ``k``."""
    rows = v.rows[k]
    if rows is None or step >= v.steps:
        return ""
    e = rows["E_total"]
    if name == "step":
        return step
    if name == "below":
        return step if e[step] < L.IN_THRESHOLD.default else ""
    if name == "rise":
        return step if step and e[step] > e[step - 1] else ""
    return float(rows[name][step])


class _EmptyText(str):
    """The empty text as a formula's stored result. XlsxWriter stores a result equal to "" as
    ``<v></v>`` with no type (an empty number); this one compares unequal to "", so it is stored
    as the text it is (``t="str"``), as Excel stores a formula's empty text."""

    __hash__ = str.__hash__

    def __eq__(self, other) -> bool:
        return False

    def __ne__(self, other) -> bool:
        return True


EMPTY_TEXT = _EmptyText("")


def _formula(ws: Worksheet, row: int, col: int, formula: str, cell_format, value) -> None:
    """A formula with its stored result (a number, a boolean, a text, or an error's name)."""
    if isinstance(value, (bool, np.bool_)):
        value = bool(value)
    elif isinstance(value, str):
        value = EMPTY_TEXT if value == "" else value
    else:
        value = float(value)
    ws.write_formula(row, col, formula, cell_format, value)


def write_lr_blocks(book: Workbook, fmt: dict) -> Worksheet:
    """LR blocks: the network's inputs once, the chart's data, then one training block per slot."""
    ws = book.add_worksheet(L.SHEET_LR_BLOCKS)
    v = lr_values()
    ws.write("A1", "One training run per learning rate, in plain formulas", fmt["title"])
    ws.write(
        "A2",
        f"Block k trains slot k of the Learning rates list: the Backprop table's formulas, one row per "
        f"step, at most {L.LR_BLOCK_STEPS} steps. The Learning rates sheet reads these cells.",
        fmt["note"],
    )
    ws.set_column(0, L.LR_SLOTS, L.LIVE_WIDTH)
    ws.set_column(L.lr_block_col(0, "step"), L.lr_block_col(L.LR_SLOTS - 1, "rise"), L.LR_BLOCK_WIDTH)
    ws.write(L.LR_GIVEN_HEAD_ROW, 0, "network", fmt["label"])
    given_values = dict(
        zip(_NETWORK_GIVEN, (*network.DEFAULT_TARGETS, *network.DEFAULT_INPUTS, *network.DEFAULT_BIASES), strict=True)
    )
    for name, letter in L.LR_GIVEN:
        c = L.rowcol(f"{letter}1")[1]
        ws.write_string(L.LR_GIVEN_HEAD_ROW, c, name, fmt["head"])
        if name == "steps":
            _formula(ws, L.LR_GIVEN_ROW, c, steps_formula(), fmt["count"], v.steps)
        else:
            _formula(ws, L.LR_GIVEN_ROW, c, table_formula(name, 0), fmt["given"], given_values[name])
    ws.write(L.LR_GIVEN_ROW, 0, "from Backprop", fmt["note"])

    # the chart's data: the step and every slot's E_total, #N/A where there is no point
    c0 = L.LR_CHART_DATA_COL
    ws.write(L.LR_BLOCK_TITLE_ROW, c0, "Chart data (#N/A: no point)", fmt["h2"])
    ws.write_string(L.LR_BLOCK_HEADER_ROW, c0, "step", fmt["head"])
    head = book.add_format({**L.STYLES["head"]})
    for k in range(L.LR_SLOTS):
        label = lr_label(v.rates[k]) if v.rates[k] != "" else NO_LABEL
        _formula(ws, L.LR_BLOCK_HEADER_ROW, c0 + 1 + k, label_formula(k), head, label)
    for s in range(L.LR_BLOCK_STEPS):
        r = L.LR_BLOCK_FIRST_ROW + s
        _formula(ws, r, c0, f"=IF({s}<{given_cell('steps')},{s},NA())", fmt["step"], s if s < v.steps else "#N/A")
        for k in range(L.LR_SLOTS):
            e = _block_ref(k, "E_total", s)
            stored = _block_value(v, k, "E_total", s)
            _formula(
                ws, r, c0 + 1 + k, f"=IF(ISNUMBER({e}),{e},NA())", fmt["value"], "#N/A" if stored == "" else stored
            )
    quiet = book.add_format({"font_color": "#BFBFBF"})
    ws.conditional_format(
        L.LR_BLOCK_FIRST_ROW,
        c0,
        L.LR_BLOCK_FIRST_ROW + L.LR_BLOCK_STEPS - 1,
        c0 + L.LR_SLOTS,
        {"type": "errors", "format": quiet},
    )

    styles = {**L.BACKPROP_STYLES, "below": "count", "rise": "count"}
    styles.update({name: "grad" if name.startswith("d_") else "value" for name in L.GRID_COLUMNS})
    for k in range(L.LR_SLOTS):
        first = L.lr_block_col(k, "step")
        ws.write_string(L.LR_BLOCK_TITLE_ROW, first, f"slot {k + 1}", fmt["h2"])
        ws.write_string(L.LR_BLOCK_TITLE_ROW, first + 1, "lr =", fmt["label"])
        _formula(ws, L.LR_BLOCK_TITLE_ROW, first + L.LR_BLOCK_RATE_OFFSET, rate_formula(k), fmt["lr"], v.rates[k])
        _formula(ws, L.LR_BLOCK_TITLE_ROW, first + L.LR_BLOCK_MESSAGE_OFFSET, message_formula(k), fmt["label"], "")
        for j, name in enumerate(L.LR_BLOCK_COLUMNS):
            ws.write_string(L.LR_BLOCK_HEADER_ROW, first + j, LR_BLOCK_HEADS.get(name, name), fmt["head"])
            for s in range(L.LR_BLOCK_STEPS):
                f = lr_block_formula(k, name, s)
                if f is not None:
                    _formula(ws, L.LR_BLOCK_FIRST_ROW + s, first + j, f, fmt[styles[name]], _block_value(v, k, name, s))
    ws.freeze_panes(L.LR_BLOCK_FIRST_ROW, 1)
    last = L.a1(L.LR_BLOCK_FIRST_ROW + L.LR_BLOCK_STEPS - 1, L.lr_block_col(0, "E_total"))
    # the chart's data and the first block through E_total: the other blocks are the same formulas
    # at other rates, and the per-example grid is Backprop's
    _print_setup(
        ws, f"A1:{last}", rows=(L.LR_BLOCK_HEADER_ROW, L.LR_BLOCK_HEADER_ROW), first_column=True, scale=PRINT_SCALE
    )
    return ws


#: What the course's rates show, and what they cannot (short lines, one point per line).
LR_LESSON = (
    "What the course's rates show",
    "One example (i1, i2 → t1, t2): larger rates are faster here.",
    "None overshoots: E_total never rises (only falls: yes).",
    "Large rates only saturate: the sigmoids flatten, steps shrink.",
    "Type 50 or 500 in an empty slot: still no rise.",
    "What they cannot show: overshoot.",
    "It needs several examples at once (not in this book yet),",
    "or a learning rate per layer: see xl-backprop map or LR_MAP.",
    f"Tables and chart: up to {L.LR_BLOCK_STEPS} steps, without Python.",
    "The button on the right trains more steps (needs Python).",
)


def udf_lr_formulas() -> list[BlockFormula]:
    """The learning-rate UDFs on the UDFs sheet: LR_SUMMARY, the step numbers, TRAIN_CURVE."""
    k = len(network.DEFAULT_LRS)
    s_r, s_c = L.rowcol(L.UDF_LR_SUMMARY.top_left)
    c_r, c_c = L.rowcol(L.UDF_LR_CURVE_TOP_LEFT)
    return [
        BlockFormula(
            L.a1(c_r, c_c - 1),
            L.a1(c_r + network.DEFAULT_ITERATIONS - 1, c_c - 1),
            "=_xlfn.SEQUENCE(in_iterations)-1",
            L.LIVE_STEP_STYLE,
        ),
        BlockFormula(
            L.UDF_LR_SUMMARY.top_left,
            L.a1(s_r + k, s_c + len(L.LIVE_SUMMARY_STYLES.body) - 1),
            f"=LR_SUMMARY(in_weights,in_inputs,in_targets,{live_lrs()},in_iterations,in_threshold,in_biases)",
            L.LIVE_SUMMARY_STYLES,
        ),
        BlockFormula(
            L.UDF_LR_CURVE_TOP_LEFT,
            L.a1(c_r + network.DEFAULT_ITERATIONS - 1, c_c + k - 1),
            f"=TRAIN_CURVE(in_weights,in_inputs,in_targets,{live_lrs()},in_iterations,in_biases)",
            L.LIVE_CURVE_STYLE,
        ),
    ]


def live_lrs() -> str:
    """The filled part of the learning-rate list (blank slots after it are not passed on), as a
    range between two INDEX calls: unlike OFFSET it is not volatile, so the UDFs reading it
    recalculate only when their inputs change."""
    return "INDEX(in_lrs,1,1):INDEX(in_lrs,1,MAX(1,COUNTA(in_lrs)))"


def udf_lr_values() -> dict[str, list[list]]:
    """First cell -> the block each formula of ``udf_lr_formulas`` returns for the template's
    inputs (SEQUENCE as Excel counts; the UDFs called with the cells' values)."""
    weights = _column(network.DEFAULT_WEIGHTS)
    inputs, targets = _column(network.DEFAULT_INPUTS), _column(network.DEFAULT_TARGETS)
    biases, lrs = _column(network.DEFAULT_BIASES), [list(map(float, network.DEFAULT_LRS))]
    iterations, threshold = [[float(L.IN_ITERATIONS.default)]], [[float(L.IN_THRESHOLD.default)]]
    c_r, c_c = L.rowcol(L.UDF_LR_CURVE_TOP_LEFT)
    return {
        L.a1(c_r, c_c - 1): [[float(s)] for s in range(int(L.IN_ITERATIONS.default))],
        L.UDF_LR_SUMMARY.top_left: udfs.LR_SUMMARY(weights, inputs, targets, lrs, iterations, threshold, biases),
        L.UDF_LR_CURVE_TOP_LEFT: udfs.TRAIN_CURVE(weights, inputs, targets, lrs, iterations, biases).tolist(),
    }


def udf_map_formula() -> BlockFormula:
    """LR_MAP of the rates in the block's header row and first column, the steps in their cell."""
    m = L.UDF_MAP.area
    hidden = f"{_abs(m.row1, m.col1 - 1)}:{_abs(m.row2, m.col1 - 1)}"
    output = f"{_abs(m.row1 - 1, m.col1)}:{_abs(m.row1 - 1, m.col2)}"
    steps = _abs(L.UDF_MAP_STEPS_ROW, m.col1)
    return BlockFormula(
        L.UDF_MAP.top_left,
        L.UDF_MAP.bottom_right,
        f"=LR_MAP(in_weights,in_inputs,in_targets,{hidden},{output},{steps})",
        L.UDF_MAP.styles,
    )


def udf_map_values() -> dict[str, list[list]]:
    """LR_MAP called as xlwings calls it, with the template's cells: its stored block."""
    weights = _column(network.DEFAULT_WEIGHTS)
    inputs, targets = _column(network.DEFAULT_INPUTS), _column(network.DEFAULT_TARGETS)
    grid = udfs.LR_MAP(
        weights,
        inputs,
        targets,
        _column(L.UDF_MAP_LR_HIDDEN),
        [list(L.UDF_MAP_LR_OUTPUT)],
        [[float(L.UDF_MAP_STEPS)]],
    )
    return {L.UDF_MAP.top_left: grid}


def _write_udf_map(ws: Worksheet, fmt: dict) -> None:
    """The UDFs sheet's LR_MAP block: the rates it reads, the grid, a colour scale on it."""
    m = L.UDF_MAP.area
    first = L.UDF_MAP_FIRST_COL
    ws.set_column(first, m.col2, L.UDF_MAP_WIDTH)
    ws.write(L.UDF_MAP_TITLE, "LR_MAP: final E_total for each pair of layer learning rates (green: lowest)", fmt["h2"])
    ws.write_string(m.row1 - 1, first, "lr_hidden \\ lr_output", fmt["head"])
    for j, lr in enumerate(L.UDF_MAP_LR_OUTPUT):
        ws.write_number(m.row1 - 1, m.col1 + j, lr, fmt["head"])
    for i, lr in enumerate(L.UDF_MAP_LR_HIDDEN):
        ws.write_number(m.row1 + i, first, lr, fmt["head"])
    ws.write_string(L.UDF_MAP_STEPS_ROW, first, "steps", fmt["label"])
    ws.write_number(L.UDF_MAP_STEPS_ROW, m.col1, L.UDF_MAP_STEPS, fmt["count"])
    ws.write_string(
        L.UDF_MAP_STEPS_ROW + 1,
        first,
        "Edit the rates or the steps; the grid recalculates. The ribbon's Map learning rates button draws "
        "a finer map on the Learning rates sheet.",
        fmt["note"],
    )
    _write_formulas(ws, fmt, [udf_map_formula()], udf_map_values())
    low, mid, high = L.UDF_MAP_COLORS
    ws.conditional_format(
        m.row1,
        m.col1,
        m.row2,
        m.col2,
        {"type": "3_color_scale", "min_color": low, "mid_color": mid, "max_color": high},
    )


def _write_udf_lrs(ws: Worksheet, book: Workbook, fmt: dict) -> None:
    """The UDFs sheet's learning-rate band: LR_SUMMARY, a check per slot, TRAIN_CURVE."""
    first = L.UDF_LR_FIRST_COL
    ws.set_column(first, first + L.LR_SLOTS, L.UDF_LR_WIDTH)
    ws.write(L.UDF_LR_TITLE, "LR_SUMMARY and TRAIN_CURVE: the Learning rates sheet's numbers, by Python", fmt["h2"])
    values = udf_lr_values()
    _write_formulas(ws, fmt, udf_lr_formulas(), values)
    v = lr_values()
    ws.write_string(L.UDF_LR_CHECK_ROW, first, "|UDF − sheet|", fmt["label"])
    ws.write_string(L.UDF_LR_HEADER_ROW, first, "step \\ lr", fmt["head"])
    c_r, c_c = L.rowcol(L.UDF_LR_CURVE_TOP_LEFT)
    udf_curves = np.array(values[L.UDF_LR_CURVE_TOP_LEFT], dtype=float)
    for k in range(L.LR_SLOTS):
        label = lr_label(v.rates[k]) if v.rates[k] != "" else NO_LABEL
        head = f"'{L.SHEET_LRS}'!{_abs(L.LIVE_CURVE_HEADER_ROW, 1 + k)}"
        _formula(ws, L.UDF_LR_HEADER_ROW, c_c + k, f"={head}", fmt["head"], label)
        anchor = _abs(c_r, c_c)  # TRAIN_CURVE's cell
        udf = f"{_abs(c_r, c_c + k)}:{_abs(c_r + L.LR_BLOCK_STEPS - 1, c_c + k)}"
        r0 = L.rowcol(L.LIVE_CURVE_TOP_LEFT)[0]
        sheet = f"'{L.SHEET_LRS}'!{_abs(r0, 1 + k)}:{_abs(r0 + L.LR_BLOCK_STEPS - 1, 1 + k)}"
        if k < udf_curves.shape[1]:
            stored = float(np.max(np.abs(udf_curves[:, k] - v.curves[:, k])))
        else:
            stored = 0.0
        write_spill(
            ws,
            L.a1(L.UDF_LR_CHECK_ROW, c_c + k),
            # without Python the UDF's error shows here too, not a comparison with nothing
            f"=IF(ISERROR({anchor}),{anchor},"
            f'IF(COUNT({udf})=COUNT({sheet}),MAX(IFERROR(ABS({udf}-{sheet}),0)),"counts differ"))',
            [[stored]],
            fmt["grad"],
        )


def _write_map_inputs(ws: Worksheet, fmt: dict) -> None:
    """The learning-rate map's inputs under the chart: per layer from, to and count; the steps."""
    cap = f"{UDF_MAX_MAP_STEPS:,}"
    ws.write(L.MAP_TITLE_CELL, "Learning-rate map: one network per pair of layer learning rates", fmt["h2"])
    _, c = L.rowcol(L.MAP_TITLE_CELL)
    for j, head in enumerate(("from", "to", "count")):
        ws.write_string(L.MAP_HEAD_ROW, c + 1 + j, head, fmt["head"])
    rate = {
        "validate": "decimal",
        "criteria": ">",
        "value": 0,
        "error_title": "xl-backprop",
        "input_message": "A learning rate (> 0); the rates are log-spaced from 'from' to 'to'.",
    }
    whole = {
        "validate": "integer",
        "criteria": "between",
        "minimum": 1,
        "maximum": UDF_MAX_MAP_STEPS,
        "error_title": "xl-backprop",
        "input_message": f"count x count x steps: at most {cap} network steps.",
    }
    for label, *cells in L.MAP_RATE_ROWS:
        ws.write(cells[0].row, c, label, fmt["label"])
    ws.write(L.IN_MAP_STEPS.row, c, "steps", fmt["label"])
    for inp in L.MAP_INPUTS:
        ws.write_number(inp.row, inp.col, inp.default, fmt["input"])
        rule = rate if inp.label.endswith(("from", "to")) else whole
        kind = "a number greater than 0" if rule is rate else f"a whole number from 1 to {cap}"
        ws.data_validation(
            inp.cell, {**rule, "input_title": inp.label, "error_message": f"{inp.label}: expected {kind}"}
        )
    ws.write(
        L.MAP_NOTE_CELL,
        "The ribbon's Map learning rates button draws the map below "
        "(without Excel: xl-backprop run map-lrs BOOK.xlsm --out OUT.xlsm)",
        fmt["note"],
    )


def write_learning_rates(book: Workbook, fmt: dict) -> Worksheet:
    ws = book.add_worksheet(L.SHEET_LRS)
    v = lr_values()
    ws.write("A1", "How the learning rate changes training", fmt["title"])
    ws.write(
        "A2",
        "Edit the yellow cells. The network (weights, inputs, targets, biases) is the one on the Backprop sheet.",
        fmt["note"],
    )
    ws.write(
        "A3",
        "Every number and the chart here are plain formulas: no Python needed.",
        fmt["note"],
    )
    ws.set_column(0, L.LR_SLOTS, L.LIVE_WIDTH)
    chart_c = L.rowcol(L.LIVE_CHART.cell)[1]
    ws.set_column(chart_c - 1, chart_c - 1, 3)
    ws.set_column(chart_c, L.rowcol(L.MACRO_LOSS.top_left)[1] - 1, 11)
    # the macro's summary block: wide enough for its headers ("steps to E_total < 0.01", ...)
    _, m_c = L.rowcol(L.MACRO_SUMMARY.top_left)
    for k, width in enumerate(L.MACRO_SUMMARY_WIDTHS):
        ws.set_column(m_c + k, m_c + k, width)
    _lr_inputs(ws, fmt)

    # the summary: one row per slot, from its block
    head = _lr_summary(ws, book, fmt, v)

    # what the course's rates show, beside the summary
    t_r, t_c = L.rowcol(L.LIVE_TEXT_TOP_LEFT)
    for i, line in enumerate(LR_LESSON):
        ws.write_string(t_r + i, t_c, line, fmt["h2"] if i == 0 else fmt["text"])

    # the curves: E_total per step, one column per slot
    _lr_curves(ws, fmt, head, v)
    _lr_chart(ws, book, v)

    _write_map_inputs(ws, fmt)
    ws.write(
        L.MACRO_TITLE_CELL,
        "Written by the ribbon's Train learning rates button "
        "(or, without Excel: xl-backprop run train-lrs BOOK.xlsm --out OUT.xlsm)",
        fmt["h2"],
    )
    ws.freeze_panes(L.LIVE_CURVE_HEADER_ROW + 1, 1)
    # No fixed print area: the macro writes its table, chart and picture to the right, so the
    # used range is what there is to print.
    _print_setup(ws, None, rows=(L.LIVE_CURVE_HEADER_ROW, L.LIVE_CURVE_HEADER_ROW), scale=PRINT_SCALE)
    return ws


def _lr_inputs(ws: Worksheet, fmt: dict) -> None:
    """The Learning rates sheet's inputs: iterations, the list of rates, the threshold, each
    with its label and validation."""
    for inp in (L.IN_ITERATIONS, L.IN_LRS, L.IN_THRESHOLD):
        ws.write(inp.row, 0, inp.label, fmt["label"])
    ws.write_number(L.IN_ITERATIONS.row, 1, L.IN_ITERATIONS.default, fmt["input"])
    ws.data_validation(
        L.IN_ITERATIONS.cell,
        {
            "validate": "integer",
            "criteria": "between",
            "minimum": 1,
            "maximum": L.MACRO_MAX_ITERATIONS,
            "error_title": "xl-backprop",
            "error_message": f"iterations: expected a whole number from 1 to {L.MACRO_MAX_ITERATIONS}",
            "input_title": "iterations",
            "input_message": f"Tables and chart: up to {L.LR_BLOCK_STEPS}. The button: up to {L.MACRO_MAX_ITERATIONS}.",
        },
    )
    ws.write(
        L.IN_ITERATIONS.row,
        2,
        f"loss values per rate; the tables and the chart show at most {L.LR_BLOCK_STEPS}",
        fmt["note"],
    )
    for k in range(L.LR_SLOTS):
        value = network.DEFAULT_LRS[k] if k < len(network.DEFAULT_LRS) else None
        if value is None:
            ws.write_blank(L.IN_LRS.row, 1 + k, None, fmt["input"])
        else:
            ws.write_number(L.IN_LRS.row, 1 + k, value, fmt["input"])
    ws.data_validation(
        L.IN_LRS.row,
        1,
        L.IN_LRS.row,
        L.LR_SLOTS,
        {
            "validate": "decimal",
            "criteria": ">",
            "value": 0,
            "ignore_blank": True,
            "error_title": "xl-backprop",
            "error_message": "learning rate: expected a number greater than 0",
        },
    )
    ws.write_number(L.IN_THRESHOLD.row, 1, L.IN_THRESHOLD.default, fmt["input"])
    ws.write(L.IN_THRESHOLD.row, 2, "learning rates: fill the list from the left", fmt["note"])


def _lr_summary(ws: Worksheet, book: Workbook, fmt: dict, v: LRValues):
    """The summary table: its headers, then one row of formulas per slot; returns the headers'
    format (the curves' headers take it too)."""
    s_r, s_c = L.rowcol(L.LIVE_SUMMARY_TOP_LEFT)
    ws.write(s_r - 1, 0, "What each learning rate did", fmt["h2"])
    head = book.add_format({**L.STYLES["head"], "text_wrap": True, "valign": "vcenter"})
    ws.set_row(s_r, L.LIVE_SUMMARY_HEAD_HEIGHT)
    for j, h in enumerate(summary_head_formulas()):
        if h.startswith("="):
            _formula(
                ws, s_r, s_c + j, h, head, f"{L.LIVE_SUMMARY_HEADS['steps_to_threshold']}{L.IN_THRESHOLD.default:g}"
            )
        else:
            ws.write_string(s_r, s_c + j, h, head)
    for k in range(L.LR_SLOTS):
        for j, f in enumerate(summary_formulas(k)):
            _formula(ws, s_r + 1 + k, s_c + j, f, fmt[L.LIVE_SUMMARY_STYLES.at(1, j)], v.summary[k][j])
    return head


def _lr_curves(ws: Worksheet, fmt: dict, head, v: LRValues) -> None:
    """The curves' table: a column per slot, one row per step, read from the LR blocks sheet."""
    c_r, c_c = L.rowcol(L.LIVE_CURVE_TOP_LEFT)
    ws.write(L.LIVE_CURVE_HEADER_ROW - 1, 0, "E_total per step (from the blocks on the LR blocks sheet)", fmt["h2"])
    ws.write(L.LIVE_CURVE_HEADER_ROW, 0, "step \\ lr", fmt["head"])
    for k in range(L.LR_SLOTS):
        label = lr_label(v.rates[k]) if v.rates[k] != "" else NO_LABEL
        _formula(
            ws,
            L.LIVE_CURVE_HEADER_ROW,
            c_c + k,
            f"={_blocks(_abs(L.LR_BLOCK_HEADER_ROW, L.LR_CHART_DATA_COL + 1 + k))}",
            head,
            label,
        )
    steps = _blocks(given_cell("steps"))
    for s in range(L.LR_BLOCK_STEPS):
        _formula(ws, c_r + s, 0, f'=IF({s}<{steps},{s},"")', fmt[L.LIVE_STEP_STYLE], s if s < v.steps else "")
        for k in range(L.LR_SLOTS):
            _formula(
                ws,
                c_r + s,
                c_c + k,
                f"={_blocks(_block_ref(k, 'E_total', s))}",
                fmt[L.LIVE_CURVE_STYLE],
                _block_value(v, k, "E_total", s),
            )


def _lr_chart(ws: Worksheet, book: Workbook, v: LRValues) -> None:
    """The chart of the curves, one line per slot in its colour, with caches a viewer draws from."""
    chart = book.add_chart({"type": "scatter", "subtype": "straight"})
    d_r = L.LR_BLOCK_FIRST_ROW
    d_c = L.LR_CHART_DATA_COL
    # the caches a viewer draws from: numbers, no point (None) where the cells hold #N/A
    x_cache = [s if s < v.steps else None for s in range(L.LR_BLOCK_STEPS)]
    for k in range(L.LR_SLOTS):
        y = [_block_value(v, k, "E_total", s) for s in range(L.LR_BLOCK_STEPS)]
        chart.add_series(
            {
                "categories_data": x_cache,
                "values_data": [None if e == "" else e for e in y],
                "name": [L.SHEET_LR_BLOCKS, L.LR_BLOCK_HEADER_ROW, d_c + 1 + k],
                "categories": [L.SHEET_LR_BLOCKS, d_r, d_c, d_r + L.LR_BLOCK_STEPS - 1, d_c],
                "values": [L.SHEET_LR_BLOCKS, d_r, d_c + 1 + k, d_r + L.LR_BLOCK_STEPS - 1, d_c + 1 + k],
                "line": {"width": 1.75, "color": L.SERIES_COLORS[k]},
                "marker": {"type": "none"},
            }
        )
    chart.set_title({"name": "E_total per step, one line per learning rate", "name_font": {"size": 12}})
    chart.set_x_axis({"name": "step", "min": 0, "major_gridlines": {"visible": False}})
    chart.set_y_axis({"name": "E_total", "num_format": "0.00"})
    chart.set_legend({"position": "right"})
    chart.set_size({"width": L.LIVE_CHART.width, "height": L.LIVE_CHART.height})
    ws.insert_chart(L.LIVE_CHART.cell, chart)


# --- About, xlwings.conf ---------------------------------------------------------------------
ABOUT = (
    ("xl-backprop: see backpropagation happen in Excel", "title"),
    ("", None),
    ("What is in this workbook", "h2"),
    (
        "Backprop — a 2-2-2 sigmoid network trained by gradient descent in plain formulas, one step "
        "per row, with the chain rule spelled out, a diagram and a chart. Works in any spreadsheet.",
        None,
    ),
    (
        f"Choices on Backprop — {L.IN_HIDDEN_ACT.label} ({L.IN_HIDDEN_ACT.cell}) and {L.IN_OUTPUT_ACT.label} "
        f"({L.IN_OUTPUT_ACT.cell}) pick each layer's activation: {', '.join(activations.NAMES)}. The table, the "
        "chain rule beside the diagram and the walkthrough's texts follow them: σ'(x) = σ(x)·(1 − σ(x)) becomes "
        "tanh'(x) = 1 − tanh²(x), relu'(x) = 1 if x > 0, else 0, … The Practice sheet stays sigmoid.",
        None,
    ),
    (
        f"Examples — what the network learns from: {L.IN_EXAMPLE_SET.label} ({L.IN_EXAMPLE_SET.cell} on "
        "Backprop) picks a preset (course: Backprop's own i1, i2, t1, t2; half-adder: the four 0/1 pairs, a sum "
        f"and a carry bit; …) or own, the yellow block of the Examples sheet (up to {L.EXAMPLE_ROWS} rows). With "
        "several examples E_total is the mean of their errors and each step uses the mean gradient; "
        f"{L.IN_EXAMPLE_SHOWN.label} ({L.IN_EXAMPLE_SHOWN.cell}) picks the example whose values the texts show.",
        None,
    ),
    (
        "Practice — work out one training step yourself: a check beside each answer says ✓ or ✗. A seed "
        "picks the exercise (0: the course's; the ribbon's New exercise draws one), a level how much is yours.",
        None,
    ),
    (
        "UDFs — the same example with the Python functions FORWARD, GRADIENTS and BACKPROP_STEP, "
        "and GRAD_CHECK. Needs Excel on Windows with Python and xlwings.",
        None,
    ),
    (
        "Learning rates — one training run per learning rate: TRAIN_CURVE and LR_SUMMARY live, and "
        "the ribbon's Train learning rates button for the full batch, a chart and a picture (the live part needs "
        "Excel on Windows).",
        None,
    ),
    (
        "xlwings.conf — the last sheet: xlwings' settings for this workbook, read by name (UDF Modules names "
        "the Python module of the functions; an Interpreter_Win row names the Python to start). Not for teaching.",
        None,
    ),
    ("", None),
    ("Set-up (Excel with Python 3.10+; the functions need Windows, the ribbon works on a Mac too)", "h2"),
    (
        "1. In a checkout of xl-backprop: pip install .   (it brings the matching xlwings, 0.37.8). On a Mac, "
        "also once: xlwings runpython install.",
        None,
    ),
    (
        "2. Open this workbook and click Enable Content. If Excel blocks the macros because the file came from "
        "the internet: close it, right-click the file > Properties > tick Unblock, open it again.",
        None,
    ),
    (
        "3. Python is found as xlwings finds it: the pythonw/python on PATH, or the one named by an "
        "Interpreter_Win (or Interpreter_Mac) row you add at A2:B2 of the xlwings.conf sheet (or in "
        "~/.xlwings/xlwings.conf); name it when Python is in a virtual environment.",
        None,
    ),
    (
        "4. The functions work at once (their VBA wrappers are in this file); cells that still show #NAME? "
        "after Enable Content are recalculated by Ctrl+Alt+F9. After upgrading xl-backprop, "
        "press Backprop tab > Re-import functions; that needs File > Options > Trust Center > Trust Center "
        "Settings > Macro Settings > 'Trust access to the VBA project object model'.",
        None,
    ),
    (
        f"Without Excel: xl-backprop run ACTION BOOK.xlsm --out OUT.xlsm (ACTION: {', '.join(ACTIONS)}) "
        "does the same on a copy.",
        None,
    ),
    ("", None),
    ("Excel on a Mac or on the web (xlwings Lite)", "h2"),
    (
        "The functions and the four buttons also run in xlwings Lite, xlwings' free add-in (Home > Add-ins, "
        "search for xlwings): Python inside Excel, on Windows, macOS and the web, nothing to install. On a computer "
        "with xl-backprop: xl-backprop lite --out lite. In the Lite pane, paste lite/requirements.txt into the "
        "requirements.txt tab, then lite/main.py into the main.py tab, and save the workbook: Lite keeps the code "
        "in it.",
        None,
    ),
    (
        "Type the functions into cells as usual; run Train learning rates, Draw network or Reset to defaults from "
        "the pane's script list. Bad input prints one line in the pane's output. There is no ready-made Lite "
        "edition of this workbook: how Lite stores code in a file is not documented (README: Excel on Mac and on "
        "the web).",
        None,
    ),
    ("", None),
    ("Troubleshooting", "h2"),
    (
        "Run xl-backprop doctor in a terminal: it checks the Python, the xlwings version and the functions, and "
        "prints what to paste where. The README's Troubleshooting section lists the known failures:",
        None,
    ),
    (
        '"Could not activate Python COM server" or Python not found: add the Interpreter_Win row doctor prints to '
        "the xlwings.conf sheet.  Macros blocked on a downloaded file: Unblock it (step 2).  #NAME? after Enable "
        "Content: Ctrl+Alt+F9.  A version mismatch: pip install . again from the checkout this file came with.",
        None,
    ),
    (
        "No code runs when this workbook opens: Python starts only when a function recalculates or a button is "
        "pressed.",
        None,
    ),
    ("", None),
    ("Rebuilding", "h2"),
    (
        "This file is built, not edited: xl-backprop template --out workbook_template.xlsm --force "
        "(or make template) writes it from the sources in xl_backprop/workbook/.",
        None,
    ),
)


ABOUT_WIDTH = 100  #: characters: the column fits a landscape page at full size
ABOUT_LINE = 110  #: characters of prose a wrapped line of that column holds, at the least


def write_about(book: Workbook, fmt: dict) -> Worksheet:
    ws = book.add_worksheet(L.SHEET_ABOUT)
    ws.set_column(0, 0, ABOUT_WIDTH)
    wrap = book.add_format({"text_wrap": True, "valign": "top"})
    for r, (text, style) in enumerate(ABOUT):
        if text:
            ws.write_string(r, 0, text, fmt[style] if style else wrap)
            if not style:  # wrapped: rows as high as the lines (not every reader fits them on load)
                ws.set_row(r, 15 * -(-len(text) // ABOUT_LINE))
    _print_setup(ws, f"A1:A{len(ABOUT)}")
    ws.fit_to_pages(1, 0)  # one column of text: one page wide at full size
    return ws


#: The workbook's xlwings settings: key, value. No blank rows (xlwings stops at one).
CONF = (("UDF Modules", "xl_backprop.udfs"),)


def write_conf(book: Workbook, fmt: dict) -> Worksheet:
    ws = book.add_worksheet(L.SHEET_CONF)
    ws.set_column(0, 1, 22)
    for r, (key, value) in enumerate(CONF):
        ws.write_string(r, 0, key)
        ws.write_string(r, 1, value)
    _print_setup(ws, f"A1:B{len(CONF)}")
    return ws


def write_sheets(book: Workbook) -> None:
    """Every sheet, in ``layout.SHEETS`` order, and the defined names of the inputs."""
    from .practice import write_practice  # it uses this module's table_formula

    fmt = _formats(book)
    for write in (
        write_backprop,
        write_udfs,
        write_learning_rates,
        write_practice,
        examples_sheet.write_examples,
        write_lr_blocks,
        write_about,
        write_conf,
    ):
        write(book, fmt)
    for inp in L.INPUTS:
        book.define_name(inp.name, "=" + inp.ref)
    examples_sheet.define_names(book)
