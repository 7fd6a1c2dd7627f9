"""KeypointImputer: long gaps filled from the skeleton and the motion; observed values untouched."""

from __future__ import annotations

import numpy as np
import pytest

from deepof_sk.datasets import make_synthetic_poses
from deepof_sk.exceptions import MissingDataWarning
from deepof_sk.preprocessing import KeypointImputer
from deepof_sk.preprocessing._imputation import smooth_gaps


def _turn_with_gaps(n_frames=600, noise=0.3, seed=0):
    ds, truth = make_synthetic_poses(n_frames, scenario="turn", n_individuals=2, noise=noise, random_state=seed,
                                     return_truth=True)
    gaps = np.zeros((n_frames, 14, 2), bool)
    kps = list(ds.keypoint.values)
    for kp, ind, start, length in [("Nose", 0, 100, 60), ("Left_ear", 0, 130, 40), ("Spine_2", 1, 300, 80),
                                   ("Tail_tip", 1, 20, 25)]:
        gaps[start:start + length, kps.index(kp), ind] = True
    pos = ds.position.values.copy()
    pos[np.broadcast_to(gaps[:, None], pos.shape)] = np.nan
    ds["position"] = ds.position.copy(data=pos)
    return ds, truth, gaps


def test_smooth_gaps_hand_computed():
    values = np.array([0.0, 1.0, np.nan, np.nan, 4.0, 5.0])[:, None]
    unknown = np.isnan(values)
    out = smooth_gaps(values, unknown, np.full_like(values, np.nan), rho=1.0)
    np.testing.assert_allclose(out[:, 0], [0, 1, 2, 3, 4, 5])  # constant velocity is exact
    # a measurement pulls the track towards it, weighted by rho
    z = np.where(unknown, 10.0, np.nan)
    pulled = smooth_gaps(values, unknown, z, rho=1e6)
    np.testing.assert_allclose(pulled[2:4, 0], [10.0, 10.0], atol=1e-3)


def test_kalman_fill_is_exact_on_a_constant_velocity_walk():
    ds, truth = make_synthetic_poses(300, scenario="walk", heading=0.4, random_state=0, return_truth=True)
    ds["position"].loc[{"keypoint": "Nose", "time": ds.time[100:180]}] = np.nan
    out = KeypointImputer(strategy="kalman").fit_transform(ds)
    np.testing.assert_allclose(out.position.values, truth.position, atol=1e-6)


@pytest.mark.parametrize("strategy, max_err_mm", [("both", 1.0), ("iterative", 1.0), ("kalman", 10.0)])
def test_long_gaps_on_a_turning_animal(strategy, max_err_mm):
    """Gaps of 25-80 frames on two mice turning at pi/8 rad/s, 0.3 mm noise.

    Measured worst errors: "both" 0.53 mm, "iterative" 0.48 mm (the body is rigid, so the other keypoints pin the
    missing one; the temporal model of "both" averages its noise), "kalman" alone 5.5 mm (a 2.4 s gap on a curve
    cannot be bridged by motion alone).
    """
    ds, truth, gaps = _turn_with_gaps()
    out = KeypointImputer(strategy=strategy, random_state=0).fit_transform(ds)
    got = out.position.values.transpose(0, 2, 3, 1)
    want = truth.position.transpose(0, 2, 3, 1)
    assert not np.isnan(got).any()
    err = np.sqrt(((got - want) ** 2).sum(axis=-1))[gaps]
    assert err.max() < max_err_mm
    observed = ds.position.notnull().values
    np.testing.assert_array_equal(out.position.values[observed], ds.position.values[observed])


def test_max_gap_and_no_extrapolation_by_motion_alone():
    ds, _, gaps = _turn_with_gaps()
    out = KeypointImputer(max_gap=50, random_state=0).fit_transform(ds)
    nose = out.position.sel(keypoint="Nose", individual="mouse1").values
    assert np.isnan(nose[100:160]).all()  # 60 frames > 50
    assert out.position.sel(keypoint="Tail_tip", individual="mouse2").notnull().all()
    # the leading Tail_tip gap of mouse2 starts at frame 20, so it is interior; make a leading one
    ds["position"].loc[{"keypoint": "Center", "individual": "mouse1", "time": ds.time[:10]}] = np.nan
    kal = KeypointImputer(strategy="kalman").fit_transform(ds)
    assert kal.position.sel(keypoint="Center", individual="mouse1")[:10].isnull().all()
    both = KeypointImputer(random_state=0).fit_transform(ds)
    assert both.position.sel(keypoint="Center", individual="mouse1")[:10].notnull().all()


def test_skeleton_lengths_are_kept_within_tolerance():
    ds, truth, gaps = _turn_with_gaps(noise=2.0)
    est = KeypointImputer(strategy="kalman", skeleton=[("Nose", "Spine_1"), ("Left_ear", "Spine_1")],
                          length_tolerance=0.1)
    out = est.fit_transform(ds).sel(individual="mouse1")
    free = KeypointImputer(strategy="kalman", skeleton=None).fit_transform(ds).sel(individual="mouse1")

    def length(d, a, b):
        return np.sqrt(((d.position.sel(keypoint=a) - d.position.sel(keypoint=b)) ** 2).sum("space", skipna=False)).values

    rest = np.nanmedian(length(ds.sel(individual="mouse1"), "Nose", "Spine_1"))
    got = length(out, "Nose", "Spine_1")[100:160]
    assert np.all(np.abs(got / rest - 1) <= 0.1 + 1e-9)
    assert np.abs(length(free, "Nose", "Spine_1")[100:160] / rest - 1).max() > 0.1  # the constraint did work


def test_deterministic_and_input_untouched():
    ds, _, _ = _turn_with_gaps(n_frames=300)
    before = ds.copy(deep=True)
    a = KeypointImputer(random_state=1).fit_transform(ds)
    b = KeypointImputer(random_state=1).fit_transform(ds)
    np.testing.assert_array_equal(a.position.values, b.position.values)
    assert ds.identical(before)


def test_all_nan_individual_and_bad_skeleton():
    ds, _, _ = _turn_with_gaps(n_frames=200)
    ds["position"].loc[{"individual": "mouse2"}] = np.nan
    with pytest.warns(MissingDataWarning, match=r"KeypointImputer: individual\(s\) \['mouse2'\]"):
        out = KeypointImputer().fit_transform(ds)
    assert out.position.sel(individual="mouse2").isnull().all()
    assert out.position.sel(individual="mouse1").notnull().all()
    with pytest.raises(ValueError, match=r"KeypointImputer: `skeleton` names keypoints \['Snout', 'Tail'\]"):
        KeypointImputer(skeleton=[("Snout", "Nose"), ("Tail", "Center")]).fit(ds)


def test_import_does_not_load_scikit_learn_imputation():
    """scikit-learn's imputation modules (15 MB, 0.1 s) load when a KeypointImputer fits, not with the package."""
    import subprocess
    import sys

    code = ("import sys, deepof_sk, deepof_sk.preprocessing, deepof_sk.features, deepof_sk.annotation\n"
            "assert 'sklearn.impute' not in sys.modules, 'sklearn.impute imported'")
    subprocess.run([sys.executable, "-c", code], check=True)
