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


def convert(
    src: Path, fmt: str, outdir: Path, timeout: float = 180, recalc: bool = True, name: str | None = None
) -> Path:
    """Open ``src`` in headless LibreOffice, recalculate everything (``recalc=False``: nothing,
    the stored values are kept), save as ``fmt`` (for example "xlsx", "pdf", "csv") in
    ``outdir``; returns the new file's path (``name``: the file's name where LibreOffice names it
    otherwise, as a csv of one sheet, "BOOK-Sheet.csv")."""
    exe = soffice()
    outdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="lo-profile-") as profile:
        user = Path(profile) / "user"
        user.mkdir()
        mode = RECALC_ALWAYS if recalc else RECALC_NEVER
        (user / "registrymodifications.xcu").write_text(_RECALC_PROFILE.format(mode=mode))
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


def recalculated_values(src: Path, tmpdir: Path):
    """The workbook as LibreOffice computes it: an openpyxl workbook of values (data_only)
    read from LibreOffice's own re-saved copy."""
    import openpyxl

    out = convert(src, "xlsx", Path(tmpdir) / "recalculated")
    return openpyxl.load_workbook(out, data_only=True)


def stored_values(src: Path, tmpdir: Path):
    """The workbook as LibreOffice shows it without recalculating (the values stored in the
    file): an openpyxl workbook of values read from LibreOffice's re-saved copy."""
    import openpyxl

    out = convert(src, "xlsx", Path(tmpdir) / "stored", recalc=False)
    return openpyxl.load_workbook(out, data_only=True)


def recalculated_many(srcs: list[Path], tmpdir: Path) -> list:
    """``recalculated_values`` of several books with one LibreOffice start (the books' names must
    differ): their openpyxl workbooks of values, in order."""
    import openpyxl

    exe = soffice()
    outdir = Path(tmpdir) / "recalculated-many"
    outdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="lo-profile-") as profile:
        user = Path(profile) / "user"
        user.mkdir()
        (user / "registrymodifications.xcu").write_text(_RECALC_PROFILE.format(mode=RECALC_ALWAYS))
        cmd = [exe, f"-env:UserInstallation={Path(profile).as_uri()}", "--headless", "--norestore"]
        cmd += ["--convert-to", "xlsx", "--outdir", str(outdir), *map(str, srcs)]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=180 * len(srcs))
    outs = [outdir / f"{Path(src).stem}.xlsx" for src in srcs]
    if proc.returncode != 0 or not all(out.exists() for out in outs):
        raise AssertionError(f"LibreOffice failed on {srcs}: rc={proc.returncode}\n{proc.stdout}{proc.stderr}")
    return [openpyxl.load_workbook(out, data_only=True) for out in outs]
