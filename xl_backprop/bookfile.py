"""Edit an .xlsx/.xlsm file as the OOXML package it is: parts in a zip, edited in place.

Why not openpyxl: a load/save round trip rebuilds the whole package from openpyxl's own
model, so it drops charts and pictures it did not create and the ribbon's relationship,
and re-serialises every part. Here only the parts an action changes are rewritten (cell
values in one sheet, one drawing, the charts and pictures it names); every other part,
``xl/vbaProject.bin`` and ``customUI/*`` included, is copied through byte for byte.

Coordinates are 0-based (row, col), as in XlsxWriter; ``a1`` and ``parse_ref`` convert.
Charts and pictures carry a name (``cNvPr/@name``): ``remove_objects`` finds them by it,
so a second run replaces what the first one drew.

A workbook is untrusted input (people mail them to each other). ``Package.read`` refuses,
with one line (``BookError``) naming the part: a file that is not a zip (an encrypted book is
an OLE file), duplicate or unsafe entry names, a member that inflates past ``MAX_PART_BYTES``
or a book past ``MAX_BOOK_BYTES`` (read by streaming with a cap, not by trusting the header),
an XML part of more than ``MAX_XML_TAGS`` tags, and any part with a DOCTYPE. Every XML part
is parsed by ``_parse``: DTDs not loaded, entities not resolved, no network, no huge trees,
set explicitly so that every lxml ``pyproject.toml`` allows (``>=4.9``; lxml 4.9 resolves
entities by default) behaves alike; the hostile-book tests pass with lxml 6.0 and 4.9.4.
Missing parts, dangling or escaping relationships, bad row/cell references and values are
BookErrors too.
"""

from __future__ import annotations

import math
import posixpath
import re
import zipfile
import zlib
from collections import deque
from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import NamedTuple
from xml.sax.saxutils import escape

import numpy as np
from lxml import etree

from . import ooxml_styles

# The references and values moved to cellref (no lxml there); re-exported, so importers keep working.
from .cellref import Area, CellError, Value, a1, col_letters, parse_cell, parse_ref, quote_sheet, ref  # noqa: F401

MAX_ROWS = 1_048_576
MAX_COLS = 16_384

#: What one zip member may inflate to. The largest part this project writes is the Learning
#: rates sheet holding the template's largest result (1,048,567 steps x 10 learning rates):
#: about 560 MB of XML; a bound of twice that fits it and stops a bomb at a known size.
MAX_PART_BYTES = 1 << 30
#: What all members together may inflate to (the same book: about 600 MB).
MAX_BOOK_BYTES = 3 << 29
#: Tags ("<") in one XML part, counted before parsing: a parsed element costs several hundred
#: bytes, so this bounds the tree where bytes alone do not (1 GiB of "<a/>" would be 268
#: million elements). The largest result sheet has about 48 million.
MAX_XML_TAGS = 64_000_000
#: Members in one package (the template has 26; a run adds a handful).
MAX_PARTS = 10_000
#: Cells one ``read_cells`` call reads (inputs are at most 10 cells; a chart's cached values
#: are at most ``macros.CHART_CACHE_LIMIT``, 20,000): a whole-sheet area is refused, not built.
MAX_READ_CELLS = 100_000
#: Deflate level for the parts ``save`` writes: for a 200,000-step loss table (64 MB of XML) 1
#: compresses in half the time of zlib's default 6 for a file 17% larger (20.4 vs 17.4 MB).
COMPRESS_LEVEL = 1
_CHUNK_ROWS = 8192  # rows of a numeric block formatted at a time while streaming
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

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
REL_STYLES = NS_R + "/styles"
CT_STYLES = "application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"
CT_DRAWING = "application/vnd.openxmlformats-officedocument.drawing+xml"
CT_CHART = "application/vnd.openxmlformats-officedocument.drawingml.chart+xml"
EMU_PER_POINT = 12_700

# Children of <worksheet> that may follow <drawing>, in schema order (ECMA-376 §18.3.1.99).
_AFTER_DRAWING = ("legacyDrawing", "legacyDrawingHF", "drawingHF", "picture", "oleObjects", "controls",
                  "webPublishItems", "tableParts", "extLst")
_ANCHORS = ("twoCellAnchor", "oneCellAnchor", "absoluteAnchor")


def _q(ns: str, tag: str) -> str:
    return f"{{{ns}}}{tag}"


class _Block(NamedTuple):
    """Numbers below a sheet's last <row>, kept as the array they came in (see ``write_cells``)."""

    row: int
    col: int
    values: np.ndarray  # 2-D float64, finite
    styles: tuple[int | None, ...] | None = None  # a cell format (s) per column

    @property
    def last(self) -> int:
        return self.row + self.values.shape[0] - 1


class BookError(ValueError):
    """The workbook file is not one this reader takes: one line naming the part, sheet or cell
    and what is wrong. A ValueError, so that callers answer it as any other bad input."""


def _one_line(text: str, limit: int = 200) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _parser() -> etree.XMLParser:
    """The one parser for a book's parts. Every option set explicitly: lxml before 5 resolves
    entities by default (4.9 is allowed by pyproject), and a default can change again. Tested
    here with the installed lxml (6.0, libxml2 2.14); under any version a DOCTYPE never reaches
    it, since ``_parse`` refuses one before parsing."""
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                           huge_tree=False)


_DOCTYPE = tuple("<!DOCTYPE".encode(e) for e in ("utf-8", "utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"))
_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")


def _parse(part: str, data: bytes) -> etree._Element:
    """``part`` parsed safely: a DOCTYPE (where DTDs and entities live) is refused before
    parsing, and again after it for an encoding the byte search did not cover."""
    if any(d in data for d in _DOCTYPE):
        raise BookError(f"{part}: has a DOCTYPE (a DTD or entity declarations); a workbook part has none, "
                        "refused")
    tags = data.count(b"<")
    if tags > MAX_XML_TAGS:
        raise BookError(f"{part}: {tags:,} XML tags, more than the {MAX_XML_TAGS:,} this tool parses; refused "
                        "(an XML bomb, or not a workbook this tool reads)")
    m = _ENCODING.match(data[:200])
    if m and m.group(1).lower().replace(b"_", b"-") not in (b"utf-8", b"utf8", b"utf-16", b"ascii", b"us-ascii"):
        raise BookError(f"{part}: declares the encoding {m.group(1).decode('ascii')!r}; expected UTF-8 or UTF-16")
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        raise BookError(f"{part}: malformed XML ({_one_line(exc.msg or exc, 120)})") from None
    tree = root.getroottree()
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise BookError(f"{part}: has a DOCTYPE (a DTD or entity declarations); a workbook part has none, refused")
    if not isinstance(root.tag, str):
        raise BookError(f"{part}: malformed XML (no root element)")
    return root


def _unsafe_name(name: str) -> bool:
    """A zip entry name that could land outside a folder if extracted, or that OOXML forbids."""
    segments = name.split("/")
    return (not name or name.startswith("/") or "\\" in name or "\0" in name or re.match(r"[A-Za-z]:", name) is not None
            or any(seg in ("..", ".") for seg in segments))


def _rels_path(part: str) -> str:
    folder, name = posixpath.split(part)
    return posixpath.join(folder, "_rels", name + ".rels")


def _resolve(source_part: str, target: str) -> str:
    """The part a relationship of ``source_part`` points at; "../..." when it climbs out of the
    package (a normpath would quietly stop at the root)."""
    folder = [] if target.startswith("/") else [s for s in posixpath.dirname(source_part).split("/") if s]
    for seg in target.split("/"):
        if seg == "..":
            if not folder:
                return "../" + target
            folder.pop()
        elif seg not in ("", "."):
            folder.append(seg)
    return "/".join(folder)


def _relative(source_part: str, target_part: str) -> str:
    return posixpath.relpath(target_part, posixpath.dirname(source_part) or ".")


def _inflate(z: zipfile.ZipFile, info: zipfile.ZipInfo, inflated_so_far: int) -> bytes:
    """One member's bytes, read in chunks and stopped at the bounds whatever its header says."""
    name = info.filename

    def check(size: int) -> None:
        if size > MAX_PART_BYTES:
            raise BookError(f"{name}: inflates to more than {MAX_PART_BYTES:,} bytes, the limit for one part; "
                            "refused (a zip bomb, or not a workbook this tool reads)")
        if inflated_so_far + size > MAX_BOOK_BYTES:
            raise BookError(f"{name}: with it the book inflates to more than {MAX_BOOK_BYTES:,} bytes in all; "
                            "refused (a zip bomb, or not a workbook this tool reads)")

    check(info.file_size)
    chunks, size = [], 0
    try:
        with z.open(info) as fh:
            while chunk := fh.read(1 << 20):
                size += len(chunk)
                check(size)
                chunks.append(chunk)
    except BookError:
        raise
    except (RuntimeError, NotImplementedError) as exc:  # an encrypted member, an unknown compression
        raise BookError(f"{name}: cannot be read ({_one_line(exc, 100)}); encrypted or not an OOXML "
                        "workbook") from None
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError) as exc:
        raise BookError(f"{name}: damaged zip member ({_one_line(exc, 100)})") from None
    return b"".join(chunks)


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
        # Numeric blocks below the last <row> stay arrays until ``save`` formats them in bulk;
        # their rows are never also in ``_tail``.
        self._blocks: dict[str, list[_Block]] = {}
        self._shared: list[str] | None = None
        # The cell formats (s) of tail cells: part -> row -> {col: s}.
        self._tail_styles: dict[str, dict[int, dict[int, int]]] = {}

    @classmethod
    def read(cls, path: Path) -> Package:
        """Load every part of the zip at ``path``, each bounded; BookError if it is not a
        workbook this reader takes."""
        with open(path, "rb") as fh:
            magic = fh.read(8)
        if magic == _OLE_MAGIC:  # what Excel saves when a password protects the book, and .xls
            raise BookError(f"{path}: encrypted or not an OOXML workbook (an OLE compound file); "
                            "expected an .xlsx/.xlsm saved without a password")
        try:
            with zipfile.ZipFile(path) as z:
                infos = z.infolist()
                cls._check_names(path, infos)
                total = 0
                parts = {}
                for info in infos:
                    parts[info.filename] = _inflate(z, info, total)
                    total += len(parts[info.filename])
        except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError) as exc:
            raise BookError(f"{path}: expected an Excel workbook (.xlsx/.xlsm), got a file that is not a "
                            f"zip package or a damaged one ({_one_line(exc, 100)})") from None
        pkg = cls(infos, parts)
        # every XML part, whether or not the action needs it: a hostile or broken part is
        # refused up front, never copied into a result
        for name in parts:
            if name.lower().endswith((".xml", ".rels")):
                pkg.xml(name)
        if "[Content_Types].xml" not in parts or pkg.workbook_part not in parts:
            raise BookError(f"{path}: expected an Excel workbook (.xlsx/.xlsm), found no workbook part")
        return pkg

    @staticmethod
    def _check_names(path: Path, infos: list[zipfile.ZipInfo]) -> None:
        if len(infos) > MAX_PARTS:
            raise BookError(f"{path}: {len(infos):,} zip entries; expected at most {MAX_PARTS:,} in a workbook")
        seen: set[str] = set()
        for info in infos:
            name = info.filename
            # Refused rather than dropped: a part we dropped may be one the book needs, and a
            # name like this is never written by Excel, so the file was made to be hostile.
            if _unsafe_name(name):
                raise BookError(f"{path}: zip entry {name!r} is not a valid part name (absolute, '..', "
                                "backslash or drive letter); refused")
            if name.lower() in seen:  # which copy counts differs between readers; OPC names ignore case
                raise BookError(f"{path}: zip entry {name!r} appears twice; refused")
            seen.add(name.lower())

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
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=COMPRESS_LEVEL) as z:
            for name in names:
                old = self._infos.get(name)
                info = zipfile.ZipInfo(name, date_time=old.date_time if old else (1980, 1, 1, 0, 0, 0))
                if old is not None:
                    info.external_attr = old.external_attr
                info.compress_type = zipfile.ZIP_DEFLATED
                if self._tail.get(name) or self._blocks.get(name):
                    # ZipInfo's level attribute: _compresslevel up to 3.12, an alias of compress_level after
                    info._compresslevel = COMPRESS_LEVEL
                    self._write_with_tail(z, info, name)
                else:
                    z.writestr(info, self.parts[name], compresslevel=COMPRESS_LEVEL)

    def _write_with_tail(self, z: zipfile.ZipFile, info: zipfile.ZipInfo, part: str) -> None:
        """Stream a sheet part: its XML up to the end of <sheetData>, the tail rows and the
        numeric blocks as text, in row order, then the rest."""
        data = self.parts[part]
        empty = re.search(rb"<((?:\w+:)?sheetData)\s*/>", data)
        if empty:
            head, tail = data[:empty.start()] + b"<" + empty.group(1) + b">", b"</" + empty.group(1) + b">" + \
                data[empty.end():]
        else:
            end = list(re.finditer(rb"</(?:\w+:)?sheetData>", data))[-1]
            head, tail = data[:end.start()], data[end.start():]
        rows = self._tail.get(part, {})
        # rows and blocks in order: a block's rows are never tail rows
        pieces = sorted([(r, None) for r in rows] + [(b.row, b) for b in self._blocks.get(part, ())],
                        key=lambda x: x[0])
        letters: dict[int, str] = {}
        with z.open(info, "w") as out, _Writer(out) as writer:
            writer.write(head)
            chunk: list[str] = []
            for r, block in pieces:
                if block is None:
                    chunk.append(_row_text(r, rows[r], letters, self._tail_styles.get(part, {}).get(r)))
                    if len(chunk) < 4096:
                        continue
                writer.write("".join(chunk).encode())
                chunk = []
                if block is not None:
                    for text in _block_rows(block):
                        writer.write(text.encode())
            writer.write("".join(chunk).encode())
            writer.write(tail)

    # -- XML parts
    def xml(self, part: str) -> etree._Element:
        """The parsed part, to read (parsed once, safely: see ``_parse``)."""
        if part not in self._trees:
            if part not in self.parts:
                raise BookError(f"{part}: missing from the workbook package (a relationship names it)")
            self._trees[part] = _parse(part, self.parts[part])
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
        out = []
        for r in self.xml(rp):
            if r.get("TargetMode") == "External" or not isinstance(r.tag, str):
                continue
            out.append((r.get("Id"), r.get("Type"), self._target(rp, part, r)))
        return out

    def _target(self, rels_part: str, source: str, rel: etree._Element) -> str:
        target = rel.get("Target")
        if not target:
            raise BookError(f"{rels_part}: relationship {rel.get('Id')} has no Target")
        resolved = _resolve(source, target)
        if resolved.startswith("../") or resolved in ("..", ".", "") or _unsafe_name(resolved):
            raise BookError(f"{rels_part}: relationship {rel.get('Id')} points outside the package ({target!r})")
        return resolved

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
                if any(r.get("TargetMode") != "External" and isinstance(r.tag, str)
                       and self._target(name, source, r) == target_part for r in self.xml(name)):
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
        for _, rtype, target in self.rels(""):
            if rtype == REL_OFFICE_DOC:
                return target
        return "xl/workbook.xml"

    def sheets(self) -> dict[str, str]:
        """Worksheet name -> part name, in workbook order."""
        wb = self.workbook_part
        targets = {rid: t for rid, _, t in self.rels(wb)}
        out = {}
        for s in self.xml(wb).iter(_q(NS_MAIN, "sheet")):
            name, rid = s.get("name"), s.get(_q(NS_R, "id"))
            if not name or rid not in targets:
                raise BookError(f"{wb}: sheet {name!r} names relationship {rid!r}, which {_rels_path(wb)} "
                                "lacks" if name else f"{wb}: a <sheet> without a name")
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
        for d in self.xml(self.workbook_part).iter(_q(NS_MAIN, "definedName")):
            name = d.get("name")
            if not name or name.startswith("_xlnm."):
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
            if data is None:
                raise BookError(f"{part} (sheet {sheet!r}): no <sheetData>; expected a worksheet")
            rows: dict[int, etree._Element] = {}
            last = 0
            for row in data.iterfind(_q(NS_MAIN, "row")):
                text = row.get("r")
                if text is None:
                    last += 1
                elif text.isdigit() and 1 <= int(text) <= MAX_ROWS:
                    last = int(text)
                else:
                    raise BookError(f"{part} (sheet {sheet!r}): <row r={text!r}>; expected a row number from 1 "
                                    f"to {MAX_ROWS:,}")
                if last - 1 in rows or last > MAX_ROWS:
                    raise BookError(f"{part} (sheet {sheet!r}): row {last} appears twice or out of order")
                row.set("r", str(last))
                rows[last - 1] = row
            self._row_index[part] = (data, rows)
        return self._row_index[part]

    def _cells(self, row: etree._Element) -> dict[int, etree._Element]:
        cells: dict[int, etree._Element] = {}
        col = -1
        r = int(row.get("r"))
        for c in row.iterfind(_q(NS_MAIN, "c")):
            text = c.get("r")
            if text:
                try:
                    col = parse_cell(text)[1]
                except ValueError:
                    col = -1
            else:
                col += 1
            if not 0 <= col < MAX_COLS or col in cells:
                raise BookError(f"{self._part_of(row)}: row {r} has a cell <c r={text!r}>; expected a cell "
                                "reference like B5, each once")
            c.set("r", a1(r - 1, col))
            cells[col] = c
        return cells

    def _part_of(self, el: etree._Element) -> str:
        root = el.getroottree().getroot()
        return next((p for p, t in self._trees.items() if t is root), "a sheet")

    def _value(self, c: etree._Element, sheet: str) -> Value:
        t = c.get("t", "n")
        if t == "inlineStr":
            return "".join(x.text or "" for x in c.iter(_q(NS_MAIN, "t")))
        v = c.find(_q(NS_MAIN, "v"))
        if v is None or v.text is None:
            return None
        if t == "s":
            strings = self.shared_strings()
            k = v.text.strip()
            if not k.isdigit() or int(k) >= len(strings):
                raise BookError(f"{ref(sheet, *parse_cell(c.get('r')), absolute=False)}: refers to shared string "
                                f"{_one_line(k, 40)!r}; the book has {len(strings)} (xl/sharedStrings.xml)")
            return strings[int(k)]
        if t == "b":
            return v.text.strip() in ("1", "true")
        if t == "e":
            return CellError(v.text)
        if t in ("str", "d"):
            return v.text
        try:
            return float(v.text)
        except ValueError:
            raise BookError(f"{ref(sheet, *parse_cell(c.get('r')), absolute=False)}: the cell's value "
                            f"{_one_line(v.text, 40)!r} is not a number") from None

    def read_cells(self, area: Area, max_cells: int = MAX_READ_CELLS) -> list[list[Value]]:
        """The values in ``area`` (cached results for formulas), row by row; None where empty.
        An area of more than ``max_cells`` cells is refused, not read."""
        height, width = area.shape
        if height * width > max_cells:
            raise BookError(f"{area}: {height:,} x {width:,} cells; expected at most {max_cells:,} to read")
        _, rows = self._rows(area.sheet)
        part = self.sheet_part(area.sheet)
        tail = self._tail.get(part, {})
        out: list[list[Value]] = [[None] * width for _ in range(height)]
        # only the rows that exist: sparse, whatever the area's size
        for r in sorted(k for k in rows if area.row1 <= k <= area.row2 and k not in tail):
            line = out[r - area.row1]
            for c, cell in self._cells(rows[r]).items():
                if area.col1 <= c <= area.col2:
                    line[c - area.col1] = self._value(cell, area.sheet)
        for r in sorted(k for k in tail if area.row1 <= k <= area.row2):
            line = out[r - area.row1]
            for c, v in _merge(tail[r]).items():
                if area.col1 <= c <= area.col2:
                    line[c - area.col1] = v
        for b in self._blocks.get(part, ()):
            r1, r2 = max(area.row1, b.row), min(area.row2, b.row + b.values.shape[0] - 1)
            c1, c2 = max(area.col1, b.col), min(area.col2, b.col + b.values.shape[1] - 1)
            if r1 <= r2 and c1 <= c2:
                for i, vals in enumerate(b.values[r1 - b.row:r2 - b.row + 1, c1 - b.col:c2 - b.col + 1].tolist()):
                    out[r1 - area.row1 + i][c1 - area.col1:c2 - area.col1 + 1] = vals
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

    def write_cells(self, sheet: str, row0: int, col0: int, values: Sequence[Sequence[Value]] | np.ndarray,
                    styles: Sequence[int | None] | None = None) -> None:
        """Write a 2-D block of values with its top-left corner at (row0, col0): numbers,
        booleans, text (as inline strings; the shared-string table is left alone) or None
        (an empty cell). Formulas in the block are replaced. ``styles``: a cell format
        (``style_index``) per column of the block, None to keep a cell's own.

        A 2-D float array is the fast way for long results: its rows below the sheet's last
        <row> stay an array (the caller's, not a copy: leave it unchanged until ``save``),
        formatted in bulk and streamed into the file by ``save``; a value that is not finite is
        refused here, naming its cell."""
        if isinstance(values, np.ndarray):
            self._write_array(sheet, row0, col0, values, styles)
            return
        if not len(values):
            return
        height, width = len(values), max(len(r) for r in values)
        if row0 + height > MAX_ROWS or col0 + width > MAX_COLS:
            raise ValueError(f"{ref(sheet, row0, col0)}: a block of {height} x {width} cells does not fit "
                             f"on a sheet ({MAX_ROWS} rows x {MAX_COLS} columns)")
        data, rows = self._rows(sheet, edit=True)
        part = self.sheet_part(sheet)
        self._unblock(part, row0, row0 + height - 1)
        tail = self._tail.setdefault(part, {})
        last = max(rows, default=-1)
        formulas = False
        new_rows = False
        for i, line in enumerate(values):
            r = row0 + i
            if r > last:  # below every <row>: kept as values, written as text by save
                tail.setdefault(r, []).append((col0, line))
                if styles:
                    self._tail_styles.setdefault(part, {}).setdefault(r, {}).update(
                        {col0 + j: s for j, s in enumerate(styles) if s is not None})
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
                if styles and j < len(styles) and styles[j] is not None:
                    c.set("s", str(styles[j]))
            if added:
                _sort_children(row, cells)
        if new_rows:
            data[:] = [rows[k] for k in sorted(rows)]
        if formulas:
            self._drop_calc_chain()

    def _write_array(self, sheet: str, row0: int, col0: int, values: np.ndarray,
                     styles: Sequence[int | None] | None = None) -> None:
        values = np.asarray(values, dtype=float)
        if values.ndim != 2:
            raise ValueError(f"{ref(sheet, row0, col0)}: expected a 2-D block of values, got {values.ndim}-D")
        height, width = values.shape
        if not height or not width:
            return
        if row0 + height > MAX_ROWS or col0 + width > MAX_COLS:
            raise ValueError(f"{ref(sheet, row0, col0)}: a block of {height} x {width} cells does not fit "
                             f"on a sheet ({MAX_ROWS} rows x {MAX_COLS} columns)")
        bad = ~np.isfinite(values)
        if bad.any():
            i, j = np.argwhere(bad)[0]
            raise ValueError(f"{a1(row0 + i, col0 + j)}: cannot store {float(values[i, j])!r} in a cell")
        _, rows = self._rows(sheet, edit=True)
        part = self.sheet_part(sheet)
        # rows at or above the last <row> go in as elements, the rest as one block
        split = min(max(max(rows, default=-1) + 1 - row0, 0), height)
        if split:
            self.write_cells(sheet, row0, col0, values[:split].tolist(), styles)
        if split == height:
            return
        first, last = row0 + split, row0 + height - 1
        tail = self._tail.get(part, {})
        if any(first <= r <= last for r in tail) or any(b.row <= last and first <= b.last
                                                         for b in self._blocks.get(part, ())):
            self.write_cells(sheet, first, col0, values[split:].tolist(), styles)  # overlaps: the general path
            return
        self._blocks.setdefault(part, []).append(  # kept, not copied
            _Block(first, col0, values[split:], tuple(styles) if styles else None))

    def _unblock(self, part: str, first: int, last: int) -> None:
        """Turn the numeric blocks that meet rows first..last into tail rows (an edit across
        them; rare, so kept simple)."""
        blocks = self._blocks.get(part, [])
        hit = [b for b in blocks if b.row <= last and first <= b.last]
        if not hit:
            return
        tail = self._tail.setdefault(part, {})
        for b in hit:
            blocks.remove(b)
            for i, line in enumerate(b.values.tolist()):
                tail[b.row + i] = [(b.col, line)]
                if b.styles:
                    self._tail_styles.setdefault(part, {}).setdefault(b.row + i, {}).update(
                        {b.col + j: s for j, s in enumerate(b.styles) if s is not None})

    def clear_cells(self, area: Area, formats: bool = False) -> None:
        """Empty every cell in ``area`` (styles kept unless ``formats``, elements without a style
        removed)."""
        data, rows = self._rows(area.sheet, edit=True)
        part = self.sheet_part(area.sheet)
        if any(b.row <= area.row2 and area.row1 <= b.last and b.col <= area.col2
               and area.col1 <= b.col + b.values.shape[1] - 1 for b in self._blocks.get(part, ())):
            self._unblock(part, area.row1, area.row2)
        tail = self._tail.get(part, {})
        for r in [k for k in tail if area.row1 <= k <= area.row2]:
            kept = {c: v for c, v in _merge(tail.pop(r)).items() if not area.col1 <= c <= area.col2}
            if kept:
                tail[r] = [(c, [v]) for c, v in sorted(kept.items())]
            row_styles = self._tail_styles.get(part, {}).get(r, {})
            for c in [c for c in row_styles if area.col1 <= c <= area.col2 or c not in kept]:
                del row_styles[c]
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
        for b in self._blocks.get(part, ()):
            used += [b.row, b.last]
            cols += [b.col, b.col + b.values.shape[1] - 1]
        if not used or not cols:
            dim.set("ref", "A1")
            return
        dim.set("ref", f"{a1(min(used), min(cols))}:{a1(max(used), max(cols))}")

    # -- cell formats and column widths (the XML work is in ooxml_styles)
    def style_index(self, spec) -> int:
        """The cell format (a cell's ``s``) that looks like ``spec`` (a ``layout.Style``): the
        stylesheet's own if it has one, else added to it."""
        wb = self.workbook_part
        part = next((t for _, rtype, t in self.rels(wb) if rtype == REL_STYLES), None)
        if part is None or part not in self.parts:  # a book without a stylesheet (optional in OOXML)
            part = "xl/styles.xml" if part is None else part
            self._new_xml(part, ooxml_styles.new_stylesheet())
            self.add_override(part, CT_STYLES)
            if not any(rtype == REL_STYLES for _, rtype, _ in self.rels(wb)):
                self.add_rel(wb, REL_STYLES, part)
        root = self.xml(part)
        before = etree.tostring(root)
        index = ooxml_styles.ensure_xf(root, spec)
        if etree.tostring(root) != before:  # a stylesheet that already has the format stays byte for byte
            self._dirty.add(part)
        return index

    def set_column_widths(self, sheet: str, widths: dict[int, float]) -> None:
        """Columns (0-based) of ``sheet`` -> their width in characters."""
        ooxml_styles.set_widths(self.edit(self.sheet_part(sheet)), widths)

    # -- drawings: charts and pictures
    def _drawing(self, sheet: str, create: bool) -> str | None:
        part = self.sheet_part(sheet)
        root = self.xml(part)
        el = root.find(_q(NS_MAIN, "drawing"))
        if el is not None:
            rid = el.get(_q(NS_R, "id"))
            target = next((t for i, _, t in self.rels(part) if i == rid), None)
            if target is None:
                raise BookError(f"{part} (sheet {sheet!r}): its <drawing> names relationship {rid!r}, which "
                                f"{_rels_path(part)} lacks")
            return target
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


def _row_text(r: int, segments: list[tuple[int, Sequence[Value]]], letters: dict[int, str],
              styles: dict[int, int] | None = None) -> str:
    """One <row> of the tail as XML text, in the form ``_set_value`` gives a cell (``styles``:
    column -> cell format)."""
    cells = _merge(segments) if len(segments) > 1 else {
        segments[0][0] + j: v for j, v in enumerate(segments[0][1]) if v is not None}
    n = r + 1
    out = [f'<row r="{n}">']
    for c in sorted(cells):
        v = cells[c]
        ref_ = f"{letters.get(c) or letters.setdefault(c, col_letters(c))}{n}"
        at = f'r="{ref_}" s="{styles[c]}"' if styles and c in styles else f'r="{ref_}"'
        if isinstance(v, bool):
            out.append(f'<c {at} t="b"><v>{int(v)}</v></c>')
        elif isinstance(v, str):
            space = ' xml:space="preserve"' if v != v.strip() else ""
            out.append(f'<c {at} t="inlineStr"><is><t{space}>{escape(v)}</t></is></c>')
        else:
            out.append(f"<c {at}><v>{_number_text(v, ref_)}</v></c>")
    out.append("</row>")
    return "".join(out)


class _Writer:
    """Writes to ``out`` (a zip member) in a second thread, in order, while this one formats the
    next rows: zlib and crc32 release the GIL, so compressing overlaps formatting. At most two
    chunks wait, so memory stays a few chunks whatever the sheet's size."""

    def __init__(self, out):
        self._out = out
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="xl-backprop-zip")
        self._pending: deque[Future] = deque()

    def write(self, data: bytes) -> None:
        while len(self._pending) >= 2:
            self._pending.popleft().result()  # raises what the write raised
        self._pending.append(self._pool.submit(self._out.write, data))

    def __enter__(self) -> _Writer:
        return self

    def __exit__(self, *exc) -> None:
        try:
            while self._pending:
                future = self._pending.popleft()
                if exc[0] is None:
                    future.result()
                else:
                    future.cancel() or future.exception()
        finally:
            self._pool.shutdown(wait=True)


def _block_rows(block: _Block) -> Iterable[str]:
    """The <row> elements of a numeric block as text, a chunk of rows at a time, each cell as
    ``_row_text`` writes it (whole numbers below 1e15 as integers, others in ``repr``, which
    reads back as the same float)."""
    n_cols = block.values.shape[1]
    s = block.styles or ()
    template = ('<row r="%d">' + "".join(f'<c r="{col_letters(block.col + j)}%d"'
                                         + (f' s="{s[j]}"' if j < len(s) and s[j] is not None else "")
                                         + "><v>%s</v></c>" for j in range(n_cols)) + "</row>").__mod__
    for start in range(0, block.values.shape[0], _CHUNK_ROWS):
        chunk = block.values[start:start + _CHUNK_ROWS]
        first = block.row + start + 1
        numbers = range(first, first + len(chunk))
        # one tuple per row: (n, n, text of column 0, n, text of column 1, ...)
        args = [numbers]
        for j in range(n_cols):
            args += [numbers, _column_text(chunk[:, j])]
        yield "".join(map(template, zip(*args, strict=True)))


def _column_text(col: np.ndarray) -> list[str]:
    whole = (col == np.trunc(col)) & (np.abs(col) < 1e15)
    if whole.all():
        return list(map(str, col.astype(np.int64).tolist()))
    if not whole.any():
        return list(map(repr, col.tolist()))
    return [str(int(x)) if w else repr(x) for x, w in zip(col.tolist(), whole.tolist(), strict=True)]


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
