"""What Excel checks when it opens workbook_template.xlsm, and no application here can run:
the package's content types and relationships, the VBA project's streams against the
workbook's code names, the protection fields, dynamic-array formulas, the xlwings settings.

Every expectation comes from the specification ([MS-OVBA], ECMA-376 / OPC, [MS-CUSTOMUI2])
or from a file known to open in Excel: xlwings' own ``quickstart_standalone.xlsm``, the
standalone workbook ``xlwings quickstart --standalone`` hands its users. The VBA project is
read with olefile and oletools, not with pyOpenVBA, which wrote it.
"""

from __future__ import annotations

import posixpath
import re
import struct
import zipfile
from io import BytesIO
from pathlib import Path
from xml.etree import ElementTree

import olefile
import pytest
import xlwings
from oletools.olevba import decompress_stream

from xl_backprop.cellref import parse_ref

from .conftest import ROOT, TEMPLATE

KNOWN_GOOD = Path(xlwings.__file__).parent / "quickstart_standalone.xlsm"
M = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
CT = "{http://schemas.openxmlformats.org/package/2006/content-types}"
RID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
UDF_NAMES = {"SIGMOID", "FORWARD", "GRADIENTS", "BACKPROP_STEP", "TRAIN_CURVE", "GRAD_CHECK", "LR_SUMMARY", "LR_MAP"}
#: VB_Base of Excel's document modules (the Workbook and Worksheet coclasses).
WORKBOOK_BASE = "0{00020819-0000-0000-C000-000000000046}"
WORKSHEET_BASE = "0{00020820-0000-0000-C000-000000000046}"


# --- an independent reader of the VBA project ([MS-OVBA] 2.3.4) --------------------------------
def project_bin(path: Path) -> bytes:
    with zipfile.ZipFile(path) as z:
        return z.read("xl/vbaProject.bin")


def dir_modules(ole: olefile.OleFileIO) -> list[dict]:
    """The PROJECTMODULES of the ``dir`` stream: name, stream name, offset, kind, in order."""
    data = bytes(decompress_stream(bytearray(ole.openstream("VBA/dir").read())))
    out, module, i = [], None, 0
    while i < len(data):
        rid, size = struct.unpack_from("<HI", data, i)
        if rid == 0x0009:  # PROJECTVERSION: its size field says 4, its body is 6 bytes
            i += 12
            continue
        body = data[i + 6 : i + 6 + size]
        i += 6 + size
        if rid == 0x0019:
            module = {"name": body.decode("cp1252")}
        elif rid == 0x0047:
            module["name_unicode"] = body.decode("utf-16-le")
        elif rid == 0x001A:
            module["stream"] = body.decode("cp1252")
        elif rid == 0x0032:
            module["stream_unicode"] = body.decode("utf-16-le")
        elif rid == 0x0031:
            module["offset"] = struct.unpack("<I", body)[0]
        elif rid in (0x0021, 0x0022):
            module["kind"] = "procedural" if rid == 0x0021 else "document or class"
        elif rid == 0x002B:
            out.append(module)
        elif rid == 0x0010:
            break
    return out


def project_text(ole: olefile.OleFileIO) -> str:
    return ole.openstream("PROJECT").read().decode("cp1252")


def module_source(ole: olefile.OleFileIO, module: dict) -> str:
    raw = ole.openstream(f"VBA/{module['stream']}").read()
    return bytes(decompress_stream(bytearray(raw[module["offset"] :]))).decode("cp1252")


def decrypt(hex_text: str, project_id: str) -> tuple[int, int, int, bytes]:
    """[MS-OVBA] 2.4.3.3 Data Encryption, reversed: (version, project key, expected key, data)."""
    enc = bytes.fromhex(hex_text)
    seed, version_enc, key_enc = enc[0], enc[1], enc[2]
    unencrypted1, encrypted1, encrypted2 = seed ^ key_enc, key_enc, version_enc
    plain = bytearray()
    for byte_enc in enc[3:]:
        byte = byte_enc ^ ((encrypted2 + unencrypted1) & 0xFF)
        plain.append(byte)
        encrypted2, encrypted1, unencrypted1 = encrypted1, byte_enc, byte
    ignored = (seed & 6) // 2
    (length,) = struct.unpack_from("<I", plain, ignored)
    data = bytes(plain[ignored + 4 : ignored + 4 + length])
    assert len(plain) == ignored + 4 + length  # nothing after the data
    return seed ^ version_enc, seed ^ key_enc, sum(project_id.encode("cp1252")) & 0xFF, data


@pytest.fixture(scope="module", params=["template", "known good"])
def either(request) -> Path:
    """The template, and xlwings' file that opens in Excel: a check must hold for both."""
    return TEMPLATE if request.param == "template" else KNOWN_GOOD


@pytest.fixture(scope="module")
def ole():
    f = olefile.OleFileIO(BytesIO(project_bin(TEMPLATE)))
    yield f
    f.close()


# --- the VBA project -----------------------------------------------------------------------------
def test_vba_project_stream_is_version_ffff_without_a_performance_cache(either):
    """[MS-OVBA] 2.3.4.1: Version "MUST be 0xFFFF on write", PerformanceCache "MUST NOT be present
    on write". Any other Version is an Office build's: that build would load the cache instead of
    compiling the source."""
    with olefile.OleFileIO(BytesIO(project_bin(either))) as f:
        stream = f.openstream("VBA/_VBA_PROJECT").read()
        assert stream == bytes.fromhex("cc61ffff000100")
        assert not [e for e in f.listdir() if e[-1].startswith("__SRP_")]


def test_document_modules_are_the_workbook_and_sheet_code_names(either):
    """Excel ties ThisWorkbook and each sheet to the document module of the same code name; a
    project whose document modules do not match the package's code names is repaired away."""
    with zipfile.ZipFile(either) as z:
        wb = ElementTree.fromstring(z.read("xl/workbook.xml"))
        rels = ElementTree.fromstring(z.read("xl/_rels/workbook.xml.rels"))
        targets = {r.get("Id"): r.get("Target") for r in rels.iter(f"{REL}Relationship")}
        code_names = [wb.find(f"{M}workbookPr").get("codeName")]
        for sheet in wb.iter(f"{M}sheet"):
            part = ElementTree.fromstring(z.read("xl/" + targets[sheet.get(RID)]))
            code_names.append(part.find(f"{M}sheetPr").get("codeName"))
    with olefile.OleFileIO(BytesIO(project_bin(either))) as f:
        modules = dir_modules(f)
        documents = re.findall(r"^Document=(\w+)/&H00000000\r$", project_text(f), re.M)
        bases = {}
        for m in modules:
            found = re.search(r'^Attribute VB_Base = "([^"]+)"', module_source(f, m), re.M)
            bases[m["name"]] = found.group(1) if found else None
    assert code_names[0] == "ThisWorkbook" and len(set(code_names)) == len(code_names)
    assert sorted(documents) == sorted(code_names)
    assert bases[code_names[0]] == WORKBOOK_BASE
    assert all(bases[name] == WORKSHEET_BASE for name in code_names[1:])
    assert {m["name"] for m in modules if bases[m["name"]] in (WORKBOOK_BASE, WORKSHEET_BASE)} == set(code_names)


def test_project_stream_lists_every_module_once_with_its_kind(either):
    with olefile.OleFileIO(BytesIO(project_bin(either))) as f:
        modules = dir_modules(f)
        text = project_text(f)
        streams = {e[1] for e in f.listdir() if len(e) == 2 and e[0] == "VBA"}
        sources = {m["name"]: module_source(f, m) for m in modules}
    listed = re.findall(r"^(Document|Module|Class)=(\w+)", text, re.M)
    assert len(listed) == len(modules) == len({n for _, n in listed})
    kind = {name: k for k, name in listed}
    for m in modules:
        assert m["stream"] == m["name"] and m["stream"] in streams
        assert m["name_unicode"] == m["stream_unicode"] == m["name"]  # the names Excel's VBE shows
        assert re.match(rf'Attribute VB_Name = "{m["name"]}"\r?\n', sources[m["name"]])
        if kind[m["name"]] == "Module":
            assert m["kind"] == "procedural"
        else:
            assert m["kind"] == "document or class"
    assert streams == {"dir", "_VBA_PROJECT"} | {m["stream"] for m in modules}  # no orphan left behind
    workspace = re.findall(r"^(\w+)=\d+, \d+, \d+, \d+, ", text.split("[Workspace]")[1], re.M)
    assert sorted(workspace) == sorted(m["name"] for m in modules)


def test_standalone_modules_are_those_of_xlwings_known_good_file(ole):
    """quickstart_standalone.xlsm works without the add-in with a standard module ``xlwings`` and
    a class module ``Dictionary`` (used on a Mac); the template carries both, of the same kinds."""
    with olefile.OleFileIO(BytesIO(project_bin(KNOWN_GOOD))) as f:
        known = {m["name"]: m["kind"] for m in dir_modules(f)}
        known_kinds = dict(re.findall(r"^(Module|Class)=(\w+)", project_text(f), re.M)[::-1])
    ours = {m["name"]: m["kind"] for m in dir_modules(ole)}
    ours_listed = {name: k for k, name in re.findall(r"^(Module|Class)=(\w+)", project_text(ole), re.M)}
    for name in ("xlwings", "Dictionary"):
        assert ours[name] == known[name]
    assert ours_listed["xlwings"] == "Module" and ours_listed["Dictionary"] == "Class"
    assert {"Module", "Class"} == set(known_kinds)


def test_module_sources_decompress_to_the_files_they_were_built_from(ole):
    """A second decompressor ([MS-OVBA] 2.4.1, oletools') reads back, byte for byte, what VBA will
    compile: xlwings' module as the pinned package ships it, ours as the repository holds them."""
    sources = {m["name"]: module_source(ole, m) for m in dir_modules(ole)}
    files = {
        "xlwings": Path(xlwings.__file__).parent / "xlwings.bas",
        "xlwings_udfs": ROOT / "xl_backprop/workbook/vba/xl_backprop_udfs.bas",
        "BackpropRibbon": ROOT / "xl_backprop/workbook/vba/BackpropRibbon.bas",
    }
    for name, path in files.items():
        text = path.read_bytes().decode("cp1252").replace("\r\n", "\n").replace("\n", "\r\n")
        assert sources[name] == text, name


def test_protection_fields_decrypt_to_an_unprotected_visible_project(either):
    """CMG, DPB and GC are encrypted with a key made from the project ID ([MS-OVBA] 2.4.3): fields
    left from another project would not decrypt, and Excel reports the project as corrupt."""
    with olefile.OleFileIO(BytesIO(project_bin(either))) as f:
        text = project_text(f)
    project_id = re.search(r'^ID="(\{[0-9A-F-]{36}\})"\r$', text, re.M).group(1)
    fields = dict(re.findall(r'^(CMG|DPB|GC)="([0-9A-F]+)"\r$', text, re.M))
    assert set(fields) == {"CMG", "DPB", "GC"}
    plain = {}
    for name, value in fields.items():
        version, key, expected_key, data = decrypt(value, project_id)
        assert (version, key) == (2, expected_key), name
        plain[name] = data
    assert plain["CMG"] == bytes(4)  # protection state: nothing locked
    assert plain["DPB"] == b"\x00"  # no password
    assert plain["GC"] == b"\xff"  # the project is visible


def test_references_resolve_what_the_modules_use(ole):
    """IRibbonControl (our callbacks, xlwings' own) is in the Office library; xlwings' quickstart
    carries the same reference, by the same GUID."""
    data = bytes(decompress_stream(bytearray(ole.openstream("VBA/dir").read())))
    assert b"{2DF8D04C-5BFA-101B-BDE5-00AA0044DE52}" in data  # Microsoft Office Object Library
    with olefile.OleFileIO(BytesIO(project_bin(KNOWN_GOOD))) as f:
        known = bytes(decompress_stream(bytearray(f.openstream("VBA/dir").read())))
    assert b"{2DF8D04C-5BFA-101B-BDE5-00AA0044DE52}" in known


# --- the package (Open Packaging Conventions) ----------------------------------------------------
def test_every_part_has_a_content_type_and_every_relationship_a_target(either):
    with zipfile.ZipFile(either) as z:
        names = [n for n in z.namelist() if not n.endswith("/")]
        assert len(names) == len(set(names))
        types = ElementTree.fromstring(z.read("[Content_Types].xml"))
        defaults = {d.get("Extension").lower(): d.get("ContentType") for d in types.iter(f"{CT}Default")}
        overrides = {o.get("PartName"): o.get("ContentType") for o in types.iter(f"{CT}Override")}
        assert all(p.lstrip("/") in names for p in overrides), "an Override names a missing part"

        def content_type(part: str) -> str | None:
            return overrides.get("/" + part) or defaults.get(part.rsplit(".", 1)[-1].lower())

        for part in names:
            if part != "[Content_Types].xml":
                assert content_type(part), part
        assert content_type("xl/workbook.xml") == "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
        assert content_type("xl/vbaProject.bin") == "application/vnd.ms-office.vbaProject"
        for rels in (n for n in names if n.endswith(".rels")):
            source_dir = posixpath.dirname(posixpath.dirname(rels))
            for r in ElementTree.fromstring(z.read(rels)).iter(f"{REL}Relationship"):
                if r.get("TargetMode") == "External":
                    continue
                target = r.get("Target")
                part = (
                    target.lstrip("/")
                    if target.startswith("/")
                    else posixpath.normpath(posixpath.join(source_dir, target))
                )
                assert part in names, (rels, target)
        workbook_rels = ElementTree.fromstring(z.read("xl/_rels/workbook.xml.rels"))
        vba = [
            r
            for r in workbook_rels.iter(f"{REL}Relationship")
            if r.get("Type") == "http://schemas.microsoft.com/office/2006/relationships/vbaProject"
        ]
        assert [r.get("Target") for r in vba] == ["vbaProject.bin"]


def test_ribbon_relationship_type_is_the_one_of_its_namespace():
    """[MS-CUSTOMUI2] 2.1: a part in the 2009/07 namespace is the target of the 2007 ``ui/extensibility``
    relationship; the 2006 relationship is for the 2006/01 namespace ([MS-CUSTOMUI] 2.1)."""
    pairs = {
        "http://schemas.microsoft.com/office/2009/07/customui": "http://schemas.microsoft.com/office/2007/relationships/ui/extensibility",
        "http://schemas.microsoft.com/office/2006/01/customui": "http://schemas.microsoft.com/office/2006/relationships/ui/extensibility",
    }
    with zipfile.ZipFile(TEMPLATE) as z:
        rels = ElementTree.fromstring(z.read("_rels/.rels"))
        ui = [r for r in rels.iter(f"{REL}Relationship") if r.get("Type") in pairs.values()]
        assert len(ui) == 1
        root = ElementTree.fromstring(z.read(ui[0].get("Target").lstrip("/")))
    namespace = root.tag[1:].split("}")[0]
    assert pairs[namespace] == ui[0].get("Type")


# --- formulas ------------------------------------------------------------------------------------
def _sheets(path: Path) -> dict[str, ElementTree.Element]:
    with zipfile.ZipFile(path) as z:
        return {
            n: ElementTree.fromstring(z.read(n))
            for n in z.namelist()
            if re.fullmatch(r"xl/worksheets/sheet\d+\.xml", n)
        }


def test_every_udf_call_is_a_dynamic_array_formula():
    """A UDF returns a block: written as a plain formula, Excel 365 would show it as ``=@FORWARD(...)``
    and return one value. Each UDF formula is an array formula whose ``cm`` points at the
    XLDAPR (dynamic array) cell metadata, and no formula carries ``_xludf.`` (Excel's mark
    for a function it could not find)."""
    with zipfile.ZipFile(TEMPLATE) as z:
        meta = ElementTree.fromstring(z.read("xl/metadata.xml"))
    types = [t.get("name") for t in meta.iter(f"{M}metadataType")]
    cell_blocks = meta.find(f"{M}cellMetadata").findall(f"{M}bk")
    xda = "{http://schemas.microsoft.com/office/spreadsheetml/2017/dynamicarray}"
    dynamic = meta.find(f"{M}futureMetadata").iter(f"{xda}dynamicArrayProperties")
    assert [d.get("fDynamic") for d in dynamic] == ["1"]
    seen = set()
    for part, root in _sheets(TEMPLATE).items():
        for c in root.iter(f"{M}c"):
            f = c.find(f"{M}f")
            if f is None or not f.text:
                continue
            assert "_xludf." not in f.text and "@" not in f.text, (part, c.get("r"))
            assert not re.search(r"(?<![._\w])SEQUENCE\(", f.text), "SEQUENCE needs the _xlfn. prefix"
            called = {n.upper() for n in re.findall(r"([A-Za-z_][\w.]*)\(", f.text)} & UDF_NAMES
            if not called:
                continue
            seen |= called
            assert f.get("t") == "array" and f.get("ref"), (part, c.get("r"))
            (rc,) = cell_blocks[int(c.get("cm")) - 1].findall(f"{M}rc")
            assert types[int(rc.get("t")) - 1] == "XLDAPR", (part, c.get("r"))
    assert seen == UDF_NAMES - {"SIGMOID"}


# --- xlwings settings ------------------------------------------------------------------------------
def _shared_strings(z: zipfile.ZipFile) -> list[str]:
    sst = ElementTree.fromstring(z.read("xl/sharedStrings.xml"))
    return ["".join(t.text or "" for t in si.iter(f"{M}t")) for si in sst.findall(f"{M}si")]


def _sheet_rows(path: Path, name: str) -> list[tuple[str, ...]]:
    with zipfile.ZipFile(path) as z:
        strings = _shared_strings(z)
        wb = ElementTree.fromstring(z.read("xl/workbook.xml"))
        rels = ElementTree.fromstring(z.read("xl/_rels/workbook.xml.rels"))
        targets = {r.get("Id"): r.get("Target") for r in rels.iter(f"{REL}Relationship")}
        (sheet,) = [s for s in wb.iter(f"{M}sheet") if s.get("name") == name]
        root = ElementTree.fromstring(z.read("xl/" + targets[sheet.get(RID)]))
    rows = []
    for row in root.iter(f"{M}row"):
        values = {}
        for c in row.findall(f"{M}c"):
            v = c.find(f"{M}v")
            if v is not None:
                values[re.match(r"[A-Z]+", c.get("r")).group()] = strings[int(v.text)] if c.get("t") == "s" else v.text
        rows.append((int(row.get("r")), values.get("A"), values.get("B")))
    return rows


def test_xlwings_conf_sheet_is_the_known_good_one_activated():
    """xlwings reads settings from a sheet named ``xlwings.conf`` (the quickstart ships it as
    ``_xlwings.conf``: "remove the leading underscore"), keys in column A from A1 down to the
    first blank, values in column B."""
    known = _sheet_rows(KNOWN_GOOD, "_xlwings.conf")
    known_keys = set()
    for expected, (number, key, _) in enumerate(known, start=1):
        if number != expected or key is None:  # xlwings stops at the first blank row
            break
        known_keys.add(key.upper())
    assert "UDF MODULES" in known_keys and "INTERPRETER_WIN" in known_keys
    ours = _sheet_rows(TEMPLATE, "xlwings.conf")
    assert [n for n, _, _ in ours] == list(range(1, len(ours) + 1))  # from A1, no blank row
    assert all(key.upper() in known_keys for _, key, _ in ours)
    assert dict((k, v) for _, k, v in ours)["UDF Modules"] == "xl_backprop.udfs"


def test_xlwings_module_gives_the_udf_wrappers_what_they_call(ole):
    """Each wrapper calls ``XLPy.CallUDF``: in a standalone workbook ``XLPy`` must be a public
    function of a module in the same project (the add-in is not there to provide it)."""
    sources = {m["name"]: module_source(ole, m) for m in dir_modules(ole)}
    assert re.findall(r"\b(\w+)\.CallUDF\(", sources["xlwings_udfs"])
    assert set(re.findall(r"\b(\w+)\.CallUDF\(", sources["xlwings_udfs"])) == {"XLPy"}
    providers = [name for name, src in sources.items() if re.search(r"^(Public )?Function XLPy\(\)", src, re.M)]
    assert providers == ["xlwings"]
    assert re.search(r'^#Const App = "Microsoft Excel"', sources["xlwings_udfs"], re.M)


def test_merged_ranges_and_array_ranges_never_overlap():
    """Excel repairs a sheet whose merged cells overlap each other or an array formula's range,
    or that has a formula inside another formula's array range (XlsxWriter checks only the
    first)."""

    def box(ref: str) -> tuple[int, int, int, int]:
        return parse_ref(ref, sheet="")[1:]

    for part, root in _sheets(TEMPLATE).items():
        merges = [box(m.get("ref")) for m in root.iter(f"{M}mergeCell")]
        formula_cells = [c for c in root.iter(f"{M}c") if c.find(f"{M}f") is not None]
        arrays = [
            (c.get("r"), box(c.find(f"{M}f").get("ref"))) for c in formula_cells if c.find(f"{M}f").get("t") == "array"
        ]
        rects = merges + [b for _, b in arrays]
        for i, a in enumerate(rects):
            for b in rects[i + 1 :]:
                assert a[2] < b[0] or b[2] < a[0] or a[3] < b[1] or b[3] < a[1], (part, a, b)
        at = {box(c.get("r"))[:2] for c in formula_cells}
        for anchor, b in arrays:
            assert box(anchor)[:2] == b[:2], (part, anchor)
            covered = {(r, c) for r in range(b[0], b[2] + 1) for c in range(b[1], b[3] + 1)}
            assert covered & at == {b[:2]}, (part, anchor)
