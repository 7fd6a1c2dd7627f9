"""Temporal context features: hand-computable windows, closing/opening semantics, NaN handling, names."""

from __future__ import annotations

import numpy as np
import pytest

from deepof_sk.supervised import add_temporal_context, temporal_context_names


def test_closing_marks_runs_at_least_as_long_as_the_window():
    speed = np.array([5, 0, 0, 0, 5, 0, 0, 5, 5, 0, 0, 0, 0, 5.0])[:, None]
    closing = add_temporal_context(speed, windows=(3,), statistics=("closing",), unit="frames",
                                   include_current=False)[:, 0]
    # below 1 exactly on runs of >= 3 frames below 1 (frames 1-3 and 9-12); the 2-frame run (5-6) is not
    assert np.flatnonzero(closing < 1).tolist() == [1, 2, 3, 9, 10, 11, 12]
    opening = add_temporal_context(-speed, windows=(3,), statistics=("opening",), unit="frames",
                                   include_current=False)[:, 0]
    np.testing.assert_array_equal(opening, -closing)  # opening is the dual of closing


def test_mean_std_min_max_and_lags_by_hand():
    x = np.arange(6, dtype=float)[:, None]
    out = add_temporal_context(x, windows=(3,), statistics=("mean", "std", "min", "max"), lags=(1, -2),
                               unit="frames")
    cur, mean, std, lo, hi, past, future = out.T
    np.testing.assert_array_equal(cur, x[:, 0])
    np.testing.assert_allclose(mean, [1 / 3, 1, 2, 3, 4, 14 / 3])  # edges repeat the end value
    np.testing.assert_allclose(std[2], np.std([1, 2, 3]))
    np.testing.assert_array_equal(lo, [0, 0, 1, 2, 3, 4])
    np.testing.assert_array_equal(hi, [1, 2, 3, 4, 5, 5])
    np.testing.assert_array_equal(past, [0, 0, 1, 2, 3, 4])
    np.testing.assert_array_equal(future, [2, 3, 4, 5, 5, 5])


def test_seconds_use_the_frame_rate_and_series_stay_separate():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(50, 2, 3))
    a = add_temporal_context(x, 10.0, windows=(0.5,), statistics=("mean",))
    b = add_temporal_context(x, windows=(5,), statistics=("mean",), unit="frames")
    np.testing.assert_array_equal(a, b)
    assert a.shape == (50, 2, 6)
    one = add_temporal_context(x[:, :1], 10.0, windows=(0.5,), statistics=("mean",))
    np.testing.assert_array_equal(one[:, 0], a[:, 0])  # animal 2 does not leak into animal 1


def test_names_follow_the_column_order():
    names = temporal_context_names(["a", "b"], windows=(1, 2), statistics=("mean", "closing"), lags=(0.5,))
    assert names == ["a", "b", "mean(a)@1s", "mean(b)@1s", "closing(a)@1s", "closing(b)@1s", "mean(a)@2s",
                     "mean(b)@2s", "closing(a)@2s", "closing(b)@2s", "lag(a)@0.5s", "lag(b)@0.5s"]
    out = add_temporal_context(np.zeros((20, 2)), 1.0, windows=(1, 2), statistics=("mean", "closing"), lags=(0.5,))
    assert out.shape[1] == len(names)


def test_nan_gaps_are_bridged_and_empty_columns_stay_nan():
    x = np.c_[np.arange(10, dtype=float), np.full(10, np.nan)]
    x[4, 0] = np.nan
    out = add_temporal_context(x, windows=(3,), statistics=("mean",), unit="frames")
    assert np.isnan(out[4, 0])  # the current value keeps its NaN
    assert out[4, 2] == pytest.approx(4.0)  # the window mean uses the interpolated value
    assert np.isnan(out[:, 1]).all() and np.isnan(out[:, 3]).all()


def test_bad_arguments_are_explained():
    with pytest.raises(ValueError, match="unknown `statistics`"):
        add_temporal_context(np.zeros((5, 1)), 1.0, statistics=("median",))
    with pytest.raises(ValueError, match="no valid frame rate"):
        add_temporal_context(np.zeros((5, 1)), None)
    with pytest.raises(ValueError, match="positive durations"):
        add_temporal_context(np.zeros((5, 1)), 1.0, windows=(-1,))
    with pytest.raises(ValueError, match="shape"):
        add_temporal_context(np.zeros(5), 1.0)
