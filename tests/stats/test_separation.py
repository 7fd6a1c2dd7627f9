"""Condition separation is cross-validated: a real difference is detected, a null one is not inflated."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from deepof_sk.stats import compute_occupancy, compute_separation, make_time_bins

from .cohort import make_cohort


def test_separation_detects_a_planted_profile_difference():
    labels, cond = make_cohort(8, effect=1.5, random_state=3, n_frames=1500)
    occ = compute_occupancy(labels, fps=25, conditions=cond)
    res = compute_separation(occ, condition="condition", n_permutations=20, random_state=0)
    assert res["metric"].item() == "roc_auc" and res["score"].item() > 0.85 and res["p_value"].item() < 0.1


def test_null_separation_is_not_in_sample_optimism():
    rng = np.random.default_rng(0)
    wide = pd.DataFrame(rng.normal(size=(12, 10)), columns=[f"b{i}" for i in range(10)])
    wide["group"] = ["a", "b"] * 6
    res = compute_separation(wide, condition="group", features=[f"b{i}" for i in range(10)], n_permutations=0,
                             random_state=0)
    # an in-sample AUC of 10 features on 12 animals is 1.0; held out it stays near chance
    assert res["score"].item() < 0.85 and np.isnan(res["p_value"].item())


def test_separation_per_bin_and_per_animal_groups():
    labels, cond = make_cohort(6, effect=1.5, random_state=4, n_frames=1000)
    bins = make_time_bins(labels, fps=25, n_bins=2)
    occ = compute_occupancy(labels, fps=25, conditions=cond, time_bins=bins, cumulative=True)
    res = compute_separation(occ, condition="condition", by="bin", cv=3, n_permutations=0, random_state=0)
    assert res["bin"].tolist() == [0, 1] and (res["n_splits"] == 3).all()


def test_errors():
    t = pd.DataFrame({"recording_id": ["a", "b", "c"], "behavior": 0, "fraction": [0.1, 0.2, 0.3],
                      "group": ["x", "x", "y"]})
    with pytest.raises(ValueError, match="at least 2 per condition"):
        compute_separation(t, condition="group")
    with pytest.raises(ValueError, match="no column"):
        compute_separation(t, condition="sex")
