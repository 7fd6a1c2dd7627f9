"""FrameClassifier: per-frame behaviour classification with temporal context, class weights and bout filtering."""

from __future__ import annotations

import logging
from numbers import Integral, Real

import numpy as np
import xarray as xr
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, ClassifierMixin, MetaEstimatorMixin, clone
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.class_weight import compute_class_weight, compute_sample_weight
from sklearn.utils.validation import check_is_fitted, has_fit_parameter

from .. import schema as S
from ..base import map_recordings
from ..exceptions import MissingDataWarning
from ..features._table import FeatureTabulator
from ..validation import check_recordings
from ._context import add_temporal_context, frame_windows, temporal_context_names
from ._framewise import _labelled
from ._postprocess import as_label_arrays
from ._targets import frame_targets

__all__ = ["FrameClassifier", "CLASS"]

logger = logging.getLogger(__name__)

#: Dimension of class probabilities (one target of several classes).
CLASS = "class"


def _default_estimator():
    return HistGradientBoostingClassifier(random_state=0)


def _nan_fraction(rows: np.ndarray) -> np.ndarray:
    if rows.shape[1] == 0:
        return np.zeros(rows.shape[0])
    return np.isnan(rows).mean(axis=1)


def _uses_prior_weighting(estimator, weighting: str) -> bool:
    """Whether class weights are applied to the predicted probabilities instead of as sample weights.

    HistGradientBoosting computes its bin thresholds as weighted percentiles when given sample weights, which is
    one to two orders of magnitude slower than its unweighted binning; for it, "auto" reweights the probabilities.
    """
    if weighting == "auto":
        return isinstance(estimator, HistGradientBoostingClassifier)
    return weighting == "prior"


def _fit_one(estimator, X, y, sample_weight):
    if sample_weight is None:
        return estimator.fit(X, y)
    return estimator.fit(X, y, sample_weight=sample_weight)


class FrameClassifier(MetaEstimatorMixin, ClassifierMixin, BaseEstimator):
    """Classify every frame (of every animal) of poses recordings, with temporal context.

    ``X`` is a sequence of poses datasets (one per recording) and ``y`` a sequence of per-frame labels, one per
    recording. Each recording goes through ``features`` (any poses transformer, e.g.
    :class:`BodyMotionExtractor`), becomes a table (:class:`~deepof_sk.features.FeatureTabulator`), gains
    temporal context (rolling statistics over ``windows`` and ``lags``, in seconds, computed within the recording
    and within each animal), and the rows of all recordings train ``estimator``. Because ``X`` stays a list of
    recordings, ``GroupKFold``/``LeaveOneGroupOut`` hold out whole recordings.

    Two kinds of ``y``:

    * one target: arrays of shape ``(n_time,)`` or ``(n_time, n_individuals)`` with two or more classes (NaN or
      None = unlabelled frame);
    * several behaviours (SimBA/JABS style, possibly overlapping): per recording a :class:`pandas.DataFrame` with
      one 0/1 column per behaviour, or a DataArray with a ``behavior`` dim; one clone of ``estimator`` is fitted
      per behaviour, in parallel.

    Parameters
    ----------
    estimator : classifier, default HistGradientBoostingClassifier(random_state=0)
        Any scikit-learn classifier; it is cloned (once per behaviour).
    features : poses transformer, optional
        Step (or Pipeline of steps) applied to every recording before tabulation, fitted on the training
        recordings; e.g. ``BodyMotionExtractor()``. Default: the recordings as they come.
    variables : str or list of str, optional
        Variables to tabulate; default every numeric per-frame variable.
    per_individual : bool, default True
        True: one row per frame and animal, a model shared by all animals, predictions per animal. False: one row
        per frame with every animal's features side by side (social behaviours; the individuals must match at
        predict time).
    windows : tuple of float, default (0.33, 1.0, 2.0)
        Context windows in seconds (empty: no rolling statistics).
    statistics : tuple of str, default ("mean", "std", "closing", "opening")
        Rolling statistics (see :func:`add_temporal_context`).
    lags : tuple of float, default ()
        Lagged copies of the features, in seconds (positive = past).
    window_transformer : transformer, optional
        Extra features from a transformer of per-frame windows, e.g. sktime's ``MiniRocketMultivariate``: for every
        frame (and animal) the window of ``transformer_window`` seconds centred on it, shape
        ``(n_rows, n_features, n_frames)``, is transformed and its output appended to the row. Fitted on at most
        ``transformer_fit_size`` windows of the training recordings (evenly spaced). NaN in the window is linearly
        interpolated first.
    transformer_window : float, default 0.8
        Window length in seconds for ``window_transformer``.
    transformer_fit_size : int, default 5000
        Maximum number of windows ``window_transformer`` is fitted on.
    behaviors : list of str, optional
        With several behaviours: which ones to model (default all).
    class_weight : "balanced", dict or None, default "balanced"
        Weights by class, computed on the training frames of each fit (so nothing leaks across cross-validation
        folds; no frame is resampled).
    weighting : {"auto", "sample_weight", "prior"}, default "auto"
        How ``class_weight`` acts. ``"sample_weight"``: passed to ``estimator.fit``. ``"prior"``: the estimator is
        fitted unweighted and its predicted probabilities are multiplied by the class weights and renormalised,
        which is what minimising the class-weighted log loss gives (predictions are the argmax of these
        probabilities). ``"auto"``: ``"prior"`` for HistGradientBoosting (whose binning becomes very slow with
        sample weights), ``"sample_weight"`` otherwise.
    postprocess : transformer, optional
        Applied to the predicted labels of each recording by :meth:`predict` (not to probabilities), e.g.
        ``make_pipeline(MedianLabelFilter(window=0.5), BoutFilter(min_bout=1.0))``; its parameters are
        grid-searchable as ``postprocess__...``.
    max_nan_fraction : float, default 0.5
        Rows with a larger share of NaN features are not used for training and are not predicted: probability
        NaN, label the most frequent training class (0 for each behaviour). If more than half of the labelled
        frames are such rows, ``fit`` raises a ValueError.
    n_jobs : int, optional
        Recordings featurised, and behaviours fitted, in parallel with joblib.
    verbose : int, default 0
        Log progress at INFO level.

    Attributes
    ----------
    estimators_ : list of estimator
        Fitted clones, one per behaviour (one in total for a single target).
    estimator_ : estimator
        The fitted clone for a single target (``estimators_[0]``).
    features_ : transformer or None
        Fitted ``features``.
    tabulator_ : FeatureTabulator
        Fitted table bridge.
    feature_names_in_ : ndarray of str
        Names of the model's input columns (table columns with their context).
    classes_ : ndarray
        Class labels (single target) or behaviour names (several behaviours).
    behaviors_ : list of str or None
        Behaviour names when ``y`` holds several behaviours.
    required_keypoints_ : list of str or None
        Keypoints every recording must have at predict time (None when ``features`` resolves keypoint roles on any
        skeleton, e.g. ``BodyMotionExtractor(match_keypoints=False)``).
    feature_schema_ : dict
        What the model was trained with (features, keypoints, roles, frame rates, classes, context) and versions;
        saved next to pretrained models and checked at predict time.
    class_weights_ : list of ndarray or None
        With ``weighting="prior"``: the weights of each estimator's ``classes_``, applied to its probabilities.
    n_frames_fit_, n_frames_skipped_ : int
        Rows used for training, and labelled rows left out for too many NaN features.

    Notes
    -----
    NaN handling: NaN features reach ``estimator`` (HistGradientBoosting handles them; put an imputer in front of
    other estimators); context statistics interpolate over gaps (see :func:`add_temporal_context`). Unlabelled
    frames (NaN) are skipped in ``fit`` and predicted. Predictions have shape ``(n_time,)`` when the model was
    trained on one label per frame and the recording has one animal (or ``per_individual=False``), else
    ``(n_time, n_individuals)``, with a trailing behaviour axis for several behaviours.

    Examples
    --------
    >>> import numpy as np
    >>> from deepof_sk.datasets import make_synthetic_poses
    >>> from deepof_sk.supervised import BodyMotionExtractor
    >>> recs = [make_synthetic_poses(200, scenario=s, fps=25, random_state=0) for s in ("still", "walk")]
    >>> y = [np.full(200, s == "still", dtype=int) for s in ("still", "walk")]
    >>> clf = FrameClassifier(features=BodyMotionExtractor(), variables="motion", windows=(0.5,))
    >>> [p.shape for p in clf.fit(recs, y).predict(recs)]
    [(200,), (200,)]
    """

    _parameter_constraints = {
        "estimator": [HasMethods(["fit", "predict"]), None],
        "features": [HasMethods(["fit", "transform"]), None],
        "variables": [str, list, tuple, None],
        "per_individual": ["boolean"],
        "windows": [tuple, list, None],
        "statistics": [tuple, list, str, None],
        "lags": [tuple, list, None],
        "window_transformer": [HasMethods(["fit", "transform"]), None],
        "transformer_window": [Interval(Real, 0, None, closed="neither")],
        "transformer_fit_size": [Interval(Integral, 1, None, closed="left")],
        "behaviors": [list, tuple, None],
        "class_weight": [StrOptions({"balanced"}), dict, None],
        "weighting": [StrOptions({"auto", "sample_weight", "prior"})],
        "postprocess": [HasMethods(["fit", "transform"]), None],
        "max_nan_fraction": [Interval(Real, 0, 1, closed="both")],
        "n_jobs": [Integral, None],
        "verbose": ["verbose"],
    }

    def __init__(self, estimator=None, *, features=None, variables=None, per_individual=True,
                 windows=(0.33, 1.0, 2.0), statistics=("mean", "std", "closing", "opening"), lags=(),
                 window_transformer=None, transformer_window=0.8, transformer_fit_size=5000, behaviors=None, class_weight="balanced", weighting="auto", postprocess=None, max_nan_fraction=0.5,
                 n_jobs=None, verbose=0):
        self.estimator = estimator
        self.features = features
        self.variables = variables
        self.per_individual = per_individual
        self.windows = windows
        self.statistics = statistics
        self.lags = lags
        self.window_transformer = window_transformer
        self.transformer_window = transformer_window
        self.transformer_fit_size = transformer_fit_size
        self.behaviors = behaviors
        self.class_weight = class_weight
        self.weighting = weighting
        self.postprocess = postprocess
        self.max_nan_fraction = max_nan_fraction
        self.n_jobs = n_jobs
        self.verbose = verbose

    # -- sklearn plumbing --------------------------------------------------------------------------------------
    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.target_tags.required = True
        return tags

    def _needs_fps(self) -> bool:
        return bool(self.windows) or bool(self.lags) or self.window_transformer is not None

    def _log(self, msg, *args):
        if self.verbose:
            logger.info("FrameClassifier: " + msg, *args)

    def _targets(self, y, recordings):
        return frame_targets(y, recordings, per_individual=self.per_individual, behaviors=self.behaviors,
                             where=type(self).__name__)

    # -- features ----------------------------------------------------------------------------------------------
    def _context_names(self, names) -> list[str]:
        return temporal_context_names(names, windows=self.windows or (), statistics=self.statistics or (),
                                      lags=self.lags or ())

    def _base(self, ds: xr.Dataset) -> tuple[np.ndarray, float | None]:
        """Tabulated features of one recording as (T, R, F), and its frame rate."""
        base = self.tabulator_.transform(ds)
        return base.reshape(ds.sizes[S.TIME], -1, base.shape[1]), ds.attrs.get(S.FPS)

    def _frame_windows(self, base: np.ndarray, fps: float, rows=None) -> np.ndarray:
        size = max(2, int(round(float(self.transformer_window) * float(fps))))
        return frame_windows(base, size, rows=rows)

    def _assemble(self, base: np.ndarray, fps) -> np.ndarray:
        """(T * R, n_features_in_) rows: the features, their temporal context, the window-transformer output."""
        out = base
        if self.windows or self.lags:
            out = add_temporal_context(base, fps, windows=self.windows or (), statistics=self.statistics or (),
                                       lags=self.lags or ())
        rows = out.reshape(-1, out.shape[-1])
        if self.window_transformer_ is not None:
            extra = np.asarray(self.window_transformer_.transform(self._frame_windows(base, fps)), dtype=float)
            rows = np.concatenate([rows, extra.reshape(rows.shape[0], -1)], axis=1)
        return rows

    def _table(self, ds: xr.Dataset) -> np.ndarray:
        """(T * R, n_features_in_) rows of one recording."""
        return self._assemble(*self._base(ds))

    def _fit_window_transformer(self, bases) -> None:
        total = sum(b.shape[0] * b.shape[1] for b, _ in bases)
        step = max(1, int(np.ceil(total / int(self.transformer_fit_size))))
        sample, offset = [], 0
        for base, fps in bases:
            n = base.shape[0] * base.shape[1]
            rows = np.arange((-offset) % step, n, step)
            offset += n
            if rows.size:
                sample.append(self._frame_windows(base, fps, rows))
        self.window_transformer_ = clone(self.window_transformer).fit(np.concatenate(sample, axis=0))

    def _featurize(self, recordings) -> list[np.ndarray]:
        data = self.features_.transform(recordings) if self.features_ is not None else recordings
        return map_recordings(self._table, data, self.n_jobs)

    def _check_input(self, X, *, fitted: bool):
        where = type(self).__name__
        kwargs = {}
        if fitted:
            kwargs["keypoints"] = self.required_keypoints_
            if not self.per_individual:
                kwargs["individuals"] = list(self.individuals_)
        return check_recordings(X, where=where, require_fps=self._needs_fps(), **kwargs)

    # -- fit ---------------------------------------------------------------------------------------------------
    def fit(self, X, y):
        """Fit on every labelled frame (and animal) of the recordings.

        Parameters
        ----------
        X : sequence of xarray.Dataset
            Recordings (one dataset is accepted too).
        y : sequence of array-like, DataFrame or DataArray
            Per-frame labels, one item per recording, aligned with its ``time`` (see the class docstring).

        Returns
        -------
        self
        """
        self._validate_params()
        where = type(self).__name__
        recordings, _ = self._check_input(X, fitted=False)
        targets, behaviors, label_ndim = self._targets(y, recordings)
        self.features_ = clone(self.features).fit(recordings) if self.features is not None else None
        strict = self.features_ is None or bool(getattr(self.features_, "match_keypoints", True))
        self.keypoints_ = np.asarray([str(k) for k in recordings[0][S.KEYPOINT].values], dtype=object)
        self.individuals_ = np.asarray([str(k) for k in recordings[0][S.INDIVIDUAL].values], dtype=object)
        self.required_keypoints_ = list(self.keypoints_) if strict else None
        data = self.features_.transform(recordings) if self.features_ is not None else recordings
        self.tabulator_ = FeatureTabulator(variables=self.variables, per_individual=self.per_individual).fit(data)
        self._log("featurising %d recordings", len(recordings))
        self.window_transformer_ = None
        if self.window_transformer is not None:
            bases = map_recordings(self._base, data, self.n_jobs)
            self._fit_window_transformer(bases)
            tables = [self._assemble(b, fps) for b, fps in bases]
        else:
            tables = map_recordings(self._table, data, self.n_jobs)
        rows = np.concatenate(tables, axis=0)
        labels = np.concatenate([t.reshape(t.shape[0] * t.shape[1], *t.shape[2:]) for t in targets], axis=0)
        usable = _nan_fraction(rows) <= self.max_nan_fraction
        names = self._context_names(self.tabulator_.get_feature_names_out())
        if self.window_transformer_ is not None:
            label = type(self.window_transformer_).__name__
            names += [f"{label}[{j}]" for j in range(rows.shape[1] - len(names))]
        self.feature_names_in_ = np.asarray(names, dtype=object)
        self.n_features_in_ = len(self.feature_names_in_)
        self.label_ndim_ = label_ndim
        self.behaviors_ = behaviors
        if behaviors is None:
            labelled = _labelled(labels)
            self._check_nan_heavy(labelled, usable, tables, targets)
            keep = labelled & usable
            y_fit = labels[keep]
            if y_fit.dtype == object:
                y_fit = np.asarray(y_fit.tolist())
            classes, counts = np.unique(y_fit, return_counts=True)
            if classes.size < 2:
                raise ValueError(
                    f"{where}: the labelled frames hold a single class ({classes[0]!r}); a classifier needs at "
                    "least two. Check the labels, or the cross-validation split (use folds that contain both)."
                )
            jobs = [(y_fit, keep)]
            self.fill_label_ = classes[np.argmax(counts)]
        else:
            labelled = ~np.isnan(labels)
            self._check_nan_heavy(labelled.any(axis=1), usable, tables, targets)
            jobs, single = [], []
            for b, name in enumerate(behaviors):
                keep = labelled[:, b] & usable
                y_b = labels[keep, b].astype(int)
                if np.unique(y_b).size < 2:
                    single.append(f"{name} (only {np.unique(y_b).tolist()})")
                jobs.append((y_b, keep))
            if single:
                raise ValueError(
                    f"{where}: behaviours {single} hold a single class in the labelled training frames; each "
                    "behaviour needs frames with and without it. Drop them with behaviors=[...] or use folds "
                    "that contain both."
                )
            self.fill_label_ = 0
        est = self.estimator if self.estimator is not None else _default_estimator()
        prior = self.class_weight is not None and _uses_prior_weighting(est, self.weighting)
        if prior and not hasattr(est, "predict_proba"):
            raise ValueError(f"{where}: weighting='prior' needs an estimator with predict_proba, which "
                             f"{type(est).__name__} lacks; use weighting='sample_weight'.")
        if self.class_weight is not None and not prior and not has_fit_parameter(est, "sample_weight"):
            raise ValueError(f"{where}: class_weight={self.class_weight!r} needs an estimator whose fit takes "
                             f"sample_weight, which {type(est).__name__} does not; set class_weight=None or "
                             "weighting='prior'.")
        work, self.class_weights_ = [], [] if prior else None
        for y_fit, keep in jobs:
            if prior:
                classes = np.unique(y_fit)
                self.class_weights_.append(compute_class_weight(self.class_weight, classes=classes, y=y_fit))
                sw = None
            else:
                sw = compute_sample_weight(self.class_weight, y_fit) if self.class_weight is not None else None
            work.append((clone(est), rows[keep], y_fit, sw))
        self._log("fitting %d estimator(s) on %d rows x %d features", len(work), int(jobs[0][1].sum()),
                  rows.shape[1])
        if len(work) > 1 and self.n_jobs not in (None, 1):
            fitted = Parallel(n_jobs=self.n_jobs)(delayed(_fit_one)(*w) for w in work)
        else:
            fitted = [_fit_one(*w) for w in work]
        self.estimators_ = fitted
        if behaviors is None:
            self.estimator_ = fitted[0]
            self.classes_ = fitted[0].classes_ if hasattr(fitted[0], "classes_") else np.unique(jobs[0][0])
        else:
            self.classes_ = np.asarray(behaviors, dtype=object)
        self.n_frames_fit_ = int(jobs[0][1].sum())
        labelled_any = labelled if labelled.ndim == 1 else labelled.any(axis=1)
        self.n_frames_skipped_ = int((labelled_any & ~usable).sum())
        if self.postprocess is not None:
            self.postprocess_ = clone(self.postprocess).fit(as_label_arrays(
                [t[:, 0] for t in targets], recordings))
        else:
            self.postprocess_ = None
        self.feature_schema_ = self._schema(recordings)
        return self

    def _check_nan_heavy(self, labelled, usable, tables, targets):
        where = type(self).__name__
        n_lab = int(labelled.sum())
        bad = int((labelled & ~usable).sum())
        if n_lab and bad > n_lab / 2:
            rows = np.concatenate(tables, axis=0)[labelled]
            worst = np.argsort(-np.isnan(rows).mean(axis=0))[:5]
            names = self._context_names(self.tabulator_.get_feature_names_out())
            names += [f"window_transformer[{j}]" for j in range(rows.shape[1] - len(names))]
            share = [f"{names[j]} ({np.isnan(rows[:, j]).mean():.0%})" for j in worst]
            raise ValueError(
                f"{where}: {bad} of {n_lab} labelled frames have more than max_nan_fraction="
                f"{self.max_nan_fraction} of their features NaN (most often NaN: {share}). The features are "
                "NaN-heavy: interpolate gaps or clean the tracking first (deepof_sk.preprocessing), or choose "
                "features the recordings support."
            )
        if bad:
            import warnings

            warnings.warn(f"{where}: {bad} labelled frames with more than {self.max_nan_fraction:.0%} NaN features "
                          "were left out of training.", MissingDataWarning, stacklevel=3)

    def _schema(self, recordings) -> dict:
        import sklearn

        from .. import __version__

        roles = getattr(self.features_, "roles_", None)
        return {
            "feature_names": [str(n) for n in self.feature_names_in_],
            "table_columns": [str(n) for n in self.tabulator_.get_feature_names_out()],
            "required_keypoints": self.required_keypoints_,
            "trained_keypoints": [str(k) for k in self.keypoints_],
            "roles": dict(roles) if roles else None,
            "per_individual": bool(self.per_individual),
            "individuals": None if self.per_individual else [str(i) for i in self.individuals_],
            "fps_fit": sorted({float(ds.attrs[S.FPS]) for ds in recordings if ds.attrs.get(S.FPS) is not None}),
            "context": {"windows": list(self.windows or ()), "statistics": list(self.statistics or ()),
                        "lags": list(self.lags or ())},
            "window_transformer": None if self.window_transformer_ is None else {
                "transformer": repr(self.window_transformer_), "window_s": float(self.transformer_window)},
            "classes": [c.item() if hasattr(c, "item") else c for c in self.classes_],
            "behaviors": self.behaviors_,
            "deepof_sk_version": __version__,
            "sklearn_version": sklearn.__version__,
        }

    # -- predict -----------------------------------------------------------------------------------------------
    def _squeeze(self, ds) -> bool:
        return (not self.per_individual) or (self.label_ndim_ == 1 and ds.sizes[S.INDIVIDUAL] == 1)

    def _rows(self, X):
        check_is_fitted(self)
        recordings, single = self._check_input(X, fitted=True)
        tables = self._featurize(recordings)
        return recordings, single, tables

    def _estimator_proba(self, k: int, rows: np.ndarray) -> np.ndarray:
        """Class probabilities of estimator ``k``, reweighted by the class weights with weighting='prior'."""
        proba = self.estimators_[k].predict_proba(rows)
        if self.class_weights_ is not None:
            proba = proba * self.class_weights_[k]
            proba /= proba.sum(axis=1, keepdims=True)
        return proba

    def _estimator_labels(self, k: int, rows: np.ndarray) -> np.ndarray:
        est = self.estimators_[k]
        if self.class_weights_ is None:
            return est.predict(rows)
        return np.asarray(est.classes_)[np.argmax(self._estimator_proba(k, rows), axis=1)]

    def _proba_rows(self, rows: np.ndarray) -> np.ndarray:
        usable = _nan_fraction(rows) <= self.max_nan_fraction
        if self.behaviors_ is None:
            out = np.full((rows.shape[0], len(self.classes_)), np.nan)
            if usable.any():
                out[usable] = self._estimator_proba(0, rows[usable])
            return out
        out = np.full((rows.shape[0], len(self.behaviors_)), np.nan)
        if usable.any():
            for b, est in enumerate(self.estimators_):
                proba = self._estimator_proba(b, rows[usable])
                pos = list(est.classes_).index(1) if 1 in est.classes_ else proba.shape[1] - 1
                out[usable, b] = proba[:, pos]
        return out

    def _label_rows(self, rows: np.ndarray) -> np.ndarray:
        usable = _nan_fraction(rows) <= self.max_nan_fraction
        if self.behaviors_ is None:
            out = np.full(rows.shape[0], self.fill_label_, dtype=np.asarray(self.classes_).dtype)
            if usable.any():
                out[usable] = self._estimator_labels(0, rows[usable])
            return out
        out = np.zeros((rows.shape[0], len(self.behaviors_)), dtype=int)
        if usable.any():
            for b in range(len(self.estimators_)):
                out[usable, b] = self._estimator_labels(b, rows[usable]).astype(int)
        return out

    def _shape(self, values: np.ndarray, ds) -> np.ndarray:
        n_t = ds.sizes[S.TIME]
        arr = values.reshape(n_t, -1, *values.shape[1:])  # (T, R, ...)
        return arr[:, 0] if self._squeeze(ds) else arr

    def predict(self, X):
        """Per-frame labels, one array per recording (post-processed when ``postprocess`` is set).

        Parameters
        ----------
        X : xarray.Dataset or sequence of xarray.Dataset
            Recordings with the features the model needs (see ``feature_schema_``).

        Returns
        -------
        ndarray or list of ndarray
            Shape ``(n_time,)`` or ``(n_time, n_individuals)`` (see Notes), plus a behaviour axis for several
            behaviours; one array for one dataset, a list for a sequence.
        """
        recordings, single, tables = self._rows(X)
        out = [self._shape(self._label_rows(t), ds) for t, ds in zip(tables, recordings, strict=True)]
        if self.postprocess_ is not None:
            out = [np.asarray(a) for a in self.postprocess_.transform(as_label_arrays(out, recordings))]
        return out[0] if single else out

    def predict_proba(self, X):
        """Per-frame probabilities as DataArrays, one per recording.

        Parameters
        ----------
        X : xarray.Dataset or sequence of xarray.Dataset
            Recordings.

        Returns
        -------
        xarray.DataArray or list of xarray.DataArray
            Dims ``(time, [individual,] class)`` with the class labels as coordinate (one target), or
            ``(time, [individual,] behavior)`` holding the probability of each behaviour. ``time`` is the
            recording's. NaN where the features were too incomplete to predict (``max_nan_fraction``).
        """
        recordings, single, tables = self._rows(X)
        out = []
        for t, ds in zip(tables, recordings, strict=True):
            values = self._shape(self._proba_rows(t), ds)
            last = S.BEHAVIOR if self.behaviors_ is not None else CLASS
            dims = (S.TIME, last) if self._squeeze(ds) else (S.TIME, S.INDIVIDUAL, last)
            coords = {S.TIME: ds[S.TIME].values, last: list(self.classes_)}
            if S.INDIVIDUAL in dims:
                coords[S.INDIVIDUAL] = ds[S.INDIVIDUAL].values
            out.append(xr.DataArray(values, dims=dims, coords=coords, name="probability",
                                    attrs={"long_name": "predicted probability", "units": "1",
                                           S.FPS: ds.attrs.get(S.FPS)}))
        return out[0] if single else out

    def score(self, X, y):
        """Accuracy over the labelled frames (subset accuracy for several behaviours).

        Parameters
        ----------
        X : sequence of xarray.Dataset
            Recordings.
        y : sequence of array-like
            Per-frame labels as in :meth:`fit`.

        Returns
        -------
        float
        """
        check_is_fitted(self)
        recordings, _, tables = self._rows(X)
        targets, _, _ = self._targets(y, recordings)
        pred = np.concatenate([self._label_rows(t) for t in tables], axis=0)
        labels = np.concatenate([t.reshape(t.shape[0] * t.shape[1], *t.shape[2:]) for t in targets], axis=0)
        if self.behaviors_ is None:
            keep = _labelled(labels)
            truth = labels[keep]
            if truth.dtype == object:
                truth = np.asarray(truth.tolist())
            return float(np.mean(pred[keep] == truth))
        keep = ~np.isnan(labels).any(axis=1)
        return float(np.mean(np.all(pred[keep] == labels[keep].astype(int), axis=1)))
