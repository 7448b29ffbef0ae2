"""``xl-backprop doctor``: what the workbook needs from this Python, checked line by line.

Each check gives PASS or FIX and one line on what to do. The workbook is read, never
changed; it is untrusted (mailed around), so its VBA project is bounded before it is parsed.
"""

from __future__ import annotations

import importlib
import os
import re
import shutil
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

#: The part holding the VBA project, and the most it may inflate to before we refuse to read it.
VBA_PART = "xl/vbaProject.bin"
MAX_VBA_BYTES = 50 * 1024 * 1024
#: The most of the xlwings module's source read while looking for its version line (xlwings'
#: whole module is about 46 KB, the line its third); each chunk is capped too (``ovba``).
MAX_MODULE_BYTES = 1024 * 1024
VERSION_LINE = "'Version:"
UDF_MODULE = "xl_backprop.udfs"


class Check(NamedTuple):
    ok: bool
    what: str  # the part checked
    message: str  # what was found, or what to do

    def line(self) -> str:
        return f"{'PASS' if self.ok else 'FIX '}  {self.what}: {self.message}"


def interpreter(executable: str = sys.executable, platform: str = sys.platform) -> tuple[str, str]:
    """(the xlwings.conf key, the path) of this Python as Excel should start it: on Windows
    pythonw.exe next to python.exe (no console window), on a Mac the interpreter itself."""
    exe = Path(executable)
    if platform == "win32":
        windowless = exe.with_name("pythonw.exe")
        return "Interpreter_Win", str(windowless if windowless.is_file() else exe)
    return "Interpreter_Mac", str(exe)


def check_interpreter(
    executable: str = sys.executable, platform: str = sys.platform, which: Callable[[str], str | None] = shutil.which
) -> Check:
    """Does xlwings find this Python without a setting? It starts pythonw/python from PATH
    unless the workbook's xlwings.conf sheet names one."""
    key, path = interpreter(executable, platform)
    if platform not in ("win32", "darwin"):
        return Check(
            True,
            "python",
            f"{path} (Excel runs on Windows or a Mac: run xl-backprop doctor there "
            "for the line to paste into the xlwings.conf sheet)",
        )
    found = which("pythonw" if platform == "win32" else "python") or which("python")
    if found and _same_file(found, executable, path):
        return Check(
            True,
            "python",
            f"{path} (the one on PATH; to pin it, add the row {key} | {path} to the workbook's xlwings.conf sheet)",
        )
    on_path = f"PATH starts {found}" if found else "no python on PATH"
    return Check(
        False,
        "python",
        f"{on_path}, not this Python: add the row {key} | {path} under the last "
        "row of the workbook's xlwings.conf sheet",
    )


def _same_file(found: str, *candidates: str) -> bool:
    for c in candidates:
        try:
            if os.path.samefile(found, c):
                return True
        except OSError:
            continue
    return False


def embedded_xlwings_version(book: Path) -> str:
    """The version line of the ``xlwings`` VBA module the workbook carries, read through
    ``ovba``'s bounded reader: that module only, up to its ``'Version:`` line."""
    from ..ooxml.package import BookError, read_part
    from .ovba import OvbaError, module_prefix

    if not zipfile.is_zipfile(book):
        raise ValueError(f"BOOK: {book} is not a workbook (.xlsm) file")
    try:  # the one bounded reader of untrusted books: streamed, whatever the zip header says
        data = read_part(book, VBA_PART, MAX_VBA_BYTES)
    except BookError as exc:
        raise ValueError(f"BOOK: {exc}") from None
    if data is None:
        raise ValueError(f"BOOK: {book} has no VBA project ({VBA_PART}); expected a .xlsm workbook")
    try:
        source = module_prefix(data, "xlwings", VERSION_LINE.encode(), MAX_MODULE_BYTES)
    except OvbaError as exc:  # a malformed or oversized project: one line, naming the part
        raise ValueError(f"BOOK: cannot read {VBA_PART}: {exc}") from None
    found = re.search(rb"^" + re.escape(VERSION_LINE.encode()) + rb" *(\S+)", source or b"", re.M)
    if not found:
        raise ValueError(f"BOOK: {book} carries no xlwings module with a {VERSION_LINE} line")
    return found.group(1).decode("ascii", "replace")


def check_xlwings(book: Path | None) -> Check:
    """The installed xlwings must be the version of the workbook's xlwings module: the module
    and the package refuse to work together otherwise."""
    try:
        import xlwings
    except ImportError:
        return Check(
            False, "xlwings", f"not installed: {sys.executable} -m pip install .  (in the xl-backprop checkout)"
        )
    installed = xlwings.__version__
    if book is None:
        return Check(
            True, "xlwings", f"{installed} installed (no workbook given: pass BOOK to compare with the one it carries)"
        )
    try:
        embedded = embedded_xlwings_version(book)
    except ValueError as exc:
        return Check(False, "xlwings", str(exc))
    if embedded == installed:
        return Check(True, "xlwings", f"{installed} installed, the version {book.name} carries")
    return Check(
        False,
        "xlwings",
        f"{installed} installed, {book.name} carries {embedded}: "
        f"{sys.executable} -m pip install xlwings=={embedded}  (or rebuild the "
        "workbook: xl-backprop template)",
    )


def check_functions(module: str = UDF_MODULE) -> Check:
    """The module the xlwings.conf sheet names (UDF Modules) imports, with its functions."""
    try:
        mod = importlib.import_module(module)
    except Exception as exc:  # what Excel would show in every function cell
        first = (str(exc).splitlines() or [""])[0]
        return Check(
            False,
            "functions",
            f"{module} does not import ({type(exc).__name__}: {first}): "
            f"{sys.executable} -m pip install .  (in the xl-backprop checkout)",
        )
    names = [h["Macro"] for h in mod.function_help()]
    return Check(True, "functions", f"{module} imports: {', '.join(names)}")


def run_checks(book: Path | None) -> list[Check]:
    return [check_interpreter(), check_xlwings(book), check_functions()]
