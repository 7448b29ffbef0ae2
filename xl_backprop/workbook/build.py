"""Build ``workbook_template.xlsm`` from its text sources: sheets (``sheets.py``, at the places
``layout.py`` gives), VBA modules (``vba/*.bas`` and xlwings' own), ribbon (``customUI.xml``).

    python -m xl_backprop.workbook.build [--out PATH] [--force]

The output is deterministic (fixed document properties and zip timestamps), so a test can
rebuild it and compare it with the committed file part by part.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import sys
import tempfile
from pathlib import Path

from ..fileio import atomic_write
from . import layout, ribbon, sheets, vba

DEFAULT_OUT = Path("workbook_template.xlsm")
#: Fixed creation date: the same sources give the same bytes.
CREATED = dt.datetime(2026, 1, 1, 0, 0, 0)
PROPERTIES = {
    "title": "xl-backprop: backpropagation and the learning rate",
    "subject": "A 2-2-2 sigmoid network trained by gradient descent",
    "author": "xl-backprop",
    "company": "xl-backprop",
    "keywords": "backpropagation, learning rate, xlwings",
    "comments": "Built by xl-backprop template; do not edit by hand.",
    "created": CREATED,
}


def builder_versions() -> str:
    """The libraries whose output is in the file: a different version may write other bytes."""
    from importlib.metadata import version

    return ", ".join(f"{name} {version(name)}" for name in ("XlsxWriter", "pyOpenVBA", "xlwings"))


def _write_book(path: Path, vba_bin: bytes) -> None:
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path), {"default_date_format": "yyyy-mm-dd"})
    book.set_properties(PROPERTIES)
    book.set_custom_property("Built with", builder_versions())
    book.set_calc_mode("auto")
    book.add_vba_project(io.BytesIO(vba_bin), is_stream=True)
    book.set_vba_name("ThisWorkbook")
    sheets.write_sheets(book)
    book.close()


def check_out(out: Path) -> None:
    """ValueError, naming ``out``, unless it is a .xlsm path in an existing folder: the one
    check of where the template may go (``xl-backprop template --out`` words it as its option)."""
    if out.suffix.lower() != ".xlsm":
        raise ValueError(f"out: expected a .xlsm path (a macro-enabled workbook), got {out}")
    if not out.parent.is_dir():
        raise ValueError(f"out: expected an existing folder, {out.parent} is not one")


def build_template(out: Path, *, overwrite: bool = True) -> Path:
    """Write the macro-enabled workbook to ``out`` (replacing it, unless ``overwrite`` is
    False: then FileExistsError if a file is there when the build ends) and return its path.

    The file is made next to ``out`` under a temporary name and renamed at the end, so an
    interrupted build never leaves a half-written workbook at ``out``.
    """
    out = Path(out)
    check_out(out)
    custom_ui = ribbon.read_custom_ui()
    vba_bin = vba.vba_project_bin(layout.SHEETS)
    with tempfile.TemporaryDirectory(prefix="xl-backprop-build-") as work:
        plain = Path(work) / "plain.xlsm"
        _write_book(plain, vba_bin)
        atomic_write(out, lambda tmp: ribbon.add_ribbon(plain, tmp, custom_ui), overwrite=overwrite)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m xl_backprop.workbook.build", description="Build the workbook template from its text sources."
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output .xlsm (default {DEFAULT_OUT})")
    parser.add_argument("--force", action="store_true", help="replace --out if it exists")
    args = parser.parse_args(argv)
    if args.out.exists() and not args.force:
        print(f"--out: {args.out} exists; pass --force to replace it", file=sys.stderr)
        return 2
    try:
        path = build_template(args.out)
    except (ValueError, FileNotFoundError) as exc:
        print(str(exc).splitlines()[0], file=sys.stderr)
        return 1
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
