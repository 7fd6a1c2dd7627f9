"""Publication-ready matplotlib figures for poses, labels, statistics and explanations.

Every function draws on the Axes given as ``ax=`` (or a new figure) and returns that Axes
(``ax.figure.savefig("figure.png", dpi=300)``). Colours come from a colour-blind-safe palette
(:mod:`deepof_sk.plotting` ``categorical_colors``). matplotlib is an optional dependency
(``pip install "deepof-sk[plots]"``), imported only when a figure is drawn.
"""

from ._embedding import plot_embedding, plot_training_curves
from ._enrichment import plot_behavior_trends, plot_enrichment, plot_separation
from ._ethogram import plot_ethogram
from ._explain import plot_confusion_matrix, plot_shap_summary
from ._palette import (
    DIVERGING_CMAP,
    MISSING_COLOR,
    OKABE_ITO,
    SEQUENTIAL_CMAP,
    TOL_MUTED,
    categorical_colors,
    color_map,
)
from ._spatial import draw_arena, plot_position_heatmap
from ._transitions import plot_transitions

__all__ = [
    "DIVERGING_CMAP",
    "MISSING_COLOR",
    "OKABE_ITO",
    "SEQUENTIAL_CMAP",
    "TOL_MUTED",
    "categorical_colors",
    "color_map",
    "draw_arena",
    "plot_behavior_trends",
    "plot_confusion_matrix",
    "plot_embedding",
    "plot_enrichment",
    "plot_ethogram",
    "plot_position_heatmap",
    "plot_separation",
    "plot_shap_summary",
    "plot_training_curves",
    "plot_transitions",
]
