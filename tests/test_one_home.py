"""One home for each rule (issue 16 item 1): each rule is stated in one module and every face
follows it. Each test either changes the one home and watches every face follow, or scans the
package's sources for a literal that would mean a copy came back. And the package's modules
import each other without a cycle (checked on the sources, with ast)."""

from __future__ import annotations

import ast
import math
import os
import re
import sys
import types
from pathlib import Path

import pytest

import xl_backprop
from xl_backprop import cellstyle, cli, limits, lite_bundle, macros, udfs
from xl_backprop.ooxml import package, sheet
from xl_backprop.ooxml import styles as ooxml_styles
from xl_backprop.workbook import layout as L

ROOT = Path(xl_backprop.__file__).resolve().parent
PACKAGE = "xl_backprop"


def sources() -> dict[str, str]:
    """Module name -> source text, for every module of the package."""
    out = {}
    for path in sorted(ROOT.rglob("*.py")):
        parts = [PACKAGE, *path.relative_to(ROOT).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path.read_text(encoding="utf-8")
    return out


def holders(pattern: str) -> set[str]:
    """The modules whose source matches ``pattern`` (a regular expression)."""
    return {name for name, text in sources().items() if re.search(pattern, text)}


def test_sources_are_found():
    found = sources()
    assert {"xl_backprop.limits", "xl_backprop.ooxml.sheet", "xl_backprop.workbook.layout"} <= set(found)
    assert len(found) > 30


# --- the sheet's size ------------------------------------------------------------------------------


def test_the_sheets_size_is_stated_in_limits_only():
    assert holders(r"1_?048_?576|16_?384") == {"xl_backprop.limits"}
    # the OOXML editor's names for it are limits' own values, not a copy
    assert (sheet.MAX_ROWS, sheet.MAX_COLS) == (limits.SHEET_ROWS, limits.SHEET_COLUMNS) == (2**20, 2**14)
    assert (L.MAX_ROWS, L.MAX_COLS, udfs.MAX_ROWS, udfs.MAX_COLUMNS) == (2**20, 2**14, 2**20, 2**14)


# --- the cell-style properties the macros write, and the refusal of others -------------------------


def _faces_refuse(props: dict) -> list[bool]:
    """Whether the file back-end and the xlwings back-end each refuse the style ``props``."""
    out = []
    for write in (
        lambda: ooxml_styles.ensure_xf(ooxml_styles.new_stylesheet(), props),
        lambda: macros._xw_style(None, props),  # None: it refuses before touching the range
    ):
        try:
            write()
        except ValueError as exc:
            assert "\n" not in str(exc) and "not written here" in str(exc)
            out.append(True)
        except AttributeError:  # accepted, then tried to style None
            out.append(False)
        else:
            out.append(False)
    return out


def test_both_back_ends_follow_the_one_list_of_style_properties(monkeypatch):
    assert _faces_refuse({"bold": True, "align": "center"}) == [False, False]
    assert _faces_refuse({"italic": True}) == [True, True]
    monkeypatch.setattr(cellstyle, "PROPERTIES", ("num_format", "bold", "font_color", "bg_color", "border"))
    assert _faces_refuse({"bold": True, "align": "center"}) == [True, True]  # both refuse what it drops
    monkeypatch.setattr(cellstyle, "PROPERTIES", (*cellstyle.PROPERTIES, "italic"))
    assert _faces_refuse({"italic": True}) == [False, False]  # and both take what it adds


def test_the_style_properties_are_listed_once():
    assert holders(r'"num_format",\s*"bold",\s*"font_color"') == {"xl_backprop.cellstyle"}


# --- the column-width pixel formula ----------------------------------------------------------------


def test_every_column_width_follows_the_one_pixel_formula(monkeypatch):
    # Calibri 11: 7-pixel digits and 5 pixels of padding (ECMA-376 §18.3.1.13, XlsxWriter's
    # worksheet._size_col): 10 characters are 75 pixels, stored as 10.7109375 (whole pixels in
    # 1/256 of a digit)
    assert (L.column_pixels(10), ooxml_styles.stored_width(10)) == (75, 10.7109375)
    monkeypatch.setattr(cellstyle, "MAX_DIGIT_PX", 8)
    monkeypatch.setattr(cellstyle, "PADDING_PX", 6)
    assert L.column_pixels(10) == 86  # what Lite's widths in points are made of (macros._xw_widths)
    assert ooxml_styles.stored_width(10) == math.floor(86 * 256 / 8) / 256  # what the file back-end stores
    assert L.column_pixels(0.5) == 7  # below one character: (8 + 6) pixels a character


def test_the_pixel_formula_is_written_once():
    assert holders(r"\* ?7 \+ 0\.5|width \* 12|_MAX_DIGIT_PX\s*=") == set()
    assert holders(r"def column_pixels") == {"xl_backprop.cellstyle"}


# --- the loss block's header row -------------------------------------------------------------------


def _layout_with(monkeypatch, old: str, new: str) -> types.ModuleType:
    """``workbook.layout`` run again from its source with ``old`` replaced by ``new``."""
    text = Path(L.__file__).read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    name = "xl_backprop.workbook._layout_probe"
    mod = types.ModuleType(name)
    mod.__package__ = "xl_backprop.workbook"
    monkeypatch.setitem(sys.modules, name, mod)
    exec(compile(text.replace(old, new), L.__file__, "exec"), mod.__dict__)
    return mod


def test_the_largest_iteration_count_follows_where_the_loss_block_starts(monkeypatch):
    # the header on row 8: the rows below it, 9 to 1,048,575
    assert L.MACRO_LOSS.top_left == "V8" and L.MACRO_MAX_ITERATIONS == 1_048_575 - 9 + 1
    moved = _layout_with(monkeypatch, 'MACRO_LOSS_TOP_LEFT = "V8"', 'MACRO_LOSS_TOP_LEFT = "V12"')
    assert moved.MACRO_MAX_ITERATIONS == L.MACRO_MAX_ITERATIONS - 4
    assert moved.MACRO_LOSS.top_left == "V12" and moved.MACRO_LOSS.max_rows == 1 + moved.MACRO_MAX_ITERATIONS
    assert not hasattr(limits, "MACRO_MAX_ITERATIONS")  # no second copy in the core
    assert holders(r"SHEET_ROWS - \d|MAX_ROWS - \d") == set()


# --- the OOXML namespaces --------------------------------------------------------------------------


def test_each_namespace_is_stated_once():
    uris: dict[str, set[str]] = {}
    for name, text in sources().items():
        for uri in re.findall(r'"(https?://schemas\.[^"]+)"', text):
            uris.setdefault(uri, set()).add(name)
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    assert uris[main] == {"xl_backprop.ooxml.package"}
    assert {uri: names for uri, names in uris.items() if len(names) > 1} == {}
    assert ooxml_styles.NS_MAIN is sheet.NS_MAIN is package.NS_MAIN == main


# --- the package's imports -------------------------------------------------------------------------


def _module_level_imports(tree: ast.Module):
    """The import statements a module runs when it is imported: at its top level, and inside
    top-level if/try blocks (an ``if TYPE_CHECKING:`` block counts: a type checker follows it
    too); not those inside functions, which run when called."""
    todo = list(tree.body)
    while todo:
        node = todo.pop(0)
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        elif isinstance(node, ast.If):
            todo.extend(node.body + node.orelse)
        elif isinstance(node, ast.Try):
            todo.extend(node.body + node.orelse + node.finalbody + [s for h in node.handlers for s in h.body])


def import_graph() -> dict[str, set[str]]:
    """Module -> the package's modules it imports at module level (``from . import x`` names the
    submodule x; ``from .x import y``, the module x)."""
    found = sources()
    graph: dict[str, set[str]] = {name: set() for name in found}
    for name, text in found.items():
        is_package = Path(name.replace(".", "/")).name == "__init__" or any(
            other.startswith(name + ".") for other in found
        )
        here = name if is_package else name.rpartition(".")[0]
        for node in _module_level_imports(ast.parse(text)):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                base = here
                for _ in range(node.level - 1):
                    base = base.rpartition(".")[0]
                mod = ".".join(p for p in (base if node.level else "", node.module or "") if p)
                # a name that is a submodule is an edge to it; any other, to the module named
                targets = [f"{mod}.{a.name}" if f"{mod}.{a.name}" in found else mod for a in node.names]
            graph[name] |= {t for t in targets if t in found and t != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every cycle found by a depth-first search (each reported once, from where it was met)."""
    out, state = [], {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = "open"
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                out.append(path[path.index(nxt) :] + [nxt])
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    return out


def test_the_graph_finds_a_cycle_when_there_is_one():
    graph = import_graph()
    assert "xl_backprop.ooxml.package" in graph["xl_backprop.ooxml.sheet"]
    assert "xl_backprop.ooxml.styles" in graph["xl_backprop.ooxml.sheet"]  # from . import styles
    assert "xl_backprop" not in graph["xl_backprop.network"]  # from . import kernel: the submodule only
    assert "xl_backprop.limits" in graph["xl_backprop.workbook.layout"]  # from ..limits import
    assert "xl_backprop.macros" not in graph["xl_backprop.cli_map"]  # imported inside a function only
    graph["xl_backprop.ooxml.package"] = graph["xl_backprop.ooxml.package"] | {"xl_backprop.ooxml.workbook"}
    assert cycles(graph)


def test_the_package_imports_without_a_cycle():
    """drawing -> sheet -> workbook -> drawing was one: the namespace now comes from package."""
    assert cycles(import_graph()) == []


# --- writing files -----------------------------------------------------------------------------


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX hard links")
def test_lite_files_are_written_the_one_way(tmp_path, capsys):
    """lite_bundle.write goes through fileio: both files or neither, never over a file unasked,
    and the CLI says when --force gave a hard-linked file a new one."""
    out = tmp_path / "lite"
    out.mkdir()
    (out / "requirements.txt").write_text("old\n")
    with pytest.raises(FileExistsError):
        lite_bundle.write(out, overwrite=False)
    assert sorted(p.name for p in out.iterdir()) == ["requirements.txt"]  # not main.py either
    assert (out / "requirements.txt").read_text() == "old\n"
    os.link(out / "requirements.txt", tmp_path / "pinned.txt")
    assert cli.main(["lite", "--out", str(out), "--force"]) == 0
    stdout = capsys.readouterr().out.splitlines()
    assert stdout == [
        f"wrote {out / 'main.py'}",
        f"wrote {out / 'requirements.txt'} (as a new file: 1 other hard link to it keeps the old content)",
    ]
    assert (tmp_path / "pinned.txt").read_text() == "old\n"
    assert (out / "requirements.txt").read_text() == lite_bundle.requirements()


def test_where_the_template_may_go_is_checked_once():
    assert holders(r"expected a \.xlsm path") == {"xl_backprop.workbook.build"}


def test_the_detached_link_wording():
    assert cli.detached(0) == ""
    assert cli.detached(1, "BOOK") == " (as a new file: 1 other hard link to BOOK keeps the old content)"
    assert cli.detached(3) == " (as a new file: 3 other hard links to it keep the old content)"


# --- printable text --------------------------------------------------------------------------------


def test_text_is_made_printable_in_one_place():
    assert holders(r"unicodedata") == {"xl_backprop.limits"}
    assert cli.printable is limits.printable
    # the UDFs' echo is the same function with its two parameters: every invisible category, cut
    assert udfs._shown_text("a\u200bb" * 10) == limits.printable("a\u200bb" * 10, limits.INVISIBLE, 20)
    assert udfs._shown_text("a\u200bb") == "a\\u200bb" and cli.printable("a\u200bb") == "a\u200bb"


@pytest.mark.parametrize(
    "text, hidden, width, expected",
    [
        ("a\nb\x1b[0m", limits.LINE_BREAKING, None, "a\\nb\\x1b[0m"),
        ("\u202eabc", limits.LINE_BREAKING, None, "\\u202eabc"),  # a bidi control, whatever the categories
        ("x\udcffy", limits.LINE_BREAKING, None, "x\\xffy"),  # a byte that is not UTF-8 in a file name
        ("\u200b\ue000\u0378", limits.LINE_BREAKING, None, "\u200b\ue000\u0378"),
        ("\u200b\ue000\u0378", limits.INVISIBLE, None, "\\u200b\\ue000\\u0378"),
        ("abcdefghijkl", limits.LINE_BREAKING, 10, "abcdefg..."),
        ("abcdefghij", limits.LINE_BREAKING, 10, "abcdefghij"),
        ("ab\n\n\n\n\n", limits.LINE_BREAKING, 10, "ab\\n\\n..."),  # escapes count, never cut inside one
    ],
)
def test_printable(text, hidden, width, expected):
    assert limits.printable(text, hidden, width) == expected


# --- the course's numbers in help texts ------------------------------------------------------------


def test_the_course_defaults_are_written_in_network_only():
    """The function wizard's help names the course's numbers from network's defaults (its inputs
    and targets from the course's example in ``examples``)."""
    for pattern in (r"0\.15,\s*0\.2,\s*0\.25", r"0\.1,\s*0\.2,\s*0\.5,\s*0\.8"):
        assert holders(pattern) == {"xl_backprop.network"}, pattern
    # the course's inputs and targets are its example, beside the other presets (network's defaults)
    assert holders(r"0\.05,\s*0\.1\b") == {"xl_backprop.examples"}
    assert "Course example: 0.15, 0.2, 0.25, 0.3, 0.4, 0.45, 0.5, 0.55" in udfs.ARG_DOCS["weights"]
    assert udfs.ARG_DOCS["targets"].endswith("Course example: 0.01, 0.99")
    assert udfs.ARG_DOCS["lrs"].endswith("e.g. 0.1, 0.2, 0.5, 0.8, 1, 2")
    assert "the course uses 51: the start and 50 updates" in udfs.ARG_DOCS["iterations"]
