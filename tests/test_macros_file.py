"""The ribbon actions on workbook files (``xl-backprop run``), end to end on a copy of the
committed template: numbers against the engine and an independent scalar loop, the package
read back part by part with zipfile/ElementTree and openpyxl (not with the code under test),
and the result opened by a real LibreOffice."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import zipfile
from pathlib import Path
from types import SimpleNamespace
from xml.etree import ElementTree

import numpy as np
import openpyxl
import pytest

from xl_backprop import analysis, cli, macros, network
from xl_backprop.ooxml import Workbook
from xl_backprop.workbook import layout as L

from . import libreoffice
from . import scalar_reference as scalar
from .conftest import TEMPLATE, set_cells
from .ooxml_read import NS, drawing_part, objects, parts, png_size, rels, sheet_part
from .published import COURSE_E_TOTAL

LRS = list(network.DEFAULT_LRS)
T = network.DEFAULT_ITERATIONS


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def values(path: Path, sheet: str, top_left: str, rows: int, cols: int) -> list[list]:
    ws = openpyxl.load_workbook(path, data_only=True)[sheet]
    r, c = L.rowcol(top_left)
    return [[ws.cell(r + 1 + i, c + 1 + j).value for j in range(cols)] for i in range(rows)]


def no_temp_files(folder: Path) -> bool:
    return not [f for f in folder.iterdir() if f.name.endswith(".tmp")]


# --- fixtures: one run of each action, shared -------------------------------------------------
@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    assert TEMPLATE.is_file(), "workbook_template.xlsm must be committed"
    d = tmp_path_factory.mktemp("runs")
    book = d / "book.xlsm"
    shutil.copyfile(TEMPLATE, book)
    s = SimpleNamespace(
        dir=d,
        book=book,
        trained=d / "trained.xlsm",
        drawn=d / "drawn.xlsm",
        again=d / "again.xlsm",
        reset=d / "reset.xlsm",
    )
    assert macros.run_on_file("train-lrs", book, s.trained) == s.trained
    macros.run_on_file("draw-network", s.trained, s.drawn)
    macros.run_on_file("train-lrs", s.drawn, s.again)
    macros.run_on_file("reset", s.again, s.reset)
    return s


@pytest.fixture(scope="module")
def reference():
    """The loss curves of the defaults by the independent scalar loop, one per lr."""
    w, i, t = network.DEFAULT_WEIGHTS, network.DEFAULT_INPUTS, network.DEFAULT_TARGETS
    return np.array([scalar.train(lr, T, w, i, t)[0] for lr in LRS]).T


def test_template_inputs_are_the_defaults_the_references_use(runs):
    assert values(runs.book, L.SHEET_LRS, L.IN_ITERATIONS.cell, 1, 1) == [[T]]
    assert values(runs.book, L.SHEET_LRS, L.IN_LRS.cell, 1, 10)[0] == LRS + [None] * 4
    assert [values(runs.book, L.SHEET_BACKPROP, w.cell, 1, 1)[0][0] for w in L.IN_W] == list(network.DEFAULT_WEIGHTS)


def test_loss_matrix_equals_train_curves(runs, reference):
    block = values(runs.trained, L.SHEET_LRS, L.MACRO_LOSS.top_left, T + 2, len(LRS) + 2)
    assert block[0] == ["step", "lr 0.1", "lr 0.2", "lr 0.5", "lr 0.8", "lr 1", "lr 2", None]
    body = np.array([row[:-1] for row in block[1:-1]], dtype=float)
    assert np.array_equal(body[:, 0], np.arange(T))
    curves = network.train_curves(LRS, T)
    assert np.max(np.abs(body[:, 1:] - curves)) <= 1e-12
    assert np.max(np.abs(body[:, 1:] - reference)) <= 1e-12
    assert body[0, 1] == pytest.approx(COURSE_E_TOTAL, abs=1e-15)
    assert block[-1] == [None] * (len(LRS) + 2) and all(row[-1] is None for row in block)


def test_summary_matches_lr_summary_and_the_scalar_loop(runs, reference):
    table = values(runs.trained, L.SHEET_LRS, L.MACRO_SUMMARY.top_left, len(LRS) + 2, 6)
    assert table[0][:5] == [
        "learning rate",
        "final E_total",
        "first step with E_total < 0.01",
        "E_total only falls",
        "first rise of E_total",
    ]
    assert table[-1] == [None] * 6
    expected = analysis.lr_summary(LRS, network.train_curves(LRS, T), analysis.DEFAULT_THRESHOLD)
    for row, s, curve in zip(table[1:-1], expected, reference.T, strict=True):
        assert row[0] == s.lr and row[1] == pytest.approx(s.final_loss, abs=1e-12)
        assert row[2] == ("not reached" if s.steps_to_threshold is None else s.steps_to_threshold)
        assert row[3] is s.only_falls
        assert row[4] == ("never" if s.first_rise is None else s.first_rise)
        # independently, from the scalar curve
        assert row[1] == pytest.approx(curve[-1], abs=1e-12)
        below = [k for k, e in enumerate(curve) if e < 0.01]
        assert row[2] == (below[0] if below else "not reached")
        rises = [k for k in range(1, T) if curve[k] > curve[k - 1]]
        assert row[3] is (not rises)
        assert row[4] == (rises[0] if rises else "never")


def test_summary_of_a_learning_rate_that_overshoots(tmp_path):
    # targets (0.3, 0.7): lr = 2 reaches E_total < 0.01 and only falls; lr = 300 overshoots
    book = set_cells(TEMPLATE, tmp_path / "in.xlsm", L.SHEET_BACKPROP, L.IN_T1.cell, [[0.3], [0.7]])
    set_cells(book, book, L.SHEET_LRS, L.IN_ITERATIONS.cell, [[50]])
    set_cells(book, book, L.SHEET_LRS, L.IN_LRS.cell, [[2.0, 300.0] + [None] * 8])
    macros.run_on_file("train-lrs", book, tmp_path / "out.xlsm")
    table = values(tmp_path / "out.xlsm", L.SHEET_LRS, L.MACRO_SUMMARY.top_left, 3, 5)
    w, i = network.DEFAULT_WEIGHTS, network.DEFAULT_INPUTS
    slow, fast = (scalar.train(lr, 50, w, i, (0.3, 0.7))[0] for lr in (2.0, 300.0))
    first = next(k for k, e in enumerate(slow) if e < 0.01)
    rise = next(k for k in range(1, 50) if fast[k] > fast[k - 1])
    assert min(fast) >= 0.01 and all(slow[k] <= slow[k - 1] for k in range(1, 50))
    assert table[1] == [2.0, pytest.approx(slow[-1], abs=1e-12), first, True, "never"]
    assert table[2] == [300.0, pytest.approx(fast[-1], abs=1e-12), "not reached", False, rise]


def test_chart_has_one_series_per_lr_pointing_at_the_matrix(runs):
    p = parts(runs.trained)
    (chart,) = [o for o in objects(p, L.SHEET_LRS) if o.name == L.MACRO_CHART.name]
    assert chart.kind == "chart" and chart.at == tuple(reversed(L.rowcol(L.MACRO_CHART.cell)))
    root = ElementTree.fromstring(p[chart.part])
    series = root.findall(".//c:lineChart/c:ser", NS)
    assert len(series) == len(LRS)
    for k, ser in enumerate(series):
        col = "WXYZ"[k] if k < 4 else "A" + "AB"[k - 4]
        assert ser.find("c:tx/c:strRef/c:f", NS).text == f"'Learning rates'!${col}$8"
        assert ser.find("c:cat/c:numRef/c:f", NS).text == f"'Learning rates'!$V$9:$V${8 + T}"
        assert ser.find("c:val/c:numRef/c:f", NS).text == f"'Learning rates'!${col}$9:${col}${8 + T}"
        cache = [float(v.text) for v in ser.findall("c:val/c:numRef/c:numCache/c:pt/c:v", NS)]
        assert cache == pytest.approx(network.train_curves(LRS, T)[:, k].tolist(), abs=1e-12)
    title = "".join(t.text for t in root.find("c:chart/c:title", NS).iter(f"{{{NS['a']}}}t"))
    assert title == "Train learning rates: E_total per step for 6 learning rates (sigmoid/sigmoid, course)"


def test_picture_is_a_png_of_the_reserved_size_at_its_anchor(runs):
    p = parts(runs.trained)
    (pic,) = [o for o in objects(p, L.SHEET_LRS) if o.name == L.MACRO_PICTURE.name]
    assert pic.kind == "picture" and pic.at == tuple(reversed(L.rowcol(L.MACRO_PICTURE.cell)))
    assert png_size(p[pic.part]) == (L.MACRO_PICTURE.width, L.MACRO_PICTURE.height)
    types = ElementTree.fromstring(p["[Content_Types].xml"])
    assert any(
        d.get("Extension") == "png" and d.get("ContentType") == "image/png" for d in types.findall("ct:Default", NS)
    )


def test_vba_and_ribbon_are_byte_identical_and_only_the_lr_sheet_changes(runs):
    before = parts(runs.book)
    after = parts(runs.trained)
    kept = [n for n in before if n == "xl/vbaProject.bin" or n.startswith("customUI/") or n == "_rels/.rels"]
    assert "xl/vbaProject.bin" in kept and any(n.startswith("customUI/") for n in kept)
    for out in (runs.trained, runs.drawn, runs.again, runs.reset):
        p = parts(out)
        assert all(p[n] == before[n] for n in kept), out.name
    lr_sheet = sheet_part(before, L.SHEET_LRS)
    drawing = drawing_part(before, L.SHEET_LRS)
    drawing_rels = drawing.replace("drawings/", "drawings/_rels/") + ".rels"
    assert set(before) <= set(after)
    changed = {n for n in before if before[n] != after[n]}
    assert changed <= {lr_sheet, drawing, drawing_rels, "[Content_Types].xml"}
    added = set(after) - set(before)
    assert len(added) == 2 and {n.rsplit(".", 1)[1] for n in added} == {"xml", "png"}


def test_the_templates_own_charts_survive_every_action(runs):
    before = parts(runs.book)
    for out in (runs.trained, runs.drawn, runs.again, runs.reset):
        p = parts(out)
        for sheet in L.SHEETS:
            mine = [o for o in objects(before, sheet)]
            theirs = {o.name: o for o in objects(p, sheet)}
            for o in mine:
                assert o.name in theirs, (out.name, sheet, o.name)
                assert p[theirs[o.name].part] == before[o.part]


def test_a_second_run_replaces_and_leaves_no_orphans(runs):
    template_objects = {s: [o.name for o in objects(parts(runs.book), s)] for s in L.SHEETS}
    p = parts(runs.again)
    assert [o.name for o in objects(p, L.SHEET_LRS)] == template_objects[L.SHEET_LRS] + [
        L.MACRO_CHART.name,
        L.MACRO_PICTURE.name,
    ]
    assert [o.name for o in objects(p, L.SHEET_BACKPROP)] == template_objects[L.SHEET_BACKPROP] + [
        L.NETWORK_PICTURE.name
    ]
    n_charts = sum(n.startswith("xl/charts/") for n in parts(runs.book))
    assert sum(n.startswith("xl/charts/") for n in p) == n_charts + 1
    assert sum(n.startswith("xl/media/") for n in p) == 2
    referenced = {"[Content_Types].xml"} | {
        t for n in p if n.endswith(".rels") for t in rels(p, _source_of(n)).values()
    }
    assert {n for n in p if not n.endswith(".rels")} <= referenced
    overrides = [
        o.get("PartName")[1:] for o in ElementTree.fromstring(p["[Content_Types].xml"]) if o.tag.endswith("Override")
    ]
    assert set(overrides) <= set(p)


def _source_of(rels_part: str) -> str:
    folder, name = rels_part.rsplit("/", 1)
    parent = folder.rsplit("/", 1)[0] if "/" in folder else ""
    return (parent + "/" if parent else "") + name[: -len(".rels")]


def test_reset_restores_every_cell_of_the_template_and_only_its_objects(runs):
    def contents(path: Path, sheet: str) -> set:  # formulas as text, array formulas too
        ws = openpyxl.load_workbook(path)[sheet]
        return {
            (c.coordinate, getattr(c.value, "text", c.value))
            for row in ws.iter_rows()
            for c in row
            if c.value is not None
        }

    for sheet in L.SHEETS:
        assert contents(runs.book, sheet) == contents(runs.reset, sheet), sheet
    pb, pa = parts(runs.book), parts(runs.reset)
    for sheet in L.SHEETS:
        assert [o.name for o in objects(pa, sheet)] == [o.name for o in objects(pb, sheet)]
    assert not any(n.startswith("xl/media/") for n in pa)


def test_reset_puts_defaults_back_and_keeps_what_the_user_typed_elsewhere(runs, tmp_path):
    book = set_cells(runs.trained, tmp_path / "in.xlsm", L.SHEET_BACKPROP, L.IN_W5.cell, [[0.9]])
    set_cells(book, book, L.SHEET_LRS, L.IN_LRS.cell, [[0.3] * 10])
    set_cells(book, book, L.SHEET_LRS, L.IN_ITERATIONS.cell, [[7]])
    set_cells(book, book, L.SHEET_LRS, "AZ200", [["my note", 42.0]])
    set_cells(book, book, L.SHEET_BACKPROP, "AZ3", [["mine"]])
    macros.run_on_file("reset", book, tmp_path / "out.xlsm")
    wb = openpyxl.load_workbook(tmp_path / "out.xlsm")
    for inp in L.SCALAR_INPUTS:
        assert wb[inp.sheet][inp.cell].value == inp.default, inp.name
    assert [c.value for c in wb[L.SHEET_LRS]["B5:K5"][0]] == LRS + [None] * 4
    assert [wb[L.SHEET_LRS]["AZ200"].value, wb[L.SHEET_LRS]["BA200"].value] == ["my note", 42]
    assert wb[L.SHEET_BACKPROP]["AZ3"].value == "mine"
    assert wb[L.SHEET_LRS]["V9"].value is None and wb[L.SHEET_LRS]["AH9"].value is None
    calc = ElementTree.fromstring(parts(tmp_path / "out.xlsm")["xl/workbook.xml"]).find("m:calcPr", NS)
    assert calc.get("fullCalcOnLoad") == "1"  # Excel recomputes the formulas fed by the inputs


def test_user_cells_outside_the_reserved_places_survive_training(runs, tmp_path):
    book = set_cells(runs.book, tmp_path / "in.xlsm", L.SHEET_LRS, "AZ200", [["my note"]])
    macros.run_on_file("train-lrs", book, tmp_path / "out.xlsm")
    assert openpyxl.load_workbook(tmp_path / "out.xlsm")[L.SHEET_LRS]["AZ200"].value == "my note"


def test_a_shorter_second_run_clears_the_rows_of_the_first(runs, tmp_path):
    book = set_cells(runs.trained, tmp_path / "in.xlsm", L.SHEET_LRS, L.IN_ITERATIONS.cell, [[5]])
    set_cells(book, book, L.SHEET_LRS, L.IN_LRS.cell, [[0.5] + [None] * 9])
    macros.run_on_file("train-lrs", book, tmp_path / "out.xlsm")
    block = values(tmp_path / "out.xlsm", L.SHEET_LRS, L.MACRO_LOSS.top_left, T + 1, 8)
    assert block[0][:3] == ["step", "lr 0.5", None]
    assert all(v is None for row in block[6:] for v in row)
    assert all(v is None for row in block[1:6] for v in row[2:])
    assert [row[1] for row in block[1:6]] == pytest.approx(network.train_curves([0.5], 5)[:, 0], abs=1e-12)


def test_a_long_run_fills_rows_the_template_has_and_rows_it_has_not(tmp_path):
    # 2500 steps x 10 rates: past the template's last row, and too many points to cache in the chart
    lrs = [0.1 * k for k in range(1, 11)]
    book = set_cells(TEMPLATE, tmp_path / "in.xlsm", L.SHEET_LRS, L.IN_ITERATIONS.cell, [[2500]])
    set_cells(book, book, L.SHEET_LRS, L.IN_LRS.cell, [lrs])
    macros.run_on_file("train-lrs", book, tmp_path / "out.xlsm")
    ws = openpyxl.load_workbook(tmp_path / "out.xlsm", read_only=True)[L.SHEET_LRS]
    assert ws.max_row == 2508  # the last step's row; nothing below
    block = list(ws.iter_rows(min_row=9, max_row=2508, min_col=22, max_col=33, values_only=True))
    body = np.array([row[:11] for row in block], dtype=float)
    assert np.array_equal(body[:, 0], np.arange(2500))
    assert np.max(np.abs(body[:, 1:] - network.train_curves(lrs, 2500))) <= 1e-12
    assert all(row[11] is None for row in block)
    p = parts(tmp_path / "out.xlsm")
    (chart,) = [o for o in objects(p, L.SHEET_LRS) if o.name == L.MACRO_CHART.name]
    root = ElementTree.fromstring(p[chart.part])
    assert [f.text for f in root.iterfind(".//c:ser/c:val/c:numRef/c:f", NS)][-1] == "'Learning rates'!$AF$9:$AF$2508"
    assert root.find(".//c:ser/c:val/c:numRef/c:numCache/c:pt", NS) is None  # Excel fills it on load


def test_draw_network_places_one_picture_on_backprop_replaced_by_a_rerun(runs, tmp_path):
    p = parts(runs.drawn)
    (pic,) = [o for o in objects(p, L.SHEET_BACKPROP) if o.name == L.NETWORK_PICTURE.name]
    assert pic.at == tuple(reversed(L.rowcol(L.NETWORK_PICTURE.cell)))
    assert png_size(p[pic.part]) == (L.NETWORK_PICTURE.width, L.NETWORK_PICTURE.height)
    macros.run_on_file("draw-network", runs.drawn, tmp_path / "again.xlsm", iteration=7)
    q = parts(tmp_path / "again.xlsm")
    assert [o.name for o in objects(q, L.SHEET_BACKPROP)].count(L.NETWORK_PICTURE.name) == 1
    assert sum(n.startswith("xl/media/") for n in q) == sum(n.startswith("xl/media/") for n in p)


def test_curves_figure_has_two_labelled_panels_and_a_legend_placed_without_a_search(monkeypatch):
    from matplotlib.legend import Legend

    def search(*args, **kwargs):
        raise AssertionError('loc="best" looks at every point: minutes, and a warning, on a long run')

    monkeypatch.setattr(Legend, "_find_best_position", search)
    lrs = [0.5, 2.0]
    fig = macros.curves_figure(lrs, network.train_curves(lrs, 11), L.MACRO_PICTURE)
    macros.png_bytes(fig)
    by_step, by_lr_step = fig.axes
    assert [by_step.get_title(), by_step.get_xlabel(), by_step.get_ylabel()] == ["E_total per step", "step", "E_total"]
    assert [by_lr_step.get_title(), by_lr_step.get_xlabel(), by_lr_step.get_ylabel()] == [
        "E_total against learning rate x step",
        "learning rate x step",
        "E_total",
    ]
    assert np.array_equal(by_lr_step.lines[1].get_xdata(), 2.0 * np.arange(11))
    assert [t.get_text() for t in by_lr_step.get_legend().get_texts()] == ["lr 0.5", "lr 2"]


def test_network_figure_of_the_plan_is_the_pictures_size():
    net = macros.NetworkInputs(network.DEFAULT_INPUTS, network.DEFAULT_TARGETS, network.DEFAULT_WEIGHTS, (0.0, 0.0))
    plan = macros.plan_draw_network(macros.DrawInputs(net, 0.5, 3))
    assert png_size(plan.pictures[0].png) == (L.NETWORK_PICTURE.width, L.NETWORK_PICTURE.height)
    assert plan.pictures[0].description == "The 2-2-2 network at step 3 (sigmoid/sigmoid, course)"


def test_network_figure_names_the_biases_when_there_are_any():
    from xl_backprop import explain
    from xl_backprop.network_picture import network_figure

    w = network.DEFAULT_WEIGHTS
    title = network_figure(explain.step_values(w, biases=(0.35, 0.6)), 0, L.NETWORK_PICTURE).texts[0].get_text()
    assert title.endswith("\nbiases: b1 = 0.3500 (into h1, h2), b2 = 0.6000 (into o1, o2)")
    plain = network_figure(explain.step_values(w, biases=(0.0, 0.0)), 0, L.NETWORK_PICTURE).texts[0].get_text()
    assert "biases" not in plain


def test_draw_network_reads_the_show_step_from_the_book(runs, tmp_path):
    book = set_cells(runs.book, tmp_path / "in.xlsm", L.SHEET_BACKPROP, L.IN_SHOW_STEP.cell, [[4]])
    pkg = Workbook.read(book)
    assert macros.read_draw(macros.file_getter(pkg)).step == 4
    assert macros.read_draw(macros.file_getter(pkg), 9).step == 9
    # the book's own step is drawn as it is: nothing written into the book's cells
    plan = macros.make_plan("draw-network", macros.file_getter(pkg))
    assert plan.cells == () and not plan.inputs_changed
    with pytest.raises(
        ValueError, match=r"^Backprop!B19 \(show step\): expected a whole number from 0 to 99, got 150$"
    ):
        macros.read_draw(macros.file_getter(Workbook.read(set_cells(book, book, L.SHEET_BACKPROP, "B19", [[150]]))))
    with pytest.raises(macros.InputError, match=r"from 0 to 99 \(the Backprop table's steps\), got 100$"):
        macros.read_draw(macros.file_getter(pkg), 100)


def test_draw_network_at_a_given_step_shows_that_step_in_the_cell_diagram_too(runs, tmp_path):
    """`run draw-network --iteration 10`: the picture says step 10, and so does the cell diagram,
    because the step goes into "show step" and the book recalculates on load."""
    out = macros.run_on_file("draw-network", runs.book, tmp_path / "ten.xlsm", iteration=10)
    assert openpyxl.load_workbook(out)[L.SHEET_BACKPROP][L.IN_SHOW_STEP.cell].value == 10
    assert b'fullCalcOnLoad="1"' in parts(out)["xl/workbook.xml"]
    ws = libreoffice.recalculated_values(out, tmp_path)[L.SHEET_BACKPROP]
    assert ws[L.DIAGRAM_TOP_LEFT].value == 10  # "Network at step 10"
    w10 = network.train([L.IN_LR.default], 11).weights[0]
    assert ws["L5"].value == pytest.approx(w10[4], abs=1e-12)  # w5 on the diagram's edge
    (pic,) = [o for o in objects(parts(out), L.SHEET_BACKPROP) if o.name == L.NETWORK_PICTURE.name]
    # the template's WalkPhase
    assert pic.description == "The 2-2-2 network at step 10, phase 5 (sigmoid/sigmoid, course)"


# --- bad input: nothing written -----------------------------------------------------------------
BAD = [
    ("train-lrs", L.SHEET_BACKPROP, L.IN_W3.cell, [["abc"]], "Backprop!B10 (w3): expected a number, got 'abc'"),
    (
        "draw-network",
        L.SHEET_BACKPROP,
        L.IN_I1.cell,
        [[None]],
        "Backprop!B4 (i1): expected a number, got an empty cell",
    ),
    (
        "train-lrs",
        L.SHEET_LRS,
        L.IN_ITERATIONS.cell,
        [[-5]],
        "'Learning rates'!B4 (iterations): expected a whole number from 1 to 1,048,567, got -5",
    ),
    (
        "train-lrs",
        L.SHEET_LRS,
        L.IN_ITERATIONS.cell,
        [[2_000_000]],
        "'Learning rates'!B4 (iterations): expected a whole number from 1 to 1,048,567, got 2000000",
    ),
    (
        "train-lrs",
        L.SHEET_LRS,
        L.IN_ITERATIONS.cell,
        [[2.5]],
        "'Learning rates'!B4 (iterations): expected a whole number from 1 to 1,048,567, got 2.5",
    ),
    (
        "train-lrs",
        L.SHEET_LRS,
        L.IN_LRS.cell,
        [[None] * 10],
        "'Learning rates'!B5:K5 (learning rates): expected at least one learning rate, found only empty cells",
    ),
    (
        "train-lrs",
        L.SHEET_LRS,
        "D5",
        [["fast"]],
        "'Learning rates'!D5 (learning rates): expected a positive number or an empty cell, got 'fast'",
    ),
    (
        "train-lrs",
        L.SHEET_LRS,
        "C5",
        [[-0.5]],
        "'Learning rates'!C5 (learning rates): expected a positive number or an empty cell, got -0.5",
    ),
    # a gap: the live formulas read the first COUNTA(in_lrs) slots, so 0.5 after a blank is lost there
    (
        "train-lrs",
        L.SHEET_LRS,
        "C5",
        [[None, 0.5]],
        "'Learning rates'!C5 (learning rates): expected a learning rate before the one in D5 "
        "(fill the list from the left), got an empty cell",
    ),
    (
        "train-lrs",
        L.SHEET_LRS,
        L.IN_THRESHOLD.cell,
        [[True]],
        "'Learning rates'!B6 (loss threshold): expected a positive number, got TRUE",
    ),
    (
        "draw-network",
        L.SHEET_BACKPROP,
        L.IN_SHOW_STEP.cell,
        [[-1]],
        "Backprop!B19 (show step): expected a whole number from 0 to 99, got -1",
    ),
    (
        "draw-network",
        L.SHEET_BACKPROP,
        L.IN_LR.cell,
        [[0]],
        "Backprop!B18 (learning rate): expected a positive number, got 0",
    ),
    (
        "map-lrs",
        L.SHEET_LRS,
        L.IN_MAP_H_FROM.cell,
        [[-1]],
        "'Learning rates'!N26 (lr_hidden from): expected a positive number, got -1",
    ),
    (
        "map-lrs",
        L.SHEET_LRS,
        L.IN_MAP_O_TO.cell,
        [["big"]],
        "'Learning rates'!O27 (lr_output to): expected a positive number, got 'big'",
    ),
    (
        "map-lrs",
        L.SHEET_LRS,
        L.IN_MAP_H_TO.cell,
        [[0.5]],
        "'Learning rates'!O26 (lr_hidden to): expected a number greater than lr_hidden from (1), got 0.5",
    ),
    (
        "map-lrs",
        L.SHEET_LRS,
        L.IN_MAP_O_COUNT.cell,
        [[0]],
        "'Learning rates'!P27 (lr_output count): expected a whole number from 1 to 10,000,000, got 0",
    ),
    (
        "map-lrs",
        L.SHEET_LRS,
        L.IN_MAP_STEPS.cell,
        [[2.5]],
        "'Learning rates'!N28 (map steps): expected a whole number from 1 to 10,000,000, got 2.5",
    ),
    (
        "map-lrs",
        L.SHEET_LRS,
        L.IN_MAP_STEPS.cell,
        [[20_000]],
        "'Learning rates'!N28 (map steps): expected at most 10,000,000 network steps (lr_hidden count x "
        "lr_output count x steps), got 24 x 24 x 20,000 = 11,520,000; for more, use xl-backprop map",
    ),
]


@pytest.mark.parametrize(("action", "sheet", "cell", "rows", "message"), BAD)
def test_bad_input_raises_the_message_and_writes_nothing(tmp_path, action, sheet, cell, rows, message):
    book = set_cells(TEMPLATE, tmp_path / "book.xlsm", sheet, cell, rows)
    before = digest(book)
    for out in (tmp_path / "out.xlsm", book):  # a new file, and in place
        with pytest.raises(ValueError) as err:
            macros.run_on_file(action, book, out)
        assert str(err.value) == message
    assert digest(book) == before
    assert not (tmp_path / "out.xlsm").exists() and no_temp_files(tmp_path)


# --- overflow: the input to blame is named, never an output cell (issue 11) -----------------------
OVERFLOW = [  # (action, cells to type: (sheet, cell, rows), message)
    (
        "train-lrs",
        [(L.SHEET_BACKPROP, L.IN_T1.cell, [[1e200]])],
        "Backprop!B6 (t1): with 1e+200 E_total overflows before training; expected a smaller number",
    ),
    (
        "draw-network",
        [(L.SHEET_BACKPROP, L.IN_W[4].cell, [[-3e200]]), (L.SHEET_BACKPROP, L.IN_T2.cell, [[1e200]])],
        "Backprop!B7 (t2): with 1e+200 E_total overflows before training; expected a smaller number",
    ),
    (
        "train-lrs",
        [
            (L.SHEET_BACKPROP, L.IN_I1.cell, [[1e308], [1e308]]),  # h1 = inf - inf: NaN, from the inputs
            (L.SHEET_BACKPROP, L.IN_W[0].cell, [[1e308], [-1e308]]),
            (L.SHEET_BACKPROP, L.IN_T2.cell, [[5e307]]),
        ],
        "Backprop!B4 (i1): with 1e+308 E_total overflows before training; expected a smaller number",
    ),
    (
        "train-lrs",
        [(L.SHEET_BACKPROP, L.IN_T1.cell, [[1e100], [-1e100]]), (L.SHEET_LRS, "C5", [[1e300]])],
        "'Learning rates'!C5 (learning rates): training with 1e+300 makes E_total overflow at step 1; "
        "expected a smaller learning rate",
    ),
    (
        "draw-network",
        [
            (L.SHEET_BACKPROP, L.IN_T1.cell, [[1e100], [-1e100]]),
            (L.SHEET_BACKPROP, L.IN_LR.cell, [[1e300]]),
            (L.SHEET_BACKPROP, L.IN_SHOW_STEP.cell, [[3]]),
        ],
        "Backprop!B18 (learning rate): training with 1e+300 makes E_total overflow at step 1; "
        "expected a smaller learning rate",
    ),
]


@pytest.mark.parametrize(("action", "typed", "message"), OVERFLOW)
def test_overflow_names_the_input_cell_and_writes_nothing(tmp_path, action, typed, message):
    book = TEMPLATE
    for k, (sheet, cell, rows) in enumerate(typed):
        book = set_cells(book, tmp_path / f"book{k}.xlsm", sheet, cell, rows)
    before = digest(book)
    with pytest.raises(ValueError) as err:
        macros.run_on_file(action, book, tmp_path / "out.xlsm")
    assert str(err.value) == message and len(message) <= 255
    assert digest(book) == before and not (tmp_path / "out.xlsm").exists() and no_temp_files(tmp_path)


def test_the_cli_exits_non_zero_with_the_message(tmp_path, capsys):
    book = set_cells(TEMPLATE, tmp_path / "book.xlsm", L.SHEET_BACKPROP, L.IN_W3.cell, [["abc"]])
    before = digest(book)
    status = cli.main(["run", "train-lrs", str(book), "--out", str(tmp_path / "out.xlsm")])
    err = capsys.readouterr().err
    assert status != 0
    assert "Backprop!B10 (w3): expected a number, got 'abc'" in err and "Traceback" not in err
    assert digest(book) == before and not (tmp_path / "out.xlsm").exists()


def test_a_workbook_without_the_named_cells_is_refused_by_name(tmp_path):
    import xlsxwriter

    book = tmp_path / "plain.xlsx"
    wb = xlsxwriter.Workbook(book)
    wb.add_worksheet("Backprop").write("B4", 0.05)
    wb.close()
    with pytest.raises(ValueError, match=r"^defined name in_i1: not in this workbook; expected the xl-backprop"):
        macros.run_on_file("train-lrs", book, tmp_path / "out.xlsx")
    (tmp_path / "junk.xlsm").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="expected an Excel workbook"):
        macros.run_on_file("train-lrs", tmp_path / "junk.xlsm", tmp_path / "out.xlsx")
    with pytest.raises(ValueError, match="^action: expected one of train-lrs, draw-network, map-lrs, reset"):
        macros.run_on_file("fly", TEMPLATE, tmp_path / "out.xlsx")
    assert not (tmp_path / "out.xlsx").exists()


def test_a_renamed_sheet_is_named_before_anything_is_written(tmp_path):
    p = parts(TEMPLATE)  # the user renamed "Learning rates"; Excel moved the defined names along
    p["xl/workbook.xml"] = (
        p["xl/workbook.xml"].replace(b'name="Learning rates"', b'name="LR"').replace(b"'Learning rates'!", b"LR!")
    )
    book = tmp_path / "renamed.xlsm"
    with zipfile.ZipFile(book, "w") as z:
        for name, data in p.items():
            z.writestr(name, data)
    with pytest.raises(ValueError) as err:
        macros.run_on_file("train-lrs", book, tmp_path / "out.xlsm")
    assert str(err.value) == (
        "sheet 'Learning rates': not in this workbook (it has Backprop, UDFs, LR, Practice, Examples, "
        "LR blocks, About, xlwings.conf); expected the xl-backprop template's sheets"
    )
    assert sorted(f.name for f in tmp_path.iterdir()) == ["renamed.xlsm"]


def test_an_out_name_excel_would_not_open_is_refused(tmp_path):
    # Excel checks a workbook's extension against its content: a macro workbook named .xlsx does not open
    for name in ("out.xlsx", "out.xls", "out"):
        with pytest.raises(
            ValueError,
            match=rf"^output file: expected a name ending in \.xlsm like the book's, "
            rf"got {name} ",
        ):
            macros.run_on_file("reset", TEMPLATE, tmp_path / name)
    assert list(tmp_path.iterdir()) == []
    macros.run_on_file("reset", TEMPLATE, tmp_path / "OUT.XLSM")  # the case of the extension does not matter


# --- interrupted writes ------------------------------------------------------------------------
@pytest.mark.parametrize("in_place", [False, True])
def test_an_interrupted_write_leaves_the_input_whole_and_no_temporary_file(tmp_path, monkeypatch, in_place):
    book = tmp_path / "book.xlsm"
    shutil.copyfile(TEMPLATE, book)
    out = book if in_place else tmp_path / "out.xlsm"
    before = digest(book)
    real_writestr, real_save = zipfile.ZipFile.writestr, Workbook.save
    saving: list[Path] = []
    calls = []

    def save(self, path):
        saving.append(Path(path))
        return real_save(self, path)

    def failing(self, *args, **kwargs):
        if saving:  # only the book's own writer, not XlsxWriter's scratch chart
            calls.append(1)
            if len(calls) == 5:  # a few parts are already in the temporary file
                raise OSError(28, "No space left on device")
        return real_writestr(self, *args, **kwargs)

    monkeypatch.setattr(Workbook, "save", save)
    monkeypatch.setattr(zipfile.ZipFile, "writestr", failing)
    with pytest.raises(OSError, match="No space left"):
        macros.run_on_file("train-lrs", book, out)
    assert saving[0].parent == tmp_path and saving[0] != out  # it was writing a temporary file
    assert len(calls) == 5
    assert digest(book) == before
    assert sorted(f.name for f in tmp_path.iterdir()) == ["book.xlsm"]


def test_an_unwritable_out_is_reported_by_its_name_before_any_training(tmp_path, capsys, monkeypatch):
    def no_work(*args, **kwargs):
        raise AssertionError("trained before finding that the result cannot be written")

    monkeypatch.setattr(macros, "make_plan", no_work)
    out = tmp_path / "missing" / "out.xlsm"
    with pytest.raises(FileNotFoundError) as err:
        macros.run_on_file("train-lrs", TEMPLATE, out)
    assert err.value.filename == str(out)
    assert cli.main(["run", "train-lrs", str(TEMPLATE), "--out", str(out)]) == 2
    assert f"--out: expected a path in an existing folder, {out.parent} is not one\n" in capsys.readouterr().err
    # a read-only folder, or a read-only book changed in place (tests may run as root: os.access decides)
    book = tmp_path / "book.xlsm"
    shutil.copyfile(TEMPLATE, book)
    for locked in (tmp_path, book):
        monkeypatch.setattr(macros.os, "access", lambda path, mode, locked=locked: Path(path) != locked)
        with pytest.raises(PermissionError) as err:
            macros.run_on_file("train-lrs", book, book)
        assert err.value.filename == str(book)
    assert digest(book) == digest(TEMPLATE)


def test_in_place_rewrites_the_book_and_keeps_its_permissions(tmp_path):
    book = tmp_path / "book.xlsm"
    shutil.copyfile(TEMPLATE, book)
    book.chmod(0o640)
    macros.run_on_file("train-lrs", book, book)
    assert [o.name for o in objects(parts(book), L.SHEET_LRS)].count(L.MACRO_CHART.name) == 1
    assert (book.stat().st_mode & 0o777) == 0o640
    assert sorted(f.name for f in tmp_path.iterdir()) == ["book.xlsm"]


# --- LibreOffice opens the result -----------------------------------------------------------------
@pytest.fixture(scope="module")
def pdf(runs):
    out = libreoffice.convert(runs.again, "pdf", runs.dir / "pdf")
    libreoffice.require("pdftotext", "poppler-utils")
    text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True, check=True).stdout
    images = subprocess.run(
        ["pdfimages", "-list", str(out)], capture_output=True, text=True, check=True
    ).stdout.splitlines()[2:]
    return SimpleNamespace(path=out, text=text, images=images)


def test_libreoffice_renders_the_chart_and_the_pictures(pdf):
    flat = " ".join(pdf.text.split()).replace("/ ", "/")  # LibreOffice may wrap the title after a slash
    assert "Train learning rates: E_total per step for 6 learning rates (sigmoid/sigmoid, course)" in flat
    # the template itself has no pictures: these are the curves and the network
    assert len([line for line in pdf.images if " image " in line]) >= 2


def test_libreoffice_reads_the_loss_matrix(runs):
    wb = libreoffice.recalculated_values(runs.again, runs.dir / "lo")
    ws = wb[L.SHEET_LRS]
    got = np.array([[ws.cell(9 + r, 23 + k).value for k in range(len(LRS))] for r in range(T)], dtype=float)
    assert np.allclose(got, network.train_curves(LRS, T), rtol=1e-14, atol=0)
    assert ws["W8"].value == "lr 0.1"
    # TRUE under the template's yes/no format: LibreOffice keeps it as the number 1 shown "yes" (a
    # boolean type is only kept under its TRUE/FALSE format); test_macros_styles checks what it shows
    assert ws["AK9"].value == 1 and ws["AK9"].number_format == L.YES_NO


def test_libreoffice_reads_rows_written_below_the_templates_last_row(tmp_path):
    book = set_cells(TEMPLATE, tmp_path / "in.xlsm", L.SHEET_LRS, L.IN_ITERATIONS.cell, [[120]])
    macros.run_on_file("train-lrs", book, tmp_path / "out.xlsm")
    ws = libreoffice.recalculated_values(tmp_path / "out.xlsm", tmp_path / "lo")[L.SHEET_LRS]
    got = np.array([[ws.cell(9 + r, 22 + k).value for k in range(1 + len(LRS))] for r in range(120)], dtype=float)
    assert np.array_equal(got[:, 0], np.arange(120))
    assert np.allclose(got[:, 1:], network.train_curves(LRS, 120), rtol=1e-14, atol=0)
    assert ws.cell(129, 22).value is None


# --- Map learning rates ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def mapped(runs):
    """The map drawn on the trained book, drawn again, then reset."""
    s = SimpleNamespace(
        mapped=runs.dir / "mapped.xlsm", again=runs.dir / "mapped2.xlsm", reset=runs.dir / "mreset.xlsm"
    )
    macros.run_on_file("map-lrs", runs.trained, s.mapped)
    macros.run_on_file("map-lrs", s.mapped, s.again)
    macros.run_on_file("reset", s.again, s.reset)
    return s


def test_map_picture_lands_at_its_anchor_and_only_the_lr_sheet_changes(runs, mapped):
    before, after = parts(runs.trained), parts(mapped.mapped)
    (pic,) = [o for o in objects(after, L.SHEET_LRS) if o.name == L.MAP_PICTURE.name]
    assert pic.kind == "picture" and pic.at == tuple(reversed(L.rowcol(L.MAP_PICTURE.cell)))
    w, h = png_size(after[pic.part])
    assert w * L.MAP_PICTURE.height == h * L.MAP_PICTURE.width  # drawn at the anchor's proportions
    drawing = drawing_part(before, L.SHEET_LRS)
    drawing_rels = drawing.replace("drawings/", "drawings/_rels/") + ".rels"
    changed = {n for n in before if before[n] != after[n]}
    assert changed <= {sheet_part(before, L.SHEET_LRS), drawing, drawing_rels, "[Content_Types].xml"}
    assert {n.rsplit(".", 1)[1] for n in set(after) - set(before)} == {"png"}
    # the lesson's chart, the macro's chart and picture stay where they were
    names = [o.name for o in objects(after, L.SHEET_LRS)]
    assert L.MACRO_CHART.name in names and L.MACRO_PICTURE.name in names


def test_a_second_map_replaces_the_first_and_reset_removes_it(mapped):
    p, q = parts(mapped.mapped), parts(mapped.again)
    assert [o.name for o in objects(q, L.SHEET_LRS)].count(L.MAP_PICTURE.name) == 1
    assert sum(n.startswith("xl/media/") for n in q) == sum(n.startswith("xl/media/") for n in p)
    assert L.MAP_PICTURE.name not in [o.name for o in objects(parts(mapped.reset), L.SHEET_LRS)]


def test_map_trains_the_books_ranges_and_equals_the_plain_reference(tmp_path, monkeypatch):
    """The book's ranges (3 x 2 rates, 60 steps) reach the engine; what it draws is, pair by
    pair, what a plain-Python network trained with those two rates gives."""
    from xl_backprop import lrmap, map_figure

    from .test_lrmap import reference_pair

    book = set_cells(TEMPLATE, tmp_path / "a.xlsm", L.SHEET_LRS, L.IN_MAP_H_FROM.cell, [[0.5, 5000, 3], [2, 20, 2]])
    book = set_cells(book, tmp_path / "b.xlsm", L.SHEET_LRS, L.IN_MAP_STEPS.cell, [[60]])
    drawn = []
    real = map_figure.map_figure
    monkeypatch.setattr(map_figure, "map_figure", lambda m, *a, **k: drawn.append(m) or real(m, *a, **k))
    macros.run_on_file("map-lrs", book, tmp_path / "out.xlsm")
    (m,) = drawn
    np.testing.assert_allclose(m.lr_hidden, [0.5, 50, 5000], rtol=1e-12)
    np.testing.assert_allclose(m.lr_output, [2, 20], rtol=1e-12)
    assert m.steps == 60 and m.threshold == lrmap.MAP_THRESHOLD
    for i, a in enumerate(m.lr_hidden):
        for j, b in enumerate(m.lr_output):
            E, run, name = reference_pair(a, b, 60, lrmap.MAP_THRESHOLD)
            assert (lrmap.CLASSES[m.cls[i, j]], m.steps_run[i, j]) == (name, run), (a, b)
            assert abs(m.E_final[i, j] - E) <= 1e-12 * E, (a, b)


def test_the_default_map_shows_every_class(monkeypatch, tmp_path):
    """The template's ranges are chosen to show all four classes (layout says so)."""
    from xl_backprop import lrmap, map_figure

    drawn = []
    real = map_figure.map_figure
    monkeypatch.setattr(map_figure, "map_figure", lambda m, *a, **k: drawn.append(m) or real(m, *a, **k))
    macros.run_on_file("map-lrs", TEMPLATE, tmp_path / "out.xlsm")
    (m,) = drawn
    assert m.E_final.shape == (L.IN_MAP_H_COUNT.default, L.IN_MAP_O_COUNT.default)
    assert set(np.unique(m.cls)) == set(range(len(lrmap.CLASSES)))
