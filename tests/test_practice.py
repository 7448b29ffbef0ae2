"""The Practice sheet (issue 18 item 1): predict, then check.

References, independent of the sheet's formulas: the engine (``network.forward``, ``chain``,
``gradients``, ``step``) for the answers a learner types, the plain scalar loop
(``scalar_reference``) for the engine's, the hash and the check rule restated here from their
documentation, and LibreOffice (headless) recalculating copies of the template with answers,
seeds and levels typed in. The New-exercise Sub runs in LibreOffice's VBA support.
"""

from __future__ import annotations

import json
import math
import re
import subprocess
from pathlib import Path

import numpy as np
import openpyxl
import pytest

from xl_backprop import exercise, network
from xl_backprop.ooxml import Workbook
from xl_backprop.ooxml.package import Package
from xl_backprop.workbook import layout as L
from xl_backprop.workbook import practice, sheets, vba

from . import libreoffice, scalar_reference
from .conftest import ROOT, TEMPLATE
from .ooxml_read import formulas, vba_modules

QUANTITIES = L.PRACTICE_QUANTITIES
SEED = 17
LO_VBA = Path("/work/shared/tools/lo_vba.py")
SYSTEM_PYTHON = "/usr/bin/python3"


def engine(seed: int) -> dict[str, float]:
    """The right answers of the exercise of ``seed``, from the engine (not from the sheet)."""
    ex = exercise.exercise(seed)
    net = {"inputs": ex.inputs, "targets": ex.targets}
    w = np.array(ex.weights)
    out = dict(zip(network.Forward._fields, map(float, network.forward(w, **net)), strict=True))
    out.update({k: float(v) for k, v in network.chain(w, **net)._asdict().items()})
    out.update({f"dE_dw{k + 1}": float(g) for k, g in enumerate(network.gradients(w, **net))})
    out.update({f"new_w{k + 1}": float(v) for k, v in enumerate(network.step(w, lr=ex.lr, **net)[0])})
    return out


def right(answer: float, value: float) -> bool:
    """The check as the issue states it: within 0.5 % relative or 1e-6 absolute."""
    return abs(answer - value) <= 0.005 * abs(value) or abs(answer - value) <= 1e-6


def _exercise_cells(ws) -> list:
    """w1..w8, i1, i2, t1, t2, lr as the sheet shows them."""
    return [ws[L.PRACTICE_GIVEN_CELLS[name]].value for name, _, _ in exercise.DRAWS]


def phase(q: str) -> int:
    for p, _, qs in L.PRACTICE_PHASES:
        if q in qs:
            return p
    raise KeyError(q)


# --- the exercise and the check, in Python ----------------------------------------------------------
def test_seed_0_is_the_course_example():
    ex = exercise.exercise(0)
    assert ex.weights == network.DEFAULT_WEIGHTS
    assert ex.inputs == network.DEFAULT_INPUTS and ex.targets == network.DEFAULT_TARGETS
    assert ex.lr == 0.5


def test_a_draw_is_the_documented_hash():
    """Seed 1, draw 1 (w1) and seed 99999, draw 13 (lr), by hand from the docstring's rule."""
    x = (1 * 7919 + 1 * 3571 + 1013) % 1000003  # 12503
    assert x == 12503
    h = 12503 * 12503 % 1000003
    assert exercise.exercise(1).weights[0] == (-100 + h % 201) / 100
    x = (99999 * 7919 + 13 * 3571 + 1013) % 1000003
    assert exercise.exercise(99999).lr == (10 + (x * x % 1000003) % 91) / 100


def test_every_seed_gives_its_own_exercise_within_the_ranges():
    seen = set()
    lows = np.array([lo for _, lo, _ in exercise.DRAWS]) / 100
    highs = np.array([hi for _, _, hi in exercise.DRAWS]) / 100
    for seed in range(1, exercise.SEED_MAX + 1, 7):
        ex = exercise.exercise(seed)
        flat = np.array([*ex.weights, *ex.inputs, *ex.targets, ex.lr])
        assert np.all(flat >= lows) and np.all(flat <= highs), seed
        assert np.all(np.abs(flat * 100 - np.round(flat * 100)) < 1e-9), seed  # 2 decimals
        seen.add(tuple(flat))
    assert len(seen) == len(range(1, exercise.SEED_MAX + 1, 7))
    assert exercise.exercise(SEED) == exercise.exercise(SEED) != exercise.exercise(SEED + 1)


@pytest.mark.parametrize("seed", [-1, 1.5, exercise.SEED_MAX + 1, "7", True, math.nan, None])
def test_a_bad_seed_is_one_line_naming_it(seed):
    with pytest.raises(ValueError, match=r"^seed: expected a whole number from 0 to 99999, got "):
        exercise.exercise(seed)


def test_the_check_is_half_a_percent_or_one_millionth():
    assert exercise.is_right(1.0049, 1.0) and not exercise.is_right(1.0051, 1.0)
    assert exercise.is_right(-0.9951, -1.0) and not exercise.is_right(-0.9949, -1.0)
    assert exercise.is_right(1e-5 + 9e-7, 1e-5) and not exercise.is_right(1e-5 + 1.1e-6, 1e-5)
    assert exercise.is_right(1e-6, 0.0) and not exercise.is_right(1.1e-6, 0.0)


@pytest.mark.parametrize("seed", [0, 1, SEED, exercise.SEED_MAX])
def test_the_engines_answers_equal_the_scalar_reference(seed):
    ex = exercise.exercise(seed)
    values = engine(seed)
    f = scalar_reference.forward(ex.weights, ex.inputs, ex.targets)
    g, _ = scalar_reference.gradients(ex.weights, ex.inputs, ex.targets)
    for name, v in f.items():
        assert values[name] == pytest.approx(v, rel=1e-12, abs=1e-15), name
    for k in range(8):
        assert values[f"dE_dw{k + 1}"] == pytest.approx(g[k], rel=1e-12, abs=1e-15)
        assert values[f"new_w{k + 1}"] == pytest.approx(ex.weights[k] - ex.lr * g[k], rel=1e-12, abs=1e-15)
    assert practice.engine_values(seed) == values


# --- the sheet as built ---------------------------------------------------------------------------
def test_the_sheet_names_its_places_and_answer_cells():
    from .ooxml_read import defined_names

    names = defined_names(TEMPLATE)
    assert names["PracticeSeed"] == "Practice!$B$4" and names["PracticeLevel"] == "Practice!$B$5"
    assert names["PracticeScore"] == "Practice!$B$6"
    assert names["PracticeWeights"] == "Practice!$I$5:$P$5"
    assert names["PracticeInputs"] == "Practice!$I$7:$J$7"
    assert names["PracticeTargets"] == "Practice!$K$7:$L$7"
    assert names["PracticeLR"] == "Practice!$M$7"
    # the walkthrough's quantity names, and the two paths into each hidden unit with their sum
    expected = {
        *("h1", "h2", "a_h1", "a_h2", "o1", "o2", "a_o1", "a_o2", "E1", "E2", "E_total"),
        *("d_o1", "d_o2", "d_h1", "d_h2"),
        *(f"dE_dw{k}" for k in range(1, 9)),
        *(f"new_w{k}" for k in range(1, 9)),
        *("dE1_da_h1", "dE2_da_h1", "dE_da_h1", "dE1_da_h2", "dE2_da_h2", "dE_da_h2"),
    }
    assert set(QUANTITIES) == expected and len(QUANTITIES) == len(expected)
    answers = {n: t for n, t in names.items() if n.startswith("Practice_")}
    assert set(answers) == {f"Practice_{q}" for q in expected}
    cols = {re.fullmatch(r"Practice!\$([A-Z]+)\$(\d+)", t).group(1) for t in answers.values()}
    assert cols == {"D"}
    rows = [int(re.fullmatch(r"Practice!\$D\$(\d+)", answers[f"Practice_{q}"]).group(1)) for q in QUANTITIES]
    assert rows == list(range(rows[0], rows[0] + len(rows)))  # one row each, in the step's order


def _skeleton(formula: str) -> str:
    """A formula with every cell reference and name replaced by X: its rule, wherever it reads."""
    return re.sub(r"\$?[A-Z]{1,3}\$?\d+|\b0\b", "X", formula.lstrip("="))


def test_the_right_values_are_the_backprop_tables_rules_in_hidden_cells():
    f = formulas(TEMPLATE, L.SHEET_PRACTICE)
    ws = openpyxl.load_workbook(TEMPLATE)[L.SHEET_PRACTICE]
    for name in ("right", "yours"):
        letter = practice.column(name)
        assert ws.column_dimensions[letter].hidden, letter
    for q in QUANTITIES:
        table_name = f"w{q[5:]}" if q.startswith("new_w") else q.replace("dE_dw", "dE/dw")
        # one example: E_total and the gradients are its own (the Backprop table's are means over the examples)
        on_backprop = sheets.table_formula(table_name, 1 if q.startswith("new_w") else 0, mean=False)
        here = f[L.practice_cell("right", q)]
        assert _skeleton(here) == _skeleton(on_backprop), (q, here, on_backprop)
    # the sheet says where the answers are
    values = openpyxl.load_workbook(TEMPLATE, data_only=True)[L.SHEET_PRACTICE]
    texts = [
        c.value for row in values.iter_rows(max_row=L.PRACTICE_HEADER_ROW) for c in row if isinstance(c.value, str)
    ]
    assert any("computed in hidden cells" in t for t in texts)


def test_inputs_are_validated_with_one_line_messages():
    ws = openpyxl.load_workbook(TEMPLATE)[L.SHEET_PRACTICE]
    rules = {str(dv.sqref): dv for dv in ws.data_validations.dataValidation}
    seed, level = rules[L.IN_PRACTICE_SEED.cell], rules[L.IN_PRACTICE_LEVEL.cell]
    assert (seed.type, seed.formula1, seed.formula2) == ("whole", "0", str(exercise.SEED_MAX))
    assert seed.error == "seed: expected a whole number from 0 to 99999"
    assert (level.type, level.formula1, level.formula2) == ("whole", "1", "3")
    assert level.error == "level: expected 1, 2 or 3"
    first, last = L.practice_cell("show", QUANTITIES[0]), L.practice_cell("show", QUANTITIES[-1])
    show = rules[f"{first}:{last}"]
    assert show.type == "list" and show.formula1 == '"TRUE,FALSE"' and "shown, not solved" in show.prompt
    first, last = L.practice_cell("answer", QUANTITIES[0]), L.practice_cell("answer", QUANTITIES[-1])
    assert rules[f"{first}:{last}"].error == "your answer: expected a number"


def test_first_open_shows_the_course_at_level_1_with_the_update_blank():
    """What the file stores (a viewer that does not recalculate): the engine's numbers."""
    ws = openpyxl.load_workbook(TEMPLATE, data_only=True)[L.SHEET_PRACTICE]
    assert ws[L.IN_PRACTICE_SEED.cell].value == 0 and ws[L.IN_PRACTICE_LEVEL.cell].value == 1
    assert ws[L.PRACTICE_SCORE.cell].value == 0
    assert _exercise_cells(ws) == [*network.DEFAULT_WEIGHTS, 0.05, 0.1, 0.01, 0.99, 0.5]
    values = engine(0)
    for q in QUANTITIES:
        assert ws[L.practice_cell("answer", q)].value is None, q
        assert ws[L.practice_cell("check", q)].value in (None, ""), q
        assert ws[L.practice_cell("show", q)].value is False, q
        given = ws[L.practice_cell("given", q)].value
        if phase(q) == 5:
            assert given in (None, ""), q
        else:
            assert given == pytest.approx(values[q], rel=1e-15, abs=1e-18), q


# --- LibreOffice recalculates it ----------------------------------------------------------------------
def _book(tmp: Path, name: str, seed, level, answers=None, shown=()) -> Path:
    """A copy of the template with the seed, the level, answers and show-answer switches typed in."""
    dst = tmp / f"{name}.xlsm"
    pkg = Workbook.read(TEMPLATE)
    pkg.write_cells(L.SHEET_PRACTICE, *L.rowcol(L.IN_PRACTICE_SEED.cell), [[seed]])
    pkg.write_cells(L.SHEET_PRACTICE, *L.rowcol(L.IN_PRACTICE_LEVEL.cell), [[level]])
    for q, value in (answers or {}).items():
        pkg.write_cells(L.SHEET_PRACTICE, *L.rowcol(L.practice_cell("answer", q)), [[value]])
    for q in shown:  # TRUE, as Excel stores a switch; the last one as the text TRUE, as a list's choice may be
        switch = "TRUE" if q == SHOWN[-1] else True
        pkg.write_cells(L.SHEET_PRACTICE, *L.rowcol(L.practice_cell("show", q)), [[switch]])
    pkg.save(dst)
    return dst


SHOWN = QUANTITIES[:10]  # the forward pass and E1, E2 shown; three of them answered too


@pytest.fixture(scope="module")
def books(tmp_path_factory):
    """Practice as LibreOffice recalculates it, per case (one LibreOffice start for all)."""
    tmp = tmp_path_factory.mktemp("practice")
    good = engine(SEED)
    cases = {
        "exact": (SEED, 3, good, ()),
        "off": (SEED, 3, {q: v * 1.01 for q, v in good.items()}, ()),
        "shown": (SEED, 3, {**{q: good[q] for q in SHOWN[:3]}, "d_o1": "about 0.5", "E_total": good["E_total"]}, SHOWN),
        "level1": (1, 1, None, ()),
        "level2": (exercise.SEED_MAX, 2, None, ()),
        "bad": (-3, 7, None, ()),
        "text": ("seventeen", 2.5, None, ()),
    }
    paths = [_book(tmp, name, *case) for name, case in cases.items()]
    return {
        name: wb[L.SHEET_PRACTICE] for name, wb in zip(cases, libreoffice.recalculated_many(paths, tmp), strict=True)
    }


def _checks(ws) -> dict[str, object]:
    return {q: ws[L.practice_cell("check", q)].value for q in QUANTITIES}


def test_the_engines_answers_typed_in_score_every_row(books):
    ws = books["exact"]
    assert set(_checks(ws).values()) == {"✓"}
    assert ws[L.PRACTICE_SCORE.cell].value == len(QUANTITIES) == 37
    assert ws["C6"].value.startswith("✓ out of 37 ")


def test_answers_off_by_one_percent_score_a_cross(books):
    ws = books["off"]
    good = engine(SEED)
    checks = _checks(ws)
    for q in QUANTITIES:
        assert checks[q] == ("✓" if right(good[q] * 1.01, good[q]) else "✗ try again"), (q, good[q])
    crosses = sum(v == "✗ try again" for v in checks.values())
    assert crosses >= 30  # only values below 1e-4 pass on the absolute 1e-6
    assert ws[L.PRACTICE_SCORE.cell].value == len(QUANTITIES) - crosses


def test_empty_cells_show_nothing_and_shown_answers_do_not_count(books):
    ws = books["shown"]
    good = engine(SEED)
    checks = _checks(ws)
    for q in SHOWN:
        assert checks[q] == "shown", q
        assert ws[L.practice_cell("given", q)].value == pytest.approx(good[q], rel=1e-12), q
    assert checks["E_total"] == "✓"
    for q in QUANTITIES[len(SHOWN) :]:
        if q not in ("E_total", "d_o1"):
            assert checks[q] in (None, ""), q
            assert ws[L.practice_cell("given", q)].value in (None, ""), q
    assert ws[L.PRACTICE_SCORE.cell].value == 1  # E_total; the shown rows are not counted


def test_the_same_seed_is_the_same_exercise_and_the_pythons(books):
    for name in ("exact", "off", "shown"):
        assert _exercise_cells(books[name]) == [
            *exercise.exercise(SEED).weights,
            *exercise.exercise(SEED).inputs,
            *exercise.exercise(SEED).targets,
            exercise.exercise(SEED).lr,
        ]
    for name, seed in (("level1", 1), ("level2", exercise.SEED_MAX)):
        ex = exercise.exercise(seed)
        assert _exercise_cells(books[name]) == [*ex.weights, *ex.inputs, *ex.targets, ex.lr], name
    assert _exercise_cells(books["level1"]) != _exercise_cells(books["exact"])
    assert books["level1"]["I3"].value == "The exercise (seed 1)"


@pytest.mark.parametrize("name,level,seed", [("level1", 1, 1), ("level2", 2, exercise.SEED_MAX), ("exact", 3, SEED)])
def test_each_level_leaves_the_right_rows_to_the_learner(books, name, level, seed):
    ws = books[name]
    first = {1: 5, 2: 3, 3: 1}[level]  # the update; the backward pass too; everything
    good = engine(seed)
    for q in QUANTITIES:
        yours = phase(q) >= first
        assert bool(ws[L.practice_cell("yours", q)].value) is yours, q
        given = ws[L.practice_cell("given", q)].value
        if yours:
            assert given in (None, ""), q
        else:
            assert given == pytest.approx(good[q], rel=1e-12), q
    count = sum(phase(q) >= first for q in QUANTITIES)
    assert ws["C6"].value.startswith(f"✓ out of {count} ")
    assert count == {1: 8, 2: 26, 3: 37}[level]


def test_bad_seeds_and_levels_say_so_in_one_line(books):
    for name in ("bad", "text"):
        ws = books[name]
        assert ws["C4"].value == "seed: expected a whole number from 0 to 99999", name
        assert ws["C5"].value == "level: expected 1, 2 or 3", name
        assert all(v == "#N/A" for v in _exercise_cells(ws)), name
        assert ws[L.PRACTICE_SCORE.cell].value == 0
    assert books["shown"][L.practice_cell("check", "d_o1")].value == "✗ not a number"


# --- the New-exercise Sub, in LibreOffice's VBA support --------------------------------------------
def _plain_vba_book(tmp: Path) -> Path:
    """A copy of the template whose VBA project holds our modules as read back from the file, less
    xlwings' module and its Dictionary class: LibreOffice's Basic does not compile those (Declare
    PtrSafe, Mac branches), and a project with a module it cannot compile runs nothing."""
    modules = vba_modules(TEMPLATE)
    ours = [(name, modules[name], False) for name in ("xlwings_udfs", "BackpropRibbon", "Practice")]
    pkg = Package.read(TEMPLATE)
    pkg.parts["xl/vbaProject.bin"] = vba.vba_project_bin(L.SHEETS, ours)
    dst = tmp / "plain-vba.xlsm"
    pkg.save(dst)
    return dst


def _lo_vba(book: Path, *args: str) -> dict:
    if not LO_VBA.is_file():
        pytest.skip(f"{LO_VBA} is not here")
    libreoffice.soffice()
    probe = subprocess.run([SYSTEM_PYTHON, "-c", "import uno"], capture_output=True)
    if probe.returncode:
        pytest.skip(f"{SYSTEM_PYTHON} cannot import uno (apt-get install python3-uno)")
    proc = subprocess.run([SYSTEM_PYTHON, str(LO_VBA), str(book), *args], capture_output=True, text=True, timeout=300)
    return json.loads(proc.stdout)


def test_new_exercise_draws_a_seed_and_keeps_what_the_learner_typed(tmp_path):
    book = _plain_vba_book(tmp_path)
    seed_ref = f"{L.SHEET_PRACTICE}!{L.IN_PRACTICE_SEED.cell}"
    typed = {
        f"{L.SHEET_PRACTICE}!{L.practice_cell('answer', 'h1')}": 0.123,
        f"{L.SHEET_PRACTICE}!{L.practice_cell('answer', 'new_w8')}": -4.5,
        f"{L.SHEET_PRACTICE}!{L.IN_PRACTICE_LEVEL.cell}": 2,
        f"{L.SHEET_BACKPROP}!{L.IN_W1.cell}": 0.7,
    }
    sets = [f"{seed_ref}={SEED}", *(f"{ref}={v}" for ref, v in typed.items())]
    given = [f"{L.SHEET_PRACTICE}!{L.PRACTICE_GIVEN_CELLS[name]}" for name, _, _ in exercise.DRAWS]
    reads = [seed_ref, *typed, *given]
    out = _lo_vba(
        book,
        *(a for s in sets for a in ("--set", s)),
        "--run",
        "Practice.PracticeNewExercise",
        *(a for r in reads for a in ("--read", r)),
    )
    got = out["read"]
    seed = got[seed_ref]
    assert seed != SEED and seed == int(seed) and 1 <= seed <= exercise.SEED_MAX, out
    for ref, value in typed.items():
        assert got[ref] == value, ref
    ex = exercise.exercise(int(seed))
    assert [got[r] for r in given] == [*ex.weights, *ex.inputs, *ex.targets, ex.lr]


def test_the_vba_seed_bound_is_the_pythons_and_the_button_is_a_one_line_wrapper():
    from pyopenvba.interpreter import parse_module

    src = vba_modules(TEMPLATE)["Practice"]
    text = (ROOT / "xl_backprop/workbook/vba/Practice.bas").read_bytes().decode("cp1252")
    assert src.replace("\r\n", "\n") == text.replace("\r\n", "\n")
    assert int(re.search(r"Const SEED_MAX As Long = (\d+)", src).group(1)) == exercise.SEED_MAX
    subs = {p.name: p for p in parse_module(src, name="Practice").procedures}
    assert subs["PracticeNewExercise"].params == []
    (stmt,) = subs["NewExercise"].body
    assert [p.declared for p in subs["NewExercise"].params] == ["IRibbonControl"]
    assert stmt.callee.name == "PracticeNewExercise"
    assert "PracticeSeed" in src and not re.search(r"\b(RunPython|Auto_Open|Workbook_Open)\b", src)
