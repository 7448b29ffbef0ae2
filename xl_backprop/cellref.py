"""Cell references and cell values: the one coordinate system of xl-backprop.

A cell is 0-based (row, col), as XlsxWriter counts (its utilities convert); a rectangle is an
``Area``. ``workbook.layout`` declares places as A1 strings (what a reader of the sheet sees)
and turns them into Areas here; the macros, the OOXML editor (``ooxml``) and the tests use
the Areas. Kept apart from ``ooxml`` (which edits XML with lxml) so that what needs only
references -- the layout, the macros' plans, and the xlwings Lite bundle, where lxml is not
wanted -- imports no XML library.
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

    @classmethod
    def of(cls, sheet: str, first: str, last: str | None = None) -> Area:
        """``Area.of("Learning rates", "B5", "K5")``: the cells from ``first`` to ``last``
        (A1, ``$`` allowed), or the one cell ``first``."""
        r1, c1 = parse_cell(first)
        r2, c2 = parse_cell(last) if last else (r1, c1)
        return cls(sheet, min(r1, r2), min(c1, c2), max(r1, r2), max(c1, c2))

    @property
    def shape(self) -> tuple[int, int]:
        return self.row2 - self.row1 + 1, self.col2 - self.col1 + 1

    def contains(self, row: int, col: int) -> bool:
        return self.row1 <= row <= self.row2 and self.col1 <= col <= self.col2

    def ref(self, absolute: bool = True) -> str:
        """``'Learning rates'!$B$5:$K$5`` (``absolute``) or ``'Learning rates'!B5:K5``."""
        return ref(self.sheet, self.row1, self.col1, self.row2, self.col2, absolute)

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


def ref(
    sheet: str, row1: int, col1: int, row2: int | None = None, col2: int | None = None, absolute: bool = True
) -> str:
    """("Backprop", 0, 1) -> "Backprop!$B$1"; with a second corner, a range."""
    corner2 = (
        "" if row2 is None or (row2, col2) == (row1, col1) else ":" + xl_rowcol_to_cell(row2, col2, absolute, absolute)
    )
    return f"{quote_sheet(sheet)}!{xl_rowcol_to_cell(row1, col1, absolute, absolute)}{corner2}"


_CELL = re.compile(r"\$?([A-Za-z]{1,3})\$?(\d+)")


def parse_cell(text: str) -> tuple[int, int]:
    """ "B5" or "$B$5" -> (4, 1)."""
    if not _CELL.fullmatch(text.strip()):
        raise ValueError(f"expected a cell like B5, got {text!r}")
    return xl_cell_to_rowcol(text.strip().upper())


def parse_ref(text: str, sheet: str | None = None) -> Area:
    """ "'My sheet'!$B$2:$C$9" (or a single cell) -> Area. Raises ValueError otherwise. With
    ``sheet``, a reference without a sheet ("B2:C9", as a part's ``ref`` attribute) is on it."""
    text = text.strip().lstrip("=")
    if sheet is not None and "!" not in text:
        first, _, last = text.partition(":")
        return Area.of(sheet, first, last or None)
    m = re.fullmatch(r"(?:'((?:[^']|'')+)'|([^'!:]+))!([$A-Za-z0-9]+)(?::([$A-Za-z0-9]+))?", text)
    if not m:
        raise ValueError(f"expected a reference like Sheet!$B$2:$C$9, got {text!r}")
    name = m.group(1).replace("''", "'") if m.group(1) is not None else m.group(2)
    return Area.of(name, m.group(3), m.group(4))
