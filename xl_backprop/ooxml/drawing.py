"""A worksheet's drawing: charts and pictures, each in a one-cell anchor at a cell's top-left.

Charts and pictures carry a name (``cNvPr/@name``): ``remove_objects`` finds them by it, so a
second run replaces what the first one drew. The anchor, the picture and the chart frame are
the elements XlsxWriter writes (what Excel has opened for years).
"""

from __future__ import annotations

from collections.abc import Iterable
from xml.sax.saxutils import escape

from lxml import etree

from .package import NS_MAIN, NS_R, BookError, Package, q, rels_path

NS_XDR = "http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing"
NS_A = "http://schemas.openxmlformats.org/drawingml/2006/main"
NS_C = "http://schemas.openxmlformats.org/drawingml/2006/chart"
REL_DRAWING = NS_R + "/drawing"
REL_CHART = NS_R + "/chart"
REL_IMAGE = NS_R + "/image"
CT_DRAWING = "application/vnd.openxmlformats-officedocument.drawing+xml"
CT_CHART = "application/vnd.openxmlformats-officedocument.drawingml.chart+xml"
EMU_PER_POINT = 12_700

# Children of <worksheet> that may follow <drawing>, in schema order (ECMA-376 §18.3.1.99).
_AFTER_DRAWING = (
    "legacyDrawing",
    "legacyDrawingHF",
    "drawingHF",
    "picture",
    "oleObjects",
    "controls",
    "webPublishItems",
    "tableParts",
    "extLst",
)
_ANCHORS = ("twoCellAnchor", "oneCellAnchor", "absoluteAnchor")


class Drawing:
    """The charts and pictures on the worksheet ``sheet`` (in the part ``part``) of ``pkg``."""

    def __init__(self, pkg: Package, part: str, sheet: str):
        self._pkg, self.part, self.sheet = pkg, part, sheet

    def _drawing(self, create: bool) -> str | None:
        """The sheet's drawing part; with ``create``, a new empty one if it has none."""
        pkg, part, sheet = self._pkg, self.part, self.sheet
        root = pkg.xml(part)
        el = root.find(q(NS_MAIN, "drawing"))
        if el is not None:
            rid = el.get(q(NS_R, "id"))
            target = next((t for i, _, t in pkg.rels(part) if i == rid), None)
            if target is None:
                raise BookError(
                    f"{part} (sheet {sheet!r}): its <drawing> names relationship {rid!r}, which {rels_path(part)} lacks"
                )
            return target
        if not create:
            return None
        root = pkg.edit(part)
        drawing = pkg.unused_name("xl/drawings/drawing{}.xml")
        pkg.new_xml(drawing, etree.Element(q(NS_XDR, "wsDr"), nsmap={"xdr": NS_XDR, "a": NS_A}))
        pkg.add_override(drawing, CT_DRAWING)
        rid = pkg.add_rel(part, REL_DRAWING, drawing)
        el = etree.Element(q(NS_MAIN, "drawing"))
        el.set(q(NS_R, "id"), rid)
        later = [child for child in root if etree.QName(child).localname in _AFTER_DRAWING]
        if later:
            later[0].addprevious(el)
        else:
            root.append(el)
        return drawing

    def object_names(self) -> list[str]:
        """Names of the charts and pictures drawn on the sheet, in drawing order."""
        drawing = self._drawing(create=False)
        if drawing is None:
            return []
        return [_anchor_name(a) for a in self._pkg.xml(drawing) if etree.QName(a).localname in _ANCHORS]

    def object_targets(self, name: str) -> list[str]:
        """The parts (chart XML, image) the object called ``name`` points at."""
        drawing = self._drawing(create=False)
        if drawing is None:
            return []
        targets = {i: t for i, _, t in self._pkg.rels(drawing)}
        return [
            targets[rid]
            for a in self._pkg.xml(drawing)
            if etree.QName(a).localname in _ANCHORS and _anchor_name(a) == name
            for rid in _anchor_rids(a)
        ]

    def remove_objects(self, names: Iterable[str], at: Iterable[tuple[int, int]] = ()) -> int:
        """Delete the charts and pictures called ``names``, and those whose top-left corner is
        at one of the cells ``at`` (0-based (row, col)), with the parts only they used; returns
        how many were removed. A drawing left empty goes too.

        Why the cells too: a name does not survive every re-save (openpyxl renames every chart
        "Chart 1", "Chart 2", ... and every picture "Image 1", ...), where the anchor's top-left
        cell does; our objects have cells of their own, so one found there is ours."""
        names, at = set(names), set(at)
        pkg = self._pkg
        drawing = self._drawing(create=False)
        if drawing is None:
            return 0
        root = pkg.xml(drawing)
        gone = [
            a
            for a in root
            if etree.QName(a).localname in _ANCHORS and (_anchor_name(a) in names or _anchor_cell(a) in at)
        ]
        if not gone:
            return 0
        root = pkg.edit(drawing)
        rids = {rid for a in gone for rid in _anchor_rids(a)}
        for a in gone:
            root.remove(a)
        self._drop_unused(drawing, rids - {rid for a in root for rid in _anchor_rids(a)})
        if not len(root):
            part = self.part
            sheet_root = pkg.edit(part)
            el = sheet_root.find(q(NS_MAIN, "drawing"))
            pkg.remove_rel(part, el.get(q(NS_R, "id")))
            sheet_root.remove(el)
            pkg.delete(drawing)
        return len(gone)

    def _drop_unused(self, drawing: str, rids: set[str]) -> None:
        """Remove the drawing's relationships ``rids``, and the parts they pointed at that nothing
        else refers to."""
        pkg = self._pkg
        targets = {i: t for i, _, t in pkg.rels(drawing)}
        for rid in rids:
            pkg.remove_rel(drawing, rid)
            if rid in targets and not pkg.referenced(targets[rid]):
                pkg.delete(targets[rid])

    def _next_id(self, drawing: str) -> int:
        ids = [
            int(e.get("id")) for e in self._pkg.xml(drawing).iter(q(NS_XDR, "cNvPr")) if (e.get("id") or "").isdigit()
        ]
        return max(ids, default=1) + 1

    def add_chart(self, row: int, col: int, width_pt: float, height_pt: float, name: str, chart_xml: bytes) -> str:
        """Place a chart (a DrawingML chartSpace part) with its top-left corner at the top-left
        of cell (row, col); returns the new chart part's name."""
        pkg = self._pkg
        drawing = self._drawing(create=True)
        chart = pkg.unused_name("xl/charts/chart{}.xml")
        pkg.parts[chart] = chart_xml
        pkg.add_override(chart, CT_CHART)
        rid = pkg.add_rel(drawing, REL_CHART, chart)
        frame = etree.fromstring(_GRAPHIC_FRAME.format(id=self._next_id(drawing), name=_xml_attr(name), rid=rid))
        pkg.edit(drawing).append(_one_cell_anchor(row, col, width_pt, height_pt, frame))
        return chart

    def add_picture(
        self, row: int, col: int, width_pt: float, height_pt: float, name: str, png: bytes, description: str = ""
    ) -> str:
        """Place a PNG picture with its top-left corner at cell (row, col); returns the new
        image part's name."""
        pkg = self._pkg
        drawing = self._drawing(create=True)
        image = pkg.unused_name("xl/media/image{}.png")
        pkg.parts[image] = png
        pkg.ensure_default("png", "image/png")
        rid = pkg.add_rel(drawing, REL_IMAGE, image)
        emu = (round(width_pt * EMU_PER_POINT), round(height_pt * EMU_PER_POINT))
        pic = etree.fromstring(
            _PICTURE.format(
                id=self._next_id(drawing),
                name=_xml_attr(name),
                descr=_xml_attr(description),
                rid=rid,
                cx=emu[0],
                cy=emu[1],
            )
        )
        pkg.edit(drawing).append(_one_cell_anchor(row, col, width_pt, height_pt, pic))
        return image


def _xml_attr(text: str) -> str:
    return escape(text, {'"': "&quot;"})


def _anchor_name(anchor: etree._Element) -> str:
    pr = next(anchor.iter(q(NS_XDR, "cNvPr")), None)
    return "" if pr is None else pr.get("name", "")


def _anchor_cell(anchor: etree._Element) -> tuple[int, int] | None:
    """The (row, col) of the cell at an anchor's top-left corner (None for an absolute anchor)."""
    frm = anchor.find(q(NS_XDR, "from"))
    if frm is None:
        return None
    row, col = (frm.findtext(q(NS_XDR, k), "").strip() for k in ("row", "col"))
    return (int(row), int(col)) if row.isdigit() and col.isdigit() else None


def _anchor_rids(anchor: etree._Element) -> list[str]:
    return [
        v for e in anchor.iter() for k, v in e.attrib.items() if k in (q(NS_R, "id"), q(NS_R, "embed"), q(NS_R, "link"))
    ]


def _one_cell_anchor(row: int, col: int, width_pt: float, height_pt: float, content: etree._Element) -> etree._Element:
    anchor = etree.fromstring(
        _ONE_CELL_ANCHOR.format(
            col=col, row=row, cx=round(width_pt * EMU_PER_POINT), cy=round(height_pt * EMU_PER_POINT)
        )
    )
    anchor.insert(2, content)
    return anchor


_NS_DECL = f'xmlns:xdr="{NS_XDR}" xmlns:a="{NS_A}" xmlns:r="{NS_R}"'
_ONE_CELL_ANCHOR = (
    f"<xdr:oneCellAnchor {_NS_DECL}>"
    "<xdr:from><xdr:col>{col}</xdr:col><xdr:colOff>0</xdr:colOff>"
    "<xdr:row>{row}</xdr:row><xdr:rowOff>0</xdr:rowOff></xdr:from>"
    '<xdr:ext cx="{cx}" cy="{cy}"/><xdr:clientData/></xdr:oneCellAnchor>'
)
_GRAPHIC_FRAME = (
    f'<xdr:graphicFrame {_NS_DECL} macro="">'
    '<xdr:nvGraphicFramePr><xdr:cNvPr id="{id}" name="{name}"/><xdr:cNvGraphicFramePr/>'
    "</xdr:nvGraphicFramePr>"
    '<xdr:xfrm><a:off x="0" y="0"/><a:ext cx="0" cy="0"/></xdr:xfrm>'
    f'<a:graphic><a:graphicData uri="{NS_C}"><c:chart xmlns:c="{NS_C}" r:id="{{rid}}"/>'
    "</a:graphicData></a:graphic></xdr:graphicFrame>"
)
_PICTURE = (
    f"<xdr:pic {_NS_DECL}>"
    '<xdr:nvPicPr><xdr:cNvPr id="{id}" name="{name}" descr="{descr}"/>'
    '<xdr:cNvPicPr><a:picLocks noChangeAspect="1"/></xdr:cNvPicPr></xdr:nvPicPr>'
    '<xdr:blipFill><a:blip r:embed="{rid}"/><a:stretch><a:fillRect/></a:stretch></xdr:blipFill>'
    '<xdr:spPr><a:xfrm><a:off x="0" y="0"/><a:ext cx="{cx}" cy="{cy}"/></a:xfrm>'
    '<a:prstGeom prst="rect"><a:avLst/></a:prstGeom></xdr:spPr></xdr:pic>'
)
