"""Arena geometry, arena detection (tracks and video) and px -> mm scaling."""

from __future__ import annotations

import json

import numpy as np
import pytest
import xarray as xr

from deepof_sk.datasets import DEEPOF_14_BODY, make_synthetic_poses
from deepof_sk.exceptions import DataQualityWarning
from deepof_sk.preprocessing import (
    Arena,
    ArenaDetector,
    ArenaScaler,
    attach_arena,
    detect_arena_from_tracks,
    detect_arena_from_video,
    get_arena,
    parse_length,
)
from deepof_sk.validation import make_poses_dataset

SQUARE = [[0.0, 0.0], [100.0, 0.0], [100.0, 50.0], [0.0, 50.0]]


# -- Arena value object ---------------------------------------------------------------------------------------------
def test_circle_contains_and_signed_distance():
    arena = Arena.circle((10.0, 20.0), 100.0)
    pts = np.array([[10.0, 20.0], [110.0, 20.0], [130.0, 20.0], [np.nan, 0.0]])
    assert arena.contains(pts).tolist() == [True, True, False, False]
    np.testing.assert_allclose(arena.distance_to_edge(pts), [100.0, 0.0, -20.0, np.nan])


def test_polygon_contains_distance_and_orientation_independence():
    ccw, cw = Arena.polygon(SQUARE), Arena.polygon(SQUARE[::-1])
    pts = np.array([[50.0, 25.0], [150.0, 25.0], [50.0, -10.0], [10.0, 45.0]])
    for arena in (ccw, cw):
        assert arena.contains(pts).tolist() == [True, False, False, True]
        np.testing.assert_allclose(arena.distance_to_edge(pts), [25.0, -50.0, -10.0, 5.0])
    assert ccw.center == (50.0, 25.0) and ccw.area == 5000.0


def test_points_may_be_a_dataarray_with_space_dim():
    ds = make_synthetic_poses(20, scenario="still", random_state=0)
    nose = ds.position.sel(keypoint="Nose")  # dims (time, space, individual): space is not last
    inside = Arena.circle((0.0, 0.0), 50.0).contains(nose)
    assert isinstance(inside, xr.DataArray) and inside.dims == ("time", "individual")
    assert bool(inside.all())  # the still mouse's nose is 45 mm from the origin
    dist = Arena.circle((0.0, 0.0), 50.0).distance_to_edge(nose)
    np.testing.assert_allclose(dist.values, 5.0)


def test_ellipse_distance_matches_a_dense_polygon():
    ellipse = Arena.ellipse((10.0, -5.0), (60.0, 25.0), np.pi / 5)
    pts = np.random.default_rng(0).normal(size=(500, 2)) * 50
    dense = Arena.polygon(ellipse.as_polygon(10000))
    np.testing.assert_allclose(ellipse.distance_to_edge(pts), dense.distance_to_edge(pts), atol=1e-5)
    np.testing.assert_array_equal(ellipse.contains(pts), dense.contains(pts))


def test_buffer_circle_and_polygon():
    assert Arena.circle((0, 0), 10.0).buffer(2.5).radius == 12.5
    grown = Arena.polygon(SQUARE).buffer(10.0)
    assert grown.area == pytest.approx(120 * 70)
    shrunk = Arena.polygon(SQUARE[::-1]).buffer(-10.0)  # orientation does not flip the sign
    assert shrunk.area == pytest.approx(80 * 30)
    with pytest.raises(ValueError, match="collapses"):
        Arena.polygon(SQUARE).buffer(-30.0)
    with pytest.raises(ValueError, match="removes the whole circle"):
        Arena.circle((0, 0), 10.0).buffer(-10.0)


def test_scale_length_follows_deepof_conventions():
    assert Arena.circle((0, 0), 126.0).scale_length == 252.0  # diameter
    assert Arena.ellipse((0, 0), (120.0, 130.0)).scale_length == 250.0  # twice the mean semi-axis
    assert Arena.polygon([[0, 0], [30, 40], [0, 80]]).scale_length == 50.0  # first edge


def test_to_dict_round_trip_is_json_and_equal():
    for arena in (
        Arena.circle((1, 2), 3.0, unit="mm"),
        Arena.ellipse((1, 2), (3, 4), 0.3),
        Arena.polygon(SQUARE),
    ):
        d = json.loads(json.dumps(arena.to_dict()))
        assert Arena.from_dict(d) == arena
        assert hash(Arena.from_dict(d)) == hash(arena)


def test_from_deepof_ellipse_tuple_and_polygon():
    ellipse = Arena.from_deepof(((300.0, 290.0), (250.0, 255.0), 13.54))
    assert ellipse.shape == "ellipse" and ellipse.unit == "mm"
    assert ellipse.angle == pytest.approx(np.deg2rad(13.54))
    assert Arena.from_deepof(np.array(SQUARE)).shape == "polygon"


def test_invalid_geometry_is_a_clear_error():
    with pytest.raises(ValueError, match="positive finite `radius`"):
        Arena.circle((0, 0), -1.0)
    with pytest.raises(ValueError, match="at least 3"):
        Arena.polygon([[0, 0], [1, 1]])
    with pytest.raises(ValueError, match="zero area"):
        Arena.polygon([[0, 0], [1, 1], [2, 2]])


def test_attach_and_get_arena_survive_netcdf(tmp_path):
    ds = make_synthetic_poses(10, random_state=0)
    ds.attrs = {k: v for k, v in ds.attrs.items() if v is not None}  # netCDF cannot store None attrs
    arena = Arena.circle((1.0, 2.0), 190.0)
    with_arena = attach_arena(ds, arena)
    assert "arena" not in ds.attrs  # input untouched
    path = tmp_path / "rec.nc"
    with_arena.to_netcdf(path, engine="h5netcdf")
    with xr.open_dataset(path, engine="h5netcdf") as back:
        assert get_arena(back) == arena


# -- detection from tracks ------------------------------------------------------------------------------------------
def _points_dataset(points: np.ndarray) -> xr.Dataset:
    """One keypoint of one animal visiting ``points`` (n, 2)."""
    return make_poses_dataset(points[:, :, None, None])


def test_tracks_recover_a_fully_visited_circle():
    rng = np.random.default_rng(0)
    r, th = 190.0 * np.sqrt(rng.random(15000)), 2 * np.pi * rng.random(15000)
    ds = _points_dataset(np.c_[320 + r * np.cos(th), 240 + r * np.sin(th)])
    arena = detect_arena_from_tracks(ds)
    assert np.hypot(arena.center[0] - 320, arena.center[1] - 240) < 0.01 * 190
    assert arena.radius == pytest.approx(190.0, rel=0.02)


def test_tracks_recover_the_envelope_of_a_wall_following_mouse():
    """A mouse circling on a 150 mm-radius path: its outermost body point (the tail tip, 100 mm behind the centre)
    draws a circle of radius hypot(150, 100) around the turn centre (0, 150) mm; the fit recovers it."""
    ds = make_synthetic_poses(
        2000, scenario="turn", speed=150 * np.pi / 8, angular_speed=np.pi / 8, random_state=0
    )
    offsets = np.array(list(DEEPOF_14_BODY.values()))
    expected = np.hypot(150 + offsets[:, 0], offsets[:, 1]).max()
    arena = ArenaDetector(quantile=1.0).fit_transform(ds)
    found = get_arena(arena)
    np.testing.assert_allclose(found.center, (0.0, 150.0), atol=1e-6)
    assert found.radius == pytest.approx(expected, rel=1e-6)


def test_tracks_on_explore_scenario_recover_the_arena():
    """``explore`` walks the whole floor of the 190 mm arena; the nose touches the wall only at the turn-backs, and
    the tail tip hangs over it (as real tail tips do). From the body keypoints (no tail chain) the centre is
    recovered within 2 % and the radius from below within 12 % (the 99th-percentile rim of where the noses went:
    about 169 mm); with the tail the estimate overshoots the wall."""
    ds = make_synthetic_poses(5000, scenario="explore", px_per_mm=2.0, random_state=0)
    body = [k for k in ds.keypoint.values if not str(k).startswith("Tail_") or k == "Tail_base"]
    found = get_arena(ArenaDetector(keypoints=body).fit_transform(ds))
    assert np.hypot(*found.center) < 0.02 * 190 * 2
    assert 0.88 * 190 * 2 < found.radius <= 190 * 2
    with_tail = get_arena(ArenaDetector().fit_transform(ds))
    assert with_tail.radius > found.radius  # the tail tip overshoots the wall


def test_tracks_polygon_recovers_corners():
    rng = np.random.default_rng(1)
    pts = np.c_[100 + 400 * rng.random(15000), 50 + 300 * rng.random(15000)]
    arena = detect_arena_from_tracks(_points_dataset(pts), shape="polygon", n_vertices=4)
    corners = np.array([[100, 50], [500, 50], [500, 350], [100, 350]])
    found = np.asarray(arena.vertices)
    nearest = np.min(np.linalg.norm(found[:, None] - corners[None], axis=-1), axis=0)
    assert nearest.max() < 0.02 * 400


def test_tracks_ignore_a_missing_animal_and_reject_an_empty_recording():
    ds = make_synthetic_poses(500, scenario="explore", n_individuals=2, random_state=0)
    half = ds.copy(deep=True)
    half.position[:, :, :, 1] = np.nan
    assert get_arena(ArenaDetector().fit_transform(half)).shape == "circle"
    empty = ds.copy(deep=True)
    empty.position[:] = np.nan
    with pytest.raises(ValueError, match="finite keypoint positions"):
        ArenaDetector().fit_transform(empty)


def test_detector_parameter_errors():
    ds = make_synthetic_poses(50, random_state=0)
    with pytest.raises(ValueError, match="ellipse"):
        ArenaDetector(shape="ellipse").fit(ds)
    with pytest.raises(ValueError, match="Snout"):
        ArenaDetector(keypoints=["Snout"]).fit(ds)


# -- detection from video -------------------------------------------------------------------------------------------
def _frame_with_circle(cv2, rng, center=(330, 250), radius=180):
    img = np.full((480, 640), 30, np.uint8)
    cv2.circle(img, center, radius, 200, -1)
    cv2.ellipse(img, ((center[0] + 100, center[1]), (60, 25), 30), 40, -1)  # a dark mouse on the floor
    return np.clip(img + rng.normal(0, 5, img.shape), 0, 255).astype(np.uint8)


def test_video_frame_circle_and_ellipse():
    cv2 = pytest.importorskip("cv2")
    img = _frame_with_circle(cv2, np.random.default_rng(0))
    circle = detect_arena_from_video(img)
    np.testing.assert_allclose(circle.center, (330, 250), atol=1.0)
    assert circle.radius == pytest.approx(180, rel=0.01)
    ellipse = detect_arena_from_video(np.dstack([img] * 3), shape="ellipse")  # colour frames work too
    np.testing.assert_allclose(ellipse.axes, (180, 180), rtol=0.01)


def test_video_frame_dark_polygon_on_bright_background():
    cv2 = pytest.importorskip("cv2")
    img = np.full((480, 640), 220, np.uint8)
    quad = np.array([[100, 60], [540, 80], [520, 420], [120, 400]])
    cv2.fillPoly(img, [quad], 40)
    arena = detect_arena_from_video(img, shape="polygon", n_vertices=4)
    found = np.asarray(arena.vertices)
    assert np.min(np.linalg.norm(found[:, None] - quad[None], axis=-1), axis=0).max() < 3.0


def test_video_file_median_background_through_the_detector(tmp_path):
    cv2 = pytest.importorskip("cv2")
    path = str(tmp_path / "arena.avi")
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*"MJPG"), 25, (640, 480))
    if not writer.isOpened():
        pytest.skip("this OpenCV build cannot write MJPG/AVI")
    for i in range(12):  # the mouse moves, the median background keeps the arena only
        img = np.full((480, 640), 30, np.uint8)
        cv2.circle(img, (320, 240), 170, 210, -1)
        cv2.circle(img, (200 + 20 * i, 240), 20, 20, -1)
        writer.write(cv2.cvtColor(img, cv2.COLOR_GRAY2BGR))
    writer.release()
    ds = make_synthetic_poses(20, random_state=0)
    ds.attrs["recording_id"] = "rec1"
    out = ArenaDetector(method="video", video={"rec1": path}, n_frames=12, random_state=0).fit_transform(ds)
    found = get_arena(out)
    np.testing.assert_allclose(found.center, (320, 240), atol=1.5)
    assert found.radius == pytest.approx(170, rel=0.01)
    with pytest.raises(ValueError, match="no entry for recording"):
        ArenaDetector(method="video", video={"other": path}).fit_transform(ds)
    with pytest.raises(ValueError, match="video_file"):
        ArenaDetector(method="video").fit_transform(ds)
    with pytest.raises(FileNotFoundError):
        detect_arena_from_video(str(tmp_path / "missing.mp4"))


def test_cv2_is_imported_only_inside_functions():
    """``import deepof_sk`` must not import OpenCV: no module-level cv2 import in the arena/ROI/alignment modules."""
    import ast
    import importlib

    for name in ("_arena", "_roi", "_alignment"):
        module = importlib.import_module(f"deepof_sk.preprocessing.{name}")
        tree = ast.parse(open(module.__file__).read())
        top = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
        names = {a.name for n in top for a in n.names} | {
            n.module for n in top if isinstance(n, ast.ImportFrom)
        }
        assert "cv2" not in names, name


# -- scaling --------------------------------------------------------------------------------------------------------
def test_scaler_px_per_mm_gives_the_truth_in_mm():
    ds, truth = make_synthetic_poses(200, scenario="walk", px_per_mm=3.0, random_state=0, return_truth=True)
    mm = ArenaScaler(px_per_mm=3.0).fit_transform(ds)
    np.testing.assert_allclose(mm.position.values, truth.position, atol=1e-9)
    assert mm.attrs["space_unit"] == "mm" and mm.position.attrs["units"] == "mm"
    assert mm.attrs["px_per_mm"] == 3.0
    assert ds.attrs["space_unit"] == "pixels"  # input untouched


def test_scaler_from_arena_size_scales_the_arena_and_inverts():
    ds, truth = make_synthetic_poses(200, scenario="walk", px_per_mm=3.0, random_state=0, return_truth=True)
    ds = attach_arena(ds, Arena.circle((15.0, -30.0), 190.0 * 3))  # a 380 mm arena seen at 3 px/mm
    scaler = ArenaScaler(arena_size="38 cm").fit(ds)
    mm = scaler.transform(ds)
    np.testing.assert_allclose(mm.position.values, truth.position, atol=1e-9)
    arena_mm = get_arena(mm)
    assert arena_mm.unit == "mm" and arena_mm.radius == pytest.approx(190.0)
    np.testing.assert_allclose(arena_mm.center, (5.0, -10.0))
    back = scaler.inverse_transform(mm)
    np.testing.assert_allclose(back.position.values, ds.position.values, rtol=1e-12)
    assert back.attrs["space_unit"] == "pixels" and back.attrs["px_per_mm"] == pytest.approx(3.0)
    assert get_arena(back).unit == "pixels" and get_arena(back).radius == pytest.approx(570.0)
    np.testing.assert_allclose(get_arena(back).center, (15.0, -30.0))


def test_scaler_polygon_uses_the_first_edge_and_user_arena():
    ds = make_synthetic_poses(20, scenario="still", px_per_mm=2.0, random_state=0)
    arena = Arena.polygon([[0, 0], [800, 0], [800, 300], [0, 300]])  # first edge 800 px = 400 mm
    mm = ArenaScaler(arena_size="400 mm", arena=arena).fit_transform(ds)
    assert mm.attrs["px_per_mm"] == pytest.approx(2.0)
    assert get_arena(mm).vertices[1] == (400.0, 0.0)


def test_scaler_bad_sizes_and_states():
    ds = make_synthetic_poses(20, random_state=0)
    for bad in ("380", 380):
        with pytest.raises(ValueError, match="has no unit"):
            ArenaScaler(arena_size=bad).fit(ds)
    with pytest.raises(ValueError, match="cannot read"):
        ArenaScaler(arena_size="380 furlongs").fit(ds)
    for implausible in ("10 mm", "6 m"):
        with pytest.warns(DataQualityWarning, match="plausible"):
            ArenaScaler(arena_size=implausible, px_per_mm=None).fit(ds)
    with pytest.raises(ValueError, match="ArenaDetector"):
        ArenaScaler().fit_transform(ds)
    mm = ArenaScaler(px_per_mm=2.0).fit_transform(ds)
    with pytest.raises(ValueError, match="already scaled"):
        ArenaScaler(px_per_mm=2.0).fit_transform(mm)
    with pytest.raises(ValueError, match="only the output"):
        ArenaScaler(px_per_mm=2.0).fit(ds).inverse_transform(ds)


def test_parse_length_units():
    assert parse_length("380 mm") == parse_length("38cm") == parse_length("0.38 m") == 380.0
    assert parse_length("10 in") == pytest.approx(254.0)
