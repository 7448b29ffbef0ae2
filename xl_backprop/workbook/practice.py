"""The Practice sheet, rendered with XlsxWriter at the places ``layout`` gives: predict, then check.

The learner fills in one training step of the network that ``PracticeSeed`` draws
(``exercise.excel_formula``), a faded worked example: at ``PracticeLevel`` 1 only the update is
theirs, at 2 the backward pass too, at 3 all of it (``layout.PRACTICE_LEVELS``); the rows that are
not theirs show their values. Beside each answer a check says ✓ or ✗ (``exercise.excel_is_right``),
a show-answer switch reveals the value and marks the row as shown, and ``PracticeScore`` counts the
✓s. The right values are computed in hidden cells by the Backprop table's own rules
(``sheets.table_formula``, given where each name sits here), never a second copy of them.
Every formula stores the value it computes for the template's seed and level, from the engine.
"""

from __future__ import annotations

import numpy as np
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from .. import exercise, network
from . import layout as L
from .sheets import PRINT_SCALE, _formula, _print_setup, table_formula

#: The rule of each quantity, in the course's notation, in terms of the rows above it.
RULES = {
    "h1": "w1·i1 + w2·i2",
    "h2": "w3·i1 + w4·i2",
    "a_h1": "σ(h1)",
    "a_h2": "σ(h2)",
    "o1": "w5·a_h1 + w6·a_h2",
    "o2": "w7·a_h1 + w8·a_h2",
    "a_o1": "σ(o1)",
    "a_o2": "σ(o2)",
    "E1": "½(t1 − a_o1)²",
    "E2": "½(t2 − a_o2)²",
    "E_total": "E1 + E2",
    "d_o1": "(a_o1 − t1)·a_o1·(1 − a_o1)",
    "d_o2": "(a_o2 − t2)·a_o2·(1 − a_o2)",
    "dE_dw5": "δo1·a_h1",
    "dE_dw6": "δo1·a_h2",
    "dE_dw7": "δo2·a_h1",
    "dE_dw8": "δo2·a_h2",
    "dE1_da_h1": "δo1·w5  (path through o1)",
    "dE2_da_h1": "δo2·w7  (path through o2)",
    "dE_da_h1": "∂E1/∂a_h1 + ∂E2/∂a_h1",
    "dE1_da_h2": "δo1·w6  (path through o1)",
    "dE2_da_h2": "δo2·w8  (path through o2)",
    "dE_da_h2": "∂E1/∂a_h2 + ∂E2/∂a_h2",
    "d_h1": "∂E/∂a_h1·a_h1·(1 − a_h1)",
    "d_h2": "∂E/∂a_h2·a_h2·(1 − a_h2)",
    "dE_dw1": "δh1·i1",
    "dE_dw2": "δh1·i2",
    "dE_dw3": "δh2·i1",
    "dE_dw4": "δh2·i2",
    **{f"new_w{k}": f"w{k} − lr·∂E/∂w{k}" for k in range(1, 9)},
}
TITLE = "Practice: predict each value, then check it"
INTRO = (
    "Work out one training step of the network on the right, top to bottom: type each value in its yellow cell.",
    "The check beside it says ✓ or ✗. Stuck? Set show answer to TRUE: the row shows its value (shown, not solved).",
)
HIDDEN_NOTE = "The right values are computed in hidden cells (columns {}), by the Backprop table's formulas.".format(
    " and ".join(letter for name, letter, _, _ in L.PRACTICE_COLUMNS if name in L.PRACTICE_HIDDEN)
)
#: Under the exercise: what the learner needs to compute the step.
NOTES = (
    "The rules",
    "The sigmoid in both layers and one",
    "example, whatever Backprop's dropdowns say.",
    "No biases (b1 = b2 = 0).",
    "σ(x) = 1 / (1 + e^(−x))",
    "σ'(x) = σ(x)·(1 − σ(x))",
    "Every gradient from the same forward pass;",
    "new w = w − lr·∂E/∂w.",
    "",
    "New exercise: the ribbon's Practice group,",
    "or type a seed. Your answers stay:",
    "clear column D to start again.",
)
SEED_NOTE = f"0: the course's example · 1 to {exercise.SEED_MAX:,}: another exercise (the same on every computer)"
SEED_MESSAGE = f"seed: expected a whole number from 0 to {exercise.SEED_MAX}"
LEVEL_NOTES = (
    "1: you fill in the update (new w1..w8)",
    "2: also the backward pass (δ, paths, ∂E/∂w)",
    "3: the whole step, forward pass first",
)
LEVEL_MESSAGE = "level: expected 1, 2 or 3"
SCORE_TAIL = " to fill in at this level · shown answers do not count"


def column(name: str) -> str:
    """The letter of a Practice table column (a code name of ``layout.PRACTICE_COLUMNS``)."""
    return {n: letter for n, letter, _, _ in L.PRACTICE_COLUMNS}[name]


def _rows() -> str:
    return f"{L.PRACTICE_FIRST_ROW + 1}:{L.PRACTICE_FIRST_ROW + len(L.PRACTICE_QUANTITIES)}"


def column_range(name: str) -> str:
    """Every row of the table in column ``name``, absolute: ``$E$9:$E$45``."""
    first, last = _rows().split(":")
    c = column(name)
    return f"${c}${first}:${c}${last}"


def phase_of(q: str) -> int:
    return next(p for p, _, qs in L.PRACTICE_PHASES if q in qs)


def symbol(q: str) -> str:
    """How the course writes ``q`` (δo1, ∂E1/∂a_h1, ∂E/∂w5, new w5)."""
    if q.startswith("dE_dw"):
        return f"∂E/∂w{q[5:]}"
    if q.startswith("new_w"):
        return f"new w{q[5:]}"
    return L.BACKPROP_HEADERS[L.BACKPROP_COLUMNS.index(q)]


# --- where each name sits, for the Backprop table's rules --------------------------------------
def given_cell(name: str) -> str:
    """The exercise's cell of w1..w8, i1, i2, t1, t2 or lr, absolute."""
    r, c = L.rowcol(L.PRACTICE_GIVEN_CELLS[name])
    return f"${L.col_letters(c)}${r + 1}"


def at(name: str, step: int) -> str:
    """``sheets.table_formula``'s cells for the practice step: the exercise's given values, no
    biases, and the hidden right value of each quantity (a table name such as dE/dw5 is the
    quantity dE_dw5; at step 1 a weight is its update, new_wk)."""
    if name in ("b1", "b2", "step"):
        return "0"
    if name in exercise.COURSE:
        return given_cell(name)
    return L.practice_cell("right", name.replace("/", "_"))


def right_formula(q: str) -> str:
    """The native formula of ``q``'s right value: the Backprop table's rule for it."""
    if q.startswith("new_w"):
        return table_formula(f"w{q[5:]}", 1, at, mean=False)
    return table_formula(q.replace("dE_dw", "dE/dw"), 0, at, mean=False)


# --- the cells' formulas -----------------------------------------------------------------------
def seed_ok() -> str:
    return exercise.excel_seed_ok(L.IN_PRACTICE_SEED.name)


def level_ok() -> str:
    lvl = L.IN_PRACTICE_LEVEL.name
    return f"IF(ISNUMBER({lvl}),OR({','.join(f'{lvl}={k}' for k in L.PRACTICE_LEVELS)}),FALSE)"


def yours_formula(q: str) -> str:
    """Is ``q``'s row the learner's: its phase is at or after the level's first (a bad level: all)."""
    lvl = L.IN_PRACTICE_LEVEL.name
    first = ",".join(str(L.PRACTICE_LEVELS[k]) for k in sorted(L.PRACTICE_LEVELS))
    return f"={phase_of(q)}>=IF({level_ok()},CHOOSE({lvl},{first}),1)"


def _shown(q: str) -> str:
    """Is ``q``'s show-answer switch on: TRUE, or the text TRUE (a list's choice, in some readers)."""
    cell = L.practice_cell("show", q)
    return f'OR({cell}=TRUE,{cell}="TRUE")'


def check_formula(q: str) -> str:
    """✓, ✗ or shown for ``q``'s answer; nothing while it is empty or the row is given."""
    a, right, yours = (L.practice_cell(c, q) for c in ("answer", "right", "yours"))
    m = L.PRACTICE_MARKS
    verdict = f'IF({exercise.excel_is_right(a, right)},"{m["right"]}","{m["wrong"]}")'
    return (
        f'=IF(NOT({yours}),"",IF({_shown(q)},"{m["shown"]}",IF({a}="","",'
        f'IF(ISNUMBER({a}),IF(ISNUMBER({right}),{verdict},""),"{m["text"]}"))))'
    )


def given_formula(q: str) -> str:
    """The value where the row is given at this level or its answer is shown; else nothing."""
    return f'=IF(OR(NOT({L.practice_cell("yours", q)}),{_shown(q)}),{L.practice_cell("right", q)},"")'


def score_formula() -> str:
    return f'=COUNTIF({column_range("check")},"{L.PRACTICE_MARKS["right"]}")'


def seed_note_formula() -> str:
    return f'=IF({seed_ok()},"{SEED_NOTE}","{SEED_MESSAGE}")'


def level_note_formula() -> str:
    notes = ",".join(f'"{n}"' for n in LEVEL_NOTES)
    return f'=IF({level_ok()},CHOOSE({L.IN_PRACTICE_LEVEL.name},{notes}),"{LEVEL_MESSAGE}")'


def score_note_formula() -> str:
    return f'="{L.PRACTICE_MARKS["right"]} out of "&COUNTIF({column_range("yours")},TRUE)&"{SCORE_TAIL}"'


# --- the engine's values, stored with the formulas ----------------------------------------------
def engine_values(seed: int = L.IN_PRACTICE_SEED.default) -> dict[str, float]:
    """Every quantity of the practice step of ``seed``, from network.forward, chain, gradients
    and step (no biases): what the hidden cells compute."""
    ex = exercise.exercise(seed)
    net = {"inputs": ex.inputs, "targets": ex.targets}
    w = np.asarray(ex.weights, dtype=float)
    f = network.forward(w, **net)
    values = {name: float(v) for name, v in zip(network.Forward._fields, f, strict=True)}
    values.update({name: float(v) for name, v in network.chain(w, fwd=f, **net)._asdict().items()})
    values.update({f"dE_dw{k + 1}": float(g) for k, g in enumerate(network.gradients(w, **net))})
    new_w, _ = network.step(w, lr=ex.lr, **net)
    values.update({f"new_w{k + 1}": float(v) for k, v in enumerate(new_w)})
    return values


def _stored(seed: int, level: int) -> dict[str, dict[str, object]]:
    """Per column, per quantity: what the template's formulas store (no answer typed, none shown)."""
    right = engine_values(seed)
    first = L.PRACTICE_LEVELS[level]
    yours = {q: phase_of(q) >= first for q in L.PRACTICE_QUANTITIES}
    given = {q: "" if yours[q] else right[q] for q in L.PRACTICE_QUANTITIES}
    return {"right": right, "yours": yours, "given": given, "check": dict.fromkeys(L.PRACTICE_QUANTITIES, "")}


# --- the sheet ---------------------------------------------------------------------------------
#: The sheet's own looks: the marks' colours, the answer cells' two states, the given values.
PRACTICE_STYLES = {
    "right": {"bold": True, "font_color": "#006100", "bg_color": "#C6EFCE"},
    "wrong": {"bold": True, "font_color": "#9C0006", "bg_color": "#FFC7CE"},
    "shown": {"italic": True, "font_color": "#7F7F7F"},
    "yours": {"bg_color": "#FFF2CC"},
    "not_yours": {"bg_color": "#F2F2F2", "font_color": "#7F7F7F"},
    "message": {"bold": True, "font_color": "#C00000"},
    "answer": {"border": 1, "border_color": "#BF9000", "num_format": "General"},
    "seed": {**L.STYLES["input"], "align": "center", "bold": True},
    # the show-answer switch: LibreOffice may read a stored FALSE as 0, so the format says it in words
    # (Excel shows a boolean as TRUE / FALSE whatever the format)
    "switch": {**L.STYLES["input"], "num_format": '"TRUE";"TRUE";"FALSE"', "align": "center"},
    "exercise": {"num_format": "0.00", "bold": True, "align": "center", "border": 1, "border_color": "#BFBFBF"},
    "name": {"bold": True, "align": "center", "font_color": "#1F3864"},
    "check": {"align": "center"},
    # the given values to 6 significant figures: enough to go on within the 0.5 % the check allows
    "value": {"num_format": "0.000000"},
    "small": {"num_format": "0.00000E+00"},
    "score": {"bold": True, "font_size": 14, "align": "center", "border": 1, "bg_color": "#E2EFDA"},
}


def _validate_inputs(ws: Worksheet) -> None:
    ws.data_validation(
        L.IN_PRACTICE_SEED.cell,
        {
            "validate": "integer",
            "criteria": "between",
            "minimum": 0,
            "maximum": exercise.SEED_MAX,
            "error_title": "xl-backprop",
            "error_message": SEED_MESSAGE,
            "input_title": "seed",
            "input_message": f"0: the course's example. 1 to {exercise.SEED_MAX}: another exercise.",
        },
    )
    ws.data_validation(
        L.IN_PRACTICE_LEVEL.cell,
        {
            "validate": "integer",
            "criteria": "between",
            "minimum": 1,
            "maximum": len(L.PRACTICE_LEVELS),
            "error_title": "xl-backprop",
            "error_message": LEVEL_MESSAGE,
            "input_title": "level",
            "input_message": "1: the update · 2: the backward pass too · 3: all of it",
        },
    )
    first, last = _rows().split(":")
    a, show = column("answer"), column("show")
    ws.data_validation(
        f"{a}{first}:{a}{last}",
        {
            "validate": "decimal",
            "criteria": "between",
            "minimum": -1e9,
            "maximum": 1e9,
            "error_title": "xl-backprop",
            "error_message": "your answer: expected a number",
            "input_title": "your answer",
            "input_message": "Type your value; the check beside it says ✓ or ✗.",
        },
    )
    ws.data_validation(
        f"{show}{first}:{show}{last}",
        {
            "validate": "list",
            "source": ["TRUE", "FALSE"],
            "error_title": "xl-backprop",
            "error_message": "show answer: expected TRUE or FALSE",
            "input_title": "show answer",
            "input_message": "TRUE shows this row's value; the row then counts as shown, not solved.",
        },
    )


def _head(ws: Worksheet, fmt: dict, looks: dict, v: dict) -> None:
    """Title, what to do, the seed, the level and the score, each with its note."""
    ws.write("A1", TITLE, fmt["title"])
    for k, line in enumerate(INTRO):
        ws.write_string(1 + k, 0, line, fmt["note"])
    ws.write_string(L.PRACTICE_HEADER_ROW - 1, 0, HIDDEN_NOTE, fmt["note"])
    seed, level = L.IN_PRACTICE_SEED, L.IN_PRACTICE_LEVEL
    for inp in (seed, level):
        ws.write(inp.row, 0, inp.label, fmt["label"])
        ws.write_number(inp.row, inp.col, inp.default, looks["seed"])
    _formula(ws, seed.row, seed.col + 1, seed_note_formula(), fmt["note"], SEED_NOTE)
    _formula(ws, level.row, level.col + 1, level_note_formula(), fmt["note"], LEVEL_NOTES[int(level.default) - 1])
    score = L.PRACTICE_SCORE
    ws.write(score.row, 0, "score", fmt["label"])
    _formula(ws, score.row, score.col, score_formula(), looks["score"], 0)
    total = sum(v["yours"].values())
    _formula(ws, score.row, score.col + 1, score_note_formula(), fmt["note"], f"✓ out of {total}{SCORE_TAIL}")
    for inp, ok in ((seed, seed_ok()), (level, level_ok())):
        ws.conditional_format(
            inp.row,
            inp.col + 1,
            inp.row,
            inp.col + 1,
            {"type": "formula", "criteria": f"=NOT({ok})", "format": looks["message"]},
        )


def _exercise(ws: Worksheet, fmt: dict, looks: dict, seed: int) -> None:
    """The exercise's values (formulas of the seed), labelled, and the rules to use under them."""
    title = f'="The exercise (seed "&{L.IN_PRACTICE_SEED.name}&")"'
    _formula(ws, *L.rowcol(L.PRACTICE_GIVEN_TITLE), title, fmt["h2"], f"The exercise (seed {seed})")
    values = exercise.exercise(seed)
    flat = (*values.weights, *values.inputs, *values.targets, values.lr)
    for (name, _, _), value in zip(exercise.DRAWS, flat, strict=True):
        r, c = L.rowcol(L.PRACTICE_GIVEN_CELLS[name])
        ws.write_string(r - 1, c, name, looks["name"])
        _formula(ws, r, c, exercise.excel_formula(name, L.IN_PRACTICE_SEED.name), looks["exercise"], value)
    for first, last, width in L.PRACTICE_SIDE_WIDTHS:
        ws.set_column(f"{first}:{last}", width)
    r, c = L.rowcol(L.PRACTICE_NOTES_TOP_LEFT)
    for k, line in enumerate(NOTES):
        if line:
            ws.write_string(r + k, c, line, fmt["h2"] if k == 0 else fmt["note"])


def _table(ws: Worksheet, book: Workbook, fmt: dict, looks: dict, v: dict) -> None:
    """The headers, then one row per quantity: phase, symbol, rule, answer, check, show answer,
    given / answer, and the hidden right value and whether the row is the learner's."""
    head_format = book.add_format({**L.STYLES["head"], "text_wrap": True, "valign": "vcenter"})
    ws.set_row(L.PRACTICE_HEADER_ROW, L.PRACTICE_HEADER_HEIGHT)
    for name, letter, head, width in L.PRACTICE_COLUMNS:
        c = L.rowcol(f"{letter}1")[1]
        ws.set_column(c, c, width, None, {"hidden": name in L.PRACTICE_HIDDEN})
        ws.write_string(L.PRACTICE_HEADER_ROW, c, head, head_format)
    col = {name: L.rowcol(f"{letter}1")[1] for name, letter, _, _ in L.PRACTICE_COLUMNS}
    path = {p: book.add_format({"bold": True, "font_color": color}) for p, color in L.PATH_COLORS.items()}
    phase_first = {qs[0]: label for _, label, qs in L.PRACTICE_PHASES}
    for k, q in enumerate(L.PRACTICE_QUANTITIES):
        r = L.PRACTICE_FIRST_ROW + k
        if q in phase_first:
            ws.write_string(r, col["phase"], phase_first[q], fmt["h2"])
        ws.write_string(
            r, col["quantity"], symbol(q), path[L.BACKPROP_PATHS[q]] if q in L.BACKPROP_PATHS else fmt["label"]
        )
        ws.write_string(r, col["rule"], RULES[q], fmt["text"])
        ws.write_blank(r, col["answer"], None, looks["answer"])
        ws.write_boolean(r, col["show"], False, looks["switch"])
        number = looks["small"] if q.startswith("d") else looks["value"]
        _formula(ws, r, col["check"], check_formula(q), looks["check"], v["check"][q])
        _formula(ws, r, col["given"], given_formula(q), number, v["given"][q])
        _formula(ws, r, col["right"], right_formula(q), number, v["right"][q])
        _formula(ws, r, col["yours"], yours_formula(q), fmt["yes_no"], v["yours"][q])
    first, last = L.PRACTICE_FIRST_ROW, L.PRACTICE_FIRST_ROW + len(L.PRACTICE_QUANTITIES) - 1
    yours = f"${column('yours')}{first + 1}"
    ans = col["answer"]
    for criteria, look in ((f"={yours}", "yours"), (f"=NOT({yours})", "not_yours")):
        ws.conditional_format(first, ans, last, ans, {"type": "formula", "criteria": criteria, "format": looks[look]})
    m = L.PRACTICE_MARKS
    chk = col["check"]
    for criteria, value, look in (
        ("begins with", m["right"], "right"),
        ("begins with", "✗", "wrong"),
        ("begins with", m["shown"], "shown"),
    ):
        ws.conditional_format(
            first, chk, last, chk, {"type": "text", "criteria": criteria, "value": value, "format": looks[look]}
        )


def write_practice(book: Workbook, fmt: dict) -> Worksheet:
    """The Practice sheet, and the defined names a teacher (and the tests) find its cells by."""
    ws = book.add_worksheet(L.SHEET_PRACTICE)
    seed, level = int(L.IN_PRACTICE_SEED.default), int(L.IN_PRACTICE_LEVEL.default)
    looks = {k: book.add_format(p) for k, p in PRACTICE_STYLES.items()}
    v = _stored(seed, level)
    _head(ws, fmt, looks, v)
    _exercise(ws, fmt, looks, seed)
    _table(ws, book, fmt, looks, v)
    _validate_inputs(ws)
    ws.freeze_panes(L.PRACTICE_FIRST_ROW, 0)
    last_row = L.PRACTICE_FIRST_ROW + len(L.PRACTICE_QUANTITIES)
    _print_setup(
        ws,
        f"A1:{L.col_letters(L.PRACTICE_WEIGHTS.area.col2)}{last_row}",
        rows=(L.PRACTICE_HEADER_ROW, L.PRACTICE_HEADER_ROW),
        scale=PRINT_SCALE,
    )
    for place in L.PRACTICE_NAMES:
        book.define_name(place.name, "=" + place.ref)
    return ws
