"""``deepof-sk report``: statistics across experimental conditions of a results folder, with figures."""

from __future__ import annotations

import json
from pathlib import Path

from ._common import _RESULTS, _SUMMARY, CLIError, _mkdir, _say, _table_text, log


# -- report ----------------------------------------------------------------------------------------------------
def _cmd_report(args) -> int:
    import pandas as pd

    from ..stats import compute_enrichment

    source = Path(args.results)
    if not (source / _RESULTS).is_file() or not (source / _SUMMARY).is_file():
        raise CLIError(f"{str(source)!r} is not an output folder of deepof-sk annotate, predict or cluster (no "
                       f"{_RESULTS} / {_SUMMARY} in it); run one of those first.")
    info = json.loads((source / _RESULTS).read_text())
    summary = pd.read_csv(source / _SUMMARY, keep_default_na=False, na_values=[""])
    summary["partner"] = summary["partner"].fillna("")
    if "kind" in summary:
        summary = summary[summary["kind"] == "binary"]
    cond_path = Path(args.conditions) if args.conditions else (source / "conditions.csv")
    if not cond_path.is_file():
        raise CLIError(f"no conditions table: pass --conditions table.csv (first column the recording id, then one "
                       f"column per condition) or run {info.get('command', 'annotate')} with --conditions.")
    output = _mkdir(Path(args.output))
    ids = sorted(set(summary["recording"].astype(str)))
    from ..io import read_conditions

    conditions = read_conditions(cond_path)
    missing = sorted(set(ids) - set(conditions["recording_id"]))
    if missing:
        raise CLIError(f"the conditions table {str(cond_path)!r} has no row for recordings {missing}.")
    table = summary.rename(columns={"recording": "recording_id", "time": "time_s",
                                    "mean_bout_duration": "mean_bout_s"})
    table["recording_id"] = table["recording_id"].astype(str)
    table["individual"] = table["individual"].astype(str)
    keys = ["recording_id", "individual"] if "individual" in conditions.columns else ["recording_id"]
    table = table.merge(conditions, on=keys, how="left")
    columns = [c for c in conditions.columns if c not in ("recording_id", "individual")]
    if args.condition:
        if args.condition not in columns:
            raise CLIError(f"--condition {args.condition!r} is not a column of {str(cond_path)!r} ({columns}).")
        columns = [args.condition]
    table.to_csv(output / "behavior_table.csv", index=False)
    results, figures = [], []
    for col in columns:
        groups = table[col].dropna().unique()
        if len(groups) < 2:
            log.warning("condition %r has one value (%s): nothing to compare", col, list(groups))
            continue
        res = compute_enrichment(table.dropna(subset=[col]), condition=col, value=args.value, by=["behavior"],
                                 test=args.test, random_state=0)
        results.append(res)
        fig = _enrichment_figure(table.dropna(subset=[col]), res, col, args.value, output / f"enrichment_{col}.png")
        if fig is not None:
            figures.append(fig)
    if not results:
        raise CLIError(f"no condition in {str(cond_path)!r} has two or more groups among these recordings; "
                       "nothing to compare.")
    enrichment = pd.concat(results, ignore_index=True)
    enrichment.to_csv(output / "enrichment.csv", index=False)
    means = (table.groupby(columns[:1] + ["behavior"])[args.value].agg(["mean", "sem", "count"]).reset_index())
    means.to_csv(output / "summary_by_condition.csv", index=False)
    shown = enrichment[["condition", "behavior", "group_a", "group_b", "mean_a", "mean_b", "p_adjusted",
                        "significant", "effect_size"]]
    _say(args, f"Enrichment of {args.value} across conditions ({args.test}, BH-FDR):\n" + _table_text(shown))
    _say(args, f"\nWrote {output / 'enrichment.csv'}, {output / 'summary_by_condition.csv'}, "
               f"{output / 'behavior_table.csv'}" + (", " + ", ".join(map(str, figures)) if figures else "") + ".")
    return 0


def _enrichment_figure(table, enrichment, condition: str, value: str, path: Path) -> Path | None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        log.warning("matplotlib is not installed (pip install 'deepof-sk[plots]'): no figures, tables only.")
        return None
    from ..plotting import plot_enrichment

    n = table["behavior"].nunique()
    fig, ax = plt.subplots(figsize=(max(4.0, 0.6 * n + 2), 3.6), constrained_layout=True)
    plot_enrichment(table, condition=condition, value=value, enrichment=enrichment, ax=ax)
    fig.savefig(path, dpi=150)
    plt.close(fig)
    return path
