"""KinematicsExtractor: known answers on synthetic motion, DeepOF's rolling speed, real data, bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from deepof_sk import make_poses_dataset
from deepof_sk.datasets import make_synthetic_poses
from deepof_sk.features import FeatureTabulator, KinematicsExtractor


def _line_dataset(x, fps=10.0, unit="mm"):
    """One keypoint moving along x with the given positions (y = 0)."""
    x = np.asarray(x, dtype=float)
    pos = np.stack([x, np.zeros_like(x)], axis=1)[:, :, None, None]
    return make_poses_dataset(pos, keypoints=["Center"], individuals=["m"], fps=fps, space_unit=unit)


def _read_processed_reference(shared_reference):
    """DeepOF's processed test coordinates (mm, 25 fps, 11 keypoints) as a poses dataset."""
    table = pd.read_csv(shared_reference / "deepof-outputs" / "single_test_coords_raw_processed.csv",
                        header=[0, 1], index_col=0)
    keypoints = list(dict.fromkeys(table.columns.get_level_values(0)))
    pos = np.stack([table[k][["x", "y"]].to_numpy() for k in keypoints], axis=2)[..., None]
    return make_poses_dataset(pos, keypoints=keypoints, individuals=["mouse"], fps=25, space_unit="mm")


def _read_dlc_single(path, fps=25.0):
    table = pd.read_hdf(path)
    table.columns = table.columns.droplevel(0)
    keypoints = list(dict.fromkeys(table.columns.get_level_values(0)))
    pos = np.stack([table[k][["x", "y"]].to_numpy() for k in keypoints], axis=2)[..., None]
    conf = np.stack([table[k]["likelihood"].to_numpy() for k in keypoints], axis=1)[..., None]
    return make_poses_dataset(pos, conf, keypoints=keypoints, individuals=["mouse"], fps=fps)


# -- synthetic, known answers ---------------------------------------------------------------------------------
def test_walk_speed_is_the_set_speed_and_acceleration_zero():
    ds = make_synthetic_poses(250, scenario="walk", speed=120.0, heading=0.7, fps=25, px_per_mm=1.0, random_state=0)
    out = KinematicsExtractor(order=(1, 2, 3)).fit_transform(ds)
    # every keypoint of a rigid body in straight translation, every frame (edges included)
    np.testing.assert_allclose(out.speed.values, 120.0, rtol=1e-9)
    np.testing.assert_allclose(out.acceleration.values, 0.0, atol=1e-6)
    np.testing.assert_allclose(out.jerk.values, 0.0, atol=1e-3)
    assert out.speed.dims == ("time", "keypoint", "individual")
    assert out.speed.attrs["units"] == "pixels/s" and out.acceleration.attrs["units"] == "pixels/s^2"
    assert out.jerk.attrs["units"] == "pixels/s^3" and out.speed.attrs["long_name"]
    np.testing.assert_array_equal(out.time.values, ds.time.values)


def test_speed_scales_with_pixels_per_mm():
    ds = make_synthetic_poses(100, scenario="walk", speed=120.0, fps=25, px_per_mm=2.5, random_state=0)
    out = KinematicsExtractor().fit_transform(ds)
    np.testing.assert_allclose(out.speed.values, 120.0 * 2.5, rtol=1e-9)  # px/s = mm/s * px_per_mm


def test_turn_speed_constant_and_centripetal_acceleration():
    fps, v, omega = 25.0, 120.0, np.pi / 8
    ds, truth = make_synthetic_poses(400, scenario="turn", speed=v, angular_speed=omega, fps=fps,
                                     return_truth=True, random_state=0)
    out = KinematicsExtractor(order=(1, 2)).fit_transform(ds)
    centre = out.speed.sel(keypoint="Center").values[:, 0]
    # a central difference on a circle reads the chord: relative error (omega/fps)^2 / 6 = 4e-5
    np.testing.assert_allclose(centre, truth.center_speed[:, 0], rtol=1e-4)
    # every point of the rigid body moves at a constant speed sqrt(v^2 + (omega r)^2) relative to the body axis
    speeds = out.speed.values
    assert np.max(speeds.std(axis=0) / speeds.mean(axis=0)) < 1e-4
    nose = out.speed.sel(keypoint="Nose").values[1:-1, 0]
    np.testing.assert_allclose(nose, np.hypot(v, omega * 45.0), rtol=1e-4)
    acc = out.acceleration.sel(keypoint="Center").values[1:-1, 0]
    np.testing.assert_allclose(acc, v * omega, rtol=1e-3)  # v^2 / r


def test_stencils_on_a_cubic():
    t = np.arange(12) / 10.0  # fps 10
    out = KinematicsExtractor(order=(1, 2, 3), velocity=True).fit_transform(_line_dataset(t**3))
    speed = out.speed.values[:, 0, 0]
    acc = out.acceleration.values[:, 0, 0]
    jerk = out.jerk.values[:, 0, 0]
    # central differences: exact for the jerk of a cubic, O(dt^2) for the rest
    np.testing.assert_allclose(jerk, 6.0, rtol=1e-9)  # one-sided third differences are exact too
    np.testing.assert_allclose(acc[1:-1], 6 * t[1:-1], rtol=1e-9)
    np.testing.assert_allclose(speed[1:-1], 3 * t[1:-1] ** 2 + 0.1**2, rtol=1e-9)  # central diff: 3t^2 + dt^2
    # edges: one-sided differences of the same order (documented), e.g. forward difference at frame 0
    assert speed[0] == pytest.approx((t[1] ** 3 - t[0] ** 3) * 10)
    assert acc[0] == pytest.approx(acc[1]) and acc[-1] == pytest.approx(acc[-2])
    np.testing.assert_allclose(out.velocity.sel(space="x").values[:, 0, 0], speed)
    np.testing.assert_allclose(out.velocity.sel(space="y").values, 0.0)
    assert out.velocity.dims == ("time", "space", "keypoint", "individual")


def test_nan_handling_follows_stencil():
    x = np.arange(20, dtype=float)
    x[10] = np.nan
    out = KinematicsExtractor(order=(1, 2)).fit_transform(_line_dataset(x))
    speed = out.speed.values[:, 0, 0]
    nan_frames = set(np.flatnonzero(np.isnan(speed)))
    assert nan_frames == {9, 10, 11}  # neighbours' stencils touch frame 10; frame 10 itself is missing
    np.testing.assert_allclose(np.delete(speed, [9, 10, 11]), 10.0)
    assert set(np.flatnonzero(np.isnan(out.acceleration.values[:, 0, 0]))) == {9, 10, 11}


def _reference_magnitudes(pos, fps):
    """Speed, acceleration and jerk of (T, S, K, I) positions frame by frame, straight from the documented stencils."""
    n_t = len(pos)
    d = {1: np.full(pos.shape, np.nan), 2: np.full(pos.shape, np.nan), 3: np.full(pos.shape, np.nan)}
    for t in range(n_t):
        d[1][t] = pos[1] - pos[0] if t == 0 else pos[-1] - pos[-2] if t == n_t - 1 else (pos[t + 1] - pos[t - 1]) / 2
        c = min(max(t, 1), n_t - 2)  # frames 0 and T-1 copy their neighbour's second difference
        d[2][t] = pos[c + 1] - 2 * pos[c] + pos[c - 1]
    for t in range(n_t):
        if t < 2:
            d[3][t] = d[2][t + 2] - d[2][t + 1]
        elif t >= n_t - 2:
            d[3][t] = d[2][t - 1] - d[2][t - 2]
        else:
            d[3][t] = (d[2][t + 1] - d[2][t - 1]) / 2
    missing = np.isnan(pos).any(axis=1)
    out = {}
    for order, values in d.items():
        magnitude = np.sqrt((values**2).sum(axis=1)) * fps**order
        magnitude[missing] = np.nan  # a missing point has no kinematics, whatever the stencil reads
        out[order] = magnitude
    return out


def test_gaps_and_edges_match_the_documented_stencils_frame_by_frame():
    rng = np.random.default_rng(4)
    pos = rng.normal(size=(41, 2, 3, 2)).cumsum(axis=0)
    for t, k, i in [(0, 0, 0), (1, 1, 0), (2, 2, 1), (20, 0, 1), (39, 1, 1), (40, 2, 0), (21, 0, 1)]:
        pos[t, :, k, i] = np.nan
    pos[30, 1, 1, 0] = np.nan  # one coordinate only
    ds = make_poses_dataset(pos, keypoints=["a", "b", "c"], individuals=["m", "n"], fps=25.0)
    out = KinematicsExtractor(order=(1, 2, 3), velocity=True).fit_transform(ds)
    expected = _reference_magnitudes(pos, 25.0)
    for order, name in [(1, "speed"), (2, "acceleration"), (3, "jerk")]:
        np.testing.assert_allclose(out[name].values, expected[order], rtol=1e-12, atol=0, err_msg=name)
    velocity = out.velocity.values  # (T, S, K, I): its length is the speed (NaN where the speed is)
    np.testing.assert_allclose(np.sqrt((velocity**2).sum(axis=1)), expected[1], rtol=1e-12)
    assert np.isnan(velocity[:, :, 0, 0][[0, 1, 2]]).all(axis=1).tolist() == [True, True, False]
    assert np.isfinite(out.speed.values[2:19, 0, 0]).all()  # the gaps do not spread beyond their stencils


def test_without_fps_units_are_per_frame():
    ds = make_synthetic_poses(50, speed=100.0, fps=None, random_state=0)
    out = KinematicsExtractor(order=(1, 2)).fit_transform(ds)
    np.testing.assert_allclose(out.speed.values, 100.0 / 25.0)  # generated at 25 fps, 4 px per frame
    assert out.speed.attrs["units"] == "pixels/frame" and out.acceleration.attrs["units"] == "pixels/frame^2"


def test_keypoint_subset_keeps_axis_and_leaves_others_nan():
    ds = make_synthetic_poses(30, speed=100.0, random_state=0)
    out = KinematicsExtractor(keypoints=["Nose", "Center"]).fit_transform(ds)
    assert out.speed.sizes["keypoint"] == 14
    assert np.isfinite(out.speed.sel(keypoint=["Nose", "Center"]).values).all()
    assert np.isnan(out.speed.sel(keypoint="Tail_tip").values).all()


def test_features_tabulate_with_readable_names():
    ds = make_synthetic_poses(30, scenario="follow", random_state=0)
    out = KinematicsExtractor(order=(1, 2)).fit_transform(ds)
    tab = FeatureTabulator(variables=["speed", "acceleration"]).fit(out)
    names = list(tab.get_feature_names_out())
    assert names[0] == "speed[mouse1,Nose]" and "acceleration[mouse2,Tail_tip]" in names
    assert tab.transform(out).shape == (30, 2 * 2 * 14)


# -- DeepOF's rolling speed ------------------------------------------------------------------------------------
def test_deepof_method_matches_a_hand_computation():
    """x = triangular numbers / 7 at 10 fps, computed step by step as DeepOF's ``rolling_speed`` does it.

    d[t] = (x[t] - x[t-2]) / 2 = (2t - 1) / 14; the trailing 3-frame mean at t is (2t - 3) / 14, rounded to 3
    decimals: 0.357, 0.5, 0.643, 0.786, 0.929, 1.071 mm/frame for t = 4..9, times 10 fps. The second order
    repeats the operator on those rounded values: |0.643 - 0.357| / 2 = 0.143, ... -> mean 0.143 -> 1.43.
    """
    t = np.arange(10)
    out = KinematicsExtractor(order=(1, 2), method="deepof").fit_transform(_line_dataset(t * (t + 1) / 2 / 7))
    speed = out.speed.values[:, 0, 0]
    np.testing.assert_array_equal(np.isnan(speed), t < 4)
    np.testing.assert_allclose(speed[4:], [3.57, 5.0, 6.43, 7.86, 9.29, 10.71], rtol=0, atol=1e-12)
    acc = out.acceleration.values[:, 0, 0]
    np.testing.assert_array_equal(np.isnan(acc), t < 8)
    np.testing.assert_allclose(acc[8:], [1.43, 1.43], rtol=0, atol=1e-12)
    assert out.speed.attrs["units"] == "mm/s" and out.acceleration.attrs["units"] == "mm/s/frame"


def test_deepof_method_reproduces_deepof_supervised_speed(shared_reference):
    """DeepOF's ``speed`` column on its own test recording, reproduced exactly from its processed coordinates.

    The column of ``supervised_annotation`` is not the speed of Center: it is the per-frame median of
    ``rolling_speed`` over the 11 body parts left after excluding the tail chain (reference inventory §3,
    behaviour ``speed``); Center alone differs from it by up to ~60 % (checked below, so the statement stays
    true). With that definition the agreement is exact (to float rounding) on every frame from frame 4. The only
    residual is frames 0-3, where the 2-frame shift and the 3-frame trailing mean leave no value: DeepOF fills
    them with 0 in the supervised table, ``method="deepof"`` leaves them NaN.
    """
    ds = _read_processed_reference(shared_reference)
    supervised = pd.read_csv(shared_reference / "deepof-outputs" / "single_test_supervised.csv", index_col=0)
    expected = supervised["speed"].to_numpy()
    out = KinematicsExtractor(method="deepof").fit_transform(ds)
    median = np.median(out.speed.transpose("time", "keypoint", "individual").values[:, :, 0], axis=1)
    assert np.isnan(median[:4]).all() and (expected[:4] == 0).all()
    np.testing.assert_allclose(median[4:], expected[4:], rtol=1e-12, atol=1e-9)
    assert np.abs(median[4:] - expected[4:]).max() <= 0.01 * np.abs(expected[4:]).max()  # the 1 % criterion
    centre = out.speed.sel(keypoint="Center").values[4:, 0]
    assert np.max(np.abs(centre - expected[4:]) / np.maximum(expected[4:], 1e-9)) > 0.3
    # DeepOF's "distance" column is the same speed per frame
    np.testing.assert_allclose(median[4:] / 25.0, supervised["distance"].to_numpy()[4:], atol=1e-9)


# -- real data -------------------------------------------------------------------------------------------------
def test_real_dlc_recording_gives_finite_kinematics(shared_data):
    ds = _read_dlc_single(shared_data / "deepof" / "testDLC_h5_table.h5")
    assert np.isfinite(ds.position.values).all()
    for method in ("gradient", "deepof"):
        out = KinematicsExtractor(order=(1, 2, 3), method=method).fit_transform(ds)
        for name in ("speed", "acceleration", "jerk"):
            values = out[name].values
            first = 0 if method == "gradient" else 4 * {"speed": 1, "acceleration": 2, "jerk": 3}[name]
            assert np.isfinite(values[first:]).all(), (method, name)
            assert (values[first:] >= 0).all()


def test_processed_reference_gradient_speed_close_to_deepof_speed(shared_reference):
    """Central differences and DeepOF's smoothed estimate agree on the median speed to within a few percent."""
    ds = _read_processed_reference(shared_reference)
    grad = np.median(KinematicsExtractor().fit_transform(ds).speed.values[4:, :, 0], axis=1)
    deep = np.median(KinematicsExtractor(method="deepof").fit_transform(ds).speed.values[4:, :, 0], axis=1)
    assert np.isfinite(grad).all()
    assert abs(np.mean(grad) - np.mean(deep)) < 0.1 * np.mean(deep)


# -- bad input -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "params, match",
    [
        (dict(order=4), r"`order` must be 1, 2 or 3"),
        (dict(order=()), r"`order` must be 1, 2 or 3"),
        (dict(keypoints=["Nose", "Paw", "Ear"]), r"KinematicsExtractor: `keypoints` names \['Ear', 'Paw'\]"),
        (dict(method="deepof", velocity=True), "velocity=True needs method='gradient'"),
    ],
)
def test_bad_parameters(params, match):
    ds = make_synthetic_poses(20, random_state=0)
    with pytest.raises(ValueError, match=match):
        KinematicsExtractor(**params).fit(ds)


def test_too_short_recording():
    with pytest.raises(ValueError, match="order 3 needs at least 5 frames"):
        KinematicsExtractor(order=3).fit_transform(_line_dataset([0.0, 1.0, 2.0, 3.0]))


def test_kinematics_of_scalar_variables():
    """variables=["distance", "angle"]: absolute rates of change with the variable's dims (DeepOF's
    get_distances(speed=1)); a rigid walker has constant within-body distances, so their speed is 0."""
    import pandas as pd

    from deepof_sk.datasets import make_synthetic_poses
    from deepof_sk.features import AngleExtractor, DistanceExtractor, KinematicsExtractor

    ds = make_synthetic_poses(200, scenario="walk", speed=120.0, fps=25, random_state=0)
    ds = AngleExtractor().fit_transform(DistanceExtractor(pairs="skeleton").fit_transform(ds))
    out = KinematicsExtractor(order=(1, 2), variables=["distance", "angle"]).fit_transform(ds)
    assert out.distance_speed.dims == ds.distance.dims and out.angle_acceleration.dims == ds.angle.dims
    assert "speed" not in out  # position kinematics only when asked for
    np.testing.assert_allclose(out.distance_speed.values, 0.0, atol=1e-9)
    assert out.distance_speed.attrs["units"] == "pixels/s"
    # a distance growing linearly by 2 px per frame: speed 2 * fps everywhere
    ramp = ds.copy()
    ramp["distance"] = ds.distance.copy(data=np.broadcast_to(2.0 * np.arange(200.0)[:, None, None],
                                                            ds.distance.shape).copy())
    speed = KinematicsExtractor(order=1, variables="distance").fit_transform(ramp).distance_speed
    np.testing.assert_allclose(speed.values, 50.0)
    # DeepOF's definition on a scalar: |x[t] - x[t-2]| / 2, trailing 3-frame mean, 3 decimals, times fps
    deepof = KinematicsExtractor(order=1, method="deepof", variables="distance").fit_transform(ds).distance_speed
    col = pd.Series(ds.distance.values[:, 0, 0])
    expected = (col.diff(2).abs() / 2).rolling(3).mean().round(3) * 25
    np.testing.assert_allclose(deepof.values[:, 0, 0], expected.to_numpy(), equal_nan=True)


def test_kinematics_of_missing_variable_is_a_clear_error():
    from deepof_sk.datasets import make_synthetic_poses
    from deepof_sk.features import KinematicsExtractor

    ds = make_synthetic_poses(50, fps=25, random_state=0)
    with pytest.raises(ValueError, match=r"KinematicsExtractor: `variables` names 'distance'.*DistanceExtractor"):
        KinematicsExtractor(variables=["distance"]).fit_transform(ds)
