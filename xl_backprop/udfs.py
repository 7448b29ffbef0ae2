"""The Excel functions (UDFs): thin adapters from Excel's cells to the engine.

Each function reads its arguments as xlwings converts them (``@excel_function`` declares the
same ``@xw.arg`` conversion for all of them), checks them with the one set of helpers below,
calls ``xl_backprop.network`` or ``xl_backprop.analysis`` and returns a 2-D block. There is no
maths here.

Bad input never raises: the cell shows one short line naming the argument and what was
expected, e.g. ``weights: expected 8 numbers (w1..w8), got 7``, whatever the cell holds (text
is echoed with line breaks and control characters escaped; 10**400 or a signalling NaN is
named) and however many arguments the call passes. A result that overflows is reported the
same way instead of reaching Excel as a blank cell.

The docstrings and ``ARG_DOCS`` are the help Excel's function wizard shows
(xlwings hands them to ``Application.MacroOptions``, which keeps 255 characters of each), so
they are written for a student and collapsed into one line.

Excel calls these through the VBA module ``xl_backprop/workbook/vba/xl_backprop_udfs.bas``,
generated from this file: after renaming a function or changing a signature, run
``python tests/xlwings_windows.py --write-wrapper``.
"""

from __future__ import annotations

import datetime as dt
import decimal
import functools
import inspect
import math
import numbers

import numpy as np
import xlwings as xw

from . import network as _network
from .activations import DEFAULT as DEFAULT_ACTIVATION
from .activations import NAMES as ACTIVATION_NAMES
from .analysis import DEFAULT_THRESHOLD, Overflow, check_finite, grad_check, lr_summary, summary_rows
from .examples import MAX_EXAMPLES
from .examples import count_ok as examples_count_ok
from .excel_errors import excel_error
from .explain import ACCEPTED, DEFAULT_DIGITS, DEFAULT_LR, MAX_DIGITS, quantity_name, step_values
from .explain import text as explain_text
from .kernel import COMPILED
from .limits import (
    INVISIBLE,
    RUN_MORE,
    SHEET_COLUMNS,
    SHEET_ROWS,
    UDF_MAX_EXAMPLE_STEPS,
    UDF_MAX_STEPS_UNCOMPILED,
    UDF_MAX_VALUES,
    is_count,
    is_learning_rate,
    is_threshold,
    printable,
)
from .network import DEFAULT_BIASES, GRADIENT_NAMES, WEIGHT_NAMES, Forward, forward, gradients, sigmoid, step
from .network import train_curves as _train_curves

CATEGORY = "xl-backprop"

# What a worksheet holds (a result beyond it could not be shown) and what one call may compute:
# ``xl_backprop.limits`` states both.
MAX_ROWS = SHEET_ROWS
MAX_COLUMNS = SHEET_COLUMNS
MAX_CELLS = UDF_MAX_VALUES

# Every numeric argument is read the same way: a 2-D block (a single cell is 1 x 1) of
# objects that keeps each cell as Excel sent it -- a number, text, True/False, None for an
# empty cell, "#N/A" (or an int code, below) for an error value -- so that one checker can say
# what is wrong where.
CELLS = {"ndim": 2, "dtype": object, "empty": None, "err_to_str": True}

WEIGHTS = WEIGHT_NAMES
INPUTS = ("i1", "i2")
TARGETS = ("t1", "t2")
BIASES = ("b1", "b2")
FORWARD_NAMES = Forward._fields


def _listed(values) -> str:
    """The course's numbers as the help names them: network's defaults, not a copy."""
    return ", ".join(f"{v:g}" for v in values)


# The function wizard's help for each argument, by name: an argument means the same in every function.
ARG_DOCS = {
    "x": "A number, or a range of numbers",
    "weights": "The 8 weights w1..w8, a row or a column of 8 cells: w1..w4 feed the hidden layer, "
    f"w5..w8 the output layer. Course example: {_listed(_network.DEFAULT_WEIGHTS)}",
    "inputs": "The 2 inputs i1, i2 (2 cells), or N rows of 2 for N examples (E_total and the gradients are "
    f"then means over them). Course example: {_listed(_network.DEFAULT_INPUTS)}",
    "targets": "The 2 targets t1, t2 that the outputs should reach (2 cells), or N rows of 2, one per example "
    f"of inputs. Course example: {_listed(_network.DEFAULT_TARGETS)}",
    "lr": "The learning rate: how far to step against the gradient, e.g. 0.5",
    "lrs": f"The learning rates to compare, a row or a column of cells, e.g. {_listed(_network.DEFAULT_LRS)}",
    "iterations": "How many E_total values per learning rate: a whole number >= 1, the first before any "
    f"update (the course uses {_network.DEFAULT_ITERATIONS}: the start and {_network.DEFAULT_ITERATIONS - 1} updates)",
    "threshold": f"Optional: the E_total to get below (default {DEFAULT_THRESHOLD:g})",
    "biases": "Optional: the 2 biases b1 (hidden layer) and b2 (output layer), never trained. "
    "Leave out, or leave the cells empty, for none. Mazur's example: 0.35, 0.6",
    "hidden_activation": f"Optional: the hidden layer's activation, as text: {', '.join(ACTIVATION_NAMES)} "
    "(default sigmoid, the course's)",
    "output_activation": f"Optional: the output layer's activation, as text: {', '.join(ACTIVATION_NAMES)} "
    "(default sigmoid, the course's)",
}


# Excel sends every number as a float; ints come from Python callers -- or are error values.
_PLAIN_NUMBERS = frozenset({float, np.float64, np.int64})


class BadInput(ValueError):
    """One short line for the cell: the argument's name and what was expected."""


_FUNCTIONS: dict = {}  # name -> function, in the order defined


def excel_function(f):
    """Register ``f`` with Excel (``xw.func``), every argument read as ``CELLS`` with its help
    from ``ARG_DOCS`` (``xw.arg``); bad input returns its message instead of raising, and the
    docstring becomes the one line the function wizard can show."""
    g = _one_line_errors(f)
    for name in inspect.signature(f).parameters:
        g = xw.arg(name, np.array, doc=ARG_DOCS[name], **CELLS)(g)
    g = xw.func(category=CATEGORY)(g)
    _FUNCTIONS[f.__name__] = g
    return g


def function_help() -> list[dict]:
    """The function wizard's help, as xlwings' "Import Functions" hands it to Excel's
    ``Application.MacroOptions`` (Macro, Description, Category, ArgumentDescriptions; 255
    characters each), for every function: for a workbook that registers the help itself."""
    return [
        {
            "Macro": name,
            "Description": f.__doc__[:255],
            "Category": CATEGORY,
            "ArgumentDescriptions": [ARG_DOCS[p][:255] for p in inspect.signature(f).parameters],
        }
        for name, f in _FUNCTIONS.items()
    ]


def _one_line_errors(f):
    """``f``, returning a bad input's message (or a bug's first line) instead of raising; a call
    with too many or too few arguments is bad input too (a notebook, or a hand-edited wrapper)."""
    signature = inspect.signature(f)

    @functools.wraps(f)
    def wrapper(*args, **kwargs):
        try:
            signature.bind(*args, **kwargs)
        except TypeError:
            return _arity(f.__name__, signature, len(args) + len(kwargs))
        try:
            with np.errstate(all="ignore"):  # non-finite results are reported, not warned about
                return f(*args, **kwargs)
        except (BadInput, Overflow) as e:
            return str(e)[:255]  # the messages are short; this keeps a cell's text within VBA's reach
        except Exception as e:  # a bug: still one short line in the cell, never a traceback
            first_line = (str(e).splitlines() or [""])[0]
            return f"{f.__name__}: internal error, please report it ({type(e).__name__}: {first_line})"[:255]

    wrapper.__doc__ = " ".join(f.__doc__.split())
    return wrapper


def _arity(name: str, signature: inspect.Signature, given: int) -> str:
    """The one line for a call that does not match ``signature``: its arguments, by name."""
    params = list(signature.parameters.values())
    required = [p for p in params if p.default is p.empty]
    count = f"{len(params)}" if len(required) == len(params) else f"{len(required)} to {len(params)}"
    names = ", ".join(p.name for p in params)
    return f"{name}: expected {count} argument{'' if count == '1' else 's'} ({names}), got {given}"[:255]


# --- checking arguments: every UDF goes through these ---------------------------------------


def _fmt(x: float) -> str:
    return f"{x:.15g}"  # every digit a double carries: 51.0000001 is not shown as 51


def _count(n: int) -> str:
    """A count with thousands separators, or compactly when it is absurdly long (1e308 has 309 digits)."""
    text = f"{n:,}"
    if len(text) <= 30:
        return text
    mantissa, exponent = format(decimal.Decimal(n), ".6e").split("e")  # beyond a double too: 6 x 1e308
    return f"{mantissa.rstrip('0').rstrip('.')}e{exponent}"


#: What a cell holding a number a double cannot carry shows (10**400, a huge Decimal or Fraction).
BEYOND_DOUBLE = "a number beyond a double's range (about 1.8e308)"


def _shown_text(text: str, width: int = 20) -> str:
    """``text`` as a message may echo it: within ``width`` characters (cut with "..."), every
    character that does not show itself escaped (a line break as \\n): ``limits.printable``."""
    return printable(text, INVISIBLE, width)


def _value(v) -> float | str:
    """The cell ``v`` as a float if it holds a usable (finite) number, else what it holds, in
    words, for the message. Never calls a method ``v``'s own class may have redefined."""
    if v is None:
        return "an empty cell"
    if isinstance(v, (bool, np.bool_)):
        return "TRUE" if v else "FALSE"
    if isinstance(v, str):
        v = str.__str__(v)  # a plain copy: a subclass's __eq__ or __len__ is never called
        if not v:
            return "an empty cell"
    error = excel_error(v)
    if error is not None:
        return f"the error {error}" if error.startswith("#") else error
    if isinstance(v, str):
        return f'text "{_shown_text(v)}"'
    if isinstance(v, decimal.Decimal) and v.is_nan():  # float() refuses a signalling NaN
        return "NaN"
    if isinstance(v, (numbers.Real, decimal.Decimal)):  # Decimal: a cell formatted as Currency
        return _number_value(v)
    if isinstance(v, (dt.date, dt.datetime)):
        return "a date"
    return f"a {type(v).__name__}"


def _number_value(v: numbers.Real | decimal.Decimal) -> float | str:
    """``_value`` of a number: a float if it is finite as a double, else what it is, in words."""
    try:
        x = float(v)
    except OverflowError:
        return BEYOND_DOUBLE
    except Exception:  # a number type whose conversion fails: say what it is
        return f"a {type(v).__name__}"
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        infinite = isinstance(v, (float, np.floating)) or (isinstance(v, decimal.Decimal) and v.is_infinite())
        return ("infinity" if x > 0 else "-infinity") if infinite else BEYOND_DOUBLE
    return x


def _block(value) -> np.ndarray:
    """The cells of one argument as a 2-D object array. Excel's values arrive 2-D already
    (``CELLS``); plain Python numbers and lists, as a notebook passes them, are accepted too."""
    a = np.array(value, dtype=object)
    if a.ndim > 2:
        raise BadInput(f"expected a row, a column or a block of cells, got {a.ndim} dimensions")
    return a.reshape((1,) * (2 - a.ndim) + a.shape)


def numbers_of(value, name: str, labels: tuple[str, ...] | None = None, *, vector: bool = True) -> np.ndarray:
    """The finite numbers in ``value`` as float64, or BadInput naming ``name``.

    ``labels``: the exact cells expected, in order (w1..w8, i1 i2, ...); ``vector``: a row or
    a column, flattened; otherwise any block, shape kept (SIGMOID).
    """
    try:
        a = _block(value)
    except BadInput as e:
        raise BadInput(f"{name}: {e}") from None
    _check_shape(a, name, labels, vector)
    if all(type(v) in _PLAIN_NUMBERS for v in a.flat):  # the usual case, fast: only finiteness to check
        out = a.astype(float)
        if np.isfinite(out).all():
            return out.ravel() if vector else out
    out = _cells_as_numbers(a, name, labels, vector)
    return out.ravel() if vector else out


def _check_shape(a: np.ndarray, name: str, labels: tuple[str, ...] | None, vector: bool) -> None:
    """``numbers_of``'s shape rules: at least one cell; one cell where one label; a row or a
    column of as many cells as labels where ``vector``."""
    rows, cols = a.shape
    if a.size == 0:
        raise BadInput(f"{name}: expected at least one number, got none")
    if labels is not None and len(labels) == 1:
        if a.size != 1:
            raise BadInput(f"{name}: expected one number, got {a.size} cells")
    elif vector:
        legend = (
            f"{len(labels)} numbers ({labels[0]}..{labels[-1]})"
            if labels and len(labels) > 2
            else f"{len(labels)} numbers ({', '.join(labels)})"
            if labels
            else "numbers"
        )
        if rows > 1 and cols > 1:
            raise BadInput(f"{name}: expected a row or a column of {legend}, got a {rows} x {cols} block")
        if labels is not None and a.size != len(labels):
            raise BadInput(f"{name}: expected {legend}, got {a.size}")


def _cells_as_numbers(a: np.ndarray, name: str, labels: tuple[str, ...] | None, vector: bool) -> np.ndarray:
    """Each cell of ``a`` through ``_value``, or BadInput naming the first that is not a number."""
    out = np.empty(a.shape)
    for (r, c), v in np.ndenumerate(a):
        x = _value(v)
        if isinstance(x, str):
            raise BadInput(f"{name}: expected a number{_where(a.shape, labels, vector, r, c)}, got {x}")
        out[r, c] = x
    return out


def _where(shape: tuple[int, int], labels: tuple[str, ...] | None, vector: bool, r: int, c: int) -> str:
    """Where cell (``r``, ``c``) of a block of ``shape`` is, for a message: its label, its place in
    a row or column, or its row and column; nothing for a single cell."""
    rows, cols = shape
    k = r * cols + c
    return (
        ""
        if rows * cols == 1
        else f" for {labels[k]}"
        if labels is not None
        else f" in cell {k + 1}"
        if vector or rows == 1 or cols == 1
        else f" in row {r + 1}, column {c + 1}"
    )


def _is_omitted(value) -> bool:
    """An optional argument left out: VBA's Missing (xlwings passes the Python default, None),
    an empty argument, or cells that are all empty. Partly filled cells are checked as usual."""
    if value is None:
        return True
    return all(_value(v) == "an empty cell" for v in np.asarray(value, dtype=object).ravel())


def optional_numbers(value, name: str, labels: tuple[str, ...], default) -> np.ndarray:
    """``numbers_of`` for an optional argument: ``default`` when it is left out."""
    if _is_omitted(value):
        return np.asarray(default, dtype=float)
    return numbers_of(value, name, labels)


def whole_number(value, name: str) -> int:
    """A count such as ``iterations``: a whole number >= 1."""
    (x,) = numbers_of(value, name, (name,))
    if not is_count(x):
        raise BadInput(f"{name}: expected a whole number >= 1, got {_fmt(x)}")
    return int(x)


def fits_sheet(rows: int, cols: int, rows_from: str, cols_from: str = "") -> None:
    """A result of rows x cols must fit a worksheet."""
    if rows > MAX_ROWS:
        raise BadInput(f"{rows_from}: expected at most {MAX_ROWS:,} rows (a sheet's limit), got {_count(rows)}")
    if cols > MAX_COLUMNS:
        raise BadInput(f"{cols_from}: expected at most {MAX_COLUMNS:,} columns (a sheet's limit), got {_count(cols)}")


def learning_rates(value, name: str, labels: tuple[str, ...] | None = None) -> np.ndarray:
    """``numbers_of``, each a learning rate (``limits.is_learning_rate``: a number > 0)."""
    rates = numbers_of(value, name, labels)
    bad = [k for k, x in enumerate(rates) if not is_learning_rate(x)]
    if bad:
        where = "" if rates.size == 1 else f" in cell {bad[0] + 1}"
        raise BadInput(f"{name}: expected a positive number{where}, got {_fmt(rates[bad[0]])}")
    return rates


def network_args(weights, inputs, targets, biases):
    """The arguments every network function shares, checked; inputs and targets (2,) for one
    example, (N, 2) for N (``examples_of``)."""
    i, t = examples_of(inputs, targets)
    return (
        numbers_of(weights, "weights", WEIGHTS),
        i,
        t,
        optional_numbers(biases, "biases", BIASES, DEFAULT_BIASES),
    )


def examples_of(inputs, targets) -> tuple[np.ndarray, np.ndarray]:
    """inputs and targets: a row or a column of 2 cells is one example, as (2,) each; a block of
    N rows x 2 columns is N examples (1 to ``examples.MAX_EXAMPLES``), one per row, as (N, 2)."""
    i = _example_rows(inputs, "inputs", INPUTS)
    t = _example_rows(targets, "targets", TARGETS)
    if i.ndim != t.ndim or i.shape != t.shape:
        n_i, n_t = (1 if a.ndim == 1 else a.shape[0] for a in (i, t))
        raise BadInput(f"targets: expected {n_i:,} rows of 2 (t1, t2), one per example of inputs, got {n_t:,}")
    return i, t


def _example_rows(value, name: str, labels: tuple[str, str]) -> np.ndarray:
    try:
        rows, cols = _block(value).shape
    except BadInput as e:
        raise BadInput(f"{name}: {e}") from None
    if rows == 1 or cols == 1:  # one example, as the course has it
        return numbers_of(value, name, labels)
    if cols != 2:
        raise BadInput(f"{name}: expected 2 columns ({', '.join(labels)}), one row per example, got {cols} columns")
    if not examples_count_ok(rows):
        raise BadInput(f"{name}: expected 1 to {MAX_EXAMPLES:,} rows (examples), got {_count(rows)}")
    return numbers_of(value, name, vector=False)


def one_example(i: np.ndarray, function: str) -> None:
    """Refuse N examples where ``function`` takes one."""
    if i.ndim == 2:
        raise BadInput(f"inputs: {function} takes one example, expected 2 numbers (i1, i2), got {i.shape[0]:,} rows")


def activations_of(hidden_activation, output_activation) -> dict:
    """The two optional activation arguments, checked: ``network``'s keyword arguments."""
    return {
        "hidden_activation": activation_of(hidden_activation, "hidden_activation"),
        "output_activation": activation_of(output_activation, "output_activation"),
    }


def activation_of(value, name: str) -> str:
    """One cell naming an activation (any case, spaces around ignored), or the default when left
    out; BadInput naming ``name`` and the accepted names otherwise."""
    if _is_omitted(value):
        return DEFAULT_ACTIVATION
    expected = f"{name}: expected one of {', '.join(ACTIVATION_NAMES)}"
    try:
        a = _block(value)
    except BadInput as e:
        raise BadInput(f"{name}: {e}") from None
    if a.size != 1:
        raise BadInput(f"{expected} in one cell, got {a.size} cells")
    v = a.flat[0]
    if isinstance(v, str) and excel_error(v) is None:
        text = str.__str__(v)  # a plain copy: a subclass's own methods are never called
        if text.strip().lower() in ACTIVATION_NAMES:
            return text.strip().lower()
        raise BadInput(f'{expected}, got "{_shown_text(text)}"')
    x = _value(v)
    raise BadInput(f"{expected}, got {x if isinstance(x, str) else _fmt(x)}")


# --- the functions Excel sees ----------------------------------------------------------------


@excel_function
def SIGMOID(x):
    """The sigmoid 1 / (1 + e^-x) of a number, or of each cell of a range (same shape back).
    It squashes any number into the range 0 to 1, e.g. SIGMOID(0) = 0.5. Every neuron of the
    network applies it to its net input."""
    x = numbers_of(x, "x", vector=False)
    return sigmoid(x)


@excel_function
def FORWARD(weights, inputs, targets, biases=None, hidden_activation=None, output_activation=None):
    """Forward pass of the 2-2-2 network: a row of 11 values, h1, a_h1, h2, a_h2, o1, a_o1,
    o2, a_o2, E1, E2, E_total (a row per example). h, o: net inputs; a = the activation
    (SIGMOID by default) of the net input; E1 = 1/2 (t1 - a_o1)^2."""
    w, i, t, b = network_args(weights, inputs, targets, biases)
    acts = activations_of(hidden_activation, output_activation)
    pairs = zip(np.atleast_2d(i), np.atleast_2d(t), strict=True)
    block = np.array([forward(w, inputs=x, targets=y, biases=b, **acts) for x, y in pairs], dtype=float)
    return check_finite(block, lambda at: FORWARD_NAMES[at[1]], "try smaller weights, inputs or targets")


@excel_function
def GRADIENTS(weights, inputs, targets, biases=None, hidden_activation=None, output_activation=None):
    """Backpropagation: how E_total changes with each weight. Returns one row of 8 values,
    dE/dw1 .. dE/dw8, by the chain rule, e.g. dE/dw5 = (a_o1 - t1) * a_o1 * (1 - a_o1) * a_h1.
    A positive value means: make that weight smaller."""
    w, i, t, b = network_args(weights, inputs, targets, biases)
    g = gradients(w, inputs=i, targets=t, biases=b, **activations_of(hidden_activation, output_activation))[None, :]
    return check_finite(g, lambda at: GRADIENT_NAMES[at[1]], "try smaller weights, inputs or targets")


@excel_function
def BACKPROP_STEP(weights, inputs, targets, lr, biases=None, hidden_activation=None, output_activation=None):
    """One step of gradient descent, new w = w - lr * dE/dw for every weight. Returns one row of
    the 8 new weights w1..w8, so each row of a sheet can be BACKPROP_STEP of the row above.
    The biases are not changed."""
    w, i, t, b = network_args(weights, inputs, targets, biases)
    (rate,) = learning_rates(lr, "lr", ("lr",))
    new_w, _ = step(w, inputs=i, targets=t, lr=rate, biases=b, **activations_of(hidden_activation, output_activation))
    return check_finite(new_w[None, :], lambda at: f"the new {WEIGHTS[at[1]]}", "try a smaller learning rate")


def _check_work(n: int, n_rates: int, n_examples: int, summary: bool) -> None:
    """What one call may compute (limits.py): values, and training steps (one per example)."""
    if n * n_rates > MAX_CELLS:  # limits.UDF_MAX_VALUES: bounds the call's memory and its time
        raise BadInput(
            f"iterations x lrs: expected at most {MAX_CELLS:,} {'E_total values' if summary else 'cells'}, "
            f"got {_count(n)} x {n_rates:,} = {_count(n * n_rates)}; {RUN_MORE}"
        )
    steps, what = (n - 1) * n_rates, "(iterations - 1) x lrs"
    if n_examples > 1:
        steps, what = steps * n_examples, what + " x examples"
    if not COMPILED and steps > UDF_MAX_STEPS_UNCOMPILED:
        raise BadInput(
            f"{what}: expected at most {UDF_MAX_STEPS_UNCOMPILED:,} training steps where "
            f"Python runs without numba (xlwings Lite), got {_count(steps)}; {RUN_MORE}"
        )
    if n_examples > 1 and steps > UDF_MAX_EXAMPLE_STEPS:
        raise BadInput(
            f"{what}: expected at most {UDF_MAX_EXAMPLE_STEPS:,} training steps, got {_count(steps)}; {RUN_MORE}"
        )


def _curves(weights, inputs, targets, lrs, iterations, biases, acts, *, summary: bool = False):
    """Checked arguments and the loss curves, shared by TRAIN_CURVE and LR_SUMMARY (``acts``: the
    two activation arguments; ``summary``: the result is one row per learning rate, not the
    curves themselves)."""
    w, i, t, b = network_args(weights, inputs, targets, biases)
    acts = activations_of(*acts)
    rates = learning_rates(lrs, "lrs")
    n = whole_number(iterations, "iterations")
    if summary:
        fits_sheet(1 + rates.size, 5, "lrs")
    else:
        fits_sheet(n, rates.size, "iterations", "lrs")
    _check_work(n, rates.size, 1 if i.ndim == 1 else i.shape[0], summary)
    curves = _train_curves(rates, n, weights=w, inputs=i, targets=t, biases=b, **acts)
    check_finite(
        curves,
        lambda at: f"E_total in row {at[0] + 1} for lr {_fmt(rates[at[1]])}",
        lambda at: "try a smaller learning rate" if at[0] else "try smaller weights, inputs or targets",
    )
    return rates, curves


@excel_function
def TRAIN_CURVE(weights, inputs, targets, lrs, iterations, biases=None, hidden_activation=None, output_activation=None):
    """Trains the network once for each learning rate and returns E_total step by step: one
    column per learning rate, one row per step, row 1 before any update. The block spills
    below the cell; chart it to compare learning rates."""
    acts = (hidden_activation, output_activation)
    return _curves(weights, inputs, targets, lrs, iterations, biases, acts)[1]


@excel_function
def GRAD_CHECK(weights, inputs, targets, biases=None, hidden_activation=None, output_activation=None):
    """Checks backpropagation: each dE/dw next to a numerical estimate, (E(w+h) - E(w-h)) / 2h
    with h = 0.000001, and their relative error, which is tiny (below 1E-6) when the
    gradients are right. A header row, then one row per weight."""
    w, i, t, b = network_args(weights, inputs, targets, biases)
    gc = grad_check(w, i, t, b, **activations_of(hidden_activation, output_activation))
    check_finite(
        np.column_stack([gc.analytic, gc.numeric]),
        lambda at: f"{GRADIENT_NAMES[at[0]]} ({('analytic', 'numeric')[at[1]]})",
        "try smaller weights, inputs or targets",
    )
    header = ["weight", "dE/dw (backprop)", "dE/dw (numeric)", "relative error"]
    return [header] + [[name, *map(float, row)] for name, row in zip(WEIGHTS, np.column_stack(gc), strict=True)]


@excel_function
def LR_SUMMARY(
    weights,
    inputs,
    targets,
    lrs,
    iterations,
    threshold=None,
    biases=None,
    hidden_activation=None,
    output_activation=None,
):
    """Compares learning rates, one row each: final E_total, the first step with E_total below
    the threshold (step 0 = before any update), whether E_total only ever fell, and the first
    step where it rose. Trains like TRAIN_CURVE. Header row first."""
    (limit,) = optional_numbers(threshold, "threshold", ("threshold",), (DEFAULT_THRESHOLD,))
    if not is_threshold(limit):
        raise BadInput(f"threshold: expected a positive number, got {_fmt(limit)}")
    acts = (hidden_activation, output_activation)
    rates, curves = _curves(weights, inputs, targets, lrs, iterations, biases, acts, summary=True)
    header = ["lr", "final E_total", f"steps to E_total < {_fmt(limit)}", "only falls", "first rise"]
    return [header] + summary_rows(lr_summary(rates, curves, limit))


# --- the learning-rate map -----------------------------------------------------------------

ARG_DOCS.update(
    {
        "lr_hidden_range": "The learning rates of the hidden layer (w1..w4) to try, a row or a column of cells, "
        "e.g. 0.1, 1, 10, 100: one row of the result each",
        "lr_output_range": "The learning rates of the output layer (w5..w8) to try, a row or a column of cells: "
        "one column of the result each",
        "steps": "How many training steps each network takes: a whole number >= 1, e.g. 1000",
    }
)


@excel_function
def LR_MAP(
    weights, inputs, targets, lr_hidden_range, lr_output_range, steps, hidden_activation=None, output_activation=None
):
    """Trains a network per pair of learning rates (lr_hidden: w1..w4, lr_output: w5..w8); returns
    each final E_total, a row per lr_hidden, a column per lr_output. A colour scale makes it a map.
    N rows of inputs: N examples. Empty: not a number."""
    from .limits import MAP_MORE, UDF_MAX_MAP_STEPS, UDF_MAX_MAP_STEPS_UNCOMPILED
    from .lrmap import lr_map

    w, i, t, _ = network_args(weights, inputs, targets, None)
    acts = activations_of(hidden_activation, output_activation)
    lr_h = learning_rates(lr_hidden_range, "lr_hidden_range")
    lr_o = learning_rates(lr_output_range, "lr_output_range")
    n = whole_number(steps, "steps")
    fits_sheet(lr_h.size, lr_o.size, "lr_hidden_range", "lr_output_range")
    work = lr_h.size * lr_o.size * n
    cap = UDF_MAX_MAP_STEPS if COMPILED else UDF_MAX_MAP_STEPS_UNCOMPILED
    if work > cap:
        where = "" if COMPILED else " where Python runs without numba (xlwings Lite)"
        raise BadInput(
            f"lr_hidden_range x lr_output_range x steps: expected at most {cap:,} network steps{where}, "
            f"got {lr_h.size:,} x {lr_o.size:,} x {_count(n)} = {_count(work)}; {MAP_MORE}"
        )
    m = lr_map(lr_h, lr_o, n, weights=w, inputs=i, targets=t, **acts)
    return [[x if np.isfinite(x) else None for x in row] for row in m.E_final.tolist()]


# --- EXPLAIN: one formula of the step with its numbers (xl_backprop.explain) -------------------

ARG_DOCS.update(
    {
        "quantity": "What to explain, as text: h1, a_h1, o1, a_o1, E1, E_total, d_o1, d_h1 (the deltas), "
        "dE_dw1..dE_dw8 (or dE/dw5), new_w1..new_w8 (or new w5); h2, a_h2, o2, ... likewise",
        "digits": f"Optional: significant figures of each number, 1 to {MAX_DIGITS} (default {DEFAULT_DIGITS})",
    }
)


def text_of(value, name: str) -> str:
    """One cell of text, or BadInput naming ``name``."""
    try:
        a = _block(value)
    except BadInput as e:
        raise BadInput(f"{name}: {e}") from None
    if a.size != 1:
        raise BadInput(f"{name}: expected one cell of text, got {a.size} cells")
    v = a.flat[0]
    if isinstance(v, str):
        v = str.__str__(v)  # a plain copy: a subclass's own methods are never called
        if v.strip() and excel_error(v) is None:
            return v
    x = _value(v)
    raise BadInput(f"{name}: expected text such as dE/dw5, got {x if isinstance(x, str) else _fmt(x)}")


@excel_function
def EXPLAIN(
    quantity,
    weights,
    inputs,
    targets,
    biases=None,
    lr=None,
    digits=None,
    hidden_activation=None,
    output_activation=None,
):
    """One formula of the training step with its numbers plugged in, e.g. EXPLAIN("dE/dw5", ...)
    gives dE/dw5 = (a_o1 - t1)*a_o1*(1 - a_o1)*a_h1 = (0.7514 - 0.01000)*... = 0.08217. The last
    number is the value, to 4 figures. lr (default 0.5) is for new_w."""
    name = text_of(quantity, "quantity")
    q = quantity_name(name)
    if q is None:
        raise BadInput(f'quantity: expected one of {ACCEPTED}; got "{_shown_text(name)}"')
    w, i, t, b = network_args(weights, inputs, targets, biases)
    one_example(i, "EXPLAIN")
    rate = DEFAULT_LR if _is_omitted(lr) else learning_rates(lr, "lr", ("lr",))[0]
    (n,) = optional_numbers(digits, "digits", ("digits",), (DEFAULT_DIGITS,))
    if not (is_count(n) and n <= MAX_DIGITS):
        raise BadInput(f"digits: expected a whole number from 1 to {MAX_DIGITS}, got {_fmt(n)}")
    acts = activations_of(hidden_activation, output_activation)
    values = step_values(w, i, t, b, rate, **acts)
    names = list(values)
    check_finite(np.array(list(values.values())), lambda at: names[at[0]], "try smaller weights, inputs, targets or lr")
    return explain_text(q, values, int(n), *acts.values())
