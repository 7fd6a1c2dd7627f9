"""Transition matrices as heatmaps or as directed graphs."""

from __future__ import annotations

import numpy as np
import xarray as xr

from ._common import category_label, get_axes
from ._palette import SEQUENTIAL_CMAP, categorical_colors

__all__ = ["plot_transitions"]


def _matrix(transitions, group):
    if isinstance(transitions, xr.DataArray):
        da = transitions
        if da.ndim == 3:
            lead = da.dims[0]
            if group is None:
                if da.sizes[lead] != 1:
                    raise ValueError(
                        f"plot_transitions: the matrices have {da.sizes[lead]} groups ({list(da[lead].values)}); "
                        "pick one with group=..."
                    )
                da = da.isel({lead: 0})
            else:
                da = da.sel({lead: group})
        names = list(da[da.dims[0]].values)
        return np.asarray(da.values, dtype=float), names, da.name
    arr = np.asarray(transitions, dtype=float)
    if arr.ndim != 2 or arr.shape[0] != arr.shape[1]:
        raise ValueError(f"plot_transitions: expected a square matrix; got shape {arr.shape}.")
    return arr, list(range(arr.shape[0])), None


def plot_transitions(
    transitions,
    *,
    group=None,
    kind: str = "heatmap",
    annotate: bool | None = None,
    threshold: float = 0.05,
    steady_state=None,
    cmap: str = SEQUENTIAL_CMAP,
    ax=None,
):
    """Draw a transition matrix as a heatmap or as a directed graph.

    Parameters
    ----------
    transitions : xarray.DataArray or array-like
        Output of :func:`deepof_sk.stats.compute_transitions` (pick the matrix with ``group``) or a square matrix.
    group : optional
        Group (condition, track or "all") to draw.
    kind : {"heatmap", "graph"}, default "heatmap"
        Heatmap of probabilities (rows: from, columns: to), or a graph with states on a circle, node area
        proportional to the steady state and arrow width to the transition probability.
    annotate : bool, optional
        Write the values in the heatmap cells (default when there are at most 12 states).
    threshold : float, default 0.05
        Graph: hide transitions below this probability.
    steady_state : array-like, optional
        Graph node sizes (default :func:`deepof_sk.stats.compute_steady_state` of the matrix).
    cmap : str, default "viridis"
        Colour map of the heatmap.
    ax : matplotlib Axes, optional
        Axes to draw on (default: a new figure).

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import numpy as np
    >>> ax = plot_transitions(np.array([[0.8, 0.2], [0.4, 0.6]]))
    >>> ax.get_xlabel()
    'to'
    """
    where = "plot_transitions"
    P, names, name = _matrix(transitions, group)
    labels = [category_label(n) for n in names]
    n = len(names)
    prob = name != "transition_count"
    if kind == "heatmap":
        ax = get_axes(ax, where, figsize=(2.4 + 0.5 * n, 1.6 + 0.45 * n))
        vmax = 1.0 if prob else None
        im = ax.imshow(P, cmap=cmap, vmin=0.0, vmax=vmax, interpolation="nearest")
        ax.set_xticks(np.arange(n), labels, rotation=45, ha="right")
        ax.set_yticks(np.arange(n), labels)
        ax.set_xlabel("to")
        ax.set_ylabel("from")
        cb = ax.figure.colorbar(im, ax=ax, shrink=0.85)
        cb.set_label("transition probability" if prob else "transitions")
        if annotate if annotate is not None else n <= 12:
            top = np.nanmax(P) if P.size else 1.0
            for i in range(n):
                for j in range(n):
                    v = P[i, j]
                    text = f"{v:.2f}" if prob else f"{int(v)}"
                    ax.text(j, i, text, ha="center", va="center", fontsize=7,
                            color="white" if v < 0.6 * (vmax or top) else "black")
        title = "Transition probabilities" if prob else "Transition counts"
        ax.set_title(title + (f", {group}" if group is not None else ""), fontsize=10)
        return ax
    if kind != "graph":
        raise ValueError(f"{where}: `kind`={kind!r}; choose 'heatmap' or 'graph'.")
    from matplotlib.patches import Circle, FancyArrowPatch

    if steady_state is None:
        from ..stats import compute_steady_state

        steady_state = compute_steady_state(P)
    pi = np.asarray(steady_state, dtype=float)
    rows = P.sum(1, keepdims=True)
    Pn = np.divide(P, rows, out=np.zeros_like(P), where=rows > 0)
    ax = get_axes(ax, where, figsize=(5.0, 5.0))
    ax.set_xlim(-1.45, 1.45)
    ax.set_ylim(-1.45, 1.45)
    ax.set_aspect("equal")
    ax.axis("off")
    # arrows shrink in points: convert the node radii from data units
    fig = ax.figure
    pts_per_unit = ax.get_window_extent().width / 2.9 * 72.0 / fig.dpi
    angle = np.pi / 2 - 2 * np.pi * np.arange(n) / n
    xy = np.c_[np.cos(angle), np.sin(angle)]
    colors = categorical_colors(n)
    node_r = (0.05 + 0.10 * np.sqrt(pi / max(pi.max(), 1e-12)))
    for i in range(n):
        for j in range(n):
            p = Pn[i, j]
            if i == j or p < threshold:
                continue
            arrow = FancyArrowPatch(
                xy[i], xy[j], connectionstyle="arc3,rad=0.15", arrowstyle="-|>", mutation_scale=8 + 10 * p,
                linewidth=0.4 + 5 * p, color=colors[i], alpha=0.8, shrinkA=node_r[i] * pts_per_unit + 2,
                shrinkB=node_r[j] * pts_per_unit + 2, zorder=1,
            )
            ax.add_patch(arrow)
    for i in range(n):
        ax.add_patch(Circle(xy[i], node_r[i], facecolor=colors[i], edgecolor="black", linewidth=0.8, zorder=2))
        ax.text(*(xy[i] * (1.0 + node_r[i] + 0.16)), f"{labels[i]}\n{100 * pi[i]:.0f}%", ha="center",
                va="center", fontsize=8)
    title = f"Transitions ≥ {threshold:.2f}" + (f", {group}" if group is not None else "")
    ax.set_title(title + "\narrow width: probability; node area: steady state", fontsize=9)
    return ax
