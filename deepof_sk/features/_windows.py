"""Temporal context as features: centred sliding-window statistics and lagged copies of variables.

Both steps add variables that share the ``time`` axis of their input (NaN where the window or lag runs off the
recording), so a per-frame classifier sees the recent past and near future of each feature as extra columns.
Everything is vectorised over frames (cumulative sums and scipy's O(n) min/max filters).
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
import xarray as xr
from scipy.ndimage import maximum_filter1d, minimum_filter1d
from sklearn.utils._param_validation import Interval, StrOptions

from .. import schema as S
from ..base import BasePosesTransformer
from ..utils._params import window_in_frames
from ._geometry import assign_feature

__all__ = ["WindowFeaturizer", "LagFeaturizer"]

_STATISTICS = ("mean", "std", "min", "max")


def _feature_variables(ds: xr.Dataset, variables, *, where: str) -> list[str]:
    """Variables to featurize: given names, or every numeric variable with a time dim except ``confidence``."""
    if variables is None:
        return [
            str(v) for v, da in ds.data_vars.items()
            if v != S.CONFIDENCE and S.TIME in da.dims and (np.issubdtype(da.dtype, np.number) or da.dtype == bool)
        ]
    names = [variables] if isinstance(variables, str) else [str(v) for v in variables]
    missing = sorted(set(names) - set(map(str, ds.data_vars)))
    if missing:
        raise ValueError(
            f"{where}: `variables` names {missing}, which the dataset does not have (has "
            f"{sorted(map(str, ds.data_vars))}); add them with a feature step first."
        )
    no_time = sorted(v for v in names if S.TIME not in ds[v].dims)
    if no_time:
        raise ValueError(f"{where}: variables {no_time} have no `time` dimension.")
    return names


def _as_time_major(da: xr.DataArray) -> tuple[np.ndarray, tuple[str, ...]]:
    dims = (S.TIME,) + tuple(d for d in da.dims if d != S.TIME)
    values = da.transpose(*dims).values.astype(float)
    return values.reshape(values.shape[0], -1), dims


def _suffix(value, unit: str) -> str:
    return f"{float(value):g}" + ("s" if unit == "seconds" else "")


def rolling_statistics(values: np.ndarray, n: int, statistics, min_periods: int) -> dict[str, np.ndarray]:
    """Centred rolling statistics over ``n`` (odd) frames along axis 0 of a (time, columns) array.

    A value needs the whole window inside the recording (NaN in the first and last ``n // 2`` frames) and at
    least ``min_periods`` non-NaN frames in it; NaNs inside the window are skipped. ``std`` has ddof=0.
    Mean: cumulative sums, O(time); min/max: scipy's O(time) filters; std: two-pass, O(time x n).
    """
    n_t = values.shape[0]
    h = n // 2
    m = n_t - 2 * h  # frames whose window fits
    inner = slice(h, n_t - h)
    valid = ~np.isnan(values)
    complete = bool(valid.all())
    out: dict[str, np.ndarray] = {}

    def window_sum(a):
        """Sum over each full window, for the inner frames only: shape (m, columns)."""
        c = np.empty((n_t + 1,) + a.shape[1:], dtype=float)
        c[0] = 0.0
        np.cumsum(a, axis=0, out=c[1:])
        return np.subtract(c[n:], c[:-n], out=c[n:])

    def padded(inner_values):
        res = np.full(values.shape, np.nan)
        res[inner] = inner_values
        return res

    count = np.full((m,) + values.shape[1:], float(n)) if complete else window_sum(valid)
    bad = None if complete and min_periods <= n else count < min_periods
    if {"mean", "std"} & set(statistics):
        # centre each column first, so the running sums stay small
        with np.errstate(all="ignore"):
            shift = np.nanmean(values, axis=0) if not complete else values.mean(axis=0)
        shift = np.where(np.isfinite(shift), shift, 0.0)
        x = values - shift
        if not complete:
            x[~valid] = 0.0
        with np.errstate(invalid="ignore", divide="ignore"):
            mean_c = window_sum(x)
            mean_c /= count
            if "mean" in statistics:
                out["mean"] = padded(mean_c + shift)
            if "std" in statistics:
                # two passes (sum of squared deviations from each window's mean), one vectorised pass per window
                # offset: exact where a running sum of squares cancels on long recordings
                ss = np.zeros_like(mean_c)
                d = np.empty_like(mean_c)
                for k in range(n):
                    np.subtract(x[k:k + m], mean_c, out=d)
                    if not complete:
                        d *= valid[k:k + m]
                    np.multiply(d, d, out=d)
                    ss += d
                ss /= count
                out["std"] = padded(np.sqrt(ss, out=ss))
    for name, filt, fill in (("min", minimum_filter1d, np.inf), ("max", maximum_filter1d, -np.inf)):
        if name in statistics:
            source = values if complete else np.where(valid, values, fill)
            out[name] = padded(filt(source, size=n, axis=0, mode="nearest")[inner])
    if bad is not None:
        for res in out.values():
            res[inner][bad] = np.nan
    return out


class WindowFeaturizer(BasePosesTransformer):
    """Centred sliding-window statistics (mean, std, min, max) of chosen variables, as new variables.

    Parameters
    ----------
    variables : str or list of str, optional
        Variables to summarise (e.g. ``["speed", "distance"]``); default every numeric variable with a ``time``
        dim except ``confidence``.
    window : int or float, default 5
        Window length in ``window_unit``, centred on each frame. In frames it must be odd; in seconds it is
        rounded to the nearest odd number of frames.
    window_unit : {"frames", "seconds"}, default "frames"
    statistics : str or tuple of {"mean", "std", "min", "max"}, default ("mean", "std")
    min_periods : int, optional
        Minimum number of non-NaN frames in a window; default the whole window (any NaN gives NaN).
    n_jobs : int, optional
        Recordings processed in parallel with joblib.

    Attributes
    ----------
    keypoints_, individuals_, n_recordings_
        As for every poses transformer.

    Notes
    -----
    Each statistic of each variable ``v`` becomes ``{v}_{statistic}_w{window}`` (``speed_mean_w5``,
    ``speed_std_w0.5s``), with the dims, coordinates and units of ``v`` (std too; ddof=0).
    NaN handling: NaN in the first and last ``window // 2`` frames (the window does not fit) and where fewer
    than ``min_periods`` frames of the window are non-NaN; NaNs inside a window are otherwise skipped.
    A window longer than the recording is a ValueError.

    Examples
    --------
    >>> from deepof_sk.datasets import make_synthetic_poses
    >>> from deepof_sk.features import KinematicsExtractor
    >>> ds = KinematicsExtractor().fit_transform(make_synthetic_poses(50, speed=100.0, random_state=0))
    >>> out = WindowFeaturizer(variables="speed", window=5).fit_transform(ds)
    >>> float(out.speed_mean_w5.sel(keypoint="Center").isel(time=10)[0]), int(out.speed_mean_w5.isnull().sum())
    (100.0, 56)
    """

    _parameter_constraints = {
        "variables": [str, list, tuple, None],
        "window": [Interval(Real, 0, None, closed="neither")],
        "window_unit": [StrOptions({"frames", "seconds"})],
        "statistics": [StrOptions(set(_STATISTICS)), list, tuple],
        "min_periods": [Interval(Integral, 1, None, closed="left"), None],
        "n_jobs": [Integral, None],
    }

    def __init__(self, *, variables=None, window=5, window_unit="frames", statistics=("mean", "std"),
                 min_periods=None, n_jobs=None):
        self.variables = variables
        self.window = window
        self.window_unit = window_unit
        self.statistics = statistics
        self.min_periods = min_periods
        self.n_jobs = n_jobs

    def _statistics(self) -> list[str]:
        stats = [self.statistics] if isinstance(self.statistics, str) else [str(s) for s in self.statistics]
        unknown = sorted(set(stats) - set(_STATISTICS))
        if unknown or not stats:
            raise ValueError(
                f"{type(self).__name__}: unknown statistics {unknown}; choose from {list(_STATISTICS)}."
            )
        return stats

    def _fit_recordings(self, recordings, y=None):
        where = type(self).__name__
        self._statistics()
        for ds in recordings:
            _feature_variables(ds, self.variables, where=where)
            window_in_frames(self.window, self.window_unit, ds, where=where, odd=True)

    def _transform_recording(self, ds):
        where = type(self).__name__
        stats = self._statistics()
        n = window_in_frames(self.window, self.window_unit, ds, where=where, odd=True)
        min_periods = n if self.min_periods is None else min(int(self.min_periods), n)
        suffix = _suffix(self.window, self.window_unit)
        out = ds
        for name in _feature_variables(ds, self.variables, where=where):
            da = ds[name]
            flat, dims = _as_time_major(da)
            shape = tuple(da.sizes[d] for d in dims)
            results = rolling_statistics(flat, n, stats, min_periods)
            for stat in stats:
                out = assign_feature(
                    out, f"{name}_{stat}_w{suffix}", results[stat].reshape(shape), dims,
                    units=str(da.attrs.get("units", "")),
                    long_name=f"centred rolling {stat} over {n} frames of {da.attrs.get('long_name', name)}",
                    where=where, window_frames=n,
                )
        return out


class LagFeaturizer(BasePosesTransformer):
    """Lagged (or, with negative lags, leading) copies of chosen variables, as new variables.

    Parameters
    ----------
    variables : str or list of str, optional
        Variables to shift; default every numeric variable with a ``time`` dim except ``confidence``.
    lags : int, float or tuple of them, default (1,)
        Shifts in ``lag_unit``: the value at frame t of the lag-L copy is the value at t - L (a positive lag looks
        back, a negative one ahead). In seconds, rounded to whole frames.
    lag_unit : {"frames", "seconds"}, default "frames"
    n_jobs : int, optional
        Recordings processed in parallel with joblib.

    Attributes
    ----------
    keypoints_, individuals_, n_recordings_
        As for every poses transformer.

    Notes
    -----
    Variable ``v`` shifted by L becomes ``{v}_lag{L}`` (``speed_lag2``, ``speed_lag0.2s``) or, for L < 0,
    ``{v}_lead{|L|}``, with the dims, coordinates and units of ``v`` (as float).
    NaN handling: the first L frames (last |L| for leads) are NaN; NaNs of ``v`` move with it.
    A lag of at least the recording's length is a ValueError.

    Examples
    --------
    >>> from deepof_sk.datasets import make_synthetic_poses
    >>> ds = make_synthetic_poses(10, random_state=0)
    >>> out = LagFeaturizer(variables="position", lags=(1, -1)).fit_transform(ds)
    >>> sorted(v for v in out.data_vars if v.startswith("position_"))
    ['position_lag1', 'position_lead1']
    """

    _parameter_constraints = {
        "variables": [str, list, tuple, None],
        "lags": [Real, list, tuple],
        "lag_unit": [StrOptions({"frames", "seconds"})],
        "n_jobs": [Integral, None],
    }

    def __init__(self, *, variables=None, lags=(1,), lag_unit="frames", n_jobs=None):
        self.variables = variables
        self.lags = lags
        self.lag_unit = lag_unit
        self.n_jobs = n_jobs

    def _lags(self) -> list:
        lags = [self.lags] if isinstance(self.lags, Real) else list(self.lags)
        bad = [v for v in lags if not isinstance(v, Real) or v == 0]
        if bad or not lags:
            raise ValueError(f"{type(self).__name__}: `lags` must be non-zero numbers; got {self.lags!r}.")
        if self.lag_unit == "frames":
            frac = [v for v in lags if float(v) != int(v)]
            if frac:
                raise ValueError(f"{type(self).__name__}: lags {frac} are in frames and must be integers.")
        return lags

    def _frames(self, lag, ds, where) -> int:
        if self.lag_unit == "frames":
            n = int(lag)
        else:
            from ..validation import get_fps

            n = int(round(float(lag) * get_fps(ds, where=where)))
            if n == 0:
                raise ValueError(f"{where}: lag {lag} s is less than half a frame at this frame rate.")
        n_t = ds.sizes[S.TIME]
        if abs(n) >= n_t:
            raise ValueError(
                f"{where}: lag {lag} {self.lag_unit} is {abs(n)} frames, not shorter than the recording "
                f"{ds.attrs.get(S.SOURCE_FILE) or ''} ({n_t} frames). Use a shorter lag."
            )
        return n

    def _fit_recordings(self, recordings, y=None):
        where = type(self).__name__
        lags = self._lags()
        for ds in recordings:
            _feature_variables(ds, self.variables, where=where)
            for lag in lags:
                self._frames(lag, ds, where)

    def _transform_recording(self, ds):
        where = type(self).__name__
        out = ds
        lags = [(lag, self._frames(lag, ds, where)) for lag in self._lags()]
        for name in _feature_variables(ds, self.variables, where=where):
            da = ds[name]
            flat, dims = _as_time_major(da)
            shape = tuple(da.sizes[d] for d in dims)
            for lag, n in lags:
                shifted = np.full(flat.shape, np.nan)
                if n > 0:
                    shifted[n:] = flat[:-n]
                else:
                    shifted[:n] = flat[-n:]
                word = "lag" if n > 0 else "lead"
                label = _suffix(abs(lag), self.lag_unit)
                out = assign_feature(
                    out, f"{name}_{word}{label}", shifted.reshape(shape), dims,
                    units=str(da.attrs.get("units", "")),
                    long_name=f"{da.attrs.get('long_name', name)}, {abs(n)} frames {'earlier' if n > 0 else 'later'}",
                    where=where, lag_frames=n,
                )
        return out
