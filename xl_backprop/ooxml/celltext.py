"""Rows below a sheet's last <row> as the XML text ``save`` streams: cell values kept as
Python values (``Segments``) or as numeric arrays (``Block``), formatted in bulk, and a writer
that compresses in a second thread while the next rows are formatted. No lxml here: these
rows never become elements."""

from __future__ import annotations

import math
import re
from collections import deque
from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import NamedTuple
from xml.sax.saxutils import escape

import numpy as np

from ..cellref import Value, col_letters, parse_cell

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


# --- reading a long tail back: the rows ``block_rows`` writes, kept as text until needed -------
#: An xsd:double as ``block_rows`` writes it (no INF/NaN: a cell holding one is left to the tree).
_NUMBER = rb"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
_END = re.compile(rb"</(?:([A-Za-z_][\w.-]*):)?sheetData>")
READ_CHUNK_BYTES = 8 << 20  # of a tail checked or read at a time


class Tail(NamedTuple):
    """The last rows of a sheet part, all in ``block_rows``' form (the same cells and formats in
    each, numbers only), checked but kept as the part's text: ``data[start:end]`` (``data``
    may be left empty, the part's text read again when needed). Rows
    ``row``..``last`` (0-based, each once, in order), columns ``col``..``col + width - 1``."""

    data: bytes
    start: int
    end: int
    ns: str  # the rows' element prefix with its colon, "" for none
    row: int
    last: int
    col: int
    width: int
    styles: tuple[int | None, ...]


def find_tail(data: bytes) -> Tail | None:
    """The longest run of rows in ``block_rows``' form that ends at the last "</sheetData>" of
    ``data``; None when there is none.

    Only a proposal found in the bytes: the caller parses ``data`` without the run, with a mark
    where it was, and keeps the proposal only if the parser puts that mark last in <sheetData>
    (not in a comment, not in another element). Checked backwards a few MB at a time, each piece
    by one regular expression run in C; the values are read only if needed (``read_tail``)."""
    end = data.rfind(b"sheetData>")
    tag = _END.fullmatch(data, data.rfind(b"</", 0, max(end, 0)), end + 10) if end > 0 else None
    if tag is None:
        return None
    end = tag.start()
    ns = tag.group(1) + b":" if tag.group(1) else b""
    row_start = b"<" + ns + b'row r="'
    last = data.rfind(row_start, 0, end)
    template = _row_template(data[last:end], ns) if last >= 0 else None
    if template is None:
        return None
    row, col, styles = template
    start, count = end, 0
    while start > 0:
        cut = data.rfind(row_start, 0, max(start - READ_CHUNK_BYTES, 0) + 1)
        rest, n = row.subn(b"", data[cut:start]) if cut >= 0 else (b"?", 0)
        if rest:  # the run starts in this piece: find where, a row at a time
            while (cut := data.rfind(row_start, 0, start)) >= 0 and row.fullmatch(data, cut, start) is not None:
                start, count = cut, count + 1
            break
        start, count = cut, count + n
    if not count:
        return None
    first = row.match(data, start)
    r1, r2 = int(first.group("r")) - 1, int(row.fullmatch(data, last, end).group("r")) - 1
    if r2 - r1 + 1 != count:  # rows repeated or out of order: left to the tree, which says so
        return None
    return Tail(data, start, end, ns.decode(), r1, r2, col, len(styles), styles)


def read_tail(tail: Tail) -> Block:
    """The numbers of ``tail`` as one Block (rows checked in order, each once)."""
    data, ns = tail.data, re.escape(tail.ns.encode())
    numbers = re.compile(b"<" + ns + rb'row r="([0-9]+)"')
    values = re.compile(b"<" + ns + rb"v>([^<]*)</")
    table = np.empty((tail.last - tail.row + 1, tail.width))
    pos, i = tail.start, 0
    while pos < tail.end:
        cut = data.find(b"<" + tail.ns.encode() + b'row r="', min(pos + READ_CHUNK_BYTES, tail.end))
        cut = tail.end if cut < 0 or cut > tail.end else cut
        rows = list(map(int, numbers.findall(data, pos, cut)))
        if rows != list(range(tail.row + 1 + i, tail.row + 1 + i + len(rows))):
            raise ValueError("rows out of order")  # find_tail counted them; never seen
        # each value an xsd:double by find_tail's pattern, which float() reads as the parser would
        table[i : i + len(rows)] = np.array(list(map(float, values.findall(data, pos, cut)))).reshape(len(rows), -1)
        pos, i = cut, i + len(rows)
    styles = tail.styles if any(s is not None for s in tail.styles) else None
    return Block(tail.row, tail.col, table, styles)


def _row_template(row: bytes, ns: bytes) -> tuple[re.Pattern, int, tuple[int | None, ...]] | None:
    """The pattern of rows with the cells (columns and formats) of ``row``: a group "r" for the
    row number and one per value; None unless ``row`` is in ``block_rows``' form, its columns
    side by side."""
    p = re.escape(ns)
    cell = re.compile(rb"<" + p + rb'c r="([A-Z]{1,3})([0-9]+)"(?: s="([1-9][0-9]*|0)")?><' + p + rb"v>" + _NUMBER)
    head = re.match(rb"<" + p + rb'row r="([1-9][0-9]*)">', row)
    if head is None:
        return None
    close = b"</" + ns + b"v></" + ns + b"c>"
    cols: list[int] = []
    styles: list[int | None] = []
    pattern = [rb"<" + p + rb'row r="(?P<r>[1-9][0-9]*)">']
    pos = head.end()
    while (m := cell.match(row, pos)) is not None and row.startswith(close, m.end()):
        if m.group(2) != head.group(1):
            return None
        cols.append(parse_cell(m.group(1).decode() + "1")[1])
        styles.append(None if m.group(3) is None else int(m.group(3)))
        s_attr = b"" if m.group(3) is None else b' s="' + m.group(3) + b'"'
        pattern.append(
            rb"<"
            + p
            + rb'c r="'
            + m.group(1)
            + rb'(?P=r)"'
            + re.escape(s_attr)
            + rb"><"
            + p
            + rb"v>"
            + _NUMBER
            + re.escape(close)
        )
        pos = m.end() + len(close)
    if not cols or row[pos:] != b"</" + ns + b"row>" or cols != list(range(cols[0], cols[0] + len(cols))):
        return None
    pattern.append(re.escape(b"</" + ns + b"row>"))
    return re.compile(b"".join(pattern)), cols[0], tuple(styles)
