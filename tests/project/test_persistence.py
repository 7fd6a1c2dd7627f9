"""Project.save / load_project / Project.extend, and the tiny deep embedding on the samples."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import deepof_sk
from deepof_sk.datasets import load_sample

from .conftest import GROUPS, PX_PER_MM, sample_tables

THREE = ("deepof_single", "deepof_single_csv", "deepof_sleap")


@pytest.fixture()
def small_project():
    """A fresh annotated project of three samples (tests may change it)."""
    proj = deepof_sk.Project(sample_tables(THREE), conditions={k: GROUPS[k] for k in THREE},
                             px_per_mm=PX_PER_MM).create()
    proj.supervised_annotation()
    return proj


def test_save_then_load_gives_the_same_project(small_project, tmp_path):
    folder = small_project.save(tmp_path / "proj")
    info = json.loads((folder / "project.json").read_text())
    assert info["recording_ids"] == list(THREE) and info["params"]["px_per_mm"] == pytest.approx(PX_PER_MM)
    assert sorted(p.name for p in (folder / "recordings").iterdir()) == ["rec_0000.nc", "rec_0001.nc", "rec_0002.nc"]
    with pytest.raises(FileExistsError, match="overwrite=True"):
        small_project.save(folder)
    loaded = deepof_sk.load_project(folder)
    assert loaded.tables is None  # in-memory tables are not stored: nothing is re-read
    pd.testing.assert_frame_equal(loaded.conditions, small_project.conditions)
    a, b = small_project.get_coords(), loaded.get_coords()
    for rid in THREE:
        xr.testing.assert_identical(a[rid].position, b[rid].position)
        assert loaded.recordings[rid].attrs["arena"] == small_project.recordings[rid].attrs["arena"]
    ann_a, ann_b = small_project._annotation_tables(), loaded._annotation_tables()
    for rid in THREE:
        pd.testing.assert_frame_equal(ann_a[rid], ann_b[rid])
    again = loaded.supervised_annotation()  # verbs run on the loaded recordings
    pd.testing.assert_frame_equal(again["deepof_sleap"], ann_a["deepof_sleap"])
    assert list(loaded.enrichment()["behavior"]) == list(small_project.enrichment()["behavior"])
    with pytest.raises(FileNotFoundError, match="no project.json"):
        deepof_sk.load_project(tmp_path)


def test_extend_processes_new_recordings_with_the_fitted_preprocessor(small_project, tmp_path):
    before = {k: v.copy(deep=True) for k, v in small_project.recordings.items()}
    small_project.extend({"extra": load_sample("deepof_sleap_analysis")}, conditions={"extra": "B"})
    assert list(small_project.recordings) == [*THREE, "extra"]
    for rid in THREE:
        xr.testing.assert_identical(small_project.recordings[rid], before[rid])
    want = small_project.preprocessor_.transform(load_sample("deepof_sleap_analysis"))
    xr.testing.assert_identical(small_project.recordings["extra"].position, want.position)
    # the same clip as deepof_sleap: the same processed coordinates and behaviours
    xr.testing.assert_allclose(small_project.recordings["extra"].position,
                               small_project.recordings["deepof_sleap"].position)
    assert small_project.conditions["condition"].tolist() == ["A", "B", "A", "B"]
    tables = small_project._annotation_tables()
    pd.testing.assert_frame_equal(tables["extra"], tables["deepof_sleap"])
    assert "extra" in small_project.get_coords()


def test_extend_refuses_duplicates_other_skeletons_and_missing_conditions(small_project):
    with pytest.raises(ValueError, match=r"already has recordings \['deepof_single'\]"):
        small_project.extend({"deepof_single": load_sample("deepof_single")}, conditions={"deepof_single": "A"})
    odd = load_sample("deepof_single").drop_sel(keypoint=["Nose", "Spine_1"])
    with pytest.raises(ValueError, match=r"another skeleton.*missing keypoints \['Nose', 'Spine_1'\]"):
        small_project.extend({"odd": odd}, conditions={"odd": "A"})
    with pytest.raises(ValueError, match="pass conditions= for the new recordings"):
        small_project.extend({"new": load_sample("deepof_single")})
    assert list(small_project.recordings) == list(THREE)


@pytest.fixture(scope="module")
def embedded(project):
    """A 2-epoch VaDE (TCN encoder, window 9) trained through the facade on the samples."""
    pytest.importorskip("keras", reason='deep clustering needs pip install "deepof-sk[deep]"')
    X = project.get_coords(center="Center", align="Spine_1").preprocess(window_size=9, test_videos=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tiny data: cluster collapse may be reported
        model = project.deep_unsupervised_embedding(
            X, embedding_model="VaDE", encoder_type="TCN", latent_dim=3, n_clusters=3, epochs=2, pretrain_epochs=1,
            batch_size=64, random_state=0, units=8, patience=None, kl_warmup=0)
    return project, X, model


@pytest.mark.slow  # ~35 s on a busy 2-core machine, nearly all of it compiling the Keras model
def test_deep_embedding_gives_clusters_for_every_frame(embedded, tmp_path):
    project, X, model = embedded
    assert (model.model, model.encoder, model.window, model.latent_dim) == ("vade", "tcn", 9, 3)
    np.testing.assert_allclose(model.scaler_.mean_, X.scaler.mean_)  # trained on exactly X's training windows
    assert model.n_windows_fit_ == X.X_train.shape[0]
    clusters = project.get_clusters()
    assert list(clusters) == list(project.recordings)
    for rid, labels in clusters.items():
        assert labels.dims == ("time", "individual")
        np.testing.assert_array_equal(labels.time.values, project.recordings[rid].time.values)
        assert set(np.unique(labels.values)) <= {-1, 0, 1, 2} and (labels.values >= 0).mean() > 0.9
    emb, soft = project.embedding_per_video()
    assert emb["deepof_single"].shape == (100, 1, 3) and soft["deepof_single"].shape == (100, 1, 3)
    folder = project.save(tmp_path / "p")
    loaded = deepof_sk.load_project(folder)
    assert list(loaded.preprocessed_.test) == list(X.test)
    for rid, labels in loaded.get_clusters().items():
        np.testing.assert_array_equal(labels.values, clusters[rid].values)
    with pytest.raises(ValueError, match="embedding_model must be one of"):
        project.deep_unsupervised_embedding(X, embedding_model="kmeans")
