"""The bridge from poses datasets to the 2-D tables plain scikit-learn estimators take.

* :class:`FeatureTabulator`: recordings -> one row per frame (or per frame and animal), one column per feature, with
  ``get_feature_names_out``. Rows of all recordings are stacked in recording order; ``row_counts_`` style mapping
  back to recordings is provided by :meth:`FeatureTabulator.split_rows`.
* :class:`RecordingSummarizer`: recordings -> one row per recording (or per recording and animal), for
  recording-level targets such as the experimental condition.
* :func:`split_individuals`: one dataset per animal, for per-animal targets and grouping.
"""

from __future__ import annotations

from numbers import Integral

import numpy as np
import xarray as xr
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.validation import check_is_fitted

from .. import schema as S
from ..base import _joblib_backend_chosen, map_recordings
from ..utils._memory import empty_result
from ..utils._warnings import quiet_nan_warnings
from ..validation import check_recordings, reorder_keypoints

__all__ = ["FeatureTabulator", "RecordingSummarizer", "split_individuals", "table_variables"]

_STATISTICS = {
    "mean": np.nanmean,
    "std": np.nanstd,
    "median": np.nanmedian,
    "min": np.nanmin,
    "max": np.nanmax,
}


def table_variables(ds: xr.Dataset, variables=None, *, where: str) -> list[str]:
    """Data variables that become table columns: numeric, with a ``time`` dim (default: all of them)."""
    if variables is None:
        return [
            str(v)
            for v, da in ds.data_vars.items()
            if S.TIME in da.dims and (np.issubdtype(da.dtype, np.number) or da.dtype == bool)
        ]
    names = [variables] if isinstance(variables, str) else list(variables)
    missing = sorted(set(names) - set(map(str, ds.data_vars)))
    if missing:
        raise ValueError(
            f"{where}: `variables` names {missing}, which the dataset does not have "
            f"(has {sorted(map(str, ds.data_vars))}). Add them with a feature step first."
        )
    no_time = sorted(v for v in names if S.TIME not in ds[v].dims)
    if no_time:
        raise ValueError(f"{where}: variables {no_time} have no `time` dimension and cannot be tabulated per frame.")
    return names


def _label(value) -> str:
    return str(value.item() if hasattr(value, "item") else value)


def _variable_layout(da: xr.DataArray, per_individual: bool) -> tuple[list[str], list[str], list[str]]:
    """Leading (row) dims, trailing (column) dims and column names of one variable.

    Rows are frames, or (frame, individual) pairs in time-major order when ``per_individual``; columns name the
    animal first, then the keypoint, then the rest: ``position[mouse1,Nose,x]``.
    """
    if per_individual and S.INDIVIDUAL not in da.dims:
        raise ValueError(
            f"FeatureTabulator: variable `{da.name}` has no `individual` dim, so it cannot be tabulated per animal "
            "(per_individual=True). Drop it with variables=[...]."
        )
    lead = [S.TIME] + ([S.INDIVIDUAL] if per_individual else [])
    rest = [d for d in da.dims if d not in lead]
    first = [d for d in (S.INDIVIDUAL, S.KEYPOINT) if d in rest]
    rest = first + [d for d in rest if d not in first]
    if not rest:
        return lead, rest, [str(da.name)]
    labels = np.array(np.meshgrid(*[[_label(v) for v in da[d].values] for d in rest], indexing="ij"))
    labels = labels.reshape(len(rest), -1).T
    return lead, rest, [f"{da.name}[{','.join(row)}]" for row in labels]


class FeatureTabulator(TransformerMixin, BaseEstimator):
    """Turn poses datasets into a 2-D feature table (rows = frames) with feature names.

    This is the bridge from the xarray world to plain scikit-learn estimators (PCA, clustering, any classifier
    through :class:`~deepof_sk.supervised.FramewiseEstimator`).

    Parameters
    ----------
    variables : str or list of str, optional
        Data variables to put in the table; default every numeric variable with a ``time`` dim.
    per_individual : bool, default False
        False: one row per frame, the features of every animal side by side (columns name the animal).
        True: one row per frame and animal (time-major: frame 0 animal 0, frame 0 animal 1, ...), columns without
        the animal; use it for per-animal labels and for models shared across animals.
    dtype : {"float64", "float32"}, default "float64"
        Table dtype; float32 halves the memory of long recordings.
    n_jobs : int, optional
        Recordings are tabulated in parallel with joblib.

    Attributes
    ----------
    feature_names_in_ : ndarray of str
        Same as the output names (the inputs are datasets; kept for sklearn's introspection).
    n_features_out_ : int
        Number of columns.
    n_rows_per_frame_ : int
        1, or the number of animals when ``per_individual=True``.
    keypoints_ : ndarray of str
        Keypoint order of the first fitted recording; recordings with the same keypoints in another order are
        reordered to it before tabulating.

    Notes
    -----
    NaN handling: NaN stays NaN in the table (HistGradientBoosting handles it natively; add a
    :class:`sklearn.impute.SimpleImputer` for estimators that do not). Units are those of the variables.
    Every recording must yield the same columns as the training recordings, else a ValueError lists what is
    missing or extra.

    Examples
    --------
    >>> from deepof_sk.datasets import make_synthetic_poses
    >>> ds = make_synthetic_poses(50, keypoints=["Nose", "Center"], random_state=0)
    >>> tab = FeatureTabulator(variables="position").fit(ds)
    >>> tab.transform(ds).shape, tab.get_feature_names_out()[:2].tolist()
    ((50, 4), ['position[mouse1,Nose,x]', 'position[mouse1,Nose,y]'])
    """

    _parameter_constraints = {
        "variables": [str, list, tuple, None],
        "per_individual": ["boolean"],
        "dtype": [StrOptions({"float64", "float32"})],
        "n_jobs": [Integral, None],
    }

    def __init__(self, *, variables=None, per_individual=False, dtype="float64", n_jobs=None):
        self.variables = variables
        self.per_individual = per_individual
        self.dtype = dtype
        self.n_jobs = n_jobs

    def _layout(self, ds: xr.Dataset) -> list[tuple[str, list[str], list[str], list[str]]]:
        where = type(self).__name__
        layout = [(name, *_variable_layout(ds[name], self.per_individual))
                  for name in table_variables(ds, self.variables, where=where)]
        if not layout:
            raise ValueError(f"{where}: no numeric variable with a `time` dim to tabulate.")
        return layout

    def _table(self, ds: xr.Dataset, out: np.ndarray | None = None) -> tuple[np.ndarray, list[str]]:
        """Fill one recording's rows (into ``out`` when given, avoiding a second copy) and return the names."""
        layout = self._layout(ds)
        names = [n for *_, cols in layout for n in cols]
        n_rows = ds.sizes[S.TIME] * (ds.sizes[S.INDIVIDUAL] if self.per_individual else 1)
        if out is None:
            out = empty_result((n_rows, len(names)), self.dtype)
        start = 0
        for name, lead, rest, cols in layout:
            block = ds[name].transpose(*lead, *rest).values.reshape(n_rows, len(cols))
            out[:, start:start + len(cols)] = block
            start += len(cols)
        return out, names

    def fit(self, X, y=None):
        """Learn the column schema from the recordings.

        Parameters
        ----------
        X : xarray.Dataset or sequence of xarray.Dataset
            Recordings.
        y : None
            Ignored; present for Pipeline compatibility.

        Returns
        -------
        self
        """
        self._validate_params()
        recordings, _ = check_recordings(X, where=type(self).__name__)
        self.keypoints_ = np.asarray([str(k) for k in recordings[0][S.KEYPOINT].values], dtype=object)
        names = [n for *_, cols in self._layout(recordings[0]) for n in cols]
        self.feature_names_in_ = np.asarray(names, dtype=object)
        self.n_features_out_ = len(names)
        self.n_rows_per_frame_ = recordings[0].sizes[S.INDIVIDUAL] if self.per_individual else 1
        return self

    def _check_columns(self, ds: xr.Dataset, index: int) -> None:
        names = [n for *_, cols in self._layout(ds) for n in cols]
        expected = list(self.feature_names_in_)
        if names == expected:
            return
        missing = sorted(set(expected) - set(names))
        extra = sorted(set(names) - set(expected))
        src = ds.attrs.get(S.SOURCE_FILE) or f"#{index}"
        detail = (
            "the same columns in another order; reorder the keypoints/individuals like the training recordings"
            if not missing and not extra
            else f"missing {missing[:10]}{' ...' if len(missing) > 10 else ''}, extra {extra[:10]}"
            f"{' ...' if len(extra) > 10 else ''}"
        )
        raise ValueError(
            f"{type(self).__name__}: recording {src} does not give the columns seen in fit: {detail}. Recordings "
            "must share keypoints, individuals (or use per_individual=True) and feature steps."
        )

    def transform(self, X):
        """Stack the per-frame features of all recordings.

        Parameters
        ----------
        X : xarray.Dataset or sequence of xarray.Dataset
            Recordings.

        Returns
        -------
        ndarray of shape (n_rows, n_features_out_)
            Rows of recording 0 first, then recording 1, ...; see :meth:`split_rows`.
        """
        check_is_fitted(self)
        recordings, _ = check_recordings(X, where=type(self).__name__)
        if hasattr(self, "keypoints_"):
            recordings = [reorder_keypoints(ds, self.keypoints_) for ds in recordings]
        for i, ds in enumerate(recordings):
            self._check_columns(ds, i)
        counts = self.row_counts(recordings)
        if self.n_jobs not in (None, 1) and len(recordings) > 1 and _joblib_backend_chosen():
            # a chosen joblib backend may run the recordings in other processes: each returns its own rows
            return np.concatenate(map_recordings(lambda ds: self._table(ds)[0], recordings, self.n_jobs))
        out = empty_result((sum(counts), self.n_features_out_), self.dtype)
        starts = np.r_[0, np.cumsum(counts)]
        # each recording fills its own rows of the one table (threads of this process with n_jobs): no
        # per-recording tables concatenated afterwards, so the peak is the table itself
        map_recordings(lambda job: self._table(job[0], out[job[1]:job[2]]),
                       list(zip(recordings, starts[:-1], starts[1:], strict=True)), self.n_jobs)
        return out

    def get_feature_names_out(self, input_features=None):
        """Column names, e.g. ``position[mouse1,Nose,x]``."""
        check_is_fitted(self)
        return np.asarray(self.feature_names_in_, dtype=object)

    def row_counts(self, X) -> list[int]:
        """Number of table rows each recording contributes (frames x animals when per_individual)."""
        recordings, _ = check_recordings(X, where=type(self).__name__)
        per = (lambda ds: ds.sizes[S.INDIVIDUAL]) if self.per_individual else (lambda ds: 1)
        return [ds.sizes[S.TIME] * per(ds) for ds in recordings]

    def split_rows(self, values: np.ndarray, X) -> list[np.ndarray]:
        """Split a per-row array (predictions, scores, ...) back into one array per recording.

        With ``per_individual=True`` each piece is reshaped to ``(n_time, n_individuals, ...)``.
        """
        recordings, _ = check_recordings(X, where=type(self).__name__)
        counts = self.row_counts(recordings)
        pieces = np.split(np.asarray(values), np.cumsum(counts)[:-1])
        if self.per_individual:
            pieces = [
                p.reshape(ds.sizes[S.TIME], ds.sizes[S.INDIVIDUAL], *p.shape[1:])
                for p, ds in zip(pieces, recordings, strict=True)
            ]
        return pieces

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        return tags


class RecordingSummarizer(TransformerMixin, BaseEstimator):
    """Reduce each recording to one row of summary statistics over time.

    For recording-level targets (experimental condition, sex, genotype): the output is a plain 2-D table that any
    scikit-learn classifier takes, with one row per recording, so ``cross_validate`` with ``GroupKFold`` works
    unchanged.

    Parameters
    ----------
    variables : str or list of str, optional
        Variables to summarise; default every numeric variable with a ``time`` dim.
    statistics : list of {"mean", "std", "median", "min", "max"}, default ("mean", "std")
        Statistics over time (NaN-aware).
    n_jobs : int, optional
        Recordings processed in parallel.

    Attributes
    ----------
    feature_names_out_ : ndarray of str
        Column names such as ``mean(position[mouse1,Nose,x])``.

    Notes
    -----
    NaN frames are ignored; a column that is NaN throughout a recording gives NaN. Use :func:`split_individuals`
    first for one row per animal.

    Examples
    --------
    >>> from deepof_sk.datasets import make_synthetic_poses
    >>> recs = [make_synthetic_poses(40, speed=s, random_state=0) for s in (50.0, 150.0)]
    >>> RecordingSummarizer(variables="position").fit_transform(recs).shape
    (2, 56)
    """

    _parameter_constraints = {
        "variables": [str, list, tuple, None],
        "statistics": [list, tuple, StrOptions(set(_STATISTICS))],
        "n_jobs": [Integral, None],
    }

    def __init__(self, *, variables=None, statistics=("mean", "std"), n_jobs=None):
        self.variables = variables
        self.statistics = statistics
        self.n_jobs = n_jobs

    def _stats(self) -> list[str]:
        stats = [self.statistics] if isinstance(self.statistics, str) else list(self.statistics)
        unknown = sorted(set(stats) - set(_STATISTICS))
        if unknown:
            raise ValueError(
                f"RecordingSummarizer: unknown statistics {unknown}; choose from {sorted(_STATISTICS)}."
            )
        return stats

    def fit(self, X, y=None):
        """Learn the column schema.

        Parameters
        ----------
        X : xarray.Dataset or sequence of xarray.Dataset
            Recordings.
        y : None
            Ignored; present for Pipeline compatibility.

        Returns
        -------
        self
        """
        self._validate_params()
        stats = self._stats()
        recordings, _ = check_recordings(X, where=type(self).__name__)
        self.tabulator_ = FeatureTabulator(variables=self.variables, n_jobs=self.n_jobs).fit(recordings)
        names = self.tabulator_.get_feature_names_out()
        self.feature_names_out_ = np.asarray([f"{s}({n})" for s in stats for n in names], dtype=object)
        return self

    def transform(self, X):
        """One row per recording.

        Parameters
        ----------
        X : xarray.Dataset or sequence of xarray.Dataset
            Recordings.

        Returns
        -------
        ndarray of shape (n_recordings, n_statistics * n_features)
        """
        check_is_fitted(self)
        recordings, _ = check_recordings(X, where=type(self).__name__)
        stats = self._stats()

        def summarise(ds):
            table = self.tabulator_.transform(ds)
            with quiet_nan_warnings():
                return np.concatenate([_STATISTICS[s](table, axis=0) for s in stats])

        return np.vstack(map_recordings(summarise, recordings, self.n_jobs))

    def get_feature_names_out(self, input_features=None):
        """Column names ``statistic(feature)``."""
        check_is_fitted(self)
        return self.feature_names_out_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        return tags


def split_individuals(X) -> tuple[list[xr.Dataset], list[tuple[int, str]]]:
    """One single-animal dataset per (recording, animal).

    Parameters
    ----------
    X : xarray.Dataset or sequence of xarray.Dataset
        Recordings.

    Returns
    -------
    datasets : list of xarray.Dataset
        Each with one individual (variables without an ``individual`` dim, e.g. social features between two
        animals, are kept as they are).
    index : list of (int, str)
        (recording position, individual name) for each dataset: use the first element as ``groups`` in
        GroupKFold to keep the animals of one recording together.
    """
    recordings, _ = check_recordings(X, where="split_individuals")
    out, index = [], []
    for r, ds in enumerate(recordings):
        for ind in ds[S.INDIVIDUAL].values:
            out.append(ds.sel({S.INDIVIDUAL: [ind]}))
            index.append((r, str(ind)))
    return out, index
