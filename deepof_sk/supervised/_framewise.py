"""A meta-estimator that fits any scikit-learn estimator on per-frame rows of poses recordings."""

from __future__ import annotations

import numpy as np
import xarray as xr
from sklearn.base import BaseEstimator, MetaEstimatorMixin, clone, is_classifier
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.utils._param_validation import HasMethods
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from ..base import check_frame_targets
from ..features._table import FeatureTabulator
from ..utils._labels import labelled_mask as _labelled
from ..validation import check_recordings

__all__ = ["FramewiseEstimator"]


def _inner_has(method):
    return lambda self: hasattr(self.estimator, method)


class FramewiseEstimator(MetaEstimatorMixin, BaseEstimator):
    """Fit a plain scikit-learn estimator on the frames of a sequence of recordings.

    ``X`` is a sequence of poses datasets (one per recording) and ``y`` a sequence of per-frame label arrays, one
    per recording and aligned with its ``time``. Internally the datasets are turned into a 2-D table by
    ``tabulator`` and the labels are concatenated in the same order, so the wrapped estimator sees an ordinary
    ``(n_frames, n_features)`` problem. Because ``X`` and ``y`` stay sequences of recordings, scikit-learn's
    splitters (``GroupKFold``, ``LeaveOneGroupOut``) split whole recordings and no frame of a test recording leaks
    into training.

    This is the last step of a pipeline such as ``make_pipeline(SavgolSmoother(), FramewiseEstimator(...))``: a
    scikit-learn Pipeline hands the original ``y`` to its final step, so the step that flattens ``X`` into frames
    must flatten ``y`` too.

    Parameters
    ----------
    estimator : estimator, default HistGradientBoostingClassifier()
        Any scikit-learn estimator (classifier or regressor); it is cloned.
    tabulator : FeatureTabulator, optional
        How recordings become rows and columns; default ``FeatureTabulator()`` (all numeric per-frame variables,
        one row per frame). Use ``FeatureTabulator(per_individual=True)`` with labels of shape
        ``(n_time, n_individuals)``.

    Attributes
    ----------
    estimator_ : estimator
        The fitted clone of ``estimator``.
    tabulator_ : FeatureTabulator
        The fitted tabulator (its ``get_feature_names_out()`` is the feature schema).
    feature_names_in_ : ndarray of str
        Feature names seen in fit.
    classes_ : ndarray
        Class labels (classifiers only).
    n_frames_fit_ : int
        Labelled rows used for fitting.

    Notes
    -----
    Frames whose label is NaN (or None) are unlabelled: they are skipped in ``fit`` and still predicted. Feature
    NaNs are passed to the estimator unchanged.

    Examples
    --------
    >>> import numpy as np
    >>> from deepof_sk.datasets import make_synthetic_poses
    >>> recs = [make_synthetic_poses(60, speed=s, random_state=i) for i, s in enumerate((0.0, 80.0))]
    >>> y = [np.full(60, s > 0) for s in (0.0, 80.0)]
    >>> est = FramewiseEstimator(tabulator=FeatureTabulator(variables="position")).fit(recs, y)
    >>> [p.shape for p in est.predict(recs)]
    [(60,), (60,)]
    """

    _parameter_constraints = {
        "estimator": [HasMethods(["fit", "predict"]), None],
        "tabulator": [FeatureTabulator, None],
    }

    def __init__(self, estimator=None, *, tabulator=None):
        self.estimator = estimator
        self.tabulator = tabulator

    @property
    def _estimator_type(self):
        est = self.estimator if self.estimator is not None else HistGradientBoostingClassifier()
        return getattr(est, "_estimator_type", None)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        est = self.estimator if self.estimator is not None else HistGradientBoostingClassifier()
        inner = est.__sklearn_tags__()
        tags.estimator_type = inner.estimator_type
        tags.classifier_tags = inner.classifier_tags
        tags.regressor_tags = inner.regressor_tags
        tags.input_tags.two_d_array = False
        tags.target_tags.required = True
        return tags

    def _rows(self, X, y=None):
        recordings, _ = check_recordings(X, where=type(self).__name__)
        table = self.tabulator_.transform(recordings)
        if y is None:
            return recordings, table, None
        ys = check_frame_targets(y, recordings, where=type(self).__name__)
        per_ind = self.tabulator_.per_individual
        flat = []
        for i, labels in enumerate(ys):
            if per_ind and labels.ndim == 1:
                labels = np.repeat(labels[:, None], recordings[i].sizes["individual"], axis=1)
            if not per_ind and labels.ndim == 2:
                raise ValueError(
                    f"{type(self).__name__}: recording #{i} has per-animal labels {labels.shape}; tabulate per "
                    "animal with tabulator=FeatureTabulator(per_individual=True)."
                )
            flat.append(labels.reshape(-1))
        return recordings, table, np.concatenate(flat)

    def fit(self, X, y):
        """Fit the wrapped estimator on all labelled frames.

        Parameters
        ----------
        X : sequence of xarray.Dataset
            Recordings.
        y : sequence of array-like
            Per-frame labels, one array per recording (see :func:`deepof_sk.base.check_frame_targets`).

        Returns
        -------
        self
        """
        self._validate_params()
        recordings, _ = check_recordings(X, where=type(self).__name__)
        check_frame_targets(y, recordings, where=type(self).__name__)
        self.tabulator_ = clone(self.tabulator) if self.tabulator is not None else FeatureTabulator()
        self.tabulator_.fit(recordings)
        _, table, labels = self._rows(recordings, y)
        keep = _labelled(labels)
        if not keep.any():
            raise ValueError(f"{type(self).__name__}: every frame is unlabelled (NaN); nothing to fit.")
        est = self.estimator if self.estimator is not None else HistGradientBoostingClassifier()
        self.estimator_ = clone(est)
        y_fit = labels[keep]
        if y_fit.dtype == object:
            y_fit = np.asarray(y_fit.tolist())
        if is_classifier(self.estimator_) and np.unique(y_fit).size < 2:
            raise ValueError(
                f"{type(self).__name__}: the labelled frames hold a single class ({np.unique(y_fit)[0]!r}); a "
                "classifier needs at least two. Check the labels or the cross-validation split."
            )
        self.estimator_.fit(table[keep], y_fit)
        self.feature_names_in_ = self.tabulator_.get_feature_names_out()
        self.n_frames_fit_ = int(keep.sum())
        if hasattr(self.estimator_, "classes_"):
            self.classes_ = self.estimator_.classes_
        return self

    def _per_recording(self, method: str, X):
        check_is_fitted(self)
        single = isinstance(X, xr.Dataset)
        recordings, table, _ = self._rows(X)
        out = getattr(self.estimator_, method)(table)
        pieces = self.tabulator_.split_rows(out, recordings)
        return pieces[0] if single else pieces

    def predict(self, X):
        """Per-frame predictions, one array per recording (``(n_time,)`` or ``(n_time, n_individuals)``).

        One dataset in gives one array out; a sequence gives a list.
        """
        return self._per_recording("predict", X)

    @available_if(_inner_has("predict_proba"))
    def predict_proba(self, X):
        """Per-frame class probabilities, one array per recording, columns in ``classes_`` order."""
        return self._per_recording("predict_proba", X)

    @available_if(_inner_has("decision_function"))
    def decision_function(self, X):
        """Per-frame decision values, one array per recording."""
        return self._per_recording("decision_function", X)

    def score(self, X, y):
        """Frame accuracy (classifiers) or R^2 (regressors) over all labelled frames."""
        check_is_fitted(self)
        _, table, labels = self._rows(X, y)
        keep = _labelled(labels)
        y_true = labels[keep]
        if y_true.dtype == object:
            y_true = np.asarray(y_true.tolist())
        return self.estimator_.score(table[keep], y_true)
