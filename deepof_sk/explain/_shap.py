"""SHAP explanations of behaviour labels through a fast surrogate classifier on interpretable window features."""

from __future__ import annotations

import logging
import warnings
from numbers import Integral

import numpy as np
import pandas as pd
import xarray as xr
from sklearn.base import BaseEstimator, clone
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.metrics import balanced_accuracy_score, f1_score, roc_auc_score
from sklearn.model_selection import GroupKFold
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted
from threadpoolctl import threadpool_limits

from .. import schema as S
from ..base import check_frame_targets
from ..utils._optional import import_optional
from ..validation import check_recordings, return_like
from ._windows import WINDOW_STATISTICS, aggregate_windows

__all__ = [
    "ShapExplainer",
    "compute_shap_values",
    "compute_shap_importance",
    "make_interpretable_featurizer",
]

logger = logging.getLogger(__name__)

#: Dim of the samples (windows) of a SHAP array.
WINDOW_DIM = S.WINDOW
_FEATURE_VARIABLES = {"speed", "acceleration", "distance", "social_distance", "angle", "area"}
# Per-column preprocessing steps through which a tree explanation of the final model is still an explanation of
# the input columns (each output column depends on its own input column only).
_COLUMNWISE = {"StandardScaler", "MinMaxScaler", "MaxAbsScaler", "RobustScaler", "SimpleImputer", "passthrough"}


def _import_shap(where: str):
    return import_optional("shap", where)


def make_interpretable_featurizer(keypoints, *, skeleton="deepof_14"):
    """Pipeline of the interpretable per-frame features the explainer uses by default.

    Parameters
    ----------
    keypoints : sequence of str
        Keypoints of the recordings.
    skeleton : Skeleton or str, default "deepof_14"
        When every keypoint of this skeleton is present: speed of every keypoint, distances along the skeleton's
        edges (and DeepOF's nose/tail-base distances between animals), angles and body areas. Otherwise: speeds and
        the distance between every pair of keypoints (within and between animals).

    Returns
    -------
    sklearn.pipeline.Pipeline
        Unfitted poses transformers that add ``speed``, ``distance`` (, ``social_distance``, ``angle``, ``area``).
    """
    from ..features import AngleExtractor, AreaExtractor, DistanceExtractor, KinematicsExtractor, Skeleton

    sk = skeleton if isinstance(skeleton, Skeleton) else Skeleton.from_preset(skeleton)
    if not sk.missing_keypoints(list(map(str, keypoints))):
        return make_pipeline(
            KinematicsExtractor(order=1),
            DistanceExtractor(pairs="skeleton", inter_animal=True, skeleton=sk),
            AngleExtractor(skeleton=sk),
            AreaExtractor(skeleton=sk),
        )
    return make_pipeline(
        KinematicsExtractor(order=1), DistanceExtractor(pairs="all", inter_animal="all", skeleton=None)
    )


def _final_and_prefix(model):
    if isinstance(model, Pipeline):
        return model.steps[-1][1], model[:-1] if len(model.steps) > 1 else None
    return model, None


def _tree_explainer(shap, model, X):
    """(explainer, transformed X) for a tree model, or None when a tree explanation is not possible."""
    final, prefix = _final_and_prefix(model)
    Xt = X
    if prefix is not None:
        names = {type(step).__name__ if step != "passthrough" else "passthrough" for _, step in prefix.steps}
        if not names <= _COLUMNWISE:
            return None
        Xt = prefix.transform(X)
        if np.shape(Xt) != np.shape(X):
            return None
    try:
        return shap.TreeExplainer(final), np.asarray(Xt, dtype=float)
    except Exception as exc:  # shap raises its own InvalidModelError (and others) for unsupported models
        logger.info("TreeExplainer does not support %s (%s); using a model-agnostic explainer.", type(final), exc)
        return None


def _as_3d(values, base, n_classes: int):
    """SHAP values as (n, features, classes) and base values as (classes,), whatever shap returned."""
    values = np.asarray(values, dtype=float)
    base = np.atleast_1d(np.asarray(base, dtype=float))
    if isinstance(values, list):  # pragma: no cover - older shap
        values = np.stack(values, axis=-1)
    if values.ndim == 2:
        if n_classes == 2:  # binary model explained on the log-odds of class 1: class 0 is its mirror image
            values = np.stack([-values, values], axis=-1)
            b = float(base.reshape(-1)[-1])
            base = np.array([-b, b])
        else:
            values = values[:, :, None]
    if base.ndim > 1:
        base = base.mean(axis=0)
    return values, base


def compute_shap_values(
    model,
    X,
    *,
    feature_names=None,
    explainer: str = "auto",
    background=None,
    n_background: int = 100,
    index: pd.DataFrame | None = None,
    labels=None,
    label_dim: str = "class_label",
    random_state=None,
) -> xr.DataArray:
    """SHAP values of a fitted classifier on a 2-D table, as a labelled DataArray.

    Parameters
    ----------
    model : fitted classifier
        Any scikit-learn classifier (or Pipeline ending in one) with ``predict_proba``.
    X : array-like of shape (n_samples, n_features)
        Rows to explain.
    feature_names : sequence of str, optional
        Column names (default ``x0``, ``x1``, ... or the DataFrame's columns).
    explainer : {"auto", "tree", "permutation", "kernel"}, default "auto"
        ``"auto"`` uses shap's exact TreeExplainer when the model (after per-column preprocessing such as
        scaling or imputation) is a tree ensemble it supports (HistGradientBoosting, random forests, XGBoost,
        LightGBM, CatBoost, ...), else the model-agnostic permutation explainer on ``predict_proba``. ``"kernel"``
        is DeepOF's KernelExplainer (k-means background), kept for comparison; it is much slower.
    background : array-like, optional
        Background rows for the model-agnostic explainers (default: ``X``); ``n_background`` of them are used.
    n_background : int, default 100
        Background size of the model-agnostic explainers.
    index : pandas.DataFrame, optional
        One row per sample; its columns become coordinates along ``window`` (recording, frame, individual, ...).
    labels : array-like, optional
        True label of each row, stored as the ``label`` coordinate.
    label_dim : str, default "class_label"
        Name of the class dim (``"cluster"`` or ``"behavior"`` reads better when known).
    random_state : int or None
        Seed of the background subsample and of the permutation explainer.

    Returns
    -------
    xarray.DataArray
        ``shap_values`` with dims ``(window, feature, <label_dim>)``; coordinates ``feature`` (names),
        ``<label_dim>`` (the model's classes), ``feature_value`` (window, feature: the explained inputs),
        ``base_value`` (per class) and the ``index``/``label`` columns along ``window``. ``attrs["explainer"]`` says
        which explainer ran and ``attrs["output"]`` the unit: ``"log-odds"`` (tree: raw margin of each class,
        summing with ``base_value`` to the model's raw output) or ``"probability"`` (model-agnostic).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.ensemble import HistGradientBoostingClassifier
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(300, 4)); y = (X[:, 2] > 0).astype(int)
    >>> model = HistGradientBoostingClassifier(max_iter=20).fit(X, y)
    >>> sv = compute_shap_values(model, X[:50], feature_names=["a", "b", "c", "d"])
    >>> compute_shap_importance(sv)["feature"].iloc[0], sv.attrs["explainer"]
    ('c', 'tree')
    """
    where = "compute_shap_values"
    if explainer not in ("auto", "tree", "permutation", "kernel"):
        raise ValueError(f"{where}: `explainer`={explainer!r}; choose 'auto', 'tree', 'permutation' or 'kernel'.")
    shap = _import_shap(where)
    if feature_names is None and hasattr(X, "columns"):
        feature_names = [str(c) for c in X.columns]
    values_in = np.asarray(X, dtype=float)
    if values_in.ndim != 2:
        raise ValueError(f"{where}: `X` must be 2-D (samples, features); got shape {values_in.shape}.")
    n, n_feat = values_in.shape
    names = [f"x{i}" for i in range(n_feat)] if feature_names is None else [str(f) for f in feature_names]
    if len(names) != n_feat:
        raise ValueError(f"{where}: {len(names)} feature names for {n_feat} columns.")
    classes = list(getattr(model, "classes_", []))
    rng = check_random_state(random_state)
    kind, output = None, "probability"
    if explainer in ("auto", "tree"):
        found = _tree_explainer(shap, model, values_in)
        if found is None and explainer == "tree":
            raise ValueError(
                f"{where}: explainer='tree' but {type(_final_and_prefix(model)[0]).__name__} (after its "
                "preprocessing) is not a tree model shap's TreeExplainer supports; use explainer='auto'."
            )
        if found is not None:
            tree, Xt = found
            values, base = _as_3d(tree.shap_values(Xt, check_additivity=False), tree.expected_value, len(classes))
            kind, output = "tree", "log-odds"
    if kind is None:
        bg = values_in if background is None else np.asarray(background, dtype=float)
        if len(bg) > n_background:
            bg = bg[rng.choice(len(bg), n_background, replace=False)]
        if explainer == "kernel":
            med = np.nanmedian(bg, axis=0)
            med = np.where(np.isnan(med), 0.0, med)
            bg = np.where(np.isnan(bg), med, bg)
            summary = shap.kmeans(bg, min(len(bg), max(2, len(classes) or 2)))
            ke = shap.KernelExplainer(model.predict_proba, summary)
            values = ke.shap_values(values_in, silent=True)
            values, base = _as_3d(values, ke.expected_value, len(classes))
            kind = "kernel"
        else:
            masker = shap.maskers.Independent(bg, max_samples=len(bg))
            pe = shap.PermutationExplainer(model.predict_proba, masker, seed=int(rng.randint(2**31 - 1)))
            res = pe(values_in, max_evals=max(500, 2 * n_feat + 1), silent=True)
            values, base = _as_3d(res.values, res.base_values, len(classes))
            kind = "permutation"
    if values.shape[2] != len(classes):
        classes = list(range(values.shape[2]))
    coords = {
        "feature": names,
        label_dim: classes,
        "feature_value": ((WINDOW_DIM, "feature"), values_in),
        "base_value": ((label_dim,), np.asarray(base, dtype=float)),
    }
    if index is not None:
        for col in index.columns:
            coords[str(col)] = ((WINDOW_DIM,), index[col].to_numpy())
    if labels is not None:
        coords["label"] = ((WINDOW_DIM,), np.asarray(labels))
    return xr.DataArray(
        values,
        dims=(WINDOW_DIM, "feature", label_dim),
        coords=coords,
        name="shap_values",
        attrs={"explainer": kind, "output": output, "long_name": "SHAP value", "units": output},
    )


def compute_shap_importance(shap_values: xr.DataArray, *, per_class: bool = False, within_class: bool = False):
    """Rank features by their mean absolute SHAP value.

    Parameters
    ----------
    shap_values : xarray.DataArray
        Output of :func:`compute_shap_values` or :meth:`ShapExplainer.explain`.
    per_class : bool, default False
        False: one global ranking (mean over windows of the absolute SHAP values summed over classes). True: one
        column per class (cluster or behaviour).
    within_class : bool, default False
        With ``per_class``: average each class over the windows that carry that label only (what makes members of
        a cluster look like that cluster), instead of over all windows. Needs the ``label`` coordinate.

    Returns
    -------
    pandas.DataFrame
        Global: columns ``feature``, ``importance``, ``rank`` (1 = most important), sorted. Per class: features as
        index, classes as columns.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> sv = xr.DataArray(np.array([[[1.0, -1.0], [0.1, 0.0]]]), dims=("window", "feature", "cluster"),
    ...                   coords={"feature": ["speed", "area"], "cluster": [0, 1]})
    >>> compute_shap_importance(sv)[["feature", "rank"]].values.tolist()
    [['speed', 1], ['area', 2]]
    """
    if not isinstance(shap_values, xr.DataArray) or shap_values.ndim != 3:
        raise TypeError("compute_shap_importance: expected the 3-D DataArray of compute_shap_values / explain().")
    class_dim = shap_values.dims[2]
    mag = np.abs(shap_values)
    if not per_class:
        imp = mag.sum(class_dim).mean(WINDOW_DIM)
        table = pd.DataFrame({"feature": imp["feature"].values, "importance": imp.values})
        table = table.sort_values("importance", ascending=False, kind="stable").reset_index(drop=True)
        table["rank"] = np.arange(1, len(table) + 1)
        return table
    if within_class:
        if "label" not in shap_values.coords:
            raise ValueError("compute_shap_importance: within_class=True needs the `label` coordinate.")
        labels = shap_values["label"].values
        cols = {}
        for c in shap_values[class_dim].values:
            sel = labels == c
            cols[c] = mag.sel({class_dim: c}).values[sel].mean(0) if sel.any() else np.full(mag.sizes["feature"],
                                                                                            np.nan)
        out = pd.DataFrame(cols, index=mag["feature"].values)
    else:
        out = mag.mean(WINDOW_DIM).to_pandas()
    out.index.name = "feature"
    out.columns.name = class_dim
    return out


def _default_surrogate(random_state):
    return HistGradientBoostingClassifier(
        max_iter=100, learning_rate=0.1, max_leaf_nodes=15, min_samples_leaf=20, early_stopping=False,
        random_state=random_state,
    )


def _stratified_subsample(y: np.ndarray, n: int, rng) -> np.ndarray:
    """Up to ``n`` row indices with the classes as balanced as their counts allow, sorted."""
    if len(y) <= n:
        return np.arange(len(y))
    classes = pd.unique(y)
    per = int(np.ceil(n / len(classes)))
    chosen = []
    for c in classes:
        rows = np.flatnonzero(y == c)
        chosen.append(rng.choice(rows, min(per, len(rows)), replace=False))
    chosen = np.concatenate(chosen)
    if len(chosen) > n:
        chosen = rng.choice(chosen, n, replace=False)
    elif len(chosen) < n:
        rest = np.setdiff1d(np.arange(len(y)), chosen)
        chosen = np.concatenate([chosen, rng.choice(rest, n - len(chosen), replace=False)])
    return np.sort(chosen)


class ShapExplainer(BaseEstimator):
    """Explain clusters or behaviours with SHAP values of a surrogate classifier on interpretable window features.

    ``fit`` summarises interpretable features (speeds, distances, angles, areas, rule-based behaviours) over windows
    centred on regularly spaced frames, trains a fast classifier to predict each window's label from them, measures
    how well it does by cross-validation grouped by recording (never in-sample), and refits it on every window.
    :meth:`explain` then gives SHAP values: which features make a window look like each cluster or behaviour.

    Parameters
    ----------
    estimator : classifier, optional
        Surrogate classifier; default a HistGradientBoostingClassifier (100 boosting rounds of 15-leaf trees),
        which handles NaN and gets exact, fast tree SHAP values. For very rare clusters pass one with
        ``class_weight="balanced"`` (slower: scikit-learn then bins the features with weighted percentiles).
    featurizer : "auto", poses transformer or None, default "auto"
        Steps that add feature variables to the recordings before windowing. ``"auto"`` adds
        :func:`make_interpretable_featurizer` features unless the recordings already carry speed, distance, angle
        or area variables (or ``variables`` is given); None uses the recordings as they are.
    variables : str or list of str, optional
        Variables to summarise; default every numeric time variable except position, confidence and velocity
        (annotation variables with a ``behavior`` dim are included: their window mean is the share of the window
        in each behaviour).
    window : int, default 25
        Window length in frames, centred on each sampled frame.
    step : int, optional
        Frames between sampled windows in ``fit`` and :meth:`explain` (default ``window``).
    statistics : tuple of {"mean", "std", "min", "max"}, default ("mean",)
        Statistics of each feature over a window.
    cv : int, cross-validation splitter or None, default 5
        Folds of :class:`~sklearn.model_selection.GroupKFold` over ``groups`` (default: the recording), capped at
        the number of groups; or any group-aware splitter; None skips cross-validation.
    explainer : {"auto", "tree", "permutation", "kernel"}, default "auto"
        See :func:`compute_shap_values`.
    max_samples : int, default 1000
        Windows explained by :meth:`explain` (a class-balanced subsample).
    n_background : int, default 100
        Background size of the model-agnostic explainers.
    n_threads : int, optional
        OpenMP threads of the surrogate's fits and predictions. Default: 1 below 5,000 windows (where the
        per-tree threading overhead of gradient boosting dominates, and badly so on a busy machine), the library
        default above.
    random_state : int, RandomState or None
        Seeds the default surrogate, the subsamples and the permutation explainer.
    verbose : int, default 0
        Log progress (logging level INFO) when > 0.

    Attributes
    ----------
    estimator_ : classifier
        Surrogate fitted on every window.
    featurizer_ : transformer or None
        Fitted featurizer.
    classes_ : ndarray
        Labels, sorted.
    feature_names_ : list of str
        Window feature names (``speed[Nose]``, ``distance[Nose-Tail_base]:std``, ...).
    cv_results_ : pandas.DataFrame or None
        Per fold: ``fold``, ``n_train``, ``n_test``, ``balanced_accuracy``, ``f1_macro``, ``roc_auc_ovr_weighted``
        (NaN when a test fold lacks classes), on held-out recordings.
    cv_score_ : float
        Mean held-out balanced accuracy (NaN without cv).
    confusion_matrix_ : xarray.DataArray or None
        Held-out counts, dims (``true``, ``predicted``).
    per_individual_ : bool
        Whether rows are (window, animal) pairs (per-animal labels, or recordings of one animal each).
    labels_1d_ : bool
        Whether one-animal recordings came with 1-D labels (predictions are then 1-D too).
    keypoints_, individuals_ : ndarray of str
        Schema seen in ``fit``.
    n_windows_ : int
        Number of labelled windows used in ``fit``.
    sample_features_, sample_index_ : ndarray, pandas.DataFrame
        The class-balanced subsample explained by default (features; recording, frame, individual, label).

    Notes
    -----
    Labels are one array per recording, shape ``(time,)`` (one label per frame; the features of every animal sit
    side by side) or ``(time, individual)`` (one row per window and animal); NaN, None or -1 mark an unlabelled
    frame, and windows are labelled by their centre frame. To explain one behaviour of a mask with a ``behavior``
    dim, pass ``mask.sel(behavior="climbing")`` (a binary target); for exclusive behaviours use
    :func:`deepof_sk.stats.behaviors_to_states`. Feature NaNs (missing keypoints) stay NaN: the default surrogate
    handles them natively. DeepOF fits CatBoost with SMOTE and explains it with KernelExplainer; here the tree
    explainer is exact and about 100x faster (see benchmarks/bench_explain.py).

    Examples
    --------
    >>> import numpy as np
    >>> from deepof_sk.datasets import make_synthetic_poses
    >>> recs = [make_synthetic_poses(300, scenario="explore", random_state=i) for i in range(3)]
    >>> labels = [(ds.position.sel(keypoint="Center", space="x", individual="mouse1") > 0).values.astype(int)
    ...           for ds in recs]
    >>> exp = ShapExplainer(cv=3, random_state=0).fit(recs, labels)
    >>> sv = exp.explain()
    >>> sv.dims, sv.sizes["cluster"]
    (('window', 'feature', 'cluster'), 2)
    """

    _parameter_constraints = {
        "estimator": "no_validation",
        "featurizer": "no_validation",
        "variables": [str, list, tuple, None],
        "window": [Interval(Integral, 1, None, closed="left")],
        "step": [Interval(Integral, 1, None, closed="left"), None],
        "statistics": [tuple, list, StrOptions(set(WINDOW_STATISTICS))],
        "cv": [Interval(Integral, 2, None, closed="left"), "cv_object", None],
        "explainer": [StrOptions({"auto", "tree", "permutation", "kernel"})],
        "max_samples": [Interval(Integral, 1, None, closed="left")],
        "n_background": [Interval(Integral, 1, None, closed="left")],
        "n_threads": [Interval(Integral, 1, None, closed="left"), None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(self, *, estimator=None, featurizer="auto", variables=None, window=25, step=None,
                 statistics=("mean",), cv=5, explainer="auto", max_samples=1000, n_background=100,
                 n_threads=None, random_state=None, verbose=0):
        self.estimator = estimator
        self.featurizer = featurizer
        self.variables = variables
        self.window = window
        self.step = step
        self.statistics = statistics
        self.cv = cv
        self.explainer = explainer
        self.max_samples = max_samples
        self.n_background = n_background
        self.n_threads = n_threads
        self.random_state = random_state
        self.verbose = verbose

    # -- helpers -----------------------------------------------------------------------------------------------
    def _threads(self, n_rows: int):
        """Context limiting OpenMP threads (see ``n_threads``)."""
        limit = self.n_threads if self.n_threads is not None else (1 if n_rows < 5000 else None)
        return threadpool_limits(limits=limit, user_api="openmp")

    def _log(self, msg, *args):
        if self.verbose:
            logger.info(msg, *args)

    def _resolve_featurizer(self, recordings):
        if self.featurizer is None:
            return None
        if isinstance(self.featurizer, str):
            if self.featurizer != "auto":
                raise ValueError(
                    f"ShapExplainer: `featurizer`={self.featurizer!r}; give 'auto', None or a poses transformer "
                    "(e.g. make_pipeline(KinematicsExtractor(), DistanceExtractor()))."
                )
            present = set(map(str, recordings[0].data_vars))
            if self.variables is not None or present & _FEATURE_VARIABLES:
                return None
            return make_interpretable_featurizer(list(map(str, recordings[0][S.KEYPOINT].values)))
        if not (hasattr(self.featurizer, "fit") and hasattr(self.featurizer, "transform")):
            raise TypeError(
                f"ShapExplainer: `featurizer` must be 'auto', None or a transformer with fit/transform; got "
                f"{type(self.featurizer).__name__}."
            )
        return clone(self.featurizer)

    def _features(self, recordings):
        return recordings if self.featurizer_ is None else self.featurizer_.transform(recordings)

    def _windows(self, recordings, labels, step):
        return aggregate_windows(
            recordings, labels, variables=self.variables, window=self.window, step=step,
            statistics=self.statistics, per_individual=self.per_individual_,
        )

    def _check_labels(self, y, recordings, where):
        if y is not None and not isinstance(y, (xr.DataArray, np.ndarray)):
            try:
                bad = any(isinstance(v, xr.DataArray) and S.BEHAVIOR in v.dims for v in y)
            except TypeError:
                bad = False
            if bad:
                raise ValueError(
                    f"{where}: the labels have a `behavior` dim (possibly overlapping behaviours). Explain one "
                    "behaviour at a time (labels=[m.sel(behavior='climbing') for m in masks]) or convert to "
                    "exclusive states with deepof_sk.stats.behaviors_to_states."
                )
        ys = check_frame_targets(y, recordings, where=where)
        if all(ds.sizes[S.INDIVIDUAL] == 1 for ds in recordings):
            # one animal per recording: rows per animal, so the features do not carry the animal's name and
            # recordings whose single animal is named differently (SLEAP track_0, DLC individual_0) line up
            return [y_i if y_i.ndim == 2 else y_i[:, None] for y_i in ys], all(y_i.ndim == 1 for y_i in ys)
        return [y_i[:, 0] if y_i.ndim == 2 and y_i.shape[1] == 1 else y_i for y_i in ys], False

    # -- fit -----------------------------------------------------------------------------------------------------
    def fit(self, X, y, groups=None):
        """Window the recordings, cross-validate the surrogate by recording and fit it on every window.

        Parameters
        ----------
        X : xarray.Dataset or sequence of xarray.Dataset
            Recordings (poses schema), with or without feature variables (see ``featurizer``).
        y : sequence of array-like
            Per-frame labels, one array per recording (see Notes of the class).
        groups : sequence, optional
            One group per recording (e.g. the animal) for the grouped cross-validation; default the recording.

        Returns
        -------
        self
        """
        self._validate_params()
        where = type(self).__name__
        recordings, _ = check_recordings(X, where=where)
        ys, self.labels_1d_ = self._check_labels(y, recordings, where)
        self.keypoints_ = np.asarray([str(k) for k in recordings[0][S.KEYPOINT].values], dtype=object)
        self.individuals_ = np.asarray([str(i) for i in recordings[0][S.INDIVIDUAL].values], dtype=object)
        self.per_individual_ = any(y_i.ndim == 2 for y_i in ys)
        if self.per_individual_:
            ys = [y_i if y_i.ndim == 2 else np.repeat(y_i[:, None], ds.sizes[S.INDIVIDUAL], axis=1)
                  for y_i, ds in zip(ys, recordings, strict=True)]
        rng = check_random_state(self.random_state)
        featurizer = self._resolve_featurizer(recordings)
        self.featurizer_ = None if featurizer is None else featurizer.fit(recordings)
        self._log("%s: computing window features of %d recordings", where, len(recordings))
        Xw, yw, index, names = self._windows(self._features(recordings), ys, self.step)
        if len(yw) == 0:
            raise ValueError(f"{where}: no labelled window; check that the labels are not all NaN.")
        was_bool = np.asarray(yw).dtype.kind == "b"
        yw = _plain_labels(yw)
        self.feature_names_ = names
        self.n_windows_ = len(yw)
        self.classes_ = np.unique(yw)
        self.label_dim_ = S.CLUSTER if np.asarray(yw).dtype.kind in "iu" and not was_bool else S.BEHAVIOR
        seed = rng.randint(np.iinfo(np.int32).max)
        est = _default_surrogate(seed) if self.estimator is None else clone(self.estimator)
        if groups is not None:
            groups = np.asarray(list(groups))
            if len(groups) != len(recordings):
                raise ValueError(f"{where}: `groups` has {len(groups)} entries for {len(recordings)} recordings.")
            row_groups = groups[index["recording"].to_numpy()]
        else:
            row_groups = index["recording"].to_numpy()
        self.cv_results_, self.confusion_matrix_ = None, None
        self.cv_score_ = np.nan
        with self._threads(len(yw)):
            if self.cv is not None:
                self._cross_validate(est, Xw, yw, row_groups, where)
            self._log("%s: fitting the surrogate on %d windows x %d features", where, *Xw.shape)
            self.estimator_ = clone(est).fit(Xw, yw)
        keep = _stratified_subsample(yw, self.max_samples, rng)
        self.sample_features_ = Xw[keep]
        self.sample_index_ = index.iloc[keep].reset_index(drop=True).assign(label=yw[keep])
        bg = rng.choice(len(yw), min(self.n_background, len(yw)), replace=False)
        self.background_ = Xw[np.sort(bg)]
        self._seed = seed
        return self

    def _cross_validate(self, est, X, y, groups, where):
        n_groups = len(np.unique(groups))
        if isinstance(self.cv, Integral):
            if n_groups < 2:
                raise ValueError(
                    f"{where}: cross-validation by recording needs at least 2 recordings (or groups); got "
                    f"{n_groups}. Pass more recordings, or cv=None to skip the performance estimate."
                )
            splitter = GroupKFold(n_splits=min(int(self.cv), n_groups))
        else:
            splitter = self.cv
        rows = []
        oof = np.empty(len(y), dtype=object)
        seen = np.zeros(len(y), bool)
        for fold, (train, test) in enumerate(splitter.split(X, y, groups)):
            model = clone(est).fit(X[train], y[train])
            pred = model.predict(X[test])
            oof[test], seen[test] = pred, True
            auc = _held_out_auc(model, X[test], y[test])
            with warnings.catch_warnings():  # a held-out recording may show a single label
                warnings.filterwarnings("ignore", category=UndefinedMetricWarning)
                warnings.filterwarnings("ignore", message=".*single label", category=UserWarning)
                warnings.filterwarnings("ignore", message=".*y_pred contains classes not in y_true")
                rows.append({
                    "fold": fold,
                    "n_train": len(train),
                    "n_test": len(test),
                    "balanced_accuracy": balanced_accuracy_score(y[test], pred),
                    "f1_macro": f1_score(y[test], pred, average="macro", labels=self.classes_, zero_division=0),
                    "roc_auc_ovr_weighted": auc,
                })
            self._log("%s: fold %d balanced accuracy %.3f", where, fold, rows[-1]["balanced_accuracy"])
        self.cv_results_ = pd.DataFrame(rows)
        self.cv_score_ = float(self.cv_results_["balanced_accuracy"].mean())
        classes = list(self.classes_)
        lookup = {c: i for i, c in enumerate(classes)}
        counts = np.zeros((len(classes), len(classes)), dtype=np.int64)
        for t, p in zip(y[seen], oof[seen], strict=True):
            counts[lookup[t], lookup[p]] += 1
        self.confusion_matrix_ = xr.DataArray(
            counts, dims=("true", "predicted"), coords={"true": classes, "predicted": classes},
            name="held_out_count", attrs={"long_name": "held-out windows (grouped cross-validation)"},
        )

    # -- use -----------------------------------------------------------------------------------------------------
    def _frame_rows(self, X, method):
        check_is_fitted(self)
        where = type(self).__name__
        recordings, single = check_recordings(X, where=where, keypoints=list(self.keypoints_))
        feats = self._features(recordings)
        out = []
        for ds in feats:
            Xw, _, index, names = self._windows([ds], None, 1)
            if names != self.feature_names_:
                missing = sorted(set(self.feature_names_) - set(names))
                raise ValueError(f"{where}: the recording lacks features seen in fit: {missing[:10]}.")
            with self._threads(self.n_windows_):
                values = getattr(self.estimator_, method)(Xw)
            n_t = ds.sizes[S.TIME]
            if self.per_individual_:
                values = values.reshape(n_t, ds.sizes[S.INDIVIDUAL], *values.shape[1:])
                if getattr(self, "labels_1d_", False) and ds.sizes[S.INDIVIDUAL] == 1:
                    values = values[:, 0]  # one animal, 1-D labels in fit: 1-D predictions
            out.append(values)
        return return_like(out, single)

    def predict(self, X):
        """Surrogate label of every frame (its centred window).

        Parameters
        ----------
        X : xarray.Dataset or sequence of xarray.Dataset
            Recordings.

        Returns
        -------
        ndarray or list of ndarray
            Shape ``(time,)`` (or ``(time, individual)`` for per-animal labels); the same kind as ``X``.
        """
        return self._frame_rows(X, "predict")

    def predict_proba(self, X):
        """Surrogate class probabilities of every frame, shape ``(time, [individual,] n_classes)``."""
        return self._frame_rows(X, "predict_proba")

    def explain(self, X=None, y=None):
        """SHAP values of the surrogate.

        Parameters
        ----------
        X : xarray.Dataset or sequence of xarray.Dataset, optional
            Recordings to explain; default the class-balanced subsample of the training windows.
        y : sequence of array-like, optional
            Their per-frame labels (windows are sampled every ``step`` frames and subsampled to ``max_samples``
            balanced over labels); without it every sampled window is explained, up to ``max_samples``.

        Returns
        -------
        xarray.DataArray
            Dims ``(window, feature, cluster)`` (``behavior`` for non-integer labels); see
            :func:`compute_shap_values`. Coordinates along ``window``: ``recording``, ``frame``, ``individual``,
            ``label``.
        """
        check_is_fitted(self)
        rng = np.random.RandomState(self._seed)
        if X is None:
            Xw, index = self.sample_features_, self.sample_index_
        else:
            where = f"{type(self).__name__}.explain"
            recordings, _ = check_recordings(X, where=where, keypoints=list(self.keypoints_))
            ys = None
            if y is not None:
                ys, _ = self._check_labels(y, recordings, where)
                if self.per_individual_:
                    ys = [y_i if y_i.ndim == 2 else np.repeat(y_i[:, None], ds.sizes[S.INDIVIDUAL], axis=1)
                          for y_i, ds in zip(ys, recordings, strict=True)]
            Xw, yw, index, names = self._windows(self._features(recordings), ys, self.step)
            if names != self.feature_names_:
                raise ValueError(f"{where}: the recordings give other features than in fit.")
            if yw is not None:
                yw = _plain_labels(yw)
                keep = _stratified_subsample(yw, self.max_samples, rng)
                index = index.assign(label=yw)
            else:
                keep = np.sort(rng.choice(len(Xw), min(self.max_samples, len(Xw)), replace=False))
            Xw, index = Xw[keep], index.iloc[keep].reset_index(drop=True)
        labels = index["label"].to_numpy() if "label" in index else None
        self._log("%s: explaining %d windows", type(self).__name__, len(Xw))
        return compute_shap_values(
            self.estimator_, Xw, feature_names=self.feature_names_, explainer=self.explainer,
            background=self.background_, n_background=self.n_background,
            index=index.drop(columns=["label"], errors="ignore"), labels=labels, label_dim=self.label_dim_,
            random_state=self._seed,
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.target_tags.required = True
        tags.requires_fit = True
        return tags


def _held_out_auc(model, X: np.ndarray, y: np.ndarray) -> float:
    """Weighted one-vs-rest ROC AUC on a held-out fold; NaN when the fold has one class or unseen classes."""
    if len(np.unique(y)) < 2 or not set(np.unique(y)) <= set(model.classes_):
        return np.nan
    proba = model.predict_proba(X)
    with warnings.catch_warnings():  # classes absent from this fold have no AUC of their own
        warnings.filterwarnings("ignore", category=UndefinedMetricWarning)
        try:
            if len(model.classes_) == 2:
                return float(roc_auc_score(y == model.classes_[1], proba[:, 1]))
            return float(roc_auc_score(y, proba, multi_class="ovr", average="weighted", labels=model.classes_))
        except ValueError:
            return np.nan


def _plain_labels(y: np.ndarray) -> np.ndarray:
    """Integer-valued float labels (clusters with NaN gaps) back to int; anything else unchanged."""
    y = np.asarray(y)
    if y.dtype.kind == "f" and np.all(np.equal(np.mod(y, 1), 0)):
        return y.astype(np.int64)
    if y.dtype.kind == "b":
        return y.astype(np.int64)
    if y.dtype == object:
        try:
            as_float = y.astype(float)
        except (TypeError, ValueError):
            return y.astype(str)
        if np.all(np.mod(as_float, 1) == 0):
            return as_float.astype(np.int64)
    return y
