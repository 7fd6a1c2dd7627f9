"""Regions of interest: masks per keypoint, animal and ROI; DeepOF's inner/outer arena ROIs."""

from __future__ import annotations

import json

import numpy as np
import pytest

from deepof_sk.datasets import make_synthetic_poses
from deepof_sk.preprocessing import (
    Arena,
    ArenaScaler,
    ROIMasker,
    attach_arena,
    attach_rois,
    compute_roi_mask,
    get_rois,
    make_inner_roi,
)

BOX = [[-20.0, -20.0], [20.0, -20.0], [20.0, 20.0], [-20.0, 20.0]]


def test_inner_roi_of_a_circle_and_a_square():
    inner = make_inner_roi(Arena.circle((5.0, 5.0), 100.0), 0.7)
    assert inner.radius == pytest.approx(100.0 * np.sqrt(0.7))
    square = Arena.polygon([[0, 0], [100, 0], [100, 100], [0, 100]])
    inner_sq = make_inner_roi(square, 0.64)  # every edge moves in by 10: an 80 x 80 square
    assert inner_sq.area == pytest.approx(6400.0, rel=1e-8)
    np.testing.assert_allclose(sorted(inner_sq.vertices), [[10, 10], [10, 90], [90, 10], [90, 90]], atol=1e-6)


def test_inner_roi_of_an_ellipse_reaches_the_area_ratio():
    ellipse = Arena.ellipse((0.0, 0.0), (200.0, 120.0), 0.4)
    inner = make_inner_roi(ellipse)
    assert inner.shape == "polygon"
    assert inner.area / ellipse.area == pytest.approx(0.7, rel=1e-4)
    with pytest.raises(ValueError, match="area_ratio"):
        make_inner_roi(ellipse, 1.5)


def test_masker_box_on_a_still_mouse():
    ds = make_synthetic_poses(30, scenario="still", random_state=0)  # centre at the origin, facing +x
    out = ROIMasker(rois={"box": BOX}).fit_transform(ds)
    mask = out["in_roi"]
    assert mask.dims == ("time", "keypoint", "individual", "roi") and mask.dtype == bool
    assert list(mask.roi.values) == ["box"]
    assert bool(mask.sel(keypoint="Center").all())
    assert not bool(mask.sel(keypoint=["Nose", "Tail_base"]).any())
    assert "in_roi" not in ds and json.loads(out.attrs["rois"])["box"]["shape"] == "polygon"
    np.testing.assert_array_equal(out.time.values, ds.time.values)


def test_nan_positions_are_not_inside():
    ds, truth = make_synthetic_poses(
        200, scenario="still", n_gaps=4, gap_length=10, random_state=0, return_truth=True
    )
    mask = ROIMasker(rois={"all": [[-500, -500], [500, -500], [500, 500], [-500, 500]]}).fit_transform(ds)
    inside = mask["in_roi"].sel(roi="all").transpose("time", "keypoint", "individual").values
    np.testing.assert_array_equal(inside, ~truth.gap_mask)


def test_rois_from_attrs_and_several_shapes():
    ds = make_synthetic_poses(30, scenario="still", random_state=0)
    ds = attach_rois(
        ds, {"box": BOX, "disc": Arena.circle((45.0, 0.0), 5.0), "far": Arena.circle((300, 0), 5.0)}
    )
    assert set(get_rois(ds)) == {"box", "disc", "far"}
    out = ROIMasker().fit_transform(ds)
    assert list(out.roi.values) == ["box", "disc", "far"]
    nose = out["in_roi"].sel(keypoint="Nose")
    assert bool(nose.sel(roi="disc").all()) and not bool(nose.sel(roi=["box", "far"]).any())
    again = ROIMasker(rois={"disc": Arena.circle((45.0, 0.0), 5.0)}).fit_transform(out)  # replaces the masks
    assert list(again.roi.values) == ["disc"]


def test_inner_and_outer_rois_of_the_arena():
    ds = make_synthetic_poses(2000, scenario="explore", random_state=0)
    arena = Arena.circle((0.0, 0.0), 190.0)
    out = ROIMasker(inner_area_ratio=0.7, arena=arena).fit_transform(ds)
    dist = np.hypot(*ds.position.transpose("space", ...).values)  # (time, keypoint, individual)
    r_inner = 190.0 * np.sqrt(0.7)
    mask = out["in_roi"].transpose("roi", "time", "keypoint", "individual")
    np.testing.assert_array_equal(mask.sel(roi="inner").values, dist <= r_inner)
    np.testing.assert_array_equal(mask.sel(roi="outer").values, (dist > r_inner) & (dist <= 190.0))
    # the same from attrs
    from_attrs = ROIMasker(inner_area_ratio=0.7).fit_transform(attach_arena(ds, arena))
    np.testing.assert_array_equal(from_attrs["in_roi"].values, out["in_roi"].values)


def test_units_are_converted_with_px_per_mm_or_rejected():
    ds = make_synthetic_poses(30, scenario="still", px_per_mm=2.0, random_state=0)
    box_px = Arena.polygon(np.array(BOX) * 2.0, unit="pixels")
    mm = ArenaScaler(px_per_mm=2.0).fit_transform(attach_rois(ds, {"box": box_px}))
    assert get_rois(mm)["box"].unit == "mm"  # the scaler converts stored ROIs
    np.testing.assert_allclose(get_rois(mm)["box"].vertices, BOX)
    direct = compute_roi_mask(mm, box_px)  # a pixel ROI on a mm dataset: converted with attrs["px_per_mm"]
    assert bool(direct.sel(keypoint="Center").all()) and not bool(direct.sel(keypoint="Nose").any())
    orphan = mm.copy()
    orphan.attrs = {k: v for k, v in mm.attrs.items() if k != "px_per_mm"}
    with pytest.raises(ValueError, match="px_per_mm"):
        compute_roi_mask(orphan, box_px)


def test_masker_errors():
    ds = make_synthetic_poses(30, scenario="still", random_state=0)
    with pytest.raises(ValueError, match="no ROI"):
        ROIMasker().fit_transform(ds)
    with pytest.raises(ValueError, match="clash"):
        ROIMasker(rois={"inner": BOX}, inner_area_ratio=0.7).fit(ds)
    with pytest.raises(ValueError, match="no arena"):
        ROIMasker(inner_area_ratio=0.7).fit_transform(ds)
