"""``xl-backprop lite``: one ``main.py`` and a ``requirements.txt`` for xlwings Lite.

Lite runs the code of one file, ``main.py``, and installs what ``requirements.txt`` lists
(pure-Python wheels from PyPI, or Pyodide's own builds); it cannot install xl-backprop. So
``main.py`` carries the sources of the package's modules that the Lite face needs, verbatim,
and serves them as the package ``xl_backprop`` from memory (an import finder), so that each
module runs exactly as it does installed, relative imports and all. Then it binds the
functions and scripts of ``xl_backprop.lite`` at its top level, where Lite looks for them.

Generated, never edited: the sources come from the installed package at generation time,
and a test checks that the embedded copies equal the package's files.
"""

from __future__ import annotations

import importlib.metadata
import re
from pathlib import Path

from .fileio import Written, atomic_write_all

#: The package's modules that main.py carries, relative to the package: what ``lite`` imports,
#: directly or not. None of them may import lxml, XlsxWriter's workbook writer, pyOpenVBA or numba
#: at import time (a test imports them in an interpreter that lacks them).
MODULES = (
    "__init__.py",
    "limits.py",
    "activations.py",
    "examples.py",
    "kernel.py",
    "runner.py",
    "network.py",
    "sweep.py",
    "lrmap.py",
    "analysis.py",
    "explain.py",
    "exercise.py",  # workbook/layout.py declares the Practice sheet with it
    "excel_errors.py",
    "udfs.py",
    "cellref.py",
    "cellstyle.py",
    "palette.py",
    "workbook/__init__.py",
    "workbook/layout.py",
    "figures.py",
    "network_picture.py",
    "map_figure.py",
    "fileio.py",
    "macros.py",
    "lite.py",
)

#: requirements.txt: Pyodide builds numpy and matplotlib itself (Lite's docs: don't pin them);
#: XlsxWriter (its cell-reference utilities) and xlwings are pure-Python wheels, pinned as
#: xl-backprop pins them, so Lite runs the xlwings whose Office.js code path the tests ran.
LITE_REQUIREMENTS = {"numpy": False, "matplotlib": False, "xlsxwriter": True, "xlwings": True}

PACKAGE = "xl_backprop"
#: What ``write`` makes in its folder: the code, and what Lite installs.
FILES = ("main.py", "requirements.txt")
_ROOT = Path(__file__).resolve().parent

_LOADER = '''\
import importlib.abc
import importlib.util
import linecache
import sys


class _EmbeddedXlBackprop(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Imports xl_backprop's modules from _SOURCES above."""

    def find_spec(self, name, path=None, target=None):
        if name not in _SOURCES:
            return None
        filename, is_package, _ = _SOURCES[name]
        return importlib.util.spec_from_loader(name, self, origin=filename, is_package=is_package)

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        filename, _, lines = _SOURCES[module.__name__]
        source = "".join(lines)
        linecache.cache[filename] = (len(source), None, list(lines), filename)  # tracebacks show the line
        exec(compile(source, filename, "exec", dont_inherit=True), module.__dict__)


# Lite runs main.py again after every edit: start from fresh modules, with one finder.
sys.meta_path[:] = [f for f in sys.meta_path if type(f).__name__ != "_EmbeddedXlBackprop"]
for _name in [n for n in sys.modules if n == "xl_backprop" or n.startswith("xl_backprop.")]:
    del sys.modules[_name]
sys.meta_path.insert(0, _EmbeddedXlBackprop())
'''


def module_name(path: str) -> str:
    """``"workbook/layout.py"`` -> ``"xl_backprop.workbook.layout"``; ``__init__.py`` names its package."""
    parts = [PACKAGE, *path[: -len(".py")].split("/")]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def sources(modules: tuple[str, ...] = MODULES) -> dict[str, str]:
    """Module name -> its source text, as the package holds it."""
    return {module_name(m): (_ROOT / m).read_text(encoding="utf-8") for m in modules}


def requirements() -> str:
    """requirements.txt for Lite, from xl-backprop's own requirements (see ``LITE_REQUIREMENTS``)."""
    wanted = dict(LITE_REQUIREMENTS)
    lines = []
    try:
        requires = importlib.metadata.requires("xl-backprop") or []
    except importlib.metadata.PackageNotFoundError:
        raise RuntimeError(
            "xl-backprop is not installed (pip install .): requirements.txt takes its pins from the installed package"
        ) from None
    for req in requires:
        if ";" in req:  # an extra's requirement: not the package's own
            continue
        name = re.match(r"[A-Za-z0-9._-]+", req).group(0)
        key = name.lower()
        if key in wanted:
            lines.append(req if wanted.pop(key) else name)
    if wanted:
        raise RuntimeError(f"xl-backprop's requirements lack {', '.join(sorted(wanted))}: reinstall xl-backprop")
    return "\n".join(lines) + "\n"


def _version() -> str:
    from . import __version__

    return __version__


def main_py(modules: tuple[str, ...] = MODULES) -> str:
    """The text of main.py: the embedded modules, their loader, and the Lite face bound at top level."""
    from . import lite

    names = [f.__name__ for f in (*lite.FUNCTIONS, *lite.SCRIPTS)]
    out = [
        '"""xl-backprop in xlwings Lite: see backpropagation happen in Excel on Windows, on a Mac and on the web.\n',
        "\n",
        f"Custom functions: {', '.join(f.__name__ for f in lite.FUNCTIONS)}.\n",
        f"Scripts (Run button): {', '.join(f.__name__ for f in lite.SCRIPTS)}.\n",
        "\n",
        f"GENERATED by `xl-backprop lite` from xl-backprop {_version()}: do not edit, generate it again.\n",
        "It carries xl-backprop's own modules (below, in _SOURCES) because Lite cannot install xl-backprop.\n",
        '"""\n',
        "\n",
        "# fmt: off\n",
        "_SOURCES = {  # module -> (file name, is a package, lines)\n",
    ]
    for path in modules:
        name = module_name(path)
        text = (_ROOT / path).read_text(encoding="utf-8")
        out.append(f"    {name!r}: ({f'{PACKAGE}/{path}'!r}, {path.endswith('__init__.py')}, (\n")
        out.extend(f"        {line!r},\n" for line in text.splitlines(keepends=True))
        out.append("    )),\n")
    out.append("}\n")
    out.append("# fmt: on\n\n")
    out.append(_LOADER)
    out.append("\n# What Lite registers: the custom functions and the scripts, bound here at the top level.\n")
    out.append("from xl_backprop.lite import (  # noqa: E402\n")
    out.extend(f"    {n},\n" for n in names)
    out.append(")\n")
    return "".join(out)


def write(out_dir: Path, *, overwrite: bool = True) -> list[Written]:
    """Write ``FILES`` (main.py, requirements.txt) into ``out_dir`` (created if missing), both or
    neither, the one way every file is written (``fileio.atomic_write_all``); ``overwrite=False``:
    FileExistsError if one is there, nothing written. RuntimeError, before anything is written,
    where xl-backprop is not installed (``requirements``)."""
    out_dir = Path(out_dir)
    texts = dict(zip(FILES, (main_py(), requirements()), strict=True))
    out_dir.mkdir(parents=True, exist_ok=True)
    files = [
        (out_dir / name, lambda tmp, text=text: tmp.write_text(text, encoding="utf-8")) for name, text in texts.items()
    ]
    return atomic_write_all(files, overwrite=overwrite)
