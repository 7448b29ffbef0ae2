"""The OOXML editor behind ``xl-backprop run`` (xl_backprop.ooxml), on small books
written by XlsxWriter and read back by openpyxl and zipfile: the exact parts, elements and
values it must produce."""

from __future__ import annotations

import datetime
import io
import sys
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pytest
import xlsxwriter
from lxml import etree
from matplotlib.figure import Figure

from xl_backprop import cellref
from xl_backprop.cellref import Area, CellError
from xl_backprop.ooxml import BookError, Workbook, drawing
from xl_backprop.ooxml.sheet import MAX_COLS, MAX_ROWS

M = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"


def small_book(path: Path, comment: bool = False) -> Path:
    wb = xlsxwriter.Workbook(path)
    # a fixed creation time: two books made a second apart are otherwise different (docProps/core.xml)
    wb.set_properties({"created": datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)})
    ws = wb.add_worksheet("Data sheet")
    bold = wb.add_format({"bold": True})
    ws.write("A1", "label", bold)
    ws.write("B1", 2.5)
    ws.write("C1", True)
    ws.write_formula("D1", "=B1*2", None, 5)
    ws.write("B3", "kept", bold)
    ws.write_formula("E1", "=1/0", None, "#DIV/0!")
    if comment:
        ws.write_comment("A5", "a note")  # gives the sheet a <legacyDrawing>
    wb.add_worksheet("Other").write("A1", 1)
    wb.close()
    return path


def parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}


def test_a_load_and_save_changes_no_part(tmp_path):
    src = small_book(tmp_path / "a.xlsx")
    Workbook.read(src).save(tmp_path / "b.xlsx")
    assert parts(src) == parts(tmp_path / "b.xlsx")
    with zipfile.ZipFile(src) as a, zipfile.ZipFile(tmp_path / "b.xlsx") as b:
        assert a.namelist() == b.namelist()


def test_reads_numbers_text_booleans_errors_and_cached_formula_results(tmp_path):
    pkg = Workbook.read(small_book(tmp_path / "a.xlsx"))
    assert pkg.read_cells(Area("Data sheet", 0, 0, 1, 4)) == [["label", 2.5, True, 5.0, "#DIV/0!"], [None] * 5]
    assert isinstance(pkg.read_cells(Area("Data sheet", 0, 4, 0, 4))[0][0], CellError)
    assert pkg.sheets() == {"Data sheet": "xl/worksheets/sheet1.xml", "Other": "xl/worksheets/sheet2.xml"}


def test_writes_values_keeping_styles_and_row_and_cell_order(tmp_path):
    src = small_book(tmp_path / "a.xlsx")
    pkg = Workbook.read(src)
    pkg.write_cells("Data sheet", 1, 0, [[" padded", 0.1, None, False], [1e-05, 3.0, "x", None]])
    pkg.write_cells("Data sheet", 0, 3, [[7.0]])  # over the formula in D1
    pkg.save(tmp_path / "b.xlsx")
    ws = openpyxl.load_workbook(tmp_path / "b.xlsx")["Data sheet"]
    assert [[c.value for c in row] for row in ws["A1:D3"]] == [
        ["label", 2.5, True, 7],
        [" padded", 0.1, None, False],
        [1e-05, 3, "x", None],
    ]
    root = etree.fromstring(parts(tmp_path / "b.xlsx")["xl/worksheets/sheet1.xml"])
    rows = root.find(f"{M}sheetData")
    assert [r.get("r") for r in rows] == ["1", "2", "3"]
    assert [c.get("r") for c in rows[2]] == ["A3", "B3", "C3"]
    assert rows[2][1].get("s") == rows[0][0].get("s") is not None  # B3 keeps its bold
    assert root.find(f"{M}dimension").get("ref") == "A1:E3"
    assert etree.tostring(rows[1][0]).count(b'xml:space="preserve"') == 1
    assert rows[0][3].find(f"{M}f") is None and rows[0][3].findtext(f"{M}v") == "7"


def test_clearing_keeps_styled_cells_empty_and_drops_the_rest(tmp_path):
    pkg = Workbook.read(small_book(tmp_path / "a.xlsx"))
    pkg.clear_cells(Area("Data sheet", 0, 1, 2, 1))
    pkg.save(tmp_path / "b.xlsx")
    ws = openpyxl.load_workbook(tmp_path / "b.xlsx")["Data sheet"]
    assert (ws["A1"].value, ws["B1"].value, ws["B3"].value, ws["C1"].value) == ("label", None, None, True)
    assert ws["B3"].font.b  # an empty cell that keeps its format


def test_a_block_that_does_not_fit_on_a_sheet_is_refused(tmp_path):
    pkg = Workbook.read(small_book(tmp_path / "a.xlsx"))
    with pytest.raises(ValueError, match=r"^'Data sheet'!\$B\$1048576: a block of 2 x 1 cells does not fit"):
        pkg.write_cells("Data sheet", MAX_ROWS - 1, 1, [[1.0], [2.0]])
    with pytest.raises(ValueError, match="sheet 'Nope': not in this workbook"):
        pkg.write_cells("Nope", 0, 0, [[1.0]])


def test_excel_namespace_declarations_survive_an_edit(tmp_path):
    # Excel declares prefixes it lists in mc:Ignorable but never uses; dropping them makes the
    # file "corrupt" for Excel. lxml keeps them.
    src = small_book(tmp_path / "a.xlsx")
    p = parts(src)
    p["xl/worksheets/sheet1.xml"] = p["xl/worksheets/sheet1.xml"].replace(
        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"',
        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        b'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" mc:Ignorable="x14ac" '
        b'xmlns:x14ac="http://schemas.microsoft.com/office/spreadsheetml/2009/9/ac"',
        1,
    )
    with zipfile.ZipFile(tmp_path / "excel.xlsx", "w") as z:
        for name, data in p.items():
            z.writestr(name, data)
    pkg = Workbook.read(tmp_path / "excel.xlsx")
    pkg.write_cells("Data sheet", 5, 5, [[1.0]])
    pkg.save(tmp_path / "b.xlsx")
    head = parts(tmp_path / "b.xlsx")["xl/worksheets/sheet1.xml"][:600]
    assert b'xmlns:x14ac="http://schemas.microsoft.com/office/spreadsheetml/2009/9/ac"' in head
    assert b'mc:Ignorable="x14ac"' in head


def test_drawing_objects_are_added_by_name_and_removed_with_their_parts(tmp_path):
    src = small_book(tmp_path / "a.xlsx", comment=True)
    pkg = Workbook.read(src)
    buf = io.BytesIO()
    Figure(figsize=(1, 1)).savefig(buf, format="png")
    png = buf.getvalue()
    pkg.add_picture("Data sheet", 2, 3, 75, 75, "my picture", png, "a picture")
    pkg.save(tmp_path / "b.xlsx")
    p = parts(tmp_path / "b.xlsx")
    root = etree.fromstring(p["xl/worksheets/sheet1.xml"])
    names = [etree.QName(e).localname for e in root]
    assert names.index("drawing") == names.index("legacyDrawing") - 1  # schema order
    assert p["xl/media/image1.png"] == png
    assert b"/xl/drawings/drawing1.xml" in p["[Content_Types].xml"]
    assert Workbook.read(tmp_path / "b.xlsx").object_names("Data sheet") == ["my picture"]
    # remove it again: the drawing goes too, and the comment's VML stays
    pkg = Workbook.read(tmp_path / "b.xlsx")
    assert pkg.remove_objects("Data sheet", ["not there"]) == 0
    assert pkg.remove_objects("Data sheet", ["my picture"]) == 1
    pkg.save(tmp_path / "c.xlsx")
    q = parts(tmp_path / "c.xlsx")
    assert not any(n.startswith(("xl/media/", "xl/drawings/drawing")) for n in q)
    assert b"drawing1.xml" not in q["[Content_Types].xml"]
    assert b"<drawing" not in q["xl/worksheets/sheet1.xml"] and b"legacyDrawing" in q["xl/worksheets/sheet1.xml"]
    assert openpyxl.load_workbook(tmp_path / "c.xlsx")["Data sheet"]["A5"].comment.text.startswith("a note")


def test_rows_below_the_sheet_are_streamed_as_text_and_read_back(tmp_path):
    pkg = Workbook.read(small_book(tmp_path / "a.xlsx"))
    # rows 1 and 3 exist: row 2 is inserted as XML, row 4 (below them) is kept as values
    pkg.write_cells("Data sheet", 1, 1, [[1.5, "a & b"], [None, True], [" x ", 2.0]])
    pkg.write_cells("Data sheet", 3, 2, [[9.0, 10.0]])  # overwrites C4, adds D4
    pkg.clear_cells(Area("Data sheet", 3, 1, 3, 1))  # B4 goes
    assert pkg.read_cells(Area("Data sheet", 1, 1, 3, 3)) == [
        [1.5, "a & b", None],
        [None, True, None],
        [None, 9.0, 10.0],
    ]
    pkg.save(tmp_path / "b.xlsx")
    ws = openpyxl.load_workbook(tmp_path / "b.xlsx")["Data sheet"]
    assert [[c.value for c in row] for row in ws["A1:D4"]] == [
        ["label", 2.5, True, "=B1*2"],
        [None, 1.5, "a & b", None],
        [None, None, True, None],
        [None, None, 9, 10],
    ]
    sheet = parts(tmp_path / "b.xlsx")["xl/worksheets/sheet1.xml"]
    root = etree.fromstring(sheet)  # well-formed, rows in order
    assert [r.get("r") for r in root.find(f"{M}sheetData")] == ["1", "2", "3", "4"]
    assert root.find(f"{M}dimension").get("ref") == "A1:E4"
    assert b'<c r="C2" t="inlineStr"><is><t>a &amp; b</t></is></c>' in sheet


def test_a_value_that_is_not_a_number_stops_the_save_of_a_streamed_row(tmp_path):
    pkg = Workbook.read(small_book(tmp_path / "a.xlsx"))
    pkg.write_cells("Data sheet", 10, 0, [[float("nan")]])
    with pytest.raises(ValueError, match=r"^A11: cannot store nan in a cell"):
        pkg.save(tmp_path / "b.xlsx")


def _skeleton(el: etree._Element) -> tuple:
    """An element's tag, attribute names and children, recursively: its structure without values."""
    return etree.QName(el).text, tuple(sorted(el.attrib)), tuple(_skeleton(c) for c in el)


def test_pictures_and_charts_are_drawn_as_xlsxwriter_draws_them(tmp_path):
    # XlsxWriter's drawing XML is what Excel has opened for years: the picture and the chart
    # frame must have the same elements and attributes, and ids unique within the drawing
    png = io.BytesIO()
    Figure(figsize=(1, 1)).savefig(png, format="png")
    wb = xlsxwriter.Workbook(tmp_path / "xw.xlsx")
    ws = wb.add_worksheet("Data sheet")
    ws.write_column("A1", [1, 2, 3])
    ws.insert_image("C3", "p.png", {"image_data": io.BytesIO(png.getvalue()), "description": "a picture"})
    chart = wb.add_chart({"type": "line"})
    chart.add_series({"values": "='Data sheet'!$A$1:$A$3"})
    ws.insert_chart("H3", chart)
    wb.close()
    theirs = etree.fromstring(parts(tmp_path / "xw.xlsx")["xl/drawings/drawing1.xml"])

    pkg = Workbook.read(small_book(tmp_path / "a.xlsx"))
    chart_part = parts(tmp_path / "xw.xlsx")["xl/charts/chart1.xml"]
    pkg.add_chart("Data sheet", 2, 7, 360, 216, "my chart", chart_part)
    pkg.add_picture("Data sheet", 2, 2, 72, 72, "my picture", png.getvalue(), "a picture")
    pkg.add_chart("Data sheet", 20, 7, 360, 216, 'a "chart" <2> & co', chart_part)
    pkg.save(tmp_path / "b.xlsx")
    assert Workbook.read(tmp_path / "b.xlsx").object_names("Data sheet") == [
        "my chart",
        "my picture",
        'a "chart" <2> & co',
    ]
    p = parts(tmp_path / "b.xlsx")
    mine = etree.fromstring(p["xl/drawings/drawing1.xml"])
    assert mine.nsmap == theirs.nsmap  # the xdr and a prefixes on wsDr, as Excel writes them

    pic, frame = (_skeleton(a[-2]) for a in theirs)  # what each anchor holds, before its clientData
    assert [_skeleton(a[-2]) for a in mine] == [frame, pic, frame]
    for anchor in mine:  # CT_OneCellAnchor: from, ext, the object, clientData
        assert [etree.QName(c).localname for c in anchor] == [
            "from",
            "ext",
            etree.QName(anchor[2]).localname,
            "clientData",
        ]
    ids = [e.get("id") for e in mine.iter(f"{{{drawing.NS_XDR}}}cNvPr")]
    assert len(set(ids)) == len(ids) == 3
    rels = {
        r.get("Id"): (r.get("Type"), r.get("Target"))
        for r in etree.fromstring(p["xl/drawings/_rels/drawing1.xml.rels"])
    }
    embeds = [e.get(f"{{{drawing.NS_R}}}embed") for e in mine.iter(f"{{{drawing.NS_A}}}blip")]
    charts = [e.get(f"{{{drawing.NS_R}}}id") for e in mine.iter(f"{{{drawing.NS_C}}}chart")]
    assert [rels[r] for r in embeds] == [(drawing.REL_IMAGE, "../media/image1.png")]
    assert [rels[r] for r in charts] == [
        (drawing.REL_CHART, "../charts/chart1.xml"),
        (drawing.REL_CHART, "../charts/chart2.xml"),
    ]
    types = p["[Content_Types].xml"]
    for part in ("/xl/charts/chart1.xml", "/xl/charts/chart2.xml", "/xl/drawings/drawing1.xml"):
        assert f'PartName="{part}"'.encode() in types


# --- numeric blocks written in bulk (issue 7) ----------------------------------------------------
SPECIAL = [
    0.0,
    -0.0,
    1.0,
    -5.0,
    0.1,
    1 / 3,
    2.5e-300,
    5e-324,
    1.7976931348623157e308,
    123456789012345.0,
    999999999999999.0,
    1e15,
    1e16,
    -1e15 - 2,
    0.24251985734837728,
    0.07215707291213626,
]


def _numbers(rows: int, cols: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    values = rng.standard_normal((rows, cols)) * 10.0 ** rng.integers(-20, 20, (rows, cols))
    values[:, 0] = np.arange(rows)  # a whole-number column, as the step column is
    values.flat[1 : 1 + len(SPECIAL)] = SPECIAL
    values[rows // 2, 1] = 7.0  # a whole number in a column of fractions
    return values


def test_a_numeric_block_is_written_as_the_same_text_as_cell_by_cell(tmp_path):
    values = _numbers(9000, 5)  # more than one formatting chunk
    by_array, by_lists = (Workbook.read(small_book(tmp_path / f"{n}.xlsx")) for n in "ab")
    by_array.write_cells("Data sheet", 3, 21, values)
    by_lists.write_cells("Data sheet", 3, 21, values.tolist())
    by_array.save(tmp_path / "array.xlsx")
    by_lists.save(tmp_path / "lists.xlsx")
    assert parts(tmp_path / "array.xlsx") == parts(tmp_path / "lists.xlsx")


def test_a_numeric_block_reads_back_exactly(tmp_path):
    values = _numbers(300, 4, seed=1)
    pkg = Workbook.read(small_book(tmp_path / "a.xlsx"))
    pkg.write_cells("Data sheet", 1, 2, values)  # row 2 exists as XML, the rest goes as a block
    assert pkg.read_cells(Area("Data sheet", 1, 2, 300, 5)) == values.tolist()
    pkg.save(tmp_path / "b.xlsx")
    root = etree.fromstring(parts(tmp_path / "b.xlsx")["xl/worksheets/sheet1.xml"])
    got = {
        c.get("r"): float(c.findtext(f"{M}v"))
        for row in root.find(f"{M}sheetData")
        for c in row
        if c.findtext(f"{M}v") is not None and c.get("t") is None
    }
    for i in range(300):
        for j in range(4):
            v = got[cellref.a1(1 + i, 2 + j)]
            assert v == values[i, j], (i, j)  # exactly: -0.0 is stored as 0, as Excel does
    assert root.find(f"{M}dimension").get("ref") == "A1:F301"
    assert [r.get("r") for r in root.find(f"{M}sheetData")] == [str(k) for k in range(1, 302)]
    ws = openpyxl.load_workbook(tmp_path / "b.xlsx")["Data sheet"]
    assert ws["C2"].value == values[0, 0] and ws["F301"].value == values[299, 3]


def test_a_value_that_is_not_finite_in_a_block_is_refused_by_its_cell(tmp_path):
    pkg = Workbook.read(small_book(tmp_path / "a.xlsx"))
    values = np.ones((5, 3))
    values[3, 2] = np.inf
    with pytest.raises(ValueError, match=r"^E14: cannot store inf in a cell$"):
        pkg.write_cells("Data sheet", 10, 2, values)
    with pytest.raises(ValueError, match="does not fit on a sheet"):
        pkg.write_cells("Data sheet", MAX_ROWS - 2, 0, np.ones((3, 1)))


def test_edits_across_a_block_match_the_same_edits_cell_by_cell(tmp_path):
    def edited(use_array: bool) -> dict[str, bytes]:
        pkg = Workbook.read(small_book(tmp_path / "a.xlsx"))
        values = _numbers(50, 3, seed=2)
        pkg.write_cells("Data sheet", 5, 1, values if use_array else values.tolist())
        pkg.write_cells("Data sheet", 60, 0, np.full((2, 2), 0.5) if use_array else [[0.5, 0.5]] * 2)
        pkg.write_cells("Data sheet", 20, 2, [["over", None, True]])  # through the block
        pkg.clear_cells(Area("Data sheet", 30, 1, 33, 1))
        pkg.write_cells("Data sheet", 61, 1, np.array([[9.0, 8.0]]) if use_array else [[9.0, 8.0]])  # overlap
        assert pkg.read_cells(Area("Data sheet", 20, 1, 20, 4)) == [[values[15, 0], "over", None, True]]
        pkg.save(tmp_path / f"{use_array}.xlsx")
        return parts(tmp_path / f"{use_array}.xlsx")

    assert edited(True) == edited(False)


def test_reading_an_area_larger_than_the_bound_is_refused(tmp_path):
    pkg = Workbook.read(small_book(tmp_path / "a.xlsx"))
    with pytest.raises(
        BookError,
        match=r"^'Data sheet'!\$A\$1:\$XFD\$1048576: 1,048,576 x 16,384 cells; "
        r"expected at most 100,000 to read$",
    ):
        pkg.read_cells(Area("Data sheet", 0, 0, MAX_ROWS - 1, MAX_COLS - 1))
    assert pkg.read_cells(Area("Data sheet", 0, 1, 99_999, 1))[0] == [2.5]  # sparse: a tall area is fine


def test_a_failing_streamed_write_stops_the_save(tmp_path, monkeypatch):
    # the block's rows are compressed and written in a second thread: its error must reach save
    pkg = Workbook.read(small_book(tmp_path / "a.xlsx"))
    pkg.write_cells("Data sheet", 5, 0, _numbers(40_000, 3))
    real_write, calls = zipfile.ZipFile.open, []

    def open_(self, name, mode="r", **kwargs):
        handle = real_write(self, name, mode, **kwargs)
        if mode == "w":
            write = handle.write

            def failing(data):
                calls.append(len(data))
                if len(calls) == 3:
                    raise OSError(28, "No space left on device")
                return write(data)

            handle.write = failing
        return handle

    monkeypatch.setattr(zipfile.ZipFile, "open", open_)
    with pytest.raises(OSError, match="No space left"):
        pkg.save(tmp_path / "b.xlsx")
    assert len(calls) == 3  # nothing written after the failure
    import threading

    assert not [t for t in threading.enumerate() if t.name.startswith("xl-backprop-zip")]


# --- the package layer: re-serialising, and the ribbon's relationship --------------------------------
def test_a_part_edited_and_restored_is_written_as_xlsxwriter_wrote_it(tmp_path):
    # the declaration and serialisation Excel and XlsxWriter use: a parsed, edited part differs
    # from theirs only by the edit
    src = small_book(tmp_path / "a.xlsx")
    pkg = Workbook.read(src).package
    rid = pkg.add_rel("", "http://example.invalid/relationship", "xl/workbook.xml")
    pkg.remove_rel("", rid)
    pkg.save(tmp_path / "b.xlsx")
    assert parts(tmp_path / "b.xlsx")["_rels/.rels"] == parts(src)["_rels/.rels"]


def test_the_ribbon_is_added_through_the_package_once(tmp_path):
    from xl_backprop.workbook import ribbon

    src = small_book(tmp_path / "a.xlsx")
    ribbon.add_ribbon(src, tmp_path / "b.xlsx", b"<customUI/>")
    before, after = parts(src), parts(tmp_path / "b.xlsx")
    assert after.pop(ribbon.CUSTOM_UI_PART) == b"<customUI/>"
    rels = etree.fromstring(after.pop("_rels/.rels"))
    old = etree.fromstring(before.pop("_rels/.rels"))
    assert [dict(r.attrib) for r in rels][:-1] == [dict(r.attrib) for r in old]
    assert dict(rels[-1].attrib) == {
        "Id": f"rId{len(old) + 1}",
        "Type": ribbon.CUSTOM_UI_REL,
        "Target": ribbon.CUSTOM_UI_PART,
    }
    assert after == before  # every other part byte for byte
    with zipfile.ZipFile(tmp_path / "b.xlsx") as z:
        assert {i.date_time for i in z.infolist()} == {(1980, 1, 1, 0, 0, 0)}
    with pytest.raises(ValueError, match=r"^_rels/\.rels: the package already has a ribbon"):
        ribbon.add_ribbon(tmp_path / "b.xlsx", tmp_path / "c.xlsx", b"<customUI/>")
    assert not (tmp_path / "c.xlsx").exists()


def with_part(src: Path, dst: Path, name: str, edit) -> Path:
    """A copy of the book ``src`` with the part ``name`` replaced by ``edit(its bytes)``."""
    with zipfile.ZipFile(src) as a, zipfile.ZipFile(dst, "w") as b:
        for info in a.infolist():
            data = a.read(info)
            b.writestr(info, edit(data) if info.filename == name else data)
    return dst


@pytest.mark.parametrize(
    ("text", "value"),
    [("51", 51.0), (" 5.1e1 ", 51.0), ("+.5", 0.5), ("-0", 0.0), ("5.", 5.0), ("1E-2", 0.01), ("-INF", -np.inf)],
)
def test_a_number_is_read_as_an_xsd_double(tmp_path, text, value):
    book = with_part(
        small_book(tmp_path / "a.xlsx"),
        tmp_path / "b.xlsx",
        "xl/worksheets/sheet1.xml",
        lambda d: d.replace(b'<c r="B1"><v>2.5</v></c>', f'<c r="B1"><v>{text}</v></c>'.encode()),
    )
    assert Workbook.read(book).read_cells(Area("Data sheet", 0, 1, 0, 1)) == [[value]]


@pytest.mark.parametrize("text", ["5_1", "\u0665\u0661", "\uff15\uff11", "1e", "Infinity", "nan", "0x10", "1,5", ""])
def test_what_python_would_take_but_xsd_does_not_is_refused_by_its_cell(tmp_path, text):
    book = with_part(
        small_book(tmp_path / "a.xlsx"),
        tmp_path / "b.xlsx",
        "xl/worksheets/sheet1.xml",
        lambda d: d.replace(b'<c r="B1"><v>2.5</v></c>', f'<c r="B1"><v>{text} </v></c>'.encode()),
    )
    with pytest.raises(BookError, match=rf"^'Data sheet'!B1: the cell's value '{text}' is not a number$"):
        Workbook.read(book).read_cells(Area("Data sheet", 0, 1, 0, 1))


def test_rows_streamed_into_an_empty_prefixed_sheet_carry_its_prefix(tmp_path):
    main = b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'

    def prefixed(d: bytes) -> bytes:
        d = d.replace(main, main.replace(b"xmlns=", b"xmlns:s-1.x=")).replace(b"<worksheet", b"<s-1.x:worksheet")
        d = d.replace(b"</worksheet>", b"</s-1.x:worksheet>")
        head, _, rest = d.partition(b"<sheetData>")
        _, _, tail = rest.partition(b"</sheetData>")
        return head + b"<s-1.x:sheetData/>" + tail  # the sheet's other elements are left out

    src = small_book(tmp_path / "a.xlsx")
    book = with_part(src, tmp_path / "b.xlsx", "xl/worksheets/sheet2.xml", prefixed)
    pkg = Workbook.read(book)
    pkg.write_cells("Other", 2, 0, [[1.5, "a"], [True, None]])
    pkg.write_cells("Other", 4, 1, np.array([[0.25, 3.0]]))
    pkg.save(tmp_path / "c.xlsx")
    sheet = parts(tmp_path / "c.xlsx")["xl/worksheets/sheet2.xml"]
    root = etree.fromstring(sheet)
    assert [r.get("r") for r in root.find(f"{M}sheetData").iterchildren(f"{M}row")] == ["3", "4", "5"]
    assert b"<row" not in sheet and b"<c " not in sheet  # every element with the sheet's prefix
    ws = openpyxl.load_workbook(tmp_path / "c.xlsx")["Other"]
    assert [[c.value for c in row] for row in ws["A3:C5"]] == [[1.5, "a", None], [True, None, None], [None, 0.25, 3]]


def test_our_charts_are_found_by_their_cell_after_an_openpyxl_re_save(tmp_path):
    # openpyxl renames every chart "Chart N" when it saves: found by name alone, a second run
    # would stack a second chart on the first, and reset would leave it
    from xl_backprop import macros
    from xl_backprop.workbook import layout as L

    from .conftest import TEMPLATE
    from .ooxml_read import objects

    macros.run_on_file("train-lrs", TEMPLATE, tmp_path / "a.xlsm")
    before = objects(parts(tmp_path / "a.xlsm"), L.SHEET_LRS)
    wb = openpyxl.load_workbook(tmp_path / "a.xlsm", keep_vba=True)
    wb.save(tmp_path / "resaved.xlsm")
    resaved = objects(parts(tmp_path / "resaved.xlsm"), L.SHEET_LRS)
    assert [o.at for o in resaved] == [o.at for o in before]
    assert {o.name for o in resaved if o.kind == "chart"}.isdisjoint({L.MACRO_CHART.name, L.MACRO_PICTURE.name})
    macros.run_on_file("train-lrs", tmp_path / "resaved.xlsm", tmp_path / "again.xlsm")
    again = objects(parts(tmp_path / "again.xlsm"), L.SHEET_LRS)
    assert sorted((o.kind, o.at) for o in again) == sorted((o.kind, o.at) for o in before)
    macros.run_on_file("reset", tmp_path / "resaved.xlsm", tmp_path / "reset.xlsm")
    template = objects(parts(TEMPLATE), L.SHEET_LRS)
    assert [(o.kind, o.at) for o in objects(parts(tmp_path / "reset.xlsm"), L.SHEET_LRS)] == [
        (o.kind, o.at) for o in template
    ]


# --- a large sheet's long numeric tail: kept as its text, read only when needed (issue 16 item 7) --
def _loss_table(path: Path, steps: int) -> np.ndarray:
    """The loss table (step, then one column per learning rate) as ElementTree reads the file."""
    from openpyxl.utils.cell import get_column_letter

    from xl_backprop import network
    from xl_backprop.workbook import layout as L

    from .ooxml_read import NS, cells

    got = cells(path, L.SHEET_LRS)
    r0, c0 = L.rowcol(L.MACRO_LOSS.top_left)
    out = np.full((steps + 1, 1 + len(network.DEFAULT_LRS)), np.nan)
    for i in range(steps + 1):  # one row past the table: empty
        for j in range(out.shape[1]):
            c = got.get(f"{get_column_letter(c0 + 1 + j)}{r0 + 2 + i}")
            v = None if c is None else c.find("m:v", NS)
            out[i, j] = np.nan if v is None else float(v.text)
    return out


@pytest.fixture
def large(monkeypatch):
    """Every XML part counts as large: its sheet's tail is found, kept and read as a large one's."""
    from xl_backprop.ooxml import celltext, package

    monkeypatch.setattr(package, "LARGE_PART_BYTES", 0)
    monkeypatch.setattr(celltext, "READ_CHUNK_BYTES", 4096)  # many pieces, as in a large part
    found = []
    real = celltext.find_tail

    def find_tail(data):
        found.append(real(data))
        return found[-1]

    monkeypatch.setattr(sys.modules["xl_backprop.ooxml.sheet"], "find_tail", find_tail)
    return found


def test_a_re_run_on_a_long_result_replaces_its_tail_unread(tmp_path, large, monkeypatch):
    from xl_backprop import macros, network
    from xl_backprop.ooxml import celltext
    from xl_backprop.workbook import layout as L

    from .conftest import TEMPLATE, set_cells
    from .ooxml_read import cells

    lrs = list(network.DEFAULT_LRS)
    book = set_cells(TEMPLATE, tmp_path / "in.xlsm", L.SHEET_LRS, L.IN_ITERATIONS.cell, [[300]])
    macros.run_on_file("train-lrs", book, tmp_path / "first.xlsm")
    set_cells(tmp_path / "first.xlsm", tmp_path / "fewer.xlsm", L.SHEET_LRS, L.IN_ITERATIONS.cell, [[120]])
    (tail,) = [t for t in large if t is not None and t.last > 200]
    below = 1 + max(L.rowcol(ref)[0] for ref in cells(TEMPLATE, L.SHEET_LRS))  # the template's rows end here
    assert (tail.row, tail.last, tail.width) == (below, 307, 1 + len(lrs))  # rows below the template's, to 308
    monkeypatch.setattr(celltext, "read_tail", None)  # the re-run clears the old tail: never read
    macros.run_on_file("train-lrs", tmp_path / "fewer.xlsm", tmp_path / "again.xlsm")
    got = _loss_table(tmp_path / "again.xlsm", 120)
    assert np.array_equal(got[:120, 0], np.arange(120)) and np.isnan(got[120:]).all()
    assert np.array_equal(got[:120, 1:], network.train_curves(lrs, 120))


def test_a_long_tail_is_written_back_as_it_was_read_and_read_when_needed(tmp_path, large):
    from xl_backprop import macros, network
    from xl_backprop.workbook import layout as L

    from .conftest import TEMPLATE, set_cells

    lrs = list(network.DEFAULT_LRS)
    book = set_cells(TEMPLATE, tmp_path / "in.xlsm", L.SHEET_LRS, L.IN_ITERATIONS.cell, [[300]])
    macros.run_on_file("train-lrs", book, tmp_path / "first.xlsm")
    sheet = "xl/worksheets/sheet3.xml"
    old = parts(tmp_path / "first.xlsm")[sheet]
    rows = old[old.index(b'<row r="74">') : old.index(b"</sheetData>")]
    # an edit above the tail: the tail's text goes back unchanged, unread
    set_cells(tmp_path / "first.xlsm", tmp_path / "edited.xlsm", L.SHEET_LRS, "A3", [["a note"]])
    assert rows in parts(tmp_path / "edited.xlsm")[sheet]
    expected = network.train_curves(lrs, 300)
    assert np.array_equal(_loss_table(tmp_path / "edited.xlsm", 300)[:300, 1:], expected)
    # a read and an edit inside it: read into an array then, the rest kept
    pkg = Workbook.read(tmp_path / "edited.xlsm")
    r0, c0 = L.rowcol(L.MACRO_LOSS.top_left)
    area = Area(L.SHEET_LRS, r0 + 1 + 200, c0 + 1, r0 + 1 + 202, c0 + len(lrs))
    assert pkg.read_cells(area) == expected[200:203].tolist()
    pkg.clear_cells(Area(L.SHEET_LRS, r0 + 1 + 250, c0, r0 + 1 + 299, c0 + len(lrs)))
    pkg.write_cells(L.SHEET_LRS, r0 + 1 + 100, c0 + 1, [["x"]])
    pkg.save(tmp_path / "c.xlsm")
    got = _loss_table(tmp_path / "c.xlsm", 300)
    assert np.array_equal(got[:250, 0], np.arange(250)) and np.isnan(got[250:]).all()
    expected[100, 0] = np.nan  # the text "x" is not a <v>
    assert np.array_equal(got[:250, 1:], expected[:250], equal_nan=True)
    assert openpyxl.load_workbook(tmp_path / "c.xlsm")[L.SHEET_LRS].cell(r0 + 102, c0 + 2).value == "x"


def test_rows_in_a_comment_after_sheet_data_are_not_taken_for_a_tail(tmp_path, large):
    # the bytes propose rows in the tail's form before the last "</sheetData>"; the parser finds
    # the mark in a comment, so the sheet is read as one tree and the comment is kept
    pkg = Workbook.read(small_book(tmp_path / "a.xlsx"))
    pkg.write_cells("Data sheet", 5, 1, np.array([[1.5, 2.0], [3.0, 4.0]]))
    pkg.save(tmp_path / "b.xlsx")
    fake = b'<row r="9"><c r="B9"><v>7</v></c></row>'
    with_part(
        tmp_path / "b.xlsx",
        tmp_path / "c.xlsx",
        "xl/worksheets/sheet1.xml",
        lambda d: d.replace(b"</sheetData>", b"</sheetData><!-- " + fake + b"</sheetData> -->"),
    )
    pkg = Workbook.read(tmp_path / "c.xlsx")
    assert pkg.read_cells(Area("Data sheet", 5, 1, 8, 2)) == [[1.5, 2.0], [3.0, 4.0], [None, None], [None, None]]
    assert large[-1] is not None  # proposed, and refused by the parser
    pkg.write_cells("Data sheet", 9, 0, [[5.0]])
    pkg.save(tmp_path / "d.xlsx")
    ws = openpyxl.load_workbook(tmp_path / "d.xlsx")["Data sheet"]
    assert [ws["B9"].value, ws["A10"].value, ws["B7"].value] == [None, 5, 3]
    assert fake in parts(tmp_path / "d.xlsx")["xl/worksheets/sheet1.xml"]


def test_a_large_part_that_must_be_one_tree_is_refused_past_the_tree_bound(tmp_path, large, monkeypatch):
    from xl_backprop.ooxml import package

    pkg = Workbook.read(small_book(tmp_path / "a.xlsx"))
    pkg.write_cells("Data sheet", 5, 1, [["text"] * 50] * 10)  # not the numeric tail's form
    pkg.save(tmp_path / "b.xlsx")
    monkeypatch.setattr(package, "MAX_TREE_TAGS", 1000)
    pkg = Workbook.read(tmp_path / "b.xlsx")
    with pytest.raises(BookError, match=r"^xl/worksheets/sheet1\.xml: 3,\d\d\d XML tags .* more than the 1,000"):
        pkg.read_cells(Area("Data sheet", 0, 0, 0, 0))


def test_a_tail_read_again_from_a_book_changed_since_is_refused(tmp_path, large):
    pkg = Workbook.read(small_book(tmp_path / "a.xlsx"))
    pkg.write_cells("Data sheet", 5, 1, np.arange(100.0).reshape(50, 2))
    pkg.save(tmp_path / "b.xlsx")
    pkg = Workbook.read(tmp_path / "b.xlsx")
    assert pkg.read_cells(Area("Data sheet", 0, 1, 0, 1)) == [[2.5]]
    assert large[-1] is not None and large[-1].last == 54  # the 50 rows, kept as text
    pkg.save(tmp_path / "c.xlsx")  # unchanged: the part is read again and copied through
    assert parts(tmp_path / "c.xlsx") == parts(tmp_path / "b.xlsx")
    small_book(tmp_path / "b.xlsx")  # another book in its place
    with pytest.raises(BookError, match=r"b\.xlsx: changed while this tool was reading it \(xl/worksheets/sheet1"):
        pkg.save(tmp_path / "d.xlsx")
