"""The xlwings Lite face, through xlwings' own Office.js code path, in an interpreter like Lite's.

``xl-backprop lite`` writes main.py and requirements.txt. A fresh virtual environment gets
exactly what requirements.txt lists (pip, from its cache) -- no xl_backprop, no numba, no lxml,
as in Lite's Pyodide -- and ``lite_driver.py`` loads the generated main.py there with
``XLWINGS_ON_SERVER=true`` (set by the driver, as Lite sets it), then calls
``xlwings.server.custom_functions_meta/_call`` with Office.js-shaped arguments and
``custom_scripts_meta/_call`` with the book payload Lite sends, built from the committed
template (``lite_cases.py``; the fixtures are in conftest.py). Real: xlwings' Office.js
conversion, registration and remote book (the actions it returns are what Lite's JavaScript
applies to the workbook). The same run in real Pyodide is test_pyodide.py's; Lite's JavaScript
is not run (no Excel, no browser).

References: the classic UDFs and ribbon plans in this process (to 1e-12, messages equal), and
docs/design.md's published numbers.
"""

from __future__ import annotations

import ast
import base64
import copy
import inspect
from pathlib import Path

import numpy as np
import pytest

from xl_backprop import lite, lite_bundle, macros, udfs
from xl_backprop.cellref import ref
from xl_backprop.ooxml import Workbook
from xl_backprop.workbook import layout as L

from .conftest import TEMPLATE
from .lite_cases import CALLS, SCRIPT_RUNS, WALK_RUNS, book_payload
from .ooxml_read import png_size
from .published import COURSE_DE_DW5, COURSE_E_TOTAL, MAZUR_E_TOTAL

PACKAGE_DIR = Path(lite_bundle.__file__).parent

E_TOTAL = COURSE_E_TOTAL
DE_DW5 = COURSE_DE_DW5


def classic_args(args: list) -> list:
    """The same cells as classic xlwings hands them to udfs.py (``err_to_str``: "#N/A")."""

    def cell(v):
        return v["basicValue"] if isinstance(v, dict) else v

    return [None if a is None else [[cell(v) for v in row] for row in a] for a in args]


def as_block(result) -> list[list]:
    """A classic UDF's result as the 2-D block Excel shows."""
    if isinstance(result, str):
        return [[result]]
    return [[v.item() if isinstance(v, np.generic) else v for v in row] for row in np.asarray(result, dtype=object)]


def assert_same_block(got: list[list], expected: list[list], what: str) -> None:
    assert len(got) == len(expected) and all(len(g) == len(e) for g, e in zip(got, expected, strict=True)), what
    for g_row, e_row in zip(got, expected, strict=True):
        for g, e in zip(g_row, e_row, strict=True):
            if e is None:
                assert g == "", what  # Office.js shows None as an empty cell
            elif isinstance(e, bool) or isinstance(e, str):
                assert g == e and type(g) is type(e), f"{what}: {g!r} != {e!r}"
            else:
                assert isinstance(g, int | float) and not isinstance(g, bool), f"{what}: {g!r}"
                assert abs(g - e) <= 1e-12 * max(1.0, abs(e)), f"{what}: {g!r} != {e!r}"


def classic_plan(action: str, values: dict | None = None, drawn: bool = False):
    """The ribbon's plan for the same book, in this process (or the message it refuses with)."""
    get = macros.file_getter(Workbook.read(TEMPLATE))

    def changed(name):
        where, cells = get(name)
        return (where, [[values[name]]]) if values and name in values else (where, cells)

    try:
        return macros.make_plan(action, changed)
    except ValueError as exc:
        return str(exc)


# --- the generated files --------------------------------------------------------------------------


def embedded(main_py: str) -> dict:
    """_SOURCES of a main.py, read as data (never run here)."""
    tree = ast.parse(main_py)
    node = next(n for n in tree.body if isinstance(n, ast.Assign) and n.targets[0].id == "_SOURCES")
    return ast.literal_eval(node.value)


def test_main_py_carries_the_package_sources_verbatim(lite_files):
    found = embedded((lite_files / "main.py").read_text())
    assert list(found) == [lite_bundle.module_name(m) for m in lite_bundle.MODULES]
    for path in lite_bundle.MODULES:
        filename, is_package, lines = found[lite_bundle.module_name(path)]
        assert filename == f"xl_backprop/{path}"
        assert is_package == path.endswith("__init__.py")
        assert "".join(lines) == (PACKAGE_DIR / path).read_text(encoding="utf-8"), path


def test_cli_writes_what_the_bundler_generates(tmp_path, capsys):
    from xl_backprop.cli import main

    assert main(["lite", "--out", str(tmp_path / "lite")]) == 0
    assert (tmp_path / "lite" / "main.py").read_text() == lite_bundle.main_py()
    assert (tmp_path / "lite" / "requirements.txt").read_text() == lite_bundle.requirements()
    assert capsys.readouterr().out.splitlines() == [
        f"wrote {tmp_path / 'lite' / n}" for n in ("main.py", "requirements.txt")
    ]
    assert main(["lite", "--out", str(tmp_path / "lite")]) == 2  # never over existing files without --force
    assert capsys.readouterr().err.strip() == (
        f"xl-backprop lite: error: --out: {tmp_path / 'lite' / 'main.py'} already exists; use --force to overwrite it"
    )
    assert main(["lite", "--out", str(tmp_path / "lite" / "main.py")]) == 2
    assert capsys.readouterr().err.strip().endswith("main.py is a file, expected a folder")
    assert main(["lite", "--out", str(tmp_path / "lite"), "--force"]) == 0


def test_requirements_are_what_lite_installs(lite_files):
    """numpy and matplotlib come from Pyodide (unpinned); XlsxWriter and xlwings pinned as pyproject pins them."""
    pyproject = (Path(__file__).resolve().parents[1] / "pyproject.toml").read_text()
    lines = (lite_files / "requirements.txt").read_text().splitlines()
    assert sorted(lines, key=str.lower) == ["matplotlib", "numpy", "XlsxWriter==3.3.1", "xlwings==0.37.8"]
    for pinned in ("xlwings==0.37.8", "XlsxWriter==3.3.1"):
        assert f'"{pinned}"' in pyproject


def test_main_py_runs_on_what_lite_has_only(lite_answer):
    assert lite_answer["installed"] == {"xl_backprop": False, "numba": False, "lxml": False}
    modules = lite_answer["modules"]
    ours = {n: m for n, m in modules.items() if n == "xl_backprop" or n.startswith("xl_backprop.")}
    assert set(ours) == {lite_bundle.module_name(m) for m in lite_bundle.MODULES}
    assert all(m["loader"] == "_EmbeddedXlBackprop" and m["origin"].startswith("xl_backprop/") for m in ours.values())
    assert not {n for n in modules if n.split(".")[0] in ("lxml", "numba", "pyOpenVBA", "openpyxl")}
    assert lite_answer["reloaded"] == {"finders": 1, "fresh": True}  # main.py run twice, as Lite does after an edit


# --- custom functions --------------------------------------------------------------------------------


def test_functions_are_registered_as_in_excel(lite_answer):
    meta = {f["id"]: f for f in lite_answer["functions_meta"]["functions"]}
    assert set(meta) == {f.__name__ for f in lite.FUNCTIONS} == set(udfs._FUNCTIONS)
    assert lite_answer["functions_meta"]["allowErrorForDataTypeAny"] is True
    for name, f in udfs._FUNCTIONS.items():
        params = meta[name]["parameters"]
        assert [p["name"] for p in params] == list(inspect.signature(f).parameters)
        assert [p["description"] for p in params] == [udfs.ARG_DOCS[p["name"]] for p in params]
        optional = {"biases", "threshold", "hidden_activation", "output_activation"}
        optional |= {"lr", "digits"} if name == "EXPLAIN" else set()
        assert [p.get("optional", False) for p in params] == [p["name"] in optional for p in params]
        assert meta[name]["description"] == f.__doc__
        assert meta[name]["result"] == {"dimensionality": "matrix", "type": "any"}


@pytest.mark.parametrize("k", range(len(CALLS)), ids=[c[0] for c in CALLS])
def test_function_equals_the_classic_udf(lite_answer, k):
    formula, name, args = CALLS[k]
    expected = as_block(udfs._FUNCTIONS[name](*classic_args(args)))
    assert_same_block(lite_answer["results"][k], expected, formula)


def test_functions_give_the_published_numbers(lite_answer):
    results = {c[0]: r for c, r in zip(CALLS, lite_answer["results"], strict=True)}
    assert results["=SIGMOID(0)"] == [[0.5]]
    assert results["=FORWARD(w, i, t)"][0][10] == pytest.approx(E_TOTAL, abs=1e-15)
    assert results["=FORWARD(w, i, t) -- trailing optional left out"] == results["=FORWARD(w, i, t)"]
    assert results["=FORWARD(w, i, t, two empty cells)"] == results["=FORWARD(w, i, t)"]
    assert results["=FORWARD(w, i, t, {0.35;0.6})"][0][10] == pytest.approx(MAZUR_E_TOTAL, abs=1e-9)
    assert results["=GRADIENTS(w, i, t)"][0][4] == pytest.approx(DE_DW5, abs=1e-15)
    assert results["=TRAIN_CURVE(w, i, t, lrs, 51)"][0] == pytest.approx([E_TOTAL] * 6, abs=1e-15)
    assert len(results["=TRAIN_CURVE(w, i, t, lrs, 51)"]) == 51


def test_bad_input_is_one_line_in_the_cell(lite_answer):
    results = {c[0]: r for c, r in zip(CALLS, lite_answer["results"], strict=True)}
    assert results["=FORWARD(7 weights, i, t)"] == [["weights: expected 8 numbers (w1..w8), got 7"]]
    assert results["=FORWARD(w, {0.05;#N/A}, t)"] == [["inputs: expected a number for i2, got the error #N/A"]]
    assert results["=FORWARD(w, {0.05;#N/A}, t) -- error as text"] == results["=FORWARD(w, {0.05;#N/A}, t)"]
    assert results['=GRADIENTS(w, i, {0.01,"abc"})'] == [['targets: expected a number for t2, got text "abc"']]
    assert results["=GRADIENTS(w, {0.05; empty}, t)"] == [["inputs: expected a number for i2, got an empty cell"]]
    assert results["=BACKPROP_STEP(w, i, t, #SPILL!)"] == [["lr: expected a number, got the error #SPILL!"]]
    assert results["=BACKPROP_STEP(w, i, t, empty cell)"] == [["lr: expected a number, got an empty cell"]]
    assert results["=TRAIN_CURVE(w, i, t, lrs, 2.5)"] == [["iterations: expected a whole number >= 1, got 2.5"]]
    assert results["=SIGMOID(A1:B2 with #DIV/0!)"] == [
        ["x: expected a number in row 2, column 1, got the error #DIV/0!"]
    ]
    assert results['=FORWARD(w, i, {"a<line break>b", 0.99})'] == [
        ['targets: expected a number for t1, got text "a\\nb\\x1b[2J"']
    ]
    assert results["=LR_SUMMARY(w, i, t, lrs, 51, -1)"] == [["threshold: expected a positive number, got -1"]]


# --- scripts (the buttons) --------------------------------------------------------------------------


def test_scripts_are_registered(lite_answer):
    meta = {s["function_name"]: s["name"] for s in lite_answer["scripts_meta"]}
    assert meta == {
        "train_learning_rates": "Train learning rates",
        "draw_network": "Draw network",
        "map_learning_rates": "Map learning rates",
        "reset": "Reset to defaults",
        "walk_next": "Walk: next",
        "walk_back": "Walk: back",
    }


@pytest.mark.parametrize("k", range(len(WALK_RUNS)), ids=[f"{s}-{b}" for s, b, _ in WALK_RUNS])
def test_walk_scripts_move_the_walk_cells(lite_answer, k):
    """Next and Back through Office.js: one value written to each of WalkStep and WalkPhase."""
    _, _, (step, phase) = WALK_RUNS[k]
    ran = lite_answer["scripts"][len(SCRIPT_RUNS) + k]
    assert ran["printed"] == ""
    sheet = list(Workbook.read(TEMPLATE).sheets()).index(L.SHEET_BACKPROP)
    written = [(a["func"], a["sheet_position"], a["start_row"], a["start_column"], a["values"]) for a in ran["actions"]]
    assert written == [
        ("setValues", sheet, L.IN_SHOW_STEP.row, L.IN_SHOW_STEP.col, [[step]]),
        ("setValues", sheet, L.IN_WALK_PHASE.row, L.IN_WALK_PHASE.col, [[phase]]),
    ]


def test_walk_moves_as_the_vba_does():
    """The Lite rule against the moves the VBA test runs in LibreOffice (test_walkthrough)."""
    assert lite.walk_move(0, 5, True) == (1, 1) and lite.walk_move(1, 1, False) == (0, 5)
    assert lite.walk_move(lite.LAST_STEP, 5, True) == (lite.LAST_STEP, 5)
    assert lite.walk_move(0, 1, False) == (0, 1)
    assert lite.LAST_STEP == L.BACKPROP_STEPS - 1 and lite.LAST_PHASE == 5


FORMAT_ACTIONS = ("setNumberFormat", "setFontProperty", "setRangeColor", "setBorderProperty", "setHorizontalAlignment")


def cell_looks(actions: list[dict], sheets: list[str]) -> dict:
    """(sheet, row, col) -> what Lite's format actions set on the cell; the actions are taken."""
    looks: dict = {}
    for a in [a for a in actions if a["func"] in FORMAT_ACTIONS]:
        actions.remove(a)
        for i in range(a["row_count"]):
            for j in range(a["column_count"]):
                cell = looks.setdefault((sheets[a["sheet_position"]], a["start_row"] + i, a["start_column"] + j), {})
                if a["func"] == "setBorderProperty":
                    cell.setdefault("border", set()).add(tuple(a["args"]))
                else:
                    key = {
                        "setNumberFormat": "number_format",
                        "setRangeColor": "fill",
                        "setHorizontalAlignment": "align",
                    }.get(a["func"])
                    cell.update({key: a["args"][0]} if key else {a["args"][0]: a["args"][1]})
    return looks


def planned_looks(plan, sheets: list[str]) -> dict:
    """The same, as layout.STYLES declares the plan's styles, in Office.js' terms."""
    looks = {}
    for c in plan.cells:
        height, width = c.shape
        for j, name in enumerate(c.styles):
            style = L.STYLES[name]  # XlsxWriter format properties
            look = {"number_format": style["num_format"]} if style.get("num_format", "General") != "General" else {}
            look.update({"bold": True} if style.get("bold") else {})
            look.update({"color": style["font_color"]} if style.get("font_color") else {})
            look.update({"fill": style["bg_color"]} if style.get("bg_color") else {})
            look.update({"align": style["align"].capitalize()} if style.get("align") else {})
            if style.get("border") == 1:
                look["border"] = {
                    (side, attr, value)
                    for side in (
                        "edge_left",
                        "edge_top",
                        "edge_bottom",
                        "edge_right",
                        "inside_vertical",
                        "inside_horizontal",
                    )
                    for attr, value in (("weight", "thin"), ("line_style", "continuous"))
                }
            for i in range(height):
                looks[(c.sheet, c.row + i, c.col + j)] = look
    return {k: v for k, v in looks.items() if v}


@pytest.mark.parametrize(
    "k", range(len(SCRIPT_RUNS)), ids=[f"{s}{'-typed' if 'values' in o else ''}" for s, _, o in SCRIPT_RUNS]
)
def test_script_writes_what_the_ribbon_plans(lite_answer, k):
    script, action, opts = SCRIPT_RUNS[k]
    plan = classic_plan(action, **opts)
    ran = lite_answer["scripts"][k]
    if isinstance(plan, str):  # bad input: the message, and nothing written
        assert ran == {"actions": [], "printed": f"xl-backprop: {plan}\n"}
        return
    assert ran["printed"] == ""
    sheets = list(Workbook.read(TEMPLATE).sheets())
    actions = copy.deepcopy(ran["actions"])

    def take(func, **where):
        for i, a in enumerate(actions):
            if a["func"] == func and all(a[key] == v for key, v in where.items()):
                return actions.pop(i)
        raise AssertionError(f"no {func} {where} in {[(a['func'], a['sheet_position']) for a in actions]}")

    for area in plan.clear:
        take(
            "rangeClear",
            sheet_position=sheets.index(area.sheet),
            start_row=area.row1,
            start_column=area.col1,
            row_count=area.shape[0],
            column_count=area.shape[1],
        )
    for sheet, names in plan.removed().items():
        drawn = book_payload(TEMPLATE, drawn=True)["sheets"][sheets.index(sheet)]
        for name in names:
            if any(c["name"] == name for c in drawn["charts"]) and opts.get("drawn"):
                take("deleteChart", sheet_position=sheets.index(sheet))
            if any(p["name"] == name for p in drawn["pictures"]) and opts.get("drawn"):
                take("deletePicture", sheet_position=sheets.index(sheet))
    for c in plan.cells:
        a = take("setValues", sheet_position=sheets.index(c.sheet), start_row=c.row, start_column=c.col)
        assert (a["row_count"], a["column_count"]) == (len(c.values), len(c.values[0]))
        assert_same_block(a["values"], c.values, f"{c.sheet} row {c.row} col {c.col}")
    assert cell_looks(actions, sheets) == planned_looks(plan, sheets)
    widths = {}
    for a in [a for a in actions if a["func"] == "setColumnWidth"]:
        actions.remove(a)
        sheet = sheets[a["sheet_position"]]
        widths.update({(sheet, a["start_column"] + j): a["args"] for j in range(a["column_count"])})
    assert widths == {
        (w.sheet, w.col + k): [L.column_pixels(chars) * macros.PT_PER_PX]  # Office.js counts points
        for w in plan.widths
        for k, chars in enumerate(w.widths)
    }
    for ch in plan.charts:
        a = take("addChart", sheet_position=sheets.index(ch.anchor.sheet))
        source = ref(ch.source.sheet, ch.source.row1, ch.source.col1, ch.source.row2, ch.source.col2).split("!")[1]
        r, c = L.rowcol(ch.anchor.cell)
        assert a["args"][:10] == [
            ch.anchor.name,
            "Line",
            ch.source.sheet,
            source,
            None,
            None,
            ch.anchor.width * macros.PT_PER_PX,
            ch.anchor.height * macros.PT_PER_PX,
            "Columns",
            ref(ch.anchor.sheet, r, c).split("!")[1],
        ]
        cats = ch.categories
        assert take("setChartXAxisValues")["args"] == [
            0,
            cats.sheet,
            ref(cats.sheet, cats.row1, cats.col1, cats.row2, cats.col2).split("!")[1],
        ]
        assert take("setChartTitle")["args"] == [0, ch.title]
        for _ in ("category", "value"):
            take("setChartAxis")
        # the palette's colour per series, as Office.js takes it (the remote engine's own action)
        assert [take("setChartSeries")["args"] for _ in ch.colors] == [
            [0, k, {"line_color": c.lower()}] for k, c in enumerate(ch.colors)
        ]
    for p in plan.pictures:
        a = take("addPicture", sheet_position=sheets.index(p.anchor.sheet))
        row, col = L.rowcol(p.anchor.cell)
        assert a["args"][1:3] == [col, row]
        assert png_size(base64.b64decode(a["args"][0])) == png_size(p.png)
        assert take("setPictureName", sheet_position=sheets.index(p.anchor.sheet))["args"][1] == p.anchor.name
    assert actions == []  # nothing else is written


def test_explain_gives_the_published_numbers(lite_answer):
    """Mazur's dE/dw5 as issue 15 writes it, and his new w5 (0.35891648) to the 9 figures asked for."""
    results = {c[0]: r for c, r in zip(CALLS, lite_answer["results"], strict=True)}
    assert results['=EXPLAIN("∂E/∂w5", w, i, t, {0.35;0.6})'] == [
        ["∂E/∂w5 = (a_o1 − t1)·a_o1·(1 − a_o1)·a_h1 = (0.7514 − 0.01000)·0.7514·0.2486·0.5933 = 0.08217"]
    ]
    assert results['=EXPLAIN("new w5", w, i, t, {0.35,0.6}, 0.5, 9)'][0][0].endswith(" = 0.358916480")
    assert results['=EXPLAIN("δh1", w, i, t)'][0][0].startswith("δh1 = ∂E/∂h1 = (∂E1/∂a_h1 + ∂E2/∂a_h1)")
    assert results['=EXPLAIN("w5", w, i, t)'][0][0].startswith("quantity: expected one of h1, h2, ")
    assert results['=EXPLAIN("h1", w, i, t, , , 16)'] == [["digits: expected a whole number from 1 to 15, got 16"]]


def test_the_books_choices_reach_the_scripts(lite_answer):
    """Other activations and examples typed in the book are what the script trains with (its plan,
    compared above with the ribbon's, is held to the engine in test_macros_choices)."""
    typed = [o.get("values", {}) for _, _, o in SCRIPT_RUNS]
    k = next(i for i, v in enumerate(typed) if v.get(L.IN_HIDDEN_ACT.name) == "leaky_relu")
    (title,) = [a["args"][1] for a in lite_answer["scripts"][k]["actions"] if a["func"] == "setChartTitle"]
    assert title.endswith("learning rates (leaky_relu/linear, half-adder: 4 examples)")
    bad = next(i for i, v in enumerate(typed) if v.get(L.IN_OUTPUT_ACT.name) == "softmax")
    assert lite_answer["scripts"][bad] == {
        "actions": [],
        "printed": "xl-backprop: Backprop!B23 (output activation): expected one of sigmoid, tanh, relu, "
        "leaky_relu, linear, got 'softmax'\n",
    }
