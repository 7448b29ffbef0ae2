"""Run a real LibreOffice (headless) on workbook files: recalculate, convert, read back.

Each call uses a fresh user profile, so tests (and parallel runs) never share LibreOffice's
lock files, and that profile forces "recalculate on load" for Excel files: every formula is
computed by LibreOffice itself, not read from the values cached in the file.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

_RECALC_ALWAYS = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema"
           xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load">
  <prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load">
  <prop oor:name="ODFRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""


def require(program: str, debian_package: str) -> str:
    """Path of ``program``; when it is missing, skips the test outside CI and fails it in CI,
    where .ci/run installs it."""
    exe = shutil.which(program)
    if exe is None:
        if os.environ.get("CI"):
            pytest.fail(f"{program} is required in CI: apt-get install {debian_package}")
        pytest.skip(f"{program} is not installed (apt-get install {debian_package})")
    return exe


def soffice() -> str:
    """Path of LibreOffice's soffice (see ``require``)."""
    return require("soffice", "libreoffice-calc-nogui")


def convert(src: Path, fmt: str, outdir: Path, timeout: float = 180) -> Path:
    """Open ``src`` in headless LibreOffice, recalculate everything, save as ``fmt``
    (for example "xlsx", "pdf", "csv") in ``outdir``; returns the new file's path."""
    exe = soffice()
    outdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="lo-profile-") as profile:
        user = Path(profile) / "user"
        user.mkdir()
        (user / "registrymodifications.xcu").write_text(_RECALC_ALWAYS)
        cmd = [exe, f"-env:UserInstallation={Path(profile).as_uri()}", "--headless", "--norestore",
               "--convert-to", fmt, "--outdir", str(outdir), str(src)]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    ext = fmt.split(":")[0]
    out = outdir / f"{Path(src).stem}.{ext}"
    if proc.returncode != 0 or not out.exists():
        raise AssertionError(f"LibreOffice failed on {src}: rc={proc.returncode}\n{proc.stdout}{proc.stderr}")
    return out


def recalculated_values(src: Path, tmpdir: Path):
    """The workbook as LibreOffice computes it: an openpyxl workbook of values (data_only)
    read from LibreOffice's own re-saved copy."""
    import openpyxl

    out = convert(src, "xlsx", Path(tmpdir) / "recalculated")
    return openpyxl.load_workbook(out, data_only=True)
