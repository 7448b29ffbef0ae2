"""Run a real LibreOffice (headless) on workbook files: recalculate, convert, read back.

Each call uses a fresh user profile, so tests (and parallel runs) never share LibreOffice's
lock files, and that profile sets LibreOffice's "recalculation on file load" (Calc >
Formula > Recalculation on file load; ``OOXMLRecalcMode``: 0 always, 1 never): by default
every formula is computed by LibreOffice itself, not read from the values cached in the file;
with ``recalc=False`` LibreOffice shows the stored values, as a viewer that does not
recalculate (Excel's Protected View, a file preview) does.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from .conftest import missing

_RECALC_PROFILE = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema"
           xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load">
  <prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>{mode}</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load">
  <prop oor:name="ODFRecalcMode" oor:op="fuse"><value>{mode}</value></prop></item>
</oor:items>
"""


def require(program: str, debian_package: str) -> str:
    """Path of ``program``; when it is missing, skips the test outside CI and fails it in CI,
    where .ci/run installs it."""
    exe = shutil.which(program)
    if exe is None:
        missing(program, f"apt-get install {debian_package}")
    return exe


def soffice() -> str:
    """Path of LibreOffice's soffice (see ``require``)."""
    return require("soffice", "libreoffice-calc-nogui")


RECALC_ALWAYS, RECALC_NEVER = 0, 1  # LibreOffice's values of OOXMLRecalcMode


#: LibreOffice's threaded calculation of formula groups, off (see ``convert``'s ``threads``).
_NO_THREADS = """<item oor:path="/org.openoffice.Office.Calc/Formula/Calculation">
  <prop oor:name="UseThreadedCalculationForFormulaGroups" oor:op="fuse"><value>false</value></prop></item>
</oor:items>"""


def convert(
    src: Path,
    fmt: str,
    outdir: Path,
    timeout: float = 180,
    recalc: bool = True,
    name: str | None = None,
    threads: bool = True,
) -> Path:
    """Open ``src`` in headless LibreOffice, recalculate everything (``recalc=False``: nothing,
    the stored values are kept), save as ``fmt`` (for example "xlsx", "pdf", "csv") in
    ``outdir``; returns the new file's path (``name``: the file's name where LibreOffice names it
    otherwise, as a csv of one sheet, "BOOK-Sheet.csv"). ``threads=False``: formula groups are
    calculated without threads (LibreOffice 7.4's threaded group calculation shows 0 for some
    table cells that are errors when an input is bad and the walkthrough reads the table)."""
    exe = soffice()
    outdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="lo-profile-") as profile:
        user = Path(profile) / "user"
        user.mkdir()
        mode = RECALC_ALWAYS if recalc else RECALC_NEVER
        profile_xml = _RECALC_PROFILE.format(mode=mode)
        if not threads:
            profile_xml = profile_xml.replace("</oor:items>", _NO_THREADS)
        (user / "registrymodifications.xcu").write_text(profile_xml)
        cmd = [
            exe,
            f"-env:UserInstallation={Path(profile).as_uri()}",
            "--headless",
            "--norestore",
            "--convert-to",
            fmt,
            "--outdir",
            str(outdir),
            str(src),
        ]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    ext = fmt.split(":")[0]
    out = outdir / (name or f"{Path(src).stem}.{ext}")
    if proc.returncode != 0 or not out.exists():
        raise AssertionError(f"LibreOffice failed on {src}: rc={proc.returncode}\n{proc.stdout}{proc.stderr}")
    return out


def recalculated_values(src: Path, tmpdir: Path, threads: bool = True):
    """The workbook as LibreOffice computes it: an openpyxl workbook of values (data_only)
    read from LibreOffice's own re-saved copy (``threads``: see ``convert``)."""
    import openpyxl

    out = convert(
        src, "xlsx", Path(tmpdir) / ("recalculated" if threads else "recalculated-unthreaded"), threads=threads
    )
    return openpyxl.load_workbook(out, data_only=True)


def stored_values(src: Path, tmpdir: Path):
    """The workbook as LibreOffice shows it without recalculating (the values stored in the
    file): an openpyxl workbook of values read from LibreOffice's re-saved copy."""
    import openpyxl

    out = convert(src, "xlsx", Path(tmpdir) / "stored", recalc=False)
    return openpyxl.load_workbook(out, data_only=True)


def convert_many(srcs: list[Path], fmt: str, outdir: Path, timeout: float = 600) -> list[Path]:
    """``convert`` for several files in one LibreOffice run (one start-up, not one per file),
    every formula recalculated; returns the new files' paths, in the order of ``srcs``."""
    exe = soffice()
    outdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="lo-profile-") as profile:
        user = Path(profile) / "user"
        user.mkdir()
        (user / "registrymodifications.xcu").write_text(_RECALC_PROFILE.format(mode=RECALC_ALWAYS))
        cmd = [exe, f"-env:UserInstallation={Path(profile).as_uri()}", "--headless", "--norestore"]
        cmd += ["--convert-to", fmt, "--outdir", str(outdir), *map(str, srcs)]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    outs = [outdir / f"{Path(src).stem}.{fmt.split(':')[0]}" for src in srcs]
    missing_outs = [str(o) for o in outs if not o.exists()]
    if proc.returncode != 0 or missing_outs:
        raise AssertionError(
            f"LibreOffice failed: rc={proc.returncode}, missing {missing_outs}\n{proc.stdout}{proc.stderr}"
        )
    return outs


def recalculated_many(srcs: list[Path], tmpdir: Path) -> list:
    """``recalculated_values`` of several books with one LibreOffice start (the books' names must
    differ): their openpyxl workbooks of values, in order."""
    import openpyxl

    outs = convert_many(srcs, "xlsx", Path(tmpdir) / "recalculated-many", timeout=180 * len(srcs))
    return [openpyxl.load_workbook(out, data_only=True) for out in outs]
