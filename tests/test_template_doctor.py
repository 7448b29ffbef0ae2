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
from hypothesis import given, settings
from hypothesis import strategies as st
from pyopenvba.cfb import CFB
from pyopenvba.vba import compress, decompress

from xl_backprop import cli, macros
from xl_backprop.workbook import doctor, ovba

from .conftest import ROOT, TEMPLATE
from .ooxml_audit import assert_excel_opens
from .ooxml_read import package_differences, vba_modules
from .vba_books import BOMB_CHUNK, bomb, module_streams, with_sources


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


# --- doctor on a VBA project nobody vouches for (issue 17, item 4) ------------------------------
@settings(max_examples=80, deadline=None)
@given(st.binary(max_size=9000) | st.text("ab\r\n'=xyz ", max_size=20_000).map(str.encode))
def test_the_bounded_decoder_agrees_with_pyopenvba_on_valid_streams(data):
    """pyOpenVBA's compressor writes the stream; our chunk decoder and pyOpenVBA's give it back."""
    stream = compress(data)
    parts = list(ovba.chunks(stream, "s", 10**6))
    assert b"".join(parts) == data == decompress(stream)
    assert all(len(p) <= ovba.CHUNK_BYTES for p in parts)


def test_the_bounded_decoder_reads_every_module_of_the_template_as_pyopenvba_does():
    cfb = CFB.from_bytes(zipfile.ZipFile(TEMPLATE).read(doctor.VBA_PART))
    for module, (name, offset) in module_streams(TEMPLATE).items():
        stream = cfb.get_stream_in_storage("VBA", name)[offset:]
        assert b"".join(ovba.chunks(stream, name, 10**6)) == decompress(stream), module


@pytest.mark.parametrize(
    ("stream", "message"),
    [
        (b"", "s: not a compressed VBA stream (no signature byte 0x01)"),
        (b"\x01\x03", "s: truncated chunk header at byte 1"),
        (b"\x01\x03\x00", "s: bad chunk signature at byte 1"),
        (b"\x01" + BOMB_CHUNK, "s: the chunk at byte 1 decompresses past 4,096 bytes"),
        (b"\x01\x02\xb0\x01\x00\x00", "s: a copy token reaches before its chunk at byte 1"),
        (b"\x01\x03\xb0\x02A\x00", "s: truncated copy token in the chunk at byte 1"),
        (b"\x01\xff\x3fabc", "s: the raw chunk at byte 1 holds 3 bytes, not 4,096"),
        (compress(b"x" * 5000), "s: inflates to more than 4,096 bytes, the limit for it"),
    ],
)
def test_a_malformed_or_oversized_stream_is_one_line(stream, message):
    with pytest.raises(ovba.OvbaError) as caught:
        list(ovba.chunks(stream, "s", 4096))
    assert str(caught.value) == message


def test_a_vba_bomb_gets_one_fix_line(tmp_path):
    """The xlwings module's source: 100,000 chunks of 6 bytes, each claiming 4,099 bytes (410 MB
    to pyOpenVBA's decoder); the first chunk already breaks the 4,096-byte rule."""
    book = with_sources(TEMPLATE, tmp_path / "bomb.xlsm", {"xlwings": bomb(100_000)})
    assert book.stat().st_size < TEMPLATE.stat().st_size + 250_000  # a small file: the bomb is in its VBA
    check = doctor.check_xlwings(book)
    assert check.line() == (
        "FIX   xlwings: BOOK: cannot read xl/vbaProject.bin: VBA/xlwings: the chunk at byte 1 "
        "decompresses past 4,096 bytes"
    )


def test_doctor_reads_only_the_xlwings_module_up_to_its_version_line(tmp_path):
    """The version line in the module's first chunk, a bomb chunk after it and a bomb for another
    module: doctor reads the one chunk it needs and answers."""
    first = b"Attribute VB_Name = \"xlwings\"\r\n'xlwings\r\n'Version: 9.8.7\r\n"
    first += b"'" * (ovba.CHUNK_BYTES - len(first))  # exactly one chunk, as a real module's is
    source = compress(first) + BOMB_CHUNK
    book = with_sources(TEMPLATE, tmp_path / "b.xlsm", {"xlwings": source, "BackpropRibbon": bomb(10)})
    assert doctor.embedded_xlwings_version(book) == "9.8.7"
    with pytest.raises(ovba.OvbaError, match="decompresses past"):  # the bytes after it are a bomb
        list(ovba.chunks(source, "xlwings", 10**6))


def test_the_version_line_is_one_that_starts_a_line(tmp_path):
    """The text 'Version: inside a line of the first chunk does not stop the read; the line in the
    second chunk is the one."""
    first = b'Attribute VB_Name = "xlwings"\r\nx = "\'Version: 0.0.1"\r\n'
    text = first + b"'" * (ovba.CHUNK_BYTES - len(first)) + b"\r\n'Version: 1.2.3\r\n"
    book = with_sources(TEMPLATE, tmp_path / "b.xlsm", {"xlwings": compress(text)})
    assert doctor.embedded_xlwings_version(book) == "1.2.3"


def test_a_module_without_a_version_line_is_read_up_to_the_cap(tmp_path, monkeypatch):
    text = b"' no version here\r\n" * 10_000  # 190,000 bytes
    book = with_sources(TEMPLATE, tmp_path / "b.xlsm", {"xlwings": compress(text)})
    assert doctor.check_xlwings(book).message == f"BOOK: {book} carries no xlwings module with a 'Version: line"
    monkeypatch.setattr(doctor, "MAX_MODULE_BYTES", 50_000)
    assert doctor.check_xlwings(book).message == (
        "BOOK: cannot read xl/vbaProject.bin: VBA/xlwings: inflates to more than 50,000 bytes, the limit for it"
    )


def test_a_malformed_project_is_one_line(tmp_path):
    for data, message in (
        (b"not a compound file", "BOOK: cannot read xl/vbaProject.bin: not a VBA project (File too small"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), "BOOK: cannot read xl/vbaProject.bin: not a VBA"),
    ):
        book = tmp_path / "b.xlsm"
        with zipfile.ZipFile(book, "w") as z:
            z.writestr(doctor.VBA_PART, data)
        check = doctor.check_xlwings(book)
        assert not check.ok and check.message.startswith(message) and "\n" not in check.line()


_BOUNDED = """
import resource, sys
from pathlib import Path
import pyopenvba.cfb, pyopenvba.vba, xl_backprop.ooxml.package  # imported before the bound is set
from xl_backprop.workbook import doctor
from tests.vba_books import bomb

def address_space():
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmSize:"))

limit = address_space() + 100 * 2**20
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
try:
    doctor.embedded_xlwings_version(Path(sys.argv[1]))
except ValueError as exc:
    print(exc)
try:  # the bound bites: pyOpenVBA's own decoder on the same source
    pyopenvba.vba.decompress(bomb(100_000))
except MemoryError:
    print("MemoryError")
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status")
def test_doctor_reads_a_vba_bomb_within_100_mb(tmp_path):
    """Correctness, not timing: in a child process whose address space may grow by 100 MB only,
    doctor answers the bomb with its one line, where pyOpenVBA's decoder runs out of memory."""
    book = with_sources(TEMPLATE, tmp_path / "bomb.xlsm", {"xlwings": bomb(100_000)})
    run = subprocess.run(
        [sys.executable, "-c", _BOUNDED, str(book)], capture_output=True, text=True, cwd=ROOT, timeout=300
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.splitlines() == [
        "BOOK: cannot read xl/vbaProject.bin: VBA/xlwings: the chunk at byte 1 decompresses past 4,096 bytes",
        "MemoryError",
    ]


def test_doctor_command_prints_a_line_per_check_and_its_status(capsys, monkeypatch):
    assert cli.main(["doctor", str(TEMPLATE)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line[:6] for line in lines] == ["PASS  "] * 3
    assert lines[2].endswith(
        "SIGMOID, FORWARD, GRADIENTS, BACKPROP_STEP, TRAIN_CURVE, GRAD_CHECK, LR_SUMMARY, LR_MAP, EXPLAIN"
    )
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
    assert package_differences(TEMPLATE, out) == []
