"""Egocentric alignment: analytic answers on synthetic motion, inverse round trip, NaN semantics, errors."""

from __future__ import annotations

import warnings

import joblib
import numpy as np
import pytest
import xarray as xr
from sklearn.pipeline import make_pipeline

from deepof_sk.datasets import DEEPOF_14_BODY, make_synthetic_poses
from deepof_sk.exceptions import MissingDataWarning
from deepof_sk.preprocessing import Arena, ArenaScaler, EgocentricAligner, attach_arena
from deepof_sk.validation import make_poses_dataset

BODY = np.array(list(DEEPOF_14_BODY.values()))  # (keypoint, 2): x to the animal's right, y forward


def _xy(ds: xr.Dataset) -> np.ndarray:
    """Positions as (time, keypoint, individual, 2)."""
    return ds.position.transpose("time", "keypoint", "individual", "space").values


def test_turning_mouse_is_still_in_its_own_frame():
    ds, truth = make_synthetic_poses(
        500, scenario="turn", angular_speed=np.pi / 3, random_state=0, return_truth=True
    )
    ego = EgocentricAligner(center="Center", align="Spine_1").fit_transform(ds)
    xy = _xy(ego)
    np.testing.assert_allclose(xy, np.broadcast_to(xy[:1], xy.shape), atol=1e-9)  # no rotation over time
    np.testing.assert_allclose(xy[:, :, 0], np.broadcast_to(BODY, xy[:, :, 0].shape), atol=1e-9)  # body frame
    np.testing.assert_allclose(ego.position.sel(keypoint="Center").values, 0.0, atol=1e-12)
    spine = ego.position.sel(keypoint="Spine_1")
    np.testing.assert_allclose(spine.sel(space="x").values, 0.0, atol=1e-12)
    assert bool((spine.sel(space="y") > 0).all())
    # the stored rotation undoes the heading: pi/2 - heading (mod 2 pi)
    expected = np.angle(np.exp(1j * (np.pi / 2 - truth.heading)))
    np.testing.assert_allclose(ego.alignment_angle.values, expected, atol=1e-12)


def test_inverse_transform_round_trips():
    ds = make_synthetic_poses(300, scenario="explore", n_individuals=2, noise=1.0, random_state=3)
    aligner = EgocentricAligner(polar=True).fit(ds)
    ego = aligner.transform(ds)
    assert {"alignment_angle", "alignment_center", "position_polar"} <= set(ego.data_vars)
    back = aligner.inverse_transform(ego)
    np.testing.assert_allclose(back.position.values, ds.position.values, rtol=0, atol=1e-9)
    assert set(back.data_vars) == set(ds.data_vars) and "space_pol" not in back.dims
    np.testing.assert_array_equal(back.time.values, ds.time.values)
    with pytest.raises(ValueError, match="only the\\s+output"):
        aligner.inverse_transform(ds)
    with pytest.raises(ValueError, match="already aligned"):
        aligner.transform(ego)


def test_align_group_uses_the_first_animals_frame():
    """Two mice face each other on the x axis (mouse1 at -s/2 facing +x, mouse2 at +s/2 facing -x): in mouse1's
    frame mouse2's centre is at (0, s) and its nose at (0, s - 45)."""
    ds, truth = make_synthetic_poses(150, scenario="nose_to_nose", random_state=0, return_truth=True)
    sep = truth.position[:, 0, 4, 1] - truth.position[:, 0, 4, 0]  # keypoint 4 is Center
    grp = EgocentricAligner(align_group=True).fit_transform(ds)
    m2 = grp.position.sel(individual="mouse2")
    np.testing.assert_allclose(m2.sel(keypoint="Center", space="x").values, 0.0, atol=1e-9)
    np.testing.assert_allclose(m2.sel(keypoint="Center", space="y").values, sep, atol=1e-9)
    np.testing.assert_allclose(m2.sel(keypoint="Nose", space="y").values, sep - 45.0, atol=1e-9)
    # distances between the animals are kept (rigid motion per frame)
    for data in (ds, grp):
        d = data.position.sel(keypoint="Nose")
        gap = np.hypot(
            *(d.sel(individual="mouse1") - d.sel(individual="mouse2")).transpose("space", ...).values
        )
        np.testing.assert_allclose(gap, truth.nose_distance, atol=1e-9)
    # without align_group each mouse is in its own body frame
    own = _xy(EgocentricAligner().fit_transform(ds))
    np.testing.assert_allclose(own[:, :, 1], np.broadcast_to(BODY, own[:, :, 1].shape), atol=1e-9)


def test_polar_coordinates():
    ds = make_synthetic_poses(50, scenario="turn", random_state=0)
    ego = EgocentricAligner(polar=True).fit_transform(ds)
    polar = ego.position_polar
    assert polar.dims == ("time", "space_pol", "keypoint", "individual")
    assert list(polar.space_pol.values) == ["rho", "phi"]
    np.testing.assert_allclose(polar.sel(keypoint="Spine_1", space_pol="rho").values, 22.0)
    np.testing.assert_allclose(polar.sel(keypoint="Spine_1", space_pol="phi").values, np.pi / 2)
    ear = BODY[list(DEEPOF_14_BODY).index("Left_ear")]
    np.testing.assert_allclose(
        polar.sel(keypoint="Left_ear", space_pol="phi").values, np.arctan2(ear[1], ear[0])
    )


def test_center_on_the_arena_or_nothing():
    ds = make_synthetic_poses(40, scenario="walk", random_state=0)
    arena = Arena.circle((100.0, -50.0), 190.0)
    moved = EgocentricAligner(center="arena", align=None).fit_transform(attach_arena(ds, arena))
    np.testing.assert_allclose(
        moved.position.values, ds.position.values - np.array([100.0, -50.0])[:, None, None]
    )
    given = EgocentricAligner(center="arena", align=None, arena=arena).fit_transform(ds)
    np.testing.assert_allclose(given.position.values, moved.position.values)
    same = EgocentricAligner(center=None, align=None).fit_transform(ds)
    np.testing.assert_allclose(same.position.values, ds.position.values)
    with pytest.raises(ValueError, match="no arena"):
        EgocentricAligner(center="arena").fit_transform(ds)


def test_nan_centre_frames_are_nan_and_others_exact():
    ds = make_synthetic_poses(100, scenario="turn", random_state=0)
    ds.position.loc[{"keypoint": "Center"}] = ds.position.sel(keypoint="Center").where(ds.time > 1.0)
    ego = EgocentricAligner().fit_transform(ds)
    early = ego.time <= 1.0
    assert bool(ego.position.sel(time=early).isnull().all())
    assert bool(ego.alignment_angle.sel(time=early).isnull().all())  # no centre: no direction either
    late = _xy(ego.sel(time=~early))
    np.testing.assert_allclose(late[:, :, 0], np.broadcast_to(BODY, late[:, :, 0].shape), atol=1e-9)


def test_coincident_centre_and_align_frames_are_nan_for_that_animal_only():
    ds = make_synthetic_poses(50, scenario="follow", random_state=0)
    ds.position.loc[{"keypoint": "Spine_1", "individual": "mouse1", "time": ds.time[:5]}] = (
        ds.position.sel(keypoint="Center", individual="mouse1").isel(time=slice(0, 5)))
    ego = EgocentricAligner().fit_transform(ds)
    assert bool(ego.position.sel(individual="mouse1").isel(time=slice(0, 5)).isnull().all())
    assert bool(ego.alignment_angle.sel(individual="mouse1").isel(time=slice(0, 5)).isnull().all())
    assert bool(ego.position.sel(individual="mouse1").isel(time=slice(5, None)).notnull().all())
    assert bool(ego.position.sel(individual="mouse2").notnull().all())


def test_all_nan_individual_warns():
    ds = make_synthetic_poses(60, scenario="follow", random_state=0)
    ds.position.loc[{"individual": "mouse2"}] = np.nan
    with pytest.warns(MissingDataWarning, match="mouse2"):
        ego = EgocentricAligner().fit_transform(ds)
    assert bool(ego.position.sel(individual="mouse2").isnull().all())
    assert bool(ego.position.sel(individual="mouse1").notnull().all())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        EgocentricAligner().fit_transform(make_synthetic_poses(60, scenario="follow", random_state=0))


def test_missing_keypoint_names_it_and_lists_the_available_ones():
    ds = make_synthetic_poses(20, random_state=0)
    with pytest.raises(ValueError, match=r"`align`='Spine_9'.*available keypoints: \['Center'") as info:
        EgocentricAligner(align="Spine_9").fit(ds)
    assert "Tail_tip" in str(info.value)
    with pytest.raises(ValueError, match="`center`='Body'"):
        EgocentricAligner(center="Body").fit(ds)


def test_three_d_data_is_rejected():
    ds = make_poses_dataset(np.zeros((5, 3, 2, 1)), keypoints=["Center", "Spine_1"])
    with pytest.raises(ValueError, match="2-D"):
        EgocentricAligner().fit(ds)


def test_pipeline_and_parallel_recordings():
    recs = [make_synthetic_poses(80, scenario="turn", px_per_mm=3.0, random_state=i) for i in range(3)]
    pipe = make_pipeline(ArenaScaler(px_per_mm=3.0), EgocentricAligner(n_jobs=2))
    with joblib.parallel_backend("threading"):  # processes would only add start-up time here
        out = pipe.fit_transform(recs)
    assert isinstance(out, list) and len(out) == 3
    for ego in out:
        xy = _xy(ego)
        np.testing.assert_allclose(xy[:, :, 0], np.broadcast_to(BODY, xy[:, :, 0].shape), atol=1e-9)
        assert ego.attrs["space_unit"] == "mm"


@pytest.mark.parametrize("copy", [True, False])
@pytest.mark.parametrize("align_group", [False, True])
def test_alignment_is_the_same_in_every_memory_layout(copy, align_group):
    """The schema's C-contiguous layout (read by column gathers), a transposed one and a strided time view (read
    through numpy's copies) give the same aligned positions, angle and centre."""
    ds = make_synthetic_poses(400, scenario="explore", n_individuals=3, noise=1.0, dropout_rate=0.05,
                              random_state=5)
    layouts = {
        "schema": ds.copy(deep=True),
        "transposed": ds.copy(deep=True).transpose("individual", "keypoint", "space", "time"),
        "strided": ds.copy(deep=True).isel(time=slice(None, None, 2)),
    }
    results = {name: EgocentricAligner(align_group=align_group, copy=copy).fit_transform(d)
               for name, d in layouts.items()}
    ref = results["schema"]
    for name in ("transposed",):
        for var in ("position", "alignment_angle", "alignment_center"):
            xr.testing.assert_identical(results[name][var].transpose(*ref[var].dims), ref[var])
    strided_ref = EgocentricAligner(align_group=align_group).fit_transform(ds.isel(time=slice(None, None, 2)).copy(
        deep=True))
    for var in ("position", "alignment_angle", "alignment_center"):
        xr.testing.assert_identical(results["strided"][var], strided_ref[var])
    # the per-frame values themselves: centre and angle of the first animal against a direct computation
    pos = ds.position.transpose("time", "space", "keypoint", "individual").values
    kc, ka = list(ds.keypoint.values).index("Center"), list(ds.keypoint.values).index("Spine_1")
    centre, vec = pos[:, :, kc, 0], pos[:, :, ka, 0] - pos[:, :, kc, 0]
    np.testing.assert_array_equal(ref.alignment_center.values[:, :, 0], centre)
    np.testing.assert_array_equal(ref.alignment_angle.values[:, 0], np.arctan2(vec[:, 0], vec[:, 1]))


def test_alignment_makes_no_whole_recording_temporaries():
    """Per-frame centre, direction and rotation factors are computed by time blocks: beyond the returned angle and
    centre, an in-place alignment of a long recording allocates about a block's worth (not ~10 arrays of T x I)."""
    import tracemalloc

    template = make_synthetic_poses(4, n_individuals=2, random_state=0)
    n_t = 200_000
    ds = template.isel(time=np.zeros(n_t, dtype=int)).assign_coords(time=np.arange(n_t) / 25.0)
    ds["position"] = ds["position"].copy(data=np.random.default_rng(0).normal(size=ds["position"].shape))
    aligner = EgocentricAligner(copy=False).fit(ds)
    tracemalloc.start()
    try:
        out = aligner.transform(ds)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    returned = out.alignment_angle.nbytes + out.alignment_center.nbytes  # 9.6 MB
    per_frame = n_t * 2 * 8  # one (T, I) float64 array: 3.2 MB
    assert peak < returned + 3 * per_frame  # whole-recording temporaries would take ~10 of them
