"""Post-processing of per-frame predictions as separate, grid-searchable steps: a median filter and a bout filter.

Both steps take either

* predictions: a list with one per-frame label array per recording (numpy arrays or :class:`xarray.DataArray`
  with a ``time`` dim), time along axis 0, any further axes (animals, behaviours) filtered independently; or
* annotated recordings: poses datasets whose per-frame annotations (the ``annotation`` variable of
  :mod:`deepof_sk.annotation`, or boolean variables) are filtered in place of the originals.

They are the ``postprocess`` of :class:`~deepof_sk.supervised.FrameClassifier`
(``postprocess=make_pipeline(MedianLabelFilter(), BoutFilter())``), so their parameters are reachable by
``GridSearchCV`` as ``postprocess__medianlabelfilter__window``.

Binary labels (0/1, False/True) are filtered as behaviour present/absent; other labels (several classes) are
treated as categories: the median filter becomes a majority (mode) filter and short runs of any class are merged
into the preceding run.
"""

from __future__ import annotations

from collections.abc import Sequence
from numbers import Real

import numpy as np
import pandas as pd
import xarray as xr
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from .. import schema as S
from ..base import BasePosesTransformer

__all__ = ["MedianLabelFilter", "BoutFilter", "median_filter_labels", "filter_bouts"]

_ANNOTATION = "annotation"


# -- array functions -------------------------------------------------------------------------------------------
def _as_columns(labels) -> tuple[np.ndarray, tuple[int, ...]]:
    arr = np.asarray(labels)
    if arr.ndim == 0:
        raise ValueError("expected per-frame labels with time along axis 0; got a scalar.")
    return arr.reshape(arr.shape[0], -1), arr.shape


def _missing(arr: np.ndarray) -> np.ndarray:
    if arr.dtype.kind in "fc":
        return np.isnan(arr)
    if arr.dtype == object:
        return np.array([[v is None or (isinstance(v, float) and np.isnan(v)) for v in row] for row in arr],
                        dtype=bool).reshape(arr.shape)
    return np.zeros(arr.shape, dtype=bool)


def _is_binary(arr: np.ndarray, missing: np.ndarray) -> bool:
    if arr.dtype == bool:
        return True
    if arr.dtype.kind not in "iufc":
        return False
    vals = np.unique(arr[~missing])
    return bool(np.isin(vals, (0, 1)).all())


def _window_counts(x: np.ndarray, size: int) -> np.ndarray:
    """Sum of each column over the centred window of ``size`` frames, clipped at the edges."""
    n = x.shape[0]
    before, after = (size - 1) // 2, size // 2
    csum = np.zeros((n + 1, x.shape[1]))
    np.cumsum(x, axis=0, out=csum[1:])
    hi = np.minimum(np.arange(n) + after + 1, n)
    lo = np.maximum(np.arange(n) - before, 0)
    return csum[hi] - csum[lo]


def median_filter_labels(labels, window: int) -> np.ndarray:
    """Majority filter of per-frame labels over a centred window of ``window`` frames (time along axis 0).

    Binary labels: a frame becomes 1 when more than half of the labelled frames of its window are 1, 0 when
    fewer than half, and keeps its value on a tie (the binary median). Other labels: the most frequent label
    of the window (ties keep the frame's label). Missing labels (NaN) are not counted and stay missing. Windows
    are cut at the recording edges.

    Examples
    --------
    >>> median_filter_labels(np.array([0, 1, 0, 0, 1, 1, 0, 1, 1]), 3).tolist()
    [0, 0, 0, 0, 1, 1, 1, 1, 1]
    """
    window = int(window)
    if window < 1:
        raise ValueError(f"median_filter_labels: `window` must be at least 1 frame; got {window}.")
    cols, shape = _as_columns(labels)
    if window == 1:
        return np.asarray(labels).copy()
    missing = _missing(cols)
    valid = (~missing).astype(float)
    if _is_binary(cols, missing):
        ones = np.where(missing, 0.0, cols.astype(float))
        n_one = _window_counts(ones, window)
        n_all = _window_counts(valid, window)
        out = cols.copy()
        out[(2 * n_one > n_all) & ~missing] = 1
        out[(2 * n_one < n_all) & ~missing] = 0
        return out.reshape(shape)
    classes = pd.unique(cols[~missing].ravel())
    best = np.full(cols.shape, -1.0)
    out = cols.copy()
    for c in classes:
        count = _window_counts(((cols == c) & ~missing).astype(float), window)
        current = (cols == c) & ~missing
        better = (count > best) | ((count == best) & current)
        out = np.where(better & ~missing, c, out)
        best = np.where(better, count, best)
    return out.reshape(shape)


def _runs(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and stop (exclusive) of the runs of equal values of a 1-D array."""
    change = np.flatnonzero(x[1:] != x[:-1]) + 1
    starts = np.r_[0, change]
    stops = np.r_[change, x.size]
    return starts, stops


def _bouts_binary(col: np.ndarray, min_bout: int, max_gap: int) -> np.ndarray:
    on = col.astype(bool)
    if max_gap > 0 and on.any():
        starts, stops = _runs(on)
        for a, b in zip(starts, stops, strict=True):
            if not on[a] and a > 0 and b < on.size and b - a <= max_gap:
                on[a:b] = True
    if min_bout > 1 and on.any():
        starts, stops = _runs(on)
        for a, b in zip(starts, stops, strict=True):
            if on[a] and b - a < min_bout:
                on[a:b] = False
    return on


def _bouts_categorical(col: np.ndarray, min_bout: int) -> np.ndarray:
    out = col.copy()
    starts, stops = _runs(out)
    if starts.size < 2:
        return out
    lengths = stops - starts
    values = out[starts]
    keep = lengths >= min_bout
    if not keep.any():
        return out
    # each short run takes the label of the nearest preceding long run (the first long run for a leading run)
    idx = np.where(keep, np.arange(starts.size), -1)
    np.maximum.accumulate(idx, out=idx)
    idx[idx < 0] = np.flatnonzero(keep)[0]
    return np.repeat(values[idx], lengths)


def filter_bouts(labels, min_bout: int = 1, max_gap: int = 0) -> np.ndarray:
    """Fill short gaps between bouts, then drop short bouts (lengths in frames; time along axis 0).

    Binary labels: runs of 0 of at most ``max_gap`` frames between two runs of 1 become 1, then runs of 1
    shorter than ``min_bout`` frames become 0. Other labels: runs of any label shorter than ``min_bout`` take the
    label of the preceding run (``max_gap`` is not used). Missing labels (NaN) count as 0 / as their own label
    while filtering and stay missing.

    Examples
    --------
    >>> filter_bouts(np.array([1, 1, 0, 1, 1, 0, 0, 0, 1, 0]), min_bout=3, max_gap=1).tolist()
    [1, 1, 1, 1, 1, 0, 0, 0, 0, 0]
    """
    min_bout, max_gap = int(min_bout), int(max_gap)
    if min_bout < 1 or max_gap < 0:
        raise ValueError(f"filter_bouts: need min_bout >= 1 and max_gap >= 0 frames; got {min_bout}, {max_gap}.")
    cols, shape = _as_columns(labels)
    missing = _missing(cols)
    binary = _is_binary(cols, missing)
    out = cols.copy()
    for j in range(cols.shape[1]):
        col = cols[:, j]
        if binary:
            on = _bouts_binary(np.where(missing[:, j], 0, col).astype(float) > 0, min_bout, max_gap)
            res = on.astype(cols.dtype) if cols.dtype != bool else on
            out[:, j] = np.where(missing[:, j], col, res)
        else:
            out[:, j] = np.where(missing[:, j], col, _bouts_categorical(col, min_bout))
    return out.reshape(shape)


# -- estimators ------------------------------------------------------------------------------------------------
def _is_label_sequence(X) -> bool:
    if isinstance(X, xr.Dataset):
        return False
    if isinstance(X, xr.DataArray):
        return True
    if isinstance(X, (list, tuple)) and X and not isinstance(X[0], xr.Dataset):
        return True
    return False


def _label_fps(item, fps, where: str) -> float | None:
    if isinstance(item, xr.DataArray):
        value = item.attrs.get(S.FPS)
        if value is not None:
            return float(value)
    return None if fps is None else float(fps)


class _LabelFilter(BasePosesTransformer):
    """Shared machinery: per-frame label sequences or annotated poses datasets in, the same kind out."""

    _check_keypoints_on_transform = True

    def _size(self, seconds_or_frames: float, fps: float | None, where: str, param: str) -> int:
        if self.unit == "frames":
            if float(seconds_or_frames) != int(seconds_or_frames):
                raise ValueError(f"{where}: `{param}` is in frames and must be a whole number; got "
                                 f"{seconds_or_frames!r}.")
            return int(seconds_or_frames)
        if fps is None:
            raise ValueError(
                f"{where}: `{param}` is in seconds but the labels carry no frame rate. Pass DataArrays with "
                "attrs['fps'], set fps= on the filter, or use unit='frames'."
            )
        return int(round(float(seconds_or_frames) * fps))

    def _filter(self, values: np.ndarray, fps: float | None) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def _check_labels(self, X) -> tuple[list, bool]:
        where = type(self).__name__
        single = isinstance(X, xr.DataArray)
        items = [X] if single else list(X)
        bad = [f"#{i}: {type(v).__name__}" for i, v in enumerate(items)
               if not isinstance(v, (np.ndarray, xr.DataArray, pd.Series, pd.DataFrame, list))]
        if bad:
            raise TypeError(f"{where}: expected a list with one per-frame label array per recording (numpy arrays "
                            f"or DataArrays) or poses datasets; got {', '.join(bad[:5])}.")
        return items, single

    def fit(self, X, y=None):
        """Check the input; the filters learn nothing.

        Parameters
        ----------
        X : list of array-like, xarray.DataArray, xarray.Dataset or sequence of xarray.Dataset
            Per-frame labels (one array per recording) or annotated recordings.
        y : None
            Ignored.

        Returns
        -------
        self
        """
        if not _is_label_sequence(X):
            return super().fit(X, y)
        self._validate_params()
        items, _ = self._check_labels(X)
        self.keypoints_ = None
        self.individuals_ = None
        self.n_recordings_ = len(items)
        return self

    def transform(self, X):
        """Filter each recording's labels (or annotations) along time.

        Parameters
        ----------
        X : list of array-like, xarray.DataArray, xarray.Dataset or sequence of xarray.Dataset
            Per-frame labels with time along axis 0 (one array per recording), or annotated recordings.

        Returns
        -------
        The same kind as ``X``: filtered arrays (same type, shape and dtype) or datasets.
        """
        if not _is_label_sequence(X):
            return super().transform(X)
        check_is_fitted(self)
        items, single = self._check_labels(X)
        where = type(self).__name__
        out = []
        for item in items:
            fps = _label_fps(item, self.fps, where)
            if isinstance(item, xr.DataArray):
                if item.dims[0] != S.TIME and S.TIME in item.dims:
                    item = item.transpose(S.TIME, ...)
                out.append(item.copy(data=self._filter(item.values, fps)))
            elif isinstance(item, pd.DataFrame):
                out.append(pd.DataFrame(self._filter(item.to_numpy(), fps), index=item.index, columns=item.columns))
            elif isinstance(item, pd.Series):
                out.append(pd.Series(self._filter(item.to_numpy(), fps), index=item.index, name=item.name))
            else:
                out.append(self._filter(np.asarray(item), fps))
        return out[0] if single else out

    def _transform_recording(self, ds: xr.Dataset) -> xr.Dataset:
        names = ([self.variables] if isinstance(self.variables, str) else list(self.variables)) \
            if self.variables is not None else [
                str(v) for v, da in ds.data_vars.items()
                if S.TIME in da.dims and (str(v) == _ANNOTATION or da.dtype == bool)
            ]
        missing = sorted(set(names) - set(map(str, ds.data_vars)))
        if missing:
            raise ValueError(f"{type(self).__name__}: `variables` names {missing}, which the recording does not "
                             f"have (has {sorted(map(str, ds.data_vars))}).")
        fps = ds.attrs.get(S.FPS)
        fps = float(fps) if fps is not None else (None if self.fps is None else float(self.fps))
        out = ds.copy()
        for name in names:
            da = ds[name].transpose(S.TIME, ...)
            kind = da.coords.get("behavior_kind")
            values = da.values
            if kind is not None and "behavior" in da.dims:  # continuous annotations are left alone
                binary = np.asarray(kind.values) == "binary"
                axis = da.dims.index("behavior")
                filtered = self._filter(values, fps)
                keep = np.expand_dims(binary, tuple(i for i in range(values.ndim) if i != axis))
                filtered = np.where(keep, filtered, values)
            else:
                filtered = self._filter(values, fps)
            out[name] = da.copy(data=filtered).transpose(*ds[name].dims)
        return out


class MedianLabelFilter(_LabelFilter):
    """Majority (binary median) filter of per-frame labels over a centred window, as a grid-searchable step.

    Parameters
    ----------
    window : float, default 0.5
        Window length in ``unit``; 1 frame or less leaves the labels unchanged.
    unit : {"seconds", "frames"}, default "seconds"
        Unit of ``window``.
    fps : float, optional
        Frame rate for labels that do not carry one (plain numpy arrays); DataArrays with ``attrs['fps']`` and
        datasets use their own.
    variables : str or list of str, optional
        Dataset input only: the variables to filter; default ``annotation`` and every boolean per-frame
        variable (continuous behaviours of ``annotation`` are left alone).

    Attributes
    ----------
    n_recordings_ : int
        Recordings seen in ``fit``.

    Notes
    -----
    See :func:`median_filter_labels` for binary versus several-class labels, ties and NaN handling.

    Examples
    --------
    >>> import numpy as np
    >>> f = MedianLabelFilter(window=3, unit="frames").fit([np.zeros(5)])
    >>> f.transform([np.array([0, 1, 0, 1, 1])])[0].tolist()
    [0, 0, 1, 1, 1]
    """

    _parameter_constraints = {
        "window": [Interval(Real, 0, None, closed="left")],
        "unit": [StrOptions({"seconds", "frames"})],
        "fps": [Interval(Real, 0, None, closed="neither"), None],
        "variables": [str, list, tuple, None],
    }

    def __init__(self, *, window=0.5, unit="seconds", fps=None, variables=None):
        self.window = window
        self.unit = unit
        self.fps = fps
        self.variables = variables

    def _filter(self, values, fps):
        size = self._size(self.window, fps, type(self).__name__, "window")
        return median_filter_labels(values, max(size, 1))


class BoutFilter(_LabelFilter):
    """Fill short gaps between bouts and drop short bouts of per-frame labels, as a grid-searchable step.

    Parameters
    ----------
    min_bout : float, default 1.0
        Bouts shorter than this (in ``unit``) are removed (binary) or merged into the preceding run (classes).
    max_gap : float, default 0.0
        Binary labels: gaps of at most this length between two bouts are filled first. 0 fills nothing.
    unit : {"seconds", "frames"}, default "seconds"
        Unit of ``min_bout`` and ``max_gap``.
    fps : float, optional
        Frame rate for labels that do not carry one (plain numpy arrays).
    variables : str or list of str, optional
        Dataset input only: the variables to filter (default ``annotation`` and boolean per-frame variables).

    Attributes
    ----------
    n_recordings_ : int
        Recordings seen in ``fit``.

    Notes
    -----
    See :func:`filter_bouts`; missing labels (NaN) stay missing.

    Examples
    --------
    >>> import numpy as np
    >>> f = BoutFilter(min_bout=3, max_gap=1, unit="frames").fit([np.zeros(5)])
    >>> f.transform([np.array([1, 1, 0, 1, 0, 0, 1, 1, 0, 0])])[0].tolist()
    [1, 1, 1, 1, 0, 0, 0, 0, 0, 0]
    """

    _parameter_constraints = {
        "min_bout": [Interval(Real, 0, None, closed="left")],
        "max_gap": [Interval(Real, 0, None, closed="left")],
        "unit": [StrOptions({"seconds", "frames"})],
        "fps": [Interval(Real, 0, None, closed="neither"), None],
        "variables": [str, list, tuple, None],
    }

    def __init__(self, *, min_bout=1.0, max_gap=0.0, unit="seconds", fps=None, variables=None):
        self.min_bout = min_bout
        self.max_gap = max_gap
        self.unit = unit
        self.fps = fps
        self.variables = variables

    def _filter(self, values, fps):
        where = type(self).__name__
        min_bout = max(self._size(self.min_bout, fps, where, "min_bout"), 1)
        max_gap = self._size(self.max_gap, fps, where, "max_gap") if self.max_gap else 0
        return filter_bouts(values, min_bout, max_gap)


def as_label_arrays(values: Sequence, recordings: Sequence[xr.Dataset]) -> list[xr.DataArray]:
    """Wrap per-recording arrays as DataArrays with the recording's ``time`` coordinate and frame rate."""
    out = []
    for v, ds in zip(values, recordings, strict=True):
        arr = np.asarray(v)
        dims = (S.TIME,) + tuple(f"axis_{k}" for k in range(1, arr.ndim))
        out.append(xr.DataArray(arr, dims=dims, coords={S.TIME: ds[S.TIME].values},
                                attrs={S.FPS: ds.attrs.get(S.FPS)}))
    return out
