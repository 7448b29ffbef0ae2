"""A stand-in for the few xlwings objects the ribbon's actions use in Excel (no Excel runs here).

Each class mirrors its real xlwings class: every call binds to the real method's
``inspect.signature`` and every attribute set is a settable property there, so a wrong keyword
or a made-up attribute fails here as it would in Excel. It is seeded with a workbook's named
cells and values (read by openpyxl). The tests in test_macros_xlwings.py check the stand-in
itself against the installed xlwings.
"""

from __future__ import annotations

import copy
import functools
import inspect
from pathlib import Path
from typing import ClassVar

import openpyxl
import xlwings

from xl_backprop.cellref import parse_cell

from .ooxml_read import objects, parts


# --- the stand-in -------------------------------------------------------------------------------
def rowcol1(a1: str) -> tuple[int, int]:
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
        return [
            [self._read(self._sheet._cells.get((r, c))) for c in range(self.column, self._last[1] + 1)]
            for r in range(self.row, self._last[0] + 1)
        ]

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
    horizontal_alignment = property(None, lambda self, v: self._format("align", xlwings.main._horizontal_alignment(v)))
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


class ChartSeries(StandIn):
    """chart.series[k]: its name and its line colour, recorded as the integer Excel's COM gets
    (xlwings' own validator and conversion: R + G·256 + B·65536)."""

    _real = xlwings.main.ChartSeries

    def __init__(self, name: str):
        self._name, self._line_rgb = name, None

    name = property(lambda self: self._name)

    def _set_line_color(self, value):
        rgb = xlwings.main._chart_series_color(value, "line_color")
        self._line_rgb = xlwings.utils.rgb_to_int(rgb)

    line_color = property(None, _set_line_color)


class ChartSeriesCollection(StandIn):
    _real = xlwings.main.ChartSeriesCollection

    def __init__(self, series: list[ChartSeries]):
        self._series = series

    def __getitem__(self, k: int) -> ChartSeries:
        return self._series[k]

    def __iter__(self):
        return iter(self._series)

    def __len__(self) -> int:
        return len(self._series)


class Chart(Shape):
    _real = xlwings.main.Chart
    title = property(lambda self: self._title, lambda self, v: object.__setattr__(self, "_title", v))

    def __init__(self, *args):
        super().__init__(*args)
        self._title, self._x_values = None, None
        self._category_axis, self._value_axis = ChartAxis(), ChartAxis()
        source = self._added.get("source")
        header = source.value[0] if source is not None else []
        # Excel's rule for a source plotted by columns: a text header row names the series
        named = all(isinstance(v, str) for v in header)
        self._series = [ChartSeries(v if named else f"Series{k + 1}") for k, v in enumerate(header)]

    category_axis = property(lambda self: self._category_axis)
    value_axis = property(lambda self: self._value_axis)
    series = property(lambda self: ChartSeriesCollection(self._series))

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
        r1, c1 = rowcol1(cell1) if isinstance(cell1, str) else cell1
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
                            float(c.value) if isinstance(c.value, int) and not isinstance(c.value, bool) else c.value
                        )
        self._names = {}
        for name, dn in wb.defined_names.items():
            if not list(dn.destinations):
                continue  # a named formula (a choice's code): Excel computes it; the macros read the choice
            ((sheet, coord),) = dn.destinations
            first, _, last = coord.partition(":")
            self._names[name] = (sheet, rowcol1(first), rowcol1(last or first))
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
        return copy.deepcopy(
            {s.name: (s._cells, s._formats, shape_names(s.charts), shape_names(s.pictures)) for s in self.sheets}
        )


STAND_INS = (
    Range,
    Font,
    Borders,
    Engine,
    ChartAxis,
    ChartSeries,
    ChartSeriesCollection,
    Chart,
    Picture,
    Charts,
    Pictures,
    Sheet,
    Sheets,
    Name,
    Names,
    App,
    Book,
)
DUNDERS = ("__contains__", "__getitem__", "__iter__", "__len__")


def shape_names(shapes: Shapes) -> list[str]:
    return sorted(s.name for s in shapes)
