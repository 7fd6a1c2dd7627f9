"""Behaviour profiles by hand, from label arrays, annotated recordings and classifiers; condition separability."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline

from deepof_sk.datasets import make_synthetic_poses
from deepof_sk.supervised import BehaviorProfiler, condition_separability


def test_profile_by_hand_from_label_arrays():
    # 2 fps: 8 frames = 4 s
    lab = pd.DataFrame({"freeze": [0, 1, 1, 0, 0, 1, 1, 1], "groom": [0, 0, 0, 0, 0, 0, 0, 0]})
    prof = BehaviorProfiler(statistics=("fraction", "bout_rate", "mean_bout_duration", "n_bouts"), fps=2.0)
    row = pd.Series(prof.fit_transform([lab])[0], index=prof.get_feature_names_out())
    assert row["fraction[freeze]"] == pytest.approx(5 / 8)
    assert row["n_bouts[freeze]"] == 2
    assert row["bout_rate[freeze]"] == pytest.approx(2 / (4 / 60))  # bouts per minute
    assert row["mean_bout_duration[freeze]"] == pytest.approx((1.0 + 1.5) / 2)
    assert row["fraction[groom]"] == 0 and row["mean_bout_duration[groom]"] == 0


def test_categories_nan_and_unseen_classes():
    labels = [np.array([0, 0, 1, 1, 2, 2, 2, 0]), np.array([2, 2, 2, 2, 1, 1, 0, 0])]
    prof = BehaviorProfiler(statistics=("fraction",), fps=2.0).fit(labels)
    assert prof.get_feature_names_out().tolist() == ["fraction[0]", "fraction[1]", "fraction[2]"]
    np.testing.assert_allclose(prof.transform(labels)[0], [3 / 8, 2 / 8, 3 / 8])
    with_nan = np.array([0, np.nan, 1, 1, 5])  # NaN leaves the time base; category 5 was not seen in fit
    np.testing.assert_allclose(prof.transform([with_nan])[0], [1 / 4, 2 / 4, 0])
    with pytest.raises(ValueError, match="no frame rate"):
        BehaviorProfiler().fit_transform(labels)


def test_annotated_recordings_and_classifier_annotators():
    recs = []
    for i in range(2):
        ds = make_synthetic_poses(40, n_individuals=2, fps=10, random_state=i)
        ann = np.zeros((40, 2, 2))
        ann[:10 * (i + 1), 0, 0] = 1
        ann[:, :, 1] = np.linspace(0, 1, 40)[:, None]  # continuous: skipped
        ds["annotation"] = xr.DataArray(ann, dims=("time", "individual", "behavior"),
                                        coords={"behavior": ["immobility", "speed"],
                                                "behavior_kind": ("behavior", ["binary", "continuous"])})
        recs.append(ds)
    prof = BehaviorProfiler(statistics=("fraction",)).fit(recs)
    assert prof.get_feature_names_out().tolist() == ["fraction[mouse1,immobility]", "fraction[mouse2,immobility]"]
    np.testing.assert_allclose(prof.transform(recs), [[0.25, 0.0], [0.5, 0.0]])
    with pytest.raises(ValueError, match="no `annotation` variable"):
        BehaviorProfiler().fit([r.drop_vars("annotation") for r in recs])

    class Still:  # a fitted "classifier": frames in the first quarter are 1
        classes_ = np.array([0, 1])

        def predict(self, ds):
            out = np.zeros((ds.sizes["time"], ds.sizes["individual"]), dtype=int)
            out[: ds.sizes["time"] // 4] = 1
            return out

        def __sklearn_is_fitted__(self):
            return True

    via = BehaviorProfiler(statistics=("fraction", "n_bouts"), annotator=FrozenEstimator(Still())).fit(recs)
    np.testing.assert_allclose(via.transform(recs[0]), [[0.25, 0.25, 1, 1]])


def test_profiles_feed_a_cross_validated_classifier():
    rng = np.random.default_rng(0)
    labels = [(rng.random(400) < (0.2 if i % 2 else 0.5)).astype(int) for i in range(12)]
    conditions = np.array([i % 2 for i in range(12)])
    pipe = make_pipeline(BehaviorProfiler(statistics=("fraction",), fps=10.0), LogisticRegression())
    scores = cross_val_score(pipe, labels, conditions, cv=3)
    assert scores.mean() == 1.0


def test_condition_separability_with_permutation_p_value():
    rng = np.random.default_rng(0)
    X = np.r_[rng.normal(0, 1, (12, 3)), rng.normal(2.5, 1, (12, 3))]
    y = np.r_[np.zeros(12), np.ones(12)]
    res = condition_separability(X, y, n_permutations=49, random_state=0)
    assert res.score > 0.85 and res.p_value == pytest.approx(1 / 50) and res.separable
    assert res.permutation_scores.shape == (49,) and res.cv_scores.shape == (5,)
    noise = condition_separability(rng.normal(size=(24, 3)), y, n_permutations=49, random_state=0)
    assert noise.p_value > 0.05 and not noise.separable
    with pytest.raises(ValueError, match="need at least two"):
        condition_separability(X, np.zeros(24))
    with pytest.raises(ValueError, match="do not align"):
        condition_separability(X, y[:5])


def test_passes_the_poses_contract_with_a_rule_annotator():
    from deepof_sk.annotation import ImmobilityAnnotator
    from deepof_sk.testing import check_poses_estimator

    check_poses_estimator(BehaviorProfiler(annotator=ImmobilityAnnotator()))
