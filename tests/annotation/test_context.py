"""The per-recording context: DeepOF's speed, presence, medians and interpolation, against direct definitions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from deepof_sk.annotation import AnnotationContext
from deepof_sk.annotation._base import _median_above, interpolate_forward
from deepof_sk.datasets import make_synthetic_poses
from deepof_sk.features._kinematics import deepof_speed

RNG = np.random.default_rng(0)


def _pandas_rolling_speed(xy: np.ndarray, fps: float) -> np.ndarray:
    """DeepOF's rolling_speed as its inventory describes it, written with pandas (shift 2, /2, rolling 3, round 3)."""
    frame = pd.DataFrame(xy)
    half = np.concatenate([frame.to_numpy(), frame.shift(2).to_numpy()], axis=1) / 2
    diff = half[:, :2] - half[:, 2:]
    dist = pd.DataFrame(np.sqrt(np.einsum("...i,...i", diff, diff)))
    return (np.round(dist.rolling(3).mean(), 3) * fps).to_numpy()[:, 0]


def test_deepof_speed_matches_pandas_bit_for_bit():
    pos = np.cumsum(RNG.normal(0, 3, size=(20_000, 2, 3)), axis=0)
    ours = deepof_speed(pos, 25.0)
    for j in range(3):
        np.testing.assert_array_equal(ours[:, j], _pandas_rolling_speed(pos[:, :, j], 25.0))


def test_speed_agrees_with_the_kinematics_extractor():
    kin = pytest.importorskip("deepof_sk.features._kinematics")
    ds = make_synthetic_poses(300, scenario="explore", n_individuals=2, noise=1.0, random_state=0)
    ref = kin.KinematicsExtractor(method="deepof").fit_transform(ds).speed
    ctx = AnnotationContext(ds, {"nose": "Nose", "center": "Center"}, where="test")
    for role, kp in (("nose", "Nose"), ("center", "Center")):
        np.testing.assert_allclose(ctx.speed(role), ref.sel(keypoint=kp).values, rtol=1e-12, equal_nan=True)


def test_presence_is_the_median_rule():
    for k in (11, 12, 14):  # odd and even keypoint counts (ties of the two middle values)
        conf = RNG.choice([0.2, 0.5, 0.7, 0.9], size=(500, k, 2))
        np.testing.assert_array_equal(_median_above(conf, 0.5), np.median(conf, axis=1) > 0.5)


def test_interpolate_forward_is_pandas_interpolate():
    v = RNG.random((50, 3))
    v[:3, 0] = np.nan
    v[10:14, 1] = np.nan
    v[45:, 2] = np.nan
    np.testing.assert_array_equal(interpolate_forward(v), pd.DataFrame(v).interpolate().to_numpy())
    clean = RNG.random((20, 2))
    clean[:4] = np.nan
    assert interpolate_forward(clean) is clean  # nothing to fill: no copy


def test_interpolate_forward_tells_leading_from_other_gaps():
    base = RNG.random((30, 4))
    base[:2] = np.nan
    for case in ("leading", "all", "interior", "trailing"):
        v = base.copy()
        if case == "all":
            v[:, 1] = np.nan
        elif case == "interior":
            v[10, 2] = np.nan
        elif case == "trailing":
            v[-1, 3] = np.nan
        got = interpolate_forward(v)
        assert (got is v) == (case in ("leading", "all")), case
        np.testing.assert_array_equal(got, pd.DataFrame(v).interpolate().to_numpy())


@pytest.mark.parametrize("fraction", [0.01, 0.5])
def test_nan_confidence_reads_as_tracked(fraction):
    ds = make_synthetic_poses(300, scenario="explore", n_individuals=2, dropout_rate=0.2, random_state=2)
    conf = ds.confidence.values.copy()
    conf[RNG.random(conf.shape) < fraction] = np.nan  # a few entries (patched) or many (one pass)
    ds = ds.assign(confidence=(ds.confidence.dims, conf))
    tracked = np.isfinite(ds.position.values).all(axis=1)
    ctx = AnnotationContext(ds, {"nose": "Nose"}, where="test")
    expected = np.where(np.isnan(conf), tracked.astype(float), conf)
    np.testing.assert_array_equal(ctx._confidence_all(), expected)
    np.testing.assert_array_equal(ctx.confidence("nose"), expected[:, 0])
    np.testing.assert_array_equal(ctx.presence, np.median(expected, axis=1) > 0.5)
    assert np.isnan(ds.confidence.values).sum() == np.isnan(conf).sum()  # the dataset is not written into


def test_context_api_for_custom_rules():
    ds = make_synthetic_poses(60, scenario="nose_to_nose", px_per_mm=2.0, random_state=0)
    ctx = AnnotationContext(ds, {"nose": "Nose", "tail_base": "Tail_base"}, where="test")
    assert ctx.pairs == [("mouse1", "mouse2"), ("mouse2", "mouse1")]
    assert ctx.position("nose").shape == (60, 2, 2) and ctx.position("nose", "mouse2").shape == (60, 2)
    np.testing.assert_allclose(ctx.distance("nose", "tail_base", "mouse1"), 85.0)  # mm, not pixels
    np.testing.assert_allclose(ctx.pair_distance("nose", "nose")[:, 0], ctx.distance("nose", "nose", 0, 1))
    assert ctx.frames(0.5) == 12 and ctx.frames(0.48) == 12
    with pytest.raises(ValueError, match="center"):
        ctx.position("center")


def test_results_do_not_depend_on_the_block_size(monkeypatch):
    import deepof_sk.annotation._base as base
    from deepof_sk.annotation import DeepOFAnnotator
    from deepof_sk.preprocessing import Arena, attach_arena

    ds = attach_arena(make_synthetic_poses(400, scenario="explore", n_individuals=3, noise=2.0, n_gaps=6,
                                           random_state=3), Arena.circle((0.0, 0.0), 190.0))
    expected = DeepOFAnnotator().fit_transform(ds)
    for size in (7, 13, 64):  # blocks smaller than the speed stencil, the following window, the filters
        monkeypatch.setattr(base, "_CHUNK", size)
        got = DeepOFAnnotator().fit_transform(ds)
        np.testing.assert_array_equal(got.annotation.values, expected.annotation.values)
        np.testing.assert_array_equal(got.social_annotation.values, expected.social_annotation.values)
