"""The explanations (xl_backprop/explain.py): their numbers against the published ones and the
engine's, the number rule by hand, and the Excel renderer against the Python one in a real
LibreOffice, character for character."""

from __future__ import annotations

import math
import random
import re

import numpy as np
import pytest
import xlsxwriter

from xl_backprop import activations
from xl_backprop import explain as X

from . import libreoffice
from .published import MAZUR, MAZUR_E_TOTAL, MAZUR_LR, MAZUR_STEP_TEXT

# Mazur (2015) prints these, each to 8 or 9 decimal places (his article, "The Forward Pass" and
# "The Backwards Pass"); the explanation shows them to 4 significant figures.
MAZUR_PRINTED = {
    "h1": 0.3775,
    "a_h1": 0.593269992,
    "a_h2": 0.596884378,
    "o1": 1.105905967,
    "a_o1": 0.75136507,
    "a_o2": 0.772928465,
    "E1": 0.274811083,
    "E2": 0.023560026,
    "E_total": MAZUR_E_TOTAL,
    "dE_dw5": 0.082167041,
    "dE_dw1": 0.000438568,
    **{f"new_w{k}": float(v) for k, v in enumerate(MAZUR_STEP_TEXT, start=1)},
}


def last_number(text: str) -> float:
    """The value an explanation ends with."""
    return float(text.rsplit(" = ", 1)[1])


def within_shown_figures(shown: float, value: float, digits: int = 4) -> bool:
    """``shown`` is ``value`` to ``digits`` significant figures: off by at most half a unit in the last place."""
    if value == 0:
        return shown == 0
    unit = 10.0 ** (math.floor(math.log10(abs(value))) - digits + 1)
    return abs(shown - value) <= 0.5 * unit * (1 + 1e-9)


def mazur_values() -> dict[str, float]:
    return X.step_values(MAZUR["weights"], MAZUR["inputs"], MAZUR["targets"], MAZUR["biases"], MAZUR_LR)


def test_the_issue_example_for_mazurs_network():
    assert X.text("dE_dw5", mazur_values()) == (
        "∂E/∂w5 = (a_o1 − t1)·a_o1·(1 − a_o1)·a_h1 = (0.7514 − 0.01000)·0.7514·0.2486·0.5933 = 0.08217"
    )


@pytest.mark.parametrize("quantity", sorted(MAZUR_PRINTED))
def test_last_number_is_the_published_value(quantity):
    assert within_shown_figures(last_number(X.text(quantity, mazur_values())), MAZUR_PRINTED[quantity])


def test_every_last_number_is_the_engines_value():
    rng = np.random.default_rng(7)
    for _ in range(50):
        v = X.step_values(rng.uniform(-3, 3, 8), rng.uniform(-1, 1, 2), rng.uniform(0, 1, 2), rng.uniform(-1, 1, 2))
        for q in X.QUANTITIES:
            assert within_shown_figures(last_number(X.text(q, v)), v[q]), (q, v[q], X.text(q, v))


def test_the_forms_say_what_the_course_says():
    v = X.step_values()  # the course's network: no biases, so no bias terms
    t = X.texts(v)
    assert t["h1"] == "h1 = w1·i1 + w2·i2 = 0.1500·0.05000 + 0.2000·0.1000 = 0.02750"
    assert t["a_h1"].startswith("a_h1 = σ(h1) = σ(0.02750) = ")
    assert t["E1"].startswith("E1 = ½(t1 − a_o1)² = ½(0.01000 − ")
    assert t["d_o1"].startswith("δo1 = ∂E/∂o1 = (a_o1 − t1)·a_o1·(1 − a_o1) = ")
    assert "(∂E1/∂a_h1 + ∂E2/∂a_h1)·a_h1·(1 − a_h1) = (δo1·w5 + δo2·w7)·a_h1·(1 − a_h1)" in t["d_h1"]
    assert t["new_w7"].startswith("new w7 = w7 − lr·∂E/∂w7 = 0.5000 − 0.5000·(-0.0")  # a negative gradient, bracketed
    assert t["a_h1"].count("(") == 2 and X.text("a_h1", {**v, "h1": -0.5}).startswith("a_h1 = σ(h1) = σ(-0.5000)")
    mazur = X.text("o1", mazur_values())
    assert mazur == "o1 = w5·a_h1 + w6·a_h2 + b2 = 0.4000·0.5933 + 0.4500·0.5969 + 0.6000 = 1.106"


NUMBERS = [  # (x, digits, as shown): worked out by hand
    (0.0, 4, "0"),
    (-0.0, 4, "0"),
    (0.15, 4, "0.1500"),
    (0.01, 4, "0.01000"),
    (0.75136507, 4, "0.7514"),
    (-0.0381, 4, "-0.03810"),
    (0.99995, 4, "1.000"),  # rounding carries into the next power of ten: still 4 figures
    (9.9995, 4, "10.00"),
    (999.95, 4, "1000"),
    (123456.0, 4, "123500"),
    (1000.0, 4, "1000"),
    (0.285, 2, "0.29"),  # half away from zero on the decimal value, as Excel: Python's round gives 0.28
    (2.675, 3, "2.68"),
    (-2.675, 3, "-2.68"),
    (1.0005, 4, "1.001"),
    (0.5, 1, "0.5"),
    (0.95, 1, "1"),
    (1.23456e-12, 4, "1.235E-12"),
    (-9.9996e-11, 4, "-1.000E-10"),
    (2.5e13, 3, "2.50E13"),
    (1 / 3, 15, "0.333333333333333"),
]


@pytest.mark.parametrize(("x", "digits", "shown"), NUMBERS)
def test_number_rule(x, digits, shown):
    assert X.number(x, digits) == shown


SPELLINGS = {
    "dE_dw5": ["dE_dw5", "dE/dw5", "∂E/∂w5", "DE/DW5", " de_dw5 "],
    "d_o1": ["d_o1", "δo1", "δ o1", "delta_o1", "D_O1"],
    "new_w5": ["new_w5", "new w5", "New W5", "neww5"],
    "E_total": ["E_total", "Etotal", "e_total", "E total"],
    "a_h1": ["a_h1", "A_H1", "ah1"],
    "h2": ["h2", "H2"],
}


@pytest.mark.parametrize("quantity", sorted(SPELLINGS))
def test_the_course_spellings(quantity):
    for name in SPELLINGS[quantity]:
        assert X.quantity_name(name) == quantity, name
    assert X.quantity_name("w5") is None and X.quantity_name("E3") is None and X.quantity_name(5) is None
    assert all(X.quantity_name(q) == q for q in X.QUANTITIES)


# --- the Excel renderer, recalculated by LibreOffice ---------------------------------------------


def stored(x: float) -> float:
    """x as a cell keeps it: XlsxWriter writes 16 significant figures, so the test's values have 15."""
    return float(f"{x:.15g}")


def sample_values():
    """Random over magnitudes 1e-9 .. 1e3 and beyond, both signs, zero, and rounding edges."""
    rng = random.Random(15)
    values = [0.0, 1.0, -1.0, 0.5, 0.99995, 9.9995, 99.995, 999.95, 0.00099995, 9.9995e-9, 1e-9, 9.9999e-10]
    values += [10.0**k for k in range(-12, 14)] + [-(10.0**k) for k in range(-3, 4)]
    values += [0.285, 2.675, 1.0005, 0.12345, 0.00012345, 1234.5, 12345678.5, 999999999999.5, 1e12, 2.5e13]
    values += [stored(rng.choice((1, -1)) * 10 ** rng.uniform(-9, 3)) for _ in range(300)]
    values += [stored(rng.choice((1, -1)) * 10 ** rng.uniform(-15, 15)) for _ in range(60)]
    # exactly half a unit in the 4th figure, where binary rounding and decimal rounding part ways
    values += [
        stored(rng.choice((1, -1)) * (rng.randrange(1000, 10000) + 0.5) * 10.0 ** rng.randrange(-12, 2))
        for _ in range(80)
    ]
    return values


NETWORKS = [  # (weights, inputs, targets, biases, lr)
    ((0.15, 0.2, 0.25, 0.3, 0.4, 0.45, 0.5, 0.55), (0.05, 0.1), (0.01, 0.99), (0.0, 0.0), 0.5),
    (MAZUR["weights"], MAZUR["inputs"], MAZUR["targets"], MAZUR["biases"], MAZUR_LR),
    ((-1.5, 2.0, 0.7, -3.0, 2.5, -1.25, -0.4, 4.0), (-0.3, 0.9), (0.9, 0.1), (-0.2, 0.45), 2.0),
    ((8.0, 9.0, -7.0, 6.0, 12.0, -11.0, 10.0, 13.0), (3.0, -2.0), (0.0, 1.0), (0.0, 1.5), 0.05),
]


def test_excel_formulas_give_the_python_text_in_libreoffice(tmp_path):
    values = sample_values()
    digit_columns = (4, 1, 2, 3, 6, 15)
    path = tmp_path / "explain.xlsx"
    book = xlsxwriter.Workbook(path)
    numbers = book.add_worksheet("Numbers")
    for r, x in enumerate(values):
        numbers.write_number(r, 0, x)
        for c, digits in enumerate(digit_columns, start=1):
            numbers.write_formula(r, c, "=" + X.number_formula(f"$A{r + 1}", digits, bare=False), None, "")
    step = book.add_worksheet("Step")
    names = (*X.PARAMETERS, *X.QUANTITIES)
    expected = {}
    for c, (w, i, t, b, lr) in enumerate(NETWORKS):
        v = {k: stored(x) for k, x in X.step_values(w, i, t, b, lr).items()}
        col = "BCDE"[c]
        cells = {n: f"Step!${col}${r + 1}" for r, n in enumerate(names)}
        for r, n in enumerate(names):
            step.write_number(r, 1 + c, v[n])
        for r, q in enumerate(X.QUANTITIES):
            formula = X.excel_formula(q, cells)
            assert len(formula) <= 8192  # Excel's limit on a formula's length
            step.write_formula(len(names) + r, 1 + c, formula, None, "")
            expected[(len(names) + r, 1 + c)] = X.text(q, v)
    book.close()

    got = libreoffice.recalculated_values(path, tmp_path)
    sheet = got["Numbers"]
    mismatches = [
        (x, digits, sheet.cell(r + 1, c + 1).value, X._substituted(x, digits, bare=False))
        for r, x in enumerate(values)
        for c, digits in enumerate(digit_columns, start=1)
        if sheet.cell(r + 1, c + 1).value != X._substituted(x, digits, bare=False)
    ]
    assert mismatches == []
    sheet = got["Step"]
    for (r, c), text in expected.items():
        assert sheet.cell(r + 1, c + 1).value == text
    assert re.search(
        r"\(-\d", expected[(len(names) + X.QUANTITIES.index("new_w7"), 1)]
    )  # a bracketed negative was compared


def test_operands_are_what_the_formula_reads():
    assert X.operands("dE_dw5") == ("dE_dw5", "a_o1", "t1", "a_h1")
    assert X.operands("h1") == ("h1", "w1", "i1", "w2", "i2", "b1")
    assert X.operands("d_h2") == ("d_h2", "d_o1", "w6", "d_o2", "w8", "a_h2")
    cells = {n: f"Z{k + 1}" for k, n in enumerate(X.operands("E_total"))}
    assert X.excel_formula("E_total", cells).startswith('="E_total = E1 + E2 = "&IF(Z2<0,"(","")&IF(Z2=0,"0",')
    with pytest.raises(KeyError, match="cells: expected the address of E2, missing"):
        X.excel_formula("E_total", {"E_total": "A1", "E1": "A2"})
    long = {n: f"INDEX('A sheet with a long name'!$C$10:$C$60,WalkStep+1,{k})" for k, n in enumerate(X.PARAMETERS)}
    long.update({q: long["w1"] for q in X.QUANTITIES})
    with pytest.raises(ValueError, match=r"cells: the formula for dE_dw1 would be [\d,]+ characters"):
        X.excel_formula("dE_dw1", long)


# --- texts that follow a sheet's activation dropdowns (issue 18) -------------------------------------
PAIRS = [(h, o) for h in activations.NAMES for o in activations.NAMES]


def _resolved(terms: tuple, chosen: dict[str, str]) -> tuple:
    """``terms`` with each ByActivation replaced by its option for the chosen activations."""
    out: list = []
    for t in terms:
        if isinstance(t, X.ByActivation):
            out.extend(_resolved(t.options[activations.NAMES.index(chosen[t.layer])], chosen))
        elif isinstance(t, X.IfNonzero):
            out.append(X.IfNonzero(t.name, _resolved(t.terms, chosen)))
        else:
            out.append(t)
    return tuple(out)


def _symbolic(terms: tuple) -> str:
    return "".join(t.symbol if isinstance(t, X.Ref) else t for t in terms)


@pytest.mark.parametrize("hidden, output", PAIRS)
def test_generic_specs_are_each_pairs_specs(hidden, output):
    chosen = {"hidden": hidden, "output": output}
    generic = X.generic_specs()
    for q, spec in X.specs_for(hidden, output).items():
        g = generic[q]
        forms = tuple(f if isinstance(f, str) else _symbolic(_resolved(f, chosen)) for f in g.forms)
        assert forms == spec.forms, q
        assert _resolved(g.terms, chosen) == spec.terms, q


def test_generic_formulas_choose_by_the_layer_they_depend_on():
    cells = {n: f"$B${k + 1}" for k, n in enumerate((*X.PARAMETERS, *X.QUANTITIES))}
    codes = {"hidden": "HiddenActCode", "output": "OutputActCode"}
    uses = {
        q: {layer for layer, name in codes.items() if name in X.excel_formula(q, cells, codes=codes)}
        for q in X.QUANTITIES
    }
    assert uses["a_h1"] == uses["d_h2"] == uses["dE_dw3"] == {"hidden"}
    assert uses["a_o2"] == uses["d_o1"] == uses["dE_dw8"] == {"output"}
    assert uses["h1"] == uses["E_total"] == uses["new_w1"] == set()
    assert max(len(X.excel_formula(q, cells, codes=codes)) for q in X.QUANTITIES) <= X.EXCEL_MAX_FORMULA
    with pytest.raises(KeyError, match="codes: expected the output layer's activation code"):
        X.excel_formula("a_o1", cells, codes={"hidden": "A1"})


def test_excel_formulas_with_codes_give_each_pairs_text_in_libreoffice(tmp_path):
    """One sheet, one column per activation pair: the codes in two cells, the network's values
    (signs of both kinds, so relu's and leaky_relu's 0 and 0.01 slopes occur), the formulas."""
    w, i, t, b, lr = NETWORKS[2]
    path = tmp_path / "codes.xlsx"
    book = xlsxwriter.Workbook(path)
    ws = book.add_worksheet("Step")
    names = (*X.PARAMETERS, *X.QUANTITIES)
    expected = {}
    slopes_seen = set()
    for c, (hidden, output) in enumerate(PAIRS, start=1):
        v = {k: stored(x) for k, x in X.step_values(w, i, t, b, lr, hidden, output).items()}
        col = xlsxwriter.utility.xl_col_to_name(c)
        cells = {n: f"${col}${r + 3}" for r, n in enumerate(names)}
        codes = {"hidden": f"${col}$1", "output": f"${col}$2"}
        ws.write_number(0, c, activations.NAMES.index(hidden) + 1)
        ws.write_number(1, c, activations.NAMES.index(output) + 1)
        for r, n in enumerate(names):
            ws.write_number(r + 2, c, v[n])
        for r, q in enumerate(X.QUANTITIES):
            row = len(names) + 2 + r
            ws.write_formula(row, c, X.excel_formula(q, cells, codes=codes), None, "")
            expected[(row, c)] = X.text(q, v, hidden_activation=hidden, output_activation=output)
        slopes_seen.update((a, v[f"a_{u}"] > 0) for a, u in ((hidden, "h1"), (hidden, "h2"), (output, "o1")))
    book.close()
    assert ("relu", False) in slopes_seen and ("relu", True) in slopes_seen and ("leaky_relu", False) in slopes_seen
    sheet = libreoffice.recalculated_values(path, tmp_path)["Step"]
    wrong = [
        (r, c, sheet.cell(r + 1, c + 1).value, text)
        for (r, c), text in expected.items()
        if sheet.cell(r + 1, c + 1).value != text
    ]
    assert wrong == []
    tanh_relu = expected[(len(names) + 2 + X.QUANTITIES.index("dE_dw1"), 1 + PAIRS.index(("tanh", "relu")))]
    assert "·(1 − a_h1²)·i1 = " in tanh_relu  # tanh' written in a_h1, the numbers after it
