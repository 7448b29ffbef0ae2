"""The pictures: loss curves for the CLI's PNG and the ribbon's picture, and the network.

Figures are built on ``matplotlib.figure.Figure`` (no pyplot: no global state, no GUI
backend), and matplotlib is imported inside the functions: the UDFs and the CLI's other
commands never pay for it.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import numpy as np

from . import network
from .palette import LR_COLORS, lr_color, lr_label

PNG_SIZE = (8.0, 5.0)  # inches; at PNG_DPI this is 800 x 500 pixels
PNG_DPI = 100
PLOT_MAX_LINES = 200
PLOT_DOTS_UP_TO = 30  # loss values per curve: up to this many, each is marked with a dot
LEGEND_MAX = len(LR_COLORS)  # learning rates; beyond this the plot colours lines by a colour bar


def loss_figure(lrs: Sequence[float], curves, threshold: float, subtitle: str):
    """One line per learning rate, titled, axes labelled, with a legend (a colour bar
    instead beyond LEGEND_MAX learning rates, at most PLOT_MAX_LINES lines); whole-number
    steps, and a dot on every value of a short run, where lines alone would show little."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    if len(lrs) > PLOT_MAX_LINES:  # more lines than pixels can show: an even selection
        keep = np.unique(np.linspace(0, len(lrs) - 1, PLOT_MAX_LINES).round().astype(int))
        subtitle += f"; {keep.size} of {len(lrs)} learning rates shown"
        lrs, curves = [lrs[k] for k in keep], curves[:, keep]
    fig = Figure(figsize=PNG_SIZE, dpi=PNG_DPI)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    steps = np.arange(len(curves))
    short = len(steps) <= PLOT_DOTS_UP_TO
    if len(lrs) <= LEGEND_MAX:
        for k, lr in enumerate(lrs):
            ax.plot(
                steps,
                curves[:, k],
                label=lr_label(lr),
                color=lr_color(k),
                marker="o" if short else None,
                markersize=3,
            )
    else:  # too many for a legend: colour by learning rate, with a colour bar
        from matplotlib.collections import LineCollection

        segments = np.stack([np.broadcast_to(steps[:, None], curves.shape), curves], axis=-1).transpose(1, 0, 2)
        lines = LineCollection(segments, array=np.asarray(lrs), cmap="viridis", linewidths=0.8)
        ax.add_collection(lines)
        if short:
            ax.scatter(np.repeat(steps, len(lrs)), curves.ravel(), c=np.tile(lrs, len(steps)), cmap="viridis", s=6)
        ax.autoscale()
        fig.colorbar(lines, ax=ax, label="learning rate")
    ax.axhline(threshold, color="grey", linestyle=":", linewidth=1, label=f"E_total = {threshold:g}")
    ax.set_title(f"Loss during training, per learning rate\n{subtitle}", fontsize=11)
    ax.set_xlabel("step (weight updates)")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if len(steps) == 1:
        ax.set_xlim(-1, 1)
    ax.set_ylabel("E_total")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=9)
    fig.tight_layout()
    return fig


def _figure(box):
    """A figure of ``box.width`` x ``box.height`` pixels (a ``layout.Anchor``)."""
    from matplotlib.figure import Figure

    return Figure(figsize=(box.width / PNG_DPI, box.height / PNG_DPI), dpi=PNG_DPI, layout="constrained")


def png_bytes(fig) -> bytes:
    """``fig`` as PNG bytes, at PNG_DPI (the resolution every figure here is made for)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=PNG_DPI)
    return buf.getvalue()


def curves_figure(lrs: Sequence[float], curves: np.ndarray, box):
    """Two panels: E_total against step, and against learning rate x step, where curves of
    different learning rates nearly fall on one line (small steps follow the same path)."""
    fig = _figure(box)
    by_step, by_lr_step = fig.subplots(1, 2)
    steps = np.arange(curves.shape[0])
    for k, lr in enumerate(lrs):
        by_step.plot(steps, curves[:, k], label=lr_label(lr), color=lr_color(k))
        by_lr_step.plot(lr * steps, curves[:, k], label=lr_label(lr), color=lr_color(k))
    by_step.set(title="E_total per step", xlabel="step", ylabel="E_total")
    by_lr_step.set(title="E_total against learning rate x step", xlabel="learning rate x step", ylabel="E_total")
    # where falling curves leave room; loc="best" searches every point (minutes, and a warning, on long runs)
    by_lr_step.legend(loc="upper right", fontsize="small")
    fig.suptitle("Training the 2-2-2 network with different learning rates")
    return fig


_NODES = {"i1": (0, 1), "i2": (0, 0), "h1": (1, 1), "h2": (1, 0), "o1": (2, 1), "o2": (2, 0)}
# w1..w8: (from, to), in the order of network.WEIGHT_NAMES
_EDGES = (
    ("i1", "h1"),
    ("i2", "h1"),
    ("i1", "h2"),
    ("i2", "h2"),
    ("h1", "o1"),
    ("h2", "o1"),
    ("h1", "o2"),
    ("h2", "o2"),
)


def network_figure(weights: np.ndarray, net, lr: float, step: int, box):
    """The 2-2-2 network with ``weights`` (``net``: its inputs, targets and biases): nodes with
    their activations, edges labelled with the weights, red where dE/dw > 0 (the step lowers
    the weight), blue where dE/dw < 0."""
    f = network.forward(weights, inputs=net.inputs, targets=net.targets, biases=net.biases)
    grad = network.gradients(weights, inputs=net.inputs, targets=net.targets, biases=net.biases)
    fig = _figure(box)
    ax = fig.subplots()
    ax.set_axis_off()
    ax.set(xlim=(-0.45, 2.75), ylim=(-0.35, 1.3))
    for k, ((a, b), name) in enumerate(zip(_EDGES, network.WEIGHT_NAMES, strict=True)):
        (x0, y0), (x1, y1) = _NODES[a], _NODES[b]
        color = "tab:red" if grad[k] > 0 else "tab:blue" if grad[k] < 0 else "grey"
        ax.plot([x0, x1], [y0, y1], color=color, lw=2, zorder=1)
        t = 0.3 if y0 != y1 else 0.5  # crossing edges: label near their source, apart
        ax.text(
            x0 + t * (x1 - x0),
            y0 + t * (y1 - y0),
            f"{name} = {weights[k]:.4f}",
            fontsize=8,
            ha="center",
            va="center",
            zorder=3,
            bbox=dict(boxstyle="round", fc="white", ec=color),
        )
    values = {
        "i1": ("i1", net.inputs[0]),
        "i2": ("i2", net.inputs[1]),
        "h1": ("a_h1", f.a_h1),
        "h2": ("a_h2", f.a_h2),
        "o1": ("a_o1", f.a_o1),
        "o2": ("a_o2", f.a_o2),
    }
    for node, (x, y) in _NODES.items():
        label, v = values[node]
        text = f"{node}\n{float(v):.4f}" if node == label else f"{node}\n{label} = {float(v):.4f}"
        ax.text(
            x,
            y,
            text,
            ha="center",
            va="center",
            fontsize=8,
            zorder=4,
            bbox=dict(boxstyle="circle", fc="lightyellow", ec="black"),
        )
    for k, node in enumerate(("o1", "o2")):
        x, y = _NODES[node]
        ax.text(x + 0.45, y, f"t{k + 1} = {net.targets[k]:g}", ha="left", va="center", fontsize=8)
    ax.plot([], [], color="tab:red", label="dE/dw > 0: the step lowers w")
    ax.plot([], [], color="tab:blue", label="dE/dw < 0: the step raises w")
    ax.legend(loc="lower center", ncol=2, fontsize=8, frameon=False, bbox_to_anchor=(0.5, -0.08))
    title = f"Network at step {step} (learning rate {lr:g}): E_total = {float(f.E_total):.6g}"
    if any(net.biases):  # not drawn as nodes; without them the activations would not add up
        title += f"\nbiases: b1 = {net.biases[0]:g} (into h1, h2), b2 = {net.biases[1]:g} (into o1, o2)"
    ax.set_title(title)
    return fig
