"""`xl-backprop doctor`, the OOXML audit of the files we write, and a plain install that
rebuilds the workbook.

No Excel runs here: the interpreter check is tested with Windows paths made in a temporary
folder and a stand-in for PATH lookup (``which``); everything else runs for real.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import zipfile

import pytest
import xlwings

from xl_backprop import cli, macros
from xl_backprop.workbook import doctor

from .conftest import ROOT, TEMPLATE
from .ooxml_audit import assert_excel_opens
from .ooxml_read import vba_modules


# --- doctor ------------------------------------------------------------------------------------
def test_windows_interpreter_is_pythonw_beside_python(tmp_path):
    exe = tmp_path / "Python312" / "python.exe"
    exe.parent.mkdir()
    exe.write_bytes(b"")
    (exe.parent / "pythonw.exe").write_bytes(b"")
    other = tmp_path / "other" / "pythonw.exe"
    other.parent.mkdir()
    other.write_bytes(b"")
    fix = doctor.check_interpreter(str(exe), "win32", lambda name: str(other))
    assert not fix.ok
    assert fix.line() == (
        f"FIX   python: PATH starts {other}, not this Python: add the row Interpreter_Win | "
        f"{exe.parent / 'pythonw.exe'} under the last row of the workbook's xlwings.conf sheet"
    )
    ok = doctor.check_interpreter(str(exe), "win32", lambda name: str(exe.parent / f"{name}.exe"))
    assert ok.ok and ok.line().startswith(f"PASS  python: {exe.parent / 'pythonw.exe'} (the one on PATH")
    none = doctor.check_interpreter(str(exe), "win32", lambda name: None)
    assert not none.ok and "no python on PATH" in none.message


def test_xlwings_version_is_compared_with_the_workbooks_module(monkeypatch):
    embedded = re.search(r"^'Version: (\S+)", vba_modules(TEMPLATE)["xlwings"], re.M).group(1)
    assert doctor.embedded_xlwings_version(TEMPLATE) == embedded
    assert doctor.check_xlwings(TEMPLATE).ok
    monkeypatch.setattr(xlwings, "__version__", "0.30.0")
    fix = doctor.check_xlwings(TEMPLATE)
    assert not fix.ok
    assert f"0.30.0 installed, workbook_template.xlsm carries {embedded}: " in fix.message
    assert f"pip install xlwings=={embedded}" in fix.message


def test_doctor_names_a_bad_book_in_one_line(tmp_path):
    text = tmp_path / "notes.xlsm"
    text.write_text("not a zip")
    plain = tmp_path / "plain.xlsx"
    with zipfile.ZipFile(plain, "w") as z:
        z.writestr("xl/workbook.xml", "<workbook/>")
    for book, message in ((text, "is not a workbook"), (plain, "has no VBA project")):
        check = doctor.check_xlwings(book)
        assert not check.ok and message in check.message and "\n" not in check.line()


def test_doctor_reads_the_vba_project_through_the_bounded_reader(monkeypatch):
    """The VBA project is streamed under MAX_VBA_BYTES by ooxml's reader of untrusted books, not
    inflated by pyOpenVBA on the zip header's word."""
    monkeypatch.setattr(doctor, "MAX_VBA_BYTES", 1_000)
    check = doctor.check_xlwings(TEMPLATE)
    assert not check.ok and "\n" not in check.line()
    assert check.message.startswith(
        "BOOK: xl/vbaProject.bin: inflates to more than 1,000 bytes, the limit for one part"
    )


def test_doctor_command_prints_a_line_per_check_and_its_status(capsys, monkeypatch):
    assert cli.main(["doctor", str(TEMPLATE)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line[:6] for line in lines] == ["PASS  "] * 3
    assert lines[2].endswith("SIGMOID, FORWARD, GRADIENTS, BACKPROP_STEP, TRAIN_CURVE, GRAD_CHECK, LR_SUMMARY, EXPLAIN")
    monkeypatch.setitem(sys.modules, "xl_backprop.udfs", None)  # as if the functions could not import
    assert cli.main(["doctor", str(TEMPLATE)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[2].startswith("FIX   functions: xl_backprop.udfs does not import (ModuleNotFoundError")
    assert cli.main(["doctor", "missing.xlsm"]) == 2
    assert capsys.readouterr().err.strip() == "xl-backprop doctor: error: BOOK: missing.xlsm is not an existing file"


def test_doctor_without_a_book_checks_the_installed_xlwings_only(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no workbook_template.xlsm here
    assert cli.main(["doctor"]) == 0
    line = capsys.readouterr().out.splitlines()[1]
    assert (
        line == f"PASS  xlwings: {xlwings.__version__} installed (no workbook given: pass BOOK to compare "
        "with the one it carries)"
    )


def test_a_missing_package_is_named_with_its_pip_command(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "pyopenvba", None)  # import pyopenvba raises ModuleNotFoundError
    assert cli.main(["template", "--out", str(tmp_path / "book.xlsm")]) == 1
    err = capsys.readouterr().err
    assert err == (
        f"xl-backprop template: error: the package pyOpenVBA is not installed; install it with: "
        f"{sys.executable} -m pip install pyOpenVBA\n"
    )
    assert list(tmp_path.iterdir()) == []


def test_no_code_runs_on_open_and_about_points_to_doctor():
    import openpyxl

    about = " ".join(
        str(c.value) for row in openpyxl.load_workbook(TEMPLATE)["About"].iter_rows() for c in row if c.value
    )
    assert "xl-backprop doctor" in about and "Troubleshooting" in about
    for name, src in vba_modules(TEMPLATE).items():
        assert not re.search(r"^\s*(Public |Private )?Sub (Auto_Open|Workbook_Open)\b", src, re.M | re.I), name
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Troubleshooting", 1)[1].split("\n## ", 1)[0]
    for known in (
        "Could not activate Python COM server",
        "xl-backprop doctor",
        "Interpreter_Win",
        "Unblock",
        "Ctrl+Alt+F9",
        "version",
    ):
        assert known in section, known


# --- OOXML audit -----------------------------------------------------------------------------
def test_excel_would_open_the_template_cleanly():
    assert_excel_opens(TEMPLATE)


def test_excel_would_open_what_run_writes(tmp_path):
    out = tmp_path / "trained.xlsm"
    macros.run_on_file("train-lrs", TEMPLATE, out)
    assert_excel_opens(out)


def test_the_audit_fails_a_broken_sheet(tmp_path):
    """The helper can fail: a cell in a place the schema forbids (before <sheetData>)."""
    broken = tmp_path / "broken.xlsm"
    with zipfile.ZipFile(TEMPLATE) as zin, zipfile.ZipFile(broken, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"<sheetData>", b'<c r="A1"/><sheetData>', 1)
            zout.writestr(info, data)
    with pytest.raises(AssertionError, match="broken.xlsm"):
        assert_excel_opens(broken)


# --- a plain install ---------------------------------------------------------------------------
@pytest.mark.install
def test_a_plain_install_rebuilds_the_template(tmp_path):
    """`pip install .` (not editable, no extras: the README's Windows route) into a fresh venv,
    then `xl-backprop template` writes the committed workbook byte for byte."""
    src = tmp_path / "src"  # a copy: pip would build in the checkout itself
    src.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy2(ROOT / name, src / name)
    shutil.copytree(ROOT / "xl_backprop", src / "xl_backprop", ignore=shutil.ignore_patterns("__pycache__"))
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    bindir = venv / ("Scripts" if os.name == "nt" else "bin")
    pip = subprocess.run(
        [str(bindir / "python"), "-m", "pip", "install", "-q", str(src)], capture_output=True, text=True, timeout=900
    )
    assert pip.returncode == 0, pip.stderr[-2000:]
    out = tmp_path / "X.xlsm"
    run = subprocess.run(
        [str(bindir / "xl-backprop"), "template", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout == f"wrote {out}\n"
    with zipfile.ZipFile(TEMPLATE) as a, zipfile.ZipFile(out) as b:
        assert a.namelist() == b.namelist()
        for name in a.namelist():
            assert a.read(name) == b.read(name), name
