"""The one coordinate system (xl_backprop.cellref): A1 text <-> 0-based (row, col), sheet-
qualified references, and the ``Area`` that layout, macros, the OOXML editor and tests share.
Expected values are written out by hand from the A1 names (A = column 0, row 1 = row 0)."""

from __future__ import annotations

import pytest

from xl_backprop import cellref
from xl_backprop.cellref import Area, parse_cell, parse_ref, ref
from xl_backprop.workbook import layout as L
from xl_backprop.workbook.layout import MACRO_MAX_ITERATIONS


@pytest.mark.parametrize(
    ("a1", "rc"),
    [("A1", (0, 0)), ("Z9", (8, 25)), ("AA10", (9, 26)), ("XFD1048576", (1_048_575, 16_383)), ("$B$5", (4, 1))],
)
def test_cell_addresses(a1, rc):
    assert parse_cell(a1) == rc
    assert cellref.a1(*rc) == a1.replace("$", "")


def test_references_quote_sheet_names_that_need_it():
    assert ref("Backprop", 9, 1) == "Backprop!$B$10"
    assert ref("Learning rates", 4, 1, 4, 10, absolute=False) == "'Learning rates'!B5:K5"
    assert ref("O'Neil", 0, 0) == "'O''Neil'!$A$1"
    assert ref("AB12", 0, 0) == "'AB12'!$A$1"  # a sheet named like a cell
    assert parse_ref("'O''Neil'!$A$1:$C$2") == Area("O'Neil", 0, 0, 1, 2)
    assert parse_ref("=Backprop!$B$10") == Area("Backprop", 9, 1, 9, 1)
    with pytest.raises(ValueError, match="expected a reference like Sheet!"):
        parse_ref("#REF!")


def test_an_area_from_a1_corners_in_either_order():
    assert Area.of("Learning rates", "B5", "K5") == Area("Learning rates", 4, 1, 4, 10)
    assert Area.of("S", "$K$9", "b2") == Area("S", 1, 1, 8, 10)
    assert Area.of("S", "C3") == Area("S", 2, 2, 2, 2)
    assert Area.of("S", "B2", "C4").shape == (3, 2)
    assert Area.of("Learning rates", "B5", "K5").ref() == "'Learning rates'!$B$5:$K$5"
    assert Area.of("Learning rates", "B5", "K5").ref(absolute=False) == "'Learning rates'!B5:K5"
    assert str(Area.of("Backprop", "B10")) == "Backprop!$B$10"
    area = Area.of("S", "B2", "C4")
    assert area.contains(1, 1) and area.contains(3, 2)
    assert not area.contains(0, 1) and not area.contains(4, 2) and not area.contains(1, 3)
    with pytest.raises(ValueError, match="expected a cell like B5"):
        Area.of("S", "5B")


def test_a_reference_without_a_sheet_takes_the_given_one():
    assert parse_ref("B2:C9", sheet="UDFs") == Area("UDFs", 1, 1, 8, 2)
    assert parse_ref("D4", sheet="") == Area("", 3, 3, 3, 3)
    assert parse_ref("'My sheet'!A1", sheet="other") == Area("My sheet", 0, 0, 0, 0)  # its own sheet wins
    with pytest.raises(ValueError, match="expected a reference like Sheet!"):
        parse_ref("B2:C9")


def test_layout_places_are_areas():
    assert L.MACRO_LOSS.area == Area("Learning rates", 7, 21, 7 + MACRO_MAX_ITERATIONS, 31)  # V8:AF...
    assert L.MACRO_LOSS.bottom_right == f"AF{8 + MACRO_MAX_ITERATIONS}"
    assert L.MACRO_SUMMARY.area == Area("Learning rates", 7, 33, 17, 38)  # AH8:AM18
    assert L.MACRO_SUMMARY.ref == "'Learning rates'!$AH$8:$AM$18"
    assert L.IN_LRS.area == Area("Learning rates", 4, 1, 4, 10) and L.IN_LRS.area.shape == (1, L.LR_SLOTS)
    assert L.IN_W5.area == Area("Backprop", 11, 1, 11, 1) and (L.IN_W5.row, L.IN_W5.col) == (11, 1)
    assert (L.MACRO_CHART.row, L.MACRO_CHART.col) == (7, 40)  # AO8
    assert L.MACRO_CHART.area == Area("Learning rates", 7, 40, 7, 40)
    assert L.MACRO_LOSS.contains("V8") and L.MACRO_LOSS.contains("AF9") and not L.MACRO_LOSS.contains("AG9")
    for inp in L.INPUTS:  # the defined name's text and the area are one place
        assert parse_ref(inp.ref) == inp.area, inp.name
