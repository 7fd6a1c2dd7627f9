"""JABS pose_est v3 / v5 files."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from deepof_sk import schema as S
from deepof_sk.io import JABS_KEYPOINTS, read_jabs, read_poses


@pytest.fixture(scope="module")
def v3(shared_data):
    return read_poses(shared_data / "jabs" / "sample_pose_est_v3.h5")


@pytest.fixture(scope="module")
def v5(shared_data):
    return read_poses(shared_data / "jabs" / "sample_pose_est_v5.h5")


def test_v5_identities(v5):
    assert dict(v5.sizes) == {"time": 1800, "space": 2, "keypoint": 12, "individual": 3}
    assert v5[S.INDIVIDUAL].values.tolist() == ["id_1", "id_2", "id_3"]
    assert v5[S.KEYPOINT].values.tolist() == list(JABS_KEYPOINTS)  # names with spaces
    assert v5.attrs["cm_per_pixel"] == pytest.approx(0.0733, abs=1e-4)
    assert v5.attrs["source_software"] == "JABS"


def test_v3_tracklets(v3):
    assert v3.sizes["time"] == 1800 and v3.sizes["keypoint"] == 12
    assert all(name.startswith("track_") for name in v3[S.INDIVIDUAL].values.tolist())
    animals_per_frame = v3[S.POSITION].notnull().any([S.SPACE, S.KEYPOINT]).sum(S.INDIVIDUAL)
    assert float(animals_per_frame.mean()) == pytest.approx(3.3, abs=0.05)  # README: 2-5 per frame, mean 3.3
    assert int(animals_per_frame.min()) == 2 and int(animals_per_frame.max()) == 5
    assert "cm_per_pixel" not in v3.attrs


def test_yx_order_and_zero_confidence(shared_data, v5):
    with h5py.File(shared_data / "jabs" / "sample_pose_est_v5.h5", "r") as h5:
        points = h5["poseest/points"][0]
        conf = h5["poseest/confidence"][0]
        embed = h5["poseest/instance_embed_id"][0]
    slot = int(np.flatnonzero(embed == 1)[0])
    got = v5[S.POSITION].isel(time=0).sel(individual="id_1").values  # (space, keypoint)
    seen = conf[slot] > 0
    np.testing.assert_array_equal(got[0, seen], points[slot, seen, 1])  # x is JABS's second column
    np.testing.assert_array_equal(got[1, seen], points[slot, seen, 0])
    assert np.isnan(got[:, ~seen]).all()  # undetected -> NaN, never 0
    assert not (v5[S.POSITION] == 0).all(S.SPACE).any()


def test_slots(shared_data):
    ds = read_jabs(shared_data / "jabs" / "sample_pose_est_v5.h5", identity="slot")
    assert ds[S.INDIVIDUAL].values.tolist() == [f"slot_{i}" for i in range(6)]
