"""The macros' blocks look like the template's tables, the same from both back-ends.

References: the template's own styled tables (LR_SUMMARY's block, TRAIN_CURVE's step column,
values and header, read by openpyxl from the committed file); Excel's stored column width for
Calibri 11 (characters + 5 pixels of padding, in 1/256 of a 7-pixel digit); LibreOffice
(headless) showing a written book as text; openxml-audit for the styles part. The xlwings side
runs on the stand-in of ``test_macros_xlwings`` (no Excel here: see its docstring).
"""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pytest
import xlsxwriter
from lxml import etree
from openpyxl.utils import get_column_letter
from xlsxwriter.utility import xl_pixel_width

from xl_backprop import analysis, macros, network
from xl_backprop.ooxml import Workbook
from xl_backprop.ooxml import styles as ooxml_styles
from xl_backprop.ooxml.package import NS_MAIN
from xl_backprop.workbook import layout as L

from . import libreoffice
from .conftest import TEMPLATE, set_cells
from .ooxml_audit import assert_excel_opens
from .xlwings_standin import Book

LRS = list(network.DEFAULT_LRS)
T = network.DEFAULT_ITERATIONS

#: LibreOffice's csv export of sheet 3 (Learning rates), cells as shown (numbers formatted).
CSV_SHEET3 = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,true,false,false,3"
#: What Excel stores on top of a width in characters: 5 pixels of padding in 1/256 of a 7-pixel digit.
PADDING = int(5 / 7 * 256) / 256  # 0.7109375
SIDES = {"edge_left", "edge_right", "edge_top", "edge_bottom"}


def look(cell) -> dict:
    """A cell's look as openpyxl reads it from a file."""
    fill = cell.fill.fgColor.rgb if cell.fill.fill_type == "solid" else None
    color = cell.font.color.rgb if cell.font.color is not None and cell.font.color.type == "rgb" else None
    sides = (cell.border.left, cell.border.right, cell.border.top, cell.border.bottom)
    return {
        "number_format": cell.number_format,
        "bold": bool(cell.font.b),
        "fill": fill and "#" + fill[2:],
        "font_color": color and "#" + color[2:],
        "border": all(s.style == "thin" for s in sides),
        "align": cell.alignment.horizontal,
    }


def declared_look(props: dict) -> dict:
    """The look a ``layout.STYLES`` entry (XlsxWriter format properties) declares, as ``look`` reads it."""
    return {
        "number_format": props.get("num_format", "General"),
        "bold": bool(props.get("bold")),
        "fill": props.get("bg_color"),
        "font_color": props.get("font_color"),
        "border": props.get("border") == 1,
        "align": props.get("align"),
    }


def stand_in_look(fmt: dict) -> dict:
    """The same, from what the macros set on a cell of the xlwings stand-in."""
    border = fmt.get("border")
    return {
        "number_format": fmt.get("number_format", "General"),
        "bold": fmt.get("bold", False),
        "fill": fmt.get("fill"),
        "font_color": fmt.get("font_color"),
        "border": border is not None and SIDES <= set(border[0]) and border[1] == ("continuous", "thin"),
        "align": fmt.get("align"),
    }


@pytest.fixture(scope="module")
def file_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("styles") / "trained.xlsm"
    macros.run_on_file("train-lrs", TEMPLATE, out)
    return out


@pytest.fixture(scope="module")
def excel_run() -> Book:
    book = Book(TEMPLATE)
    macros.train_learning_rates(book)
    assert not book._alerts
    return book


def expected_looks() -> dict[tuple[int, int], dict]:
    """(row, col), 1-based -> the look of the template's cell the macro's cell should match."""
    tpl = openpyxl.load_workbook(TEMPLATE)[L.SHEET_LRS]
    s_r, s_c = L.rowcol(L.LIVE_SUMMARY_TOP_LEFT)
    c_r, c_c = L.rowcol(L.LIVE_CURVE_TOP_LEFT)
    head = look(tpl.cell(L.LIVE_CURVE_HEADER_ROW + 1, 1))  # "step \ lr"
    assert head == look(tpl.cell(s_r + 1, s_c + 1))  # LR_SUMMARY's header: the same style
    step, value = look(tpl.cell(c_r + 1, 1)), look(tpl.cell(c_r + 1, c_c + 1))
    summary = [look(tpl.cell(s_r + 2, s_c + 1 + k)) for k in range(len(analysis.SUMMARY_COLUMNS))]
    out = {}
    r, c = L.rowcol(L.MACRO_LOSS.top_left)
    for j in range(1 + len(LRS)):
        out[(r + 1, c + 1 + j)] = head
        for i in range(T):
            out[(r + 2 + i, c + 1 + j)] = value if j else step
    r, c = L.rowcol(L.MACRO_SUMMARY.top_left)
    for j, col_look in enumerate(summary):
        out[(r + 1, c + 1 + j)] = head
        for i in range(len(LRS)):
            out[(r + 2 + i, c + 1 + j)] = col_look
    return out


def test_the_template_tables_have_the_formats_the_issue_asks_for():
    """The reference itself, in literal terms: E_total to 9 places, counts whole, booleans yes/no."""
    looks = expected_looks()
    r, c = L.rowcol(L.MACRO_SUMMARY.top_left)
    assert [looks[(r + 2, c + 1 + j)]["number_format"] for j in range(5)] == [
        "0.0##",
        "0.000000000",
        "0",
        '"yes";"yes";"no"',
        "0",
    ]
    assert looks[(r + 1, c + 1)] == {
        "number_format": "General",
        "bold": True,
        "fill": "#DDEBF7",
        "font_color": None,
        "border": True,
        "align": "center",
    }


def test_both_backends_give_the_blocks_the_templates_styles(file_run, excel_run):
    written = openpyxl.load_workbook(file_run)[L.SHEET_LRS]
    formats = excel_run.sheets[L.SHEET_LRS]._formats
    expected = expected_looks()
    for (r, c), want in expected.items():
        assert look(written.cell(r, c)) == want, ("file", r, c)
        assert stand_in_look(formats.get((r, c), {})) == want, ("xlwings", r, c)
    assert set(formats) == set(expected)  # xlwings formats only the cells written


def test_both_backends_give_the_blocks_widths_that_fit(file_run, excel_run):
    written = openpyxl.load_workbook(file_run)[L.SHEET_LRS]
    shown = openpyxl.load_workbook(file_run, data_only=True)[L.SHEET_LRS]
    widths = excel_run.sheets[L.SHEET_LRS]._widths
    for block, n in ((L.MACRO_LOSS, 1 + L.LR_SLOTS), (L.MACRO_SUMMARY, len(analysis.SUMMARY_COLUMNS))):
        r, c = L.rowcol(block.top_left)
        for k in range(n):
            col = c + 1 + k
            chars = widths[col]  # xlwings in Excel: characters
            assert written.column_dimensions[get_column_letter(col)].width == chars + PADDING, (block, k)
            fmt = written.cell(r + 2, col).number_format
            texts = []
            for row in range(r + 1, r + 1 + block.max_rows if block is L.MACRO_SUMMARY else r + 2 + T):
                v = shown.cell(row, col).value
                if isinstance(v, bool):
                    texts.append("FALSE")  # what Excel shows, the longest of yes/no/TRUE/FALSE
                elif isinstance(v, float | int) and fmt == "0.000000000":
                    texts.append(f"{v:.9f}")
                elif v is not None:
                    texts.append(str(v))
            # XlsxWriter's autofit measure of Calibri 11 text, a tenth more for bold, and 5 pixels of padding
            if k <= len(LRS):  # the loss table's spare columns stay empty
                widest = max(texts, key=xl_pixel_width)
                assert xl_pixel_width(widest) * 1.1 + 5 <= L.column_pixels(chars), (block, k, widest, chars)


def test_a_second_smaller_run_leaves_no_styled_empty_cells(tmp_path):
    """Ten learning rates, then two: the columns no longer written lose their header style too
    (the plan clears formats with the values, in both back-ends); reset leaves the blocks bare."""
    ten = [[0.1 * (k + 1) for k in range(L.LR_SLOTS)]]
    two = [[0.5, 1.0, *[None] * (L.LR_SLOTS - 2)]]
    book = set_cells(TEMPLATE, tmp_path / "ten.xlsm", L.SHEET_LRS, L.IN_LRS.cell, ten)
    macros.run_on_file("train-lrs", book, tmp_path / "a.xlsm")
    set_cells(tmp_path / "a.xlsm", tmp_path / "b.xlsm", L.SHEET_LRS, L.IN_LRS.cell, two)
    macros.run_on_file("train-lrs", tmp_path / "b.xlsm", tmp_path / "c.xlsm")
    macros.run_on_file("reset", tmp_path / "c.xlsm", tmp_path / "d.xlsm")
    r, c = L.rowcol(L.MACRO_LOSS.top_left)
    ws = openpyxl.load_workbook(tmp_path / "c.xlsm")[L.SHEET_LRS]
    assert [look(ws.cell(r + 1, c + 1 + j))["bold"] for j in range(1 + L.LR_SLOTS)] == [True] * 3 + [False] * 8
    assert ws.cell(r + 2, c + 4).number_format == "General" and ws.cell(r + 2, c + 3).number_format == "0.000000000"
    ws = openpyxl.load_workbook(tmp_path / "d.xlsm")[L.SHEET_LRS]
    for block in L.BLOCKS:
        r, c = L.rowcol(block.top_left)
        assert all(not ws.cell(r + 1 + i, c + 1 + j).has_style for i in range(T) for j in range(block.max_cols))

    excel = Book(TEMPLATE)
    lrs = excel.sheets[L.SHEET_LRS]
    for j, v in enumerate(ten[0]):
        lrs._cells[(L.IN_LRS.row + 1, L.IN_LRS.col + 1 + j)] = v
    macros.train_learning_rates(excel)
    for j, v in enumerate(two[0]):
        if v is None:
            lrs._cells.pop((L.IN_LRS.row + 1, L.IN_LRS.col + 1 + j))
        else:
            lrs._cells[(L.IN_LRS.row + 1, L.IN_LRS.col + 1 + j)] = v
    macros.train_learning_rates(excel)
    r, c = L.rowcol(L.MACRO_LOSS.top_left)
    assert [(r + 1, c + 1 + j) in lrs._formats for j in range(1 + L.LR_SLOTS)] == [True] * 3 + [False] * 8
    macros.reset(excel)
    assert lrs._formats == {}


def test_libreoffice_shows_yes_no_and_whole_counts(tmp_path):
    """targets 0.5, 0.5 and lr 50: E_total rises (at step 73), so "only falls" is no."""
    lrs = [0.5, 50.0]
    book = set_cells(TEMPLATE, tmp_path / "1.xlsm", L.SHEET_BACKPROP, L.IN_T1.cell, [[0.5], [0.5]])
    book = set_cells(book, tmp_path / "2.xlsm", L.SHEET_LRS, L.IN_LRS.cell, [lrs + [None] * (L.LR_SLOTS - 2)])
    book = set_cells(book, tmp_path / "3.xlsm", L.SHEET_LRS, L.IN_ITERATIONS.cell, [[200]])
    out = macros.run_on_file("train-lrs", book, tmp_path / "out.xlsm")
    shown = libreoffice.convert(out, CSV_SHEET3, tmp_path / "csv", name=f"out-{L.SHEET_LRS}.csv")
    rows = list(csv.reader(io.StringIO(shown.read_text(encoding="utf-8"))))
    curves = network.train_curves(lrs, 200, targets=(0.5, 0.5))
    s = analysis.lr_summary(lrs, curves)
    assert [(x.only_falls, x.first_rise) for x in s] == [(True, None), (False, 73)]  # what the case is for
    r, c = L.rowcol(L.MACRO_SUMMARY.top_left)
    assert rows[r][c : c + 5] == [
        "learning rate",
        "final E_total",
        "first step with E_total < 0.01",
        "E_total only falls",
        "first rise of E_total",
    ]
    assert rows[r + 1][c : c + 5] == ["0.5", f"{s[0].final_loss:.9f}", str(s[0].steps_to_threshold), "yes", "never"]
    assert rows[r + 2][c : c + 5] == ["50.0", f"{s[1].final_loss:.9f}", str(s[1].steps_to_threshold), "no", "73"]
    r, c = L.rowcol(L.MACRO_LOSS.top_left)
    assert rows[r + 1][c : c + 3] == ["0", f"{curves[0, 0]:.9f}", f"{curves[0, 1]:.9f}"]
    assert rows[r + 200][c] == "199"


def test_a_styled_written_book_opens_in_excel(tmp_path):
    """Rows below the template's last row (the bulk path) carry their style too."""
    book = set_cells(TEMPLATE, tmp_path / "in.xlsm", L.SHEET_LRS, L.IN_ITERATIONS.cell, [[500]])
    out = macros.run_on_file("train-lrs", book, tmp_path / "out.xlsm")
    ws = openpyxl.load_workbook(out)[L.SHEET_LRS]
    r, c = L.rowcol(L.MACRO_LOSS.top_left)
    assert max(int(row.get("r")) for row in last_rows(out)) == r + 1 + 500
    for row in (r + 2, r + 400, r + 501):
        assert (ws.cell(row, c + 1).number_format, ws.cell(row, c + 2).number_format) == ("General", "0.000000000")
        assert ws.cell(row, c + 1).alignment.horizontal == "center"
    assert_excel_opens(out)


def test_the_template_already_has_every_format_the_macros_write(file_run):
    """The XlsxWriter properties of layout.STYLES, translated by ooxml.styles, are the cell formats
    XlsxWriter wrote for the same properties in the template: a run adds none."""
    with zipfile.ZipFile(TEMPLATE) as a, zipfile.ZipFile(file_run) as b:
        assert a.read("xl/styles.xml") == b.read("xl/styles.xml")


def last_rows(path: Path) -> list:
    pkg = Workbook.read(path)
    root = etree.fromstring(pkg.package.parts[pkg.sheet_part(L.SHEET_LRS)])
    return root.iter(f"{{{NS_MAIN}}}row")


# --- the file back-end on a book that has none of the template's formats ------------------------


def plain_book(path: Path) -> Path:
    """A workbook with XlsxWriter's default stylesheet only, and a <cols> range to split."""
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("S")
    ws.set_column(1, 6, 20, wb.add_format({"italic": True}))
    ws.write(0, 0, "kept")
    wb.close()
    return path


def test_new_formats_are_added_once_and_read_back_as_declared(tmp_path):
    pkg = Workbook.read(plain_book(tmp_path / "plain.xlsx"))
    names = ["head", "value", "count", "yes_no", "lr", "step"]  # the macros' blocks' styles, one value each below
    assert set(names) == {b.styles.at(i, j) for b in L.BLOCKS for i in (0, 1) for j in range(5)}
    index = {name: pkg.style_index(L.STYLES[name]) for name in names}
    assert len(set(index.values())) == len(index)
    styles = pkg.package.xml("xl/styles.xml")
    count = etree.tostring(styles)
    assert {name: pkg.style_index(L.STYLES[name]) for name in names} == index  # found, not added again
    assert etree.tostring(styles) == count
    pkg.write_cells("S", 2, 0, [names, [1.5, 0.242519857348, 57.0, True, 0.1, 3.0]], [None] * 6)
    pkg.write_cells("S", 3, 0, [[1.5, 0.242519857348, 57.0, True, 0.1, 3.0]], [index[n] for n in names])
    pkg.write_cells("S", 10, 0, np.array([[1.0, 0.25]] * 3), [index["step"], index["value"]])  # bulk rows
    pkg.write_cells("S", 20, 0, [[True, "not reached"]], [index["yes_no"], index["count"]])  # tail rows
    pkg.set_column_widths("S", {2: 30, 3: 9})
    pkg.save(tmp_path / "styled.xlsx")
    assert_excel_opens(tmp_path / "styled.xlsx")
    ws = openpyxl.load_workbook(tmp_path / "styled.xlsx")["S"]
    for j, name in enumerate(names):
        assert look(ws.cell(4, 1 + j)) == declared_look(L.STYLES[name]), name
    assert [ws.cell(11 + i, 2).number_format for i in range(3)] == ["0.000000000"] * 3
    assert ws.cell(11, 1).font.color.rgb == "FF7F7F7F"
    assert (ws.cell(21, 1).number_format, ws.cell(21, 2).number_format) == ('"yes";"yes";"no"', "0")
    assert ws["A1"].value == "kept"
    # B..G were one <col> range (width 20, italic): C and D now have their own widths, the rest keep theirs
    dims = {k: (d.min, d.max, d.width) for k, d in ws.column_dimensions.items() if d.min}
    assert dims["B"] == (2, 2, 20 + PADDING) and dims["C"] == (3, 3, 30 + PADDING)
    assert dims["D"] == (4, 4, 9 + PADDING) and dims["E"] == (5, 7, 20 + PADDING)
    assert all(ws.column_dimensions[k].font.i for k in "BCDE")  # the range's column style stays


def test_widths_are_stored_as_xlsxwriter_stores_them(tmp_path):
    widths = [0.5, 1, 8.43, 9, 12, 14, 30, 100.25]
    wb = xlsxwriter.Workbook(str(tmp_path / "w.xlsx"))
    ws = wb.add_worksheet()
    for k, w in enumerate(widths):
        ws.set_column(k, k, w)
    pixels = [ws.col_info[k].width for k in range(len(widths))]  # XlsxWriter keeps a column's pixels
    wb.close()
    with zipfile.ZipFile(tmp_path / "w.xlsx") as z:
        root = etree.fromstring(z.read("xl/worksheets/sheet1.xml"))
    theirs = [float(c.get("width")) for c in root.iter(f"{{{NS_MAIN}}}col")]
    assert theirs == [ooxml_styles.stored_width(w) for w in widths]
    assert [L.column_pixels(w) for w in widths] == pixels  # what Lite's widths in points are made of


def test_a_book_without_a_stylesheet_or_cols_gets_both(tmp_path):
    """A stylesheet is optional in OOXML, and so is <cols>: both are created where the schema wants them
    (numbers only: inline text without a shared-string table is an audit finding of its own)."""
    wb = xlsxwriter.Workbook(str(tmp_path / "bare.xlsx"))
    wb.add_worksheet("S").write(0, 0, 1.5)
    wb.close()
    with zipfile.ZipFile(tmp_path / "bare.xlsx") as z, zipfile.ZipFile(tmp_path / "nostyles.xlsx", "w") as out:
        for name in z.namelist():
            data = z.read(name)
            if name == "xl/styles.xml":
                continue
            if name in ("[Content_Types].xml", "xl/_rels/workbook.xml.rels"):
                root = etree.fromstring(data)
                for el in [e for e in root if "styles" in (e.get("PartName", "") + e.get("Target", ""))]:
                    root.remove(el)
                data = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
            out.writestr(name, data)
    pkg = Workbook.read(tmp_path / "nostyles.xlsx")
    assert "xl/styles.xml" not in pkg.package.parts
    pkg.write_cells("S", 1, 0, [[3.0, 0.25]], [pkg.style_index(L.STYLES["head"]), pkg.style_index(L.STYLES["value"])])
    pkg.set_column_widths("S", {1: 12})
    pkg.save(tmp_path / "styled.xlsx")
    assert_excel_opens(tmp_path / "styled.xlsx")
    ws = openpyxl.load_workbook(tmp_path / "styled.xlsx")["S"]
    assert look(ws["A2"])["bold"] and look(ws["A2"])["fill"] == "#DDEBF7" and ws["B2"].number_format == "0.000000000"
    assert ws["A1"].value == 1.5 and not ws["A1"].has_style
    assert ws.column_dimensions["B"].width == 12 + PADDING


@pytest.mark.parametrize(
    "props, named",
    [
        (L.STYLES["title"], "font_size"),
        (L.STYLES["note"], "italic"),
        ({"border": 2}, "border"),
        ({"bold": True, "rotation": 90}, "rotation"),
    ],
)
def test_a_style_property_no_back_end_writes_is_refused_in_one_line(props, named):
    """Both back-ends write the properties the macros' blocks use; any other is named, not dropped
    (the xlwings side refuses before touching the range: ``None`` stands for it)."""
    for write in (
        lambda: ooxml_styles.ensure_xf(ooxml_styles.new_stylesheet(), props),
        lambda: macros._xw_style(None, props),
    ):
        with pytest.raises(ValueError) as e:
            write()
        message = str(e.value)
        assert "\n" not in message and f"{named} not written here" in message, message
