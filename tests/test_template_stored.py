"""What a viewer that does not recalculate shows: the values workbook_template.xlsm stores.

Excel's Protected View (the default for a downloaded file) and file previews show the value
stored with each formula (``<v>``), not a recalculation. References, independent of the
builder: LibreOffice's own recalculation for the native formulas, and the engine
(``network``, ``analysis``) for the UDF blocks, which LibreOffice cannot compute. LibreOffice
7.4 recomputes array formulas on load in any mode, so what the UDF blocks store is read from
the file itself.
"""

from __future__ import annotations

import re
import shutil
import zipfile
from xml.etree import ElementTree

import numpy as np
import openpyxl
import pytest

from xl_backprop import analysis, network
from xl_backprop.cellref import a1, parse_cell, parse_ref
from xl_backprop.workbook import layout

from . import libreoffice
from .conftest import TEMPLATE
from .ooxml_read import NS, sheet_parts
from .published import COURSE_E_TOTAL

STEPS = layout.BACKPROP_STEPS
LR = 0.5  # the template's learning rate on Backprop (in_lr)
ITERATIONS = network.DEFAULT_ITERATIONS
C = "{http://schemas.openxmlformats.org/drawingml/2006/chart}"


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _is_error(v) -> bool:
    return isinstance(v, str) and v.startswith("#")


@pytest.fixture(scope="module")
def views(tmp_path_factory):
    """The template three ways: as stored (openpyxl reads the cached values), as LibreOffice
    shows it without recalculating, and as LibreOffice recalculates it."""
    tmp = tmp_path_factory.mktemp("lo-stored")
    book = tmp / "template.xlsm"
    shutil.copyfile(TEMPLATE, book)
    stored = openpyxl.load_workbook(book, data_only=True)
    return stored, libreoffice.stored_values(book, tmp), libreoffice.recalculated_values(book, tmp)


def _close(a: float, b: float) -> bool:
    # LibreOffice writes 15 significant digits when it saves
    return abs(a - b) <= 1e-13 * max(abs(a), abs(b)) + 1e-16


def test_libreoffice_without_recalculation_shows_the_numbers_it_computes(views):
    """Every numeric cell of every sheet: no recalculation (stored values) = recalculation."""
    _, never, always = views
    assert never.sheetnames == always.sheetnames == list(layout.SHEETS)
    compared = 0
    for name in layout.SHEETS:
        for row in always[name].iter_rows():
            for cell in row:
                if _is_number(cell.value):
                    shown = never[name][cell.coordinate].value
                    assert _is_number(shown) and _close(shown, cell.value), (name, cell.coordinate, shown, cell.value)
                    compared += 1
    assert compared > STEPS * (len(layout.BACKPROP_COLUMNS) - 1)  # the Backprop table at least


def test_never_recalculate_mode_really_shows_the_stored_value(tmp_path):
    """The reference above is only one if LibreOffice's never mode shows what the file stores:
    a copy whose stored E_total at step 0 is changed shows the change, recalculation does not."""
    part = sheet_parts(TEMPLATE)["Backprop"]
    e_total = layout.backprop_cell("E_total", 0)
    doctored = tmp_path / "doctored.xlsm"
    with zipfile.ZipFile(TEMPLATE) as zin, zipfile.ZipFile(doctored, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == part:
                data, n = re.subn(
                    rb'(<c r="' + e_total.encode() + rb'"[^>]*><f>[^<]*</f><v>)[^<]*(</v>)', rb"\g<1>99\g<2>", data
                )
                assert n == 1
            zout.writestr(info, data)
    never = libreoffice.stored_values(doctored, tmp_path)["Backprop"][e_total].value
    always = libreoffice.recalculated_values(doctored, tmp_path)["Backprop"][e_total].value
    assert never == 99
    assert always == pytest.approx(COURSE_E_TOTAL, abs=1e-15)


def _formula_cells() -> dict[str, list[tuple[str, str | None]]]:
    """Sheet -> (cell, array range or None) of every formula cell."""
    out = {}
    with zipfile.ZipFile(TEMPLATE) as z:
        for sheet, part in sheet_parts(TEMPLATE).items():
            root = ElementTree.fromstring(z.read(part))
            out[sheet] = []
            for c in root.iter(f"{{{NS['m']}}}c"):
                f = c.find("m:f", NS)
                if f is not None:
                    out[sheet].append((c.get("r"), f.get("ref") if f.get("t") == "array" else None))
                    v = c.find("m:v", NS)
                    assert v is not None, (sheet, c.get("r"))
                    assert v.text or c.get("t") == "str", (sheet, c.get("r"))  # "" only as a text
    return out


def _range(ref: str):
    area = parse_ref(ref, sheet="")
    return [a1(r, c) for r in range(area.row1, area.row2 + 1) for c in range(area.col1, area.col2 + 1)]


def test_native_formulas_store_what_libreoffice_computes(views):
    """Every formula cell, and every cell of a spill, that LibreOffice can compute stores that
    number; the cells it cannot compute (UDF blocks) are checked against the engine below."""
    stored, _, always = views
    not_computed = 0
    for sheet, cells in _formula_cells().items():
        for cell, ref in cells:
            for at in _range(ref) if ref else [cell]:
                want, have = always[sheet][at].value, stored[sheet][at].value
                assert have is not None or want in (None, ""), (sheet, at)
                if _is_number(want) and isinstance(have, bool):  # LibreOffice saves TRUE/FALSE as 1/0
                    assert float(have) == want, (sheet, at, have, want)
                elif _is_number(want):
                    assert _is_number(have) and _close(have, want), (sheet, at, have, want)
                elif _is_error(want):
                    not_computed += 1
                else:
                    assert have == want or (want is None and have == ""), (sheet, at, have, want)
    assert not_computed > 0


def _block(ws, first: str, rows: int, cols: int) -> list[list]:
    r, c = parse_cell(first)
    return [[ws.cell(r + 1 + i, c + 1 + j).value for j in range(cols)] for i in range(rows)]


def test_udf_blocks_store_what_the_engine_computes(views):
    stored = views[0]["UDFs"]
    res = network.train([LR], STEPS, record=True)
    w = res.weights[:, 0, :]
    fwd = np.column_stack(network.forward(w))
    grads = network.gradients(w)
    first = 6  # sheet row of step 0
    weights = np.array(_block(stored, f"B{first}", STEPS, 8), dtype=float)
    np.testing.assert_allclose(weights, w, rtol=0, atol=1e-15)
    np.testing.assert_allclose(np.array(_block(stored, f"J{first}", STEPS, 11), dtype=float), fwd, rtol=0, atol=1e-15)
    np.testing.assert_allclose(np.array(_block(stored, f"U{first}", STEPS, 8), dtype=float), grads, rtol=0, atol=1e-15)
    checks = np.array(_block(stored, f"AC{first}", STEPS, 2), dtype=float)  # against Backprop: nil
    np.testing.assert_allclose(checks, 0, atol=1e-15)
    gc = analysis.grad_check(network.DEFAULT_WEIGHTS)
    block = _block(stored, "AF5", 9, 4)
    assert block[0] == ["weight", "dE/dw (backprop)", "dE/dw (numeric)", "relative error"]
    assert [row[0] for row in block[1:]] == list(network.WEIGHT_NAMES)
    np.testing.assert_allclose(
        np.array([row[1:] for row in block[1:]], dtype=float),
        np.column_stack([gc.analytic, gc.numeric, gc.rel_error]),
        rtol=1e-12,
        atol=1e-15,
    )


def test_learning_rate_udfs_store_what_the_engine_computes(views):
    """TRAIN_CURVE and LR_SUMMARY on the UDFs sheet (the native blocks: test_lr_blocks.py)."""
    ws = views[0][layout.SHEET_UDFS]
    lrs = network.DEFAULT_LRS
    curves = network.train_curves(lrs, ITERATIONS)
    top = layout.UDF_LR_CURVE_TOP_LEFT
    np.testing.assert_allclose(np.array(_block(ws, top, ITERATIONS, len(lrs)), dtype=float), curves, rtol=0, atol=1e-15)
    steps = _block(ws, a1(parse_cell(top)[0], parse_cell(top)[1] - 1), ITERATIONS, 1)
    assert [row[0] for row in steps] == list(range(ITERATIONS))
    checks = _block(ws, a1(layout.UDF_LR_CHECK_ROW, parse_cell(top)[1]), 1, layout.LR_SLOTS)[0]
    assert all(0 <= c <= 1e-15 for c in checks), checks  # TRAIN_CURVE equals the native curves
    summary = _block(ws, layout.UDF_LR_SUMMARY.top_left, 1 + len(lrs), 5)
    assert summary[0] == ["lr", "final E_total", "steps to E_total < 0.01", "only falls", "first rise"]
    expected = analysis.lr_summary(lrs, curves, analysis.DEFAULT_THRESHOLD)
    assert len(summary) - 1 == len(expected)
    for row, s in zip(summary[1:], expected, strict=True):
        assert row[0] == s.lr and row[1] == pytest.approx(s.final_loss, abs=1e-15)
        assert row[2] == ("not reached" if s.steps_to_threshold is None else s.steps_to_threshold)
        assert row[3] is s.only_falls
        assert row[4] == ("never" if s.first_rise is None else s.first_rise)


def _chart_caches() -> dict[str, list[tuple[str, list[float]]]]:
    """Chart part -> (values reference, cached points) of each series."""
    out = {}
    with zipfile.ZipFile(TEMPLATE) as z:
        for name in z.namelist():
            if re.fullmatch(r"xl/charts/chart\d+\.xml", name):
                root = ElementTree.fromstring(z.read(name))
                series = []
                for ser in root.iter(f"{C}ser"):
                    ref = ser.find(f"{C}val/{C}numRef")  # a line chart's values; a scatter's y values:
                    ref = ser.find(f"{C}yVal/{C}numRef") if ref is None else ref
                    pts = {
                        int(p.get("idx")): float(p.find(f"{C}v").text) for p in ref.find(f"{C}numCache").iter(f"{C}pt")
                    }
                    series.append((ref.find(f"{C}f").text, [pts[k] for k in sorted(pts)]))
                out[name] = series
    return out


def test_charts_cache_the_curves_a_viewer_draws():
    """A viewer draws a chart from its cached points: the engine's curves, not zeros."""
    caches = [s for series in _chart_caches().values() for s in series]
    by_ref = dict(caches)
    col = layout.backprop_cell("E_total", 0)[:-2]
    first = layout.BACKPROP_FIRST_ROW + 1
    e_total = by_ref[f"Backprop!${col}${first}:${col}${first + STEPS - 1}"]
    np.testing.assert_allclose(e_total, network.train([LR], STEPS).loss[:, 0], rtol=0, atol=1e-15)
    curves = network.train_curves(network.DEFAULT_LRS, ITERATIONS)
    x_ref = f"'LR blocks'!$A$9:$A${8 + layout.LR_BLOCK_STEPS}"
    for k in range(layout.LR_SLOTS):
        col = "BCDEFGHIJK"[k]
        cached = by_ref[f"'LR blocks'!${col}$9:${col}${8 + layout.LR_BLOCK_STEPS}"]
        if k < len(network.DEFAULT_LRS):  # a point per step of the count; none after it
            np.testing.assert_allclose(cached, curves[:, k], rtol=0, atol=1e-15)
        else:  # the empty slots draw nothing
            assert cached == []
    assert _x_cache(x_ref) == list(range(ITERATIONS))


def _x_cache(ref: str) -> list[float]:
    """The cached x values of the scatter series over ``ref``: numbers, not texts."""
    with zipfile.ZipFile(TEMPLATE) as z:
        for name in z.namelist():
            if re.fullmatch(r"xl/charts/chart\d+\.xml", name):
                root = ElementTree.fromstring(z.read(name))
                for x in root.iter(f"{C}xVal"):
                    num = x.find(f"{C}numRef")
                    if num is not None and num.find(f"{C}f").text == ref:
                        return [float(p.find(f"{C}v").text) for p in num.find(f"{C}numCache").iter(f"{C}pt")]
    raise AssertionError(f"no scatter series over {ref}")
