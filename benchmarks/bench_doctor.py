"""How long and how much memory does ``xl-backprop doctor`` take to read a book's xlwings version,
on the template and on VBA bombs? Figures and ratios, not a test (``make bench``).

A VBA bomb here is a copy of the template whose xlwings module's compressed source is made of
6-byte chunks that each claim 4,099 decompressed bytes (``tests/vba_books.py``). Issue 17's target:
a bomb answered with one FIX line within seconds and under 100 MB. Reference, in the same
conditions: pyOpenVBA reading the module's source unbounded (what doctor did before), on a bomb
small enough to finish. Each run is a fresh child process; memory is its peak resident size
(ru_maxrss) above the same process just before the read
(0 where the read stays within what the imports already took).

    python benchmarks/bench_doctor.py
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "workbook_template.xlsm"
sys.path.insert(0, str(ROOT))

from tests.vba_books import bomb, with_sources  # noqa: E402

_CHILD = """
import json, resource, sys, time
from pathlib import Path
import pyopenvba.cfb, pyopenvba.vba, xl_backprop.ooxml.package
from xl_backprop.workbook import doctor

book, how = Path(sys.argv[1]), sys.argv[2]
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
if how == "doctor":  # what check_xlwings reads (its import of xlwings left out of the figures)
    try:
        result = "PASS " + doctor.embedded_xlwings_version(book)
    except ValueError as exc:
        result = "FIX " + str(exc)
else:  # pyOpenVBA, unbounded: every module's whole source
    from pyopenvba import ExcelFile
    with ExcelFile(book) as f:
        result = str(len(f.vba_modules()["xlwings"])) + " characters of source"
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"seconds": seconds, "mb": (peak - before) / 1024, "result": result[:100]}))
"""


def measure(book: Path, how: str) -> dict:
    run = subprocess.run(
        [sys.executable, "-c", _CHILD, str(book), how], capture_output=True, text=True, cwd=ROOT, check=True
    )
    return json.loads(run.stdout)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        cases = [("template", TEMPLATE, "doctor")]
        for chunks in (10_000, 870_000):  # 41 MB and 3.6 GB to an unbounded decoder
            book = with_sources(TEMPLATE, folder / f"bomb_{chunks}.xlsm", {"xlwings": bomb(chunks)})
            cases.append((f"bomb {chunks:,} chunks ({book.stat().st_size / 1024:,.0f} KB book)", book, "doctor"))
            if chunks == 10_000:
                cases.append((f"bomb {chunks:,} chunks, pyOpenVBA unbounded", book, "pyopenvba"))
        print(f"{'case':<52} {'seconds':>8} {'peak MB':>8}  result")
        figures = {}
        for name, book, how in cases:
            m = measure(book, how)
            figures[name] = m
            print(f"{name:<52} {m['seconds']:8.3f} {m['mb']:8.1f}  {m['result']}")
        bounded, unbounded = figures[cases[1][0]], figures[cases[2][0]]
        ratio = unbounded["seconds"] / bounded["seconds"]
        print(
            f"on the 10,000-chunk bomb pyOpenVBA's unbounded read takes {ratio:,.0f}x "
            f"the time of doctor's bounded one, and {unbounded['mb']:.0f} MB where doctor's stays within "
            f"{max(m['mb'] for k, m in figures.items() if 'pyOpenVBA' not in k):.0f} MB on every case"
        )


if __name__ == "__main__":
    main()
