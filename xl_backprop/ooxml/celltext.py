"""Rows below a sheet's last <row> as the XML text ``save`` streams: cell values kept as
Python values (``Segments``) or as numeric arrays (``Block``), formatted in bulk, and a writer
that compresses in a second thread while the next rows are formatted. No lxml here: these
rows never become elements."""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import NamedTuple
from xml.sax.saxutils import escape

import numpy as np

from ..cellref import Value, col_letters

CHUNK_ROWS = 8192  # rows of a numeric block formatted at a time while streaming
#: One row's values: (first column, values) pieces, later ones written over earlier ones.
Segments = list[tuple[int, Sequence[Value]]]


class Block(NamedTuple):
    """Numbers below a sheet's last <row>, kept as the array they came in (see ``Sheet.write_cells``)."""

    row: int
    col: int
    values: np.ndarray  # 2-D float64, finite
    styles: tuple[int | None, ...] | None = None  # a cell format (s) per column

    @property
    def last(self) -> int:
        return self.row + self.values.shape[0] - 1


def merge(segments: Segments) -> dict[int, Value]:
    """Column -> value of one tail row (later segments win), empty cells left out."""
    out: dict[int, Value] = {}
    for c0, line in segments:
        for j, v in enumerate(line):
            out[c0 + j] = v
    return {c: v for c, v in out.items() if v is not None}


def row_text(
    r: int, segments: Segments, letters: dict[int, str], styles: dict[int, int] | None = None, ns: str = ""
) -> str:
    """One <row> of the tail as XML text, in the form ``sheet._set_value`` gives a cell (``styles``:
    column -> cell format; ``ns``: the prefix of the sheet's elements with its colon, "" where
    the sheet's main namespace is the default one)."""
    cells = (
        merge(segments)
        if len(segments) > 1
        else {segments[0][0] + j: v for j, v in enumerate(segments[0][1]) if v is not None}
    )
    n = r + 1
    out = [f'<{ns}row r="{n}">']
    for c in sorted(cells):
        v = cells[c]
        ref_ = f"{letters.get(c) or letters.setdefault(c, col_letters(c))}{n}"
        at = f'r="{ref_}" s="{styles[c]}"' if styles and c in styles else f'r="{ref_}"'
        if isinstance(v, bool):
            out.append(f'<{ns}c {at} t="b"><{ns}v>{int(v)}</{ns}v></{ns}c>')
        elif isinstance(v, str):
            space = ' xml:space="preserve"' if v != v.strip() else ""
            out.append(f'<{ns}c {at} t="inlineStr"><{ns}is><{ns}t{space}>{escape(v)}</{ns}t></{ns}is></{ns}c>')
        else:
            out.append(f"<{ns}c {at}><{ns}v>{number_text(v, ref_)}</{ns}v></{ns}c>")
    out.append(f"</{ns}row>")
    return "".join(out)


class Writer:
    """Writes to ``out`` (a zip member) in a second thread, in order, while this one formats the
    next rows: zlib and crc32 release the GIL, so compressing overlaps formatting. At most two
    chunks wait, so memory stays a few chunks whatever the sheet's size."""

    def __init__(self, out):
        self._out = out
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="xl-backprop-zip")
        self._pending: deque[Future] = deque()

    def write(self, data: bytes) -> None:
        while len(self._pending) >= 2:
            self._pending.popleft().result()  # raises what the write raised
        self._pending.append(self._pool.submit(self._out.write, data))

    def __enter__(self) -> Writer:
        return self

    def __exit__(self, *exc) -> None:
        try:
            while self._pending:
                future = self._pending.popleft()
                if exc[0] is None:
                    future.result()
                else:
                    future.cancel() or future.exception()
        finally:
            self._pool.shutdown(wait=True)


def block_rows(block: Block, ns: str = "") -> Iterable[str]:
    """The <row> elements of a numeric block as text, a chunk of rows at a time, each cell as
    ``row_text`` writes it (whole numbers below 1e15 as integers, others in ``repr``, which
    reads back as the same float; ``ns`` as there)."""
    n_cols = block.values.shape[1]
    s = block.styles or ()
    template = (
        f'<{ns}row r="%d">'
        + "".join(
            f'<{ns}c r="{col_letters(block.col + j)}%d"'
            + (f' s="{s[j]}"' if j < len(s) and s[j] is not None else "")
            + f"><{ns}v>%s</{ns}v></{ns}c>"
            for j in range(n_cols)
        )
        + f"</{ns}row>"
    ).__mod__
    for start in range(0, block.values.shape[0], CHUNK_ROWS):
        chunk = block.values[start : start + CHUNK_ROWS]
        first = block.row + start + 1
        numbers = range(first, first + len(chunk))
        # one tuple per row: (n, n, text of column 0, n, text of column 1, ...)
        args = [numbers]
        for j in range(n_cols):
            args += [numbers, _column_text(chunk[:, j])]
        yield "".join(map(template, zip(*args, strict=True)))


def _column_text(col: np.ndarray) -> list[str]:
    whole = (col == np.trunc(col)) & (np.abs(col) < 1e15)
    if whole.all():
        return list(map(str, col.astype(np.int64).tolist()))
    if not whole.any():
        return list(map(repr, col.tolist()))
    return [str(int(x)) if w else repr(x) for x, w in zip(col.tolist(), whole.tolist(), strict=True)]


def number_text(value: float, where: str) -> str:
    x = float(value)
    if not math.isfinite(x):
        raise ValueError(f"{where}: cannot store {x!r} in a cell")
    return str(int(x)) if x.is_integer() and abs(x) < 1e15 else repr(x)
