"""SimBA CSVs (DLC2action CRIM13 sample): keypoints and behaviour columns."""

from __future__ import annotations

import pytest

from deepof_sk import schema as S
from deepof_sk.io import read_poses, read_simba_labels

KEYPOINTS = ["Ear_left", "Ear_right", "Nose", "Center", "Lat_left", "Lat_right", "Tail_base", "Tail_end"]
COUNTS = {
    "Tvideo_25_trim.csv": {"sniff": 101},
    "Tvideo_80_trim.csv": {"sniff": 91, "chase": 10},
    "Tvideo_8_trim.csv": {"sniff": 94, "approach": 7},
}


@pytest.mark.parametrize("name", sorted(COUNTS))
def test_simba_keypoints(shared_data, name):
    ds = read_poses(shared_data / "dlc2action_crim13" / name)
    assert dict(ds.sizes) == {"time": 101, "space": 2, "keypoint": 8, "individual": 2}
    assert ds[S.INDIVIDUAL].values.tolist() == ["1", "2"]
    assert ds[S.KEYPOINT].values.tolist() == KEYPOINTS
    assert ds.attrs["source_software"] == "SimBA"
    assert ds[S.CONFIDENCE].notnull().all()


@pytest.mark.parametrize("name", sorted(COUNTS))
def test_simba_labels(shared_data, name):
    labels = read_simba_labels(shared_data / "dlc2action_crim13" / name)
    assert labels.shape == (101, 11) and labels.columns.name == "behavior"
    assert "walk_away" in labels.columns and labels.index.name == "frame"
    assert {k: v for k, v in labels.sum().items() if v} == COUNTS[name]
