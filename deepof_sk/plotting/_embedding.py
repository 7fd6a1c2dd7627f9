"""Embedding scatter plots (PCA by default, UMAP when installed) and training curves."""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from .. import schema as S
from ._common import category_label, get_axes, tidy_axes
from ._palette import color_map

__all__ = ["plot_embedding", "plot_training_curves"]


def _rows(embeddings) -> np.ndarray:
    """(n_rows, n_dims) from an array, a DataArray (time, latent[, individual]) or a list of them."""
    items = embeddings if isinstance(embeddings, (list, tuple)) else [embeddings]
    out = []
    for item in items:
        if isinstance(item, xr.DataArray):
            lead = [d for d in (S.TIME, S.INDIVIDUAL, S.WINDOW) if d in item.dims]
            rest = [d for d in item.dims if d not in lead]
            arr = item.transpose(*lead, *rest).values
            out.append(arr.reshape(int(np.prod(arr.shape[: len(lead)])), -1))
        else:
            arr = np.asarray(item, dtype=float)
            out.append(arr.reshape(arr.shape[0], -1) if arr.ndim > 2 else np.atleast_2d(arr))
    return np.concatenate(out, axis=0)


def _flat_labels(labels, n: int):
    if labels is None:
        return None
    items = labels if isinstance(labels, (list, tuple)) and len(labels) and np.ndim(labels[0]) > 0 else [labels]
    vals = np.concatenate([np.asarray(x.values if isinstance(x, xr.DataArray) else x).reshape(-1) for x in items])
    if len(vals) != n:
        raise ValueError(f"plot_embedding: {len(vals)} labels for {n} embedded points.")
    return vals


def plot_embedding(
    embeddings,
    labels=None,
    *,
    method: str = "pca",
    max_points: int = 20_000,
    label_name: str = "cluster",
    colors=None,
    point_size: float = 4.0,
    random_state=0,
    ax=None,
):
    """2-D scatter of embeddings (windows, frames or animals), coloured by cluster, behaviour or condition.

    Parameters
    ----------
    embeddings : array-like, xarray.DataArray or list of them
        Points of shape (n, n_dims), or DataArrays with dims (time, latent[, individual]) (one per recording).
    labels : array-like or list of them, optional
        One category per point (same order), e.g. cluster labels (NaN/None unlabelled points are drawn grey).
    method : {"pca", "umap", "none"}, default "pca"
        Projection to 2-D: PCA (linear, fast), UMAP (needs ``umap-learn``), or none (first two dims).
    max_points : int, default 20000
        Random subsample drawn (all points are used to fit the projection up to 5x this many).
    label_name : str, default "cluster"
        Legend title.
    colors : mapping or sequence, optional
        Colour per category (default colour-blind-safe palette).
    point_size : float, default 4
        Marker area in points squared.
    random_state : int, default 0
        Seed of the subsample and of UMAP.
    ax : matplotlib Axes, optional
        Axes to draw on (default: a new figure).

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> ax = plot_embedding(rng.normal(size=(200, 8)), rng.integers(0, 3, 200))
    >>> ax.get_xlabel().startswith("PC 1")
    True
    """
    where = "plot_embedding"
    X = _rows(embeddings)
    y = _flat_labels(labels, len(X))
    ok = np.all(np.isfinite(X), axis=1)
    X = X[ok]
    y = y[ok] if y is not None else None
    rng = np.random.default_rng(random_state)
    fit_rows = rng.choice(len(X), min(len(X), 5 * max_points), replace=False) if len(X) > 5 * max_points else None
    if method == "pca":
        from sklearn.decomposition import PCA

        pca = PCA(n_components=2, random_state=random_state).fit(X if fit_rows is None else X[fit_rows])
        Z = pca.transform(X)
        ev = 100 * pca.explained_variance_ratio_
        xlabel, ylabel = f"PC 1 ({ev[0]:.0f}% variance)", f"PC 2 ({ev[1]:.0f}% variance)"
    elif method == "umap":
        try:
            import umap
        except ImportError as exc:
            raise ImportError(
                f"{where}: method='umap' needs umap-learn (pip install umap-learn); use method='pca'."
            ) from exc
        reducer = umap.UMAP(n_components=2, random_state=random_state)
        reducer.fit(X if fit_rows is None else X[fit_rows])
        Z = reducer.transform(X)
        xlabel, ylabel = "UMAP 1", "UMAP 2"
    elif method == "none":
        Z = X[:, :2]
        xlabel, ylabel = "dim 1", "dim 2"
    else:
        raise ValueError(f"{where}: `method`={method!r}; choose 'pca', 'umap' or 'none'.")
    show = np.sort(rng.choice(len(Z), max_points, replace=False)) if len(Z) > max_points else np.arange(len(Z))
    ax = get_axes(ax, where, figsize=(5.6, 4.6))
    if y is None:
        ax.scatter(Z[show, 0], Z[show, 1], s=point_size, color="#0072B2", alpha=0.6, linewidths=0, rasterized=True)
    else:
        ys = pd.Series(y[show])
        missing = ys.isna().to_numpy()
        cats = sorted(pd.unique(ys[~missing]), key=lambda v: (str(type(v)), v))
        palette = color_map(cats, colors)
        if missing.any():
            ax.scatter(Z[show][missing, 0], Z[show][missing, 1], s=point_size, color="#BBBBBB", alpha=0.4,
                       linewidths=0, label="unlabelled", rasterized=True)
        for c in cats:
            m = (ys == c).to_numpy()
            ax.scatter(Z[show][m, 0], Z[show][m, 1], s=point_size, color=palette[c], alpha=0.7, linewidths=0,
                       label=category_label(c) if label_name == "cluster" else str(c), rasterized=True)
        leg = ax.legend(title=label_name, frameon=False, fontsize=8, title_fontsize=9, markerscale=2.5,
                        loc="center left", bbox_to_anchor=(1.0, 0.5))
        for h in leg.legend_handles:
            h.set_alpha(1.0)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(f"Embedding ({method.upper() if method != 'none' else 'raw'}), {len(show):,} points", fontsize=10)
    tidy_axes(ax)
    return ax


def plot_training_curves(history, *, metrics=None, log_y: bool | None = None, ax=None):
    """Training and validation curves per epoch (a Keras History, its ``.history`` dict, or a DataFrame).

    Parameters
    ----------
    history : keras History, dict of lists, or pandas.DataFrame
        One sequence per metric; ``val_<metric>`` entries are drawn dashed in the colour of ``<metric>``.
    metrics : sequence of str, optional
        Metrics to draw (default all training metrics).
    log_y : bool, optional
        Logarithmic y axis (default when all values are positive and span more than a factor 20).
    ax : matplotlib Axes, optional
        Axes to draw on (default: a new figure).

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> ax = plot_training_curves({"loss": [3.0, 2.0, 1.5], "val_loss": [3.2, 2.4, 2.0]})
    >>> [t.get_text() for t in ax.get_legend().get_texts()]
    ['loss (train)', 'loss (validation)']
    """
    where = "plot_training_curves"
    hist = getattr(history, "history", history)
    if isinstance(hist, pd.DataFrame):
        hist = {c: hist[c].to_numpy() for c in hist.columns}
    if not isinstance(hist, dict) or not hist:
        raise TypeError(f"{where}: expected a Keras History, a dict of per-epoch lists or a DataFrame.")
    train = [k for k in hist if not str(k).startswith("val_")]
    names = list(metrics) if metrics is not None else train
    unknown = sorted(set(names) - set(hist))
    if unknown:
        raise ValueError(f"{where}: metrics {unknown} are not in the history ({sorted(hist)}).")
    palette = color_map(names)
    ax = get_axes(ax, where, figsize=(5.5, 3.6))
    allv = []
    for name in names:
        v = np.asarray(hist[name], dtype=float)
        epochs = np.arange(1, len(v) + 1)
        ax.plot(epochs, v, color=palette[name], label=f"{name} (train)")
        allv.append(v)
        if f"val_{name}" in hist:
            vv = np.asarray(hist[f"val_{name}"], dtype=float)
            ax.plot(np.arange(1, len(vv) + 1), vv, color=palette[name], linestyle="--", label=f"{name} (validation)")
            allv.append(vv)
    flat = np.concatenate(allv)
    flat = flat[np.isfinite(flat)]
    if log_y is None:
        log_y = bool(len(flat) and flat.min() > 0 and flat.max() / flat.min() > 20)
    if log_y:
        ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("value" if len(names) > 1 else names[0].replace("_", " "))
    ax.legend(frameon=False, fontsize=9)
    ax.set_title("Training curves", fontsize=10)
    tidy_axes(ax)
    return ax
