"""Statistics on behaviour labels: time budgets, bouts, enrichment across conditions, transitions, separation.

Every function takes per-recording label sequences (cluster ids or behaviour names of shape ``(time,)`` or
``(time, individual)``, or boolean masks with a ``behavior`` dim), an optional conditions table (as returned by
:func:`deepof_sk.io.read_recordings`) and a frame rate, and returns tidy pandas tables (or xarray for matrices) that
can be saved with ``.to_csv``. Nothing here imports matplotlib; plots live in :mod:`deepof_sk.plotting`.

Examples
--------
>>> import numpy as np, pandas as pd
>>> rng = np.random.default_rng(0)
>>> labels = [rng.integers(0, 3, 500) for _ in range(8)]
>>> conditions = pd.DataFrame({"recording_id": [f"m{i}" for i in range(8)], "group": ["ctrl", "stress"] * 4})
>>> occ = compute_occupancy(labels, fps=25, conditions=conditions)
>>> res = compute_enrichment(occ, condition="group")
>>> res[["behavior", "group_a", "group_b"]].values.tolist()
[[0, 'ctrl', 'stress'], [1, 'ctrl', 'stress'], [2, 'ctrl', 'stress']]
"""

from ._binning import TimeBins, make_time_bins, parse_time
from ._enrichment import adjust_pvalues, compute_enrichment, effect_size_label
from ._occupancy import behaviors_to_states, compute_occupancy, find_bouts
from ._separation import compute_separation
from ._transitions import (
    compute_entropy,
    compute_entropy_rate,
    compute_steady_state,
    compute_transitions,
    summarize_transitions,
)

__all__ = [
    "TimeBins",
    "adjust_pvalues",
    "behaviors_to_states",
    "compute_enrichment",
    "compute_entropy",
    "compute_entropy_rate",
    "compute_occupancy",
    "compute_separation",
    "compute_steady_state",
    "compute_transitions",
    "effect_size_label",
    "find_bouts",
    "make_time_bins",
    "parse_time",
    "summarize_transitions",
]
