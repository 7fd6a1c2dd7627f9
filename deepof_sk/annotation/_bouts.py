"""Bouts and per-recording summaries of annotated behaviours.

A bout is a run of consecutive frames where a binary behaviour is 1 (NaN, a missing animal, ends a bout). Both
tables are computed with run-length encoding over all animals and behaviours at once.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from .. import schema as S
from ..utils._warnings import quiet_nan_warnings
from ..validation import check_recordings, get_fps
from ._base import ANNOTATION, INDIVIDUAL_PAIR, KIND_COORD, SOCIAL_ANNOTATION, SOCIAL_BEHAVIOR
from ._filters import run_lengths

__all__ = ["find_bouts", "bout_table", "summarize_behaviors"]


def find_bouts(mask) -> tuple[np.ndarray, np.ndarray]:
    """Start and stop (one past the end) frames of the True runs of a 1-D mask (NaN counts as False).

    Examples
    --------
    >>> [a.tolist() for a in find_bouts([0, 1, 1, 0, 1])]
    [[1, 4], [3, 5]]
    """
    arr = np.asarray(mask)
    if arr.ndim != 1:
        raise ValueError(f"find_bouts: expected a 1-D mask; got shape {arr.shape}.")
    _, start, stop = run_lengths(arr)
    return start, stop


def _blocks(ds: xr.Dataset, behaviors):
    """(values (T, E, B), entity labels, partner labels, behaviour names, kinds) for each annotation variable,
    keeping one order of each non-directional pair."""
    order = [str(i) for i in ds[S.INDIVIDUAL].values]
    wanted = None if behaviors is None else {str(b) for b in ([behaviors] if isinstance(behaviors, str)
                                                              else behaviors)}
    for var, entity, bdim in ((ANNOTATION, S.INDIVIDUAL, S.BEHAVIOR),
                              (SOCIAL_ANNOTATION, INDIVIDUAL_PAIR, SOCIAL_BEHAVIOR)):
        if var not in ds:
            continue
        da = ds[var].transpose(S.TIME, entity, bdim)
        names = [str(b) for b in da[bdim].values]
        kinds = [str(k) for k in da[KIND_COORD[bdim]].values] if KIND_COORD[bdim] in da.coords else ["binary"] * len(
            names)
        if var == ANNOTATION:
            actors, partners = [str(i) for i in da[entity].values], [""] * da.sizes[entity]
        else:
            actors, partners = [str(a) for a in da["actor"].values], [str(p) for p in da["partner"].values]
        for k, name in enumerate(names):
            if wanted is not None and name not in wanted:
                continue
            directional = bool(da["directional"].values[k]) if "directional" in da.coords else True
            keep = [e for e in range(len(actors))
                    if directional or not partners[e] or order.index(actors[e]) < order.index(partners[e])]
            yield (da.values[:, keep, k], [actors[e] for e in keep], [partners[e] for e in keep], name, kinds[k])


def _name(ds: xr.Dataset, index: int) -> str:
    return str(ds.attrs.get("recording_id") or ds.attrs.get(S.SOURCE_FILE) or f"recording_{index}")


def bout_table(X, *, behaviors=None, min_duration: float = 0.0) -> pd.DataFrame:
    """One row per bout of every binary behaviour, animal (or pair) and recording.

    Parameters
    ----------
    X : xarray.Dataset or sequence of xarray.Dataset
        Annotated recordings.
    behaviors : str or list of str, optional
        Behaviours to include; default every binary behaviour.
    min_duration : float, default 0
        Leave out bouts shorter than this, seconds.

    Returns
    -------
    pandas.DataFrame
        Columns ``recording, individual, partner, behavior, start_frame, stop_frame, onset, offset, duration``:
        frames are indices (``stop_frame`` one past the last frame), ``onset`` the time of the first frame,
        ``offset = onset + duration`` and ``duration = n_frames / fps``, in seconds. ``partner`` is empty for
        individual behaviours; non-directional pair behaviours are listed once per pair.

    Examples
    --------
    >>> from deepof_sk.datasets import make_synthetic_poses
    >>> from deepof_sk.annotation import SocialContactAnnotator
    >>> ds = make_synthetic_poses(150, scenario="nose_to_nose", random_state=0)
    >>> out = SocialContactAnnotator(behaviors=["nose2nose"]).fit_transform(ds)
    >>> bout_table(out)[["individual", "partner", "behavior", "duration"]].round(2).to_dict("records")
    [{'individual': 'mouse1', 'partner': 'mouse2', 'behavior': 'nose2nose', 'duration': 2.2}]
    """
    recordings, _ = check_recordings(X, where="bout_table")
    rows = []
    for r, ds in enumerate(recordings):
        fps = get_fps(ds, where="bout_table")
        time = np.asarray(ds[S.TIME].values, dtype=float)
        for values, actors, partners, name, kind in _blocks(ds, behaviors):
            if kind != "binary":
                continue
            col, start, stop = run_lengths(np.nan_to_num(values) > 0)
            duration = (stop - start) / fps
            keep = duration >= float(min_duration) - 1e-12
            col, start, stop, duration = col[keep], start[keep], stop[keep], duration[keep]
            onset = time[start] if time.size else start / fps
            rows.append(pd.DataFrame({
                "recording": _name(ds, r),
                "individual": np.asarray(actors, dtype=object)[col],
                "partner": np.asarray(partners, dtype=object)[col],
                "behavior": name,
                "start_frame": start,
                "stop_frame": stop,
                "onset": onset,
                "offset": onset + duration,
                "duration": duration,
            }))
    columns = ["recording", "individual", "partner", "behavior", "start_frame", "stop_frame", "onset", "offset",
               "duration"]
    if not rows:
        return pd.DataFrame(columns=columns)
    return pd.concat(rows, ignore_index=True)[columns]


def summarize_behaviors(X, *, behaviors=None) -> pd.DataFrame:
    """Per recording, animal (or pair) and behaviour: time, fraction of time, number of bouts, mean bout length.

    Parameters
    ----------
    X : xarray.Dataset or sequence of xarray.Dataset
        Annotated recordings.
    behaviors : str or list of str, optional
        Behaviours to include; default all.

    Returns
    -------
    pandas.DataFrame
        Columns ``recording, individual, partner, behavior, kind, n_frames, time, fraction, n_bouts,
        mean_bout_duration, mean``. For binary behaviours: ``time`` in seconds, ``fraction`` of the frames where the
        animal(s) are present (NaN values are left out), bout count and mean bout duration in seconds; for
        continuous ones ``mean`` is the mean value over present frames and the binary columns are NaN.
        ``n_frames`` counts the frames with a value.
    """
    recordings, _ = check_recordings(X, where="summarize_behaviors")
    rows = []
    for r, ds in enumerate(recordings):
        fps = get_fps(ds, where="summarize_behaviors")
        for values, actors, partners, name, kind in _blocks(ds, behaviors):
            valid = (~np.isnan(values)).sum(axis=0)
            base = {"recording": _name(ds, r), "individual": actors, "partner": partners, "behavior": name,
                    "kind": kind, "n_frames": valid}
            if kind == "binary":
                on = np.nan_to_num(values) > 0
                frames = on.sum(axis=0)
                col, _, _ = run_lengths(on)
                n_bouts = np.bincount(col, minlength=values.shape[1])
                with np.errstate(invalid="ignore", divide="ignore"):
                    rows.append(pd.DataFrame({
                        **base, "time": frames / fps, "fraction": np.where(valid > 0, frames / valid, np.nan),
                        "n_bouts": n_bouts,
                        "mean_bout_duration": np.where(n_bouts > 0, frames / np.maximum(n_bouts, 1) / fps, np.nan),
                        "mean": np.nan,
                    }))
            else:
                with quiet_nan_warnings():
                    mean = np.nanmean(values, axis=0)
                rows.append(pd.DataFrame({**base, "time": np.nan, "fraction": np.nan, "n_bouts": np.nan,
                                          "mean_bout_duration": np.nan, "mean": mean}))
    if not rows:
        raise ValueError("summarize_behaviors: no annotation variables found; annotate the recordings first.")
    return pd.concat(rows, ignore_index=True)
