"""limits.py: each rule stated once, and every face using it."""

from __future__ import annotations

import decimal
import fractions
import math

import numpy as np
import pytest

from xl_backprop import analysis, cli, limits, macros, network, udfs
from xl_backprop.workbook import layout as L


@pytest.mark.parametrize(
    ("n", "minimum", "ok"),
    [
        (1, 1, True),
        (51.0, 1, True),
        (np.int64(3), 1, True),
        (np.float64(1e6), 1, True),
        (0, 0, True),
        (0, 1, False),
        (-1, 0, False),
        (2.5, 1, False),
        (True, 1, False),
        (False, 0, False),
        (math.nan, 1, False),
        (math.inf, 1, False),
        ("5", 1, False),
        (None, 1, False),
        (decimal.Decimal(5), 1, False),
        (1e308, 1, True),
        (10**400, 1, False),  # beyond a double: not a count any face could run (was OverflowError)
        (fractions.Fraction(10**400), 1, False),
    ],
)
def test_is_count(n, minimum, ok):
    assert limits.is_count(n, minimum) is ok


def test_the_network_uses_the_same_count_rule():
    assert network._is_count is limits.is_count
    with pytest.raises(ValueError):
        network.train([0.5], 2.5)


@pytest.mark.parametrize(
    ("x", "ok"),
    [
        (0.5, True),
        (1e-300, True),
        (np.float64(2), True),
        (3, True),
        (0, False),
        (0.0, False),
        (-0.1, False),
        (math.inf, False),
        (math.nan, False),
        (True, False),
        ("0.5", False),
        (None, False),
        (10**400, False),
        (-(10**400), False),
    ],
)
def test_is_learning_rate(x, ok):
    assert limits.is_learning_rate(x) is ok


@pytest.mark.parametrize(
    ("x", "ok"),
    [
        (0.01, True),
        (1e-300, True),
        (np.float64(0.5), True),
        (1, True),
        (0, False),
        (-1, False),
        (-1e-300, False),
        (math.inf, False),
        (math.nan, False),
        (True, False),
        ("0.01", False),
        (None, False),
        (10**400, False),
    ],
)
def test_is_threshold(x, ok):
    assert limits.is_threshold(x) is ok


THRESHOLDS = [-1, 0, -1e-300, 0.5, 1e-300, 2]


def test_the_threshold_is_refused_alike_by_every_face(tmp_path):
    """One rule (limits.is_threshold) for the UDF, the CLI, the ribbon's file back-end (and so Lite,
    which runs the same UDFs and macros) and the core: each refuses exactly what the others refuse."""
    from .conftest import TEMPLATE, set_cells
    from .xlwings_windows import cell, row, windows_xlwings

    assert udfs.is_threshold is cli.is_threshold is macros.is_threshold is analysis.is_threshold is limits.is_threshold
    refused = {face: [] for face in ("udf", "cli", "macros", "core")}
    with windows_xlwings() as xl:
        for x in THRESHOLDS:
            got = xl.call(
                "LR_SUMMARY", row(*network.DEFAULT_WEIGHTS), row(0.05, 0.1), row(0.01, 0.99), row(0.5), cell(3), cell(x)
            )
            refused["udf"].append(isinstance(got, str))
            if isinstance(got, str):
                assert got == f"threshold: expected a positive number, got {x:.15g}"
    for x in THRESHOLDS:
        try:
            cli.build_parser().parse_args(["train", "--threshold", repr(x)])
            refused["cli"].append(False)
        except cli.UsageError as e:
            refused["cli"].append(True)
            assert str(e).startswith(f"--threshold: expected a positive number, got {repr(x)!r} (see")
        try:
            analysis.lr_summary([0.5], [[0.2]], x)
            refused["core"].append(False)
        except ValueError:
            refused["core"].append(True)
    for k, x in enumerate(THRESHOLDS):
        book = set_cells(TEMPLATE, tmp_path / f"t{k}.xlsm", L.SHEET_LRS, L.IN_THRESHOLD.cell, [[x]])
        try:
            macros.read_train(macros.file_getter(_workbook(book)))
            refused["macros"].append(False)
        except ValueError as e:
            refused["macros"].append(True)
            assert str(e) == f"'Learning rates'!B6 (loss threshold): expected a positive number, got {x:.15g}"
    expected = [not limits.is_threshold(x) for x in THRESHOLDS]
    assert expected == [True, True, True, False, False, False]
    assert refused == {face: expected for face in refused}


def _workbook(path):
    from xl_backprop.ooxml import Workbook

    return Workbook.read(path)


def test_learning_rates_ok_is_the_same_rule_for_arrays():
    xs = [0.5, 1e-300, 0.0, -0.1, math.inf, math.nan, 2.0]
    assert limits.learning_rates_ok(xs).tolist() == [limits.is_learning_rate(x) for x in xs]


def test_every_face_takes_its_limits_from_one_place():
    assert (udfs.MAX_ROWS, udfs.MAX_COLUMNS) == (limits.SHEET_ROWS, limits.SHEET_COLUMNS) == (1_048_576, 16_384)
    assert (L.MAX_ROWS, L.MAX_COLS) == (limits.SHEET_ROWS, limits.SHEET_COLUMNS)
    assert udfs.MAX_CELLS == limits.UDF_MAX_VALUES
    assert cli.MAX_VALUES == limits.CSV_MAX_VALUES
    assert L.MACRO_MAX_ITERATIONS == 1_048_567  # rows 9 to 1,048,575 below the header on row 8
    # Draw network draws a step of the Backprop table, the one the cell diagram can show too
    assert macros.MAX_SHOW_STEP == L.BACKPROP_STEPS - 1 == 99


def test_the_macros_loss_table_fits_the_sheet():
    """MACRO_MAX_ITERATIONS is what the reserved block can hold below its header: the sheet's bound."""
    r, _ = L.rowcol(L.MACRO_LOSS.top_left)
    assert L.MACRO_LOSS.max_rows == 1 + L.MACRO_MAX_ITERATIONS
    assert r + L.MACRO_LOSS.max_rows <= limits.SHEET_ROWS


def test_the_summary_table_has_one_set_of_columns_worded_by_each_face():
    fields = [c.field for c in analysis.SUMMARY_COLUMNS]
    assert set(fields) <= set(analysis.LRSummary._fields)
    assert list(macros.SUMMARY_HEADERS) == fields and list(cli._TABLE_HEADERS) == fields
    curves = network.train_curves([0.5, 200.0], 30, targets=(0.5, 0.5))
    rows = analysis.summary_rows(analysis.lr_summary([0.5, 200.0], curves, 0.001))
    assert [len(r) for r in rows] == [len(fields)] * 2
    for column, values in zip(analysis.SUMMARY_COLUMNS, zip(*rows, strict=True), strict=True):
        for v in values:
            if column.kind == "float":
                assert isinstance(v, float)
            elif column.kind == "bool":
                assert isinstance(v, bool)
            else:
                assert v == column.missing or (isinstance(v, int) and not isinstance(v, bool))
    assert rows[0][2] == "not reached" and rows[1][4] == 1  # lr 200 overshoots at step 1
