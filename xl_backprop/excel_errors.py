"""Excel's error values as xlwings hands them to Python, recognised in one place.

A cell's error value reaches Python as an int, 0x800A0000 + Excel's code (xlErrNA = 2042, ...).
With ``err_to_str`` xlwings turns the seven classic ones into text ("#N/A"); the newer ones stay
ints, which would otherwise pass for numbers (#SPILL! as -2146826243).
"""

from __future__ import annotations

_XL_ERROR_BASE = 0x800A0000 - 2**32
_NEW_ERRORS = {
    2043: "#GETTING_DATA",
    2045: "#SPILL!",
    2046: "#CONNECT!",
    2047: "#BLOCKED!",
    2048: "#UNKNOWN!",
    2049: "#FIELD!",
    2050: "#CALC!",
}
NAMES = frozenset({"#DIV/0!", "#N/A", "#NAME?", "#NULL!", "#NUM!", "#REF!", "#VALUE!", *_NEW_ERRORS.values()})


def excel_error(v) -> str | None:
    """The error's name ("#N/A", "#SPILL!", or "error code N" for one we do not know) if ``v``
    is an Excel error value as xlwings reads it, else None."""
    if isinstance(v, str):
        return v if v in NAMES else None
    if type(v) is int and 0 <= v - _XL_ERROR_BASE < 0x10000:
        code = v - _XL_ERROR_BASE
        return _NEW_ERRORS.get(code, f"error code {code}")
    return None
