"""xlwings' Windows-side UDF machinery, run on Linux against a stand-in for pywin32 and Excel.

Live Excel cannot run here: there is no Windows and no COM. So this is the thinnest layer
we can put between our functions and a stand-in. Everything on the Python side of the COM
boundary is xlwings' own code, unchanged:

- ``xlwings.com_server.XLPython.CallUDF``, the method Excel's VBA reaches through COM;
  it calls ``xlwings.udfs.call_udf``, which loads ``xl_backprop.udfs`` with
  ``get_udf_module``, reads each function's ``__xlfunc__`` metadata (made by the real
  ``xlfunc``/``xlarg``/``xlret`` decorators), turns VBA's "Missing" into the Python default,
  converts every argument with ``xlwings.conversion.read`` -- ranges through
  ``xlwings._xlwindows.Range`` exactly as in Excel -- and the result with
  ``xlwings.conversion.write``; ``CallUDF`` then hands Excel a scalar, a row or a block;
- ``xlwings.udfs.import_udfs``, the "Import Functions" button: it writes the VBA module
  with ``generate_vba_wrapper`` and registers each function's help with
  ``Application.MacroOptions``.

Only what lies behind COM is a stand-in, and only as much of it as that code touches:
the pywin32 modules (stubbed in ``sys.modules`` for the duration of ``windows_xlwings()``
and removed afterwards), a cell range (``.Value`` as pywin32 returns it: a bare value for
one cell, a tuple of row tuples otherwise, None for an empty cell, an int code for an
error value), and a workbook that records the imported module and the MacroOptions.
Not exercised: the ``caller``/``this_workbook`` arguments (used only by embedded code,
async functions, legacy ``expand=`` arrays and ``caller`` parameters, none of which we use),
and Excel itself (spilling, recalculation, the VBA runtime).

Command line: ``python tests/xlwings_windows.py --write-wrapper`` regenerates
``xl_backprop/workbook/vba/xl_backprop_udfs.bas``; ``--check`` only compares.
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib
import io
import sys
import types
from collections.abc import Iterator
from pathlib import Path

UDF_MODULE = "xl_backprop.udfs"
ROOT = Path(__file__).resolve().parents[1]
WRAPPER_PATH = ROOT / "xl_backprop" / "workbook" / "vba" / "xl_backprop_udfs.bas"
REGENERATE = "python tests/xlwings_windows.py --write-wrapper"

#: What VBA passes for an optional argument left out (DISP_E_PARAMNOTFOUND).
MISSING = -2147352572
#: Error values as pywin32 delivers them from a cell: 0x800A0000 + Excel's code, a signed int.
#: xlwings' _xlwindows turns the first seven into text; the newer ones reach the UDF as ints.
ERRORS = {
    "#DIV/0!": -2146826281,
    "#N/A": -2146826246,
    "#NAME?": -2146826259,
    "#NULL!": -2146826288,
    "#NUM!": -2146826252,
    "#REF!": -2146826265,
    "#VALUE!": -2146826273,
    **{
        name: code - 2146828288
        for name, code in [
            ("#GETTING_DATA", 2043),
            ("#SPILL!", 2045),
            ("#CONNECT!", 2046),
            ("#BLOCKED!", 2047),
            ("#UNKNOWN!", 2048),
            ("#FIELD!", 2049),
            ("#CALC!", 2050),
        ]
    },
}
_RANGE_IID = "{00020846-0000-0000-C000-000000000046}"  # Excel's Range interface
_PYWIN32 = (
    "pythoncom",
    "pywintypes",
    "win32api",
    "win32con",
    "win32event",
    "win32gui",
    "win32process",
    "win32timezone",
    "win32com",
    "win32com.client",
    "win32com.server",
    "win32com.server.dispatcher",
    "win32com.server.policy",
    "win32com.server.util",
)


class _Anything:
    """Absorbs any attribute access or call: for the Windows DLL handles (ctypes.windll,
    oledll, PyDLL) that xlwings._xlwindows touches while it is imported."""

    def __init__(self, *args, **kwargs):
        pass

    def __getattr__(self, name):
        return _Anything()

    def __call__(self, *args, **kwargs):
        return _Anything()


class _NotAComObject(Exception):
    pass


def _pywin32_stubs() -> dict[str, types.ModuleType]:
    """The pywin32 modules, with just the names xlwings uses on the UDF path."""
    mods = {name: types.ModuleType(name) for name in _PYWIN32}
    ptc, pwt = mods["pythoncom"], mods["pywintypes"]

    class PyIDispatch:  # the type of a raw COM dispatch pointer; our stand-ins are never one
        pass

    ptc.__file__ = "pythoncom-stub"
    ptc.IID_IDispatch, ptc.IID_IEnumVARIANT = "IID_IDispatch", "IID_IEnumVARIANT"
    ptc.TypeIIDs = {ptc.IID_IDispatch: PyIDispatch}
    ptc.CoInitialize = lambda *a: None

    pwt.com_error = type("com_error", (Exception,), {})
    pwt.error = type("error", (Exception,), {})
    pwt.TimeType = type("TimeType", (), {})
    pwt.IID = str

    class TimeZoneInfo:
        @staticmethod
        def utc():
            return None

    mods["win32timezone"].TimeZoneInfo = TimeZoneInfo
    client = mods["win32com.client"]
    for name in ("CDispatch", "CoClassBaseClass", "DispatchBaseClass"):
        setattr(client, name, type(name, (), {}))
    client.Dispatch = client.DispatchEx = lambda obj, *a, **k: obj

    def unwrap(obj):  # real pywin32 raises for anything that is not a wrapped Python object
        raise _NotAComObject(obj)

    mods["win32com.server.util"].unwrap = unwrap
    mods["win32com.server.util"].wrap = lambda obj, *a, **k: obj
    mods["win32process"].GetWindowThreadProcessId = lambda hwnd: (1, 4242)
    mods["win32com"].client, mods["win32com"].server = client, mods["win32com.server"]
    mods["win32com.server"].util = mods["win32com.server.util"]
    mods["win32com.server"].policy = mods["win32com.server.policy"]
    mods["win32com.server"].dispatcher = mods["win32com.server.dispatcher"]
    return mods


# --- stand-ins for what Excel passes through COM ----------------------------------------------


class _Count:
    def __init__(self, n: int):
        self.Count = n


class _App:
    Hwnd = 1
    Version = "16.0"

    def __init__(self):
        self.macro_options: list[dict] = []

    def MacroOptions(self, macro, **kwargs):  # noqa: N802 (Excel's name)
        self.macro_options.append({"Macro": macro, **kwargs})


class _Book:
    def __init__(self, name: str):
        self.Name = name
        self.Application = _App()
        self.VBProject = types.SimpleNamespace(VBComponents=_VBComponents())


class _Sheet:
    Name = "Sheet1"

    def __init__(self, book: _Book):
        self.Parent = book


class _VBComponents:
    """The workbook's VBA project: Import() keeps the text of the module file."""

    def __init__(self):
        self.imported: list[str] = []

    def __call__(self, name):
        raise sys.modules["pywintypes"].com_error(f"no module {name}")

    def Remove(self, component):  # noqa: N802
        pass

    def Import(self, path):  # noqa: N802
        self.imported.append(Path(path).read_text())


class Cells:
    """A stand-in for an Excel Range COM object holding ``values`` (a list of rows).

    ``.Value`` is what pywin32 returns for it: the bare value for one cell, else a tuple of
    row tuples; None for an empty cell, an int code for an error value."""

    def __init__(self, rows, book: _Book | None = None):
        self.rows = [list(r) for r in rows]
        self.Row, self.Column = 1, 1
        self.Rows, self.Columns = _Count(len(self.rows)), _Count(len(self.rows[0]))
        self.Count = len(self.rows) * len(self.rows[0])
        self.Worksheet = _Sheet(book or _Book("workbook_template.xlsm"))
        iid = _RANGE_IID
        self._oleobj_ = types.SimpleNamespace(
            GetTypeInfo=lambda: types.SimpleNamespace(GetTypeAttr=lambda: types.SimpleNamespace(iid=iid))
        )

    @property
    def Value(self):  # noqa: N802
        if self.Count == 1:
            return self.rows[0][0]
        return tuple(tuple(r) for r in self.rows)


def row(*values) -> Cells:
    """A row of cells, e.g. ``row(0.05, 0.1)``."""
    return Cells([values])


def column(*values) -> Cells:
    """A column of cells."""
    return Cells([[v] for v in values])


def cell(value) -> Cells:
    """One cell."""
    return Cells([[value]])


class ExcelStandIn:
    """xlwings' Windows UDF machinery, loaded, with ``xl_backprop.udfs`` imported through it."""

    def __init__(self, xlwings, module):
        self.xlwings = xlwings
        self.module = module

    def call(self, name: str, *args):
        """What Excel gets back from ``=NAME(args...)``, through ``XLPython.CallUDF``.

        Like the generated VBA, every parameter is passed: those not given as ``MISSING``."""
        n_params = len(getattr(self.module, name).__xlfunc__["args"])
        args = tuple(args) + (MISSING,) * (n_params - len(args))
        return self.xlwings.com_server.XLPython().CallUDF(UDF_MODULE, name, args, None, None)

    def import_functions(self, book_name: str = "workbook_template.xlsm") -> tuple[str, list[dict]]:
        """Run xlwings' "Import Functions" on a stand-in workbook. Returns the VBA module it
        imports -- with CRLF line ends, as Python's text mode writes the file on Windows -- and
        the ``Application.MacroOptions`` calls: the function wizard's help."""
        book = _Book(book_name)
        with contextlib.redirect_stdout(io.StringIO()):  # it prints "Imported functions from ..."
            self.xlwings.udfs.import_udfs(UDF_MODULE, book)
        (text,) = book.VBProject.VBComponents.imported
        return text.replace("\n", "\r\n"), book.Application.macro_options

    def vba_wrapper(self) -> str:
        return self.import_functions()[0]


@contextlib.contextmanager
def windows_xlwings() -> Iterator[ExcelStandIn]:
    """Load xlwings' Windows-only modules against pywin32 stubs, with the real UDF decorators
    in place of the Linux no-ops, and import ``xl_backprop.udfs`` through them; undo it all
    on exit (modules, decorators, engines, ctypes), so the rest of the test run is unaffected."""
    import xlwings

    before = set(sys.modules)
    saved_ctypes = {k: ctypes.__dict__.get(k) for k in ("windll", "oledll", "PyDLL")}
    saved_xw = {k: getattr(xlwings, k) for k in ("func", "arg", "ret", "script", "sub")}
    engines = xlwings.engines
    saved_engines = (list(engines.engines), dict(engines.engines_by_name), engines.active)
    package = importlib.import_module("xl_backprop")
    old_udfs = sys.modules.pop(UDF_MODULE, None)
    xlwindows = None
    try:
        sys.modules.update(_pywin32_stubs())
        ctypes.windll = ctypes.oledll = ctypes.PyDLL = _Anything()
        xlwindows = importlib.import_module("xlwings._xlwindows")
        udfs = importlib.import_module("xlwings.udfs")
        importlib.import_module("xlwings.com_server")
        engines.add(xlwings.main.Engine(impl=xlwindows.engine))
        # What xlwings/__init__.py does on Windows: the decorators are the real ones.
        xlwings.func, xlwings.arg, xlwings.ret = udfs.xlfunc, udfs.xlarg, udfs.xlret
        xlwings.script = xlwings.sub = udfs.xlsub
        module = udfs.get_udf_module(UDF_MODULE, None)
        yield ExcelStandIn(xlwings, module)
    finally:
        for name, value in saved_xw.items():
            setattr(xlwings, name, value)
        engines.engines[:], engines.active = saved_engines[0], saved_engines[2]
        engines.engines_by_name.clear()
        engines.engines_by_name.update(saved_engines[1])
        for name, value in saved_ctypes.items():
            if value is None:
                ctypes.__dict__.pop(name, None)
            else:
                setattr(ctypes, name, value)
        if "xlwings.com_server" in sys.modules:
            sys.modules["xlwings.com_server"].loop.close()
        if "xlwings.udfs" in sys.modules:
            sys.modules["xlwings.udfs"].com_executor.shutdown(wait=False)
        if xlwindows is not None:
            import atexit

            atexit.unregister(xlwindows.cleanup)
        for name in set(sys.modules) - before:
            if name in _PYWIN32 or name.startswith("xlwings.") or name == UDF_MODULE:
                del sys.modules[name]
                parent, _, child = name.rpartition(".")
                if parent in sys.modules:
                    sys.modules[parent].__dict__.pop(child, None)
        if old_udfs is not None:
            sys.modules[UDF_MODULE] = old_udfs
            package.udfs = old_udfs


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args not in (["--write-wrapper"], ["--check"]):
        print(f"usage: python {Path(__file__).relative_to(ROOT)} --write-wrapper | --check", file=sys.stderr)
        return 2
    with windows_xlwings() as excel:
        text = excel.vba_wrapper()
    current = WRAPPER_PATH.read_bytes().decode() if WRAPPER_PATH.exists() else None
    if args == ["--check"]:
        print("up to date" if current == text else f"out of date: run {REGENERATE}")
        return 0 if current == text else 1
    WRAPPER_PATH.parent.mkdir(parents=True, exist_ok=True)
    WRAPPER_PATH.write_bytes(text.encode())
    print(f"wrote {WRAPPER_PATH.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))  # run from a checkout without installing
    sys.exit(main())
