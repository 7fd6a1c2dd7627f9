"""Individual behaviours on synthetic scenes whose answer is known frame by frame."""

from __future__ import annotations

import numpy as np
import pytest

from deepof_sk.annotation import (
    ActivityAnnotator,
    ArenaSniffingAnnotator,
    ClimbingAnnotator,
    DeepOFAnnotator,
    ImmobilityAnnotator,
    LocomotionAnnotator,
    MissingAnnotator,
)
from deepof_sk.datasets import make_synthetic_poses
from deepof_sk.preprocessing import Arena, attach_arena

EDGE = 5  # frames at each end that DeepOF's median filter (12 frames at 25 fps) sets to False


def _values(out, behavior, individual=0):
    return out.annotation.sel(behavior=behavior).isel(individual=individual).values


def _still_with_moving_nose(n=250):
    """A mouse standing still whose nose circles (radius 2 mm, 5 Hz): DeepOF nose speed about 47 mm/s."""
    ds = make_synthetic_poses(n, scenario="still", random_state=0)
    pos = ds.position.values.copy()
    t = np.arange(n) / 25.0
    k = list(ds.keypoint.values).index("Nose")
    pos[:, 0, k, 0] += 2.0 * np.cos(2 * np.pi * 5 * t)
    pos[:, 1, k, 0] += 2.0 * np.sin(2 * np.pi * 5 * t)
    return attach_arena(ds.copy(data={"position": pos, "confidence": ds.confidence.values}),
                        Arena.circle((0.0, 0.0), 190.0))


@pytest.mark.parametrize("arena", [
    Arena.circle((0.0, 0.0), 150.0),
    Arena.ellipse((0.0, 0.0), (150.0, 300.0)),
    Arena.polygon([(-150.0, -150.0), (150.0, -150.0), (150.0, 150.0), (-150.0, 150.0)]),
], ids=["circle", "ellipse", "polygon"])
def test_climber_beyond_the_wall(arena):
    # walks along x at 50 mm/s from x=-299 to x=+299 (centre); the nose is 45 mm ahead, on y=0
    ds = attach_arena(make_synthetic_poses(300, speed=50.0, random_state=0), arena)
    out = ClimbingAnnotator(body_length=85.0).fit_transform(ds)
    nose_x = ds.position.sel(keypoint="Nose", space="x").values[:, 0]
    truth = np.abs(nose_x) > 150.0 + 0.15 * 85.0
    got = _values(out, "climb-arena")
    np.testing.assert_array_equal(got[EDGE:-EDGE], truth[EDGE:-EDGE])
    assert truth.any() and not truth.all()


def test_body_length_estimate_and_default():
    # 500 complete frames: DeepOF's estimate (80th percentile of Nose-Spine_1-Center-Spine_2-Tail_base) is 85 mm
    ds = attach_arena(make_synthetic_poses(500, speed=50.0, random_state=0), Arena.circle((0.0, 0.0), 150.0))
    est = ClimbingAnnotator().fit_transform(ds)
    fixed = ClimbingAnnotator(body_length=85.0).fit_transform(ds)
    np.testing.assert_array_equal(_values(est, "climb-arena"), _values(fixed, "climb-arena"))


def test_sniff_arena_nose_near_the_wall_while_still():
    still = make_synthetic_poses(150, scenario="still", random_state=0)  # nose at (45, 0)
    near = ArenaSniffingAnnotator().fit_transform(attach_arena(still, Arena.circle((0.0, 0.0), 50.0)))
    far = ArenaSniffingAnnotator().fit_transform(attach_arena(still, Arena.circle((0.0, 0.0), 100.0)))
    assert _values(near, "sniff-arena")[10:-10].all()
    assert not _values(near, "sniff-arena")[:4].any()  # the centre speed is undefined on the first 4 frames
    assert not _values(far, "sniff-arena").any()
    # walking past the wall is not sniffing it (centre faster than 40 mm/s)
    walk = attach_arena(make_synthetic_poses(300, speed=100.0, random_state=0), Arena.circle((0.0, 0.0), 290.0))
    assert not _values(ArenaSniffingAnnotator().fit_transform(walk), "sniff-arena").any()


def test_still_animal_moving_its_nose():
    out = DeepOFAnnotator().fit_transform(_still_with_moving_nose())
    inner = slice(25, -25)
    for behavior, expected in [("stat-lookaround", 1), ("stat-active", 1), ("sniffing", 1), ("stat-passive", 0),
                               ("moving", 0), ("immobility", 0), ("climb-arena", 0), ("sniff-arena", 0)]:
        assert (_values(out, behavior)[inner] == expected).all(), behavior
    assert np.nanmax(_values(out, "speed")) == 0.0  # the body does not move


def test_fully_still_animal():
    ds = attach_arena(make_synthetic_poses(250, scenario="still", random_state=0), Arena.circle((0, 0), 190.0))
    out = DeepOFAnnotator().fit_transform(ds)
    inner = slice(25, -25)
    for behavior, expected in [("stat-passive", 1), ("immobility", 1), ("stat-active", 0), ("moving", 0),
                               ("sniffing", 0), ("stat-lookaround", 0)]:
        assert (_values(out, behavior)[inner] == expected).all(), behavior


def test_walking_animal_moves_at_its_speed():
    ds = make_synthetic_poses(200, speed=100.0, random_state=0)
    out = ActivityAnnotator().fit_transform(ds)
    assert _values(out, "moving")[4:].all() and not _values(out, "moving")[:4].any()
    loco = LocomotionAnnotator().fit_transform(ds)
    speed = _values(loco, "speed")
    assert np.isnan(speed[:4]).all()
    np.testing.assert_allclose(speed[4:], 100.0)
    np.testing.assert_allclose(_values(loco, "distance")[4:], 4.0)
    np.testing.assert_allclose(_values(loco, "cum-distance")[-1], 4.0 * 196)
    assert loco.annotation.behavior_unit.sel(behavior="speed").item() == "mm/s"


def test_units_follow_the_pixel_scale():
    mm = make_synthetic_poses(100, speed=100.0, random_state=0)
    px = make_synthetic_poses(100, speed=100.0, px_per_mm=2.5, random_state=0)
    a = _values(LocomotionAnnotator().fit_transform(mm), "speed")
    b = _values(LocomotionAnnotator().fit_transform(px), "speed")
    np.testing.assert_allclose(a, b, atol=1e-9)
    unscaled = px.copy()
    unscaled.attrs = {k: v for k, v in px.attrs.items() if k != "px_per_mm"}
    with pytest.raises(ValueError, match="px_per_mm"):
        LocomotionAnnotator().fit_transform(unscaled)


def test_missing_animal_is_nan_and_flagged():
    ds = make_synthetic_poses(100, scenario="nose_to_nose", random_state=0)
    conf = ds.confidence.values.copy()
    conf[40:60, :, 1] = 0.1  # animal 2 lost for 20 frames
    ds = ds.copy(data={"position": ds.position.values, "confidence": conf})
    out = MissingAnnotator().fit_transform(ds)
    np.testing.assert_array_equal(_values(out, "missing", 1), (np.arange(100) >= 40) & (np.arange(100) < 60))
    assert not _values(out, "missing", 0).any()
    act = ActivityAnnotator().fit_transform(ds)
    assert np.isnan(_values(act, "moving", 1)[40:60]).all()
    assert not np.isnan(_values(act, "moving", 1)[:40]).any()
    kept = ActivityAnnotator(mask_missing=False).fit_transform(ds)
    assert not np.isnan(kept.annotation.values).any()


def test_missing_confidence_counts_as_tracked_where_positions_exist():
    ds = make_synthetic_poses(60, random_state=0)
    pos = ds.position.values.copy()
    pos[10:20] = np.nan
    ds = ds.copy(data={"position": pos, "confidence": np.full(ds.confidence.shape, np.nan)})
    missing = _values(MissingAnnotator().fit_transform(ds), "missing")
    np.testing.assert_array_equal(missing, (np.arange(60) >= 10) & (np.arange(60) < 20))


def test_immobility_classifier_hook():
    from sklearn.dummy import DummyClassifier
    from sklearn.frozen import FrozenEstimator

    from deepof_sk.features import FeatureTabulator
    from deepof_sk.supervised import FramewiseEstimator

    ds = make_synthetic_poses(120, speed=100.0, random_state=0)  # walking: the rule says "not immobile"
    assert not _values(ImmobilityAnnotator().fit_transform(ds), "immobility").any()
    clf = FramewiseEstimator(DummyClassifier(strategy="constant", constant=1),
                             tabulator=FeatureTabulator(variables="position"))
    clf.fit([ds], [np.r_[np.ones(60), np.zeros(60)]])
    out = ImmobilityAnnotator(classifier=FrozenEstimator(clf)).fit_transform(ds)
    immobile = _values(out, "immobility")
    assert immobile[EDGE:-EDGE].all() and not immobile[:EDGE].any()  # median filter edges, then >= 1 s bouts
    with pytest.raises(ValueError, match="FrozenEstimator"):
        ImmobilityAnnotator(classifier=FramewiseEstimator()).fit(ds)


def test_immobility_with_the_shipped_freezing_model_on_real_data(shared_data):
    """ImmobilityAnnotator(classifier="freezing") runs the model shipped with deepof_sk (issue: supervised)."""
    import scipy.io as sio
    from sklearn.metrics import f1_score

    from deepof_sk.io import read_poses
    from deepof_sk.preprocessing import ArenaScaler

    folder = shared_data / "behaviordepot"
    ds = ArenaScaler(px_per_mm=2.3).fit_transform(read_poses(folder / "demo2_tracking.csv", fps=30))
    out = ImmobilityAnnotator(classifier="freezing").fit_transform(ds)
    pred = out.annotation.sel(behavior="immobility").values[:, 0] > 0
    mat = sio.loadmat(folder / "hB_demo2_manual_annotations.mat", simplify_cells=True)
    truth = mat["hBehavior"]["Freezing"]["Vector"].astype(bool)
    assert f1_score(truth, pred) > 0.85
    rule = ImmobilityAnnotator().fit_transform(ds).annotation.sel(behavior="immobility").values[:, 0] > 0
    assert not np.array_equal(rule, pred)  # the default stays the rule, independent of the model
