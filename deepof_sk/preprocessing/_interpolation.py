"""Gap filling along time with a real gap-length limit."""

from __future__ import annotations

import math
from numbers import Integral, Real

import numpy as np
from scipy.interpolate import CubicSpline, PchipInterpolator
from sklearn.utils._param_validation import Interval, StrOptions

from .. import schema as S
from ..base import BasePosesTransformer
from ..utils._params import selected_variables
from ..validation import get_fps
from ._cleaning import warn_empty_individuals

__all__ = ["Interpolator", "find_gaps"]


def find_gaps(missing: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Nearest valid frame at or before / at or after every frame, for each column of a 2-D mask, vectorised.

    Parameters
    ----------
    missing : ndarray of bool, shape (n_frames, n_columns)
        True where a value is missing.

    Returns
    -------
    prev, nxt : ndarray of int, shape (n_frames, n_columns)
        Index of the last valid frame ``<= t`` (-1 when none) and of the first valid frame ``>= t`` (``n_frames``
        when none). For a missing frame inside a gap, the gap runs from ``prev + 1`` to ``nxt - 1`` and its length
        is ``nxt - prev - 1``; no Python loop over frames or gaps is involved.
    """
    n = missing.shape[0]
    dtype = np.int32 if n < 2**31 - 1 else np.int64
    t = np.arange(n, dtype=dtype)[:, None]
    prev = np.where(missing, dtype(-1), t)
    np.maximum.accumulate(prev, axis=0, out=prev)
    nxt = np.where(missing, dtype(n), t)[::-1]
    nxt = np.minimum.accumulate(nxt, axis=0)[::-1]
    return prev, nxt


def _fillable(missing, prev, nxt, max_gap, gap_policy, fill_edges):
    """Which missing values the policy allows to fill, and which of them lie inside a gap (not at an end)."""
    n = missing.shape[0]
    t = np.arange(n)[:, None]
    has_prev, has_next = prev >= 0, nxt < n
    interior = missing & has_prev & has_next
    leading = missing & ~has_prev & has_next
    trailing = missing & has_prev & ~has_next
    limit = np.inf if max_gap is None else max_gap
    if gap_policy == "whole":
        ok_inner = (nxt - prev - 1) <= limit
        ok_lead = nxt <= limit  # the leading run holds frames 0 .. nxt - 1
        ok_trail = (n - 1 - prev) <= limit
    else:  # "ends": up to max_gap frames from each side of every gap (pandas' limit_direction="both")
        ok_inner = np.minimum(t - prev, nxt - t) <= limit
        ok_lead = (nxt - t) <= limit
        ok_trail = (t - prev) <= limit
    inner = interior & ok_inner
    fill = inner.copy()
    if fill_edges:
        fill |= (leading & ok_lead) | (trailing & ok_trail)
    return fill, inner


def _interpolate_columns(values, method, max_gap, gap_policy, fill_edges):
    """Fill the allowed NaNs of a 2-D array (time, columns); returns a new array."""
    missing = np.isnan(values)
    out = values.copy()
    if not missing.any():
        return out
    prev, nxt = find_gaps(missing)
    fill, inner = _fillable(missing, prev, nxt, max_gap, gap_policy, fill_edges)
    if not fill.any():
        return out
    rows, cols = np.nonzero(fill)
    p, q = prev[rows, cols], nxt[rows, cols]
    n = values.shape[0]
    vp = values[np.clip(p, 0, n - 1), cols]
    vq = values[np.clip(q, 0, n - 1), cols]
    # ends of the recording: the nearest valid value (never extrapolated)
    filled = np.where(p < 0, vq, vp)
    gap = (p >= 0) & (q < n)
    if method != "nearest":  # linear; also the fallback of cubic/pchip on tracks with fewer than 3 valid frames
        w = np.where(gap, (rows - p) / np.maximum(q - p, 1), 0.0)
        filled = np.where(gap, vp + w * (vq - vp), filled)
    else:  # nearest; ties go to the earlier frame
        filled = np.where(gap & (q - rows < rows - p), vq, filled)
    out[rows, cols] = filled
    if method in ("cubic", "pchip"):
        kind = CubicSpline if method == "cubic" else PchipInterpolator
        for c in np.unique(np.nonzero(inner)[1]):  # loop over columns with gaps, never over frames
            good = ~missing[:, c]
            at = np.nonzero(inner[:, c])[0]
            if good.sum() >= 3:
                out[at, c] = kind(np.nonzero(good)[0], values[good, c])(at)
    return out


class Interpolator(BasePosesTransformer):
    """Fill NaN gaps along time, only those no longer than ``max_gap``.

    Parameters
    ----------
    method : {"linear", "nearest", "cubic", "pchip"}, default "linear"
        Interpolant across each gap. ``"cubic"`` (scipy's ``CubicSpline``) and ``"pchip"`` (shape-preserving,
        no overshoot) are fitted to all valid frames of a track and need at least 3 of them; otherwise the gap
        is filled linearly.
    max_gap : int or float or None, default 5
        Longest gap that is filled, in ``gap_unit``. A gap is a run of consecutive NaN frames of one coordinate;
        its length is the number of missing frames. In seconds the limit is ``floor(max_gap * fps)`` frames.
        None fills every gap. (DeepOF's ``interpolation_limit`` is accepted but ignored by DeepOF; here it is
        enforced.)
    gap_unit : {"frames", "seconds"}, default "frames"
        Unit of ``max_gap``.
    gap_policy : {"whole", "ends"}, default "whole"
        ``"whole"``: a gap is filled only if its whole length is ``<= max_gap`` and is otherwise left entirely
        NaN. ``"ends"``: up to ``max_gap`` frames are filled from each side of every gap, longer gaps keeping a NaN
        core (pandas' ``interpolate(limit=max_gap, limit_direction="both")``, which is what DeepOF does with
        ``limit=3``).
    fill_edges : bool, default False
        Whether runs of NaN at the start/end of a track (before the first or after the last valid frame) are
        filled, with the nearest valid value and under the same ``max_gap`` rule. Never a polynomial
        extrapolation. DeepOF's imputation does fill them.
    variables : str or list of str, optional
        Data variables to fill (each with a ``time`` dim); default ``["position"]``.
    n_jobs : int, optional
        Recordings processed in parallel with joblib.

    Attributes
    ----------
    keypoints_ : ndarray of str
        Keypoints seen in ``fit``.
    individuals_ : ndarray of str
        Individuals of the first recording seen in ``fit``.
    n_recordings_ : int
        Number of recordings seen in ``fit``.

    Notes
    -----
    NaN handling: only NaNs are written; every valid value is returned unchanged. Gaps longer than ``max_gap``
    and (by default) the NaN runs at either end of a track stay NaN. A track with no valid frame stays NaN (with a
    :class:`~deepof_sk.exceptions.MissingDataWarning` for an individual that has no valid point at all). Each
    spatial coordinate is filled on its own.

    Gap lengths come from a vectorised run-length computation (running maximum/minimum of valid-frame indices),
    O(n_frames x n_columns); linear and nearest filling are fully vectorised; cubic and pchip fit one scipy
    interpolant per column that has a gap. Units are unchanged.

    Examples
    --------
    >>> import numpy as np
    >>> from deepof_sk.datasets import make_synthetic_poses
    >>> ds = make_synthetic_poses(100, scenario="walk", random_state=0)
    >>> ds["position"][10:13] = np.nan   # a 3-frame gap in every track
    >>> ds["position"][50:60] = np.nan   # a 10-frame gap
    >>> out = Interpolator(max_gap=5).fit_transform(ds)
    >>> int(out.position[10:13].isnull().sum()), int(out.position[50:60].isnull().sum()) == 10 * 2 * 14
    (0, True)
    """

    _parameter_constraints = {
        "method": [StrOptions({"linear", "nearest", "cubic", "pchip"})],
        "max_gap": [Interval(Real, 0, None, closed="left"), None],
        "gap_unit": [StrOptions({"frames", "seconds"})],
        "gap_policy": [StrOptions({"whole", "ends"})],
        "fill_edges": ["boolean"],
        "variables": [str, list, tuple, None],
        "n_jobs": [Integral, None],
    }

    def __init__(self, *, method="linear", max_gap=5, gap_unit="frames", gap_policy="whole", fill_edges=False,
                 variables=None, n_jobs=None):
        self.method = method
        self.max_gap = max_gap
        self.gap_unit = gap_unit
        self.gap_policy = gap_policy
        self.fill_edges = fill_edges
        self.variables = variables
        self.n_jobs = n_jobs

    def _max_gap_frames(self, ds) -> int | None:
        if self.max_gap is None:
            return None
        where = type(self).__name__
        if self.gap_unit == "frames":
            if float(self.max_gap) != int(self.max_gap):
                raise ValueError(f"{where}: `max_gap` is in frames and must be an integer; got {self.max_gap!r}.")
            return int(self.max_gap)
        fps = get_fps(ds, where=f"{where} (gap_unit='seconds')")
        return int(math.floor(float(self.max_gap) * fps + 1e-9))

    def _transform_recording(self, ds):
        where = type(self).__name__
        max_gap = self._max_gap_frames(ds)
        out = ds.copy()
        for name in selected_variables(ds, self.variables, where=where):
            da = ds[name]
            if name == S.POSITION:
                warn_empty_individuals(ds, da.transpose(*S.POSITION_DIMS).values, where)
            axis = da.get_axis_num(S.TIME)
            arr = np.moveaxis(np.asarray(da.values, dtype=float), axis, 0)
            flat = arr.reshape(arr.shape[0], -1)
            filled = _interpolate_columns(flat, self.method, max_gap, self.gap_policy, self.fill_edges)
            out[name] = da.copy(data=np.moveaxis(filled.reshape(arr.shape), 0, axis))
        return out
