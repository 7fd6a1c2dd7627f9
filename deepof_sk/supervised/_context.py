"""Temporal context of per-frame features: lags and rolling statistics over windows given in seconds.

A frame classifier that sees one frame at a time cannot tell a pause from freezing; what makes the difference is
what happens around the frame. :func:`add_temporal_context` appends, for every feature column, rolling statistics
over several centred windows and lagged copies, computed with numpy/scipy along the time axis of one recording
(never across recordings). Windows are in seconds, so a model trained at 30 fps reads a 60 fps recording with the
same notion of "one second".

Statistics
----------
``mean``, ``std``, ``min``, ``max``
    Over the centred window ``[t - (w-1)//2, t + w//2]`` (w frames).
``closing``
    The smallest window maximum over all windows of w frames that contain ``t`` (a morphological closing): below
    a threshold exactly when ``t`` lies in a run of at least w frames below that threshold. This is what a
    "speed below x for at least y seconds" rule reads, as a feature a tree can threshold.
``opening``
    The largest window minimum over the windows containing ``t`` (the dual: sustained high values).
``past_max``, ``future_max``
    The maximum over the w frames ending at ``t`` / starting at ``t``: "nothing moved during the last (next) w
    seconds". Human annotators often start a bout only after the state has lasted a while; these one-sided
    windows let a model learn such onset and offset conventions.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import ndimage

from ..utils._params import fill_nan_linear

__all__ = ["add_temporal_context", "temporal_context_names", "frame_windows", "CONTEXT_STATISTICS"]

CONTEXT_STATISTICS = ("mean", "std", "min", "max", "closing", "opening", "past_max", "future_max")


def _label(seconds: float) -> str:
    return f"{float(seconds):g}s"


def _check(windows, statistics, lags, where: str) -> tuple[tuple, tuple, tuple]:
    windows = tuple(() if windows is None else windows)
    statistics = tuple(() if statistics is None else ([statistics] if isinstance(statistics, str) else statistics))
    lags = tuple(() if lags is None else lags)
    bad_w = [w for w in windows if not np.isscalar(w) or not np.isfinite(w) or w <= 0]
    bad_s = sorted(set(statistics) - set(CONTEXT_STATISTICS))
    bad_l = [v for v in lags if not np.isscalar(v) or not np.isfinite(v) or v == 0]
    problems = []
    if bad_w:
        problems.append(f"`windows` must be positive durations; got {bad_w}")
    if bad_s:
        problems.append(f"unknown `statistics` {bad_s}; choose from {list(CONTEXT_STATISTICS)}")
    if bad_l:
        problems.append(f"`lags` must be non-zero durations (positive = past, negative = future); got {bad_l}")
    if windows and not statistics:
        problems.append("`windows` are given but `statistics` is empty")
    if problems:
        raise ValueError(f"{where}: " + "; ".join(problems) + ".")
    return windows, statistics, lags


def temporal_context_names(input_features: Sequence[str], *, windows=(0.33, 1.0, 2.0),
                           statistics=("mean", "std", "closing", "opening"), lags=(), include_current=True,
                           unit: str = "seconds") -> list[str]:
    """Column names produced by :func:`add_temporal_context`, e.g. ``closing(speed)@1s`` or ``lag(speed)@0.5s``.

    Frames are written ``@15f`` when ``unit="frames"``.
    """
    windows, statistics, lags = _check(windows, statistics, lags, "temporal_context_names")
    fmt = _label if unit == "seconds" else (lambda v: f"{int(v)}f")
    names = [str(f) for f in input_features] if include_current else []
    for w in windows:
        for stat in statistics:
            names += [f"{stat}({f})@{fmt(w)}" for f in input_features]
    for lag in lags:
        names += [f"lag({f})@{fmt(lag)}" for f in input_features]
    return names


def _frames(value: float, fps: float | None, unit: str) -> int:
    if unit == "frames":
        return int(round(value))
    return int(round(value * fps))


def add_temporal_context(values: np.ndarray, fps: float | None = None, *, windows=(0.33, 1.0, 2.0),
                         statistics=("mean", "std", "closing", "opening"), lags=(), include_current=True,
                         unit: str = "seconds") -> np.ndarray:
    """Append rolling statistics and lagged copies of per-frame features, along time (axis 0).

    Parameters
    ----------
    values : ndarray of shape (n_frames, n_features) or (n_frames, n_series, n_features)
        Features of one recording; each series (e.g. each animal) and each column is processed independently.
    fps : float, optional
        Frame rate; required when ``unit="seconds"``.
    windows : tuple of float, default (0.33, 1.0, 2.0)
        Window lengths (centred on each frame). A window shorter than one frame counts as one frame; one longer
        than the recording is cut to the recording.
    statistics : tuple of str, default ("mean", "std", "closing", "opening")
        Any of ``"mean"``, ``"std"``, ``"min"``, ``"max"``, ``"closing"``, ``"opening"`` (see the module notes).
    lags : tuple of float, default ()
        Copies of the features taken ``lag`` earlier (positive) or later (negative); edges repeat the first or
        last frame.
    include_current : bool, default True
        Keep the input columns first.
    unit : {"seconds", "frames"}, default "seconds"
        Unit of ``windows`` and ``lags``.

    Returns
    -------
    ndarray of shape (n_frames, [n_series,] n_out)
        Columns in the order of :func:`temporal_context_names`: current values, then for each window each
        statistic over all features, then each lag.

    Notes
    -----
    NaN handling: gaps are linearly interpolated (edges take the nearest value) before the window statistics and
    lags are computed, so one missing frame does not blank a whole window; a column that is NaN throughout stays
    NaN. The current values are returned as they came, NaN included.

    Examples
    --------
    >>> x = np.r_[np.ones(5), np.zeros(10), np.ones(5)][:, None]
    >>> out = add_temporal_context(x, windows=(3,), statistics=("mean", "closing"), unit="frames")
    >>> out.shape, out[6].tolist()
    ((20, 3), [0.0, 0.0, 0.0])
    """
    where = "add_temporal_context"
    if unit not in ("seconds", "frames"):
        raise ValueError(f"{where}: `unit` must be 'seconds' or 'frames'; got {unit!r}.")
    windows, statistics, lags = _check(windows, statistics, lags, where)
    if unit == "seconds" and (windows or lags) and (fps is None or not np.isfinite(fps) or fps <= 0):
        raise ValueError(f"{where}: windows and lags are in seconds but no valid frame rate was given (fps={fps!r}); "
                         "set attrs['fps'] on the recording or use unit='frames'.")
    arr = np.asarray(values, dtype=float)
    if arr.ndim not in (2, 3):
        raise ValueError(f"{where}: `values` must have shape (n_frames, n_features) or (n_frames, n_series, "
                         f"n_features); got {arr.shape}.")
    shape = arr.shape
    flat = arr.reshape(shape[0], -1)  # (T, series * features): every column independent
    n_t = shape[0]
    out = [flat] if include_current else []
    if windows or lags:
        empty = np.all(np.isnan(flat), axis=0)
        filled = fill_nan_linear(flat, axis=0)
        filled[:, empty] = 0.0
        for w in windows:
            size = min(max(_frames(w, fps, unit), 1), n_t)
            for stat in statistics:
                if stat in ("mean", "std"):
                    mean = ndimage.uniform_filter1d(filled, size, axis=0, mode="nearest")
                    if stat == "mean":
                        res = mean
                    else:
                        sq = ndimage.uniform_filter1d(filled * filled, size, axis=0, mode="nearest")
                        res = np.sqrt(np.maximum(sq - mean * mean, 0.0))
                elif stat == "min":
                    res = ndimage.minimum_filter1d(filled, size, axis=0, mode="nearest")
                elif stat == "max":
                    res = ndimage.maximum_filter1d(filled, size, axis=0, mode="nearest")
                elif stat in ("past_max", "future_max"):
                    # a window of `size` frames ending (past) or starting (future) at each frame: scipy's origin
                    # shifts the window; its extremes are (size - 1) // 2 and -(size // 2)
                    origin = (size - 1) // 2 if stat == "past_max" else -(size // 2)
                    res = ndimage.maximum_filter1d(filled, size, axis=0, mode="nearest", origin=origin)
                elif stat == "closing":
                    res = ndimage.grey_closing(filled, size=(size, 1), mode="nearest")
                else:
                    res = ndimage.grey_opening(filled, size=(size, 1), mode="nearest")
                res = np.array(res, dtype=float)
                res[:, empty] = np.nan
                out.append(res)
        for lag in lags:
            k = _frames(lag, fps, unit)
            idx = np.clip(np.arange(n_t) - k, 0, n_t - 1)
            res = filled[idx]
            res[:, empty] = np.nan
            out.append(res)
    # back to (T, [series,] features): blocks are stacked along the last axis feature-major within each block
    blocks = [b.reshape(shape) for b in out]
    return np.concatenate(blocks, axis=-1)


def frame_windows(values: np.ndarray, size: int, *, rows=None) -> np.ndarray:
    """The window of ``size`` frames centred on every frame, for transformers of short time series (MiniRocket).

    Parameters
    ----------
    values : ndarray of shape (n_frames, n_series, n_features)
        Features of one recording.
    size : int
        Window length in frames.
    rows : array-like of int, optional
        Only these rows (index into the ``n_frames * n_series`` rows, frame-major).

    Returns
    -------
    ndarray of shape (n_rows, n_features, size)
        Edges repeat the first / last frame; NaN is linearly interpolated (0 where a column is NaN throughout).
    """
    n_t, n_r, n_f = values.shape
    flat = np.nan_to_num(fill_nan_linear(values.reshape(n_t, -1), axis=0), nan=0.0).reshape(n_t, n_r, n_f)
    padded = np.pad(flat, ((size // 2, size - 1 - size // 2), (0, 0), (0, 0)), mode="edge")
    win = np.lib.stride_tricks.sliding_window_view(padded, size, axis=0).reshape(n_t * n_r, n_f, size)
    return np.ascontiguousarray(win if rows is None else win[rows])
