"""The template's sheets, rendered with XlsxWriter at the places and in the styles ``layout`` gives.

Native formulas on Backprop compute the whole worked example in any spreadsheet application;
the UDFs and Learning rates sheets call the Python functions of ``xl_backprop.udfs``, which
need Excel with xlwings. Every formula cell stores the value it computes for the template's own
inputs -- native formulas from the engine, UDF blocks from the UDFs themselves, every cell of a
spill range -- so a viewer that does not recalculate (Protected View, file previews) shows the
right numbers, and the charts' cached data are those numbers too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np
from xlsxwriter.format import Format
from xlsxwriter.utility import xl_col_to_name, xl_rowcol_to_cell
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from .. import network, udfs
from . import layout as L

#: Steps the live chart on Learning rates plots (the default iteration count).
LIVE_CHART_STEPS = network.DEFAULT_ITERATIONS
#: Learning rates the live chart plots: every slot of the list (an empty slot draws nothing).
LIVE_CHART_SERIES = L.LR_SLOTS
#: Print scale (percent) of the wide sheets: 11-point text prints at about 7.7 points.
PRINT_SCALE = 70


def col(name: str) -> str:
    """Column letter of a Backprop table column, e.g. ``col("E_total") == "AA"``."""
    return xl_col_to_name(L.BACKPROP_COLUMNS.index(name))


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
def _engine_rows(steps: int):
    """The engine's numbers for every table row, for the formulas' cached results."""
    res = network.train(
        [L.IN_LR.default],
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
        "lr": L.IN_LR.default,
    }
    for k, v in given.items():
        cols[k] = np.full(steps, float(v))
    return cols


def table_formula(name: str, step: int) -> str:
    """The native formula of one Backprop table cell (the rule a student would copy down)."""
    R = L.BACKPROP_FIRST_ROW + step + 1  # sheet row number
    P = R - 1
    c = {n: f"{col(n)}{R}" for n in L.BACKPROP_COLUMNS}  # this row's cells
    if name in ("t1", "t2", "i1", "i2", "b1", "b2", "lr"):
        if step == 0:
            return f"=IF(ISNUMBER(in_{name}),in_{name},NA())"
        return f"={col(name)}{P}"
    if name in network.WEIGHT_NAMES:
        if step == 0:
            return f"=IF(ISNUMBER(in_{name}),in_{name},NA())"
        return f"={col(name)}{P}-{col('lr')}{P}*{col('dE/d' + name)}{P}"
    rules = {
        "h1": f"={c['w1']}*{c['i1']}+{c['w2']}*{c['i2']}+{c['b1']}",
        "h2": f"={c['w3']}*{c['i1']}+{c['w4']}*{c['i2']}+{c['b1']}",
        "a_h1": f"=1/(1+EXP(-{c['h1']}))",
        "a_h2": f"=1/(1+EXP(-{c['h2']}))",
        "o1": f"={c['w5']}*{c['a_h1']}+{c['w6']}*{c['a_h2']}+{c['b2']}",
        "o2": f"={c['w7']}*{c['a_h1']}+{c['w8']}*{c['a_h2']}+{c['b2']}",
        "a_o1": f"=1/(1+EXP(-{c['o1']}))",
        "a_o2": f"=1/(1+EXP(-{c['o2']}))",
        "E1": f"=0.5*({c['t1']}-{c['a_o1']})^2",
        "E2": f"=0.5*({c['t2']}-{c['a_o2']})^2",
        "E_total": f"={c['E1']}+{c['E2']}",
        # the chain rule, one value per cell (network.chain)
        "d_o1": f"=({c['a_o1']}-{c['t1']})*{c['a_o1']}*(1-{c['a_o1']})",
        "d_o2": f"=({c['a_o2']}-{c['t2']})*{c['a_o2']}*(1-{c['a_o2']})",
        "dE1_da_h1": f"={c['d_o1']}*{c['w5']}",
        "dE2_da_h1": f"={c['d_o2']}*{c['w7']}",
        "dE_da_h1": f"={c['dE1_da_h1']}+{c['dE2_da_h1']}",
        "dE1_da_h2": f"={c['d_o1']}*{c['w6']}",
        "dE2_da_h2": f"={c['d_o2']}*{c['w8']}",
        "dE_da_h2": f"={c['dE1_da_h2']}+{c['dE2_da_h2']}",
        "d_h1": f"={c['dE_da_h1']}*{c['a_h1']}*(1-{c['a_h1']})",
        "d_h2": f"={c['dE_da_h2']}*{c['a_h2']}*(1-{c['a_h2']})",
        "dE/dw1": f"={c['d_h1']}*{c['i1']}",
        "dE/dw2": f"={c['d_h1']}*{c['i2']}",
        "dE/dw3": f"={c['d_h2']}*{c['i1']}",
        "dE/dw4": f"={c['d_h2']}*{c['i2']}",
        "dE/dw5": f"={c['d_o1']}*{c['a_h1']}",
        "dE/dw6": f"={c['d_o1']}*{c['a_h2']}",
        "dE/dw7": f"={c['d_o2']}*{c['a_h1']}",
        "dE/dw8": f"={c['d_o2']}*{c['a_h2']}",
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

INPUT_NOTES = {
    "in_i1": "input 1",
    "in_i2": "input 2",
    "in_t1": "target 1",
    "in_t2": "target 2",
    "in_b1": "hidden bias",
    "in_b2": "output bias",
    "in_lr": "step size",
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
        ws.write_formula(r, c, f"={at(name)}", f, value(name))

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
    ws.write(r0, c0 + 4, "(show step, B19: the step Draw network draws)", fmt["note"])
    top, bottom = r0 + 2, r0 + 6  # rows of the upper and lower nodes
    ci, ch, cs1, ca, co, cs2, cao, ce = (c0 + k for k in (0, 4, 5, 6, 9, 10, 11, 12))
    for r, k, name_row in ((top, 1, top - 1), (bottom, 2, bottom + 1)):
        put(r, ci, f"i{k}", {**node, "num_format": "0.00##"}, ci + 1)
        ws.merge_range(name_row, ci, name_row, ci + 1, f"i{k}", name_style)
        for c, name in ((ch, f"h{k}"), (ca, f"a_h{k}"), (co, f"o{k}"), (cao, f"a_o{k}"), (ce, f"E{k}")):
            put(r, c, name, node)
            ws.write_string(name_row, c, name, name_style)
        for c in (cs1, cs2):  # the sigmoid joins h to a_h and o to a_o
            ws.write_string(r, c, "σ", nf({**edge_label, "bold": True, **(line if k == 1 else line_up)}))
        put(r, ce + 1, f"t{k}", {"align": "left", "valign": "vcenter", "num_format": f'"t{k} = "0.00##'})
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
    # E1 and E2 add up to E_total, between them
    arrow = nf({"align": "center", "font_color": "#595959"})
    ws.write_string(top + 1, ce, "↓ +", arrow)
    ws.write_string(bottom - 1, ce, "↑", arrow)
    put(top + 2, ce, "E_total", {**node, "bg_color": "#FCE4D6", "num_format": "0.000000"})
    ws.write_string(top + 2, ce + 1, "E_total", nf({"bold": True, "font_color": "#1F3864"}))
    # the two paths into each hidden unit, in their colours, and their sum
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
    ws.write(
        "A2",
        "A 2-2-2 sigmoid network learning two targets by gradient descent, in plain "
        "formulas. Yellow cells are yours to change.",
        fmt["note"],
    )
    for first, last, width in L.BACKPROP_WIDTHS:
        ws.set_column(f"{first}:{last}", width)
    ws.set_column(L.IN_I1.col, L.IN_I1.col, L.INPUT_WIDTH)
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
                },
            )
        else:
            _number_validation(ws, inp, positive=inp is L.IN_LR)
    cached = _engine_rows(L.BACKPROP_STEPS)
    _diagram(ws, book, fmt, cached)
    r, c = L.rowcol(L.DERIVATION_TOP_LEFT)
    ws.write(r - 1, c, DERIVATION_TITLE, fmt["h2"])
    for k, line in enumerate(DERIVATION):
        if isinstance(line, tuple):
            ws.write_rich_string(r + k, c, *_rich(book, line, L.STYLES["text"]), fmt["text"])
        else:
            ws.write_string(r + k, c, line, fmt["note"] if k == len(DERIVATION) - 1 else fmt["text"])

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
    last = L.a1(L.BACKPROP_FIRST_ROW + L.BACKPROP_STEPS - 1, len(L.BACKPROP_COLUMNS) - 1)
    _print_setup(
        ws, f"A1:{last}", rows=(L.BACKPROP_HEADER_ROW - 1, L.BACKPROP_HEADER_ROW), first_column=True, scale=PRINT_SCALE
    )
    # the lesson above stays in view while the table scrolls under its headers
    ws.freeze_panes(L.BACKPROP_FIRST_ROW, 1)
    ws.activate()
    return ws


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
    ws.write(L.UDF_GRAD_CHECK_TITLE, "GRAD_CHECK at step 0 (analytic vs central difference)", fmt["h2"])
    last = L.a1(L.UDF_FIRST_ROW + L.BACKPROP_STEPS - 1, L.rowcol(L.UDF_GRAD_CHECK.bottom_right)[1])
    _print_setup(ws, f"A1:{last}", rows=(L.UDF_GROUP_ROW, L.UDF_HEADER_ROW), first_column=True, scale=PRINT_SCALE)
    return ws


# --- Learning rates --------------------------------------------------------------------------
def live_lrs() -> str:
    """The filled part of the learning-rate list (blank slots after it are not passed on), as a
    range between two INDEX calls: unlike OFFSET it is not volatile, so the UDFs reading it
    recalculate only when their inputs change."""
    return "INDEX(in_lrs,1,1):INDEX(in_lrs,1,MAX(1,COUNTA(in_lrs)))"


def lr_formulas() -> list[BlockFormula]:
    """The UDF block formulas on Learning rates (and the SEQUENCE of step numbers beside them)."""
    k = len(network.DEFAULT_LRS)
    s_r, s_c = L.rowcol(L.LIVE_SUMMARY_TOP_LEFT)
    c_r, c_c = L.rowcol(L.LIVE_CURVE_TOP_LEFT)
    return [
        # the step numbers 0..iterations-1, spilling beside the curves
        BlockFormula(
            L.a1(c_r, 0),
            L.a1(c_r + network.DEFAULT_ITERATIONS - 1, 0),
            "=_xlfn.SEQUENCE(in_iterations)-1",
            L.LIVE_STEP_STYLE,
        ),
        BlockFormula(
            L.LIVE_SUMMARY_TOP_LEFT,
            L.a1(s_r + k, s_c + len(L.LIVE_SUMMARY_STYLES.body) - 1),
            f"=LR_SUMMARY(in_weights,in_inputs,in_targets,{live_lrs()},in_iterations,in_threshold,in_biases)",
            L.LIVE_SUMMARY_STYLES,
        ),
        BlockFormula(
            L.LIVE_CURVE_TOP_LEFT,
            L.a1(c_r + network.DEFAULT_ITERATIONS - 1, c_c + k - 1),
            f"=TRAIN_CURVE(in_weights,in_inputs,in_targets,{live_lrs()},in_iterations,in_biases)",
            L.LIVE_CURVE_STYLE,
        ),
    ]


def lr_values() -> dict[str, list[list]]:
    """First cell -> the block each formula of ``lr_formulas`` returns for the template's inputs
    (SEQUENCE as Excel counts; the UDFs called with the cells' values)."""
    weights = _column(network.DEFAULT_WEIGHTS)
    inputs, targets = _column(network.DEFAULT_INPUTS), _column(network.DEFAULT_TARGETS)
    biases, lrs = _column(network.DEFAULT_BIASES), [list(map(float, network.DEFAULT_LRS))]
    iterations, threshold = [[float(L.IN_ITERATIONS.default)]], [[float(L.IN_THRESHOLD.default)]]
    first_step = L.a1(L.rowcol(L.LIVE_CURVE_TOP_LEFT)[0], 0)
    return {
        first_step: [[float(s)] for s in range(int(L.IN_ITERATIONS.default))],
        L.LIVE_SUMMARY_TOP_LEFT: udfs.LR_SUMMARY(weights, inputs, targets, lrs, iterations, threshold, biases),
        L.LIVE_CURVE_TOP_LEFT: udfs.TRAIN_CURVE(weights, inputs, targets, lrs, iterations, biases).tolist(),
    }


def _slot_value(k: int) -> float | str:
    """What ``=IF(slot="","",slot)`` gives for slot ``k`` of the default list. Written as a
    one-cell dynamic array, as the empty text is stored as text (``t="str"``), not as a number."""
    return float(network.DEFAULT_LRS[k]) if k < len(network.DEFAULT_LRS) else ""


def write_learning_rates(book: Workbook, fmt: dict) -> Worksheet:
    ws = book.add_worksheet(L.SHEET_LRS)
    ws.write("A1", "How the learning rate changes training", fmt["title"])
    ws.write(
        "A2",
        "Edit the yellow cells. The network (weights, inputs, targets, biases) is the one on the Backprop sheet.",
        fmt["note"],
    )
    s_r, s_c = L.rowcol(L.LIVE_SUMMARY_TOP_LEFT)
    for k, width in enumerate(L.LIVE_SUMMARY_WIDTHS):
        ws.set_column(s_c + k, s_c + k, width)
    ws.set_column(s_c + len(L.LIVE_SUMMARY_WIDTHS), L.LR_SLOTS, L.LIVE_WIDTH)
    # the macro's summary block: wide enough for its headers ("steps to E_total < 0.01", ...)
    _, m_c = L.rowcol(L.MACRO_SUMMARY.top_left)
    for k, width in enumerate(L.MACRO_SUMMARY_WIDTHS):
        ws.set_column(m_c + k, m_c + k, width)
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
        },
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
    ws.write(L.IN_LRS.row, L.LR_SLOTS + 1, "fill from the left; blank cells end the list", fmt["note"])

    ws.write(s_r - 1, 0, "LR_SUMMARY: what each learning rate did (live, Python)", fmt["h2"])
    c_r, c_c = L.rowcol(L.LIVE_CURVE_TOP_LEFT)
    ws.write(L.LIVE_CURVE_HEADER_ROW - 1, 0, "TRAIN_CURVE: E_total per step (live, Python)", fmt["h2"])
    ws.write(L.LIVE_CURVE_HEADER_ROW, 0, "step \\ lr", fmt["head"])
    lr_head = book.add_format(L.LIVE_LR_HEAD)
    for k in range(L.LR_SLOTS):
        slot = xl_rowcol_to_cell(L.IN_LRS.row, 1 + k, row_abs=True)
        write_spill(
            ws, L.a1(L.LIVE_CURVE_HEADER_ROW, c_c + k), f'=IF({slot}="","",{slot})', [[_slot_value(k)]], lr_head
        )
    _write_formulas(ws, fmt, lr_formulas(), lr_values())

    chart = book.add_chart({"type": "line"})
    for k in range(LIVE_CHART_SERIES):
        chart.add_series(
            {
                "name": [L.SHEET_LRS, L.LIVE_CURVE_HEADER_ROW, c_c + k],
                "categories": [L.SHEET_LRS, c_r, 0, c_r + LIVE_CHART_STEPS - 1, 0],
                "values": [L.SHEET_LRS, c_r, c_c + k, c_r + LIVE_CHART_STEPS - 1, c_c + k],
                "line": {"width": 1.75, "color": L.SERIES_COLORS[k]},
            }
        )
    chart.set_title({"name": "E_total per step, one line per learning rate", "name_font": {"size": 12}})
    chart.set_x_axis({"name": "step", "interval_unit": 10, "interval_tick": 10})
    chart.set_y_axis({"name": "E_total", "num_format": "0.00"})
    # A chart keeps a legend entry for every series, a blank one for an empty slot: the legend
    # is in the cells under the chart instead, one per filled slot, in the series' colours.
    chart.set_legend({"none": True})
    chart.set_size({"width": L.LIVE_CHART.width, "height": L.LIVE_CHART.height})
    ws.insert_chart(L.LIVE_CHART.cell, chart)
    chart_r, chart_c = L.rowcol(L.LIVE_CHART.cell)
    ws.write(
        chart_r - 1,
        chart_c,
        f"Live chart: the first {LIVE_CHART_STEPS} steps of every learning rate in the list",
        fmt["note"],
    )
    legend_r, legend_c = L.rowcol(L.LIVE_LEGEND_TOP_LEFT)
    per_row = (L.LR_SLOTS + 1) // 2
    ws.set_column(legend_c, legend_c + per_row - 1, L.LIVE_WIDTH)
    for k in range(L.LR_SLOTS):
        slot = xl_rowcol_to_cell(L.IN_LRS.row, 1 + k, row_abs=True)
        entry = book.add_format(L.legend_entry(k))
        write_spill(
            ws,
            L.a1(legend_r + k // per_row, legend_c + k % per_row),
            f'=IF({slot}="","",{slot})',
            [[_slot_value(k)]],
            entry,
        )

    ws.write(
        L.MACRO_TITLE_CELL,
        "Written by the ribbon's Train learning rates button "
        "(or, without Excel: xl-backprop run train-lrs BOOK.xlsm --out OUT.xlsm)",
        fmt["h2"],
    )
    # No fixed print area: the spills grow with the iteration count and the macro writes its
    # table, chart and picture to the right, so the used range is what there is to print.
    _print_setup(ws, None, rows=(L.LIVE_CURVE_HEADER_ROW, L.LIVE_CURVE_HEADER_ROW), scale=PRINT_SCALE)
    return ws


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
        "Without Excel: xl-backprop run ACTION BOOK.xlsm --out OUT.xlsm (ACTION: train-lrs, draw-network, "
        "reset) does the same on a copy.",
        None,
    ),
    ("", None),
    ("Excel on a Mac or on the web (xlwings Lite)", "h2"),
    (
        "The functions and the three buttons also run in xlwings Lite, xlwings' free add-in (Home > Add-ins, "
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
    fmt = _formats(book)
    for write in (write_backprop, write_udfs, write_learning_rates, write_about, write_conf):
        write(book, fmt)
    for inp in L.INPUTS:
        book.define_name(inp.name, "=" + inp.ref)
