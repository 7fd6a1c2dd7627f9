"""BodyMotionExtractor: body lengths per second, invariance to pixel scale and frame rate, roles, gaps."""

from __future__ import annotations

import numpy as np
import pytest

from deepof_sk import schema as S
from deepof_sk.datasets import make_synthetic_poses
from deepof_sk.supervised import BodyMotionExtractor, resample_poses, rescale_poses


def test_walking_at_one_body_length_per_second():
    # nose to tail base is 85 mm in the synthetic body; 85 mm/s is 1 body length per second
    ds = make_synthetic_poses(100, scenario="walk", speed=85.0, fps=25, random_state=0)
    out = BodyMotionExtractor(spans=(0.2, 0.4)).fit_transform(ds)
    m = out.motion.isel(time=slice(10, 90), individual=0)
    for name in ("speed_median", "speed_max", "centroid_speed", "nose_speed", "tail_base_speed"):
        np.testing.assert_allclose(m.sel(feature=f"{name}@0.2s"), 1.0, rtol=1e-9)
    np.testing.assert_allclose(m.sel(feature="posture_change@0.4s"), 0.0, atol=1e-9)
    np.testing.assert_allclose(m.sel(feature="turning_speed@0.2s"), 0.0, atol=1e-9)
    np.testing.assert_allclose(m.sel(feature="elongation"), 1.0)
    assert float(out.body_length.values[0]) == pytest.approx(85.0)
    assert out.motion.dims == (S.TIME, S.INDIVIDUAL, S.FEATURE)
    np.testing.assert_array_equal(out[S.TIME], ds[S.TIME])


def test_turning_speed_in_radians_per_second():
    ds = make_synthetic_poses(200, scenario="turn", speed=50.0, angular_speed=np.pi / 4, fps=25, random_state=0)
    out = BodyMotionExtractor(spans=(0.4,)).fit_transform(ds)
    np.testing.assert_allclose(out.motion.sel(feature="turning_speed@0.4s").isel(time=slice(10, -10)),
                               np.pi / 4, rtol=1e-6)


def test_features_do_not_depend_on_pixel_scale_or_frame_rate():
    ds = make_synthetic_poses(300, scenario="explore", fps=30, random_state=1)
    ext = BodyMotionExtractor(spans=(0.4,), match_keypoints=False)  # 0.4 s = 12 frames at 30 fps, 6 at 15 fps
    base = ext.fit_transform(ds).motion
    scaled = ext.transform(rescale_poses(ds, 3.7, rotation=1.1, offset=(100.0, -40.0))).motion
    np.testing.assert_allclose(scaled, base, rtol=1e-7, atol=1e-9)
    slow = ext.transform(resample_poses(ds, 15.0)).motion  # every second frame, the same spans
    inner = slice(5, -5)
    np.testing.assert_allclose(slow.isel(time=inner), base.isel(time=slice(0, None, 2)).isel(time=inner),
                               rtol=0.05, atol=0.02)


def test_roles_other_skeletons_and_mapping():
    ds = make_synthetic_poses(60, scenario="walk", fps=25, random_state=0)
    renamed = ds.assign_coords(keypoint=[{"Nose": "snout", "Tail_base": "tailbase"}.get(k, k.lower())
                                         for k in ds.keypoint.values])
    ext = BodyMotionExtractor(match_keypoints=False).fit(ds)
    np.testing.assert_allclose(ext.transform(renamed).motion, ext.transform(ds).motion)
    odd = ds.assign_coords(keypoint=[{"Nose": "pt0", "Tail_base": "pt9"}.get(k, k) for k in ds.keypoint.values])
    with pytest.raises(ValueError, match=r"cannot map the keypoint roles \['nose', 'tail_base'\]"):
        BodyMotionExtractor().fit(odd)
    mapped = BodyMotionExtractor(roles={"nose": "pt0", "tail_base": "pt9"}).fit_transform(odd)
    np.testing.assert_allclose(mapped.motion, ext.transform(ds).motion)
    # strict by default: a keypoint seen in fit must be there
    strict = BodyMotionExtractor().fit(ds)
    with pytest.raises(ValueError, match="Tail_tip"):
        strict.transform(ds.sel(keypoint=[k for k in ds.keypoint.values if k != "Tail_tip"]))


def test_all_keypoints_mode_and_gaps():
    ds = make_synthetic_poses(100, scenario="walk", speed=85.0, fps=25, random_state=0)
    pos = ds[S.POSITION].values.copy()
    pos[40:45, :, 0, 0] = np.nan  # a gap in the nose
    ds[S.POSITION] = ds[S.POSITION].copy(data=pos)
    out = BodyMotionExtractor(spans=(0.2,), use_keypoints="all").fit_transform(ds)
    m = out.motion.isel(individual=0)
    assert np.isnan(m.sel(feature="nose_speed@0.2s").values[42])
    # statistics over keypoints skip the missing nose
    assert m.sel(feature="speed_median@0.2s").values[42] == pytest.approx(1.0)
    roles_only = BodyMotionExtractor(spans=(0.2,)).fit_transform(ds).motion.isel(individual=0)
    assert np.isnan(roles_only.sel(feature="posture_change@0.2s").values[42])


def test_body_length_needs_the_roles_tracked():
    ds = make_synthetic_poses(30, scenario="walk", fps=25, random_state=0)
    pos = ds[S.POSITION].values.copy()
    pos[:25, :, 0, 0] = np.nan
    ds[S.POSITION] = ds[S.POSITION].copy(data=pos)
    with pytest.raises(ValueError, match="body length cannot be estimated"):
        BodyMotionExtractor().fit_transform(ds)
    out = BodyMotionExtractor(body_length=85.0).fit_transform(ds)
    assert float(out.body_length.values[0]) == 85.0
    with pytest.raises(ValueError, match="fps"):
        BodyMotionExtractor().fit(make_synthetic_poses(30, fps=None, random_state=0))
