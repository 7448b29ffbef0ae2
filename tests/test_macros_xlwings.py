"""The ribbon actions through their xlwings back-end, and the ribbon's RunPython commands.

Excel cannot run here, so these tests hand the actions a *stand-in* for the few xlwings calls
``macros.apply_to_xlwings`` and ``macros.xlwings_getter`` make (``book.names[..].refers_to_range``,
``sheet.range(..).value`` / ``.clear_contents()``, ``sheet.charts.add`` / ``sheet.pictures.add``,
``name in sheet.charts``, ``.delete()``, ``book.app.alert``). The stand-in is seeded with the
committed template's named cells and values (read by openpyxl), and what the actions write
into it is compared with what ``xl-backprop run`` writes into the file: one plan, two
back-ends, the same data. Everything below that thin layer is the real code.
"""

from __future__ import annotations

import copy
import re
import struct
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from xml.etree import ElementTree

import openpyxl
import pytest
import xlwings

from xl_backprop import macros, network
from xl_backprop.workbook import layout as L

from .test_macros_file import NS, TEMPLATE, objects, parts

ROOT = Path(__file__).resolve().parents[1]
RIBBON_BAS = ROOT / "xl_backprop" / "workbook" / "vba" / "BackpropRibbon.bas"


# --- the stand-in -------------------------------------------------------------------------------
def _col(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


def _rc(a1: str) -> tuple[int, int]:
    m = re.fullmatch(r"\$?([A-Z]+)\$?(\d+)", a1)
    return int(m.group(2)), _col(m.group(1))


class Range:
    """Cells (r1, c1)..(r2, c2) of a stand-in sheet, 1-based like xlwings."""

    def __init__(self, sheet: Sheet, r1: int, c1: int, r2: int, c2: int):
        self.sheet, self.row, self.column = sheet, r1, c1
        self.last = (r2, c2)
        self.shape = (r2 - r1 + 1, c2 - c1 + 1)

    def options(self, ndim=None):
        assert ndim == 2  # the only conversion the macros ask for
        return self

    @property
    def value(self):
        return [[self.sheet.cells.get((r, c)) for c in range(self.column, self.last[1] + 1)]
                for r in range(self.row, self.last[0] + 1)]

    @value.setter
    def value(self, rows):
        assert isinstance(rows, list) and all(isinstance(r, list) for r in rows)  # 2-D blocks only
        for i, row in enumerate(rows):
            for j, v in enumerate(row):
                if v is None:
                    self.sheet.cells.pop((self.row + i, self.column + j), None)
                else:
                    self.sheet.cells[(self.row + i, self.column + j)] = v
        self.sheet.book.log.append(("write", self.sheet.name, self.row, self.column))

    def clear_contents(self):
        for key in [k for k in self.sheet.cells if self.row <= k[0] <= self.last[0]
                    and self.column <= k[1] <= self.last[1]]:
            del self.sheet.cells[key]
        self.sheet.book.log.append(("clear", self.sheet.name, self.row, self.column, *self.last))

    @property
    def address(self) -> str:
        return f"{openpyxl.utils.get_column_letter(self.column)}{self.row}:" \
               f"{openpyxl.utils.get_column_letter(self.last[1])}{self.last[0]}"


class Shapes(dict):
    """sheet.charts / sheet.pictures: by name, with ``add``."""

    def __init__(self, sheet: Sheet, kind: str):
        super().__init__()
        self.sheet, self.kind = sheet, kind

    def add(self, source=None, **kwargs):
        name = kwargs["name"]
        assert name not in self  # xlwings raises ShapeAlreadyExists
        if self.kind == "picture":
            shape = SimpleNamespace(png=Path(source).read_bytes(), **kwargs)
        else:
            shape = SimpleNamespace(source=source, x_values=None, title=None, **kwargs,
                                    category_axis=SimpleNamespace(title=None),
                                    value_axis=SimpleNamespace(title=None))
            shape.set_x_axis_values = lambda rng, s=shape: setattr(s, "x_values", rng)
        return self.seed(name, shape)

    def seed(self, name: str, shape: SimpleNamespace | None = None) -> SimpleNamespace:
        shape = shape or SimpleNamespace(name=name)
        shape.delete = lambda: self.pop(name)
        self[name] = shape
        return shape


class Sheet:
    def __init__(self, book: Book, name: str):
        self.book, self.name, self.cells = book, name, {}
        self.charts, self.pictures = Shapes(self, "chart"), Shapes(self, "picture")

    def range(self, first, last=None):
        r1, c1 = _rc(first) if isinstance(first, str) else first
        r2, c2 = (r1, c1) if last is None else last
        return Range(self, r1, c1, r2, c2)


class Names:
    """book.names: ``name in names`` and ``names[name].refers_to_range``."""

    def __init__(self, book: Book):
        self.book = book

    def __contains__(self, name: str) -> bool:
        return name in self.book._names

    def __getitem__(self, name: str) -> SimpleNamespace:
        sheet, first, last = self.book._names[name]
        return SimpleNamespace(refers_to_range=self.book.sheets[sheet].range(first, last))


class Book:
    """A stand-in xlwings Book seeded from a workbook file: values, defined names, and the
    names of the charts already drawn on each sheet."""

    def __init__(self, path: Path):
        wb = openpyxl.load_workbook(path, data_only=True)
        self.log: list[tuple] = []
        self.alerts: list[tuple] = []
        self.sheets = {ws.title: Sheet(self, ws.title) for ws in wb.worksheets}
        for ws in wb.worksheets:
            for row in ws.iter_rows():
                for c in row:
                    if c.value is not None:
                        self.sheets[ws.title].cells[(c.row, c.column)] = (
                            float(c.value) if isinstance(c.value, int) and not isinstance(c.value, bool)
                            else c.value)
        self._names = {}
        for name, dn in wb.defined_names.items():
            ((sheet, coord),) = dn.destinations
            first, _, last = coord.partition(":")
            self._names[name] = (sheet, _rc(first), _rc(last or first))
        p = parts(path)
        for sheet in self.sheets.values():
            for o in objects(p, sheet.name):
                (sheet.charts if o.kind == "chart" else sheet.pictures).seed(o.name)
        self.app = SimpleNamespace(alert=lambda prompt, title=None, buttons="ok", mode=None, callback=None:
                                   self.alerts.append((prompt, title, mode)))

    @property
    def names(self) -> Names:
        return Names(self)

    def state(self):
        return copy.deepcopy({n: (s.cells, sorted(s.charts), sorted(s.pictures)) for n, s in self.sheets.items()})


def png_size(data: bytes) -> tuple[int, int]:
    return struct.unpack(">II", data[16:24])


@pytest.fixture(scope="module")
def file_run(tmp_path_factory):
    d = tmp_path_factory.mktemp("file")
    macros.run_on_file("train-lrs", TEMPLATE, d / "trained.xlsm")
    return d / "trained.xlsm"


def block_values(cells: dict, block: L.Block) -> dict:
    r, c = L.rowcol(block.top_left)
    return {k: v for k, v in cells.items() if r + 1 <= k[0] < r + 1 + block.max_rows
            and c + 1 <= k[1] < c + 1 + block.max_cols}


# --- the actions through xlwings ----------------------------------------------------------------
def test_train_writes_the_same_cells_and_chart_as_the_file_backend(file_run):
    book = Book(TEMPLATE)
    macros.train_learning_rates(book)
    assert not book.alerts
    done = Book(file_run)  # the file back-end's result, read by openpyxl
    mine, theirs = book.sheets[L.SHEET_LRS].cells, done.sheets[L.SHEET_LRS].cells
    for block in L.BLOCKS:
        assert block_values(mine, block) == block_values(theirs, block)
    assert len(block_values(mine, L.MACRO_LOSS)) == (1 + network.DEFAULT_ITERATIONS) * 7
    chart = book.sheets[L.SHEET_LRS].charts[L.MACRO_CHART.name]
    assert (chart.chart_type, chart.plot_by) == ("line", "columns")
    assert chart.source.address == f"W8:AB{8 + network.DEFAULT_ITERATIONS}"
    assert chart.x_values.address == f"V9:V{8 + network.DEFAULT_ITERATIONS}"
    assert chart.anchor.address == "AO8:AO8"
    assert (chart.width, chart.height) == (L.MACRO_CHART.width * 0.75, L.MACRO_CHART.height * 0.75)
    assert chart.category_axis.title == "step" and chart.value_axis.title == "E_total"
    # the same series and title as the chart in the file
    p = parts(file_run)
    (o,) = [o for o in objects(p, L.SHEET_LRS) if o.name == L.MACRO_CHART.name]
    root = ElementTree.fromstring(p[o.part])
    refs = [f.text for f in root.iterfind(".//c:ser/c:val/c:numRef/c:f", NS)]
    assert refs[0] == "'Learning rates'!$W$9:$W$59" and refs[-1] == "'Learning rates'!$AB$9:$AB$59"
    assert chart.title == "".join(t.text for t in root.find("c:chart/c:title", NS).iter(f"{{{NS['a']}}}t"))
    pic = book.sheets[L.SHEET_LRS].pictures[L.MACRO_PICTURE.name]
    assert png_size(pic.png) == (L.MACRO_PICTURE.width, L.MACRO_PICTURE.height)
    assert pic.anchor.address == "AO30:AO30"


def test_a_second_run_replaces_the_chart_and_picture_and_keeps_the_templates(file_run):
    book = Book(TEMPLATE)
    theirs = sorted(book.sheets[L.SHEET_LRS].charts)
    assert theirs  # the template's live chart
    macros.train_learning_rates(book)
    macros.train_learning_rates(book)
    assert sorted(book.sheets[L.SHEET_LRS].charts) == sorted([*theirs, L.MACRO_CHART.name])
    assert list(book.sheets[L.SHEET_LRS].pictures) == [L.MACRO_PICTURE.name]


def test_bad_input_shows_one_message_box_and_writes_nothing():
    book = Book(TEMPLATE)
    w3 = L.rowcol(L.IN_W3.cell)
    book.sheets[L.SHEET_BACKPROP].cells[(w3[0] + 1, w3[1] + 1)] = "abc"
    before = book.state()
    macros.train_learning_rates(book)
    assert book.alerts == [("Backprop!B10 (w3): expected a number, got 'abc'", "xl-backprop", "critical")]
    assert book.state() == before and book.log == []


def test_too_many_iterations_is_refused_in_excel_too():
    book = Book(TEMPLATE)
    book.sheets[L.SHEET_LRS].cells[(4, 2)] = 2_000_000.0
    macros.train_learning_rates(book)
    assert book.alerts[0][0] == ("'Learning rates'!B4 (iterations): expected a whole number from 1 to "
                                 "1,048,567, got 2000000")
    assert book.log == []


def test_draw_network_puts_one_named_picture_on_backprop():
    book = Book(TEMPLATE)
    macros.draw_network(book)
    macros.draw_network(book)
    (pic,) = book.sheets[L.SHEET_BACKPROP].pictures.values()
    assert pic.name == L.NETWORK_PICTURE.name and pic.anchor.address == "Z3:Z3"
    assert png_size(pic.png) == (L.NETWORK_PICTURE.width, L.NETWORK_PICTURE.height)
    assert all(entry[0] != "write" for entry in book.log)  # a picture, no cells


def test_reset_restores_the_template_state():
    book = Book(TEMPLATE)
    start = book.state()
    macros.train_learning_rates(book)
    macros.draw_network(book)
    lrs = book.sheets[L.SHEET_LRS]
    lrs.cells[(5, 2)] = 0.7  # the user edits inputs
    book.sheets[L.SHEET_BACKPROP].cells[(12, 2)] = 9.0
    macros.reset(book)
    assert not book.alerts
    assert book.state() == start


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
    lrs.cells[(4, 2)] = 5.0  # iterations, so "reset" has something to restore
    exec(command, {})  # exactly what RunPython hands to Python
    assert not book.alerts
    function = re.search(r"m\.(\w+)\(\)", command).group(1)
    if function == "train_learning_rates":
        assert lrs.cells[(9, 23)] == pytest.approx(0.24251985734837728, abs=1e-15)
        assert (13, 22) in lrs.cells and (14, 22) not in lrs.cells  # 5 steps, 0..4, in rows 9..13
        assert L.MACRO_CHART.name in lrs.charts
    elif function == "draw_network":
        assert L.NETWORK_PICTURE.name in book.sheets[L.SHEET_BACKPROP].pictures
    else:
        assert function == "reset"
        assert lrs.cells[(4, 2)] == network.DEFAULT_ITERATIONS


def test_a_ribbon_command_with_bad_input_only_shows_a_message(monkeypatch):
    book = Book(TEMPLATE)
    for col in range(2, 12):
        book.sheets[L.SHEET_LRS].cells.pop((5, col), None)  # an empty learning-rate list
    monkeypatch.setattr(xlwings.Book, "caller", staticmethod(lambda: book))
    before = book.state()
    exec(bas_commands()[0], {})
    assert book.alerts == [("'Learning rates'!B5:K5 (learning rates): expected at least one learning rate, "
                            "found only empty cells", "xl-backprop", "critical")]
    assert book.state() == before
