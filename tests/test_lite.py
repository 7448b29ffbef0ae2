"""The xlwings Lite face, through xlwings' own Office.js code path, in an interpreter like Lite's.

``xl-backprop lite`` writes main.py and requirements.txt. A fresh virtual environment gets
exactly what requirements.txt lists (pip, from its cache) -- no xl_backprop, no numba, no lxml,
as in Lite's Pyodide -- and ``lite_driver.py`` loads the generated main.py there with
``XLWINGS_ON_SERVER=true`` (set for that process alone), then calls
``xlwings.server.custom_functions_meta/_call`` with Office.js-shaped arguments and
``custom_scripts_meta/_call`` with the book payload Lite sends, built here from the committed
template. Real: xlwings' Office.js conversion, registration and remote book (the actions it
returns are what Lite's JavaScript applies to the workbook). Not run here: Pyodide itself and
Lite's JavaScript (no Excel, no browser).

References: the classic UDFs and ribbon plans in this process (to 1e-12, messages equal), and
docs/design.md's published numbers.
"""

from __future__ import annotations

import ast
import base64
import copy
import hashlib
import inspect
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from xl_backprop import lite, lite_bundle, macros, udfs
from xl_backprop.cellref import Area, CellError, parse_cell, parse_ref, ref
from xl_backprop.ooxml import Workbook
from xl_backprop.ooxml.sheet import NS_MAIN
from xl_backprop.workbook import layout as L

from .conftest import TEMPLATE
from .ooxml_read import png_size
from .published import COURSE_DE_DW5, COURSE_E_TOTAL, MAZUR_E_TOTAL

DRIVER = Path(__file__).with_name("lite_driver.py")
PACKAGE_DIR = Path(lite_bundle.__file__).parent

W = [[0.15, 0.2, 0.25, 0.3, 0.4, 0.45, 0.5, 0.55]]  # a row of 8 cells
I = [[0.05], [0.1]]  # a column
T = [[0.01, 0.99]]
E_TOTAL = COURSE_E_TOTAL
DE_DW5 = COURSE_DE_DW5


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


# --- the book as Lite sends it to a script ------------------------------------------------------


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
        rows = pkg.read_cells(Area(sheet, 0, 0, *parse_cell(last)))
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
]


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


# --- Lite's interpreter ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def lite_files(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("lite")
    lite_bundle.write(out)
    return out


@pytest.fixture(scope="session")
def lite_python(lite_files, request) -> Path:
    """A virtual environment with exactly what requirements.txt lists (plus pip), cached by its
    text and this Python's version, so it is built once."""
    reqs = (lite_files / "requirements.txt").read_text()
    key = hashlib.sha256(f"{sys.version}\n{reqs}".encode()).hexdigest()[:16]
    venv = Path(request.config.cache.mkdir("xl-backprop-lite")) / f"venv-{key}"
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    done = venv / "installed.txt"
    if not done.exists():
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True)
        pip = subprocess.run(
            [
                str(python),
                "-m",
                "pip",
                "install",
                "--disable-pip-version-check",
                "-q",
                "-r",
                str(lite_files / "requirements.txt"),
            ],
            capture_output=True,
            text=True,
        )
        if pip.returncode:
            last = (pip.stderr.strip().splitlines() or ["no output"])[-1]
            pytest.skip(f"cannot build Lite's interpreter (pip install -r requirements.txt): {last}")
        done.write_text(reqs)
    return python


@pytest.fixture(scope="session")
def lite_answer(lite_files, lite_python, tmp_path_factory) -> dict:
    request = {
        "calls": [{"func_name": f, "args": a} for _, f, a in CALLS],
        "scripts": [{"name": s, "book": book_payload(TEMPLATE, **opts)} for s, _, opts in SCRIPT_RUNS],
    }
    cwd = tmp_path_factory.mktemp("lite-run")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "XLWINGS"))}
    env.update(XLWINGS_ON_SERVER="true", XLWINGS_LICENSE_KEY="noncommercial", MPLCONFIGDIR=str(cwd))
    run = subprocess.run(
        [str(lite_python), "-I", str(DRIVER), str(lite_files / "main.py")],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=900,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    return json.loads(run.stdout)


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
        optional = {"biases", "threshold"} | ({"lr", "digits"} if name == "EXPLAIN" else set())
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
        ['targets: expected a number for t1, got text "a\\nb\\u001b[2J"']
    ]
    assert results["=LR_SUMMARY(w, i, t, lrs, 51, -1)"] == [["threshold: expected a positive number, got -1"]]


# --- scripts (the buttons) --------------------------------------------------------------------------


def test_scripts_are_registered(lite_answer):
    meta = {s["function_name"]: s["name"] for s in lite_answer["scripts_meta"]}
    assert meta == {
        "train_learning_rates": "Train learning rates",
        "draw_network": "Draw network",
        "reset": "Reset to defaults",
    }


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
    "k", range(len(SCRIPT_RUNS)), ids=[f"{s}{'-bad-input' if 'values' in o else ''}" for s, _, o in SCRIPT_RUNS]
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
