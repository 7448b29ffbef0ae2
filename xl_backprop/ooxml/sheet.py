"""A worksheet's cells: read (bounded, sparse), written and cleared in place.

Coordinates are 0-based (row, col) and areas are ``cellref.Area``. Rows at or above the
sheet's last <row> are edited as XML elements; rows below it -- a loss table of a million
rows -- never become elements: they are kept as values (``celltext.Segments``) or as the
caller's numeric array (``celltext.Block``) and streamed into the file as text by ``save``,
with the sheet's own element prefix, where the parser finds the end of <sheetData>. A large
part's long numeric tail (a result this tool wrote) is kept as its text (``celltext.Tail``,
``split_load``) and read only when an edit or a read meets it.
A sheet without <sheetData>, a bad row or cell reference, a shared-string index out of range
or a value that is not a number is a ``BookError`` naming the part or the cell.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from typing import IO, Protocol

import numpy as np
from lxml import etree

from ..cellref import Area, CellError, Value, a1, parse_cell, ref
from ..limits import SHEET_COLUMNS as MAX_COLS
from ..limits import SHEET_ROWS as MAX_ROWS
from . import styles as _styles
from .celltext import Block, Segments, Tail, Writer, block_rows, find_tail, merge, number_text, read_tail, row_text
from .package import NS_MAIN, BookError, Package, _parse, one_line, q

#: Cells one ``read_cells`` call reads (inputs are at most 10 cells; a chart's cached values
#: are at most ``chart.CHART_CACHE_LIMIT``, 20,000): a whole-sheet area is refused, not built.
MAX_READ_CELLS = 100_000
#: A cell's types (``t``, ECMA-376 ST_CellType); "n", a number, when it has none.
CELL_TYPES = ("b", "d", "e", "inlineStr", "n", "s", "str")
#: A number cell's <v>: an xsd:double (XML Schema 1.1, 3.3.5), whitespace collapsed. Not
#: Python's float(), which also takes "5_1", "١٢" (Arabic-Indic), "１２" (full-width), "infinity".
XSD_DOUBLE = re.compile(r"\s*[+-]?(?:(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|INF)\s*|\s*NaN\s*", re.ASCII)


class Book(Protocol):
    """What a sheet needs of its workbook (``workbook.Workbook``, which makes the sheets): named
    here, so that this module does not import the one that imports it."""

    package: Package

    def shared_strings(self) -> list[str]: ...

    def drop_calc_chain(self) -> None: ...


class Sheet:
    """The cells of one worksheet of ``book`` (the sheet ``name``, in the part ``part``)."""

    def __init__(self, book: Book, name: str, part: str):
        self._book, self._pkg = book, book.package
        self.name, self.part = name, part
        self._row_index: tuple[etree._Element, dict[int, etree._Element]] | None = None
        # Rows below the sheet's last <row> are kept as (first col, values) segments and written
        # out as text by ``save``: a loss table of a million rows never becomes XML elements.
        self._tail: dict[int, Segments] = {}
        # Numeric blocks below the last <row> stay arrays until ``save`` formats them in bulk;
        # their rows are never also in ``_tail``.
        self._blocks: list[Block] = []
        # The cell formats (s) of tail cells: row -> {col: s}.
        self._tail_styles: dict[int, dict[int, int]] = {}
        # The long numeric tail of a large part as it was read (``split_load``): the part's text,
        # written back as it is, read into a Block only when an edit or a read needs its values.
        # Its rows are below every element row and never also in ``_tail`` or ``_blocks``.
        self._lazy: Tail | None = None
        # Where the streamed rows go: a processing instruction, last in <sheetData>, with a random
        # name; ``save`` serialises the tree with it and ``_stream`` splits the text there.
        self._mark: etree._Element | None = None
        self._pkg.before_save.append(self._before_save)

    def split_load(self) -> etree._Element | None:
        """The sheet's tree without its long numeric tail, which becomes ``Block``s (a re-run on
        a book holding a million-row result: arrays of 8 bytes a cell, not elements of several
        hundred); None when the part has no such tail (it is then parsed as one tree)."""
        data = self._pkg.parts[self.part]
        tail = find_tail(data)
        if tail is None:
            return None
        start, end, prefix = tail.start, tail.end, tail.ns
        mark = f"xl-backprop-rows-{secrets.token_hex(16)}"
        root = _parse(self.part, data[:start] + f"<?{mark}?>".encode() + data[end:])
        # The bytes only proposed where the tail is: kept if the parser finds the mark last in
        # the worksheet's <sheetData>, with the tail's prefix meaning the main namespace there.
        sheet_data = _marked_sheet_data(root, mark, prefix)
        if sheet_data is None or _last_row(sheet_data) > tail.row:  # not after the rows: left to the tree
            return None
        self._lazy = tail._replace(data=b"")  # its text is read from the file again if needed
        self._pkg.release(self.part)
        return root

    def _read_lazy(self, row1: int, row2: int, col1: int = 0, col2: int = MAX_COLS - 1) -> None:
        """Turn the lazy tail into a Block if it meets rows row1..row2 and columns col1..col2."""
        t = self._lazy
        if t is not None and t.row <= row2 and row1 <= t.last and t.col <= col2 and col1 <= t.col + t.width - 1:
            try:
                self._blocks.append(read_tail(t._replace(data=self._pkg.original(self.part))))
            except ValueError:
                raise BookError(f"{self.part} (sheet {self.name!r}): its last rows are out of order") from None
            self._lazy = None

    def _before_save(self) -> None:
        dirty = self._pkg.dirty(self.part)
        if self._row_index is not None and dirty:
            self._fix_dimension()
        self._unmark()
        if dirty and (self._tail or self._blocks or self._lazy):
            data, _ = self._rows(edit=True)
            # The end of <sheetData> as the parser sees it (whatever its prefix, a comment that
            # holds "</sheetData>", an empty <sheetData/>): the tree is serialised with this mark
            # in it, and the rows go where the mark is. Random, so no text in the book is it.
            self._mark = etree.ProcessingInstruction(f"xl-backprop-rows-{secrets.token_hex(16)}")
            data.append(self._mark)
            self._pkg.streams[self.part] = self._stream
        else:
            self._pkg.streams.pop(self.part, None)

    def _unmark(self) -> None:
        if self._mark is not None and self._mark.getparent() is not None:
            self._mark.getparent().remove(self._mark)
        self._mark = None

    def _rows(self, edit: bool = False) -> tuple[etree._Element, dict[int, etree._Element]]:
        """The sheet's <sheetData> and its rows by 0-based index (indexed once, then kept
        up to date by the edits)."""
        part, sheet = self.part, self.name
        root = self._pkg.edit(part) if edit else self._pkg.xml(part)
        if self._row_index is None:
            data = root.find(q(NS_MAIN, "sheetData"))
            if data is None:
                raise BookError(f"{part} (sheet {sheet!r}): no <sheetData>; expected a worksheet")
            rows: dict[int, etree._Element] = {}
            last = 0
            for row in data.iterfind(q(NS_MAIN, "row")):
                text = row.get("r")
                if text is None:
                    last += 1
                elif text.isdigit() and 1 <= int(text) <= MAX_ROWS:
                    last = int(text)
                else:
                    raise BookError(
                        f"{part} (sheet {sheet!r}): <row r={text!r}>; expected a row number from 1 to {MAX_ROWS:,}"
                    )
                if last - 1 in rows or last > MAX_ROWS:
                    raise BookError(f"{part} (sheet {sheet!r}): row {last} appears twice or out of order")
                row.set("r", str(last))
                rows[last - 1] = row
            self._row_index = (data, rows)
        return self._row_index

    def _cells(self, row: etree._Element) -> dict[int, etree._Element]:
        cells: dict[int, etree._Element] = {}
        col = -1
        r = int(row.get("r"))
        for c in row.iterfind(q(NS_MAIN, "c")):
            text = c.get("r")
            if text:
                try:
                    col = parse_cell(text)[1]
                except ValueError:
                    col = -1
            else:
                col += 1
            if not 0 <= col < MAX_COLS or col in cells:
                raise BookError(
                    f"{self.part}: row {r} has a cell <c r={text!r}>; expected a cell reference like B5, each once"
                )
            c.set("r", a1(r - 1, col))
            cells[col] = c
        return cells

    def _value(self, c: etree._Element) -> Value:
        t = c.get("t", "n")
        where = ref(self.name, *parse_cell(c.get("r")), absolute=False)
        if t not in CELL_TYPES:
            raise BookError(f"{where}: the cell's type t={one_line(t, 40)!r}; expected one of {', '.join(CELL_TYPES)}")
        if t == "inlineStr":
            return "".join(x.text or "" for x in c.iter(q(NS_MAIN, "t")))
        v = c.find(q(NS_MAIN, "v"))
        if v is None and c.find(q(NS_MAIN, "f")) is not None:
            raise BookError(
                f"{where}: a formula with no stored value (the book was saved without calculating it); "
                "open it in Excel or LibreOffice, let it recalculate and save it, then run again"
            )
        if v is None or v.text is None:
            return None
        if t == "s":
            return self._shared_string(where, v.text)
        if t == "b":
            return v.text.strip() in ("1", "true")
        if t == "e":
            return CellError(v.text)
        if t in ("str", "d"):
            return v.text
        if not XSD_DOUBLE.fullmatch(v.text):
            raise BookError(f"{where}: the cell's value {one_line(v.text, 40)!r} is not a number")
        return float(v.text)

    def _shared_string(self, where: str, text: str) -> str:
        """Entry ``text`` of the book's shared strings, or BookError naming the cell ``where``."""
        strings = self._book.shared_strings()
        k = text.strip()
        if not k.isdigit() or int(k) >= len(strings):
            raise BookError(
                f"{where}: refers to shared string "
                f"{one_line(k, 40)!r}; the book has {len(strings)} (xl/sharedStrings.xml)"
            )
        return strings[int(k)]

    def read_cells(self, area: Area, max_cells: int = MAX_READ_CELLS) -> list[list[Value]]:
        """The values in ``area`` (cached results for formulas), row by row; None where empty.
        An area of more than ``max_cells`` cells is refused, not read."""
        height, width = area.shape
        if height * width > max_cells:
            raise BookError(f"{area}: {height:,} x {width:,} cells; expected at most {max_cells:,} to read")
        _, rows = self._rows()
        self._read_lazy(area.row1, area.row2, area.col1, area.col2)
        tail = self._tail
        out: list[list[Value]] = [[None] * width for _ in range(height)]
        # only the rows that exist: sparse, whatever the area's size
        for r in sorted(k for k in rows if area.row1 <= k <= area.row2 and k not in tail):
            line = out[r - area.row1]
            for c, cell in self._cells(rows[r]).items():
                if area.col1 <= c <= area.col2:
                    line[c - area.col1] = self._value(cell)
        self._read_kept(area, out)
        return out

    def _read_kept(self, area: Area, out: list[list[Value]]) -> None:
        """``read_cells`` of the rows not kept as elements (tail rows, numeric blocks), into ``out``."""
        tail = self._tail
        for r in sorted(k for k in tail if area.row1 <= k <= area.row2):
            line = out[r - area.row1]
            for c, v in merge(tail[r]).items():
                if area.col1 <= c <= area.col2:
                    line[c - area.col1] = v
        for b in self._blocks:
            r1, r2 = max(area.row1, b.row), min(area.row2, b.row + b.values.shape[0] - 1)
            c1, c2 = max(area.col1, b.col), min(area.col2, b.col + b.values.shape[1] - 1)
            if r1 <= r2 and c1 <= c2:
                for i, vals in enumerate(b.values[r1 - b.row : r2 - b.row + 1, c1 - b.col : c2 - b.col + 1].tolist()):
                    out[r1 - area.row1 + i][c1 - area.col1 : c2 - area.col1 + 1] = vals

    def _empty(self, c: etree._Element) -> bool:
        """Empty ``c``, keeping its style; True if it held a formula."""
        had_formula = c.find(q(NS_MAIN, "f")) is not None
        f = c.find(q(NS_MAIN, "f"))
        if f is not None and f.get("t") in ("shared", "array") and f.get("ref"):
            raise ValueError(
                f"{ref(self.name, *parse_cell(c.get('r')), absolute=False)}: holds a shared or array formula "
                "that other cells depend on; clear it in Excel before running this action"
            )
        for child in list(c):
            c.remove(child)
        for attr in ("t", "cm", "vm", "ph"):
            c.attrib.pop(attr, None)
        return had_formula

    def write_cells(
        self,
        row0: int,
        col0: int,
        values: Sequence[Sequence[Value]] | np.ndarray,
        styles: Sequence[int | None] | None = None,
    ) -> None:
        """Write a 2-D block of values with its top-left corner at (row0, col0): numbers,
        booleans, text (as inline strings; the shared-string table is left alone) or None
        (an empty cell). Formulas in the block are replaced. ``styles``: a cell format
        (``Workbook.style_index``) per column of the block, None to keep a cell's own.

        A 2-D float array is the fast way for long results: its rows below the sheet's last
        <row> stay an array (the caller's, not a copy: leave it unchanged until ``save``),
        formatted in bulk and streamed into the file by ``save``; a value that is not finite is
        refused here, naming its cell."""
        if isinstance(values, np.ndarray):
            self._write_array(row0, col0, values, styles)
            return
        if not len(values):
            return
        height, width = len(values), max(len(r) for r in values)
        self._check_fits(row0, col0, height, width)
        data, rows = self._rows(edit=True)
        self._read_lazy(row0, row0 + height - 1)
        self._unblock(row0, row0 + height - 1)
        tail = self._tail
        last = max(rows, default=-1)
        formulas = False
        new_rows = False
        for i, line in enumerate(values):
            r = row0 + i
            if r > last:  # below every <row>: kept as values, written as text by save
                tail.setdefault(r, []).append((col0, line))
                if styles:
                    self._tail_styles.setdefault(r, {}).update(
                        {col0 + j: s for j, s in enumerate(styles) if s is not None}
                    )
                continue
            row = rows.get(r)
            if row is None:
                row = rows[r] = etree.SubElement(data, q(NS_MAIN, "row"), r=str(r + 1))
                new_rows = True
            formulas |= self._write_row(row, r, col0, line, styles)
        if new_rows:
            data[:] = [rows[k] for k in sorted(rows)]
        if formulas:
            self._book.drop_calc_chain()

    def _check_fits(self, row0: int, col0: int, height: int, width: int) -> None:
        """A block of ``height`` x ``width`` cells from (row0, col0) within the sheet, or ValueError."""
        if row0 + height > MAX_ROWS or col0 + width > MAX_COLS:
            raise ValueError(
                f"{ref(self.name, row0, col0)}: a block of {height} x {width} cells does not fit "
                f"on a sheet ({MAX_ROWS} rows x {MAX_COLS} columns)"
            )

    def _write_row(
        self, row: etree._Element, r: int, col0: int, line: Sequence[Value], styles: Sequence[int | None] | None
    ) -> bool:
        """``write_cells`` of one line into the <row> ``row`` (row ``r``) from column ``col0``;
        True if a formula was replaced."""
        row.attrib.pop("spans", None)  # an optional hint; would go stale
        cells = self._cells(row)
        formulas = added = False
        for j, value in enumerate(line):
            c = cells.get(col0 + j)
            if c is None:
                if value is None:
                    continue
                c = cells[col0 + j] = etree.SubElement(row, q(NS_MAIN, "c"), r=a1(r, col0 + j))
                added = True
            else:
                formulas |= self._empty(c)
            _set_value(c, value)
            if styles and j < len(styles) and styles[j] is not None:
                c.set("s", str(styles[j]))
        if added:
            _sort_children(row, cells)
        return formulas

    def _write_array(
        self, row0: int, col0: int, values: np.ndarray, styles: Sequence[int | None] | None = None
    ) -> None:
        values = np.asarray(values, dtype=float)
        if values.ndim != 2:
            raise ValueError(f"{ref(self.name, row0, col0)}: expected a 2-D block of values, got {values.ndim}-D")
        height, width = values.shape
        if not height or not width:
            return
        self._check_fits(row0, col0, height, width)
        bad = ~np.isfinite(values)
        if bad.any():
            i, j = np.argwhere(bad)[0]
            raise ValueError(f"{a1(row0 + i, col0 + j)}: cannot store {float(values[i, j])!r} in a cell")
        _, rows = self._rows(edit=True)
        self._read_lazy(row0, row0 + height - 1)
        # rows at or above the last <row> go in as elements, the rest as one block
        split = min(max(max(rows, default=-1) + 1 - row0, 0), height)
        if split:
            self.write_cells(row0, col0, values[:split].tolist(), styles)
        if split == height:
            return
        first, last = row0 + split, row0 + height - 1
        if any(first <= r <= last for r in self._tail) or any(b.row <= last and first <= b.last for b in self._blocks):
            self.write_cells(first, col0, values[split:].tolist(), styles)  # overlaps: the general path
            return
        self._blocks.append(Block(first, col0, values[split:], tuple(styles) if styles else None))  # kept, not copied

    def _unblock(self, first: int, last: int) -> None:
        """Turn the numeric blocks that meet rows first..last into tail rows (an edit across
        them; rare, so kept simple)."""
        hit = [b for b in self._blocks if b.row <= last and first <= b.last]
        tail = self._tail
        for b in hit:
            self._blocks.remove(b)
            for i, line in enumerate(b.values.tolist()):
                tail[b.row + i] = [(b.col, line)]
                if b.styles:
                    self._tail_styles.setdefault(b.row + i, {}).update(
                        {b.col + j: s for j, s in enumerate(b.styles) if s is not None}
                    )

    def clear_cells(self, area: Area, formats: bool = False) -> None:
        """Empty every cell in ``area`` (styles kept unless ``formats``, elements without a style
        removed)."""
        data, rows = self._rows(edit=True)
        t = self._lazy
        if t is not None and area.contains(t.row, t.col) and area.contains(t.last, t.col + t.width - 1):
            self._lazy = None  # every cell of it cleared (a re-run's first step): never read
        self._read_lazy(area.row1, area.row2, area.col1, area.col2)
        self._clear_blocks(area)
        if any(
            b.row <= area.row2
            and area.row1 <= b.last
            and b.col <= area.col2
            and area.col1 <= b.col + b.values.shape[1] - 1
            for b in self._blocks
        ):
            self._unblock(area.row1, area.row2)
        self._clear_tail(area)
        if self._clear_rows(rows, area, formats):
            self._book.drop_calc_chain()

    def _clear_rows(self, rows: dict[int, etree._Element], area: Area, formats: bool) -> bool:
        """``clear_cells`` of the <row> elements: True if a formula was cleared."""
        formulas = False
        for r in sorted(k for k in rows if area.row1 <= k <= area.row2):
            row = rows[r]
            for col, c in self._cells(row).items():
                if area.col1 <= col <= area.col2:
                    formulas |= self._empty(c)
                    if formats:
                        c.attrib.pop("s", None)
                    if c.get("s") is None:
                        row.remove(c)
        return formulas

    def _clear_tail(self, area: Area) -> None:
        """``clear_cells`` of the tail rows: the cells of ``area`` and their styles dropped."""
        tail = self._tail
        for r in [k for k in tail if area.row1 <= k <= area.row2]:
            kept = {c: v for c, v in merge(tail.pop(r)).items() if not area.col1 <= c <= area.col2}
            if kept:
                tail[r] = [(c, [v]) for c, v in sorted(kept.items())]
            row_styles = self._tail_styles.get(r, {})
            for c in [c for c in row_styles if area.col1 <= c <= area.col2 or c not in kept]:
                del row_styles[c]

    def _clear_blocks(self, area: Area) -> None:
        """Drop the rows of ``area`` from the numeric blocks whose every column it covers (a
        re-run clearing the old loss table: array slices, not a million tail rows)."""
        kept = []
        for b in self._blocks:
            first_col, last_col = b.col, b.col + b.values.shape[1] - 1
            if area.col1 <= first_col and last_col <= area.col2 and b.row <= area.row2 and area.row1 <= b.last:
                if b.row < area.row1:
                    kept.append(b._replace(values=b.values[: area.row1 - b.row]))
                if area.row2 < b.last:
                    kept.append(b._replace(row=area.row2 + 1, values=b.values[area.row2 + 1 - b.row :]))
            else:
                kept.append(b)
        self._blocks = kept

    def set_column_widths(self, widths: dict[int, float]) -> None:
        """Columns (0-based) -> their width in characters (``<cols>``)."""
        _styles.set_widths(self._pkg.edit(self.part), widths)

    def _fix_dimension(self) -> None:
        """Make <dimension> span the used cells again (cells are kept in column order)."""
        dim = self._pkg.xml(self.part).find(q(NS_MAIN, "dimension"))
        if dim is None:
            return
        _, rows = self._row_index
        used = [r for r, row in rows.items() if len(row)]
        cols = [parse_cell(c.get("r"))[1] for r in used for c in (rows[r][0], rows[r][-1]) if c.get("r")]
        for r, segments in self._tail.items():
            used.append(r)
            cols += [c for c0, line in segments for c in (c0, c0 + len(line) - 1)]
        for b in self._blocks:
            used += [b.row, b.last]
            cols += [b.col, b.col + b.values.shape[1] - 1]
        if self._lazy is not None:
            used += [self._lazy.row, self._lazy.last]
            cols += [self._lazy.col, self._lazy.col + self._lazy.width - 1]
        if not used or not cols:
            dim.set("ref", "A1")
            return
        dim.set("ref", f"{a1(min(used), min(cols))}:{a1(max(used), max(cols))}")

    def _stream(self, out: IO[bytes]) -> None:
        """Stream a sheet part: its XML up to the end of <sheetData> (``_before_save``'s mark),
        the tail rows and the numeric blocks as text, in row order and with the prefix the sheet
        gives its own elements, then the rest."""
        mark = self._mark
        data = self._pkg.parts[self.part]
        try:
            pieces = data.split(etree.tostring(mark)) if mark is not None else []
            prefix = mark.getparent().prefix if mark is not None else None
        finally:
            self._unmark()
        if len(pieces) != 2:  # never seen: the tree serialised without the mark, or with it twice
            raise BookError(
                f"{self.part} (sheet {self.name!r}): cannot find where its <sheetData> ends to add "
                "rows; refused, nothing written"
            )
        head, tail = pieces
        ns = f"{prefix}:" if prefix else ""
        rows = self._tail
        # rows, blocks and the lazy tail (written as it was read) in order; none shares a row
        lazy = [(self._lazy.row, self._lazy)] if self._lazy is not None else []
        pieces = sorted([(r, None) for r in rows] + [(b.row, b) for b in self._blocks] + lazy, key=lambda x: x[0])
        letters: dict[int, str] = {}
        with Writer(out) as writer:
            writer.write(head)
            chunk: list[str] = []
            for r, block in pieces:
                if block is None:
                    chunk.append(row_text(r, rows[r], letters, self._tail_styles.get(r), ns))
                    if len(chunk) < 4096:
                        continue
                writer.write("".join(chunk).encode())
                chunk = []
                if isinstance(block, Tail):
                    text = self._pkg.original(self.part)
                    for i in range(block.start, block.end, 1 << 20):
                        writer.write(text[i : min(i + (1 << 20), block.end)])
                    del text
                elif block is not None:
                    for text in block_rows(block, ns):
                        writer.write(text.encode())
            writer.write("".join(chunk).encode())
            writer.write(tail)


def _set_value(c: etree._Element, value: Value) -> None:
    if value is None:
        return
    if isinstance(value, bool):
        c.set("t", "b")
        etree.SubElement(c, q(NS_MAIN, "v")).text = "1" if value else "0"
    elif isinstance(value, str):
        c.set("t", "inlineStr")
        t = etree.SubElement(etree.SubElement(c, q(NS_MAIN, "is")), q(NS_MAIN, "t"))
        t.text = value
        if value != value.strip():
            t.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
    else:
        etree.SubElement(c, q(NS_MAIN, "v")).text = number_text(value, c.get("r"))


def _sort_children(row: etree._Element, cells: dict[int, etree._Element]) -> None:
    rest = [e for e in row if e.tag != q(NS_MAIN, "c")]  # extLst
    row[:] = [cells[k] for k in sorted(cells)] + rest


def _marked_sheet_data(root: etree._Element, mark: str, prefix: str) -> etree._Element | None:
    """``split_load``'s check: the <sheetData> that holds the processing instruction ``mark``,
    last, in the worksheet itself, with the tail's ``prefix`` meaning the main namespace there;
    the mark removed. None if any of it fails (the bytes were only proposed)."""
    pis = [pi for pi in root.iter(etree.ProcessingInstruction) if pi.target == mark]
    sheet_data = pis[0].getparent() if len(pis) == 1 else None
    if (
        sheet_data is None
        or root.tag != q(NS_MAIN, "worksheet")
        or sheet_data.tag != q(NS_MAIN, "sheetData")
        or sheet_data.getparent() is not root
        or pis[0].getnext() is not None
        or sheet_data.nsmap.get(prefix[:-1] or None) != NS_MAIN
    ):
        return None
    sheet_data.remove(pis[0])
    return sheet_data


def _last_row(sheet_data: etree._Element) -> int:
    """The 1-based number of the last <row> of ``sheet_data``, as ``Sheet._rows`` numbers them; 0 if none."""
    last = 0
    for row in sheet_data.iterfind(q(NS_MAIN, "row")):
        r = row.get("r")
        last = int(r) if r is not None and r.isdigit() else last + 1
    return last
