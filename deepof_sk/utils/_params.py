"""Small private helpers shared by estimators: frame/second conversions, NaN-aware filling."""

from __future__ import annotations

import numpy as np
import xarray as xr

from .. import schema as S
from ..validation import get_fps
from ._runs import expand_runs, nan_runs_along_time

__all__ = ["window_in_frames", "fill_nan_linear", "selected_variables"]


def window_in_frames(
    window: float, unit: str, ds: xr.Dataset, *, where: str, param: str = "window", odd: bool = False
) -> int:
    """Convert a window given in ``unit`` ("frames" or "seconds") to a number of frames (>= 1).

    With ``odd=True`` a window in seconds is rounded to the nearest odd number of frames, and a window in frames
    must already be odd.
    """
    if unit == "frames":
        if float(window) != int(window):
            raise ValueError(f"{where}: `{param}` is in frames and must be an integer; got {window!r}.")
        n = int(window)
        if odd and n % 2 == 0:
            raise ValueError(
                f"{where}: `{param}`={n} frames must be odd so the window is centred on each frame; "
                f"use {n + 1} or {n - 1}."
            )
    else:
        fps = get_fps(ds, where=where)
        n = int(round(float(window) * fps))
        if odd and n % 2 == 0:
            n += 1
    n = max(n, 1)
    n_time = ds.sizes[S.TIME]
    if n > n_time:
        raise ValueError(
            f"{where}: `{param}`={window} {unit} is {n} frames, longer than the recording "
            f"{ds.attrs.get(S.SOURCE_FILE) or ''} ({n_time} frames). Use a shorter window."
        )
    return n


def as_float(values) -> np.ndarray:
    """``values`` as a floating array without a copy where possible: float32 and float64 are kept, anything else
    becomes float64. Steps use it so that float32 recordings (half the memory) stay float32 through a pipeline."""
    arr = np.asarray(values)
    return arr if arr.dtype in (np.float32, np.float64) else arr.astype(np.float64)


def writable(values: np.ndarray, copy: bool) -> np.ndarray:
    """``values`` itself to be written in place (``copy=False`` and writeable), else a copy of it."""
    return values if not copy and values.flags.writeable else values.copy()


def fill_nan_linear(values: np.ndarray, axis: int = 0, copy: bool = True, runs=None) -> np.ndarray:
    """Linearly interpolate NaNs along ``axis`` (edges take the nearest valid value), vectorised.

    Columns that are entirely NaN stay NaN. Used to let filters run over gaps; callers restore the NaNs. Cost is
    one pass over the values, by time blocks, plus O(number of NaNs) (run-length encoding, no Python loops, no mask
    of the whole array). A new array, or with ``copy=False`` ``values`` itself filled in place when it is a
    writeable, C-ordered float array along ``axis``. ``runs``: the NaN runs of ``values`` (time first, flattened
    to ``(time, tracks)``) as :func:`~deepof_sk.utils._runs.nan_runs_along_time` gives them, when the caller has
    them already.
    """
    arr = np.moveaxis(as_float(values), axis, 0)
    if copy or not (arr.flags.writeable and arr.flags.c_contiguous):
        arr = np.array(arr, order="C", copy=True)
    shape = arr.shape
    n = shape[0]
    flat = arr.reshape(n, -1)  # (time, tracks), a view of the copy, in the input's own layout
    column, start, stop = nan_runs_along_time(flat) if runs is None else runs
    if column.size:
        keep = (stop - start) < n  # an all-NaN track has nothing to fill from
        column, start, stop = column[keep], start[keep], stop[keep]
        run, t = expand_runs(start, stop)
        col, lo, hi = column[run], start[run] - 1, stop[run]
        v_lo = flat[np.maximum(lo, 0), col]
        v_hi = flat[np.minimum(hi, n - 1), col]
        w = np.where((lo >= 0) & (hi < n), (t - lo) / np.maximum(hi - lo, 1), 0.0)
        filled = np.where(lo < 0, v_hi, np.where(hi >= n, v_lo, v_lo + w * (v_hi - v_lo)))
        flat[t, col] = filled
    return np.moveaxis(arr, 0, axis)


def selected_variables(ds: xr.Dataset, variables, *, where: str) -> list[str]:
    """Names of the data variables a step works on; a clear error for unknown ones."""
    names = [S.POSITION] if variables is None else [variables] if isinstance(variables, str) else list(variables)
    missing = sorted(set(names) - set(map(str, ds.data_vars)))
    if missing:
        raise ValueError(
            f"{where}: `variables` names {missing}, which the dataset does not have "
            f"(has {sorted(map(str, ds.data_vars))})."
        )
    bad = [v for v in names if S.TIME not in ds[v].dims]
    if bad:
        raise ValueError(f"{where}: variables {sorted(bad)} have no `time` dimension and cannot be filtered in time.")
    return names
