"""Transition matrices, steady state and entropy on sequences with known answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from deepof_sk.stats import (
    compute_enrichment,
    compute_entropy,
    compute_entropy_rate,
    compute_steady_state,
    compute_transitions,
    summarize_transitions,
)


def test_frame_and_bout_counts():
    seq = np.array([0, 0, 1, 1, 1, 2, 0])
    counts = compute_transitions([seq], normalize=False).sel(group="all").values
    np.testing.assert_array_equal(counts, [[1, 1, 0], [0, 2, 1], [1, 0, 0]])
    bouts = compute_transitions([seq], normalize=False, level="bout").sel(group="all").values
    np.testing.assert_array_equal(bouts, [[0, 1, 0], [0, 0, 1], [1, 0, 0]])
    P = compute_transitions([seq], self_transitions=False).sel(group="all").values
    np.testing.assert_allclose(P, [[0, 1, 0], [0, 0, 1], [1, 0, 0]])


def test_unlabelled_frames_break_the_sequence():
    seq = np.array([0, np.nan, 1, 1, -1, 0])
    counts = compute_transitions([seq], normalize=False).sel(group="all").values
    np.testing.assert_array_equal(counts, [[0, 0], [0, 1]])
    bouts = compute_transitions([seq], normalize=False, level="bout").sel(group="all").values
    assert bouts.sum() == 0


def test_groups_by_condition_and_track():
    labels = [np.array([0, 1, 0, 1]), np.array([0, 0, 0, 1]), np.array([1, 1, 1, 1])]
    cond = pd.DataFrame({"recording_id": ["r0", "r1", "r2"], "group": ["a", "a", "b"]})
    P = compute_transitions(labels, conditions=cond, by="group", normalize=False)
    assert P.dims == ("group", "from_behavior", "to_behavior") and list(P.group.values) == ["a", "b"]
    np.testing.assert_array_equal(P.sel(group="a").values, [[2, 3], [1, 0]])
    tracks = compute_transitions(labels, conditions=cond, by="track")
    assert list(tracks["recording_id"].values) == ["r0", "r1", "r2"]
    with pytest.raises(ValueError, match="neither"):
        compute_transitions(labels, conditions=cond, by="sex")


def test_steady_state_entropy_and_rate():
    P = np.array([[0.9, 0.1], [0.5, 0.5]])
    np.testing.assert_allclose(compute_steady_state(P), [5 / 6, 1 / 6])
    periodic = np.array([[0.0, 1.0], [1.0, 0.0]])  # oscillates: the lazy chain still converges
    np.testing.assert_allclose(compute_steady_state(periodic), [0.5, 0.5])
    assert compute_entropy([0.25] * 4) == pytest.approx(2.0)
    assert compute_entropy([1.0, 0.0]) == 0.0
    assert float(compute_entropy_rate(np.eye(3))) == pytest.approx(0.0)
    da = compute_transitions([np.array([0, 1, 0, 1, 1])], by="track")
    ss = compute_steady_state(da)
    assert ss.dims == ("group", "behavior") and float(ss.sum()) == pytest.approx(1.0)
    assert compute_entropy(ss).dims == ("group",)
    empty_rows = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    np.testing.assert_allclose(compute_steady_state(empty_rows), [0.5, 0.5, 0.0], atol=1e-9)


def test_summarize_then_compare_entropy_between_conditions():
    rng = np.random.default_rng(0)
    labels = [rng.integers(0, 4, 400) for _ in range(6)] + [np.tile([0, 1], 200) for _ in range(6)]
    cond = pd.DataFrame({"recording_id": [f"m{i}" for i in range(12)], "group": ["random"] * 6 + ["rigid"] * 6})
    table = summarize_transitions(labels, conditions=cond)
    assert list(table.columns) == ["recording_id", "individual", "group", "n_transitions", "stationary_entropy",
                                   "entropy_rate"]
    assert table.loc[table.group == "rigid", "entropy_rate"].max() == pytest.approx(0.0)
    res = compute_enrichment(table, condition="group", value="entropy_rate")
    assert len(res) == 1 and res["significant"].iloc[0]


def test_behaviour_masks_are_refused():
    masks = xr.DataArray(np.ones((3, 2)), dims=("time", "behavior"), coords={"behavior": ["a", "b"]})
    with pytest.raises(ValueError, match="behaviors_to_states"):
        compute_transitions([masks])
