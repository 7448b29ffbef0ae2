"""Cell styles and column widths in an OOXML workbook: ``xl/styles.xml`` and a sheet's ``<cols>``.

Pure functions over lxml trees (``Workbook`` parses and saves the parts). A style is given as
``workbook.layout.STYLES`` declares it, as XlsxWriter format properties (those
``cellstyle.PROPERTIES`` names, any other refused there); ``ensure_xf`` gives the index of
a cell format (``<xf>`` in ``<cellXfs>``, a cell's ``s`` attribute) with that look, reusing an
identical one (the template's, as XlsxWriter wrote it) before adding one, in the form XlsxWriter
writes. ECMA-376 Part 1: §18.8 (styles), §18.3.1.13 (column width).
"""

from __future__ import annotations

import copy
import math
from typing import NamedTuple

from lxml import etree

from .. import cellstyle
from .package import NS_MAIN

#: Children of <styleSheet>, in schema order.
_STYLESHEET = (
    "numFmts",
    "fonts",
    "fills",
    "borders",
    "cellStyleXfs",
    "cellXfs",
    "cellStyles",
    "dxfs",
    "tableStyles",
    "colors",
    "extLst",
)
#: Children of <worksheet> that come before <cols>, in schema order.
_BEFORE_COLS = ("sheetPr", "dimension", "sheetViews", "sheetFormatPr")
#: Number formats with a built-in id that Excel knows without a <numFmt> (as XlsxWriter maps them).
_BUILTIN = {"General": 0, "0": 1}
_FIRST_CUSTOM = 164  # ids below are built in


class _Look(NamedTuple):
    """A style's XlsxWriter properties, checked: colours "#RRGGBB", ``border`` a thin line on
    every side, ``align`` a horizontal alignment."""

    num_format: str = "General"
    bold: bool = False
    fill: str | None = None
    font_color: str | None = None
    border: bool = False
    align: str | None = None


def _look(props: dict) -> _Look:
    cellstyle.check(props, "the file back-end")  # the properties the macros write: cellstyle's one rule
    return _Look(
        props.get("num_format", "General"),
        bool(props.get("bold")),
        props.get("bg_color"),
        props.get("font_color"),
        bool(props.get("border")),
        props.get("align"),
    )


def _q(tag: str) -> str:
    return f"{{{NS_MAIN}}}{tag}"


def _key(el: etree._Element) -> tuple:
    """What makes two style records the same: tag, attributes and children (in any order)."""
    return (el.tag, tuple(sorted(el.attrib.items())), tuple(sorted(_key(c) for c in el if isinstance(c.tag, str))))


def _child(parent: etree._Element, tag: str, order: tuple[str, ...]) -> etree._Element:
    """``parent``'s child ``tag``, added at its place in ``order`` if missing."""
    found = parent.find(_q(tag))
    if found is not None:
        return found
    el = parent.makeelement(_q(tag), {})
    later = set(order[order.index(tag) + 1 :])
    for k, c in enumerate(parent):
        if isinstance(c.tag, str) and etree.QName(c).localname in later:
            parent.insert(k, el)
            return el
    parent.append(el)
    return el


def _find_or_add(table: etree._Element, record: etree._Element) -> int:
    """Index of a record like ``record`` in ``table`` (fonts, fills, borders, cellXfs), added last
    if there is none; the table's count kept right."""
    items = [c for c in table if isinstance(c.tag, str)]
    key = _key(record)
    for k, item in enumerate(items):
        if _key(item) == key:
            return k
    table.append(record)
    table.set("count", str(len(items) + 1))
    return len(items)


def _argb(color: str) -> str:
    """ "#DDEBF7" -> "FFDDEBF7" (opaque ARGB, as XlsxWriter writes colours)."""
    return "FF" + color.lstrip("#").upper()


def _num_fmt_id(root: etree._Element, code: str) -> int:
    if code in _BUILTIN:
        return _BUILTIN[code]
    fmts = _child(root, "numFmts", _STYLESHEET)
    ids = []
    for f in fmts.iterfind(_q("numFmt")):
        if f.get("formatCode") == code and (f.get("numFmtId") or "").isdigit():
            return int(f.get("numFmtId"))
        if (f.get("numFmtId") or "").isdigit():
            ids.append(int(f.get("numFmtId")))
    new = max([_FIRST_CUSTOM - 1, *ids]) + 1
    etree.SubElement(fmts, _q("numFmt"), numFmtId=str(new), formatCode=code)
    fmts.set("count", str(len(fmts.findall(_q("numFmt")))))
    return new


def _font_id(root: etree._Element, spec: _Look) -> int:
    if not spec.bold and not spec.font_color:
        return 0
    fonts = _child(root, "fonts", _STYLESHEET)
    first = fonts.find(_q("font"))
    # the default font (size, name, family, scheme) with the changes: XlsxWriter builds fonts so
    font = copy.deepcopy(first) if first is not None else fonts.makeelement(_q("font"), {})
    if spec.bold and font.find(_q("b")) is None:
        font.insert(0, font.makeelement(_q("b"), {}))
    if spec.font_color:
        for c in font.findall(_q("color")):
            font.remove(c)
        color = font.makeelement(_q("color"), {"rgb": _argb(spec.font_color)})
        sz = font.find(_q("sz"))
        (sz.addnext(color) if sz is not None else font.append(color))
    return _find_or_add(fonts, font)


def _fill_id(root: etree._Element, spec: _Look) -> int:
    if not spec.fill:
        return 0
    fill = etree.Element(_q("fill"))
    pattern = etree.SubElement(fill, _q("patternFill"), patternType="solid")
    etree.SubElement(pattern, _q("fgColor"), rgb=_argb(spec.fill))
    etree.SubElement(pattern, _q("bgColor"), indexed="64")
    return _find_or_add(_child(root, "fills", _STYLESHEET), fill)


def _border_id(root: etree._Element, spec: _Look) -> int:
    if not spec.border:
        return 0
    border = etree.Element(_q("border"))
    for side in ("left", "right", "top", "bottom"):
        etree.SubElement(etree.SubElement(border, _q(side), style="thin"), _q("color"), auto="1")
    etree.SubElement(border, _q("diagonal"))
    return _find_or_add(_child(root, "borders", _STYLESHEET), border)


def ensure_xf(styles_root: etree._Element, props: dict) -> int:
    """Index in <cellXfs> of a cell format with the look of ``props`` (XlsxWriter format
    properties, a ``layout.STYLES`` entry): an identical one if the stylesheet has it, else a new
    one (with the number format, font, fill and border it needs)."""
    spec = _look(props)
    ids = {
        "numFmtId": _num_fmt_id(styles_root, spec.num_format),
        "fontId": _font_id(styles_root, spec),
        "fillId": _fill_id(styles_root, spec),
        "borderId": _border_id(styles_root, spec),
    }
    xf = etree.Element(_q("xf"), {k: str(v) for k, v in ids.items()}, xfId="0")
    for flag, key in (
        ("applyNumberFormat", "numFmtId"),
        ("applyFont", "fontId"),
        ("applyFill", "fillId"),
        ("applyBorder", "borderId"),
    ):
        if ids[key]:
            xf.set(flag, "1")
    if spec.align:
        xf.set("applyAlignment", "1")
        etree.SubElement(xf, _q("alignment"), horizontal=spec.align)
    _child(styles_root, "cellStyleXfs", _STYLESHEET)  # xfId="0" names its first record
    xfs = styles_root.find(_q("cellStyleXfs"))
    if not len(xfs):
        etree.SubElement(xfs, _q("xf"), numFmtId="0", fontId="0", fillId="0", borderId="0")
        xfs.set("count", "1")
    return _find_or_add(_child(styles_root, "cellXfs", _STYLESHEET), xf)


def stored_width(width: float) -> float:
    """The ``<col width>`` Excel stores for a column ``width`` characters wide (§18.3.1.13: whole
    pixels, padding included, in 1/256 of a digit), as XlsxWriter's ``set_column`` stores it."""
    return math.floor(cellstyle.column_pixels(width) * 256 / cellstyle.MAX_DIGIT_PX) / 256


def set_widths(sheet_root: etree._Element, widths: dict[int, float]) -> None:
    """Give columns (0-based) of a worksheet their width in characters; a ``<col>`` range that
    spans other columns too is split, keeping its other settings (style, hidden) for them."""
    if not widths:
        return
    cols = _cols(sheet_root)
    wanted = {c + 1: w for c, w in widths.items()}  # <col min max> count from 1
    out, covered = _split_cols(cols, wanted)
    for c in sorted(set(wanted) - covered):
        out.append(
            sheet_root.makeelement(
                _q("col"),
                {"min": str(c), "max": str(c), "width": f"{stored_width(wanted[c]):.16g}", "customWidth": "1"},
            )
        )
    out.sort(key=lambda el: int(el.get("min")))
    cols[:] = out


def _cols(sheet_root: etree._Element) -> etree._Element:
    """The worksheet's ``<cols>``, made where the schema puts it if there is none."""
    cols = sheet_root.find(_q("cols"))
    if cols is None:
        cols = sheet_root.makeelement(_q("cols"), {})
        last_before = [c for c in sheet_root if isinstance(c.tag, str) and etree.QName(c).localname in _BEFORE_COLS]
        (last_before[-1].addnext(cols) if last_before else sheet_root.insert(0, cols))
    return cols


def _split_cols(cols: etree._Element, wanted: dict[int, float]) -> tuple[list[etree._Element], set[int]]:
    """The ``<col>`` ranges of ``cols`` split around the ``wanted`` columns (1-based -> width),
    those given their width; and which wanted columns a range covered."""
    out: list[etree._Element] = []
    covered: set[int] = set()

    def piece(el: etree._Element, lo: int, hi: int, width: float | None) -> None:
        new = copy.deepcopy(el)
        new.set("min", str(lo))
        new.set("max", str(hi))
        if width is not None:
            new.set("width", f"{stored_width(width):.16g}")
            new.set("customWidth", "1")
            new.attrib.pop("bestFit", None)
        out.append(new)

    for el in [c for c in cols if isinstance(c.tag, str)]:
        lo, hi = int(el.get("min")), int(el.get("max"))
        start = lo
        for c in sorted(k for k in wanted if lo <= k <= hi):
            if start < c:
                piece(el, start, c - 1, None)
            piece(el, c, c, wanted[c])
            covered.add(c)
            start = c + 1
        if start <= hi:
            piece(el, start, hi, None)
    return out, covered


def new_stylesheet() -> etree._Element:
    """The smallest stylesheet Excel takes (for a package that has none): one default font,
    the two fills Excel reserves, no border, one cell format."""
    return etree.fromstring(
        f'<styleSheet xmlns="{NS_MAIN}"><fonts count="1"><font><sz val="11"/><name val="Calibri"/>'
        '<family val="2"/></font></fonts><fills count="2"><fill><patternFill patternType="none"/></fill>'
        '<fill><patternFill patternType="gray125"/></fill></fills><borders count="1"><border><left/><right/>'
        '<top/><bottom/><diagonal/></border></borders><cellStyleXfs count="1"><xf numFmtId="0" fontId="0" '
        'fillId="0" borderId="0"/></cellStyleXfs><cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" '
        'borderId="0" xfId="0"/></cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" '
        'builtinId="0"/></cellStyles></styleSheet>'
    )
