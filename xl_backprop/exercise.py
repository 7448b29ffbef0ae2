"""The Practice sheet's exercises and its check, stated once for Python and for the sheet.

An exercise is the network of one training step: w1..w8, i1, i2, t1, t2 and the learning rate,
each a number with 2 decimals, drawn from a whole-number seed by a small integer hash:

    x = MOD(seed·HASH_A + j·HASH_B + HASH_C, HASH_P)     (j = 1..13: the draw's place in DRAWS)
    h = MOD(x², HASH_P)
    value = (lo + MOD(h, hi − lo + 1)) / 100             (lo, hi in hundredths: DRAWS)

HASH_P is a prime above SEED_MAX, so no two seeds share an x. Every number stays below 2**53 and
every quotient of MOD below 2**27, so Excel, LibreOffice and Python give the same integers, and
the same division by 100 gives the same double: the same seed is the same exercise on every
machine ("exercise 17"). Seed 0 is the course's own example (its
weights, inputs and targets; learning rate 0.5). No biases: b1 = b2 = 0.

``exercise`` draws in Python; ``excel_formula`` writes the same rule as a formula for the
sheet. ``is_right`` and ``excel_is_right`` state the check: an answer is right within
``RELATIVE`` (0.5 %) of the right value or ``ABSOLUTE`` (1e-6) of it. No I/O, no xlwings.
"""

from __future__ import annotations

import numbers
from typing import NamedTuple

from . import network

#: Seeds a learner may type: whole numbers 0..SEED_MAX (0: the course's example).
SEED_MAX = 99_999
COURSE_SEED = 0
#: The course's example's learning rate (the Backprop sheet's default, Mazur's example's).
COURSE_LR = 0.5
HASH_A = 7_919
HASH_B = 3_571
HASH_C = 1_013
HASH_P = 1_000_003  # a prime above SEED_MAX: every seed its own x
#: What each draw gives, in order (j = 1, 2, ...): (name, lowest, highest) in hundredths.
DRAWS = (
    *((f"w{k}", -100, 100) for k in range(1, 9)),  # weights -1.00 .. 1.00
    ("i1", 5, 100),  # inputs 0.05 .. 1.00
    ("i2", 5, 100),
    ("t1", 1, 99),  # targets 0.01 .. 0.99: what a sigmoid can reach
    ("t2", 1, 99),
    ("lr", 10, 100),  # learning rate 0.10 .. 1.00
)
#: The course's values of the same names (seed 0).
COURSE = dict(
    zip(
        (name for name, _, _ in DRAWS),
        (*network.DEFAULT_WEIGHTS, *network.DEFAULT_INPUTS, *network.DEFAULT_TARGETS, COURSE_LR),
        strict=True,
    )
)

#: The check: right within 0.5 % of the right value, or within 1e-6 of it.
RELATIVE = 0.005
ABSOLUTE = 1e-6


class Exercise(NamedTuple):
    """One exercise: ``weights`` (w1..w8), ``inputs`` (i1, i2), ``targets`` (t1, t2), ``lr``."""

    weights: tuple[float, ...]
    inputs: tuple[float, float]
    targets: tuple[float, float]
    lr: float


def is_seed(seed) -> bool:
    """Is ``seed`` a seed: a whole number 0..SEED_MAX (a float such as 17.0 counts)."""
    if isinstance(seed, bool) or not isinstance(seed, numbers.Real):
        return False
    return 0 <= seed <= SEED_MAX and float(seed).is_integer()


def draw(seed: int, j: int) -> float:
    """Draw ``j`` (1-based, DRAWS[j - 1]) of the exercise ``seed``: the hash above."""
    _, lo, hi = DRAWS[j - 1]
    x = (seed * HASH_A + j * HASH_B + HASH_C) % HASH_P
    h = x * x % HASH_P
    return (lo + h % (hi - lo + 1)) / 100


def exercise(seed: int) -> Exercise:
    """The exercise of ``seed`` (0..SEED_MAX; 0: the course's example)."""
    if not is_seed(seed):
        raise ValueError(f"seed: expected a whole number from 0 to {SEED_MAX}, got {seed!r}")
    seed = int(seed)
    names = [name for name, _, _ in DRAWS]
    if seed == COURSE_SEED:
        v = [float(COURSE[name]) for name in names]
    else:
        v = [draw(seed, j) for j in range(1, len(DRAWS) + 1)]
    return Exercise(tuple(v[:8]), (v[8], v[9]), (v[10], v[11]), v[12])


def excel_seed_ok(seed: str) -> str:
    """An Excel condition: the cell ``seed`` holds a seed (``is_seed``). Nested IFs, as Excel's
    AND would evaluate INT of a text."""
    return f"IF(ISNUMBER({seed}),AND({seed}>=0,{seed}<={SEED_MAX},INT({seed})={seed}),FALSE)"


def excel_formula(name: str, seed: str) -> str:
    """The formula of the exercise's ``name`` (w1..w8, i1, i2, t1, t2, lr) for the seed in cell
    ``seed``: the course's value at COURSE_SEED, the draw otherwise, #N/A for a bad seed."""
    j = [n for n, _, _ in DRAWS].index(name) + 1
    _, lo, hi = DRAWS[j - 1]
    x = f"MOD({seed}*{HASH_A}+{j * HASH_B + HASH_C},{HASH_P})"
    value = f"({lo}+MOD(MOD({x}^2,{HASH_P}),{hi - lo + 1}))/100"
    return f"=IF({excel_seed_ok(seed)},IF({seed}={COURSE_SEED},{COURSE[name]!r},{value}),NA())"


def is_right(answer: float, right: float) -> bool:
    """The check: ``answer`` within RELATIVE of ``right`` (relative to |right|) or within ABSOLUTE."""
    return abs(answer - right) <= max(ABSOLUTE, RELATIVE * abs(right))


def excel_is_right(answer: str, right: str) -> str:
    """``is_right`` as an Excel condition on two cells (both numbers)."""
    return f"ABS({answer}-{right})<=MAX({ABSOLUTE:f},{RELATIVE:f}*ABS({right}))"
