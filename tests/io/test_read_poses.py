"""read_poses picks the right reader for every real file, and never modifies it."""

from __future__ import annotations

import pytest

from deepof_sk import schema as S
from deepof_sk.exceptions import DataQualityWarning
from deepof_sk.io import detect_source_software, read_poses
from deepof_sk.validation import validate_poses

# file -> (reader, frames, keypoints, individuals)
EXPECTED = {
    "amadeusgpt/EGS8X2MN4SSUGFWAV976.h5": ("DeepLabCut", 1800, 12, 3),
    "amadeusgpt/keypoints_3d_short.h5": ("DeepLabCut", 1000, 30, 1),
    "behaviordepot/demo2_tracking.csv": ("DeepLabCut", 3600, 9, 1),
    "behaviordepot/demo4_video.csv": ("DeepLabCut", 3540, 5, 1),
    "deepof/test2DLC_square_arena.h5": ("DeepLabCut", 451, 14, 1),
    "deepof/testDLC_csv_table.csv": ("DeepLabCut", 97, 14, 1),
    "deepof/testDLC_csv_table_madlc.csv": ("DeepLabCut", 97, 14, 2),
    "deepof/testDLC_csv_table_multi.csv": ("DeepLabCut", 98, 14, 2),
    "deepof/testDLC_h5_table.h5": ("DeepLabCut", 100, 14, 1),
    "deepof/testDLC_h5_table_madlc.h5": ("DeepLabCut", 100, 14, 2),
    "deepof/testDLC_h5_table_multi.h5": ("DeepLabCut", 100, 14, 2),
    "deepof/testDLC_sleap.analysis.h5": ("SLEAP", 101, 14, 1),
    "deepof/testDLC_sleap.slp": ("SLEAP", 101, 14, 1),
    "deepof/testDLC_square_arena.h5": ("DeepLabCut", 451, 14, 1),
    "dlc2action_crim13/Tvideo_25_trim.csv": ("SimBA", 101, 8, 2),
    "dlc2action_crim13/Tvideo_80_trim.csv": ("SimBA", 101, 8, 2),
    "dlc2action_crim13/Tvideo_8_trim.csv": ("SimBA", 101, 8, 2),
    "dlcanalyzer/EPM_15DeepCut_resnet50_epmMay17shuffle1_1030000.csv": ("DeepLabCut", 962, 25, 1),
    "jabs/sample_pose_est_v3.h5": ("JABS", 1800, 12, None),
    "jabs/sample_pose_est_v5.h5": ("JABS", 1800, 12, 3),
    "vame/cropped_video.csv": ("DeepLabCut", 750, 6, 1),
    "vame/cropped_video.nc": ("netCDF", 750, 6, 1),
    "vame/cropped_video.nwb": ("NWB", 750, 6, 1),
}


def test_every_pose_file_is_listed(shared_data):
    """Every tracking file of ../shared/data (not READMEs, labels or cue tables) has an expectation here."""
    skip = {".md", ".mat"}
    found = {
        str(p.relative_to(shared_data))
        for p in shared_data.glob("*/*")
        if p.suffix not in skip and p.name != "demo2_cue_frames.csv"
    }
    assert found == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_read_every_file(shared_data, name, fingerprint):
    path = shared_data / name
    reader, n_frames, n_keypoints, n_individuals = EXPECTED[name]
    before = fingerprint(path)
    assert detect_source_software(path) == reader
    if reader == "NWB":
        with pytest.warns(DataQualityWarning):
            ds = read_poses(path)
    else:
        ds = read_poses(path)
    validate_poses(ds)
    assert ds.sizes["time"] == n_frames and ds.sizes["keypoint"] == n_keypoints
    if n_individuals is not None:
        assert ds.sizes["individual"] == n_individuals
    assert ds.attrs["source_file"] == str(path)
    assert ds.attrs["recording_id"]
    assert fingerprint(path) == before  # bytes and mtime unchanged


def test_forcing_a_reader(shared_data):
    ds = read_poses(shared_data / "deepof" / "testDLC_h5_table.h5", source_software="dlc", fps=25)
    assert ds.attrs["source_software"] == "DeepLabCut" and ds.attrs["fps"] == 25.0
    with pytest.raises(ValueError, match="unknown source_software='spam'"):
        read_poses(shared_data / "deepof" / "testDLC_h5_table.h5", source_software="spam")


def test_reader_keyword_that_does_not_apply(shared_data):
    with pytest.raises(TypeError, match=r"read_sleap .*does not accept \['animal_ids'\]"):
        read_poses(shared_data / "deepof" / "testDLC_sleap.slp", animal_ids=["B", "W"])


def test_time_coordinate_follows_fps(shared_data):
    ds = read_poses(shared_data / "deepof" / "testDLC_h5_table.h5", fps=25)
    assert ds[S.TIME].values[1] == pytest.approx(0.04) and ds.attrs["time_unit"] == "seconds"
    frames = read_poses(shared_data / "deepof" / "testDLC_h5_table.h5")
    assert frames[S.TIME].values.tolist()[:3] == [0, 1, 2] and frames.attrs["fps"] is None


def test_log_records_the_read(shared_data):
    from deepof_sk.validation import read_log

    log = read_log(read_poses(shared_data / "deepof" / "testDLC_h5_table_madlc.h5"))
    assert log[-1]["operation"] == "read_dlc" and log[-1]["zero_points_set_to_nan"] > 0


@pytest.mark.parametrize("name", ["deepof/testDLC_h5_table.h5", "deepof/testDLC_sleap.analysis.h5",
                                  "dlcanalyzer/EPM_15DeepCut_resnet50_epmMay17shuffle1_1030000.csv"])
def test_dtype_float32_is_the_float64_read_rounded(shared_data, name):
    import numpy as np

    wide = read_poses(shared_data / name, fps=25, dtype="float64")
    narrow = read_poses(shared_data / name, fps=25, dtype="float32")
    for var in (S.POSITION, S.CONFIDENCE):
        assert wide[var].dtype == np.float64 and narrow[var].dtype == np.float32, var
        np.testing.assert_array_equal(narrow[var].values, wide[var].values.astype(np.float32))
        assert narrow[var].attrs == wide[var].attrs
    assert narrow.attrs["source_file"] == wide.attrs["source_file"]


def test_dtype_must_be_a_float_type(shared_data):
    with pytest.raises(ValueError, match="`dtype` must be 'float32' or 'float64'"):
        read_poses(shared_data / "deepof" / "testDLC_h5_table.h5", dtype="int16")
    with pytest.raises(ValueError, match="`dtype`"):
        read_poses(shared_data / "deepof" / "testDLC_h5_table.h5", dtype="not a dtype")


def test_read_recordings_passes_dtype_on(shared_data):
    import numpy as np

    from deepof_sk.io import read_recordings

    recordings, _ = read_recordings(shared_data / "deepof", pattern="testDLC_h5_table*.h5", fps=25, dtype="float32")
    assert len(recordings) >= 2 and all(ds.position.dtype == np.float32 for ds in recordings)
