"""WindowFeaturizer and LagFeaturizer: values against pandas' rolling/shift, NaN edges, naming, bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from deepof_sk import make_poses_dataset
from deepof_sk.datasets import make_synthetic_poses
from deepof_sk.features import (
    DistanceExtractor,
    FeatureTabulator,
    KinematicsExtractor,
    LagFeaturizer,
    WindowFeaturizer,
)
from deepof_sk.features._windows import rolling_statistics


def _speed_dataset(n=300, seed=0, fps=25):
    ds = make_synthetic_poses(n, scenario="explore", n_individuals=2, noise=1.0, n_gaps=5, gap_length=4, fps=fps,
                              random_state=seed)
    return KinematicsExtractor().fit_transform(ds)


def _pandas_rolling(values, n, stat, min_periods):
    frame = pd.DataFrame(values)
    rolled = frame.rolling(n, center=True, min_periods=min_periods)
    out = getattr(rolled, stat)(**({"ddof": 0} if stat == "std" else {})).to_numpy(copy=True)
    h = n // 2
    out[:h] = np.nan
    out[len(out) - h:] = np.nan
    return out


@pytest.mark.parametrize("n", [1, 3, 7])
@pytest.mark.parametrize("min_periods", [None, 2])
def test_rolling_statistics_match_pandas(n, min_periods):
    rng = np.random.default_rng(0)
    values = rng.normal(500.0, 3.0, size=(200, 6))  # large offset: checks the std has no cancellation
    values[rng.random(values.shape) < 0.1] = np.nan
    mp = n if min_periods is None else min(min_periods, n)
    got = rolling_statistics(values, n, ["mean", "std", "min", "max"], mp)
    for stat in ("mean", "std", "min", "max"):
        np.testing.assert_allclose(got[stat], _pandas_rolling(values, n, stat, mp), rtol=1e-9, atol=1e-9,
                                   equal_nan=True, err_msg=stat)


def test_window_featurizer_values_edges_and_names():
    ds = _speed_dataset()
    out = WindowFeaturizer(variables=["speed"], window=5, statistics=("mean", "std", "min", "max")).fit_transform(ds)
    for stat in ("mean", "std", "min", "max"):
        var = out[f"speed_{stat}_w5"]
        assert var.dims == ds.speed.dims and var.attrs["units"] == ds.speed.attrs["units"]
        assert "5 frames" in var.attrs["long_name"]
        flat = ds.speed.values.reshape(ds.sizes["time"], -1)
        np.testing.assert_allclose(var.values.reshape(flat.shape), _pandas_rolling(flat, 5, stat, 5),
                                   rtol=1e-9, atol=1e-9, equal_nan=True)
        assert np.isnan(var.values[:2]).all() and np.isnan(var.values[-2:]).all()
    np.testing.assert_array_equal(out.time.values, ds.time.values)


def test_window_in_seconds_and_min_periods():
    ds = _speed_dataset(fps=30)
    out = WindowFeaturizer(variables="speed", window=0.2, window_unit="seconds", min_periods=3).fit_transform(ds)
    var = out["speed_mean_w0.2s"]
    assert var.attrs["window_frames"] == 7  # 0.2 s x 30 fps = 6 -> nearest odd 7
    flat = ds.speed.values.reshape(ds.sizes["time"], -1)
    np.testing.assert_allclose(var.values.reshape(flat.shape), _pandas_rolling(flat, 7, "mean", 3),
                               rtol=1e-9, equal_nan=True)
    # a NaN inside the window is skipped once min_periods is reached
    assert np.isfinite(var.values[3:-3]).mean() > np.isfinite(ds.speed.values[3:-3]).mean()


def test_window_default_variables_skip_confidence():
    ds = DistanceExtractor(inter_animal=False).fit_transform(make_synthetic_poses(40, random_state=0))
    out = WindowFeaturizer(statistics="max").fit_transform(ds)
    new = sorted(set(out.data_vars) - set(ds.data_vars))
    assert new == ["distance_max_w5", "position_max_w5"]
    tab = FeatureTabulator(variables=new).fit(out)
    assert "distance_max_w5[mouse1,Nose-Left_ear]" in tab.get_feature_names_out()


def test_window_errors():
    ds = _speed_dataset(n=40)
    with pytest.raises(ValueError, match=r"`window`=41 frames .* longer than the recording"):
        WindowFeaturizer(variables="speed", window=41).fit(ds)
    with pytest.raises(ValueError, match="must be odd"):
        WindowFeaturizer(variables="speed", window=4).fit(ds)
    with pytest.raises(ValueError, match=r"WindowFeaturizer: `variables` names \['angle'\]"):
        WindowFeaturizer(variables=["speed", "angle"]).fit(ds)
    with pytest.raises(ValueError, match=r"unknown statistics \['median'\]"):
        WindowFeaturizer(statistics=("mean", "median")).fit(ds)
    no_fps = make_synthetic_poses(40, fps=None, random_state=0)
    with pytest.raises(ValueError, match="no frame rate"):
        WindowFeaturizer(window=0.2, window_unit="seconds").fit(no_fps)


def test_lags_and_leads():
    ds = _speed_dataset(n=60)
    out = LagFeaturizer(variables="speed", lags=(1, 3, -2)).fit_transform(ds)
    flat = ds.speed.values.reshape(60, -1)
    for name, shift in (("speed_lag1", 1), ("speed_lag3", 3), ("speed_lead2", -2)):
        var = out[name]
        assert var.dims == ds.speed.dims and var.attrs["units"] == ds.speed.attrs["units"]
        expected = pd.DataFrame(flat).shift(shift).to_numpy()
        np.testing.assert_array_equal(var.values.reshape(flat.shape), expected)
    assert np.isnan(out.speed_lag3.values[:3]).all() and np.isnan(out.speed_lead2.values[-2:]).all()


def test_lag_in_seconds_and_integer_variables():
    pos = np.arange(20, dtype=float).reshape(20, 1, 1, 1).repeat(2, axis=1)
    ds = make_poses_dataset(pos, keypoints=["k"], individuals=["m"], fps=10)
    ds["count"] = ("time", np.arange(20))
    out = LagFeaturizer(variables=["count"], lags=0.3, lag_unit="seconds").fit_transform(ds)
    assert out["count_lag0.3s"].attrs["lag_frames"] == 3
    np.testing.assert_array_equal(out["count_lag0.3s"].values[3:], np.arange(17))
    assert np.isnan(out["count_lag0.3s"].values[:3]).all()


def test_lag_errors():
    ds = _speed_dataset(n=30)
    with pytest.raises(ValueError, match=r"lag 30 frames is 30 frames, not shorter than the recording"):
        LagFeaturizer(variables="speed", lags=30).fit(ds)
    with pytest.raises(ValueError, match="non-zero"):
        LagFeaturizer(lags=(0, 1)).fit(ds)
    with pytest.raises(ValueError, match="must be integers"):
        LagFeaturizer(lags=1.5).fit(ds)


def test_windows_and_lags_in_a_pipeline_tabulate():
    from sklearn.pipeline import make_pipeline

    recs = [make_synthetic_poses(80, scenario="follow", random_state=s) for s in (0, 1)]
    pipe = make_pipeline(
        KinematicsExtractor(),
        WindowFeaturizer(variables="speed", window=9, statistics=("mean", "max")),
        LagFeaturizer(variables="speed_mean_w9", lags=(2,)),
        FeatureTabulator(variables=["speed", "speed_mean_w9", "speed_max_w9", "speed_mean_w9_lag2"]),
    )
    table = pipe.fit_transform(recs)
    assert table.shape == (160, 4 * 2 * 14)
    names = list(pipe[-1].get_feature_names_out())
    assert "speed_mean_w9_lag2[mouse2,Center]" in names
