"""Private: turn per-recording label sequences into one uniform form, shared by every statistic.

Labels arrive in two families:

* **states** (categorical, mutually exclusive: cluster ids, a classifier's behaviour names): per recording an array
  or DataArray of shape ``(time,)`` or ``(time, individual)``; NaN, None or ``-1`` mark an unlabelled frame;
* **behaviours** (possibly overlapping): per recording a boolean/float DataArray with a ``behavior`` dim (and
  optionally one more dim naming who, ``individual`` or a social ``pair``), a Dataset holding such variables, or a
  DataFrame with one 0/1 column per behaviour; NaN marks an unlabelled frame, a value >= 0.5 an active one.

Both become :class:`Track` objects: one per (recording, individual or pair), holding boolean ``active`` and
``valid`` masks of shape ``(time, behavior)`` and, for states, the integer codes (-1 = unlabelled).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from .. import schema as S

RECORDING_ID = "recording_id"
INDIVIDUAL_COLUMN = "individual"
#: Column holding the behaviour (or cluster) of every tidy table of this subpackage.
BEHAVIOR_COLUMN = S.BEHAVIOR


@dataclass
class Track:
    """One labelled sequence: a recording and one individual (or pair) of it."""

    recording: int
    recording_id: str
    individual: str
    active: np.ndarray  # (time, behavior) bool
    valid: np.ndarray  # (time, behavior) bool
    codes: np.ndarray | None = None  # (time,) int, -1 = unlabelled; states only
    fps: float | None = None

    @property
    def n_time(self) -> int:
        return self.active.shape[0]


@dataclass
class LabelSet:
    """All tracks of a cohort, with the behaviour (state) names shared by every track."""

    kind: str  # "state" or "behavior"
    behaviors: list
    tracks: list[Track]
    recording_ids: list[str]
    n_time: list[int]


def _is_sequence_of_recordings(labels) -> bool:
    if isinstance(labels, (xr.DataArray, xr.Dataset, pd.DataFrame, str, bytes)):
        return False
    if isinstance(labels, np.ndarray):
        return labels.dtype == object
    return isinstance(labels, Sequence)


def as_label_list(labels, where: str) -> list:
    """A list with one label object per recording (one bare array or DataArray is one recording)."""
    if labels is None:
        raise ValueError(f"{where}: `labels` is required: one label array (or DataArray) per recording.")
    if not _is_sequence_of_recordings(labels):
        if isinstance(labels, (xr.DataArray, xr.Dataset, pd.DataFrame, np.ndarray)):
            return [labels]
        raise TypeError(
            f"{where}: `labels` must be a list with one array, DataArray, Dataset or DataFrame per recording; got "
            f"{type(labels).__name__}."
        )
    out = list(labels)
    if not out:
        raise ValueError(f"{where}: `labels` is an empty list; pass one label array per recording.")
    return out


def _behavior_arrays(item) -> list[xr.DataArray] | None:
    """The behaviour DataArrays of one recording's labels, or None when the labels are categorical states."""
    if isinstance(item, pd.DataFrame):
        da = xr.DataArray(
            item.to_numpy(dtype=float), dims=(S.TIME, S.BEHAVIOR), coords={S.BEHAVIOR: [str(c) for c in item.columns]}
        )
        return [da]
    if isinstance(item, xr.Dataset):
        found = [item[v] for v in item.data_vars if S.BEHAVIOR in item[v].dims and S.TIME in item[v].dims]
        return [da for da in map(_events_only, found) if da is not None]
    if isinstance(item, xr.DataArray) and S.BEHAVIOR in item.dims:
        da = _events_only(item)
        return [] if da is None else [da]
    return None


def _events_only(da: xr.DataArray) -> xr.DataArray | None:
    """``da`` without the continuous behaviours (distance, speed, ...) that the rule annotators mark with a
    ``<dim>_kind`` coordinate: they are values, not on/off events, so they have no time budget or bouts. None when
    nothing is left."""
    for dim in da.dims:
        kind = da.coords.get(f"{dim}_kind")
        if kind is not None and kind.dims == (dim,):
            keep = np.asarray(kind.values) != "continuous"
            if not keep.all():
                if not keep.any():
                    return None
                da = da.isel({dim: np.flatnonzero(keep)})
    return da


def _entity_dim(da: xr.DataArray, where: str) -> str | None:
    extra = [d for d in da.dims if d not in (S.TIME, S.BEHAVIOR)]
    if len(extra) > 1:
        raise ValueError(
            f"{where}: behaviour labels have dims {da.dims}; expected (time, behavior) plus at most one dim naming "
            "who (individual or pair). Select or stack the others first."
        )
    return extra[0] if extra else None


def _state_values(item, where: str, index: int) -> tuple[np.ndarray, list[str] | None]:
    """(time, n_entities) object/number array of states and the entity names (None when unnamed)."""
    names = None
    if isinstance(item, xr.DataArray):
        if S.TIME not in item.dims:
            raise ValueError(f"{where}: labels of recording #{index} have no `time` dim (dims {item.dims}).")
        other = [d for d in item.dims if d != S.TIME]
        if len(other) > 1:
            raise ValueError(
                f"{where}: state labels of recording #{index} have dims {item.dims}; expected (time,) or "
                "(time, individual). Behaviour masks need a `behavior` dim."
            )
        arr = item.transpose(S.TIME, *other).values
        if other:
            names = [str(v) for v in item[other[0]].values] if other[0] in item.coords else None
    else:
        arr = np.asarray(item)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise ValueError(
            f"{where}: labels of recording #{index} have shape {arr.shape}; expected (time,) or (time, individual)."
        )
    return arr, names


def _unlabelled(arr: np.ndarray) -> np.ndarray:
    """Mask of unlabelled frames: NaN, None, or the integer -1 (scikit-learn's 'no cluster')."""
    if arr.dtype.kind == "f":
        return np.isnan(arr) | (arr == -1)
    if arr.dtype.kind in "iu":
        return arr == -1
    if arr.dtype.kind == "b":
        return np.zeros(arr.shape, bool)
    flat = arr.ravel()
    minus_one = np.fromiter(
        (isinstance(v, (int, float, np.number)) and not isinstance(v, (bool, np.bool_)) and v == -1 for v in flat),
        dtype=bool, count=flat.size,
    )
    return (np.asarray(pd.isna(flat), dtype=bool) | minus_one).reshape(arr.shape)


def _normalise_state(value):
    """A plain Python scalar for a state value (1.0 -> 1 for integer-valued floats), so names sort and print well."""
    if isinstance(value, (np.generic,)):
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _sorted_states(values) -> list:
    try:
        return sorted(values)
    except TypeError:
        return sorted(values, key=str)


def resolve_recording_ids(n: int, items: list, conditions: pd.DataFrame | None, recording_ids) -> list[str]:
    if recording_ids is not None:
        ids = [str(r) for r in recording_ids]
        if len(ids) != n:
            raise ValueError(f"`recording_ids` has {len(ids)} entries for {n} recordings.")
        return ids
    if conditions is not None and RECORDING_ID in conditions.columns:
        ids = list(dict.fromkeys(conditions[RECORDING_ID].astype(str)))
        if len(ids) == n:
            return ids
    out = []
    for i, item in enumerate(items):
        rid = getattr(item, "attrs", {}).get(RECORDING_ID) if hasattr(item, "attrs") else None
        out.append(str(rid) if rid is not None else str(i))
    return out


def _fps_of(fps, rid: str, index: int, item) -> float | None:
    if isinstance(fps, Mapping):
        value = fps.get(rid)
    elif isinstance(fps, (list, tuple, np.ndarray)):
        value = fps[index]
    else:
        value = fps
    if value is None and hasattr(item, "attrs"):
        value = item.attrs.get(S.FPS)
    return None if value is None else float(value)


def _condition_individuals(conditions: pd.DataFrame | None, rid: str) -> list[str] | None:
    if conditions is None or INDIVIDUAL_COLUMN not in conditions.columns or RECORDING_ID not in conditions.columns:
        return None
    rows = conditions[conditions[RECORDING_ID].astype(str) == rid]
    return [str(v) for v in rows[INDIVIDUAL_COLUMN]] or None


def collect_labels(
    labels,
    *,
    where: str,
    states=None,
    conditions: pd.DataFrame | None = None,
    recording_ids=None,
    individuals=None,
    fps=None,
    require: str | None = None,
) -> LabelSet:
    """Validate and normalise the labels of a cohort (see the module docstring).

    ``states`` fixes the list (and order) of states, so a state absent from every recording still gets a row with
    zero time; by default it is the sorted union of the states seen. ``require="state"`` rejects behaviour masks
    (transition matrices need exclusive states).
    """
    items = as_label_list(labels, where)
    if conditions is not None and not isinstance(conditions, pd.DataFrame):
        raise TypeError(f"{where}: `conditions` must be a pandas DataFrame; got {type(conditions).__name__}.")
    ids = resolve_recording_ids(len(items), items, conditions, recording_ids)
    behaviour_items = [_behavior_arrays(item) for item in items]
    kinds = {"behavior" if b is not None else "state" for b in behaviour_items}
    if len(kinds) > 1:
        raise ValueError(
            f"{where}: some recordings have behaviour masks (a `behavior` dim) and others categorical states; "
            "give every recording the same kind of labels."
        )
    kind = kinds.pop()
    if require == "state" and kind != "state":
        raise ValueError(
            f"{where}: needs mutually exclusive states (cluster labels, one behaviour name per frame), but got "
            "behaviour masks with a `behavior` dim, which may overlap. Convert them with "
            "deepof_sk.stats.behaviors_to_states(...) first."
        )
    tracks: list[Track] = []
    n_time: list[int] = []
    if kind == "behavior":
        names: list = []
        for arrays in behaviour_items:
            for da in arrays:
                for b in da[S.BEHAVIOR].values:
                    if str(b) not in names:
                        names.append(str(b))
        if states is not None:
            unknown = sorted(set(map(str, states)) - set(names))
            if unknown:
                raise ValueError(f"{where}: `states` names behaviours {unknown} that no recording has.")
            names = [str(s) for s in states]
        if not names:
            raise ValueError(f"{where}: the labels hold no behaviour (no variable with a `behavior` dim).")
        for i, (item, arrays) in enumerate(zip(items, behaviour_items, strict=True)):
            if not arrays:
                raise ValueError(f"{where}: recording #{i} ({ids[i]}) has no variable with a `behavior` dim.")
            lengths = {da.sizes[S.TIME] for da in arrays}
            if len(lengths) != 1:
                raise ValueError(f"{where}: behaviour variables of recording {ids[i]} differ in length {lengths}.")
            n_time.append(lengths.pop())
            rate = _fps_of(fps, ids[i], i, item)
            for da in arrays:
                ent = _entity_dim(da, where)
                order = [S.TIME, S.BEHAVIOR] + ([ent] if ent else [])
                values = np.asarray(da.transpose(*order).values, dtype=float)
                if values.ndim == 2:
                    values = values[:, :, None]
                ent_names = [str(v) for v in da[ent].values] if ent and ent in da.coords else (
                    [str(k) for k in range(values.shape[2])] if ent else ["all"]
                )
                have = [str(b) for b in da[S.BEHAVIOR].values]
                cols = [have.index(b) if b in have else -1 for b in names]
                for e, ent_name in enumerate(ent_names):
                    block = np.full((values.shape[0], len(names)), np.nan)
                    for j, c in enumerate(cols):
                        if c >= 0:
                            block[:, j] = values[:, c, e]
                    valid = ~np.isnan(block)
                    if not valid.any():
                        continue  # this entity has none of the requested behaviours in this variable
                    tracks.append(Track(i, ids[i], ent_name, (block >= 0.5) & valid, valid, None, rate))
        return LabelSet("behavior", names, tracks, ids, n_time)

    parsed = []
    seen = set()
    for i, item in enumerate(items):
        arr, ent_names = _state_values(item, where, i)
        miss = _unlabelled(arr)
        parsed.append((arr, ent_names, miss))
        for v in np.unique(arr[~miss]) if arr.dtype.kind in "iufb" else set(arr[~miss].tolist()):
            seen.add(_normalise_state(v))
    if states is not None:
        names = [_normalise_state(s) for s in states]
        unknown = sorted(map(str, seen - set(names)))
        if unknown:
            raise ValueError(
                f"{where}: the labels hold states {unknown} that are not in `states` ({names}); add them or relabel."
            )
    else:
        names = _sorted_states(seen)
    lookup = {s: k for k, s in enumerate(names)}
    for i, (item, (arr, ent_names, miss)) in enumerate(zip(items, parsed, strict=True)):
        n_time.append(arr.shape[0])
        rate = _fps_of(fps, ids[i], i, item)
        if ent_names is None:
            given = list(individuals) if individuals is not None else _condition_individuals(conditions, ids[i])
            if given is not None and len(given) == arr.shape[1]:
                ent_names = [str(g) for g in given]
            elif arr.shape[1] == 1:
                ent_names = ["all"]
            else:
                ent_names = [str(k) for k in range(arr.shape[1])]
        for e, ent_name in enumerate(ent_names):
            col = arr[:, e]
            codes = np.full(col.shape[0], -1, dtype=np.int64)
            ok = ~miss[:, e]
            if col.dtype.kind in "iub" or col.dtype.kind == "f":
                uniq, inv = np.unique(col[ok], return_inverse=True)
                mapping = np.array([lookup[_normalise_state(u)] for u in uniq], dtype=np.int64)
                codes[ok] = mapping[inv] if len(uniq) else codes[ok]
            else:
                codes[ok] = [lookup[_normalise_state(v)] for v in col[ok]]
            active = np.zeros((col.shape[0], len(names)), bool)
            idx = np.flatnonzero(ok)
            active[idx, codes[idx]] = True
            valid = np.broadcast_to(ok[:, None], active.shape)
            tracks.append(Track(i, ids[i], ent_name, active, valid, codes, rate))
    return LabelSet("state", names, tracks, ids, n_time)


def conditions_for(tracks: list[Track], conditions: pd.DataFrame | None) -> pd.DataFrame:
    """One row of condition columns per track (recording_id, individual, then every condition column)."""
    base = pd.DataFrame(
        {RECORDING_ID: [t.recording_id for t in tracks], INDIVIDUAL_COLUMN: [t.individual for t in tracks]}
    )
    if conditions is None or RECORDING_ID not in conditions.columns:
        return base
    table = conditions.copy()
    table[RECORDING_ID] = table[RECORDING_ID].astype(str)
    if INDIVIDUAL_COLUMN in table.columns:
        table[INDIVIDUAL_COLUMN] = table[INDIVIDUAL_COLUMN].astype(str)
        return base.merge(table, on=[RECORDING_ID, INDIVIDUAL_COLUMN], how="left")
    return base.merge(table.drop_duplicates(RECORDING_ID), on=RECORDING_ID, how="left")


def runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start (inclusive) and stop (exclusive) frames of the runs of True in a 1-D boolean array."""
    padded = np.concatenate([[False], mask, [False]]).astype(np.int8)
    d = np.diff(padded)
    return np.flatnonzero(d == 1), np.flatnonzero(d == -1)
