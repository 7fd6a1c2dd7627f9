"""Time on each behaviour or cluster, per recording and animal (and time bin), and the bouts behind it."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import xarray as xr

from .. import schema as S
from ._binning import TimeBins
from ._labels import (
    BEHAVIOR_COLUMN,
    INDIVIDUAL_COLUMN,
    RECORDING_ID,
    as_label_list,
    collect_labels,
    conditions_for,
    runs,
)

__all__ = ["compute_occupancy", "find_bouts", "behaviors_to_states"]


def _bins_of(time_bins, n_tracks_recordings: list[int], where: str):
    if time_bins is None:
        return None, None, None
    index = time_bins.index if isinstance(time_bins, TimeBins) else list(time_bins)
    if len(index) != len(n_tracks_recordings):
        raise ValueError(
            f"{where}: `time_bins` has {len(index)} entries for {len(n_tracks_recordings)} recordings; build it with "
            "make_time_bins(labels, ...)."
        )
    out = []
    for r, (k, n) in enumerate(zip(index, n_tracks_recordings, strict=True)):
        k = np.asarray(k, dtype=np.int64)
        if k.shape != (n,):
            raise ValueError(f"{where}: `time_bins` of recording #{r} has shape {k.shape}; expected ({n},).")
        out.append(k)
    starts = time_bins.starts if isinstance(time_bins, TimeBins) else None
    stops = time_bins.stops if isinstance(time_bins, TimeBins) else None
    return out, starts, stops


def compute_occupancy(
    labels,
    *,
    fps=None,
    conditions: pd.DataFrame | None = None,
    states: Sequence | None = None,
    time_bins=None,
    cumulative: bool = False,
    recording_ids: Sequence[str] | None = None,
    individuals: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Time spent in each behaviour (or cluster) per recording and animal: frames, seconds, fraction and bouts.

    Parameters
    ----------
    labels : sequence
        One item per recording. Categorical states (clusters, exclusive behaviours): an array or DataArray of shape
        ``(time,)`` or ``(time, individual)``. Possibly overlapping behaviours: a boolean/float DataArray with a
        ``behavior`` dim (plus ``individual`` or a social ``pair`` dim), a Dataset of such variables, or a
        DataFrame with one 0/1 column per behaviour.
    fps : float, sequence or mapping, optional
        Frame rate (one for all, one per recording, or ``{recording_id: fps}``); default ``attrs["fps"]`` of the
        labels when they are DataArrays. Without it the second columns are NaN.
    conditions : pandas.DataFrame, optional
        Experimental conditions, one row per recording (``recording_id`` column first, as returned by
        :func:`deepof_sk.io.read_recordings`) or one per recording and animal (with an ``individual`` column); its
        columns are joined to the output.
    states : sequence, optional
        All states (or behaviours) to report, in order; a state never visited still gets a row with zero time.
        Default: the sorted union of the states seen. Pass ``range(n_clusters)`` for cluster labels.
    time_bins : TimeBins or sequence of int arrays, optional
        Per-frame bin indices from :func:`make_time_bins` (-1 = excluded frame); adds ``bin`` (and ``bin_start_s``,
        ``bin_stop_s`` for a :class:`TimeBins`) columns.
    cumulative : bool, default False
        With bins: bin ``k`` covers every frame from the first bin through bin ``k`` (a growing window, for
        habituation curves).
    recording_ids : sequence of str, optional
        Names of the recordings; default the ``recording_id`` column of ``conditions``, else ``attrs["recording_id"]``
        of the labels, else ``"0"``, ``"1"``, ...
    individuals : sequence of str, optional
        Names of the columns of 2-D label arrays (default the ``individual`` rows of ``conditions`` for that
        recording, else ``"0"``, ``"1"``, ...). A 1-D array is reported as individual ``"all"``.

    Returns
    -------
    pandas.DataFrame
        Tidy table, one row per (recording, individual, [bin,] behaviour): ``recording_id``, ``individual``, the
        condition columns, [``bin``, ``bin_start_s``, ``bin_stop_s``,] ``behavior``, ``n_frames`` (labelled frames),
        ``frames`` (frames in the behaviour), ``time_s``, ``fraction`` (frames / n_frames), ``n_bouts``,
        ``mean_bout_s`` and ``bouts_per_min``. Save it with ``.to_csv``.

    Notes
    -----
    NaN handling: unlabelled frames (NaN, None, or -1 for integer cluster labels; NaN for behaviour masks) count
    neither as time in a behaviour nor in ``n_frames``, so ``fraction`` is the share of the *labelled* time; they also
    break bouts. A bout is a maximal run of consecutive active frames; with bins it is cut at bin edges, so every
    bin is summarised as if it were a recording of its own (with ``cumulative=True`` bouts are not cut, and count
    in the bin where they start). A float behaviour
    value counts as active when >= 0.5. Units: ``time_s`` and ``mean_bout_s`` in seconds, ``bouts_per_min`` per
    minute of labelled time.

    Examples
    --------
    >>> import numpy as np
    >>> occ = compute_occupancy([np.array([0, 0, 1, 1, 1, 0])], fps=2.0)
    >>> occ[["behavior", "frames", "time_s", "fraction", "n_bouts"]].to_dict("list")
    {'behavior': [0, 1], 'frames': [3, 3], 'time_s': [1.5, 1.5], 'fraction': [0.5, 0.5], 'n_bouts': [2, 1]}
    """
    where = "compute_occupancy"
    ls = collect_labels(
        labels, where=where, states=states, conditions=conditions, recording_ids=recording_ids,
        individuals=individuals, fps=fps,
    )
    bins, starts, stops = _bins_of(time_bins, ls.n_time, where)
    n_bins = 1 if bins is None else max(1, int(max((b.max() for b in bins), default=-1)) + 1)
    n_beh = len(ls.behaviors)
    rows = []
    for track in ls.tracks:
        k = np.zeros(track.n_time, dtype=np.int64) if bins is None else bins[track.recording]
        inside = k >= 0
        kk = np.where(inside, k, 0)
        frames = np.zeros((n_bins, n_beh))
        labelled = np.zeros((n_bins, n_beh))
        bouts = np.zeros((n_bins, n_beh))
        bout_frames = np.zeros((n_bins, n_beh))
        for j in range(n_beh):
            act = track.active[:, j] & inside
            val = track.valid[:, j] & inside
            frames[:, j] = np.bincount(kk[act], minlength=n_bins)[:n_bins]
            labelled[:, j] = np.bincount(kk[val], minlength=n_bins)[:n_bins]
            # a bout never crosses an excluded frame; without `cumulative` it also stops at a bin edge
            cont = np.zeros(track.n_time + 1, bool)  # cont[t]: frame t continues the bout of frame t - 1
            cont[1:-1] = act[:-1] & act[1:]
            if not cumulative:
                cont[1:-1] &= k[1:] == k[:-1]
            start_idx = np.flatnonzero(act & ~cont[:-1])
            stop_idx = np.flatnonzero(act & ~cont[1:]) + 1
            if len(start_idx):
                b_of = kk[start_idx]
                bouts[:, j] = np.bincount(b_of, minlength=n_bins)[:n_bins]
                bout_frames[:, j] = np.bincount(b_of, weights=stop_idx - start_idx, minlength=n_bins)[:n_bins]
        if cumulative:
            frames, labelled = np.cumsum(frames, 0), np.cumsum(labelled, 0)
            bouts, bout_frames = np.cumsum(bouts, 0), np.cumsum(bout_frames, 0)
        rate = track.fps if track.fps is not None else np.nan
        with np.errstate(divide="ignore", invalid="ignore"):
            rows.append({
                RECORDING_ID: np.full(n_bins * n_beh, track.recording_id, dtype=object),
                INDIVIDUAL_COLUMN: np.full(n_bins * n_beh, track.individual, dtype=object),
                "bin": np.repeat(np.arange(n_bins), n_beh),
                "_beh": np.tile(np.arange(n_beh), n_bins),
                "n_frames": labelled.ravel().astype(np.int64),
                "frames": frames.ravel().astype(np.int64),
                "time_s": frames.ravel() / rate,
                "fraction": np.where(labelled > 0, frames / labelled, np.nan).ravel(),
                "n_bouts": bouts.ravel().astype(np.int64),
                "mean_bout_s": np.where(bouts > 0, bout_frames / bouts / rate, np.nan).ravel(),
                "bouts_per_min": np.where(labelled > 0, bouts / (labelled / rate / 60.0), np.nan).ravel(),
            })
    if not rows:
        raise ValueError(f"{where}: the labels hold no labelled frame.")
    table = pd.DataFrame({k: np.concatenate([r[k] for r in rows]) for k in rows[0]})
    names = np.empty(n_beh, dtype=object)
    names[:] = list(ls.behaviors)
    table.insert(3, BEHAVIOR_COLUMN, pd.Series(names[table.pop("_beh").to_numpy()]).infer_objects())
    cond = conditions_for(ls.tracks, conditions).drop_duplicates([RECORDING_ID, INDIVIDUAL_COLUMN])
    table = table.merge(cond, on=[RECORDING_ID, INDIVIDUAL_COLUMN], how="left")
    cond_cols = [c for c in cond.columns if c not in (RECORDING_ID, INDIVIDUAL_COLUMN)]
    if bins is None:
        table = table.drop(columns="bin")
        bin_cols = []
    else:
        bin_cols = ["bin"]
        if starts is not None:
            table["bin_start_s"] = np.asarray(starts, float)[table["bin"].to_numpy()] if not cumulative else 0.0
            table["bin_stop_s"] = np.asarray(stops, float)[table["bin"].to_numpy()]
            bin_cols += ["bin_start_s", "bin_stop_s"]
    metrics = ["n_frames", "frames", "time_s", "fraction", "n_bouts", "mean_bout_s", "bouts_per_min"]
    ordered = [RECORDING_ID, INDIVIDUAL_COLUMN, *cond_cols, *bin_cols, BEHAVIOR_COLUMN, *metrics]
    table = table[ordered]
    table.attrs["label_kind"] = ls.kind
    return table


def find_bouts(
    labels,
    *,
    fps=None,
    states: Sequence | None = None,
    min_duration: float = 0.0,
    conditions: pd.DataFrame | None = None,
    recording_ids: Sequence[str] | None = None,
    individuals: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Every bout (maximal run of frames) of every behaviour or cluster, in every recording and animal.

    Parameters
    ----------
    labels, fps, states, conditions, recording_ids, individuals
        As for :func:`compute_occupancy`.
    min_duration : float, default 0
        Drop bouts shorter than this, in seconds when a frame rate is known, in frames otherwise.

    Returns
    -------
    pandas.DataFrame
        One row per bout: ``recording`` (position in ``labels``), ``recording_id``, ``individual``, ``behavior``,
        ``start`` (first frame), ``stop`` (one past the last frame), ``n_frames``, ``start_s``, ``duration_s``, then
        the condition columns; sorted by recording, individual, start.

    Notes
    -----
    Unlabelled frames break bouts (see :func:`compute_occupancy`).

    Examples
    --------
    >>> import numpy as np
    >>> bouts = find_bouts([np.array([0, 0, 1, 1, 1, 0])], fps=2.0)
    >>> bouts[["behavior", "start", "stop", "duration_s"]].to_dict("list")
    {'behavior': [0, 1, 0], 'start': [0, 2, 5], 'stop': [2, 5, 6], 'duration_s': [1.0, 1.5, 0.5]}
    """
    where = "find_bouts"
    ls = collect_labels(
        labels, where=where, states=states, conditions=conditions, recording_ids=recording_ids,
        individuals=individuals, fps=fps,
    )
    parts = []
    for track in ls.tracks:
        for j, name in enumerate(ls.behaviors):
            start, stop = runs(track.active[:, j])
            if not len(start):
                continue
            rate = track.fps if track.fps is not None else np.nan
            part = pd.DataFrame({
                "recording": track.recording,
                RECORDING_ID: track.recording_id,
                INDIVIDUAL_COLUMN: track.individual,
                BEHAVIOR_COLUMN: [name] * len(start),
                "start": start,
                "stop": stop,
                "n_frames": stop - start,
                "start_s": start / rate,
                "duration_s": (stop - start) / rate,
            })
            length = part["duration_s"] if track.fps is not None else part["n_frames"]
            parts.append(part[length >= min_duration])
    columns = ["recording", RECORDING_ID, INDIVIDUAL_COLUMN, BEHAVIOR_COLUMN, "start", "stop", "n_frames",
               "start_s", "duration_s"]
    table = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)
    table = table.sort_values(["recording", INDIVIDUAL_COLUMN, "start"], kind="stable").reset_index(drop=True)
    if conditions is not None and len(table):
        cond = conditions_for(ls.tracks, conditions).drop_duplicates([RECORDING_ID, INDIVIDUAL_COLUMN])
        table = table.merge(cond, on=[RECORDING_ID, INDIVIDUAL_COLUMN], how="left")
    table.attrs["label_kind"] = ls.kind
    return table


def behaviors_to_states(labels, *, priority: Sequence[str] | None = None, none_label: str = "none"):
    """Turn (possibly overlapping) behaviour masks into one categorical state per frame.

    Parameters
    ----------
    labels : DataArray, Dataset or DataFrame, or a sequence of them
        Behaviour masks with a ``behavior`` dim (see :func:`compute_occupancy`).
    priority : sequence of str, optional
        Order in which overlapping behaviours win (first wins); default the order of the ``behavior`` coordinate.
    none_label : str, default "none"
        State of a labelled frame with no active behaviour.

    Returns
    -------
    xarray.DataArray or list of xarray.DataArray
        Object arrays of behaviour names with dims ``(time,)`` or ``(time, individual)`` (the entity dim of the
        input is kept); missing (NaN) where every behaviour is NaN (unlabelled). The same kind (one or a list)
        as the input.

    Examples
    --------
    >>> import xarray as xr
    >>> masks = xr.DataArray([[1, 0], [1, 1], [0, 0]], dims=("time", "behavior"),
    ...                      coords={"behavior": ["walk", "sniff"]})
    >>> behaviors_to_states(masks, priority=["sniff", "walk"]).values.tolist()
    ['walk', 'sniff', 'none']
    """
    single = isinstance(labels, (xr.DataArray, xr.Dataset, pd.DataFrame))
    items = [labels] if single else as_label_list(labels, "behaviors_to_states")
    out = []
    for item in items:
        if isinstance(item, pd.DataFrame):
            item = xr.DataArray(item.to_numpy(dtype=float), dims=(S.TIME, S.BEHAVIOR),
                                coords={S.BEHAVIOR: [str(c) for c in item.columns]})
        if isinstance(item, xr.Dataset):
            found = [item[v] for v in item.data_vars if S.BEHAVIOR in item[v].dims]
            if len(found) != 1:
                raise ValueError(
                    f"behaviors_to_states: the Dataset has {len(found)} variables with a `behavior` dim; pass the one "
                    "DataArray to convert."
                )
            item = found[0]
        if not isinstance(item, xr.DataArray) or S.BEHAVIOR not in item.dims:
            raise TypeError("behaviors_to_states: expected DataArrays (or DataFrames) with a `behavior` dim.")
        names = [str(b) for b in item[S.BEHAVIOR].values]
        order = list(priority) if priority is not None else names
        unknown = sorted(set(order) - set(names))
        if unknown:
            raise ValueError(f"behaviors_to_states: `priority` names {unknown}, not in the behaviours {names}.")
        order += [n for n in names if n not in order]
        ent = [d for d in item.dims if d not in (S.TIME, S.BEHAVIOR)]
        values = item.astype(float).transpose(S.TIME, S.BEHAVIOR, *ent)
        arr = values.values
        out_arr = np.full((arr.shape[0],) + arr.shape[2:], None, dtype=object)
        out_arr[~np.isnan(arr).all(axis=1)] = none_label
        for name in reversed(order):
            out_arr[arr[:, names.index(name)] >= 0.5] = name
        state = xr.DataArray(out_arr, dims=(S.TIME, *ent),
                             coords={d: values[d] for d in (S.TIME, *ent) if d in values.coords})
        state.name = "state"
        out.append(state)
    return out[0] if single else out
