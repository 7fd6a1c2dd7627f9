"""Annotate behaviour with DeepOF's rules, then test which behaviours differ between conditions.

Story: twelve recordings of two mice in an open field, six after saline and six after a drug that slows the animals
down. ``DeepOFAnnotator`` tags every behaviour DeepOF's ``supervised_annotation()`` tags (climbing, sniffing,
lookaround, active/passive stillness, moving, nose-to-nose, following, ...); ``bout_table`` lists every bout;
``compute_occupancy`` gives each animal's time budget; the two animals of a recording share its treatment and are
not independent, so they are averaged into one replicate per recording before ``compute_enrichment`` runs a
Mann-Whitney U test per behaviour with a Benjamini-Hochberg correction (DeepOF's defaults) and reports effect sizes.

The recordings are synthetic (``make_synthetic_poses(scenario="explore")``: smooth random walks over a 380 mm
arena, in pixels with a known scale), so the answer is known: drug-treated mice are still more and move less.

Run:  python examples/annotate_and_stats.py [--output FOLDER] [--quick]
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np
import pandas as pd

from deepof_sk import stats
from deepof_sk.annotation import DeepOFAnnotator, bout_table, summarize_behaviors, to_deepof_table
from deepof_sk.datasets import make_synthetic_poses


def make_cohort(n_per_group: int = 6, n_frames: int = 1500, random_state: int = 0):
    """Recordings of two mice each (pixels, 25 fps) and their conditions table: saline mice walk faster."""
    rng = np.random.default_rng(random_state)
    recordings, rows = [], []
    for i in range(2 * n_per_group):
        treatment = "saline" if i < n_per_group else "drug"
        speed = rng.uniform(90, 140) if treatment == "saline" else rng.uniform(35, 90)   # mm/s
        ds = make_synthetic_poses(n_frames, scenario="explore", n_individuals=2, speed=speed, noise=0.5,
                                  px_per_mm=1.5, random_state=int(rng.integers(1 << 31)))
        ds.attrs["recording_id"] = f"pair{i:02d}"
        recordings.append(ds)
        rows.append({"recording_id": f"pair{i:02d}", "treatment": treatment})
    return recordings, pd.DataFrame(rows)


def main(argv=None) -> pd.DataFrame:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=Path("annotate_and_stats_output"))
    parser.add_argument("--quick", action="store_true",
                        help="shorter recordings (also DEEPOF_SK_QUICK=1, which the test suite sets)")
    args = parser.parse_args(argv)
    quick = args.quick or os.environ.get("DEEPOF_SK_QUICK", "") not in ("", "0")
    args.output.mkdir(parents=True, exist_ok=True)
    recordings, conditions = make_cohort(n_frames=750 if quick else 1500)

    # 1. every DeepOF behaviour, per frame and animal (or pair); positions in pixels use attrs["px_per_mm"]
    annotated = DeepOFAnnotator().fit_transform(recordings)
    to_deepof_table(annotated[0], args.output / "pair00_supervised.csv")     # DeepOF's table layout

    # 2. bouts and per-animal summaries, as tidy tables
    bouts = bout_table(annotated)
    bouts.to_csv(args.output / "bouts.csv", index=False)
    summary = summarize_behaviors(annotated)
    summary.to_csv(args.output / "behavior_summary.csv", index=False)
    print(f"{len(bouts)} bouts; mean bout of 'stat-passive': "
          f"{bouts.loc[bouts.behavior == 'stat-passive', 'duration'].mean():.2f} s")

    # 3. time budgets of the binary behaviours, joined with the conditions
    binary = [ds.annotation.sel(behavior=ds.behavior_kind == "binary") for ds in annotated]
    occupancy = stats.compute_occupancy(binary, fps=25, conditions=conditions)
    per_recording = occupancy.groupby(["recording_id", "treatment", "behavior"], as_index=False)["fraction"].mean()

    # 4. enrichment: Mann-Whitney U per behaviour, Benjamini-Hochberg across behaviours, effect sizes
    result = stats.compute_enrichment(per_recording, condition="treatment")
    result.to_csv(args.output / "enrichment.csv", index=False)
    shown = result[["behavior", "group_a", "group_b", "mean_a", "mean_b", "p_adjusted", "significant", "effect_size"]]
    print(shown[shown.significant].round(4).to_string(index=False))

    try:  # the figure needs the optional matplotlib ("deepof-sk[plots]")
        from deepof_sk.plotting import plot_enrichment
    except ImportError:
        return result
    ax = plot_enrichment(per_recording, condition="treatment", enrichment=result,
                         behaviors=["moving", "stat-active", "stat-passive", "sniffing"])
    ax.figure.savefig(args.output / "enrichment.png", dpi=150)
    print(f"tables and figure written to {args.output}/")
    return result


if __name__ == "__main__":
    main()
