"""Interpretable per-window features: summary statistics of every feature variable over windows centred on frames."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import xarray as xr

from .. import schema as S
from ..utils._warnings import quiet_nan_warnings

__all__ = ["aggregate_windows", "feature_variables", "WINDOW_STATISTICS"]

#: Statistics available over a window.
WINDOW_STATISTICS = ("mean", "std", "min", "max")
#: Variables never used as explanatory features by default (raw coordinates and tracker scores).
_EXCLUDED = {S.POSITION, S.CONFIDENCE, "velocity"}
_CHUNK = 8192


def feature_variables(ds: xr.Dataset, variables=None, *, where: str) -> list[str]:
    """The dataset variables that become features: numeric or boolean, with a ``time`` dim.

    Default: every such variable except ``position``, ``confidence`` and ``velocity`` (absolute coordinates and
    tracker scores are not behaviour).
    """
    if variables is None:
        names = [
            str(v) for v, da in ds.data_vars.items()
            if S.TIME in da.dims and str(v) not in _EXCLUDED
            and (np.issubdtype(da.dtype, np.number) or da.dtype == bool)
        ]
        if not names:
            raise ValueError(
                f"{where}: the recordings have no feature variables besides position/confidence. Add features first "
                "(KinematicsExtractor, DistanceExtractor, AngleExtractor, AreaExtractor, rule annotators) or keep "
                "featurizer='auto'."
            )
        return names
    names = [variables] if isinstance(variables, str) else [str(v) for v in variables]
    missing = sorted(set(names) - set(map(str, ds.data_vars)))
    if missing:
        raise ValueError(
            f"{where}: `variables` names {missing}, which the recording does not have (it has "
            f"{sorted(map(str, ds.data_vars))})."
        )
    no_time = sorted(v for v in names if S.TIME not in ds[v].dims)
    if no_time:
        raise ValueError(f"{where}: variables {no_time} have no `time` dimension.")
    return names


def _label(value) -> str:
    return str(value.item() if hasattr(value, "item") else value)


def frame_table(ds: xr.Dataset, variables: list[str], per_individual: bool) -> tuple[np.ndarray, list[str]]:
    """Per-frame features: shape (time, n_individuals, n_features) when ``per_individual``, else (time, 1, n).

    Per animal, a variable with an ``individual`` dim contributes that animal's columns (names without the animal)
    and a variable without one (social distances, pair annotations) is shared by every animal. Otherwise every
    animal's columns sit side by side and their names include the animal.
    """
    n_ind = ds.sizes[S.INDIVIDUAL] if per_individual else 1
    blocks, names = [], []
    for name in variables:
        da = ds[name]
        own = per_individual and S.INDIVIDUAL in da.dims
        lead = [S.TIME] + ([S.INDIVIDUAL] if own else [])
        rest = [d for d in da.dims if d not in lead]
        first = [d for d in (S.INDIVIDUAL, S.KEYPOINT) if d in rest]
        rest = first + [d for d in rest if d not in first]
        arr = np.asarray(da.transpose(*lead, *rest).values, dtype=float)
        n_t = arr.shape[0]
        if own:
            arr = arr.reshape(n_t, n_ind, -1)
        else:
            arr = np.broadcast_to(arr.reshape(n_t, 1, -1), (n_t, n_ind, int(np.prod(arr.shape[1:], dtype=int))))
        blocks.append(arr)
        if not rest:
            names.append(name)
        else:
            grids = np.meshgrid(*[[_label(v) for v in da[d].values] for d in rest], indexing="ij")
            labels = np.stack([g.ravel() for g in grids], axis=1)
            names.extend(f"{name}[{','.join(row)}]" for row in labels)
    return np.concatenate(blocks, axis=2), names


def _window_stats(table: np.ndarray, centers: np.ndarray, window: int, statistics: Sequence[str]) -> np.ndarray:
    """(n_centers, n_ind, n_features * n_stats): NaN-aware statistics over windows centred on ``centers``.

    Centres are processed in chunks, each over the slice of frames it needs, so memory stays bounded by the chunk
    whatever the recording length.
    """
    n_t = table.shape[0]
    out = np.empty((len(centers), table.shape[1], table.shape[2] * len(statistics)))
    n_f = table.shape[2]
    # chunk so the (centres, window, animals, features) block of min/max/std stays near 4 million values
    chunk = _CHUNK if set(statistics) == {"mean"} else max(16, 4_000_000 // max(1, window * table.shape[1] * n_f))
    for start in range(0, len(centers), chunk):
        c = centers[start:start + chunk]
        lo = np.clip(c - window // 2, 0, n_t)
        hi = np.clip(c - window // 2 + window, 0, n_t)
        base = int(lo.min())
        seg = table[base:int(hi.max())]
        a, b = lo - base, hi - base
        finite = ~np.isnan(seg)
        c_n = np.concatenate([np.zeros((1,) + seg.shape[1:]), np.cumsum(finite, axis=0)], axis=0)
        c_s = np.concatenate([np.zeros((1,) + seg.shape[1:]), np.cumsum(np.where(finite, seg, 0.0), axis=0)], axis=0)
        count = c_n[b] - c_n[a]
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = (c_s[b] - c_s[a]) / count
        vals = None
        for k, stat in enumerate(statistics):
            if stat == "mean":
                res = mean
            else:
                if vals is None:
                    idx = a[:, None] + np.arange(window)[None, :]
                    inside = idx < b[:, None]
                    vals = np.where(inside[:, :, None, None], seg[np.minimum(idx, len(seg) - 1)], np.nan)
                with quiet_nan_warnings():
                    if stat == "std":
                        res = np.sqrt(np.nanmean((vals - mean[:, None]) ** 2, axis=1))
                    elif stat == "min":
                        res = np.nanmin(vals, axis=1)
                    else:
                        res = np.nanmax(vals, axis=1)
            out[start:start + chunk, :, k * n_f:(k + 1) * n_f] = res
    return out


def aggregate_windows(
    recordings,
    labels=None,
    *,
    variables=None,
    window: int = 25,
    step: int | None = None,
    statistics: Sequence[str] = ("mean",),
    per_individual: bool = False,
):
    """Summarise feature variables over windows centred on regularly spaced frames, one row per window.

    Parameters
    ----------
    recordings : sequence of xarray.Dataset
        Recordings carrying feature variables (speed, distances, angles, areas, behaviour annotations, ...).
    labels : sequence of array-like, optional
        Per-frame labels, one array per recording, shape ``(time,)`` (or ``(time, individual)`` with
        ``per_individual=True``); each window takes the label of its centre frame, and windows whose centre is
        unlabelled (NaN, None or -1) are dropped.
    variables : str or list of str, optional
        Variables to summarise (default: every numeric time variable but position, confidence and velocity).
    window : int, default 25
        Window length in frames (one second at 25 fps); windows are centred and truncated at the edges.
    step : int, optional
        Frames between consecutive window centres (default ``window``: non-overlapping windows; 1 for every frame).
    statistics : sequence of {"mean", "std", "min", "max"}, default ("mean",)
        Statistics over each window, NaN-aware; feature names get a ``:std`` (etc.) suffix for all but the mean.
    per_individual : bool, default False
        One row per window and animal (that animal's features plus the shared ones), for per-animal labels.

    Returns
    -------
    X : ndarray of shape (n_windows, n_features)
        The window features (NaN where a feature has no valid frame in the window).
    y : ndarray of shape (n_windows,) or None
        The centre-frame labels (None without ``labels``).
    index : pandas.DataFrame
        One row per window: ``recording`` (position in ``recordings``), ``frame`` (centre frame), ``individual``
        (animal name or ``"all"``).
    feature_names : list of str
        Column names such as ``speed[Nose]`` (per animal) or ``speed[mouse1,Nose]``, ``distance[Nose-Tail_base]:std``.

    Examples
    --------
    >>> from deepof_sk.datasets import make_synthetic_poses
    >>> from deepof_sk.features import KinematicsExtractor
    >>> ds = KinematicsExtractor().fit_transform(make_synthetic_poses(100, speed=50.0, random_state=0))
    >>> X, _, index, names = aggregate_windows([ds], window=25)
    >>> X.shape, names[4], round(float(X[1, 4]), 3)
    ((4, 14), 'speed[mouse1,Center]', 50.0)
    """
    where = "aggregate_windows"
    if isinstance(recordings, xr.Dataset):
        recordings = [recordings]
    step = int(window if step is None else step)
    window = int(window)
    if window < 1 or step < 1:
        raise ValueError(f"{where}: `window` and `step` must be >= 1 frame; got window={window}, step={step}.")
    statistics = [statistics] if isinstance(statistics, str) else list(statistics)
    unknown = sorted(set(statistics) - set(WINDOW_STATISTICS))
    if unknown or not statistics:
        raise ValueError(f"{where}: unknown statistics {unknown}; choose from {list(WINDOW_STATISTICS)}.")
    if labels is not None and len(labels) != len(recordings):
        raise ValueError(f"{where}: {len(labels)} label arrays for {len(recordings)} recordings.")
    names0 = None
    Xs, ys, idx = [], [], []
    for r, ds in enumerate(recordings):
        names = feature_variables(ds, variables, where=where)
        table, cols = frame_table(ds, names, per_individual)
        if names0 is None:
            names0 = cols
        elif cols != names0:
            missing, extra = sorted(set(names0) - set(cols)), sorted(set(cols) - set(names0))
            if missing or extra:
                raise ValueError(
                    f"{where}: recording #{r} gives other feature columns than recording #0: missing "
                    f"{missing[:8]}, extra {extra[:8]}. Recordings must share keypoints, animals and features "
                    "(use per_individual=True when the animals differ)."
                )
            table = table[:, :, [cols.index(c) for c in names0]]
        n_t, n_ind = table.shape[0], table.shape[1]
        centers = np.arange(min(step // 2, n_t - 1), n_t, step)
        feats = _window_stats(table, centers, window, statistics)  # (c, ind, f)
        inds = [str(v) for v in ds[S.INDIVIDUAL].values] if per_individual else ["all"]
        keep = np.ones((len(centers), n_ind), bool)
        if labels is not None:
            lab = labels[r]
            lab = lab.transpose(S.TIME, ...).values if isinstance(lab, xr.DataArray) else np.asarray(lab)
            if lab.shape[0] != n_t:
                raise ValueError(f"{where}: labels of recording #{r} have {lab.shape[0]} frames; it has {n_t}.")
            lab = lab.reshape(n_t, -1)
            if lab.shape[1] not in (1, n_ind):
                raise ValueError(
                    f"{where}: labels of recording #{r} have {lab.shape[1]} columns; expected 1 or {n_ind} "
                    "(one per animal, with per_individual=True)."
                )
            lab = np.broadcast_to(lab, (n_t, n_ind))[centers]
            keep = ~_missing(lab)
            ys.append(lab[keep])
        Xs.append(feats[keep])
        rows, cols_i = np.nonzero(keep)
        idx.append(pd.DataFrame({"recording": r, "frame": centers[rows], "individual": np.asarray(inds)[cols_i]}))
    X = np.concatenate(Xs, axis=0) if Xs else np.empty((0, 0))
    suffixes = ["" if s == "mean" else f":{s}" for s in statistics]
    feature_names = [f"{n}{suf}" for suf in suffixes for n in names0]
    y = np.concatenate(ys) if labels is not None else None
    return X, y, pd.concat(idx, ignore_index=True), feature_names


def _missing(lab: np.ndarray) -> np.ndarray:
    if lab.dtype.kind == "f":
        return np.isnan(lab) | (lab == -1)
    if lab.dtype.kind in "iu":
        return lab == -1
    if lab.dtype.kind == "b":
        return np.zeros(lab.shape, bool)
    flat = lab.ravel()
    out = np.fromiter(
        (v is None or (isinstance(v, float) and np.isnan(v)) or (isinstance(v, (int, np.integer)) and v == -1)
         for v in flat), dtype=bool, count=flat.size,
    )
    return out.reshape(lab.shape)
