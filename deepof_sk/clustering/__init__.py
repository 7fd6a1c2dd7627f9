"""Deep clustering of behaviour (DeepOF's unsupervised pipeline) as a scikit-learn estimator.

:class:`DeepClusterer` windows per-frame features, trains a VaDE, VQ-VAE or contrastive model (GRU, TCN or
transformer encoder; Keras 3, any backend) and returns an embedding and a cluster per frame. Importing this package
does not import keras; fitting does (``pip install "deepof-sk[deep]"``).
"""

from ._estimator import DeepClusterer
from ._metrics import (
    ClusterCollapseWarning,
    assignment_confidence,
    cluster_balance,
    cluster_occupancy,
    clustering_score,
    n_populated_clusters,
)

__all__ = [
    "ClusterCollapseWarning",
    "DeepClusterer",
    "assignment_confidence",
    "cluster_balance",
    "cluster_occupancy",
    "clustering_score",
    "n_populated_clusters",
]
