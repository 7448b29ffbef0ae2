"""The learning-rate map as a picture: lr_hidden across, lr_output up, one cell per pair.

Converged pairs are coloured by how fast they got below the threshold (one palette), diverged
ones by how fast they blew up (another); "still falling" and "stalled" are two flat greys. The
axes are in learning-rate units (log scale for log-spaced rates), so a zoom is a map over
narrower ranges. matplotlib is imported inside the function, as in figures.py.
"""

from __future__ import annotations

import numpy as np

from .figures import PNG_DPI
from .lrmap import CLASS_LABELS, CLASSES, LRMap

MAP_SIZE = (9.0, 7.0)  # inches: 900 x 700 pixels at PNG_DPI
CONVERGED_CMAP = "viridis"  # fast (dark) to slow (yellow)
DIVERGED_CMAP = "OrRd_r"  # fast (dark red) to slow (pale)
FLAT = {"falling": "#c8c8c8", "stalled": "#6e6e6e"}  # still falling: light grey; stalled: dark grey
#: Rates drawn per axis, at most: the picture has fewer pixels than that; a larger map is drawn
#: from every k-th rate (the CSV has every pair), and the title says so.
DRAW_MAX = 800


def _edges(v: np.ndarray, log: bool) -> np.ndarray:
    """Cell edges around the centres ``v``: midpoints (geometric ones on a log axis)."""
    if v.size == 1:
        return np.array([v[0] / 1.5, v[0] * 1.5]) if log else np.array([v[0] - 0.5 * abs(v[0]), v[0] * 1.5])
    x = np.log(v) if log else v
    mid = (x[1:] + x[:-1]) / 2
    e = np.concatenate([[x[0] - (mid[0] - x[0])], mid, [x[-1] + (x[-1] - mid[-1])]])
    return np.exp(e) if log else e


def map_figure(m: LRMap, subtitle: str, log: bool = True):
    """The map, with a colour bar for each palette and a legend for the two greys."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.colors import ListedColormap, LogNorm
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    counts = np.bincount(m.cls.ravel(), minlength=len(CLASSES))
    size = f"{m.lr_hidden.size:,} x {m.lr_output.size:,}"
    kh, ko = -(-m.lr_hidden.size // DRAW_MAX), -(-m.lr_output.size // DRAW_MAX)
    if kh > 1 or ko > 1:
        m = m._replace(
            lr_hidden=m.lr_hidden[::kh],
            lr_output=m.lr_output[::ko],
            **{f: getattr(m, f)[::kh, ::ko] for f in ("E_final", "steps_run", "below_from", "cls")},
        )
        subtitle += f"\ndrawn: 1 rate in {kh} across, 1 in {ko} up (the CSV has every pair)"
    fig = Figure(figsize=MAP_SIZE, dpi=PNG_DPI, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    x, y = _edges(m.lr_hidden, log), _edges(m.lr_output, log)
    cls = m.cls.T  # rows: lr_output (up), columns: lr_hidden (across)
    code = {name: k for k, name in enumerate(CLASSES)}
    vmax = max(1, m.steps)
    conv = np.ma.masked_where(cls != code["converged"], m.below_from.T.astype(float))
    div = np.ma.masked_where(cls != code["diverged"], m.steps_run.T.astype(float))
    grey = np.ma.masked_where((cls != code["falling"]) & (cls != code["stalled"]), cls.astype(float))
    greys = ListedColormap([FLAT["falling"], FLAT["stalled"]])
    ax.pcolormesh(x, y, grey, cmap=greys, vmin=code["falling"] - 0.5, vmax=code["stalled"] + 0.5, shading="flat")
    # steps on a log scale: most pairs converge (or blow up) within a few steps, a few take hundreds
    c = ax.pcolormesh(x, y, np.maximum(conv, 1), cmap=CONVERGED_CMAP, norm=LogNorm(1, vmax), shading="flat")
    d = ax.pcolormesh(x, y, np.maximum(div, 1), cmap=DIVERGED_CMAP, norm=LogNorm(1, vmax), shading="flat")
    if log:
        ax.set_xscale("log")
        ax.set_yscale("log")
    ax.set_xlim(x[0], x[-1])
    ax.set_ylim(y[0], y[-1])
    ax.set_xlabel("lr_hidden (w1..w4)")
    ax.set_ylabel("lr_output (w5..w8)")
    ax.set_title(f"Learning-rate map: {size} networks, {m.steps} steps\n{subtitle}")
    fig.colorbar(c, ax=ax, label=f"converged (E_total < {m.threshold:g}): from step", fraction=0.05, pad=0.02)
    fig.colorbar(d, ax=ax, label="diverged: at step", fraction=0.05, pad=0.02)
    handles = [
        Patch(color=FLAT[name], label=f"{CLASS_LABELS[name]} ({counts[code[name]]:,})")
        for name in ("falling", "stalled")
    ]
    handles += [
        Patch(color="#3b528b", label=f"converged ({counts[code['converged']]:,})"),
        Patch(color="#d7301f", label=f"diverged ({counts[code['diverged']]:,})"),
    ]
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=4, fontsize=9, frameon=False)
    return fig
