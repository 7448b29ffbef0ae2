"""Training sets: the examples (i1, i2, t1, t2) a network learns from, stated once for every face.

A set holds 1 to ``MAX_EXAMPLES`` examples, as an array of shape (N, 4), columns ``COLUMNS``.
E_total is the mean over the examples of the course's ½((t1 − a_o1)² + (t2 − a_o2)²), and one
training step takes the mean gradient (full batch). One example is the course's case.

Presets (``PRESETS``):
- ``course``: the course's one example, i = (0.05, 0.1), t = (0.01, 0.99);
- ``half-adder``: the four 0/1 input pairs, t1 = i1 XOR i2 (the sum bit), t2 = i1 AND i2 (the
  carry): XOR is not linearly separable, so only the hidden layer can learn it;
- ``and-or``: the same inputs, t1 = i1 AND i2, t2 = i1 OR i2: both separable by one line, a
  set the network learns easily, to compare with the half-adder.

A CSV file of examples (``read_csv``): the header exactly ``i1,i2,t1,t2``, then one example a
line; read whole but bounded (``MAX_CSV_BYTES``), every cell a finite number, else ValueError
with one line naming the file's line and column.
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike

from .limits import as_numbers

COLUMNS = ("i1", "i2", "t1", "t2")
MAX_EXAMPLES = 1_000
#: A CSV of MAX_EXAMPLES lines of four 24-character numbers is under 100 kB; a larger file is refused unread.
MAX_CSV_BYTES = 256 * 1024

#: The course's one example (network's defaults): written here only.
COURSE_INPUTS = (0.05, 0.1)
COURSE_TARGETS = (0.01, 0.99)
DEFAULT = "course"  #: the preset every face trains on unless told otherwise
_BITS = ((0.0, 0.0), (0.0, 1.0), (1.0, 0.0), (1.0, 1.0))
PRESETS: dict[str, tuple[tuple[float, float, float, float], ...]] = {
    "course": (COURSE_INPUTS + COURSE_TARGETS,),
    "half-adder": tuple((a, b, float(int(a) ^ int(b)), float(int(a) & int(b))) for a, b in _BITS),
    "and-or": tuple((a, b, float(int(a) & int(b)), float(int(a) | int(b))) for a, b in _BITS),
}


def preset(name: str) -> np.ndarray:
    """The preset named ``name`` as an (N, 4) array; ValueError naming the presets otherwise."""
    if not isinstance(name, str) or name not in PRESETS:
        raise ValueError(f"data: expected one of {', '.join(PRESETS)} or a CSV file, got {name!r}"[:200])
    return np.array(PRESETS[name], dtype=float)


def count_ok(n: int) -> bool:
    """The rule for the size of a set: 1 to MAX_EXAMPLES examples."""
    return 1 <= n <= MAX_EXAMPLES


def as_examples(inputs: ArrayLike, targets: ArrayLike) -> np.ndarray:
    """Inputs (2,) or (N, 2) and targets of the same shape as one (N, 4) array of examples.

    Raises ValueError naming the argument: a shape other than those, N outside 1..MAX_EXAMPLES,
    a number that is not finite."""
    x = _pairs(inputs, "inputs", ("i1", "i2"))
    t = _pairs(targets, "targets", ("t1", "t2"))
    if t.shape[0] != x.shape[0]:
        raise ValueError(
            f"targets: expected {x.shape[0]:,} rows (t1, t2), one per example of inputs, got {t.shape[0]:,}"
        )
    return np.ascontiguousarray(np.column_stack([x, t]))


def _pairs(values: ArrayLike, name: str, labels: tuple[str, str]) -> np.ndarray:
    v = as_numbers(values, name)  # finite numbers, or one line naming ``name``
    if v.shape == (2,):
        v = v[None, :]
    if v.ndim != 2 or v.shape[1] != 2:
        raise ValueError(
            f"{name}: expected 2 values ({', '.join(labels)}) or one row of 2 per example, got shape {v.shape}"
        )
    if not count_ok(v.shape[0]):
        raise ValueError(f"{name}: expected 1 to {MAX_EXAMPLES:,} examples, got {v.shape[0]:,}")
    return v


def read_csv(path: Path) -> np.ndarray:
    """The examples in the CSV file at ``path`` as an (N, 4) array (see the module's docstring)."""
    with open(path, "rb") as f:
        data = f.read(MAX_CSV_BYTES + 1)
    if len(data) > MAX_CSV_BYTES:
        raise ValueError(f"{path}: expected a CSV file of at most {MAX_CSV_BYTES:,} bytes, it is larger")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValueError(f"{path}: expected a UTF-8 text file") from None
    return parse_csv(text, str(path))


def parse_csv(text: str, where: str = "data") -> np.ndarray:
    """``read_csv`` of a text already read: ``where`` names it in messages."""
    rows = list(csv.reader(io.StringIO(text)))
    while rows and not any(cell.strip() for cell in rows[-1]):
        rows.pop()  # blank lines at the end
    if not rows:
        raise ValueError(f"{where}: expected a header line {','.join(COLUMNS)}, the file is empty")
    header = [cell.strip() for cell in rows[0]]
    if header != list(COLUMNS):
        missing = [c for c in COLUMNS if c not in header]
        say = f"the column {missing[0]} is missing" if missing else f"got {','.join(header)[:60]!r}"
        raise ValueError(f"{where}: expected the header {','.join(COLUMNS)} (line 1); {say}")
    body = rows[1:]
    if not count_ok(len(body)):
        raise ValueError(
            f"{where}: expected 1 to {MAX_EXAMPLES:,} examples (lines after the header), got {len(body):,}"
        )
    return np.array([_row(r, n, where) for n, r in enumerate(body, start=2)], dtype=float)


def _row(cells: list[str], line: int, where: str) -> list[float]:
    if len(cells) != len(COLUMNS):
        raise ValueError(
            f"{where}: line {line}: expected {len(COLUMNS)} values ({','.join(COLUMNS)}), got {len(cells)}"
        )
    out = []
    for column, cell in zip(COLUMNS, cells, strict=True):
        try:
            x = float(cell)
        except ValueError:
            raise ValueError(f"{where}: line {line}, {column}: expected a number, got {cell.strip()[:20]!r}") from None
        if not math.isfinite(x):
            raise ValueError(f"{where}: line {line}, {column}: expected a finite number, got {cell.strip()[:20]!r}")
        out.append(x)
    return out
