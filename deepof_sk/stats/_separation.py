"""How well the behaviour of an animal predicts its condition, measured by cross-validation (never in-sample)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score, roc_auc_score
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils import check_random_state
from threadpoolctl import threadpool_limits

from ._labels import BEHAVIOR_COLUMN, INDIVIDUAL_COLUMN, RECORDING_ID

__all__ = ["compute_separation"]


def _wide(table: pd.DataFrame, condition: str, value: str, features, where: str):
    """(X, y, groups, feature names) with one row per animal."""
    if features is None:
        if BEHAVIOR_COLUMN not in table.columns:
            raise ValueError(
                f"{where}: the table has no {BEHAVIOR_COLUMN!r} column; give `features=` (the columns to use) for a "
                "wide table."
            )
        keys = [c for c in (RECORDING_ID, INDIVIDUAL_COLUMN) if c in table.columns]
        if not keys:
            raise ValueError(f"{where}: a long table needs a {RECORDING_ID!r} column to identify animals.")
        wide = table.pivot_table(index=keys + [condition], columns=BEHAVIOR_COLUMN, values=value, aggfunc="mean",
                                 dropna=False, observed=True)
        wide = wide.dropna(how="all")
        names = [f"{value}[{c}]" for c in wide.columns]
        idx = wide.index.to_frame(index=False)
        X = wide.to_numpy(dtype=float)
        y = idx[condition].to_numpy()
        groups = idx[RECORDING_ID].astype(str).to_numpy() if RECORDING_ID in idx else np.arange(len(y))
        return X, y, groups, names
    features = list(features)
    missing = sorted(set(features) - set(table.columns))
    if missing:
        raise ValueError(f"{where}: `features` names columns {missing} that the table lacks.")
    data = table.dropna(subset=[condition])
    groups = data[RECORDING_ID].astype(str).to_numpy() if RECORDING_ID in data else np.arange(len(data))
    return data[features].to_numpy(dtype=float), data[condition].to_numpy(), groups, features


def _oof_scores(est, X, y, groups, n_splits, random_state):
    """Out-of-fold decision scores (binary) or predictions (multi-class), animals of one recording kept together."""
    classes = np.unique(y)
    if len(np.unique(groups)) < len(groups):
        cv = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=random_state)
        splits = cv.split(X, y, groups)
    else:
        cv = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=random_state)
        splits = cv.split(X, y)
    binary = len(classes) == 2
    out = np.full(len(y), np.nan) if binary else np.empty(len(y), dtype=y.dtype)
    for train, test in splits:
        model = clone(est).fit(X[train], y[train])
        if binary:
            if hasattr(model, "decision_function"):
                s = model.decision_function(X[test])
            else:
                s = model.predict_proba(X[test])[:, 1]
            pos = list(model.classes_).index(classes[1]) if len(model.classes_) == 2 else None
            out[test] = s if pos in (1, None) else -s
        else:
            out[test] = model.predict(X[test])
    return out


def _score(y, oof, classes):
    if len(classes) == 2:
        return roc_auc_score(y == classes[1], oof)
    return balanced_accuracy_score(y, oof)


def compute_separation(
    table: pd.DataFrame,
    *,
    condition: str,
    value: str = "fraction",
    features: Sequence[str] | None = None,
    by: str | None = None,
    estimator=None,
    cv: int = 5,
    n_permutations: int = 100,
    random_state=None,
) -> pd.DataFrame:
    """Cross-validated separation between conditions from per-animal behaviour profiles.

    Each animal (row) is described by a vector (by default the share of time in every behaviour); a classifier
    learns the condition on the training folds and scores the held-out animals. The held-out scores of every fold
    are pooled into one ROC AUC (two conditions) or balanced accuracy (more), and a permutation test (refitting on
    shuffled conditions) gives its p-value.

    Parameters
    ----------
    table : pandas.DataFrame
        A long table from :func:`compute_occupancy` (pivoted to one row per animal, one column per behaviour), or a
        wide table with one row per animal when ``features`` names its columns.
    condition : str
        Column of the condition to predict.
    value : str, default "fraction"
        Measure of a long table that makes the profile.
    features : sequence of str, optional
        Columns of a wide table to use as the profile.
    by : str, optional
        Column to scan, one separation per value: ``"bin"`` for one per time bin (use
        ``compute_occupancy(..., cumulative=True)`` for a growing window).
    estimator : classifier, optional
        Default: standard scaling then an L2-regularised logistic regression.
    cv : int, default 5
        Number of folds, lowered to the size of the smallest condition. Animals of one recording stay in one fold.
    n_permutations : int, default 100
        Permutations for the p-value (0 skips it).
    random_state : int or None
        Seed of the fold shuffling and of the permutations.

    Returns
    -------
    pandas.DataFrame
        One row per ``by`` value (or one row): [``by``,] ``metric`` ("roc_auc" or "balanced_accuracy"),
        ``score``, ``chance`` (0.5 or 1 / n_conditions), ``p_value`` (NaN without permutations), ``n_samples``,
        ``n_splits``, ``condition``.

    Notes
    -----
    DeepOF reports the in-sample AUC of an unregularised logistic regression, which is optimistic (with few
    animals and many behaviours it approaches 1 even without any effect); this function never scores an animal
    the model was trained on. NaN features are replaced by the training-fold mean of their column.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> x = np.r_[rng.normal(0, 1, 10), rng.normal(3, 1, 10)]
    >>> wide = pd.DataFrame({"group": ["a"] * 10 + ["b"] * 10, "x": x})
    >>> res = compute_separation(wide, condition="group", features=["x"], n_permutations=20, random_state=0)
    >>> res["score"].item() > 0.9
    True
    """
    where = "compute_separation"
    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"{where}: `table` must be a pandas DataFrame; got {type(table).__name__}.")
    if condition not in table.columns:
        raise ValueError(f"{where}: the table has no column {condition!r}.")
    if by is not None and by not in table.columns:
        raise ValueError(f"{where}: `by`={by!r} is not a column of the table.")
    if estimator is None:
        from sklearn.impute import SimpleImputer

        estimator = make_pipeline(SimpleImputer(), StandardScaler(), LogisticRegression(C=1.0, max_iter=1000))
    rng = check_random_state(random_state)
    parts = [(None, table)] if by is None else list(table.groupby(by, sort=True))
    rows = []
    # one row per animal: tiny problems, where BLAS/OpenMP threads only add overhead
    with threadpool_limits(limits=1):
        for key, sub in parts:
            rows.append(_separate(sub, key, by, condition, value, features, estimator, cv, n_permutations, rng,
                                  where))
    return pd.DataFrame(rows)


def _separate(sub, key, by, condition, value, features, estimator, cv, n_permutations, rng, where) -> dict:
    X, y, groups, _ = _wide(sub, condition, value, features, where)
    keep = pd.notna(y)
    X, y, groups = X[keep], y[keep], groups[keep]
    classes, counts = np.unique(y, return_counts=True)
    if len(classes) < 2:
        raise ValueError(f"{where}: {condition!r} has one condition only ({classes.tolist()}).")
    n_splits = int(min(cv, counts.min()))
    if n_splits < 2:
        raise ValueError(
            f"{where}: condition {classes[counts.argmin()]!r} has {counts.min()} animal(s); cross-validation needs "
            "at least 2 per condition."
        )
    seed = rng.randint(np.iinfo(np.int32).max)
    score = _score(y, _oof_scores(estimator, X, y, groups, n_splits, seed), classes)
    p_value = np.nan
    if n_permutations:
        null = []
        for _ in range(int(n_permutations)):
            perm = _permute_by_group(y, groups, rng)
            null.append(_score(perm, _oof_scores(estimator, X, perm, groups, n_splits, seed), classes))
        p_value = (1 + np.sum(np.asarray(null) >= score)) / (1 + len(null))
    row = {} if by is None else {by: key}
    row.update({
        "metric": "roc_auc" if len(classes) == 2 else "balanced_accuracy",
        "score": float(score),
        "chance": 0.5 if len(classes) == 2 else 1.0 / len(classes),
        "p_value": float(p_value),
        "n_samples": int(len(y)),
        "n_splits": n_splits,
        "condition": condition,
    })
    return row


def _permute_by_group(y: np.ndarray, groups: np.ndarray, rng) -> np.ndarray:
    """Shuffle conditions between recordings, so animals of one recording keep sharing a condition draw.

    When the animals of a recording have different conditions (a per-animal design), animals are shuffled instead.
    """
    uniq, inverse = np.unique(groups, return_inverse=True)
    per_group = [np.unique(y[inverse == g]) for g in range(len(uniq))]
    if len(uniq) == len(y) or any(len(v) > 1 for v in per_group):
        return y[rng.permutation(len(y))]
    return np.array([v[0] for v in per_group])[rng.permutation(len(uniq))][inverse]
