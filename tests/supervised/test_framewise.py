"""FramewiseEstimator: per-frame labels over many recordings, without leakage."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.metrics import f1_score

from deepof_sk import schema as S
from deepof_sk.datasets import make_synthetic_poses
from deepof_sk.features import FeatureTabulator
from deepof_sk.metrics import make_frame_scorer, pool_frames
from deepof_sk.supervised import FramewiseEstimator


def _recordings(n=3, n_frames=80):
    recs, ys = [], []
    for i in range(n):
        ds = make_synthetic_poses(n_frames, scenario="explore", n_individuals=2, keypoints=["Nose", "Center"],
                                  random_state=i)
        x = ds[S.POSITION].sel(keypoint="Center", space="x").values  # (time, individual)
        recs.append(ds)
        ys.append((x > 0).astype(int))
    return recs, ys


def test_per_individual_labels_are_learnt():
    recs, ys = _recordings()
    est = FramewiseEstimator(LogisticRegression(max_iter=2000), tabulator=FeatureTabulator(variables="position",
                                                                             per_individual=True))
    est.fit(recs, ys)
    pred = est.predict(recs)
    assert [p.shape for p in pred] == [y.shape for y in ys]
    t, p = pool_frames(ys, pred)
    assert f1_score(t, p) > 0.95
    proba = est.predict_proba(recs[0])
    assert proba.shape == (80, 2, 2)
    assert list(est.classes_) == [0, 1]


def test_unlabelled_frames_are_skipped():
    recs, ys = _recordings(2)
    ys = [y[:, 0].astype(float) for y in ys]
    ys[0][:40] = np.nan
    est = FramewiseEstimator(LogisticRegression(max_iter=2000), tabulator=FeatureTabulator(variables="position")).fit(recs, ys)
    assert est.n_frames_fit_ == 40 + 80


def test_regressor_inside():
    recs, _ = _recordings(2)
    ys = [ds[S.POSITION].sel(keypoint="Nose", space="y", individual="mouse1").values for ds in recs]
    est = FramewiseEstimator(LinearRegression(), tabulator=FeatureTabulator(variables="position")).fit(recs, ys)
    assert est.score(recs, ys) > 0.999


def test_bad_labels_are_explained():
    recs, ys = _recordings(2)
    est = FramewiseEstimator(LogisticRegression(max_iter=2000), tabulator=FeatureTabulator(variables="position"))
    with pytest.raises(ValueError, match=r"labels have shape \(79,\), expected \(80,\)"):
        est.fit(recs, [ys[0][:, 0], ys[1][:-1, 0]])
    with pytest.raises(ValueError, match="2 label arrays for 1 recordings|got 2 label arrays"):
        est.fit(recs[:1], [y[:, 0] for y in ys])
    with pytest.raises(ValueError, match="single class"):
        est.fit(recs, [np.zeros(80), np.zeros(80)])
    with pytest.raises(ValueError, match="per-animal labels"):
        est.fit(recs, ys)
    with pytest.raises(ValueError, match="targets `y` are required"):
        est.fit(recs, None)


def test_frame_scorer_pools_recordings():
    recs, ys = _recordings(2)
    ys1 = [y[:, 0] for y in ys]
    est = FramewiseEstimator(LogisticRegression(max_iter=2000), tabulator=FeatureTabulator(variables="position")).fit(recs, ys1)
    scorer = make_frame_scorer(f1_score, average="macro")
    t, p = pool_frames(ys1, est.predict(recs))
    assert scorer(est, recs, ys1) == pytest.approx(f1_score(t, p, average="macro"))
    loss = make_frame_scorer(f1_score, greater_is_better=False)
    assert loss(est, recs, ys1) == pytest.approx(-f1_score(t, p))
    with pytest.raises(ValueError, match="response_method"):
        make_frame_scorer(f1_score, response_method="predict_log")
