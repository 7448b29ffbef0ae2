"""The tests' one reader of OOXML packages: zipfile and ElementTree (and pyOpenVBA for the VBA
project), never the code under test, so what a file stores is checked independently."""

from __future__ import annotations

import math
import re
import struct
import zipfile
from pathlib import Path
from types import SimpleNamespace
from xml.etree import ElementTree

NS = {
    "ui": "http://schemas.microsoft.com/office/2009/07/customui",
    "m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "rel": "http://schemas.openxmlformats.org/package/2006/relationships",
    "xdr": "http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing",
    "a": "http://schemas.openxmlformats.org/drawingml/2006/main",
    "c": "http://schemas.openxmlformats.org/drawingml/2006/chart",
    "ct": "http://schemas.openxmlformats.org/package/2006/content-types",
}
R_ID = f"{{{NS['r']}}}id"
R_EMBED = f"{{{NS['r']}}}embed"


# --- parts, relationships, drawings ----------------------------------------------------------
def parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}


# A stored value is a cell's or a chart point's cached number, <v> or <c:v>.
_STORED = re.compile(rb"(<(?:c:)?v>)([^<]*)(</(?:c:)?v>)")
#: how far two builds' stored numbers may differ: a few ulps. The engine's exp comes from numpy,
#: whose SIMD exp (AVX-512 or not, by the CPU) differs from libm's by an ulp, so two machines'
#: builds of the same template can differ in a stored number's last digit, and nothing else.
STORED_REL_TOL = 1e-14


def _number(text: bytes) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def package_differences(a: Path, b: Path) -> list[str]:
    """The parts in which two packages differ, with the first difference of each: every byte
    must match, except stored numbers, which must agree to ``STORED_REL_TOL``."""
    pa, pb = parts(a), parts(b)
    if list(pa) != list(pb):
        return [f"part lists differ: {sorted(set(pa) ^ set(pb))} (or their order)"]
    out = []
    for name, one in pa.items():
        two = pb[name]
        if one == two:
            continue
        sa, sb = _STORED.split(one), _STORED.split(two)
        if len(sa) != len(sb):
            out.append(f"{name}: a different number of stored values")
            continue
        for k, (x, y) in enumerate(zip(sa, sb, strict=True)):
            if x == y:
                continue
            nx, ny = (_number(x), _number(y)) if k % 4 == 2 else (None, None)
            if nx is None or ny is None or not math.isclose(nx, ny, rel_tol=STORED_REL_TOL, abs_tol=1e-300):
                out.append(f"{name}: {x[:80]!r} != {y[:80]!r}")
                break
    return out


def _target(source: str, target: str) -> str:
    if target.startswith("/"):
        return target[1:]
    base = source.rsplit("/", 1)[0].split("/") if "/" in source else []
    for piece in target.split("/"):
        if piece == "..":
            base.pop()
        elif piece != ".":
            base.append(piece)
    return "/".join(base)


def rels(p: dict[str, bytes], part: str) -> dict[str, str]:
    folder, name = part.rsplit("/", 1) if "/" in part else ("", part)
    rp = f"{folder}/_rels/{name}.rels" if folder else f"_rels/{name}.rels"
    if rp not in p:
        return {}
    return {
        r.get("Id"): _target(part, r.get("Target"))
        for r in ElementTree.fromstring(p[rp])
        if r.get("TargetMode") != "External"
    }


def sheet_part(p: dict[str, bytes], sheet: str) -> str:
    wb = ElementTree.fromstring(p["xl/workbook.xml"])
    targets = rels(p, "xl/workbook.xml")
    (s,) = [s for s in wb.iter(f"{{{NS['m']}}}sheet") if s.get("name") == sheet]
    return targets[s.get(R_ID)]


def drawing_part(p: dict[str, bytes], sheet: str) -> str | None:
    part = sheet_part(p, sheet)
    el = ElementTree.fromstring(p[part]).find("m:drawing", NS)
    return None if el is None else rels(p, part)[el.get(R_ID)]


def objects(p: dict[str, bytes], sheet: str) -> list[SimpleNamespace]:
    """The charts and pictures on ``sheet``: name, kind, the part drawn, top-left (col, row), description."""
    drawing = drawing_part(p, sheet)
    if drawing is None:
        return []
    targets = rels(p, drawing)
    out = []
    for anchor in ElementTree.fromstring(p[drawing]):
        props = anchor.find(".//xdr:cNvPr", NS)
        name = props.get("name")
        chart = anchor.find(".//c:chart", NS)
        blip = anchor.find(".//a:blip", NS)
        frm = anchor.find("xdr:from", NS)
        at = (int(frm.find("xdr:col", NS).text), int(frm.find("xdr:row", NS).text)) if frm is not None else None
        kind, part = (
            ("chart", targets[chart.get(R_ID)])
            if chart is not None
            else (("picture", targets[blip.get(R_EMBED)]) if blip is not None else ("other", None))
        )
        out.append(SimpleNamespace(name=name, kind=kind, part=part, at=at, description=props.get("descr")))
    return out


def png_size(png: bytes | Path) -> tuple[int, int]:
    """(width, height) of a PNG, from its IHDR chunk."""
    data = Path(png).read_bytes() if isinstance(png, Path) else png
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG signature"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


# --- workbook-level reading ---------------------------------------------------------------------
def sheet_parts(path: Path) -> dict[str, str]:
    """Sheet name -> its part name, through workbook.xml and its relationships."""
    with zipfile.ZipFile(path) as z:
        wb = ElementTree.fromstring(z.read("xl/workbook.xml"))
        rels = ElementTree.fromstring(z.read("xl/_rels/workbook.xml.rels"))
    targets = {r.get("Id"): r.get("Target") for r in rels.findall("rel:Relationship", NS)}
    out = {}
    for s in wb.find("m:sheets", NS):
        target = targets[s.get(f"{{{NS['r']}}}id")]
        out[s.get("name")] = target.lstrip("/") if target.startswith("/") else "xl/" + target
    return out


def cells(path: Path, sheet: str) -> dict[str, ElementTree.Element]:
    """A1 -> <c> element of every cell the sheet part holds."""
    with zipfile.ZipFile(path) as z:
        root = ElementTree.fromstring(z.read(sheet_parts(path)[sheet]))
    return {c.get("r"): c for c in root.iter(f"{{{NS['m']}}}c")}


def formulas(path: Path, sheet: str) -> dict[str, str]:
    """A1 -> formula text (no leading '=') of every formula cell of a sheet."""
    out = {}
    for ref, c in cells(path, sheet).items():
        f = c.find("m:f", NS)
        if f is not None and f.text:
            out[ref] = f.text
    return out


def defined_names(path: Path) -> dict[str, str]:
    """The workbook's own defined names (Excel's built-in ``_xlnm.`` print names are apart)."""
    with zipfile.ZipFile(path) as z:
        wb = ElementTree.fromstring(z.read("xl/workbook.xml"))
    return {
        d.get("name"): d.text for d in wb.iter(f"{{{NS['m']}}}definedName") if not d.get("name").startswith("_xlnm.")
    }


def print_names(path: Path) -> dict[tuple[str, str], str]:
    """(built-in name without ``_xlnm.``, sheet name) -> target, e.g. ("Print_Area", "UDFs")."""
    with zipfile.ZipFile(path) as z:
        wb = ElementTree.fromstring(z.read("xl/workbook.xml"))
    sheets = [s.get("name") for s in wb.iter(f"{{{NS['m']}}}sheet")]
    return {
        (d.get("name")[len("_xlnm.") :], sheets[int(d.get("localSheetId"))]): d.text
        for d in wb.iter(f"{{{NS['m']}}}definedName")
        if d.get("name").startswith("_xlnm.")
    }


def vba_modules(path: Path) -> dict[str, str]:
    from pyopenvba import ExcelFile

    with ExcelFile(path) as f:
        return f.vba_modules()
