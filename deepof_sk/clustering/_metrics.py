"""Cluster occupancy, collapse and confidence measures, and the unsupervised score of :class:`DeepClusterer`.

Pure numpy: importable without keras. All functions ignore unassigned frames (label ``-1``, or a row of NaN
probabilities), which is how :class:`DeepClusterer` marks frames without any tracked feature.
"""

from __future__ import annotations

import numpy as np

from ..exceptions import DeepOFSKWarning

__all__ = [
    "ClusterCollapseWarning",
    "cluster_occupancy",
    "cluster_balance",
    "n_populated_clusters",
    "assignment_confidence",
    "clustering_score",
]


class ClusterCollapseWarning(DeepOFSKWarning):
    """A fitted clustering uses far fewer clusters than asked for (cluster collapse)."""


def _flat_labels(labels) -> np.ndarray:
    if isinstance(labels, (list, tuple)):
        labels = np.concatenate([np.asarray(v).ravel() for v in labels]) if len(labels) else np.array([])
    arr = np.asarray(labels).ravel()
    if arr.dtype.kind == "f":
        arr = arr[~np.isnan(arr)]
    arr = arr.astype(int)
    return arr[arr >= 0]


def _flat_proba(proba) -> np.ndarray:
    if isinstance(proba, (list, tuple)):
        proba = np.concatenate([np.asarray(p).reshape(-1, np.shape(p)[-1]) for p in proba], axis=0)
    arr = np.asarray(proba, dtype=float)
    arr = arr.reshape(-1, arr.shape[-1])
    return arr[~np.isnan(arr).any(axis=1)]


def cluster_occupancy(labels, n_clusters: int) -> np.ndarray:
    """Fraction of assigned frames in each cluster.

    Parameters
    ----------
    labels : array-like of int, or list of them (one per recording)
        Cluster labels; ``-1`` (unassigned) is ignored.
    n_clusters : int
        Number of clusters the model has.

    Returns
    -------
    ndarray of shape (n_clusters,)
        Sums to 1 (all zeros when nothing is assigned).

    Examples
    --------
    >>> cluster_occupancy([0, 0, 1, -1], 3).tolist()
    [0.6666666666666666, 0.3333333333333333, 0.0]
    """
    flat = _flat_labels(labels)
    counts = np.bincount(flat, minlength=n_clusters)[:n_clusters].astype(float)
    total = counts.sum()
    return counts / total if total > 0 else counts


def cluster_balance(labels, n_clusters: int) -> float:
    """Normalised entropy of the cluster occupancy: 1 = all clusters equally used, 0 = one cluster (collapse).

    ``exp(entropy)`` is the effective number of clusters; this returns ``entropy / log(n_clusters)``.

    Examples
    --------
    >>> round(cluster_balance([0, 1, 2, 3], 4), 3), round(cluster_balance([0, 0, 0, 0], 4), 3)
    (1.0, 0.0)
    """
    if n_clusters < 2:
        return 1.0
    p = cluster_occupancy(labels, n_clusters)
    p = p[p > 0]
    return float(max(0.0, -(p * np.log(p)).sum() / np.log(n_clusters))) if p.size else 0.0


def n_populated_clusters(labels, n_clusters: int, min_fraction: float = 0.01) -> int:
    """Number of clusters holding at least ``min_fraction`` of the assigned frames (default 1 %)."""
    return int((cluster_occupancy(labels, n_clusters) >= min_fraction).sum())


def assignment_confidence(proba) -> float:
    """Mean over frames of the largest cluster probability (1 = every frame assigned with certainty)."""
    flat = _flat_proba(proba)
    return float(flat.max(axis=1).mean()) if flat.size else float("nan")


def clustering_score(proba) -> float:
    """Unsupervised score in [0, 1]: cluster balance times assignment confidence.

    A clustering scores high when its clusters are all used (no collapse) and each frame belongs clearly to one of
    them; it is comparable across models, latent sizes and encoders (it needs no reconstruction), which is what a
    grid search over those needs. The number of clusters should be fixed in such a search: the score does not
    penalise splitting one behaviour into several clusters.

    Parameters
    ----------
    proba : array-like of shape (..., n_clusters), or list of them
        Soft assignments; rows with NaN are ignored.

    Returns
    -------
    float
    """
    flat = _flat_proba(proba)
    if not flat.size:
        return float("nan")
    n_clusters = flat.shape[1]
    return cluster_balance(flat.argmax(axis=1), n_clusters) * assignment_confidence(flat)
