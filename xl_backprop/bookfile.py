"""Edit an .xlsx/.xlsm file as the OOXML package it is: parts in a zip, edited in place.

Why not openpyxl: a load/save round trip rebuilds the whole package from openpyxl's own
model, so it drops charts and pictures it did not create and the ribbon's relationship,
and re-serialises every part. Here only the parts an action changes are rewritten (cell
values in one sheet, one drawing, the charts and pictures it names); every other part,
``xl/vbaProject.bin`` and ``customUI/*`` included, is copied through byte for byte.

Coordinates are 0-based (row, col), as in XlsxWriter; ``a1`` and ``parse_ref`` convert.
Charts and pictures carry a name (``cNvPr/@name``): ``remove_objects`` finds them by it,
so a second run replaces what the first one drew.
"""

from __future__ import annotations

import math
import posixpath
import re
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from xml.sax.saxutils import escape

from lxml import etree

# The references and values moved to cellref (no lxml there); re-exported, so importers keep working.
from .cellref import Area, CellError, Value, a1, col_letters, parse_cell, parse_ref, quote_sheet, ref  # noqa: F401

MAX_ROWS = 1_048_576
MAX_COLS = 16_384

NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
NS_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
NS_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
NS_CT = "http://schemas.openxmlformats.org/package/2006/content-types"
NS_XDR = "http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing"
NS_A = "http://schemas.openxmlformats.org/drawingml/2006/main"
NS_C = "http://schemas.openxmlformats.org/drawingml/2006/chart"
REL_DRAWING = NS_R + "/drawing"
REL_CHART = NS_R + "/chart"
REL_IMAGE = NS_R + "/image"
REL_OFFICE_DOC = NS_R + "/officeDocument"
REL_SHARED_STRINGS = NS_R + "/sharedStrings"
REL_CALC_CHAIN = NS_R + "/calcChain"
CT_DRAWING = "application/vnd.openxmlformats-officedocument.drawing+xml"
CT_CHART = "application/vnd.openxmlformats-officedocument.drawingml.chart+xml"
EMU_PER_POINT = 12_700

# Children of <worksheet> that may follow <drawing>, in schema order (ECMA-376 §18.3.1.99).
_AFTER_DRAWING = ("legacyDrawing", "legacyDrawingHF", "drawingHF", "picture", "oleObjects", "controls",
                  "webPublishItems", "tableParts", "extLst")
_ANCHORS = ("twoCellAnchor", "oneCellAnchor", "absoluteAnchor")


def _q(ns: str, tag: str) -> str:
    return f"{{{ns}}}{tag}"


def _rels_path(part: str) -> str:
    folder, name = posixpath.split(part)
    return posixpath.join(folder, "_rels", name + ".rels")


def _resolve(source_part: str, target: str) -> str:
    if target.startswith("/"):
        return target[1:]
    return posixpath.normpath(posixpath.join(posixpath.dirname(source_part), target))


def _relative(source_part: str, target_part: str) -> str:
    return posixpath.relpath(target_part, posixpath.dirname(source_part) or ".")


# ----------------------------------------------------------------------------- the package

class Package:
    """An OOXML package in memory. Parts are bytes; the XML parts an edit touches are
    parsed once, kept as lxml trees and serialised again by ``save``."""

    def __init__(self, infos: list[zipfile.ZipInfo], parts: dict[str, bytes]):
        self._infos = {i.filename: i for i in infos}
        self._order = [i.filename for i in infos]
        self.parts = parts
        self._trees: dict[str, etree._Element] = {}
        self._dirty: set[str] = set()
        self._row_index: dict[str, tuple[etree._Element, dict[int, etree._Element]]] = {}
        # Rows below a sheet's last <row> are kept as (first col, values) segments and written
        # out as text by ``save``: a loss table of a million rows never becomes XML elements.
        self._tail: dict[str, dict[int, list[tuple[int, Sequence[Value]]]]] = {}
        self._shared: list[str] | None = None

    @classmethod
    def read(cls, path: Path) -> Package:
        """Load every part of the zip at ``path``; ValueError if it is not a workbook."""
        try:
            with zipfile.ZipFile(path) as z:
                infos = z.infolist()
                parts = {i.filename: z.read(i) for i in infos}
        except zipfile.BadZipFile:
            raise ValueError(f"{path}: expected an Excel workbook (.xlsx/.xlsm), "
                             "got a file that is not a zip package") from None
        pkg = cls(infos, parts)
        if "[Content_Types].xml" not in parts or pkg.workbook_part not in parts:
            raise ValueError(f"{path}: expected an Excel workbook (.xlsx/.xlsm), found no workbook part")
        return pkg

    def save(self, path: Path) -> None:
        """Write the package to ``path``: untouched parts byte for byte, in their old order."""
        for part in self._row_index:
            if part in self._dirty:
                self._fix_dimension(part)
        for name in self._dirty & set(self.parts):
            root = self._trees[name]
            self.parts[name] = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
        names = [n for n in self._order if n in self.parts] + sorted(
            n for n in self.parts if n not in self._infos)
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
            for name in names:
                info = self._infos.get(name)
                if info is None:
                    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
                    info.compress_type = zipfile.ZIP_DEFLATED
                if self._tail.get(name):
                    self._write_with_tail(z, info, name)
                else:
                    z.writestr(info, self.parts[name])

    def _write_with_tail(self, z: zipfile.ZipFile, info: zipfile.ZipInfo, part: str) -> None:
        """Stream a sheet part: its XML up to the end of <sheetData>, the tail rows as text,
        then the rest."""
        data = self.parts[part]
        empty = re.search(rb"<((?:\w+:)?sheetData)\s*/>", data)
        if empty:
            head, tail = data[:empty.start()] + b"<" + empty.group(1) + b">", b"</" + empty.group(1) + b">" + \
                data[empty.end():]
        else:
            end = list(re.finditer(rb"</(?:\w+:)?sheetData>", data))[-1]
            head, tail = data[:end.start()], data[end.start():]
        rows = self._tail[part]
        letters: dict[int, str] = {}
        with z.open(info, "w") as out:
            out.write(head)
            chunk: list[str] = []
            for r in sorted(rows):
                chunk.append(_row_text(r, rows[r], letters))
                if len(chunk) == 4096:
                    out.write("".join(chunk).encode())
                    chunk = []
            out.write("".join(chunk).encode())
            out.write(tail)

    # -- XML parts
    def xml(self, part: str) -> etree._Element:
        """The parsed part, to read (parsed once)."""
        if part not in self._trees:
            if part not in self.parts:
                raise KeyError(part)
            self._trees[part] = etree.fromstring(self.parts[part], etree.XMLParser(huge_tree=True))
        return self._trees[part]

    def edit(self, part: str) -> etree._Element:
        """The parsed part, to change: ``save`` writes it back."""
        root = self.xml(part)
        self._dirty.add(part)
        return root

    def _new_xml(self, part: str, root: etree._Element) -> None:
        self.parts[part] = b""
        self._trees[part] = root
        self._dirty.add(part)

    def delete(self, part: str) -> None:
        """Remove a part, its relationships part and its content-type override."""
        for name in (part, _rels_path(part)):
            self.parts.pop(name, None)
            self._trees.pop(name, None)
            self._dirty.discard(name)
        ct = self.edit("[Content_Types].xml")
        for o in ct.findall(_q(NS_CT, "Override")):
            if o.get("PartName") == "/" + part:
                ct.remove(o)

    def _unused(self, pattern: str) -> str:
        n = 1
        while pattern.format(n) in self.parts:
            n += 1
        return pattern.format(n)

    # -- relationships and content types
    def rels(self, part: str) -> list[tuple[str, str, str]]:
        """(Id, Type, resolved target part) of ``part``'s internal relationships."""
        rp = _rels_path(part)
        if rp not in self.parts:
            return []
        return [(r.get("Id"), r.get("Type"), _resolve(part, r.get("Target")))
                for r in self.xml(rp) if r.get("TargetMode") != "External"]

    def add_rel(self, part: str, rel_type: str, target_part: str) -> str:
        """Add a relationship from ``part`` to ``target_part``; returns its new Id."""
        rp = _rels_path(part)
        if rp not in self.parts:
            self._new_xml(rp, etree.Element(_q(NS_PKG_REL, "Relationships"), nsmap={None: NS_PKG_REL}))
        root = self.edit(rp)
        ids = {r.get("Id") for r in root}
        n = 1
        while f"rId{n}" in ids:
            n += 1
        etree.SubElement(root, _q(NS_PKG_REL, "Relationship"), Id=f"rId{n}", Type=rel_type,
                         Target=_relative(part, target_part))
        return f"rId{n}"

    def remove_rel(self, part: str, rid: str) -> None:
        root = self.edit(_rels_path(part))
        for r in root:
            if r.get("Id") == rid:
                root.remove(r)

    def _referenced(self, target_part: str) -> bool:
        """Whether any relationship in the package still points at ``target_part``."""
        for name in list(self.parts):
            if name.endswith(".rels"):
                folder = posixpath.dirname(posixpath.dirname(name))
                source = posixpath.join(folder, posixpath.basename(name)[:-5])
                if any(r.get("TargetMode") != "External" and _resolve(source, r.get("Target")) == target_part
                       for r in self.xml(name)):
                    return True
        return False

    def content_type(self, part: str) -> str | None:
        """The content type [Content_Types].xml gives ``part`` (its override, else its extension's)."""
        ct = self.xml("[Content_Types].xml")
        for o in ct.iter(_q(NS_CT, "Override")):
            if o.get("PartName") == "/" + part:
                return o.get("ContentType")
        ext = posixpath.splitext(part)[1][1:].lower()
        return next((d.get("ContentType") for d in ct.iter(_q(NS_CT, "Default"))
                     if d.get("Extension", "").lower() == ext), None)

    def add_override(self, part: str, content_type: str) -> None:
        ct = self.edit("[Content_Types].xml")
        etree.SubElement(ct, _q(NS_CT, "Override"), PartName="/" + part, ContentType=content_type)

    def ensure_default(self, ext: str, content_type: str) -> None:
        ct = self.edit("[Content_Types].xml")
        if not any(d.get("Extension", "").lower() == ext for d in ct.findall(_q(NS_CT, "Default"))):
            # Defaults come first in the schema
            ct.insert(0, etree.Element(_q(NS_CT, "Default"), Extension=ext, ContentType=content_type))

    # -- workbook
    @property
    def workbook_part(self) -> str:
        root = etree.fromstring(self.parts.get("_rels/.rels", b"<x/>"))
        for r in root:
            if r.get("Type") == REL_OFFICE_DOC:
                return _resolve("", r.get("Target"))
        return "xl/workbook.xml"

    def sheets(self) -> dict[str, str]:
        """Worksheet name -> part name, in workbook order."""
        wb = self.workbook_part
        targets = {rid: t for rid, _, t in self.rels(wb)}
        return {s.get("name"): targets[s.get(_q(NS_R, "id"))]
                for s in self.xml(wb).iter(_q(NS_MAIN, "sheet"))}

    def sheet_part(self, sheet: str) -> str:
        parts = self.sheets()
        if sheet not in parts:
            raise ValueError(f"sheet {sheet!r}: not in this workbook (it has {', '.join(parts)})")
        return parts[sheet]

    def defined_names(self) -> dict[str, str]:
        """Workbook-level defined names -> their formula text (sheet-level ones where no
        workbook-level name has that name); Excel's built-in ``_xlnm.`` names left out."""
        out: dict[str, str] = {}
        local: dict[str, str] = {}
        for d in self.xml(self.workbook_part).iter(_q(NS_MAIN, "definedName")):
            name = d.get("name")
            if name.startswith("_xlnm."):
                continue
            (local if d.get("localSheetId") is not None else out)[name] = d.text or ""
        return {**local, **out}

    def set_full_calc_on_load(self) -> None:
        """Ask Excel to recalculate every formula when it opens the file (inputs changed)."""
        wb = self.edit(self.workbook_part)
        calc = wb.find(_q(NS_MAIN, "calcPr"))
        if calc is None:
            calc = etree.Element(_q(NS_MAIN, "calcPr"))
            # calcPr follows definedNames (or sheets) in schema order
            anchor = wb.find(_q(NS_MAIN, "definedNames"))
            if anchor is None:
                anchor = wb.find(_q(NS_MAIN, "sheets"))
            anchor.addnext(calc)
        calc.set("fullCalcOnLoad", "1")

    def _drop_calc_chain(self) -> None:
        # Excel rebuilds the calculation chain; a stale one that names a cell we emptied is
        # reported as corruption.
        wb = self.workbook_part
        for rid, rtype, target in self.rels(wb):
            if rtype == REL_CALC_CHAIN:
                self.remove_rel(wb, rid)
                self.delete(target)

    def shared_strings(self) -> list[str]:
        if self._shared is None:
            self._shared = []
            for _, rtype, target in self.rels(self.workbook_part):
                if rtype == REL_SHARED_STRINGS and target in self.parts:
                    for si in self.xml(target):
                        # the text runs, not the phonetic (rPh) ones
                        self._shared.append("".join(
                            t.text or "" for t in si.iter(_q(NS_MAIN, "t"))
                            if t.getparent().tag != _q(NS_MAIN, "rPh")
                            and t.getparent().getparent().tag != _q(NS_MAIN, "rPh")))
        return self._shared

    # -- cells
    def _rows(self, sheet: str, edit: bool = False) -> tuple[etree._Element, dict[int, etree._Element]]:
        """The sheet's <sheetData> and its rows by 0-based index (indexed once, then kept
        up to date by the edits)."""
        part = self.sheet_part(sheet)
        root = self.edit(part) if edit else self.xml(part)
        if part not in self._row_index:
            data = root.find(_q(NS_MAIN, "sheetData"))
            rows: dict[int, etree._Element] = {}
            last = 0
            for row in data.iterfind(_q(NS_MAIN, "row")):
                last = int(row.get("r", last + 1))
                row.set("r", str(last))
                rows[last - 1] = row
            self._row_index[part] = (data, rows)
        return self._row_index[part]

    @staticmethod
    def _cells(row: etree._Element) -> dict[int, etree._Element]:
        cells: dict[int, etree._Element] = {}
        col = -1
        r = int(row.get("r"))
        for c in row.iterfind(_q(NS_MAIN, "c")):
            col = parse_cell(c.get("r"))[1] if c.get("r") else col + 1
            c.set("r", a1(r - 1, col))
            cells[col] = c
        return cells

    def _value(self, c: etree._Element) -> Value:
        t = c.get("t", "n")
        if t == "inlineStr":
            return "".join(x.text or "" for x in c.iter(_q(NS_MAIN, "t")))
        v = c.find(_q(NS_MAIN, "v"))
        if v is None or v.text is None:
            return None
        if t == "s":
            return self.shared_strings()[int(v.text)]
        if t == "b":
            return v.text.strip() in ("1", "true")
        if t == "e":
            return CellError(v.text)
        if t in ("str", "d"):
            return v.text
        return float(v.text)

    def read_cells(self, area: Area) -> list[list[Value]]:
        """The values in ``area`` (cached results for formulas), row by row; None where empty."""
        _, rows = self._rows(area.sheet)
        tail = self._tail.get(self.sheet_part(area.sheet), {})
        out = []
        for r in range(area.row1, area.row2 + 1):
            if r in tail:
                merged = _merge(tail[r])
                out.append([merged.get(c) for c in range(area.col1, area.col2 + 1)])
                continue
            cells = self._cells(rows[r]) if r in rows else {}
            out.append([self._value(cells[c]) if c in cells else None
                        for c in range(area.col1, area.col2 + 1)])
        return out

    def _empty(self, c: etree._Element) -> bool:
        """Empty ``c``, keeping its style; True if it held a formula."""
        had_formula = c.find(_q(NS_MAIN, "f")) is not None
        f = c.find(_q(NS_MAIN, "f"))
        if f is not None and f.get("t") in ("shared", "array") and f.get("ref"):
            raise ValueError(f"{c.get('r')}: holds a shared or array formula that other cells "
                             "depend on; clear it in Excel before running this action")
        for child in list(c):
            c.remove(child)
        for attr in ("t", "cm", "vm", "ph"):
            c.attrib.pop(attr, None)
        return had_formula

    def write_cells(self, sheet: str, row0: int, col0: int, values: Sequence[Sequence[Value]]) -> None:
        """Write a 2-D block of values with its top-left corner at (row0, col0): numbers,
        booleans, text (as inline strings; the shared-string table is left alone) or None
        (an empty cell). Cell styles are kept; formulas in the block are replaced."""
        if not values:
            return
        height, width = len(values), max(len(r) for r in values)
        if row0 + height > MAX_ROWS or col0 + width > MAX_COLS:
            raise ValueError(f"{ref(sheet, row0, col0)}: a block of {height} x {width} cells does not fit "
                             f"on a sheet ({MAX_ROWS} rows x {MAX_COLS} columns)")
        data, rows = self._rows(sheet, edit=True)
        tail = self._tail.setdefault(self.sheet_part(sheet), {})
        last = max(rows, default=-1)
        formulas = False
        new_rows = False
        for i, line in enumerate(values):
            r = row0 + i
            if r > last:  # below every <row>: kept as values, written as text by save
                tail.setdefault(r, []).append((col0, line))
                continue
            row = rows.get(r)
            if row is None:
                row = rows[r] = etree.SubElement(data, _q(NS_MAIN, "row"), r=str(r + 1))
                new_rows = True
            row.attrib.pop("spans", None)  # an optional hint; would go stale
            cells = self._cells(row)
            added = False
            for j, value in enumerate(line):
                c = cells.get(col0 + j)
                if c is None:
                    if value is None:
                        continue
                    c = cells[col0 + j] = etree.SubElement(row, _q(NS_MAIN, "c"), r=a1(r, col0 + j))
                    added = True
                else:
                    formulas |= self._empty(c)
                _set_value(c, value)
            if added:
                _sort_children(row, cells)
        if new_rows:
            data[:] = [rows[k] for k in sorted(rows)]
        if formulas:
            self._drop_calc_chain()

    def clear_cells(self, area: Area) -> None:
        """Empty every cell in ``area`` (styles kept, elements without a style removed)."""
        data, rows = self._rows(area.sheet, edit=True)
        tail = self._tail.get(self.sheet_part(area.sheet), {})
        for r in [k for k in tail if area.row1 <= k <= area.row2]:
            kept = {c: v for c, v in _merge(tail.pop(r)).items() if not area.col1 <= c <= area.col2}
            if kept:
                tail[r] = [(c, [v]) for c, v in sorted(kept.items())]
        formulas = False
        for r in sorted(k for k in rows if area.row1 <= k <= area.row2):
            row = rows[r]
            for col, c in self._cells(row).items():
                if area.col1 <= col <= area.col2:
                    formulas |= self._empty(c)
                    if c.get("s") is None:
                        row.remove(c)
        if formulas:
            self._drop_calc_chain()

    def _fix_dimension(self, part: str) -> None:
        """Make <dimension> span the used cells again (cells are kept in column order)."""
        dim = self.xml(part).find(_q(NS_MAIN, "dimension"))
        if dim is None:
            return
        _, rows = self._row_index[part]
        used = [r for r, row in rows.items() if len(row)]
        cols = [parse_cell(c.get("r"))[1] for r in used for c in (rows[r][0], rows[r][-1]) if c.get("r")]
        for r, segments in self._tail.get(part, {}).items():
            used.append(r)
            cols += [c for c0, line in segments for c in (c0, c0 + len(line) - 1)]
        if not used or not cols:
            dim.set("ref", "A1")
            return
        dim.set("ref", f"{a1(min(used), min(cols))}:{a1(max(used), max(cols))}")

    # -- drawings: charts and pictures
    def _drawing(self, sheet: str, create: bool) -> str | None:
        part = self.sheet_part(sheet)
        root = self.xml(part)
        el = root.find(_q(NS_MAIN, "drawing"))
        if el is not None:
            rid = el.get(_q(NS_R, "id"))
            return next(t for i, _, t in self.rels(part) if i == rid)
        if not create:
            return None
        root = self.edit(part)
        drawing = self._unused("xl/drawings/drawing{}.xml")
        self._new_xml(drawing, etree.Element(_q(NS_XDR, "wsDr"), nsmap={"xdr": NS_XDR, "a": NS_A}))
        self.add_override(drawing, CT_DRAWING)
        rid = self.add_rel(part, REL_DRAWING, drawing)
        el = etree.Element(_q(NS_MAIN, "drawing"))
        el.set(_q(NS_R, "id"), rid)
        later = [child for child in root if etree.QName(child).localname in _AFTER_DRAWING]
        if later:
            later[0].addprevious(el)
        else:
            root.append(el)
        return drawing

    def object_names(self, sheet: str) -> list[str]:
        """Names of the charts and pictures drawn on ``sheet``, in drawing order."""
        drawing = self._drawing(sheet, create=False)
        if drawing is None:
            return []
        return [_anchor_name(a) for a in self.xml(drawing) if etree.QName(a).localname in _ANCHORS]

    def object_targets(self, sheet: str, name: str) -> list[str]:
        """The parts (chart XML, image) the object called ``name`` on ``sheet`` points at."""
        drawing = self._drawing(sheet, create=False)
        if drawing is None:
            return []
        targets = {i: t for i, _, t in self.rels(drawing)}
        return [targets[rid] for a in self.xml(drawing)
                if etree.QName(a).localname in _ANCHORS and _anchor_name(a) == name
                for rid in _anchor_rids(a)]

    def remove_objects(self, sheet: str, names: Iterable[str]) -> int:
        """Delete the charts and pictures called ``names`` from ``sheet`` with the parts only
        they used; returns how many were removed. A drawing left empty goes too."""
        names = set(names)
        drawing = self._drawing(sheet, create=False)
        if drawing is None:
            return 0
        root = self.xml(drawing)
        gone = [a for a in root if etree.QName(a).localname in _ANCHORS and _anchor_name(a) in names]
        if not gone:
            return 0
        root = self.edit(drawing)
        rids = {rid for a in gone for rid in _anchor_rids(a)}
        for a in gone:
            root.remove(a)
        still = {rid for a in root for rid in _anchor_rids(a)}
        targets = {i: t for i, _, t in self.rels(drawing)}
        for rid in rids - still:
            self.remove_rel(drawing, rid)
            if rid in targets and not self._referenced(targets[rid]):
                self.delete(targets[rid])
        if not len(root):
            part = self.sheet_part(sheet)
            sheet_root = self.edit(part)
            el = sheet_root.find(_q(NS_MAIN, "drawing"))
            self.remove_rel(part, el.get(_q(NS_R, "id")))
            sheet_root.remove(el)
            self.delete(drawing)
        return len(gone)

    def _next_id(self, drawing: str) -> int:
        ids = [int(e.get("id")) for e in self.xml(drawing).iter(_q(NS_XDR, "cNvPr"))
               if (e.get("id") or "").isdigit()]
        return max(ids, default=1) + 1

    def add_chart(self, sheet: str, row: int, col: int, width_pt: float, height_pt: float, name: str,
                  chart_xml: bytes) -> str:
        """Place a chart (a DrawingML chartSpace part) with its top-left corner at the top-left
        of cell (row, col); returns the new chart part's name."""
        drawing = self._drawing(sheet, create=True)
        chart = self._unused("xl/charts/chart{}.xml")
        self.parts[chart] = chart_xml
        self.add_override(chart, CT_CHART)
        rid = self.add_rel(drawing, REL_CHART, chart)
        frame = etree.fromstring(_GRAPHIC_FRAME.format(id=self._next_id(drawing), name=_xml_attr(name),
                                                       rid=rid))
        self.edit(drawing).append(_one_cell_anchor(row, col, width_pt, height_pt, frame))
        return chart

    def add_picture(self, sheet: str, row: int, col: int, width_pt: float, height_pt: float, name: str,
                    png: bytes, description: str = "") -> str:
        """Place a PNG picture with its top-left corner at cell (row, col); returns the new
        image part's name."""
        drawing = self._drawing(sheet, create=True)
        image = self._unused("xl/media/image{}.png")
        self.parts[image] = png
        self.ensure_default("png", "image/png")
        rid = self.add_rel(drawing, REL_IMAGE, image)
        emu = (round(width_pt * EMU_PER_POINT), round(height_pt * EMU_PER_POINT))
        pic = etree.fromstring(_PICTURE.format(id=self._next_id(drawing), name=_xml_attr(name),
                                               descr=_xml_attr(description), rid=rid, cx=emu[0], cy=emu[1]))
        self.edit(drawing).append(_one_cell_anchor(row, col, width_pt, height_pt, pic))
        return image


def _xml_attr(text: str) -> str:
    return escape(text, {'"': "&quot;"})


def _set_value(c: etree._Element, value: Value) -> None:
    if value is None:
        return
    if isinstance(value, bool):
        c.set("t", "b")
        etree.SubElement(c, _q(NS_MAIN, "v")).text = "1" if value else "0"
    elif isinstance(value, str):
        c.set("t", "inlineStr")
        t = etree.SubElement(etree.SubElement(c, _q(NS_MAIN, "is")), _q(NS_MAIN, "t"))
        t.text = value
        if value != value.strip():
            t.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
    else:
        etree.SubElement(c, _q(NS_MAIN, "v")).text = _number_text(value, c.get("r"))


def _merge(segments: list[tuple[int, Sequence[Value]]]) -> dict[int, Value]:
    """Column -> value of one tail row (later segments win), empty cells left out."""
    out: dict[int, Value] = {}
    for c0, line in segments:
        for j, v in enumerate(line):
            out[c0 + j] = v
    return {c: v for c, v in out.items() if v is not None}


def _row_text(r: int, segments: list[tuple[int, Sequence[Value]]], letters: dict[int, str]) -> str:
    """One <row> of the tail as XML text, in the form ``_set_value`` gives a cell."""
    cells = _merge(segments) if len(segments) > 1 else {
        segments[0][0] + j: v for j, v in enumerate(segments[0][1]) if v is not None}
    n = r + 1
    out = [f'<row r="{n}">']
    for c in sorted(cells):
        v = cells[c]
        ref_ = f"{letters.get(c) or letters.setdefault(c, col_letters(c))}{n}"
        if isinstance(v, bool):
            out.append(f'<c r="{ref_}" t="b"><v>{int(v)}</v></c>')
        elif isinstance(v, str):
            space = ' xml:space="preserve"' if v != v.strip() else ""
            out.append(f'<c r="{ref_}" t="inlineStr"><is><t{space}>{escape(v)}</t></is></c>')
        else:
            out.append(f"<c r=\"{ref_}\"><v>{_number_text(v, ref_)}</v></c>")
    out.append("</row>")
    return "".join(out)


def _number_text(value: float, where: str) -> str:
    x = float(value)
    if not math.isfinite(x):
        raise ValueError(f"{where}: cannot store {x!r} in a cell")
    return str(int(x)) if x.is_integer() and abs(x) < 1e15 else repr(x)


def _sort_children(row: etree._Element, cells: dict[int, etree._Element]) -> None:
    rest = [e for e in row if e.tag != _q(NS_MAIN, "c")]  # extLst
    row[:] = [cells[k] for k in sorted(cells)] + rest


def _anchor_name(anchor: etree._Element) -> str:
    pr = next(anchor.iter(_q(NS_XDR, "cNvPr")), None)
    return "" if pr is None else pr.get("name", "")


def _anchor_rids(anchor: etree._Element) -> list[str]:
    return [v for e in anchor.iter() for k, v in e.attrib.items()
            if k in (_q(NS_R, "id"), _q(NS_R, "embed"), _q(NS_R, "link"))]


def _one_cell_anchor(row: int, col: int, width_pt: float, height_pt: float,
                     content: etree._Element) -> etree._Element:
    anchor = etree.fromstring(_ONE_CELL_ANCHOR.format(
        col=col, row=row, cx=round(width_pt * EMU_PER_POINT), cy=round(height_pt * EMU_PER_POINT)))
    anchor.insert(2, content)
    return anchor


_NS_DECL = f'xmlns:xdr="{NS_XDR}" xmlns:a="{NS_A}" xmlns:r="{NS_R}"'
_ONE_CELL_ANCHOR = (
    f'<xdr:oneCellAnchor {_NS_DECL}>'
    '<xdr:from><xdr:col>{col}</xdr:col><xdr:colOff>0</xdr:colOff>'
    '<xdr:row>{row}</xdr:row><xdr:rowOff>0</xdr:rowOff></xdr:from>'
    '<xdr:ext cx="{cx}" cy="{cy}"/><xdr:clientData/></xdr:oneCellAnchor>')
_GRAPHIC_FRAME = (
    f'<xdr:graphicFrame {_NS_DECL} macro="">'
    '<xdr:nvGraphicFramePr><xdr:cNvPr id="{id}" name="{name}"/><xdr:cNvGraphicFramePr/>'
    '</xdr:nvGraphicFramePr>'
    '<xdr:xfrm><a:off x="0" y="0"/><a:ext cx="0" cy="0"/></xdr:xfrm>'
    f'<a:graphic><a:graphicData uri="{NS_C}"><c:chart xmlns:c="{NS_C}" r:id="{{rid}}"/>'
    '</a:graphicData></a:graphic></xdr:graphicFrame>')
_PICTURE = (
    f'<xdr:pic {_NS_DECL}>'
    '<xdr:nvPicPr><xdr:cNvPr id="{id}" name="{name}" descr="{descr}"/>'
    '<xdr:cNvPicPr><a:picLocks noChangeAspect="1"/></xdr:cNvPicPr></xdr:nvPicPr>'
    '<xdr:blipFill><a:blip r:embed="{rid}"/><a:stretch><a:fillRect/></a:stretch></xdr:blipFill>'
    '<xdr:spPr><a:xfrm><a:off x="0" y="0"/><a:ext cx="{cx}" cy="{cy}"/></a:xfrm>'
    '<a:prstGeom prst="rect"><a:avLst/></a:prstGeom></xdr:spPr></xdr:pic>')
