"""DeepOFAnnotator: agreement with DeepOF 0.9.0's own output, exports, custom rules, other skeletons."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.pipeline import make_pipeline

from deepof_sk.annotation import (
    DEEPOF_BEHAVIORS,
    ActivityAnnotator,
    BaseAnnotator,
    BehaviorInfo,
    ClimbingAnnotator,
    DeepOFAnnotator,
    RuleAnnotator,
    to_deepof_table,
    to_long_format,
)
from deepof_sk.datasets import make_synthetic_poses
from deepof_sk.features import FeatureTabulator
from deepof_sk.preprocessing import Arena, attach_arena

CONTINUOUS = ("distance", "cum-distance", "speed")


def _agreement(ds, reference, info):
    ann = DeepOFAnnotator.from_deepof_parameters(info["supervised_parameters"], fps=info["frame_rate"])
    table = to_deepof_table(ann.fit_transform(ds))
    assert list(table.columns) == list(reference.columns)
    assert list(table.index) == list(reference.index)
    scores = {}
    for col in reference.columns:
        ours, theirs = table[col].to_numpy(float), reference[col].to_numpy(float)
        if col in CONTINUOUS:
            scores[col] = np.max(np.abs(ours - theirs) / np.maximum(np.abs(theirs), 1e-9))
        else:
            scores[col] = np.mean(ours == theirs)
    return scores


@pytest.mark.parametrize("fixture", ["deepof_reference", "deepof_reference_polygon"], ids=["ellipse", "polygon"])
def test_agreement_with_deepof(fixture, request):
    scores = _agreement(*request.getfixturevalue(fixture))
    for col, score in scores.items():
        if col == "immobility":  # DeepOF's classifier is not available; the reference column is a placeholder
            continue
        if col in CONTINUOUS:
            assert score <= 0.01, (col, score)
        else:
            assert score >= 0.99, (col, score)
    # the rules reproduce DeepOF exactly on this recording
    assert all(scores[c] == 1.0 for c in scores if c not in CONTINUOUS and c != "immobility")
    assert all(scores[c] < 1e-12 for c in CONTINUOUS)


def test_deepof_parameters_round_trip():
    ann = DeepOFAnnotator.from_deepof_parameters(
        {"median_filter_width": 12, "follow_frames": 12, "min_follow_frames": 6, "min_immobility": 25,
         "stationary_threshold": 40}, fps=25)
    assert (ann.median_window, ann.min_follow_duration, ann.min_immobility_duration) == (0.48, 0.24, 1.0)
    with pytest.raises(ValueError, match="rearing_tol"):
        DeepOFAnnotator.from_deepof_parameters({"rearing_tol": 50}, fps=25)


def test_full_set_on_two_animals_and_exports(tmp_path):
    ds = attach_arena(make_synthetic_poses(150, scenario="nose_to_nose", random_state=0),
                      Arena.circle((0.0, 0.0), 300.0))
    out = DeepOFAnnotator().fit_transform(ds)
    assert list(out.annotation.behavior.values) == [b for b in DEEPOF_BEHAVIORS if "2" not in b and b not in (
        "sidebyside", "sidereside", "following")]
    table = to_deepof_table(out, tmp_path / "table.csv")
    assert table.columns[:9].tolist() == [
        "mouse1_mouse2_nose2nose", "mouse1_mouse2_sidebyside", "mouse1_mouse2_sidereside",
        "mouse1_mouse2_nose2tail", "mouse2_mouse1_nose2tail", "mouse1_mouse2_nose2body", "mouse2_mouse1_nose2body",
        "mouse1_mouse2_following", "mouse2_mouse1_following"]
    assert table.columns[-2:].tolist() == ["mouse1_missing", "mouse2_missing"]
    assert table.index[1] == "00:00:00.040000"
    assert table["mouse1_speed"].iloc[0] == 0.0  # undefined values are written as 0, like DeepOF
    back = pd.read_csv(tmp_path / "table.csv", index_col=0)
    pd.testing.assert_frame_equal(back, table, check_dtype=False)
    long = to_long_format(out)
    n_t = ds.sizes["time"]
    # 12 individual behaviours x 2 animals, 3 symmetric x 1 pair + 3 directional x 2 orders
    assert len(long) == n_t * (12 * 2 + 3 + 3 * 2)
    row = long[(long.behavior == "nose2nose") & (long.frame == 75)]
    assert row[["individual", "partner", "value"]].values.tolist() == [["mouse1", "mouse2", 1.0]]


def test_missing_animal_in_table():
    ds = make_synthetic_poses(80, scenario="nose_to_nose", random_state=0)
    conf = ds.confidence.values.copy()
    conf[20:30, :, 0] = 0.0
    ds = attach_arena(ds.copy(data={"position": ds.position.values, "confidence": conf}),
                      Arena.circle((0.0, 0.0), 300.0))
    table = to_deepof_table(DeepOFAnnotator().fit_transform(ds))
    assert table["mouse1_missing"].iloc[20:30].eq(1).all() and table["mouse1_missing"].dtype.kind == "i"
    assert table["mouse1_moving"].iloc[20:30].isna().all() and table["mouse2_moving"].notna().all()
    assert table["mouse1_mouse2_nose2nose"].iloc[20:30].isna().all()


def _rearing(ctx, individual):
    """DeepOF's disabled rearing rule: nose close to the tail base while the tail base is still."""
    return (ctx.distance("nose", "tail_base", individual) < 50) & (ctx.speed("tail_base", individual) < 40)


def _approach(ctx, actor, partner):
    return ctx.distance("nose", "nose", actor, partner) < ctx.extra["radius"]


class _HeadingAnnotator(BaseAnnotator):
    """A user's own estimator: the continuous body direction in degrees."""

    def _required_roles(self):
        return ("nose", "tail_base")

    def _behavior_info(self):
        return {"heading": BehaviorInfo("continuous", "deg")}

    def annotate(self, ctx):
        d = ctx.position("nose") - ctx.position("tail_base")
        return {"heading": np.degrees(np.arctan2(d[:, 1], d[:, 0]))}


def test_custom_rules_join_the_composite():
    ds = attach_arena(make_synthetic_poses(120, scenario="nose_to_nose", random_state=0),
                      Arena.circle((0.0, 0.0), 300.0))
    ann = DeepOFAnnotator(
        behaviors=["nose2nose", "moving"], extra={"radius": 60.0},
        custom_rules=[RuleAnnotator(rule=_rearing, name="rearing", required_roles=("nose", "tail_base")),
                      RuleAnnotator(rule=_approach, name="approach", scope="symmetric_pair"),
                      _HeadingAnnotator()])
    out = ann.fit_transform(ds)
    assert list(out.annotation.behavior.values) == ["rearing", "heading", "moving"]
    assert list(out.social_annotation.social_behavior.values) == ["approach", "nose2nose"]
    assert out.annotation.behavior_kind.sel(behavior="heading").item() == "continuous"
    np.testing.assert_allclose(out.annotation.sel(behavior="heading", individual="mouse2").values, 180.0)
    approach = out.social_annotation.sel(social_behavior="approach")
    np.testing.assert_array_equal(approach.sel(individual_pair="mouse1_mouse2"),
                                  approach.sel(individual_pair="mouse2_mouse1"))
    assert approach.sum() > out.social_annotation.sel(social_behavior="nose2nose").sum()
    assert "mouse1_mouse2_approach" in to_deepof_table(out).columns
    with pytest.raises(ValueError, match="moving"):
        DeepOFAnnotator(custom_rules=[RuleAnnotator(rule=_rearing, name="moving")]).fit(ds)
    with pytest.raises(TypeError, match="RuleAnnotator"):
        DeepOFAnnotator(custom_rules=[_rearing]).fit(ds)
    with pytest.raises(ValueError, match="'-'"):
        RuleAnnotator(rule=_rearing, name="my_rule").fit(ds)


def test_annotators_compose_in_a_pipeline():
    ds = attach_arena(make_synthetic_poses(100, speed=100.0, random_state=0), Arena.circle((0.0, 0.0), 150.0))
    out = make_pipeline(ClimbingAnnotator(), ActivityAnnotator()).fit_transform(ds)
    assert list(out.annotation.behavior.values) == ["climb-arena", "stat-active", "stat-passive", "moving"]
    again = ClimbingAnnotator(climb_tol=5.0).fit_transform(out)  # re-running replaces, keeps the others
    assert list(again.annotation.behavior.values) == ["stat-active", "stat-passive", "moving", "climb-arena"]
    assert not again.annotation.sel(behavior="climb-arena").any()
    table = FeatureTabulator(variables="annotation", per_individual=True).fit(out)
    assert table.transform(out).shape == (100, 4)
    assert table.get_feature_names_out()[0] == "annotation[climb-arena]"


def test_mabe_triplet_through_a_role_mapping(shared_data):
    from deepof_sk.io import read_poses

    ds = read_poses(shared_data / "amadeusgpt" / "EGS8X2MN4SSUGFWAV976.h5", fps=30).isel(time=slice(0, 600))
    ds.attrs["px_per_mm"] = 1.0
    with pytest.raises(ValueError, match=r"\['center'\].*stat-active"):
        DeepOFAnnotator().fit(ds)
    ann = DeepOFAnnotator(roles={"center": "center back", "spine_1": "neck"}).fit(ds)
    assert ann.roles_["tail_base"] == "tail base" and "left_bhip" not in ann.roles_
    out = ann.transform(ds)
    assert out.annotation.shape == (600, 3, 12)
    assert out.social_annotation.shape == (600, 6, 6)
    # no confidence in the file: an animal is present where most of its keypoints have a position
    missing = out.annotation.sel(behavior="missing").values > 0
    np.testing.assert_array_equal(np.isnan(out.annotation.sel(behavior="moving").values), missing)
    assert missing.any() and missing.mean() < 0.1
    assert out.annotation.sel(behavior="moving").mean() > 0.05
    assert to_deepof_table(out).shape == (600, 3 * (3 + 2 * 3) + 3 * 12)  # 3 pairs, 3 animals
