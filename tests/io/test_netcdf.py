"""movement netCDF: reading old and new files, writing files movement can read, attrs round trip."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from deepof_sk import schema as S
from deepof_sk.exceptions import PosesFormatError
from deepof_sk.io import read_dlc, read_netcdf, read_poses, write_netcdf
from deepof_sk.validation import validate_poses


def test_vame_netcdf_with_plural_dims(shared_data):
    ds = read_poses(shared_data / "vame" / "cropped_video.nc")
    validate_poses(ds)
    assert dict(ds.sizes) == {"time": 750, "space": 2, "keypoint": 6, "individual": 1}
    assert ds.attrs["fps"] == 30.0 and ds.attrs["time_unit"] == "seconds"
    assert ds.attrs["source_file"].endswith("cropped_video.nc")
    assert ds.attrs["original_source_file"].endswith("cropped_video.csv")


def test_fps_conflict_with_the_file(shared_data):
    with pytest.raises(PosesFormatError, match=r"cropped_video\.nc.*fps=25 was given.*frame rate of 30"):
        read_netcdf(shared_data / "vame" / "cropped_video.nc", fps=25)
    assert read_netcdf(shared_data / "vame" / "cropped_video.nc", fps=30).attrs["fps"] == 30.0


def test_round_trip_restores_none_and_bool_attrs(two_mice, tmp_path):
    ds = two_mice.copy()
    ds.attrs.update({"flag": True, "note": None, "recording_id": "r1"})
    path = tmp_path / "rec.nc"
    write_netcdf(ds, path)
    assert "flag" in xr.open_dataset(path, engine="h5netcdf").attrs  # stored
    back = read_netcdf(path)
    assert back.attrs["fps"] is None and back.attrs["time_unit"] == "frames"
    assert back.attrs["flag"] is True and back.attrs["note"] is None and back.attrs["recording_id"] == "r1"
    xr.testing.assert_identical(
        back[[S.POSITION, S.CONFIDENCE]].reset_coords(drop=True).drop_attrs(),
        ds[[S.POSITION, S.CONFIDENCE]].drop_attrs(),
    )
    assert ds.attrs["note"] is None  # input untouched


def test_fps_given_for_a_file_without_rate(two_mice, tmp_path):
    write_netcdf(two_mice, tmp_path / "rec.nc")
    ds = read_netcdf(tmp_path / "rec.nc", fps=20)
    assert ds.attrs["fps"] == 20.0 and ds[S.TIME].values[1] == pytest.approx(0.05)


def _movement_dim_names():
    movement = pytest.importorskip("movement")
    from movement.validators.datasets import ValidPosesInputs

    return movement, ValidPosesInputs


def test_written_file_is_readable_by_movement(shared_data, tmp_path):
    movement, valid = _movement_dim_names()
    ds = read_dlc(shared_data / "deepof" / "testDLC_h5_table_madlc.h5", fps=25)
    legacy = "keypoints" in valid.DIM_NAMES  # movement < 0.17 uses the plural names
    path = tmp_path / "to_movement.nc"
    write_netcdf(ds, path, legacy_dims=legacy)
    loaded = xr.open_dataset(path)  # movement's documented way to load its netCDF files
    valid.validate(loaded)
    from movement.kinematics import compute_velocity

    velocity = compute_velocity(loaded["position"])
    assert velocity.sizes["time"] == 100
    kp_dim = "keypoints" if legacy else "keypoint"
    assert loaded[kp_dim].values.tolist() == ds[S.KEYPOINT].values.tolist()
    np.testing.assert_array_equal(loaded["position"].values, ds[S.POSITION].values)
    assert loaded.attrs["fps"] == 25.0


def test_movement_written_file_is_readable(tmp_path):
    _movement_dim_names()
    from movement.io import load_poses

    rng = np.random.default_rng(0)
    pos = rng.uniform(0, 100, (20, 2, 3, 2))
    mds = load_poses.from_numpy(
        pos,
        rng.uniform(0, 1, (20, 3, 2)),
        individual_names=["mouse a", "mouse b"],
        keypoint_names=["nose", "left ear", "tail"],
        fps=30,
        source_software="test",
    )
    mds.to_netcdf(tmp_path / "from_movement.nc")
    ds = read_poses(tmp_path / "from_movement.nc")
    validate_poses(ds)
    assert ds[S.INDIVIDUAL].values.tolist() == ["mouse a", "mouse b"]
    assert ds[S.KEYPOINT].values.tolist() == ["nose", "left ear", "tail"]
    assert ds.attrs["fps"] == 30.0 and ds[S.CONFIDENCE].dtype == np.float64
    np.testing.assert_array_equal(ds[S.POSITION].values, pos)


def test_movement_file_without_fps_round_trips_none(tmp_path):
    _movement_dim_names()
    from movement.io import load_poses

    mds = load_poses.from_numpy(np.ones((5, 2, 1, 1)), source_software="test")
    mds.to_netcdf(tmp_path / "nofps.nc")
    ds = read_netcdf(tmp_path / "nofps.nc")
    assert ds.attrs["fps"] is None and ds.attrs["time_unit"] == "frames"
