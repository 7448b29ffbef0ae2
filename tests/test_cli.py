"""The ``xl-backprop`` command line, run in-process through ``main(argv)`` and as a real
``python -m xl_backprop`` subprocess.

Numbers are checked against docs/design.md's published values and against
``scalar_reference.py``, a plain-Python loop written from docs/design.md's formulas that shares
no code with the package.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import json
import os
import re
import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import pytest

import xl_backprop
from xl_backprop import cli, figures, fileio
from xl_backprop.cli import main
from xl_backprop.workbook import layout as L

from . import scalar_reference as ref
from .conftest import ROOT, TEMPLATE, set_cells
from .ooxml_read import objects, parts, png_size
from .published import COURSE_DE_DW5, COURSE_E_TOTAL, MAZUR_E_TOTAL

DEFAULT_LRS = [0.1, 0.2, 0.5, 0.8, 1.0, 2.0]
DEFAULT_W = [0.15, 0.2, 0.25, 0.3, 0.4, 0.45, 0.5, 0.55]
E_TOTAL_0 = repr(COURSE_E_TOTAL)  # as the CLI prints it
DE_DW5 = repr(COURSE_DE_DW5)
RANGE = "--lrs: expected START:STOP:COUNT, finite numbers and a whole COUNT >= 1, got "


def _scalar_curves(lr, n, w=DEFAULT_W, i=(0.05, 0.1), t=(0.01, 0.99), b=(0.0, 0.0), **options):
    """E_total for n rows (row 0 before any update), from the scalar reference loop."""
    return ref.train(lr, n, w, i, t, b, **options)[0]


def run(argv, capsys):
    rc = main([str(a) for a in argv])
    cap = capsys.readouterr()
    return rc, cap.out, cap.err


def read_csv(path: Path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    return rows[0], np.array([[float(x) for x in r] for r in rows[1:]])


def table_rows(out: str) -> dict[str, list[str]]:
    """The summary table's body rows, keyed by the lr column, split on runs of 2+ spaces."""
    lines = out.splitlines()
    start = next(k for k, line in enumerate(lines) if line.startswith("---"))
    rows = {}
    for line in lines[start + 1 :]:
        if not line.strip() or line.startswith("("):  # the end, or the note under a selection
            break
        cells = re.split(r"\s{2,}", line.strip())
        rows[cells[0]] = cells
    return rows


# ----------------------------------------------------------------------------- train


def test_train_defaults_table_csv_png(tmp_path, capsys):
    rc, out, err = run(["train", "--out-dir", tmp_path], capsys)
    assert rc == 0, err
    assert err == ""
    assert f"E_total before training: {E_TOTAL_0}" in out

    header, data = read_csv(tmp_path / "loss_curves.csv")
    assert header == ["step"] + [f"lr={lr!r}" for lr in DEFAULT_LRS]
    assert data.shape == (51, 7)
    assert np.array_equal(data[:, 0], np.arange(51))
    assert float(data[0, 1]) == float(E_TOTAL_0)
    np.testing.assert_allclose(data[:, 1:], xl_backprop.train_curves(DEFAULT_LRS, 51), rtol=0, atol=1e-12)
    ref = np.array([_scalar_curves(lr, 51) for lr in DEFAULT_LRS]).T
    np.testing.assert_allclose(data[:, 1:], ref, rtol=0, atol=1e-12)

    rows = table_rows(out)
    assert list(rows) == ["0.1", "0.2", "0.5", "0.8", "1", "2"]
    for lr, key in zip(DEFAULT_LRS, rows, strict=True):
        lr_col, final, steps, only_fell, first_rise = rows[key]
        assert float(final) == pytest.approx(ref[-1, DEFAULT_LRS.index(lr)], abs=1e-10)
        # with 50 updates none of the course's rates gets below 0.01; all fall monotonically
        assert (steps, only_fell, first_rise) == ("not reached", "yes", "never")
    assert float(rows["2"][1]) == pytest.approx(0.0122261078, abs=1e-10)

    assert png_size(tmp_path / "loss_curves.png") == (800, 500)
    import matplotlib.image

    img = matplotlib.image.imread(tmp_path / "loss_curves.png")
    assert img.shape[:2] == (500, 800)
    colours = np.unique(img.reshape(-1, img.shape[2]), axis=0)
    assert len(colours) > 20  # lines, text and legend, not a blank canvas
    assert f"wrote {tmp_path / 'loss_curves.csv'}" in out


def test_train_threshold_and_first_rise_against_scalar_loop(tmp_path, capsys):
    # targets 0.5/0.5 and lr 200 overshoot: the loss rises after the first update
    rc, out, err = run(
        [
            "train",
            "--targets",
            "0.5",
            "0.5",
            "--lrs",
            "5,200",
            "--iterations",
            "30",
            "--threshold",
            "0.001",
            "--no-plot",
            "--out-dir",
            tmp_path,
        ],
        capsys,
    )
    assert rc == 0, err
    rows = table_rows(out)
    assert list(rows) == ["5", "200"]
    for lr in (5, 200):
        ref = _scalar_curves(lr, 30, t=(0.5, 0.5))
        hit = next((k for k, e in enumerate(ref) if e < 0.001), None)
        rise = next((k for k in range(1, 30) if ref[k] > ref[k - 1]), None)
        _, final, steps, only_fell, first_rise = rows[str(lr)]
        assert float(final) == pytest.approx(ref[-1], abs=1e-10)
        assert steps == ("not reached" if hit is None else str(hit))
        assert only_fell == ("yes" if rise is None else "no")
        assert first_rise == ("never" if rise is None else str(rise))
    assert rows["200"][3:] == ["no", "1"]
    assert "steps to E_total < 0.001" in out
    assert not (tmp_path / "loss_curves.png").exists()


def test_train_mazur_biases(tmp_path, capsys):
    rc, out, err = run(
        [
            "train",
            "--biases",
            "0.35",
            "0.6",
            "--lrs",
            "0.5",
            "--iterations",
            "2",
            "--inputs",
            "0.05,0.1",
            "--weights",
            *DEFAULT_W,
            "--no-plot",
            "--out-dir",
            tmp_path,
        ],
        capsys,
    )
    assert rc == 0, err
    line = next(s for s in out.splitlines() if s.startswith("E_total before training:"))
    assert float(line.split(":")[1]) == pytest.approx(MAZUR_E_TOTAL, abs=5e-10)
    _, data = read_csv(tmp_path / "loss_curves.csv")
    np.testing.assert_allclose(data[:, 1], _scalar_curves(0.5, 2, b=(0.35, 0.6)), rtol=0, atol=1e-12)


@pytest.mark.parametrize(
    "extra, kwargs",
    [
        (["--update", "sequential"], {"update": "sequential"}),
        (["--biases", "0.35", "0.6", "--train-biases"], {"b": (0.35, 0.6), "train_biases": True}),
        # negative numbers in every spelling are values, not unknown options
        (
            ["--targets", "-1e-2", "-.5", "--weights", "-1.5e-1", *map(str, DEFAULT_W[1:])],
            {"t": (-0.01, -0.5), "w": [-0.15, *DEFAULT_W[1:]]},
        ),
    ],
)
def test_train_options_reach_the_engine(tmp_path, capsys, extra, kwargs):
    rc, _, err = run(
        ["train", "--lrs", "0.5", "3", "--iterations", "20", "--no-plot", "--quiet", "--out-dir", tmp_path, *extra],
        capsys,
    )
    assert rc == 0, err
    _, data = read_csv(tmp_path / "loss_curves.csv")
    expected = np.array([_scalar_curves(lr, 20, **kwargs) for lr in (0.5, 3.0)]).T
    np.testing.assert_allclose(data[:, 1:], expected, rtol=0, atol=1e-12)
    # and the option changed something: the plain run differs
    plain = np.array([_scalar_curves(lr, 20) for lr in (0.5, 3.0)]).T
    assert np.abs(expected - plain).max() > 1e-6


def test_lrs_ranges(tmp_path, capsys):
    rc, out, err = run(
        ["train", "--lrs", "0.1:1:4,", "3", "--iterations", "5", "--no-plot", "--quiet", "--out-dir", tmp_path], capsys
    )
    assert rc == 0, err
    header, data = read_csv(tmp_path / "loss_curves.csv")
    lrs = [0.1, 0.4, 0.7, 1.0, 3.0]
    assert [float(h.removeprefix("lr=")) for h in header[1:]] == pytest.approx(lrs, abs=1e-15)
    ref = np.array([_scalar_curves(lr, 5) for lr in lrs]).T
    np.testing.assert_allclose(data[:, 1:], ref, rtol=0, atol=1e-12)


def test_lrs_range_at_the_limit_is_refused_before_any_rate_is_built(capsys):
    """10 million learning rates x 2 iterations: refused from START:STOP:COUNT alone (it took 20 s
    of string round trips). Not a timed test: what is allocated meanwhile (tracemalloc, numpy's
    arrays included) stays under 1 MB, where 10 million rates would take 80 MB as one array."""
    import tracemalloc

    tracemalloc.start()
    try:
        rc, _, err = run(["train", "--lrs", "0.1:1:10000000", "--iterations", "2"], capsys)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert rc == 2 and "expected at most 10,000,000 loss values, got 20,000,000" in err
    assert peak < 1_000_000, f"{peak:,} bytes allocated"


@pytest.mark.parametrize("count", [13, 450])  # a colour bar instead of a legend; then a selection
def test_plot_of_many_learning_rates(tmp_path, capsys, count):
    rc, _, err = run(
        ["train", "--lrs", f"0.1:50:{count}", "--iterations", "10", "--quiet", "--out-dir", tmp_path], capsys
    )
    assert rc == 0, err
    assert png_size(tmp_path / "loss_curves.png") == (800, 500)
    header, data = read_csv(tmp_path / "loss_curves.csv")
    assert data.shape == (10, count + 1)  # the CSV keeps every learning rate


def test_table_of_many_learning_rates_is_a_selection(tmp_path, capsys):
    rc, out, err = run(
        ["train", "--lrs", "0.1:5:1200", "--iterations", "3", "--no-plot", "--out-dir", tmp_path], capsys
    )
    assert rc == 0, err
    rows = table_rows(out)
    assert len(rows) == 50 and list(rows)[0] == "0.1" and list(rows)[-1] == "5"
    assert "(50 of 1,200 learning rates shown; loss_curves.csv has them all)" in out
    for label, cells in rows.items():  # labels precise enough to tell neighbours apart
        assert float(cells[1]) == pytest.approx(_scalar_curves(float(label), 3)[-1], abs=1e-10)
    _, data = read_csv(tmp_path / "loss_curves.csv")
    assert data.shape == (3, 1201)


@pytest.mark.parametrize("iterations, count", [(1, 6), (6, 20), (51, 6), (51, 20)])
def test_plot_steps_are_whole_and_short_runs_are_dotted(iterations, count):
    lrs = list(np.linspace(0.5, 3, count))
    curves = np.array([_scalar_curves(lr, iterations) for lr in lrs]).T
    fig = cli.loss_figure(lrs, curves, 0.01, "test")
    fig.canvas.draw()
    (ax, *_) = fig.axes
    ticks = [t for t in ax.get_xticks() if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]]
    assert ticks and all(t == int(t) for t in ticks)
    dotted = iterations <= 30
    if count <= figures.LEGEND_MAX:
        assert [line.get_marker() in ("o",) for line in ax.get_lines()[:count]] == [dotted] * count
    else:  # a dot per value, coloured like its line
        dots = [c for c in ax.collections if c.get_offsets().shape[0] == iterations * count]
        assert len(dots) == dotted
        if dotted:
            np.testing.assert_allclose(dots[0].get_offsets()[:, 1], curves.ravel())
            np.testing.assert_allclose(dots[0].get_array(), np.tile(lrs, iterations))


def test_quiet_prints_nothing(tmp_path, capsys):
    rc, out, err = run(["train", "--quiet", "--out-dir", tmp_path], capsys)
    assert (rc, out, err) == (0, "", "")
    assert (tmp_path / "loss_curves.csv").exists() and (tmp_path / "loss_curves.png").exists()


def test_out_dir_is_created(tmp_path, capsys):
    target = tmp_path / "a" / "b"
    rc, _, err = run(["train", "--no-plot", "--out-dir", target], capsys)
    assert rc == 0, err
    assert (target / "loss_curves.csv").is_file()


# ----------------------------------------------------------------------------- --force


def test_never_overwrites_without_force(tmp_path, capsys):
    csv_path, png_path = tmp_path / "loss_curves.csv", tmp_path / "loss_curves.png"
    png_path.write_bytes(b"my own picture")
    rc, out, err = run(["train", "--out-dir", tmp_path], capsys)
    assert rc == 2
    assert err == f"xl-backprop train: error: --out-dir: {png_path} already exists; use --force to overwrite it\n"
    assert png_path.read_bytes() == b"my own picture"
    assert not csv_path.exists()  # every output is checked before any is written

    rc, _, err = run(["train", "--out-dir", tmp_path, "--force"], capsys)
    assert rc == 0, err
    assert png_size(png_path) == (800, 500)
    assert csv_path.exists()

    csv_path.write_text("keep me")
    rc, _, err = run(["train", "--out-dir", tmp_path, "--no-plot"], capsys)
    assert rc == 2 and "loss_curves.csv already exists" in err
    assert csv_path.read_text() == "keep me"


# ----------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "argv, message",
    [
        (["train", "--lrs", "0.1", "abc"], "xl-backprop train: error: --lrs: expected positive numbers, got 'abc'"),
        (["train", "--lrs", ""], "xl-backprop train: error: --lrs: expected positive numbers, got nothing"),
        (["train", "--lrs"], "xl-backprop train: error: --lrs: expected at least one argument"),
        (["train", "--lrs", "0.5", "-1"], "xl-backprop train: error: --lrs: expected positive numbers, got '-1'"),
        (["train", "--lrs", "nan"], "xl-backprop train: error: --lrs: expected finite numbers, got 'nan'"),
        (["train", "--weights", "1", "2", "3"], "xl-backprop train: error: --weights: expected 8 numbers, got 3"),
        (["train", "--weights", *"12345678"[:7], "x"], "--weights: expected 8 numbers, got 'x'"),
        (["train", "--inputs", "1"], "xl-backprop train: error: --inputs: expected 2 numbers, got 1"),
        (["train", "--targets", "1", "2", "3"], "xl-backprop train: error: --targets: expected 2 numbers, got 3"),
        (["train", "--biases", "inf", "0"], "xl-backprop train: error: --biases: expected finite numbers, got 'inf'"),
        (["train", "--iterations", "0"], "--iterations: expected a whole number >= 1, got '0'"),
        (["train", "--iterations", "-3"], "--iterations: expected a whole number >= 1, got '-3'"),
        (["train", "--iterations", "2.5"], "--iterations: expected a whole number >= 1, got '2.5'"),
        (["train", "--iterations", "many"], "--iterations: expected a whole number >= 1, got 'many'"),
        (
            ["train", "--iterations", "1e7", "--lrs", "1", "2"],
            "xl-backprop train: error: --iterations x number of --lrs: expected at most 10,000,000 loss values, "
            "got 20,000,000",
        ),
        (["train", "--lrs", "0.1:1:1e8"], RANGE + "'0.1:1:1e8'"),
        (["train", "--lrs", "0.1:1"], RANGE + "'0.1:1'"),
        (["train", "--lrs", "0.1:1:2.5"], RANGE + "'0.1:1:2.5'"),
        (["train", "--lrs", "0:1:3"], "--lrs: expected positive numbers, got 0.0 (from '0:1:3')"),
        (
            ["train", "--update", "random"],
            "--update: invalid choice: 'random' (choose from 'simultaneous', 'sequential')",
        ),
        (["train", "--threshold", "0"], "--threshold: expected a positive number, got '0'"),
        (
            ["train", "--colour", "red"],
            "xl-backprop train: error: unrecognized arguments: --colour red (see xl-backprop train --help)",
        ),
        (["train", "--lrs", "-0.1:1:3"], "--lrs: expected positive numbers, got -0.1 (from '-0.1:1:3')"),
        (["train", "--lrs", "0.1:inf:3"], RANGE + "'0.1:inf:3'"),
        (
            ["train", "--targets", "1e200", "0.99"],
            "xl-backprop train: error: overflow: E_total at step 0 for lr 0.1 "
            "is not a finite number; try smaller --targets, --inputs or --weights",
        ),
        (
            ["train", "--targets", "1e100", "-1e100", "--lrs", "0.5", "1e300", "--iterations", "3"],
            "xl-backprop train: error: overflow: E_total at step 1 for lr 1e+300 is not a finite number; "
            "try smaller --lrs",
        ),
        (
            ["gradcheck", "--targets", "1e200", "0.99"],
            "xl-backprop gradcheck: error: overflow: the central difference "
            "dE/dw1 is not a finite number; try smaller --targets, --inputs or --weights",
        ),
        (["gradcheck", "--weights", "1"], "xl-backprop gradcheck: error: --weights: expected 8 numbers, got 1"),
        (["gradcheck", "--eps", "-0.001"], "--eps: expected a positive number, got '-0.001'"),
        (["fly"], "xl-backprop: error: COMMAND: invalid choice: 'fly'"),
        ([], "xl-backprop: error: expected a command: train, gradcheck, template, run, doctor, lite"),
        (["run", "reset"], "xl-backprop run: error: the following arguments are required: BOOK"),
        (["run", "paint", "book.xlsm"], "xl-backprop run: error: ACTION: invalid choice: 'paint'"),
        (
            ["run", "reset", "missing.xlsm", "--out", "x.xlsm"],
            "xl-backprop run: error: BOOK: missing.xlsm is not an existing file",
        ),
        (
            ["run", "draw-network", "missing.xlsm", "--iteration", "-1"],
            "--iteration: expected a whole number >= 0, got '-1'",
        ),
    ],
)
def test_bad_arguments_one_line_exit_2(tmp_path, monkeypatch, capsys, argv, message):
    monkeypatch.chdir(tmp_path)
    rc, out, err = run(argv, capsys)
    assert rc == 2
    assert out == ""
    assert err.count("\n") == 1, err
    assert message in err
    assert "Traceback" not in err
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_output_open_in_another_program(tmp_path, monkeypatch, capsys):
    """Windows refuses to replace a file Excel has open: the message names that file, not the
    temporary one, and says what to do; the old file stays and no temporary file is left."""
    csv_path = tmp_path / "loss_curves.csv"
    csv_path.write_text("open in Excel")

    def locked(src, dst):
        raise PermissionError(13, "Permission denied", src, None, dst)

    monkeypatch.setattr(fileio.os, "replace", locked)
    rc, _, err = run(["train", "--no-plot", "--force", "--quiet", "--out-dir", tmp_path], capsys)
    assert rc == 1
    assert err == (
        "xl-backprop train: error: Permission denied (is it open in another program, such as Excel? "
        f"Close it and run again): {csv_path}\n"
    )
    assert csv_path.read_text() == "open in Excel" and list(tmp_path.iterdir()) == [csv_path]


def test_out_dir_that_is_a_file(tmp_path, capsys):
    f = tmp_path / "notadir"
    f.write_text("x")
    rc, _, err = run(["train", "--out-dir", f], capsys)
    assert rc == 2
    assert err == f"xl-backprop train: error: --out-dir: {f} is a file, expected a folder\n"


def test_engine_value_error_is_one_line(monkeypatch, tmp_path, capsys):
    def bad_train(*args, **kwargs):
        raise ValueError("weights: expected 8 values w1..w8 on the last axis, got shape (3,)")

    monkeypatch.setattr(cli, "train", bad_train)
    rc, out, err = run(["train", "--out-dir", tmp_path], capsys)
    assert rc == 2
    assert err == "xl-backprop train: error: weights: expected 8 values w1..w8 on the last axis, got shape (3,)\n"
    assert list(tmp_path.iterdir()) == []


# ----------------------------------------------------------------------------- help, version


@pytest.mark.parametrize("command", [[], ["train"], ["gradcheck"], ["template"], ["run"]])
def test_help_on_every_command(capsys, command):
    rc, out, err = run([*command, "--help"], capsys)
    assert rc == 0
    assert out.startswith(f"usage: xl-backprop{' ' + command[0] if command else ''} ")
    assert "--help" in out and err == ""


def test_every_option_has_help_and_the_readme_names_only_real_ones(capsys):
    parser = cli.build_parser()
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    synopsis = {m.group(1): m.group(0) for m in re.finditer(r"^\s+xl-backprop (\w+) .*(?:\n {20,}.*)*", readme, re.M)}
    assert set(synopsis) == set(sub.choices)  # the README shows every command
    for name, p in sub.choices.items():
        for action in p._actions:
            assert action.help and "%(default)" not in action.help, (name, action.dest)
        rc, out, _ = run([name, "--help"], capsys)
        assert rc == 0
        for option in set(re.findall(r"--[a-z][a-z-]+", synopsis[name])):
            assert option in p._option_string_actions, f"README shows {name} {option}, which does not exist"


def test_help_examples_run(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    rc, out, _ = run(["--help"], capsys)
    assert rc == 0
    shown = out.split("examples:\n")[1].splitlines()
    assert [line.split("#")[0].split() for line in shown] == [
        ["xl-backprop", *e.split("#")[0].split()] for e in cli.EXAMPLES
    ]
    assert main(["template"]) == 0  # the book the last example reads
    for example in cli.EXAMPLES:
        argv = example.split("#")[0].split()
        rc, _, err = run([*argv, "--force"] if argv[0] in ("train", "run") else argv, capsys)
        assert rc == 0, (example, err)


def test_version(capsys):
    rc, out, _ = run(["--version"], capsys)
    assert (rc, out) == (0, f"xl-backprop {xl_backprop.__version__}\n")


# ----------------------------------------------------------------------------- gradcheck


def test_gradcheck_defaults(capsys):
    rc, out, err = run(["gradcheck"], capsys)
    assert rc == 0, err
    lines = out.splitlines()
    body = [line.split() for line in lines[2:10]]
    assert [r[0] for r in body] == [f"w{k}" for k in range(1, 9)]
    assert body[4][2] == DE_DW5  # dE/dw5, exactly as published
    i, t, eps = (0.05, 0.1), (0.01, 0.99), 1e-6
    ref_grads, _ = ref.gradients(DEFAULT_W, i, t)
    for k, r in enumerate(body):
        analytic, numeric, rel = float(r[2]), float(r[3]), float(r[4])
        assert float(r[1]) == DEFAULT_W[k]
        assert analytic == pytest.approx(ref_grads[k], rel=1e-13, abs=1e-18)
        up, down = list(DEFAULT_W), list(DEFAULT_W)
        up[k] += eps
        down[k] -= eps
        assert numeric == pytest.approx(
            (ref.forward(up, i, t)["E_total"] - ref.forward(down, i, t)["E_total"]) / (2 * eps), rel=1e-8
        )
        assert rel == pytest.approx(abs(analytic - numeric) / max(abs(analytic), abs(numeric)), rel=1e-3)
        assert rel < 1e-6
    largest = max(float(r[4]) for r in body)
    assert lines[-1] == f"largest relative error: {largest:.3e}"


def test_gradcheck_mazur_w5(capsys):
    # Mazur: dE_total/dw5 = 0.082167041 with biases 0.35, 0.60
    rc, out, err = run(["gradcheck", "--biases", "0.35", "0.6"], capsys)
    assert rc == 0, err
    w5 = out.splitlines()[6].split()
    assert w5[0] == "w5"
    assert float(w5[2]) == pytest.approx(0.082167041, abs=5e-10)


# ----------------------------------------------------------------------------- progress bar


class _TTY(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_waits_then_draws():
    now = [0.0]
    stream = _TTY()
    bar = cli.Progress(stream, delay=0.5, width=10, clock=lambda: now[0])
    bar(0.1)
    now[0] = 0.4
    bar(0.2)
    assert stream.getvalue() == ""  # a short run shows nothing
    now[0] = 0.6
    bar(0.5)
    bar(0.5)  # no redraw when nothing moved
    bar(0.3)  # threads may report out of order: never go back
    bar(1.0)
    bar.close()
    assert stream.getvalue() == "\rtraining [#####-----]  50%\rtraining [##########] 100%\n"


def test_progress_silent_when_not_a_terminal():
    stream = io.StringIO()
    bar = cli.Progress(stream, delay=0.0, clock=lambda: 1.0)
    bar(1.0)
    bar.close()
    assert stream.getvalue() == ""


def test_train_shows_progress_on_a_terminal(monkeypatch, tmp_path):
    tty = _TTY()
    monkeypatch.setattr(sys, "stderr", tty)
    monkeypatch.setattr(cli, "PROGRESS_DELAY", 0.0)
    assert main(["train", "--no-plot", "--quiet", "--out-dir", str(tmp_path)]) == 0
    assert tty.getvalue() == ""  # --quiet: no bar
    assert main(["train", "--no-plot", "--force", "--iterations", "40", "--out-dir", str(tmp_path)]) == 0
    lines = tty.getvalue().split("\n")
    assert lines[0].startswith("\rtraining [") and lines[0].endswith("] 100%")
    assert lines[1].startswith("\rwriting loss_curves.csv [") and lines[1].endswith("] 100%")
    assert lines[2] == ""


# ----------------------------------------------------------------------------- template


def test_template_refuses_existing_file(tmp_path, capsys):
    out = tmp_path / "book.xlsm"
    out.write_bytes(b"user's book")
    rc, _, err = run(["template", "--out", out], capsys)
    assert rc == 2
    assert err == f"xl-backprop template: error: --out: {out} already exists; use --force to overwrite it\n"
    assert out.read_bytes() == b"user's book"


@pytest.mark.parametrize(
    "name, message",
    [
        ("book.xlsx", "--out: expected a .xlsm path (a macro-enabled workbook), got {out}"),
        ("nodir/book.xlsm", "--out: expected an existing folder, {parent} is not one"),
    ],
)
def test_template_bad_out(tmp_path, capsys, name, message):
    out = tmp_path / name
    rc, _, err = run(["template", "--out", out], capsys)
    assert rc == 2
    assert err == "xl-backprop template: error: " + message.format(out=out, parent=out.parent) + "\n"
    assert list(tmp_path.iterdir()) == []


def test_unexpected_exception_is_one_line(monkeypatch, tmp_path, capsys):
    def broken(*args, **kwargs):
        raise KeyError("a_h1")

    monkeypatch.setattr(cli, "lr_summary", broken)
    rc, out, err = run(["train", "--out-dir", tmp_path], capsys)
    assert rc == 1
    assert err == "xl-backprop train: internal error: KeyError: 'a_h1' (please report this)\n"


def test_template_builds_a_workbook(tmp_path, capsys):
    import zipfile

    out = tmp_path / "t.xlsm"
    rc, stdout, err = run(["template", "--out", out], capsys)
    assert rc == 0, err
    assert f"wrote {out}" in stdout
    with zipfile.ZipFile(out) as z:
        assert "xl/vbaProject.bin" in z.namelist()
    rc, _, err = run(["template", "--out", out], capsys)
    assert rc == 2 and "already exists" in err
    rc, _, err = run(["template", "--out", out, "--force"], capsys)
    assert rc == 0, err


# ----------------------------------------------------------------------------- run


@pytest.fixture
def fake_macros(monkeypatch):
    """Stands in for xl_backprop.macros to check what the CLI passes on; the real module is
    exercised by test_run_on_the_real_template and by its own tests."""
    from xl_backprop.macros import InputError

    calls = []
    mod = types.ModuleType("xl_backprop.macros")
    mod.InputError = InputError

    def run_on_file(action, book, out, *, iteration=None, phase=None, overwrite=True, expect=None):
        calls.append((action, book, out, iteration) + ((phase,) if phase is not None else ()))
        if action == "draw-network" and iteration == 99:
            raise InputError("step to draw", "expected a whole number from 0 to 50, got 99")  # as read_draw words it
        if action == "draw-network" and phase == 6:
            raise InputError("phase to draw", "expected a whole number from 1 to 5 (…), got 6")  # as read_draw words it
        out.write_bytes(book.read_bytes() + b"+" + action.encode())
        return out

    mod.run_on_file = run_on_file
    monkeypatch.setitem(sys.modules, "xl_backprop.macros", mod)
    return calls


def test_run_passes_arguments(tmp_path, capsys, fake_macros):
    book, out = tmp_path / "book.xlsm", tmp_path / "out.xlsm"
    book.write_bytes(b"B")
    rc, stdout, err = run(["run", "draw-network", book, "--out", out, "--iteration", "7"], capsys)
    assert rc == 0, err
    assert fake_macros == [("draw-network", book, out, 7)]
    assert stdout == f"wrote {out}\n"
    assert book.read_bytes() == b"B"

    rc, _, err = run(["run", "train-lrs", book, "--in-place"], capsys)
    assert rc == 0, err
    assert fake_macros[-1] == ("train-lrs", book, book, None)

    rc, _, err = run(["run", "draw-network", book, "--out", out, "--force", "--phase", "4"], capsys)
    assert rc == 0, err
    assert fake_macros[-1] == ("draw-network", book, out, None, 4)


def test_run_refusals(tmp_path, capsys, fake_macros):
    book, out = tmp_path / "book.xlsm", tmp_path / "out.xlsm"
    book.write_bytes(b"B")
    out.write_bytes(b"O")
    cases = [
        (["run", "reset", book], "--out: expected a path for the result, or --in-place to change BOOK itself"),
        (["run", "reset", book, "--out", book], f"--out: {book} is BOOK itself; use --in-place to change BOOK"),
        (["run", "reset", book, "--out", tmp_path / "." / "book.xlsm", "--force"], "is BOOK itself"),
        (["run", "reset", book, "--out", out], f"--out: {out} already exists; use --force to overwrite it"),
        (["run", "reset", book, "--out", out, "--in-place"], "--in-place: writes into BOOK"),
        (["run", "reset", book, "--out", tmp_path], f"--out: {tmp_path} is a folder, expected a file path"),
        (
            ["run", "train-lrs", book, "--out", tmp_path / "new.xlsm", "--iteration", "3"],
            "--iteration: only for draw-network, not for train-lrs",
        ),
        (
            ["run", "train-lrs", book, "--out", tmp_path / "new.xlsm", "--phase", "3"],
            "--phase: only for draw-network, not for train-lrs",
        ),
        (
            ["run", "draw-network", book, "--out", tmp_path / "new.xlsm", "--phase", "2.5"],
            "xl-backprop run: error: --phase: expected a whole number, got '2.5' (see xl-backprop run --help)",
        ),
        (
            ["run", "draw-network", book, "--out", tmp_path / "new.xlsm", "--phase", "6"],
            "xl-backprop run: error: --phase: expected a whole number from 1 to 5 (…), got 6",
        ),
        (
            ["run", "draw-network", book, "--out", tmp_path / "new.xlsm", "--iteration", "99"],
            "xl-backprop run: error: --iteration: expected a whole number from 0 to 50, got 99",
        ),
    ]
    for argv, message in cases:
        rc, stdout, err = run(argv, capsys)
        assert rc == 2, argv
        assert message in err and err.count("\n") == 1, (argv, err)
        assert stdout == ""
    assert book.read_bytes() == b"B" and out.read_bytes() == b"O"
    assert [c[3:] for c in fake_macros] == [(None, 6), (99,)]  # only the last two reached the callee

    rc, _, err = run(["run", "reset", book, "--out", out, "--force"], capsys)
    assert rc == 0, err
    assert out.read_bytes() == b"B+reset"


def test_run_real_macros_reject_a_non_workbook(tmp_path, capsys):
    book, out = tmp_path / "notes.xlsm", tmp_path / "out.xlsm"
    book.write_text("not a workbook")
    rc, stdout, err = run(["run", "reset", book, "--out", out], capsys)
    assert rc == 2
    assert stdout == "" and err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("xl-backprop run: error: ") and str(book) in err
    assert not out.exists()


def test_run_on_the_real_template(tmp_path, capsys):
    import zipfile

    book, out = tmp_path / "book.xlsm", tmp_path / "trained.xlsm"
    assert main(["template", "--out", str(book)]) == 0
    before = book.read_bytes()
    rc, _, err = run(["run", "train-lrs", book, "--out", out], capsys)
    assert rc == 0, err
    assert book.read_bytes() == before
    with zipfile.ZipFile(out) as z:
        assert "xl/vbaProject.bin" in z.namelist()


# ----------------------------------------------------------------------------- subprocess


def test_python_dash_m_subprocess(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "xl_backprop", "train", "--lrs", "0.5", "2", "--out-dir", "out"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert f"E_total before training: {E_TOTAL_0}" in proc.stdout
    _, data = read_csv(tmp_path / "out" / "loss_curves.csv")
    np.testing.assert_allclose(
        data[:, 1:], np.array([_scalar_curves(0.5, 51), _scalar_curves(2.0, 51)]).T, rtol=0, atol=1e-12
    )
    assert png_size(tmp_path / "out" / "loss_curves.png") == (800, 500)

    again = subprocess.run(
        [sys.executable, "-m", "xl_backprop", "train", "--out-dir", "out"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert again.returncode == 2
    assert again.stdout == ""
    assert again.stderr.splitlines() == [
        f"xl-backprop train: error: --out-dir: {Path('out') / 'loss_curves.csv'} already exists; "
        "use --force to overwrite it"
    ]


def test_subprocess_bad_argument(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "xl_backprop", "train", "--iterations", "zero"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stderr == (
        "xl-backprop train: error: --iterations: expected a whole number >= 1, got 'zero' "
        "(see xl-backprop train --help)\n"
    )
    assert list(tmp_path.iterdir()) == []


# ----------------------------------------------------------------------------- links, limits, words


def _media(book: Path) -> list[str]:
    import zipfile

    with zipfile.ZipFile(book) as z:
        return sorted(n for n in z.namelist() if n.startswith("xl/media/"))


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX symbolic links")
def test_run_in_place_through_a_symbolic_link_updates_the_real_book(tmp_path, capsys):
    real = tmp_path / "books" / "real.xlsm"
    real.parent.mkdir()
    real.write_bytes(TEMPLATE.read_bytes())
    link = tmp_path / "link.xlsm"
    link.symlink_to(real)
    assert _media(real) == []
    rc, stdout, err = run(["run", "draw-network", link, "--in-place"], capsys)
    assert rc == 0, err
    assert stdout == f"wrote {link}\n"  # the path given
    assert link.is_symlink() and link.resolve() == real  # still a link ...
    assert len(_media(real)) == 1  # ... and the real workbook has the picture
    assert [f.name for f in tmp_path.iterdir() if f.name.endswith(".tmp")] == []


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX hard links")
def test_run_in_place_on_a_hard_link_replaces_the_named_file(tmp_path, capsys):
    """Documented choice: the file is replaced whole (never half-written in place), so the
    book's other hard links keep the old content."""
    book, other = tmp_path / "book.xlsm", tmp_path / "other.xlsm"
    book.write_bytes(TEMPLATE.read_bytes())
    os.link(book, other)
    rc, stdout, err = run(["run", "draw-network", book, "--in-place"], capsys)
    assert rc == 0, err
    assert stdout == f"wrote {book} (as a new file: 1 other hard link to BOOK keeps the old content)\n"
    assert len(_media(book)) == 1 and _media(other) == []
    assert other.read_bytes() == TEMPLATE.read_bytes()


def test_lrs_range_is_counted_before_it_is_built(capsys, monkeypatch):
    """--lrs 0.1:2:10000000 with 51 iterations: refused from the counts, no array built."""
    built = []
    real_linspace = np.linspace
    monkeypatch.setattr(cli.np, "linspace", lambda *a, **k: built.append(a) or real_linspace(*a, **k))
    rc, _, err = run(["train", "--lrs", "0.1:2:10000000"], capsys)
    assert rc == 2 and built == []
    assert err == (
        "xl-backprop train: error: --iterations x number of --lrs: expected at most 10,000,000 loss values, "
        "got 510,000,000\n"
    )
    rc, _, err = run(["train", "--lrs", "0.1:2:6000000", "0.1:2:6000000", "--iterations", "1"], capsys)
    assert rc == 2 and built == [] and "got 12,000,000" in err


def test_not_enough_memory_is_worded_per_command(tmp_path, capsys, monkeypatch):
    from xl_backprop import macros

    def no_memory(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(macros, "run_on_file", no_memory)
    book = tmp_path / "book.xlsm"
    book.write_bytes(TEMPLATE.read_bytes())
    rc, _, err = run(["run", "train-lrs", book, "--out", tmp_path / "out.xlsm"], capsys)
    assert rc == 1
    assert err == (
        "xl-backprop run: error: not enough memory; the workbook, or the book's iterations x learning "
        "rates, is too large\n"
    )
    assert "--iterations" not in err
    monkeypatch.setattr(cli, "train", no_memory)
    rc, _, err = run(["train", "--out-dir", tmp_path], capsys)
    assert rc == 1 and err == "xl-backprop train: error: not enough memory; use fewer --iterations or --lrs\n"


def test_run_names_the_macros_fields_as_options(tmp_path, capsys):
    """The macros word a bad output name as "output file"; the CLI says --out."""
    rc, _, err = run(["run", "reset", TEMPLATE, "--out", tmp_path / "out.xlsx"], capsys)
    assert rc == 2
    assert err.startswith(
        "xl-backprop run: error: --out: expected a name ending in .xlsm like the book's, got out.xlsx"
    )


def test_the_printed_table_has_the_summary_columns(tmp_path, capsys):
    from xl_backprop.analysis import SUMMARY_COLUMNS

    rc, out, err = run(["train", "--lrs", "0.5", "--iterations", "3", "--no-plot", "--out-dir", tmp_path], capsys)
    assert rc == 0, err
    header = next(line for line in out.splitlines() if line.startswith("lr "))
    assert re.split(r"\s{2,}", header) == ["lr", "final E_total", "steps to E_total < 0.01", "only falls", "first rise"]
    assert len(SUMMARY_COLUMNS) == 5


def test_the_command_list_in_messages_is_the_parsers():
    sub = next(a for a in cli.build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    assert tuple(sub.choices) == cli.COMMANDS


# ----------------------------------------------------------------------------- races, full disks, names

posix_only = pytest.mark.skipif(sys.platform == "win32", reason="POSIX processes, links and names")


@contextlib.contextmanager
def racers(*options: str):
    """Two real ``xl-backprop`` processes (tests/cli_race.py), each running ``cli.main`` once per
    line it is sent; ``race`` sends both a line at the same moment."""
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.cli_race", *options],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    try:
        for p in procs:
            assert json.loads(p.stdout.readline()) == "ready"
        yield procs
    finally:
        for p in procs:
            p.stdin.close()
            p.wait(timeout=120)


def race(procs, argvs) -> list[dict]:
    for p, argv in zip(procs, argvs, strict=True):
        p.stdin.write(json.dumps([str(a) for a in argv]) + "\n")
        p.stdin.flush()
    return [json.loads(p.stdout.readline()) for p in procs]


def _object_names(book: Path, sheet: str) -> list[str]:
    return [o.name for o in objects(parts(book), sheet)]


def _ours_left(folder: Path) -> list[str]:
    return sorted(f.name for f in folder.iterdir() if ".xl-backprop" in f.name)


@posix_only
def test_concurrent_in_place_runs_keep_both_results(tmp_path):
    """``run train-lrs B --in-place`` and ``run draw-network B --in-place`` at once, 10 times, each
    pausing between reading B and writing it: B always ends with the chart AND the picture
    (before: one of the two results lost, both saying "wrote"). The second waits for the first
    (flock); test_fileio races the lock file that stands in where there is no flock."""
    small = set_cells(TEMPLATE, tmp_path / "small.xlsm", L.SHEET_LRS, L.IN_ITERATIONS.cell, [[5]])
    waits = 0
    with racers("--pause-after-read", "0.2") as procs:
        for trial in range(10):
            book = tmp_path / f"book{trial}.xlsm"
            book.write_bytes(small.read_bytes())
            answers = race(
                procs, [["run", "train-lrs", book, "--in-place"], ["run", "draw-network", book, "--in-place"]]
            )
            assert [a["rc"] for a in answers] == [0, 0], answers
            assert [a["out"] for a in answers] == [f"wrote {book}\n"] * 2
            assert L.MACRO_CHART.name in _object_names(book, L.SHEET_LRS), trial
            assert L.NETWORK_PICTURE.name in _object_names(book, L.NETWORK_PICTURE.sheet), trial
            waiting = f"xl-backprop run: {book} is being changed by another run; waiting for it to finish\n"
            assert sorted(a["err"] for a in answers) in (["", waiting], ["", ""]), answers
            waits += [a["err"] for a in answers].count(waiting)
    assert waits >= 5  # the race did happen: in most trials one run waited for the other
    assert _ours_left(tmp_path) == []


def test_in_place_on_a_book_another_program_changes_writes_nothing(tmp_path, monkeypatch, capsys):
    """A program that takes no lock (Excel saving) replaces BOOK between our read and our rename:
    nothing is written, one line says so, exit status 2."""
    from xl_backprop.ooxml import Workbook

    book = tmp_path / "book.xlsm"
    book.write_bytes(TEMPLATE.read_bytes())
    read = Workbook.read

    def read_then_excel_saves(cls, path):
        pkg = read(path)
        saved = tmp_path / "excel-save"
        saved.write_bytes(b"saved by Excel")
        os.replace(saved, book)
        return pkg

    monkeypatch.setattr(Workbook, "read", classmethod(read_then_excel_saves))
    rc, out, err = run(["run", "draw-network", book, "--in-place"], capsys)
    assert (rc, out) == (2, "")
    assert err == (
        f"xl-backprop run: error: BOOK: {book} changed while this run was working on it; nothing written — run again\n"
    )
    assert book.read_bytes() == b"saved by Excel"
    assert sorted(f.name for f in tmp_path.iterdir()) == ["book.xlsm"]


@posix_only
def test_two_trains_into_one_folder_one_wins_whole(tmp_path):
    """Two ``train`` runs into one --out-dir, no --force, at once, 10 times: one writes its CSV AND
    its PNG, the other is refused, naming the file (before: both "wrote", and 4 times in 10 one's
    CSV beside the other's PNG)."""
    lrs = ("0.5", "2")
    refs = {}
    for lr in lrs:  # each run's pair, made alone
        d = tmp_path / f"alone-{lr}"
        assert main(["train", "--lrs", lr, "--quiet", "--out-dir", str(d)]) == 0
        refs[lr] = ((d / CSV).read_bytes(), (d / PNG).read_bytes())
    assert refs[lrs[0]][1] != refs[lrs[1]][1]
    with racers("--pause-before-write", "0.2") as procs:
        for trial in range(10):
            d = tmp_path / f"out{trial}"
            answers = race(procs, [["train", "--lrs", lr, "--quiet", "--out-dir", d] for lr in lrs])
            assert sorted(a["rc"] for a in answers) == [0, 2], answers
            winner = lrs[[a["rc"] for a in answers].index(0)]
            loser = answers[[a["rc"] for a in answers].index(2)]
            assert loser == {
                "rc": 2,
                "out": "",
                "err": f"xl-backprop train: error: --out-dir: {d / CSV} already exists; use --force to overwrite it\n",
            }
            assert sorted(f.name for f in d.iterdir()) == [CSV, PNG]
            assert ((d / CSV).read_bytes(), (d / PNG).read_bytes()) == refs[winner], trial


CSV, PNG = "loss_curves.csv", "loss_curves.png"


def test_force_replaces_the_pair_as_a_pair(tmp_path, monkeypatch, capsys):
    """--force over an old pair, and the PNG's rename fails: the old CSV is put back (before: the
    new CSV beside the old PNG)."""
    (tmp_path / CSV).write_text("old csv")
    (tmp_path / PNG).write_bytes(b"old png")
    real_replace = os.replace

    def replace(src, dst):
        if Path(dst).name == PNG:
            raise OSError(5, "Input/output error", str(src), None, str(dst))
        return real_replace(src, dst)

    monkeypatch.setattr(fileio.os, "replace", replace)
    rc, out, err = run(["train", "--force", "--quiet", "--out-dir", tmp_path], capsys)
    assert (rc, out) == (1, "")
    assert err == f"xl-backprop train: error: Input/output error: {tmp_path / PNG}\n"
    assert ((tmp_path / CSV).read_text(), (tmp_path / PNG).read_bytes()) == ("old csv", b"old png")
    assert sorted(f.name for f in tmp_path.iterdir()) == [CSV, PNG]


def test_a_full_disk_while_writing_the_png_leaves_no_csv(tmp_path, monkeypatch, capsys):
    """The write fails as a real full disk does (an OSError naming no file): no CSV is left, and
    the message names the PNG (before: loss_curves.csv stayed)."""

    def full(path, *args, **kwargs):
        Path(path).write_bytes(b"\x89PNG half")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(cli, "write_png", full)
    rc, out, err = run(["train", "--quiet", "--out-dir", tmp_path], capsys)
    assert (rc, out) == (1, "")
    assert err == f"xl-backprop train: error: No space left on device: {tmp_path / PNG}\n"
    assert list(tmp_path.iterdir()) == []


def test_a_really_full_disk_leaves_the_folder_as_it_was(small_disk, capsys):
    """A 64 KiB tmpfs: the CSV (6 KB) fits, the PNG (85 KB) does not."""
    rc, out, err = run(["train", "--quiet", "--out-dir", small_disk], capsys)
    assert (rc, out) == (1, "")
    assert err == f"xl-backprop train: error: No space left on device: {small_disk / PNG}\n"
    assert list(small_disk.iterdir()) == []
    (small_disk / CSV).write_text("old csv")
    (small_disk / PNG).write_bytes(b"old png")
    rc, out, err = run(["train", "--quiet", "--force", "--out-dir", small_disk], capsys)
    assert rc == 1 and "No space left on device" in err
    assert ((small_disk / CSV).read_text(), (small_disk / PNG).read_bytes()) == ("old csv", b"old png")
    assert sorted(f.name for f in small_disk.iterdir()) == [CSV, PNG]


def _long_name(length: int, ext: str = ".xlsm") -> str:
    return "b" * (length - len(ext)) + ext


@posix_only
def test_in_place_on_a_book_with_a_255_byte_name(tmp_path, capsys):
    if fileio.name_max(tmp_path) < 255:
        pytest.skip("this file system takes shorter names")
    book = tmp_path / _long_name(255)
    book.write_bytes(TEMPLATE.read_bytes())
    rc, out, err = run(["run", "draw-network", book, "--in-place"], capsys)
    assert rc == 0, err
    assert out == f"wrote {book}\n" and len(_media(book)) == 1
    copy = tmp_path / ("c" + _long_name(254))
    rc, out, err = run(["run", "reset", book, "--out", copy], capsys)
    assert rc == 0, err
    assert sorted(f.name for f in tmp_path.iterdir()) == sorted([book.name, copy.name])

    too_long = tmp_path / _long_name(256)
    rc, out, err = run(["run", "reset", book, "--out", too_long], capsys)
    assert (rc, out) == (1, "")
    assert err == f"xl-backprop run: error: File name too long: {too_long}\n"  # the path given, not a temporary


def _escaped(text: str) -> str:
    """How a message shows a name: the control characters as Python escapes them."""
    for raw, shown in (("\n", "\\n"), ("\r", "\\r"), ("\x1b", "\\x1b"), ("\u202e", "\\u202e"), ("\udcff", "\\xff")):
        text = text.replace(raw, shown)
    return text


@posix_only
@pytest.mark.parametrize("odd", ["a\nb", "a\rb", "a\x1b[31mb", "a\u202eb", os.fsdecode(b"a\xffb")])
def test_names_with_control_characters_are_printed_escaped(tmp_path, capsys, odd):
    """A newline, CR, ESC, a bidi override or a byte that is not UTF-8 in a path: every line the
    CLI prints stays one line, with no terminal control sequence in it."""
    missing = tmp_path / f"{odd}.xlsm"
    rc, out, err = run(["run", "reset", missing, "--out", tmp_path / "o.xlsm"], capsys)
    assert (rc, out) == (2, "")
    assert err == f"xl-backprop run: error: BOOK: {_escaped(str(missing))} is not an existing file\n"

    target = tmp_path / f"{odd}.xlsm"
    rc, out, err = run(["run", "reset", TEMPLATE, "--out", target], capsys)
    assert rc == 0, err
    assert out == f"wrote {_escaped(str(target))}\n" and target.is_file()
    rc, out, err = run(["run", "reset", TEMPLATE, "--out", target], capsys)
    exists = "already exists; use --force to overwrite it\n"
    assert err == f"xl-backprop run: error: --out: {_escaped(str(target))} {exists}"

    folder = tmp_path / odd
    folder.mkdir()
    rc, out, err = run(["train", "--quiet", "--out-dir", folder], capsys)
    assert rc == 0, err
    rc, out, err = run(["train", "--out-dir", folder], capsys)
    assert err == f"xl-backprop train: error: --out-dir: {_escaped(str(folder / CSV))} {exists}"


def test_printable_escapes_only_what_cannot_be_shown():
    assert cli.printable("C:\\Users\\ana\\book é 語.xlsm") == "C:\\Users\\ana\\book é 語.xlsm"  # backslashes kept
    assert cli.printable("a\tb\x00c\x7fd\x85e\u2028f") == "a\\tb\\x00c\\x7fd\\x85e\\u2028f"
    # a path's own characters stay as they are, though a UDF's echo of a cell shows their codes
    # (limits.printable's categories, one parameter): an emoji's zero-width joiner, a private-use one
    assert cli.printable("\U0001f469\u200d\U0001f4bb \ue000.xlsm") == "\U0001f469\u200d\U0001f4bb \ue000.xlsm"


def test_run_out_in_a_missing_folder_names_the_option(tmp_path, capsys):
    out = tmp_path / "missing" / "out.xlsm"
    rc, stdout, err = run(["run", "reset", TEMPLATE, "--out", out], capsys)
    assert (rc, stdout) == (2, "")
    assert err == f"xl-backprop run: error: --out: expected a path in an existing folder, {out.parent} is not one\n"
    assert list(tmp_path.iterdir()) == []


def test_lite_writes_both_files_or_neither(tmp_path, monkeypatch, capsys):
    real_replace = os.replace

    def replace(src, dst):
        if Path(dst).name == "requirements.txt":
            raise OSError(5, "Input/output error", str(src), None, str(dst))
        return real_replace(src, dst)

    (tmp_path / "main.py").write_text("# mine")
    (tmp_path / "requirements.txt").write_text("mine")
    monkeypatch.setattr(fileio.os, "replace", replace)
    rc, out, err = run(["lite", "--out", tmp_path, "--force"], capsys)
    assert rc == 1 and err == f"xl-backprop lite: error: Input/output error: {tmp_path / 'requirements.txt'}\n"
    assert (tmp_path / "main.py").read_text() == "# mine"
    assert sorted(f.name for f in tmp_path.iterdir()) == ["main.py", "requirements.txt"]


def test_run_out_made_meanwhile_is_never_replaced_without_force(tmp_path, monkeypatch, capsys):
    """Another run writes OUT after our exists-check: ours is refused, theirs kept."""
    from xl_backprop.ooxml import Workbook

    out = tmp_path / "out.xlsm"
    read = Workbook.read

    def read_then_another_run_writes(cls, path):
        pkg = read(path)
        out.write_bytes(b"the other run's book")
        return pkg

    monkeypatch.setattr(Workbook, "read", classmethod(read_then_another_run_writes))
    rc, stdout, err = run(["run", "reset", TEMPLATE, "--out", out], capsys)
    assert (rc, stdout) == (2, "")
    assert err == f"xl-backprop run: error: --out: {out} already exists; use --force to overwrite it\n"
    assert out.read_bytes() == b"the other run's book"
    assert sorted(f.name for f in tmp_path.iterdir()) == ["out.xlsm"]
