"""A synthetic cohort with a planted (or no) condition effect on time spent in one behaviour."""

from __future__ import annotations

import numpy as np
import pandas as pd


def make_cohort(
    n_per_group: int = 8,
    *,
    n_states: int = 5,
    n_frames: int = 3000,
    effect: float = 0.0,
    enriched_state: int = 2,
    mean_bout: int = 12,
    between_animal_sd: float = 0.3,
    random_state=None,
):
    """Labels (one int array per animal) and a conditions table of two groups, "control" and "stressed".

    Bouts of geometric length (mean ``mean_bout`` frames) follow each other; the next state is drawn from the
    animal's own state probabilities (log-normal animal-to-animal variation around uniform). In stressed animals the
    weight of ``enriched_state`` is multiplied by ``exp(effect)``; ``effect=0`` is the null cohort.
    """
    rng = np.random.default_rng(random_state)
    labels, rows = [], []
    for g, group in enumerate(("control", "stressed")):
        for a in range(n_per_group):
            logw = rng.normal(0.0, between_animal_sd, n_states)
            if g == 1:
                logw[enriched_state] += effect
            p = np.exp(logw) / np.exp(logw).sum()
            n_bouts = 2 * n_frames // mean_bout + 10
            states = rng.choice(n_states, size=n_bouts, p=p)
            lengths = rng.geometric(1.0 / mean_bout, size=n_bouts)
            seq = np.repeat(states, lengths)[:n_frames]
            labels.append(seq)
            rows.append({"recording_id": f"{group}_{a}", "condition": group})
    return labels, pd.DataFrame(rows)
