"""NWB ndx-pose files read with h5py; the three VAME containers hold the same positions."""

from __future__ import annotations

import numpy as np
import pytest

from deepof_sk import schema as S
from deepof_sk.exceptions import DataQualityWarning, PosesFormatError
from deepof_sk.io import read_dlc, read_netcdf, read_nwb, read_poses


@pytest.fixture(scope="module")
def vame_nwb(shared_data):
    with pytest.warns(DataQualityWarning, match="looks like frame numbers"):
        return read_nwb(shared_data / "vame" / "cropped_video.nwb")


def test_vame_nwb(vame_nwb):
    ds = vame_nwb
    assert dict(ds.sizes) == {"time": 750, "space": 2, "keypoint": 6, "individual": 1}
    assert ds[S.INDIVIDUAL].values.tolist() == ["cropped_sample"]  # the NWB identifier, as movement names it
    assert ds.attrs["fps"] == 1.0  # the file's timestamps are 0, 1, 2, ... seconds
    assert ds.attrs["source_software"] == "DeepLabCut"


def test_vame_three_containers_give_the_same_positions(shared_data, vame_nwb):
    csv = read_dlc(shared_data / "vame" / "cropped_video.csv")
    nc = read_netcdf(shared_data / "vame" / "cropped_video.nc")
    order = csv[S.KEYPOINT].values.tolist()
    nwb = vame_nwb.sel(keypoint=order)
    np.testing.assert_array_equal(nwb[S.POSITION].values, csv[S.POSITION].values)
    np.testing.assert_array_equal(nwb[S.CONFIDENCE].values, csv[S.CONFIDENCE].values)
    # movement parsed the CSV with pandas' default float parser: equal to ~1 ulp
    np.testing.assert_allclose(nc.sel(keypoint=order)[S.POSITION].values, csv[S.POSITION].values, rtol=1e-14)


def test_nwb_fps_conflict(shared_data):
    with pytest.warns(DataQualityWarning), pytest.raises(PosesFormatError, match=r"fps=30 was given.*of 1\b"):
        read_poses(shared_data / "vame" / "cropped_video.nwb", fps=30)


def test_movement_written_nwb(tmp_path):
    pytest.importorskip("pynwb")
    pytest.importorskip("ndx_pose")
    from movement.io import load_poses, save_poses
    from pynwb import NWBHDF5IO

    rng = np.random.default_rng(0)
    pos = rng.uniform(0, 100, (25, 2, 3, 1))
    mds = load_poses.from_numpy(
        pos,
        rng.uniform(0, 1, (25, 3, 1)),
        individual_names=["mouse a"],
        keypoint_names=["nose", "left ear", "tail base"],
        fps=50,
        source_software="test",
    )
    nwbfile = save_poses.to_nwb_file(mds)
    with NWBHDF5IO(tmp_path / "m.nwb", "w") as io:
        io.write(nwbfile)
    ds = read_poses(tmp_path / "m.nwb")
    assert ds[S.KEYPOINT].values.tolist() == ["nose", "left ear", "tail base"]  # skeleton order, spaces kept
    assert ds[S.INDIVIDUAL].values.tolist() == ["mouse a"]
    assert ds.attrs["fps"] == 50.0
    np.testing.assert_array_equal(ds[S.POSITION].values, pos)


def _series(group, name, data, rate=None, timestamps=None):
    g = group.create_group(name)
    g.attrs["neurodata_type"] = "PoseEstimationSeries"
    d = g.create_dataset("data", data=data)
    d.attrs["conversion"] = 2.0
    d.attrs["offset"] = 1.0
    if rate is not None:
        st = g.create_dataset("starting_time", data=0.0)
        st.attrs["rate"] = rate
    if timestamps is not None:
        g.create_dataset("timestamps", data=timestamps)


def test_minimal_nwb_two_groups_rate_and_scaling(tmp_path):
    import h5py

    path = tmp_path / "two.nwb"
    data = np.arange(20, dtype=float).reshape(10, 2)
    with h5py.File(path, "w") as h5:
        h5.attrs["neurodata_type"] = "NWBFile"
        beh = h5.create_group("processing/behavior")
        for animal in ("mouse_a", "mouse_b"):
            pe = beh.create_group(animal)
            pe.attrs["neurodata_type"] = "PoseEstimation"
            for kp in ("tail base", "nose"):
                _series(pe, kp, data, rate=40.0)
    ds = read_poses(path)
    assert ds[S.INDIVIDUAL].values.tolist() == ["mouse_a", "mouse_b"]
    assert set(ds[S.KEYPOINT].values.tolist()) == {"tail base", "nose"}
    assert ds.attrs["fps"] == 40.0
    np.testing.assert_array_equal(
        ds[S.POSITION].sel(keypoint="nose", individual="mouse_b").values, data * 2 + 1
    )
    assert ds[S.CONFIDENCE].isnull().all()


def test_nwb_irregular_timestamps_warn(tmp_path):
    import h5py

    path = tmp_path / "irregular.nwb"
    with h5py.File(path, "w") as h5:
        pe = h5.create_group("processing/behavior/PoseEstimation")
        pe.attrs["neurodata_type"] = "PoseEstimation"
        _series(pe, "nose", np.zeros((4, 2)), timestamps=[0.0, 0.1, 0.2, 0.5])
    with pytest.warns(DataQualityWarning, match="not evenly spaced"):
        ds = read_nwb(path)
    assert ds.attrs["fps"] == pytest.approx(10.0)
