"""The pictures: loss curves for the CLI's PNG and the ribbon's picture (the network's is in
``network_picture``).

Figures are built on ``matplotlib.figure.Figure`` (no pyplot: no global state, no GUI
backend), and matplotlib is imported inside the functions: the UDFs and the CLI's other
commands never pay for it.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import numpy as np

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


def curves_figure(lrs: Sequence[float], curves: np.ndarray, box, subtitle: str = ""):
    """Two panels: E_total against step, and against learning rate x step, where curves of
    different learning rates nearly fall on one line (small steps follow the same path);
    ``subtitle``: the network's choices (activations, examples), after the title."""
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
    fig.suptitle("Training the 2-2-2 network with different learning rates" + (f" ({subtitle})" if subtitle else ""))
    return fig
