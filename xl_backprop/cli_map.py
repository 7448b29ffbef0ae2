"""``xl-backprop map``: the learning-rate map, a network per pair (lr_hidden, lr_output).

Registered by cli.py (``add_map_parser``); the work is lrmap.py's, the picture map_figure.py's.
"""

from __future__ import annotations

import argparse
import io
import textwrap
from pathlib import Path
from typing import TextIO

import numpy as np

from . import lrmap
from .cli import (
    Progress,
    UsageError,
    _activations,
    _add_activation_options,
    _add_data_option,
    _add_network_options,
    _network,
    _network_name,
    _refuse_existing,
    _shown_examples,
    _threshold,
    _whole,
    _with_data,
    _write_files,
    detached,
    printable,
)
from .limits import MAP_MAX_PAIRS, MAP_MAX_STEPS, is_learning_rate

DEFAULT_RANGE = "0.01:100000:160"
DEFAULT_STEPS = 1000
DEFAULT_THRESHOLD = lrmap.MAP_THRESHOLD
DEFAULT_PNG = "lr_map.png"
PROGRESS_DELAY = 0.5

EXAMPLES = (
    "map                                          # 160 x 160 pairs, 0.01 to 100,000 each",
    "map --lr-hidden 1:100:200 --lr-output 1000:1e5:200 --csv map.csv   # a zoom",
    "map --data half-adder --hidden-activation tanh --steps 2000   # the half-adder's 4 examples, tanh hidden",
    "map --scheduler tcp://10.0.0.5:8786 --lr-hidden 0.01:1e5:2048 --lr-output 0.01:1e5:2048",
)


def _wrap(text: str) -> str:
    return textwrap.fill(text, width=88)


def add_map_parser(sub) -> None:
    """The ``map`` subcommand, added to cli.py's subparsers."""
    p = sub.add_parser(
        "map",
        help="a network per pair of layer learning rates; a picture and CSV of how each ended",
        description=_wrap(
            "Train one network per pair (lr_hidden for w1..w4, lr_output for w5..w8) "
            "and classify how each ended: converged (E_total below --threshold), still falling, "
            "stalled, or diverged (|h1|+|h2|+|o1|+|o2| past "
            f"{lrmap.SATURATION_BOUND:g} on some example, or not a number: sigmoid or tanh saturated, relu or "
            "linear blown up; that network stops there). E_total and each step's gradient are means over "
            "the examples (--data). Writes a picture (--out) and, "
            f"with --csv, one row per pair: {','.join(lrmap.CSV_COLUMNS)}. At most "
            f"{MAP_MAX_PAIRS:,} pairs and {MAP_MAX_STEPS:,} network steps (pairs x --steps) a run."
        ),
        epilog="examples:\n" + "\n".join(f"  xl-backprop {e}" for e in EXAMPLES),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    for option, layer in (("--lr-hidden", "the hidden layer (w1..w4)"), ("--lr-output", "the output layer (w5..w8)")):
        p.add_argument(
            option,
            default=DEFAULT_RANGE,
            metavar="A:B:N",
            help=f"learning rates of {layer}: N from A to B, log-spaced (see --linear), or one "
            f"number (default {DEFAULT_RANGE})",
        )
    p.add_argument("--linear", action="store_true", help="space the rates evenly, not on a log scale")
    p.add_argument(
        "--steps",
        type=_whole(1),
        default=DEFAULT_STEPS,
        metavar="S",
        help=f"steps per network (default {DEFAULT_STEPS})",
    )
    _add_network_options(p)
    _add_data_option(p)
    _add_activation_options(p)
    p.add_argument(
        "--threshold",
        type=_threshold,
        default=DEFAULT_THRESHOLD,
        metavar="E",
        help=f"converged: the last E_total below this (default {DEFAULT_THRESHOLD:g})",
    )
    p.add_argument(
        "--out", type=Path, default=Path(DEFAULT_PNG), metavar="PNG", help=f"the picture (default {DEFAULT_PNG})"
    )
    p.add_argument("--csv", type=Path, metavar="CSV", help="also write one row per pair here")
    p.add_argument("--force", action="store_true", help="overwrite existing output files")
    p.add_argument("--quiet", action="store_true", help="no summary, no progress bar")
    p.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="a Dask scheduler (tcp://host:8786) whose workers train the tiles; needs "
        "pip install 'xl-backprop[cluster]' here and on the workers (default: this machine's cores)",
    )
    p.add_argument("--threads", type=_whole(1), metavar="T", help="local cores to use (default: all)")
    p.add_argument(
        "--tile",
        type=_whole(1),
        default=lrmap.DEFAULT_TILE,
        metavar="K",
        help=f"networks trained side by side (default {lrmap.DEFAULT_TILE}); the numbers do not depend on it",
    )
    p.set_defaults(handler=cmd_map)


def parse_range(option: str, text: str, log: bool) -> np.ndarray:
    """A:B:N (or one number) into learning rates; UsageError naming ``option`` otherwise."""
    parts = text.split(":")
    try:
        if len(parts) not in (1, 3):
            raise ValueError
        values = [float(v) for v in parts]
    except ValueError:
        raise UsageError(
            f"{option}: expected A:B:N (numbers, A < B, a whole N >= 1) or one number, got {text!r}"
        ) from None
    start, stop, count = values if len(values) == 3 else (values[0], values[0], 1.0)
    if len(values) == 3 and is_learning_rate(start) and is_learning_rate(stop) and not start < stop:
        raise UsageError(f"{option}: expected A < B in A:B:N, got {text!r}")
    try:
        return lrmap.rates(start, stop, count, log=log)
    except ValueError as exc:
        raise UsageError(f"{option}: {exc} (in {text!r})") from None


def _count(option: str, text: str) -> int:
    """N of an A:B:N token, before any array is built (0 if it is not one: parse_range says why)."""
    parts = text.split(":")
    try:
        n = float(parts[2]) if len(parts) == 3 else 1.0
        return int(n) if n.is_integer() and n >= 1 else 0
    except (ValueError, OverflowError):
        return 0


def cmd_map(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    _check_size(args)
    log = not args.linear
    lr_h = parse_range("--lr-hidden", args.lr_hidden, log)
    lr_o = parse_range("--lr-output", args.lr_output, log)
    net = _with_data(args, _network(args))
    acts = _activations(args)
    targets = _check_outputs(args)

    bar_stream = io.StringIO() if args.quiet else err
    bar = Progress(bar_stream, delay=PROGRESS_DELAY, label="mapping")
    try:
        m = _lr_map(args, lr_h, lr_o, {**net, **acts}, bar)
    finally:
        bar.close()

    from .figures import png_bytes
    from .map_figure import map_figure

    setting = (
        f"{_network_name(acts)}, {_shown_examples(net)}, biases {net['biases']}, {'log' if log else 'linear'} spacing"
    )
    png = png_bytes(map_figure(m, setting, log=log))
    # the CSV is written inside the writer, under its own progress bar; both land together or not at all
    bar = Progress(bar_stream, delay=PROGRESS_DELAY, label=f"writing {args.csv.name}" if args.csv else "writing")
    files = [(args.out, lambda p: Path(p).write_bytes(png))]
    if args.csv is not None:
        files.append((args.csv, lambda p: lrmap.write_csv(p, m, bar)))
    try:
        written = _write_files(files, "--out" if args.csv is None else "--out/--csv", args.force)
    finally:
        bar.close()
    if not args.quiet:
        _print_counts(out, m, f"{lr_h.size} x {lr_o.size} networks, {args.steps} steps each; {setting}")
        for path, w in zip(targets, written, strict=True):
            print(printable(f"wrote {path}{detached(w.detached_links)}"), file=out)
    return 0


def _check_size(args: argparse.Namespace) -> None:
    """The map's pairs and network steps within ``limits``, from the tokens' counts alone."""
    n_h, n_o = _count("--lr-hidden", args.lr_hidden), _count("--lr-output", args.lr_output)
    if n_h * n_o > MAP_MAX_PAIRS:  # before anything is built
        raise UsageError(f"--lr-hidden x --lr-output: expected at most {MAP_MAX_PAIRS:,} pairs, got {n_h * n_o:,}")
    if n_h * n_o * args.steps > MAP_MAX_STEPS:
        raise UsageError(
            f"--steps x pairs: expected at most {MAP_MAX_STEPS:,} network steps, got {n_h * n_o * args.steps:,}"
        )


def _check_outputs(args: argparse.Namespace) -> list[Path]:
    """The files to write (--out, and --csv if given), each new (or --force) in an existing folder."""
    targets = [args.out] + ([args.csv] if args.csv is not None else [])
    for option, path in zip(("--out", "--csv"), targets, strict=False):
        _refuse_existing([path], option, args.force)
        if not path.parent.is_dir():
            raise UsageError(f"{option}: expected an existing folder, {path.parent} is not one")
    if args.csv is not None and args.csv.resolve() == args.out.resolve():
        raise UsageError("--csv: the same file as --out")
    return targets


def _lr_map(args: argparse.Namespace, lr_h, lr_o, net: dict, bar: Progress) -> lrmap.LRMap:
    """``lrmap.lr_map`` with the options; a cluster that cannot be reached or used is a UsageError."""
    try:
        return lrmap.lr_map(
            lr_h,
            lr_o,
            args.steps,
            threshold=args.threshold,
            tile=args.tile,
            threads=args.threads,
            scheduler=args.scheduler,
            progress=bar,
            **net,
        )
    except ConnectionError as exc:
        raise UsageError(f"--scheduler: {exc}") from None
    except ModuleNotFoundError as exc:
        if args.scheduler is not None and (exc.name or "").split(".")[0] in ("distributed", "dask"):
            raise UsageError(
                "--scheduler: needs the package distributed; install it with: pip install 'xl-backprop[cluster]'"
            ) from None
        raise


def _print_counts(out: TextIO, m: lrmap.LRMap, heading: str) -> None:
    """The heading, then how many networks fell in each class of the map."""
    counts = np.bincount(m.cls.ravel(), minlength=len(lrmap.CLASSES))
    print(heading, file=out)
    for name, n in zip(lrmap.CLASSES, counts, strict=True):
        print(f"  {lrmap.CLASS_LABELS[name]:<34} {int(n):>10,}", file=out)
