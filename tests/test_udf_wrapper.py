"""The VBA module the workbook carries is the one xlwings' "Import Functions" generates for
``xl_backprop.udfs`` now, and the harness that generates it leaves no trace behind."""

from __future__ import annotations

import inspect
import re
import sys
from pathlib import Path

import xlwings

from .published import COURSE_E_TOTAL, COURSE_INPUTS, COURSE_TARGETS, COURSE_WEIGHTS
from .xlwings_windows import REGENERATE, WRAPPER_PATH, windows_xlwings

XLWINGS_BAS = Path(xlwings.__file__).with_name("xlwings.bas")


def committed() -> bytes:
    assert WRAPPER_PATH.exists(), f"{WRAPPER_PATH} is missing: run {REGENERATE}"
    return WRAPPER_PATH.read_bytes()


def test_committed_wrapper_is_current():
    with windows_xlwings() as excel:
        generated = excel.vba_wrapper().encode()
    assert committed() == generated, (
        f"{WRAPPER_PATH.name} is out of date with xl_backprop/udfs.py: run {REGENERATE} and commit the result"
    )


def test_wrapper_is_an_importable_vba_module():
    data = committed()
    assert data.isascii()
    # line ends like xlwings' own modules and VBA's exports: CRLF, no bare LF
    assert b"\r\n" in XLWINGS_BAS.read_bytes() and b"\n" not in XLWINGS_BAS.read_bytes().replace(b"\r\n", b"")
    assert data.endswith(b"\r\n") and b"\n" not in data.replace(b"\r\n", b"")
    lines = data.decode().split("\r\n")
    # The name "Import Functions" gives it, so that a later Import Functions replaces it.
    assert lines[0] == 'Attribute VB_Name = "xlwings_udfs"'
    assert XLWINGS_BAS.read_text().splitlines()[0] == 'Attribute VB_Name = "xlwings"'


def test_wrapper_declares_every_udf_with_its_signature():
    text = committed().decode()
    declared = dict(re.findall(r"^Function (\w+)\((.*)\)\r$", text, flags=re.M))
    with windows_xlwings() as excel:
        udfs = {n: f for n, f in vars(excel.module).items() if hasattr(f, "__xlfunc__")}
    assert set(declared) == set(udfs)
    for name, f in udfs.items():
        params = inspect.signature(f).parameters.values()
        vba = ", ".join(("Optional " if p.default is not p.empty else "") + p.name for p in params)
        assert declared[name] == vba
        names = ", ".join(p.name for p in params)
        call = f'XLPy.CallUDF("xl_backprop.udfs", "{name}", Array({names}), ThisWorkbook, Application.Caller)'
        assert f"{name} = {call}" in text
    assert "ActiveWorkbook" not in text  # generated for a workbook (.xlsm), not an add-in


def test_harness_leaves_no_trace():
    from xl_backprop import udfs as plain

    before = set(sys.modules)
    with windows_xlwings() as excel:
        assert hasattr(excel.module.FORWARD, "__xlfunc__")
        assert "pythoncom" in sys.modules and xlwings.func is excel.xlwings.udfs.xlfunc
    assert set(sys.modules) - before == set()
    assert not any(
        m in sys.modules for m in ("pythoncom", "pywintypes", "win32com", "xlwings.udfs", "xlwings._xlwindows")
    )
    assert "excel" not in [e.name for e in xlwings.engines]
    import xl_backprop.udfs

    assert xl_backprop.udfs is plain and not hasattr(plain.FORWARD, "__xlfunc__")


def test_plain_python_calls_work_too():
    """Outside Excel (a notebook, Linux) the decorators are no-ops: numbers and lists go in."""
    from xl_backprop import udfs

    assert udfs.FORWARD(COURSE_WEIGHTS, COURSE_INPUTS, COURSE_TARGETS)[0, -1] == COURSE_E_TOTAL
    assert udfs.SIGMOID(0).tolist() == [[0.5]]
    assert udfs.FORWARD([1] * 7, [0.05, 0.1], [0.01, 0.99]) == "weights: expected 8 numbers (w1..w8), got 7"
