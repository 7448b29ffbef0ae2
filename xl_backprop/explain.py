"""Every formula of one training step with its numbers plugged in, stated once for every face.

For each quantity q of the step (``QUANTITIES``: h1 … E_total, the δs, dE_dw1..8, new_w1..8)
``SPECS[q]`` holds its symbolic form in the course's notation and the operands it is made of,
for example

    ∂E/∂w5 = (a_o1 − t1)·a_o1·(1 − a_o1)·a_h1 = (0.7514 − 0.01000)·0.7514·0.2486·0.5933 = 0.08217

Two renderers read the same spec: ``text`` writes the line in Python for given values (the
EXPLAIN function, the animation), ``excel_formula`` writes an Excel formula that builds the
same line from cell references (the sheet's ``Explain_<q>`` cells), with nothing but IF, OR,
ABS, INT, LOG10, ROUND, MAX, FIXED and ``&``, which Excel 2010 and LibreOffice both have.

The number rule, one for both sides (``number``; ``digits`` significant figures, 4 by default):

- 0 is "0";
- otherwise the exponent e = INT(LOG10(|r|)) of x rounded to its significant figures,
  r = ROUND(x, digits − 1 − INT(LOG10(|x|))) (so that 9.9995 is "10.00", not "10.000");
- 1e-9 <= |x| < 1e12 (and 15 decimal places suffice): FIXED(ROUND(x, d), d) with
  d = digits − 1 − e, trailing zeros kept ("0.1500": four figures; a negative d rounds to the
  left: 123456 is "123500");
- else FIXED(ROUND(x / 10^e, digits − 1), digits − 1) & "E" & e, e.g. "1.235E-10";
- substituted into a formula, a negative number is put in parentheses: "0.4000 − 0.5000·(-0.03810)".

ROUND in Excel and LibreOffice rounds half away from zero, on the number's decimal value to 15
significant figures (ROUND(0.285, 2) = 0.29, where Python's round gives 0.28; LibreOffice's
FIXED alone gives 0.28, hence FIXED of ROUND); the Python side does exactly that
(``excel_round``), so both sides give the same string: a test recalculates the generated
formulas in LibreOffice and compares them character for character.

No I/O, no xlwings: the values come from ``network`` (forward, chain, backward, step).
"""

from __future__ import annotations

import decimal
import functools
import math
import re
from collections.abc import Callable, Mapping
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from . import activations, network

#: Significant figures of every number in an explanation, unless a caller asks for others.
DEFAULT_DIGITS = 4
MAX_DIGITS = 15  # what a double holds, and what Excel shows
DEFAULT_LR = 0.5  # the learning rate of Mazur's worked example, as network.step's default
#: Outside [1e-9, 1e12) a number is written as mantissa and exponent ("1.235E-10"), and where
#: FIXED would need more decimal places than LibreOffice's FIXED takes (15; Excel's takes 127).
SCI_BELOW_EXP = -9
SCI_FROM_EXP = 12
MAX_DECIMALS = 15

FORWARD_QUANTITIES = ("h1", "h2", "a_h1", "a_h2", "o1", "o2", "a_o1", "a_o2", "E1", "E2", "E_total")
DELTA_QUANTITIES = ("d_o1", "d_o2", "d_h1", "d_h2")
GRADIENT_QUANTITIES = tuple(f"dE_dw{k}" for k in range(1, 9))
UPDATE_QUANTITIES = tuple(f"new_w{k}" for k in range(1, 9))
#: Every quantity that has an explanation, in the order a step computes them.
QUANTITIES = FORWARD_QUANTITIES + DELTA_QUANTITIES + GRADIENT_QUANTITIES + UPDATE_QUANTITIES
#: The numbers a step starts from: operands, never explained.
PARAMETERS = (*network.WEIGHT_NAMES, "i1", "i2", "t1", "t2", "b1", "b2", "lr")
#: The phases of a step, in order, as the walkthrough and the animation show them (1-based on the
#: sheet: WalkPhase 1 is "forward").
PHASES = ("forward", "error", "output layer's gradients", "hidden layer's gradients", "update")
#: The phase (1..5) in which each quantity is computed: a walkthrough shows it from then on.
PHASE_OF = {
    **{q: 1 for q in FORWARD_QUANTITIES if not q.startswith("E")},
    **{q: 2 for q in ("E1", "E2", "E_total")},
    **{q: 3 for q in ("d_o1", "d_o2", "dE_dw5", "dE_dw6", "dE_dw7", "dE_dw8")},
    **{q: 4 for q in ("d_h1", "d_h2", "dE_dw1", "dE_dw2", "dE_dw3", "dE_dw4")},
    **{q: 5 for q in UPDATE_QUANTITIES},
}

#: How the course writes each name (STYLE.md: ``d_o1`` in code is ``δo1`` on the sheet).
SYMBOLS = {
    **{q: q for q in (*FORWARD_QUANTITIES, *PARAMETERS)},
    **{f"d_{u}": f"δ{u}" for u in ("o1", "o2", "h1", "h2")},
    **{f"dE_dw{k}": f"∂E/∂w{k}" for k in range(1, 9)},
    **{f"new_w{k}": f"new w{k}" for k in range(1, 9)},
}


# --- the spec ---------------------------------------------------------------------------------


class Ref(NamedTuple):
    """An operand: the value named ``name`` (or 1 − it, ``one_minus``), substituted as a number.
    ``bare``: where the template already brackets it (σ(…)), a negative number gets no parentheses.
    ``slope``: instead, the derivative of an activation written in its output a (``SLOPES``)."""

    name: str
    one_minus: bool = False
    bare: bool = False
    slope: str = ""

    @property
    def symbol(self) -> str:
        if self.slope:
            return SLOPES[self.slope].symbol(self.name)
        return f"(1 − {SYMBOLS[self.name]})" if self.one_minus else SYMBOLS[self.name]

    def value(self, values: Mapping[str, float]) -> float:
        """The number substituted for this operand."""
        v = values[self.name]
        if self.slope:
            return SLOPES[self.slope].value(v)
        return 1 - v if self.one_minus else v

    def excel(self, x: str) -> str:
        """The Excel expression of ``value`` for the cell reference ``x`` of ``name``."""
        if self.slope:
            return SLOPES[self.slope].excel(x)
        return f"(1-{x})" if self.one_minus else x


class Slope(NamedTuple):
    """f'(x) of an activation written in its output a: how it is shown, its value, and the same in
    Excel, for a = the value named ``name`` (a_o1: its unit is o1)."""

    symbol: Callable[[str], str]
    value: Callable[[float], float]
    excel: Callable[[str], str]


#: The derivatives that are not products of operands (σ' = a·(1 − a) is: a and (1 − a)).
SLOPES = {
    "tanh": Slope(lambda n: f"(1 − {SYMBOLS[n]}²)", lambda a: 1 - a * a, lambda x: f"(1-{x}*{x})"),
    "relu": Slope(lambda n: f"relu′({n[2:]})", lambda a: 1.0 if a > 0 else 0.0, lambda x: f"IF({x}>0,1,0)"),
    "leaky_relu": Slope(
        lambda n: f"leaky_relu′({n[2:]})",
        lambda a: 1.0 if a > 0 else activations.LEAKY_SLOPE,
        lambda x: f"IF({x}>0,1,{activations.LEAKY_SLOPE!r})",
    ),
}


def slope_terms(activation: str, a: str) -> tuple:
    """The terms of ·f'(x) after a gradient, for the activation named ``activation`` and its
    output named ``a``: σ's ·a·(1 − a) as the course writes it, none for linear (f' = 1)."""
    if activation == "sigmoid":
        return ("·", Ref(a), "·", Ref(a, True))
    if activation == "linear":
        return ()
    return ("·", Ref(a, slope=activation))


class ByActivation(NamedTuple):
    """Terms that depend on a layer's activation (``layer``: "hidden" or "output"): ``options``
    holds them for each of ``activations.NAMES``, in that order. Only in ``generic_specs``: the
    Excel renderer writes CHOOSE(code, …) over them, the code a cell's (HiddenActCode)."""

    layer: str
    options: tuple


class IfNonzero(NamedTuple):
    """Terms shown only where the value ``name`` is not 0: a bias, absent from the course's network."""

    name: str
    terms: tuple


class Spec(NamedTuple):
    """``q = forms… = terms (symbols) = terms (numbers) = value``."""

    quantity: str
    forms: tuple  # symbolic steps before the one the numbers go into (a text, or terms: ByActivation)
    terms: tuple  # str (text as written), Ref or IfNonzero


def _by(layer: str, name: str | None, make: Callable[[str], tuple]) -> tuple:
    """``make(name)``'s terms, or for ``name`` None one ByActivation over every activation."""
    if name is None:
        return (ByActivation(layer, tuple(make(n) for n in activations.NAMES)),)
    return make(name)


def _form(terms: tuple) -> str | tuple:
    """A symbolic form: a text, or its terms where they depend on an activation."""
    return terms if any(isinstance(t, ByActivation) for t in terms) else _symbolic(terms)


def _specs(hidden: str | None = activations.DEFAULT, output: str | None = activations.DEFAULT) -> dict[str, Spec]:
    """Every quantity's spec, for the hidden and the output layer's activations (names; None:
    whichever a cell chooses, ``ByActivation``)."""
    R = Ref
    if hidden is not None:
        activations.get(hidden, "hidden_activation")
    if output is not None:
        activations.get(output, "output_activation")
    layer_of = {"h1": ("hidden", hidden), "h2": ("hidden", hidden), "o1": ("output", output), "o2": ("output", output)}
    specs = {}
    for h, (wa, wb), bias in (("h1", ("w1", "w2"), "b1"), ("h2", ("w3", "w4"), "b1")):
        specs[h] = Spec(h, (), (R(wa), "·", R("i1"), " + ", R(wb), "·", R("i2"), IfNonzero(bias, (" + ", R(bias)))))
    for o, (wa, wb) in (("o1", ("w5", "w6")), ("o2", ("w7", "w8"))):
        specs[o] = Spec(o, (), (R(wa), "·", R("a_h1"), " + ", R(wb), "·", R("a_h2"), IfNonzero("b2", (" + ", R("b2")))))
    for u, (layer, name) in layer_of.items():
        symbol = _by(layer, name, lambda n: (f"{activations.ACTIVATIONS[n].symbol}(",))
        specs[f"a_{u}"] = Spec(f"a_{u}", (), (*symbol, R(u, bare=True), ")"))
    for k in (1, 2):
        specs[f"E{k}"] = Spec(f"E{k}", (), ("½(", R(f"t{k}"), " − ", R(f"a_o{k}"), ")²"))
    specs["E_total"] = Spec("E_total", (), (R("E1"), " + ", R("E2")))
    for k in (1, 2):
        a, t = f"a_o{k}", f"t{k}"
        slope = _by("output", output, lambda n, a=a: slope_terms(n, a))
        specs[f"d_o{k}"] = Spec(f"d_o{k}", (f"∂E/∂o{k}",), ("(", R(a), " − ", R(t), ")", *slope))
    for k, (wa, wb) in ((1, ("w5", "w7")), (2, ("w6", "w8"))):
        a = f"a_h{k}"
        slope = _by("hidden", hidden, lambda n, a=a: slope_terms(n, a))
        paths = _form((f"(∂E1/∂{a} + ∂E2/∂{a})", *slope))  # the two paths into a hidden unit
        specs[f"d_h{k}"] = Spec(
            f"d_h{k}",
            (f"∂E/∂h{k}", paths),
            ("(", R("d_o1"), "·", R(wa), " + ", R("d_o2"), "·", R(wb), ")", *slope),
        )
    for k, (o, a) in enumerate((("o1", "a_h1"), ("o1", "a_h2"), ("o2", "a_h1"), ("o2", "a_h2")), start=5):
        ao, t = f"a_{o}", f"t{o[1]}"
        slope = _by("output", output, lambda n, ao=ao: slope_terms(n, ao))
        terms = ("(", R(ao), " − ", R(t), ")", *slope, "·", R(a))
        specs[f"dE_dw{k}"] = Spec(f"dE_dw{k}", (), terms)
    for k, (h, i) in enumerate((("h1", "i1"), ("h1", "i2"), ("h2", "i1"), ("h2", "i2")), start=1):
        wa, wb = ("w5", "w7") if h == "h1" else ("w6", "w8")
        a = f"a_{h}"
        slope = _by("hidden", hidden, lambda n, a=a: slope_terms(n, a))
        specs[f"dE_dw{k}"] = Spec(
            f"dE_dw{k}",
            (f"δ{h}·{i}",),
            ("(", R("d_o1"), "·", R(wa), " + ", R("d_o2"), "·", R(wb), ")", *slope, "·", R(i)),
        )
    for k in range(1, 9):
        specs[f"new_w{k}"] = Spec(f"new_w{k}", (), (R(f"w{k}"), " − ", R("lr"), "·", R(f"dE_dw{k}")))
    return {q: specs[q] for q in QUANTITIES}


def _symbolic(terms: tuple) -> str:
    return "".join(t.symbol if isinstance(t, Ref) else t for t in terms)


#: The course's specs: sigmoid in both layers.
SPECS: dict[str, Spec] = _specs()


@functools.lru_cache(maxsize=32)  # 25 pairs of names; bad names raise, never cached
def specs_for(hidden: str = activations.DEFAULT, output: str = activations.DEFAULT) -> dict[str, Spec]:
    """The specs for a pair of activations (``SPECS`` for sigmoid-sigmoid); ValueError for a name
    that is not one of ``activations.NAMES``."""
    if (hidden, output) == (activations.DEFAULT, activations.DEFAULT):
        return SPECS
    return _specs(hidden, output)


@functools.cache
def generic_specs() -> dict[str, Spec]:
    """The specs whose activation-dependent terms are ``ByActivation``: for a sheet whose cells
    choose the activations (``excel_formula``'s ``codes``)."""
    return _specs(None, None)


# --- the values of one step, from the engine ----------------------------------------------------


def step_values(
    weights: ArrayLike = network.DEFAULT_WEIGHTS,
    inputs: ArrayLike = network.DEFAULT_INPUTS,
    targets: ArrayLike = network.DEFAULT_TARGETS,
    biases: ArrayLike = network.DEFAULT_BIASES,
    lr: float = DEFAULT_LR,
    hidden_activation: str = activations.DEFAULT,
    output_activation: str = activations.DEFAULT,
) -> dict[str, float]:
    """Every parameter and quantity of one step (``PARAMETERS`` and ``QUANTITIES``) as floats,
    from ``network.forward``, ``chain``, ``backward`` and ``step``; one network (weights (8,))."""
    acts = dict(hidden_activation=hidden_activation, output_activation=output_activation)
    net = dict(inputs=inputs, targets=targets, biases=biases, **acts)
    w = np.asarray(weights, dtype=float)
    f = network.forward(w, **net)
    d = network.chain(w, fwd=f, **net)
    g = network.backward(w, fwd=f, **net)
    new_w, _ = network.step(w, lr=lr, **net)
    values = dict(zip(network.WEIGHT_NAMES, w.tolist(), strict=True))
    values.update(zip(("i1", "i2"), np.asarray(inputs, dtype=float).tolist(), strict=True))
    values.update(zip(("t1", "t2"), np.asarray(targets, dtype=float).tolist(), strict=True))
    values.update(zip(("b1", "b2"), np.asarray(biases, dtype=float).tolist(), strict=True))
    values["lr"] = float(lr)
    values.update({name: float(v) for name, v in zip(network.Forward._fields, f, strict=True)})
    values.update({name: float(getattr(d, name)) for name in ("d_o1", "d_o2", "d_h1", "d_h2")})
    values.update(zip(GRADIENT_QUANTITIES, g.weights.tolist(), strict=True))
    values.update(zip(UPDATE_QUANTITIES, new_w.tolist(), strict=True))
    return values


# --- numbers: the one rule, in Python ------------------------------------------------------------

_CONTEXT = decimal.Context(prec=60)  # enough for any quantize below (a double has 17 digits)


def _decimal(x: float) -> decimal.Decimal:
    """x as Excel and LibreOffice see it when they round: its value to 15 significant figures."""
    return decimal.Decimal(f"{x:.15g}")


def excel_round(x: float, places: int) -> float:
    """Excel's ROUND(x, places): half away from zero on the 15-figure decimal value."""
    q = decimal.Decimal(1).scaleb(-places)
    return float(_decimal(x).quantize(q, decimal.ROUND_HALF_UP, _CONTEXT))


def excel_fixed(x: float, places: int) -> str:
    """Excel's FIXED(x, places, TRUE): x rounded as ROUND does, written with ``places`` decimals."""
    q = decimal.Decimal(1).scaleb(-places)
    return format(_decimal(x).quantize(q, decimal.ROUND_HALF_UP, _CONTEXT), "f")


def _plain_from(digits: int) -> int:
    """The exponent of the smallest number written with decimals, not as mantissa and exponent:
    1e-9, or larger where FIXED would need more than MAX_DECIMALS places."""
    return max(SCI_BELOW_EXP, digits - 1 - MAX_DECIMALS)


def number(x: float, digits: int = DEFAULT_DIGITS) -> str:
    """x to ``digits`` significant figures, by the rule in this module's docstring (and by the
    same steps as ``number_formula``, so that both round alike)."""
    x = float(x)
    if x == 0:
        return "0"
    e = math.floor(math.log10(abs(excel_round(x, digits - 1 - math.floor(math.log10(abs(x)))))))
    if float(f"1e{_plain_from(digits)}") <= abs(x) < float(f"1e{SCI_FROM_EXP}"):
        return excel_fixed(x, digits - 1 - e)
    return f"{excel_fixed(x / 10.0**e, digits - 1)}E{e}"


def _substituted(x: float, digits: int, bare: bool) -> str:
    s = number(x, digits)
    return f"({s})" if x < 0 and not bare else s


# --- the Python renderer ------------------------------------------------------------------------


def _flatten(terms: tuple, shown) -> list:
    """The terms, with each IfNonzero replaced by its terms where ``shown(name)``, else dropped."""
    out = []
    for t in terms:
        if isinstance(t, IfNonzero):
            if shown(t.name):
                out.extend(_flatten(t.terms, shown))
        else:
            out.append(t)
    return out


def text(
    quantity: str,
    values: Mapping[str, float],
    digits: int = DEFAULT_DIGITS,
    hidden_activation: str = activations.DEFAULT,
    output_activation: str = activations.DEFAULT,
) -> str:
    """The explanation of ``quantity`` for ``values`` (as ``step_values`` gives them, for the
    same activations): its symbolic forms, the same with the numbers plugged in, and its value,
    the last number."""
    spec = specs_for(hidden_activation, output_activation)[quantity]
    terms = _flatten(spec.terms, lambda name: values[name] != 0)
    symbolic = _symbolic(tuple(terms))
    numbers = "".join(_substituted(t.value(values), digits, t.bare) if isinstance(t, Ref) else t for t in terms)
    return " = ".join([SYMBOLS[quantity], *spec.forms, symbolic, numbers, number(values[quantity], digits)])


def texts(
    values: Mapping[str, float],
    digits: int = DEFAULT_DIGITS,
    hidden_activation: str = activations.DEFAULT,
    output_activation: str = activations.DEFAULT,
) -> dict[str, str]:
    """``text`` of every quantity."""
    return {q: text(q, values, digits, hidden_activation, output_activation) for q in QUANTITIES}


# --- the Excel renderer --------------------------------------------------------------------------


def _literal(s: str) -> str:
    return '"' + s.replace('"', '""') + '"'


def number_formula(x: str, digits: int = DEFAULT_DIGITS, bare: bool = True) -> str:
    """An Excel expression giving ``number(x, digits)`` as text, for an expression ``x`` (a cell
    reference, or one in brackets); ``bare=False``: a negative number in parentheses."""
    p = digits - 1
    e = f"INT(LOG10(ABS(ROUND({x},{p}-INT(LOG10(ABS({x})))))))"  # the exponent, after rounding
    # FIXED of a ROUNDed number: LibreOffice's FIXED alone rounds the binary value (0.285 -> 0.28)
    plain = f"FIXED(ROUND({x},{p}-{e}),{p}-{e},TRUE)"
    sci = f'FIXED(ROUND({x}/10^{e},{p}),{p},TRUE)&"E"&{e}'
    small, large = f"1E{_plain_from(digits)}", f"1E{SCI_FROM_EXP}"
    body = f'IF({x}=0,"0",IF(OR(ABS({x})<{small},ABS({x})>={large}),{sci},{plain}))'
    if bare:
        return body
    return f'IF({x}<0,"(","")&{body}&IF({x}<0,")","")'


def _join(parts: list[str]) -> str:
    """Parts of a concatenation, neighbouring literals merged."""
    merged: list[str] = []
    for part in parts:
        if merged and part.startswith('"') and merged[-1].startswith('"') and _is_literal(part, merged[-1]):
            merged[-1] = merged[-1][:-1] + part[1:]
        else:
            merged.append(part)
    return "&".join(merged) or '""'


def _is_literal(*parts: str) -> bool:
    return all(re.fullmatch(r'"(?:[^"]|"")*"', p) for p in parts)


def _cell(cells: Mapping[str, str], name: str) -> str:
    try:
        return cells[name]
    except KeyError:
        raise KeyError(f"cells: expected the address of {name}, missing") from None


def _excel_parts(
    terms: tuple, cells: Mapping[str, str], digits: int, numbers: bool, codes: Mapping[str, str] | None = None
) -> list[str]:
    parts = []
    for t in terms:
        if isinstance(t, IfNonzero):
            if t.name in cells:  # no bias cell: the network has no bias
                inner = _join(_excel_parts(t.terms, cells, digits, numbers, codes))
                parts.append(f'IF({_cell(cells, t.name)}=0,"",{inner})')
        elif isinstance(t, ByActivation):
            options = [_join(_excel_parts(o, cells, digits, numbers, codes)) for o in t.options]
            parts.append(f"CHOOSE({_code(codes, t.layer)},{','.join(options)})")
        elif isinstance(t, Ref):
            if numbers:
                parts.append(number_formula(t.excel(_cell(cells, t.name)), digits, t.bare))
            else:
                parts.append(_literal(t.symbol))
        else:
            parts.append(_literal(t))
    return parts


def _code(codes: Mapping[str, str] | None, layer: str) -> str:
    if not codes or layer not in codes:
        raise KeyError(f"codes: expected the {layer} layer's activation code (a cell or a name), missing")
    return codes[layer]


#: The longest formula Excel takes, in characters.
EXCEL_MAX_FORMULA = 8_192


def operands(quantity: str, specs: Mapping[str, Spec] = SPECS) -> tuple[str, ...]:
    """The names ``excel_formula(quantity, cells)`` reads from ``cells``: the quantity itself and
    every operand of its formula (b1 / b2 among them, which may be left out: no bias); ``specs``:
    those of other activations (``specs_for``, ``generic_specs``)."""
    names = [quantity]

    def walk(terms: tuple) -> None:
        for t in terms:
            if isinstance(t, IfNonzero):
                names.append(t.name)
                walk(t.terms)
            elif isinstance(t, ByActivation):
                for option in t.options:
                    walk(option)
            elif isinstance(t, Ref):
                names.append(t.name)

    walk(specs[quantity].terms)
    return tuple(dict.fromkeys(names))


def excel_formula(
    quantity: str,
    cells: Mapping[str, str],
    digits: int = DEFAULT_DIGITS,
    hidden_activation: str = activations.DEFAULT,
    output_activation: str = activations.DEFAULT,
    codes: Mapping[str, str] | None = None,
) -> str:
    """An Excel formula (with its leading "=") whose value is ``text(quantity, values, digits)``
    for the values in ``cells``: name -> cell address (``"Backprop!$C$5"``), for every name of
    ``operands(quantity)``. Bias terms appear only if ``cells`` names b1 / b2. Each address is
    repeated some 13 times per number: keep them short (a helper cell rather than an INDEX
    expression); a formula beyond ``EXCEL_MAX_FORMULA`` characters is refused (ValueError). The
    activations, as for ``text``: the formula follows them; or, with ``codes`` ({"hidden": …,
    "output": …}: a cell or a name holding the 1-based code of an activation in
    ``activations.NAMES``), whichever those choose (``generic_specs``; the activations are then
    not read)."""
    spec = generic_specs()[quantity] if codes else specs_for(hidden_activation, output_activation)[quantity]
    head: list[str] = [_literal(SYMBOLS[quantity] + " = ")]
    for form in spec.forms:
        head += _excel_parts(form, cells, digits, False, codes) if isinstance(form, tuple) else [_literal(form)]
        head.append(_literal(" = "))
    parts = [*head, *_excel_parts(spec.terms, cells, digits, numbers=False, codes=codes), _literal(" = ")]
    parts += [*_excel_parts(spec.terms, cells, digits, numbers=True, codes=codes), _literal(" = ")]
    parts.append(number_formula(_cell(cells, quantity), digits))
    formula = "=" + _join(parts)
    if len(formula) > EXCEL_MAX_FORMULA:
        raise ValueError(
            f"cells: the formula for {quantity} would be {len(formula):,} characters, Excel takes at most "
            f"{EXCEL_MAX_FORMULA:,}; use shorter cell references"
        )
    return formula


# --- names ----------------------------------------------------------------------------------------


def _key(name: str) -> str:
    """A spelling reduced to what tells quantities apart: case, spaces, _ / ∂ δ and "delta" do not."""
    s = name.strip().lower().replace("∂", "d").replace("δ", "d").replace("delta", "d")
    return re.sub(r"[\s_/]", "", s)


_NAMES = {_key(n): q for q in QUANTITIES for n in (q, SYMBOLS[q])}
#: The accepted names, compactly, for a message.
ACCEPTED = (
    "h1, h2, a_h1, a_h2, o1, o2, a_o1, a_o2, E1, E2, E_total, d_o1, d_o2, d_h1, d_h2 (δo1), "
    "dE_dw1..8 (dE/dw1, ∂E/∂w1), new_w1..8 (new w1)"
)


def quantity_name(name: str) -> str | None:
    """The quantity ``name`` means, in any spelling the course uses (``dE/dw5``, ``∂E/∂w5``,
    ``δo1``, ``new w5``, ``Etotal``; any case), or None."""
    return _NAMES.get(_key(name)) if isinstance(name, str) else None
