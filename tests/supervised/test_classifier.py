"""FrameClassifier: shapes, several behaviours, class weights, context in seconds, schema checks, bad input,
persistence, parallel work and grid search over post-processing."""

from __future__ import annotations

import io

import joblib
import numpy as np
import pandas as pd
import pytest
import xarray as xr
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import GridSearchCV, GroupKFold
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from threadpoolctl import threadpool_limits

from deepof_sk import schema as S
from deepof_sk.datasets import make_synthetic_poses
from deepof_sk.exceptions import MissingDataWarning
from deepof_sk.metrics import make_frame_scorer
from deepof_sk.supervised import BodyMotionExtractor, BoutFilter, FrameClassifier, MedianLabelFilter


@pytest.fixture(autouse=True)
def _one_thread():
    with threadpool_limits(1):  # small fits: OpenMP threads only add contention
        yield


def freezing_recording(seed, n_frames=300, n_individuals=1, fps=20.0, px_per_mm=1.0):
    """An exploring animal that stops dead for 1-2.5 s at random times; labels = 1 while it stops."""
    ds = make_synthetic_poses(n_frames, scenario="explore", n_individuals=n_individuals, fps=fps, noise=0.3,
                              px_per_mm=px_per_mm, random_state=seed)
    rng = np.random.default_rng(seed)
    pos = ds[S.POSITION].values.copy()
    y = np.zeros((n_frames, n_individuals), dtype=int)
    for i in range(n_individuals):
        t = int(rng.integers(5, 30))
        while t < n_frames - 30:
            length = int(rng.integers(int(fps), int(2.5 * fps)))
            pos[t:t + length, :, :, i] = pos[t, :, :, i] + rng.normal(0, 0.3 * px_per_mm, pos[t:t + length, :, :, i].shape)
            y[t:t + length, i] = 1
            t += length + int(rng.integers(int(fps), 3 * int(fps)))
    ds[S.POSITION] = ds[S.POSITION].copy(data=pos)
    return ds, (y[:, 0] if n_individuals == 1 else y)


def small_clf(**kw):
    params = dict(estimator=HistGradientBoostingClassifier(max_iter=30, random_state=0),
                  features=BodyMotionExtractor(spans=(0.2,)), variables="motion", windows=(0.5, 1.0),
                  statistics=("closing", "mean"))
    params.update(kw)
    return FrameClassifier(**params)


def data(n=3, **kw):
    pairs = [freezing_recording(s, **kw) for s in range(n)]
    return [p[0] for p in pairs], [p[1] for p in pairs]


def test_learns_freezing_and_predicts_per_frame():
    X, y = data(4)
    clf = small_clf().fit(X[:3], y[:3])
    pred = clf.predict(X[3])
    assert pred.shape == y[3].shape and set(np.unique(pred)) <= {0, 1}
    assert f1_score(y[3], pred) > 0.85
    proba = clf.predict_proba(X[3])
    assert isinstance(proba, xr.DataArray) and proba.dims == ("time", "class")
    np.testing.assert_array_equal(proba["time"], X[3]["time"])
    assert list(proba["class"].values) == [0, 1]
    np.testing.assert_allclose(proba.sum("class"), 1.0)
    assert len(clf.feature_names_in_) == clf.n_features_in_ == 8 * 5  # 8 motion features x (current + 2 x 2 stats)
    assert clf.n_frames_fit_ == sum(len(v) for v in y[:3])


def test_per_individual_predictions_and_probabilities():
    X, y = data(3, n_individuals=2)
    clf = small_clf().fit(X[:2], y[:2])
    pred = clf.predict(X[2])
    assert pred.shape == (300, 2)
    assert f1_score(y[2].ravel(), pred.ravel()) > 0.8
    proba = clf.predict_proba(X[2])
    assert proba.dims == ("time", "individual", "class") and proba.sizes["individual"] == 2
    # one label per frame is broadcast to every animal
    one = small_clf().fit(X[:2], [v[:, 0] for v in y[:2]])
    assert one.predict(X[2]).shape == (300, 2)


def test_several_behaviours_one_model_each():
    X, y = data(3)
    frames = [pd.DataFrame({"freeze": v, "move": 1 - v, "other": (np.arange(v.size) % 50 < 5).astype(int)})
              for v in y]
    clf = small_clf(behaviors=["freeze", "move"], n_jobs=2).fit(X[:2], frames[:2])
    assert clf.behaviors_ == ["freeze", "move"] and len(clf.estimators_) == 2
    pred = clf.predict(X[2])
    assert pred.shape == (300, 2)
    assert f1_score(y[2], pred[:, 0]) > 0.85
    proba = clf.predict_proba(X[2])
    assert proba.dims == ("time", "behavior") and list(proba.behavior.values) == ["freeze", "move"]
    da = [xr.DataArray(f.to_numpy(), dims=("time", "behavior"), coords={"behavior": list(f.columns)}) for f in frames]
    assert small_clf(behaviors=["freeze"]).fit(X[:2], da[:2]).predict(X[2]).shape == (300, 1)
    with pytest.raises(ValueError, match=r"`behaviors` names \['jump'\]"):
        small_clf(behaviors=["jump"]).fit(X[:2], frames[:2])
    rare = [f.assign(never=0) for f in frames]
    with pytest.raises(ValueError, match=r"behaviours \['never \(only \[0\]\)'\] hold a single class"):
        small_clf().fit(X[:2], rare[:2])


def test_context_windows_are_in_seconds():
    """The same behaviour at 20 and 40 fps (and another pixel scale) is recognised by one model."""
    X, y = data(3, fps=20.0)
    clf = small_clf().fit(X, y)
    fast, y_fast = freezing_recording(7, n_frames=600, fps=40.0, px_per_mm=3.0)
    assert f1_score(y_fast, clf.predict(fast)) > 0.8


def test_class_weights_modes():
    X, y = data(3)
    prior = small_clf().fit(X[:2], y[:2])
    assert prior.class_weights_ is not None and len(prior.class_weights_[0]) == 2
    none = small_clf(class_weight=None).fit(X[:2], y[:2])
    assert none.class_weights_ is None
    p_prior = prior.predict_proba(X[2]).values[:, 1]
    p_none = none.predict_proba(X[2]).values[:, 1]
    # freezing is the minority class: balancing raises its probability
    assert p_prior.mean() > p_none.mean()
    weighted = small_clf(weighting="sample_weight").fit(X[:2], y[:2])
    assert weighted.class_weights_ is None and f1_score(y[2], weighted.predict(X[2])) > 0.8
    # any classifier: a pipeline with an imputer-free linear model takes sample weights
    lr = small_clf(estimator=LogisticRegression(max_iter=500)).fit(X[:2], y[:2])
    assert lr.class_weights_ is None and f1_score(y[2], lr.predict(X[2])) > 0.7
    with pytest.raises(ValueError, match="sample_weight"):
        small_clf(estimator=KNeighborsClassifier()).fit(X[:2], y[:2])
    knn = small_clf(estimator=KNeighborsClassifier(), weighting="prior").fit(X[:2], y[:2])
    assert knn.predict(X[2]).shape == (300,)


def test_unlabelled_frames_are_skipped():
    X, y = data(2)
    yf = [v.astype(float) for v in y]
    yf[0][:100] = np.nan
    clf = small_clf().fit(X, yf)
    assert clf.n_frames_fit_ == 500


def test_bad_input_is_explained():
    X, y = data(2)
    clf = small_clf()
    with pytest.raises(ValueError, match=r"labels have shape \(299,\), expected \(300,\)"):
        clf.fit(X, [y[0], y[1][:-1]])
    with pytest.raises(ValueError, match="single class"):
        clf.fit(X, [np.zeros(300), np.zeros(300)])
    with pytest.raises(ValueError, match="per_individual=True"):
        small_clf(per_individual=False).fit(X, [v[:, None] for v in y])
    with pytest.raises(ValueError, match="`behaviors` selects"):
        small_clf(behaviors=["a"]).fit(X, y)
    with pytest.raises(TypeError, match="FrameClassifier"):
        clf.fit(np.zeros((300, 4)), y)
    # NaN-heavy features
    holes = [ds.copy() for ds in X]
    for ds in holes:
        pos = ds[S.POSITION].values.copy()
        pos[::3] = np.nan
        pos[1::3, :, :] = np.nan
        ds[S.POSITION] = ds[S.POSITION].copy(data=pos)
    with pytest.raises(ValueError, match="NaN-heavy"):
        small_clf(windows=()).fit(holes, y)
    # a role the skeleton lacks
    no_nose = [ds.sel(keypoint=[k for k in ds.keypoint.values if k != "Nose"]) for ds in X]
    with pytest.raises(ValueError, match=r"cannot map the keypoint roles \['nose'\]"):
        clf.fit(no_nose, y)


def test_some_nan_rows_warn_and_are_not_predicted():
    X, y = data(2)
    ds = X[0].copy()
    pos = ds[S.POSITION].values.copy()
    pos[50:60] = np.nan
    ds[S.POSITION] = ds[S.POSITION].copy(data=pos)
    with pytest.warns(MissingDataWarning, match="left out of training"):
        clf = small_clf(windows=()).fit([ds, X[1]], y)
    proba = clf.predict_proba(ds)
    assert np.isnan(proba.values[50:60]).all() and not np.isnan(proba.values[:45]).any()  # spans reach 2 frames
    assert (clf.predict(ds)[50:60] == clf.fill_label_).all()


def test_schema_is_stored_and_checked():
    X, y = data(2)
    strict = FrameClassifier(HistGradientBoostingClassifier(max_iter=5), features=BodyMotionExtractor(),
                             variables="motion", windows=()).fit(X, y)
    schema = strict.feature_schema_
    assert schema["required_keypoints"] == list(X[0].keypoint.values)
    assert schema["roles"] == {"nose": "Nose", "tail_base": "Tail_base"} and schema["fps_fit"] == [20.0]
    reduced = X[0].sel(keypoint=[k for k in X[0].keypoint.values if k not in ("Tail_tip", "Left_ear")])
    with pytest.raises(ValueError, match=r"missing keypoints \['Left_ear', 'Tail_tip'\]"):
        strict.predict(reduced)
    # a skeleton-agnostic feature step accepts other skeletons that map the roles
    agnostic = small_clf(features=BodyMotionExtractor(spans=(0.2,), match_keypoints=False)).fit(X, y)
    assert agnostic.required_keypoints_ is None
    assert agnostic.predict(reduced).shape == (300,)
    renamed = reduced.assign_coords(keypoint=[k.lower() for k in reduced.keypoint.values])
    assert agnostic.predict(renamed).shape == (300,)


def test_joblib_round_trip_and_parallel_work_give_identical_predictions():
    X, y = data(3)
    clf = small_clf(postprocess=make_pipeline(MedianLabelFilter(window=0.3), BoutFilter(min_bout=0.5)))
    clf.fit(X[:2], y[:2])
    buf = io.BytesIO()
    joblib.dump(clf, buf)
    buf.seek(0)
    restored = joblib.load(buf)
    np.testing.assert_array_equal(clf.predict(X[2]), restored.predict(X[2]))
    xr.testing.assert_identical(clf.predict_proba(X[2]), restored.predict_proba(X[2]))
    par = small_clf(n_jobs=2).fit(X[:2], y[:2])
    seq = small_clf(n_jobs=1).fit(X[:2], y[:2])
    for a, b in zip(par.predict(X), seq.predict(X), strict=True):
        np.testing.assert_array_equal(a, b)


def test_postprocess_is_grid_searchable():
    X, y = data(4)
    clf = small_clf(postprocess=make_pipeline(MedianLabelFilter(window=0.3), BoutFilter(min_bout=0.5)))
    search = GridSearchCV(
        clf,
        {"postprocess__boutfilter__min_bout": [0.2, 1.0], "windows": [(0.5,), (0.5, 1.0)]},
        cv=GroupKFold(n_splits=2), scoring=make_frame_scorer(f1_score),
    )
    search.fit(X, y, groups=[0, 0, 1, 1])
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    # the bout filter acts: no predicted bout is shorter than min_bout
    best = search.best_estimator_.set_params(postprocess__boutfilter__min_bout=1.0).fit(X[:2], y[:2])
    pred = best.predict(X[3])
    d = np.diff(np.r_[0, pred, 0])
    lengths = np.flatnonzero(d == -1) - np.flatnonzero(d == 1)
    assert lengths.size and lengths.min() >= 20


class _WindowSummary:
    """A minimal window transformer: mean and range of each channel over the window (3-D in, 2-D out)."""

    def fit(self, X, y=None):
        assert X.ndim == 3
        self.n_channels_ = X.shape[1]
        return self

    def transform(self, X):
        return np.concatenate([X.mean(axis=2), np.ptp(X, axis=2)], axis=1)

    def get_params(self, deep=True):
        return {}

    def set_params(self, **params):
        return self


def test_window_transformer_features():
    X, y = data(3)
    clf = small_clf(windows=(), window_transformer=_WindowSummary(), transformer_window=0.5,
                    transformer_fit_size=100).fit(X[:2], y[:2])
    assert clf.window_transformer_.n_channels_ == 8
    assert clf.n_features_in_ == 8 + 16 and clf.feature_names_in_[-1] == "_WindowSummary[15]"
    assert f1_score(y[2], clf.predict(X[2])) > 0.8
    assert clf.feature_schema_["window_transformer"]["window_s"] == 0.5


@pytest.mark.slow
def test_minirocket_over_frame_windows():
    rocket = pytest.importorskip("sktime.transformations.panel.rocket")
    X, y = data(3)
    clf = small_clf(window_transformer=rocket.MiniRocketMultivariate(num_kernels=84, random_state=0),
                    transformer_window=1.0, transformer_fit_size=300).fit(X[:2], y[:2])
    assert clf.n_features_in_ == 8 * 5 + 84
    assert f1_score(y[2], clf.predict(X[2])) > 0.8
