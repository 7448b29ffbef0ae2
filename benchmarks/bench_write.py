"""How fast does ``xl-backprop run train-lrs`` write a long result? Figures and ratios, not a
test (``make bench``).

The train action on a copy of the template, its iteration count set to 200,000 (through
``xl_backprop.ooxml``, as a user would type it), 6 learning rates: a loss table of
200,001 x 7 cells. Reference, in the same process: XlsxWriter's ``constant_memory`` mode
writing the same table (header, step column, 6 curves) into a new workbook.
Targets (issue 7): the action in at most 0.5x XlsxWriter's time, peak memory at most 500 MB.
The action's time includes training, which is the engine's; the phases are printed too.
Peak memory (ru_maxrss) is measured in a fresh child process for each.

    python benchmarks/bench_write.py [--rows N] [--largest]

``--largest`` also runs the largest result the template allows: 1,048,567 steps x 10
learning rates (slow: minutes on a busy machine).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from xl_backprop import cli, macros, network
from xl_backprop.fileio import atomic_write
from xl_backprop.ooxml import Workbook, package
from xl_backprop.workbook import layout as L

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "workbook_template.xlsm"
LARGEST_LRS = [0.05, 0.1, 0.2, 0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 3.0]


def make_book(folder: Path, rows: int, lrs: list[float] | None = None) -> Path:
    """A copy of the template with ``rows`` in its iterations cell (and ``lrs``, if given)."""
    pkg = Workbook.read(TEMPLATE)
    pkg.write_cells(L.SHEET_LRS, *L.rowcol(L.IN_ITERATIONS.cell), [[rows]])
    if lrs:
        pkg.write_cells(L.SHEET_LRS, *L.rowcol(L.IN_LRS.cell), [lrs + [None] * (L.LR_SLOTS - len(lrs))])
    book = folder / f"book_{rows}.xlsm"
    pkg.save(book)
    return book


def run_action(book: Path, out: Path) -> float:
    out.unlink(missing_ok=True)
    t0 = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):  # "wrote ..."
        status = cli.main(["run", "train-lrs", str(book), "--out", str(out)])
    dt = time.perf_counter() - t0
    if status != 0:
        raise SystemExit(f"xl-backprop run failed with status {status}")
    return dt


def phases(book: Path, out: Path) -> dict[str, float]:
    """The steps of ``macros.run_on_file``, timed one by one."""
    t = [time.perf_counter()]
    pkg = Workbook.read(book)
    t.append(time.perf_counter())
    plan = macros.make_plan("train-lrs", macros.file_getter(pkg))
    t.append(time.perf_counter())
    macros.apply_to_package(pkg, plan)
    t.append(time.perf_counter())
    atomic_write(out, pkg.save)
    t.append(time.perf_counter())
    names = ("read the book", "plan (train, summary, picture)", "apply (cells, chart)", "save")
    return {n: b - a for n, a, b in zip(names, t, t[1:], strict=False)}


def xlsxwriter_reference(path: Path, rows: int, lrs: list[float]) -> float:
    """XlsxWriter's constant_memory mode writing the same loss table (the curves computed first,
    untimed)."""
    import xlsxwriter

    curves = network.train_curves(lrs, rows)
    table = np.hstack([np.arange(rows, dtype=float)[:, None], curves])
    t0 = time.perf_counter()
    wb = xlsxwriter.Workbook(path, {"constant_memory": True})
    ws = wb.add_worksheet(L.SHEET_LRS)
    r0, c0 = L.rowcol(L.MACRO_LOSS.top_left)
    ws.write_row(r0, c0, ["step", *map(macros.lr_label, lrs)])
    for i, line in enumerate(table.tolist()):
        ws.write_row(r0 + 1 + i, c0, line)
    wb.close()
    return time.perf_counter() - t0


def child(kind: str, rows: int, folder: Path, largest: bool) -> None:
    """Run one job in this (fresh) process and print its time and peak memory as JSON."""
    lrs = LARGEST_LRS if largest else list(network.DEFAULT_LRS)
    if kind == "action":
        book = make_book(folder, rows, lrs if largest else None)
        base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        seconds = run_action(book, folder / "out.xlsm")
        size = (folder / "out.xlsm").stat().st_size
    else:
        base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        seconds = xlsxwriter_reference(folder / "xw.xlsx", rows, lrs)
        size = (folder / "xw.xlsx").stat().st_size
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"seconds": seconds, "peak_mb": peak / 1024, "before_mb": base / 1024, "bytes": size}))


def in_child(kind: str, rows: int, folder: Path, largest: bool = False) -> dict:
    cmd = [sys.executable, __file__, "--child", kind, "--rows", str(rows), "--folder", str(folder)]
    if largest:
        cmd.append("--largest")
    done = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--largest", action="store_true", help="also run 1,048,567 steps x 10 learning rates")
    ap.add_argument("--child", choices=("action", "xlsxwriter"), help=argparse.SUPPRESS)
    ap.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        child(args.child, args.rows if not args.largest else L.MACRO_MAX_ITERATIONS, args.folder, args.largest)
        return

    lrs = list(network.DEFAULT_LRS)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        # children first: Linux carries a parent's peak RSS into a child through fork and exec
        a, x = in_child("action", args.rows, folder), in_child("xlsxwriter", args.rows, folder)
        big = in_child("action", L.MACRO_MAX_ITERATIONS, folder, largest=True) if args.largest else None
        book = make_book(folder, args.rows)
        network.train_curves(lrs, 10)  # warm up (a compiled engine compiles or loads here)
        cells = (args.rows + 1) * (len(lrs) + 1)
        print(
            f"train-lrs on a copy of the template: {args.rows:,} steps x {len(lrs)} learning rates "
            f"({cells:,} cells), deflate level {package.COMPRESS_LEVEL}"
        )
        ours = run_action(book, folder / "out.xlsm")
        theirs = xlsxwriter_reference(folder / "xw.xlsx", args.rows, lrs)
        print(f"  xl-backprop run train-lrs      {ours:7.2f} s")
        print(f"  XlsxWriter constant_memory     {theirs:7.2f} s   (same cells, same process)")
        print(f"  ratio                          {ours / theirs:7.2f}x   target <= 0.5x")
        split = phases(book, folder / "out2.xlsm")
        for name, dt in split.items():
            print(f"    {name:<32} {dt:6.2f} s")
        write = split["apply (cells, chart)"] + split["save"]
        print(f"  writing alone (apply + save)   {write:7.2f} s = {write / theirs:.2f}x XlsxWriter")
        print(
            f"  file sizes: ours {(folder / 'out.xlsm').stat().st_size / 1e6:.1f} MB, "
            f"XlsxWriter {(folder / 'xw.xlsx').stat().st_size / 1e6:.1f} MB"
        )
        print(
            f"  peak memory (fresh process): action {a['peak_mb']:.0f} MB (target <= 500 MB), "
            f"XlsxWriter {x['peak_mb']:.0f} MB"
        )
        if big:
            print(
                f"largest run the template allows: {L.MACRO_MAX_ITERATIONS:,} steps x {len(LARGEST_LRS)} "
                f"learning rates: {big['seconds']:.1f} s, peak memory {big['peak_mb']:.0f} MB, "
                f"file {big['bytes'] / 1e6:.0f} MB"
            )


if __name__ == "__main__":
    main()
