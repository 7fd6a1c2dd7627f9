"""The synthetic generator's analytic answers hold."""

from __future__ import annotations

import numpy as np
import pytest

from deepof_sk import schema as S
from deepof_sk.datasets import DEEPOF_14_BODY, SCENARIOS, make_synthetic_poses
from deepof_sk.validation import validate_poses


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_every_scenario_is_valid_poses(scenario):
    ds = make_synthetic_poses(300, scenario=scenario, random_state=0)
    validate_poses(ds)
    assert list(ds[S.KEYPOINT].values) == list(DEEPOF_14_BODY)
    assert np.isfinite(ds[S.POSITION].values).all()


def test_walk_has_the_set_speed_in_pixels():
    ds, truth = make_synthetic_poses(250, scenario="walk", speed=120.0, px_per_mm=2.5, fps=50,
                                     random_state=0, return_truth=True)
    c = ds[S.POSITION].sel({S.KEYPOINT: "Center"}).values[:, :, 0]
    step = np.hypot(*np.diff(c, axis=0).T) * 50
    np.testing.assert_allclose(step, 120.0 * 2.5)
    np.testing.assert_allclose(truth.center_speed, 120.0)


def test_rigid_body_lengths_are_constant():
    ds = make_synthetic_poses(400, scenario="explore", n_individuals=2, random_state=1)
    nose = ds[S.POSITION].sel({S.KEYPOINT: "Nose"})
    tail = ds[S.POSITION].sel({S.KEYPOINT: "Tail_base"})
    length = np.hypot(*(nose - tail).transpose(S.SPACE, ...).values)
    np.testing.assert_allclose(length, 85.0)


def test_turn_heading_changes_at_the_set_rate():
    _, truth = make_synthetic_poses(200, scenario="turn", angular_speed=0.5, fps=20, random_state=0,
                                    return_truth=True)
    np.testing.assert_allclose(np.diff(truth.heading[:, 0]) * 20, 0.5)


def test_nose_to_nose_contact_timing():
    ds, truth = make_synthetic_poses(250, scenario="nose_to_nose", contact_start=2.0, contact_duration=2.0,
                                     fps=25, speed=100.0, random_state=0, return_truth=True)
    noses = ds[S.POSITION].sel({S.KEYPOINT: "Nose"}).values
    d = np.hypot(*(noses[:, :, 0] - noses[:, :, 1]).T)
    np.testing.assert_allclose(d, truth.nose_distance)
    contact = truth.labels["contact"]
    assert contact.sum() == 51  # frames 50..100 inclusive at 25 fps
    np.testing.assert_allclose(d[contact], 5.0)
    assert (d[~contact] > 5.0).all()


def test_follower_lags_the_leader():
    ds = make_synthetic_poses(300, scenario="follow", follow_lag=0.4, fps=25, random_state=0)
    c = ds[S.POSITION].sel({S.KEYPOINT: "Center"}).values
    np.testing.assert_allclose(c[10:, :, 1], c[:-10, :, 0])


def test_planted_artefacts_are_where_truth_says():
    ds, truth = make_synthetic_poses(500, n_gaps=4, gap_length=6, n_spikes=10, dropout_rate=0.02,
                                     random_state=3, return_truth=True)
    pos = ds[S.POSITION].values
    assert np.array_equal(np.isnan(pos[:, 0]), truth.gap_mask)
    conf = ds[S.CONFIDENCE].values
    assert (conf[truth.dropout_mask & ~truth.gap_mask] < 0.31).all()
    spikes = truth.spike_mask & ~truth.gap_mask & ~truth.dropout_mask
    err = np.hypot(*(pos - truth.position).transpose(1, 0, 2, 3))
    np.testing.assert_allclose(err[spikes], 80.0)
    assert truth.spike_mask.sum() == 10


def test_seeded_and_sized():
    a = make_synthetic_poses(1000, scenario="explore", noise=1.0, random_state=7)
    b = make_synthetic_poses(1000, scenario="explore", noise=1.0, random_state=7)
    c = make_synthetic_poses(1000, scenario="explore", noise=1.0, random_state=8)
    np.testing.assert_array_equal(a[S.POSITION].values, b[S.POSITION].values)
    assert not np.array_equal(a[S.POSITION].values, c[S.POSITION].values)
    big = make_synthetic_poses(200_000, scenario="walk", keypoints=["Nose", "Center"], random_state=0)
    assert big.sizes[S.TIME] == 200_000


def test_no_fps_keeps_frames():
    ds = make_synthetic_poses(50, fps=None, random_state=0)
    assert ds.attrs[S.FPS] is None and ds.attrs[S.TIME_UNIT] == "frames"


def test_bad_arguments():
    with pytest.raises(ValueError, match="unknown scenario"):
        make_synthetic_poses(10, scenario="dance")
    with pytest.raises(ValueError, match="n_individuals=2"):
        make_synthetic_poses(10, scenario="nose_to_nose", n_individuals=3)
    with pytest.raises(ValueError, match=r"unknown keypoints \['Snout'\]"):
        make_synthetic_poses(10, keypoints=["Snout"])
