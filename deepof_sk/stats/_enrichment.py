"""Enrichment across experimental conditions: per-behaviour tests, multiple-testing correction, effect sizes."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import combinations

import numpy as np
import pandas as pd
from scipy import stats as sps

from ._labels import BEHAVIOR_COLUMN

__all__ = ["compute_enrichment", "adjust_pvalues", "effect_size_label"]

_TESTS = ("mannwhitneyu", "ttest", "welch", "brunnermunzel", "permutation", "kruskal")
_CORRECTIONS = ("fdr_bh", "bonferroni", "holm", None)


def adjust_pvalues(pvalues, method: str | None = "fdr_bh") -> np.ndarray:
    """Adjust p-values for multiple testing.

    Parameters
    ----------
    pvalues : array-like of float
        Raw p-values; NaN entries are ignored (they stay NaN and do not count as tests).
    method : {"fdr_bh", "bonferroni", "holm"} or None, default "fdr_bh"
        Benjamini-Hochberg false discovery rate (q-values), Bonferroni or Holm family-wise error rate, or none.

    Returns
    -------
    ndarray of float
        Adjusted p-values, capped at 1, in the input order.

    Examples
    --------
    >>> adjust_pvalues([0.01, 0.04, 0.03, 0.5]).round(3).tolist()
    [0.04, 0.053, 0.053, 0.5]
    """
    p = np.asarray(pvalues, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    m = int(ok.sum())
    if m == 0 or method is None:
        return p.copy() if method is None else out
    q = p[ok]
    order = np.argsort(q, kind="stable")
    ranked = q[order]
    if method == "fdr_bh":
        adj = ranked * m / np.arange(1, m + 1)
        adj = np.minimum.accumulate(adj[::-1])[::-1]
    elif method == "bonferroni":
        adj = ranked * m
    elif method == "holm":
        adj = np.maximum.accumulate(ranked * (m - np.arange(m)))
    else:
        raise ValueError(f"adjust_pvalues: unknown method {method!r}; choose one of {list(_CORRECTIONS)}.")
    back = np.empty(m)
    back[order] = np.minimum(adj, 1.0)
    out[ok] = back
    return out


def effect_size_label(d) -> np.ndarray:
    """Cohen's conventional size of a standardised difference: negligible (< 0.2), small, medium (>= 0.5), large
    (>= 0.8), by absolute value; "n/a" for NaN.

    DeepOF labels ``|d| < 0.5`` "small"; the extra "negligible" class keeps near-zero effects from reading as small.
    """
    a = np.abs(np.asarray(d, dtype=float))
    out = np.select([np.isnan(a), a < 0.2, a < 0.5, a < 0.8], ["n/a", "negligible", "small", "medium"], "large")
    return out.astype(object)


def _cohen_d(a: np.ndarray, b: np.ndarray) -> float:
    na, nb = len(a), len(b)
    if na < 2 or nb < 2:
        return np.nan
    pooled = np.sqrt(((na - 1) * a.var(ddof=1) + (nb - 1) * b.var(ddof=1)) / (na + nb - 2))
    diff = b.mean() - a.mean()
    if pooled == 0:
        return 0.0 if diff == 0 else np.sign(diff) * np.inf
    return float(diff / pooled)


def _cliffs_delta(a: np.ndarray, b: np.ndarray) -> float:
    """P(b > a) - P(b < a): the rank-biserial correlation of the Mann-Whitney U test (positive: b larger)."""
    if not len(a) or not len(b):
        return np.nan
    diff = b[:, None] - a[None, :]
    return float((np.sum(diff > 0) - np.sum(diff < 0)) / diff.size)


def _two_sample(test, a, b, alternative, random_state) -> tuple[float, float]:
    if len(a) < 1 or len(b) < 1:
        return np.nan, np.nan
    if np.all(a == a[0]) and np.all(b == a[0]):
        return np.nan, 1.0  # identical constant samples: no evidence of a difference
    if callable(test):
        stat, p = test(a, b)
        return float(stat), float(p)
    if test == "mannwhitneyu":
        res = sps.mannwhitneyu(b, a, alternative=alternative)
    elif test in ("ttest", "welch"):
        if len(a) < 2 or len(b) < 2:
            return np.nan, np.nan
        res = sps.ttest_ind(b, a, equal_var=test == "ttest", alternative=alternative)
    elif test == "brunnermunzel":
        res = sps.brunnermunzel(b, a, alternative=alternative)
    elif test == "permutation":
        res = sps.permutation_test(
            (b, a), lambda x, y, axis: np.mean(x, axis=axis) - np.mean(y, axis=axis), n_resamples=9999,
            alternative=alternative, random_state=random_state, vectorized=True,
        )
    else:  # pragma: no cover - validated earlier
        raise ValueError(test)
    return float(res.statistic), float(res.pvalue)


def compute_enrichment(
    table: pd.DataFrame,
    *,
    condition: str,
    value: str = "fraction",
    by: Sequence[str] | None = None,
    test: str | Callable = "mannwhitneyu",
    alternative: str = "two-sided",
    reference=None,
    correction: str | None = "fdr_bh",
    alpha: float = 0.05,
    random_state=None,
) -> pd.DataFrame:
    """Test, behaviour by behaviour, whether a measure differs between experimental conditions.

    Parameters
    ----------
    table : pandas.DataFrame
        A tidy table with one row per replicate (animal or recording) and measure, such as the output of
        :func:`compute_occupancy` or :func:`summarize_transitions`.
    condition : str
        Column holding the experimental condition (e.g. ``"treatment"``).
    value : str, default "fraction"
        Column holding the measure to compare (``"fraction"``, ``"time_s"``, ``"n_bouts"``, ``"mean_bout_s"``,
        ``"stationary_entropy"``, ...).
    by : sequence of str, optional
        Columns defining one test each; default whichever of ``behavior`` and ``bin`` are in the table.
    test : {"mannwhitneyu", "ttest", "welch", "brunnermunzel", "permutation", "kruskal"} or callable, default
        "mannwhitneyu"
        Two-sample test for each pair of conditions (Welch's t test for "welch"; a permutation test of the
        difference in means with 9,999 resamples for "permutation"), or "kruskal" for one Kruskal-Wallis test
        across all conditions. A callable takes ``(a, b)`` and returns ``(statistic, p_value)``.
    alternative : {"two-sided", "less", "greater"}, default "two-sided"
        For two-sample tests, "greater" means larger in ``group_b`` than in ``group_a``.
    reference : optional
        Compare every other condition with this one (``group_a`` = reference). Default: every pair, ``group_a``
        being the first in sorted order.
    correction : {"fdr_bh", "bonferroni", "holm"} or None, default "fdr_bh"
        Multiple-testing correction over all the tests of the table (every behaviour, bin and pair).
    alpha : float, default 0.05
        Significance level for the ``significant`` column (on the corrected p-value).
    random_state : int or None
        Seed of the permutation test.

    Returns
    -------
    pandas.DataFrame
        One row per test: the ``by`` columns, ``group_a``, ``group_b``, ``n_a``, ``n_b``, ``mean_a``, ``mean_b``,
        ``sem_a``, ``sem_b``, ``median_a``, ``median_b``, ``difference`` (mean_b - mean_a), ``statistic``,
        ``p_value``, ``p_adjusted``, ``significant``, ``cohen_d`` (b minus a over the pooled SD), ``hedges_g``,
        ``cliffs_delta`` (the rank-biserial correlation, P(b > a) - P(b < a)), ``effect_size`` (the label of
        ``|cohen_d|``, see :func:`effect_size_label`), ``test``, ``correction``, ``condition``, ``value``.

    Notes
    -----
    NaN values are dropped test by test (a fraction is NaN for an animal with no labelled frame). Each row of the
    input is one replicate: when several animals of one recording share a condition, they count as independent,
    so filter the table (``table[table.individual == "B"]``) or average per recording first if they are not.
    Identical constant samples (e.g. a behaviour never seen) get p = 1. The Mann-Whitney U test uses scipy's exact
    distribution for small samples without ties and the normal approximation otherwise; its statistic is the U of
    ``group_b``.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"group": ["ctrl"] * 6 + ["stress"] * 6, "behavior": "climb",
    ...                   "fraction": [.1, .12, .09, .11, .14, .13, .3, .28, .35, .31, .29, .33]})
    >>> res = compute_enrichment(t, condition="group")
    >>> res[["behavior", "group_a", "group_b", "p_adjusted", "significant", "effect_size"]].values.tolist()
    [['climb', 'ctrl', 'stress', 0.0021645021645021645, True, 'large']]
    """
    where = "compute_enrichment"
    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"{where}: `table` must be a pandas DataFrame (e.g. from compute_occupancy); got "
                        f"{type(table).__name__}.")
    missing = sorted({condition, value} - set(table.columns))
    if missing:
        raise ValueError(f"{where}: the table has no columns {missing} (it has {list(table.columns)}).")
    if not callable(test) and test not in _TESTS:
        raise ValueError(f"{where}: `test`={test!r}; choose one of {list(_TESTS)} or pass a callable (a, b) -> "
                         "(statistic, p).")
    if correction not in _CORRECTIONS:
        raise ValueError(f"{where}: `correction`={correction!r}; choose one of {list(_CORRECTIONS)}.")
    if alternative not in ("two-sided", "less", "greater"):
        raise ValueError(f"{where}: `alternative`={alternative!r}; choose 'two-sided', 'less' or 'greater'.")
    by = [c for c in (BEHAVIOR_COLUMN, "bin") if c in table.columns] if by is None else list(by)
    absent = sorted(set(by) - set(table.columns))
    if absent:
        raise ValueError(f"{where}: `by` names columns {absent} that the table lacks.")
    data = table.dropna(subset=[condition])
    levels = sorted(data[condition].unique(), key=lambda v: (str(type(v)), v))
    if len(levels) < 2:
        raise ValueError(
            f"{where}: column {condition!r} has {len(levels)} condition(s) ({levels}); at least two are needed."
        )
    if reference is not None:
        if reference not in levels:
            raise ValueError(f"{where}: `reference`={reference!r} is not a value of {condition!r} ({levels}).")
        pairs = [(reference, lv) for lv in levels if lv != reference]
    else:
        pairs = list(combinations(levels, 2))
    rows = []
    values = pd.to_numeric(data[value], errors="coerce").to_numpy(dtype=float)
    cond_values = data[condition].to_numpy()
    if by:
        codes = data.groupby(by, sort=True, dropna=False).ngroup().to_numpy()
        _, first = np.unique(codes, return_index=True)
        keys = [tuple(row) for row in data[by].to_numpy(dtype=object)[first]]
    else:
        codes, keys = np.zeros(len(data), dtype=np.int64), [()]
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(len(keys) + 1))
    for gi, key in enumerate(keys):
        key = key if isinstance(key, tuple) else (key,)
        base = dict(zip(by, key, strict=True))
        members = order[bounds[gi]:bounds[gi + 1]]
        sub_v, sub_c = values[members], cond_values[members]
        samples = {}
        for lv in levels:
            s = sub_v[sub_c == lv]
            samples[lv] = s[~np.isnan(s)]
        if test == "kruskal":
            present = [s for s in samples.values() if len(s)]
            allv = np.concatenate(present) if present else np.array([])
            if len(present) < 2:
                stat, p = np.nan, np.nan
            elif np.all(allv == allv[0]):
                stat, p = np.nan, 1.0
            else:
                res = sps.kruskal(*present)
                stat, p = float(res.statistic), float(res.pvalue)
            row = {**base, "group_a": "all", "group_b": "all", "statistic": stat, "p_value": p}
            for lv, s in samples.items():
                row[f"n[{lv}]"] = len(s)
                row[f"mean[{lv}]"] = s.mean() if len(s) else np.nan
            rows.append(row)
            continue
        for a_lv, b_lv in pairs:
            a, b = samples[a_lv], samples[b_lv]
            stat, p = _two_sample(test, a, b, alternative, random_state)
            d = _cohen_d(a, b)
            n = len(a) + len(b)
            g = d * (1 - 3 / (4 * n - 9)) if n > 3 and np.isfinite(d) else d
            rows.append({
                **base,
                "group_a": a_lv,
                "group_b": b_lv,
                "n_a": len(a),
                "n_b": len(b),
                "mean_a": a.mean() if len(a) else np.nan,
                "mean_b": b.mean() if len(b) else np.nan,
                "sem_a": a.std(ddof=1) / np.sqrt(len(a)) if len(a) > 1 else np.nan,
                "sem_b": b.std(ddof=1) / np.sqrt(len(b)) if len(b) > 1 else np.nan,
                "median_a": np.median(a) if len(a) else np.nan,
                "median_b": np.median(b) if len(b) else np.nan,
                "difference": (b.mean() - a.mean()) if len(a) and len(b) else np.nan,
                "statistic": stat,
                "p_value": p,
                "cohen_d": d,
                "hedges_g": g,
                "cliffs_delta": _cliffs_delta(a, b),
            })
    out = pd.DataFrame(rows)
    out["p_adjusted"] = adjust_pvalues(out["p_value"].to_numpy(), correction)
    out["significant"] = (out["p_adjusted"] < alpha).fillna(False).astype(bool)
    if "cohen_d" in out:
        out["effect_size"] = effect_size_label(out["cohen_d"].to_numpy())
    out["test"] = test if isinstance(test, str) else getattr(test, "__name__", "custom")
    out["correction"] = correction if correction is not None else "none"
    out["condition"] = condition
    out["value"] = value
    front = [*by, "group_a", "group_b"]
    stats_cols = ["statistic", "p_value", "p_adjusted", "significant"]
    rest = [c for c in out.columns if c not in front + stats_cols]
    # keep descriptive columns before the test results, effect sizes after
    desc = [c for c in rest if c not in ("cohen_d", "hedges_g", "cliffs_delta", "effect_size", "test",
                                         "correction", "condition", "value")]
    tail = [c for c in ("cohen_d", "hedges_g", "cliffs_delta", "effect_size", "test", "correction", "condition",
                        "value") if c in out.columns]
    return out[front + desc + stats_cols + tail].reset_index(drop=True)
