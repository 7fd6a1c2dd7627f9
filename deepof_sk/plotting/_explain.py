"""SHAP summaries (bar and beeswarm) and the surrogate's held-out confusion matrix."""

from __future__ import annotations

import numpy as np
import xarray as xr

from ._common import category_label, get_axes, tidy_axes
from ._palette import SEQUENTIAL_CMAP, color_map

__all__ = ["plot_shap_summary", "plot_confusion_matrix"]


def _short(name: str, width: int = 38) -> str:
    return name if len(name) <= width else name[: width - 1] + "…"


def _beeswarm_offsets(x: np.ndarray, n_bins: int = 60, height: float = 0.4) -> np.ndarray:
    """Vertical offsets that spread points of similar x into a swarm whose width follows their density."""
    if len(x) == 0:
        return np.zeros(0)
    lo, hi = np.nanmin(x), np.nanmax(x)
    edges = np.linspace(lo, hi + 1e-12, n_bins + 1)
    which = np.clip(np.digitize(x, edges) - 1, 0, n_bins - 1)
    counts = np.bincount(which, minlength=n_bins)
    peak = max(counts.max(), 1)
    offsets = np.zeros(len(x))
    for b in np.flatnonzero(counts):
        idx = np.flatnonzero(which == b)
        k = len(idx)
        ranks = np.arange(k)
        # alternate above and below the row centre: 0, +1, -1, +2, -2, ...
        signed = np.where(ranks % 2 == 0, ranks // 2, -(ranks // 2 + 1))
        offsets[idx] = signed / max(peak / 2, 1) * height
    return np.clip(offsets, -height, height)


def plot_shap_summary(
    shap_values: xr.DataArray,
    *,
    kind: str = "bar",
    class_label=None,
    max_features: int = 12,
    colors=None,
    ax=None,
):
    """Summarise SHAP values: global importance (stacked by class) or a beeswarm for one class.

    Parameters
    ----------
    shap_values : xarray.DataArray
        Output of :meth:`deepof_sk.explain.ShapExplainer.explain` or :func:`deepof_sk.explain.compute_shap_values`.
    kind : {"bar", "beeswarm"}, default "bar"
        ``"bar"``: mean |SHAP| per feature, one stacked segment per class (cluster/behaviour), most important
        first. ``"beeswarm"``: one row per feature, one point per window at its SHAP value towards ``class_label``,
        coloured by the feature's value (low to high).
    class_label : optional
        Class (cluster or behaviour) of the beeswarm, or of a single-class bar; default: the beeswarm needs one.
    max_features : int, default 12
        Features shown (the most important).
    colors : mapping or sequence, optional
        Colours per class for the bar chart.
    ax : matplotlib Axes, optional
        Axes to draw on (default: a new figure).

    Returns
    -------
    matplotlib.axes.Axes
    """
    where = "plot_shap_summary"
    if not isinstance(shap_values, xr.DataArray) or shap_values.ndim != 3:
        raise TypeError(f"{where}: expected the 3-D DataArray returned by ShapExplainer.explain().")
    class_dim = shap_values.dims[2]
    classes = list(shap_values[class_dim].values)
    unit = shap_values.attrs.get("output", "")
    unit_txt = f" ({unit})" if unit else ""
    if kind == "bar":
        sv = shap_values if class_label is None else shap_values.sel({class_dim: [class_label]})
        per_class = np.abs(sv).mean("window")  # (feature, class)
        total = per_class.sum(class_dim).values
        order = np.argsort(-total, kind="stable")[:max_features]
        names = [_short(str(f)) for f in per_class["feature"].values[order]]
        shown = list(sv[class_dim].values)
        palette = color_map(shown, colors)
        ax = get_axes(ax, where, figsize=(6.5, 0.8 + 0.32 * len(order)))
        left = np.zeros(len(order))
        y = np.arange(len(order))
        for c in shown:
            w = per_class.sel({class_dim: c}).values[order]
            ax.barh(y, w, left=left, color=palette[c], label=category_label(c) if class_dim == "cluster" else str(c),
                    edgecolor="white", linewidth=0.3)
            left += w
        ax.set_yticks(y, names)
        ax.invert_yaxis()
        ax.set_xlim(left=0)
        ax.set_xlabel(f"mean |SHAP value|{unit_txt}")
        if len(shown) > 1:
            ax.legend(title=class_dim, frameon=False, fontsize=8, title_fontsize=9, loc="lower right",
                      ncols=1 if len(shown) <= 10 else 2)
        ax.set_title("Feature importance" + ("" if class_label is None else f": {category_label(class_label)}"),
                     fontsize=10)
        tidy_axes(ax)
        return ax
    if kind != "beeswarm":
        raise ValueError(f"{where}: `kind`={kind!r}; choose 'bar' or 'beeswarm'.")
    if class_label is None:
        if len(classes) > 2:
            raise ValueError(f"{where}: a beeswarm shows one class; pass class_label= (one of {classes}).")
        class_label = classes[-1]
    sv = shap_values.sel({class_dim: class_label})
    vals = sv.values  # (window, feature)
    fv = shap_values["feature_value"].values if "feature_value" in shap_values.coords else None
    order = np.argsort(-np.abs(vals).mean(0), kind="stable")[:max_features]
    ax = get_axes(ax, where, figsize=(6.5, 0.9 + 0.36 * len(order)))
    from matplotlib import colormaps
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize

    cmap = colormaps[SEQUENTIAL_CMAP]
    for row, j in enumerate(order):
        x = vals[:, j]
        offsets = _beeswarm_offsets(x)
        if fv is not None:
            f = fv[:, j].astype(float)
            lo, hi = np.nanpercentile(f, [5, 95]) if np.isfinite(f).any() else (0.0, 1.0)
            c = np.clip((f - lo) / (hi - lo if hi > lo else 1.0), 0, 1)
            colours = np.where(np.isfinite(c)[:, None], cmap(np.nan_to_num(c)), np.array([[0.7, 0.7, 0.7, 1.0]]))
        else:
            colours = "#0072B2"
        ax.scatter(x, row + offsets, s=7, c=colours, linewidths=0, alpha=0.85, rasterized=True)
    ax.axvline(0.0, color="#777777", linewidth=0.8, zorder=0)
    ax.set_yticks(np.arange(len(order)), [_short(str(f)) for f in sv["feature"].values[order]])
    ax.set_ylim(len(order) - 0.5, -0.5)
    ax.set_xlabel(f"SHAP value towards {category_label(class_label)}{unit_txt}")
    if fv is not None:
        cb = ax.figure.colorbar(ScalarMappable(Normalize(0, 1), cmap), ax=ax, shrink=0.7, pad=0.02, aspect=30)
        cb.set_ticks([0, 1], labels=["low", "high"])
        cb.set_label("feature value")
    ax.set_title(f"SHAP values for {category_label(class_label)} ({sv.sizes['window']} windows)", fontsize=10)
    tidy_axes(ax)
    return ax


def plot_confusion_matrix(confusion, *, normalize: bool = True, ax=None):
    """Held-out confusion matrix of the surrogate (``ShapExplainer.confusion_matrix_``), rows normalised to
    recall by default.

    Parameters
    ----------
    confusion : xarray.DataArray or ShapExplainer
        Counts with dims (true, predicted), or a fitted explainer.
    normalize : bool, default True
        Show each row as the share of its windows (recall on the diagonal).
    ax : matplotlib Axes, optional
        Axes to draw on (default: a new figure).

    Returns
    -------
    matplotlib.axes.Axes
    """
    where = "plot_confusion_matrix"
    if hasattr(confusion, "confusion_matrix_"):
        confusion = confusion.confusion_matrix_
    if confusion is None:
        raise ValueError(f"{where}: no confusion matrix (the explainer was fitted with cv=None).")
    counts = np.asarray(confusion.values, dtype=float)
    names = [category_label(c) for c in confusion["true"].values]
    n = len(names)
    shown = counts / np.maximum(counts.sum(1, keepdims=True), 1) if normalize else counts
    ax = get_axes(ax, where, figsize=(max(4.6, 2.6 + 0.5 * n), max(3.8, 1.8 + 0.45 * n)))
    im = ax.imshow(shown, cmap=SEQUENTIAL_CMAP, vmin=0, vmax=1 if normalize else None)
    ax.set_xticks(np.arange(n), names, rotation=45, ha="right")
    ax.set_yticks(np.arange(n), names)
    ax.set_xlabel("predicted (held-out recordings)")
    ax.set_ylabel("true")
    cb = ax.figure.colorbar(im, ax=ax, shrink=0.85)
    cb.set_label("share of true class" if normalize else "windows")
    if n <= 12:
        top = shown.max() if shown.size else 1
        for i in range(n):
            for j in range(n):
                ax.text(j, i, f"{shown[i, j]:.2f}" if normalize else f"{int(shown[i, j])}", ha="center",
                        va="center", fontsize=7, color="white" if shown[i, j] < 0.6 * top else "black")
    diag = np.trace(counts) / max(counts.sum(), 1)
    ax.set_title(f"Surrogate on held-out recordings\naccuracy {diag:.2f}", fontsize=10)
    return ax
