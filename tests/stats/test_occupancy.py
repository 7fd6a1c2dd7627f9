"""Time budgets and bouts on hand-computable label sequences."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from deepof_sk.stats import behaviors_to_states, compute_occupancy, find_bouts, make_time_bins


def test_states_frames_time_fraction_bouts():
    occ = compute_occupancy([np.array([0, 0, 1, 1, 1, 0, 2, 2])], fps=4.0, states=[0, 1, 2, 3])
    got = occ.set_index("behavior")
    assert got.loc[0, "frames"] == 3 and got.loc[0, "n_bouts"] == 2
    assert got.loc[1, "time_s"] == 0.75 and got.loc[1, "mean_bout_s"] == 0.75
    assert got.loc[2, "fraction"] == 0.25
    # a state never visited still gets a row, with zero time and NaN mean bout
    assert got.loc[3, "frames"] == 0 and got.loc[3, "n_bouts"] == 0 and np.isnan(got.loc[3, "mean_bout_s"])
    assert got.loc[0, "bouts_per_min"] == pytest.approx(2 / (8 / 4 / 60))


def test_unlabelled_frames_are_excluded_and_break_bouts():
    lab = np.array([1, 1, np.nan, 1, 0, -1, 0])
    got = compute_occupancy([lab], fps=1.0).set_index("behavior")
    assert got.loc[1, "n_frames"] == 5  # NaN and -1 frames are not labelled time
    assert got.loc[1, "fraction"] == pytest.approx(3 / 5)
    assert got.loc[1, "n_bouts"] == 2 and got.loc[0, "n_bouts"] == 2


def test_string_states_and_none():
    lab = np.array(["walk", "walk", None, "rest"], dtype=object)
    got = compute_occupancy([lab]).set_index("behavior")
    assert list(got.index) == ["rest", "walk"]
    assert got.loc["walk", "frames"] == 2 and np.isnan(got.loc["walk", "time_s"])  # no fps: no seconds


def test_per_animal_labels_and_per_animal_conditions():
    labels = [np.array([[0, 1], [0, 1], [1, 1]]), np.array([[1, 0], [1, 0], [1, 0]])]
    cond = pd.DataFrame({
        "recording_id": ["a", "a", "b", "b"],
        "individual": ["m1", "m2", "m1", "m2"],
        "genotype": ["wt", "ko", "wt", "ko"],
    })
    occ = compute_occupancy(labels, conditions=cond)
    row = occ[(occ.recording_id == "a") & (occ.individual == "m2") & (occ.behavior == 1)].iloc[0]
    assert row["genotype"] == "ko" and row["frames"] == 3
    assert list(occ.columns[:4]) == ["recording_id", "individual", "genotype", "behavior"]


def test_behaviour_masks_overlap_and_social_pair_dim():
    masks = xr.DataArray(
        np.array([[[1, 0], [1, 1]], [[1, 0], [0, np.nan]], [[0, 1], [0, np.nan]]], dtype=float),
        dims=("time", "behavior", "individual"),
        coords={"behavior": ["climb", "sniff"], "individual": ["m1", "m2"]},
    )
    occ = compute_occupancy([masks], fps=1.0).set_index(["individual", "behavior"])
    assert occ.loc[("m1", "climb"), "frames"] == 2 and occ.loc[("m1", "sniff"), "frames"] == 1
    assert occ.loc[("m2", "sniff"), "n_frames"] == 1  # NaN frames are unlabelled for that behaviour only
    social = xr.DataArray(np.array([[1.0], [1.0], [0.0]]), dims=("time", "behavior"),
                          coords={"behavior": ["nose2nose"]}).expand_dims(pair=["m1-m2"], axis=2)
    got = compute_occupancy([social]).iloc[0]
    assert got["individual"] == "m1-m2" and got["frames"] == 2


def test_dataframe_masks():
    table = pd.DataFrame({"climbing": [0, 1, 1, 0], "huddle": [1, 1, 0, 0]})
    occ = compute_occupancy([table], fps=2.0).set_index("behavior")
    assert occ.loc["climbing", "time_s"] == 1.0 and occ.loc["huddle", "n_bouts"] == 1


def test_time_bins_cut_bouts_and_cumulative_growing_window():
    lab = [np.array([0, 0, 1, 1, 1, 1, 0, 0])]
    bins = make_time_bins(lab, fps=1.0, bin_size=4)
    occ = compute_occupancy(lab, fps=1.0, time_bins=bins).set_index(["bin", "behavior"])
    assert occ.loc[(0, 1), "frames"] == 2 and occ.loc[(1, 1), "frames"] == 2
    assert occ.loc[(0, 1), "n_bouts"] == 1 and occ.loc[(1, 1), "n_bouts"] == 1  # cut at the bin edge
    assert occ.loc[(1, 0), "bin_start_s"] == 4.0 and occ.loc[(1, 0), "bin_stop_s"] == 8.0
    cum = compute_occupancy(lab, fps=1.0, time_bins=bins, cumulative=True).set_index(["bin", "behavior"])
    assert cum.loc[(1, 1), "frames"] == 4 and cum.loc[(1, 1), "n_bouts"] == 1
    assert cum.loc[(1, 1), "fraction"] == 0.5


def test_find_bouts_and_min_duration():
    bouts = find_bouts([np.array([0, 0, 1, 1, 1, 0]), np.array([1, 1])], fps=2.0, min_duration=1.0)
    assert bouts[["recording", "behavior", "start", "stop"]].values.tolist() == [[0, 0, 0, 2], [0, 1, 2, 5],
                                                                                 [1, 1, 0, 2]]
    assert bouts["duration_s"].tolist() == [1.0, 1.5, 1.0]


def test_behaviors_to_states_priority_and_unlabelled():
    masks = xr.DataArray([[1.0, 0.0], [1.0, 1.0], [0.0, 0.0], [np.nan, np.nan]], dims=("time", "behavior"),
                         coords={"behavior": ["walk", "sniff"]})
    states = behaviors_to_states(masks).values.tolist()
    assert states[:3] == ["walk", "walk", "none"] and pd.isna(states[3])
    assert behaviors_to_states([masks], priority=["sniff"])[0].values.tolist()[:2] == ["walk", "sniff"]


def test_errors_are_clear():
    with pytest.raises(ValueError, match="same kind"):
        compute_occupancy([np.array([0, 1]), pd.DataFrame({"a": [0, 1]})])
    with pytest.raises(ValueError, match=r"not in `states`"):
        compute_occupancy([np.array([0, 5])], states=[0, 1])
    with pytest.raises(TypeError, match="one array"):
        compute_occupancy(42)
    with pytest.raises(ValueError, match="time_bins"):
        compute_occupancy([np.array([0, 1])], time_bins=[np.array([0, 0]), np.array([0])])


def test_continuous_annotations_have_no_time_budget():
    """DeepOFAnnotator's distance/speed/cum-distance are values, not events: occupancy covers the binary ones."""
    from deepof_sk.annotation import DeepOFAnnotator
    from deepof_sk.datasets import make_synthetic_poses

    ds = make_synthetic_poses(300, scenario="walk", speed=120.0, fps=25, px_per_mm=1.0, random_state=0)
    ds.attrs["space_unit"] = "mm"
    ann = DeepOFAnnotator(arena="auto").fit_transform(ds)
    kinds = dict(zip(ann.behavior.values, ann.behavior_kind.values, strict=True))
    assert {"speed", "distance"} <= {b for b, k in kinds.items() if k == "continuous"}
    table = compute_occupancy([ann])
    assert set(table["behavior"]) == {b for b, k in kinds.items() if k == "binary"}
    moving = table.loc[table["behavior"] == "moving", "fraction"]
    assert ((moving >= 0) & (moving <= 1)).all()
