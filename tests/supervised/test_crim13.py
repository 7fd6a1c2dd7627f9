"""End to end on CRIM13 resident-intruder clips (two mice, SimBA-format per-frame labels): read, featurise per
animal and between animals, train one classifier per behaviour, predict, report per held-out recording.

The clips are tiny (3 x 101 frames) and mostly ``sniff``; they check the pipeline, not the accuracy. Their frame
rate is not stored in the files; 25 fps (CRIM13's) is assumed.
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.pipeline import make_pipeline
from threadpoolctl import threadpool_limits

from deepof_sk.features import DistanceExtractor
from deepof_sk.io import read_simba, read_simba_labels
from deepof_sk.supervised import (
    BehaviorProfiler,
    BodyMotionExtractor,
    BoutFilter,
    FrameClassifier,
    cross_validate_report,
)

BEHAVIORS = ["sniff", "approach", "chase"]


@pytest.fixture(autouse=True)
def _one_thread():
    with threadpool_limits(1):
        yield


@pytest.fixture(scope="module")
def crim13(shared_data):
    files = sorted((shared_data / "dlc2action_crim13").glob("Tvideo_*_trim.csv"))
    assert len(files) == 3
    return [read_simba(f, fps=25) for f in files], [read_simba_labels(f) for f in files]


def _classifier(behaviors=BEHAVIORS):
    features = make_pipeline(
        BodyMotionExtractor(use_keypoints="all"),
        DistanceExtractor(pairs=None, inter_animal=[("Nose", "Nose"), ("Nose", "Tail_base")]),
    )
    return FrameClassifier(
        HistGradientBoostingClassifier(max_iter=30, min_samples_leaf=5, random_state=0),
        features=features, variables=["motion", "social_distance"], per_individual=False, behaviors=behaviors,
        windows=(0.5, 1.0), statistics=("mean", "std"), postprocess=BoutFilter(min_bout=0.2),
    )


def test_trains_and_predicts_every_behaviour(crim13):
    X, Y = crim13
    assert X[0].sizes["individual"] == 2 and Y[0].shape == (101, 11)
    clf = _classifier().fit(X, Y)
    assert clf.behaviors_ == BEHAVIORS and len(clf.estimators_) == 3
    assert any("social_distance" in n for n in clf.feature_names_in_)
    assert any("motion[1," in n for n in clf.feature_names_in_) and any("motion[2," in n for n in clf.feature_names_in_)
    pred = clf.predict(X)
    assert [p.shape for p in pred] == [(101, 3)] * 3
    proba = clf.predict_proba(X[1])
    assert proba.dims == ("time", "behavior") and list(proba.behavior.values) == BEHAVIORS
    # the training clips are learnt
    sniff = np.concatenate([y["sniff"].to_numpy() for y in Y])
    assert np.mean(np.concatenate([p[:, 0] for p in pred]) == sniff) > 0.9


def test_leave_one_recording_out_report(crim13):
    X, Y = crim13
    rep = cross_validate_report(_classifier(["sniff"]), X, Y)
    assert rep["fold"].tolist() == [0, 1, 2, "pooled"]
    pooled = rep.set_index("fold").loc["pooled"]
    assert pooled["support"] == 101 + 91 + 94 and pooled["f1"] > 0.8


def test_unknown_keypoints_and_animals_are_refused(crim13):
    X, Y = crim13
    clf = _classifier(["sniff"]).fit(X[:2], Y[:2])
    fewer = X[2].sel(keypoint=[k for k in X[2].keypoint.values if k != "Tail_end"])
    with pytest.raises(ValueError, match=r"missing keypoints \['Tail_end'\]"):
        clf.predict(fewer)
    renamed = X[2].assign_coords(individual=["resident", "intruder"])
    with pytest.raises(ValueError, match=r"missing individuals \['1', '2'\]"):
        clf.predict(renamed)


def test_profiles_of_the_predictions(crim13):
    X, Y = crim13
    clf = _classifier().fit(X, Y)
    prof = BehaviorProfiler(statistics=("fraction", "n_bouts"), fps=25.0)
    rows = prof.fit_transform([y[BEHAVIORS] for y in Y])
    assert rows.shape == (3, 6) and rows[0, 0] == 1.0  # clip 25 is sniff throughout
    import pandas as pd

    predicted = prof.transform([pd.DataFrame(p, columns=BEHAVIORS) for p in clf.predict(X)])
    assert predicted.shape == (3, 6)
    with pytest.raises(ValueError, match="not seen in fit"):
        prof.transform(list(clf.predict(X)))  # unnamed columns cannot be matched to the behaviours
