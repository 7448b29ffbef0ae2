"""Shared test set-up: the paths every module uses, a helper that types values into a copy of a
book, and the ``libreoffice`` marker (``pytest -m "not libreoffice"`` is the quick loop).

Helpers of one kind live in their own modules: ``ooxml_read`` (the one OOXML reader),
``published`` (reference numbers with their sources), ``scalar_reference`` (a plain loop),
``libreoffice`` (headless LibreOffice), ``ooxml_audit`` (openxml-audit), ``xlwings_windows`` and
``xlwings_standin`` (xlwings without Excel), ``lite_driver`` (xlwings Lite's code path).
"""

from __future__ import annotations

import inspect
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "workbook_template.xlsm"


def set_cells(src: Path, dst: Path, sheet: str, cell: str, rows: list[list]) -> Path:
    """A copy of ``src`` with ``rows`` typed in at ``cell`` (what a user does before a run)."""
    from xl_backprop.ooxml import Workbook
    from xl_backprop.workbook import layout as L

    pkg = Workbook.read(src)
    pkg.write_cells(sheet, *L.rowcol(cell), rows)
    pkg.save(dst)
    return dst


def _runs_libreoffice(func) -> bool:
    try:
        return "libreoffice." in inspect.getsource(func)
    except (OSError, TypeError):
        return False


def pytest_collection_modifyitems(config, items):
    """Mark every test that starts LibreOffice, itself or through one of its fixtures."""
    for item in items:
        info = getattr(item, "_fixtureinfo", None)
        funcs = [getattr(item, "function", None)]
        for name in getattr(item, "fixturenames", ()):
            funcs += [d.func for d in (info.name2fixturedefs.get(name, ()) if info else ())]
        if any(f is not None and _runs_libreoffice(f) for f in funcs):
            item.add_marker(pytest.mark.libreoffice)


@pytest.fixture
def small_disk(tmp_path):
    """A 64 KiB tmpfs (needs root, as on the project's machines; skipped elsewhere)."""
    disk = tmp_path / "disk"
    disk.mkdir()
    if sys.platform != "linux" or os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root on Linux")
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(disk)], capture_output=True)
    if proc.returncode:
        pytest.skip(f"cannot mount a tmpfs: {proc.stderr.decode().strip()}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", str(disk)], check=True)
