"""The animation of training (``xl-backprop animate``): one frame per phase of each step.

Each step of gradient descent is shown in ``PHASES``: the forward pass (values appear from the
inputs to the outputs), the error, the output layer's gradients and the hidden layer's (δ flows
from right to left; an edge's colour is the sign of its gradient, its thickness the gradient's
size; the two paths into a hidden unit each in their colour), and the update (the weights move).
Beneath, the loss curve grows step by step; beside the network, the phase's formulas with their
numbers, from ``explain``.

``build_frames`` computes what each frame shows (numbers from the engine, through
``explain.step_values``) and ``frame_labels`` the text it prints; ``render`` draws one frame
(matplotlib, no pyplot, at ``figures.PNG_DPI``; the network by ``network_picture.draw``, the
drawing "Draw network" makes, its labels placed by the same rule); ``write_gif`` writes them
with Pillow. The frames are drawn one at a time, as the GIF writer asks for them.
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Callable, Iterator, Sequence
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from . import explain, network
from . import network_picture as picture
from .activations import ACTIVATIONS
from .activations import DEFAULT as DEFAULT_ACTIVATION
from .analysis import check_finite
from .examples import as_examples
from .figures import PNG_DPI
from .network_picture import EDGES, PHASES
from .palette import GRADIENT_COLORS, PATH_COLORS, WEIGHT_COLORS

PHASE_TITLES = {
    "forward": "Forward pass: each unit sums its weighted inputs, then squashes them with σ",
    "error": "Error: how far each output is from its target",
    "output gradients": "Output layer's gradients: δo = (a_o − t)·a_o·(1 − a_o), ∂E/∂w = δo · the value into w",
    "hidden gradients": "Hidden layer's gradients: δ flows back along both paths into each hidden unit",
    "update": "Update: every weight takes a step against its gradient, w ← w − lr·∂E/∂w",
}
#: The formulas each phase prints (explain's quantities).
PHASE_FORMULAS = {
    "forward": ("h1", "a_h1", "o1", "a_o1"),
    "error": ("E1", "E2", "E_total"),
    "output gradients": ("d_o1", "d_o2", "dE_dw5"),
    "hidden gradients": ("d_h1", "dE_dw1"),
    "update": ("new_w5", "new_w1"),
}
FRAME_SIZE = (720, 540)  # pixels, at figures.PNG_DPI
# One colour per meaning (palette): a gradient's sign; one colour per path back into a hidden
# unit; in the other phases the weights look as in the network picture (network_picture.weight_looks).
POSITIVE_GRADIENT, NEGATIVE_GRADIENT = GRADIENT_COLORS["positive"], GRADIENT_COLORS["negative"]
PATH_COLOURS = {"o1": PATH_COLORS["E1"], "o2": PATH_COLORS["E2"]}  # as on the Backprop sheet
ZERO_GRADIENT = "dimgrey"


class Frame(NamedTuple):
    """What one frame shows: ``values`` of its step (``explain.step_values``), ``losses`` E_total
    of the steps so far (the current one once its error is shown)."""

    step: int
    phase: str
    values: dict[str, float]
    losses: tuple[float, ...]
    activations: tuple[str, str] = (DEFAULT_ACTIVATION, DEFAULT_ACTIVATION)  # hidden, output
    example: int = 0  # the example the frame shows, 0-based, of ``examples``
    examples: int = 1  # N: with more than one, the update and the loss are means over them


def phase_title(phase: str, acts: tuple[str, str]) -> str:
    """PHASE_TITLES[phase], for the course's σ; for other activations, their f and f'."""
    if acts == (DEFAULT_ACTIVATION, DEFAULT_ACTIVATION):
        return PHASE_TITLES[phase]
    if phase == "forward":
        h, o = (ACTIVATIONS[a].symbol for a in acts)
        return f"Forward pass: each unit sums its weighted inputs, then applies {h} (hidden) or {o} (output)"
    if phase == "output gradients":
        slope = ACTIVATIONS[acts[1]].derivative.replace("a", "a_o")
        return f"Output layer's gradients: δo = (a_o − t)·f′(o), f′(o) = {slope}; ∂E/∂w = δo · the value into w"
    return PHASE_TITLES[phase]


def frame_count(steps: int) -> int:
    return steps * len(PHASES)


def build_frames(
    steps: int,
    *,
    weights: Sequence[float],
    inputs: ArrayLike,
    targets: ArrayLike,
    biases: Sequence[float],
    lr: float,
    hidden_activation: str = DEFAULT_ACTIVATION,
    output_activation: str = DEFAULT_ACTIVATION,
) -> list[Frame]:
    """The frames of ``steps`` training steps, each step's values from the engine, the next
    step starting from its new weights. Overflow (``analysis.Overflow``) names the first value
    that is not a finite number.

    inputs and targets (2,) are one example; (N, 2) are N examples, a row each: step n shows
    example n mod N from its forward pass to its gradients, and its update takes the mean
    gradient over the N (full batch, ``network.step``), its loss the mean E_total."""
    frames, losses, w = [], [], list(weights)
    acts = (hidden_activation, output_activation)
    X = as_examples(inputs, targets)
    N = X.shape[0]
    for step in range(steps):
        e = step % N
        values = explain.step_values(w, X[e, :2], X[e, 2:], biases, lr, *acts)
        update, E_total = values, values["E_total"]
        if N > 1:
            update, E_total = _batch_update(values, w, X, biases, lr, acts)
        _check_step(update, step)
        for phase in PHASES:
            shown = losses + [E_total] if phase != "forward" else losses
            frames.append(Frame(step, phase, update if phase == "update" else values, tuple(shown), acts, e, N))
        losses.append(E_total)
        w = [update[f"new_w{k}"] for k in range(1, 9)]
    return frames


def _batch_update(values: dict, w: list, X: np.ndarray, biases, lr: float, acts: tuple[str, str]):
    """The update frame's values over all the examples: ∂E/∂w the mean gradient, the new weights
    one full-batch step (``network.step``); and the mean E_total."""
    net = dict(inputs=X[:, :2], targets=X[:, 2:], biases=biases, hidden_activation=acts[0], output_activation=acts[1])
    g = network.gradients(w, **net)
    new_w, _ = network.step(w, lr=lr, **net)
    update = dict(values)
    update.update(zip(explain.GRADIENT_QUANTITIES, g.tolist(), strict=True))
    update.update(zip(explain.UPDATE_QUANTITIES, new_w.tolist(), strict=True))
    return update, float(network.loss(w, **net))


def _check_step(values: dict, step: int) -> None:
    names = list(values)
    check_finite(
        np.array(list(values.values())),
        lambda at: f"{names[at[0]]} at step {step}",
        "try a smaller --lr or smaller --weights, --inputs or --targets",
    )


def _n(x: float) -> str:
    return explain.number(x)


def frame_labels(frame: Frame, steps: int) -> dict[str, str]:
    """Every text the frame prints, by where: "title", "phase", "node <u>", "edge w<k>",
    "formulas" (lines, joined by newlines), "loss"."""
    v, k = frame.values, PHASES.index(frame.phase)
    labels = {
        "title": f"Step {frame.step} (update {frame.step + 1} of {steps}), learning rate {v['lr']:g}",
        "phase": f"{k + 1}/{len(PHASES)} {phase_title(frame.phase, frame.activations)}",
    }
    if frame.examples > 1:
        labels["title"] += f", example {frame.example + 1} of {frame.examples}"
        if frame.phase == "update":
            labels["phase"] += f" (the mean over the {frame.examples} examples)"
    labels.update(picture.labels(v, k + 1))  # the units, edges and targets, as the network picture writes them
    lines = []
    for q in PHASE_FORMULAS[frame.phase]:
        text = explain.text(q, v, explain.DEFAULT_DIGITS, *frame.activations)
        lines += textwrap.wrap(text, width=105, subsequent_indent="      ")
    labels["formulas"] = "\n".join(lines)
    mean = f"mean over {frame.examples} examples: " if frame.examples > 1 else ""
    labels["loss"] = f"{mean}E_total = {_n(frame.losses[-1])}" if frame.losses else "E_total: after the forward pass"
    if any(v[b] != 0 for b in ("b1", "b2")):
        labels["biases"] = f"biases b1 = {_n(v['b1'])} (into h1, h2), b2 = {_n(v['b2'])} (into o1, o2)"
    return labels


def _edge_looks(frame: Frame) -> list[picture.EdgeLook]:
    """(colour, line width, direction "forward"/"backward"/"none") of each edge w1..w8: the
    weights as the network picture draws them, where a phase has gradients to show, their sign
    and size (the widest the largest), and the paths back into the hidden units."""
    v, k = frame.values, PHASES.index(frame.phase)
    w = np.array([v[f"w{m}"] for m in range(1, 9)])
    g = np.array([v[f"dE_dw{m}"] for m in range(1, 9)])

    def widths(x: np.ndarray) -> np.ndarray:
        top = np.max(np.abs(x))
        return 0.8 + 4.5 * (np.abs(x) / top if top > 0 else np.zeros_like(x))

    def sign_colour(x: float) -> str:
        return POSITIVE_GRADIENT if x > 0 else NEGATIVE_GRADIENT if x < 0 else ZERO_GRADIENT

    if k == 4:
        return picture.weight_looks([v[f"new_w{m}"] for m in range(1, 9)])
    looks = picture.weight_looks(w, "forward" if k == 0 else "none")
    if k >= 2:  # the output layer's gradients
        out = widths(g[4:])
        for j in range(4, 8):
            looks[j] = picture.EdgeLook(sign_colour(g[j]), out[j - 4], "backward" if k == 2 else "none")
    if k == 3:  # the two paths into each hidden unit: δo·w, then the hidden layer's gradients
        d_o = [v["d_o1"], v["d_o1"], v["d_o2"], v["d_o2"]]
        paths = widths(np.array(d_o) * w[4:])
        for j in range(4, 8):
            looks[j] = picture.EdgeLook(PATH_COLOURS[EDGES[j][1]], paths[j - 4], "backward")
        hidden = widths(g[:4])
        for j in range(4):
            looks[j] = picture.EdgeLook(sign_colour(g[j]), hidden[j], "backward")
    return looks


_WEIGHT_LEGEND = [(WEIGHT_COLORS["positive"], "w > 0"), (WEIGHT_COLORS["negative"], "w < 0 (dashed)")]
_GRADIENT_LEGEND = [(POSITIVE_GRADIENT, "∂E/∂w > 0: the step lowers w"), (NEGATIVE_GRADIENT, "∂E/∂w < 0: raises w")]
#: The legend of each phase (0-based): what the edges' colours mean in it.
LEGENDS = {
    0: _WEIGHT_LEGEND,
    1: _WEIGHT_LEGEND,
    2: _WEIGHT_LEGEND + _GRADIENT_LEGEND,
    3: [
        (PATH_COLOURS["o1"], "path back through o1: δo1·w"),
        (PATH_COLOURS["o2"], "path back through o2: δo2·w"),
        (POSITIVE_GRADIENT, "∂E/∂w > 0"),
        (NEGATIVE_GRADIENT, "∂E/∂w < 0"),
    ],
    4: _WEIGHT_LEGEND,
}


def _legend(fig, k: int) -> None:
    from matplotlib.lines import Line2D

    handles = [
        Line2D([], [], color=c, lw=2, ls="--" if c == WEIGHT_COLORS["negative"] else "-", label=text)
        for c, text in LEGENDS[k]
    ]
    fig.legend(
        handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0.91), ncol=len(handles), fontsize=7, frameon=False
    )


def _loss_panel(fig, frame: Frame, steps: int, loss_range: tuple[float, float], title: str) -> None:
    """The loss curve so far, under the formulas, on axes fixed for the whole animation."""
    loss = fig.add_axes((0.1, 0.07, 0.86, 0.15))
    loss.set_xlim(-0.5, max(steps - 1, 1) + 0.5)
    low, high = loss_range
    pad = 0.05 * (high - low) or 0.05 * abs(high) or 0.01
    loss.set_ylim(low - pad, high + pad)
    if frame.losses:
        loss.plot(range(len(frame.losses)), frame.losses, color="black", marker="o", markersize=3, lw=1)
    loss.set_xlabel("step (updates made before it)", fontsize=7, labelpad=1)
    loss.set_ylabel("E_total", fontsize=7)
    loss.tick_params(labelsize=6.5)
    loss.xaxis.get_major_locator().set_params(integer=True)
    loss.set_title(title, fontsize=7.5, loc="right", pad=2)
    loss.grid(True, alpha=0.3)


def frame_figure(frame: Frame, steps: int, loss_range: tuple[float, float]):
    """One frame's figure, of ``FRAME_SIZE``: titles, the network drawn by ``network_picture.draw``
    (as "Draw network" draws it; its axes come first), the legend, the formulas, the loss."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    labels = frame_labels(frame, steps)
    k = PHASES.index(frame.phase)
    fig = Figure(figsize=(FRAME_SIZE[0] / PNG_DPI, FRAME_SIZE[1] / PNG_DPI), dpi=PNG_DPI)
    FigureCanvasAgg(fig)
    fig.text(0.5, 0.975, labels["title"], ha="center", va="top", fontsize=11, weight="bold")
    fig.text(0.5, 0.935, labels["phase"], ha="center", va="top", fontsize=8.5, color="black")
    ax = fig.add_axes((0.0, 0.40, 1.0, 0.47))
    picture.draw(ax, labels, _edge_looks(frame), picture.current_nodes(k + 1))
    if "biases" in labels:
        ax.text(
            0.5, 0.0, labels["biases"], ha="center", va="bottom", fontsize=7.5, color="dimgrey", transform=ax.transAxes
        )
    _legend(fig, k)
    fig.text(0.03, 0.385, labels["formulas"], ha="left", va="top", fontsize=7.5, family="DejaVu Sans")
    _loss_panel(fig, frame, steps, loss_range, labels["loss"])
    return fig


def render(frame: Frame, steps: int, loss_range: tuple[float, float]):
    """One frame as an RGB ``PIL.Image`` of ``FRAME_SIZE``."""
    from PIL import Image

    canvas = frame_figure(frame, steps, loss_range).canvas
    canvas.draw()
    rgba = np.asarray(canvas.buffer_rgba())
    return Image.fromarray(rgba[..., :3].copy())


def loss_range(frames: Sequence[Frame]) -> tuple[float, float]:
    """The loss axis' extent, fixed for the whole animation (E_total of every step)."""
    values = [x for f in frames for x in f.losses] or [0.0]
    return min(values), max(values)


def images(frames: Sequence[Frame], steps: int, progress: Callable[[float], object] | None = None) -> Iterator:
    """The frames drawn one by one, as palette images of one palette (taken from the first
    step's frames, one per phase, so that every colour is in it), reporting the fraction done."""
    from PIL import Image

    extent = loss_range(frames)
    first = [render(f, steps, extent) for f in frames[: len(PHASES)]]
    strip = Image.new("RGB", (FRAME_SIZE[0] * len(first), FRAME_SIZE[1]))
    for n, image in enumerate(first):
        strip.paste(image, (FRAME_SIZE[0] * n, 0))
    palette = strip.quantize(colors=255)
    for n, frame in enumerate(frames):
        image = first[n] if n < len(first) else render(frame, steps, extent)
        yield image.quantize(palette=palette, dither=Image.Dither.NONE)
        if progress is not None:
            progress((n + 1) / len(frames))


def write_gif(
    path, frames: Sequence[Frame], steps: int, fps: float, progress: Callable[[float], object] | None = None
) -> None:
    """The animation as a GIF, looping, ``fps`` frames a second, at ``path`` (any name: the
    format is GIF whatever its suffix, so that a temporary file can be written).

    Written frame by frame with Pillow's GIF encoder (``GifImagePlugin.getheader`` and
    ``getdata``), each frame as the rectangle that changed since the one before, so that
    memory stays that of one frame: ``Image.save(save_all=True)`` holds every frame until the
    end (1.6 GB for the largest animation)."""
    from PIL import GifImagePlugin, ImageChops

    duration = max(20, round(1000 / fps / 10) * 10)  # GIF counts hundredths of a second
    previous = None
    with open(path, "wb") as f:
        for image in images(frames, steps, progress):
            if previous is None:
                header, _ = GifImagePlugin.getheader(image, info={"loop": 0, "duration": duration})
                f.write(b"".join(header))
                box = (0, 0, *image.size)
            else:  # palette indices: equal where the pixels are, with one palette for all frames
                box = ImageChops.difference(previous, image).getbbox() or (0, 0, 1, 1)
            f.write(b"".join(GifImagePlugin.getdata(image.crop(box), offset=box[:2], duration=duration)))
            previous = image
        f.write(b";")  # the GIF trailer


def png(frame: Frame, steps: int, extent: tuple[float, float]) -> bytes:
    """One frame as PNG bytes (the README's picture)."""
    buf = io.BytesIO()
    render(frame, steps, extent).save(buf, format="PNG", optimize=True)
    return buf.getvalue()
