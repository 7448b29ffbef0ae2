"""What does running an action again on a book that already holds a long result cost? Figures
and ratios, not a test (issue 16 item 7).

``xl-backprop run train-lrs`` on a copy of the template with its iteration count set to
``--rows`` (the first run), then again on that run's result (the re-run), each in a fresh
process: time and peak memory (ru_maxrss) of each, and the re-run's ratios to the first run.
The first run streams the rows below the template's last row as text; the re-run finds them
as <row> elements in the sheet and edits them as an XML tree.
Targets (issue 16 item 7, at the largest result, 1,048,567 steps x 10 learning rates): the
re-run peaks under 1.5 GB and takes at most twice the first run.

    python benchmarks/bench_rerun.py [--rows N] [--largest]

``--largest`` runs the largest result the template allows instead of ``--rows``: today's
re-run takes minutes and more than 13 GB there, so mind the machine it runs on.
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

from bench_write import LARGEST_LRS, make_book

from xl_backprop import cli
from xl_backprop.workbook import layout as L

RERUN_PEAK_TARGET_MB = 1536
RERUN_TIME_TARGET = 2.0  # times the first run


def child(kind: str, rows: int, folder: Path, largest: bool) -> None:
    """One run in this (fresh) process: its time, peak memory and output size, as JSON."""
    if kind == "first":
        book, out = make_book(folder, rows, LARGEST_LRS if largest else None), folder / "first.xlsm"
    else:
        book, out = folder / "first.xlsm", folder / "again.xlsm"
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):  # "wrote ..."
        status = cli.main(["run", "train-lrs", str(book), "--out", str(out), "--force"])
    seconds = time.perf_counter() - t0
    if status != 0:
        raise SystemExit(f"xl-backprop run failed with status {status}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps({"seconds": seconds, "peak_mb": peak / 1024, "before_mb": base / 1024, "bytes": out.stat().st_size})
    )


def in_child(kind: str, rows: int, folder: Path, largest: bool) -> dict:
    cmd = [sys.executable, __file__, "--child", kind, "--rows", str(rows), "--folder", str(folder)]
    if largest:
        cmd.append("--largest")
    done = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--largest", action="store_true", help="1,048,567 steps x 10 learning rates instead")
    ap.add_argument("--child", choices=("first", "rerun"), help=argparse.SUPPRESS)
    ap.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    rows = L.MACRO_MAX_ITERATIONS if args.largest else args.rows
    if args.child:
        child(args.child, rows, args.folder, args.largest)
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        # only children do the work: Linux carries a parent's peak RSS into a child
        first = in_child("first", rows, folder, args.largest)
        again = in_child("rerun", rows, folder, args.largest)
    lrs = len(LARGEST_LRS) if args.largest else "the template's"
    print(f"train-lrs, {rows:,} steps x {lrs} learning rates, each run in a fresh process")
    for name, r in (("first run (on the template)", first), ("re-run (on its result)", again)):
        print(f"  {name:<30} {r['seconds']:7.1f} s   peak {r['peak_mb']:7.0f} MB   file {r['bytes'] / 1e6:6.1f} MB")
    print(
        f"  re-run / first run             {again['seconds'] / first['seconds']:7.2f}x time "
        f"(target <= {RERUN_TIME_TARGET:g}x), {again['peak_mb'] / first['peak_mb']:.2f}x memory"
    )
    if args.largest:
        print(f"  re-run peak memory target: under {RERUN_PEAK_TARGET_MB:,} MB")


if __name__ == "__main__":
    main()
