"""Where animals spend their time: position heatmaps with the arena outline."""

from __future__ import annotations

import numpy as np
import xarray as xr

from .. import schema as S
from ._common import get_axes, tidy_axes
from ._palette import SEQUENTIAL_CMAP

__all__ = ["plot_position_heatmap", "draw_arena"]


def _arena_of(arena, ds: xr.Dataset | None):
    if arena is None:
        return None
    if isinstance(arena, str):
        if arena != "from_attrs":
            raise ValueError(
                f"plot_position_heatmap: `arena`={arena!r}; give an Arena, a dict, 'from_attrs' or None."
            )
        if ds is None or ds.attrs.get("arena") is None:
            return None
        from ..preprocessing import get_arena

        return get_arena(ds)
    if isinstance(arena, dict):
        from ..preprocessing import Arena

        return Arena.from_dict(arena)
    return arena


def draw_arena(ax, arena, *, color: str = "white", linewidth: float = 1.5, **kwargs):
    """Draw an arena outline (an object with ``as_polygon()``, such as :class:`~deepof_sk.preprocessing.Arena`,
    or an (n, 2) array of vertices) on ``ax``; returns the Line2D."""
    vertices = np.asarray(arena.as_polygon() if hasattr(arena, "as_polygon") else arena, dtype=float)
    closed = np.vstack([vertices, vertices[:1]])
    (line,) = ax.plot(closed[:, 0], closed[:, 1], color=color, linewidth=linewidth, **kwargs)
    return line


def plot_position_heatmap(
    recordings,
    *,
    keypoint: str = "Center",
    individual=None,
    arena="from_attrs",
    bins: int = 60,
    sigma: float = 1.0,
    normalize: str = "seconds",
    invert_y: bool | None = None,
    cmap: str = SEQUENTIAL_CMAP,
    colorbar: bool = True,
    title: str | None = None,
    ax=None,
):
    """Heatmap of where a keypoint spends time, pooled over recordings, with the arena drawn on top.

    Parameters
    ----------
    recordings : xarray.Dataset or sequence of xarray.Dataset
        Recordings in one space unit (pool only recordings of one condition to compare conditions; one call per
        panel with ``ax=``).
    keypoint : str, default "Center"
        Keypoint whose position is mapped.
    individual : str or list of str, optional
        Animals to include (default all).
    arena : Arena, dict, "from_attrs" or None, default "from_attrs"
        Arena to outline (and to frame the map); ``"from_attrs"`` uses the first recording's ``attrs["arena"]``.
    bins : int, default 60
        Histogram bins along the longer side.
    sigma : float, default 1.0
        Gaussian smoothing in bins (0 for none).
    normalize : {"seconds", "fraction"}, default "seconds"
        Colour = time spent per bin in seconds per recording (needs fps; frames otherwise), or share of all frames
        (%).
    invert_y : bool, optional
        Draw y downwards, as in the video frame; default True for pixel coordinates.
    cmap : str, default "viridis"
        Sequential colour map.
    colorbar : bool, default True
        Add a labelled colour bar.
    title : str, optional
        Axes title.
    ax : matplotlib Axes, optional
        Where to draw (default: a new figure).

    Returns
    -------
    matplotlib.axes.Axes

    Notes
    -----
    Frames where the keypoint is NaN are left out. Axis units come from ``attrs["space_unit"]``.

    Examples
    --------
    >>> from deepof_sk.datasets import make_synthetic_poses
    >>> ds = make_synthetic_poses(500, scenario="explore", random_state=0)
    >>> ax = plot_position_heatmap(ds, arena=None)
    >>> ax.get_xlabel()
    'x (pixels)'
    """
    where = "plot_position_heatmap"
    recs = [recordings] if isinstance(recordings, xr.Dataset) else list(recordings)
    if not recs or not all(isinstance(d, xr.Dataset) for d in recs):
        raise TypeError(f"{where}: expected an xarray.Dataset or a list of them.")
    if normalize not in ("seconds", "fraction"):
        raise ValueError(f"{where}: `normalize`={normalize!r}; choose 'seconds' or 'fraction'.")
    units = {d.attrs.get(S.SPACE_UNIT, "pixels") for d in recs}
    if len(units) > 1:
        raise ValueError(f"{where}: the recordings mix space units {sorted(units)}; scale them to one unit first.")
    unit = units.pop()
    xs, ys, n_frames = [], [], 0
    weights = []
    for d in recs:
        if keypoint not in set(map(str, d[S.KEYPOINT].values)):
            raise ValueError(f"{where}: keypoint {keypoint!r} is not in the recording (has "
                             f"{sorted(map(str, d[S.KEYPOINT].values))}).")
        pos = d[S.POSITION].sel({S.KEYPOINT: keypoint})
        if individual is not None:
            pos = pos.sel({S.INDIVIDUAL: [individual] if isinstance(individual, str) else list(individual)})
        x = pos.sel({S.SPACE: "x"}).values.ravel()
        y = pos.sel({S.SPACE: "y"}).values.ravel()
        ok = np.isfinite(x) & np.isfinite(y)
        fps = d.attrs.get(S.FPS)
        w = 1.0 / float(fps) if (normalize == "seconds" and fps) else 1.0
        xs.append(x[ok])
        ys.append(y[ok])
        weights.append(np.full(ok.sum(), w))
        n_frames += x.size
    x, y, w = np.concatenate(xs), np.concatenate(ys), np.concatenate(weights)
    geom = _arena_of(arena, recs[0])
    if geom is not None:
        poly = np.asarray(geom.as_polygon(), dtype=float)
        lo, hi = poly.min(0), poly.max(0)
    elif len(x):
        lo, hi = np.array([x.min(), y.min()]), np.array([x.max(), y.max()])
    else:
        lo, hi = np.zeros(2), np.ones(2)
    pad = 0.03 * (hi - lo).max()
    lo, hi = lo - pad, hi + pad
    span = hi - lo
    nb = np.maximum(1, np.round(bins * span / span.max()).astype(int))
    hist, xe, ye = np.histogram2d(x, y, bins=nb, range=[[lo[0], hi[0]], [lo[1], hi[1]]], weights=w)
    if sigma and sigma > 0:
        from scipy.ndimage import gaussian_filter

        hist = gaussian_filter(hist, sigma=sigma, mode="constant")
    if normalize == "fraction":
        hist = 100.0 * hist / max(n_frames, 1)
        clabel = "share of frames (% per bin)"
    else:
        has_fps = all(d.attrs.get(S.FPS) for d in recs)
        hist = hist / len(recs)
        clabel = "time per recording (s per bin)" if has_fps else "frames per recording (per bin)"
    ax = get_axes(ax, where, figsize=(5.2, 4.4))
    mesh = ax.pcolormesh(xe, ye, hist.T, cmap=cmap, shading="flat", rasterized=True)
    if geom is not None:
        draw_arena(ax, geom, color="white", linewidth=1.5)
        draw_arena(ax, geom, color="black", linewidth=0.6, linestyle="--")
    ax.set_aspect("equal")
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    if invert_y if invert_y is not None else unit == "pixels":
        ax.invert_yaxis()
    ax.set_xlabel(f"x ({unit})")
    ax.set_ylabel(f"y ({unit})")
    tidy_axes(ax)
    if colorbar:
        cb = ax.figure.colorbar(mesh, ax=ax, shrink=0.85)
        cb.set_label(clabel)
    ax.set_title(title if title is not None else f"{keypoint.replace('_', ' ')} position, {len(recs)} recording"
                 + ("s" if len(recs) != 1 else ""))
    return ax
