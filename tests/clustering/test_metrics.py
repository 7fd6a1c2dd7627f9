"""Cluster occupancy, balance and score: hand-computable values (no keras needed)."""

import numpy as np
import pytest

from deepof_sk.clustering import (
    assignment_confidence,
    cluster_balance,
    cluster_occupancy,
    clustering_score,
    n_populated_clusters,
)


def test_occupancy_ignores_unassigned_and_counts_empty_clusters():
    occ = cluster_occupancy([0, 0, 1, -1, 1, 0], 3)
    np.testing.assert_allclose(occ, [0.6, 0.4, 0.0])


def test_occupancy_accepts_one_array_per_recording():
    np.testing.assert_allclose(cluster_occupancy([np.array([0, 1]), np.array([[1], [1]])], 2), [0.25, 0.75])


@pytest.mark.parametrize(
    ("labels", "expected"),
    [([0, 1, 2, 3], 1.0), ([0, 0, 0, 0], 0.0), ([0, 0, 1, 1], 0.5)],
)
def test_balance_is_normalised_entropy(labels, expected):
    assert cluster_balance(labels, 4) == pytest.approx(expected)


def test_populated_clusters_uses_a_minimum_share():
    labels = np.r_[np.zeros(990, int), np.ones(10, int)]
    assert n_populated_clusters(labels, 3) == 2
    assert n_populated_clusters(labels, 3, min_fraction=0.05) == 1


def test_confidence_and_score_skip_nan_rows():
    proba = np.array([[1.0, 0.0], [0.0, 1.0], [np.nan, np.nan]])
    assert assignment_confidence(proba) == pytest.approx(1.0)
    assert clustering_score(proba) == pytest.approx(1.0)
    collapsed = np.array([[0.6, 0.4], [0.6, 0.4]])
    assert clustering_score(collapsed) == pytest.approx(0.0)
