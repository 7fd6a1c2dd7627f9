"""The poses schema gate: construction, validation messages, normalisation of legacy datasets."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from deepof_sk import schema as S
from deepof_sk.exceptions import PosesSchemaError
from deepof_sk.validation import (
    append_log,
    check_recordings,
    get_fps,
    make_poses_dataset,
    normalize_poses,
    read_log,
    validate_poses,
)


@pytest.fixture
def ds():
    rng = np.random.default_rng(0)
    return make_poses_dataset(
        rng.normal(size=(20, 2, 3, 2)),
        rng.uniform(size=(20, 3, 2)),
        keypoints=["nose", "center", "tail_base"],
        individuals=["a", "b"],
        fps=25,
        source_software="test",
    )


def test_make_poses_dataset_schema(ds):
    assert ds[S.POSITION].dims == S.POSITION_DIMS
    assert ds[S.CONFIDENCE].dims == S.CONFIDENCE_DIMS
    assert ds.attrs[S.FPS] == 25.0 and ds.attrs[S.TIME_UNIT] == "seconds"
    np.testing.assert_allclose(ds[S.TIME].values, np.arange(20) / 25)
    assert ds.attrs[S.DS_TYPE] == "poses"
    validate_poses(ds)


def test_without_fps_time_is_in_frames():
    ds = make_poses_dataset(np.zeros((5, 2, 1, 1)))
    assert ds.attrs[S.FPS] is None and ds.attrs[S.TIME_UNIT] == "frames"
    np.testing.assert_array_equal(ds[S.TIME].values, np.arange(5))
    with pytest.raises(ValueError, match="no frame rate"):
        get_fps(ds, where="Thing")


def test_confidence_defaults_to_nan():
    ds = make_poses_dataset(np.zeros((5, 2, 1, 1)))
    assert np.isnan(ds[S.CONFIDENCE].values).all()


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"position": np.zeros((5, 2, 3))}, "4 dimensions"),
        ({"position": np.zeros((5, 2, 2, 1)), "confidence": np.zeros((5, 3, 1))}, "confidence"),
        ({"position": np.zeros((5, 2, 2, 1)), "keypoints": ["a", "a"]}, "duplicate keypoint names \\['a'\\]"),
        ({"position": np.zeros((5, 2, 1, 1)), "fps": -3}, "positive"),
        ({"position": np.zeros((0, 2, 1, 1))}, "no frames"),
    ],
)
def test_make_poses_dataset_rejects(kwargs, match):
    position = kwargs.pop("position")
    with pytest.raises(PosesSchemaError, match=match):
        make_poses_dataset(position, **kwargs)


def test_validation_lists_every_problem(ds):
    bad = ds.drop_vars(S.CONFIDENCE)
    bad["position"] = bad["position"].astype(int)
    bad.attrs["fps"] = "fast"
    with pytest.raises(PosesSchemaError) as err:
        validate_poses(bad, where="MyStep")
    msg = str(err.value)
    assert msg.startswith("MyStep:")
    assert "dtype int" in msg and "no `confidence`" in msg and "fps" in msg


def test_validation_names_missing_keypoints_sorted(ds):
    with pytest.raises(PosesSchemaError, match=r"missing keypoints \['ear', 'zeta'\]"):
        validate_poses(ds, keypoints=["zeta", "nose", "ear"])


def test_validation_rejects_non_dataset():
    with pytest.raises(TypeError, match="expected an xarray.Dataset"):
        validate_poses(np.zeros(3), where="X")


def test_normalize_renames_plural_dims(ds):
    legacy = ds.rename({S.KEYPOINT: "keypoints", S.INDIVIDUAL: "individuals"})
    with pytest.raises(PosesSchemaError, match="plural dimension names"):
        validate_poses(legacy)
    fixed = normalize_poses(legacy)
    validate_poses(fixed)
    xr.testing.assert_equal(fixed[S.POSITION], ds[S.POSITION])
    assert "keypoints" in legacy.dims  # input untouched


def test_normalize_transposes_to_canonical_order(ds):
    shuffled = ds.copy()
    shuffled[S.POSITION] = ds[S.POSITION].transpose(S.KEYPOINT, S.TIME, S.INDIVIDUAL, S.SPACE)
    out = normalize_poses(shuffled)
    assert out[S.POSITION].dims == S.POSITION_DIMS


def test_normalize_restores_fps_stored_as_nan(ds):
    stored = ds.copy()
    stored.attrs[S.FPS] = np.float64("nan")
    assert normalize_poses(stored).attrs[S.FPS] is None


def test_check_recordings_kinds(ds):
    recs, single = check_recordings(ds, where="W")
    assert single and len(recs) == 1
    recs, single = check_recordings([ds, ds], where="W")
    assert not single and len(recs) == 2
    with pytest.raises(TypeError, match="W: every recording must be an xarray.Dataset.*#1: int"):
        check_recordings([ds, 3], where="W")
    with pytest.raises(ValueError, match="empty sequence"):
        check_recordings([], where="W")
    with pytest.raises(TypeError, match="got ndarray"):
        check_recordings(np.zeros((3, 3)), where="W")


def test_check_recordings_names_bad_recording(ds):
    bad = ds.copy()
    bad.attrs[S.SOURCE_FILE] = "/data/mouse7.h5"
    bad = bad.drop_vars(S.CONFIDENCE)
    with pytest.raises(PosesSchemaError, match="recording '/data/mouse7.h5'"):
        check_recordings([ds, bad], where="W")


def test_log_roundtrip(ds):
    out = ds.copy()
    append_log(out, "Step", window=5)
    append_log(out, "Other", flag=True)
    log = read_log(out)
    assert [e["operation"] for e in log] == ["Step", "Other"] and log[0]["window"] == 5
    assert read_log(ds) == []


def test_transform_reorders_keypoints_to_the_fitted_order():
    """Recordings listing the same keypoints in another order (DLC vs SLEAP files) are reordered to the order seen
    in fit, so feature columns line up; extra keypoints are not dropped."""
    import numpy as np

    from deepof_sk.datasets import make_synthetic_poses
    from deepof_sk.features import FeatureTabulator

    ds = make_synthetic_poses(40, random_state=0)
    names = [str(k) for k in ds.keypoint.values]
    shuffled = ds.isel(keypoint=np.arange(len(names))[::-1])
    tab = FeatureTabulator(variables="position").fit([ds])
    np.testing.assert_array_equal(tab.transform([shuffled]), tab.transform([ds]))
    recs, _ = check_recordings([shuffled], where="test", keypoints=names)
    assert [str(k) for k in recs[0].keypoint.values] == names
    recs, _ = check_recordings([ds], where="test", keypoints=names[:3])  # a subset: nothing reordered or dropped
    assert [str(k) for k in recs[0].keypoint.values] == names


def test_read_recordings_pair_passed_whole_gets_a_clear_error(shared_data, tmp_path):
    import shutil

    from deepof_sk.io import read_recordings
    from deepof_sk.preprocessing import ConfidenceFilter, SavgolSmoother

    shutil.copy(shared_data / "deepof" / "testDLC_h5_table.h5", tmp_path)
    pair = read_recordings(tmp_path)
    for est in (ConfidenceFilter(), SavgolSmoother()):  # SavgolSmoother also takes 2-D tables
        with pytest.raises(TypeError, match=r"\(recordings, conditions\) pair.*read_recordings"):
            est.fit_transform(pair)


@pytest.mark.parametrize(
    "time, ok",
    [
        ([0.0, 0.04, 0.08, 0.12], True),
        ([0.0, 0.04, 0.04, 0.12], False),  # a repeated frame time
        ([0.0, 0.08, 0.04, 0.12], False),  # out of order
        ([0.0, np.nan, 0.08, 0.12], False),
        ([3, 4, 5, 6], True),
    ],
)
@pytest.mark.parametrize("indexed", [True, False])
def test_time_must_strictly_increase(time, ok, indexed):
    """Checked from the pandas index of an indexed time coordinate, and from the values of a plain one."""
    ds = make_poses_dataset(np.zeros((4, 2, 1, 1)), fps=25)
    ds = ds.assign_coords(time=np.asarray(time))
    if not indexed:
        ds = ds.drop_indexes(S.TIME)
        assert S.TIME not in ds.indexes and S.TIME in ds.coords
    if ok:
        validate_poses(ds)
    else:
        with pytest.raises(PosesSchemaError, match="not strictly increasing"):
            validate_poses(ds)
