"""Cell references and cell values as the macros and the file back-end name them.

Kept apart from ``bookfile`` (which edits OOXML with lxml) so that what needs only references
-- the macros' plans, and the xlwings Lite bundle, where lxml is not wanted -- imports no
XML library. Coordinates are 0-based (row, col), as in XlsxWriter, whose utilities convert.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from xlsxwriter.utility import quote_sheetname, xl_cell_to_rowcol, xl_col_to_name, xl_rowcol_to_cell

Value = float | str | bool | None


class Area(NamedTuple):
    """A rectangle of cells on one sheet, 0-based and inclusive."""

    sheet: str
    row1: int
    col1: int
    row2: int
    col2: int

    @property
    def shape(self) -> tuple[int, int]:
        return self.row2 - self.row1 + 1, self.col2 - self.col1 + 1

    def __str__(self) -> str:
        return ref(self.sheet, self.row1, self.col1, self.row2, self.col2)


class CellError(str):
    """An error value read from a cell (``#DIV/0!``, ``#N/A``, ...)."""


# ----------------------------------------------------------------------------- references

def col_letters(col: int) -> str:
    """0 -> "A", 25 -> "Z", 26 -> "AA"."""
    return xl_col_to_name(col)


def a1(row: int, col: int) -> str:
    """(0, 0) -> "A1"."""
    return xl_rowcol_to_cell(row, col)


def quote_sheet(sheet: str) -> str:
    """A sheet name as formulas write it: quoted unless it is a plain word."""
    return quote_sheetname(sheet)


def ref(sheet: str, row1: int, col1: int, row2: int | None = None, col2: int | None = None,
        absolute: bool = True) -> str:
    """("Backprop", 0, 1) -> "Backprop!$B$1"; with a second corner, a range."""
    corner2 = ("" if row2 is None or (row2, col2) == (row1, col1)
               else ":" + xl_rowcol_to_cell(row2, col2, absolute, absolute))
    return f"{quote_sheet(sheet)}!{xl_rowcol_to_cell(row1, col1, absolute, absolute)}{corner2}"


_CELL = re.compile(r"\$?([A-Za-z]{1,3})\$?(\d+)")


def parse_cell(text: str) -> tuple[int, int]:
    """"B5" or "$B$5" -> (4, 1)."""
    if not _CELL.fullmatch(text.strip()):
        raise ValueError(f"expected a cell like B5, got {text!r}")
    return xl_cell_to_rowcol(text.strip().upper())


def parse_ref(text: str) -> Area:
    """"'My sheet'!$B$2:$C$9" (or a single cell) -> Area. Raises ValueError otherwise."""
    text = text.strip().lstrip("=")
    m = re.fullmatch(r"(?:'((?:[^']|'')+)'|([^'!:]+))!([$A-Za-z0-9]+)(?::([$A-Za-z0-9]+))?", text)
    if not m:
        raise ValueError(f"expected a reference like Sheet!$B$2:$C$9, got {text!r}")
    sheet = m.group(1).replace("''", "'") if m.group(1) is not None else m.group(2)
    r1, c1 = parse_cell(m.group(3))
    r2, c2 = parse_cell(m.group(4)) if m.group(4) else (r1, c1)
    return Area(sheet, min(r1, r2), min(c1, c2), max(r1, r2), max(c1, c2))
