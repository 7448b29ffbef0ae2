"""The workbook in a package: its sheets, defined names, shared strings and calculation
settings, and the entry point to a book's cells (``sheet.Sheet``) and drawings (``drawing``)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
from lxml import etree

from ..cellref import Area, Value
from . import styles
from .drawing import Drawing
from .package import NS_MAIN, NS_R, BookError, Package, q, rels_path
from .sheet import MAX_READ_CELLS, Sheet

REL_OFFICE_DOC = NS_R + "/officeDocument"
REL_SHARED_STRINGS = NS_R + "/sharedStrings"
REL_CALC_CHAIN = NS_R + "/calcChain"
REL_STYLES = NS_R + "/styles"
#: The main namespace of ISO/IEC 29500 Strict, which Excel writes for "Strict Open XML Spreadsheet".
NS_STRICT = "http://purl.oclc.org/ooxml/spreadsheetml/main"
CT_STYLES = "application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"


class Workbook:
    """A workbook file being edited: ``package`` holds its parts; ``sheet(name)`` its cells."""

    def __init__(self, package: Package):
        self.package = package
        self._sheets: dict[str, Sheet] = {}  # by part
        self._shared: list[str] | None = None

    @classmethod
    def read(cls, path: Path) -> Workbook:
        """Load the workbook file at ``path``, bounded and checked (see ``package``); BookError if
        it is not a workbook this reader takes."""
        pkg = Package.read(path)
        book = cls(pkg)
        pkg.load_large = book._load_large
        part = book.workbook_part
        if "[Content_Types].xml" not in pkg.parts or part not in pkg.parts:
            raise BookError(f"{path}: expected an Excel workbook (.xlsx/.xlsm), found no workbook part")
        if "binary" in (book.content_type(part) or "") or not part.lower().endswith(".xml"):
            raise BookError(
                f"{path}: a binary workbook (.xlsb, {part}), which this tool does not read; "
                "save it in Excel as an Excel Macro-Enabled Workbook (.xlsm) or Excel Workbook (.xlsx)"
            )
        ns = etree.QName(pkg.xml(part)).namespace
        if ns != NS_MAIN:
            kind = "a Strict Open XML workbook" if ns == NS_STRICT else "not a workbook this tool reads"
            raise BookError(
                f"{part}: its elements are in the namespace {ns or '(none)'!r}, {kind}; expected {NS_MAIN!r}: "
                "save it in Excel as an Excel Macro-Enabled Workbook (.xlsm) or Excel Workbook (.xlsx), "
                "not Strict Open XML"
            )
        return book

    def _load_large(self, part: str) -> etree._Element | None:
        """A large worksheet part without its long numeric tail as elements (``Sheet.split_load``);
        None for any other large part."""
        names = {p: n for n, p in self.sheets().items()}
        return self.sheet(names[part]).split_load() if part in names else None

    def save(self, path: Path) -> None:
        """Write the book to ``path`` (see ``Package.save``)."""
        self.package.save(path)

    def content_type(self, part: str) -> str | None:
        return self.package.content_type(part)

    # -- workbook data
    @property
    def workbook_part(self) -> str:
        for _, rtype, target in self.package.rels(""):
            if rtype == REL_OFFICE_DOC:
                return target
        return "xl/workbook.xml"

    def sheets(self) -> dict[str, str]:
        """Worksheet name -> part name, in workbook order."""
        wb = self.workbook_part
        targets = {rid: t for rid, _, t in self.package.rels(wb)}
        out = {}
        for s in self.package.xml(wb).iter(q(NS_MAIN, "sheet")):
            name, rid = s.get("name"), s.get(q(NS_R, "id"))
            if not name or rid not in targets:
                raise BookError(
                    f"{wb}: sheet {name!r} names relationship {rid!r}, which {rels_path(wb)} lacks"
                    if name
                    else f"{wb}: a <sheet> without a name"
                )
            out[name] = targets[rid]
        return out

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
        for d in self.package.xml(self.workbook_part).iter(q(NS_MAIN, "definedName")):
            name = d.get("name")
            if not name or name.startswith("_xlnm."):
                continue
            (local if d.get("localSheetId") is not None else out)[name] = d.text or ""
        return {**local, **out}

    def set_full_calc_on_load(self) -> None:
        """Ask Excel to recalculate every formula when it opens the file (inputs changed)."""
        wb = self.package.edit(self.workbook_part)
        calc = wb.find(q(NS_MAIN, "calcPr"))
        if calc is None:
            calc = etree.Element(q(NS_MAIN, "calcPr"))
            # calcPr follows definedNames (or sheets) in schema order
            anchor = wb.find(q(NS_MAIN, "definedNames"))
            if anchor is None:
                anchor = wb.find(q(NS_MAIN, "sheets"))
            anchor.addnext(calc)
        calc.set("fullCalcOnLoad", "1")

    def drop_calc_chain(self) -> None:
        # Excel rebuilds the calculation chain; a stale one that names a cell we emptied is
        # reported as corruption.
        wb = self.workbook_part
        for rid, rtype, target in self.package.rels(wb):
            if rtype == REL_CALC_CHAIN:
                self.package.remove_rel(wb, rid)
                self.package.delete(target)

    def shared_strings(self) -> list[str]:
        if self._shared is None:
            self._shared = []
            for _, rtype, target in self.package.rels(self.workbook_part):
                if rtype == REL_SHARED_STRINGS and target in self.package.parts:
                    for si in self.package.xml(target):
                        # the text runs, not the phonetic (rPh) ones
                        self._shared.append(
                            "".join(
                                t.text or ""
                                for t in si.iter(q(NS_MAIN, "t"))
                                if t.getparent().tag != q(NS_MAIN, "rPh")
                                and t.getparent().getparent().tag != q(NS_MAIN, "rPh")
                            )
                        )
        return self._shared

    # -- cells and drawings, by sheet name
    def sheet(self, name: str) -> Sheet:
        """The cells of the worksheet ``name`` (ValueError naming the sheets if there is none)."""
        part = self.sheet_part(name)
        if part not in self._sheets:
            self._sheets[part] = Sheet(self, name, part)
        return self._sheets[part]

    def read_cells(self, area: Area, max_cells: int = MAX_READ_CELLS) -> list[list[Value]]:
        return self.sheet(area.sheet).read_cells(area, max_cells)

    def write_cells(
        self,
        sheet: str,
        row0: int,
        col0: int,
        values: Sequence[Sequence[Value]] | np.ndarray,
        styles: Sequence[int | None] | None = None,
    ) -> None:
        self.sheet(sheet).write_cells(row0, col0, values, styles)

    def clear_cells(self, area: Area, formats: bool = False) -> None:
        self.sheet(area.sheet).clear_cells(area, formats)

    def set_column_widths(self, sheet: str, widths: dict[int, float]) -> None:
        """Columns (0-based) of ``sheet`` -> their width in characters."""
        self.sheet(sheet).set_column_widths(widths)

    # -- cell formats (the XML work is in ``styles``)
    def style_index(self, props: dict) -> int:
        """The cell format (a cell's ``s``) with the look of ``props`` (XlsxWriter format
        properties, a ``layout.STYLES`` entry): the stylesheet's own if it has one, else added to it."""
        wb = self.workbook_part
        part = next((t for _, rtype, t in self.package.rels(wb) if rtype == REL_STYLES), None)
        if part is None or part not in self.package.parts:  # a book without a stylesheet (optional in OOXML)
            part = "xl/styles.xml" if part is None else part
            self.package.new_xml(part, styles.new_stylesheet())
            self.package.add_override(part, CT_STYLES)
            if not any(rtype == REL_STYLES for _, rtype, _ in self.package.rels(wb)):
                self.package.add_rel(wb, REL_STYLES, part)
        root = self.package.xml(part)
        before = etree.tostring(root)
        index = styles.ensure_xf(root, props)
        if etree.tostring(root) != before:  # a stylesheet that already has the format stays byte for byte
            self.package.edit(part)
        return index

    def drawing(self, sheet: str) -> Drawing:
        """The charts and pictures of the worksheet ``sheet``."""
        return Drawing(self.package, self.sheet_part(sheet), sheet)

    def object_names(self, sheet: str) -> list[str]:
        return self.drawing(sheet).object_names()

    def object_targets(self, sheet: str, name: str) -> list[str]:
        return self.drawing(sheet).object_targets(name)

    def remove_objects(self, sheet: str, names: Iterable[str], at: Iterable[tuple[int, int]] = ()) -> int:
        return self.drawing(sheet).remove_objects(names, at)

    def add_chart(
        self, sheet: str, row: int, col: int, width_pt: float, height_pt: float, name: str, chart_xml: bytes
    ) -> str:
        return self.drawing(sheet).add_chart(row, col, width_pt, height_pt, name, chart_xml)

    def add_picture(
        self,
        sheet: str,
        row: int,
        col: int,
        width_pt: float,
        height_pt: float,
        name: str,
        png: bytes,
        description: str = "",
    ) -> str:
        return self.drawing(sheet).add_picture(row, col, width_pt, height_pt, name, png, description)
