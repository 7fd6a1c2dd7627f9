"""Project facade: every verb equals the public estimators it wraps; DeepOF agreement; errors; pipelines."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from sklearn.pipeline import Pipeline

import deepof_sk
from deepof_sk.annotation import DeepOFAnnotator, to_deepof_table
from deepof_sk.datasets import make_synthetic_poses
from deepof_sk.exceptions import MissingDataWarning
from deepof_sk.features import AngleExtractor, AreaExtractor, DistanceExtractor, KinematicsExtractor, Skeleton
from deepof_sk.preprocessing import (
    Arena,
    ArenaDetector,
    ArenaScaler,
    EgocentricAligner,
    make_deepof_preprocessor,
)

from .conftest import GROUPS, PX_PER_MM, SAMPLES, sample_tables

TAIL = ("Tail_1", "Tail_2", "Tail_tip")
DEEPOF_11 = ["Nose", "Left_ear", "Right_ear", "Spine_1", "Center", "Left_fhip", "Right_fhip", "Spine_2",
             "Left_bhip", "Right_bhip", "Tail_base"]
CONTINUOUS = ("distance", "cum-distance", "speed")


def _by_hand(tables):
    """create() written out with the public estimators (independent of the facade)."""
    recs = [ds.sel(keypoint=DEEPOF_11) for ds in tables.values()]
    recs = make_deepof_preprocessor().fit_transform(recs)
    recs = ArenaDetector().fit_transform(recs)
    return dict(zip(tables, ArenaScaler(px_per_mm=PX_PER_MM).fit_transform(recs), strict=True))


def test_import_is_light_and_names_resolve():
    code = ("import sys, deepof_sk; assert 'deepof_sk.project' not in sys.modules; "
            "P = deepof_sk.Project; assert 'keras' not in sys.modules and 'tqdm' not in sys.modules; "
            "print(P.__name__, deepof_sk.load_project.__name__)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["Project", "load_project"]
    assert {"Project", "load_project"} <= set(deepof_sk.__all__)


def test_create_equals_the_public_estimators(project):
    expected = _by_hand(sample_tables())
    assert list(project.recordings) == list(SAMPLES)
    assert project.keypoints_ == DEEPOF_11
    for rid, ds in project.recordings.items():
        assert ds.attrs["space_unit"] == "mm" and ds.attrs["recording_id"] == rid
        xr.testing.assert_allclose(ds.position, expected[rid].position, rtol=0, atol=1e-12)
        assert ds.attrs["arena"] == expected[rid].attrs["arena"]
    assert project.conditions["condition"].tolist() == [GROUPS[k] for k in SAMPLES]
    steps = [name for name, _ in project.preprocessor_.steps]
    assert steps == ["select", "smooth", "outliers", "interpolate", "presence", "arena", "scale"]


def test_get_coords_equals_egocentric_aligner(project):
    coords = project.get_coords(center="Center", align="Spine_1")
    for rid, ds in project.recordings.items():
        want = EgocentricAligner(center="Center", align="Spine_1").fit_transform(ds)
        xr.testing.assert_identical(coords[rid].position, want.position)
    frame = coords.to_frame("deepof_single")
    assert frame.shape == (100, 22) and frame.columns[0] == ("Nose", "x")
    np.testing.assert_array_equal(frame["Center"].to_numpy(), 0.0)
    assert (frame[("Spine_1", "y")] > 0).all() and np.allclose(frame[("Spine_1", "x")], 0, atol=1e-12)
    assert frame.index[1] == "00:00:00.040000"
    speed = project.get_coords(center=None, align=None, speed=1)
    want = KinematicsExtractor(order=1, method="deepof").fit_transform(project.recordings["deepof_sleap"])
    xr.testing.assert_identical(speed["deepof_sleap"].speed, want.speed)
    assert speed.to_frame("deepof_sleap").columns.tolist() == DEEPOF_11
    polar = project.get_coords(polar=True).to_frame("deepof_single")
    assert polar.columns[1] == ("Nose", "phi")


def test_geometry_getters_equal_the_extractors(project):
    sk = Skeleton.from_preset("deepof_14").subset(DEEPOF_11)
    ds = project.recordings["deepof_single_csv"]
    got = project.get_distances()["deepof_single_csv"]
    xr.testing.assert_identical(got.distance, DistanceExtractor(skeleton=sk).fit_transform(ds).distance)
    got = project.get_angles()["deepof_single_csv"]
    xr.testing.assert_identical(got.angle, AngleExtractor(skeleton=sk).fit_transform(ds).angle)
    areas = project.get_areas()
    xr.testing.assert_identical(areas["deepof_single_csv"].area, AreaExtractor(skeleton=sk).fit_transform(ds).area)
    assert areas.to_frame("deepof_single_csv").columns.tolist() == ["head_area", "torso_area", "back_area",
                                                                    "full_area"]
    every = project.get_distances(filter_on_graph=False).to_frame("deepof_single_csv")
    assert every.shape[1] == 11 * 10 // 2 and ("Nose", "Left_ear") in every.columns
    # speed=1: DeepOF's rolling speed of the features themselves, as KinematicsExtractor(variables=...) gives it
    fast = project.get_distances(speed=1)["deepof_single_csv"]
    rates = KinematicsExtractor(order=1, method="deepof", variables=["distance"]).fit_transform(
        DistanceExtractor(skeleton=sk).fit_transform(ds))
    xr.testing.assert_identical(fast.distance_speed, rates.distance_speed)
    assert project.get_angles(speed=2).variables == ["angle_acceleration"]
    piped = project.pipeline("get_distances", speed=1).fit_transform(list(sample_tables().values()))
    xr.testing.assert_allclose(piped[list(project.recordings).index("deepof_single_csv")].distance_speed,
                               fast.distance_speed)
    with pytest.raises(ValueError, match="speed must be 0, 1, 2 or 3"):
        project.get_angles(speed=4)


def test_supervised_annotation_equals_deepof_annotator(project, annotated):
    expected = DeepOFAnnotator(arena="auto").fit_transform(list(project.recordings.values()))
    for rid, ds in zip(project.recordings, expected, strict=True):
        pd.testing.assert_frame_equal(annotated[rid], to_deepof_table(ds))
        xr.testing.assert_identical(project.annotations_[rid].annotation, ds.annotation)
    assert annotated["deepof_single"].shape == (100, 12)


def test_facade_reproduces_deepof_outputs(shared_data, shared_reference):
    """The whole facade on DeepOF's test table, with DeepOF's test settings (fixed arena, 380 mm over 252 px):
    processed coordinates to 3e-5 mm (1e-8 away from the Savitzky-Golay edges), aligned coordinates to 3e-5 mm,
    and every column of supervised_annotation() as DeepOF wrote it (binary: all frames; continuous: 1e-12
    relative)."""
    out = shared_reference / "deepof-outputs"
    info = json.loads((out / "single_project_info.json").read_text())
    raw = pd.read_csv(out / "single_test_coords_raw_processed.csv", header=[0, 1], index_col=0)
    aligned = pd.read_csv(out / "single_test_coords_center_align.csv", header=[0, 1], index_col=0)
    for key in ("test", "test2"):  # ellipse and polygon arenas
        proj = deepof_sk.Project({key: shared_data / "deepof" / "testDLC_h5_table.h5"}, fps=25, px_per_mm=PX_PER_MM,
                                 arena=Arena.from_deepof(info["arena_params_mm"][key], unit="mm")).create()
        ours = proj.get_coords(center=None, align=None).to_frame(key)[raw.columns].to_numpy()
        diff = np.abs(ours - raw.to_numpy())
        assert diff.max() < 1e-3 and diff[7:-7].max() < 1e-8, diff.max()
        ours = proj.get_coords(center="Center", align="Spine_1").to_frame(key)[aligned.columns].to_numpy()
        assert np.abs(ours - aligned.to_numpy()).max() < 1e-3
        table = proj.supervised_annotation(supervised_parameters=info["supervised_parameters"])[key]
        reference = pd.read_csv(out / f"single_{key}_supervised.csv", index_col=0)
        assert list(table.columns) == list(reference.columns) and list(table.index) == list(reference.index)
        for col in reference.columns:
            a, b = table[col].to_numpy(float), reference[col].to_numpy(float)
            if col in CONTINUOUS:
                assert np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-9)) < 1e-12, col
            elif col != "immobility":  # the reference immobility column is a placeholder (see its README)
                assert np.mean(a == b) == 1.0, col


def test_pipeline_of_each_verb_reproduces_the_verb(project, annotated):
    tables = sample_tables()
    for verb in ("create", "get_coords", "get_distances", "get_angles", "get_areas", "supervised_annotation",
                 "deep_unsupervised_embedding"):
        pipe = project.pipeline(verb)
        assert isinstance(pipe, Pipeline)
        assert not hasattr(pipe.steps[-1][1], "n_recordings_")  # unfitted clone
    pipe = project.pipeline("get_coords", center="Center", align="Spine_1")
    out = pipe.fit_transform(list(tables.values()))
    coords = project.get_coords()
    for rid, ds in zip(tables, out, strict=True):
        xr.testing.assert_allclose(ds.position, coords[rid].position, rtol=0, atol=1e-12)
    out = project.pipeline("supervised_annotation").fit_transform(list(tables.values()))
    pd.testing.assert_frame_equal(to_deepof_table(out[0]), annotated["deepof_single"])
    assert project.pipeline("deep_unsupervised_embedding", latent_dim=3).steps[-1][1].latent_dim == 3
    with pytest.raises(ValueError, match="unknown verb 'cluster'"):
        project.pipeline("cluster")


def test_verbs_before_create_and_bad_names_are_clear_errors(project, tmp_path):
    fresh = deepof_sk.Project(sample_tables(["deepof_single"]))
    for call in (fresh.get_coords, fresh.supervised_annotation, fresh.get_distances, lambda: fresh.save(tmp_path)):
        with pytest.raises(RuntimeError, match=r"call create\(\) first"):
            call()
    with pytest.raises(ValueError, match=r"align='Spine_9' is not a keypoint.*'Spine_1'"):
        project.get_coords(align="Spine_9")
    with pytest.raises(ValueError, match=r"center='Tail_tip' is not a keypoint"):
        project.get_coords(center="Tail_tip")
    with pytest.raises(FileNotFoundError, match="table folder .*nowhere"):
        deepof_sk.Project(tmp_path / "nowhere").create()
    with pytest.raises(ValueError, match=r"without conditions: \['deepof_single'\].*naming no recording: \['m9'\]"):
        deepof_sk.Project(sample_tables(["deepof_single"]), conditions={"m9": "A"}, px_per_mm=1.0).create()
    with pytest.raises(ValueError, match="arena_size"):
        deepof_sk.Project(sample_tables(["deepof_single"]), arena_size=380).create()
    with pytest.raises(ValueError, match="arena='video' needs `videos=`"):
        deepof_sk.Project(sample_tables(["deepof_single"]), arena="video").create()


def test_table_dict_helpers(project):
    coords = project.get_coords()
    a = coords.filter_condition({"condition": "A"})
    assert list(a) == ["deepof_single", "deepof_sleap"] and a.conditions["condition"].eq("A").all()
    assert list(coords.filter_condition("B")) == ["deepof_single_csv", "deepof_sleap_analysis"]
    with pytest.raises(ValueError, match=r"never takes the values \['C'\]"):
        coords.filter_condition({"condition": "C"})
    with pytest.raises(ValueError, match=r"unknown recording ids \['x'\]"):
        coords.filter_videos(["x"])
    stacked = coords.filter_videos(["deepof_single", "deepof_sleap"]).to_frame()
    assert stacked.index.names == ["recording", "time"] and len(stacked) == 201


def test_preprocess_splits_by_recording(project):
    coords = project.get_coords()
    X = coords.preprocess(window_size=11, test_videos=1, random_state=42)
    again = coords.preprocess(window_size=11, test_videos=1, random_state=42)
    assert list(X.test) == list(again.test) and len(X.test) == 1 and not set(X.test) & set(X.train)
    n_train = sum(ds.sizes["time"] for ds in X.train.values())
    n_nan = sum(int(ds.position.isnull().all(("space", "keypoint")).sum()) for ds in X.train.values())
    assert X.X_train.shape == (n_train - n_nan, 11, 22) and X.X_train.dtype == np.float32
    assert X.X_test.shape[0] == next(iter(X.test.values())).sizes["time"]
    every_third = coords.preprocess(window_size=11, window_step=3, test_videos=["deepof_sleap"])
    assert list(every_third.test) == ["deepof_sleap"] and every_third.X_train.shape[0] < X.X_train.shape[0] / 2
    centre = X.X_train.reshape(-1, 22)  # standardised with the training recordings' statistics
    assert abs(float(centre.mean())) < 0.5
    with pytest.raises(ValueError, match="scale='minmax' is not available"):
        coords.preprocess(scale="minmax")
    with pytest.raises(ValueError, match="at least one"):
        coords.preprocess(test_videos=4)


def test_enrichment_and_occupancy_use_the_annotations(project, annotated):
    occ = project.occupancy("supervised")
    assert set(occ["condition"]) == {"A", "B"} and "missing" not in set(occ["behavior"])
    row = occ[(occ.recording_id == "deepof_single") & (occ.behavior == "moving")]
    assert float(row["fraction"].iloc[0]) == pytest.approx(annotated["deepof_single"]["moving"].mean())
    enr = project.enrichment()
    assert set(enr["behavior"]) == set(occ["behavior"]) and {"p_adjusted", "cohen_d"} <= set(enr.columns)
    with pytest.raises(ValueError, match="unknown condition 'sex'"):
        project.enrichment("sex")


def test_two_animals_synthetic_and_real(shared_data):
    follow = make_synthetic_poses(150, scenario="follow", px_per_mm=2.0, random_state=0)
    proj = deepof_sk.Project({"f": follow}, arena=None, px_per_mm=2.0).create()
    assert proj.recordings["f"].attrs["space_unit"] == "mm"
    want = make_deepof_preprocessor().fit_transform(follow.sel(keypoint=proj.keypoints_))
    want = ArenaScaler(px_per_mm=2.0).fit_transform(want)
    xr.testing.assert_allclose(proj.recordings["f"].position, want.position, rtol=0, atol=1e-12)
    table = proj.supervised_annotation()["f"]
    assert {"mouse1_mouse2_nose2nose", "mouse2_mouse1_following", "mouse2_moving"} <= set(table.columns)
    with (pytest.warns(MissingDataWarning, match="more than 30% of the frames were masked"),  # as DeepOF warns
          pytest.warns(MissingDataWarning, match=r"mouse_white_tail \(31%\) are absent")):
        madlc = deepof_sk.Project([shared_data / "deepof" / "testDLC_h5_table_madlc.h5"], fps=25,
                                  px_per_mm=PX_PER_MM).create()
    frame = madlc.get_coords().to_frame("testDLC_h5_table_madlc")
    assert frame.columns[0] == ("mouse_black_tail_Nose", "x") and frame.shape == (100, 44)
    one = madlc.get_coords(selected_id="mouse_white_tail")["testDLC_h5_table_madlc"]
    assert one.individual.values.tolist() == ["mouse_white_tail"]


def test_explain_and_plots_wrap_the_public_functions(project, annotated):
    pytest.importorskip("shap")
    pytest.importorskip("matplotlib")
    moving = {rid: table["moving"].to_numpy() for rid, table in annotated.items()}
    exp = project.explain(labels=moving, window=5, step=5, cv=2, random_state=0)
    assert exp.n_windows_ >= 4 * 19 and set(exp.classes_) == {0.0, 1.0}
    assert any(name.startswith("speed[") for name in exp.feature_names_)
    assert project.plot_shap().get_xlabel()
    ax = project.plot_ethogram("deepof_single_csv")
    assert ax.get_figure() is not None
    ax = project.plot_enrichment()
    assert {t.get_text() for t in ax.get_xticklabels()} >= {"moving", "sniffing"}
    assert project.plot_heatmaps(condition={"condition": "A"}).get_figure() is not None
    with pytest.raises(ValueError, match="unknown recording 'nope'"):
        project.plot_ethogram("nope")


def test_verbose_shows_progress_bars(capsys):
    pytest.importorskip("tqdm")
    deepof_sk.Project(sample_tables(["deepof_single"]), px_per_mm=PX_PER_MM, verbose=True).create()
    err = capsys.readouterr().err
    assert "reading tables" in err and "create" in err
    deepof_sk.Project(sample_tables(["deepof_single"]), px_per_mm=PX_PER_MM).create()
    assert capsys.readouterr().err == ""


def test_float32_project_keeps_float32_and_the_float64_annotations(tmp_path):
    """dtype="float32" (files and in-memory datasets): recordings and coordinates stay float32, the rule-based
    annotations equal the float64 project's, and the setting survives save/load."""
    from deepof_sk.datasets import load_sample, sample_path

    names = ("deepof_single", "deepof_multi")
    tables = {"single": sample_path(names[0]), "multi": load_sample(names[1])}
    wide = deepof_sk.Project(tables, px_per_mm=PX_PER_MM, fps=25).create()
    narrow = deepof_sk.Project(tables, px_per_mm=PX_PER_MM, fps=25, dtype="float32").create()
    for rid, ds in narrow.recordings.items():
        assert ds.position.dtype == np.float32, rid
        np.testing.assert_allclose(ds.position.values, wide.recordings[rid].position.values, rtol=1e-5,
                                   atol=1e-3)
    coords = narrow.get_coords(center="Center", align="Spine_1")
    for rid, ds in coords.items():  # aligned coordinates as xarray Datasets
        assert ds.position.dtype == np.float32, rid
    for rid, table in narrow.supervised_annotation().items():
        pd.testing.assert_frame_equal(table, wide.supervised_annotation()[rid], check_dtype=False)
    narrow.save(tmp_path / "p32")
    assert deepof_sk.load_project(tmp_path / "p32").dtype == "float32"
    with pytest.raises(ValueError, match="Project: `dtype`"):
        deepof_sk.Project(tables, dtype="int8").create()
