"""Gap filling along time with a real gap-length limit."""

from __future__ import annotations

import math
from numbers import Integral, Real

import numpy as np
from scipy.interpolate import CubicSpline, PchipInterpolator
from sklearn.utils._param_validation import Interval, StrOptions

from .. import schema as S
from ..base import BasePosesTransformer
from ..utils._params import as_float, selected_variables, writable
from ..utils._runs import expand_runs, find_nan_runs, nan_runs_along_time
from ..validation import get_fps
from ._cleaning import warn_empty_individuals

__all__ = ["Interpolator", "find_nan_runs"]


def _interpolate_tracks(values, method, max_gap, gap_policy, fill_edges, copy=True):
    """Fill the allowed NaNs of a (time, columns) array: a new array, or ``values`` filled in place (``copy=False``
    and ``values`` writeable)."""
    n = values.shape[0]
    out = writable(values, copy)
    column, start, stop = nan_runs_along_time(values)  # by time blocks: no NaN mask of the whole array
    if column.size == 0:
        return out
    limit = np.inf if max_gap is None else max_gap
    length = stop - start
    inner = (start > 0) & (stop < n)
    edge = ~inner & (length < n) & fill_edges  # an all-NaN track has no value to copy
    run, t = expand_runs(start, stop)
    col, lo, hi = column[run], start[run] - 1, stop[run]  # neighbouring valid frames (-1 / n at the ends)
    missing_t, missing_col = t, col  # every NaN of the input, ordered by column (cubic/pchip: valid frames)
    if gap_policy == "whole":
        allowed = (inner | edge)[run] & (length[run] <= limit)
    else:  # "ends": up to max_gap frames from each side of every gap (pandas' limit_direction="both")
        from_lo, from_hi = t - lo, hi - t
        reach = np.where(start[run] == 0, from_hi, np.where(stop[run] == n, from_lo, np.minimum(from_lo, from_hi)))
        allowed = (inner | edge)[run] & (reach <= limit)
    if not allowed.any():
        return out
    t, col, lo, hi, in_gap = t[allowed], col[allowed], lo[allowed], hi[allowed], inner[run][allowed]
    v_lo = values[np.maximum(lo, 0), col]
    v_hi = values[np.minimum(hi, n - 1), col]
    filled = np.where(lo < 0, v_hi, v_lo)  # ends of a track: the nearest valid value, never extrapolated
    if method == "nearest":  # ties go to the earlier frame
        filled = np.where(in_gap & (hi - t < t - lo), v_hi, filled)
    else:  # linear; also the fallback of cubic/pchip on tracks with fewer than 3 valid frames
        w = (t - lo) / np.maximum(hi - lo, 1)
        filled = np.where(in_gap, v_lo + w * (v_hi - v_lo), filled)
    out[t, col] = filled  # only NaN entries are written: ``values`` still holds every valid frame
    if method in ("cubic", "pchip"):
        kind = CubicSpline if method == "cubic" else PchipInterpolator
        for c in np.unique(col[in_gap]):  # one interpolant per track with a gap, never a loop over frames
            good = np.ones(n, dtype=bool)  # the track's valid frames before any filling
            first, last = np.searchsorted(missing_col, [c, c + 1])
            good[missing_t[first:last]] = False
            at = t[in_gap & (col == c)]
            if good.sum() >= 3:
                out[at, c] = kind(np.flatnonzero(good), values[good, c])(at)
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
    copy : bool, default True
        False: fill the gaps in the input's own arrays (no new array; the input recording is modified, as
        scikit-learn's ``copy=False``), where they are writeable float arrays in (time, ...) order; else a copy is
        filled. For a pipeline that owns its recordings.
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

    Gaps come from a vectorised run-length encoding of the NaN mask, in the recording's own time-major layout: a
    few passes over the data, then work proportional to the number of gaps; linear and nearest filling are fully vectorised; cubic and
    pchip fit one scipy interpolant per track that has a gap. Units are unchanged.

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
        "copy": ["boolean"],
        "n_jobs": [Integral, None],
    }

    def __init__(self, *, method="linear", max_gap=5, gap_unit="frames", gap_policy="whole", fill_edges=False,
                 variables=None, copy=True, n_jobs=None):
        self.method = method
        self.max_gap = max_gap
        self.gap_unit = gap_unit
        self.gap_policy = gap_policy
        self.fill_edges = fill_edges
        self.variables = variables
        self.copy = copy
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
            arr = np.moveaxis(as_float(da.values), axis, 0)  # a view for canonical layouts
            filled = _interpolate_tracks(arr.reshape(arr.shape[0], -1), self.method, max_gap, self.gap_policy,
                                         self.fill_edges, self.copy)
            out[name] = da.variable.copy(deep=False, data=np.moveaxis(filled.reshape(arr.shape), 0, axis))
        return out
