"""The limits every face enforces, stated once: what a sheet holds, how much one call may
compute, and what counts as an iteration count, a learning rate or a loss threshold.

The rule on size, one for all faces:

- A UDF call (TRAIN_CURVE, LR_SUMMARY) runs inside a cell, cannot be cancelled and blocks
  Excel, so it is capped at ``UDF_MAX_VALUES`` loss values (``iterations x lrs``), which
  bounds both its memory and its network steps. A larger
  run belongs to a face that shows progress and can be stopped: ``xl-backprop train`` or the
  ribbon's "Train learning rates" button -- the message says so.
- A batch run that writes a file is bounded by what that file can hold: the CLI's CSV by
  ``CSV_MAX_VALUES``; the ribbon's loss table (in Excel and through ``xl-backprop run``) by
  the block the template reserves for it, ``workbook.layout.MACRO_MAX_ITERATIONS`` rows of at
  most ``workbook.layout.LR_SLOTS`` learning rates: 10,485,670 values, a little above the UDF cap,
  because that bound is the sheet's, not the cell's.
"""

from __future__ import annotations

import decimal
import math
import numbers
import unicodedata

import numpy as np

#: Excel's sheet limits.
SHEET_ROWS = 1_048_576
SHEET_COLUMNS = 16_384

#: Loss values (iterations x learning rates) one UDF call may compute and hold. This one cap
#: bounds both what matters in a cell: memory (80 MB of float64; for TRAIN_CURVE, cells it
#: spills) and work, since a call runs (iterations - 1) x learning rates network steps, fewer
#: than its values. The compiled kernel does a step in 20-60 ns: 0.2-0.6 s for a full call on
#: an ordinary laptop, a few seconds on a slow one. The plain-numpy engine (NUMBA_DISABLE_JIT,
#: xlwings Lite) costs per iteration, whatever the number of learning rates: ~3.7 us each on a
#: laptop (19 us measured on a busy 2-core CI box), so 40-190 s for one learning rate at the
#: cap -- why the cap is no higher. A larger work cap (such as 50 million steps) would never
#: bind under this one, since a call's steps are fewer than its values.
UDF_MAX_VALUES = 10_000_000
#: Network steps (iterations - 1) x learning rates one UDF call may run where the training
#: loop is not compiled (``kernel.COMPILED`` is False: xlwings Lite, whose Pyodide has no
#: numba, or NUMBA_DISABLE_JIT=1). There a step costs about 3.5 µs in CPython and more in
#: Pyodide, so the value cap alone would allow 35 s or more in one cell; this keeps a call to
#: a few seconds.
UDF_MAX_STEPS_UNCOMPILED = 1_000_000
#: Most cells a defined input of the ribbon's actions may span (the template's largest, in_lrs,
#: has 10): a name spanning a whole sheet, from a hostile or broken book, is refused before
#: anything is read.
MAX_INPUT_CELLS = 1_000
#: Where to run more than a UDF call may.
RUN_MORE = "for more, use xl-backprop train or the ribbon's Train learning rates"

#: Loss values ``xl-backprop train`` computes and writes to its CSV (~200 MB of text).
CSV_MAX_VALUES = 10_000_000

#: The largest iteration count the ribbon's "Train learning rates" writes is not here but in
#: ``workbook.layout.MACRO_MAX_ITERATIONS``: the rows its loss table holds below its header,
#: derived from the place the layout gives that table and SHEET_ROWS above.


def is_count(n, minimum: int = 1) -> bool:
    """True for a whole number >= ``minimum``: an int, or a float such as 51.0 as Excel sends it
    (not True/False, not NaN or infinity)."""
    x = finite_number(n)
    return x is not None and x.is_integer() and x >= minimum


def is_learning_rate(x) -> bool:
    """A learning rate is a finite number > 0, in every face: 0 would never move the weights, and
    a negative one climbs the loss instead of descending it."""
    v = finite_number(x)
    return v is not None and v > 0


def is_threshold(x) -> bool:
    """A loss threshold ("the first step with E_total below it") is a finite number > 0, in every
    face: E_total is never negative, so a threshold of 0 or less could never be reached."""
    v = finite_number(x)
    return v is not None and v > 0


def finite_number(x) -> float | None:
    """``x`` as a finite float if it is a real number (not True/False, not text) a double holds,
    else None: NaN, infinity and an int beyond a double (10**400) included."""
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        return None
    try:
        v = float(x)
    except (OverflowError, ValueError):
        return None
    return v if math.isfinite(v) else None


def learning_rates_ok(values: np.ndarray) -> np.ndarray:
    """``is_learning_rate`` for each of an array of floats, at numpy speed (10 million from a CLI range)."""
    values = np.asarray(values, dtype=float)
    return np.isfinite(values) & (values > 0)


# --- the core API's arguments: checked where they enter, a ValueError or TypeError naming each ---


def shown(x) -> str:
    """A value as a message names it: a number's value, else its type (never a long repr)."""
    if isinstance(x, decimal.Decimal) and x.is_nan():  # float() refuses a signalling NaN
        return "NaN"
    if isinstance(x, (numbers.Real, decimal.Decimal)) and not isinstance(x, (bool, np.bool_)):
        try:
            return f"{float(x):.15g}"
        except OverflowError:
            return "a number beyond a double's range"
    if isinstance(x, (bool, np.bool_)):
        return str(bool(x))
    if isinstance(x, (str, bytes)):  # numpy's str_ too; never echoed: it may be long or hold line breaks
        return "text"
    return "None" if x is None else f"a {type(x).__name__}"


#: Unicode categories a message never prints as they are, in every face: controls (newline, CR,
#: ESC), lone surrogates, line and paragraph separators -- they break the line or drive a terminal.
LINE_BREAKING = frozenset({"Cc", "Cs", "Zl", "Zp"})
#: ... and, where text is only echoed (a cell's text in a UDF's message), every character that does
#: not show itself: format characters (a zero-width space), private-use and unassigned ones. The
#: CLI prints paths, where an emoji's zero-width joiner or a private-use character is part of the
#: name the user must recognise, so it escapes only ``LINE_BREAKING`` and ``BIDI``.
INVISIBLE = LINE_BREAKING | {"Cf", "Co", "Cn"}
#: Format characters that reorder text on a display (a file name could hide its end with them):
#: escaped whatever the categories.
BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def printable(text: str, hidden: frozenset[str] = LINE_BREAKING, width: int | None = None) -> str:
    """``text`` as one safe line, the one rule of every face's messages: characters of the
    Unicode categories ``hidden`` and ``BIDI`` escaped as Python writes them (``\\n``, ``\\x1b``,
    ``\\u202e``), and bytes that are not text in a file name (surrogate escapes) as ``\\xNN``.
    With ``width``, at most that many characters, cut with "..." (never inside an escape)."""
    head = text if width is None else text[: width + 1]  # a long text is never escaped whole
    pieces = [_escaped(ch) if unicodedata.category(ch) in hidden or ch in BIDI else ch for ch in head]
    if width is None or (len(text) <= width and sum(map(len, pieces)) <= width):
        return "".join(pieces)
    shown = ""
    for piece in pieces:
        if len(shown) + len(piece) > width - 3:
            break
        shown += piece
    return shown + "..."


def _escaped(ch: str) -> str:
    if 0xDC80 <= ord(ch) <= 0xDCFF:  # os.fsdecode's stand-in for an undecodable byte
        return f"\\x{ord(ch) - 0xDC00:02x}"
    return ch.encode("unicode_escape").decode("ascii")


def as_numbers(value, name: str) -> np.ndarray:
    """``value`` (a number or an array_like of numbers) as float64, every one finite; else
    TypeError (not numbers: None, text, True/False) or ValueError (NaN, infinity, a number beyond
    a double, a ragged list), each naming ``name``."""
    try:
        a = np.asarray(value)
    except (ValueError, TypeError):
        raise ValueError(f"{name}: expected numbers in a regular array, got a ragged one") from None
    if a.dtype.kind == "O":
        for v in a.flat:
            if isinstance(v, (bool, np.bool_)) or not isinstance(v, (numbers.Real, decimal.Decimal)):
                raise TypeError(f"{name}: expected numbers, got {shown(v)}")
            try:
                float(v)
            except (OverflowError, ValueError):  # 10**400, Decimal("sNaN")
                raise ValueError(f"{name}: expected finite numbers, got {shown(v)}") from None
    elif a.dtype.kind not in "iuf":  # text, True/False, complex, dates
        raise TypeError(f"{name}: expected numbers, got {shown(a.flat[0]) if a.size else 'an empty array'}")
    out = a.astype(float, copy=False)
    finite = np.isfinite(out)
    if not finite.all():
        raise ValueError(f"{name}: expected finite numbers, got {shown(out[~finite][0])}")
    return out


def as_learning_rates(value, name: str) -> np.ndarray:
    """``as_numbers``, each a learning rate (``is_learning_rate``: a finite number > 0)."""
    rates = as_numbers(value, name)
    ok = learning_rates_ok(rates)
    if not ok.all():
        raise ValueError(f"{name}: expected positive numbers, got {shown(rates[~ok][0])}")
    return rates


#: The learning-rate map (``xl-backprop map``, lrmap.py): pairs of learning rates in one run (a
#: 4,096 x 4,096 grid: 16.7 million networks, ~130 MB per result array) and network steps in one
#: run (pairs x steps; at ~10 ns a step on one core, 10^11 steps is about 15 minutes on a
#: 2-core laptop, or a cluster's job). Larger: several runs over narrower ranges.
MAP_MAX_PAIRS = 16_777_216
MAP_MAX_STEPS = 10**11
#: Network steps (pairs x steps) one LR_MAP call may run: the compiled map loop does a step in
#: ~10 ns on one core (~100 ns on a busy shared machine), so a full call takes 0.1-1 s. Where
#: the loop is not compiled (xlwings Lite) the map runs as numpy over each tile
#: (sweep.run_steps_arrays): ~17 µs a network step measured in CPython for a 10 x 10 call on
#: a busy machine, fewer for bigger tiles; the uncompiled cap keeps a call to a few seconds.
UDF_MAX_MAP_STEPS = UDF_MAX_VALUES
UDF_MAX_MAP_STEPS_UNCOMPILED = 200_000
#: Where to run more than LR_MAP may.
MAP_MORE = "for more, use xl-backprop map"
#: Frames ``xl-backprop animate`` draws at most (steps x phases): about 8 minutes at 4 frames a
#: second, and 15-30 minutes to draw (0.4-1 s a frame measured on a shared 2-core machine,
#: ``benchmarks/bench_animate.py``); the frames are written one at a time, memory stays flat.
ANIMATION_MAX_FRAMES = 2_000
#: Example steps, (iterations - 1) x learning rates x examples, one UDF call may run with more
#: than one example where the loop is compiled (about 0.5 s at 40-60 ns a step).
UDF_MAX_EXAMPLE_STEPS = UDF_MAX_VALUES
