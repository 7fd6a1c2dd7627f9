"""Colour-blind-safe colours for categories (conditions, clusters, behaviours) and colour maps for values.

Categories use the Okabe-Ito palette (distinguishable under the common colour-vision deficiencies) up to 8, Paul
Tol's "muted" palette up to 9 (its pale grey is kept for missing data), and evenly spaced colours of the
perceptually uniform ``viridis`` map beyond that, where colour alone can no longer separate the categories, so every
plot also names them. Values use ``viridis`` (sequential) and ``RdBu_r`` (diverging, centred at zero), both readable
without red-green discrimination.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

__all__ = [
    "OKABE_ITO",
    "TOL_MUTED",
    "MISSING_COLOR",
    "SEQUENTIAL_CMAP",
    "DIVERGING_CMAP",
    "categorical_colors",
    "color_map",
]

#: Okabe & Ito (2008), ordered so the first colours are the most distinct (black last; yellow late).
OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000")
#: Paul Tol's muted qualitative scheme (without its pale grey, kept for missing data).
TOL_MUTED = ("#332288", "#88CCEE", "#44AA99", "#117733", "#999933", "#DDCC77", "#CC6677", "#882255", "#AA4499")
#: Colour of missing / unlabelled data.
MISSING_COLOR = "#DDDDDD"
SEQUENTIAL_CMAP = "viridis"
DIVERGING_CMAP = "RdBu_r"


def categorical_colors(n: int) -> list[str]:
    """``n`` colour-blind-safe colours as hex strings (see the module docstring).

    Examples
    --------
    >>> categorical_colors(2)
    ['#0072B2', '#E69F00']
    >>> len(categorical_colors(12))
    12
    """
    n = int(n)
    if n <= len(OKABE_ITO):
        return list(OKABE_ITO[:n])
    if n <= len(TOL_MUTED):
        return list(TOL_MUTED[:n])
    from matplotlib import colormaps
    from matplotlib.colors import to_hex

    cmap = colormaps[SEQUENTIAL_CMAP]
    return [to_hex(cmap(x)) for x in np.linspace(0.0, 0.95, n)]


def color_map(categories: Sequence, colors: Mapping | Sequence | None = None) -> dict:
    """``{category: colour}`` for the given categories (in their order), honouring user-given colours.

    Parameters
    ----------
    categories : sequence
        Category values (conditions, clusters, behaviours).
    colors : mapping or sequence, optional
        Colours to use: a mapping from category to colour (missing ones get palette colours), or a list in the
        order of ``categories``.
    """
    cats = list(categories)
    if isinstance(colors, Mapping):
        base = categorical_colors(len(cats))
        return {c: colors.get(c, colors.get(str(c), base[i])) for i, c in enumerate(cats)}
    if colors is not None:
        colors = list(colors)
        if len(colors) < len(cats):
            raise ValueError(f"color_map: {len(colors)} colours for {len(cats)} categories.")
        return dict(zip(cats, colors[: len(cats)], strict=True))
    return dict(zip(cats, categorical_colors(len(cats)), strict=True))
