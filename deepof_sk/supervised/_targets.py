"""Per-frame targets of a frame classifier: one target, or several behaviours, in the row layout of the features."""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from .. import schema as S
from ..base import check_frame_targets

__all__ = ["frame_targets"]


def _is_multi(item) -> bool:
    return isinstance(item, pd.DataFrame) or (isinstance(item, xr.DataArray) and S.BEHAVIOR in item.dims)


def _multi_targets(items, recordings, behaviors, where: str) -> tuple[list[np.ndarray], list[str]]:
    arrays, names, problems = [], None, []
    for i, (item, ds) in enumerate(zip(items, recordings, strict=True)):
        src = ds.attrs.get(S.SOURCE_FILE) or f"#{i}"
        if isinstance(item, pd.DataFrame):
            cols, arr = [str(c) for c in item.columns], item.to_numpy(dtype=float)
        elif isinstance(item, xr.DataArray) and S.BEHAVIOR in item.dims:
            order = [S.TIME] + ([S.INDIVIDUAL] if S.INDIVIDUAL in item.dims else []) + [S.BEHAVIOR]
            if set(item.dims) != set(order):
                problems.append(f"recording {src}: labels DataArray has dims {item.dims}; expected {tuple(order)}")
                continue
            cols, arr = [str(b) for b in item[S.BEHAVIOR].values], item.transpose(*order).values.astype(float)
        else:
            problems.append(f"recording {src}: mixes one-target labels with multi-behaviour labels")
            continue
        n_t, n_i = ds.sizes[S.TIME], ds.sizes[S.INDIVIDUAL]
        if arr.shape[0] != n_t or (arr.ndim == 3 and arr.shape[1] != n_i):
            problems.append(f"recording {src}: labels have shape {arr.shape}, expected ({n_t}, n_behaviors) "
                            f"or ({n_t}, {n_i}, n_behaviors) to align with its frames")
            continue
        if names is None:
            names = cols
        elif cols != names:
            problems.append(f"recording {src}: behaviours {cols} differ from recording #0's {names}")
            continue
        arrays.append(arr)
    if problems:
        raise ValueError(f"{where}: per-frame labels are misaligned with the recordings:\n  - "
                         + "\n  - ".join(problems))
    if behaviors is not None:
        wanted = [str(b) for b in behaviors]
        unknown = sorted(set(wanted) - set(names))
        if unknown:
            raise ValueError(f"{where}: `behaviors` names {unknown}, which the labels do not have (they have "
                             f"{names}).")
        idx = [names.index(b) for b in wanted]
        arrays = [a[..., idx] for a in arrays]
        names = wanted
    return arrays, names


def frame_targets(y, recordings, *, per_individual: bool, behaviors=None, where: str = "frame_targets"):
    """Validate per-frame targets and put them in the row layout of the feature table.

    Parameters
    ----------
    y : sequence
        One item per recording: an array ``(n_time,)`` / ``(n_time, n_individuals)`` (one target, NaN or None =
        unlabelled), or a DataFrame ``(n_time, n_behaviors)`` / DataArray with a ``behavior`` dim (several 0/1
        behaviours).
    recordings : list of xarray.Dataset
        The validated recordings, in the same order.
    per_individual : bool
        Rows per frame and animal (labels of one frame are repeated for every animal) or per frame.
    behaviors : list of str, optional
        Several behaviours: the ones to keep.
    where : str
        Caller name for messages.

    Returns
    -------
    targets : list of ndarray
        Per recording ``(n_time, n_rows_per_frame)`` or ``(n_time, n_rows_per_frame, n_behaviors)``.
    behaviors : list of str or None
        Behaviour names (None for one target).
    label_ndim : int
        1 when every label array had one value per frame (no animal axis), else 2.
    """
    items = None
    if y is not None and not (isinstance(y, np.ndarray) and y.dtype != object):
        try:
            items = list(y)
        except TypeError:
            items = None
    if items is not None and any(_is_multi(v) for v in items):
        if len(items) != len(recordings):
            raise ValueError(f"{where}: got {len(items)} label tables for {len(recordings)} recordings; pass one "
                             "per recording.")
        arrays, names = _multi_targets(items, recordings, behaviors, where)
        label_ndim = 1 if all(a.ndim == 2 for a in arrays) else 2
    else:
        if behaviors is not None:
            raise ValueError(f"{where}: `behaviors` selects columns of multi-behaviour labels (DataFrames or "
                             "DataArrays with a `behavior` dim); these labels hold one target.")
        arrays, names = check_frame_targets(y, recordings, where=where), None
        label_ndim = max(a.ndim for a in arrays)
    out = []
    for i, (arr, ds) in enumerate(zip(arrays, recordings, strict=True)):
        n_i = ds.sizes[S.INDIVIDUAL]
        per_animal = arr.ndim == (3 if names is not None else 2)
        if not per_individual:
            if per_animal:
                raise ValueError(f"{where}: recording #{i} has per-animal labels {arr.shape}; use "
                                 "per_individual=True to classify each animal.")
            arr = arr[:, None]
        elif not per_animal:
            arr = np.repeat(arr[:, None], n_i, axis=1)
        out.append(arr)
    return out, names, label_ndim
