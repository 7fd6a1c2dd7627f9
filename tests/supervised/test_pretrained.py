"""The shipped freezing detector: loading, integrity, held-out F1 on BehaviorDEPOT demo2, transfer to other rigs,
other skeletons, the immobility annotator hook, reproducibility."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import scipy.io as sio
from sklearn.frozen import FrozenEstimator
from sklearn.metrics import f1_score
from threadpoolctl import threadpool_limits

from deepof_sk import schema as S
from deepof_sk.datasets import make_synthetic_poses
from deepof_sk.io import read_poses, read_simba
from deepof_sk.supervised import (
    FrameClassifier,
    _pretrained,
    list_pretrained_models,
    load_freezing_model,
    make_freezing_classifier,
    pretrained_model_info,
    resample_poses,
    rescale_poses,
)

HELD_OUT = 2520  # the shipped model was trained on frames 0..2519 only


@pytest.fixture(autouse=True)
def _one_thread():
    with threadpool_limits(1):
        yield


@pytest.fixture(scope="module")
def demo2(shared_data):
    folder = shared_data / "behaviordepot"
    ds = read_poses(folder / "demo2_tracking.csv", fps=30)
    y = np.asarray(sio.loadmat(folder / "hB_demo2_manual_annotations.mat", simplify_cells=True)
                   ["hBehavior"]["Freezing"]["Vector"], dtype=int)
    return ds.isel({S.TIME: slice(HELD_OUT, None)}), y[HELD_OUT:]


@pytest.fixture(scope="module")
def model():
    return load_freezing_model()


def test_loads_with_its_schema_and_version(model):
    assert list_pretrained_models() == ["freezing"]
    info = pretrained_model_info("freezing")
    assert isinstance(model, FrameClassifier) and model.pretrained_info_ == info
    assert info["version"] and info["sha256"] and info["training_script"] == "scripts/train_freezing_model.py"
    assert info["feature_schema"]["feature_names"] == [str(n) for n in model.feature_names_in_]
    assert info["feature_schema"]["required_keypoints"] is None  # any skeleton that maps the roles
    assert info["requires"]["roles"] == ["nose", "tail_base"]
    assert (_pretrained.MODELS_DIR / info["file"]).stat().st_size < 2 * 1024**2
    # the factory builds the configuration that was trained
    assert make_freezing_classifier().get_params()["windows"] == tuple(info["feature_schema"]["context"]["windows"])


def test_held_out_f1_on_demo2(model, demo2):
    ds, y = demo2
    pred = model.predict(ds)
    assert pred.shape == y.shape
    f1 = f1_score(y, pred)
    assert f1 >= 0.9
    assert f1 == pytest.approx(pretrained_model_info()["figures"]["held_out"]["f1"], abs=1e-4)
    proba = model.predict_proba(ds)
    assert proba.dims == ("time", "class") and list(proba["class"].values) == [0, 1]


def test_transfer_to_other_frame_rates_scales_and_skeletons(model, demo2):
    ds, y = demo2
    fast, y_fast = resample_poses(rescale_poses(ds, 2.0, rotation=1.0), 60.0, labels=y, noise=1.7, random_state=0)
    fast = fast.sel({S.KEYPOINT: ["nose", "l_ear", "r_ear", "midback", "tailbase"]})
    assert f1_score(y_fast, model.predict(fast)) > 0.85
    slow, y_slow = resample_poses(rescale_poses(ds, 0.5), 15.0, labels=y)
    assert f1_score(y_slow, model.predict(slow)) > 0.85


def test_other_skeletons_and_animals(model, shared_data):
    deepof = make_synthetic_poses(200, scenario="explore", n_individuals=2, fps=25, random_state=0)
    assert model.predict(deepof).shape == (200, 2)
    crim = read_simba(shared_data / "dlc2action_crim13" / "Tvideo_80_trim.csv", fps=25)
    pred = model.predict(crim)
    assert pred.shape == (101, 2) and set(np.unique(pred)) <= {0, 1}
    odd = deepof.assign_coords(keypoint=[f"p{i}" for i in range(deepof.sizes["keypoint"])])
    with pytest.raises(ValueError, match=r"cannot map the keypoint roles \['nose', 'tail_base'\].*roles="):
        model.predict(odd)
    model_mapped = load_freezing_model()
    model_mapped.features_.set_params(roles={"nose": "p0", "tail_base": "p10"})
    np.testing.assert_array_equal(model_mapped.predict(odd), model.predict(deepof))


def test_immobility_annotator_hook(model, demo2):
    from deepof_sk.annotation import ImmobilityAnnotator

    ds, y = demo2
    ds = ds.assign_attrs(px_per_mm=2.3)  # 23 px/cm (BehaviorDEPOT demo README); the rules' context needs a scale
    ann = ImmobilityAnnotator(classifier=FrozenEstimator(model), median_window=0.1, min_bout_duration=0.1,
                              mask_missing=False)
    out = ann.fit_transform(ds)
    immobile = out["annotation"].sel(behavior="immobility").values[:, 0]
    assert f1_score(y, immobile) > 0.85


def test_tampered_file_is_refused(tmp_path, monkeypatch):
    for f in _pretrained.MODELS_DIR.iterdir():
        shutil.copy(f, tmp_path / f.name)
    info = json.loads((tmp_path / "freezing.json").read_text())
    info["sha256"] = "0" * 64
    (tmp_path / "freezing.json").write_text(json.dumps(info))
    monkeypatch.setattr(_pretrained, "MODELS_DIR", tmp_path)
    with pytest.raises(ValueError, match="the file was altered"):
        load_freezing_model()
    with pytest.raises(ValueError, match="not found"):
        _pretrained.load_pretrained_model("huddle")


@pytest.mark.slow
def test_training_script_reproduces_the_shipped_model(tmp_path, demo2):
    import importlib.util

    spec = importlib.util.spec_from_file_location("train_freezing_model",
                                                  _pretrained.MODELS_DIR.parents[2] / "scripts" /
                                                  "train_freezing_model.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    script.main(["--skip-cv", "--out", str(tmp_path)])
    rebuilt = json.loads((tmp_path / "freezing.json").read_text())
    shipped = pretrained_model_info()
    assert rebuilt["figures"]["held_out"] == shipped["figures"]["held_out"]
    import joblib

    ds, _ = demo2
    np.testing.assert_array_equal(joblib.load(tmp_path / "freezing.joblib").predict(ds),
                                  load_freezing_model().predict(ds))
