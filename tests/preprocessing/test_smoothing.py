"""Savitzky-Golay and rolling smoothers: known answers, NaN rules, windows in frames and seconds."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import savgol_filter

from deepof_sk import schema as S
from deepof_sk.datasets import make_synthetic_poses
from deepof_sk.preprocessing import RollingSmoother, SavgolSmoother


@pytest.fixture
def noisy():
    return make_synthetic_poses(200, scenario="walk", noise=2.0, random_state=0, return_truth=True)


def test_savgol_preserves_a_straight_line_exactly():
    ds = make_synthetic_poses(100, scenario="walk", speed=80.0, random_state=0)
    out = SavgolSmoother(window=7, polyorder=1).fit_transform(ds)
    np.testing.assert_allclose(out[S.POSITION].values, ds[S.POSITION].values, atol=1e-9)


def test_savgol_matches_scipy_without_nans(noisy):
    ds, _ = noisy
    out = SavgolSmoother(window=9, polyorder=3).fit_transform(ds)
    expected = savgol_filter(ds[S.POSITION].values, 9, 3, axis=0, mode="interp")
    np.testing.assert_allclose(out[S.POSITION].values, expected)


def test_smoothing_reduces_noise(noisy):
    ds, truth = noisy
    for smoother in (SavgolSmoother(window=11, polyorder=2), RollingSmoother(window=7, statistic="mean")):
        out = smoother.fit_transform(ds)
        err_before = np.nanmean(np.abs(ds[S.POSITION].values - truth.position))
        err_after = np.nanmean(np.abs(out[S.POSITION].values - truth.position))
        assert err_after < 0.6 * err_before, type(smoother).__name__


def test_nan_points_stay_nan_and_do_not_spread():
    ds = make_synthetic_poses(120, scenario="walk", n_gaps=3, gap_length=4, random_state=2)
    for smoother in (SavgolSmoother(window=9), RollingSmoother(window=9)):
        out = smoother.fit_transform(ds)
        np.testing.assert_array_equal(np.isnan(out[S.POSITION].values), np.isnan(ds[S.POSITION].values))


def _savgol_reference(values, window, polyorder):
    """Per track: gaps filled linearly (ends: nearest valid value; an all-NaN track: zeros), scipy's filter,
    then NaN again wherever the input was NaN."""
    flat = values.reshape(values.shape[0], -1)
    out = np.empty_like(flat)
    t = np.arange(flat.shape[0])
    for c in range(flat.shape[1]):
        ok = ~np.isnan(flat[:, c])
        filled = np.interp(t, t[ok], flat[ok, c]) if ok.any() else np.zeros(len(t))
        out[:, c] = savgol_filter(filled, window, polyorder, mode="interp")
    out[np.isnan(flat)] = np.nan
    return out.reshape(values.shape)


@pytest.mark.parametrize("copy", [True, False])
@pytest.mark.parametrize("layout", ["schema", "transposed"])
def test_savgol_over_gaps_equals_the_per_track_reference(copy, layout):
    """Gaps, dropouts, an all-NaN track and a track missing at both ends, in place or not, in the schema's layout
    or another one: the filter runs over linearly filled gaps and leaves NaN exactly where the input had it."""
    ds = make_synthetic_poses(700, scenario="explore", n_individuals=2, noise=1.0, dropout_rate=0.05, n_gaps=8,
                              gap_length=9, random_state=5)
    pos = ds[S.POSITION]
    pos.loc[{S.KEYPOINT: "Nose", S.INDIVIDUAL: "mouse2"}] = np.nan
    pos.loc[{S.KEYPOINT: "Tail_tip", S.INDIVIDUAL: "mouse1", S.TIME: pos[S.TIME][:5]}] = np.nan
    pos.loc[{S.KEYPOINT: "Tail_tip", S.INDIVIDUAL: "mouse1", S.TIME: pos[S.TIME][-3:]}] = np.nan
    if layout == "transposed":
        ds = ds.transpose(S.KEYPOINT, S.TIME, S.INDIVIDUAL, S.SPACE)
    expected = _savgol_reference(ds[S.POSITION].transpose(*S.POSITION_DIMS).values, 9, 3)
    out = SavgolSmoother(window=9, polyorder=3, copy=copy).fit_transform(ds)
    got = out[S.POSITION].transpose(*S.POSITION_DIMS).values
    np.testing.assert_array_equal(np.isnan(got), np.isnan(expected))
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-9)


def test_all_nan_keypoint_stays_nan():
    ds = make_synthetic_poses(50, random_state=0)
    ds[S.POSITION].loc[{S.KEYPOINT: "Nose"}] = np.nan
    out = SavgolSmoother(window=5).fit_transform(ds)
    assert np.isnan(out[S.POSITION].sel({S.KEYPOINT: "Nose"})).all()
    assert np.isfinite(out[S.POSITION].sel({S.KEYPOINT: "Center"})).all()


def test_rolling_median_removes_single_frame_spikes():
    ds, truth = make_synthetic_poses(300, scenario="walk", n_spikes=15, random_state=4, return_truth=True)
    out = RollingSmoother(window=5, statistic="median").fit_transform(ds)
    err = np.hypot(*(out[S.POSITION].values - truth.position).transpose(1, 0, 2, 3))
    # the 80 mm spike is replaced by a neighbour's position: at most one frame's displacement (100 mm/s / 25 fps)
    assert err[truth.spike_mask].max() <= 4.0 + 1e-6
    assert np.hypot(*(ds[S.POSITION].values - truth.position).transpose(1, 0, 2, 3))[truth.spike_mask].min() > 79


def test_window_in_seconds_uses_fps():
    ds = make_synthetic_poses(100, noise=1.0, fps=30, random_state=0)
    by_seconds = SavgolSmoother(window=0.3, window_unit="seconds").fit_transform(ds)  # 9 frames
    by_frames = SavgolSmoother(window=9).fit_transform(ds)
    np.testing.assert_allclose(by_seconds[S.POSITION].values, by_frames[S.POSITION].values)


def test_window_errors():
    ds = make_synthetic_poses(20, random_state=0)
    with pytest.raises(ValueError, match="must be odd"):
        SavgolSmoother(window=6).fit_transform(ds)
    with pytest.raises(ValueError, match="longer than the recording"):
        SavgolSmoother(window=21).fit_transform(ds)
    with pytest.raises(ValueError, match="polyorder"):
        SavgolSmoother(window=5, polyorder=5).fit_transform(ds)
    with pytest.raises(ValueError, match="no frame rate"):
        SavgolSmoother(window=0.5, window_unit="seconds").fit_transform(make_synthetic_poses(50, fps=None))
    with pytest.raises(ValueError, match="window"):
        SavgolSmoother(window=-1).fit(ds)


def test_other_variables_can_be_smoothed():
    ds = make_synthetic_poses(60, dropout_rate=0.1, random_state=0)
    out = RollingSmoother(window=5, statistic="mean", variables=["confidence"]).fit_transform(ds)
    np.testing.assert_array_equal(out[S.POSITION].values, ds[S.POSITION].values)
    assert not np.allclose(out[S.CONFIDENCE].values, ds[S.CONFIDENCE].values)
    with pytest.raises(ValueError, match=r"\['speed'\]"):
        RollingSmoother(variables="speed").fit_transform(ds)


def test_two_d_table_input():
    rng = np.random.default_rng(0)
    table = np.cumsum(rng.normal(size=(50, 3)), axis=0)
    out = SavgolSmoother(window=5, polyorder=2).fit(table).transform(table)
    np.testing.assert_allclose(out, savgol_filter(table, 5, 2, axis=0, mode="interp"))


def test_log_records_the_step():
    ds = make_synthetic_poses(30, random_state=0)
    out = SavgolSmoother(window=5).fit_transform(ds)
    assert '"operation": "SavgolSmoother"' in out.attrs["log"]
    assert ds.attrs["log"] == "[]"


@pytest.mark.parametrize("n_frames", [100, 20])  # blocked taps with scipy's edge fit; scipy alone (short)
def test_savgol_float32_high_order_equals_float64(n_frames):
    """DeepOF's window 15 / polyorder 14: the edge polynomial fit must not run in float32 (it was off by pixels)."""
    ds = make_synthetic_poses(n_frames, scenario="explore", noise=1.0, px_per_mm=2.0, random_state=1)
    smoother = SavgolSmoother(window=15, polyorder=14)
    wide = smoother.fit_transform(ds)[S.POSITION].values
    narrow = smoother.fit_transform(ds.astype("float32"))[S.POSITION]
    assert narrow.dtype == np.float32
    np.testing.assert_allclose(narrow.values, wide, rtol=0, atol=1e-6 * np.abs(wide).max() * 8)


@pytest.mark.parametrize("window", [3, 15])
def test_polyorder_window_minus_one_is_the_exact_identity(window, shared_data):
    """DeepOF's default smoothing (window 15, polyorder 14) interpolates every window: the input comes back
    exactly (NaN included), and scipy's evaluation of the same filter agrees up to round-off."""
    from deepof_sk.io import read_poses

    ds = read_poses(shared_data / "deepof" / "testDLC_h5_table_madlc.h5")  # real tracks with NaN
    out = SavgolSmoother(window=window, polyorder=window - 1).fit_transform(ds)
    np.testing.assert_array_equal(out.position.values, ds.position.values)
    assert not np.shares_memory(out.position.values, ds.position.values)
    track = ds.position.values[:, 0, 0, 0]
    track = track[np.isfinite(track)]
    # scipy's degree-14 edge fit: round-off up to ~4e-4 px on 200-px coordinates (2e-6 relative)
    np.testing.assert_allclose(savgol_filter(track, window, window - 1, mode="interp"), track, rtol=0,
                               atol=1e-5 * np.abs(track).max())
