"""Condition comparisons: enrichment bars with significance marks, behaviour trends over time bins, separation."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..stats._labels import BEHAVIOR_COLUMN
from ._common import category_label, get_axes, significance_stars, tidy_axes, value_label
from ._palette import color_map

__all__ = ["plot_enrichment", "plot_behavior_trends", "plot_separation"]


_TEST_NAMES = {
    "mannwhitneyu": "Mann-Whitney U",
    "ttest": "t test",
    "welch": "Welch's t test",
    "brunnermunzel": "Brunner-Munzel",
    "permutation": "permutation test",
    "kruskal": "Kruskal-Wallis",
}


def _sort_key(v):
    return (str(type(v)), v)


def _spread(values: np.ndarray, error: str) -> float:
    if len(values) < 2:
        return 0.0
    sd = float(np.std(values, ddof=1))
    return sd / np.sqrt(len(values)) if error == "sem" else sd


def plot_enrichment(
    table: pd.DataFrame,
    *,
    condition: str,
    value: str = "fraction",
    enrichment: pd.DataFrame | None = None,
    behaviors=None,
    error: str = "sem",
    percent: bool = True,
    points: bool = True,
    show_ns: bool = False,
    colors=None,
    ax=None,
):
    """Mean of a measure per behaviour and condition (bars with error bars and animals as points), with the
    corrected significance of :func:`deepof_sk.stats.compute_enrichment` drawn over each compared pair.

    Parameters
    ----------
    table : pandas.DataFrame
        Tidy table of :func:`deepof_sk.stats.compute_occupancy` (one time bin: filter ``table[table.bin == k]``
        first) or any table with ``condition`` and ``value`` columns.
    condition : str
        Condition column (one bar colour each).
    value : str, default "fraction"
        Measure to plot.
    enrichment : pandas.DataFrame, optional
        Output of ``compute_enrichment`` on the same table; its ``p_adjusted`` is drawn as stars (* < 0.05,
        ** < 0.01, *** < 0.001).
    behaviors : sequence, optional
        Behaviours to show, in order (default all, sorted).
    error : {"sem", "sd"}, default "sem"
        Error bars: standard error of the mean or standard deviation.
    percent : bool, default True
        Show a ``fraction`` as a percentage.
    points : bool, default True
        Overlay one point per animal.
    show_ns : bool, default False
        Also mark non-significant comparisons ("ns").
    colors : mapping or sequence, optional
        Colour per condition.
    ax : matplotlib Axes, optional
        Axes to draw on (default: a new figure).

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"group": ["ctrl", "ctrl", "stress", "stress"], "behavior": "climb",
    ...                   "fraction": [0.1, 0.12, 0.3, 0.28]})
    >>> plot_enrichment(t, condition="group").get_ylabel()
    'time in behaviour (%)'
    """
    where = "plot_enrichment"
    missing = sorted({condition, value} - set(table.columns))
    if missing:
        raise ValueError(f"{where}: the table has no columns {missing}.")
    if "bin" in table.columns and table["bin"].nunique() > 1:
        raise ValueError(
            f"{where}: the table has {table['bin'].nunique()} time bins; select one (table[table.bin == 0]) or use "
            "plot_behavior_trends."
        )
    if error not in ("sem", "sd"):
        raise ValueError(f"{where}: `error`={error!r}; choose 'sem' or 'sd'.")
    data = table.dropna(subset=[condition])
    has_beh = BEHAVIOR_COLUMN in data.columns
    behs = list(behaviors) if behaviors is not None else (
        sorted(data[BEHAVIOR_COLUMN].unique(), key=_sort_key) if has_beh else [None])
    levels = sorted(data[condition].unique(), key=_sort_key)
    palette = color_map(levels, colors)
    scale = 100.0 if (value == "fraction" and percent) else 1.0
    n_lv = len(levels)
    width = 0.8 / n_lv
    ax = get_axes(ax, where, figsize=(max(4.0, 0.9 * len(behs) * max(n_lv, 2) / 2 + 1.5), 4.0))
    rng = np.random.default_rng(0)
    tops = {}
    for b_i, beh in enumerate(behs):
        sub = data if beh is None else data[data[BEHAVIOR_COLUMN] == beh]
        for l_i, lv in enumerate(levels):
            vals = sub.loc[sub[condition] == lv, value].to_numpy(dtype=float) * scale
            vals = vals[np.isfinite(vals)]
            x = b_i + (l_i - (n_lv - 1) / 2) * width
            mean = vals.mean() if len(vals) else np.nan
            err = _spread(vals, error)
            ax.bar(x, mean, width=width * 0.9, color=palette[lv], alpha=0.55 if points else 0.9,
                   edgecolor=palette[lv], linewidth=1.0, label=str(lv) if b_i == 0 else None, zorder=2)
            ax.errorbar(x, mean, yerr=err, color="black", capsize=3, linewidth=1.0, zorder=3)
            if points and len(vals):
                jitter = rng.uniform(-0.25, 0.25, len(vals)) * width
                ax.scatter(x + jitter, vals, s=14, color=palette[lv], edgecolor="black", linewidth=0.4, zorder=4)
            top = max(mean + err if np.isfinite(mean) else 0.0, vals.max() if len(vals) else 0.0)
            tops[(b_i, l_i)] = top
    ymax = max(tops.values(), default=1.0) or 1.0
    step = 0.07 * ymax
    if enrichment is not None and len(enrichment):
        level_index = {lv: i for i, lv in enumerate(levels)}
        for b_i, beh in enumerate(behs):
            rows = enrichment if (beh is None or BEHAVIOR_COLUMN not in enrichment) else \
                enrichment[enrichment[BEHAVIOR_COLUMN] == beh]
            height = max(tops.get((b_i, i), 0.0) for i in range(n_lv)) + step * 0.6
            for _, row in rows.iterrows():
                if row.get("group_a") not in level_index or row.get("group_b") not in level_index:
                    continue
                stars = significance_stars(row["p_adjusted"])
                if stars in ("ns", "n/a") and not show_ns:
                    continue
                xa = b_i + (level_index[row["group_a"]] - (n_lv - 1) / 2) * width
                xb = b_i + (level_index[row["group_b"]] - (n_lv - 1) / 2) * width
                ax.plot([xa, xa, xb, xb], [height, height + step * 0.3, height + step * 0.3, height],
                        color="black", linewidth=0.8)
                ax.text((xa + xb) / 2, height + step * 0.35, stars, ha="center", va="bottom", fontsize=10)
                height += step * 1.2
                ymax = max(ymax, height + step)
    ax.set_ylim(0 if data[value].min(skipna=True) >= 0 else None, ymax * 1.08)
    ax.set_xticks(np.arange(len(behs)), [category_label(b) if b is not None else value_label(value, percent)
                                         for b in behs])
    if len(behs) > 4:
        ax.tick_params(axis="x", labelrotation=30)
        for lab in ax.get_xticklabels():
            lab.set_horizontalalignment("right")
    ax.set_ylabel(value_label(value, percent))
    ax.legend(title=condition.replace("_", " "), frameon=False, fontsize=9, title_fontsize=9)
    note = f"bars: mean ± {error.upper()}" + ("; points: animals" if points else "")
    if enrichment is not None and len(enrichment):
        test = str(enrichment["test"].iloc[0]) if "test" in enrichment else "test"
        test = _TEST_NAMES.get(test, test)
        corr = str(enrichment["correction"].iloc[0]) if "correction" in enrichment else ""
        note += f"; {test}, {corr.replace('fdr_bh', 'BH-FDR')}"
    ax.set_title(note, fontsize=8, loc="left", color="#444444")
    tidy_axes(ax)
    return ax


def plot_behavior_trends(
    table: pd.DataFrame,
    *,
    condition: str,
    behavior,
    value: str = "fraction",
    enrichment: pd.DataFrame | None = None,
    error: str = "sem",
    percent: bool = True,
    colors=None,
    ax=None,
):
    """A behaviour's measure over time bins, one line (mean ± error band) per condition, stars where the
    corrected test of that bin is significant.

    Parameters
    ----------
    table : pandas.DataFrame
        :func:`deepof_sk.stats.compute_occupancy` output with time bins.
    condition : str
        Condition column.
    behavior
        Behaviour or cluster to plot.
    value : str, default "fraction"
        Measure.
    enrichment : pandas.DataFrame, optional
        ``compute_enrichment`` of the same table (tests per bin); significant bins get stars.
    error : {"sem", "sd"}, default "sem"
        Band: standard error of the mean or standard deviation.
    percent : bool, default True
        Show a ``fraction`` as a percentage.
    colors : mapping or sequence, optional
        Colour per condition.
    ax : matplotlib Axes, optional
        Axes to draw on (default: a new figure).

    Returns
    -------
    matplotlib.axes.Axes
    """
    where = "plot_behavior_trends"
    if "bin" not in table.columns:
        raise ValueError(f"{where}: the table has no `bin` column; compute it with time_bins=make_time_bins(...).")
    sub = table[(table[BEHAVIOR_COLUMN] == behavior)].dropna(subset=[condition])
    if sub.empty:
        raise ValueError(f"{where}: behaviour {behavior!r} is not in the table.")
    use_time = "bin_start_s" in sub.columns and "bin_stop_s" in sub.columns
    bins = sorted(sub["bin"].unique())
    if use_time:
        mid = sub.groupby("bin")[["bin_start_s", "bin_stop_s"]].first()
        centres = ((mid["bin_start_s"] + mid["bin_stop_s"]) / 2 / 60.0).reindex(bins).to_numpy()
        xlabel = "time since start marker (min)"
    else:
        centres = np.asarray(bins, dtype=float)
        xlabel = "time bin"
    levels = sorted(sub[condition].unique(), key=_sort_key)
    palette = color_map(levels, colors)
    scale = 100.0 if (value == "fraction" and percent) else 1.0
    ax = get_axes(ax, where, figsize=(6.0, 3.8))
    top = 0.0
    for lv in levels:
        part = sub[sub[condition] == lv]
        means, errs = [], []
        for b in bins:
            vals = part.loc[part["bin"] == b, value].to_numpy(dtype=float) * scale
            vals = vals[np.isfinite(vals)]
            means.append(vals.mean() if len(vals) else np.nan)
            errs.append(_spread(vals, error))
        means, errs = np.asarray(means), np.asarray(errs)
        ax.plot(centres, means, marker="o", markersize=4, color=palette[lv], label=str(lv))
        ax.fill_between(centres, means - errs, means + errs, color=palette[lv], alpha=0.2, linewidth=0)
        top = max(top, np.nanmax(means + errs))
    if enrichment is not None and "bin" in enrichment.columns:
        rows = enrichment[enrichment[BEHAVIOR_COLUMN] == behavior] if BEHAVIOR_COLUMN in enrichment else enrichment
        for _, row in rows.iterrows():
            stars = significance_stars(row["p_adjusted"])
            if stars in ("ns", "n/a") or row["bin"] not in bins:
                continue
            ax.text(centres[bins.index(row["bin"])], top * 1.04, stars, ha="center", va="bottom", fontsize=10)
        ax.set_ylim(top=top * 1.15)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(value_label(value, percent))
    stars = "; * corrected p < 0.05" if enrichment is not None else ""
    ax.set_title(f"{category_label(behavior)} over time (mean ± {error.upper()}{stars})", fontsize=10)
    ax.legend(title=condition.replace("_", " "), frameon=False, fontsize=9, title_fontsize=9)
    tidy_axes(ax)
    return ax


def plot_separation(table: pd.DataFrame, *, by: str = "bin", ax=None):
    """Cross-validated separation between conditions (from :func:`deepof_sk.stats.compute_separation`) per time
    bin, with the chance level and permutation p-values.

    Parameters
    ----------
    table : pandas.DataFrame
        ``compute_separation(..., by=by)`` output.
    by : str, default "bin"
        Column on the x axis.
    ax : matplotlib Axes, optional
        Axes to draw on (default: a new figure).

    Returns
    -------
    matplotlib.axes.Axes
    """
    where = "plot_separation"
    if by not in table.columns:
        raise ValueError(f"{where}: the table has no {by!r} column; compute it with compute_separation(by={by!r}).")
    ax = get_axes(ax, where, figsize=(5.5, 3.5))
    x = table[by].to_numpy()
    metric = str(table["metric"].iloc[0])
    ax.plot(x, table["score"], marker="o", color="#0072B2", label="held-out score")
    ax.axhline(float(table["chance"].iloc[0]), color="#777777", linestyle="--", linewidth=1, label="chance")
    if "p_value" in table and table["p_value"].notna().any():
        for xi, s, p in zip(x, table["score"], table["p_value"], strict=True):
            stars = significance_stars(p)
            if stars not in ("ns", "n/a"):
                ax.text(xi, s + 0.02, stars, ha="center", va="bottom", fontsize=10)
    ax.set_ylim(0, 1.08)
    if np.issubdtype(np.asarray(x).dtype, np.integer):
        from matplotlib.ticker import MaxNLocator

        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("time bin" if by == "bin" else by.replace("_", " "))
    ax.set_ylabel("ROC AUC (cross-validated)" if metric == "roc_auc" else "balanced accuracy (cross-validated)")
    ax.legend(frameon=False, fontsize=9, loc="lower right")
    note = "; * permutation p < 0.05" if "p_value" in table and table["p_value"].notna().any() else ""
    ax.set_title(f"Separation between conditions (held-out animals{note})", fontsize=10)
    tidy_axes(ax)
    return ax
