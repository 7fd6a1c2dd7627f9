"""Behaviour profiles of recordings (or animals), and whether experimental conditions are separable from them.

DeepOF tests hypotheses such as "stressed and control mice behave differently" by comparing how much time each
group spends in each behaviour or cluster. :class:`BehaviorProfiler` reduces each recording to that profile (time
fraction, bouts per minute and mean bout duration of every behaviour), one row per recording, so any scikit-learn
classifier with cross-validation can say whether the conditions are separable; :func:`condition_separability`
does that with a permutation test p-value.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from numbers import Integral

import numpy as np
import pandas as pd
import xarray as xr
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_score, permutation_test_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import HasMethods, StrOptions
from sklearn.utils.validation import check_is_fitted

from .. import schema as S
from ..validation import check_recordings

__all__ = ["BehaviorProfiler", "condition_separability", "SeparabilityResult", "PROFILE_STATISTICS"]

PROFILE_STATISTICS = ("fraction", "bout_rate", "mean_bout_duration", "n_bouts")
_ANNOTATION = "annotation"


def _is_datasets(X) -> bool:
    return isinstance(X, xr.Dataset) or (isinstance(X, (list, tuple)) and bool(X) and isinstance(X[0], xr.Dataset))


def _bout_lengths(on: np.ndarray) -> np.ndarray:
    d = np.diff(np.r_[0, on.astype(np.int8), 0])
    return np.flatnonzero(d == -1) - np.flatnonzero(d == 1)


def _stats(series: np.ndarray, fps: float | None, stats, where: str) -> dict[str, float]:
    """Statistics of one 0/1 series (NaN = unlabelled / animal missing)."""
    valid = ~np.isnan(series)
    n_valid = int(valid.sum())
    on = np.where(valid, series, 0) > 0
    lengths = _bout_lengths(on)
    out = {}
    for s in stats:
        if s == "fraction":
            out[s] = float(on[valid].mean()) if n_valid else np.nan
        elif s == "n_bouts":
            out[s] = float(lengths.size)
        else:
            if fps is None:
                raise ValueError(f"{where}: statistic {s!r} is in seconds but the labels carry no frame rate; pass "
                                 "fps= or DataArrays/datasets with attrs['fps'], or use statistics=('fraction',).")
            if s == "bout_rate":
                out[s] = float(lengths.size / (n_valid / fps / 60.0)) if n_valid else np.nan
            else:
                out[s] = float(lengths.mean() / fps) if lengths.size else 0.0
    return out


class BehaviorProfiler(TransformerMixin, BaseEstimator):
    """Reduce each recording (or animal) to a behaviour profile: one row of time fractions and bout statistics.

    Input, one item per recording (or per animal):

    * annotated recordings: poses datasets with the ``annotation`` variable of :mod:`deepof_sk.annotation`
      (dims ``time, individual, behavior``; continuous behaviours are skipped);
    * recordings plus an ``annotator``: a poses transformer that adds ``annotation`` (a rule annotator, fitted on
      the recordings in :meth:`fit`), or a fitted frame classifier whose ``predict`` gives the labels (wrap it in
      :class:`sklearn.frozen.FrozenEstimator` so cloning keeps it fitted);
    * per-frame labels: 1-D arrays of categories (clusters, classes; each category is a behaviour), 2-D 0/1
      arrays or DataFrames with one column per behaviour, or DataArrays with ``time`` and optionally
      ``individual`` and ``behavior`` dims.

    Parameters
    ----------
    statistics : tuple of str, default ("fraction", "bout_rate", "mean_bout_duration")
        Any of ``fraction`` (share of labelled time), ``bout_rate`` (bouts per minute), ``mean_bout_duration``
        (seconds; 0 without bouts), ``n_bouts``.
    annotator : estimator, optional
        See above.
    variable : str, default "annotation"
        Variable of annotated datasets to profile.
    fps : float, optional
        Frame rate of plain label arrays (datasets and DataArrays with ``attrs['fps']`` bring their own).
    n_jobs : int, optional
        Unused placeholder for API symmetry; profiles are cheap.

    Attributes
    ----------
    feature_names_out_ : ndarray of str
        Column names ``statistic[behavior]`` (``statistic[individual,behavior]`` for several animals).
    behaviors_ : list
        Behaviours (or categories) profiled.
    keypoints_ : ndarray of str or None
        Keypoints of the training recordings (dataset input), required at transform time.

    Notes
    -----
    NaN frames (unlabelled, animal missing) are left out of the time base; a behaviour never seen in a recording
    gives fraction 0. Categories unseen in ``fit`` are ignored at transform time.

    Examples
    --------
    >>> import numpy as np
    >>> labels = [np.array([0, 0, 1, 1, 2, 2, 2, 0]), np.array([2, 2, 2, 2, 1, 1, 0, 0])]
    >>> prof = BehaviorProfiler(statistics=("fraction",), fps=2.0).fit(labels)
    >>> prof.get_feature_names_out().tolist()
    ['fraction[0]', 'fraction[1]', 'fraction[2]']
    >>> prof.transform(labels)[0].tolist()
    [0.375, 0.25, 0.375]
    """

    _parameter_constraints = {
        "statistics": [tuple, list, StrOptions(set(PROFILE_STATISTICS))],
        "annotator": [HasMethods(["predict"]), HasMethods(["transform"]), None],
        "variable": [str],
        "fps": [float, int, None],
        "n_jobs": [Integral, None],
    }

    def __init__(self, *, statistics=("fraction", "bout_rate", "mean_bout_duration"), annotator=None,
                 variable=_ANNOTATION, fps=None, n_jobs=None):
        self.statistics = statistics
        self.annotator = annotator
        self.variable = variable
        self.fps = fps
        self.n_jobs = n_jobs

    def _stat_names(self) -> list[str]:
        stats = [self.statistics] if isinstance(self.statistics, str) else list(self.statistics)
        bad = sorted(set(stats) - set(PROFILE_STATISTICS))
        if bad or not stats:
            raise ValueError(f"BehaviorProfiler: unknown statistics {bad}; choose from {list(PROFILE_STATISTICS)}.")
        return stats

    # -- turning any input into {(individual or None, behaviour): series} -------------------------------------
    def _from_dataset(self, ds: xr.Dataset) -> tuple[dict, float | None]:
        where = type(self).__name__
        fps = ds.attrs.get(S.FPS)
        if self.annotator is not None and not hasattr(self.annotator, "transform"):
            pred = np.asarray(self.annotator.predict(ds), dtype=float)
            names = getattr(self.annotator, "behaviors_", None)
            inds = [str(i) for i in ds[S.INDIVIDUAL].values]
            if names is None:
                classes = list(getattr(self.annotator, "classes_", [0, 1]))
                if set(classes) <= {0, 1}:  # one binary behaviour
                    names, pred = ["behavior"], pred[..., None]
                else:
                    raise ValueError(f"{where}: the annotator predicts several classes {classes}; profile its "
                                     "predictions as label arrays instead.")
            if pred.ndim == 2:  # (T, B): one animal or one row per frame
                pred = pred[:, None, :]
            if pred.shape[1] != len(inds):
                inds = [None]
            return {(i if len(inds) > 1 else None, b): pred[:, k, j]
                    for k, i in enumerate(inds) for j, b in enumerate(names)}, fps
        if self.variable not in ds.data_vars:
            raise ValueError(
                f"{where}: recording {ds.attrs.get(S.SOURCE_FILE) or ''} has no `{self.variable}` variable (has "
                f"{sorted(map(str, ds.data_vars))}). Annotate it first (deepof_sk.annotation), pass annotator=..., "
                "or give per-frame label arrays instead of recordings."
            )
        da = ds[self.variable]
        if S.BEHAVIOR in da.dims:
            kind = da.coords.get("behavior_kind")
            if kind is not None:
                da = da.isel({S.BEHAVIOR: np.asarray(kind.values) == "binary"})
        return self._from_dataarray(da), fps

    @staticmethod
    def _from_dataarray(da: xr.DataArray) -> dict:
        extra = [d for d in da.dims if d not in (S.TIME, S.INDIVIDUAL, S.BEHAVIOR)]
        if extra:
            raise ValueError(f"BehaviorProfiler: labels DataArray has unexpected dims {extra}; expected time, "
                             "individual and behavior.")
        if S.BEHAVIOR not in da.dims:
            da = da.expand_dims({S.BEHAVIOR: ["behavior"]}, axis=-1)
        if S.INDIVIDUAL not in da.dims:
            da = da.expand_dims({S.INDIVIDUAL: [None]}, axis=1)
        da = da.transpose(S.TIME, S.INDIVIDUAL, S.BEHAVIOR)
        inds = [None if i is None else str(i) for i in da[S.INDIVIDUAL].values]
        values = da.values.astype(float)
        return {(i if len(inds) > 1 else None, str(b)): values[:, k, j]
                for k, i in enumerate(inds) for j, b in enumerate(da[S.BEHAVIOR].values)}

    def _from_labels(self, item, categories) -> tuple[dict, float | None]:
        if isinstance(item, xr.DataArray):
            fps = item.attrs.get(S.FPS)
            if S.BEHAVIOR in item.dims or item.ndim > 1:
                return self._from_dataarray(item), fps
            item = item.values
        else:
            fps = None
        if isinstance(item, pd.DataFrame):
            return {(None, str(c)): item[c].to_numpy(dtype=float) for c in item.columns}, fps
        arr = np.asarray(item)
        if arr.ndim == 2:
            return {(None, f"behavior_{j}"): arr[:, j].astype(float) for j in range(arr.shape[1])}, fps
        if arr.ndim != 1:
            raise ValueError(f"BehaviorProfiler: label arrays must be 1-D (categories) or 2-D (0/1 per behaviour); "
                             f"got shape {arr.shape}.")
        missing = pd.isna(arr)
        return {(None, c): np.where(missing, np.nan, (arr == c).astype(float)) for c in categories}, fps

    def _profiles(self, X, *, fitting: bool):
        where = type(self).__name__
        if _is_datasets(X):
            kwargs = {} if fitting else {"keypoints": list(self.keypoints_) if self.keypoints_ is not None else None}
            recordings, single = check_recordings(X, where=where, **kwargs)
            if fitting:
                self.keypoints_ = np.asarray([str(k) for k in recordings[0][S.KEYPOINT].values], dtype=object)
            if self.annotator is not None and hasattr(self.annotator, "transform"):
                if fitting:
                    self.annotator_ = clone(self.annotator).fit(recordings)
                recordings = self.annotator_.transform(recordings)
            items = [self._from_dataset(ds) for ds in recordings]
            return items, single
        if isinstance(X, (str, bytes, np.ndarray)) or not hasattr(X, "__iter__"):
            raise TypeError(f"{where}: expected poses datasets or a list with one per-frame label array per "
                            f"recording; got {type(X).__name__}.")
        single = isinstance(X, (xr.DataArray, pd.DataFrame))
        items = [X] if single else list(X)
        if not items:
            raise ValueError(f"{where}: received no recordings.")
        if fitting:
            self.keypoints_ = None
            cats = set()
            for it in items:
                if not isinstance(it, (pd.DataFrame, xr.DataArray)) and np.asarray(it).ndim == 1:
                    arr = np.asarray(it)
                    cats.update(arr[~pd.isna(arr)].tolist())
            self.categories_ = sorted(cats, key=lambda c: (str(type(c)), c))
        return [self._from_labels(it, self.categories_) for it in items], single

    def _row(self, series: dict, fps, stats) -> dict:
        fps = float(fps) if fps is not None else (None if self.fps is None else float(self.fps))
        row = {}
        for key, values in series.items():
            for s, v in _stats(values, fps, stats, type(self).__name__).items():
                row[(s,) + key] = v
        return row

    @staticmethod
    def _name(stat, ind, behavior) -> str:
        return f"{stat}[{behavior}]" if ind is None else f"{stat}[{ind},{behavior}]"

    def fit(self, X, y=None):
        """Learn the behaviours (columns) to profile.

        Parameters
        ----------
        X : sequence of xarray.Dataset or sequence of per-frame labels
            See the class docstring.
        y : None
            Ignored (the conditions are the target of the classifier that follows).

        Returns
        -------
        self
        """
        self._validate_params()
        stats = self._stat_names()
        items, _ = self._profiles(X, fitting=True)
        keys = list(dict.fromkeys(k for series, _ in items for k in series))
        self.columns_ = [(s,) + k for s in stats for k in keys]
        self.behaviors_ = list(dict.fromkeys(k[1] for k in keys))
        self.feature_names_out_ = np.asarray([self._name(*c) for c in self.columns_], dtype=object)
        return self

    def transform(self, X):
        """One profile row per recording (or per label item).

        Parameters
        ----------
        X : sequence of xarray.Dataset or sequence of per-frame labels
            As in :meth:`fit`.

        Returns
        -------
        ndarray of shape (n_items, n_features)
        """
        check_is_fitted(self)
        stats = self._stat_names()
        items, _ = self._profiles(X, fitting=False)
        known = {c[1:] for c in self.columns_}
        for n, (series, _) in enumerate(items):
            unknown = sorted(f"{b}" if i is None else f"{i},{b}" for i, b in series if (i, b) not in known)
            if unknown:
                raise ValueError(
                    f"{type(self).__name__}: item #{n} has behaviours (or animals) {unknown} that were not seen in "
                    f"fit (seen: {sorted(self.behaviors_, key=str)}). Name the columns as in fit (DataFrame or "
                    "DataArray labels) and keep the same animals."
                )
        rows = [self._row(series, fps, stats) for series, fps in items]
        out = np.array([[row.get(c, 0.0) for c in self.columns_] for row in rows], dtype=float)
        return out

    def get_feature_names_out(self, input_features=None):
        """Column names such as ``fraction[immobility]``."""
        check_is_fitted(self)
        return self.feature_names_out_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.requires_fit = True
        return tags


@dataclass
class SeparabilityResult:
    """Outcome of :func:`condition_separability`.

    Attributes
    ----------
    score : float
        Cross-validated score with the true conditions.
    p_value : float
        Permutation p-value: (1 + #permutations scoring at least ``score``) / (1 + n_permutations).
    permutation_scores : ndarray
        Scores with shuffled conditions.
    cv_scores : ndarray
        Score of each fold with the true conditions.
    scoring : str
        Metric name.
    """

    score: float
    p_value: float
    permutation_scores: np.ndarray = field(repr=False)
    cv_scores: np.ndarray
    scoring: str

    @property
    def separable(self) -> bool:
        """Whether p < 0.05."""
        return bool(self.p_value < 0.05)


def condition_separability(profiles, conditions, *, estimator=None, cv=None, groups=None,
                           n_permutations: int = 1000, scoring: str = "balanced_accuracy", random_state=None,
                           n_jobs=None) -> SeparabilityResult:
    """Are experimental conditions separable from behaviour profiles? Cross-validation plus a permutation test.

    Parameters
    ----------
    profiles : array-like of shape (n_items, n_features)
        One row per recording or animal, e.g. from :class:`BehaviorProfiler`.
    conditions : array-like of shape (n_items,)
        Condition of each row (stress / control, genotype, sex, ...).
    estimator : classifier, optional
        Default ``make_pipeline(SimpleImputer(), StandardScaler(), LogisticRegression(max_iter=1000))``.
    cv : splitter or int, optional
        Default ``StratifiedKFold`` with up to 5 folds (as many as the smallest condition allows), shuffled.
    groups : array-like, optional
        Rows sharing a group (animals of one recording, litters) are permuted together and passed to ``cv``.
    n_permutations : int, default 1000
        Shuffles of the conditions.
    scoring : str, default "balanced_accuracy"
        Any scikit-learn scoring name.
    random_state : int or None
        Seed of the folds and the permutations.
    n_jobs : int, optional
        Parallel permutations.

    Returns
    -------
    SeparabilityResult

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = np.r_[rng.normal(0, 1, (12, 3)), rng.normal(2, 1, (12, 3))]
    >>> res = condition_separability(X, [0] * 12 + [1] * 12, n_permutations=99, random_state=0)
    >>> res.score > 0.8, res.p_value < 0.05
    (True, True)
    """
    X = np.asarray(profiles, dtype=float)
    y = np.asarray(conditions)
    if X.ndim != 2 or X.shape[0] != y.shape[0]:
        raise ValueError(f"condition_separability: profiles {X.shape} and conditions {y.shape} do not align; pass "
                         "one row and one condition per recording (or animal).")
    classes, counts = np.unique(y, return_counts=True)
    if classes.size < 2:
        raise ValueError(f"condition_separability: all rows have the condition {classes[0]!r}; need at least two.")
    if cv is None:
        n_splits = int(min(5, counts.min()))
        if n_splits < 2:
            raise ValueError(f"condition_separability: the smallest condition has {counts.min()} row(s); need at least"
                             " 2 per condition for cross-validation.")
        cv = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=random_state)
    est = estimator if estimator is not None else make_pipeline(
        SimpleImputer(), StandardScaler(), LogisticRegression(max_iter=1000))
    score, perm, p_value = permutation_test_score(
        est, X, y, groups=groups, cv=cv, n_permutations=n_permutations, scoring=scoring,
        random_state=random_state, n_jobs=n_jobs,
    )
    folds = cross_val_score(clone(est), X, y, groups=groups, cv=cv, scoring=scoring)
    return SeparabilityResult(float(score), float(p_value), np.asarray(perm), np.asarray(folds), scoring)
