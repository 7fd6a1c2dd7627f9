"""Private helpers shared by the plotting modules: lazy matplotlib import, axes creation, labels, units."""

from __future__ import annotations

import numpy as np

from ..utils._optional import import_optional

#: Axis labels of the measures of deepof_sk.stats tables.
VALUE_LABELS = {
    "fraction": "time in behaviour (%)",
    "time_s": "time in behaviour (s)",
    "frames": "time in behaviour (frames)",
    "n_bouts": "number of bouts",
    "mean_bout_s": "mean bout duration (s)",
    "bouts_per_min": "bouts per minute",
    "stationary_entropy": "steady-state entropy (bits)",
    "entropy_rate": "entropy rate (bits per transition)",
}


def import_pyplot(where: str):
    return import_optional("matplotlib.pyplot", where)


def get_axes(ax, where: str, figsize=(6.0, 4.0)):
    """The given Axes, or a new figure's Axes (constrained layout)."""
    plt = import_pyplot(where)
    if ax is not None:
        return ax
    _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def value_label(value: str, percent: bool = False) -> str:
    label = VALUE_LABELS.get(value, value.replace("_", " "))
    if value == "fraction" and not percent:
        label = "time in behaviour (fraction)"
    return label


def significance_stars(p: float) -> str:
    """``***`` (p < 0.001), ``**`` (< 0.01), ``*`` (< 0.05) or ``ns``."""
    if p is None or not np.isfinite(p):
        return "n/a"
    return "***" if p < 0.001 else "**" if p < 0.01 else "*" if p < 0.05 else "ns"


def tidy_axes(ax) -> None:
    """Publication style: no top/right spines, outward ticks."""
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.tick_params(direction="out")


def category_label(value) -> str:
    """Readable tick label for a behaviour or cluster value (clusters print as 'cluster 3')."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return f"cluster {value}"
    return str(value).replace("_", " ")
