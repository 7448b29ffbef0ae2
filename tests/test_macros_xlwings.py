"""The ribbon actions through their xlwings back-end, and the ribbon's RunPython commands.

Excel cannot run here, so these tests hand the actions a *stand-in* for the few xlwings calls
``macros.apply_to_xlwings`` and ``macros.xlwings_getter`` make (``book.names[..].refers_to_range``,
``sheet.range(..).value`` / ``.clear()``, the formats ``.number_format``, ``.font.bold``,
``.font.color``, ``.color``, ``.borders.set(..)``, ``.horizontal_alignment``, ``.column_width``,
``book.app.engine.type``, ``sheet.charts.add`` / ``sheet.pictures.add``, ``name in sheet.charts``,
``.delete()``, ``book.app.alert``). Values set are checked by xlwings' own validators (alignment,
border sides, line style, weight). Each stand-in class mirrors its real
xlwings class: every call binds to the real method's ``inspect.signature``, every attribute set
is a settable property there, so a wrong keyword or a made-up attribute fails here as it would in
Excel (checked against the installed xlwings). The stand-in is seeded with the
committed template's named cells and values (read by openpyxl), and what the actions write
into it is compared with what ``xl-backprop run`` writes into the file: one plan, two
back-ends, the same data. Everything below that thin layer is the real code.
"""

from __future__ import annotations

import copy
import functools
import inspect
import re
import struct
import subprocess
import sys
from pathlib import Path
from typing import ClassVar
from xml.etree import ElementTree

import openpyxl
import pytest
import xlwings

from xl_backprop import macros, network
from xl_backprop.cellref import parse_cell
from xl_backprop.workbook import layout as L

from .test_macros_file import NS, TEMPLATE, objects, parts

ROOT = Path(__file__).resolve().parents[1]
RIBBON_BAS = ROOT / "xl_backprop" / "workbook" / "vba" / "BackpropRibbon.bas"


# --- the stand-in -------------------------------------------------------------------------------
def _rc(a1: str) -> tuple[int, int]:
    """``"B4"`` -> (4, 2): xlwings counts rows and columns from 1."""
    r, c = parse_cell(a1)
    return r + 1, c + 1


def real_signature(method):
    """A call of this stand-in method must also bind to the real xlwings method's signature: a
    misspelt or unsupported keyword fails here as it would in Excel."""

    @functools.wraps(method)
    def checked(self, *args, **kwargs):
        inspect.signature(getattr(self._real, method.__name__)).bind(self, *args, **kwargs)
        return method(self, *args, **kwargs)

    return checked


class StandIn:
    """Mirrors the xlwings class ``_real``: its public members exist there (see
    ``test_the_stand_in_has_only_real_xlwings_members``), its methods take the real signatures,
    and a public attribute set on it must be a settable property of the real class. Test-only
    state has a leading underscore."""

    _real: ClassVar[type]

    def __setattr__(self, name, value):
        if not name.startswith("_"):
            prop = getattr(self._real, name, None)
            assert isinstance(prop, property) and prop.fset, f"xlwings {self._real.__name__}.{name} cannot be set"
        object.__setattr__(self, name, value)


EXCEL_ERRORS = ("#DIV/0!", "#N/A", "#NAME?", "#NULL!", "#NUM!", "#REF!", "#VALUE!")  # xlwings cell_errors


class Range(StandIn):
    """Cells (r1, c1)..(r2, c2) of a stand-in sheet, 1-based like xlwings."""

    _real = xlwings.main.Range

    def __init__(self, sheet: Sheet, r1: int, c1: int, r2: int, c2: int):
        self._sheet, self._first, self._last, self._options = sheet, (r1, c1), (r2, c2), {}

    sheet = property(lambda self: self._sheet)
    row = property(lambda self: self._first[0])
    column = property(lambda self: self._first[1])
    shape = property(lambda self: (self._last[0] - self.row + 1, self._last[1] - self.column + 1))

    @property
    def address(self) -> str:
        cells = [f"${openpyxl.utils.get_column_letter(c)}${r}" for r, c in dict.fromkeys((self._first, self._last))]
        return ":".join(cells)

    @real_signature
    def options(self, convert=None, **options):
        assert convert is None and options.get("ndim") == 2  # the only shape the macros ask for
        rng = Range(self._sheet, *self._first, *self._last)
        rng._options = options
        return rng

    def _read(self, v):
        if isinstance(v, str) and v in EXCEL_ERRORS:  # xlwings reads an error as None unless err_to_str
            return v if self._options.get("err_to_str") else None
        return v

    @property
    def value(self):
        return [[self._read(self._sheet._cells.get((r, c))) for c in range(self.column, self._last[1] + 1)]
                for r in range(self.row, self._last[0] + 1)]

    @value.setter
    def value(self, rows):
        assert isinstance(rows, list) and all(isinstance(r, list) for r in rows)  # 2-D blocks only
        for i, row in enumerate(rows):
            for j, v in enumerate(row):
                assert v is None or type(v) in (float, int, str, bool), v  # what COM can take
                if v is None:
                    self._sheet._cells.pop((self.row + i, self.column + j), None)
                else:
                    self._sheet._cells[(self.row + i, self.column + j)] = v
        self._sheet._book._log.append(("write", self._sheet.name, self.row, self.column))

    def _cells(self):
        return [(r, c) for r in range(self.row, self._last[0] + 1) for c in range(self.column, self._last[1] + 1)]

    def _format(self, key, value):
        for cell in self._cells():
            self._sheet._formats.setdefault(cell, {})[key] = value

    number_format = property(None, lambda self, v: self._format("number_format", v))
    color = property(None, lambda self, v: self._format("fill", v))
    horizontal_alignment = property(
        None, lambda self, v: self._format("align", xlwings.main._horizontal_alignment(v)))
    font = property(lambda self: Font(self))
    borders = property(lambda self: Borders(self))

    def _set_width(self, width):
        assert isinstance(width, int | float) and not isinstance(width, bool) and width > 0
        for c in range(self.column, self._last[1] + 1):
            self._sheet._widths[c] = width

    column_width = property(None, _set_width)

    @real_signature
    def clear(self):
        """Values and formats, as Excel's Range.Clear."""
        for cells in (self._sheet._cells, self._sheet._formats):
            for key in [k for k in cells if self.row <= k[0] <= self._last[0] and self.column <= k[1] <= self._last[1]]:
                del cells[key]
        self._sheet._book._log.append(("clear", self._sheet.name, *self._first, *self._last))


class Font(StandIn):
    """range.font: the font properties the macros set, recorded per cell."""

    _real = xlwings.main.Font

    def __init__(self, rng: Range):
        self._range = rng

    bold = property(None, lambda self, v: self._range._format("bold", bool(v)))
    color = property(None, lambda self, v: self._range._format("font_color", v))


class Borders(StandIn):
    """range.borders: ``set`` records, per cell, the sides xlwings would draw (its own validators)."""

    _real = xlwings.main.Borders

    def __init__(self, rng: Range):
        self._range = rng

    @real_signature
    def set(self, which="all", *, line_style=None, weight=None, color=None):
        assert line_style is not None and weight is not None and color is None  # what the macros set
        sides = xlwings.main._border_sides(which)
        style = (xlwings.main._border_line_style(line_style), xlwings.main._border_weight(weight))
        self._range._format("border", (tuple(sorted(sides)), style))


class Engine(StandIn):
    _real = xlwings.main.Engine
    type = property(lambda self: "desktop")  # classic xlwings: widths in characters


class ChartAxis(StandIn):
    _real = xlwings.main.ChartAxis
    title = property(lambda self: self._title, lambda self, v: object.__setattr__(self, "_title", v))

    def __init__(self):
        self._title = None


class Shape(StandIn):
    """A chart or picture on a stand-in sheet; ``_added`` holds the arguments of its ``add``."""

    def __init__(self, shapes: Shapes, name: str, added: dict | None = None):
        self._shapes, self._name, self._added = shapes, name, added or {}

    name = property(lambda self: self._name)

    @real_signature
    def delete(self):
        del self._shapes._items[self._name]


class Chart(Shape):
    _real = xlwings.main.Chart
    title = property(lambda self: self._title, lambda self, v: object.__setattr__(self, "_title", v))

    def __init__(self, *args):
        super().__init__(*args)
        self._title, self._x_values = None, None
        self._category_axis, self._value_axis = ChartAxis(), ChartAxis()

    category_axis = property(lambda self: self._category_axis)
    value_axis = property(lambda self: self._value_axis)

    @real_signature
    def set_x_axis_values(self, source):
        self._x_values = source


class Picture(Shape):
    _real = xlwings.main.Picture


class Shapes(StandIn):
    """sheet.charts / sheet.pictures: ``name in``, ``[name]``, iteration, ``add``."""

    def __init__(self, sheet: Sheet):
        self._sheet, self._items = sheet, {}

    def __contains__(self, name: str) -> bool:
        return name in self._items

    def __getitem__(self, name: str) -> Shape:
        return self._items[name]

    def __iter__(self):
        return iter(list(self._items.values()))

    def __len__(self) -> int:
        return len(self._items)

    def _seed(self, shape: Shape) -> Shape:
        assert shape.name not in self._items  # xlwings raises ShapeAlreadyExists
        self._items[shape.name] = shape
        return shape


class Charts(Shapes):
    _real = xlwings.main.Charts

    @real_signature
    def add(self, *args, **kwargs):
        added = inspect.signature(self._real.add).bind(self, *args, **kwargs)
        added.apply_defaults()
        return self._seed(Chart(self, kwargs["name"], dict(added.arguments)))


class Pictures(Shapes):
    _real = xlwings.main.Pictures

    @real_signature
    def add(self, *args, **kwargs):
        added = inspect.signature(self._real.add).bind(self, *args, **kwargs)
        added.apply_defaults()
        pic = Picture(self, kwargs["name"], dict(added.arguments))
        pic._png = Path(added.arguments["image"]).read_bytes()  # the file is gone after the call
        return self._seed(pic)


class Sheet(StandIn):
    _real = xlwings.main.Sheet

    def __init__(self, book: Book, name: str):
        self._book, self._name, self._cells = book, name, {}
        self._formats: dict[tuple[int, int], dict] = {}  # (row, col) -> what the macros set
        self._widths: dict[int, float] = {}  # column -> column_width
        self._charts, self._pictures = Charts(self), Pictures(self)

    name = property(lambda self: self._name)
    charts = property(lambda self: self._charts)
    pictures = property(lambda self: self._pictures)

    @real_signature
    def range(self, cell1, cell2=None):
        r1, c1 = _rc(cell1) if isinstance(cell1, str) else cell1
        r2, c2 = (r1, c1) if cell2 is None else cell2
        return Range(self, r1, c1, r2, c2)


class Sheets(StandIn):
    _real = xlwings.main.Sheets

    def __init__(self, sheets: dict[str, Sheet]):
        self._sheets = sheets

    def __getitem__(self, name: str) -> Sheet:
        return self._sheets[name]

    def __iter__(self):
        return iter(list(self._sheets.values()))


class Name(StandIn):
    _real = xlwings.main.Name

    def __init__(self, rng: Range):
        self._range = rng

    refers_to_range = property(lambda self: self._range)


class Names(StandIn):
    """book.names: ``name in names`` and ``names[name].refers_to_range``."""

    _real = xlwings.main.Names

    def __init__(self, book: Book):
        self._book = book

    def __contains__(self, name: str) -> bool:
        return name in self._book._names

    def __getitem__(self, name: str) -> Name:
        sheet, first, last = self._book._names[name]
        return Name(self._book.sheets[sheet].range(first, last))


class App(StandIn):
    _real = xlwings.main.App

    def __init__(self, alerts: list):
        self._alerts = alerts

    engine = property(lambda self: Engine())

    @real_signature
    def alert(self, prompt, title=None, buttons="ok", mode=None, callback=None):
        self._alerts.append((prompt, title, mode))


class Book(StandIn):
    """A stand-in xlwings Book seeded from a workbook file: values (errors as their text, as
    openpyxl reads them), defined names, and the names of the charts and pictures already
    drawn on each sheet."""

    _real = xlwings.main.Book

    def __init__(self, path: Path):
        wb = openpyxl.load_workbook(path, data_only=True)
        self._log: list[tuple] = []
        self._alerts: list[tuple] = []
        self._sheets = Sheets({ws.title: Sheet(self, ws.title) for ws in wb.worksheets})
        for ws in wb.worksheets:
            for row in ws.iter_rows():
                for c in row:
                    if c.value is not None:
                        self.sheets[ws.title]._cells[(c.row, c.column)] = (
                            float(c.value) if isinstance(c.value, int) and not isinstance(c.value, bool)
                            else c.value)
        self._names = {}
        for name, dn in wb.defined_names.items():
            ((sheet, coord),) = dn.destinations
            first, _, last = coord.partition(":")
            self._names[name] = (sheet, _rc(first), _rc(last or first))
        p = parts(path)
        for sheet in self.sheets:
            for o in objects(p, sheet.name):
                shapes = sheet.charts if o.kind == "chart" else sheet.pictures
                shapes._seed((Chart if o.kind == "chart" else Picture)(shapes, o.name))
        self._app = App(self._alerts)

    names = property(lambda self: Names(self))
    sheets = property(lambda self: self._sheets)
    app = property(lambda self: self._app)

    def _state(self):
        return copy.deepcopy({s.name: (s._cells, s._formats, shape_names(s.charts), shape_names(s.pictures))
                              for s in self.sheets})


STAND_INS = (Range, Font, Borders, Engine, ChartAxis, Chart, Picture, Charts, Pictures, Sheet, Sheets, Name, Names,
             App, Book)
DUNDERS = ("__contains__", "__getitem__", "__iter__", "__len__")


def shape_names(shapes: Shapes) -> list[str]:
    return sorted(s.name for s in shapes)


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


def png_size(data: bytes) -> tuple[int, int]:
    return struct.unpack(">II", data[16:24])


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
    book.sheets[L.SHEET_BACKPROP]._cells[_rc(L.IN_W3.cell)] = "abc"
    before = book._state()
    macros.train_learning_rates(book)
    assert book._alerts == [("Backprop!B10 (w3): expected a number, got 'abc'", "xl-backprop", "critical")]
    assert book._state() == before and book._log == []


@pytest.mark.parametrize(("value", "error"), [("#DIV/0!", "#DIV/0!"), (-2146826243, "#SPILL!"),
                                              (-2146826238, "#CALC!")])
def test_an_error_in_an_input_cell_is_named_as_an_error_not_as_empty_or_a_number(value, error):
    # xlwings gives the seven classic errors as text (err_to_str), newer ones as their int code
    book = Book(TEMPLATE)
    book.sheets[L.SHEET_BACKPROP]._cells[_rc(L.IN_W3.cell)] = value
    macros.train_learning_rates(book)
    assert book._alerts == [(f"Backprop!B10 (w3): expected a number, got the error {error}", "xl-backprop",
                             "critical")]  # the message the file back-end gives for the same cell
    assert book._log == []


def test_a_renamed_sheet_is_named_in_a_message_box_before_anything_is_written():
    book = Book(TEMPLATE)
    book.sheets[L.SHEET_LRS]._name = "LR"  # the user renamed it; Excel moved the defined names along
    book.sheets._sheets = {s.name: s for s in book.sheets}
    book._names = {n: ("LR" if s == L.SHEET_LRS else s, *rest) for n, (s, *rest) in book._names.items()}
    before = book._state()
    macros.train_learning_rates(book)
    assert book._alerts == [("sheet 'Learning rates': not in this workbook (it has Backprop, UDFs, LR, About, "
                             "xlwings.conf); expected the xl-backprop template's sheets", "xl-backprop", "critical")]
    assert book._state() == before and book._log == []


def test_too_many_iterations_is_refused_in_excel_too():
    book = Book(TEMPLATE)
    book.sheets[L.SHEET_LRS]._cells[(4, 2)] = 2_000_000.0
    macros.train_learning_rates(book)
    assert book._alerts[0][0] == ("'Learning rates'!B4 (iterations): expected a whole number from 1 to "
                                 "1,048,567, got 2000000")
    assert book._log == []


def test_an_overflow_names_the_input_cell_in_the_message_box():
    """Issue 11: named as the input (t1), not as the output cell that could not store inf; and
    draw-network does not draw "E_total = inf"."""
    for run in (macros.train_learning_rates, macros.draw_network):
        book = Book(TEMPLATE)
        book.sheets[L.SHEET_BACKPROP]._cells[(6, 2)] = 1e200  # B6: t1
        run(book)
        assert book._alerts == [("Backprop!B6 (t1): with 1e+200 E_total overflows before training; "
                                 "expected a smaller number", "xl-backprop", "critical")]
        assert book._log == []


def test_draw_network_puts_one_named_picture_on_backprop():
    book = Book(TEMPLATE)
    macros.draw_network(book)
    macros.draw_network(book)
    (pic,) = book.sheets[L.SHEET_BACKPROP].pictures
    assert pic.name == L.NETWORK_PICTURE.name and pic._added["anchor"].address == "$Z$3"
    assert png_size(pic._png) == (L.NETWORK_PICTURE.width, L.NETWORK_PICTURE.height)
    assert all(entry[0] != "write" for entry in book._log)  # a picture, no cells


def test_reset_restores_the_template_state():
    book = Book(TEMPLATE)
    start = book._state()
    macros.train_learning_rates(book)
    macros.draw_network(book)
    lrs = book.sheets[L.SHEET_LRS]
    lrs._cells[(5, 2)] = 0.7  # the user edits inputs
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
        code = "\n".join(src for _, _, module, src in parser.extract_macros()
                          if module.startswith(RIBBON_BAS.stem))
    finally:
        parser.close()
    assert re.findall(r'RunPython\s+"([^"]*)"', code) == bas_commands()
    assert len(bas_commands()) == 3


def test_importing_the_macros_asks_excel_for_nothing():
    # a fresh interpreter, so the import really runs
    code = ("import xlwings\n"
            "def boom():\n    raise SystemExit('xw.Book.caller() at import time')\n"
            "xlwings.Book.caller = staticmethod(boom)\n"
            "import xl_backprop.macros as m\n"
            "print(sorted(f for f in ('train_learning_rates', 'draw_network', 'reset') if callable(getattr(m, f))))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "['draw_network', 'reset', 'train_learning_rates']"


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
        assert lrs._cells[(9, 23)] == pytest.approx(0.24251985734837728, abs=1e-15)
        assert (13, 22) in lrs._cells and (14, 22) not in lrs._cells  # 5 steps, 0..4, in rows 9..13
        assert L.MACRO_CHART.name in lrs.charts
    elif function == "draw_network":
        assert L.NETWORK_PICTURE.name in book.sheets[L.SHEET_BACKPROP].pictures
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
    assert book._alerts == [("'Learning rates'!B5:K5 (learning rates): expected at least one learning rate, "
                            "found only empty cells", "xl-backprop", "critical")]
    assert book._state() == before
