"""The ribbon's actions read the network's choices from the book (issue 18): each layer's activation
(Backprop B22, B23), the examples (B24: the course's cells, a preset, or the Examples sheet's own
block) and the shown example (B25). Bad input is one line naming the cell, on files (``xl-backprop
run``) and in Excel's message box (the xlwings stand-in), and nothing is written; the curves written
with other choices are the engine's with the same examples and activations (the engine is held to
an independent reference in test_network / test_kernel)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import openpyxl
import pytest

from xl_backprop import examples, macros, network
from xl_backprop.network_picture import labels, title
from xl_backprop.ooxml import Workbook
from xl_backprop.workbook import layout as L

from .conftest import TEMPLATE, set_cells
from .ooxml_read import NS, objects, parts
from .xlwings_standin import Book

B = L.SHEET_BACKPROP
X = L.SHEET_EXAMPLES
ACTS = "expected one of sigmoid, tanh, relu, leaky_relu, linear"
SETS = "expected one of course, half-adder, and-or, own"


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def typed(tmp_path: Path, *cells: tuple[str, str, list[list]]) -> Path:
    """A copy of the template with each (sheet, cell, rows) typed in."""
    book = TEMPLATE
    for k, (sheet, cell, rows) in enumerate(cells):
        book = set_cells(book, tmp_path / f"in{k}.xlsm", sheet, cell, rows)
    return book


def loss_block(path: Path, lrs: int, iterations: int) -> np.ndarray:
    ws = openpyxl.load_workbook(path, data_only=True)[L.MACRO_LOSS.sheet]
    a = L.MACRO_LOSS.area
    return np.array(
        [[ws.cell(a.row1 + 2 + i, a.col1 + 2 + k).value for k in range(lrs)] for i in range(iterations)], dtype=float
    )


OWN = "own"
BAD = [
    ("train-lrs", [(B, "B22", [["foo"]])], f"Backprop!B22 (hidden activation): {ACTS}, got 'foo'"),
    ("draw-network", [(B, "B23", [[None]])], f"Backprop!B23 (output activation): {ACTS}, got an empty cell"),
    ("train-lrs", [(B, "B23", [[0.5]])], f"Backprop!B23 (output activation): {ACTS}, got 0.5"),
    ("map-lrs", [(B, "B24", [["XOR"]])], f"Backprop!B24 (examples): {SETS}, got 'XOR'"),
    (
        "train-lrs",
        [(B, "B24", [[OWN]])],
        "Examples!A6:D13 (own examples): expected at least one row of 4 numbers (i1, i2, t1, t2), "
        "found only empty cells",
    ),
    (
        "train-lrs",
        [(B, "B24", [[OWN]]), (X, "A6", [[0, 1, 1, 0], [1, 1, "x", 1]])],
        "Examples!C7 (own example 2, t1): expected a number, got 'x'",
    ),
    (
        "draw-network",
        [(B, "B24", [[OWN]]), (X, "A6", [[0, 1, 1, 0], [None] * 4, [1, 1, 0]])],
        "Examples!D8 (own example 3, t2): expected a number, got an empty cell",
    ),
    (
        "draw-network",
        [(B, "B24", [["half-adder"]]), (B, "B25", [[5]])],
        "Backprop!B25 (shown example): expected a whole number from 1 to 4 (the examples in use), got 5",
    ),
    (  # ExampleShown counts the own block's rows, as the table does: row 2 is empty
        "draw-network",
        [(B, "B24", [[OWN], [2]]), (X, "A6", [[0, 1, 1, 0], [None] * 4, [1, 1, 0, 1]])],
        "Backprop!B25 (shown example): expected the number of an own row that holds an example (1, 3), got 2",
    ),
    (  # an overflow before training is blamed on the own example's cell
        "train-lrs",
        [(B, "B24", [[OWN]]), (X, "A6", [[0, 1, 1, 0], [1, 1, 0, 1], [1, 0, 1e300, 1]])],
        "Examples!C8 (own example 3, t1): with 1e+300 E_total overflows before training; expected a smaller number",
    ),
    (  # past relu and linear, E1 overflows from the input: i1 is blamed, not t1
        "draw-network",
        [(B, "B22", [["relu"], ["linear"]]), (B, "B4", [[1e200]])],
        "Backprop!B4 (i1): with 1e+200 E_total overflows before training; expected a smaller number",
    ),
]


@pytest.mark.parametrize(("action", "cells", "message"), BAD, ids=[m.split(":")[0] for *_, m in BAD])
def test_a_bad_choice_is_one_line_naming_the_cell_and_nothing_is_written(tmp_path, action, cells, message):
    book = typed(tmp_path, *cells)
    before = digest(book)
    with pytest.raises(ValueError) as err:
        macros.run_on_file(action, book, tmp_path / "out.xlsm")
    assert str(err.value) == message and "\n" not in message
    assert digest(book) == before and not (tmp_path / "out.xlsm").exists()


def test_the_cli_says_a_bad_choice_in_one_line(tmp_path, capsys):
    from xl_backprop import cli

    book = typed(tmp_path, (B, "B22", [["softmax"]]))
    assert cli.main(["run", "train-lrs", str(book), "--out", str(tmp_path / "out.xlsm")]) != 0
    err = capsys.readouterr().err.strip()
    assert err.endswith(f"Backprop!B22 (hidden activation): {ACTS}, got 'softmax'") and "\n" not in err
    assert not (tmp_path / "out.xlsm").exists()


CHOSEN = [
    ("tanh", "linear", "half-adder", None),
    ("relu", "sigmoid", "and-or", None),
    ("leaky_relu", "tanh", OWN, [[0.1, 0.9, 0.2, 0.8], [None] * 4, [0.7, -0.3, 0.6, 0.1], [2, 1, 0.5, 0.9]]),
]


@pytest.mark.parametrize(("hidden", "output", "chosen", "own"), CHOSEN)
def test_train_learning_rates_trains_with_the_books_choices(tmp_path, hidden, output, chosen, own):
    cells = [(B, "B22", [[hidden], [output], [chosen]])]
    if own:
        cells.append((X, "A6", own))
    book = typed(tmp_path, *cells)
    pkg = Workbook.read(book)
    p = macros.read_train(macros.file_getter(pkg))
    rows = np.array([r for r in own if r[0] is not None], dtype=float) if own else examples.preset(chosen)
    assert np.array_equal(p.net.examples, rows)  # the own block's full rows, top-down; its empty row skipped
    assert (p.net.hidden_activation, p.net.output_activation, p.net.example_set) == (hidden, output, chosen)
    out = macros.run_on_file("train-lrs", book, tmp_path / "out.xlsm")
    expected = network.train_curves(
        p.lrs, p.iterations, inputs=rows[:, :2], targets=rows[:, 2:], hidden_activation=hidden, output_activation=output
    )
    # not the course's sigmoid curves: the choices reached the engine
    assert not np.allclose(expected, network.train_curves(p.lrs, p.iterations), rtol=1e-3)
    np.testing.assert_allclose(loss_block(out, len(p.lrs), p.iterations), expected, rtol=1e-12, atol=0)
    chart = next(o for o in objects(parts(out), L.SHEET_LRS) if o.name == L.MACRO_CHART.name)
    from xml.etree import ElementTree

    root = ElementTree.fromstring(parts(out)[chart.part])
    text = "".join(t.text for t in root.find("c:chart/c:title", NS).iter(f"{{{NS['a']}}}t"))
    assert text.endswith(f"learning rates ({hidden}/{output}, {chosen}: {len(rows)} examples)")


def test_the_course_is_the_backprop_sheets_own_cells(tmp_path):
    book = typed(tmp_path, (B, "B4", [[0.3], [0.6], [0.2], [0.7]]))
    net = macros.read_network(macros.file_getter(Workbook.read(book)))
    assert net.inputs == (0.3, 0.6) and net.targets == (0.2, 0.7) and net.example_set == "course"
    assert net.describe() == "sigmoid/sigmoid, course"


def test_a_book_made_before_the_choices_trains_the_course(tmp_path):
    def get(name):
        if name in (i.name for i in (*L.CHOICE_INPUTS, L.IN_EXAMPLE_SHOWN)):
            raise macros.MissingName(f"defined name {name}: not in this workbook")
        return full(name)

    full = macros.file_getter(Workbook.read(TEMPLATE))
    p = macros.read_draw(get)
    assert (p.net.hidden_activation, p.net.output_activation, p.net.example_set, p.example) == (
        "sigmoid",
        "sigmoid",
        "course",
        1,
    )


def test_draw_network_shows_the_shown_example_with_the_means_over_all(tmp_path):
    book = typed(tmp_path, (B, "B22", [["tanh"], ["relu"], ["half-adder"], [3]]), (B, "B19", [[4]]))
    p = macros.read_draw(macros.file_getter(Workbook.read(book)))
    assert p.example == 3 and p.step == 4
    plan = macros.plan_draw_network(p)
    assert plan.pictures[0].description.endswith("(tanh/relu, half-adder: 4 examples)")
    # what the picture shows, from the engine: the weights after 4 steps, example 3's units
    X_ = examples.preset("half-adder")
    acts = dict(hidden_activation="tanh", output_activation="relu")
    w = network.train([p.lr], 5, inputs=X_[:, :2], targets=X_[:, 2:], **acts).weights[0]
    f = network.forward(w, inputs=X_[2, :2], targets=X_[2, 2:], **acts)
    E = network.loss(w, inputs=X_[:, :2], targets=X_[:, 2:], **acts)
    from xl_backprop import explain

    v = explain.step_values(w, X_[2, :2], X_[2, 2:], (0.0, 0.0), p.lr, **acts)
    v["E_total"] = float(E)
    text = labels(v, 4, **acts)
    assert text["node h1"].splitlines()[0] == "h1 · tanh" and text["node o2"].splitlines()[0] == "o2 · relu"
    assert text["node h1"].splitlines()[2] == f"a_h1 = {explain.number(float(f.a_h1))}"
    head = title(v, 4, 4, ("tanh", "relu"), (4, 3))
    assert f"E_total = {explain.number(float(E))}" in head
    assert "E_total: the mean over 4 examples; the units show example 3" in head
    assert labels(v, 4)["node h1"].splitlines()[0] == "h1 · σ"  # the course's


def test_reset_restores_the_choices_and_keeps_the_own_examples(tmp_path):
    own = [[0.1, 0.9, 0.2, 0.8], [0.7, -0.3, 0.6, 0.1]]
    book = typed(tmp_path, (B, "B22", [["linear"], ["tanh"], [OWN], [2]]), (X, "A6", own))
    out = macros.run_on_file("reset", book, tmp_path / "out.xlsm")
    ws = openpyxl.load_workbook(out, data_only=True)
    assert [ws[B][c].value for c in ("B22", "B23", "B24", "B25")] == ["sigmoid", "sigmoid", "course", 1]
    assert [[c.value for c in row] for row in ws[X]["A6:D7"]] == own
    assert all(c.value is None for row in ws[X]["A8:D13"] for c in row)


# --- Excel, through the xlwings stand-in --------------------------------------------------------


def test_a_bad_choice_in_excel_is_a_message_box_and_nothing_is_written():
    book = Book(TEMPLATE)
    book.sheets[B].range("B24").value = [[OWN]]
    book.sheets[X].range("A6").value = [[1, 2, 3, 4], [1, "two", 3, 4]]
    before = book._state()
    macros.train_learning_rates(book)
    assert book._alerts == [
        ("Examples!B7 (own example 2, i2): expected a number, got 'two'", "xl-backprop", "critical")
    ]
    assert book._state() == before


def test_excel_trains_with_the_choices_as_the_file_backend_does(tmp_path):
    book = Book(TEMPLATE)
    book.sheets[B].range("B22").value = [["leaky_relu"], ["linear"], ["and-or"]]
    macros.train_learning_rates(book)
    assert book._alerts == []
    p = macros.read_train(macros.xlwings_getter(book))
    X_ = examples.preset("and-or")
    expected = network.train_curves(
        p.lrs,
        p.iterations,
        inputs=X_[:, :2],
        targets=X_[:, 2:],
        hidden_activation="leaky_relu",
        output_activation="linear",
    )
    a = L.MACRO_LOSS.area
    cells = book.sheets[a.sheet]._cells
    got = np.array([[cells[(a.row1 + 2 + i, a.col1 + 2 + k)] for k in range(len(p.lrs))] for i in range(p.iterations)])
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=0)
    chart = book.sheets[L.MACRO_CHART.sheet].charts[L.MACRO_CHART.name]
    assert chart.title.endswith("(leaky_relu/linear, and-or: 4 examples)")


def test_excel_reset_restores_the_choices():
    book = Book(TEMPLATE)
    book.sheets[B].range("B22").value = [["relu"], ["relu"], ["half-adder"], [4]]
    book.sheets[X].range("A6").value = [[1, 2, 3, 4]]
    macros.reset(book)
    cells = book.sheets[B]._cells
    assert [cells[(r, 2)] for r in (22, 23, 24, 25)] == ["sigmoid", "sigmoid", "course", 1]
    assert [book.sheets[X]._cells[(6, c)] for c in (1, 2, 3, 4)] == [1, 2, 3, 4]


def test_map_learning_rates_maps_the_books_choices(tmp_path, monkeypatch):
    from xl_backprop import lrmap

    book = typed(
        tmp_path,
        (B, "B22", [["tanh"], ["sigmoid"], ["half-adder"]]),
        (L.IN_MAP_H_COUNT.sheet, L.IN_MAP_H_COUNT.cell, [[3]]),
        (L.IN_MAP_O_COUNT.sheet, L.IN_MAP_O_COUNT.cell, [[2]]),
        (L.IN_MAP_STEPS.sheet, L.IN_MAP_STEPS.cell, [[20]]),
    )
    p = macros.read_map(macros.file_getter(Workbook.read(book)))
    seen, original = [], lrmap.lr_map
    monkeypatch.setattr(lrmap, "lr_map", lambda *a, **kw: seen.append(kw) or original(*a, **kw))
    plan = macros.plan_map_learning_rates(p)
    X_ = examples.preset("half-adder")
    (kw,) = seen
    assert np.array_equal(kw["inputs"], X_[:, :2]) and np.array_equal(kw["targets"], X_[:, 2:])
    assert (kw["hidden_activation"], kw["output_activation"]) == ("tanh", "sigmoid")
    assert plan.pictures[0].description == "Learning-rate map: 3 x 2 pairs, 20 steps"


def test_the_maps_work_counts_the_examples(tmp_path, monkeypatch):
    from xl_backprop.limits import UDF_MAX_MAP_STEPS_UNCOMPILED as cap

    monkeypatch.setattr(macros, "map_cap", lambda: cap)  # Lite's bound, where the loop is not compiled
    get = macros.file_getter(Workbook.read(TEMPLATE))
    h, o, steps = (int(get(c.name)[1][0][0]) for c in (L.IN_MAP_H_COUNT, L.IN_MAP_O_COUNT, L.IN_MAP_STEPS))
    assert h * o * steps <= cap < h * o * steps * 4  # the course's map fits; four examples' does not
    macros.read_map(get)
    get = macros.file_getter(Workbook.read(typed(tmp_path, (B, "B24", [["half-adder"]]))))
    with pytest.raises(ValueError) as err:
        macros.read_map(get)
    work = h * o * steps * 4
    assert str(err.value).endswith(
        f"(lr_hidden count x lr_output count x steps x examples), got {h} x {o} x {steps} x 4 = {work:,}; "
        "for more, use xl-backprop map"
    )


def test_the_shown_example_is_the_own_blocks_row(tmp_path, monkeypatch):
    own = [[0.1, 0.9, 0.2, 0.8], [None] * 4, [0.7, -0.3, 0.6, 0.1]]
    book = typed(tmp_path, (B, "B22", [["tanh"], ["sigmoid"], [OWN], [3]]), (X, "A6", own))
    p = macros.read_draw(macros.file_getter(Workbook.read(book)))
    assert p.example == 3 and p.net.example_slots == (1, 3)
    drawn, original = [], macros.network_figure
    monkeypatch.setattr(macros, "network_figure", lambda *a: drawn.append(a) or original(*a))
    plan = macros.plan_draw_network(p)
    acts = dict(hidden_activation="tanh", output_activation="sigmoid")
    inputs, targets = [[0.1, 0.9], [0.7, -0.3]], [[0.2, 0.8], [0.6, 0.1]]
    w = network.train([p.lr], p.step + 1, inputs=inputs, targets=targets, **acts).weights[0]
    shown = network.forward(w, inputs=inputs[1], targets=targets[1], **acts)  # own row 3: the second example
    ((v, step, _, phase, chosen, example),) = drawn
    assert (v["a_h1"], v["a_o2"], v["E2"]) == (float(shown.a_h1), float(shown.a_o2), float(shown.E2))
    assert v["E_total"] == float(network.loss(w, inputs=inputs, targets=targets, **acts))
    assert (chosen, example) == (("tanh", "sigmoid"), (2, 3))
    assert plan.pictures[0].description.endswith("(tanh/sigmoid, own: 2 examples)")
