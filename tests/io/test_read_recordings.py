"""read_recordings: folder scan, recording ids, conditions tables, parallel reading."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest

from deepof_sk import schema as S
from deepof_sk.datasets import make_synthetic_poses
from deepof_sk.io import infer_recording_id, read_recordings, write_dlc

SCORER = "DLC_resnet50_openfieldAug28shuffle1_1030000"


@pytest.fixture
def folder(tmp_path):
    """Three DLC files named <id><scorer>.h5 (m1, m2: mice mouse1/mouse2; m3: one, single-animal layout)."""
    for i, rid in enumerate(["m2", "m1", "m3"]):
        ds = make_synthetic_poses(30 + i, n_individuals=1 if rid == "m3" else 2, fps=None, random_state=i)
        write_dlc(ds, tmp_path / f"{rid}{SCORER}.h5")
    (tmp_path / "notes.txt").write_text("not a tracking file")
    return tmp_path


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("mouse1DLC_resnet50_openfieldAug28shuffle1_1030000_filtered.h5", "mouse1"),
        ("EPM_15DeepCut_resnet50_epmMay17shuffle1_1030000.csv", "EPM_15"),
        ("video3DLC_Resnet50_projOct1shuffle2_snapshot_200.h5", "video3"),
        ("testDLC_h5_table.h5", "testDLC_h5_table"),
        ("testDLC_h5_table_multi.h5", "testDLC_h5_table_multi"),
        ("testDLC_sleap.analysis.h5", "testDLC_sleap.analysis"),
        ("DLC_resnet50_xAug1shuffle1_1000.h5", "DLC_resnet50_xAug1shuffle1_1000"),
    ],
)
def test_recording_id_rule(name, expected):
    assert infer_recording_id(name) == expected


def test_folder_scan_and_ids(folder):
    recordings, table = read_recordings(folder, fps=25)
    ids = [r.attrs["recording_id"] for r in recordings]
    assert ids == ["m1", "m2", "m3"]  # sorted by file name; notes.txt skipped
    assert table["recording_id"].tolist() == ids and list(table.columns) == ["recording_id"]
    assert [r.sizes["time"] for r in recordings] == [31, 30, 32]
    assert all(r.attrs["fps"] == 25.0 for r in recordings)


def test_deepof_folder(shared_data):
    recordings, table = read_recordings(shared_data / "deepof")
    assert len(recordings) == 10 and table["recording_id"].is_unique
    assert "testDLC_sleap" in table["recording_id"].tolist()


def test_conditions_dataframe_and_order(folder):
    conditions = pd.DataFrame(
        {"video": ["m3", "m1", "m2"], "group": ["a", "b", "c"], "dose": [1.0, 2.0, 3.0]}
    )
    recordings, table = read_recordings(folder, conditions=conditions)
    assert list(table.columns) == ["recording_id", "group", "dose"]
    assert table["recording_id"].tolist() == ["m1", "m2", "m3"] and table["group"].tolist() == ["b", "c", "a"]


def test_conditions_csv_inside_the_folder(folder):
    path = folder / "conditions.csv"
    pd.DataFrame({"id": ["m1", "m2", "m3"], "sex": ["f", "m", "f"]}).to_csv(path, index=False)
    recordings, table = read_recordings(folder, conditions=path)
    assert len(recordings) == 3 and table["sex"].tolist() == ["f", "m", "f"]


def test_per_animal_conditions(folder):
    conditions = pd.DataFrame(
        {"id": ["m1", "m1", "m2", "m2", "m3"],
         "individual": ["mouse2", "mouse1", "mouse1", "mouse2", "individual_0"],
         "role": ["intruder", "resident", "resident", "intruder", "single"]}
    )  # fmt: skip
    _, table = read_recordings(folder, conditions=conditions)
    assert list(table.columns) == ["recording_id", "individual", "role"]
    assert table[["recording_id", "individual"]].values.tolist() == [
        ["m1", "mouse1"], ["m1", "mouse2"], ["m2", "mouse1"], ["m2", "mouse2"], ["m3", "individual_0"]
    ]  # fmt: skip
    assert table["role"].tolist()[:2] == ["resident", "intruder"]


def test_conditions_missing_and_extra_ids(folder):
    conditions = pd.DataFrame({"id": ["m1", "m9", "m8"], "group": ["a", "b", "c"]})
    with pytest.raises(
        ValueError, match=r"without a row: \['m2', 'm3'\]; rows without a recording: \['m8', 'm9'\]"
    ):
        read_recordings(folder, conditions=conditions)


def test_per_animal_conditions_mismatch(folder):
    conditions = pd.DataFrame(
        {"id": ["m1", "m2", "m3"], "individual": ["mouse1", "mouse1", "mouse7"], "g": [1, 2, 3]}
    )
    with pytest.raises(
        ValueError, match=r"animals without a row: \['m1/mouse2', 'm2/mouse2', 'm3/individual_0'\].*m3/mouse7"
    ):
        read_recordings(folder, conditions=conditions)


def test_duplicate_condition_rows(folder):
    conditions = pd.DataFrame({"id": ["m1", "m1", "m2", "m3"], "group": ["a", "b", "c", "d"]})
    with pytest.raises(ValueError, match=r"duplicate rows for \['m1'\]"):
        read_recordings(folder, conditions=conditions)


def test_duplicate_recording_ids(folder):
    shutil.copyfile(folder / f"m1{SCORER}.h5", folder / "m1.h5")
    with pytest.raises(ValueError, match=r"same recording id: \{'m1': \['m1.h5', 'm1DLC_"):
        read_recordings(folder)
    recordings, _ = read_recordings(folder, pattern="*DLC_*.h5")
    assert len(recordings) == 3


def test_parallel_equals_sequential(folder):
    from joblib import parallel_config

    seq, _ = read_recordings(folder)
    # the same code path as the default process pool, without its start-up cost
    with parallel_config(backend="threading"):
        par, _ = read_recordings(folder, n_jobs=2)
    for a, b in zip(seq, par, strict=True):
        np.testing.assert_array_equal(a[S.POSITION].values, b[S.POSITION].values)
        assert a.attrs["recording_id"] == b.attrs["recording_id"]


def test_list_of_paths_fps_mapping_and_kwargs(folder, shared_data):
    paths = [folder / f"m3{SCORER}.h5", shared_data / "deepof" / "testDLC_h5_table_multi.h5"]
    recordings, table = read_recordings(paths, fps={"m3": 30}, animal_ids=None)
    assert table["recording_id"].tolist() == ["m3", "testDLC_h5_table_multi"]  # given order kept
    assert recordings[0].attrs["fps"] == 30.0 and recordings[1].attrs["fps"] is None
    assert recordings[1].sizes["keypoint"] == 28  # animal_ids=None reached the reader


def test_missing_folder_and_empty_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere"):
        read_recordings(tmp_path / "nowhere")
    with pytest.raises(FileNotFoundError, match="no supported tracking file"):
        read_recordings(tmp_path)
