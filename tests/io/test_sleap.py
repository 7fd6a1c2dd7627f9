"""SLEAP .slp and analysis .h5 files."""

from __future__ import annotations

import json
import shutil

import h5py
import numpy as np
import pytest

from deepof_sk import schema as S
from deepof_sk.exceptions import PosesFormatError
from deepof_sk.io import read_poses, read_sleap


@pytest.fixture(scope="module")
def both(shared_data):
    folder = shared_data / "deepof"
    return read_sleap(folder / "testDLC_sleap.slp"), read_sleap(folder / "testDLC_sleap.analysis.h5")


def test_shapes_and_names(both):
    slp, analysis = both
    for ds in both:
        assert dict(ds.sizes) == {"time": 101, "space": 2, "keypoint": 14, "individual": 1}
        assert ds[S.INDIVIDUAL].values.tolist() == ["track_0"]
        assert ds.attrs["source_software"] == "SLEAP" and ds.attrs["fps"] is None
    assert slp[S.KEYPOINT].values.tolist() == analysis[S.KEYPOINT].values.tolist()
    assert slp[S.KEYPOINT].values.tolist()[:3] == ["Nose", "Left_ear", "Right_ear"]


def test_slp_and_analysis_agree(both):
    slp, analysis = both
    a, b = slp[S.POSITION].values, analysis[S.POSITION].values
    finite = np.isfinite(a) & np.isfinite(b)
    assert finite.sum() > 0.9 * a.size
    np.testing.assert_array_equal(a[finite], b[finite])
    np.testing.assert_allclose(slp[S.CONFIDENCE].values, analysis[S.CONFIDENCE].values, equal_nan=True)


@pytest.fixture
def slp_copy(shared_data, tmp_path):
    path = tmp_path / "copy.slp"
    shutil.copyfile(shared_data / "deepof" / "testDLC_sleap.slp", path)
    return path


def _set_video_fps(path, fps):
    with h5py.File(path, "r+") as h5:
        videos = [json.loads(v) for v in h5["videos_json"][()]]
        videos[0]["backend"]["fps"] = fps
        del h5["videos_json"]
        h5.create_dataset("videos_json", data=np.array([json.dumps(v).encode() for v in videos]))


def test_fps_from_video_metadata_and_conflict(slp_copy):
    _set_video_fps(slp_copy, 25.0)
    ds = read_sleap(slp_copy)
    assert ds.attrs["fps"] == 25.0 and ds.attrs["time_unit"] == "seconds"
    assert read_sleap(slp_copy, fps=25).attrs["fps"] == 25.0
    with pytest.raises(PosesFormatError, match=r"fps=30 was given but the file stores a frame rate of 25"):
        read_poses(slp_copy, fps=30)


def test_untracked_instances_become_slots(slp_copy):
    with h5py.File(slp_copy, "r+") as h5:
        inst = h5["instances"][()]
        inst["track"] = -1
        h5["instances"][...] = inst
        del h5["tracks_json"]
    ds = read_sleap(slp_copy)
    assert ds[S.INDIVIDUAL].values.tolist() == ["individual_0"]
    assert ds[S.POSITION].notnull().all()
