"""Pair behaviours on synthetic scenes: two mice nose to nose for 2 s, a follower, side by side, 3+ animals."""

from __future__ import annotations

import numpy as np
import pytest

from deepof_sk.annotation import CONTACT_BEHAVIORS, FollowingAnnotator, SocialContactAnnotator, bout_table
from deepof_sk.datasets import make_synthetic_poses


def _pair(out, behavior, pair):
    return out.social_annotation.sel(social_behavior=behavior, individual_pair=pair).values


def test_nose_to_nose_for_two_seconds():
    ds, truth = make_synthetic_poses(200, scenario="nose_to_nose", contact_start=2.0, contact_duration=2.0,
                                     speed=100.0, random_state=0, return_truth=True)
    out = SocialContactAnnotator().fit_transform(ds)
    n2n = _pair(out, "nose2nose", "mouse1_mouse2")
    # noses closer than 25 mm: the 2 s of contact plus 0.1 s of approach and of retreat at 200 mm/s
    np.testing.assert_array_equal(n2n, truth.nose_distance < 25)
    assert n2n[truth.labels["contact"]].all()
    bouts = bout_table(out, behaviors="nose2nose")
    assert len(bouts) == 1 and bouts.duration.iloc[0] == pytest.approx(2.2)
    # facing each other: no side-by-side or nose-to-tail contact
    for behavior in ("sidebyside", "sidereside", "nose2tail"):
        assert not out.social_annotation.sel(social_behavior=behavior).any()


def test_non_directional_behaviours_are_symmetric():
    ds = make_synthetic_poses(200, scenario="nose_to_nose", random_state=0)
    out = SocialContactAnnotator().fit_transform(ds)
    soc = out.social_annotation
    for behavior, directional in CONTACT_BEHAVIORS.items():
        assert bool(soc.directional.sel(social_behavior=behavior)) is directional
        if not directional:
            np.testing.assert_array_equal(_pair(out, behavior, "mouse1_mouse2"), _pair(out, behavior, "mouse2_mouse1"))


def test_follower_is_following_and_leader_is_not(leader_follower):
    out = FollowingAnnotator().fit_transform(leader_follower)
    follows = _pair(out, "following", "follower_leader")
    assert follows[10:-10].all() and not follows[:4].any()
    assert not _pair(out, "following", "leader_follower").any()
    # the follower's nose is 15 mm behind the leader's tail base
    contact = SocialContactAnnotator().fit_transform(leader_follower)
    assert _pair(contact, "nose2tail", "follower_leader")[10:-10].all()
    assert not _pair(contact, "nose2tail", "leader_follower").any()
    assert not _pair(contact, "nose2nose", "leader_follower").any()


def test_following_needs_a_moving_follower(leader_follower):
    still = leader_follower.isel(time=[0] * 100).assign_coords(time=np.arange(100) / 25.0)
    assert not FollowingAnnotator().fit_transform(still).social_annotation.any()


def test_side_by_side_and_side_reside(two_animals):
    walk = make_synthetic_poses(100, speed=100.0, random_state=0)
    pos = walk.position.values[..., 0]
    beside = two_animals(pos, pos + np.array([0.0, 30.0])[:, None], walk.keypoint.values)  # 30 mm to the side
    out = SocialContactAnnotator().fit_transform(beside)
    assert _pair(out, "sidebyside", "a_b")[10:-10].all()
    assert not _pair(out, "sidereside", "a_b").any()
    # head to tail, side by side: b is a rotated by 180 degrees about a point between them
    flipped = -pos + np.array([-5.0, 30.0])[:, None]
    reverse = two_animals(pos, flipped, walk.keypoint.values)
    out = SocialContactAnnotator(behaviors=["sidereside", "sidebyside"]).fit_transform(reverse)
    d_nose_tail = np.hypot(*(pos[:, :, 0] - flipped[:, :, 10]).T)  # keypoint 0 is Nose, 10 is Tail_base
    expected = (d_nose_tail < 50) & (np.hypot(*(pos[:, :, 10] - flipped[:, :, 0]).T) < 50)
    np.testing.assert_array_equal(_pair(out, "sidereside", "a_b")[5:-5], expected[5:-5])
    assert list(out.social_annotation.social_behavior.values) == ["sidebyside", "sidereside"]


def test_three_animals_get_every_ordered_pair():
    ds = make_synthetic_poses(120, scenario="explore", n_individuals=3, random_state=1)
    out = SocialContactAnnotator(behaviors=["nose2nose", "nose2body"]).fit_transform(ds)
    soc = out.social_annotation
    assert soc.sizes["individual_pair"] == 6
    assert list(soc.individual_pair.values) == ["mouse1_mouse2", "mouse2_mouse1", "mouse1_mouse3", "mouse3_mouse1",
                                                "mouse2_mouse3", "mouse3_mouse2"]
    assert list(zip(soc.actor.values, soc.partner.values, strict=True))[1] == ("mouse2", "mouse1")


def test_single_animal_has_no_social_annotation():
    ds = make_synthetic_poses(50, random_state=0)
    out = SocialContactAnnotator().fit_transform(ds)
    assert "social_annotation" not in out


def test_bad_behavior_subset():
    with pytest.raises(ValueError, match="nose2ear"):
        SocialContactAnnotator(behaviors=["nose2ear"]).fit(make_synthetic_poses(20, random_state=0))
