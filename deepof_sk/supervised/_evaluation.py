"""Evaluation of frame classifiers: bout-level F1, per-behaviour reports over grouped folds, learning curves.

Frame scores say how many frames are right; bout scores say whether the *events* were found: a true bout counts
as detected when one predicted bout overlaps it with an intersection-over-union of at least ``iou`` (one-to-one,
best overlaps first). Both are reported per behaviour by :func:`behavior_report`, per held-out group (recording,
animal, block of time) by :func:`cross_validate_report`, and are usable as ``scoring=`` in ``GridSearchCV``
through :func:`make_bout_scorer` and :func:`frame_scoring`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import xarray as xr
from joblib import Parallel, delayed
from sklearn.base import clone
from sklearn.metrics import f1_score, precision_score, recall_score
from sklearn.model_selection import LeaveOneGroupOut, check_cv, learning_curve

from .. import schema as S
from ..metrics import make_frame_scorer
from ..validation import check_recordings

__all__ = [
    "bout_scores",
    "bout_f1_score",
    "make_bout_scorer",
    "frame_scoring",
    "behavior_report",
    "cross_validate_report",
    "split_in_time",
    "frame_learning_curve",
]


# -- bouts -----------------------------------------------------------------------------------------------------
def _bouts(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and stop (exclusive) frames of the True runs of a 1-D boolean array."""
    d = np.diff(np.r_[0, mask.astype(np.int8), 0])
    return np.flatnonzero(d == 1), np.flatnonzero(d == -1)


def _match(ts, te, ps, pe, iou: float) -> int:
    """Number of one-to-one matches between true and predicted bouts with IoU >= iou (greedy, best first)."""
    if ts.size == 0 or ps.size == 0:
        return 0
    pairs = []
    for i in range(ts.size):
        lo = np.searchsorted(pe, ts[i], side="right")  # predicted bouts ending after the true start
        hi = np.searchsorted(ps, te[i], side="left")  # ... and starting before the true stop
        for j in range(lo, hi):
            inter = min(te[i], pe[j]) - max(ts[i], ps[j])
            if inter > 0:
                union = max(te[i], pe[j]) - min(ts[i], ps[j])
                score = inter / union
                if score >= iou:
                    pairs.append((score, i, j))
    pairs.sort(reverse=True)
    used_t, used_p, n = set(), set(), 0
    for _, i, j in pairs:
        if i not in used_t and j not in used_p:
            used_t.add(i)
            used_p.add(j)
            n += 1
    return n


def _columns(y_true, y_pred, pos_label) -> list[tuple[np.ndarray, np.ndarray]]:
    """(truth, prediction) boolean 1-D series: one per recording and per animal column."""
    single = not isinstance(y_true, (list, tuple))
    trues = [y_true] if single else list(y_true)
    preds = [y_pred] if single else list(y_pred)
    if len(trues) != len(preds):
        raise ValueError(f"bout_scores: {len(trues)} label arrays but {len(preds)} prediction arrays.")
    out = []
    for i, (t, p) in enumerate(zip(trues, preds, strict=True)):
        t, p = np.asarray(t), np.asarray(p)
        if t.ndim < p.ndim:
            t = np.broadcast_to(t.reshape(t.shape + (1,) * (p.ndim - t.ndim)), p.shape)
        if t.shape != p.shape:
            raise ValueError(f"bout_scores: recording #{i}: labels {t.shape} and predictions {p.shape} differ.")
        t2, p2 = t.reshape(t.shape[0], -1), p.reshape(p.shape[0], -1)
        for j in range(t2.shape[1]):
            tc, pc = t2[:, j], p2[:, j]
            missing = pd.isna(tc) if tc.dtype == object or tc.dtype.kind in "fc" else np.zeros(tc.shape, bool)
            out.append((~missing & (tc == pos_label), pc == pos_label))
    return out


def bout_scores(y_true, y_pred, *, iou: float = 0.5, pos_label=1) -> dict:
    """Bout-level precision, recall and F1 of one behaviour.

    Parameters
    ----------
    y_true, y_pred : array-like or sequence of array-like
        Per-frame labels, time along axis 0: one array or one per recording (further axes, e.g. animals, are
        separate series). Bouts are runs of ``pos_label``; unlabelled truth frames (NaN) count as outside bouts.
    iou : float, default 0.5
        Minimum intersection over union for a predicted bout to detect a true bout (matching is one-to-one).
    pos_label : default 1
        The label of the behaviour.

    Returns
    -------
    dict
        ``precision``, ``recall``, ``f1`` (0 when undefined), ``n_true``, ``n_pred``, ``n_matched``.

    Examples
    --------
    >>> t = np.array([0, 1, 1, 1, 0, 0, 1, 1, 0])
    >>> p = np.array([0, 1, 1, 0, 0, 0, 0, 0, 1])
    >>> bout_scores(t, p)["f1"]
    0.5
    """
    n_true = n_pred = n_match = 0
    for t, p in _columns(y_true, y_pred, pos_label):
        ts, te = _bouts(t)
        ps, pe = _bouts(p)
        n_true += ts.size
        n_pred += ps.size
        n_match += _match(ts, te, ps, pe, iou)
    precision = n_match / n_pred if n_pred else 0.0
    recall = n_match / n_true if n_true else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "n_true": n_true, "n_pred": n_pred,
            "n_matched": n_match}


def bout_f1_score(y_true, y_pred, *, iou: float = 0.5, pos_label=1) -> float:
    """Bout-level F1 (see :func:`bout_scores`)."""
    return bout_scores(y_true, y_pred, iou=iou, pos_label=pos_label)["f1"]


class _BoutScorer:
    def __init__(self, iou, pos_label):
        self.iou = iou
        self.pos_label = pos_label

    def __call__(self, estimator, X, y):
        pred = estimator.predict(X)
        if isinstance(X, xr.Dataset):
            y, pred = [y], [pred]
        return bout_f1_score(list(y), list(pred), iou=self.iou, pos_label=self.pos_label)

    def __repr__(self):
        return f"make_bout_scorer(iou={self.iou}, pos_label={self.pos_label!r})"


def make_bout_scorer(*, iou: float = 0.5, pos_label=1):
    """Scorer ``scorer(estimator, X, y)`` giving the bout-level F1 over all test recordings (for ``scoring=``).

    Examples
    --------
    >>> scorer = make_bout_scorer(iou=0.3)
    """
    return _BoutScorer(iou, pos_label)


def frame_scoring(*, pos_label=1, iou: float = 0.5) -> dict:
    """Frame precision, recall, F1 and bout F1 of one behaviour, as a ``scoring=`` dict for GridSearchCV.

    Use with ``refit="f1"`` (or ``"bout_f1"``) in ``GridSearchCV``, or in ``cross_validate``.
    """
    return {
        "precision": make_frame_scorer(precision_score, pos_label=pos_label, zero_division=0),
        "recall": make_frame_scorer(recall_score, pos_label=pos_label, zero_division=0),
        "f1": make_frame_scorer(f1_score, pos_label=pos_label, zero_division=0),
        "bout_f1": make_bout_scorer(iou=iou, pos_label=pos_label),
    }


# -- reports ---------------------------------------------------------------------------------------------------
def _as_truth(item, behaviors):
    """A truth item as an array; DataFrames / behaviour DataArrays are reordered to ``behaviors``."""
    if isinstance(item, pd.DataFrame):
        cols = [str(c) for c in item.columns]
        return item.to_numpy(dtype=float)[:, [cols.index(b) for b in behaviors]] if behaviors else item.to_numpy()
    if isinstance(item, xr.DataArray):
        if S.BEHAVIOR in item.dims and behaviors:
            item = item.sel({S.BEHAVIOR: list(behaviors)}).transpose(S.TIME, ..., S.BEHAVIOR)
        elif S.TIME in item.dims:
            item = item.transpose(S.TIME, ...)
        return item.values
    return np.asarray(item)


def behavior_report(y_true, y_pred, *, behaviors: Sequence[str] | None = None, labels=None,
                    iou: float = 0.5) -> pd.DataFrame:
    """Per-behaviour frame precision, recall, F1 and bout-level F1.

    Parameters
    ----------
    y_true, y_pred : array-like or sequence of array-like
        Per-frame labels and predictions (one array per recording). Truth may have fewer trailing axes than the
        predictions (one label per frame broadcast to every animal).
    behaviors : list of str, optional
        Several behaviours: the last axis of each array holds one 0/1 column per behaviour (truth may be a
        DataFrame with these columns). Without it the arrays hold one target.
    labels : list, optional
        One target: the classes to report (default every class of the truth; for 0/1 labels only class 1).
    iou : float, default 0.5
        Bout matching threshold (see :func:`bout_scores`).

    Returns
    -------
    pandas.DataFrame
        One row per behaviour: ``precision``, ``recall``, ``f1``, ``bout_precision``, ``bout_recall``,
        ``bout_f1``, ``support`` (true frames), ``n_true_bouts``, ``n_pred_bouts``.
    """
    single = not isinstance(y_true, (list, tuple))
    trues = [y_true] if single else list(y_true)
    preds = [y_pred] if single else list(y_pred)
    trues = [_as_truth(t, behaviors) for t in trues]
    preds = [np.asarray(p) for p in preds]
    if behaviors is not None:
        series = {b: ([t[..., k] for t in trues], [p[..., k] for p in preds]) for k, b in enumerate(behaviors)}
        pos = {b: 1 for b in behaviors}
    else:
        flat = np.concatenate([np.asarray(t).reshape(-1) for t in trues])
        flat = flat[~pd.isna(flat)] if flat.dtype == object or flat.dtype.kind in "fc" else flat
        if labels is None:
            classes = np.unique(flat)
            labels = [1] if set(classes.tolist()) <= {0, 1} else classes.tolist()
        series = {lab: (trues, preds) for lab in labels}
        pos = {lab: lab for lab in labels}
    rows = []
    for name, (ts, ps) in series.items():
        pairs = _columns(ts, ps, pos[name])
        t = np.concatenate([a for a, _ in pairs])
        p = np.concatenate([b for _, b in pairs])
        keep = np.concatenate(_labelled_masks(ts, ps))  # frames whose truth is unlabelled are not scored
        t, p = t[keep], p[keep]
        bouts = bout_scores(ts, ps, iou=iou, pos_label=pos[name])
        rows.append({
            "behavior": name,
            "precision": precision_score(t, p, zero_division=0),
            "recall": recall_score(t, p, zero_division=0),
            "f1": f1_score(t, p, zero_division=0),
            "bout_precision": bouts["precision"],
            "bout_recall": bouts["recall"],
            "bout_f1": bouts["f1"],
            "support": int(t.sum()),
            "n_true_bouts": bouts["n_true"],
            "n_pred_bouts": bouts["n_pred"],
        })
    return pd.DataFrame(rows).set_index("behavior")


def _unlabelled(x) -> np.ndarray:
    x = np.asarray(x)
    return pd.isna(x) if x.dtype == object or x.dtype.kind in "fc" else np.zeros(x.shape, bool)


def _labelled_masks(trues, preds) -> list[np.ndarray]:
    out = []
    for t, p in zip(trues, preds, strict=True):
        t, p = np.asarray(t), np.asarray(p)
        miss = _unlabelled(t)
        if t.ndim < p.ndim:
            miss = np.broadcast_to(miss.reshape(miss.shape + (1,) * (p.ndim - t.ndim)), p.shape)
        miss = miss.reshape(miss.shape[0], -1)
        out.extend(~miss[:, j] for j in range(miss.shape[1]))
    return out


def _fold(estimator, X, y, train, test, behaviors, iou, groups):
    est = clone(estimator).fit([X[i] for i in train], [y[i] for i in train])
    pred = est.predict([X[i] for i in test])
    names = getattr(est, "behaviors_", None) or behaviors
    report = behavior_report([y[i] for i in test], pred, behaviors=names, iou=iou)
    held = sorted({groups[i] for i in test}) if groups is not None else list(test)
    return report, pred, held, names


def cross_validate_report(estimator, X, y, *, groups=None, cv=None, behaviors=None, iou: float = 0.5,
                          n_jobs=None) -> pd.DataFrame:
    """Per-fold and pooled per-behaviour reports over grouped folds (leave-one-recording-out by default).

    Parameters
    ----------
    estimator : frame classifier
        E.g. :class:`FrameClassifier` or a Pipeline ending in one; cloned for every fold.
    X : sequence of xarray.Dataset
        Recordings.
    y : sequence
        Per-frame labels, one item per recording.
    groups : array-like, optional
        Group of each recording (animal, recording, block of time); default each recording its own group.
    cv : cross-validation splitter or int, optional
        Default :class:`~sklearn.model_selection.LeaveOneGroupOut`; use ``GroupKFold(n)`` for fewer folds.
    behaviors : list of str, optional
        Behaviour names for multi-behaviour labels (default the fitted estimator's ``behaviors_``).
    iou : float, default 0.5
        Bout matching threshold.
    n_jobs : int, optional
        Folds run in parallel with joblib.

    Returns
    -------
    pandas.DataFrame
        Columns ``fold`` (int, or ``"pooled"`` for all held-out predictions scored together), ``held_out``
        (groups), ``behavior`` and the metrics of :func:`behavior_report`.
    """
    recordings, _ = check_recordings(X, where="cross_validate_report")
    y = list(y)
    if len(y) != len(recordings):
        raise ValueError(f"cross_validate_report: {len(y)} label items for {len(recordings)} recordings.")
    groups_arr = np.arange(len(recordings)) if groups is None else np.asarray(groups)
    splitter = LeaveOneGroupOut() if cv is None else check_cv(cv)
    splits = list(splitter.split(np.zeros(len(recordings)), None, groups_arr))
    results = Parallel(n_jobs=n_jobs)(
        delayed(_fold)(estimator, recordings, y, train, test, behaviors, iou, groups_arr) for train, test in splits
    )
    frames, all_true, all_pred = [], [], []
    names = None
    for k, ((report, pred, held, nm), (_, test)) in enumerate(zip(results, splits, strict=True)):
        names = nm
        rep = report.reset_index()
        rep.insert(0, "held_out", [held] * len(rep))
        rep.insert(0, "fold", k)
        frames.append(rep)
        all_true += [y[i] for i in test]
        all_pred += list(pred)
    pooled = behavior_report(all_true, all_pred, behaviors=names, iou=iou).reset_index()
    pooled.insert(0, "held_out", [sorted(set(groups_arr.tolist()))] * len(pooled))
    pooled.insert(0, "fold", "pooled")
    return pd.concat(frames + [pooled], ignore_index=True)


def split_in_time(recordings, labels=None, *, n_blocks: int = 5):
    """Cut every recording into ``n_blocks`` contiguous blocks, for cross-validation blocked in time.

    Leave-one-block-out on the blocks tests on stretches of time the model never saw, so no shuffled-frame
    leakage between neighbouring (nearly identical) frames inflates the score. Context features are computed
    within each block.

    Parameters
    ----------
    recordings : xarray.Dataset or sequence of xarray.Dataset
        Recordings.
    labels : sequence of array-like, optional
        Per-frame labels (time along axis 0), cut the same way.
    n_blocks : int, default 5
        Blocks per recording (of equal length, up to one frame).

    Returns
    -------
    blocks : list of xarray.Dataset
    block_labels : list of ndarray (only when ``labels`` is given)
    groups : ndarray of int
        Block number of each block (0 .. n_blocks-1 within each recording, so ``GroupKFold`` over ``groups``
        holds out the same stretch of every recording).
    """
    recs, _ = check_recordings(recordings, where="split_in_time")
    if int(n_blocks) < 2:
        raise ValueError(f"split_in_time: `n_blocks` must be at least 2; got {n_blocks}.")
    if labels is not None:
        labels = list(labels)
        if len(labels) != len(recs):
            raise ValueError(f"split_in_time: {len(labels)} label arrays for {len(recs)} recordings.")
    blocks, out_labels, groups = [], [], []
    for r, ds in enumerate(recs):
        n_t = ds.sizes[S.TIME]
        if n_t < n_blocks:
            raise ValueError(f"split_in_time: recording #{r} has {n_t} frames, fewer than n_blocks={n_blocks}.")
        edges = np.linspace(0, n_t, int(n_blocks) + 1).astype(int)
        for b, (a, e) in enumerate(zip(edges[:-1], edges[1:], strict=True)):
            blk = ds.isel({S.TIME: slice(a, e)})
            blk.attrs = {**ds.attrs, "block": b, "block_frames": [int(a), int(e)]}
            blocks.append(blk)
            groups.append(b)
            if labels is not None:
                lab = labels[r]
                out_labels.append(lab.iloc[a:e] if hasattr(lab, "iloc") else
                                  lab.isel({S.TIME: slice(a, e)}) if isinstance(lab, xr.DataArray) else
                                  np.asarray(lab)[a:e])
    groups = np.asarray(groups)
    return (blocks, out_labels, groups) if labels is not None else (blocks, groups)


def frame_learning_curve(estimator, X, y, *, groups=None, train_sizes=(0.25, 0.5, 0.75, 1.0), cv=None,
                         scoring=None, shuffle: bool = False, random_state=None, n_jobs=None) -> pd.DataFrame:
    """Train and test scores for growing numbers of training recordings (grouped folds).

    Parameters
    ----------
    estimator : frame classifier
        E.g. :class:`FrameClassifier`; cloned for every fit.
    X : sequence of xarray.Dataset
        Recordings.
    y : sequence
        Per-frame labels, one item per recording.
    groups : array-like, optional
        Group of each recording; default each recording its own group.
    train_sizes : sequence of float or int, default (0.25, 0.5, 0.75, 1.0)
        Fractions (or numbers) of the training recordings of each fold.
    cv : splitter or int, optional
        Default :class:`~sklearn.model_selection.LeaveOneGroupOut`.
    scoring : scorer, optional
        Default the pooled frame F1 (``make_frame_scorer(f1_score)``).
    shuffle : bool, default False
        Shuffle the training recordings before taking subsets.
    random_state : int or None
        Seed of the shuffle.
    n_jobs : int, optional
        Parallel fits.

    Returns
    -------
    pandas.DataFrame
        One row per (train size, fold): ``n_train_recordings``, ``fold``, ``train_score``, ``test_score``.
    """
    recordings, _ = check_recordings(X, where="frame_learning_curve")
    groups_arr = np.arange(len(recordings)) if groups is None else np.asarray(groups)
    splitter = LeaveOneGroupOut() if cv is None else cv
    scorer = make_frame_scorer(f1_score) if scoring is None else scoring
    sizes, train, test = learning_curve(
        estimator, recordings, list(y), groups=groups_arr, train_sizes=train_sizes, cv=splitter, scoring=scorer,
        shuffle=shuffle, random_state=random_state, n_jobs=n_jobs,
    )
    rows = [
        {"n_train_recordings": int(n), "fold": f, "train_score": float(train[i, f]), "test_score": float(test[i, f])}
        for i, n in enumerate(sizes) for f in range(train.shape[1])
    ]
    return pd.DataFrame(rows)
