"""Every bad input gives a clear error naming the file, the problem and the fix (fixtures written to tmp_path)."""

from __future__ import annotations

import re

import pytest

from deepof_sk.exceptions import PosesFormatError
from deepof_sk.io import read_dlc, read_poses, read_simba_labels

HEADER = "scorer,s,s,s,s,s,s\nbodyparts,nose,nose,nose,tail,tail,tail\ncoords,x,y,likelihood,x,y,likelihood\n"
ROWS = "0,1.0,2.0,0.9,3.0,4.0,0.8\n1,1.5,2.5,0.9,3.5,4.5,0.8\n"


def _write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_valid_fixture_reads(tmp_path):
    ds = read_poses(_write(tmp_path, "ok.csv", HEADER + ROWS))
    assert ds.sizes["time"] == 2 and ds["keypoint"].values.tolist() == ["nose", "tail"]


@pytest.mark.parametrize(
    "rel", ["deepof/testDLC_h5_table.h5", "deepof/testDLC_sleap.slp", "vame/cropped_video.nc",
            "vame/cropped_video.nwb", "jabs/sample_pose_est_v5.h5"],
)  # fmt: skip
def test_truncated_binary_file(shared_data, tmp_path, rel):
    data = (shared_data / rel).read_bytes()
    path = tmp_path / rel.split("/")[1]
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(PosesFormatError, match=re.escape(str(path)) + r".*truncated.*again"):
        read_poses(path)


def test_csv_cut_mid_row(shared_data, tmp_path):
    data = (shared_data / "deepof" / "testDLC_csv_table.csv").read_bytes()
    cut = data.rfind(b",", 0, len(data) // 2)  # inside a row
    path = tmp_path / "cut.csv"
    path.write_bytes(data[:cut])
    with pytest.raises(
        PosesFormatError, match=r"cut\.csv.*last row \(line \d+\) has \d+ of 43 fields.*truncated"
    ):
        read_poses(path)


def test_wrong_header(tmp_path):
    path = _write(tmp_path, "plain.csv", "x,y,likelihood\n1,2,0.9\n")
    with pytest.raises(
        PosesFormatError, match=r"plain\.csv.*neither DeepLabCut's.*nor SimBA's.*source_software="
    ):
        read_poses(path)
    no_coords = _write(tmp_path, "nocoords.csv", "scorer,s,s\nbodyparts,nose,nose\n0,1,2\n")
    with pytest.raises(PosesFormatError, match=r"nocoords\.csv.*no DeepLabCut header.*'coords'"):
        read_dlc(no_coords)


def test_empty_table(tmp_path):
    with pytest.raises(PosesFormatError, match=r"header\.csv.*header but no data rows"):
        read_poses(_write(tmp_path, "header.csv", HEADER))
    with pytest.raises(PosesFormatError, match=r"empty\.csv.*empty"):
        read_poses(_write(tmp_path, "empty.csv", ""))


def test_non_numeric_cells(tmp_path):
    path = _write(tmp_path, "text.csv", HEADER + ROWS.replace("3.5", "abc"))
    with pytest.raises(PosesFormatError, match=r"text\.csv.*non-numeric.*line 5, column 'tail/x': 'abc'"):
        read_poses(path)


def test_duplicate_keypoint_names(tmp_path):
    header = HEADER.replace("tail,tail,tail", "nose,nose,nose")
    with pytest.raises(PosesFormatError, match=r"dup\.csv.*duplicate keypoint names.*nose/x.*rename"):
        read_poses(_write(tmp_path, "dup.csv", header + ROWS))


def test_unknown_extension(tmp_path):
    path = _write(tmp_path, "poses.txt", HEADER + ROWS)
    with pytest.raises(
        PosesFormatError, match=r"poses\.txt.*'\.txt' is not a supported.*DeepLabCut \(\.h5, \.csv\)"
    ):
        read_poses(path)


def test_conflicting_fps(shared_data):
    with pytest.raises(PosesFormatError, match=r"cropped_video\.nc.*fps=50 was given.*30"):
        read_poses(shared_data / "vame" / "cropped_video.nc", fps=50)


def test_invalid_fps_value(tmp_path):
    with pytest.raises(ValueError, match="`fps` must be a positive number"):
        read_poses(_write(tmp_path, "ok.csv", HEADER + ROWS), fps=-3)


def test_nonexistent_path(tmp_path):
    missing = tmp_path / "nowhere.h5"
    with pytest.raises(FileNotFoundError, match=re.escape(str(missing))):
        read_poses(missing)


def test_folder_given_to_read_poses(tmp_path):
    with pytest.raises(IsADirectoryError, match="read_recordings"):
        read_poses(tmp_path)


def test_hdf5_of_unknown_content(tmp_path):
    import h5py

    path = tmp_path / "other.h5"
    with h5py.File(path, "w") as h5:
        h5["something"] = [1, 2, 3]
    with pytest.raises(PosesFormatError, match=r"other\.h5.*matches no supported format.*something"):
        read_poses(path)


def test_simba_labels_missing(tmp_path):
    path = _write(tmp_path, "nolabels.csv", "scorer,Nose_x,Nose_y,Nose_p\n0,1,2,1\n")
    with pytest.raises(PosesFormatError, match=r"nolabels\.csv.*no behaviour columns"):
        read_simba_labels(path)


def test_forced_reader_on_an_unusual_extension(tmp_path):
    ds = read_poses(_write(tmp_path, "export.txt", HEADER + ROWS), source_software="DeepLabCut")
    assert ds.sizes["keypoint"] == 2
