"""Enrichment tests: a planted effect is found, null cohorts give false positives near alpha, hand-checked maths."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from deepof_sk.stats import adjust_pvalues, compute_enrichment, compute_occupancy, effect_size_label

from .cohort import make_cohort


def _enrichment(effect, seed, n_frames=1500):
    labels, cond = make_cohort(8, effect=effect, random_state=seed, n_frames=n_frames)
    occ = compute_occupancy(labels, fps=25, conditions=cond)
    return compute_enrichment(occ, condition="condition")


def test_planted_effect_is_found():
    res = _enrichment(effect=1.0, seed=1, n_frames=3000).set_index("behavior")
    assert res.loc[2, "significant"] and res.loc[2, "p_adjusted"] < 0.05
    assert res["p_value"].idxmin() == 2  # the planted behaviour is the strongest finding
    assert res.loc[2, "difference"] > 0 and res.loc[2, "cohen_d"] > 0.8 and res.loc[2, "effect_size"] == "large"
    assert (res.loc[2, "group_a"], res.loc[2, "group_b"]) == ("control", "stressed")


def test_null_cohorts_false_positive_rate_near_alpha():
    draws = 60
    any_hit, raw = 0, []
    for seed in range(draws):
        res = _enrichment(effect=0.0, seed=1000 + seed, n_frames=600)
        any_hit += bool(res["significant"].any())
        raw.extend(res["p_value"])
    raw = np.asarray(raw)
    # per-test rate near alpha (the exact Mann-Whitney U test of 8 vs 8 animals is slightly conservative) ...
    assert 0.005 <= np.mean(raw < 0.05) <= 0.09
    # ... and after BH-FDR a null cohort rarely reports anything
    assert any_hit / draws <= 0.1


@pytest.mark.slow
def test_null_false_positive_rate_over_1000_draws(request):
    if "slow" not in (request.config.getoption("markexpr") or ""):
        pytest.skip("long: run with -m slow")
    any_hit, raw = 0, []
    for seed in range(1000):
        res = _enrichment(effect=0.0, seed=10_000 + seed, n_frames=600)
        any_hit += bool(res["significant"].any())
        raw.extend(res["p_value"])
    assert abs(np.mean(np.asarray(raw) < 0.05) - 0.05) < 0.02
    assert any_hit / 1000 <= 0.06


def test_adjust_pvalues_matches_scipy_bh_and_handles_nan():
    p = np.array([0.01, 0.04, 0.03, 0.5, np.nan, 0.002])
    got = adjust_pvalues(p)
    ok = ~np.isnan(p)
    np.testing.assert_allclose(got[ok], sps.false_discovery_control(p[ok], method="bh"))
    assert np.isnan(got[4])
    np.testing.assert_allclose(adjust_pvalues([0.01, 0.02, 0.04], "bonferroni"), [0.03, 0.06, 0.12])
    np.testing.assert_allclose(adjust_pvalues([0.01, 0.04, 0.03], "holm"), [0.03, 0.06, 0.06])
    np.testing.assert_allclose(adjust_pvalues([0.2, 0.01], None), [0.2, 0.01])


def test_effect_sizes_by_hand():
    t = pd.DataFrame({"g": ["a"] * 3 + ["b"] * 3, "v": [1.0, 2.0, 3.0, 3.0, 4.0, 5.0]})
    row = compute_enrichment(t, condition="g", value="v", test="welch").iloc[0]
    assert row["cohen_d"] == pytest.approx(2.0)  # difference 2, pooled SD 1
    assert row["hedges_g"] == pytest.approx(2.0 * (1 - 3 / (4 * 6 - 9)))
    assert row["cliffs_delta"] == pytest.approx((8 - 0) / 9)  # 8 pairs b > a, one tie
    assert row["p_value"] == pytest.approx(sps.ttest_ind([3, 4, 5], [1, 2, 3], equal_var=False).pvalue)
    assert effect_size_label([0.1, -0.3, 0.6, 1.2, np.nan]).tolist() == ["negligible", "small", "medium", "large",
                                                                        "n/a"]


def test_three_conditions_reference_kruskal_and_callable():
    rng = np.random.default_rng(0)
    t = pd.DataFrame({"g": np.repeat(["ctrl", "low", "high"], 6), "behavior": "x",
                      "fraction": np.r_[rng.normal(0, 1, 6), rng.normal(0, 1, 6), rng.normal(3, 1, 6)]})
    pairs = compute_enrichment(t, condition="g")
    assert len(pairs) == 3
    ref = compute_enrichment(t, condition="g", reference="ctrl")
    assert ref["group_a"].tolist() == ["ctrl", "ctrl"] and set(ref["group_b"]) == {"high", "low"}
    kw = compute_enrichment(t, condition="g", test="kruskal")
    assert len(kw) == 1 and kw["p_value"].iloc[0] < 0.05
    custom = compute_enrichment(t, condition="g", reference="ctrl", test=lambda a, b: (0.0, 0.5))
    assert (custom["p_value"] == 0.5).all() and custom["test"].iloc[0] == "<lambda>"


def test_constant_samples_and_bins_by():
    t = pd.DataFrame({"g": ["a", "a", "b", "b"] * 2, "behavior": "x", "bin": [0] * 4 + [1] * 4,
                      "fraction": [0, 0, 0, 0, 0.1, 0.2, 0.5, 0.6]})
    res = compute_enrichment(t, condition="g", test="permutation", random_state=0)
    assert res["bin"].tolist() == [0, 1]
    assert res.loc[0, "p_value"] == 1.0


def test_errors():
    t = pd.DataFrame({"g": ["a", "a"], "fraction": [0.1, 0.2]})
    with pytest.raises(ValueError, match="at least two"):
        compute_enrichment(t, condition="g")
    with pytest.raises(ValueError, match="no columns"):
        compute_enrichment(t, condition="treatment")
    with pytest.raises(ValueError, match="test"):
        compute_enrichment(t, condition="g", test="anova")
    with pytest.raises(TypeError, match="DataFrame"):
        compute_enrichment(np.zeros(3), condition="g")
