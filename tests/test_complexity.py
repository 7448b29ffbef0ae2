"""Functions a newcomer can hold in their head (issue 16 item 2): no function or method in
xl_backprop/ above cyclomatic complexity 15 or above 60 lines of code, as radon measures them.

- Cyclomatic complexity: radon's ``cc_visit`` (what ``radon cc`` prints), per function, method and
  nested function; a function's own figure, without its nested functions' (radon's rule).
- Lines of code: radon's raw analysis (``radon.raw.analyze``, what ``radon raw`` prints) of the
  function's own source, from its ``def`` line to its last line (Python's ``end_lineno``),
  counting *logical* lines (``lloc``): one per statement however many physical lines it spans,
  a docstring one, comments and blank lines none. A nested function's lines count in the
  function around it too (they are part of what a reader holds).

``make complexity`` (run by ``make check``) prints radon's own figures.
"""

from __future__ import annotations

import ast
from pathlib import Path

from radon import complexity as radon_complexity
from radon import raw as radon_raw
from radon import visitors as radon_visitors

PACKAGE = Path(__file__).resolve().parents[1] / "xl_backprop"
MAX_COMPLEXITY = 15
MAX_LINES = 60


def _functions(blocks):
    """radon's blocks, functions and methods only, nested functions included."""
    for b in blocks:
        if isinstance(b, radon_visitors.Function):
            yield b
            yield from _functions(b.closures)


def _ends(tree: ast.AST) -> dict[int, int]:
    """The last line of each function, by the line of its ``def`` (radon's lineno)."""
    return {n.lineno: n.end_lineno for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}


def logical_lines(lines: list[str], first: int, last: int) -> int:
    """radon's logical lines of code of lines ``first``..``last`` (1-based), the ``def`` line's
    indentation removed (a continued string's lines keep theirs: the tokenizer does not mind)."""
    indent = len(lines[first - 1]) - len(lines[first - 1].lstrip())
    body = [line[indent:] if line[:indent].isspace() else line for line in lines[first - 1 : last]]
    return radon_raw.analyze("\n".join(body) + "\n").lloc


def measure(path: Path) -> list[tuple[str, int, int]]:
    """(``file:line name``, cyclomatic complexity, logical lines) for every function in ``path``."""
    return measure_source(path.read_text(encoding="utf-8"), path.relative_to(PACKAGE.parent).as_posix())


def measure_source(source: str, name: str) -> list[tuple[str, int, int]]:
    """``measure`` of the text of a module called ``name``."""
    lines = source.splitlines()
    ends = _ends(ast.parse(source))
    return [
        (f"{name}:{f.lineno} {f.fullname}", f.complexity, logical_lines(lines, f.lineno, ends[f.lineno]))
        for f in _functions(radon_complexity.cc_visit(source))
    ]


def test_logical_lines_counts_statements_not_physical_lines():
    """The measure itself, on a function whose figures are counted by hand: 1 def, 1 docstring,
    1 call over three lines, 1 if, 1 return; the comment and the blank line count nothing."""
    lines = [
        "    def f(x):",
        '        """Doc."""',
        "        # a comment",
        "        y = g(",
        "            x,",
        "        )",
        "",
        "        if y:",
        "            return y",
    ]
    assert logical_lines(lines, 1, len(lines)) == 5


def test_measure_sees_a_function_over_each_limit():
    """What the limit test would name, on made-up functions whose figures follow from McCabe's
    definition (one plus a decision per ``if``) and from counting statements: 15 ifs make 16,
    one over the limit; a def, a docstring and 60 assignments make 62 logical lines."""
    branches = "def branches(x):\n" + "".join(f"    if x == {k}:\n        return {k}\n" for k in range(15))
    long = 'class C:\n    def long(self):\n        """Doc."""\n' + "".join(f"        a{k} = {k}\n" for k in range(60))
    assert measure_source(branches, "m.py") == [("m.py:1 branches", 16, 31)]
    assert measure_source(long, "m.py") == [("m.py:2 C.long", 1, 62)]


def test_measure_finds_every_function():
    """Every ``def`` in the package is measured (radon misses none, nested ones included)."""
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        defs = sum(isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) for n in ast.walk(tree))
        assert len(measure(path)) == defs, path


def test_no_function_above_the_limits():
    too_big = [
        f"{where}: cyclomatic complexity {cc}, {loc} logical lines"
        for path in sorted(PACKAGE.rglob("*.py"))
        for where, cc, loc in measure(path)
        if cc > MAX_COMPLEXITY or loc > MAX_LINES
    ]
    assert not too_big, (
        f"above cyclomatic complexity {MAX_COMPLEXITY} or {MAX_LINES} logical lines (split into named steps):\n"
        + "\n".join(too_big)
    )
