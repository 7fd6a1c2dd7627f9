"""Interpolator: gap-length limit (frames and seconds), exactness on straight walks, no extrapolation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from deepof_sk.datasets import make_synthetic_poses
from deepof_sk.exceptions import MissingDataWarning
from deepof_sk.preprocessing import Interpolator
from deepof_sk.preprocessing._interpolation import find_nan_runs


def _walk_with_gap(k: int, start: int = 40, keypoint: str = "Nose", n_frames: int = 120):
    ds, truth = make_synthetic_poses(n_frames, scenario="walk", speed=120.0, heading=0.7, random_state=0,
                                     return_truth=True)
    ds["position"].loc[{"keypoint": keypoint, "time": ds.time[start:start + k]}] = np.nan
    return ds, truth


def test_find_nan_runs_hand_computed():
    missing = np.array([[1, 0, 1, 1, 0, 1], [0, 0, 0, 0, 0, 0], [1, 1, 1, 1, 1, 1]], bool)
    column, start, stop = find_nan_runs(missing)
    np.testing.assert_array_equal(column, [0, 0, 0, 2])
    np.testing.assert_array_equal(start, [0, 2, 5, 0])
    np.testing.assert_array_equal(stop, [1, 4, 6, 6])


@pytest.mark.parametrize("k, filled", [(4, True), (5, False)])
def test_gap_filled_iff_not_longer_than_max_gap_frames(k, filled):
    ds, _ = _walk_with_gap(k)
    out = Interpolator(max_gap=4).fit_transform(ds)
    gap = out.position.sel(keypoint="Nose")[40:40 + k]
    assert bool(gap.notnull().all()) is filled
    assert bool(gap.isnull().all()) is not filled  # a gap is filled whole or not at all


@pytest.mark.parametrize("k, filled", [(5, True), (6, False)])
def test_gap_filled_iff_not_longer_than_max_gap_seconds(k, filled):
    ds, _ = _walk_with_gap(k)  # 25 fps: 0.2 s is 5 frames
    out = Interpolator(max_gap=0.2, gap_unit="seconds").fit_transform(ds)
    assert bool(out.position.sel(keypoint="Nose")[40:40 + k].notnull().all()) is filled


@pytest.mark.parametrize("method", ["linear", "cubic", "pchip"])
def test_filled_values_on_a_straight_walk_equal_the_truth(method):
    ds, truth = _walk_with_gap(8)
    out = Interpolator(method=method, max_gap=10).fit_transform(ds)
    np.testing.assert_allclose(out.position.values, truth.position, rtol=0, atol=1e-9)


def test_nearest_takes_the_closer_neighbour():
    ds, _ = _walk_with_gap(4)
    nose = ds.position.sel(keypoint="Nose").values[:, :, 0]
    out = Interpolator(method="nearest").fit_transform(ds).position.sel(keypoint="Nose").values[:, :, 0]
    np.testing.assert_array_equal(out[40:42], nose[[39, 39]])  # tie at frame 41 goes to the earlier frame
    np.testing.assert_array_equal(out[42:44], nose[[44, 44]])


def test_observed_values_never_change():
    ds = make_synthetic_poses(500, scenario="turn", n_individuals=2, noise=1.0, n_gaps=30, gap_length=4,
                              random_state=3)
    out = Interpolator(method="pchip", max_gap=3).fit_transform(ds)
    valid = ds.position.notnull().values
    np.testing.assert_array_equal(out.position.values[valid], ds.position.values[valid])
    assert int(out.position.isnull().sum()) > 0  # 4-frame gaps exceed max_gap=3


def test_never_extrapolates_unless_asked():
    ds, _ = _walk_with_gap(3, start=0)
    ds["position"].loc[{"keypoint": "Nose", "time": ds.time[-2:]}] = np.nan
    out = Interpolator(method="cubic", max_gap=5).fit_transform(ds).position.sel(keypoint="Nose").values
    assert np.isnan(out[:3]).all() and np.isnan(out[-2:]).all()
    edged = Interpolator(max_gap=5, fill_edges=True).fit_transform(ds).position.sel(keypoint="Nose").values
    np.testing.assert_array_equal(edged[:3], np.repeat(edged[3:4], 3, axis=0))  # nearest value, not a trend
    np.testing.assert_array_equal(edged[-2:], np.repeat(edged[-3:-2], 2, axis=0))


def test_ends_policy_matches_pandas_limit_direction_both():
    """DeepOF's "partial" imputation is pandas' ``interpolate(limit=3, limit_direction="both")``."""
    rng = np.random.default_rng(0)
    values = rng.normal(size=(200, 6)).cumsum(axis=0)
    for c in range(6):
        for start, length in rng.integers([0, 1], [190, 9], size=(6, 2)):
            values[start:start + length, c] = np.nan
    values[:2, 0] = np.nan
    values[-4:, 1] = np.nan
    expected = pd.DataFrame(values).interpolate(method="linear", limit=3, limit_direction="both").to_numpy()
    from deepof_sk.validation import make_poses_dataset

    ds = make_poses_dataset(values.reshape(200, 2, 3, 1), fps=25)
    out = Interpolator(max_gap=3, gap_policy="ends", fill_edges=True).fit_transform(ds)
    np.testing.assert_allclose(out.position.values.reshape(200, 6), expected, rtol=0, atol=1e-12)


def test_unlimited_and_other_variables():
    ds, truth = _walk_with_gap(30)
    ds["confidence"][50:52] = np.nan
    out = Interpolator(max_gap=None, variables=["position", "confidence"]).fit_transform(ds)
    np.testing.assert_allclose(out.position.values, truth.position, atol=1e-9)
    assert out.confidence.notnull().all()


def test_all_nan_individual_warns_not_crashes():
    ds = make_synthetic_poses(60, scenario="nose_to_nose", n_gaps=4, gap_length=2, random_state=0)
    ds["position"].loc[{"individual": "mouse1"}] = np.nan
    with pytest.warns(MissingDataWarning, match=r"Interpolator: individual\(s\) \['mouse1'\]"):
        out = Interpolator().fit_transform(ds)
    assert out.position.sel(individual="mouse1").isnull().all()


def test_clear_errors():
    ds = make_synthetic_poses(30, fps=None, random_state=0)
    with pytest.raises(ValueError, match=r"Interpolator \(gap_unit='seconds'\).*no frame rate"):
        Interpolator(max_gap=0.2, gap_unit="seconds").fit_transform(ds)
    with pytest.raises(ValueError, match=r"Interpolator: `max_gap` is in frames and must be an integer"):
        Interpolator(max_gap=2.5).fit_transform(ds)
    with pytest.raises(ValueError, match="method"):
        Interpolator(method="spline").fit(ds)
