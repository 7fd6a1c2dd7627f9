"""Temporal smoothing of keypoint tracks: Savitzky-Golay, rolling median, rolling mean."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
import pandas as pd
import xarray as xr
from scipy.signal import savgol_coeffs, savgol_filter
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from .. import schema as S
from ..base import BasePosesTransformer
from ..utils._blocks import time_blocks
from ..utils._params import as_float, fill_nan_linear, selected_variables, window_in_frames
from ..utils._runs import expand_runs, nan_runs_along_time

__all__ = ["SavgolSmoother", "RollingSmoother"]


def _is_table(X) -> bool:
    """A plain 2-D table (numpy array or DataFrame) rather than poses datasets."""
    if isinstance(X, (xr.Dataset, xr.DataArray, str, bytes)):
        return False
    if hasattr(X, "shape") or hasattr(X, "__array__"):  # numpy, pandas, scipy.sparse, array-likes
        return True
    if not (isinstance(X, (list, tuple)) and len(X) > 0):
        return False
    first = X[0]
    nested = isinstance(first, (list, tuple)) and len(first) > 0 and isinstance(first[0], xr.Dataset)
    return not isinstance(first, xr.Dataset) and not nested  # recordings nested one level: an error, said later


class _TimeFilter(BasePosesTransformer):
    """Shared machinery: apply a 1-D filter along time to chosen variables, NaNs preserved in place.

    Besides poses datasets, a filter also takes a plain 2-D table (n_frames, n_features) of one recording, rows in
    time order, and filters each column along the rows (the window must then be in frames).
    """

    _window_must_be_odd = False

    # Checks of sklearn's suite that a filter along time cannot pass, by design.
    _sklearn_expected_failed_checks = {
        "check_methods_sample_order_invariance": "a filter along time depends on the order of the rows (frames)",
        "check_methods_subset_invariance": "a filter along time mixes neighbouring rows (frames)",
    }

    def fit(self, X, y=None):
        """Validate the recordings (or a 2-D table of one recording) and the parameters.

        Parameters
        ----------
        X : xarray.Dataset, sequence of xarray.Dataset, or array-like of shape (n_frames, n_features)
            Recordings, or one recording as a table with frames in rows.
        y : None
            Ignored; present for Pipeline compatibility.

        Returns
        -------
        self
        """
        if not _is_table(X):
            return super().fit(X, y)
        self._validate_params()
        validate_data(self, X, ensure_all_finite="allow-nan", ensure_min_samples=1)
        return self

    def transform(self, X):
        """Filter each recording along time (see the class docstring for the NaN rules).

        Parameters
        ----------
        X : xarray.Dataset, sequence of xarray.Dataset, or array-like of shape (n_frames, n_features)
            Recordings, or one recording as a table with frames in rows.

        Returns
        -------
        xarray.Dataset, list of xarray.Dataset, or ndarray of shape (n_frames, n_features)
            The same kind as ``X``.
        """
        if not _is_table(X):
            return super().transform(X)
        check_is_fitted(self)
        arr = validate_data(self, X, ensure_all_finite="allow-nan", reset=False, dtype=float)
        where = type(self).__name__
        if self.window_unit != "frames":
            raise ValueError(f"{where}: a 2-D table has no frame rate; give `window` in frames.")
        n = int(self.window)
        if self._window_must_be_odd and n % 2 == 0:
            raise ValueError(f"{where}: `window`={n} frames must be odd; use {n + 1} or {n - 1}.")
        if n > arr.shape[0]:
            raise ValueError(
                f"{where}: `window`={n} frames is longer than the table ({arr.shape[0]} rows); use a shorter window."
            )
        self._check_window(n, where)
        out = np.array(self._filter(arr, n, inplace=False), dtype=float, copy=True)
        out[np.isnan(arr)] = np.nan
        return out

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = True
        tags.input_tags.allow_nan = True
        return tags

    def _filter(self, values: np.ndarray, n: int, inplace: bool, runs=None) -> np.ndarray:  # pragma: no cover
        """Filtered (time, ...) values; ``inplace``: ``values`` may be overwritten (and returned); ``runs``: the NaN
        runs of ``values`` flattened to (time, tracks) (``nan_runs_along_time``), when known."""
        raise NotImplementedError

    def _check_window(self, n: int, where: str) -> None:
        """Extra checks on the window in frames (e.g. against polyorder)."""

    def _transform_recording(self, ds: xr.Dataset) -> xr.Dataset:
        where = type(self).__name__
        n = window_in_frames(self.window, self.window_unit, ds, where=where, odd=self._window_must_be_odd)
        self._check_window(n, where)
        out = ds.copy()
        for name in selected_variables(ds, self.variables, where=where):
            da = ds[name]
            arr = np.moveaxis(as_float(da.values), da.get_axis_num(S.TIME), 0)  # float32 stays float32
            # the NaN runs, before a filter that works in place overwrites the NaNs: by time blocks, memory in the
            # number of missing points (no mask of the whole recording)
            runs = nan_runs_along_time(arr.reshape(arr.shape[0], -1))
            inplace = not getattr(self, "copy", True) and arr.flags.writeable and arr.flags.c_contiguous
            filtered = self._filter(arr, n, inplace=inplace, runs=runs)
            if not inplace and (filtered.dtype != arr.dtype or not filtered.flags.writeable
                                or not filtered.flags.c_contiguous or np.shares_memory(filtered, arr)):
                filtered = np.array(filtered, dtype=arr.dtype, order="C", copy=True)
            column, start, stop = runs
            if column.size:  # smoothing never invents data at missing points
                run, frame = expand_runs(start, stop)
                filtered.reshape(filtered.shape[0], -1)[frame, column[run]] = np.nan  # a view: C-ordered
            # a Variable, not a DataArray: no alignment of the (unchanged) coordinates when it is set
            out[name] = da.variable.copy(deep=False, data=np.moveaxis(filtered, 0, da.get_axis_num(S.TIME)))
        return out


class SavgolSmoother(_TimeFilter):
    """Savitzky-Golay smoothing of keypoint tracks along time.

    Parameters
    ----------
    window : int or float, default 5
        Window length, in ``window_unit``. In frames it must be odd; in seconds it is rounded to the nearest odd
        number of frames.
    polyorder : int, default 2
        Order of the local polynomial; must be smaller than the window in frames. DeepOF smooths with a window of 15
        frames and ``polyorder = 15 - smooth_alpha`` = 14 by default; pass ``window=15, polyorder=14`` to reproduce
        it. ``polyorder = window - 1`` fits every window exactly, so the filter is the identity and the input is
        returned unchanged (scipy's evaluation differs from it only by round-off).
    window_unit : {"frames", "seconds"}, default "frames"
        Unit of ``window``. Seconds need ``attrs["fps"]``.
    variables : str or list of str, optional
        Data variables to smooth (each must have a ``time`` dim); default ``["position"]``.
    copy : bool, default True
        False: smooth the input's own arrays in place (no new array of the recording's size; the input recording is
        modified, as scikit-learn's ``copy=False``), where they are writeable, C-ordered float arrays with time
        first; else a copy is smoothed. For a pipeline that owns its recordings.
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
    NaN handling: gaps are bridged by linear interpolation only while filtering, so a NaN does not spread over the
    window; every point that was NaN on input is NaN on output. A keypoint that is NaN throughout stays NaN. Edges
    use scipy's ``mode="interp"`` (a polynomial fitted to the first/last window). Units are unchanged.

    Examples
    --------
    >>> from deepof_sk.datasets import make_synthetic_poses
    >>> ds = make_synthetic_poses(100, noise=2.0, random_state=0)
    >>> smooth = SavgolSmoother(window=9, polyorder=2).fit_transform(ds)
    >>> bool(smooth.position.diff("time").std() < ds.position.diff("time").std())
    True
    """

    _parameter_constraints = {
        "window": [Interval(Real, 0, None, closed="neither")],
        "polyorder": [Interval(Integral, 0, None, closed="left")],
        "window_unit": [StrOptions({"frames", "seconds"})],
        "variables": [str, list, tuple, None],
        "copy": ["boolean"],
        "n_jobs": [Integral, None],
    }
    _window_must_be_odd = True

    def __init__(self, *, window=5, polyorder=2, window_unit="frames", variables=None, copy=True, n_jobs=None):
        self.window = window
        self.polyorder = polyorder
        self.window_unit = window_unit
        self.variables = variables
        self.copy = copy
        self.n_jobs = n_jobs

    def _check_window(self, n, where):
        if self.polyorder >= n:
            raise ValueError(
                f"{where}: `polyorder`={self.polyorder} must be smaller than the window ({n} frames); "
                "lower polyorder or widen the window."
            )

    def _filter(self, values, n, inplace, runs=None):
        if self.polyorder == n - 1:  # the polynomial passes through every point of the window: the identity
            return values if inplace else np.array(values, copy=True)
        # our own array either way, filtered in place
        filled = fill_nan_linear(values, axis=0, copy=not inplace, runs=runs)
        flat = filled.reshape(filled.shape[0], -1)  # a view: fill_nan_linear returns C-ordered arrays
        # only the all-NaN tracks are NaN after filling (the rest take their nearest valid values at the ends): they
        # are NaN in their first frame; filter zeros there, restored to NaN by the caller
        flat[:, np.isnan(flat[0])] = 0.0
        return savgol_along_time(filled, n, self.polyorder, inplace=True)


class RollingSmoother(_TimeFilter):
    """Centred rolling median or mean of keypoint tracks along time.

    Parameters
    ----------
    window : int or float, default 5
        Window length in ``window_unit`` (frames or seconds).
    statistic : {"median", "mean"}, default "median"
        Rolling median (robust to single-frame jumps) or mean.
    min_periods : int, optional
        Minimum number of valid (non-NaN) frames in a window to produce a value; default half the window, rounded
        up.
    window_unit : {"frames", "seconds"}, default "frames"
        Unit of ``window``.
    variables : str or list of str, optional
        Data variables to smooth; default ``["position"]``.
    n_jobs : int, optional
        Recordings processed in parallel with joblib.

    Attributes
    ----------
    keypoints_, individuals_, n_recordings_
        As for :class:`SavgolSmoother`.

    Notes
    -----
    NaN handling: NaNs inside a window are ignored (the statistic is taken over the valid frames, given at least
    ``min_periods``); points that were NaN on input stay NaN on output. The window is centred; at the edges it is
    truncated.

    Examples
    --------
    >>> from deepof_sk.datasets import make_synthetic_poses
    >>> ds = make_synthetic_poses(100, n_spikes=3, random_state=0)
    >>> RollingSmoother(window=5).fit_transform(ds).sizes["time"]
    100
    """

    _parameter_constraints = {
        "window": [Interval(Real, 0, None, closed="neither")],
        "statistic": [StrOptions({"median", "mean"})],
        "min_periods": [Interval(Integral, 1, None, closed="left"), None],
        "window_unit": [StrOptions({"frames", "seconds"})],
        "variables": [str, list, tuple, None],
        "n_jobs": [Integral, None],
    }

    def __init__(self, *, window=5, statistic="median", min_periods=None, window_unit="frames", variables=None,
                 n_jobs=None):
        self.window = window
        self.statistic = statistic
        self.min_periods = min_periods
        self.window_unit = window_unit
        self.variables = variables
        self.n_jobs = n_jobs

    def _filter(self, values, n, inplace, runs=None):  # pandas' rolling windows always give a new array
        shape = values.shape
        frame = pd.DataFrame(values.reshape(shape[0], -1))
        min_periods = self.min_periods if self.min_periods is not None else (n + 1) // 2
        rolled = frame.rolling(n, center=True, min_periods=min(min_periods, n))
        result = rolled.median() if self.statistic == "median" else rolled.mean()
        return result.to_numpy(copy=True).reshape(shape)


def savgol_along_time(values: np.ndarray, window: int, polyorder: int, inplace: bool = False) -> np.ndarray:
    """Savitzky-Golay filter along axis 0 of a finite array, as scipy's ``savgol_filter(..., mode="interp")``.

    Frames with a full window get the filter's weighted sum, evaluated tap by tap (the two taps at the same
    distance from the centre together, when the weights are symmetric) on blocks of frames that stay in cache
    (scipy filters one strided column at a time, several times slower on (time, tracks) arrays); the first and
    last ``window // 2`` frames take scipy's own polynomial fit to the first/last window, in float64. Equal to
    scipy's result on float64 input up to rounding (the sum runs in another order); float32 input gets the float64
    result rounded to float32.

    ``inplace=True`` writes the result into ``values`` (C-ordered) and returns it: blocks are filtered in time
    order; the ``window // 2`` frames before a block, which the previous block has overwritten, get their original
    values back (kept aside) while the block is computed, so no second array of the recording's size is needed.
    """
    n_t = values.shape[0]
    half = window // 2
    if inplace and not values.flags.c_contiguous:
        raise ValueError("savgol_along_time(inplace=True) needs a C-ordered array.")
    if polyorder >= window - 1:
        # a polynomial of degree window - 1 passes through all the window's points, so every smoothed value is the
        # sample itself: the identity, returned exactly (scipy evaluates it with round-off, up to 4e-4 px at the
        # edges for DeepOF's default window 15 / polyorder 14)
        return values if inplace else np.array(values, copy=True)
    # scipy's edge polynomial fit (np.polyfit) runs in the input's precision; in float32 a high-order fit (DeepOF's
    # window 15, polyorder 14) is off by pixels, so scipy always gets float64 here
    if n_t < 2 * window:  # short: scipy directly
        result = savgol_filter(values.astype(np.float64), window, polyorder, axis=0, mode="interp")
        if inplace:
            values[...] = result
            return values
        return result.astype(values.dtype)
    x = values.reshape(n_t, -1)  # a view (C-ordered) when in place
    out = x if inplace else np.empty_like(x)
    if half:  # edge fits from the original frames, before anything is overwritten
        head = savgol_filter(x[:window].astype(np.float64), window, polyorder, axis=0, mode="interp")[:half]
        tail = savgol_filter(x[n_t - window:].astype(np.float64), window, polyorder, axis=0,
                             mode="interp")[window - half:]
    weights = savgol_coeffs(window, polyorder)[::-1]  # correlation weights, x[t - half + k]
    # smoothing weights are symmetric; scipy's come out so to round-off for usual orders, and then a pair of taps
    # at distance k takes one multiplication (x[t - k] + x[t + k]) * w. For a high order in a short window (e.g.
    # 12 in 15) scipy's least-squares weights are asymmetric at 1e-6, and its own taps are used one by one.
    paired = np.abs(weights - weights[::-1]).max() <= 1e-14 * np.abs(weights).max()
    # in place: original values of the frames just before the next block (none overwritten yet)
    before = x[:half].copy() if inplace else None
    blocks = time_blocks(n_t - 2 * half, x[:1].nbytes)
    rows = max((b.stop - b.start for b in blocks), default=0)
    acc_buf, tmp_buf = np.empty((rows, x.shape[1])), np.empty((rows, x.shape[1]))  # float64 sums, as scipy's
    for sl in blocks:
        lo, hi = sl.start + half, sl.stop + half  # frames with a full window
        if inplace and half:
            # the previous block overwrote frames lo - half .. lo - 1, which this block's windows read: put their
            # originals back while it is computed, and keep the originals of the frames it overwrites in turn
            smoothed = x[lo - half:lo].copy()
            x[lo - half:lo] = before
            before = x[hi - half:hi].copy()
        src = x[lo - half:hi + half]
        m = hi - lo
        acc, tmp = acc_buf[:m], tmp_buf[:m]
        if paired:
            np.multiply(src[half:half + m], weights[half], out=acc)
            for k in range(1, half + 1):
                np.add(src[half - k:half - k + m], src[half + k:half + k + m], out=tmp)
                tmp *= 0.5 * (weights[half - k] + weights[half + k])
                acc += tmp
        else:
            np.multiply(src[:m], weights[0], out=acc)
            for k in range(1, window):
                acc += np.multiply(src[k:k + m], weights[k], out=tmp)
        if inplace and half:
            x[lo - half:lo] = smoothed
        out[lo:hi] = acc
    if half:
        out[:half] = head
        out[n_t - half:] = tail
    return out.reshape(values.shape)
