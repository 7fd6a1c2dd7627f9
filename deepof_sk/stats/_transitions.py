"""Transition matrices between behavioural states, their steady state and entropy."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import xarray as xr

from ._labels import INDIVIDUAL_COLUMN, RECORDING_ID, collect_labels, conditions_for

__all__ = [
    "compute_transitions",
    "compute_steady_state",
    "compute_entropy",
    "compute_entropy_rate",
    "summarize_transitions",
    "FROM_DIM",
    "TO_DIM",
    "GROUP_DIM",
]

#: Dims of a transition matrix: rows (state left) and columns (state entered).
FROM_DIM = "from_behavior"
TO_DIM = "to_behavior"
#: Leading dim of :func:`compute_transitions` output: the pooled group (all, a track, or a condition).
GROUP_DIM = "group"


def _track_counts(codes: np.ndarray, n_states: int, level: str) -> np.ndarray:
    """Transition counts of one state sequence; unlabelled frames (-1) break the sequence."""
    c = np.asarray(codes, dtype=np.int64)
    if level == "bout":
        # collapse runs: keep a frame only when it differs from the previous one or follows a gap
        keep = np.r_[True, (c[1:] != c[:-1])]
        breaks = np.r_[True, c[:-1] < 0] if len(c) else np.array([], bool)
        c, after_gap = c[keep], breaks[keep]
        valid_pair = (c[:-1] >= 0) & (c[1:] >= 0) & ~after_gap[1:]
    else:
        valid_pair = (c[:-1] >= 0) & (c[1:] >= 0)
    src, dst = c[:-1][valid_pair], c[1:][valid_pair]
    return np.bincount(src * n_states + dst, minlength=n_states * n_states).reshape(n_states, n_states).astype(float)


def compute_transitions(
    labels,
    *,
    states: Sequence | None = None,
    conditions: pd.DataFrame | None = None,
    by: str | None = None,
    level: str = "frame",
    normalize: bool = True,
    self_transitions: bool = True,
    recording_ids: Sequence[str] | None = None,
    individuals: Sequence[str] | None = None,
) -> xr.DataArray:
    """Transition matrices between categorical states (clusters or exclusive behaviours).

    Parameters
    ----------
    labels : sequence
        One state sequence per recording, shape ``(time,)`` or ``(time, individual)`` (see
        :func:`compute_occupancy`). Overlapping behaviour masks must first go through :func:`behaviors_to_states`.
    states : sequence, optional
        All states, in order (default: sorted union of the states seen).
    conditions : pandas.DataFrame, optional
        Conditions table; needed when ``by`` names a condition column.
    by : None, "track" or str, default None
        None pools every recording and animal into one matrix; ``"track"`` gives one matrix per recording and
        animal; a column name of ``conditions`` pools the animals of each condition.
    level : {"frame", "bout"}, default "frame"
        ``"frame"`` counts frame-to-frame transitions (the diagonal holds the frames a state lasts, as in DeepOF);
        ``"bout"`` collapses each bout to one event and counts transitions between consecutive bouts (zero
        diagonal), which is what a behaviour sequence analysis usually wants.
    normalize : bool, default True
        Divide each row by its sum (transition probabilities); rows without any transition stay 0.
    self_transitions : bool, default True
        False zeroes the diagonal before normalising (DeepOF's ``silence_diagonal``).
    recording_ids, individuals : optional
        As for :func:`compute_occupancy`.

    Returns
    -------
    xarray.DataArray
        Dims ``(group, from_behavior, to_behavior)``; ``group`` holds "all", the tracks (with ``recording_id`` and
        ``individual`` coordinates) or the conditions. ``attrs``: ``level``, ``normalize``, ``by``. A tidy table is
        ``result.to_dataframe(name="probability")``.

    Notes
    -----
    Unlabelled frames break the sequence: no transition is counted across them (nor, for ``level="bout"``, between
    the bouts on either side).

    Examples
    --------
    >>> import numpy as np
    >>> P = compute_transitions([np.array([0, 0, 1, 1, 0])])
    >>> P.sel(group="all").values.tolist()
    [[0.5, 0.5], [0.5, 0.5]]
    >>> compute_transitions([np.array([0, 0, 1, 1, 0])], level="bout").sel(group="all").values.tolist()
    [[0.0, 1.0], [1.0, 0.0]]
    """
    where = "compute_transitions"
    if level not in ("frame", "bout"):
        raise ValueError(f"{where}: `level`={level!r}; choose 'frame' or 'bout'.")
    ls = collect_labels(
        labels, where=where, states=states, conditions=conditions, recording_ids=recording_ids,
        individuals=individuals, require="state",
    )
    n = len(ls.behaviors)
    counts = np.stack([_track_counts(t.codes, n, level) for t in ls.tracks])
    coords = {}
    if by is None:
        groups = ["all"]
        mats = counts.sum(0, keepdims=True)
    elif by == "track":
        groups = [f"{t.recording_id}/{t.individual}" for t in ls.tracks]
        mats = counts
        coords[RECORDING_ID] = (GROUP_DIM, [t.recording_id for t in ls.tracks])
        coords[INDIVIDUAL_COLUMN] = (GROUP_DIM, [t.individual for t in ls.tracks])
    else:
        cond = conditions_for(ls.tracks, conditions)
        if by not in cond.columns:
            raise ValueError(
                f"{where}: `by`={by!r} is neither None, 'track' nor a column of `conditions` "
                f"({[c for c in cond.columns if c not in (RECORDING_ID, INDIVIDUAL_COLUMN)]})."
            )
        values = cond[by].to_numpy()
        groups = sorted(pd.unique(values[pd.notna(values)]), key=lambda v: (str(type(v)), v))
        mats = np.stack([counts[values == g].sum(0) for g in groups])
    if not self_transitions:
        idx = np.arange(n)
        mats[:, idx, idx] = 0.0
    if normalize:
        rows = mats.sum(-1, keepdims=True)
        mats = np.divide(mats, rows, out=np.zeros_like(mats), where=rows > 0)
    return xr.DataArray(
        mats,
        dims=(GROUP_DIM, FROM_DIM, TO_DIM),
        coords={GROUP_DIM: groups, FROM_DIM: list(ls.behaviors), TO_DIM: list(ls.behaviors), **coords},
        name="transition_probability" if normalize else "transition_count",
        attrs={"level": level, "normalize": int(normalize), "by": str(by), "self_transitions": int(self_transitions)},
    )


def _as_stochastic(P: np.ndarray) -> np.ndarray:
    rows = P.sum(-1, keepdims=True)
    n = P.shape[-1]
    uniform = np.full_like(P, 1.0 / n)
    return np.where(rows > 0, P / np.where(rows > 0, rows, 1.0), uniform)


def compute_steady_state(transitions, *, n_iter: int = 60):
    """Stationary distribution of Markov transition matrices.

    Parameters
    ----------
    transitions : xarray.DataArray or ndarray, shape (..., n_states, n_states)
        Row-stochastic matrices (counts are normalised first), e.g. from :func:`compute_transitions`.
    n_iter : int, default 60
        Number of squarings: the chain is run for ``2**n_iter`` steps from the uniform distribution.

    Returns
    -------
    xarray.DataArray or ndarray, shape (..., n_states)
        The long-run share of time in each state (dim ``behavior`` for a DataArray input).

    Notes
    -----
    A state with no outgoing transition (an empty row) jumps uniformly to every state, so the chain is stochastic.
    The lazy chain ``(P + I) / 2`` is iterated, which has the same stationary distribution but cannot oscillate;
    for a reducible chain the result is the limit reached from the uniform start.

    Examples
    --------
    >>> import numpy as np
    >>> compute_steady_state(np.array([[0.9, 0.1], [0.5, 0.5]])).round(4).tolist()
    [0.8333, 0.1667]
    """
    values = transitions.values if isinstance(transitions, xr.DataArray) else np.asarray(transitions, dtype=float)
    P = _as_stochastic(values.astype(float))
    n = P.shape[-1]
    L = 0.5 * (P + np.eye(n))
    for _ in range(int(n_iter)):
        L = L @ L
        L /= L.sum(-1, keepdims=True)
    pi = np.full(P.shape[:-2] + (1, n), 1.0 / n) @ L
    pi = pi[..., 0, :]
    pi /= pi.sum(-1, keepdims=True)
    if isinstance(transitions, xr.DataArray):
        lead = [d for d in transitions.dims[:-2]]
        coords = {d: transitions[d] for d in lead}
        coords.update({k: v for k, v in transitions.coords.items() if k not in transitions.dims
                       and set(transitions[k].dims) <= set(lead)})
        return xr.DataArray(
            pi, dims=(*lead, "behavior"), coords={**coords, "behavior": transitions[transitions.dims[-1]].values},
            name="steady_state",
        )
    return pi


def compute_entropy(distribution, *, base: float = 2.0):
    """Shannon entropy of probability distributions along the last axis (in bits by default).

    Parameters
    ----------
    distribution : xarray.DataArray or array-like, shape (..., n_states)
        Probabilities (normalised first).
    base : float, default 2
        Logarithm base (2: bits, e: nats).

    Returns
    -------
    xarray.DataArray or ndarray
        Entropy with the last axis reduced; 0 log 0 counts as 0.

    Examples
    --------
    >>> compute_entropy([0.5, 0.5]), compute_entropy([1.0, 0.0])
    (1.0, 0.0)
    """
    is_da = isinstance(distribution, xr.DataArray)
    p = distribution.values if is_da else np.asarray(distribution, dtype=float)
    p = p / p.sum(-1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, -p * np.log(p), 0.0)
    h = terms.sum(-1) / np.log(base)
    if is_da:
        lead = distribution.dims[:-1]
        return xr.DataArray(h, dims=lead, coords={d: distribution[d] for d in lead}, name="entropy")
    return float(h) if np.ndim(h) == 0 else h


def compute_entropy_rate(transitions, *, base: float = 2.0):
    """Entropy rate of Markov chains: the average uncertainty of the next state, ``sum_i pi_i H(P[i, :])``.

    Parameters
    ----------
    transitions : xarray.DataArray or ndarray, shape (..., n_states, n_states)
        Transition matrices.
    base : float, default 2
        Logarithm base.

    Returns
    -------
    xarray.DataArray or ndarray
        One value per matrix: 0 for a deterministic sequence, ``log(n_states)`` for a uniformly random one.

    Examples
    --------
    >>> import numpy as np
    >>> float(compute_entropy_rate(np.full((4, 4), 0.25)))
    2.0
    """
    is_da = isinstance(transitions, xr.DataArray)
    P = _as_stochastic((transitions.values if is_da else np.asarray(transitions, dtype=float)).astype(float))
    pi = np.asarray(compute_steady_state(P))
    with np.errstate(divide="ignore", invalid="ignore"):
        row_h = np.where(P > 0, -P * np.log(P), 0.0).sum(-1) / np.log(base)
    rate = (pi * row_h).sum(-1)
    if is_da:
        lead = transitions.dims[:-2]
        return xr.DataArray(rate, dims=lead, coords={d: transitions[d] for d in lead}, name="entropy_rate")
    return rate


def summarize_transitions(
    labels,
    *,
    conditions: pd.DataFrame | None = None,
    states: Sequence | None = None,
    level: str = "frame",
    self_transitions: bool = True,
    base: float = 2.0,
    recording_ids: Sequence[str] | None = None,
    individuals: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Per recording and animal: entropy of the steady state and entropy rate of its own transition matrix.

    Parameters
    ----------
    labels, conditions, states, level, self_transitions, recording_ids, individuals
        As for :func:`compute_transitions`.
    base : float, default 2
        Logarithm base of the entropies (bits).

    Returns
    -------
    pandas.DataFrame
        One row per track: ``recording_id``, ``individual``, the condition columns, ``n_transitions``,
        ``stationary_entropy`` and ``entropy_rate`` (bits). Compare conditions with
        ``compute_enrichment(table, condition=..., value="stationary_entropy")``.

    Examples
    --------
    >>> import numpy as np
    >>> summarize_transitions([np.array([0, 1, 0, 1, 0, 1])])[["stationary_entropy", "entropy_rate"]].values.tolist()
    [[1.0, 0.0]]
    """
    counts = compute_transitions(
        labels, states=states, conditions=conditions, by="track", level=level, normalize=False,
        self_transitions=self_transitions, recording_ids=recording_ids, individuals=individuals,
    )
    P = counts.values
    rows = P.sum(-1, keepdims=True)
    probs = np.divide(P, rows, out=np.zeros_like(P), where=rows > 0)
    pi = compute_steady_state(probs)
    table = pd.DataFrame({
        RECORDING_ID: counts[RECORDING_ID].values,
        INDIVIDUAL_COLUMN: counts[INDIVIDUAL_COLUMN].values,
        "n_transitions": P.sum((-1, -2)).astype(int),
        "stationary_entropy": compute_entropy(pi, base=base),
        "entropy_rate": compute_entropy_rate(probs, base=base),
    })
    if conditions is not None:
        cond = conditions.copy()
        cond[RECORDING_ID] = cond[RECORDING_ID].astype(str)
        keys = [RECORDING_ID, INDIVIDUAL_COLUMN] if INDIVIDUAL_COLUMN in cond.columns else [RECORDING_ID]
        if INDIVIDUAL_COLUMN in cond.columns:
            cond[INDIVIDUAL_COLUMN] = cond[INDIVIDUAL_COLUMN].astype(str)
        table = table.merge(cond.drop_duplicates(keys), on=keys, how="left")
        front = [RECORDING_ID, INDIVIDUAL_COLUMN]
        cols = front + [c for c in table.columns if c not in front and c not in
                        ("n_transitions", "stationary_entropy", "entropy_rate")]
        table = table[cols + ["n_transitions", "stationary_entropy", "entropy_rate"]]
    return table
