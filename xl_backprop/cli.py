"""The ``xl-backprop`` command line: train, gradcheck, template, run, doctor, lite, map (cli_map.py), animate.

Every number printed or written comes from ``xl_backprop.network`` / ``xl_backprop.analysis``.
Bad input never produces a traceback: one line naming the option and what was expected, and
exit status 2. Nothing is written over an existing file without ``--force``.
"""

from __future__ import annotations

import argparse
import io
import math
import re
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import TextIO

import numpy as np

from . import __version__
from .activations import DEFAULT as DEFAULT_ACTIVATION
from .activations import NAMES as ACTIVATION_NAMES
from .analysis import DEFAULT_THRESHOLD, SUMMARY_COLUMNS, LRSummary, check_finite, grad_check, lr_summary, summary_rows
from .examples import COLUMNS as EXAMPLE_COLUMNS
from .examples import MAX_EXAMPLES, PRESETS, preset
from .examples import read_csv as read_examples
from .figures import loss_figure, png_bytes
from .fileio import ChangedError, Written, atomic_write_all, locked
from .limits import CSV_MAX_VALUES, is_count, is_threshold, learning_rates_ok
from .limits import printable as printable  # every message the CLI prints: one line, escaped
from .macros import ACTIONS as RUN_ACTIONS  # the ribbon's actions: one list
from .network import (
    DEFAULT_BIASES,
    DEFAULT_INPUTS,
    DEFAULT_ITERATIONS,
    DEFAULT_LRS,
    DEFAULT_TARGETS,
    DEFAULT_WEIGHTS,
    UPDATE_ORDERS,
    WEIGHT_NAMES,
    train,
)
from .network_picture import PHASE_LIST
from .workbook.layout import BACKPROP_STEPS

PROG = "xl-backprop"
CSV_NAME = "loss_curves.csv"
PNG_NAME = "loss_curves.png"
MAX_VALUES = CSV_MAX_VALUES  # iterations x learning rates (limits.py states the rule)
COMMANDS = ("train", "gradcheck", "template", "run", "doctor", "lite", "map", "animate")
DEFAULT_TEMPLATE = "workbook_template.xlsm"
PROGRESS_DELAY = 0.5  # seconds a run must take before its progress bar appears
TABLE_MAX_ROWS = 50  # learning rates in the printed table; beyond this an even selection (the CSV has all)


EXAMPLES = (  # shown by --help; a test runs each one
    "train                                   # the course's sheet: 6 learning rates, 51 values",
    "train --lrs 0.1:5:50 --iterations 200   # 50 learning rates from 0.1 to 5",
    "train --biases 0.35 0.6 --lrs 0.5       # Mazur's example",
    "gradcheck --weights 1 -1 0.5 2 0.1 0.2 0.3 0.4",
    "run train-lrs workbook_template.xlsm --out trained.xlsm",
)


class UsageError(Exception):
    """A bad argument: printed as one line, exit status 2. ``prog`` names the subcommand."""

    def __init__(self, message: str, prog: str | None = None):
        super().__init__(message)
        self.prog = prog


class _Parser(argparse.ArgumentParser):
    """argparse, but errors are raised (one line, no usage dump) instead of exiting, and every
    token that starts like a negative number is a value, not an option: argparse alone
    takes ``-1e-3`` and ``-0.5:1:3`` for unknown options (we have no option of that form)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._negative_number_matcher = re.compile(r"^-\.?\d")

    def error(self, message: str):  # type: ignore[override]
        message = re.sub(r"^argument (\S+): ", r"\1: ", message)
        raise UsageError(f"{message} (see {self.prog} --help)", self.prog)


# ----------------------------------------------------------------------------- arguments


def _numbers(
    option: str,
    raw: Sequence[str] | None,
    count: int | None = None,
    positive: bool = False,
    ranges: bool = False,
    check_count: Callable[[int], None] | None = None,
) -> tuple[float, ...] | None:
    """Parse '0.1 0.2' or '0.1,0.2' (or a mix) into finite floats; None if the option was not
    given. With ``ranges``, a token START:STOP:COUNT stands for COUNT evenly spaced values
    from START to STOP, both included. ``positive``: learning rates (``limits``' rule).
    ``check_count(n)`` sees how many values there will be before any is built."""
    if raw is None:
        return None
    tokens = [t for chunk in raw for t in chunk.replace(",", " ").split()]
    what = f"{count} numbers" if count else ("positive numbers" if positive else "numbers")
    if not tokens:
        raise UsageError(f"{option}: expected {what}, got nothing")
    specs = [_spec(option, t, what, ranges) for t in tokens]
    if check_count is not None:
        check_count(sum(n for _, _, n in specs))
    values = np.concatenate([_token_values(option, t, spec, positive) for t, spec in zip(tokens, specs, strict=True)])
    if count is not None and values.size != count:
        raise UsageError(f"{option}: expected {count} numbers, got {values.size}")
    return tuple(values.tolist())


def _spec(option: str, token: str, what: str, ranges: bool) -> tuple[float, float, int]:
    """START, STOP and COUNT of one token of ``_numbers``: a range, or one number (COUNT 1)."""
    if ranges and ":" in token:
        return _range(option, token)
    try:
        return (float(token), float(token), 1)
    except ValueError:
        raise UsageError(f"{option}: expected {what}, got {token!r}") from None


def _token_values(option: str, token: str, spec: tuple[float, float, int], positive: bool) -> np.ndarray:
    """The values a token's spec stands for, each finite (and a learning rate where ``positive``)."""
    start, stop, n = spec
    values = np.array([start]) if n == 1 else np.linspace(start, stop, n)
    ok = learning_rates_ok(values) if positive else np.isfinite(values)
    bad = np.flatnonzero(~ok)
    if bad.size:
        v = values[bad[0]]
        shown = repr(token) if values.size == 1 else f"{float(v)!r} (from {token!r})"
        raise UsageError(f"{option}: expected {'finite' if not np.isfinite(v) else 'positive'} numbers, got {shown}")
    return values


def _range(option: str, token: str) -> tuple[float, float, int]:
    """START, STOP and COUNT of a START:STOP:COUNT token (nothing built yet)."""
    parts = token.split(":")
    try:
        start, stop, count = float(parts[0]), float(parts[1]), float(parts[2])
        if (
            len(parts) != 3
            or not math.isfinite(start)
            or not math.isfinite(stop)
            or not is_count(count)
            or count > MAX_VALUES
        ):
            raise ValueError
    except (ValueError, IndexError, OverflowError):
        raise UsageError(
            f"{option}: expected START:STOP:COUNT, finite numbers and a whole COUNT >= 1, got {token!r}"
        ) from None
    return start, stop, int(count)


def _whole(minimum: int) -> Callable[[str], int]:
    """argparse type: a whole number >= minimum ('1e3' and '51.0' are fine, '0.5' is not)."""

    def parse(text: str) -> int:
        try:
            v = float(text)
        except ValueError:
            v = math.nan
        if not is_count(v, minimum):
            raise argparse.ArgumentTypeError(f"expected a whole number >= {minimum}, got {text!r}")
        return int(v)

    return parse


def _integer(text: str) -> int:
    """argparse type: a whole number ('3' and '3.0' are fine, '3.5' is not); its range is the caller's."""
    try:
        v = float(text)
    except ValueError:
        v = math.nan
    if not (math.isfinite(v) and v == int(v)):
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}")
    return int(v)


def _positive(text: str) -> float:
    """argparse type: a finite number > 0."""
    try:
        v = float(text)
    except ValueError:
        v = math.nan
    if not (math.isfinite(v) and v > 0):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return v


def _threshold(text: str) -> float:
    """argparse type: a loss threshold (``limits.is_threshold``)."""
    try:
        v = float(text)
    except ValueError:
        v = math.nan
    if not is_threshold(v):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return v


def _add_network_options(p: argparse.ArgumentParser) -> None:
    def fmt(values: Sequence[float]) -> str:
        return " ".join(repr(v) for v in values)

    p.add_argument(
        "--weights", nargs="+", metavar="W", help=f"8 numbers w1..w8 (spaces or commas; default {fmt(DEFAULT_WEIGHTS)})"
    )
    p.add_argument("--inputs", nargs="+", metavar="I", help=f"i1 i2 (default {fmt(DEFAULT_INPUTS)})")
    p.add_argument("--targets", nargs="+", metavar="T", help=f"t1 t2 (default {fmt(DEFAULT_TARGETS)})")
    p.add_argument(
        "--biases", nargs="+", metavar="B", help=f"b1 (hidden) b2 (output) (default {fmt(DEFAULT_BIASES)}: no biases)"
    )


def _add_activation_options(p: argparse.ArgumentParser) -> None:
    for layer, units in (("hidden", "h1, h2"), ("output", "o1, o2")):
        p.add_argument(
            f"--{layer}-activation",
            choices=ACTIVATION_NAMES,
            default=DEFAULT_ACTIVATION,
            metavar="NAME",
            help=f"the activation of {units}: {', '.join(ACTIVATION_NAMES)} (default {DEFAULT_ACTIVATION})",
        )


def _add_data_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--data",
        metavar="SET",
        help=f"the examples to learn from: {', '.join(PRESETS)}, or a CSV file with the header "
        f"{','.join(EXAMPLE_COLUMNS)} and 1 to {MAX_EXAMPLES:,} lines; E_total and the gradients are means over "
        "them (default: one example, --inputs and --targets)",
    )


def _with_data(args: argparse.Namespace, net: dict) -> dict:
    """``net`` with the examples of --data as its inputs (N, 2) and targets (N, 2), if given."""
    if getattr(args, "data", None) is None:
        return net
    if args.inputs is not None or args.targets is not None:
        raise UsageError("--data: expected either --data or --inputs/--targets, got both")
    if args.data in PRESETS:
        X = preset(args.data)
    else:
        path = Path(args.data)
        if not path.is_file():
            raise UsageError(f"--data: expected {', '.join(PRESETS)} or a CSV file, {args.data} is neither")
        try:
            X = read_examples(path)
        except ValueError as exc:
            raise UsageError(f"--data: {exc}") from None
    return {**net, "inputs": X[:, :2], "targets": X[:, 2:]}


def _shown_examples(net: dict) -> str:
    """The examples as the train command's first line names them."""
    inputs = np.asarray(net["inputs"])
    if inputs.ndim == 1:
        return f"inputs {net['inputs']}, targets {net['targets']}"
    return f"{inputs.shape[0]:,} examples"


def _activations(args: argparse.Namespace) -> dict:
    """``network``'s activation keyword arguments, from the options."""
    return {"hidden_activation": args.hidden_activation, "output_activation": args.output_activation}


def _network_name(acts: dict) -> str:
    """How a title names the network: the course's "2-2-2 sigmoid network", or its activations."""
    h, o = acts["hidden_activation"], acts["output_activation"]
    return f"2-2-2 {h} network" if h == o else f"2-2-2 network, {h} hidden, {o} output"


def _network(args: argparse.Namespace) -> dict:
    return {
        "weights": _numbers("--weights", args.weights, 8) or DEFAULT_WEIGHTS,
        "inputs": _numbers("--inputs", args.inputs, 2) or DEFAULT_INPUTS,
        "targets": _numbers("--targets", args.targets, 2) or DEFAULT_TARGETS,
        "biases": _numbers("--biases", args.biases, 2) or DEFAULT_BIASES,
    }


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``xl-backprop`` and its subcommands."""
    top = _Parser(
        prog=PROG,
        description="See backpropagation happen: train the course's 2-2-2 "
        "network for several learning rates, check gradients, build and run the workbook.",
        epilog="examples:\n" + "\n".join(f"  {PROG} {e}" for e in EXAMPLES),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    top.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = top.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    _add_train_parser(sub)
    _add_gradcheck_parser(sub)
    _add_template_parser(sub)
    _add_run_parser(sub)
    _add_doctor_parser(sub)
    _add_lite_parser(sub)
    from .cli_map import add_map_parser  # the learning-rate map, in its own module

    add_map_parser(sub)
    _add_animate_parser(sub)
    return top


def _add_train_parser(sub) -> None:
    t = sub.add_parser(
        "train",
        help="train for several learning rates; table, CSV and PNG of the loss",
        description="Train the network once per learning rate (the compiled training loop, the "
        f"learning rates spread over the cores), print a summary table and write {CSV_NAME} and {PNG_NAME}.",
    )
    t.add_argument(
        "--lrs",
        nargs="+",
        metavar="LR",
        help="learning rates (numbers > 0), or START:STOP:COUNT for COUNT evenly spaced ones; "
        f"at most {MAX_VALUES:,} loss values, --iterations x learning rates "
        f"(default {' '.join(map(str, DEFAULT_LRS))})",
    )
    t.add_argument(
        "--iterations",
        type=_whole(1),
        default=DEFAULT_ITERATIONS,
        metavar="N",
        help=f"loss values per curve, the first before any update (default {DEFAULT_ITERATIONS})",
    )
    _add_network_options(t)
    _add_data_option(t)
    _add_activation_options(t)
    t.add_argument("--train-biases", action="store_true", help="update b1 and b2 too (default: fixed)")
    t.add_argument(
        "--update",
        choices=UPDATE_ORDERS,
        default="simultaneous",
        help="simultaneous: every gradient from one forward pass (default); sequential: "
        "w5..w8 first, hidden gradients with the new w5..w8",
    )
    t.add_argument(
        "--threshold",
        type=_threshold,
        default=DEFAULT_THRESHOLD,
        metavar="E",
        help=f"report the first step with E_total below this (default {DEFAULT_THRESHOLD})",
    )
    t.add_argument(
        "--out-dir",
        type=Path,
        default=Path("."),
        metavar="DIR",
        help="folder for the CSV and PNG (created if missing; default: current folder)",
    )
    t.add_argument(
        "--force",
        action="store_true",
        help="overwrite existing output files (the CSV and the PNG are written as a pair: both or neither)",
    )
    t.add_argument("--no-plot", action="store_true", help=f"do not write {PNG_NAME}")
    t.add_argument("--quiet", action="store_true", help="no table, no progress bar")
    t.set_defaults(handler=cmd_train)


def _add_gradcheck_parser(sub) -> None:
    g = sub.add_parser(
        "gradcheck",
        help="analytic gradients next to central differences",
        description="Print dE/dw1..dE/dw8 from backpropagation next to the central "
        "difference (E(w+eps) - E(w-eps)) / (2 eps) and their relative error.",
    )
    _add_network_options(g)
    _add_data_option(g)
    _add_activation_options(g)
    g.add_argument("--eps", type=_positive, default=1e-6, metavar="EPS", help="difference step (default 1e-06)")
    g.set_defaults(handler=cmd_gradcheck)


def _add_template_parser(sub) -> None:
    m = sub.add_parser(
        "template",
        help="build the macro-enabled workbook template",
        description="Build the workbook template (.xlsm) from its text sources.",
    )
    m.add_argument(
        "--out",
        type=Path,
        default=Path(DEFAULT_TEMPLATE),
        metavar="PATH",
        help=f"where to write it (default {DEFAULT_TEMPLATE})",
    )
    m.add_argument("--force", action="store_true", help="overwrite an existing file")
    m.set_defaults(handler=cmd_template)


def _add_run_parser(sub) -> None:
    r = sub.add_parser(
        "run",
        help="run a ribbon action on a workbook file, without Excel",
        description="Run one of the workbook's ribbon actions headless on a copy of "
        "BOOK (--out) or on BOOK itself (--in-place), with the inputs the book holds.",
    )
    r.add_argument(
        "action",
        choices=RUN_ACTIONS,
        metavar="ACTION",
        help="train-lrs: train every learning rate of the book, write the loss table, summary "
        "and chart; draw-network: a picture of the network at one training step; map-lrs: the "
        "learning-rate map of the book's map ranges, as a picture; reset: the "
        "course's inputs back, results removed",
    )
    r.add_argument("book", type=Path, metavar="BOOK", help="the workbook to read")
    r.add_argument("--out", type=Path, metavar="PATH", help="write the result here (BOOK is left untouched)")
    r.add_argument(
        "--in-place",
        action="store_true",
        help="write the result back into BOOK (through a symbolic link, into the file it points to; "
        "other hard links of BOOK keep the old content). A second run on the same BOOK waits for "
        "the first to finish, then reads what it wrote; if another program changes BOOK while "
        "the run works, nothing is written (exit status 2)",
    )
    r.add_argument("--force", action="store_true", help="overwrite an existing --out file")
    r.add_argument(
        "--iteration",
        type=_whole(0),
        metavar="N",
        help="draw-network: the training step to draw, 0 to "
        f"{BACKPROP_STEPS - 1} (default: the book's show step); it is written into the "
        "show step cell too, so the sheet's diagram shows the same step",
    )
    r.add_argument(
        "--phase",
        type=_integer,
        metavar="N",
        help=f"draw-network: the phase of the step to draw ({PHASE_LIST}); later values are left "
        "out, the update shows old -> new weights (default: the book's WalkPhase if it has one, "
        "else the whole step)",
    )
    r.set_defaults(handler=cmd_run)


def _add_doctor_parser(sub) -> None:
    d = sub.add_parser(
        "doctor",
        help="check what the workbook needs: Python, xlwings version, functions",
        description="Check, line by line, what Excel needs to run the workbook's functions and "
        "buttons with this Python: the interpreter to name in the xlwings.conf sheet, that the "
        "installed xlwings is the version BOOK carries, that xl_backprop.udfs imports. Each line "
        "is PASS or FIX with what to do; exit status 0 when all pass, 1 otherwise.",
    )
    d.add_argument(
        "book",
        type=Path,
        nargs="?",
        metavar="BOOK",
        help=f"the workbook to check (default {DEFAULT_TEMPLATE} in the current folder, if there)",
    )
    d.set_defaults(handler=cmd_doctor)


def _add_lite_parser(sub) -> None:
    lt = sub.add_parser(
        "lite",
        help="main.py and requirements.txt for xlwings Lite (Excel on Mac and on the web)",
        description="Write main.py (the functions and the buttons, with the xl-backprop modules "
        "they need inside, generated from this installation) and requirements.txt, to paste "
        "into the xlwings Lite add-in's editor.",
    )
    lt.add_argument(
        "--out",
        type=Path,
        default=Path("."),
        metavar="DIR",
        help="folder for main.py and requirements.txt (created if missing; default: current folder)",
    )
    lt.add_argument("--force", action="store_true", help="overwrite existing files")
    lt.set_defaults(handler=cmd_lite)


# ----------------------------------------------------------------------------- progress


class Progress:
    """A one-line progress bar on ``stream``, drawn only if ``stream`` is a terminal and the
    run has already taken ``delay`` seconds: short runs print nothing. Called with the
    fraction of the work done (0 to 1), as ``train(progress=...)`` does, from any thread."""

    def __init__(
        self,
        stream: TextIO,
        delay: float = 0.5,
        width: int = 30,
        clock: Callable[[], float] = time.monotonic,
        label: str = "training",
    ):
        self.stream, self.delay, self.width, self.clock, self.label = stream, delay, width, clock, label
        self.start = clock()
        self.enabled = bool(getattr(stream, "isatty", lambda: False)())
        self.shown = False
        self._last = -1
        self._lock = threading.Lock()

    def __call__(self, fraction: float) -> None:
        if not self.enabled or (not self.shown and self.clock() - self.start < self.delay):
            return
        percent = int(100 * min(max(float(fraction), 0.0), 1.0))
        with self._lock:
            if percent <= self._last:
                return  # redraw only when the figure moves
            self._last = percent
            self.shown = True
            filled = percent * self.width // 100
            self.stream.write(f"\r{self.label} [{'#' * filled}{'-' * (self.width - filled)}] {percent:3d}%")
            self.stream.flush()

    def close(self) -> None:
        if self.shown:
            self.stream.write("\n")
            self.stream.flush()


# ----------------------------------------------------------------------------- writing


def _refuse_existing(paths: Sequence[Path], option: str, force: bool) -> None:
    for path in paths:
        if path.is_dir():
            raise UsageError(f"{option}: {path} is a folder, expected a file path")
        if path.exists() and not force:
            raise UsageError(f"{option}: {path} already exists; use --force to overwrite it")


def write_csv(path: Path, lrs: Sequence[float], curves, progress: Callable[[float], None] | None = None) -> None:
    """Header ``step,lr=...``; one row per step; floats in repr precision (they round-trip)."""
    n = len(curves)
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(",".join(["step"] + [f"lr={float(lr)!r}" for lr in lrs]) + "\n")
        for t in range(n):
            f.write(f"{t},{','.join(map(repr, curves[t].tolist()))}\n")
            if progress is not None:
                progress((t + 1) / n)


def write_png(path: Path, lrs: Sequence[float], curves, threshold: float, subtitle: str) -> None:
    """``figures.loss_figure`` as an 800 x 500 pixel PNG."""
    Path(path).write_bytes(png_bytes(loss_figure(lrs, curves, threshold, subtitle)))


def format_table(rows: Sequence[LRSummary], threshold: float) -> str:
    """The per-learning-rate summary as aligned text; beyond TABLE_MAX_ROWS learning rates, an
    even selection from the first to the last, and a line saying so."""
    shown = rows
    if len(rows) > TABLE_MAX_ROWS:
        shown = [rows[k] for k in np.unique(np.linspace(0, len(rows) - 1, TABLE_MAX_ROWS).round().astype(int))]
    head = [_TABLE_HEADERS[c.field].format(threshold=threshold) for c in SUMMARY_COLUMNS]
    body = [[_cell(c, v) for c, v in zip(SUMMARY_COLUMNS, row, strict=True)] for row in summary_rows(shown)]
    table = _columns([head, None, *body])
    if len(shown) < len(rows):
        table += f"\n({len(shown)} of {len(rows):,} learning rates shown; {CSV_NAME} has them all)"
    return table


# The CLI's words for analysis.SUMMARY_COLUMNS, and its number formats.
_TABLE_HEADERS = {
    "lr": "lr",
    "final_loss": "final E_total",
    "steps_to_threshold": "steps to E_total < {threshold:g}",
    "only_falls": "only falls",
    "first_rise": "first rise",
}
_TABLE_FORMATS = {"lr": "{:.12g}", "final_loss": "{:.10f}"}


def _cell(column, value) -> str:
    if isinstance(value, str):  # the column's word for "none": not reached, never
        return value
    if column.kind == "bool":
        return "yes" if value else "no"
    return _TABLE_FORMATS.get(column.field, "{}").format(value)


def _columns(lines: Sequence[Sequence[str] | None]) -> str:
    """Rows of cells as left-aligned text columns; None: a rule of dashes."""
    widths = [max(len(x) for x in col) for col in zip(*(line for line in lines if line is not None), strict=True)]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(line or ["-" * w for w in widths], widths, strict=True)).rstrip()
        for line in lines
    )


# ----------------------------------------------------------------------------- commands


def cmd_train(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    def check_count(n_lrs: int) -> None:  # before anything is built: 10 million lrs x N would not fit
        if args.iterations * n_lrs > MAX_VALUES:
            raise UsageError(
                f"--iterations x number of --lrs: expected at most {MAX_VALUES:,} loss values, "
                f"got {args.iterations * n_lrs:,}"
            )

    lrs = _numbers("--lrs", args.lrs, positive=True, ranges=True, check_count=check_count) or DEFAULT_LRS
    check_count(len(lrs))
    net = _with_data(args, _network(args))
    acts = _activations(args)
    out_dir: Path = args.out_dir
    if out_dir.exists() and not out_dir.is_dir():
        raise UsageError(f"--out-dir: {out_dir} is a file, expected a folder")
    targets = [out_dir / CSV_NAME] + ([] if args.no_plot else [out_dir / PNG_NAME])
    _refuse_existing(targets, "--out-dir", args.force)  # all of them before writing any

    bar_stream = io.StringIO() if args.quiet else err  # not a terminal: no bar
    bar = Progress(bar_stream, delay=PROGRESS_DELAY)
    try:
        options = dict(train_biases=args.train_biases, update=args.update, progress=bar, **acts)
        result = train(lrs, args.iterations, **options, **net)
    finally:
        bar.close()
    curves = result.loss
    check_finite(
        curves,
        lambda at: f"E_total at step {at[0]} for lr {lrs[at[1]]:.12g}",
        lambda at: "try smaller --lrs" if at[0] else "try smaller --targets, --inputs or --weights",
    )
    summary = lr_summary(lrs, curves, args.threshold)

    setting = (
        f"update {args.update}, biases {'trained' if args.train_biases else 'fixed'} "
        f"(b1, b2 = {net['biases'][0]:g}, {net['biases'][1]:g})"
    )
    if acts["hidden_activation"] != DEFAULT_ACTIVATION or acts["output_activation"] != DEFAULT_ACTIVATION:
        setting += f", activations {acts['hidden_activation']} (hidden), {acts['output_activation']} (output)"
    if not args.quiet:
        print(f"Network 2-2-2, {_shown_examples(net)}, {setting}", file=out)
        print(f"E_total before training: {float(curves[0, 0])!r}", file=out)
        print(f"{args.iterations} loss values per learning rate ({args.iterations - 1} updates)", file=out)
        print(file=out)
        print(format_table(summary, args.threshold), file=out)
        print(file=out)

    out_dir.mkdir(parents=True, exist_ok=True)
    bar = Progress(bar_stream, delay=PROGRESS_DELAY, label=f"writing {CSV_NAME}")

    def csv(path: Path) -> None:
        try:
            write_csv(path, lrs, curves, bar)
        finally:
            bar.close()

    files = [(targets[0], csv)]
    if not args.no_plot:
        subtitle = f"{_network_name(acts)}, {setting.split(', activations')[0]}"
        files.append((targets[1], lambda p: write_png(p, lrs, curves, args.threshold, subtitle)))
    written = _write_files(files, "--out-dir", args.force)  # the CSV and the PNG land together or not at all
    if not args.quiet:
        for path, w in zip(targets, written, strict=True):
            print(printable(f"wrote {path}{detached(w.detached_links)}"), file=out)
    return 0


def _write_files(files: Sequence[tuple[Path, Callable[[Path], None]]], option: str, force: bool) -> list[Written]:
    """``atomic_write_all``; without ``force``, a file that appeared meanwhile (another run's) is
    refused as one that was there from the start."""
    with _not_over_existing(option, force):
        return atomic_write_all(files, overwrite=force)


@contextmanager
def _not_over_existing(option: str, force: bool) -> Iterator[None]:
    """A ``FileExistsError`` from a write without ``force`` (a file made meanwhile, by another
    run) as the same one-line refusal as a file that was there from the start."""
    try:
        yield
    except FileExistsError as exc:
        if force:
            raise
        raise UsageError(f"{option}: {exc.filename} already exists; use --force to overwrite it") from None


def detached(links: int, of: str = "it") -> str:
    """What the CLI adds to "wrote PATH" when the write gave PATH a new file while ``links``
    other hard links of the old one keep its content (``fileio.Written.detached_links``)."""
    if not links:
        return ""
    others = "1 other hard link" if links == 1 else f"{links} other hard links"
    return f" (as a new file: {others} to {of} {'keeps' if links == 1 else 'keep'} the old content)"


def cmd_gradcheck(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    net = _with_data(args, _network(args))
    gc = grad_check(net["weights"], net["inputs"], net["targets"], net["biases"], eps=args.eps, **_activations(args))
    check_finite(
        np.stack([gc.analytic, gc.numeric]),
        lambda at: f"the {('analytic', 'central difference')[at[0]]} dE/d{WEIGHT_NAMES[at[1]]}",
        "try smaller --targets, --inputs or --weights",
    )
    head = ["weight", "value", "analytic dE/dw", f"central difference (eps={args.eps:g})", "relative error"]
    body = [
        [name, repr(w), repr(float(a)), repr(float(n)), f"{float(r):.3e}"]
        for name, w, a, n, r in zip(WEIGHT_NAMES, net["weights"], gc.analytic, gc.numeric, gc.rel_error, strict=True)
    ]
    print(_columns([head, None, *body]), file=out)
    print(f"\nlargest relative error: {float(gc.rel_error.max()):.3e}", file=out)
    return 0


def cmd_template(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from .workbook.build import build_template, check_out  # a missing package (an incomplete install): main() names it

    try:
        check_out(args.out)  # build's one rule for where the template goes
    except ValueError as exc:
        raise UsageError(f"--{exc}") from None
    _refuse_existing([args.out], "--out", args.force)
    with _not_over_existing("--out", args.force):  # a file made meanwhile, by another run
        path = build_template(args.out, overwrite=args.force)
    print(printable(f"wrote {path}"), file=out)
    return 0


def cmd_run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    book: Path = args.book
    target, same = _run_target(args, book)
    from .macros import InputError, run_on_file

    def waiting() -> None:
        print(printable(f"{PROG} run: {book} is being changed by another run; waiting for it to finish"), file=err)

    try:
        # --in-place: BOOK locked from reading it to replacing it (a second run waits), and left
        # alone if another program changed it meanwhile
        with locked(book, on_wait=waiting) if args.in_place else nullcontext() as held:
            run_on_file(
                args.action,
                book,
                target,
                iteration=args.iteration,
                phase=args.phase,
                overwrite=args.force or same,
                expect=held,
            )
    except InputError as exc:  # the macros name their own fields; here they are options
        raise UsageError(f"{_RUN_OPTIONS.get(exc.field, exc.field)}: {exc.detail}") from None
    except ChangedError as exc:
        raise UsageError(f"BOOK: {exc}") from None
    except FileExistsError:  # made meanwhile, by another run
        if args.force or same:
            raise
        raise UsageError(f"--out: {target} already exists; use --force to overwrite it") from None
    print(printable(_wrote(target, held)), file=out)
    return 0


def _only_for_draw_network(args: argparse.Namespace) -> None:
    """UsageError for draw-network's own options given to another action."""
    for option, value in (("--iteration", args.iteration), ("--phase", args.phase)):
        if value is not None and args.action != "draw-network":
            raise UsageError(f"{option}: only for draw-network, not for {args.action}")


def _run_target(args: argparse.Namespace, book: Path) -> tuple[Path, bool]:
    """The file ``run`` writes, and whether it is BOOK itself; UsageError for a combination of
    BOOK, --out, --in-place, --force and --iteration that does not hold together."""
    if not book.is_file():
        raise UsageError(f"BOOK: {book} is not an existing file")
    _only_for_draw_network(args)
    if args.out is None and not args.in_place:
        raise UsageError("--out: expected a path for the result, or --in-place to change BOOK itself")
    target = book if args.out is None else args.out
    same = target.exists() and target.resolve() == book.resolve()
    if args.in_place and args.out is not None and not same:
        raise UsageError("--in-place: writes into BOOK; do not also give a different --out")
    if same and not args.in_place:
        raise UsageError(f"--out: {target} is BOOK itself; use --in-place to change BOOK")
    if not args.in_place:
        if not target.parent.is_dir():
            raise UsageError(f"--out: expected a path in an existing folder, {target.parent} is not one")
        _refuse_existing([target], "--out", args.force)
    return target, same


def _wrote(target: Path, held) -> str:
    """``run``'s closing line: the path given (also when it is a link to the book written), and
    how many other hard links to BOOK kept the old content when --in-place replaced it."""
    others = held.written.detached_links if held is not None and held.written is not None else 0
    return f"wrote {target}{detached(others, 'BOOK')}"


def cmd_doctor(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from .workbook.doctor import run_checks

    book: Path | None = args.book
    if book is None:
        book = Path(DEFAULT_TEMPLATE) if Path(DEFAULT_TEMPLATE).is_file() else None
    elif not book.is_file():
        raise UsageError(f"BOOK: {book} is not an existing file")
    checks = run_checks(book)
    for check in checks:
        print(printable(check.line()), file=out)
    return 0 if all(c.ok for c in checks) else 1


#: Import name -> the name pip installs it by, where they differ.
PIP_NAMES = {"pyopenvba": "pyOpenVBA", "xlsxwriter": "XlsxWriter", "PIL": "pillow"}


def cmd_lite(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from . import lite_bundle

    if args.out.exists() and not args.out.is_dir():
        raise UsageError(f"--out: {args.out} is a file, expected a folder")
    paths = [args.out / name for name in lite_bundle.FILES]
    _refuse_existing(paths, "--out", args.force)
    try:
        with _not_over_existing("--out", args.force):
            written = lite_bundle.write(args.out, overwrite=args.force)  # both files or neither
    except RuntimeError as exc:  # before anything is written
        print(printable(f"{PROG} lite: error: {exc}"), file=err)
        return 1
    for path, w in zip(paths, written, strict=True):
        print(printable(f"wrote {path}{detached(w.detached_links)}"), file=out)
    return 0


#: ``macros.InputError`` fields -> the ``run`` options that set them.
_RUN_OPTIONS = {"action": "ACTION", "output file": "--out", "step to draw": "--iteration", "phase to draw": "--phase"}
#: What to change when memory runs out, per command.
_LESS_MEMORY = {
    "train": "use fewer --iterations or --lrs",
    "map": "use fewer pairs (--lr-hidden, --lr-output)",
    "run": "the workbook, or the book's iterations x learning rates, is too large",
}


# ----------------------------------------------------------------------------- entry point


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``xl-backprop`` with ``argv`` (default: sys.argv[1:]); returns the exit status."""
    out, err = sys.stdout, sys.stderr
    parser = build_parser()
    prog = PROG
    command = None
    try:
        try:
            args, extra = parser.parse_known_args(argv)
        except SystemExit as exc:  # --help and --version
            return int(exc.code or 0)
        if args.command is None:
            raise UsageError(f"expected a command: {', '.join(COMMANDS)} (see {PROG} --help)")
        command = args.command
        prog = f"{PROG} {command}"
        if extra:  # argparse would blame the top-level command; the subcommand's help is the useful one
            raise UsageError(f"unrecognized arguments: {' '.join(extra)} (see {prog} --help)")
        with np.errstate(all="ignore"):  # overflow is reported as an error, not as numpy warnings
            return args.handler(args, out, err)
    except KeyboardInterrupt:
        print(f"\n{prog}: interrupted", file=err)
        return 130
    except Exception as exc:
        return _report(exc, prog, command, err)


def _report(exc: Exception, prog: str, command: str | None, err: TextIO) -> int:
    """``exc`` as one line on ``err``; the exit status: 2 for bad input, 1 for the rest."""
    if isinstance(exc, UsageError):
        print(printable(f"{exc.prog or prog}: error: {exc}"), file=err)
        return 2
    if isinstance(exc, ValueError):  # from the engine or a callee: same one-line form
        print(printable(f"{prog}: error: {exc}"), file=err)
        return 2
    if isinstance(exc, OSError):
        where = f": {exc.filename}" if exc.filename else ""
        print(printable(f"{prog}: error: {exc.strerror or exc}{where}"), file=err)
        return 1
    if isinstance(exc, MemoryError):
        hint = _LESS_MEMORY.get(command)
        print(f"{prog}: error: not enough memory" + (f"; {hint}" if hint else ""), file=err)
        return 1
    if isinstance(exc, ModuleNotFoundError):  # an incomplete install, not a bug: name the package
        package = PIP_NAMES.get((exc.name or "").split(".")[0], (exc.name or "").split(".")[0] or str(exc))
        print(
            printable(
                f"{prog}: error: the package {package} is not installed; install it with: "
                f"{sys.executable} -m pip install {package}"
            ),
            file=err,
        )
        return 1
    # a bug, not bad input: still one line, but say what broke
    print(printable(f"{prog}: internal error: {type(exc).__name__}: {exc} (please report this)"), file=err)
    return 1


# ----------------------------------------------------------------------------- animate

ANIMATE_DEFAULT_STEPS = 5
ANIMATE_DEFAULT_FPS = 4.0
ANIMATE_MAX_FPS = 50.0  # a GIF frame lasts at least 2 hundredths of a second in most viewers


def _add_animate_parser(sub) -> None:
    from .animation import PHASES
    from .explain import DEFAULT_LR
    from .limits import ANIMATION_MAX_FRAMES

    a = sub.add_parser(
        "animate",
        help="a GIF of training, phase by phase, every formula with its numbers",
        description=f"Draw {len(PHASES)} frames per training step ({', '.join(PHASES)}): values appear "
        "from the inputs to the outputs, the deltas flow back (edge colour = sign of the gradient, thickness = "
        "its size), the weights move, and the loss curve grows beneath; each frame shows its formulas "
        f"with the numbers plugged in. At most {ANIMATION_MAX_FRAMES:,} frames.",
    )
    a.add_argument(
        "--lr", type=_positive, default=DEFAULT_LR, metavar="LR", help=f"learning rate (default {DEFAULT_LR})"
    )
    a.add_argument(
        "--steps",
        type=_whole(1),
        default=ANIMATE_DEFAULT_STEPS,
        metavar="N",
        help=f"training steps to show (default {ANIMATE_DEFAULT_STEPS}; {len(PHASES)} frames each)",
    )
    _add_network_options(a)
    _add_data_option(a)
    _add_activation_options(a)
    a.add_argument(
        "--fps",
        type=_positive,
        default=ANIMATE_DEFAULT_FPS,
        metavar="F",
        help=f"frames per second, at most {ANIMATE_MAX_FPS:g} (default {ANIMATE_DEFAULT_FPS:g})",
    )
    a.add_argument("--out", type=Path, required=True, metavar="PATH", help="the GIF to write, e.g. backprop.gif")
    a.add_argument("--force", action="store_true", help="overwrite an existing file")
    a.add_argument("--quiet", action="store_true", help="no progress bar, no message")
    a.set_defaults(handler=cmd_animate)


def cmd_animate(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from . import animation
    from .limits import ANIMATION_MAX_FRAMES

    frames_wanted = animation.frame_count(args.steps)
    if frames_wanted > ANIMATION_MAX_FRAMES:
        most = ANIMATION_MAX_FRAMES // len(animation.PHASES)
        raise UsageError(
            f"--steps: expected at most {most:,} steps ({ANIMATION_MAX_FRAMES:,} frames of "
            f"{len(animation.PHASES)} phases), got {args.steps:,}"
        )
    if args.fps > ANIMATE_MAX_FPS:
        raise UsageError(f"--fps: expected at most {ANIMATE_MAX_FPS:g} frames a second, got {args.fps:g}")
    if args.out.suffix.lower() != ".gif":
        raise UsageError(f"--out: expected a .gif path, got {args.out}")
    if not args.out.parent.is_dir():
        raise UsageError(f"--out: expected an existing folder, {args.out.parent} is not one")
    _refuse_existing([args.out], "--out", args.force)
    net = _with_data(args, _network(args))
    frames = animation.build_frames(args.steps, lr=args.lr, **net, **_activations(args))
    bar = Progress(io.StringIO() if args.quiet else err, delay=PROGRESS_DELAY, label="drawing frames")
    try:
        (written,) = _write_files(
            [(args.out, lambda tmp: animation.write_gif(tmp, frames, args.steps, args.fps, bar))], "--out", args.force
        )
    finally:
        bar.close()
    if not args.quiet:
        shown = f"wrote {args.out} ({len(frames)} frames, {args.fps:g} a second){detached(written.detached_links)}"
        print(printable(shown), file=out)
    return 0
