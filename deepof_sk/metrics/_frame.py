"""Frame-level scorers: score per-frame predictions pooled over recordings, usable as ``scoring=``."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..utils._labels import labelled_mask as _labelled

__all__ = ["make_frame_scorer", "pool_frames"]


def pool_frames(y_true, y_pred) -> tuple[np.ndarray, np.ndarray]:
    """Concatenate per-recording label and prediction arrays, dropping unlabelled (NaN) frames.

    Parameters
    ----------
    y_true, y_pred : sequence of array-like
        One array per recording, same shapes pairwise.

    Returns
    -------
    y_true, y_pred : ndarray
        Flat arrays over all labelled frames (and animals).
    """
    if len(y_true) != len(y_pred):
        raise ValueError(f"pool_frames: {len(y_true)} label arrays but {len(y_pred)} prediction arrays.")
    trues, preds = [], []
    for i, (t, p) in enumerate(zip(y_true, y_pred, strict=True)):
        t = np.asarray(t)
        p = np.asarray(p)
        if t.shape != p.shape[: t.ndim] or (p.ndim > t.ndim and p.ndim != t.ndim + 1):
            raise ValueError(f"pool_frames: recording #{i}: labels {t.shape} and predictions {p.shape} differ.")
        t = t.reshape(-1)
        p = p.reshape(t.shape[0], -1) if p.ndim > np.asarray(y_true[i]).ndim else p.reshape(-1)
        keep = _labelled(t)
        trues.append(t[keep])
        preds.append(p[keep])
    y_t = np.concatenate(trues)
    if y_t.dtype == object:
        y_t = np.asarray(y_t.tolist())
    return y_t, np.concatenate(preds)


class _FrameScorer:
    """Callable ``scorer(estimator, X, y)`` that pools frames over recordings before scoring."""

    def __init__(self, score_func, sign, response_method, kwargs):
        self._score_func = score_func
        self._sign = sign
        self._response_method = response_method
        self._kwargs = kwargs

    def __call__(self, estimator, X, y_true):
        y_pred = getattr(estimator, self._response_method)(X)
        t, p = pool_frames(y_true, y_pred)
        if self._response_method == "predict_proba" and p.ndim == 2 and p.shape[1] == 2:
            p = p[:, 1]
        return self._sign * self._score_func(t, p, **self._kwargs)

    def __repr__(self):
        kw = "".join(f", {k}={v!r}" for k, v in self._kwargs.items())
        return f"make_frame_scorer({self._score_func.__name__}{kw})"


def make_frame_scorer(
    score_func: Callable, *, greater_is_better: bool = True, response_method: str = "predict", **kwargs
) -> Callable:
    """Make a scorer for estimators that predict per frame of each recording.

    sklearn's built-in string scorers (``scoring="f1"``) compare ``y`` with the predictions directly, which fails
    when both are lists of per-recording arrays of different lengths. A frame scorer pools the labelled frames of
    all test recordings first, then calls ``score_func`` once, so the score is a frame-level score of the whole
    test fold.

    Parameters
    ----------
    score_func : callable
        ``score_func(y_true, y_pred, **kwargs)``, e.g. :func:`sklearn.metrics.f1_score`.
    greater_is_better : bool, default True
        False for losses (the scorer then returns the negated value, as sklearn expects).
    response_method : {"predict", "predict_proba", "decision_function"}, default "predict"
        Which estimator method produces ``y_pred``. For binary ``predict_proba`` the positive-class column is used.
    **kwargs
        Passed to ``score_func`` (e.g. ``average="macro"``, ``pos_label=1``).

    Returns
    -------
    callable
        ``scorer(estimator, X, y)`` usable as ``scoring=`` in ``GridSearchCV`` and ``cross_validate``.

    Examples
    --------
    >>> from sklearn.metrics import f1_score
    >>> scorer = make_frame_scorer(f1_score, average="macro")
    """
    if response_method not in ("predict", "predict_proba", "decision_function"):
        raise ValueError(
            "make_frame_scorer: response_method must be 'predict', 'predict_proba' or 'decision_function'; "
            f"got {response_method!r}."
        )
    return _FrameScorer(score_func, 1 if greater_is_better else -1, response_method, kwargs)
