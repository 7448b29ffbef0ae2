"""One colour and one label per learning rate, and one colour per gradient path, declared once.

Every face that draws learning rates uses these: the Learning rates sheet's chart and its
headers, the ribbon's chart and picture, and the CLI's PNG. Slot ``k`` of the list (0-based)
has the colour ``lr_color(k)`` everywhere, and a rate is labelled ``lr_label(lr)`` ("lr 2",
"lr 0.1"); the sheet's formulas write the same text as ``"lr "&rate`` (a number joined to
text shows as Excel's General format does: up to 10 significant digits here).
"""

from __future__ import annotations

#: Ten colours told apart with the common colour-vision deficiencies: the Okabe-Ito set without
#: its yellow (too faint on white), then Paul Tol's olive, wine and a mid grey.
LR_COLORS = (
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#D55E00",  # vermilion
    "#CC79A7",  # reddish purple
    "#56B4E9",  # sky blue
    "#000000",  # black
    "#999933",  # olive
    "#882255",  # wine
    "#888888",  # grey
)

#: What the sheet's formulas put before a rate to make its label (``"lr "&rate``).
LR_PREFIX = "lr "


def lr_color(k: int) -> str:
    """The colour of the ``k``-th learning rate (0-based; the colours repeat after ten)."""
    return LR_COLORS[k % len(LR_COLORS)]


def lr_label(lr: float) -> str:
    """The label of a learning rate: ``lr_label(2.0) == "lr 2"``, ``lr_label(0.1) == "lr 0.1"``."""
    return f"{LR_PREFIX}{float(lr):.10g}"


#: The two paths back into a hidden unit, one colour each in every view (the Backprop sheet's
#: headers, cells, chain-rule text and diagram, and the animation): ``E1``, through o1 (δo1·w5,
#: δo1·w6), and ``E2``, through o2 (δo2·w7, δo2·w8).
PATH_COLORS = {"E1": "#C55A11", "E2": "#7030A0"}

#: The sign of a weight, in the network picture and the animation's weight phases (a weight
#: below 0 is also dashed): Okabe-Ito's bluish green and reddish purple, apart from the
#: gradients' red and blue and the paths' orange and purple.
WEIGHT_COLORS = {"positive": "#009E73", "negative": "#CC79A7"}

#: The sign of a gradient ∂E/∂w, in the animation's gradient phases: red where ∂E/∂w > 0 (the
#: step lowers the weight), blue where ∂E/∂w < 0.
GRADIENT_COLORS = {"positive": "tab:red", "negative": "tab:blue"}
