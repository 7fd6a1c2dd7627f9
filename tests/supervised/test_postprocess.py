"""Median and bout filters on predictions: binary, several classes, NaN, frame rates, annotated datasets."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from sklearn.pipeline import make_pipeline

from deepof_sk.datasets import make_synthetic_poses
from deepof_sk.supervised import BoutFilter, MedianLabelFilter, filter_bouts, median_filter_labels


def test_binary_median_by_hand():
    x = np.array([0, 1, 0, 0, 1, 1, 0, 1, 1])
    assert median_filter_labels(x, 3).tolist() == [0, 0, 0, 0, 1, 1, 1, 1, 1]
    assert median_filter_labels(x, 1).tolist() == x.tolist()
    cols = np.c_[x, 1 - x]
    out = median_filter_labels(cols, 3)
    assert out[:, 0].tolist() == [0, 0, 0, 0, 1, 1, 1, 1, 1]  # columns filtered independently
    assert out[:, 1].tolist() == [1, 1, 1, 1, 0, 0, 0, 0, 0]


def test_bouts_by_hand():
    x = np.array([1, 1, 0, 1, 1, 0, 0, 0, 1, 0])
    assert filter_bouts(x, min_bout=3, max_gap=1).tolist() == [1, 1, 1, 1, 1, 0, 0, 0, 0, 0]
    assert filter_bouts(x, min_bout=2).tolist() == [1, 1, 0, 1, 1, 0, 0, 0, 0, 0]
    # a gap at the edge is not between two bouts and is never filled
    assert filter_bouts(np.array([0, 1, 1, 0]), max_gap=5).tolist() == [0, 1, 1, 0]


def test_several_classes_use_majority_and_merge_short_runs():
    x = np.array(list("aaabaacccdcc"))
    assert "".join(median_filter_labels(x, 3)) == "aaaaaacccccc"
    assert "".join(filter_bouts(x, 2)) == "aaaaaacccccc"
    assert "".join(filter_bouts(np.array(list("baaacc")), 2)) == "aaaacc"  # a short leading run takes the next


def test_nan_stays_nan():
    x = np.array([np.nan, 1, 1, 0, 1, np.nan, 0, 0, 1])
    out = filter_bouts(x, min_bout=2, max_gap=1)
    np.testing.assert_array_equal(out, [np.nan, 1, 1, 1, 1, np.nan, 0, 0, 0])
    assert np.isnan(median_filter_labels(x, 3)[[0, 5]]).all()


def test_estimators_convert_seconds_with_the_labels_fps():
    x = np.array([0, 0, 1, 0, 1, 1, 1, 1, 0, 0], dtype=float)
    da = xr.DataArray(x, dims="time", attrs={"fps": 10.0})
    f = BoutFilter(min_bout=0.3).fit([da])  # 3 frames at 10 fps
    out = f.transform([da])[0]
    assert isinstance(out, xr.DataArray) and out.attrs["fps"] == 10.0
    assert out.values.tolist() == [0, 0, 0, 0, 1, 1, 1, 1, 0, 0]
    # plain arrays need fps= (or frames)
    with pytest.raises(ValueError, match="no frame rate"):
        BoutFilter(min_bout=0.3).fit([x]).transform([x])
    assert BoutFilter(min_bout=0.3, fps=10).fit([x]).transform([x])[0].tolist() == out.values.tolist()
    pipe = make_pipeline(MedianLabelFilter(window=3, unit="frames"), BoutFilter(min_bout=4, unit="frames"))
    assert pipe.fit([x]).transform([x])[0].tolist() == [0, 0, 0, 1, 1, 1, 1, 1, 0, 0]


def test_datasets_filter_binary_annotations_only():
    ds = make_synthetic_poses(20, fps=10, random_state=0)
    raw = np.zeros((20, 1, 2))
    raw[[3, 10, 11, 12, 13], 0, 0] = 1
    raw[:, 0, 1] = np.linspace(0, 1, 20)  # a continuous measure
    ds["annotation"] = xr.DataArray(raw, dims=("time", "individual", "behavior"),
                                    coords={"behavior": ["still", "speed"],
                                            "behavior_kind": ("behavior", ["binary", "continuous"])})
    out = BoutFilter(min_bout=0.3).fit(ds).transform(ds)
    assert np.flatnonzero(out.annotation.sel(behavior="still").values[:, 0]).tolist() == [10, 11, 12, 13]
    np.testing.assert_array_equal(out.annotation.sel(behavior="speed"), ds.annotation.sel(behavior="speed"))
    assert ds.annotation.sel(behavior="still").values[3, 0] == 1  # the input is untouched


def test_wrong_input_is_a_type_error():
    with pytest.raises(TypeError, match="MedianLabelFilter"):
        MedianLabelFilter().fit(np.zeros((10, 3)))
    with pytest.raises(TypeError, match="BoutFilter"):
        BoutFilter().fit([{"a": 1}])
