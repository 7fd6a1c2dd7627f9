"""Distances, angles and areas: hand computations on the synthetic body, social distances, real data, bad input."""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pandas as pd
import pytest

from deepof_sk import make_poses_dataset
from deepof_sk.datasets import DEEPOF_14_BODY, load_sample, make_synthetic_poses
from deepof_sk.features import (
    AngleExtractor,
    AreaExtractor,
    DistanceExtractor,
    FeatureTabulator,
    KinematicsExtractor,
    Skeleton,
)
from deepof_sk.features._geometry import _atan2_upper, take_keypoints

BODY = {k: np.array(v, dtype=float) for k, v in DEEPOF_14_BODY.items()}
SCENARIOS = [("walk", {}), ("turn", {}), ("explore", {"n_individuals": 2})]


def _shoelace(ring):
    pts = np.array([BODY[k] for k in ring])
    x, y = pts[:, 0], pts[:, 1]
    return 0.5 * abs(np.dot(x, np.roll(y, -1)) - np.dot(np.roll(x, -1), y))


def _angle(a, b, c):
    u, v = BODY[a] - BODY[b], BODY[c] - BODY[b]
    return np.arccos(np.clip(u @ v / (np.linalg.norm(u) * np.linalg.norm(v)), -1, 1))


def _read_mabe(path):
    """MABe22 triplet (3 mice x 12 keypoints, 30 fps). MABe stores an untracked mouse at (0, 0): made NaN here."""
    table = pd.read_hdf(path)
    table.columns = table.columns.droplevel(0)
    mice = list(dict.fromkeys(table.columns.get_level_values(0)))
    keypoints = list(dict.fromkeys(table.columns.get_level_values(1)))
    arr = table.to_numpy(dtype=float).reshape(len(table), len(mice), len(keypoints), 2).transpose(0, 3, 2, 1).copy()
    untracked = (arr == 0).all(axis=(1, 2))  # (time, mouse)
    arr[np.broadcast_to(untracked[:, None, None, :], arr.shape)] = np.nan
    return make_poses_dataset(arr, keypoints=keypoints, individuals=mice, fps=30)


MABE_SKELETON = Skeleton.from_adjacency(
    {
        "nose": ["left ear", "right ear"],
        "neck": ["left ear", "right ear", "left forepaw", "right forepaw", "center back"],
        "center back": ["left hindpaw", "right hindpaw", "tail base"],
        "tail base": ["tail middle"],
        "tail middle": ["tail tip"],
    },
    areas={"body": ["nose", "left forepaw", "left hindpaw", "tail base", "right hindpaw", "right forepaw"]},
    inter_animal_edges=[("nose", "nose"), ("nose", "tail base"), ("tail base", "tail base")],
)


# -- distances -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("scenario, kw", SCENARIOS)
@pytest.mark.parametrize("px_per_mm", [1.0, 2.0])
def test_skeleton_distances_equal_body_frame_lengths(scenario, kw, px_per_mm):
    ds = make_synthetic_poses(120, scenario=scenario, px_per_mm=px_per_mm, random_state=1, **kw)
    out = DistanceExtractor(inter_animal=False).fit_transform(ds)
    sk = Skeleton.from_preset("deepof_14")
    assert out.distance.dims == ("time", "pair", "individual")
    assert list(out.pair.values) == [f"{a}-{b}" for a, b in sk.edges]
    for a, b in sk.edges:
        expected = np.linalg.norm(BODY[a] - BODY[b]) * px_per_mm
        np.testing.assert_allclose(out.distance.sel(pair=f"{a}-{b}").values, expected, rtol=1e-9)
    assert out.distance.attrs["units"] == "pixels" and "social_distance" not in out


def test_all_pairs_and_explicit_pairs():
    ds = make_synthetic_poses(40, scenario="turn", random_state=0)
    out = DistanceExtractor(pairs="all", inter_animal=False).fit_transform(ds)
    assert out.sizes["pair"] == 14 * 13 // 2
    for a, b in combinations(DEEPOF_14_BODY, 2):
        np.testing.assert_allclose(out.distance.sel(pair=f"{a}-{b}").values, np.linalg.norm(BODY[a] - BODY[b]))
    out = DistanceExtractor(pairs=[("Tail_tip", "Nose"), ("Left_ear", "Right_ear")]).fit_transform(ds)
    assert list(out.pair.values) == ["Tail_tip-Nose", "Left_ear-Right_ear"]
    np.testing.assert_allclose(out.distance.values[:, 0], 145.0)
    np.testing.assert_allclose(out.distance.values[:, 1], 20.0)


def test_nose_to_nose_social_distance_equals_truth():
    ds, truth = make_synthetic_poses(300, scenario="nose_to_nose", speed=80.0, return_truth=True, random_state=0)
    out = DistanceExtractor().fit_transform(ds)
    assert out.social_distance.dims == ("time", "social_pair")
    assert list(out.social_pair.values) == [
        "mouse1.Nose-mouse2.Nose", "mouse1.Tail_base-mouse2.Tail_base",
        "mouse1.Nose-mouse2.Tail_base", "mouse1.Tail_base-mouse2.Nose",
    ]
    nn = out.social_distance.sel(social_pair="mouse1.Nose-mouse2.Nose").values
    np.testing.assert_allclose(nn, truth.nose_distance, rtol=1e-12, atol=1e-9)
    assert nn.min() == pytest.approx(5.0)  # 5 mm nose gap during contact
    # nose of one to the tail base of the other: centre distance + 45 + 40 mm while facing each other
    sep = np.abs(np.diff(truth.position[:, 0, list(DEEPOF_14_BODY).index("Center"), :], axis=1))[:, 0]
    np.testing.assert_allclose(out.social_distance.sel(social_pair="mouse1.Nose-mouse2.Tail_base").values,
                               sep - 45 + 40)
    assert out.social_distance.attrs["units"] == "pixels"


def test_inter_animal_options():
    ds = make_synthetic_poses(20, scenario="explore", n_individuals=3, random_state=0)
    out = DistanceExtractor(pairs=None, inter_animal="all").fit_transform(ds)
    assert "distance" not in out and out.sizes["social_pair"] == 3 * 14 * 14
    out = DistanceExtractor(pairs=None, inter_animal=[("Nose", "Center")]).fit_transform(ds)
    assert list(out.social_pair.values) == [
        "mouse1.Nose-mouse2.Center", "mouse1.Center-mouse2.Nose", "mouse1.Nose-mouse3.Center",
        "mouse1.Center-mouse3.Nose", "mouse2.Nose-mouse3.Center", "mouse2.Center-mouse3.Nose",
    ]
    pos = ds.position
    by_hand = np.hypot(*(pos.sel(keypoint="Center", individual="mouse3")
                         - pos.sel(keypoint="Nose", individual="mouse2")).transpose("space", "time").values)
    np.testing.assert_allclose(out.social_distance.sel(social_pair="mouse2.Nose-mouse3.Center").values, by_hand)
    single = DistanceExtractor().fit_transform(make_synthetic_poses(20, random_state=0))
    assert "social_distance" not in single and "social_pair" not in single.dims


def test_distance_nan_exactly_where_an_endpoint_is_missing():
    ds = make_synthetic_poses(200, n_gaps=6, gap_length=7, random_state=3)
    out = DistanceExtractor(pairs="all", inter_animal=False).fit_transform(ds)
    missing = ds.position.isnull().any("space").values  # (time, keypoint, individual)
    kidx = {k: i for i, k in enumerate(ds.keypoint.values)}
    for p, label in enumerate(out.pair.values):
        a, b = label.split("-")
        np.testing.assert_array_equal(np.isnan(out.distance.values[:, p]),
                                      missing[:, kidx[a]] | missing[:, kidx[b]])


def test_rerun_with_other_pairs_replaces_variable():
    ds = make_synthetic_poses(20, random_state=0)
    first = DistanceExtractor(inter_animal=False).fit_transform(ds)
    second = DistanceExtractor(pairs=[("Nose", "Center")], inter_animal=False).fit_transform(first)
    assert list(second.pair.values) == ["Nose-Center"]
    np.testing.assert_allclose(second.distance.values, 45.0)


# -- angles ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("scenario, kw", SCENARIOS)
def test_angles_equal_body_frame_angles_and_straight_backbone_is_pi(scenario, kw):
    ds = make_synthetic_poses(120, scenario=scenario, random_state=2, **kw)
    out = AngleExtractor(signed=True).fit_transform(ds)
    sk = Skeleton.from_preset("deepof_14")
    assert out.angle.dims == ("time", "triplet", "individual") and out.angle.attrs["units"] == "radians"
    assert list(out.triplet.values) == ["-".join(t) for t in sk.angle_triplets()]
    for a, b, c in sk.angle_triplets():
        label = f"{a}-{b}-{c}"
        np.testing.assert_allclose(out.angle.sel(triplet=label).values, _angle(a, b, c), atol=1e-9)
        np.testing.assert_allclose(np.abs(out.signed_angle.sel(triplet=label).values), _angle(a, b, c), atol=1e-9)
    for label in ["Spine_1-Center-Spine_2", "Center-Spine_2-Tail_base", "Spine_2-Tail_base-Tail_1",
                  "Tail_base-Tail_1-Tail_2", "Tail_1-Tail_2-Tail_tip"]:
        np.testing.assert_allclose(out.angle.sel(triplet=label).values, np.pi, rtol=0, atol=1e-12)


def test_signed_angle_orientation_and_degenerate_path():
    # b at the origin, a on +x; c on +y (counter-clockwise +90 deg), then on -y, then on top of b
    pos = np.zeros((3, 2, 3, 1))
    pos[:, 0, 0, 0] = 1.0
    pos[:, :, 2, 0] = [[0.0, 1.0], [0.0, -1.0], [0.0, 0.0]]
    ds = make_poses_dataset(pos, keypoints=["a", "b", "c"], individuals=["m"])
    out = AngleExtractor(triplets=[("a", "b", "c")], signed=True).fit_transform(ds)
    np.testing.assert_allclose(out.signed_angle.values[:2, 0, 0], [np.pi / 2, -np.pi / 2])
    np.testing.assert_allclose(out.angle.values[:2, 0, 0], [np.pi / 2, np.pi / 2])
    assert np.isnan(out.angle.values[2, 0, 0]) and np.isnan(out.signed_angle.values[2, 0, 0])


@pytest.mark.parametrize("dtype, max_ulp", [(np.float64, 1.0), (np.float32, 2.0)])
def test_atan2_upper_matches_arctan2_including_signed_zero_and_nan(dtype, max_ulp):
    rng = np.random.default_rng(0)
    y = np.abs(rng.standard_normal(200_000) * 10.0 ** rng.integers(-6, 6, 200_000)).astype(dtype)
    x = (rng.standard_normal(200_000) * 10.0 ** rng.integers(-6, 6, 200_000)).astype(dtype)
    y[:4], x[:4] = 0, [1.0, -1.0, 0.0, -0.0]  # 0, pi, undefined, undefined
    x[4:8] = [0.0, -0.0, 0.0, -0.0]  # pi/2 from either side
    y[8], x[9] = np.nan, np.nan
    out = _atan2_upper(y, x, np.empty_like(y))
    ref = np.arctan2(y.astype(np.float64), x.astype(np.float64))
    undefined = (y == 0) & (x == 0)
    assert np.isnan(out[undefined]).all() and undefined.sum() == 2
    np.testing.assert_array_equal(np.isnan(out[~undefined]), np.isnan(ref[~undefined]))
    np.testing.assert_array_equal(out[:2], np.array([0.0, np.pi], dtype))
    np.testing.assert_array_equal(out[4:8], np.full(4, np.pi / 2, dtype))
    ok = ~undefined & ~np.isnan(ref)
    ulps = np.abs(out[ok] - ref[ok]) / np.spacing(ref[ok].astype(dtype)).astype(np.float64)
    assert ulps.max() <= max_ulp


def test_signed_angles_equal_arctan2_of_cross_and_dot_on_real_tracks():
    ds = load_sample("deepof_madlc")  # two mice, real DLC tracks with missing points
    trip = Skeleton.from_preset("deepof_14").angle_triplets()
    out = AngleExtractor(signed=True).fit_transform(ds)
    pos = ds.position.values
    kidx = {k: i for i, k in enumerate(ds.keypoint.values)}
    for p, (a, b, c) in enumerate(trip):
        ba = pos[:, :, kidx[a]] - pos[:, :, kidx[b]]
        bc = pos[:, :, kidx[c]] - pos[:, :, kidx[b]]
        ref = np.arctan2(ba[:, 0] * bc[:, 1] - ba[:, 1] * bc[:, 0], (ba * bc).sum(axis=1))
        np.testing.assert_allclose(out.signed_angle.values[:, p], ref, rtol=1e-14, atol=1e-15)
        np.testing.assert_allclose(out.angle.values[:, p], np.abs(ref), rtol=1e-14, atol=1e-15)


def test_angles_in_3d():
    pos = np.zeros((2, 3, 3, 1))
    pos[:, :, 0, 0] = [1.0, 0.0, 0.0]
    pos[:, :, 2, 0] = [[0.0, 0.0, 2.0], [-1.0, 0.0, 0.0]]
    ds = make_poses_dataset(pos, keypoints=["a", "b", "c"], individuals=["m"])
    out = AngleExtractor(triplets=[("a", "b", "c")]).fit_transform(ds)
    np.testing.assert_allclose(out.angle.values[:, 0, 0], [np.pi / 2, np.pi])
    out = DistanceExtractor(pairs=[("a", "c")], inter_animal=False).fit_transform(ds)
    np.testing.assert_allclose(out.distance.values[:, 0, 0], [np.sqrt(5), 2.0])
    with pytest.raises(ValueError, match="signed=True needs 2-D"):
        AngleExtractor(triplets=[("a", "b", "c")], signed=True).fit(ds)


# -- areas -----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("scenario, kw", SCENARIOS)
@pytest.mark.parametrize("px_per_mm", [1.0, 3.0])
def test_areas_equal_body_frame_polygons(scenario, kw, px_per_mm):
    ds = make_synthetic_poses(120, scenario=scenario, px_per_mm=px_per_mm, random_state=4, **kw)
    out = AreaExtractor().fit_transform(ds)
    assert out.area.dims == ("time", "body_area", "individual") and out.area.attrs["units"] == "pixels^2"
    assert list(out.body_area.values) == ["head", "torso", "back", "full"]
    for name, ring in Skeleton.from_preset("deepof_14").areas.items():
        np.testing.assert_allclose(out.area.sel(body_area=name).values, _shoelace(ring) * px_per_mm**2, rtol=1e-9)
    # by hand: two triangles of base 40 mm (Spine_1 to Spine_2) and height 14 mm (hips)
    assert _shoelace(["Spine_1", "Right_fhip", "Spine_2", "Left_fhip"]) == pytest.approx(560.0)


def test_area_nan_rules_and_deepof_full_rule():
    ds = make_synthetic_poses(60, n_gaps=4, gap_length=10, random_state=5)
    strict = AreaExtractor().fit_transform(ds)
    missing = ds.position.isnull().any("space").values[:, :, 0]
    kidx = {k: i for i, k in enumerate(ds.keypoint.values)}
    for name, ring in Skeleton.from_preset("deepof_14").areas.items():
        expected_nan = missing[:, [kidx[k] for k in ring]].any(axis=1)
        np.testing.assert_array_equal(np.isnan(strict.area.sel(body_area=name).values[:, 0]), expected_nan)
    # DeepOF's "full" rule: the outline through the parts that exist (>= 3); a keypoint absent from the data
    reduced = make_synthetic_poses(10, keypoints=[k for k in DEEPOF_14_BODY if k not in ("Left_bhip", "Right_bhip")],
                                   random_state=0)
    with pytest.raises(ValueError, match=r"AreaExtractor: `areas` names keypoints \['Left_bhip', 'Right_bhip'\]"):
        AreaExtractor(areas=["full"]).fit(reduced)
    out = AreaExtractor(areas=["full"], min_vertices={"full": 3}).fit_transform(reduced)
    ring = [k for k in Skeleton.from_preset("deepof_14").areas["full"] if k not in ("Left_bhip", "Right_bhip")]
    np.testing.assert_allclose(out.area.values[:, 0, 0], _shoelace(ring))
    # per frame: a vertex lost to a gap is skipped while >= min_vertices remain
    partial = AreaExtractor(min_vertices=3).fit_transform(ds)
    for name, ring in Skeleton.from_preset("deepof_14").areas.items():
        values = partial.area.sel(body_area=name).values[:, 0]
        present = ~missing[:, [kidx[k] for k in ring]]
        for t in np.flatnonzero(present.sum(axis=1) >= 3)[:20]:
            assert values[t] == pytest.approx(_shoelace([k for k, p in zip(ring, present[t], strict=True) if p]))
        assert np.isnan(values[present.sum(axis=1) < 3]).all()


def test_custom_areas_dict():
    ds = make_synthetic_poses(5, random_state=0)
    out = AreaExtractor(areas={"ears_nose": ["Nose", "Left_ear", "Right_ear"]}, skeleton=None).fit_transform(ds)
    np.testing.assert_allclose(out.area.values, 0.5 * 20 * 13)


# -- real data -------------------------------------------------------------------------------------------------
def test_real_deepof_recording_all_geometry_finite(shared_data):
    table = pd.read_hdf(shared_data / "deepof" / "testDLC_h5_table.h5")
    table.columns = table.columns.droplevel(0)
    keypoints = list(dict.fromkeys(table.columns.get_level_values(0)))
    pos = np.stack([table[k][["x", "y"]].to_numpy() for k in keypoints], axis=2)[..., None]
    ds = make_poses_dataset(pos, keypoints=keypoints, individuals=["mouse"], fps=25)
    for step in (DistanceExtractor(pairs="all"), AngleExtractor(signed=True), AreaExtractor()):
        out = step.fit_transform(ds)
        for name in set(out.data_vars) - {"position", "confidence"}:
            assert np.isfinite(out[name].values).all(), (type(step).__name__, name)
    assert out.area.sel(body_area="full").values.min() > 0


def test_real_mabe_triplet_custom_skeleton(shared_data):
    ds = _read_mabe(shared_data / "amadeusgpt" / "EGS8X2MN4SSUGFWAV976.h5")
    assert ds.sizes == {"time": 1800, "space": 2, "keypoint": 12, "individual": 3}
    out = DistanceExtractor(skeleton=MABE_SKELETON).fit_transform(ds)
    out = AngleExtractor(skeleton=MABE_SKELETON).fit_transform(out)
    out = AreaExtractor(skeleton=MABE_SKELETON).fit_transform(out)
    out = KinematicsExtractor(order=(1, 2)).fit_transform(out)
    pos = ds.position.transpose("time", "space", "keypoint", "individual").values
    finite = np.isfinite(pos).all(axis=1)  # (time, keypoint, individual)
    kidx = {k: i for i, k in enumerate(ds.keypoint.values)}
    for p, (a, b) in enumerate(MABE_SKELETON.edges):
        both = finite[:, kidx[a]] & finite[:, kidx[b]]
        np.testing.assert_array_equal(np.isfinite(out.distance.values[:, p]), both)
    for p, (a, b, c) in enumerate(MABE_SKELETON.angle_triplets()):
        ba = pos[:, :, kidx[a]] - pos[:, :, kidx[b]]
        bc = pos[:, :, kidx[c]] - pos[:, :, kidx[b]]
        defined = finite[:, kidx[a]] & finite[:, kidx[b]] & finite[:, kidx[c]]
        defined &= (np.abs(ba).sum(axis=1) > 0) & (np.abs(bc).sum(axis=1) > 0)  # integer pixels can coincide
        np.testing.assert_array_equal(np.isfinite(out.angle.values[:, p]), defined)
    ring = [kidx[k] for k in MABE_SKELETON.areas["body"]]
    np.testing.assert_array_equal(np.isfinite(out.area.values[:, 0]), finite[:, ring].all(axis=1))
    assert out.sizes["social_pair"] == 3 * 4  # 3 mouse pairs x (nose-nose, tail-tail, nose-tail both ways)
    ind = {m: i for i, m in enumerate(ds.individual.values)}
    for q, label in enumerate(out.social_pair.values):
        (ma, ka), (mb, kb) = (s.split(".", 1) for s in label.split("-"))
        both = finite[:, kidx[ka], ind[ma]] & finite[:, kidx[kb], ind[mb]]
        np.testing.assert_array_equal(np.isfinite(out.social_distance.values[:, q]), both)
    speed_ok = finite.copy()
    speed_ok[1:-1] &= finite[:-2] & finite[2:]
    assert np.isfinite(out.speed.values[speed_ok]).all()
    names = FeatureTabulator().fit(out).get_feature_names_out()
    assert "distance[mouse1,nose-left ear]" in names and "social_distance[mouse2.nose-mouse3.tail base]" in names
    assert "angle[mouse3,left ear-nose-right ear]" in names and "area[mouse2,body]" in names


# -- bad input -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "step, match",
    [
        (DistanceExtractor(pairs=[("Nose", "Whisker"), ("Paw", "Center")]),
         r"DistanceExtractor: `pairs` names keypoints \['Paw', 'Whisker'\]"),
        (DistanceExtractor(pairs=[("Nose", "Nose")]), "to themselves"),
        (DistanceExtractor(inter_animal=[("Snout", "Nose")]), r"`inter_animal` names keypoints \['Snout'\]"),
        (DistanceExtractor(pairs="skeleton", skeleton=None), "need a `skeleton`"),
        (AngleExtractor(triplets=[("Nose", "Neck", "Tail")]), r"`triplets` names keypoints \['Neck', 'Tail'\]"),
        (AngleExtractor(triplets=[("Nose", "Nose", "Center")]), "repeat the middle keypoint"),
        (AreaExtractor(areas=["head", "belly"]), r"unknown areas \['belly'\]"),
        (AreaExtractor(areas={"tri": ["Nose", "Ear", "Chin"]}), r"`areas` names keypoints \['Chin', 'Ear'\]"),
        (AreaExtractor(min_vertices={"wing": 3}), r"unknown areas \['wing'\]"),
    ],
)
def test_unknown_keypoints_are_listed(step, match):
    ds = make_synthetic_poses(20, scenario="nose_to_nose", random_state=0)
    with pytest.raises(ValueError, match=match):
        step.fit(ds)


@pytest.mark.parametrize("step", [DistanceExtractor(), AngleExtractor(), AreaExtractor()])
def test_skeleton_keypoints_missing_from_data_are_listed(step, shared_data):
    ds = make_synthetic_poses(20, keypoints=[k for k in DEEPOF_14_BODY if k not in ("Tail_1", "Spine_2")],
                              random_state=0)
    with pytest.raises(ValueError, match=r"Spine_2") as err:
        step.fit(ds)
    assert type(step).__name__ in str(err.value)


def test_custom_skeleton_without_inter_edges_needs_explicit_choice():
    ds = make_synthetic_poses(20, scenario="nose_to_nose", random_state=0)
    sk = Skeleton.from_edges([("Nose", "Center"), ("Center", "Tail_base")])
    with pytest.raises(ValueError, match="no inter-animal edges"):
        DistanceExtractor(skeleton=sk).fit(ds)
    out = DistanceExtractor(skeleton=sk, inter_animal=False).fit_transform(ds)
    assert list(out.pair.values) == ["Nose-Center", "Center-Tail_base"]


@pytest.mark.parametrize("layout", ["contiguous", "time block", "transposed"])
def test_take_keypoints_equals_fancy_indexing(layout):
    rng = np.random.default_rng(3)
    pos = rng.normal(size=(50, 2, 6, 3))
    if layout == "time block":
        pos = pos[10:37]  # a time block of a C-contiguous array is C-contiguous too
    elif layout == "transposed":  # not C-contiguous: numpy's own take on the strided view
        pos = np.ascontiguousarray(pos.transpose(3, 2, 1, 0)).transpose(3, 2, 1, 0)
    idx = np.array([5, 0, 0, 3, -1])
    for s in (0, 1):
        expected = pos[:, s][:, idx]
        np.testing.assert_array_equal(take_keypoints(pos, s, idx), expected)
        out = np.empty(expected.shape)  # with out, indices are taken as valid (clip mode): non-negative here
        assert take_keypoints(pos, s, idx % 6, out=out) is out
        np.testing.assert_array_equal(out, expected)
    for bad in ([6], [-7]):  # out of range for the keypoint axis, even where the flat rows would exist
        with pytest.raises(IndexError):
            take_keypoints(pos, 0, np.array(bad))


def test_take_keypoints_does_not_copy_a_contiguous_block():
    """numpy's take copies a non-contiguous input first; pos[:, s] of the schema's layout is one."""
    import tracemalloc

    pos = np.random.default_rng(0).normal(size=(4000, 2, 14, 2))
    idx = np.array([1, 2])
    take_keypoints(pos, 1, idx)
    tracemalloc.start()
    try:
        out = take_keypoints(pos, 1, idx)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < out.nbytes + pos.nbytes // 8  # a copy of pos[:, 1] alone would be pos.nbytes / 2
