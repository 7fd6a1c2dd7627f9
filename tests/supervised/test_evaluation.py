"""Bout-level F1, per-behaviour reports, grouped cross-validation reports, blocked splits, learning curves."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import GridSearchCV, GroupKFold, cross_validate

from deepof_sk import schema as S
from deepof_sk.datasets import make_synthetic_poses
from deepof_sk.supervised import (
    BodyMotionExtractor,
    FrameClassifier,
    behavior_report,
    bout_f1_score,
    bout_scores,
    cross_validate_report,
    frame_learning_curve,
    frame_scoring,
    make_bout_scorer,
    split_in_time,
)


def test_bout_scores_by_hand():
    t = np.array([0, 1, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 1, 1])
    p = np.array([0, 1, 1, 0, 0, 0, 0, 0, 1, 0, 0, 1, 0, 0])
    # true bouts [1,4) [6,8) [10,14); predicted [1,3) [8,9) [11,12)
    # IoU: [1,3) vs [1,4) = 2/3 (match); [11,12) vs [10,14) = 1/4 (no); [8,9) touches nothing
    s = bout_scores(t, p)
    assert (s["n_true"], s["n_pred"], s["n_matched"]) == (3, 3, 1)
    assert s["f1"] == pytest.approx(1 / 3)
    assert bout_scores(t, p, iou=0.2)["n_matched"] == 2
    assert bout_f1_score(t, t) == 1.0
    assert bout_f1_score(np.zeros(5), np.zeros(5)) == 0.0
    # sequences of recordings pool bouts; a (T,) truth broadcasts over the animals of a (T, 2) prediction
    s2 = bout_scores([t, t], [p, t])
    assert (s2["n_true"], s2["n_matched"]) == (6, 4)
    assert bout_scores([t], [np.c_[t, t]])["n_true"] == 6


def test_matching_is_one_to_one():
    t = np.array([1, 1, 1, 1, 1, 1, 0])
    p = np.array([1, 1, 1, 0, 1, 1, 0])  # two predicted bouts inside one true bout: only one may match
    s = bout_scores(t, p, iou=0.3)
    assert s["n_matched"] == 1 and s["n_pred"] == 2


def test_behavior_report_single_target_and_multi_behaviour():
    t = np.array([0, 1, 1, 0, 0, 1, 1, 1])
    p = np.array([0, 1, 0, 0, 1, 1, 1, 1])
    rep = behavior_report(t, p)
    assert rep.index.tolist() == [1]
    assert rep.loc[1, "precision"] == pytest.approx(4 / 5) and rep.loc[1, "recall"] == pytest.approx(4 / 5)
    multi = pd.DataFrame({"a": t, "b": 1 - t})
    rep2 = behavior_report([multi], [np.c_[p, 1 - p]], behaviors=["a", "b"])
    assert rep2.index.tolist() == ["a", "b"]
    assert rep2.loc["a", "f1"] == pytest.approx(rep.loc[1, "f1"])
    cls = behavior_report(np.array(list("aabbcc")), np.array(list("aabbcb")))
    assert cls.loc["c", "recall"] == 0.5 and cls.loc["b", "precision"] == pytest.approx(2 / 3)
    # unlabelled truth frames are not scored
    tn = t.astype(float)
    tn[4] = np.nan
    assert behavior_report(tn, p).loc[1, "precision"] == 1.0


def _recordings(n=4):
    recs, ys = [], []
    for i in range(n):
        parts = [make_synthetic_poses(60, scenario=s, fps=20, speed=150.0, random_state=i) for s in ("still", "walk")]
        ds = parts[0].copy()
        pos = np.concatenate([p.position.values for p in parts])
        ds = make_synthetic_poses(120, scenario="walk", fps=20, random_state=i)
        ds["position"] = (ds.position.dims, pos + np.random.default_rng(i).normal(0, 0.3, pos.shape))
        recs.append(ds)
        ys.append(np.r_[np.ones(60), np.zeros(60)].astype(int))
    return recs, ys


def _clf():
    from sklearn.ensemble import HistGradientBoostingClassifier

    return FrameClassifier(HistGradientBoostingClassifier(max_iter=10), features=BodyMotionExtractor(spans=(0.2,)),
                           variables="motion", windows=(0.5,), statistics=("mean",))


def test_cross_validate_report_and_scorers():
    recs, ys = _recordings()
    rep = cross_validate_report(_clf(), recs, ys, groups=[0, 0, 1, 1])
    assert rep["fold"].tolist() == [0, 1, "pooled"]
    assert rep["held_out"].iloc[0] == [0] and rep["behavior"].iloc[0] == 1
    assert (rep["f1"] > 0.9).all() and (rep["bout_f1"] > 0.5).all()
    res = cross_validate(_clf(), recs, ys, groups=[0, 0, 1, 1], cv=GroupKFold(2), scoring=frame_scoring())
    assert {"test_precision", "test_recall", "test_f1", "test_bout_f1"} <= set(res)
    search = GridSearchCV(_clf(), {"windows": [(0.5,), (1.0,)]}, cv=GroupKFold(2), scoring=make_bout_scorer())
    search.fit(recs, ys, groups=[0, 0, 1, 1])
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()


def test_split_in_time_and_learning_curve():
    recs, ys = _recordings(2)
    blocks, labels, groups = split_in_time(recs, ys, n_blocks=3)
    assert len(blocks) == 6 and groups.tolist() == [0, 1, 2, 0, 1, 2]
    assert [b.sizes[S.TIME] for b in blocks] == [40, 40, 40] * 2
    np.testing.assert_array_equal(labels[1], ys[0][40:80])
    assert blocks[1].attrs["block_frames"] == [40, 80]
    with pytest.raises(ValueError, match="n_blocks"):
        split_in_time(recs, n_blocks=1)
    curve = frame_learning_curve(_clf(), *_recordings(3), train_sizes=[1, 2])
    assert curve["n_train_recordings"].tolist() == [1, 1, 1, 2, 2, 2]
    assert curve["test_score"].between(0, 1).all()
