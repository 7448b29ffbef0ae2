"""The walkthrough on the Backprop sheet (issue 15 part 1): WalkStep / WalkPhase, the Explain_
texts, the highlights, the ribbon's Walk through group and its VBA, the Lite scripts.

References: the engine (``network.train`` with ``record``, then ``explain.step_values`` at the
recorded weights) for the numbers LibreOffice computes from the sheet's formulas; a plain list of
(step, phase) moves for the VBA run in LibreOffice's Basic; the VBA and ribbon XML as read back
from the built file.
"""

from __future__ import annotations

import json
import re
import subprocess
import zipfile
from pathlib import Path

import numpy as np
import pytest

from xl_backprop import activations, explain, network
from xl_backprop.examples import PRESETS as EXAMPLE_PRESETS
from xl_backprop.workbook import layout as L
from xl_backprop.workbook import ribbon, sheets, walkthrough

from . import libreoffice
from .conftest import TEMPLATE, missing
from .ooxml_audit import assert_excel_opens
from .ooxml_read import defined_names, formulas, vba_modules
from .vba_books import with_sources

LO_VBA = Path("/work/shared/tools/lo_vba.py")
LAST_STEP = L.BACKPROP_STEPS - 1
WALK_SUBS = ("WalkStart", "WalkBack", "WalkNext", "WalkPlay", "WalkPause")


def engine_values(step: int, lr: float = 0.5) -> dict[str, float]:
    """Every quantity of the template's network at ``step`` of its table, from the engine."""
    res = network.train([lr], step + 1, weights=network.DEFAULT_WEIGHTS, record=True)
    return explain.step_values(res.weights[step, 0, :], lr=lr)


def last_number(text: str) -> float:
    return float(text.rsplit(" = ", 1)[1])


# --- the sheet's formulas and names -----------------------------------------------------------------
def test_names_point_at_the_walk_cells():
    names = defined_names(TEMPLATE)
    assert names["WalkStep"] == names["in_show_step"] == L.IN_SHOW_STEP.ref  # one control, two names
    assert names["WalkPhase"] == L.IN_WALK_PHASE.ref
    assert names["WalkSpeed"] == L.IN_WALK_SPEED.ref
    rows = [int(names[f"Explain_{q}"].rsplit("$", 1)[1]) for q in explain.QUANTITIES]
    assert rows == list(range(L.WALK_EXPLAIN_ROW + 1, L.WALK_EXPLAIN_ROW + 1 + len(explain.QUANTITIES)))
    assert {names[f"Explain_{q}"].split("!")[0] for q in explain.QUANTITIES} == {L.SHEET_BACKPROP}


def test_walk_formulas_are_short_enough_and_not_volatile():
    sheet = formulas(TEMPLATE, L.SHEET_BACKPROP)
    texts = {q: sheet[f"B{L.WALK_EXPLAIN_ROW + 1 + i}"] for i, q in enumerate(explain.QUANTITIES)}
    assert max(len(f) for f in texts.values()) < explain.EXCEL_MAX_FORMULA
    assert all(f.startswith(f'IF(WalkPhase<{explain.PHASE_OF[q]},"",') for q, f in texts.items())
    assert all("INDEX" not in f for f in texts.values())  # they read plain value cells
    volatile = re.compile(r"\b(OFFSET|INDIRECT|NOW|TODAY|RAND|RANDBETWEEN|CELL|INFO)\(", re.I)
    assert [a for a, f in sheet.items() if volatile.search(f)] == []


def test_every_quantity_has_a_phase_in_order():
    assert set(explain.PHASE_OF) == set(explain.QUANTITIES)
    phases = [explain.PHASE_OF[q] for q in explain.QUANTITIES if not q.startswith("d")]
    assert phases == sorted(phases)  # forward, error, update in the order a step computes them
    for q in explain.QUANTITIES:  # every operand is computed no later than the quantity
        for name in explain.operands(q)[1:]:
            assert explain.PHASE_OF.get(name, 0) <= explain.PHASE_OF[q], (q, name)


def test_template_opens_in_excel_without_repair():
    assert_excel_opens(TEMPLATE)


# --- LibreOffice: the texts follow WalkStep and WalkPhase ---------------------------------------------
STEPS, PHASES = (0, 1, 50), range(1, len(explain.PHASES) + 1)


@pytest.fixture(scope="module")
def recalculated(tmp_path_factory):
    """(step, phase) -> the Backprop sheet as LibreOffice recalculates it with those two cells set."""
    import openpyxl

    from xl_backprop.ooxml import Workbook

    tmp = tmp_path_factory.mktemp("walk")
    books = {}
    for step in STEPS:
        for phase in PHASES:
            pkg = Workbook.read(TEMPLATE)
            pkg.write_cells(L.SHEET_BACKPROP, L.IN_SHOW_STEP.row, L.IN_SHOW_STEP.col, [[step]])
            pkg.write_cells(L.SHEET_BACKPROP, L.IN_WALK_PHASE.row, L.IN_WALK_PHASE.col, [[phase]])
            pkg.save(tmp / f"walk-{step}-{phase}.xlsm")
            books[step, phase] = tmp / f"walk-{step}-{phase}.xlsm"
    outs = libreoffice.convert_many(list(books.values()), "xlsx", tmp / "recalculated")
    return {
        key: openpyxl.load_workbook(out, data_only=True)[L.SHEET_BACKPROP] for key, out in zip(books, outs, strict=True)
    }


@pytest.mark.parametrize("step", STEPS)
def test_explain_texts_end_in_the_engines_values_and_hide_later_phases(recalculated, step):
    values = engine_values(step)
    for phase in PHASES:
        ws = recalculated[step, phase]
        for i, q in enumerate(explain.QUANTITIES):
            got = ws.cell(L.WALK_EXPLAIN_ROW + 1 + i, 2).value
            if explain.PHASE_OF[q] > phase:
                assert got in (None, ""), (step, phase, q, got)
                continue
            assert got == explain.text(q, values), (step, phase, q)
            # the last number is the engine's value to the 4 significant figures shown
            assert got.rsplit(" = ", 1)[1] == explain.number(values[q])
            assert last_number(got) == pytest.approx(values[q], rel=5e-4, abs=1e-12), (step, phase, q)


def test_diagram_hides_what_the_phase_has_not_computed(recalculated):
    ws = recalculated[1, 1]
    r0, c0 = L.rowcol(L.DIAGRAM_TOP_LEFT)
    top, bottom = r0 + 2, r0 + 6
    values = engine_values(1)
    h1 = ws.cell(top + 1, c0 + 4 + 1).value
    assert h1 == pytest.approx(values["h1"], rel=1e-12)  # forward: shown
    assert ws.cell(top + 1, c0 + 12 + 1).value in (None, "")  # E1: phase 2
    assert ws.cell(bottom + 2 + 1, c0 + 4 + 1).value in (None, "")  # ∂E1/∂a_h1: phase 4
    e1 = recalculated[1, 2].cell(top + 1, c0 + 12 + 1).value
    assert e1 == pytest.approx(values["E1"], rel=1e-12)


# --- highlights (native conditional formats) --------------------------------------------------------
def test_highlights_follow_walkstep_and_walkphase():
    with zipfile.ZipFile(TEMPLATE) as z:
        xml = z.read("xl/worksheets/sheet1.xml").decode()
    rules = re.findall(r'<conditionalFormatting sqref="([^"]+)">.*?<formula>([^<]+)</formula>', xml)
    by_formula: dict[str, list[str]] = {}
    for sqref, f in rules:
        by_formula.setdefault(f.replace("&lt;", "<"), []).append(sqref)
    first, last = L.BACKPROP_FIRST_ROW + 1, L.BACKPROP_FIRST_ROW + L.BACKPROP_STEPS
    last_col = L.a1(0, len(L.BACKPROP_COLUMNS) - 1).rstrip("1")
    assert by_formula[f"$A{first}=WalkStep"] == [f"A{first}:{last_col}{last}"]  # the table's row
    c = L.col_letters(L.BACKPROP_COLUMNS.index("E_total"))  # E_total's column, in the error phase
    e_total = f"{c}{first}:{c}{last}"
    assert any(e_total in s.split() for s in by_formula[f"AND($A{first}=WalkStep,WalkPhase=2)"])
    d, _ = L.rowcol(L.DERIVATION_TOP_LEFT)
    assert f"E{d + 2}" in by_formula["WalkPhase=3"]  # the derivation's line of the output deltas


# --- VBA, read back from the built file --------------------------------------------------------------
@pytest.fixture(scope="module")
def modules():
    return vba_modules(TEMPLATE)


def _procedures(source: str, name: str) -> dict:
    from pyopenvba.interpreter import parse_module

    return {p.name: p for p in parse_module(source, name=name).procedures}


def test_walk_subs_exist_and_each_walk_button_calls_one(modules):
    subs = _procedures(modules["Walkthrough"], "Walkthrough")
    for name in (*WALK_SUBS, "WalkTick"):
        assert subs[name].kind == "sub" and subs[name].scope == "public" and subs[name].params == [], name
    ribbon_subs = _procedures(modules["BackpropRibbon"], "BackpropRibbon")
    with zipfile.ZipFile(TEMPLATE) as z:
        actions = ribbon.on_actions(z.read(ribbon.CUSTOM_UI_PART))
    walk_actions = [a for a in actions if a.startswith("Walk")]
    assert len(walk_actions) == len(WALK_SUBS)
    called = []
    for action in walk_actions:
        (stmt,) = ribbon_subs[action].body  # a one-line wrapper
        called.append(stmt.callee.name)
    assert called == list(WALK_SUBS)


def test_walk_constants_are_the_layouts(modules):
    src = modules["Walkthrough"]
    assert re.search(rf"^Private Const LAST_STEP As Long = {LAST_STEP}\b", src, re.M)
    assert re.search(rf"^Private Const LAST_PHASE As Long = {len(explain.PHASES)}\b", src, re.M)
    assert re.search(rf"^Private Const MAX_SPEED As Long = {L.WALK_MAX_SPEED}\b", src, re.M)
    assert f'"{L.SHEET_BACKPROP}"' in src and '"WalkStep"' in src and '"WalkPhase"' in src


def test_play_is_cancelled_when_the_book_closes(modules):
    book = modules["ThisWorkbook"]
    close = re.search(r"^Private Sub Workbook_BeforeClose\(Cancel As Boolean\)\r?\n(.*?)^End Sub", book, re.M | re.S)
    assert close and [line.strip() for line in close.group(1).splitlines()] == ["On Error Resume Next", "WalkPause"]
    pause = re.search(r"^Sub WalkPause\(\)\r?\n(.*?)^End Sub", modules["Walkthrough"], re.M | re.S).group(1)
    lines = [line.strip() for line in pause.splitlines()]
    cancel = lines.index('Application.OnTime NextTick, "WalkTick", , False')  # Schedule:=False
    assert lines[cancel - 1] == "On Error Resume Next" and lines[cancel + 1] == "On Error GoTo 0"
    assert 'Application.OnTime NextTick, "WalkTick"' in modules["Walkthrough"]  # the Sub it cancels


# --- the walk Subs run in LibreOffice's Basic ------------------------------------------------------------
@pytest.fixture(scope="module")
def walk_book(tmp_path_factory):
    """A copy of the template whose VBA project is the built one, except xlwings' two modules
    (xlwings, Dictionary): LibreOffice's Basic does not compile them, and a library that does
    not compile runs nothing. Our modules are byte for byte the template's."""
    libreoffice.soffice()
    if not LO_VBA.is_file():
        missing("lo_vba.py", f"expected {LO_VBA}")
    if subprocess.run(["/usr/bin/python3", "-c", "import uno"], capture_output=True).returncode:
        missing("LibreOffice's Python bridge (uno) for /usr/bin/python3", "apt-get install python3-uno")
    dictionary = (
        'Attribute VB_Name = "Dictionary"',
        'Attribute VB_Base = "0{FCFB3D2A-A0FA-1068-A738-08002B3371B5}"',
        "Attribute VB_GlobalNameSpace = False",
        "Attribute VB_Creatable = False",
        "Attribute VB_PredeclaredId = False",
        "Attribute VB_Exposed = False",
        "Option Explicit",
    )
    empty = {
        "xlwings": b'Attribute VB_Name = "xlwings"\r\nOption Explicit\r\n',
        "Dictionary": "".join(line + "\r\n" for line in dictionary).encode(),
    }
    return with_sources(TEMPLATE, tmp_path_factory.mktemp("vba") / "walk.xlsm", empty, compressed=False)


def run_walk(book: Path, start: tuple[int, int], subs: list[str]) -> tuple[int, int]:
    """(step, phase) after running ``subs`` from ``start`` (LibreOffice does not report a VBA
    runtime error: the cells say what happened)."""
    step, phase = L.IN_SHOW_STEP, L.IN_WALK_PHASE
    cmd = ["/usr/bin/python3", str(LO_VBA), str(book)]
    cmd += ["--set", f"Backprop!{step.cell}={start[0]}", "--set", f"Backprop!{phase.cell}={start[1]}"]
    for sub in subs:
        cmd += ["--run", f"Walkthrough.{sub}"]
    cmd += ["--read", f"Backprop!{step.cell}", "--read", f"Backprop!{phase.cell}"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    out = json.loads(proc.stdout)
    assert out["errors"] == [], out
    return int(out["read"][f"Backprop!{step.cell}"]), int(out["read"][f"Backprop!{phase.cell}"])


@pytest.mark.parametrize(
    "start, subs, end",
    [
        # phase 1 is where Start puts you: four Nexts show phases 2..5, the fifth the next step
        ((0, 1), ["WalkNext"] * 4, (0, 5)),
        ((0, 1), ["WalkNext"] * 5, (1, 1)),
        ((0, 1), ["WalkNext"] * 5 + ["WalkBack"], (0, 5)),
        ((7, 3), ["WalkStart"], (0, 1)),
        ((0, 1), ["WalkBack"], (0, 1)),
        ((LAST_STEP, 4), ["WalkNext"] * 3, (LAST_STEP, 5)),
    ],
    ids=["next-4", "next-5", "back", "start", "back-at-start", "next-stops-at-last"],
)
def test_walk_subs_move_the_cells(walk_book, start, subs, end):
    assert run_walk(walk_book, start, subs) == end


def test_engine_reference_is_the_tables():
    """The reference the LibreOffice tests use is the engine's training, step by step."""
    res = network.train([0.5], 3, weights=network.DEFAULT_WEIGHTS, record=True)
    w0 = np.asarray(network.DEFAULT_WEIGHTS)
    g0 = network.gradients(w0)
    np.testing.assert_allclose(res.weights[1, 0, :], w0 - 0.5 * g0, rtol=1e-15)
    assert engine_values(0)["dE_dw5"] == pytest.approx(0.07215707291213626, rel=1e-12)  # DESIGN.md's number


# --- the texts follow the activation dropdowns and the examples (issue 18) ----------------------------
#: (hidden, output, example set, step, phase): the choices LibreOffice recalculates the template with.
CHOSEN = [
    ("tanh", "relu", "course", 1, 5),
    ("leaky_relu", "linear", "course", 0, 5),
    ("sigmoid", "sigmoid", "half-adder", 0, 5),
    ("relu", "tanh", "half-adder", 3, 2),
]


@pytest.fixture(scope="module")
def chosen(tmp_path_factory):
    """choice -> (the Backprop sheet, the Examples sheet) as LibreOffice recalculates them."""
    import openpyxl

    from xl_backprop.ooxml import Workbook

    tmp = tmp_path_factory.mktemp("chosen")
    books = {}
    for key in CHOSEN:
        hidden, output, examples, step, phase = key
        pkg = Workbook.read(TEMPLATE)
        for inp, value in (
            (L.IN_HIDDEN_ACT, hidden),
            (L.IN_OUTPUT_ACT, output),
            (L.IN_EXAMPLE_SET, examples),
            (L.IN_SHOW_STEP, step),
            (L.IN_WALK_PHASE, phase),
        ):
            pkg.write_cells(L.SHEET_BACKPROP, inp.row, inp.col, [[value]])
        books[key] = tmp / f"{hidden}-{output}-{examples}-{step}-{phase}.xlsm"
        pkg.save(books[key])
    outs = libreoffice.convert_many(list(books.values()), "xlsx", tmp / "recalculated")
    out = {}
    for key, path in zip(books, outs, strict=True):
        wb = openpyxl.load_workbook(path, data_only=True)
        out[key] = wb[L.SHEET_BACKPROP], wb[L.SHEET_EXAMPLES]
    return out


def _sheet_values(ws) -> dict:
    """The walkthrough's value cells as recalculated, and the one-example ones (key ``q@``)."""
    values = {n: ws.cell(walkthrough.value_row(n) + 1, 2).value for n in walkthrough.VALUE_NAMES}
    values.update({f"{q}@": ws.cell(walkthrough.example_row(q) + 1, 2).value for q in walkthrough.MEAN_QUANTITIES})
    return values


def _explain(ws, q: str):
    return ws.cell(L.WALK_EXPLAIN_ROW + 1 + explain.QUANTITIES.index(q), 2).value


@pytest.mark.parametrize("key", CHOSEN, ids=["-".join(map(str, k)) for k in CHOSEN])
def test_explain_texts_follow_the_chosen_activations_and_examples(chosen, key):
    hidden, output, examples, step, phase = key
    ws, wx = chosen[key]
    count = len(EXAMPLE_PRESETS[examples])
    assert wx[L.EXAMPLE_COUNT.cell].value == count
    v = _sheet_values(ws)
    acts = dict(hidden_activation=hidden, output_activation=output)
    # the symbols and forms: the engine's explanation for the same activations (course's numbers)
    reference = explain.texts(explain.step_values(**acts), **acts)
    for q in explain.QUANTITIES:
        got = _explain(ws, q)
        if explain.PHASE_OF[q] > phase:
            assert got in (None, ""), q
            continue
        if q in walkthrough.MEAN_QUANTITIES:
            a, op, b = walkthrough.PER_EXAMPLE[q]
            one = v[a] + v[b] if op == "+" else v[a] * v[b]
            assert v[f"{q}@"] == pytest.approx(one, rel=1e-13), q  # the shown example's, from its operands
            text = explain.text(q, {**v, q: one}, **acts)
            assert got == walkthrough.example_text(q, text, count, 1, v[q]), q
        else:
            assert got == explain.text(q, v, **acts), q  # the numbers: the sheet's own value cells
        body = got.split(": ", 1)[1] if count > 1 and q in walkthrough.MEAN_QUANTITIES else got
        assert body.split(" = ")[:-2] == reference[q].split(" = ")[:-2], q
    if phase >= 3:
        assert _explain(ws, "a_h1").startswith(f"a_h1 = {activations.get(hidden, 'h').symbol}(h1) = ")
        assert _explain(ws, "a_o2").startswith(f"a_o2 = {activations.get(output, 'o').symbol}(o2) = ")


def test_texts_name_tanh_and_relu_and_their_derivatives(chosen):
    ws, _ = chosen["tanh", "relu", "course", 1, 5]
    assert "·(1 − a_h1²) = (" in _explain(ws, "d_h1")  # tanh' = 1 − a², in the hidden delta's forms
    assert _explain(ws, "d_o1").startswith("δo1 = ∂E/∂o1 = (a_o1 − t1)·relu′(o1) = (")
    assert _explain(ws, "dE_dw5").startswith("∂E/∂w5 = (a_o1 − t1)·relu′(o1)·a_h1 = (")
    assert "example" not in _explain(ws, "E_total")  # one example: the course's words


def test_mean_over_the_examples_is_said_and_is_the_tables(chosen):
    ws, _ = chosen["sigmoid", "sigmoid", "half-adder", 0, 5]
    v = _sheet_values(ws)
    e_total = _explain(ws, "E_total")
    assert e_total.startswith("example 1: E_total = E1 + E2 = ")
    assert e_total.endswith(f"; E_total is the mean over the 4 examples: {explain.number(v['E_total'])}")
    dw5 = _explain(ws, "dE_dw5")
    assert dw5.endswith(f"; the step uses the mean over the 4 examples: {explain.number(v['dE_dw5'])}")
    assert _explain(ws, "new_w5").startswith("new w5 = w5 − lr·∂E/∂w5 = ")  # the update: the mean's, as it was
    ws, _ = chosen["relu", "tanh", "half-adder", 3, 2]
    assert "mean over the 4 examples" in _explain(ws, "E_total") and _explain(ws, "dE_dw5") in (None, "")


def _derivation(ws) -> list:
    r, c = L.rowcol(L.DERIVATION_TOP_LEFT)
    return [ws.cell(r + k, c + 1).value for k in range(len(sheets.DERIVATION) + 1)]  # the title first


@pytest.mark.parametrize("key", CHOSEN, ids=["-".join(map(str, k)) for k in CHOSEN])
def test_derivation_follows_the_choices(chosen, key):
    hidden, output, examples, _, _ = key
    ws, _ = chosen[key]
    title, *lines = _derivation(ws)
    count = len(EXAMPLE_PRESETS[examples])
    assert title == sheets.derivation_title(hidden, output)
    for k, line in enumerate(lines):
        if k in sheets.DERIVATION_FOLLOWS:
            assert line == sheets.derivation_line(k, hidden, output, count), k
        else:  # the same for every choice; the coloured ones read as their pieces' text
            same = sheets.DERIVATION[k]
            assert line == (same if isinstance(same, str) else "".join(p if isinstance(p, str) else p[0] for p in same))
    assert ("the mean over the examples" in lines[0]) == (count > 1)
    assert ("the mean over the examples" in lines[4]) == (count > 1)


def test_derivation_names_tanh_and_relu(chosen):
    title, forward, output_deltas, _, hidden_deltas, *_ = _derivation(chosen["tanh", "relu", "course", 1, 5][0])
    assert title.endswith("(hidden: tanh'(x) = 1 − tanh²(x);  output: relu'(x) = 1 if x > 0, else 0)")
    assert "a_h1 = tanh(h1)" in forward and "a_o1 = relu(o1)" in forward
    assert "δo1 = (a_o1 − t1)·relu′(o1)" in output_deltas
    assert "δh1 = ∂E/∂a_h1·(1 − a_h1²)" in hidden_deltas
    ws = chosen["tanh", "relu", "course", 1, 5][0]
    r0, c0 = L.rowcol(L.DIAGRAM_TOP_LEFT)
    for r in (r0 + 2, r0 + 6):  # the diagram's joins h -> a_h and o -> a_o, both rows
        assert (ws.cell(r + 1, c0 + 5 + 1).value, ws.cell(r + 1, c0 + 10 + 1).value) == ("tanh", "relu")
    assert ws["A2"].value.startswith("A 2-2-2 tanh-relu network learning two targets")
    title, *_, hidden_deltas, gradients, _, _, _ = _derivation(chosen["leaky_relu", "linear", "course", 0, 5][0])
    assert "leaky_relu'(x) = 1 if x > 0, else 0.01" in title and "linear'(x) = 1" in title
    assert "δh1 = ∂E/∂a_h1·leaky_relu′(h1)" in hidden_deltas and "mean" not in gradients


def test_the_defaults_read_as_the_course(recalculated):
    """With the template's choices (sigmoid, sigmoid, course) the derivation is the course's text,
    and what the template stores is what LibreOffice computes."""
    import openpyxl

    ws = recalculated[int(L.IN_SHOW_STEP.default), int(L.IN_WALK_PHASE.default)]
    title, *lines = _derivation(ws)
    assert title == sheets.DERIVATION_TITLE
    assert ws["A2"].value == sheets.subtitle("sigmoid", "sigmoid") and "2-2-2 sigmoid network" in ws["A2"].value
    for k in sheets.DERIVATION_FOLLOWS:
        assert lines[k] == sheets.DERIVATION[k]
    stored = openpyxl.load_workbook(TEMPLATE, data_only=True)[L.SHEET_BACKPROP]
    assert _derivation(stored)[: len(sheets.DERIVATION)] == _derivation(ws)[: len(sheets.DERIVATION)]
    for q in explain.QUANTITIES:
        row = L.WALK_EXPLAIN_ROW + 1 + explain.QUANTITIES.index(q)
        assert stored.cell(row, 2).value == ws.cell(row, 2).value, q
    for q in walkthrough.MEAN_QUANTITIES:
        row = walkthrough.example_row(q) + 1
        assert stored.cell(row, 2).value == pytest.approx(ws.cell(row, 2).value, rel=1e-13), q
