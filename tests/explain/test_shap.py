"""The SHAP explainer: planted features rank first, grouped cross-validation, predictions, fallbacks, errors."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import LeaveOneGroupOut
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from deepof_sk.datasets import make_synthetic_poses
from deepof_sk.explain import ShapExplainer, compute_shap_importance, compute_shap_values

from .planted import FEATURES, PLANTED, make_planted_recordings

pytest.importorskip("shap")


def _small_surrogate():
    return HistGradientBoostingClassifier(max_iter=40, max_leaf_nodes=8, early_stopping=False, random_state=0)


@pytest.fixture(scope="module")
def planted():
    recordings, labels = make_planted_recordings(n_recordings=3, n_frames=900, random_state=0)
    exp = ShapExplainer(estimator=_small_surrogate(), featurizer=None, variables="signal", window=5, cv=3,
                        max_samples=300, random_state=0).fit(recordings, labels)
    return recordings, labels, exp, exp.explain()


def test_planted_features_rank_first(planted):
    _, _, exp, sv = planted
    assert sv.dims == ("window", "feature", "cluster") and sv.attrs["explainer"] == "tree"
    ranking = compute_shap_importance(sv)
    assert set(ranking["feature"][:2]) == {f"signal[{f}]" for f in PLANTED}
    per_cluster = compute_shap_importance(sv, per_class=True, within_class=True)
    assert per_cluster[0].idxmax() == f"signal[{PLANTED[0]}]"  # cluster 0 is "f03 high"
    assert per_cluster[1].idxmax() == f"signal[{PLANTED[1]}]"  # cluster 1 is "f03 low, f07 high"
    # tree SHAP values are additive: they sum with the base value to the surrogate's raw margin
    raw = exp.estimator_._raw_predict(sv["feature_value"].values)
    np.testing.assert_allclose(sv.sum("feature").values + sv["base_value"].values, raw, atol=1e-6)


def test_cross_validation_is_grouped_by_recording(planted):
    _, _, exp, _ = planted
    res = exp.cv_results_
    assert len(res) == 3 and (res["n_test"] == exp.n_windows_ // 3).all()
    assert exp.cv_score_ > 0.7
    assert exp.confusion_matrix_.dims == ("true", "predicted")
    assert int(exp.confusion_matrix_.sum()) == exp.n_windows_


def test_predict_every_frame_and_explain_new_recordings(planted):
    recordings, labels, exp, _ = planted
    pred = exp.predict(recordings[0])
    assert pred.shape == (900,) and np.mean(pred == labels[0]) > 0.8
    proba = exp.predict_proba(recordings[:2])
    assert isinstance(proba, list) and proba[0].shape == (900, 3)
    sv = exp.explain(recordings[:1], labels[:1])
    assert set(sv["recording"].values) == {0} and "label" in sv.coords


def test_groups_and_custom_splitter():
    recordings, labels = make_planted_recordings(n_recordings=4, n_frames=300, random_state=1)
    exp = ShapExplainer(estimator=_small_surrogate(), featurizer=None, variables="signal", window=5,
                        cv=LeaveOneGroupOut(), random_state=0).fit(recordings, labels, groups=["a", "a", "b", "b"])
    assert len(exp.cv_results_) == 2


def _non_tree_explainer(explainer, max_samples):
    recordings, labels = make_planted_recordings(n_recordings=2, n_frames=300, random_state=2)
    return ShapExplainer(estimator=make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)),
                         featurizer=None, variables="signal", window=5, cv=None, max_samples=max_samples,
                         n_background=20, explainer=explainer, random_state=0).fit(recordings, labels)


def test_model_agnostic_kernel_explainer_for_non_tree_models():
    exp = _non_tree_explainer("kernel", 6)
    sv = exp.explain()
    assert sv.attrs["explainer"] == "kernel" and sv.attrs["output"] == "probability"
    assert sv.shape == (6, len(FEATURES), 3)
    # probabilities sum to one, so each window's SHAP values sum (over features and classes) to zero
    np.testing.assert_allclose(sv.sum(("feature", "cluster")).values, 0.0, atol=1e-6)
    assert exp.cv_results_ is None and np.isnan(exp.cv_score_)


@pytest.mark.slow
def test_auto_falls_back_to_the_permutation_explainer(request):
    if "slow" not in (request.config.getoption("markexpr") or ""):
        pytest.skip("shap compiles its permutation masker with numba on first use (up to a minute): run with -m slow")
    sv = _non_tree_explainer("auto", 20).explain()
    assert sv.attrs["explainer"] == "permutation" and sv.shape == (20, len(FEATURES), 3)
    np.testing.assert_allclose(sv.sum(("feature", "cluster")).values, 0.0, atol=1e-6)
    top = compute_shap_importance(sv)["feature"][:2]
    assert set(top) == {f"signal[{f}]" for f in PLANTED}


def test_compute_shap_values_on_a_plain_table_and_binary_model():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 5))
    y = X[:, 1] + 0.1 * rng.normal(size=400) > 0
    model = HistGradientBoostingClassifier(max_iter=30).fit(X, y)
    sv = compute_shap_values(model, X[:50], feature_names=list("abcde"), label_dim="behavior")
    assert sv.dims == ("window", "feature", "behavior") and sv.sizes["behavior"] == 2
    np.testing.assert_allclose(sv.sel(behavior=True).values, -sv.sel(behavior=False).values)
    assert compute_shap_importance(sv)["feature"].iloc[0] == "b"
    with pytest.raises(ValueError, match="explainer='tree'"):
        compute_shap_values(LogisticRegression().fit(X, y), X[:5], explainer="tree")


def test_default_featurizer_on_raw_poses_and_per_animal_labels():
    recs = [make_synthetic_poses(200, scenario="explore", n_individuals=2, random_state=i) for i in range(2)]
    labels = [np.stack([(ds.position.sel(keypoint="Center", space="x").values[:, k] > 0).astype(int)
                        for k in range(2)], axis=1) for ds in recs]
    exp = ShapExplainer(estimator=_small_surrogate(), window=10, cv=2, random_state=0).fit(recs, labels)
    assert exp.per_individual_ and any(n.startswith("speed[") for n in exp.feature_names_)
    assert any(n.startswith("social_distance[") for n in exp.feature_names_)
    assert exp.predict(recs[0]).shape == (200, 2)


def test_errors_name_the_estimator():
    recs, labels = make_planted_recordings(n_recordings=1, n_frames=100)
    with pytest.raises(ValueError, match="at least 2 recordings"):
        ShapExplainer(featurizer=None, variables="signal", window=5).fit(recs, labels)
    masks = [xr.DataArray(np.zeros((100, 2)), dims=("time", "behavior"), coords={"behavior": ["a", "b"]})]
    with pytest.raises(ValueError, match="one behaviour at a time"):
        ShapExplainer(featurizer=None, variables="signal").fit(recs, masks)
    with pytest.raises(TypeError, match="ShapExplainer"):
        ShapExplainer().fit(np.zeros((10, 3)), [np.zeros(10)])
    with pytest.raises(ValueError, match="featurizer"):
        ShapExplainer(featurizer="speeds").fit(recs * 2, labels * 2)


def test_single_animals_with_different_names_line_up():
    """One animal per recording, named differently (SLEAP track_0 vs DLC individual_0): the features do not carry
    the animal's name, so the recordings share one feature space and predictions stay 1-D."""
    recordings, labels = make_planted_recordings(n_recordings=4, n_frames=300, random_state=3)
    recordings = [ds.assign_coords(individual=[f"animal_{i}"]) for i, ds in enumerate(recordings)]
    exp = ShapExplainer(estimator=_small_surrogate(), featurizer=None, variables="signal", window=5, cv=2,
                        random_state=0).fit(recordings, labels)
    assert exp.per_individual_ and exp.labels_1d_
    assert not any("animal_" in name for name in exp.feature_names_)
    pred = exp.predict(recordings[3])
    assert pred.shape == (300,) and np.mean(pred == labels[3]) > 0.7
