"""A real spreadsheet application recalculates the template: LibreOffice (headless, every
formula recalculated on load) against the engine, on the committed file and on edited copies.

Copies are edited in the sheet XML itself (one cell's value), so nothing else in the package
changes. Each LibreOffice run is shared by the tests of one module-scoped fixture.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np
import pytest

from xl_backprop import network, palette
from xl_backprop.workbook import layout

from . import libreoffice
from .conftest import TEMPLATE
from .ooxml_read import sheet_parts
from .published import COURSE_DE_DW5, COURSE_E_TOTAL

STEPS = layout.BACKPROP_STEPS
HEADER_ROW = layout.BACKPROP_HEADER_ROW + 1  # sheet row of the column headers
FIRST_ROW = layout.BACKPROP_FIRST_ROW + 1  # sheet row of step 0


def engine_table(weights, inputs, targets, lr, biases=(0.0, 0.0)) -> dict[str, np.ndarray]:
    """Every column of the Backprop table, from the engine: train(record=True) for the weights
    of every step, forward and gradients of those weights."""
    res = network.train([lr], STEPS, weights=weights, inputs=inputs, targets=targets, biases=biases, record=True)
    w = res.weights[:, 0, :]
    fwd = network.forward(w, inputs=inputs, targets=targets, biases=biases)
    g = network.gradients(w, inputs=inputs, targets=targets, biases=biases)
    cols = {"step": np.arange(STEPS, dtype=float)}
    for name, value in (
        ("t1", targets[0]),
        ("t2", targets[1]),
        ("i1", inputs[0]),
        ("i2", inputs[1]),
        ("b1", biases[0]),
        ("b2", biases[1]),
        ("lr", lr),
    ):
        cols[name] = np.full(STEPS, float(value))
    cols.update({f"w{k + 1}": w[:, k] for k in range(8)})
    cols.update({name: getattr(fwd, name) for name in network.Forward._fields})
    cols.update({f"dE/dw{k + 1}": g[:, k] for k in range(8)})
    cols.update(network.chain(w, inputs=inputs, targets=targets, biases=biases)._asdict())
    np.testing.assert_allclose(cols["E_total"], res.loss[:, 0], rtol=0, atol=1e-15)
    return cols


def sheet_table(ws) -> dict[str, list]:
    """The Backprop table as LibreOffice computed it, by the headers in the sheet."""
    headers = [c.value for c in ws[HEADER_ROW]][: len(layout.BACKPROP_COLUMNS)]
    assert tuple(headers) == layout.BACKPROP_HEADERS
    out: dict[str, list] = {name: [] for name in layout.BACKPROP_COLUMNS}
    for row in ws.iter_rows(min_row=FIRST_ROW, max_row=FIRST_ROW + STEPS - 1, max_col=len(headers), values_only=True):
        for name, v in zip(layout.BACKPROP_COLUMNS, row, strict=True):
            out[name].append(v)
    return out


def assert_table_equals_engine(ws, expected: dict[str, np.ndarray]) -> None:
    got = sheet_table(ws)
    for name in layout.BACKPROP_COLUMNS:
        values = got[name]
        assert all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values), (name, values[:3])
        np.testing.assert_allclose(np.array(values, dtype=float), expected[name], rtol=0, atol=1e-12, err_msg=name)


def edited_copy(src: Path, dst: Path, sheet: str, edits: dict[str, float | str | None]) -> Path:
    """A copy of ``src`` with cells of ``sheet`` changed in its XML: a number, a text, or
    None for an empty cell. Every other part is copied byte for byte."""
    part = sheet_parts(src)[sheet]
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == part:
                text = data.decode("utf-8")
                for cell, value in edits.items():
                    pattern = re.compile(rf'<c r="{cell}"( s="\d+")?[^>]*?(/>|>.*?</c>)')
                    m = pattern.search(text)
                    assert m, cell
                    style = m.group(1) or ""
                    if value is None:
                        new = f'<c r="{cell}"{style}/>'
                    elif isinstance(value, str):
                        new = f'<c r="{cell}"{style} t="inlineStr"><is><t>{escape(value)}</t></is></c>'
                    else:
                        new = f'<c r="{cell}"{style}><v>{value!r}</v></c>'
                    text = text[: m.start()] + new + text[m.end() :]
                data = text.encode("utf-8")
            zout.writestr(info, data)
    return dst


@pytest.fixture(scope="module")
def recalculated(tmp_path_factory):
    """The committed template as LibreOffice recalculates it (values only)."""
    tmp = tmp_path_factory.mktemp("lo-template")
    book = tmp / "template.xlsm"
    shutil.copyfile(TEMPLATE, book)
    return libreoffice.recalculated_values(book, tmp)


# --- the template as it ships ----------------------------------------------------------------
def test_libreoffice_opens_the_template_and_its_numbers_equal_the_engine(recalculated):
    expected = engine_table(network.DEFAULT_WEIGHTS, network.DEFAULT_INPUTS, network.DEFAULT_TARGETS, 0.5)
    assert_table_equals_engine(recalculated["Backprop"], expected)
    ws = recalculated["Backprop"]
    # the published starting point of docs/design.md, straight from the sheet
    assert ws[layout.backprop_cell("E_total", 0)].value == pytest.approx(COURSE_E_TOTAL, abs=1e-15)
    assert ws[layout.backprop_cell("dE/dw5", 0)].value == pytest.approx(COURSE_DE_DW5, abs=1e-15)
    assert recalculated.sheetnames == list(layout.SHEETS)


def test_network_diagram_shows_the_table_at_the_chosen_step(recalculated):
    ws = recalculated["Backprop"]
    w = network.DEFAULT_WEIGHTS
    fwd = network.forward(w)
    # cell-drawn diagram: node and edge label cells (see sheets._diagram)
    assert ws["E3"].value == 0
    assert (ws["E5"].value, ws["E9"].value) == (0.05, 0.1)
    chain = network.chain(w)
    # the computation graph: i -> h -σ-> a_h -> o -σ-> a_o -> E1, E2 -> E_total
    nodes = {"I5": fwd.h1, "K5": fwd.a_h1, "N5": fwd.o1, "P5": fwd.a_o1, "Q5": fwd.E1}
    nodes |= {"I9": fwd.h2, "K9": fwd.a_h2, "N9": fwd.o2, "P9": fwd.a_o2, "Q9": fwd.E2, "Q7": fwd.E_total}
    # the two paths into each hidden unit and their sums
    nodes |= {"I11": chain.dE1_da_h1, "K11": chain.dE2_da_h1, "M11": chain.dE_da_h1}
    nodes |= {"I12": chain.dE1_da_h2, "K12": chain.dE2_da_h2, "M12": chain.dE_da_h2}
    for cell, value in nodes.items():
        assert ws[cell].value == pytest.approx(value, abs=1e-12), cell
    assert (ws["J5"].value, ws["O9"].value) == ("σ", "σ")  # h and a_h apart, joined by σ
    labels = {"G5": w[0], "G9": w[3], "E6": w[2], "E8": w[1], "L5": w[4], "L9": w[7], "J6": w[6], "J8": w[5]}
    for cell, value in labels.items():
        assert ws[cell].value == pytest.approx(value, abs=1e-15), cell
    assert (ws["R5"].value, ws["R9"].value) == network.DEFAULT_TARGETS


def test_the_chain_rule_in_numbers_equals_the_engine_and_adds_up(recalculated):
    """Every row's δo, the two paths into each hidden unit, their sums, δh and dE/dw, as
    LibreOffice computes them, equal network.chain and network.backward (relative 1e-12); and
    on the sheet's own numbers the paths sum to ∂E/∂a_h and δh = ∂E/∂a_h·a_h·(1 − a_h)."""
    got = {k: np.array(v, dtype=float) for k, v in sheet_table(recalculated["Backprop"]).items()}
    w = engine_table(network.DEFAULT_WEIGHTS, network.DEFAULT_INPUTS, network.DEFAULT_TARGETS, 0.5)
    weights = np.stack([w[name] for name in network.WEIGHT_NAMES], axis=-1)
    backward = network.backward(weights)
    for k, name in enumerate(network.GRADIENT_NAMES):
        np.testing.assert_allclose(got[name], backward.weights[:, k], rtol=1e-12, atol=0, err_msg=name)
    for name, value in network.chain(weights)._asdict().items():
        np.testing.assert_allclose(got[name], value, rtol=1e-12, atol=0, err_msg=name)
    # LibreOffice saves 15 significant digits: sums and products agree to about 1e-15
    for k in (1, 2):
        p1, p2, total = got[f"dE1_da_h{k}"], got[f"dE2_da_h{k}"], got[f"dE_da_h{k}"]
        assert np.all(np.abs(total - (p1 + p2)) <= 1e-14 * (np.abs(p1) + np.abs(p2)))
        a = got[f"a_h{k}"]
        np.testing.assert_allclose(got[f"d_h{k}"], total * a * (1 - a), rtol=1e-14, atol=0)
    # step 0, the defaults: the two paths into h1 nearly cancel, as the derivation text says
    assert (round(got["dE1_da_h1"][0], 4), round(got["dE2_da_h1"][0], 4)) == (0.0569, -0.0419)
    ratio = np.abs(got["dE/dw5"][0] / got["dE/dw1"][0])
    assert 100 <= ratio <= 400


@pytest.fixture(scope="module")
def negative_shown(tmp_path_factory):
    """The Backprop sheet as LibreOffice shows it (CSV of the text as shown) with w5 and w7 negative."""
    tmp = tmp_path_factory.mktemp("lo-negative")
    book = edited_copy(TEMPLATE, tmp / "negative.xlsm", "Backprop", {"B12": -2.0216, "B14": -0.5})
    # UTF-8 (76), cell contents as shown (the 9th token)
    csv_path = libreoffice.convert(book, "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,true", tmp)
    import csv

    with open(csv_path, encoding="utf-8", newline="") as f:
        return list(csv.reader(f))


def test_diagram_labels_put_the_sign_after_the_name(negative_shown):
    """ "w5 = −2.0216", never "-w5 = 2.0216" (the format's negative section keeps the label first)."""
    cell = lambda ref: negative_shown[layout.rowcol(ref)[0]][layout.rowcol(ref)[1]]  # noqa: E731
    assert cell("L5") == "w5 = −2.0216"
    assert cell("J6") == "↘ w7 = −0.5000"
    assert cell("G5") == "w1 = 0.1500"
    assert cell("E3") == "Network at step 0"
    assert cell("I11").startswith("∂E1/∂a_h1 = −") and cell("K11").startswith("∂E2/∂a_h1 = ")


def test_udf_cells_are_errors_outside_excel_not_a_broken_book(recalculated):
    ws = recalculated["UDFs"]
    assert ws["B6"].value == pytest.approx(0.15)  # TRANSPOSE(in_weights) is native
    assert isinstance(ws["J6"].value, str) and ws["J6"].value.startswith("#")  # FORWARD: no Python here


# --- edited copies ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def edited(tmp_path_factory):
    """A copy with a weight, an input, a bias, the learning rate and the diagram's step changed."""
    tmp = tmp_path_factory.mktemp("lo-edited")
    book = edited_copy(
        TEMPLATE, tmp / "edited.xlsm", "Backprop", {"B12": 0.7, "B4": 0.3, "B16": 0.35, "B18": 0.8, "B19": 10.0}
    )
    return libreoffice.recalculated_values(book, tmp)


def test_changing_inputs_changes_the_sheet_as_the_engine_predicts(edited):
    weights = list(network.DEFAULT_WEIGHTS)
    weights[4] = 0.7
    inputs = (0.3, network.DEFAULT_INPUTS[1])
    expected = engine_table(weights, inputs, network.DEFAULT_TARGETS, 0.8, biases=(0.35, 0.0))
    ws = edited["Backprop"]
    assert_table_equals_engine(ws, expected)
    assert ws["E3"].value == 10
    assert ws["G5"].value == pytest.approx(expected["w1"][10], abs=1e-12)
    assert ws["L5"].value == pytest.approx(expected["w5"][10], abs=1e-12)
    assert ws["Q7"].value == pytest.approx(expected["E_total"][10], abs=1e-12)
    assert ws["I11"].value == pytest.approx(expected["dE1_da_h1"][10], abs=1e-12)


@pytest.fixture(scope="module")
def bad_book(tmp_path_factory):
    """A copy with text in w3 and an empty learning rate."""
    tmp = tmp_path_factory.mktemp("lo-bad")
    return edited_copy(TEMPLATE, tmp / "bad.xlsm", "Backprop", {"B10": "abc", "B18": None})


@pytest.fixture(scope="module")
def bad(bad_book, tmp_path_factory):
    """The bad copy recalculated with LibreOffice's formula groups unthreaded: threaded, LibreOffice 7.4
    showed 0 for a few cells that are errors (test_threaded_calculation_shows_the_error)."""
    return libreoffice.recalculated_values(bad_book, tmp_path_factory.mktemp("lo-bad-calc"), threads=False)


def test_threaded_calculation_shows_the_error(bad_book, tmp_path):
    """LibreOffice 7.4's threaded formula-group calculation showed 0, not #N/A, for δh1 (and dE/dw1,
    dE/dw2) at step 0 when w3 was text; with the choices' formulas (issue 18) it shows the error."""
    ws = libreoffice.recalculated_values(bad_book, tmp_path)["Backprop"]
    assert ws[layout.backprop_cell("d_h1", 0)].value == "#N/A"


def test_bad_input_gives_errors_in_dependent_cells_only(bad):
    ws = bad["Backprop"]
    col = {name: layout.backprop_cell(name, 0)[:-2] for name in layout.BACKPROP_COLUMNS}
    is_error = lambda v: isinstance(v, str) and v.startswith("#")  # noqa: E731
    r = FIRST_ROW
    # w3 is text: w3, h2 and everything downstream of h2 are errors at step 0 ...
    for name in ("w3", "h2", "a_h2", "o1", "E_total", "dE/dw1", "dE/dw8"):
        assert is_error(ws[f"{col[name]}{r}"].value), name
    # ... but what does not depend on w3 is still a number
    fwd = network.forward(network.DEFAULT_WEIGHTS)
    assert ws[f"{col['h1']}{r}"].value == pytest.approx(fwd.h1, abs=1e-15)
    assert ws[f"{col['a_h1']}{r}"].value == pytest.approx(fwd.a_h1, abs=1e-15)
    # the learning rate is empty: no step can be taken, every later weight is an error
    assert is_error(ws[f"{col['lr']}{r}"].value)
    for name in network.WEIGHT_NAMES:
        assert is_error(ws[f"{col[name]}{r + 1}"].value), name
    assert is_error(ws[f"{col['E_total']}{FIRST_ROW + STEPS - 1}"].value)
    # the inputs themselves are kept as typed, the book is whole
    assert ws["B10"].value == "abc" and ws["B18"].value is None
    assert bad.sheetnames == list(layout.SHEETS)


def test_pdf_of_the_template_renders(tmp_path):
    """What a person sees: LibreOffice prints it (first page: inputs, diagram, chart, table)."""
    book = tmp_path / "template.xlsm"
    shutil.copyfile(TEMPLATE, book)
    pdf = libreoffice.convert(book, "pdf", tmp_path / "pdf")
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF") and len(re.findall(rb"/Type\s*/Page\b", data)) >= 5


#: Pages each sheet may take when printed (A4 landscape): a few pages wide, never a page of
#: 2-point type, nor dozens of pages.
PAGES = {
    "Backprop": (4, 24),  # the table, then the walkthrough's texts below it
    "Practice": (1, 1),
    "UDFs": (4, 16),
    "Learning rates": (2, 6),
    "LR blocks": (4, 16),
    "Examples": (1, 1),
    "About": (1, 3),
    "xlwings.conf": (1, 1),
}
#: Smallest word box pdftotext may report (points): 11-point text at 70 % has a box of 10.
MIN_WORD_HEIGHT = 9.0


def test_printed_sheets_are_readable(tmp_path):
    """LibreOffice prints every sheet within its page range (the footer names the sheet), and
    every word, key labels included, is at least about 7 points high (pdftotext -bbox)."""
    exe = libreoffice.require("pdftotext", "poppler-utils")
    book = tmp_path / "template.xlsm"
    shutil.copyfile(TEMPLATE, book)
    pdf = libreoffice.convert(book, "pdf", tmp_path / "pdf")
    html = tmp_path / "bbox.html"
    subprocess.run([exe, "-bbox", str(pdf), str(html)], check=True, timeout=120)
    pages = html.read_text(encoding="utf-8").split("<page ")[1:]
    word = re.compile(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>')
    per_sheet: dict[str, int] = {}
    found: dict[str, set[str]] = {}
    for page in pages:
        boxes = [(float(m.group(1)), float(m.group(2)), float(m.group(4)), m.group(5)) for m in word.finditer(page)]
        words = [(y2 - y1, w) for _, y1, y2, w in boxes]
        footer_y = max(y1 for _, y1, _, w in boxes if w == "Page")  # the footer: "SHEET ... Page n of N"
        sheet = " ".join(
            w
            for x, y1, _, w in sorted(boxes)
            if abs(y1 - footer_y) < 1 and w != "Page" and not re.fullmatch(r"\d+|of", w)
        )
        assert sheet in PAGES, sheet
        per_sheet[sheet] = per_sheet.get(sheet, 0) + 1
        found.setdefault(sheet, set()).update(w for _, w in words)
        small = [(h, w) for h, w in words if h < MIN_WORD_HEIGHT]
        assert not small, (sheet, small[:5])
    for sheet, (low, high) in PAGES.items():
        assert low <= per_sheet.get(sheet, 0) <= high, (sheet, per_sheet)
    assert {"E_total", "dE/dw5", "w1"} <= found["Backprop"]
    assert {"seed", "level", "score", "δo1", "∂E/∂w5", "answer"} <= found["Practice"]
    assert {"GRAD_CHECK", "FORWARD", "GRADIENTS"} <= found["UDFs"]
    assert {"LR_SUMMARY", "TRAIN_CURVE:"} <= found["UDFs"]
    assert {"overshoot.", "E_total"} <= found["Learning rates"]
    assert {"dE/dw8", "slot"} <= found["LR blocks"]
    assert {"Troubleshooting", "doctor"} <= found["About"]


def test_with_three_learning_rates_the_labels_name_three(tmp_path):
    """Fewer learning rates than the default: the curve headers and the chart's series names
    name only the filled slots; the others are a blank label, not a number."""
    book = edited_copy(TEMPLATE, tmp_path / "three.xlsm", layout.SHEET_LRS, {"E5": None, "F5": None, "G5": None})
    wb = libreoffice.recalculated_values(book, tmp_path)
    ws, blocks = wb[layout.SHEET_LRS], wb[layout.SHEET_LR_BLOCKS]
    heads = [ws.cell(layout.LIVE_CURVE_HEADER_ROW + 1, 2 + k).value for k in range(layout.LR_SLOTS)]
    names = [blocks.cell(layout.LR_BLOCK_HEADER_ROW + 1, 2 + k).value for k in range(layout.LR_SLOTS)]
    for shown in (heads, names):
        assert shown[:3] == [palette.lr_label(x) for x in network.DEFAULT_LRS[:3]]
        assert all(v in (None, "", " ") for v in shown[3:]), shown
