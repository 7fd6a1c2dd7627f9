"""Bout tables and per-recording summaries on hand-written annotations."""

from __future__ import annotations

import numpy as np
import pytest

from deepof_sk.annotation import LocomotionAnnotator, RuleAnnotator, bout_table, summarize_behaviors
from deepof_sk.datasets import make_synthetic_poses

PATTERN = np.array([0, 1, 1, 1, 0, 0, 1, 1, 0, 1], dtype=bool)  # bouts [1, 4), [6, 8), [9, 10)


def _pattern(ctx, individual):
    return ctx.extra["pattern"] if individual == "mouse1" else np.zeros(ctx.n_frames, bool)


def _annotated(n_recordings=1):
    rule = RuleAnnotator(rule=_pattern, name="pattern", postprocess=None, extra={"pattern": PATTERN})
    recs = [make_synthetic_poses(10, scenario="nose_to_nose", random_state=i) for i in range(n_recordings)]
    for i, ds in enumerate(recs):
        ds.attrs["recording_id"] = f"rec{i}"
    return rule.fit_transform(recs)


def test_bout_table_known_bouts():
    table = bout_table(_annotated())
    assert table[["individual", "start_frame", "stop_frame"]].values.tolist() == [
        ["mouse1", 1, 4], ["mouse1", 6, 8], ["mouse1", 9, 10]]
    np.testing.assert_allclose(table.onset, [0.04, 0.24, 0.36])
    np.testing.assert_allclose(table.duration, [0.12, 0.08, 0.04])
    np.testing.assert_allclose(table.offset, table.onset + table.duration)
    assert (table.recording == "rec0").all() and (table.behavior == "pattern").all()
    assert len(bout_table(_annotated(), min_duration=0.08)) == 2


def test_summary_known_values():
    summary = summarize_behaviors(_annotated(2))
    row = summary[(summary.recording == "rec1") & (summary.individual == "mouse1")].iloc[0]
    assert row.n_frames == 10 and row.n_bouts == 3
    assert row.time == pytest.approx(6 / 25) and row.fraction == pytest.approx(0.6)
    assert row.mean_bout_duration == pytest.approx(2 / 25)
    other = summary[(summary.recording == "rec1") & (summary.individual == "mouse2")].iloc[0]
    assert other.n_bouts == 0 and np.isnan(other.mean_bout_duration)


def test_missing_frames_split_bouts_and_leave_the_denominator():
    out = _annotated()[0]
    values = out.annotation.values.copy()
    values[2, 0, 0] = np.nan  # animal lost inside the first bout
    out["annotation"] = out.annotation.copy(data=values)
    table = bout_table(out)
    assert table[["start_frame", "stop_frame"]].values.tolist()[:2] == [[1, 2], [3, 4]]
    row = summarize_behaviors(out).iloc[0]
    assert row.n_frames == 9 and row.fraction == pytest.approx(5 / 9)


def test_continuous_behaviours_are_summarised_by_their_mean():
    out = LocomotionAnnotator().fit_transform(make_synthetic_poses(60, speed=100.0, random_state=0))
    summary = summarize_behaviors(out, behaviors=["speed"])
    assert summary.kind.tolist() == ["continuous"] and summary["mean"].iloc[0] == pytest.approx(100.0)
    assert bout_table(out).empty


def test_pair_behaviours_list_each_symmetric_pair_once(two_animals):
    walk = make_synthetic_poses(60, speed=100.0, random_state=0)
    pos = walk.position.values[..., 0]
    from deepof_sk.annotation import SocialContactAnnotator

    ds = two_animals(pos, pos + np.array([0.0, 30.0])[:, None], walk.keypoint.values)
    out = SocialContactAnnotator(behaviors=["sidebyside", "nose2body"]).fit_transform(ds)
    table = bout_table(out, behaviors="sidebyside")
    assert table[["individual", "partner"]].values.tolist() == [["a", "b"]]
    summary = summarize_behaviors(out)
    assert sorted(map(tuple, summary[["behavior", "individual"]].values.tolist())) == [
        ("nose2body", "a"), ("nose2body", "b"), ("sidebyside", "a")]
