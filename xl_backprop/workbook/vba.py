"""The workbook's VBA project (``xl/vbaProject.bin``), made with pyOpenVBA from text sources.

Modules, as xlwings' own standalone workbooks carry them plus ours:

- ``xlwings``: xlwings' standalone module, read unmodified from the installed (pinned) package;
- ``Dictionary``: the class xlwings' standalone module uses on a Mac, also from the package;
- ``xlwings_udfs``: the UDF wrappers xlwings' "Import Functions" generates for ``xl_backprop.udfs``;
- ``BackpropRibbon``: our ribbon callbacks;
- ``Walkthrough``: the walkthrough's Subs (plain VBA, no Python), which the ribbon's Walk through
  group calls;
- ``ThisWorkbook`` (the workbook's document module): ``Workbook_BeforeClose`` cancels the
  walkthrough's Play timer.
- ``Practice``: the Practice sheet's New exercise (plain VBA) and its ribbon callback.

No module has an ``Auto_Open`` or ``Workbook_Open``: no code runs when the workbook opens.

The project is written in the interoperable form [MS-OVBA] 2.3.4.1 asks of a writer: a 7-byte
``_VBA_PROJECT`` stream with Version 0xFFFF and no performance cache, so every Office version
compiles the modules from their source. xlwings' own ``quickstart_standalone.xlsm`` carries
exactly these bytes; LibreOffice's VBA export and EPPlus write the same Version.
"""

from __future__ import annotations

import tempfile
import zipfile
from collections.abc import Sequence
from pathlib import Path

import xlwings

HERE = Path(__file__).parent
VBA_DIR = HERE / "vba"
RIBBON_BAS = VBA_DIR / "BackpropRibbon.bas"
WALK_BAS = VBA_DIR / "Walkthrough.bas"
THIS_WORKBOOK_CLS = VBA_DIR / "ThisWorkbook.cls"
UDFS_BAS = VBA_DIR / "xl_backprop_udfs.bas"
PRACTICE_BAS = VBA_DIR / "Practice.bas"  # plain VBA, no Python: the Practice sheet's New exercise
XLWINGS_DIR = Path(xlwings.__file__).parent
XLWINGS_BAS = XLWINGS_DIR / "xlwings.bas"
DICTIONARY_CLS = XLWINGS_DIR / "addin" / "Dictionary.cls"


def read_source(path: Path) -> str:
    """A ``.bas``/``.cls`` file as VBA wants it: text with CRLF line ends."""
    if not path.is_file():
        raise FileNotFoundError(f"VBA source: expected the file {path}")
    text = path.read_bytes().decode("cp1252")  # the VBA project's code page
    return text.replace("\r\n", "\n").replace("\n", "\r\n")


def module_name(source: str) -> str:
    """The ``Attribute VB_Name`` of a module's source."""
    for line in source.splitlines():
        if line.startswith("Attribute VB_Name"):
            return line.split("=", 1)[1].strip().strip('"')
    raise ValueError("VBA source: expected an 'Attribute VB_Name = ...' line")


def document_body(source: str) -> str:
    """A document module's code: its source less the ``Attribute`` lines (the project keeps the
    document module's own header)."""
    return "".join(line for line in source.splitlines(keepends=True) if not line.startswith("Attribute VB_"))


def sources() -> list[tuple[str, str, bool]]:
    """(module name, source, is a class) of every module we add, in project order."""
    out = []
    ours = ((UDFS_BAS, False), (RIBBON_BAS, False), (WALK_BAS, False), (PRACTICE_BAS, False))
    for path, is_class in ((XLWINGS_BAS, False), (DICTIONARY_CLS, True), *ours):
        src = read_source(path)
        out.append((module_name(src), src, is_class))
    return out


#: [MS-OVBA] 2.3.4.1 as written: Reserved1 0x61CC, Version 0xFFFF ("MUST be 0xFFFF on write"),
#: Reserved2 0x00, Reserved3 0x0001 (the spec's example), PerformanceCache absent.
VBA_PROJECT_STREAM = bytes.fromhex("cc61ffff000100")


def interoperable(project_bin: bytes) -> bytes:
    """``project_bin`` with its ``_VBA_PROJECT`` stream in the form [MS-OVBA] asks a writer for.

    pyOpenVBA keeps the Version of the Excel that made its blank project and zeroes the cache
    body; an Excel of that very version would then read the (zeroed) cache instead of compiling
    the source. Version 0xFFFF matches no Office, so the caches (here and in the document
    modules' streams) are ignored and the source is authoritative.
    """
    from pyopenvba.cfb import CFB

    cfb = CFB.from_bytes(project_bin)
    cfb.write_stream_in_storage("VBA", "_VBA_PROJECT", VBA_PROJECT_STREAM)
    return cfb.to_bytes()


def vba_project_bin(sheet_names: Sequence[str], modules: Sequence[tuple[str, str, bool]] | None = None) -> bytes:
    """vbaProject.bin for a workbook with these sheets (their document modules are named
    ThisWorkbook, Sheet1, Sheet2, ... as Excel and XlsxWriter name them) and ``modules``
    ((name, source, is a class), as ``sources`` gives them; None: ``sources()``)."""
    import xlsxwriter
    from pyopenvba import ExcelFile, VBAModuleKind

    modules = sources() if modules is None else modules
    with tempfile.TemporaryDirectory(prefix="xl-backprop-vba-") as tmp:
        bare, made = Path(tmp) / "bare.xlsm", Path(tmp) / "made.xlsm"
        book = xlsxwriter.Workbook(str(bare))
        for name in sheet_names:
            book.add_worksheet(name)
        book.close()
        with ExcelFile(bare) as f:
            project = f.add_vba_project()
            for name, src, is_class in modules:
                kind = VBAModuleKind.other if is_class else VBAModuleKind.standard
                project.add_module(name, src, kind=kind)
            project.get_module("ThisWorkbook").body = document_body(read_source(THIS_WORKBOOK_CLS))
            f.save(made)
        with zipfile.ZipFile(made) as z:
            return interoperable(z.read("xl/vbaProject.bin"))
