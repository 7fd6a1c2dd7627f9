"""DeepClusterer: outputs aligned with frames, persistence, determinism, pipelines, real recordings."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys

import joblib
import numpy as np
import pytest
import xarray as xr
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.utils._param_validation import InvalidParameterError

from deepof_sk.clustering import DeepClusterer

from .conftest import TINY


def test_import_does_not_load_keras():
    code = "import sys, deepof_sk, deepof_sk.clustering; assert 'keras' not in sys.modules, 'keras imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_missing_keras_is_a_clear_error_at_fit():
    code = (
        "import sys; sys.modules['keras'] = None\n"
        "from deepof_sk.clustering import DeepClusterer\n"
        "from deepof_sk.datasets import make_synthetic_poses\n"
        "try:\n    DeepClusterer().fit(make_synthetic_poses(50, random_state=0))\n"
        "except ImportError as e:\n    print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert 'pip install "deepof-sk[deep]"' in out


def test_invalid_parameters_are_rejected_before_training(motif_recordings):
    recordings, _ = motif_recordings
    with pytest.raises(InvalidParameterError, match="model"):
        DeepClusterer(model="kmeans").fit(recordings)
    with pytest.raises(ValueError, match="window >= 7"):
        DeepClusterer(model="contrastive", window=5).fit(recordings)


def test_outputs_are_per_frame_and_animal(fitted_vade_tcn, motif_recordings):
    recordings, _ = motif_recordings
    est = fitted_vade_tcn
    ds = recordings[2]
    emb = est.transform(ds)
    assert isinstance(emb, xr.DataArray) and emb.dims == ("time", "individual", "latent")
    assert emb.shape == (ds.sizes["time"], 1, 3)
    np.testing.assert_array_equal(emb.time.values, ds.time.values)
    proba = est.predict_proba(ds)
    assert proba.dims == ("time", "individual", "cluster")
    np.testing.assert_allclose(proba.sum("cluster"), 1.0, atol=1e-5)
    labels = est.predict(ds)
    assert labels.dims == ("time", "individual")
    np.testing.assert_array_equal(labels.values, proba.values.argmax(-1))
    many = est.predict(recordings)
    assert isinstance(many, list) and len(many) == 3


def test_fitted_state_reports_collapse_measures(fitted_vade_tcn):
    est = fitted_vade_tcn
    assert est.cluster_occupancy_.shape == (3,)
    assert est.cluster_occupancy_.sum() == pytest.approx(1.0)
    assert 0.0 <= est.cluster_balance_ <= 1.0
    assert est.n_populated_clusters_ == 3
    assert {"loss", "val_loss"} <= set(est.history_)
    assert est.n_windows_fit_ == 400 and est.n_features_in_ == 28  # one of the two recordings validates


def test_assignment_of_a_recording_does_not_depend_on_its_company(fitted_vade_tcn, motif_recordings):
    recordings, _ = motif_recordings
    alone = fitted_vade_tcn.predict(recordings[2])
    together = fitted_vade_tcn.predict(recordings)[2]
    np.testing.assert_array_equal(alone.values, together.values)


def test_untracked_frames_get_no_cluster(fitted_vade_tcn, motif_recordings):
    recordings, _ = motif_recordings
    ds = recordings[2].copy(deep=True)
    ds["position"][50:60] = np.nan
    labels = fitted_vade_tcn.predict(ds).values[:, 0]
    assert np.all(labels[50:60] == -1) and np.all(labels[:50] >= 0)
    assert np.isnan(fitted_vade_tcn.transform(ds).values[50:60]).all()


def test_pickle_and_joblib_round_trip_give_identical_predictions(fitted_vade_tcn, motif_recordings, tmp_path):
    recordings, _ = motif_recordings
    before = fitted_vade_tcn.predict_proba(recordings[2]).values
    restored = pickle.loads(pickle.dumps(fitted_vade_tcn))
    np.testing.assert_array_equal(restored.predict_proba(recordings[2]).values, before)
    joblib.dump(fitted_vade_tcn, tmp_path / "model.joblib")
    again = joblib.load(tmp_path / "model.joblib")
    np.testing.assert_array_equal(again.predict_proba(recordings[2]).values, before)


def test_same_random_state_same_model(fitted_vade_tcn, motif_recordings):
    recordings, _ = motif_recordings
    twin = clone(fitted_vade_tcn).fit(recordings[:2])
    np.testing.assert_allclose(
        twin.transform(recordings[2]).values,
        fitted_vade_tcn.transform(recordings[2]).values,
        rtol=1e-5,
        atol=1e-6,
    )


def test_pipeline_and_grid_search_with_unsupervised_score(keras, motif_recordings):
    from deepof_sk.preprocessing import SavgolSmoother

    recordings, _ = motif_recordings
    pipe = make_pipeline(
        SavgolSmoother(window=5), DeepClusterer(model="vade", encoder="tcn", n_clusters=3, **TINY)
    )
    search = GridSearchCV(pipe, {"deepclusterer__learning_rate": [1e-3, 3e-3]}, cv=2, refit=False)
    search.fit(recordings + recordings[:1])  # 4 recordings: each fold trains on 2 (one validates)
    assert np.all((search.cv_results_["mean_test_score"] >= 0) & (search.cv_results_["mean_test_score"] <= 1))


@pytest.mark.parametrize(("model", "which"), [("vade", 0), ("vqvae", 1), ("contrastive", 2)])
def test_real_recordings_end_to_end(keras, real_recordings, model, which):
    """DeepOF's DLC table, BehaviorDEPOT and VAME recordings; TCN (fastest to compile; see test_models)."""
    ds = real_recordings[which]
    halves = [ds.isel(time=slice(0, ds.sizes["time"] // 2)), ds.isel(time=slice(ds.sizes["time"] // 2, None))]
    est = DeepClusterer(model=model, encoder="tcn", n_clusters=3, validation_split=0.0, **TINY).fit(halves)
    labels = est.predict(ds)
    assert labels.shape == (ds.sizes["time"], 1)
    assert est.n_populated_clusters_ == 3, est.cluster_occupancy_
    assert np.isfinite(est.score(ds))


def test_an_uninstalled_configured_backend_falls_back_to_jax(keras, tmp_path):
    if keras.backend.backend() != "jax":
        pytest.skip("checks the jax default")
    (tmp_path / "keras.json").write_text('{"backend": "tensorflow"}')  # what keras writes on its first import
    code = (
        "import importlib.util, sys\n"
        "if importlib.util.find_spec('tensorflow'): sys.exit(0)\n"
        "from deepof_sk.clustering._training import import_keras\n"
        "assert import_keras().backend.backend() == 'jax'\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}
    subprocess.run([sys.executable, "-c", code], check=True, env={**env, "KERAS_HOME": str(tmp_path)})
