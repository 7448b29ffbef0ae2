"""The network picture (xl_backprop/network_picture.py), drawn by "Draw network", ``run
draw-network`` and the animation: the numbers it prints against an independent scalar loop, the
edges' widths and colours, where the labels sit (rendered boxes against the lines, for the
course's network and odd weights), the phases, and the step and phase read from the book."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest
from lxml import etree

from xl_backprop import animation, cli, explain, macros, network
from xl_backprop import network_picture as P
from xl_backprop.figures import png_bytes
from xl_backprop.palette import WEIGHT_COLORS
from xl_backprop.workbook import layout as L

from . import scalar_reference as scalar
from .conftest import set_cells
from .ooxml_read import objects, parts, png_size

W, I, T = network.DEFAULT_WEIGHTS, network.DEFAULT_INPUTS, network.DEFAULT_TARGETS
TEMPLATE = Path(__file__).resolve().parents[1] / "workbook_template.xlsm"

#: Odd weight sets: large, negative, tiny, mixed, with and without biases (and a large rate).
ODD = [
    dict(weights=(-12.5, 0.001, 3.3, -0.0002, 25.0, -40.0, 1e-9, -7.77), biases=(0.35, 0.6), lr=0.5),
    dict(weights=(1e4, -1e4, 123.456, -0.5, 9.99, -9.99, 0.0, 1e-12), biases=(0.0, 0.0), lr=2.0),
    dict(weights=(-0.15, -0.2, -0.25, -0.3, -0.4, -0.45, -0.5, -0.55), biases=(-3.0, 2.5), lr=1e-3),
    dict(weights=(0.9999, -0.00001234, 5.555e-7, 77.7, -0.333, 0.1, -1.5, 2.0), biases=(0.0, 1e6), lr=100.0),
]


def reference(w, lr: float, b=(0.0, 0.0)) -> dict[str, float]:
    """Every number of one step from tests/scalar_reference.py (no code shared with the package),
    the δs written out from the course's formulas."""
    f = scalar.forward(w, I, T, b)
    g, _ = scalar.gradients(w, I, T, b)
    v = dict(f, i1=I[0], i2=I[1], t1=T[0], t2=T[1])
    v["δo1"] = (f["a_o1"] - T[0]) * f["a_o1"] * (1 - f["a_o1"])
    v["δo2"] = (f["a_o2"] - T[1]) * f["a_o2"] * (1 - f["a_o2"])
    v["δh1"] = (v["δo1"] * w[4] + v["δo2"] * w[6]) * f["a_h1"] * (1 - f["a_h1"])
    v["δh2"] = (v["δo1"] * w[5] + v["δo2"] * w[7]) * f["a_h2"] * (1 - f["a_h2"])
    for k in range(8):
        v[f"w{k + 1}"], v[f"∂E/∂w{k + 1}"], v[f"new w{k + 1}"] = w[k], g[k], w[k] - lr * g[k]
    return v


def shown_numbers(fig) -> dict[str, float]:
    """Every "name = number" (and "wk: old → new") the picture prints, by name."""
    out: dict[str, float] = {}
    for text in [t.get_text() for t in fig.texts] + [t.get_text() for t in fig.axes[0].texts]:
        for name, number in re.findall(r"([^\s=:]+) = (\S+)", text):
            assert name not in out or out[name] == float(number), name
            out[name] = float(number)
        for name, number in re.findall(r"^(i\d)\n(\S+)$", text):
            out[name] = float(number)
        for name, old, new in re.findall(r"(w\d): (\S+)\n→ (\S+)", text):
            out[name], out[f"new {name}"] = float(old), float(new)
    return out


def to_4_figures(shown: float, value: float) -> bool:
    if value == 0:
        return shown == 0
    unit = 10.0 ** (math.floor(math.log10(abs(value))) - 3)
    return abs(shown - value) <= 0.5 * unit * (1 + 1e-9)


def figure_at(step: int, phase: int | None, lr: float = 0.5):
    w = network.train([lr], step + 1, weights=W, inputs=I, targets=T).weights[0]
    return P.network_figure(explain.step_values(w, I, T, (0.0, 0.0), lr), step, L.NETWORK_PICTURE, phase)


#: What each phase adds to the picture (names as printed).
UNITS = ("h1", "a_h1", "h2", "a_h2", "o1", "a_o1", "o2", "a_o2")
WEIGHTS = tuple(f"w{k}" for k in range(1, 9))
PHASE_SHOWS = {
    1: {*UNITS, *WEIGHTS, "t1", "t2"},
    2: {*UNITS, *WEIGHTS, "t1", "t2", "E1", "E2", "E_total"},
    3: {*UNITS, *WEIGHTS, "t1", "t2", "E1", "E2", "E_total", "δo1", "δo2", *(f"∂E/∂w{k}" for k in range(5, 9))},
}
PHASE_SHOWS[4] = PHASE_SHOWS[3] | {"δh1", "δh2", *(f"∂E/∂w{k}" for k in range(1, 5))}
PHASE_SHOWS[5] = PHASE_SHOWS[4] - {f"∂E/∂w{k}" for k in range(1, 9)} | {f"new w{k}" for k in range(1, 9)}
PHASE_SHOWS[None] = PHASE_SHOWS[4]


@pytest.mark.parametrize("phase", [None, 1, 2, 3, 4, 5])
def test_the_numbers_printed_are_the_engines_at_that_step_and_only_those_of_the_phase(phase):
    step, lr = 3, 0.5
    wk = scalar.train(lr, step + 1, W, I, T)[1][step]  # the weights after 3 updates, independently
    ref = reference(wk, lr)
    fig = figure_at(step, phase, lr)
    shown = shown_numbers(fig)
    assert set(shown) == PHASE_SHOWS[phase] | {"i1", "i2"}
    for name, number in shown.items():
        assert to_4_figures(number, ref[name]), (name, number, ref[name])
    title = fig.texts[0].get_text()
    assert title.startswith("Network at step 3 (learning rate 0.5)")
    if phase is not None:
        assert title.splitlines()[1] == f"phase {phase} of 5: {P.PHASE_NAMES[phase - 1]}"


def test_the_update_phase_shows_old_and_new_weights_of_mazurs_step():
    from .published import MAZUR, MAZUR_LR, MAZUR_STEP

    v = explain.step_values(MAZUR["weights"], MAZUR["inputs"], MAZUR["targets"], MAZUR["biases"], MAZUR_LR)
    shown = shown_numbers(P.network_figure(v, 0, L.NETWORK_PICTURE, 5))
    for k in range(8):
        assert shown[f"w{k + 1}"] == pytest.approx(MAZUR["weights"][k], rel=5e-4)
        assert to_4_figures(shown[f"new w{k + 1}"], MAZUR_STEP[k])


def test_edge_width_grows_with_the_weights_size_and_stays_bounded():
    sizes = np.concatenate([[0.0], np.logspace(-12, 300, 400)])
    widths = [P.edge_width(x) for x in sizes]
    assert all(a < b for a, b in zip(widths[:-1], widths[1:], strict=False) if b < P.EDGE_MAX - 1e-9)
    assert np.all(np.diff(widths) >= 0) and widths[0] == P.EDGE_MIN and max(widths) <= P.EDGE_MAX
    assert P.edge_width(-0.5) == P.edge_width(0.5) == 5.0  # the docstring's figure
    assert [round(P.edge_width(x), 2) for x in (0.15, 0.55)] == [2.85, 5.19]


def test_drawn_edges_are_as_wide_as_their_weight_and_coloured_by_its_sign():
    w = (-12.5, 0.001, 3.3, -0.0002, 25.0, -40.0, 0.5, -7.77)
    v = explain.step_values(w, I, T, (0.0, 0.0), 0.5)
    lines = P.network_figure(v, 0, L.NETWORK_PICTURE).axes[0].lines
    assert len(lines) == 8
    order = np.argsort(np.abs(w))
    assert np.all(np.diff([lines[k].get_linewidth() for k in order]) > 0)  # strictly with |w|
    for k, line in enumerate(lines):
        negative = w[k] < 0
        assert line.get_color() == WEIGHT_COLORS["negative" if negative else "positive"], k
        assert (line.get_linestyle() == "--") == negative, k


# --- where the labels sit -------------------------------------------------------------------


def _distance(box, p, q) -> float:
    """Distance between the rectangle ``box`` (x0, y0, x1, y1) and the segment p-q (0 if they meet)."""
    (x0, y0, x1, y1), (px, py), (qx, qy) = box, p, q
    t0, t1, d = 0.0, 1.0, (qx - px, qy - py)
    for dd, lo, hi, at in ((d[0], x0, x1, px), (d[1], y0, y1, py)):  # Liang-Barsky: do they meet?
        if dd == 0:
            if not lo <= at <= hi:
                t0, t1 = 1.0, 0.0
        else:
            a, b = sorted(((lo - at) / dd, (hi - at) / dd))
            t0, t1 = max(t0, a), min(t1, b)
    if t0 <= t1:
        return 0.0

    def point_box(x, y):
        return math.hypot(max(x0 - x, 0, x - x1), max(y0 - y, 0, y - y1))

    def point_segment(x, y):
        n = d[0] ** 2 + d[1] ** 2
        t = min(1.0, max(0.0, ((x - px) * d[0] + (y - py) * d[1]) / n)) if n else 0.0
        return math.hypot(x - px - t * d[0], y - py - t * d[1])

    corners = [(x0, y0), (x0, y1), (x1, y0), (x1, y1)]
    return min(point_box(px, py), point_box(qx, qy), *(point_segment(x, y) for x, y in corners))


def test_the_distance_helper_against_hand_made_cases():
    box = (0, 0, 10, 10)
    assert _distance(box, (-5, 5), (15, 5)) == 0  # straight through
    assert _distance(box, (12, -3), (12, 30)) == 2  # beside
    assert _distance(box, (13, 14), (20, 20)) == 5  # off a corner
    assert _distance(box, (-4, 11), (11, 26)) == pytest.approx(math.sqrt(2) * 2.5)  # a corner beside a diagonal


def label_boxes_and_lines(ax):
    """The rendered boxes (pixels) of every text on ``ax`` (its bbox patch where it has one),
    and every line drawn (pixels, with its half width): the edges, as plain lines or arrows."""
    fig = ax.figure
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    boxes, lines = [], []
    for t in ax.texts:
        if t.get_text():
            patch = t.get_bbox_patch()
            boxes.append((t.get_text(), (patch or t).get_window_extent(renderer).extents))
        elif hasattr(t, "xyann"):  # an arrow: annotate("", xy=end, xytext=start)
            ends = ax.transData.transform([t.xyann, t.xy])
            lines.append((ends[0], ends[1], t.arrow_patch.get_linewidth() * fig.dpi / 72 / 2))
    for line in ax.lines:
        ends = ax.transData.transform(line.get_xydata())
        lines.append((ends[0], ends[1], line.get_linewidth() * fig.dpi / 72 / 2))
    return boxes, lines


def assert_no_label_on_a_line(ax, size: tuple[int, int]):
    boxes, lines = label_boxes_and_lines(ax)
    assert len(lines) == 8 and len(boxes) >= 16  # 8 edges; 8 edge labels, 6 units, 2 targets (and biases)
    for text, box in boxes:
        for p, q, half in lines:
            assert _distance(box, p, q) > half + 1, (text, box, p, q)
        assert 0 <= box[0] and box[2] <= size[0] and 0 <= box[1] and box[3] <= size[1], (text, box)
    for n, (a, A) in enumerate(boxes):  # and no box on another
        for b, B in boxes[n + 1 :]:
            assert A[2] <= B[0] or B[2] <= A[0] or A[3] <= B[1] or B[3] <= A[1], (a, b)


@pytest.mark.parametrize("case", [dict(weights=W, biases=(0.0, 0.0), lr=0.5), *ODD])
@pytest.mark.parametrize("phase", [None, 1, 3, 4, 5])
def test_no_label_sits_on_a_line_in_the_picture(case, phase):
    v = explain.step_values(case["weights"], I, T, case["biases"], case["lr"])
    fig = P.network_figure(v, 99, L.NETWORK_PICTURE, phase)
    assert_no_label_on_a_line(fig.axes[0], (L.NETWORK_PICTURE.width, L.NETWORK_PICTURE.height))


@pytest.mark.parametrize("case", [dict(weights=W, biases=(0.0, 0.0), lr=0.5), *ODD[:2]])
def test_no_label_sits_on_a_line_in_the_animations_frames(case):
    frames = animation.build_frames(1, inputs=I, targets=T, **case)
    for frame in frames:
        fig = animation.frame_figure(frame, 1, animation.loss_range(frames))
        assert_no_label_on_a_line(fig.axes[0], animation.FRAME_SIZE)


def test_the_picture_is_small_and_of_the_anchors_size():
    png = png_bytes(figure_at(3, 4))
    assert png_size(png) == (L.NETWORK_PICTURE.width, L.NETWORK_PICTURE.height)
    assert len(png) < 150_000  # it goes into the book; about 60 kB


# --- the step and phase: from the caller, or the book's walkthrough ----------------------------


def with_walk(src: Path, dst: Path, step, phase) -> Path:
    """A copy of ``src`` with the walkthrough's names moved to Backprop!BA2 (WalkStep) and BA3
    (WalkPhase), holding ``step`` and ``phase``: the picture follows the names, wherever they are."""
    from xl_backprop.ooxml import Workbook
    from xl_backprop.ooxml.sheet import NS_MAIN

    pkg = Workbook.read(src)
    names = pkg.package.edit(pkg.workbook_part).find(f"{{{NS_MAIN}}}definedNames")
    for old in names.findall(f"{{{NS_MAIN}}}definedName"):  # the template's own, in B19 and B20
        if old.get("name") in ("WalkStep", "WalkPhase"):
            names.remove(old)
    for name, cell in (("WalkStep", "$BA$2"), ("WalkPhase", "$BA$3")):
        etree.SubElement(names, f"{{{NS_MAIN}}}definedName", name=name).text = f"Backprop!{cell}"
    pkg.write_cells(L.SHEET_BACKPROP, 1, 52, [[step], [phase]])
    pkg.save(dst)
    return dst


def test_without_a_walkthrough_the_whole_step_at_show_step(tmp_path):
    from xl_backprop.ooxml import Workbook
    from xl_backprop.ooxml.sheet import NS_MAIN

    book = set_cells(TEMPLATE, tmp_path / "in.xlsm", L.SHEET_BACKPROP, L.IN_SHOW_STEP.cell, [[4]])
    pkg = Workbook.read(book)  # a book from before the walkthrough: no WalkStep, no WalkPhase
    names = pkg.package.edit(pkg.workbook_part).find(f"{{{NS_MAIN}}}definedNames")
    for old in names.findall(f"{{{NS_MAIN}}}definedName"):
        if old.get("name") in ("WalkStep", "WalkPhase"):
            names.remove(old)
    pkg.save(book)
    p = macros.read_draw(macros.file_getter(Workbook.read(book)))
    assert (p.step, p.phase, p.walk_step, p.walk_phase) == (4, None, None, None)


def test_the_walkthroughs_step_and_phase_are_drawn_and_a_given_phase_is_written_back(tmp_path):
    from xl_backprop.ooxml import Workbook

    book = with_walk(TEMPLATE, tmp_path / "walk.xlsm", 7, 3)
    p = macros.read_draw(macros.file_getter(Workbook.read(book)))
    assert (p.step, p.phase, p.step_given, p.phase_given) == (7, 3, False, False)
    assert macros.plan_draw_network(p).cells == ()

    out = macros.run_on_file("draw-network", book, tmp_path / "out.xlsm", iteration=9, phase=5)
    (pic,) = [o for o in objects(parts(out), L.SHEET_BACKPROP) if o.name == L.NETWORK_PICTURE.name]
    assert pic.description == "The 2-2-2 network at step 9, phase 5 (sigmoid/sigmoid, course)"
    cells = Workbook.read(out).read_cells
    from xl_backprop.cellref import Area

    assert cells(Area(L.SHEET_BACKPROP, 1, 52, 2, 52)) == [[9], [5]]  # WalkStep, WalkPhase
    assert cells(
        Area(L.SHEET_BACKPROP, L.IN_SHOW_STEP.row, L.IN_SHOW_STEP.col, L.IN_SHOW_STEP.row, L.IN_SHOW_STEP.col)
    ) == [[9]]


BAD_PHASES = [(0, "got 0"), (6, "got 6"), (2.5, "got 2.5"), ("two", "got 'two'"), (None, "got an empty cell")]


@pytest.mark.parametrize(("phase", "got"), BAD_PHASES)
def test_a_bad_walk_phase_is_one_line_naming_the_cell_and_nothing_is_written(tmp_path, phase, got):
    book = with_walk(TEMPLATE, tmp_path / "walk.xlsm", 0, phase)
    expected = f"Backprop!BA3 (WalkPhase): expected a whole number from 1 to 5 ({P.PHASE_LIST}), {got}"
    assert P.PHASE_LIST == "1 forward, 2 error, 3 output layer's gradients, 4 hidden layer's gradients, 5 update"
    with pytest.raises(ValueError) as e:
        macros.run_on_file("draw-network", book, tmp_path / "out.xlsm")
    assert str(e.value) == expected
    assert not (tmp_path / "out.xlsm").exists()


def test_a_bad_walk_phase_in_excels_message_box(tmp_path):
    from .xlwings_standin import Book

    book = Book(with_walk(TEMPLATE, tmp_path / "walk.xlsm", 0, 9))
    macros.draw_network(book)
    message = f"Backprop!BA3 (WalkPhase): expected a whole number from 1 to 5 ({P.PHASE_LIST}), got 9"
    assert book._alerts == [(message, "xl-backprop", "critical")]
    assert book._log == []


def test_run_draw_network_with_a_phase_and_bad_phases_on_the_command_line(tmp_path, capsys):
    out = tmp_path / "out.xlsm"
    assert cli.main(["run", "draw-network", str(TEMPLATE), "--out", str(out), "--phase", "2"]) == 0
    assert capsys.readouterr() == (f"wrote {out}\n", "")
    (pic,) = [o for o in objects(parts(out), L.SHEET_BACKPROP) if o.name == L.NETWORK_PICTURE.name]
    assert pic.description == "The 2-2-2 network at step 0, phase 2 (sigmoid/sigmoid, course)"
    for bad, message in [
        ("9", f"--phase: expected a whole number from 1 to 5 ({P.PHASE_LIST}), got 9"),
        ("0", f"--phase: expected a whole number from 1 to 5 ({P.PHASE_LIST}), got 0"),
        ("x", "--phase: expected a whole number, got 'x' (see xl-backprop run --help)"),
    ]:
        rc = cli.main(["run", "draw-network", str(TEMPLATE), "--out", str(tmp_path / "bad.xlsm"), "--phase", bad])
        stdout, err = capsys.readouterr()
        assert (rc, stdout, err) == (2, "", f"xl-backprop run: error: {message}\n"), bad
    assert not (tmp_path / "bad.xlsm").exists()


def test_title_names_other_activations_and_the_mean_over_the_examples():
    v = explain.step_values()
    course = P.title(v, 3, 2)
    assert course == P.title(v, 3, 2, ("sigmoid", "sigmoid"), (1, 1))  # the course's title, unchanged
    assert "activations" not in course and "mean" not in course
    other = P.title(v, 3, 2, ("tanh", "relu"), (4, 2)).split("\n")
    assert other[:2] == course.split("\n")
    assert other[2:] == [
        "activations: tanh (hidden), relu (output)",
        "E_total: the mean over 4 examples; the units show example 2",
    ]
    box = L.NETWORK_PICTURE
    fig = P.network_figure(v, 3, box, 2, ("tanh", "relu"), (4, 2))
    assert fig.texts[0].get_text() == "\n".join(other)
