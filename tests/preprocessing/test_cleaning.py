"""ConfidenceFilter, OutlierFilter and PresenceMasker on synthetic recordings with planted faults."""

from __future__ import annotations

import numpy as np
import pytest

from deepof_sk.datasets import make_synthetic_poses
from deepof_sk.exceptions import DataQualityWarning, MissingDataWarning
from deepof_sk.preprocessing import ConfidenceFilter, OutlierFilter, PresenceMasker


def _masked(ds):
    """(time, keypoint, individual): True where any coordinate is NaN."""
    return ds.position.isnull().any("space").transpose("time", "keypoint", "individual").values


# -- ConfidenceFilter ------------------------------------------------------------------------------------------
def test_confidence_filter_masks_exactly_the_dropouts():
    ds, truth = make_synthetic_poses(600, n_individuals=2, scenario="turn", dropout_rate=0.05, random_state=1,
                                     return_truth=True)
    out = ConfidenceFilter(threshold=0.6).fit_transform(ds)
    np.testing.assert_array_equal(_masked(out), truth.dropout_mask)
    # kept points are untouched, confidence is passed through
    keep = ~truth.dropout_mask
    np.testing.assert_array_equal(out.position.values.transpose(0, 2, 3, 1)[keep],
                                  ds.position.values.transpose(0, 2, 3, 1)[keep])
    np.testing.assert_array_equal(out.confidence.values, ds.confidence.values)


def test_confidence_filter_nan_confidence_means_not_provided():
    ds = make_synthetic_poses(50, random_state=0)
    ds["confidence"][:] = np.nan
    assert not _masked(ConfidenceFilter().fit_transform(ds)).any()
    with pytest.warns(MissingDataWarning, match="ConfidenceFilter"):
        out = ConfidenceFilter(nan_confidence="zero").fit_transform(ds)
    assert _masked(out).all()


def test_confidence_filter_warns_when_a_keypoint_is_mostly_masked():
    ds = make_synthetic_poses(100, random_state=0)
    ds["confidence"].loc[{"keypoint": "Nose"}] = 0.2
    with pytest.warns(MissingDataWarning, match=r"ConfidenceFilter.*Nose/mouse1 \(100%\)"):
        ConfidenceFilter(threshold=0.6).fit_transform(ds)
    assert issubclass(MissingDataWarning, DataQualityWarning)


# -- OutlierFilter ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "params, max_fp_rate",
    [
        # DeepOF's rule: |residual| > mean + 3 std flags ~0.27 % of Gaussian noise per coordinate (x OR y: ~0.54 %)
        # plus a few neighbours of each spike, which the 5-frame mean is pulled towards. Measured: 263 of 41,940
        # clean points (0.63 %); with the moving median 361 (0.86 %: its residuals are wider on a curved path).
        ({}, 0.01),
        ({"reference": "median"}, 0.01),
        # speed rule (600 mm/s, the turn walks at 100 mm/s): measured 0 false positives.
        ({"method": "speed", "max_speed": 600.0}, 0.0),
    ],
)
def test_outlier_filter_removes_planted_spikes(params, max_fp_rate):
    """60 single-frame spikes of 80 mm among 42,000 points (2 mice x 14 keypoints x 1,500 frames, 0.5 mm noise).

    Recall is 1.0 (60/60) for every variant; false positives on the 41,940 clean points are 0.63 % (mean) and
    0.86 % (median) for the residual rule, an inherent 3-sigma rate, and 0 for the speed rule.
    """
    ds, truth = make_synthetic_poses(1500, scenario="turn", n_individuals=2, noise=0.5, n_spikes=60,
                                     random_state=0, return_truth=True)
    out = OutlierFilter(**params).fit_transform(ds)
    flagged = _masked(out)
    assert flagged[truth.spike_mask].mean() == 1.0
    clean = ~truth.spike_mask
    assert flagged[clean].mean() <= max_fp_rate


def test_outlier_filter_speed_rule_hand_computed():
    """x moves 1 px/frame; frame 3 is missing; frame 5 jumps to 50. Limit 10 px/frame."""
    from deepof_sk.validation import make_poses_dataset

    x = np.array([0, 1, 2, np.nan, 4, 50, 6, 7, 8.0])
    pos = np.stack([x, np.zeros_like(x)], axis=1)[:, :, None, None]
    ds = make_poses_dataset(pos, fps=25)
    out = OutlierFilter(method="speed", max_speed=10.0, speed_unit="per_frame").fit_transform(ds)
    flagged = np.isnan(out.position.values[:, 0, 0, 0])
    np.testing.assert_array_equal(np.flatnonzero(flagged), [3, 5])  # 3 was NaN already; 4 (2 frames after 2) kept
    fast = OutlierFilter(method="speed", max_speed=10.0 * 25).fit_transform(ds)  # the same limit per second
    np.testing.assert_array_equal(np.isnan(fast.position.values[:, 0, 0, 0]), flagged)


def test_outlier_filter_deepof_zero_padding_masks_the_ends():
    ds = make_synthetic_poses(60, scenario="walk", random_state=0)
    out = OutlierFilter(edge_mode="zeros").fit_transform(ds)
    m = _masked(out)
    assert m[[0, 1, 58, 59]].all()  # DeepOF's np.convolve(mode="same") residuals at the ends are huge
    assert not m[2:58].any()
    assert not _masked(OutlierFilter().fit_transform(ds)).any()  # the default line fit at the ends does not


def test_outlier_filter_likelihood_tolerance_and_nan_confidence():
    ds = make_synthetic_poses(80, scenario="walk", random_state=0)
    ds["confidence"][10] = 0.5
    ds["confidence"][20] = np.nan
    m = _masked(OutlierFilter(likelihood_tol=0.75).fit_transform(ds))
    assert m[10].all() and not m[20].any()
    m = _masked(OutlierFilter(likelihood_tol=0.75, nan_confidence="zero").fit_transform(ds))
    assert m[10].all() and m[20].all()


def test_speed_rule_with_likelihood_tolerance_masks_either():
    """method="speed" with likelihood_tol: the speed rule's points (no mask built for it alone) or low scores."""
    ds = make_synthetic_poses(300, scenario="explore", n_individuals=2, noise=0.5, n_spikes=20, random_state=4)
    ds["confidence"][40:45] = 0.5
    speed = _masked(OutlierFilter(method="speed", max_speed=400.0).fit_transform(ds))
    both = _masked(OutlierFilter(method="speed", max_speed=400.0, likelihood_tol=0.75).fit_transform(ds))
    before = _masked(ds)
    low = (ds.confidence.transpose("time", "keypoint", "individual").values < 0.75)
    assert (speed & ~before).sum() >= 10 and low.sum() >= 5 * 28
    np.testing.assert_array_equal(both, speed | low)


def test_outlier_filter_warns_naming_the_keypoint():
    ds = make_synthetic_poses(200, scenario="walk", random_state=0)
    ds["confidence"].loc[{"keypoint": "Tail_tip"}] = 0.1
    with pytest.warns(MissingDataWarning, match=r"OutlierFilter.*Tail_tip/mouse1.*likelihood_tol"):
        OutlierFilter(likelihood_tol=0.75).fit_transform(ds)


def test_outlier_filter_speed_needs_max_speed_and_fps():
    ds = make_synthetic_poses(50, random_state=0)
    with pytest.raises(ValueError, match=r"OutlierFilter.*max_speed"):
        OutlierFilter(method="speed").fit(ds)
    no_fps = make_synthetic_poses(50, fps=None, random_state=0)
    with pytest.raises(ValueError, match=r"OutlierFilter.*frame rate"):
        OutlierFilter(method="speed", max_speed=10.0).fit_transform(no_fps)
    out = OutlierFilter(method="speed", max_speed=10.0, speed_unit="per_frame").fit_transform(no_fps)
    assert not _masked(out).any()  # 100 mm/s at 25 fps is 4 mm per frame


def test_outlier_filter_window_longer_than_recording_is_a_clear_error():
    ds = make_synthetic_poses(20, random_state=0)
    with pytest.raises(ValueError, match=r"OutlierFilter: `window`=41 frames is 41 frames, longer than"):
        OutlierFilter(window=41).fit_transform(ds)
    with pytest.raises(ValueError, match=r"OutlierFilter.*must be odd"):
        OutlierFilter(window=4).fit_transform(ds)


# -- PresenceMasker --------------------------------------------------------------------------------------------
def test_presence_masker_uses_the_median_confidence_per_animal():
    ds = make_synthetic_poses(60, scenario="nose_to_nose", random_state=0)
    kps = list(ds.keypoint.values)
    # frames 10-19: 8 of 14 keypoints of mouse2 low -> median low -> absent; frames 30-39: 5 of 14 -> present
    ds["confidence"].loc[{"individual": "mouse2", "keypoint": kps[:8], "time": ds.time[10:20]}] = 0.1
    ds["confidence"].loc[{"individual": "mouse2", "keypoint": kps[:5], "time": ds.time[30:40]}] = 0.1
    out = PresenceMasker(threshold=0.5).fit_transform(ds)
    absent = out.position.isnull().all(["space", "keypoint"]).transpose("time", "individual").values
    expected = np.zeros((60, 2), bool)
    expected[10:20, 1] = True
    np.testing.assert_array_equal(absent, expected)
    assert not out.position.sel(individual="mouse1").isnull().any()


def test_presence_masker_equals_the_nanmedian_rule_on_random_scores(monkeypatch):
    from deepof_sk.utils import _blocks

    monkeypatch.setattr(_blocks, "BLOCK_BYTES", 1)  # many small blocks
    monkeypatch.setattr(_blocks, "MIN_BLOCK_FRAMES", 9)
    rng = np.random.default_rng(4)
    ds = make_synthetic_poses(301, scenario="explore", n_individuals=3, random_state=4)
    conf = np.round(rng.random(ds.confidence.shape), 1)  # ties at the threshold
    conf[rng.random(conf.shape) < 0.2] = np.nan
    conf[50:60, :, 1] = np.nan  # no score at all for one animal: cannot judge, kept
    ds["confidence"] = (ds.confidence.dims, conf)
    out = PresenceMasker(threshold=0.5, warn_fraction=None).fit_transform(ds)
    with np.errstate(all="ignore"), pytest.warns(RuntimeWarning):
        median = np.nanmedian(ds.confidence.transpose("time", "individual", "keypoint").values, axis=-1)
    absent = median <= 0.5
    masked = out.position.isnull().all(["space", "keypoint"]).transpose("time", "individual").values
    np.testing.assert_array_equal(masked, absent)
    assert absent.any() and (~absent).any() and not masked[50:60, 1].any()


def test_presence_masker_nan_confidence():
    ds = make_synthetic_poses(40, random_state=0)
    ds["confidence"][5:10] = np.nan
    assert not _masked(PresenceMasker().fit_transform(ds)).any()  # cannot judge: kept
    out = PresenceMasker(nan_confidence="zero", warn_fraction=None).fit_transform(ds)
    assert _masked(out)[5:10].all() and not _masked(out)[10:].any()


def test_presence_masker_warns_when_an_animal_is_mostly_absent():
    ds = make_synthetic_poses(40, random_state=0)
    ds["confidence"][:30] = 0.2
    with pytest.warns(MissingDataWarning, match=r"PresenceMasker.*mouse1 \(75%\)"):
        PresenceMasker().fit_transform(ds)


# -- shared NaN behaviour --------------------------------------------------------------------------------------
@pytest.mark.parametrize("est", [ConfidenceFilter(), OutlierFilter(), OutlierFilter(method="speed", max_speed=500.0),
                                 PresenceMasker()], ids=lambda e: type(e).__name__)
def test_all_nan_individual_warns_and_passes_through(est):
    ds = make_synthetic_poses(300, scenario="turn", n_individuals=2, noise=0.5, dropout_rate=0.02, random_state=0)
    expected = est.fit_transform(ds).position.sel(individual="mouse1")
    ds["position"].loc[{"individual": "mouse2"}] = np.nan
    with pytest.warns(MissingDataWarning, match=rf"{type(est).__name__}: individual\(s\) \['mouse2'\]"):
        out = est.fit_transform(ds)
    assert out.position.sel(individual="mouse2").isnull().all()
    # the other animal is processed exactly as if its neighbour were fine
    np.testing.assert_array_equal(out.position.sel(individual="mouse1").values, expected.values)


def _transposed_rule(est, pos, n):
    """The residual rule on the transposed (space x track, time) rows, one block: the reference for the rule the
    filter evaluates by time blocks in the recording's own layout."""
    T, n_space = pos.shape[:2]
    rows = np.ascontiguousarray(pos.reshape(T, n_space, -1).transpose(2, 1, 0)).reshape(-1, T)
    beyond = est._beyond(rows, n).reshape(-1, n_space, T)
    flagged = beyond.any(axis=1) if est.combine == "any" else beyond.all(axis=1)
    return flagged.T.reshape(T, *pos.shape[2:])


@pytest.mark.parametrize("seed", range(12))
def test_time_major_moving_mean_rule_equals_the_transposed_rule(seed, monkeypatch):
    from deepof_sk.preprocessing._cleaning import _moving_mean_outliers
    from deepof_sk.utils import _blocks

    rng = np.random.default_rng(seed)
    T, n = int(rng.integers(30, 1500)), int(rng.choice([3, 5, 7, 11]))
    ds = make_synthetic_poses(T, scenario="explore", n_individuals=2, noise=float(rng.uniform(0.1, 2)),
                              dropout_rate=float(rng.choice([0.0, 0.05, 0.2])), n_gaps=int(rng.integers(0, 4)),
                              n_spikes=int(rng.integers(0, 30)), random_state=seed)
    pos = np.ascontiguousarray(ds.position.transpose("time", "space", "keypoint", "individual").values)
    pos = pos.astype("float32" if seed % 2 else "float64")
    pos[:, :, 3, 1] = np.nan  # an empty track
    pos[: n + 2, :, 2, 0] = np.nan  # missing over the first windows
    est = OutlierFilter(edge_mode=["zeros", "interp"][seed % 2 == 0], combine=["any", "all"][seed % 3 == 0],
                        n_std=float(rng.uniform(1, 4)))
    if seed % 3:
        monkeypatch.setattr(_blocks, "BLOCK_BYTES", 1)
        monkeypatch.setattr(_blocks, "MIN_BLOCK_FRAMES", 5)  # many blocks, shorter than some windows' halo
    got = _moving_mean_outliers(pos.reshape(T, -1), n, 2, est.edge_mode, est.n_std, est.combine)
    expected = _transposed_rule(est, pos, n)
    np.testing.assert_array_equal(got.reshape(expected.shape), expected)
    assert expected.any()


@pytest.mark.parametrize("name", ["jabs/sample_pose_est_v5.h5", "behaviordepot/demo2_tracking.csv",
                                  "deepof/testDLC_h5_table_madlc.h5"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_time_major_moving_mean_rule_equals_the_transposed_rule_on_real_tracks(name, dtype, shared_data):
    from deepof_sk.io import read_poses
    from deepof_sk.preprocessing._cleaning import _moving_mean_outliers

    ds = read_poses(shared_data / name, dtype=dtype)
    pos = np.ascontiguousarray(ds.position.transpose("time", "space", "keypoint", "individual").values)
    for edge_mode, combine in [("zeros", "any"), ("interp", "all")]:
        est = OutlierFilter(edge_mode=edge_mode, combine=combine)
        got = _moving_mean_outliers(pos.reshape(len(pos), -1), 5, 2, edge_mode, 3.0, combine)
        expected = _transposed_rule(est, pos, 5)
        np.testing.assert_array_equal(got.reshape(expected.shape), expected)
        assert expected.any()


@pytest.mark.parametrize("copy", [True, False])
@pytest.mark.parametrize("layout", ["schema", "transposed"])
def test_masked_position_writes_exactly_the_masked_points(copy, layout):
    from deepof_sk.preprocessing._cleaning import mask_hits, masked_fraction, masked_position

    rng = np.random.default_rng(5)
    base = rng.normal(size=(50, 2, 4, 3))
    base[rng.random(base.shape) < 0.1] = np.nan  # some points already missing (not "newly" masked)
    mask = rng.random((50, 4, 3)) < 0.3
    # the same values, C-ordered or in the reverse memory layout (a transposed view, as xarray gives for a dataset
    # whose dims are in another order)
    position = base.copy() if layout == "schema" else np.ascontiguousarray(base.T).T
    assert position.flags.c_contiguous == (layout == "schema")
    expected = np.where(mask[:, None], np.nan, base)
    fraction = masked_fraction(position, mask_hits(mask))
    np.testing.assert_allclose(fraction, (mask & np.isfinite(base).all(axis=1)).mean(axis=0), rtol=0, atol=1e-15)
    out = masked_position(position, mask, copy=copy)
    np.testing.assert_array_equal(out, expected)
    assert (out is position) == (not copy)
    if copy:  # the input is untouched
        np.testing.assert_array_equal(position, base)
