"""The network picture: the 2-2-2 network drawn once, for "Draw network" and for the animation.

What a picture shows of one training step, by phase (the walkthrough's numbering, ``PHASES``):
1 forward (every unit's h and a_h), 2 error (E1, E2 beside the targets), 3 the output layer's
gradients (δo1, δo2, ∂E/∂w5..8), 4 the hidden layer's (δh1, δh2, ∂E/∂w1..4), 5 the update
(each weight old → new). What a later phase computes is left out, so that a learner can
predict it; without a phase the picture shows everything up to phase 4. ``labels`` writes the
texts (numbers by ``explain.number``, 4 significant figures), ``draw`` puts them on an axes.

The looks (``weight_looks``): an edge's colour is the sign of its weight (``palette.WEIGHT_COLORS``;
a weight below 0 also dashed), its line width grows with |w|, bounded so that any weight stays
drawable::

    width(|w|) = EDGE_MIN + (EDGE_MAX − EDGE_MIN) · |w| / (|w| + EDGE_HALF)   points

1 point at w = 0, 5 at |w| = 0.5, at most 9 (the course's weights 0.15..0.55 are 2.8..5.2 points).

Where the labels go (``draw``; one rule, checked by the tests against the rendered boxes): the
units in two rows, the layers ``LAYER_GAP`` pixels apart, the rows ``ROW_GAP``; each edge runs
from the border of its source's box to the border of its target's; an edge label is a box whose
nearest side stays ``GAP`` pixels plus half the line's width away from every line:

- a level edge (w1, w4, w5, w8): centred on its middle, above the top row's edge, below the
  bottom row's;
- a crossing edge (w2, w3, w6, w7) in the triangle between the crossing and the level edge on
  its source's side (w3, from the top row, under the top edge; w2 over the bottom one), pushed
  against its own edge: the box's corner nearest that edge ``GAP`` from it (and no nearer to
  its source's box);
- a label that does not fit there (on the edge it crosses, on a unit's box: long numbers) is
  written smaller, half a point at a time, down to ``LABEL_FONT_MIN``.

No I/O; matplotlib only through the axes given (no pyplot).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from typing import NamedTuple

from . import explain
from .activations import DEFAULT as DEFAULT_ACTIVATION
from .palette import WEIGHT_COLORS

#: The phases of one step, numbered 1..5 as the walkthrough numbers them (phase n is PHASES[n - 1]).
PHASES = ("forward", "error", "output gradients", "hidden gradients", "update")
#: How the walkthrough and the picture's title name each phase.
PHASE_NAMES = explain.PHASES
#: The phases as a message lists them: "1 forward, 2 error, …, 5 update".
PHASE_LIST = ", ".join(f"{n} {name}" for n, name in enumerate(PHASE_NAMES, start=1))

NODES = {"i1": (0, 1), "i2": (0, 0), "h1": (1, 1), "h2": (1, 0), "o1": (2, 1), "o2": (2, 0)}
#: w1..w8: (from, to), in the order of network.WEIGHT_NAMES
EDGES = (
    ("i1", "h1"),
    ("i2", "h1"),
    ("i1", "h2"),
    ("i2", "h2"),
    ("h1", "o1"),
    ("h2", "o1"),
    ("h1", "o2"),
    ("h2", "o2"),
)

EDGE_MIN, EDGE_MAX, EDGE_HALF = 1.0, 9.0, 0.5  # points, points, |w|: see the module's docstring
LAYER_GAP, ROW_GAP, ROW_GAP_MAX = 265.0, 140.0, 180.0  # pixels between the layers' centres, the rows'
MARGIN, ROW_MARGIN = 6.0, 50.0  # pixels: left and right of the network; above and below the rows, where room
GAP = 5.0  # pixels between a label's box and a line
NODE_PAD, LABEL_PAD = 0.4, 0.25  # a box's padding, in font sizes
NODE_FONT, LABEL_FONT, LABEL_FONT_MIN = 7.5, 7.0, 5.0  # points; an edge's label shrinks to fit, down to the last
TARGET_GAP = 8.0  # pixels from an output's box to its target's text


class EdgeLook(NamedTuple):
    """How one edge is drawn: colour, width in points, "forward"/"backward" (an arrow) or "none"."""

    colour: str
    width: float
    direction: str = "none"


def edge_width(w: float) -> float:
    """The line width (points) of an edge of weight ``w``: grows with |w|, from EDGE_MIN up to EDGE_MAX."""
    a = abs(float(w))
    return EDGE_MIN + (EDGE_MAX - EDGE_MIN) * a / (a + EDGE_HALF)


def weight_colour(w: float) -> str:
    return WEIGHT_COLORS["negative" if w < 0 else "positive"]


def weight_looks(weights: Sequence[float], direction: str = "none") -> list[EdgeLook]:
    """Each edge coloured by the sign of its weight, as wide as ``edge_width``."""
    return [EdgeLook(weight_colour(w), edge_width(w), direction) for w in weights]


# --- the texts ------------------------------------------------------------------------------


def _n(x: float) -> str:
    return explain.number(x)


def _node(u: str, v: Mapping[str, float], phase: int, symbol: str = "σ") -> str:
    lines = [f"{u} · {symbol}", f"{u} = {_n(v[u])}", f"a_{u} = {_n(v[f'a_{u}'])}"]
    if (u[0] == "o" and phase >= 3) or (u[0] == "h" and phase >= 4):
        lines.append(f"δ{u} = {_n(v[f'd_{u}'])}")
    return "\n".join(lines)


def _edge(k: int, v: Mapping[str, float], phase: int) -> str:
    name = f"w{k}"
    if phase == 5:
        return f"{name}: {_n(v[name])}\n→ {_n(v[f'new_{name}'])}"
    text = f"{name} = {_n(v[name])}"
    if (k >= 5 and phase >= 3) or (k <= 4 and phase >= 4):
        text += f"\n∂E/∂{name} = {_n(v[f'dE_d{name}'])}"
    return text


def labels(
    v: Mapping[str, float],
    phase: int | None = None,
    hidden_activation: str = DEFAULT_ACTIVATION,
    output_activation: str = DEFAULT_ACTIVATION,
) -> dict[str, str]:
    """The picture's texts for the step ``v`` (``explain.step_values``) at ``phase`` (1..5; None:
    everything up to 4), by where: "node <u>", "edge w<k>", "target t<j>"; each unit names its
    layer's activation (σ, tanh, relu, leaky_relu, linear)."""
    from .activations import pair

    p = 4 if phase is None else phase
    f_h, f_o = pair(hidden_activation, output_activation)
    out = {f"node {i}": f"{i}\n{_n(v[i])}" for i in ("i1", "i2")}
    out.update({f"node {u}": _node(u, v, p, (f_h if u[0] == "h" else f_o).symbol) for u in ("h1", "h2", "o1", "o2")})
    for j in (1, 2):
        out[f"target t{j}"] = f"t{j} = {_n(v[f't{j}'])}" + (f"\nE{j} = {_n(v[f'E{j}'])}" if p >= 2 else "")
    out.update({f"edge w{k}": _edge(k, v, p) for k in range(1, 9)})
    return out


def current_nodes(phase: int | None) -> set[str]:
    """The units a phase works on (highlighted): all in the forward pass, the outputs' δ, the hidden units' δ."""
    return {1: set(NODES), 3: {"o1", "o2"}, 4: {"h1", "h2"}}.get(phase or 0, set())


# --- the drawing ------------------------------------------------------------------------------


class Segment(NamedTuple):
    """An edge as drawn, in the axes' data units (pixels): from (x0, y0) to (x1, y1), ``width`` points."""

    x0: float
    y0: float
    x1: float
    y1: float
    width: float


def _sizes(ax, texts: Mapping[str, object], pad: float, font: float) -> dict[str, tuple[float, float]]:
    """(width, height) of each text's box, padded as its bbox patch is, in pixels."""
    renderer = ax.figure.canvas.get_renderer()
    px = 2 * pad * font * ax.figure.dpi / 72
    return {key: (e.width + px, e.height + px) for key, t in texts.items() for e in [t.get_window_extent(renderer)]}


def _place(ax, nodes: Mapping[str, tuple[float, float]], targets: float) -> dict[str, tuple[float, float]]:
    """The units' centres in the axes' data units, made pixels here: the network centred, with
    ``targets`` pixels right of the outputs for the targets' texts; the layers LAYER_GAP apart
    (less where the axes are too narrow), the rows ROW_GAP apart (up to ROW_GAP_MAX where the
    axes are taller)."""
    box = ax.bbox
    ax.set(xlim=(0, box.width), ylim=(0, box.height))
    ax.set_axis_off()
    left = max(nodes[f"node {u}"][0] for u in ("i1", "i2")) / 2
    right = max(nodes[f"node {u}"][0] for u in ("o1", "o2")) / 2 + TARGET_GAP + targets
    gap = min(LAYER_GAP, (box.width - 2 * MARGIN - left - right) / 2)
    x0 = (box.width - left - 2 * gap - right) / 2 + left
    rows = min(ROW_GAP_MAX, max(ROW_GAP, box.height - 2 * ROW_MARGIN))
    y0 = (box.height - rows) / 2
    return {u: (x0 + c * gap, y0 + r * rows) for u, (c, r) in NODES.items()}


def _exit(d: tuple[float, float], box, margin: float) -> float:
    """The fraction of ``d`` after which a ray from the centre of ``box`` leaves it, grown by ``margin``."""
    half_w, half_h = (box[2] - box[0]) / 2 + margin, (box[3] - box[1]) / 2 + margin
    return min(half_w / abs(d[0]) if d[0] else math.inf, half_h / abs(d[1]) if d[1] else math.inf)


def _segments(at, boxes, looks, dpi: float) -> list[Segment]:
    """Each edge from its source's box to its target's, GAP plus half its width clear of both."""
    out = []
    for (a, b), look in zip(EDGES, looks, strict=True):
        (xa, ya), (xb, yb) = at[a], at[b]
        d, margin = (xb - xa, yb - ya), GAP + look.width * dpi / 72 / 2
        s, e = _exit(d, boxes[f"node {a}"], margin), 1 - _exit(d, boxes[f"node {b}"], margin)
        out.append(Segment(xa + s * d[0], ya + s * d[1], xa + e * d[0], ya + e * d[1], look.width))
    return out


def _draw_edge(ax, seg: Segment, look: EdgeLook) -> None:
    style = "--" if look.colour == WEIGHT_COLORS["negative"] else "-"
    if look.direction == "none":
        ax.plot(
            [seg.x0, seg.x1],
            [seg.y0, seg.y1],
            color=look.colour,
            lw=seg.width,
            ls=style,
            zorder=1,
            solid_capstyle="butt",
        )
        return
    start, end = ((seg.x0, seg.y0), (seg.x1, seg.y1))
    if look.direction == "backward":
        start, end = end, start
    arrow = dict(arrowstyle="-|>", color=look.colour, lw=seg.width, ls=style, shrinkA=0, shrinkB=0, mutation_scale=14)
    ax.annotate("", xy=end, xytext=start, zorder=1, arrowprops=arrow)


def _clearance(seg: Segment, dpi: float) -> float:
    """GAP plus half the line's width, in pixels."""
    return GAP + seg.width * dpi / 72 / 2


def _x_at(seg: Segment, y: float) -> float:
    return seg.x0 + (seg.x1 - seg.x0) * (y - seg.y0) / (seg.y1 - seg.y0)


def _across(seg: Segment, dpi: float) -> float:
    """How far (pixels, level) a point must be from the slanted ``seg`` to be ``_clearance`` from it, square."""
    return _clearance(seg, dpi) * math.hypot(seg.x1 - seg.x0, seg.y1 - seg.y0) / abs(seg.y1 - seg.y0)


def _label_place(k: int, segs: Sequence[Segment], size, boxes, dpi: float) -> tuple[tuple[float, float], bool]:
    """The centre of the label box of edge w<k> (``size``: its width and height in pixels), by
    the rule of the module's docstring, and whether it fits there: clear of the units' boxes
    (``boxes``) and, for a crossing edge, of the other crossing edge."""
    (a, b), seg = EDGES[k - 1], segs[k - 1]
    (w, h), top = size, NODES[a][1] == 1
    lo, hi = boxes[f"node {a}"][2] + GAP, boxes[f"node {b}"][0] - GAP  # between the layers' boxes
    if NODES[a][1] == NODES[b][1]:  # a level edge: outside, above the top row, below the bottom one
        c = _clearance(seg, dpi) + h / 2
        x = (seg.x0 + seg.x1) / 2
        return (x, seg.y0 + (c if top else -c)), lo <= x - w / 2 and x + w / 2 <= hi
    # a crossing edge: beside the level edge from the same unit, on the crossing's side ...
    level = segs[EDGES.index((a, _beside(a, b)))]
    side = level.y0 - _clearance(level, dpi) if top else level.y0 + _clearance(level, dpi)
    # ... and against its own edge: the box's corner nearest to it, square to it, clear of it
    corner_y = side - h if top else side + h
    left = max(_x_at(seg, corner_y) + _across(seg, dpi), lo)
    other = segs[{2: 3, 3: 2, 6: 7, 7: 6}[k] - 1]  # the edge it crosses
    fits = left + w <= min(_x_at(other, corner_y) - _across(other, dpi), hi)
    return (left + w / 2, (side + corner_y) / 2), fits


def _beside(a: str, b: str) -> str:
    """The unit in ``b``'s layer on ``a``'s row: the level edge from ``a`` ends there."""
    return next(u for u, (col, row) in NODES.items() if (col, row) == (NODES[b][0], NODES[a][1]))


def _place_label(ax, k: int, text: str, colour: str, segs, boxes) -> None:
    """The label of edge w<k> where ``_label_place`` puts it, in a smaller font (down to
    LABEL_FONT_MIN) where it does not fit in LABEL_FONT."""
    t = _text(ax, (0, 0), text, LABEL_FONT, LABEL_PAD, "white", colour)
    font = LABEL_FONT
    while True:
        size = _sizes(ax, {k: t}, LABEL_PAD, font)[k]
        centre, fits = _label_place(k, segs, size, boxes, ax.figure.dpi)
        if fits or font <= LABEL_FONT_MIN:
            break
        font -= 0.5
        t.set_fontsize(font)
    t.set_position(centre)


def _text(ax, xy, text: str, font: float, pad: float, fc: str, ec: str, **kw):
    box = dict(boxstyle=f"round,pad={pad}", fc=fc, ec=ec, lw=0.8)
    return ax.text(*xy, text, ha="center", va="center", fontsize=font, zorder=4, bbox=box, **kw)


def draw(ax, texts: Mapping[str, str], looks: Sequence[EdgeLook], current: Collection[str] = ()) -> list[Segment]:
    """The network on ``ax`` (an axes at a fixed place; its data units become pixels): the units
    with their ``texts`` ("node <u>", highlighted where in ``current``), the edges in their
    ``looks`` from box to box, each edge's text ("edge w<k>") placed by the rule, the targets'
    texts ("target t<j>") right of the outputs. Returns the edges as drawn."""
    nodes = {
        f"node {u}": _text(
            ax, (0, 0), texts[f"node {u}"], NODE_FONT, NODE_PAD, "lightyellow" if u in current else "white", "black"
        )
        for u in NODES
    }
    targets = {j: ax.text(0, 0, texts[f"target t{j}"], ha="left", va="center", fontsize=8, zorder=4) for j in (1, 2)}
    sizes = _sizes(ax, nodes, NODE_PAD, NODE_FONT)
    at = _place(ax, sizes, max(w for w, _ in _sizes(ax, targets, 0, 8).values()))
    boxes = {}
    for u, (x, y) in at.items():
        nodes[f"node {u}"].set_position((x, y))
        w, h = sizes[f"node {u}"]
        boxes[f"node {u}"] = (x - w / 2, y - h / 2, x + w / 2, y + h / 2)
    for j, u in ((1, "o1"), (2, "o2")):
        targets[j].set_position((boxes[f"node {u}"][2] + TARGET_GAP, at[u][1]))
    segs = _segments(at, boxes, looks, ax.figure.dpi)
    for seg, look in zip(segs, looks, strict=True):
        _draw_edge(ax, seg, look)
    for k, look in enumerate(looks, start=1):
        _place_label(ax, k, texts[f"edge w{k}"], look.colour, segs, boxes)
    return segs


# --- the picture "Draw network" places ----------------------------------------------------------

LEGEND_WEIGHTS = (0.1, 1.0, 10.0)  # |w| the legend shows the width of


def title(
    v: Mapping[str, float],
    step: int,
    phase: int | None,
    activations: tuple[str, str] = (DEFAULT_ACTIVATION, DEFAULT_ACTIVATION),
    examples: tuple[int, int] = (1, 1),
) -> str:
    """The picture's title: the step it shows (the sheet's), the phase, E_total once known, the
    biases; the activations (hidden, output) unless the course's sigmoids; with several
    examples ((count, shown): ExampleCount, ExampleShown), that E_total is their mean and which
    example's values the units show."""
    line = f"Network at step {step} (learning rate {v['lr']:g})"
    if phase is None or phase >= 2:
        line += f": E_total = {_n(v['E_total'])}"
    lines = [line]
    if phase is not None:
        lines.append(f"phase {phase} of {len(PHASES)}: {PHASE_NAMES[phase - 1]}")
    if activations != (DEFAULT_ACTIVATION, DEFAULT_ACTIVATION):
        lines.append(f"activations: {activations[0]} (hidden), {activations[1]} (output)")
    if examples[0] > 1:
        lines.append(f"E_total: the mean over {examples[0]} examples; the units show example {examples[1]}")
    if v["b1"] or v["b2"]:  # not drawn as units; without them the activations would not add up
        lines.append(f"biases: b1 = {_n(v['b1'])} (into h1, h2), b2 = {_n(v['b2'])} (into o1, o2)")
    return "\n".join(lines)


def _legend(fig, top: float) -> None:
    from matplotlib.lines import Line2D

    handles = [
        Line2D([], [], color=WEIGHT_COLORS["positive"], lw=2.5, label="w > 0"),
        Line2D([], [], color=WEIGHT_COLORS["negative"], lw=2.5, ls="--", label="w < 0"),
        *(Line2D([], [], color="grey", lw=edge_width(w), label=f"|w| = {w:g}") for w in LEGEND_WEIGHTS),
    ]
    fig.legend(
        handles=handles, loc="upper center", bbox_to_anchor=(0.5, top), ncol=len(handles), fontsize=7.5, frameon=False
    )


def network_figure(
    v: Mapping[str, float],
    step: int,
    box,
    phase: int | None = None,
    activations: tuple[str, str] = (DEFAULT_ACTIVATION, DEFAULT_ACTIVATION),
    examples: tuple[int, int] = (1, 1),
):
    """The network of the step ``v`` (``explain.step_values``) at ``phase`` (1..5, or None: all
    of the step up to its update) on a figure of ``box.width`` x ``box.height`` pixels: titled
    with the step (``title``: the activations and examples too), a legend of the edges' colours
    and widths, the units and edges by ``draw``."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from .figures import PNG_DPI

    fig = Figure(figsize=(box.width / PNG_DPI, box.height / PNG_DPI), dpi=PNG_DPI)
    FigureCanvasAgg(fig)
    head = title(v, step, phase, activations, examples)
    lines = head.count("\n") + 1
    fig.text(0.5, 1 - 8 / box.height, head, ha="center", va="top", fontsize=10)
    top = 1 - (14 + 15 * lines) / box.height
    _legend(fig, top)
    ax = fig.add_axes((0.0, 0.0, 1.0, top - 28 / box.height))
    weights = [v[f"new_w{k}" if phase == 5 else f"w{k}"] for k in range(1, 9)]
    draw(ax, labels(v, phase, *activations), weight_looks(weights), current_nodes(phase))
    return fig
