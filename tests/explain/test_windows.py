"""Window aggregation on hand-computable feature tracks."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from deepof_sk.datasets import make_synthetic_poses
from deepof_sk.explain import aggregate_windows


def _recording(values, n_individuals=1):
    ds = make_synthetic_poses(len(values), keypoints=["Nose", "Center"], n_individuals=n_individuals, random_state=0)
    arr = np.repeat(np.asarray(values, float)[:, None], n_individuals, axis=1) * (1 + np.arange(n_individuals))
    ds["speed_c"] = xr.DataArray(arr, dims=("time", "individual"), attrs={"units": "mm/s"})
    return ds


def test_mean_std_min_max_with_nan_and_edges():
    values = [0.0, 1.0, 2.0, np.nan, 4.0, 5.0, 6.0, 7.0, 8.0]
    X, y, index, names = aggregate_windows([_recording(values)], [np.arange(9)], window=3,
                                           statistics=("mean", "std", "min", "max"))
    assert names == ["speed_c[mouse1]", "speed_c[mouse1]:std", "speed_c[mouse1]:min", "speed_c[mouse1]:max"]
    assert index["frame"].tolist() == [1, 4, 7] and y.tolist() == [1, 4, 7]
    np.testing.assert_allclose(X[0], [1.0, np.std([0, 1, 2]), 0.0, 2.0])
    np.testing.assert_allclose(X[1], [4.5, 0.5, 4.0, 5.0])  # the NaN frame is skipped
    np.testing.assert_allclose(X[2], [7.0, np.std([6, 7, 8]), 6.0, 8.0])


def test_step_one_truncates_windows_at_the_edges():
    X, _, index, _ = aggregate_windows([_recording(np.arange(5.0))], window=3, step=1)
    assert index["frame"].tolist() == [0, 1, 2, 3, 4]
    np.testing.assert_allclose(X[:, 0], [0.5, 1.0, 2.0, 3.0, 3.5])


def test_unlabelled_centres_are_dropped_and_per_individual_rows():
    ds = _recording(np.arange(6.0), n_individuals=2)
    labels = np.array([[0, 1], [np.nan, 1], [0, 0], [1, -1], [1, 1], [0, 0]])
    X, y, index, names = aggregate_windows([ds], [labels], window=1, step=1, per_individual=True)
    assert names == ["speed_c"]
    assert len(y) == 10 and index.loc[0, "individual"] == "mouse1"
    np.testing.assert_allclose(X[index["individual"].to_numpy() == "mouse2", 0], [0.0, 2.0, 4.0, 8.0, 10.0])


def test_errors():
    ds = make_synthetic_poses(20, random_state=0)
    with pytest.raises(ValueError, match="no feature variables"):
        aggregate_windows([ds])
    with pytest.raises(ValueError, match="unknown statistics"):
        aggregate_windows([_recording(np.arange(5.0))], statistics=("median",))
    with pytest.raises(ValueError, match="does not have"):
        aggregate_windows([_recording(np.arange(5.0))], variables=["area"])
