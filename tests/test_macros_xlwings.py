"""The ribbon actions through their xlwings back-end, and the ribbon's RunPython commands.

Excel cannot run here, so these tests hand the actions a *stand-in* for the few xlwings calls
``macros.apply_to_xlwings`` and ``macros.xlwings_getter`` make (``book.names[..].refers_to_range``,
``sheet.range(..).value`` / ``.clear()``, the formats ``.number_format``, ``.font.bold``,
``.font.color``, ``.color``, ``.borders.set(..)``, ``.horizontal_alignment``, ``.column_width``,
``book.app.engine.type``, ``sheet.charts.add`` / ``sheet.pictures.add``, ``chart.series[k].line_color``,
``name in sheet.charts``, ``.delete()``, ``book.app.alert``). Values set are checked by xlwings' own
validators (alignment, border sides, line style, weight, series colour). Each stand-in class mirrors its real
xlwings class: every call binds to the real method's ``inspect.signature``, every attribute set
is a settable property there, so a wrong keyword or a made-up attribute fails here as it would in
Excel (checked against the installed xlwings). The stand-in is seeded with the
committed template's named cells and values (read by openpyxl), and what the actions write
into it is compared with what ``xl-backprop run`` writes into the file: one plan, two
back-ends, the same data. Everything below that thin layer is the real code.
"""

from __future__ import annotations

import re
import subprocess
import sys
from xml.etree import ElementTree

import pytest
import xlwings

from xl_backprop import macros, network, palette
from xl_backprop.workbook import layout as L

from .conftest import ROOT, TEMPLATE
from .ooxml_read import NS, objects, parts, png_size
from .published import COURSE_E_TOTAL
from .xlwings_standin import DUNDERS, STAND_INS, Book, rowcol1, shape_names

RIBBON_BAS = ROOT / "xl_backprop" / "workbook" / "vba" / "BackpropRibbon.bas"


def test_the_stand_in_has_only_real_xlwings_members():
    for cls in STAND_INS:
        for name, member in vars(cls).items():
            if name.startswith("_") and name not in DUNDERS:
                continue
            real = getattr(cls._real, name, None)
            assert real is not None, f"xlwings {cls._real.__name__} has no {name}"
            if isinstance(member, property):
                assert isinstance(real, property), (cls, name)
                assert real.fset or not member.fset, f"xlwings {cls._real.__name__}.{name} is read-only"
            elif name not in DUNDERS:
                assert hasattr(member, "__wrapped__"), f"{cls.__name__}.{name}: check it with @real_signature"


def test_the_stand_in_refuses_what_xlwings_would():
    sheet = Book(TEMPLATE).sheets[L.SHEET_LRS]
    with pytest.raises(TypeError, match="unexpected keyword argument 'type'"):
        sheet.charts.add(type="line", name="x")
    with pytest.raises(TypeError, match="unexpected keyword argument 'position'"):
        sheet.pictures.add("x.png", name="x", position=sheet.range("A1"))
    (chart,) = [c for c in sheet.charts]
    with pytest.raises(AssertionError, match="xlwings Chart.x_title cannot be set"):
        chart.x_title = "step"
    with pytest.raises(AssertionError, match="xlwings ChartAxis.caption cannot be set"):
        chart.category_axis.caption = "step"
    with pytest.raises(TypeError):
        Book(TEMPLATE).app.alert("hi", style="critical")


@pytest.fixture(scope="module")
def file_run(tmp_path_factory):
    d = tmp_path_factory.mktemp("file")
    macros.run_on_file("train-lrs", TEMPLATE, d / "trained.xlsm")
    return d / "trained.xlsm"


def block_values(cells: dict, block: L.Block) -> dict:
    return {k: v for k, v in cells.items() if block.area.contains(k[0] - 1, k[1] - 1)}


# --- the actions through xlwings ----------------------------------------------------------------
def test_train_writes_the_same_cells_and_chart_as_the_file_backend(file_run):
    book = Book(TEMPLATE)
    macros.train_learning_rates(book)
    assert not book._alerts
    done = Book(file_run)  # the file back-end's result, read by openpyxl
    mine, theirs = book.sheets[L.SHEET_LRS]._cells, done.sheets[L.SHEET_LRS]._cells
    for block in L.BLOCKS:
        assert block_values(mine, block) == block_values(theirs, block)
    assert len(block_values(mine, L.MACRO_LOSS)) == (1 + network.DEFAULT_ITERATIONS) * 7
    chart = book.sheets[L.SHEET_LRS].charts[L.MACRO_CHART.name]
    added = chart._added
    assert (added["chart_type"], added["plot_by"]) == ("line", "columns")
    assert added["source"].address == f"$W$8:$AB${8 + network.DEFAULT_ITERATIONS}"
    assert chart._x_values.address == f"$V$9:$V${8 + network.DEFAULT_ITERATIONS}"
    assert added["anchor"].address == "$AO$8" and (added["left"], added["top"]) == (0, 0)
    assert (added["width"], added["height"]) == (L.MACRO_CHART.width * 0.75, L.MACRO_CHART.height * 0.75)
    assert chart.category_axis.title == "step" and chart.value_axis.title == "E_total"
    # the same series and title as the chart in the file
    p = parts(file_run)
    (o,) = [o for o in objects(p, L.SHEET_LRS) if o.name == L.MACRO_CHART.name]
    root = ElementTree.fromstring(p[o.part])
    refs = [f.text for f in root.iterfind(".//c:ser/c:val/c:numRef/c:f", NS)]
    assert refs[0] == "'Learning rates'!$W$9:$W$59" and refs[-1] == "'Learning rates'!$AB$9:$AB$59"
    assert chart.title == "".join(t.text for t in root.find("c:chart/c:title", NS).iter(f"{{{NS['a']}}}t"))
    pic = book.sheets[L.SHEET_LRS].pictures[L.MACRO_PICTURE.name]
    assert png_size(pic._png) == (L.MACRO_PICTURE.width, L.MACRO_PICTURE.height)
    assert pic._added["anchor"].address == "$AO$30" and pic._added["update"] is False  # deleted, then added


def excel_rgb(hex_colour: str) -> int:
    """``#RRGGBB`` as the integer Excel's COM takes for a colour: R + G·256 + B·65536."""
    r, g, b = (int(hex_colour.lstrip("#")[i : i + 2], 16) for i in (0, 2, 4))
    return r + 256 * g + 65536 * b


def test_the_live_chart_colours_each_learning_rate_from_the_palette(file_run):
    """No live Excel runs here: this tests only the thinnest layer, the xlwings calls
    ``macros._xw_series_colors`` makes (``chart.series[k].line_color``, which xlwings turns into
    ``SeriesCollection(k).Format.Line.ForeColor.RGB`` on Windows), through the stand-in. Series
    ``k`` gets the palette's colour of slot ``k``, the colour the file back-end writes into its
    chart, and is named ``lr_label`` of its rate (Excel takes the source's header row)."""
    book = Book(TEMPLATE)
    lrs = [float(v) for v in book.names[L.IN_LRS.name].refers_to_range.value[0] if v is not None]
    macros.train_learning_rates(book)
    series = list(book.sheets[L.SHEET_LRS].charts[L.MACRO_CHART.name].series)
    assert [s.name for s in series] == [palette.lr_label(x) for x in lrs] == [f"lr {x:g}" for x in lrs]
    assert [s._line_rgb for s in series] == [excel_rgb(c) for c in palette.LR_COLORS[: len(lrs)]]
    p = parts(file_run)
    (o,) = [o for o in objects(p, L.SHEET_LRS) if o.name == L.MACRO_CHART.name]
    written = re.findall(r"<c:ser>.*?<a:srgbClr val=\"([0-9A-F]{6})\"", p[o.part].decode(), re.S)
    assert [s._line_rgb for s in series] == [excel_rgb(c) for c in written]
    assert excel_rgb("#0072B2") == 0xB27200  # slot 0, blue: Excel's integer is BGR


def test_a_second_run_replaces_the_chart_and_picture_and_keeps_the_templates(file_run):
    book = Book(TEMPLATE)
    theirs = shape_names(book.sheets[L.SHEET_LRS].charts)
    assert theirs  # the template's live chart
    macros.train_learning_rates(book)
    macros.train_learning_rates(book)
    assert shape_names(book.sheets[L.SHEET_LRS].charts) == sorted([*theirs, L.MACRO_CHART.name])
    assert shape_names(book.sheets[L.SHEET_LRS].pictures) == [L.MACRO_PICTURE.name]


def test_bad_input_shows_one_message_box_and_writes_nothing():
    book = Book(TEMPLATE)
    book.sheets[L.SHEET_BACKPROP]._cells[rowcol1(L.IN_W3.cell)] = "abc"
    before = book._state()
    macros.train_learning_rates(book)
    assert book._alerts == [("Backprop!B10 (w3): expected a number, got 'abc'", "xl-backprop", "critical")]
    assert book._state() == before and book._log == []


@pytest.mark.parametrize(
    ("value", "error"), [("#DIV/0!", "#DIV/0!"), (-2146826243, "#SPILL!"), (-2146826238, "#CALC!")]
)
def test_an_error_in_an_input_cell_is_named_as_an_error_not_as_empty_or_a_number(value, error):
    # xlwings gives the seven classic errors as text (err_to_str), newer ones as their int code
    book = Book(TEMPLATE)
    book.sheets[L.SHEET_BACKPROP]._cells[rowcol1(L.IN_W3.cell)] = value
    macros.train_learning_rates(book)
    assert book._alerts == [
        (f"Backprop!B10 (w3): expected a number, got the error {error}", "xl-backprop", "critical")
    ]  # the message the file back-end gives for the same cell
    assert book._log == []


def test_a_renamed_sheet_is_named_in_a_message_box_before_anything_is_written():
    book = Book(TEMPLATE)
    book.sheets[L.SHEET_LRS]._name = "LR"  # the user renamed it; Excel moved the defined names along
    book.sheets._sheets = {s.name: s for s in book.sheets}
    book._names = {n: ("LR" if s == L.SHEET_LRS else s, *rest) for n, (s, *rest) in book._names.items()}
    before = book._state()
    macros.train_learning_rates(book)
    assert book._alerts == [
        (
            "sheet 'Learning rates': not in this workbook (it has Backprop, UDFs, LR, Practice, Examples, "
            "LR blocks, About, xlwings.conf); expected the xl-backprop template's sheets",
            "xl-backprop",
            "critical",
        )
    ]
    assert book._state() == before and book._log == []


def test_too_many_iterations_is_refused_in_excel_too():
    book = Book(TEMPLATE)
    book.sheets[L.SHEET_LRS]._cells[(4, 2)] = 2_000_000.0
    macros.train_learning_rates(book)
    assert book._alerts[0][0] == (
        "'Learning rates'!B4 (iterations): expected a whole number from 1 to 1,048,567, got 2000000"
    )
    assert book._log == []


def test_an_overflow_names_the_input_cell_in_the_message_box():
    """Issue 11: named as the input (t1), not as the output cell that could not store inf; and
    draw-network does not draw "E_total = inf"."""
    for run in (macros.train_learning_rates, macros.draw_network):
        book = Book(TEMPLATE)
        book.sheets[L.SHEET_BACKPROP]._cells[(6, 2)] = 1e200  # B6: t1
        run(book)
        assert book._alerts == [
            (
                "Backprop!B6 (t1): with 1e+200 E_total overflows before training; expected a smaller number",
                "xl-backprop",
                "critical",
            )
        ]
        assert book._log == []


def test_draw_network_puts_one_named_picture_on_backprop():
    book = Book(TEMPLATE)
    macros.draw_network(book)
    macros.draw_network(book)
    (pic,) = book.sheets[L.SHEET_BACKPROP].pictures
    assert (
        pic.name == L.NETWORK_PICTURE.name
        and pic._added["anchor"].address == "$" + L.NETWORK_PICTURE.cell[0] + "$" + L.NETWORK_PICTURE.cell[1:]
    )
    assert png_size(pic._png) == (L.NETWORK_PICTURE.width, L.NETWORK_PICTURE.height)
    assert all(entry[0] != "write" for entry in book._log)  # a picture, no cells


def test_map_learning_rates_puts_one_named_picture_on_learning_rates():
    book = Book(TEMPLATE)
    macros.map_learning_rates(book)
    macros.map_learning_rates(book)
    assert not book._alerts
    (pic,) = book.sheets[L.SHEET_LRS].pictures
    assert (
        pic.name == L.MAP_PICTURE.name
        and pic._added["anchor"].address == "$" + L.MAP_PICTURE.cell[0] + "$" + L.MAP_PICTURE.cell[1:]
    )
    assert (pic._added["width"], pic._added["height"]) == (
        L.MAP_PICTURE.width * macros.PT_PER_PX,
        L.MAP_PICTURE.height * macros.PT_PER_PX,
    )
    w, h = png_size(pic._png)
    assert w * L.MAP_PICTURE.height == h * L.MAP_PICTURE.width
    assert all(entry[0] != "write" for entry in book._log)  # a picture, no cells


def test_map_learning_rates_with_bad_input_shows_one_message_box_and_writes_nothing():
    book = Book(TEMPLATE)
    book.sheets[L.SHEET_LRS]._cells[rowcol1(L.IN_MAP_H_COUNT.cell)] = "many"
    before = book._state()
    macros.map_learning_rates(book)
    assert book._alerts == [
        (
            "'Learning rates'!P26 (lr_hidden count): expected a whole number from 1 to 10,000,000, got 'many'",
            "xl-backprop",
            "critical",
        )
    ]
    assert book._state() == before and book._log == []


def test_reset_restores_the_template_state():
    book = Book(TEMPLATE)
    start = book._state()
    macros.train_learning_rates(book)
    macros.draw_network(book)
    macros.map_learning_rates(book)
    lrs = book.sheets[L.SHEET_LRS]
    lrs._cells[(5, 2)] = 0.7  # the user edits inputs
    lrs._cells[rowcol1(L.IN_MAP_STEPS.cell)] = 5.0
    book.sheets[L.SHEET_BACKPROP]._cells[(12, 2)] = 9.0
    macros.reset(book)
    assert not book._alerts
    assert book._state() == start


# --- the ribbon's commands ------------------------------------------------------------------------
def bas_commands() -> list[str]:
    return re.findall(r'RunPython\s+"([^"]*)"', RIBBON_BAS.read_text())


def test_the_template_carries_the_same_commands_as_the_bas_source():
    from oletools.olevba import VBA_Parser

    parser = VBA_Parser(str(TEMPLATE))
    try:
        code = "\n".join(src for _, _, module, src in parser.extract_macros() if module.startswith(RIBBON_BAS.stem))
    finally:
        parser.close()
    assert re.findall(r'RunPython\s+"([^"]*)"', code) == bas_commands()
    assert len(bas_commands()) == 4


def test_importing_the_macros_asks_excel_for_nothing():
    # a fresh interpreter, so the import really runs
    code = (
        "import xlwings\n"
        "def boom():\n    raise SystemExit('xw.Book.caller() at import time')\n"
        "xlwings.Book.caller = staticmethod(boom)\n"
        "import xl_backprop.macros as m\n"
        "names = ('train_learning_rates', 'draw_network', 'map_learning_rates', 'reset')\n"
        "print(sorted(f for f in names if callable(getattr(m, f))))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "['draw_network', 'map_learning_rates', 'reset', 'train_learning_rates']"


@pytest.mark.parametrize("command", bas_commands())
def test_each_ribbon_command_runs_in_python_and_reaches_its_macro(monkeypatch, command):
    book = Book(TEMPLATE)
    monkeypatch.setattr(xlwings.Book, "caller", staticmethod(lambda: book))
    lrs = book.sheets[L.SHEET_LRS]
    lrs._cells[(4, 2)] = 5.0  # iterations, so "reset" has something to restore
    exec(command, {})  # exactly what RunPython hands to Python
    assert not book._alerts
    function = re.search(r"m\.(\w+)\(\)", command).group(1)
    if function == "train_learning_rates":
        assert lrs._cells[(9, 23)] == pytest.approx(COURSE_E_TOTAL, abs=1e-15)
        assert (13, 22) in lrs._cells and (14, 22) not in lrs._cells  # 5 steps, 0..4, in rows 9..13
        assert L.MACRO_CHART.name in lrs.charts
    elif function == "draw_network":
        assert L.NETWORK_PICTURE.name in book.sheets[L.SHEET_BACKPROP].pictures
    elif function == "map_learning_rates":
        assert L.MAP_PICTURE.name in lrs.pictures
    else:
        assert function == "reset"
        assert lrs._cells[(4, 2)] == network.DEFAULT_ITERATIONS


def test_a_ribbon_command_with_bad_input_only_shows_a_message(monkeypatch):
    book = Book(TEMPLATE)
    for col in range(2, 12):
        book.sheets[L.SHEET_LRS]._cells.pop((5, col), None)  # an empty learning-rate list
    monkeypatch.setattr(xlwings.Book, "caller", staticmethod(lambda: book))
    before = book._state()
    exec(bas_commands()[0], {})
    assert book._alerts == [
        (
            "'Learning rates'!B5:K5 (learning rates): expected at least one learning rate, found only empty cells",
            "xl-backprop",
            "critical",
        )
    ]
    assert book._state() == before
