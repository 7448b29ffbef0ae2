"""The learning-rate lesson without Python: one native training block per slot of the list (LR
blocks), the summary, the curves and the chart on Learning rates.

References, independent of the builder: the engine (``network.train_curves``, ``network.train``
with its recorded weights, ``analysis.lr_summary``) for the numbers; LibreOffice (headless)
computes the formulas with the UDF cells removed, and shows the stored values with
recalculation off; an allow-list of functions that Excel 2010 and LibreOffice 7.4 both have.
"""

from __future__ import annotations

import re
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest

from xl_backprop import analysis, cli, figures, macros, network, palette
from xl_backprop.workbook import layout as L

from . import libreoffice
from .conftest import TEMPLATE, set_cells
from .ooxml_read import NS, formulas, sheet_parts
from .xlwings_standin import Book

#: Every function a lesson cell may call: each is in Excel 2010 and in LibreOffice 7.4 (no
#: ``_xlfn.`` prefix: Excel writes that before every function newer than 2007).
NATIVE_FUNCTIONS = {"IF", "ISNUMBER", "NA", "EXP", "INDEX", "MIN", "MAX", "COUNT", "COUNTA", "AND", "NOT", "INT"}
#: The Practice sheet's seed, levels and checks, and the walkthrough's texts (explain.excel_formula).
NATIVE_FUNCTIONS |= {"MOD", "CHOOSE", "OR", "ABS", "COUNTIF", "ROUND", "FIXED", "LOG10"}
#: Each layer's activation, and the means over the examples (issue 18).
NATIVE_FUNCTIONS |= {"TANH", "SUM", "SUMPRODUCT", "ISNA"}
#: Functions the issue names as missing from Excel 2016 or LibreOffice 7.4, and the UDFs.
NEWER = {"SEQUENCE", "LAMBDA", "LET", "FILTER", "XLOOKUP", "XMATCH", "SORT", "UNIQUE", "RANDARRAY", "TEXTJOIN"}
UDF_NAMES = {"SIGMOID", "FORWARD", "GRADIENTS", "BACKPROP_STEP", "TRAIN_CURVE", "GRAD_CHECK", "LR_SUMMARY"}
LESSON_SHEETS = [s for s in L.SHEETS if s != L.SHEET_UDFS]
ERRORS = ("#DIV/0!", "#N/A", "#NAME?", "#NULL!", "#NUM!", "#REF!", "#VALUE!", "Err:")


def called(text: str) -> set[str]:
    """The names of the functions a formula calls (``_xlfn.`` kept, upper case)."""
    return {n.upper() for n in re.findall(r"([A-Za-z_][\w.]*)\(", re.sub(r'"[^"]*"', '""', text))}


def _scan(book: Path) -> dict[str, set[str]]:
    """Sheet -> every function its formulas call, for every sheet but UDFs."""
    out = {}
    for sheet in LESSON_SHEETS:
        names: set[str] = set()
        for text in formulas(book, sheet).values():
            names |= called(text)
        out[sheet] = names
    return out


def test_no_lesson_cell_calls_a_function_excel_2016_or_libreoffice_7_4_lacks(tmp_path):
    """Every formula outside the UDFs sheet (and outside the macro's output, which is values)
    calls only functions on the allow-list, in the template and after the ribbon's macro ran."""
    trained = macros.run_on_file("train-lrs", TEMPLATE, tmp_path / "trained.xlsm")
    for book in (TEMPLATE, trained):
        scan = _scan(book)
        assert scan[L.SHEET_LRS] and scan[L.SHEET_LR_BLOCKS] and scan[L.SHEET_BACKPROP]
        for sheet, names in scan.items():
            assert names <= NATIVE_FUNCTIONS, (sheet, names - NATIVE_FUNCTIONS)
            assert not {n for n in names if n.startswith("_XL")}, sheet
    # the scan finds what it forbids: the UDFs sheet calls SEQUENCE and the UDFs
    udf_sheet = set().union(*(called(t) for t in formulas(TEMPLATE, L.SHEET_UDFS).values()))
    assert {"_XLFN.SEQUENCE", "TRAIN_CURVE", "LR_SUMMARY"} <= udf_sheet
    assert not (NATIVE_FUNCTIONS & (NEWER | UDF_NAMES))


def test_every_slot_has_a_block_of_backprop_rules():
    """Each block's cell is the Backprop table's rule for the same column, at the block's own
    cells: the same formula source, not a second copy."""
    from xl_backprop.workbook import sheets

    f = formulas(TEMPLATE, L.SHEET_LR_BLOCKS)
    for k in (0, L.LR_SLOTS - 1):
        for name in ("w1", "E_total", "dE/dw1", "dE/dw8", "a_h2#1", "d_o1#4", "d_h2#8", "E#2"):
            for step in (0, 1, L.LR_BLOCK_STEPS - 1):
                rule = sheets.table_formula(name, step, sheets.block_at(k))
                assert f[L.lr_block_cell(k, name, step)].endswith(rule[1:] + ")"), (k, name, step)
    # w1 at step 1: the row above, minus the block's rate times the row above's dE/dw1
    assert "-$" in f[L.lr_block_cell(3, "w1", 1)] and sheets.rate_cell(3) in f[L.lr_block_cell(3, "w1", 1)]
    # LibreOffice 7.4 has 1,024 columns a sheet (Excel 16,384): every block fits
    assert L.lr_block_col(L.LR_SLOTS - 1, "rise") < 1024


def _no_udfs(dst: Path) -> Path:
    """A copy of the template with every cell of the UDFs sheet emptied (formula and value
    removed, style kept); every other part byte for byte."""
    from lxml import etree

    part = sheet_parts(TEMPLATE)[L.SHEET_UDFS]
    with zipfile.ZipFile(TEMPLATE) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == part:
                root = etree.fromstring(data, etree.XMLParser(resolve_entities=False))
                for c in root.iter(f"{{{NS['m']}}}c"):
                    for child in list(c):
                        c.remove(child)
                    for attr in ("t", "cm"):
                        c.attrib.pop(attr, None)
                data = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
            zout.writestr(info, data)
    assert not formulas(dst, L.SHEET_UDFS)
    return dst


def _engine(lrs, iterations):
    """The engine's numbers for ``lrs``: E_total (steps, K), weights (steps, K, 8), gradients."""
    steps = min(iterations, L.LR_BLOCK_STEPS)
    curves = network.train_curves(lrs, steps)
    res = network.train(lrs, steps, record=True)
    grads = network.gradients(res.weights)
    return steps, curves, res.weights, grads


def _close(actual, expected, what):
    np.testing.assert_allclose(np.array(actual, dtype=float), expected, rtol=1e-12, atol=1e-300, err_msg=what)


def check_lesson(wb, lrs, iterations, threshold=analysis.DEFAULT_THRESHOLD):
    """The Learning rates sheet and LR blocks of ``wb`` (openpyxl, values) against the engine for
    the list ``lrs`` (every slot filled from the left, the rest blank)."""
    steps, curves, weights, grads = _engine(lrs, iterations)
    K = len(lrs)
    blocks, lesson = wb[L.SHEET_LR_BLOCKS], wb[L.SHEET_LRS]

    def cell(ws, a1):
        return ws[a1].value

    # the blocks: every row of the trained slots, blank rows after them, blank blocks after those
    for k in range(L.LR_SLOTS):
        col = {
            name: [cell(blocks, L.lr_block_cell(k, name, s)) for s in range(L.LR_BLOCK_STEPS)]
            for name in ("step", "w1", "w8", "E_total", "dE/dw1", "dE/dw5")
        }
        if k < K:
            assert col["step"][:steps] == list(range(steps)), k
            _close(col["E_total"][:steps], curves[:, k], f"block {k} E_total")
            _close(col["w1"][:steps], weights[:, k, 0], f"block {k} w1")
            _close(col["w8"][:steps], weights[:, k, 7], f"block {k} w8")
            _close(col["dE/dw1"][:steps], grads[:, k, 0], f"block {k} dE/dw1")
            _close(col["dE/dw5"][:steps], grads[:, k, 4], f"block {k} dE/dw5")
            rest = range(steps, L.LR_BLOCK_STEPS)
        else:
            rest = range(L.LR_BLOCK_STEPS)
        for name, values in col.items():
            assert all(values[s] in (None, "") for s in rest), (k, name)
    # the curves on Learning rates, their step column and their labels (the palette's)
    r0, c0 = L.rowcol(L.LIVE_CURVE_TOP_LEFT)
    table = [[lesson.cell(r0 + 1 + s, c0 + 1 + k).value for k in range(L.LR_SLOTS)] for s in range(L.LR_BLOCK_STEPS)]
    _close([row[:K] for row in table[:steps]], curves, "curves")
    assert all(v in (None, "") for row in table[steps:] for v in row)
    assert all(v in (None, "") for row in table for v in row[K:])
    assert [lesson.cell(r0 + 1 + s, 1).value for s in range(steps)] == list(range(steps))
    assert all(lesson.cell(r0 + 1 + s, 1).value in (None, "") for s in range(steps, L.LR_BLOCK_STEPS))
    labels = [lesson.cell(L.LIVE_CURVE_HEADER_ROW + 1, 2 + k).value for k in range(L.LR_SLOTS)]
    assert labels[:K] == [palette.lr_label(lr) for lr in lrs]
    assert all(v in (None, "", " ") for v in labels[K:])
    # the chart's data: the same numbers, #N/A where there is no point
    d_r, d_c = L.LR_BLOCK_FIRST_ROW, L.LR_CHART_DATA_COL
    data = [
        [blocks.cell(d_r + 1 + s, d_c + 1 + j).value for j in range(1 + L.LR_SLOTS)] for s in range(L.LR_BLOCK_STEPS)
    ]
    assert [row[0] for row in data[:steps]] == list(range(steps))
    _close([row[1 : 1 + K] for row in data[:steps]], curves, "chart data")
    assert all(v == "#N/A" for row in data[steps:] for v in row)
    assert all(v == "#N/A" for row in data for v in row[1 + K :])
    names = [blocks.cell(L.LR_BLOCK_HEADER_ROW + 1, d_c + 2 + k).value for k in range(L.LR_SLOTS)]
    assert names == labels
    # the summary: the engine's lr_summary, column by column as analysis.SUMMARY_COLUMNS
    s_r, s_c = L.rowcol(L.LIVE_SUMMARY_TOP_LEFT)
    n = len(analysis.SUMMARY_COLUMNS)
    head = [lesson.cell(s_r + 1, s_c + 1 + j).value for j in range(n)]
    assert head == ["lr", "final E_total", f"steps to E_total < {threshold:g}", "only falls", "first rise"]
    expected = analysis.summary_rows(analysis.lr_summary(lrs, curves, threshold))
    for k in range(L.LR_SLOTS):
        row = [lesson.cell(s_r + 2 + k, s_c + 1 + j).value for j in range(n)]
        if k >= K:
            assert all(v in (None, "") for v in row), (k, row)
            continue
        want = expected[k]
        assert row[0] == pytest.approx(want[0], rel=1e-15)
        assert row[1] == pytest.approx(want[1], rel=1e-12)
        assert row[2] == want[2] and row[4] == want[4], (row, want)
        assert bool(row[3]) is want[3]
    # no error in a lesson cell (the chart's data aside, where #N/A means "no point")
    for ws in (lesson, blocks):
        for line in ws.iter_rows():
            for c in line:
                if ws is blocks and c.row > d_r and c.column <= d_c + 1 + L.LR_SLOTS:
                    continue
                assert not (isinstance(c.value, str) and c.value.startswith(ERRORS)), (ws.title, c.coordinate)


def test_libreoffice_trains_every_slot_in_plain_formulas_without_the_udfs(tmp_path):
    """LibreOffice (no Python: the UDF module is absent, and the UDF cells are removed too)
    computes the default list: blocks, curves, chart data and summary equal the engine."""
    book = _no_udfs(tmp_path / "no-udfs.xlsm")
    wb = libreoffice.recalculated_values(book, tmp_path)
    check_lesson(wb, list(network.DEFAULT_LRS), network.DEFAULT_ITERATIONS)


def test_libreoffice_fills_all_ten_slots_at_the_most_steps(tmp_path):
    """Ten rates, the largest at 50, and more iterations than the blocks hold: LibreOffice
    trains every slot for LR_BLOCK_STEPS steps, a threshold of 0.02 reached by some."""
    lrs = [0.5, 3.0, 50.0, 7.0, 0.05, 1.0, 2.0, 10.0, 20.0, 0.25]
    book = _no_udfs(tmp_path / "no-udfs.xlsm")
    set_cells(book, book, L.SHEET_LRS, L.IN_LRS.cell, [lrs])
    set_cells(book, book, L.SHEET_LRS, L.IN_ITERATIONS.cell, [[500]])
    set_cells(book, book, L.SHEET_LRS, L.IN_THRESHOLD.cell, [[0.02]])
    wb = libreoffice.recalculated_values(book, tmp_path)
    check_lesson(wb, lrs, 500, threshold=0.02)
    assert wb[L.SHEET_LR_BLOCKS][L.lr_block_cell(2, "step", L.LR_BLOCK_STEPS - 1)].value == L.LR_BLOCK_STEPS - 1


def test_stored_values_are_the_engines(tmp_path):
    """A viewer that does not recalculate (LibreOffice with recalculation off) shows the
    engine's numbers in every new cell."""
    book = tmp_path / "template.xlsm"
    shutil.copyfile(TEMPLATE, book)
    check_lesson(libreoffice.stored_values(book, tmp_path), list(network.DEFAULT_LRS), network.DEFAULT_ITERATIONS)


BAD = ["abc", None, 0, -1, 0.5]  # a text, a blank before a rate, zero, a negative rate, a good rate


def test_bad_entries_leave_their_blocks_blank_with_a_message(tmp_path, capsys):
    """Text, a gap, 0 and a negative rate: their blocks are empty, each title and summary row
    says why, no cell is an error, and the one good rate still trains. The ribbon's macro
    answers the same list in one line."""
    book = tmp_path / "bad.xlsm"
    set_cells(TEMPLATE, book, L.SHEET_LRS, L.IN_LRS.cell, [BAD + [None] * (L.LR_SLOTS - len(BAD))])
    wb = libreoffice.recalculated_values(book, tmp_path)
    blocks, lesson = wb[L.SHEET_LR_BLOCKS], wb[L.SHEET_LRS]
    m = L.LR_MESSAGES
    title_r = L.LR_BLOCK_TITLE_ROW + 1
    messages = [blocks.cell(title_r, L.lr_block_col(k, "step") + L.LR_BLOCK_MESSAGE_OFFSET + 1).value for k in range(6)]
    assert messages == [m["text"], m["gap"], m["sign"], m["sign"], None, None]
    for k in range(4):
        for name in ("step", "w1", "E_total", "dE/dw8", "below"):
            assert all(blocks[L.lr_block_cell(k, name, s)].value in (None, "") for s in range(L.LR_BLOCK_STEPS))
    curve = network.train_curves([0.5], network.DEFAULT_ITERATIONS)[:, 0]
    _close([blocks[L.lr_block_cell(4, "E_total", s)].value for s in range(network.DEFAULT_ITERATIONS)], curve, "lr 0.5")
    s_r, s_c = L.rowcol(L.LIVE_SUMMARY_TOP_LEFT)
    rows = [[lesson.cell(s_r + 2 + k, s_c + 1 + j).value for j in range(5)] for k in range(5)]
    assert [r[:2] for r in rows[:4]] == [["abc", m["text"]], [None, m["gap"]], [0, m["sign"]], [-1, m["sign"]]]
    assert all(v in (None, "") for r in rows[:4] for v in r[2:])
    assert rows[4][0] == 0.5 and rows[4][1] == pytest.approx(curve[-1], rel=1e-12)
    for ws in (lesson, blocks):
        for line in ws.iter_rows(max_col=L.lr_block_col(L.LR_SLOTS - 1, "rise") + 1):
            for c in line:
                if ws is blocks and c.row > L.LR_BLOCK_FIRST_ROW and c.column <= 1 + L.LR_SLOTS:
                    continue  # the chart's data: #N/A is "no point"
                assert not (isinstance(c.value, str) and c.value.startswith(ERRORS)), (ws.title, c.coordinate)
    rc = cli.main(["run", "train-lrs", str(book), "--out", str(tmp_path / "out.xlsm")])
    err = capsys.readouterr().err
    assert rc != 0 and err.count("\n") == 1 and "Traceback" not in err, err
    assert "'Learning rates'!B5 (learning rates): expected a positive number or an empty cell, got 'abc'" in err
    assert not (tmp_path / "out.xlsm").exists()


def test_a_bad_iteration_count_says_so_in_every_filled_block(tmp_path):
    book = tmp_path / "bad-iterations.xlsm"
    set_cells(TEMPLATE, book, L.SHEET_LRS, L.IN_ITERATIONS.cell, [["many"]])
    wb = libreoffice.recalculated_values(book, tmp_path)
    s_r, s_c = L.rowcol(L.LIVE_SUMMARY_TOP_LEFT)
    final = [wb[L.SHEET_LRS].cell(s_r + 2 + k, s_c + 2).value for k in range(L.LR_SLOTS)]
    n = len(network.DEFAULT_LRS)
    assert final == [L.LR_MESSAGES["iterations"]] * n + [None] * (L.LR_SLOTS - n)
    assert wb[L.SHEET_LR_BLOCKS][L.lr_block_cell(0, "E_total", 0)].value in (None, "")


def test_one_palette_and_one_label_per_learning_rate(tmp_path):
    """Slot k has the same colour and the same label in the live chart, the macro's chart (the
    file back-end's, and the one the ribbon adds in live Excel: xlwings' series calls, recorded by
    the stand-in -- no Excel runs here), the macro's picture and the CLI's PNG."""
    assert len(set(palette.LR_COLORS)) == len(palette.LR_COLORS) == L.LR_SLOTS
    assert palette.lr_label(2.0) == "lr 2" and palette.lr_label(0.1) == "lr 0.1"
    with zipfile.ZipFile(TEMPLATE) as z:
        charts = [z.read(n).decode() for n in z.namelist() if n.startswith("xl/charts/chart")]
    (live,) = [x for x in charts if f"'{L.SHEET_LR_BLOCKS}'!" in x]
    assert "<c:legend>" in live and "<c:delete" not in live.split("<c:legend>")[1].split("</c:legend>")[0]
    colours = re.findall(r"<c:ser>.*?<a:srgbClr val=\"([0-9A-F]{6})\"", live, re.S)
    assert ["#" + c for c in colours] == list(palette.LR_COLORS)
    lrs = [0.1, 0.5, 2.0]
    out = macros.run_on_file(
        "train-lrs",
        set_cells(TEMPLATE, tmp_path / "in.xlsm", L.SHEET_LRS, L.IN_LRS.cell, [lrs + [None] * 7]),
        tmp_path / "out.xlsm",
    )
    with zipfile.ZipFile(out) as z:
        macro_chart = [z.read(n).decode() for n in z.namelist() if n.startswith("xl/charts/chart")]
    (made,) = [x for x in macro_chart if "'Learning rates'!$W$8" in x]
    assert ["#" + c for c in re.findall(r"<c:ser>.*?<a:srgbClr val=\"([0-9A-F]{6})\"", made, re.S)] == list(
        palette.LR_COLORS[:3]
    )
    book = Book(tmp_path / "in.xlsm")  # the ribbon in live Excel, through xlwings
    macros.train_learning_rates(book)
    series = list(book.sheets[L.SHEET_LRS].charts[L.MACRO_CHART.name].series)
    assert [s.name for s in series] == [palette.lr_label(x) for x in lrs]
    assert [f"#{s._line_rgb & 255:02X}{s._line_rgb >> 8 & 255:02X}{s._line_rgb >> 16:02X}" for s in series] == list(
        palette.LR_COLORS[:3]
    )
    curves = network.train_curves(lrs, 51)
    picture = figures.curves_figure(lrs, curves, L.MACRO_PICTURE)
    png = figures.loss_figure(lrs, curves, 0.01, "test")
    from matplotlib.colors import to_hex

    for fig in (picture, png):
        for ax in fig.axes:
            lines = [ln for ln in ax.get_lines() if ln.get_label().startswith(palette.LR_PREFIX)]
            assert [ln.get_label() for ln in lines] == [palette.lr_label(x) for x in lrs]
            assert [to_hex(ln.get_color()).upper() for ln in lines] == list(palette.LR_COLORS[:3])
