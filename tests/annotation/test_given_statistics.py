"""Whole-recording statistics given through the dataset's attributes: climb-arena's body length and
stat-lookaround's median nose-ear distances (what the chunked transform injects)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from deepof_sk.annotation import ClimbingAnnotator, DeepOFAnnotator, LookaroundAnnotator
from deepof_sk.annotation._base import (
    BODY_LENGTH_ATTR,
    NOSE_EAR_ATTR,
    AnnotationContext,
    body_length_from_frames,
    median_over_time,
)
from deepof_sk.datasets import make_synthetic_poses
from deepof_sk.preprocessing import Arena


@pytest.fixture(scope="module")
def explore():
    return make_synthetic_poses(1500, scenario="explore", n_individuals=2, noise=0.5, dropout_rate=0.02, n_gaps=8,
                                random_state=3)


def _context(ds):
    ann = DeepOFAnnotator(arena=Arena.circle((0.0, 0.0), 170.0, unit="mm")).fit(ds)
    return AnnotationContext(ds, ann.roles_, where="test")


def test_statistics_from_per_frame_values_equal_the_context(explore):
    """The per-frame quantities the chunked first pass streams give the context's statistics bit for bit."""
    ctx = _context(explore)
    lengths = ctx.backbone_lengths()
    assert lengths.shape == (1500, 2) and np.isnan(lengths).any() and (lengths[~np.isnan(lengths)] > 0).all()
    np.testing.assert_array_equal(body_length_from_frames(lengths), ctx.body_length())
    for ear in ("left_ear", "right_ear"):
        d = np.ascontiguousarray(ctx.distance("nose", ear))
        np.testing.assert_array_equal(median_over_time(d), ctx.nose_ear_median(ear))
    assert (ctx.body_length() != 50.0).all()  # estimated, not DeepOF's fallback


def test_injected_body_length_is_used_by_climb_arena(explore):
    """A given body length replaces the estimate: a different value gives a different climb-arena."""
    arena = Arena.circle((0.0, 0.0), 150.0, unit="mm")  # smaller than the synthetic 190 mm floor: climbing
    ann = ClimbingAnnotator(arena=arena).fit(explore)
    plain = ann.transform(explore).annotation.values
    estimate = _context(explore).body_length()
    same = explore.assign_attrs({BODY_LENGTH_ATTR: json.dumps(dict(zip(["mouse1", "mouse2"], map(float, estimate),
                                                                       strict=True)))})
    np.testing.assert_array_equal(ann.transform(same).annotation.values, plain)  # the estimate itself: no change
    longer = explore.assign_attrs({BODY_LENGTH_ATTR: {"mouse1": 400.0, "mouse2": float(estimate[1])}})  # a dict
    out = ann.transform(longer).annotation.sel(behavior="climb-arena").values
    ref = plain[:, :, 0]
    assert np.nansum(ref[:, 0]) > np.nansum(out[:, 0])  # the wall moves 0.15 x 400 mm out: fewer climbing frames
    np.testing.assert_array_equal(out[:, 1], ref[:, 1])
    # body_length= still wins over the attribute
    fixed = ClimbingAnnotator(arena=arena, body_length=float(estimate[0])).fit(explore)
    np.testing.assert_array_equal(fixed.transform(longer).annotation.values[:, 0],
                                  fixed.transform(explore).annotation.values[:, 0])


def test_injected_nose_ear_medians_are_used_by_lookaround(explore):
    ann = LookaroundAnnotator().fit(explore)
    plain = ann.transform(explore).annotation.values
    assert np.nansum(plain) > 0
    huge = {ind: {"left_ear": 1e6, "right_ear": 1e6} for ind in ("mouse1", "mouse2")}
    out = ann.transform(explore.assign_attrs({NOSE_EAR_ATTR: json.dumps(huge)})).annotation.values
    assert np.nansum(out) == 0  # no nose-ear distance exceeds 0.9 x 1e6 mm


@pytest.mark.parametrize("attr, value, match", [
    (BODY_LENGTH_ATTR, '{"mouse1": 90.0}', "mouse2"),
    (BODY_LENGTH_ATTR, "not json", "deepof_sk_body_length"),
    (BODY_LENGTH_ATTR, '{"mouse1": -1, "mouse2": 90}', "positive"),
    (NOSE_EAR_ATTR, '{"mouse1": 12.0, "mouse2": 12.0}', "left_ear"),
])
def test_malformed_statistics_are_reported(explore, attr, value, match):
    ann = DeepOFAnnotator(arena=Arena.circle((0.0, 0.0), 170.0, unit="mm")).fit(explore)
    with pytest.raises(ValueError, match=match):
        ann.transform(explore.assign_attrs({attr: value}))
