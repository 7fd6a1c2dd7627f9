"""Small private helpers shared by estimators: frame/second conversions, NaN-aware filling."""

from __future__ import annotations

import numpy as np
import xarray as xr

from .. import schema as S
from ..validation import get_fps

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


def fill_nan_linear(values: np.ndarray, axis: int = 0) -> np.ndarray:
    """Linearly interpolate NaNs along ``axis`` (edges take the nearest valid value), vectorised.

    Columns that are entirely NaN stay NaN. Used to let filters run over short gaps; callers restore the NaNs.
    """
    arr = np.moveaxis(np.asarray(values, dtype=float), axis, 0)
    n = arr.shape[0]
    flat = arr.reshape(n, -1)
    mask = np.isnan(flat)
    if not mask.any():
        return np.array(values, dtype=float, copy=True)
    idx = np.arange(n)[:, None]
    # index of the last valid sample at or before each frame, and the first at or after it
    prev = np.where(~mask, idx, -1)
    np.maximum.accumulate(prev, axis=0, out=prev)
    nxt = np.where(~mask, idx, n)
    nxt = np.minimum.accumulate(nxt[::-1], axis=0)[::-1]
    cols = np.arange(flat.shape[1])[None, :]
    has_prev = prev >= 0
    has_next = nxt < n
    prev_c = np.clip(prev, 0, n - 1)
    next_c = np.clip(nxt, 0, n - 1)
    v_prev = flat[prev_c, cols]
    v_next = flat[next_c, cols]
    both = has_prev & has_next
    span = np.where(both, nxt - prev, 1)
    w = np.where(both & (span > 0), (idx - prev) / np.maximum(span, 1), 0.0)
    out = np.where(has_prev & has_next, v_prev + w * (v_next - v_prev), np.where(has_prev, v_prev, v_next))
    out = np.where(mask & ~(has_prev | has_next), np.nan, out)
    out = np.where(mask, out, flat)
    return np.moveaxis(out.reshape(arr.shape), 0, axis)


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
