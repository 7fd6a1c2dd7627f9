"""The pipeline contract end to end on real data: GridSearchCV over a preprocessing setting with GroupKFold.

Data: BehaviorDEPOT demo2 (one mouse, 9 keypoints, 3,600 frames at 30 fps, DLC CSV) with per-frame human freezing
labels (hB_demo2_manual_annotations.mat), cut into six 600-frame recordings so that grouped cross-validation has
recordings to hold out.
"""

from __future__ import annotations

import io

import joblib
import numpy as np
import pytest
import scipy.io as sio
from sklearn.base import clone
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import f1_score
from sklearn.model_selection import GridSearchCV, GroupKFold, cross_validate
from sklearn.pipeline import Pipeline

from deepof_sk import schema as S
from deepof_sk.features import FeatureTabulator, RecordingSummarizer
from deepof_sk.io import read_poses
from deepof_sk.metrics import make_frame_scorer
from deepof_sk.preprocessing import RollingSmoother, SavgolSmoother
from deepof_sk.supervised import FramewiseEstimator

N_CHUNKS = 6


@pytest.fixture(scope="module")
def freezing(shared_data):
    folder = shared_data / "behaviordepot"
    ds = read_poses(folder / "demo2_tracking.csv", fps=30)
    labels = sio.loadmat(folder / "hB_demo2_manual_annotations.mat", simplify_cells=True)
    y = np.asarray(labels["hBehavior"]["Freezing"]["Vector"], dtype=int)
    assert y.shape == (ds.sizes[S.TIME],)
    bounds = np.linspace(0, ds.sizes[S.TIME], N_CHUNKS + 1).astype(int)
    recordings = [ds.isel({S.TIME: slice(a, b)}) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    targets = [y[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    groups = np.arange(N_CHUNKS)
    return recordings, targets, groups


class _Speed(RollingSmoother):
    """Frame-to-frame displacement of each keypoint, as a minimal motion feature for this test."""

    def _transform_recording(self, ds):
        out = super()._transform_recording(ds)
        disp = out[S.POSITION].diff(S.TIME).pipe(lambda d: (d**2).sum(S.SPACE, skipna=False) ** 0.5)
        out["displacement"] = disp.reindex({S.TIME: ds[S.TIME]})
        return out


def _pipeline():
    return Pipeline(
        [
            ("smooth", SavgolSmoother(window=5, polyorder=2)),
            ("motion", _Speed(window=15, statistic="mean")),
            (
                "clf",
                FramewiseEstimator(
                    HistGradientBoostingClassifier(max_iter=60, random_state=0),
                    tabulator=FeatureTabulator(variables=["displacement"]),
                ),
            ),
        ]
    )


def test_gridsearch_over_smoothing_window_with_groupkfold(freezing):
    recordings, targets, groups = freezing
    search = GridSearchCV(
        _pipeline(),
        {"smooth__window": [5, 15], "motion__window": [5, 31]},
        cv=GroupKFold(n_splits=3),
        scoring=make_frame_scorer(f1_score),
        n_jobs=1,
    )
    search.fit(recordings, targets, groups=groups)
    scores = search.cv_results_["mean_test_score"]
    assert scores.shape == (4,) and np.isfinite(scores).all()
    assert search.best_params_["motion__window"] in (5, 31)
    # freezing is learnable from motion alone on held-out recordings (chance F1 would be ~0.5 or lower)
    assert search.best_score_ > 0.7
    # the refitted pipeline predicts one label per frame for every recording
    pred = search.predict(recordings)
    assert [p.shape for p in pred] == [t.shape for t in targets]


def test_groupkfold_holds_out_whole_recordings(freezing):
    recordings, targets, groups = freezing
    seen = []

    def record_split(estimator, X, y):
        seen.append({ds.attrs["chunk"] for ds in X})
        return 0.0

    tagged = []
    for i, ds in enumerate(recordings):
        ds = ds.copy()
        ds.attrs["chunk"] = i
        tagged.append(ds)
    res = cross_validate(
        _pipeline(), tagged, targets, groups=groups, cv=GroupKFold(n_splits=3),
        scoring=record_split, return_indices=True,
    )
    for train, test in zip(res["indices"]["train"], res["indices"]["test"], strict=True):
        assert set(train).isdisjoint(test)
        assert len(train) + len(test) == N_CHUNKS
    assert all(len(s) == 2 for s in seen)  # each test fold is 2 whole recordings


def test_recording_level_targets(freezing):
    recordings, targets, groups = freezing
    # label each recording by whether the mouse froze for more than a third of it
    condition = np.array([int(t.mean() > 1 / 3) for t in targets])
    pipe = Pipeline([("smooth", SavgolSmoother()), ("summary", RecordingSummarizer(variables="position")),
                     ("clf", HistGradientBoostingClassifier(max_iter=5, min_samples_leaf=1))])
    res = cross_validate(pipe, recordings, condition, groups=groups, cv=GroupKFold(n_splits=2))
    assert res["test_score"].shape == (2,)


def test_clone_params_and_persistence(freezing):
    recordings, targets, _ = freezing
    pipe = _pipeline()
    twin = clone(pipe).set_params(smooth__window=9, clf__estimator__max_iter=20)
    assert twin.get_params()["smooth__window"] == 9 and pipe.get_params()["smooth__window"] == 5
    assert twin.get_params()["clf__estimator__max_iter"] == 20
    twin.fit(recordings[:4], targets[:4])
    buf = io.BytesIO()
    joblib.dump(twin, buf)
    buf.seek(0)
    restored = joblib.load(buf)
    for a, b in zip(twin.predict(recordings[4:]), restored.predict(recordings[4:]), strict=True):
        np.testing.assert_array_equal(a, b)
    proba = restored.predict_proba(recordings[4])
    assert proba.shape == (recordings[4].sizes[S.TIME], 2)
